//! Turns a request body (JSON or CSV) into raw records, before any field is checked.
//!
//! Syntax errors are answered with 400 and the line and column; everything about the
//! content of a record is left to [`super::fields`], so JSON and CSV get the same checks.
//!
//! Bodies are hostile until proven otherwise: the parser keeps to limits on records per
//! batch, fields per record and the length of CSV column names, so that what it holds in
//! memory stays within a small multiple of the body, and it never recurses on nesting
//! (JSON values inside a record that are arrays or objects are skipped without recursion
//! and kept only as empty placeholders: no field of the contract is an array or object).

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// The most records one batch may hold; larger batches are refused with 413 ("split it").
/// Producers send a few hundred at most; the limit bounds the work and memory of one request.
pub const MAX_RECORDS: usize = 10_000;
/// The most fields a record (JSON keys, CSV columns) may have. The largest feed has 14.
pub const MAX_FIELDS: usize = 32;
/// The longest CSV column name: the header is copied into every row's record.
pub const MAX_NAME_CHARS: usize = 64;

/// The formats the contract accepts, by content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// Reads the `Content-Type` header's media type, ignoring parameters such as charset.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let media = value.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/json") {
            Some(Format::Json)
        } else if media.eq_ignore_ascii_case("text/csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// One record as sent: its position, its CSV line, and its fields by name.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// 0-based position in the batch.
    pub index: usize,
    /// The CSV line it starts on (1 is the header); `None` for JSON.
    pub line: Option<u64>,
    pub format: Format,
    /// Field values; CSV cells are strings, and an empty cell is null (absent). A JSON
    /// array or object is kept as an empty one: only its kind is ever reported.
    pub fields: Map<String, Value>,
}

/// A body that is not well-formed JSON or CSV, or not shaped as a batch of records.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

/// Why a body could not be read as records.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// More than [`MAX_RECORDS`] records.
    #[error("the batch has more than {limit} records; split it into batches of at most {limit}")]
    TooManyRecords { limit: usize },
}

pub fn parse(format: Format, body: &[u8]) -> Result<Vec<RawRecord>, BodyError> {
    match format {
        Format::Json => parse_json(body),
        Format::Csv => parse_csv(body),
    }
}

/// A problem found while deserialising, kept aside because serde's errors carry only text.
enum Problem {
    TooMany,
    Shape(String),
}

type Found<'a> = &'a RefCell<Option<Problem>>;

/// Records `problem` and returns a serde error that stops the parse where it was found.
fn stop<E: de::Error>(found: Found, problem: Problem) -> E {
    let text = match &problem {
        Problem::TooMany => "too many records".to_owned(),
        Problem::Shape(message) => message.clone(),
    };
    *found.borrow_mut() = Some(problem);
    E::custom(text)
}

fn parse_json(body: &[u8]) -> Result<Vec<RawRecord>, BodyError> {
    // A UTF-8 byte order mark is ignored, as RFC 8259 allows and as the CSV reader does.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Batch { found: &found }
        .deserialize(&mut de)
        .and_then(|records| de.end().map(|()| records));
    match parsed {
        Ok(records) => Ok(records),
        Err(e) => match found.into_inner() {
            Some(Problem::TooMany) => Err(BodyError::TooManyRecords { limit: MAX_RECORDS }),
            Some(Problem::Shape(message)) => Err(SyntaxError {
                message,
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
            }
            .into()),
            None => Err(SyntaxError {
                message: format!("the body is not valid JSON: {e}"),
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
            }
            .into()),
        },
    }
}

const BATCH_SHAPE: &str = "the body must be an array of records or {\"records\": [...]}";

/// A visitor's methods for the JSON scalars it does not accept: each is refused by the
/// visitor's own `not`, which names what was found where something else was expected.
macro_rules! refuse_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(self.not("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(self.not("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(self.not("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(self.not("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(self.not("a string"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(self.not("null"))
        }
    };
}

/// The whole body: an array of records or `{"records": [...]}` with nothing else.
struct Batch<'a> {
    found: Found<'a>,
}

impl<'de> DeserializeSeed<'de> for Batch<'_> {
    type Value = Vec<RawRecord>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Batch<'_> {
    fn not<E: de::Error>(&self, what: &str) -> E {
        stop(
            self.found,
            Problem::Shape(format!("{BATCH_SHAPE}, not {what}")),
        )
    }
}

impl<'de> Visitor<'de> for Batch<'_> {
    type Value = Vec<RawRecord>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(BATCH_SHAPE)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        records(seq, self.found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found_records = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "records" || found_records.is_some() {
                let key = super::fields::shown_name(&key);
                return Err(stop(
                    self.found,
                    Problem::Shape(format!(
                        "{BATCH_SHAPE} with nothing else, but it has the key {key:?}"
                    )),
                ));
            }
            found_records = Some(map.next_value_seed(Records { found: self.found })?);
        }
        found_records.ok_or_else(|| {
            stop(
                self.found,
                Problem::Shape(format!("{BATCH_SHAPE}, but the object has no \"records\"")),
            )
        })
    }

    refuse_scalars!();
}

/// The array of records of `{"records": [...]}`.
struct Records<'a> {
    found: Found<'a>,
}

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = Vec<RawRecord>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = Vec<RawRecord>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        records(seq, self.found)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not("an object"))
    }
    refuse_scalars!();
}

impl Records<'_> {
    fn not<E: de::Error>(&self, what: &str) -> E {
        stop(
            self.found,
            Problem::Shape(format!(
                "\"records\" must be an array of records, not {what}"
            )),
        )
    }
}

/// Reads the elements of the records array, at most [`MAX_RECORDS`] of them.
fn records<'de, A: SeqAccess<'de>>(mut seq: A, found: Found) -> Result<Vec<RawRecord>, A::Error> {
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
    while let Some(record) = seq.next_element_seed(Record {
        index: out.len(),
        found,
    })? {
        out.push(record);
    }
    Ok(out)
}

/// One record: a JSON object of at most [`MAX_FIELDS`] fields.
struct Record<'a> {
    index: usize,
    found: Found<'a>,
}

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = RawRecord;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.index >= MAX_RECORDS {
            return Err(stop(self.found, Problem::TooMany));
        }
        d.deserialize_any(self)
    }
}

impl Record<'_> {
    fn not<E: de::Error>(&self, what: &str) -> E {
        stop(
            self.found,
            Problem::Shape(format!(
                "record {} is not a JSON object but {what}",
                self.index
            )),
        )
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = RawRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(FieldValue)?;
            fields.insert(key, value);
            if fields.len() > MAX_FIELDS {
                return Err(stop(
                    self.found,
                    Problem::Shape(format!(
                        "record {} has more than {MAX_FIELDS} fields",
                        self.index
                    )),
                ));
            }
        }
        Ok(RawRecord {
            index: self.index,
            line: None,
            format: Format::Json,
            fields,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.not("an array"))
    }
    refuse_scalars!();
}

/// A field's value: scalars as they are; arrays and objects skipped (without recursion)
/// and kept as empty ones, since no field may be either and only their kind is reported.
struct FieldValue;

impl<'de> DeserializeSeed<'de> for FieldValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON cannot spell a non-finite number, so the fallback is never taken.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Object(Map::new()))
    }
}

/// Line numbers of byte offsets in a CSV body. The reader ends records at `\n`, `\r\n`
/// and a lone `\r`, but its own line count sees only `\n`: a file with old Mac line
/// endings would have every record "on line 1". Counted here as the reader splits.
struct Lines<'a> {
    body: &'a [u8],
    /// Bytes before `at` have been counted: they hold `line - 1` line breaks.
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(body: &'a [u8]) -> Lines<'a> {
        Lines {
            body,
            at: 0,
            line: 1,
        }
    }

    /// The line that the byte at `offset` is on (records come in order, so this is cheap).
    fn of(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.body.len());
        if offset < self.at {
            (self.at, self.line) = (0, 1);
        }
        for i in self.at..offset {
            let b = self.body[i];
            let crlf = b == b'\n' && i > 0 && self.body[i - 1] == b'\r';
            if (b == b'\n' && !crlf) || b == b'\r' {
                self.line += 1;
            }
        }
        self.at = offset;
        self.line
    }
}

fn parse_csv(body: &[u8]) -> Result<Vec<RawRecord>, BodyError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let lines = RefCell::new(Lines::new(body));
    let line_of = |p: &csv::Position| lines.borrow_mut().of(p.byte());
    let csv_error = |e: csv::Error| {
        let line = e.position().map(line_of);
        // The reader's own text gives its line count, which may be wrong (see `Lines`).
        let (message, column) = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => (
                format!("the body is not valid CSV: the record has {len} cells but the header has {expected_len}"),
                None,
            ),
            csv::ErrorKind::Utf8 { err, .. } => (
                format!(
                    "the body is not valid CSV: cell {} is not valid UTF-8",
                    err.field() + 1
                ),
                Some(err.field() as u64 + 1),
            ),
            _ => (format!("the body is not valid CSV: {e}"), None),
        };
        SyntaxError {
            message,
            line,
            column,
        }
    };
    let header_error = |message: String, column: Option<usize>| SyntaxError {
        message,
        line: Some(1),
        column: column.map(|c| c as u64 + 1),
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    if headers.iter().all(str::is_empty) {
        return Err(header_error("the CSV body has no header row".into(), None).into());
    }
    if headers.len() > MAX_FIELDS {
        return Err(header_error(
            format!(
                "the CSV header has {} columns; a record has at most {MAX_FIELDS} fields",
                headers.len()
            ),
            None,
        )
        .into());
    }
    for (col, name) in headers.iter().enumerate() {
        if name.is_empty() {
            return Err(header_error(
                format!("column {} of the CSV header has no name", col + 1),
                Some(col),
            )
            .into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(header_error(
                format!(
                    "the name of column {} of the CSV header is longer than {MAX_NAME_CHARS} characters",
                    col + 1
                ),
                Some(col),
            )
            .into());
        }
        if headers.iter().take(col).any(|h| h == name) {
            return Err(
                header_error(format!("the CSV header names {name:?} twice"), Some(col)).into(),
            );
        }
    }
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
        if index >= MAX_RECORDS {
            return Err(BodyError::TooManyRecords { limit: MAX_RECORDS });
        }
        let row = row.map_err(csv_error)?;
        // An empty cell is an absent value (null), but its column is still named, so a
        // misspelt column is reported even on rows that leave it empty.
        let fields = headers
            .iter()
            .zip(row.iter())
            .map(|(name, cell)| {
                let value = match cell {
                    "" => Value::Null,
                    text => Value::String(text.to_owned()),
                };
                (name.to_owned(), value)
            })
            .collect();
        records.push(RawRecord {
            index,
            line: row.position().map(line_of),
            format: Format::Csv,
            fields,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The syntax error of a body that must be refused as malformed.
    fn syntax(format: Format, body: &[u8]) -> SyntaxError {
        match parse(format, body) {
            Err(BodyError::Syntax(e)) => e,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    /// Runs `f` on a thread with a small stack: parsing must not recurse on nesting.
    fn on_a_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .expect("a thread")
            .join()
            .expect("no stack overflow or panic")
    }

    #[test]
    fn json_accepts_an_array_or_a_records_object() {
        let a = parse(Format::Json, br#"[{"id":"a"},{"id":"b"}]"#).expect("array");
        let b = parse(Format::Json, br#"{"records":[{"id":"a"},{"id":"b"}]}"#).expect("object");
        assert_eq!(a.len(), 2);
        assert_eq!(b[1].fields["id"], "b");
        assert_eq!(b[1].index, 1);
        assert!(parse(Format::Json, b" [ ] ").expect("empty").is_empty());
    }

    #[test]
    fn broken_json_reports_line_and_column() {
        let err = syntax(Format::Json, b"[\n{\"id\": }\n]");
        assert_eq!((err.line, err.column), (Some(2), Some(8)));
        assert!(
            err.message.starts_with("the body is not valid JSON"),
            "{}",
            err.message
        );
    }

    #[test]
    fn json_records_must_be_objects() {
        let err = syntax(Format::Json, br#"[{"id":"a"}, 3]"#);
        assert_eq!(err.message, "record 1 is not a JSON object but a number");
        assert_eq!((err.line, err.column), (Some(1), Some(14)));
        let err = syntax(Format::Json, br#"[[{"id":"a"}]]"#);
        assert_eq!(err.message, "record 0 is not a JSON object but an array");
    }

    #[test]
    fn a_records_object_with_other_keys_is_refused() {
        let err = syntax(Format::Json, br#"{"records":[],"extra":1}"#);
        assert!(err.message.contains("\"extra\""), "{}", err.message);
        let err = syntax(Format::Json, br#"{"extra":1,"records":[]}"#);
        assert!(err.message.contains("\"extra\""), "{}", err.message);
        let err = syntax(Format::Json, br#"{"records":[],"records":[]}"#);
        assert!(err.message.contains("nothing else"), "{}", err.message);
        let err = syntax(Format::Json, br#"{}"#);
        assert!(err.message.contains("no \"records\""), "{}", err.message);
        let err = syntax(Format::Json, br#"{"records":{"id":"a"}}"#);
        assert_eq!(
            err.message,
            "\"records\" must be an array of records, not an object"
        );
    }

    #[test]
    fn a_body_that_is_not_a_batch_says_what_it_is() {
        for (body, what) in [
            (&b"3"[..], "a number"),
            (b"-3", "a number"),
            (b"1.5", "a number"),
            (b"\"x\"", "a string"),
            (b"true", "a boolean"),
            (b"null", "null"),
        ] {
            let err = syntax(Format::Json, body);
            assert!(
                err.message.ends_with(&format!(", not {what}")),
                "{}",
                err.message
            );
        }
        let err = syntax(Format::Json, b"");
        assert!(err.message.contains("EOF"), "{}", err.message);
        let err = syntax(Format::Json, b"[] []");
        assert!(
            err.message.contains("trailing characters"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored_in_json_as_in_csv() {
        let json = parse(Format::Json, b"\xEF\xBB\xBF[{\"id\":\"a\"}]").expect("json with BOM");
        assert_eq!(json[0].fields["id"], "a");
        let csv = parse(Format::Csv, b"\xEF\xBB\xBFid,site\na,MPH\n").expect("csv with BOM");
        assert_eq!(csv[0].fields["id"], "a");
        // Only at the very start.
        syntax(Format::Json, b" \xEF\xBB\xBF[]");
    }

    #[test]
    fn numbers_json_cannot_hold_are_syntax_errors_with_a_position() {
        let err = syntax(Format::Json, b"[{\"core_open\": 1e400}]");
        assert!(
            err.message.contains("number out of range"),
            "{}",
            err.message
        );
        assert_eq!(err.line, Some(1));
        for body in [
            &b"[{\"a\": NaN}]"[..],
            b"[{\"a\": Infinity}]",
            b"[{\"a\": -}]",
            b"[{\"a\": 01}]",
        ] {
            syntax(Format::Json, body);
        }
    }

    #[test]
    fn values_that_are_arrays_or_objects_are_kept_only_as_their_kind() {
        let records = parse(
            Format::Json,
            br#"[{"a":[1,[2,{"b":3}]],"c":{"d":[]},"e":-0,"f":1e2}]"#,
        )
        .expect("parses");
        let fields = &records[0].fields;
        assert_eq!(fields["a"], Value::Array(vec![]));
        assert_eq!(fields["c"], Value::Object(Map::new()));
        assert!(fields["e"].is_number());
        assert_eq!(fields["f"].as_f64(), Some(100.0));
    }

    #[test]
    fn deep_nesting_never_recurses_deeply() {
        const DEPTH: usize = 100_000;
        let nested = |open: &str, close: &str, inner: &str| {
            format!("{}{inner}{}", open.repeat(DEPTH), close.repeat(DEPTH)).into_bytes()
        };
        on_a_small_stack(move || {
            // The whole body, the records array, and a field's value.
            let err = syntax(Format::Json, &nested("[", "]", ""));
            assert_eq!(err.message, "record 0 is not a JSON object but an array");
            let err = syntax(Format::Json, &nested("{\"records\":", "}", "[]"));
            assert!(
                err.message.contains("not valid JSON") || err.message.contains("records"),
                "{}",
                err.message
            );
            let value = nested("[", "]", "");
            let mut body = b"[{\"core_open\":".to_vec();
            body.extend_from_slice(&value);
            body.extend_from_slice(b"}]");
            let records = parse(Format::Json, &body).expect("a record whose field is an array");
            assert_eq!(records[0].fields["core_open"], Value::Array(vec![]));
            let value = nested("{\"a\":", "}", "1");
            let mut body = b"[{\"core_open\":".to_vec();
            body.extend_from_slice(&value);
            body.extend_from_slice(b"}]");
            let records = parse(Format::Json, &body).expect("a record whose field is an object");
            assert_eq!(records[0].fields["core_open"], Value::Object(Map::new()));
            // Unbalanced: still an error, not a crash.
            let mut body = b"[{\"core_open\":".to_vec();
            body.extend_from_slice(&b"[".repeat(DEPTH));
            syntax(Format::Json, &body);
        });
    }

    #[test]
    fn a_batch_has_at_most_max_records() {
        let batch = |n: usize| {
            let mut body = b"[".to_vec();
            for i in 0..n {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(b"{}");
            }
            body.push(b']');
            body
        };
        assert_eq!(
            parse(Format::Json, &batch(MAX_RECORDS))
                .expect("at the limit")
                .len(),
            MAX_RECORDS
        );
        assert_eq!(
            parse(Format::Json, &batch(MAX_RECORDS + 1)).expect_err("over"),
            BodyError::TooManyRecords { limit: MAX_RECORDS }
        );
        let mut wrapped = b"{\"records\":".to_vec();
        wrapped.extend_from_slice(&batch(MAX_RECORDS + 1));
        wrapped.push(b'}');
        assert_eq!(
            parse(Format::Json, &wrapped).expect_err("over"),
            BodyError::TooManyRecords { limit: MAX_RECORDS }
        );
        let csv = |n: usize| format!("id\n{}", "a\n".repeat(n)).into_bytes();
        assert_eq!(
            parse(Format::Csv, &csv(MAX_RECORDS))
                .expect("at the limit")
                .len(),
            MAX_RECORDS
        );
        assert_eq!(
            parse(Format::Csv, &csv(MAX_RECORDS + 1)).expect_err("over"),
            BodyError::TooManyRecords { limit: MAX_RECORDS }
        );
    }

    #[test]
    fn a_record_has_at_most_max_fields() {
        let record = |n: usize| {
            let fields: Vec<String> = (0..n).map(|i| format!("\"f{i}\":null")).collect();
            format!("[{{}},{{{}}}]", fields.join(",")).into_bytes()
        };
        assert!(parse(Format::Json, &record(MAX_FIELDS)).is_ok());
        let err = syntax(Format::Json, &record(MAX_FIELDS + 1));
        assert_eq!(
            err.message,
            format!("record 1 has more than {MAX_FIELDS} fields")
        );
        let header = |n: usize| {
            let names: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
            format!("{}\n{}\n", names.join(","), ",".repeat(n - 1)).into_bytes()
        };
        assert!(parse(Format::Csv, &header(MAX_FIELDS)).is_ok());
        let err = syntax(Format::Csv, &header(MAX_FIELDS + 1));
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn csv_column_names_are_short_and_present() {
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let err = syntax(Format::Csv, format!("id,{long}\na,b\n").as_bytes());
        assert_eq!((err.line, err.column), (Some(1), Some(2)));
        assert!(
            !err.message.contains(&long),
            "the name is not echoed: {}",
            err.message
        );
        let ok = "x".repeat(MAX_NAME_CHARS);
        assert!(parse(Format::Csv, format!("id,{ok}\na,b\n").as_bytes()).is_ok());
        let err = syntax(Format::Csv, b"id,,site\na,b,c\n");
        assert_eq!(err.message, "column 2 of the CSV header has no name");
        // A trailing comma is an unnamed column too.
        assert_eq!(syntax(Format::Csv, b"id,site,\na,b,\n").column, Some(3));
    }

    #[test]
    fn csv_cells_become_string_fields_and_empty_cells_are_absent() {
        let body = b"id,site,los_7_plus\nr1,MPH,\nr2,YDH,4\n";
        let records = parse(Format::Csv, body).expect("csv");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].line, Some(2));
        assert_eq!(records[0].fields["los_7_plus"], Value::Null);
        assert_eq!(records[1].fields["los_7_plus"], "4");
        assert_eq!(records[1].line, Some(3));
    }

    #[test]
    fn a_csv_row_with_the_wrong_number_of_cells_names_its_line() {
        let err = syntax(Format::Csv, b"id,site\nr1,MPH\nr2\n");
        assert_eq!(err.line, Some(3));
        let err = syntax(Format::Csv, b"id,site\nr1,MPH,extra\n");
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn csv_quotes_may_hold_commas_and_newlines_and_lines_count_from_where_a_record_starts() {
        let records = parse(
            Format::Csv,
            b"id,ward\n\"a\",\"Ward, 7\"\n\"b\",\"two\nlines\"\nc,x\n",
        )
        .expect("quoted");
        assert_eq!(records[0].fields["ward"], "Ward, 7");
        assert_eq!(records[1].fields["ward"], "two\nlines");
        let lines: Vec<_> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(5)]);
        // An unterminated quote runs to the end of the body: one odd cell, not a crash.
        let records = parse(Format::Csv, b"id,ward\na,\"open\n").expect("unterminated");
        assert_eq!(records[0].fields["ward"], "open");
    }

    #[test]
    fn lines_are_counted_whatever_ends_them() {
        for (body, ragged) in [
            (&b"id,ward\na,x\nb,y\nc\n"[..], 4),
            (b"id,ward\r\na,x\r\nb,y\r\nc\r\n", 4),
            (b"id,ward\ra,x\rb,y\rc\r", 4),
            (b"id,ward\ra,x\r\nb,y\nc", 4),
        ] {
            let err = syntax(Format::Csv, body);
            assert_eq!(err.line, Some(ragged), "{body:?}");
            assert_eq!(
                err.message,
                "the body is not valid CSV: the record has 1 cells but the header has 2"
            );
            let last = body.iter().rposition(|&b| b == b'c').expect("a last row");
            let ok = &body[..last];
            let lines: Vec<_> = parse(Format::Csv, ok)
                .expect("csv")
                .iter()
                .map(|r| r.line)
                .collect();
            assert_eq!(lines, [Some(2), Some(3)], "{body:?}");
        }
        // With a byte order mark, and a quoted cell over two lines.
        let records = parse(Format::Csv, b"\xEF\xBB\xBFid,ward\r\"a\",\"1\r2\"\rb,x").expect("csv");
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [Some(2), Some(4)]
        );
    }

    #[test]
    fn invalid_utf8_is_a_syntax_error_naming_the_line() {
        let err = syntax(Format::Csv, b"id,site\na,MPH\nb,\xFF\xFE\n");
        assert_eq!(err.line, Some(3));
        let err = syntax(Format::Csv, b"id,\xC3\n");
        assert_eq!(err.line, Some(1));
        let err = syntax(Format::Json, b"[{\"id\":\"\xFF\"}]");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn a_repeated_csv_header_is_refused() {
        let err = syntax(Format::Csv, b"id,id\n1,2\n");
        assert_eq!(err.column, Some(2));
    }

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert_eq!(
            Format::from_content_type("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(Format::from_content_type("text/csv"), Some(Format::Csv));
        assert_eq!(
            Format::from_content_type("TEXT/CSV ; header=present"),
            Some(Format::Csv)
        );
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(Format::from_content_type(""), None);
    }
}

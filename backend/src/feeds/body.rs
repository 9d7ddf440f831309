//! Turns a request body (JSON or CSV) into raw records, before any field is checked.
//!
//! Syntax errors are answered with 400 and the line and column; everything about the
//! content of a record is left to [`super::fields`], so JSON and CSV get the same checks.

use serde_json::{Map, Value};

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
    /// Field values; CSV cells are strings, and an empty cell is null (absent).
    pub fields: Map<String, Value>,
}

/// A body that is not well-formed JSON or CSV.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

pub fn parse(format: Format, body: &[u8]) -> Result<Vec<RawRecord>, SyntaxError> {
    match format {
        Format::Json => parse_json(body),
        Format::Csv => parse_csv(body),
    }
}

fn parse_json(body: &[u8]) -> Result<Vec<RawRecord>, SyntaxError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| SyntaxError {
        message: format!("the body is not valid JSON: {e}"),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
    })?;
    let shape_error = |message: &str| SyntaxError {
        message: message.to_owned(),
        line: None,
        column: None,
    };
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("records") {
            Some(Value::Array(items)) if obj.is_empty() => items,
            _ => return Err(shape_error(
                "the body must be an array of records or {\"records\": [...]} with nothing else",
            )),
        },
        _ => {
            return Err(shape_error(
                "the body must be an array of records or {\"records\": [...]}",
            ))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(fields) => Ok(RawRecord {
                index,
                line: None,
                format: Format::Json,
                fields,
            }),
            other => Err(SyntaxError {
                message: format!("record {index} is not a JSON object but {}", kind(&other)),
                line: None,
                column: None,
            }),
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_csv(body: &[u8]) -> Result<Vec<RawRecord>, SyntaxError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let csv_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        SyntaxError {
            message: format!("the body is not valid CSV: {e}"),
            line,
            column: None,
        }
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    if headers.iter().all(str::is_empty) {
        return Err(SyntaxError {
            message: "the CSV body has no header row".into(),
            line: Some(1),
            column: None,
        });
    }
    for (col, name) in headers.iter().enumerate() {
        if headers.iter().take(col).any(|h| h == name) {
            return Err(SyntaxError {
                message: format!("the CSV header names {name:?} twice"),
                line: Some(1),
                column: Some(col as u64 + 1),
            });
        }
    }
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
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
            line: row.position().map(|p| p.line()),
            format: Format::Csv,
            fields,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_accepts_an_array_or_a_records_object() {
        let a = parse(Format::Json, br#"[{"id":"a"},{"id":"b"}]"#).expect("array");
        let b = parse(Format::Json, br#"{"records":[{"id":"a"},{"id":"b"}]}"#).expect("object");
        assert_eq!(a.len(), 2);
        assert_eq!(b[1].fields["id"], "b");
        assert_eq!(b[1].index, 1);
    }

    #[test]
    fn broken_json_reports_line_and_column() {
        let err = parse(Format::Json, b"[\n{\"id\": }\n]").expect_err("bad json");
        assert_eq!((err.line, err.column), (Some(2), Some(8)));
    }

    #[test]
    fn json_records_must_be_objects() {
        let err = parse(Format::Json, br#"[{"id":"a"}, 3]"#).expect_err("number");
        assert!(err.message.contains("record 1"), "{}", err.message);
    }

    #[test]
    fn a_records_object_with_other_keys_is_refused() {
        assert!(parse(Format::Json, br#"{"records":[],"extra":1}"#).is_err());
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
        let err = parse(Format::Csv, b"id,site\nr1,MPH\nr2\n").expect_err("short row");
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn a_repeated_csv_header_is_refused() {
        let err = parse(Format::Csv, b"id,id\n1,2\n").expect_err("dup header");
        assert_eq!(err.column, Some(2));
    }

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert_eq!(
            Format::from_content_type("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(Format::from_content_type("text/csv"), Some(Format::Csv));
        assert_eq!(Format::from_content_type("text/plain"), None);
    }
}

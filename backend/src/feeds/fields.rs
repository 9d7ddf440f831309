//! Reads typed fields out of a raw record, collecting every problem with the field it is in.
//!
//! Written by hand rather than with serde because the contract wants *all* errors of a
//! record at once, each naming its field, and the same rules for JSON values and CSV text
//! (where `"12"` is an integer but in JSON only `12` is).

use super::body::{Format, RawRecord};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;
use std::collections::BTreeSet;

/// The largest count any field may hold: far above any real bed base or caseload, and low
/// enough that sums over pools and sites cannot overflow.
pub const MAX_COUNT: u64 = 1_000_000;

/// How much of a value or field name an error message repeats: enough to recognise it,
/// never a hostile megabyte back at its sender.
pub const SHOWN_CHARS: usize = 64;

/// No time in any feed is earlier than this (2000-01-01T00:00:00Z, in seconds since
/// 1970): an earlier one is a typing or conversion slip (a year 0000 admission once made a
/// mean delay of 33,660 days), never a record of care Levels shows.
pub const EARLIEST_SECONDS: i64 = 946_684_800;

/// [`EARLIEST_SECONDS`] as a time.
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(EARLIEST_SECONDS, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// What a JSON value is.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as an error message shows it: scalars as JSON, cut to [`SHOWN_CHARS`]
/// characters; arrays and objects by their kind (the parser keeps only that).
pub fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => Value::String(cut(s)).to_string(),
        Value::Array(_) | Value::Object(_) => kind(v).to_owned(),
        scalar => cut(&scalar.to_string()),
    }
}

/// A field name as an error shows it: cut to [`SHOWN_CHARS`] characters.
pub fn shown_name(name: &str) -> String {
    cut(name)
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Walks one record's fields; every getter records an error and returns `None` on failure.
pub struct Fields<'a> {
    record: &'a RawRecord,
    /// Timestamps later than this are refused (the contract allows 5 minutes of clock skew).
    latest: DateTime<Utc>,
    read: BTreeSet<&'static str>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a RawRecord, latest: DateTime<Utc>) -> Self {
        Fields {
            record,
            latest,
            read: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    /// Records a rule broken between fields, against the field the message is about.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.read.insert(name);
        match self.record.fields.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn missing(&mut self, name: &str) {
        self.error(name, format!("{name} is required"));
    }

    /// A required string of `min..=max` characters.
    pub fn string(&mut self, name: &'static str, min: usize, max: usize) -> Option<String> {
        let value = self.opt_string(name, min, max);
        if value.is_none() && !self.has_error(name) {
            self.missing(name);
        }
        value
    }

    pub fn opt_string(&mut self, name: &'static str, min: usize, max: usize) -> Option<String> {
        match self.raw(name)? {
            Value::String(s) => {
                let len = s.chars().count();
                if len < min || len > max {
                    self.error(
                        name,
                        format!("{name} must be {min} to {max} characters, not {len}"),
                    );
                    None
                } else if let Some((at, c)) = s
                    .chars()
                    .enumerate()
                    .find(|(_, c)| crate::text::refused(*c))
                {
                    // Tabs, newlines, NUL and the like: never meant, and a NUL is refused
                    // by PostgreSQL's text type; bidirectional overrides make text read
                    // other than it is. The rule of all free text (`crate::text`).
                    self.error(
                        name,
                        format!(
                            "{name} contains the control character or bidirectional override U+{:04X} at character {}",
                            u32::from(c),
                            at + 1
                        ),
                    );
                    None
                } else {
                    Some(s.clone())
                }
            }
            other => {
                self.error(
                    name,
                    format!("{name} must be a string, not {}", shown(other)),
                );
                None
            }
        }
    }

    /// A required non-negative integer.
    pub fn count(&mut self, name: &'static str) -> Option<u32> {
        let value = self.opt_count(name);
        if value.is_none() && !self.has_error(name) {
            self.missing(name);
        }
        value
    }

    pub fn opt_count(&mut self, name: &'static str) -> Option<u32> {
        let format = self.record.format;
        let value = self.raw(name)?;
        let parsed = match (value, format) {
            (Value::Number(n), _) => n.as_u64(),
            (Value::String(s), Format::Csv) if s.bytes().all(|b| b.is_ascii_digit()) => {
                // All digits: only too many of them can fail, and that is "too large".
                Some(s.parse::<u64>().unwrap_or(u64::MAX))
            }
            _ => None,
        };
        match parsed {
            Some(n) if n <= MAX_COUNT => u32::try_from(n).ok(),
            Some(_) => {
                self.error(
                    name,
                    format!("{name} ({}) is larger than {MAX_COUNT}", shown(value)),
                );
                None
            }
            None => {
                self.error(
                    name,
                    format!("{name} must be a whole number ≥ 0, not {}", shown(value)),
                );
                None
            }
        }
    }

    /// An optional number ≥ 0 (JSON number, or decimal text in CSV).
    pub fn opt_number(&mut self, name: &'static str) -> Option<f64> {
        let format = self.record.format;
        let value = self.raw(name)?;
        let parsed = match (value, format) {
            (Value::Number(n), _) => n.as_f64(),
            (Value::String(s), Format::Csv)
                if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
            {
                s.parse::<f64>().ok()
            }
            _ => None,
        };
        match parsed {
            // `+ 0.0` turns -0 into 0.
            Some(n) if n.is_finite() && n >= 0.0 && n <= MAX_COUNT as f64 => Some(n + 0.0),
            _ => {
                self.error(
                    name,
                    format!(
                        "{name} must be a number from 0 to {MAX_COUNT}, not {}",
                        shown(value)
                    ),
                );
                None
            }
        }
    }

    /// An optional value from a closed list of codes.
    pub fn opt_code<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Option<T> {
        self.raw(name)?;
        self.code(name, parse, allowed)
    }

    /// A required RFC 3339 timestamp with an offset, from [`earliest`] to `latest`.
    pub fn timestamp(&mut self, name: &'static str) -> Option<DateTime<FixedOffset>> {
        let value = self.opt_timestamp(name);
        if value.is_none() && !self.has_error(name) {
            self.missing(name);
        }
        value
    }

    pub fn opt_timestamp(&mut self, name: &'static str) -> Option<DateTime<FixedOffset>> {
        let value = self.raw(name)?;
        match value.as_str().map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) if t > self.latest => {
                self.error(
                    name,
                    format!(
                        "{name} ({}) is in the future; at most {} (UTC) is accepted",
                        t.to_rfc3339(),
                        self.latest
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                );
                None
            }
            Some(Ok(t)) if t < earliest() => {
                self.error(
                    name,
                    format!(
                        "{name} ({}) is before {}: no earlier time is accepted",
                        t.to_rfc3339(),
                        earliest().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                );
                None
            }
            Some(Ok(t)) => Some(t),
            _ => {
                self.error(
                    name,
                    format!("{name} must be an RFC 3339 timestamp with an offset, e.g. 2026-11-25T08:00:00Z, not {}", shown(value)),
                );
                None
            }
        }
    }

    /// A required value from a closed list of codes.
    pub fn code<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Option<T> {
        let Some(value) = self.raw(name) else {
            self.missing(name);
            return None;
        };
        match value.as_str().and_then(&parse) {
            Some(t) => Some(t),
            None => {
                self.error(
                    name,
                    format!(
                        "{name} must be one of {}, not {}",
                        allowed.join(", "),
                        shown(value)
                    ),
                );
                None
            }
        }
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.iter().any(|e| e.field == name)
    }

    /// Ends the walk: any field the record has that was never read is unknown.
    pub fn finish(mut self) -> Vec<FieldError> {
        let unknown: Vec<String> = self
            .record
            .fields
            .keys()
            .filter(|k| !self.read.contains(k.as_str()))
            .cloned()
            .collect();
        for name in unknown {
            let name = shown_name(&name);
            self.error(&name, format!("{name} is not a field of this feed"));
        }
        self.errors
    }
}

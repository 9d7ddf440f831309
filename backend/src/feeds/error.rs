//! Why records are refused: each error names the record, its line and field (docs/feeds.md).
//! `routes::feeds::IngestError` carries them, and every other refusal, to the producer.

use serde::Serialize;

/// A problem with one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    /// 0-based position of the record in the batch.
    pub index: usize,
    /// CSV line (1 is the header); absent for JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub field: String,
    pub message: String,
}

/// The most errors one answer lists: enough to fix a batch by, while a hostile batch of
/// ten thousand bad records cannot make the answer many times larger than the request.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Why the records of a batch were refused: the first errors, and how many there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid {
    /// The first [`MAX_LISTED_ERRORS`] errors, in record order.
    pub errors: Vec<RecordError>,
    /// Errors found beyond those listed.
    pub unlisted: usize,
    /// Records with at least one error.
    pub records: usize,
}

impl Invalid {
    /// Adds the errors of one record (none: the record is valid).
    pub fn add_record(&mut self, errors: impl IntoIterator<Item = RecordError>) {
        let mut any = false;
        for e in errors {
            any = true;
            if self.errors.len() < MAX_LISTED_ERRORS {
                self.errors.push(e);
            } else {
                self.unlisted += 1;
            }
        }
        self.records += usize::from(any);
    }

    /// Errors of different records, one each.
    pub fn of_records(errors: impl IntoIterator<Item = RecordError>) -> Invalid {
        let mut invalid = Invalid::default();
        for e in errors {
            invalid.add_record([e]);
        }
        invalid
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.records {
            1 => write!(f, "1 record is invalid")?,
            n => write!(f, "{n} records are invalid")?,
        }
        write!(f, "; nothing from the batch was applied")?;
        if self.unlisted > 0 {
            write!(
                f,
                " (the first {} errors are listed; {} more are not)",
                self.errors.len(),
                self.unlisted
            )?;
        }
        Ok(())
    }
}

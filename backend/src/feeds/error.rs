//! The answers ingest gives when it refuses a request (DESIGN §4).
//!
//! Policy: every refusal says what was wrong in words a producer's engineer can act on;
//! store failures are logged in full and answered with a bare 500, never leaking internals.

use super::body::{BodyError, SyntaxError};
use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

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

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("there is no feed {0:?}; feeds are: {names}", names = feed_names())]
    UnknownFeed(String),
    #[error("the body is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("the batch has more than {0} records; split it into batches of at most {0}")]
    TooManyRecords(usize),
    #[error("content type {0:?} is not supported: send application/json or text/csv")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Malformed(#[from] SyntaxError),
    #[error("{0}")]
    Invalid(Invalid),
    #[error("could not read the request body: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<BodyError> for IngestError {
    fn from(e: BodyError) -> IngestError {
        match e {
            BodyError::Syntax(e) => IngestError::Malformed(e),
            BodyError::TooManyRecords { limit } => IngestError::TooManyRecords(limit),
        }
    }
}

fn feed_names() -> String {
    levels_shared::feed::Feed::ALL
        .map(|f| f.as_str())
        .join(", ")
}

impl IngestError {
    pub fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestError::Forbidden(_) => StatusCode::FORBIDDEN,
            IngestError::UnknownFeed(_) => StatusCode::NOT_FOUND,
            IngestError::TooLarge(_) | IngestError::TooManyRecords(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::Malformed(_) | IngestError::Body(_) => StatusCode::BAD_REQUEST,
            IngestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            IngestError::Store(_) | IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            IngestError::Store(_) | IngestError::Internal(_) => {
                tracing::error!(error = %self, "ingest failed");
                json!({ "error": "internal error: the batch may not have been stored; retry it (a stored record comes back as a duplicate)" })
            }
            IngestError::Malformed(e) => {
                json!({ "error": e.message, "line": e.line, "column": e.column })
            }
            IngestError::Invalid(invalid) if invalid.unlisted > 0 => json!({
                "error": self.to_string(),
                "errors": invalid.errors,
                "unlisted_errors": invalid.unlisted,
            }),
            IngestError::Invalid(invalid) => {
                json!({ "error": self.to_string(), "errors": invalid.errors })
            }
            other => json!({ "error": other.to_string() }),
        };
        if status.is_client_error() {
            tracing::info!(status = status.as_u16(), error = %self, "batch refused");
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

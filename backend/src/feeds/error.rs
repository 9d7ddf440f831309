//! The answers ingest gives when it refuses a request (DESIGN §4).
//!
//! Policy: every refusal says what was wrong in words a producer's engineer can act on;
//! store failures are logged in full and answered with a bare 500, never leaking internals.

use super::body::SyntaxError;
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
    #[error("content type {0:?} is not supported: send application/json or text/csv")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Malformed(#[from] SyntaxError),
    #[error("{}; nothing from the batch was applied", invalid_records(.0))]
    Invalid(Vec<RecordError>),
    #[error("could not read the request body: {0}")]
    Body(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// "1 record is invalid" / "3 records are invalid", counting records, not errors.
fn invalid_records(errors: &[RecordError]) -> String {
    let records: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.index).collect();
    match records.len() {
        1 => "1 record is invalid".to_owned(),
        n => format!("{n} records are invalid"),
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
            IngestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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
            IngestError::Invalid(errors) => json!({ "error": self.to_string(), "errors": errors }),
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

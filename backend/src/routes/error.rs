//! The error answer of the JSON API: a status and `{"error": "..."}` that says what to fix.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if let StoreError::Duplicate(_) = e {
            return ApiError::new(StatusCode::CONFLICT, e.to_string());
        }
        tracing::error!(error = %e, "store error answering a request");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

/// A refused account change: the store's answer, a 404 for a screen that is not there, or
/// a 422 saying what to fix.
impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> ApiError {
        match e {
            crate::accounts::AccountError::Store(e) => e.into(),
            crate::accounts::AccountError::Text(e) => e.into(),
            e @ crate::accounts::AccountError::NoScreen(_) => ApiError::not_found(e.to_string()),
            other => ApiError::unprocessable(other.to_string()),
        }
    }
}

/// A refused producer token: the store's answer, or a 422 saying what to fix.
impl From<crate::accounts::tokens::TokenError> for ApiError {
    fn from(e: crate::accounts::tokens::TokenError) -> ApiError {
        match e {
            crate::accounts::tokens::TokenError::Store(e) => e.into(),
            crate::accounts::tokens::TokenError::Text(e) => e.into(),
            other => ApiError::unprocessable(other.to_string()),
        }
    }
}

/// A name or free text with a control or bidirectional character: 400, naming the field.
impl From<crate::text::TextError> for ApiError {
    fn from(e: crate::text::TextError) -> ApiError {
        ApiError::bad_request(e.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::new(e.status(), e.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::bad_request(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

//! Producer tokens for administrators (created by `accounts::tokens`):
//!
//! - `GET /api/v1/tokens`: every token's name, feeds, sites and dates (never the token).
//! - `POST /api/v1/tokens {name, feeds, sites}`: creates one and answers the token, once.
//! - `DELETE /api/v1/tokens/{name}`: revokes it at once.
//!
//! Every change needs the session's CSRF token and is audited.

use super::{Admin, ApiError, AppState};
use crate::accounts::tokens::{create, reserved_names};
use crate::store::ProducerRow;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::Utc;
use levels_shared::feed::Feed;
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", get(list).post(create_route))
        .route("/api/v1/tokens/{name}", delete(revoke_route))
}

async fn list(
    State(app): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<ProducerRow>>, ApiError> {
    Ok(Json(app.store.producer_tokens().await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    feeds: Vec<Feed>,
    sites: Vec<String>,
}

async fn create_route(
    State(app): State<AppState>,
    Admin(session): Admin,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let token = create(
        app.store.as_ref(),
        &app.reference,
        &reserved_names(&app.config),
        &req.name,
        req.feeds.clone(),
        req.sites.clone(),
    )
    .await?;
    session
        .audit(
            app.store.as_ref(),
            "token_create",
            &format!("producer:{}", req.name),
            json!({"feeds": req.feeds, "sites": req.sites}),
        )
        .await?;
    let body = json!({"name": req.name, "token": token, "feeds": req.feeds, "sites": req.sites,
        "note": "This token is shown once: give it to the producer now."});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_route(
    State(app): State<AppState>,
    Admin(session): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !app.store.revoke_producer_token(&name, Utc::now()).await? {
        return Err(ApiError::not_found(format!(
            "no live token for the producer {name}"
        )));
    }
    session
        .audit(
            app.store.as_ref(),
            "token_revoke",
            &format!("producer:{name}"),
            json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

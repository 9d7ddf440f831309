//! Producer tokens an administrator creates, lists and revokes (DESIGN §9), by the command
//! line (`levels token add|list|revoke`) or the API:
//!
//! - `GET /api/v1/tokens`: every token's name, feeds, sites and dates (never the token).
//! - `POST /api/v1/tokens {name, feeds, sites}`: creates one and answers the token, once.
//! - `DELETE /api/v1/tokens/{name}`: revokes it at once.
//!
//! The API needs an administrator's session and its CSRF token; every change is audited.
//! A token may not take the name of a configured producer or the simulator's, whatever the
//! case: records are keyed by producer, so it would share their ids and learn, from the
//! duplicates and conflicts it is answered, which ids exist at other sites.

use super::routes::Session;
use super::sessions::{digest, new_token};
use crate::api_error::ApiError;
use crate::app::AppState;
use crate::config::Config;
use crate::store::{ProducerRow, Store, StoreError};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::Utc;
use levels_shared::feed::Feed;
use levels_shared::reference::ReferenceData;
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", get(list).post(create_route))
        .route("/api/v1/tokens/{name}", delete(revoke_route))
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the producer name must be 1 to 64 letters, digits, dots, dashes or underscores")]
    BadName,
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
    #[error("give at least one feed")]
    NoFeeds,
    #[error("give the sites it may post for, or * for every site")]
    NoSites,
    #[error("unknown site {0}: give site codes from the reference data, or *")]
    UnknownSite(String),
    #[error("the producer name {0:?} is already a configured producer's or the simulator's (names are compared ignoring case): give another")]
    Reserved(String),
}

/// The names no token may take: the configured `[[producers]]` and the simulator.
pub fn reserved_names(config: &Config) -> Vec<&str> {
    config
        .producers
        .iter()
        .map(|p| p.name.as_str())
        .chain([crate::sim::PRODUCER])
        .collect()
}

/// Creates a token for `name` and returns it: the only time it is ever shown. `reserved`:
/// the names it may not take ([`reserved_names`]), in any case.
pub async fn create(
    store: &dyn Store,
    reference: &ReferenceData,
    reserved: &[&str],
    name: &str,
    feeds: Vec<Feed>,
    sites: Vec<String>,
) -> Result<String, TokenError> {
    crate::text::check("producer name", name)?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
        return Err(TokenError::BadName);
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(TokenError::Reserved(name.to_owned()));
    }
    if feeds.is_empty() {
        return Err(TokenError::NoFeeds);
    }
    if let Some(unknown) = sites
        .iter()
        .find(|s| *s != "*" && reference.site(s).is_none())
    {
        return Err(TokenError::UnknownSite(unknown.clone()));
    }
    if sites.is_empty() {
        return Err(TokenError::NoSites);
    }
    let token = new_token();
    let row = ProducerRow {
        name: name.to_owned(),
        feeds,
        sites,
        created_at: Utc::now(),
        revoked_at: None,
    };
    store.create_producer_token(&digest(&token), &row).await?;
    Ok(token)
}

async fn list(
    State(app): State<AppState>,
    session: Session,
) -> Result<Json<Vec<ProducerRow>>, ApiError> {
    session.require(session.user.role.administers(), "manage producer tokens")?;
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
    session: Session,
    headers: HeaderMap,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<Response, ApiError> {
    session.require(session.user.role.administers(), "manage producer tokens")?;
    session.check_csrf(&headers)?;
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
    crate::audit::record(
        app.store.as_ref(),
        &session.user.name,
        "token_create",
        &format!("producer:{}", req.name),
        json!({"feeds": req.feeds, "sites": req.sites}),
        None,
    )
    .await?;
    let body = json!({"name": req.name, "token": token, "feeds": req.feeds, "sites": req.sites,
        "note": "This token is shown once: give it to the producer now."});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_route(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    session.require(session.user.role.administers(), "manage producer tokens")?;
    session.check_csrf(&headers)?;
    if !app.store.revoke_producer_token(&name, Utc::now()).await? {
        return Err(ApiError::not_found(format!(
            "no live token for the producer {name}"
        )));
    }
    crate::audit::record(
        app.store.as_ref(),
        &session.user.name,
        "token_revoke",
        &format!("producer:{name}"),
        json!({}),
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

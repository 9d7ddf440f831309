//! Level history: every change of a calculated level is stored with its explanation and
//! served at `GET /api/v1/levels?entity=site:MPH&from=…&to=…`.

use crate::app::AppState;
use crate::store::{Store, StoreError};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use levels_shared::escalation::LevelChange;
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/levels", get(levels))
}

/// Stores the changes whose level differs from the last one stored for the entity, so a
/// restart (which recalculates every level) does not record the same level again.
pub async fn record(store: &dyn Store, changes: Vec<LevelChange>) -> Result<(), StoreError> {
    for change in changes {
        if store.last_level(&change.entity, &change.kind).await? != Some(change.level) {
            store.record_level(&change).await?;
        }
    }
    Ok(())
}

/// Records level changes, logging (not failing) on a store error: the live levels are
/// already published, and the next change is recorded against the last one stored.
pub async fn record_or_log(store: &dyn Store, changes: Vec<LevelChange>) {
    if changes.is_empty() {
        return;
    }
    if let Err(e) = record(store, changes).await {
        tracing::error!(error = %e, "could not record level changes");
    }
}

#[derive(Debug, Deserialize)]
struct LevelsQuery {
    entity: String,
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
}

/// The entity's level changes in the range (default: the last 7 days).
async fn levels(
    State(app): State<AppState>,
    query: Result<Query<LevelsQuery>, QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => {
            let message = format!(
                "{}; give entity (e.g. site:MPH), and optionally from and to as RFC 3339 times",
                e.body_text()
            );
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response();
        }
    };
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::days(7), |t| t.to_utc());
    match app.store.levels(&q.entity, from, to).await {
        Ok(changes) => Json(changes).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "level history query failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
                .into_response()
        }
    }
}

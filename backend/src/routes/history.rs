//! Trends: `GET /api/v1/history?entity=site:MPH&measure=ga_occupancy&from=…&to=…`, the
//! series `history` samples (default: the last 24 hours).

use super::{AppState, Session};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use levels_shared::history::{Point, Series};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/history", get(series))
}

#[derive(Debug, Deserialize)]
struct SeriesQuery {
    entity: String,
    measure: String,
    from: Option<DateTime<chrono::FixedOffset>>,
    to: Option<DateTime<chrono::FixedOffset>>,
}

async fn series(
    State(app): State<AppState>,
    _session: Session,
    query: Result<Query<SeriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => {
            let message = format!(
                "{}; give entity, measure, and optionally from and to as RFC 3339 times",
                e.body_text()
            );
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response();
        }
    };
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::hours(24), |t| t.to_utc());
    if from > to {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "from is after to" })),
        )
            .into_response();
    }
    match app.store.history(&q.entity, &q.measure, from, to).await {
        Ok(points) => Json(Series {
            entity: q.entity,
            measure: q.measure,
            resolution_seconds: app.config.history.resolution_seconds,
            points: points.into_iter().map(|(t, v)| Point { t, v }).collect(),
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "history query failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
                .into_response()
        }
    }
}

//! Level history for system leaders (domain in `escalation::timeline`):
//!
//! - `GET /api/v1/levels?entity=site:MPH&kind=…&from=…&to=…`: the changes, oldest first
//!   (default: the last 7 days, both kinds).
//! - `GET /api/v1/levels/daily?entity=system&days=7&kind=shown`: per Europe/London day, the
//!   highest level in each hour and the minutes spent at each level. `shown` is the level
//!   the dashboard showed (declared while in force, else calculated); `calculated` and
//!   `declared` give one kind alone.

use super::{ApiError, AppState, Session};
use crate::escalation::timeline::{pattern, steps, PatternOf};
use crate::state::calendar;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use levels_shared::escalation::{DayPattern, Entity, LevelChange, LevelKind};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/levels", get(levels))
        .route("/api/v1/levels/daily", get(daily))
}

fn entity(name: &str) -> Result<Entity, ApiError> {
    name.parse().map_err(ApiError::bad_request)
}

#[derive(Debug, Deserialize)]
struct LevelsQuery {
    entity: String,
    kind: Option<String>,
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
}

/// The entity's level changes in the range.
async fn levels(
    State(app): State<AppState>,
    _session: Session,
    query: Result<Query<LevelsQuery>, QueryRejection>,
) -> Result<Json<Vec<LevelChange>>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; give entity (e.g. site:MPH), and optionally kind (calculated or declared), from and to as RFC 3339 times",
            e.body_text()
        ))
    })?;
    let entity = entity(&q.entity)?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(LevelKind::parse(k).ok_or_else(|| {
            ApiError::bad_request(format!("kind {k:?}: give calculated or declared"))
        })?),
    };
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::days(7), |t| t.to_utc());
    if from > to {
        return Err(ApiError::bad_request("from is after to"));
    }
    let mut changes = app.store.levels(&entity, from, to).await?;
    changes.retain(|c| kind.is_none_or(|k| c.kind == k));
    Ok(Json(changes))
}

#[derive(Debug, Deserialize)]
struct DailyQuery {
    entity: String,
    days: Option<u32>,
    kind: Option<PatternOf>,
}

#[derive(Debug, Serialize)]
struct DailyReply {
    entity: Entity,
    kind: PatternOf,
    days: Vec<DayPattern>,
}

/// The last `days` days (default 7, at most 35: the history kept), today last.
async fn daily(
    State(app): State<AppState>,
    _session: Session,
    query: Result<Query<DailyQuery>, QueryRejection>,
) -> Result<Json<DailyReply>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; give entity (e.g. system), and optionally days (1–35) and kind (shown, calculated or declared)",
            e.body_text()
        ))
    })?;
    let entity = entity(&q.entity)?;
    let days = q.days.unwrap_or(7);
    if !(1..=35).contains(&days) {
        return Err(ApiError::bad_request(format!("days {days}: give 1 to 35")));
    }
    let kind = q.kind.unwrap_or(PatternOf::Shown);
    let now = Utc::now();
    let mut start = calendar::day_start(now);
    for _ in 1..days {
        start = calendar::day_start(start - Duration::hours(1));
    }
    let steps = steps(app.store.as_ref(), &entity, kind, start, now).await?;
    Ok(Json(DailyReply {
        entity,
        kind,
        days: pattern(&steps, start, now),
    }))
}

//! People declare levels and mark actions done (the domain is `escalation::alerts`):
//!
//! - `POST /api/v1/declarations` `{entity, level, reason}`: declare (level 1–4) or
//!   withdraw (level null) a level, with the CSRF token.
//! - `POST /api/v1/alerts/{id}/actions/{index}` `{done}`: mark an action of an alert done
//!   or not, with the CSRF token.
//!
//! Both only for an entity the account acts on ([`levels_shared::access::acts_on`]): a
//! site manager their own organisation's sites, a system leader the system, community
//! services and their localities. Anything else is refused (403) and not applied.
//! - `GET /api/v1/alerts?from=…&to=…&limit=…`: alerts raised, newest first.
//!
//! Every write is recorded as the signed-in account's before it is published.

use super::{Acting, ApiError, AppState, Session};
use crate::escalation::alerts::{is_known, raise};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use levels_shared::access::acts_on;
use levels_shared::escalation::{Alert, Declaration, Done, Entity, LevelChange, LevelKind};
use levels_shared::reference::ReferenceData;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/declarations", post(declare))
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/{id}/actions/{index}", post(mark))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclareRequest {
    entity: Entity,
    /// OPEL 1–4, or null to withdraw the declaration; required either way, so a body that
    /// forgets it is refused rather than read as a withdrawal.
    #[serde(default, deserialize_with = "present")]
    level: Option<Option<u8>>,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Serialize)]
struct DeclareReply {
    entity: Entity,
    declared: Option<Declaration>,
    calculated: Option<u8>,
    /// The alert raised, if the declared level changed.
    alert: Option<i64>,
    seq: u64,
}

const MAX_TEXT: usize = 500;

fn required(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::unprocessable(format!("{field} is required")));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ApiError::unprocessable(format!(
            "{field} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(value.to_owned())
}

/// 403 unless the signed-in account acts on `entity` (declares its level, ticks its
/// actions), saying why.
fn require_acts_on(
    session: &Session,
    entity: &Entity,
    reference: &ReferenceData,
    what: &str,
) -> Result<(), ApiError> {
    let user = &session.user;
    acts_on(user.role, user.organisation.as_deref(), entity, reference).map_err(|refusal| {
        tracing::warn!(name = %user.name, role = %user.role, %entity, what, %refusal, "refused: not the account's to act on");
        ApiError::new(axum::http::StatusCode::FORBIDDEN, refusal.to_string())
    })
}

/// Marks a field that was given (even as null) apart from one left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u8>>, D::Error> {
    Option::<u8>::deserialize(d).map(Some)
}

async fn declare(
    State(app): State<AppState>,
    Acting(session): Acting,
    body: Result<Json<DeclareRequest>, JsonRejection>,
) -> Result<Json<DeclareReply>, ApiError> {
    session.require(session.user.role.declares(), "declare levels")?;
    let Json(mut req) = body?;
    crate::text::check("reason", &req.reason)?;
    let Some(level) = req.level.take() else {
        return Err(ApiError::unprocessable(
            "level is required: give 1 to 4 to declare, or null to withdraw the declaration",
        ));
    };
    if !is_known(&req.entity, &app.policy, &app.reference) {
        return Err(ApiError::not_found(format!(
            "no level is kept for {}: give an acute site (site:CODE), a locality (community:CODE), community or system",
            req.entity
        )));
    }
    require_acts_on(&session, &req.entity, &app.reference, "declare")?;
    if let Some(level) = level.filter(|l| !(1..=4).contains(l)) {
        return Err(ApiError::unprocessable(format!(
            "level {level} is not an OPEL level: give 1 to 4, or null to withdraw"
        )));
    }
    let actor = session.user.name.clone();
    let reason = match level {
        Some(_) => required("reason", &req.reason)?,
        None => req.reason.trim().chars().take(MAX_TEXT).collect(),
    };
    // Held while the level before is read and the declaration recorded, so two at once
    // cannot both see the same level before.
    let projection = app.projection.lock().await;
    let (_, _, live) = app.hub.state();
    let current = live.levels.get(&req.entity).cloned().unwrap_or_default();
    let before = current.declared.as_ref().map(|d| d.level);
    if before.is_none() && level.is_none() {
        return Err(ApiError::unprocessable(format!(
            "{} has no declared level to withdraw",
            req.entity
        )));
    }
    let at = Utc::now();
    let change = LevelChange {
        entity: req.entity.clone(),
        kind: LevelKind::Declared,
        at,
        level,
        explanation: None,
        actor: Some(actor.clone()),
        reason: Some(reason.clone()).filter(|r| !r.is_empty()),
    };
    let alert = (before != level).then(|| raise(&app.policy, &change, before));
    crate::audit::record(
        app.store.as_ref(),
        &actor,
        if level.is_some() {
            "declare"
        } else {
            "withdraw_declaration"
        },
        &req.entity.to_string(),
        serde_json::json!({"level": level, "reason": change.reason}),
        None,
    )
    .await?;
    let id = app.store.record_level(&change, alert.as_ref()).await?;
    drop(projection);
    let declared = level.map(|level| Declaration {
        level,
        reason,
        actor,
        at,
    });
    tracing::info!(entity = %req.entity, ?level, "level declared");
    let seq = app.follower.caught_up(app.store.as_ref(), &app.hub).await;
    Ok(Json(DeclareReply {
        entity: req.entity,
        declared,
        calculated: current.calculated_level(),
        alert: id,
        seq,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkRequest {
    done: bool,
}

async fn mark(
    State(app): State<AppState>,
    Acting(session): Acting,
    Path((id, index)): Path<(i64, usize)>,
    body: Result<Json<MarkRequest>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    session.require(session.user.role.declares(), "mark actions done")?;
    let Json(req) = body?;
    let actor = session.user.name.clone();
    let Some(mut alert) = app.store.alert(id).await? else {
        return Err(ApiError::not_found(format!("no alert {id}")));
    };
    require_acts_on(&session, &alert.entity, &app.reference, "mark an action")?;
    let count = alert.actions.len();
    let Some(action) = alert.actions.get_mut(index) else {
        return Err(ApiError::not_found(format!(
            "alert {id} has {count} actions, numbered from 0; there is no action {index}"
        )));
    };
    let at = Utc::now();
    crate::audit::record(
        app.store.as_ref(),
        &actor,
        if req.done {
            "action_done"
        } else {
            "action_undone"
        },
        &format!("alert:{id}"),
        serde_json::json!({"index": index, "entity": alert.entity}),
        None,
    )
    .await?;
    app.store
        .record_action(id, index, req.done, &actor, at)
        .await?;
    action.done = req.done.then_some(Done { actor, at });
    app.follower.caught_up(app.store.as_ref(), &app.hub).await;
    Ok(Json(alert))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    limit: Option<u32>,
}

/// Alerts in the range (default: the last 7 days), newest first, at most `limit` (1,000).
async fn list(
    State(app): State<AppState>,
    _session: Session,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let Query(q) = query?;
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::days(7), |t| t.to_utc());
    let limit = q.limit.unwrap_or(1000).clamp(1, 1000);
    Ok(Json(app.store.alerts(from, to, limit).await?))
}

//! The audit log (DESIGN §9): logins and failed logins, every view of patient-level data,
//! declarations, actions, and account changes, each with who, when and from where. It is
//! append-only in the database, and only administrators may read or export it
//! (`GET /api/v1/audit`, `?format=csv`); nothing in Levels changes or deletes an entry.

use crate::accounts::routes::Session;
use crate::api_error::ApiError;
use crate::app::AppState;
use crate::store::{AuditEntry, Store, StoreError};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(log))
}

/// Appends an entry; an action whose audit cannot be written must not go ahead unrecorded,
/// so callers fail with it.
pub async fn record(
    store: &dyn Store,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Value,
    address: Option<SocketAddr>,
) -> Result<(), StoreError> {
    store
        .audit(&AuditEntry {
            id: 0,
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail,
            address: address.map(|a| a.ip().to_string()),
        })
        .await
}

/// A cell a spreadsheet will not run as a formula: text starting `= + - @`, tab or CR (a
/// sign-in name, say, chosen by anyone) is prefixed with `'`.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    limit: Option<u32>,
    format: Option<String>,
}

/// The log, newest first (default: the last 7 days, at most 10,000 entries).
async fn log(
    State(app): State<AppState>,
    session: Session,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    session.require(session.user.role.administers(), "read the audit log")?;
    let Query(q) = query?;
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::days(7), |t| t.to_utc());
    let entries = app
        .store
        .audit_log(from, to, q.limit.unwrap_or(10_000).clamp(1, 10_000))
        .await?;
    let csv = q.format.as_deref() == Some("csv");
    record(
        app.store.as_ref(),
        &session.user.name,
        if csv { "export_audit" } else { "view_audit" },
        "audit",
        serde_json::json!({"from": from, "to": to, "entries": entries.len()}),
        None,
    )
    .await?;
    if !csv {
        return Ok(Json(entries).into_response());
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record([
        "id", "at", "actor", "action", "subject", "detail", "address",
    ]);
    for e in &entries {
        let _ = out.write_record([
            e.id.to_string(),
            e.at.to_rfc3339(),
            cell(&e.actor),
            cell(&e.action),
            cell(&e.subject),
            cell(&e.detail.to_string()),
            cell(&e.address.clone().unwrap_or_default()),
        ]);
    }
    let body = out.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"levels-audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_a_spreadsheet_would_run_is_neutralised() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("alex"), "alex");
    }
}

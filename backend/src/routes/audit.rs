//! The audit log for administrators: `GET /api/v1/audit?from=…&to=…&limit=…`, and
//! `&format=csv` to export it. Reading or exporting it is itself audited. The log is
//! written by `audit::record`; nothing in Levels changes or deletes an entry.

use super::{Admin, ApiError, AppState};
use crate::audit::cell;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(log))
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
    Admin(session): Admin,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let to = q.to.map_or_else(Utc::now, |t| t.to_utc());
    let from = q.from.map_or(to - Duration::days(7), |t| t.to_utc());
    let entries = app
        .store
        .audit_log(from, to, q.limit.unwrap_or(10_000).clamp(1, 10_000))
        .await?;
    let csv = q.format.as_deref() == Some("csv");
    session
        .audit(
            app.store.as_ref(),
            if csv { "export_audit" } else { "view_audit" },
            "audit",
            serde_json::json!({"from": from, "to": to, "entries": entries.len()}),
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

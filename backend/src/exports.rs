//! Exports of aggregates for planning (DESIGN §9): counts that could identify a person are
//! suppressed, so any count from 1 to 4 is written "<5". Every export is audited.
//!
//! - `GET /api/v1/exports/delays.csv`: patients with no criteria to reside now, per site, by
//!   pathway, reason group, responsible organisation, home locality and delay band.

use crate::accounts::routes::Session;
use crate::api_error::ApiError;
use crate::app::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/exports/delays.csv", get(delays))
}

/// A count as an export may show it: 1 to 4 become "<5".
pub fn suppressed(n: u32) -> String {
    if (1..5).contains(&n) {
        "<5".into()
    } else {
        n.to_string()
    }
}

fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn delays(State(app): State<AppState>, session: Session) -> Result<Response, ApiError> {
    session.require(session.user.role.reviews(), "export figures")?;
    let (_, _, live) = app.hub.state();
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["site", "measure", "value", "patients"]);
    let mut rows = 0;
    for site in &app.reference.sites {
        let Some(d) = live.sites.get(&site.code).and_then(|s| s.delays.as_ref()) else {
            continue;
        };
        let mut put = |measure: &str, value: String, n: u32| {
            let _ = out.write_record([site.code.as_str(), measure, &value, &suppressed(n)]);
            rows += 1;
        };
        put("delayed_now", String::new(), d.delayed_now);
        for (k, n) in &d.by_pathway {
            put("pathway", code(k), *n);
        }
        for (k, n) in &d.by_reason_group {
            put("reason_group", code(k), *n);
        }
        for (k, n) in &d.by_responsible {
            put("responsible", code(k), *n);
        }
        for (k, n) in &d.by_locality {
            put("home_locality", k.clone(), *n);
        }
        for (k, n) in &d.by_band {
            put("days_delayed", code(k), *n);
        }
    }
    crate::audit::record(
        app.store.as_ref(),
        &session.user.name,
        "export_delays",
        "exports:delays",
        json!({"rows": rows}),
        None,
    )
    .await?;
    let body = out.into_inner().unwrap_or_default();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"levels-delays.csv\"",
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
    fn counts_from_one_to_four_are_suppressed() {
        let shown: Vec<String> = [0, 1, 4, 5, 17].into_iter().map(suppressed).collect();
        assert_eq!(shown, ["0", "<5", "<5", "5", "17"]);
    }
}

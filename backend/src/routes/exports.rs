//! Exports of aggregates for planning (docs/security.md). Every export is audited.
//!
//! - `GET /api/v1/exports/delays.csv`: patients with no criteria to reside now, per site, by
//!   pathway, reason group, responsible organisation, home locality and delay band. The
//!   breakdowns are the live state's, through disclosure control (a hidden cell is written
//!   `*`: [`levels_shared::disclosure`]); a discharge coordinator gets exact figures for their
//!   own organisation's sites, as their patient list has them.

use super::{ApiError, AppState, Session};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use levels_shared::disclosure::{exact, shown};
use levels_shared::measures::DelayMeasures;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/exports/delays.csv", get(delays))
}

async fn delays(State(app): State<AppState>, session: Session) -> Result<Response, ApiError> {
    session.require(session.user.role.reviews(), "export figures")?;
    let now = Utc::now();
    // Exact figures only for a coordinator's own organisation's sites.
    let exact_for = |site: &levels_shared::reference::Site| {
        session.user.role.sees_patients()
            && session.user.organisation.is_some()
            && site.organisation_ods == session.user.organisation
    };
    let sites: Vec<(String, DelayMeasures)> = {
        let projection = app.projection.lock().await;
        let live = projection.live();
        app.reference
            .sites
            .iter()
            .filter_map(|site| {
                let mut m = live.sites.get(&site.code)?.delays.clone()?;
                if exact_for(site) {
                    let counts = projection.delay_counts(&site.code, now)?;
                    counts.publish_into(&mut m, exact);
                }
                Some((site.code.clone(), m))
            })
            .collect()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(["site", "measure", "value", "patients"]);
    let mut rows = 0;
    for (site, d) in &sites {
        let mut put = |measure: &str, value: &str, n: Option<u32>| {
            let _ = out.write_record([site.as_str(), measure, value, &shown(n)]);
            rows += 1;
        };
        put("delayed_now", "", Some(d.delayed_now));
        for (measure, breakdown) in d.breakdowns() {
            for (value, n) in breakdown {
                put(measure, value, *n);
            }
        }
    }
    session
        .audit(
            app.store.as_ref(),
            "export_delays",
            "exports:delays",
            json!({"rows": rows}),
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

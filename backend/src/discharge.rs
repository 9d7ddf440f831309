//! The discharge view's patient-level list (DESIGN §4.3, §8):
//! `GET /api/v1/discharge/patients` answers every patient delayed now, longest delay first,
//! each in the same delay band the streamed measures count them in, and the sites whose
//! discharge-delays feed is stale. The browser filters and sorts it further.
//!
//! Until accounts and roles arrive (the security issue, DESIGN §9), this endpoint is open
//! like the rest of the API. It never carries NHS numbers: the projection drops them on the
//! way in. The security issue will restrict it to roles with a direct-care reason
//! (`discharge_coordinator`, for their organisation's sites) and audit every view of it.

use crate::app::AppState;
use axum::extract::{ConnectInfo, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use levels_shared::discharge::DelayedPatients;
use levels_shared::feed::Feed;
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/discharge/patients", get(patients))
}

/// The delayed patients as of now.
async fn patients(
    State(app): State<AppState>,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
) -> Result<Json<DelayedPatients>, crate::api_error::ApiError> {
    let now = Utc::now();
    // The live state is read under the projection's lock, so the feed times and the list
    // come from the same commits.
    let projection = app.projection.lock().await;
    let patients = projection.delayed_patients(now);
    let (_, _, live) = app.hub.state();
    drop(projection);
    // Every view of patient-level data is audited (with who, once accounts are enforced).
    crate::audit::record(
        app.store.as_ref(),
        "-",
        "view_patients",
        "discharge:list",
        serde_json::json!({"patients": patients.len()}),
        Some(address),
    )
    .await?;
    Ok(Json(DelayedPatients {
        as_of: now,
        patients,
        stale_sites: stale_sites(&app.reference, &live, now),
    }))
}

/// The sites whose latest discharge-delays data is stale at `now`, in reference order.
/// A site that has never sent the feed has no patients to flag and is not listed.
fn stale_sites(reference: &ReferenceData, live: &LiveState, now: DateTime<Utc>) -> Vec<String> {
    reference
        .sites
        .iter()
        .filter(|site| {
            live.sites
                .get(&site.code)
                .and_then(|s| s.feeds.get(&Feed::DischargeDelays))
                .is_some_and(|at| site.is_stale(Feed::DischargeDelays, *at, now))
        })
        .map(|site| site.code.clone())
        .collect()
}

//! The discharge view's patient-level list (DESIGN §4.3, §8):
//! `GET /api/v1/discharge/patients` answers every patient delayed now, longest delay first,
//! each in the same delay band the streamed measures count them in, and the sites whose
//! discharge-delays feed is stale. The browser filters and sorts it further.
//!
//! Only a discharge coordinator may read it, and only their own organisation's sites'
//! patients (DESIGN §9); every view is audited. It never carries NHS numbers: the
//! projection drops them on the way in.

use super::{ApiError, AppState, Session};
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
    session: Session,
    ConnectInfo(address): ConnectInfo<std::net::SocketAddr>,
) -> Result<Json<DelayedPatients>, ApiError> {
    session.require(session.user.role.sees_patients(), "see patient-level data")?;
    let now = Utc::now();
    // Only the coordinator's own organisation's sites.
    let organisation = session.user.organisation.clone().unwrap_or_default();
    let own = |site: &str| {
        app.reference
            .site(site)
            .is_some_and(|s| s.organisation_ods.as_deref() == Some(organisation.as_str()))
    };
    // The live state is read under the projection's lock, so the feed times and the list
    // come from the same commits.
    let projection = app.projection.lock().await;
    let mut patients = projection.delayed_patients(now);
    patients.retain(|p| own(&p.site));
    let mut bed_days_lost = projection.bed_days_lost(now);
    bed_days_lost.retain(|site, _| own(site));
    let (_, _, live) = app.hub.state();
    drop(projection);
    // Every view of patient-level data is audited.
    crate::audit::record(
        app.store.as_ref(),
        &session.user.name,
        "view_patients",
        "discharge:list",
        serde_json::json!({"patients": patients.len()}),
        Some(address),
    )
    .await?;
    Ok(Json(DelayedPatients {
        as_of: now,
        patients,
        stale_sites: stale_sites(&app.reference, &live, now)
            .into_iter()
            .filter(|s| own(s))
            .collect(),
        bed_days_lost,
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

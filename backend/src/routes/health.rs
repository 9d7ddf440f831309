//! Probes for whoever runs Levels: `/healthz` (the process answers) and `/readyz` (it can
//! serve: the database answers, reference data is loaded, it is not shutting down). A load
//! balancer sends traffic only to replicas that are ready. And `/metrics` (`crate::metrics`).

use super::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// The database must answer within this long for the server to count as ready.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match tokio::time::timeout(DATABASE_WAIT, app.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            format!("error: {e}")
        }
        Err(_) => format!("no answer within {} s", DATABASE_WAIT.as_secs()),
    };
    let sites = app.reference.sites.len();
    let shutting_down = *app.hub.closed().borrow();
    let ready = database == "ok" && sites > 0 && !shutting_down;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "ready": ready,
            "database": database,
            "reference_sites": sites,
            "shutting_down": shutting_down,
            // Whether this replica records calculated level changes for all of them.
            "leads": app.store.leads(),
            // The last outbox entry this replica has sent to its screens.
            "published": app.follower.last(),
        })),
    )
}

/// The counters, for a Prometheus server to scrape.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
}

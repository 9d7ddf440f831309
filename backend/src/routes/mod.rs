//! The HTTP API and the dashboard's files: every route of the server, and the state its
//! handlers share. Handlers are thin: they check who asks ([`session`]), read the request,
//! call the domain modules below (feeds, store, state, escalation, live, history, accounts,
//! audit) and answer. Nothing below this module imports it.
//!
//! - [`feeds`]: `POST /api/v1/feeds/{feed}`, the producers' ingest.
//! - [`live`]: `GET /api/v1/live` (websocket) and `GET /api/v1/state`.
//! - [`history`], [`timeline`], [`alerts`]: trends, level history, declarations and alerts.
//! - [`discharge`], [`exports`]: patient-level lists and aggregate exports.
//! - [`accounts`], [`tokens`], [`displays`], [`audit`]: sign-in and administration.
//! - [`health`]: `/healthz`, `/readyz` and `/metrics`.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod discharge;
pub mod displays;
pub mod error;
pub mod exports;
pub mod feeds;
pub mod health;
pub mod history;
pub mod live;
pub mod session;
pub mod timeline;
pub mod tokens;

pub use error::ApiError;
pub use session::{Acting, Admin, Session};

use crate::accounts::limits::LoginLimiter;
use crate::accounts::passwords::PasswordChecks;
use crate::accounts::producers::Producers;
use crate::accounts::sessions::Revocations;
use crate::config::Config;
use crate::escalation::policy::Policy;
use crate::live::follower::{Progress, Publisher};
use crate::live::hub::Hub;
use crate::live::threads::SessionThreads;
use crate::metrics::Metrics;
use crate::state::Projection;
use crate::store::Store;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use levels_shared::reference::ReferenceData;
use std::sync::Arc;
use std::time::Duration;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Everything a request handler may need: a cheap `Clone` of shared handles.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub reference: Arc<ReferenceData>,
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub producers: Arc<Producers>,
    /// Failed sign-ins per account and address.
    pub logins: Arc<LoginLimiter>,
    /// Password checks: a few at once, each with kept Argon2 memory.
    pub password_checks: Arc<PasswordChecks>,
    /// The escalation policy: levels, declarations and action cards.
    pub policy: Arc<Policy>,
    /// Conveyances and patients kept to derive measures. Its lock is held from commit to
    /// publish, so live `seq` follows commit order.
    pub projection: Arc<tokio::sync::Mutex<Projection>>,
    pub metrics: Arc<Metrics>,
    /// Sign-ins ended here, so live streams know when to recheck theirs.
    pub revocations: Arc<Revocations>,
    /// How far the outbox has been published to this process's hub.
    pub follower: Progress,
    /// Where live sessions run.
    pub live_threads: Arc<SessionThreads>,
}

impl AppState {
    /// What the outbox follower and the measures' refresh publish with.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            store: self.store.clone(),
            hub: self.hub.clone(),
            projection: self.projection.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let static_dir = &state.config.server.static_dir;
    // The dashboard is a single-page app: unknown paths get index.html and route in the browser.
    let dashboard =
        ServeDir::new(static_dir).fallback(ServeFile::new(static_dir.join("index.html")));
    let router = Router::new()
        .merge(feeds::router(&state))
        .merge(live::router())
        .merge(history::router())
        .merge(discharge::router())
        .merge(timeline::router())
        .merge(alerts::router())
        .merge(accounts::router())
        .merge(tokens::router())
        .merge(displays::router())
        .merge(audit::router())
        .merge(exports::router())
        .route("/api/v1/reference", get(reference_data))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.ingest.max_body_bytes,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.server.request_timeout_seconds.max(1)),
        ))
        .fallback_service(dashboard)
        // Probes and metrics answer whatever else is slow.
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
    let csp = crate::headers::content_security_policy(static_dir);
    let mut router = router;
    for layer in crate::headers::layers(&csp, state.config.server.tls.is_some()) {
        router = router.layer(layer);
    }
    let router = router.layer(axum::middleware::from_fn(crate::headers::no_store_api));
    router.layer(TraceLayer::new_for_http()).with_state(state)
}

async fn reference_data(State(app): State<AppState>, _session: Session) -> Json<ReferenceData> {
    Json((*app.reference).clone())
}

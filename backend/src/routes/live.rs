//! The live stream: `GET /api/v1/live` (websocket) and `GET /api/v1/state` (the same
//! snapshot as JSON, for scripts and debugging). See docs/architecture.md, "The live
//! protocol".

use super::session::same_origin;
use super::{ApiError, AppState, Session};
use crate::live::{session, upgrade};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use levels_shared::live::{ResumeFrom, ServerMsg};
use serde::Deserialize;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/live", get(live))
        .route("/api/v1/state", get(state))
}

/// `?epoch=E&seq=N`: where a reconnecting client left off.
#[derive(Debug, Deserialize)]
struct ResumeParams {
    epoch: Option<String>,
    seq: Option<u64>,
}

async fn live(
    State(app): State<AppState>,
    session: Result<Session, ApiError>,
    params: Result<Query<ResumeParams>, QueryRejection>,
    mut request: Request,
) -> Response {
    // Refused before the upgrade, in this order: no session (401), another site's page
    // (403), bad resume parameters (400), not a websocket handshake (4xx).
    let session = match session {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if !same_origin(request.headers()) {
        // Another site's page may not open a live stream on this one (DESIGN §7).
        return (
            StatusCode::FORBIDDEN,
            "cross-origin live connections are refused",
        )
            .into_response();
    }
    let resume = match params {
        Ok(Query(ResumeParams {
            epoch: Some(epoch),
            seq: Some(seq),
        })) => Some(ResumeFrom { epoch, seq }),
        Ok(_) => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let upgrade = match upgrade::Upgrade::new(&mut request) {
        Ok(upgrade) => upgrade,
        Err(e) => return e.into_response(),
    };
    let live = &app.config.live;
    let link = session::Link {
        hub: app.hub.clone(),
        metrics: app.metrics.clone(),
        resume,
        heartbeat: Duration::from_secs(live.heartbeat_seconds.max(1)),
        dead_after: Duration::from_secs(live.dead_after_seconds.max(1)),
        signed: session::Signed {
            store: app.store.clone(),
            token_hash: session.token_hash,
            revocations: app.revocations.clone(),
            // Just checked, by the extractor that let this request in.
            checked: (app.revocations.count(), tokio::time::Instant::now()),
        },
    };
    // Small buffers: thousands of screens each hold one, and clients send next to nothing.
    // tungstenite writes only pings and the closing frame; messages go out as shared
    // pre-encoded frames (see `wire`), so its write buffer stays small.
    let config = WebSocketConfig::default()
        .read_buffer_size(live.read_buffer_bytes)
        .write_buffer_size(live.write_buffer_bytes)
        .max_message_size(Some(live.max_client_message_bytes))
        .max_frame_size(Some(live.max_client_message_bytes));
    upgrade.on_upgrade(app.live_threads.handle(), config, move |socket| {
        session::run(socket, link)
    })
}

async fn state(State(app): State<AppState>, _session: Session) -> impl IntoResponse {
    let (epoch, seq, state) = app.hub.state();
    Json(ServerMsg::Snapshot {
        epoch,
        seq,
        server_time: Utc::now(),
        state,
    })
}

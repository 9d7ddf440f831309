//! The live stream: `GET /api/v1/live` (websocket) and `GET /api/v1/state` (the same
//! snapshot as JSON, for scripts and debugging). See DESIGN §7.

pub mod hub;
pub mod session;

use crate::app::AppState;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use levels_shared::live::{ResumeFrom, ServerMsg};
use serde::Deserialize;
use std::time::Duration;

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
    ws: WebSocketUpgrade,
    State(app): State<AppState>,
    Query(params): Query<ResumeParams>,
) -> Response {
    let resume = match params {
        ResumeParams {
            epoch: Some(epoch),
            seq: Some(seq),
        } => Some(ResumeFrom { epoch, seq }),
        _ => None,
    };
    let hub = app.hub.clone();
    let heartbeat = Duration::from_secs(app.config.live.heartbeat_seconds.max(1));
    ws.on_upgrade(move |socket| session::run(socket, hub, resume, heartbeat))
}

async fn state(State(app): State<AppState>) -> impl IntoResponse {
    let (epoch, seq, state) = app.hub.state();
    Json(ServerMsg::Snapshot {
        epoch,
        seq,
        server_time: Utc::now(),
        state,
    })
}

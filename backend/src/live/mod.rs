//! The live stream: `GET /api/v1/live` (websocket) and `GET /api/v1/state` (the same
//! snapshot as JSON, for scripts and debugging). See DESIGN §7.

pub mod follower;
pub mod hub;
pub mod session;

use crate::accounts::routes::Session;
use crate::api_error::ApiError;
use crate::app::AppState;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode, Uri};
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
    session: Result<Session, ApiError>,
    Query(params): Query<ResumeParams>,
    headers: HeaderMap,
) -> Response {
    // Both refused before the upgrade: no session (401), another site's page (403).
    let session = match session {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if !same_origin(&headers) {
        // Another site's page may not open a live stream on this one (DESIGN §7).
        return (
            StatusCode::FORBIDDEN,
            "cross-origin live connections are refused",
        )
            .into_response();
    }
    let resume = match params {
        ResumeParams {
            epoch: Some(epoch),
            seq: Some(seq),
        } => Some(ResumeFrom { epoch, seq }),
        _ => None,
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
    ws.read_buffer_size(live.read_buffer_bytes)
        .write_buffer_size(live.write_buffer_bytes)
        .max_message_size(live.max_client_message_bytes)
        .max_frame_size(live.max_client_message_bytes)
        .on_upgrade(move |socket| session::run(socket, link))
}

/// A browser always sends `Origin` on a websocket upgrade; it must name this server, as
/// the `Host` it was reached at does. Non-browser clients that send no `Origin` pass.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let origin_authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.parse::<Uri>().ok())
        .and_then(|uri| uri.authority().map(|a| a.as_str().to_ascii_lowercase()));
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    origin_authority.is_some() && origin_authority == host
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

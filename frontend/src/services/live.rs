//! The live websocket: connects, checks sequence numbers, and reconnects for ever.
//!
//! The snapshot comes over HTTP (`GET /api/v1/state`), then the websocket opens resuming
//! from it, so the socket carries only deltas and heartbeats. If the fetch fails the socket
//! sends the snapshot.
//!
//! Messages reach the dashboard only in order: a delta whose `seq` is not the next one
//! means something was missed, so the link is dropped and the snapshot fetched again.

use crate::state::Action;
use chrono::Utc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::TimeoutFuture;
use levels_shared::live::{ResumeFrom, ServerMsg};
use yew::Callback;

/// With no message at all for this long the link is presumed dead; once a heartbeat has
/// said how often they come, three missed heartbeats.
const FIRST_SILENCE_MS: u32 = 16_000;
const RETRY_MIN_MS: u32 = 500;
const RETRY_MAX_MS: u32 = 5_000;

/// Starts the link; it runs for the life of the page.
pub fn start(dispatch: Callback<Action>) {
    wasm_bindgen_futures::spawn_local(run(dispatch));
}

async fn run(dispatch: Callback<Action>) {
    let mut resume: Option<ResumeFrom> = None;
    let mut retry = RETRY_MIN_MS;
    let mut silence_ms = FIRST_SILENCE_MS;
    loop {
        if resume.is_none() {
            if let Ok(snapshot) = crate::services::api::get_json::<ServerMsg>("/api/v1/state").await
            {
                if matches!(snapshot, ServerMsg::Snapshot { .. }) {
                    resume = Some(ResumeFrom {
                        epoch: snapshot.epoch().to_owned(),
                        seq: snapshot.seq(),
                    });
                    dispatch.emit(Action::Message(snapshot));
                }
            }
        }
        if let Ok(socket) = WebSocket::open(&url(resume.as_ref())) {
            let (_write, mut read) = socket.split();
            loop {
                let next = select(read.next(), TimeoutFuture::new(silence_ms));
                let text = match next.await {
                    Either::Left((Some(Ok(Message::Text(text))), _)) => text,
                    Either::Left((Some(Ok(Message::Bytes(_))), _)) => continue,
                    // Closed, failed, or silent for too long.
                    _ => break,
                };
                let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) else {
                    continue;
                };
                if let ServerMsg::Heartbeat {
                    interval_seconds, ..
                } = &msg
                {
                    let interval_ms =
                        u32::try_from(interval_seconds.saturating_mul(1000)).unwrap_or(u32::MAX);
                    silence_ms = interval_ms.saturating_mul(3).saturating_add(1000);
                }
                match in_sequence(resume.as_ref(), &msg) {
                    Order::Next => {
                        if !matches!(msg, ServerMsg::Heartbeat { .. }) {
                            resume = Some(ResumeFrom {
                                epoch: msg.epoch().to_owned(),
                                seq: msg.seq(),
                            });
                        }
                        retry = RETRY_MIN_MS;
                        dispatch.emit(Action::Message(msg));
                    }
                    Order::Old => {}
                    Order::Gap => {
                        resume = None;
                        break;
                    }
                }
            }
        }
        dispatch.emit(Action::Disconnected(Utc::now()));
        TimeoutFuture::new(retry).await;
        retry = (retry * 2).min(RETRY_MAX_MS);
    }
}

enum Order {
    Next,
    Old,
    Gap,
}

fn in_sequence(at: Option<&ResumeFrom>, msg: &ServerMsg) -> Order {
    match (msg, at) {
        (ServerMsg::Snapshot { .. }, _) => Order::Next,
        (_, None) => Order::Gap,
        (_, Some(at)) if at.epoch != msg.epoch() => Order::Gap,
        (ServerMsg::Heartbeat { seq, .. }, Some(at)) if *seq <= at.seq => Order::Next,
        (ServerMsg::Delta { seq, .. }, Some(at)) if *seq == at.seq + 1 => Order::Next,
        (ServerMsg::Delta { seq, .. }, Some(at)) if *seq <= at.seq => Order::Old,
        _ => Order::Gap,
    }
}

/// `ws(s)://<this host>/api/v1/live`, with where we left off when resuming.
fn url(resume: Option<&ResumeFrom>) -> String {
    let location = web_sys::window().map(|w| w.location());
    let protocol = location.as_ref().and_then(|l| l.protocol().ok());
    let host = location
        .and_then(|l| l.host().ok())
        .unwrap_or_else(|| "localhost".into());
    let scheme = if protocol.as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    match resume {
        Some(r) => format!(
            "{scheme}://{host}/api/v1/live?epoch={}&seq={}",
            r.epoch, r.seq
        ),
        None => format!("{scheme}://{host}/api/v1/live"),
    }
}

//! One browser's websocket session: snapshot or replay first, then deltas and heartbeats.

use super::hub::{Hub, Start};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use levels_shared::live::ResumeFrom;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A client that has not taken a message within this long is treated as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

struct Sender {
    sink: SplitSink<WebSocket, Message>,
}

impl Sender {
    /// Sends one text frame; `false` when the client is gone or has stopped reading.
    async fn send(&mut self, text: Utf8Bytes) -> bool {
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, self.sink.send(Message::Text(text))).await,
            Ok(Ok(()))
        )
    }
}

/// What keeps a live session's sign-in current: the store, and the session's digest.
pub struct Signed {
    pub store: Arc<dyn crate::store::Store>,
    pub token_hash: String,
}

impl Signed {
    /// Whether the sign-in still holds: not signed out, expired or revoked.
    async fn holds(&self) -> bool {
        matches!(
            self.store
                .session(&self.token_hash, chrono::Utc::now())
                .await,
            Ok(Some(_))
        )
    }
}

/// Runs until the client goes away, the link fails, the server shuts down, or the session
/// that opened it ends (checked at every heartbeat, so revoking a screen stops its stream).
pub async fn run(
    socket: WebSocket,
    hub: Arc<Hub>,
    resume: Option<ResumeFrom>,
    heartbeat: Duration,
    signed: Signed,
) {
    let (sink, mut incoming) = socket.split();
    let mut out = Sender { sink };
    // Subscribe to shutdown first, so a close signalled while the snapshot is sent is not missed.
    let mut closed = hub.closed();
    let (start, mut rx) = hub.subscribe(resume.as_ref());
    let mut last_seq = resume.as_ref().map_or(0, |r| r.seq);
    let frames = match start {
        Start::Snapshot(frame) => vec![frame],
        Start::Replay(frames) => frames,
    };
    for frame in frames {
        last_seq = frame.seq;
        if !out.send(frame.json).await {
            return;
        }
    }
    // An immediate heartbeat tells the client it is live (even when nothing was missed)
    // and how often to expect the next ones.
    if !out.send(hub.heartbeat(last_seq, heartbeat)).await {
        return;
    }
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut shutting_down = false;
    let mut recheck = false;
    loop {
        let text: Utf8Bytes = tokio::select! {
            frame = rx.recv() => match frame {
                Ok(frame) if frame.seq <= last_seq => continue,
                Ok(frame) => {
                    last_seq = frame.seq;
                    frame.json
                }
                Err(RecvError::Lagged(missed)) => {
                    // Too slow to keep up: skip forward to the present rather than queue.
                    tracing::info!(missed, "live session fell behind; sending a fresh snapshot");
                    let (snapshot, fresh) = hub.resync();
                    rx = fresh;
                    last_seq = snapshot.seq;
                    snapshot.json
                }
                Err(RecvError::Closed) => break,
            },
            _ = beat.tick() => {
                recheck = true;
                hub.heartbeat(last_seq, heartbeat)
            }
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            _ = closed.wait_for(|closed| *closed) => {
                shutting_down = true;
                break;
            }
        };
        // At every heartbeat, before sending it, the sign-in must still hold.
        if std::mem::take(&mut recheck) && !signed.holds().await {
            tracing::info!("live session's sign-in ended; closing");
            break;
        }
        if !out.send(text).await {
            break;
        }
    }
    if shutting_down {
        let _ = tokio::time::timeout(SEND_TIMEOUT, out.sink.send(Message::Close(None))).await;
    }
}

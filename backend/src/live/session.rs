//! One browser's websocket session: snapshot or replay first, then deltas and heartbeats.

use super::hub::{Frame, Hub, Start};
use crate::accounts::sessions::{Revocations, RECHECK};
use crate::metrics::Metrics;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use levels_shared::live::ResumeFrom;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// A client that has not taken a message within this long is treated as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

struct Sender {
    sink: SplitSink<WebSocket, Message>,
}

impl Sender {
    /// Sends one message; `false` when the client is gone or has stopped reading.
    async fn send(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, self.sink.send(message)).await,
            Ok(Ok(()))
        )
    }

    async fn text(&mut self, text: Utf8Bytes) -> bool {
        self.send(Message::Text(text)).await
    }
}

/// What keeps a live session's sign-in current: the store, the session's digest, and when
/// it was last checked.
pub struct Signed {
    pub store: Arc<dyn crate::store::Store>,
    pub token_hash: String,
    pub revocations: Arc<Revocations>,
    /// The revocation count and time at the last check.
    pub checked: (u64, Instant),
}

impl Signed {
    /// Whether the sign-in still holds: not signed out, expired or revoked. Asks the store
    /// only when a sign-in ended in this process since the last check, or after [`RECHECK`].
    async fn holds(&mut self) -> bool {
        let count = self.revocations.count();
        if count == self.checked.0 && self.checked.1.elapsed() < RECHECK {
            return true;
        }
        let holds = matches!(
            self.store
                .session(&self.token_hash, chrono::Utc::now())
                .await,
            Ok(Some(_))
        );
        self.checked = (count, Instant::now());
        holds
    }
}

/// Everything a session needs besides its socket.
pub struct Link {
    pub hub: Arc<Hub>,
    pub metrics: Arc<Metrics>,
    pub resume: Option<ResumeFrom>,
    pub heartbeat: Duration,
    /// Silence from the client for this long means it is gone.
    pub dead_after: Duration,
    pub signed: Signed,
}

/// Counts the session as open for `/metrics` while it lives.
struct Open(Arc<Metrics>);

impl Open {
    fn new(metrics: Arc<Metrics>) -> Open {
        metrics.live_sessions.inc();
        Open(metrics)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.live_sessions.dec();
    }
}

/// Runs until the client goes away or stops answering, the link fails, the server shuts
/// down, or the session that opened it ends (checked before each heartbeat, see
/// [`Signed::holds`], so revoking a screen stops its stream).
pub async fn run(socket: WebSocket, link: Link) {
    let Link {
        hub,
        metrics,
        resume,
        heartbeat,
        dead_after,
        mut signed,
    } = link;
    let _open = Open::new(metrics.clone());
    let (sink, mut incoming) = socket.split();
    let mut out = Sender { sink };
    // Subscribe to shutdown first, so a close signalled while the snapshot is sent is not missed.
    let mut closed = hub.closed();
    let (start, mut rx) = hub.subscribe(resume.as_ref());
    let mut last_seq = resume.as_ref().map_or(0, |r| r.seq);
    let frames = match start {
        Start::Snapshot(frame) => {
            metrics.session_started(false);
            vec![frame]
        }
        Start::Replay(frames) => {
            metrics.session_started(true);
            frames
        }
    };
    for frame in frames {
        last_seq = frame.seq;
        if !out.text(frame.json).await {
            return;
        }
    }
    // An immediate heartbeat tells the client it is live (even when nothing was missed)
    // and how often to expect the next ones.
    if !out.text(hub.heartbeat(last_seq, heartbeat)).await {
        return;
    }
    let mut beat = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    // Browsers answer a ping with a pong by themselves, so a live page is never silent for
    // long; a client whose machine or network vanished without closing is.
    let mut heard = Instant::now();
    let mut shutting_down = false;
    loop {
        // A ping stands for the heartbeat: checks, then a ping and a heartbeat message.
        let (mut message, delivered): (Message, Option<Frame>) = tokio::select! {
            frame = rx.recv() => match frame {
                Ok(frame) if frame.seq <= last_seq => continue,
                Ok(frame) => {
                    last_seq = frame.seq;
                    (Message::Text(frame.json.clone()), Some(frame))
                }
                Err(RecvError::Lagged(missed)) => {
                    // Too slow to keep up: skip forward to the present rather than queue.
                    tracing::info!(missed, "live session fell behind; sending a fresh snapshot");
                    metrics.live_skips.inc();
                    let (snapshot, fresh) = hub.resync();
                    rx = fresh;
                    last_seq = snapshot.seq;
                    (Message::Text(snapshot.json), None)
                }
                Err(RecvError::Closed) => break,
            },
            _ = beat.tick() => (Message::Ping(Default::default()), None),
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                // Pongs, and anything else a client says, show it is still there.
                Some(Ok(_)) => {
                    heard = Instant::now();
                    continue;
                }
            },
            _ = closed.wait_for(|closed| *closed) => {
                shutting_down = true;
                break;
            }
        };
        if matches!(message, Message::Ping(_)) {
            if heard.elapsed() >= dead_after {
                tracing::info!(silent_for = ?heard.elapsed(), "live client stopped answering; closing");
                metrics.live_dead.inc();
                break;
            }
            // Before each heartbeat, the sign-in must still hold.
            if !signed.holds().await {
                tracing::info!("live session's sign-in ended; closing");
                break;
            }
            if !out.send(message).await {
                break;
            }
            message = Message::Text(hub.heartbeat(last_seq, heartbeat));
        }
        if !out.send(message).await {
            break;
        }
        if let Some(frame) = delivered {
            metrics.delivered(frame.published.elapsed());
        }
    }
    if shutting_down {
        let _ = out.send(Message::Close(None)).await;
    }
}

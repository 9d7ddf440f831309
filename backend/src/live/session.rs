//! One browser's websocket session: snapshot or replay first, then deltas and heartbeats.

use super::hub::{Frame, Hub, Start};
use super::upgrade::Socket;
use crate::accounts::sessions::{Revocations, RECHECK};
use crate::metrics::Metrics;
use futures_util::{SinkExt, StreamExt};
use levels_shared::live::ResumeFrom;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// A client that has not taken a message within this long is treated as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes messages' pre-encoded frames (see [`super::wire`]), in order and in as few
/// system calls as the socket takes them; `false` when the client is gone or has stopped
/// reading.
///
/// tungstenite may still hold the end of a frame it wrote (a pong it answered a client's
/// ping with) when the socket was full, so that is flushed first: frames must not
/// interleave.
async fn send_wire(socket: &mut Socket, wires: &[Bytes]) -> bool {
    let sending = async {
        socket.flush().await.map_err(std::io::Error::other)?;
        let raw = socket.get_mut();
        let mut slices: Vec<IoSlice<'_>> = wires.iter().map(|w| IoSlice::new(w)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match raw.write_vectored(rest).await? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => IoSlice::advance_slices(&mut rest, n),
            }
        }
        raw.flush().await
    };
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, sending).await,
        Ok(Ok(()))
    )
}

/// At most this many deltas go out in one write.
const COALESCE: usize = 32;

/// What the session sends next.
enum Next {
    /// Deltas in order: the first that woke the session, and any already queued behind it.
    /// A session that fell behind thus catches up in one system call for several deltas
    /// (each still its own websocket message) rather than one each.
    Deltas(Vec<Frame>),
    /// Too slow to keep up: skip forward to the present rather than queue.
    Lagged(u64),
    Closed,
}

/// `first`, then whatever else the receiver already holds (up to [`COALESCE`]).
fn with_queued(first: Frame, rx: &mut broadcast::Receiver<Frame>, last_seq: u64) -> Next {
    let mut frames = vec![first];
    while frames.len() < COALESCE {
        match rx.try_recv() {
            Ok(frame) if frame.seq <= last_seq => {}
            Ok(frame) => frames.push(frame),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Lagged(missed)) => return Next::Lagged(missed),
            Err(TryRecvError::Closed) => break,
        }
    }
    Next::Deltas(frames)
}

/// Sends a control message through tungstenite (a ping, or the closing frame).
async fn send_control(socket: &mut Socket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
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
pub async fn run(mut socket: Socket, link: Link) {
    let Link {
        hub,
        metrics,
        resume,
        heartbeat,
        dead_after,
        mut signed,
    } = link;
    let _open = Open::new(metrics.clone());
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
    last_seq = frames.last().map_or(last_seq, |f| f.seq);
    let wires: Vec<Bytes> = frames.into_iter().map(|f| f.wire).collect();
    // An immediate heartbeat tells the client it is live (even when nothing was missed)
    // and how often to expect the next ones.
    let opening = [wires, vec![hub.heartbeat(last_seq, heartbeat)]].concat();
    if !send_wire(&mut socket, &opening).await {
        return;
    }
    let mut beat = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    // Browsers answer a ping with a pong by themselves, so a live page is never silent for
    // long; a client whose machine or network vanished without closing is.
    let mut heard = Instant::now();
    let mut shutting_down = false;
    loop {
        // `None` stands for the heartbeat: checks, then a ping and a heartbeat message.
        let next: Option<Next> = tokio::select! {
            frame = rx.recv() => Some(match frame {
                Ok(frame) if frame.seq <= last_seq => continue,
                Ok(frame) => with_queued(frame, &mut rx, last_seq),
                Err(RecvError::Lagged(missed)) => Next::Lagged(missed),
                Err(RecvError::Closed) => Next::Closed,
            }),
            _ = beat.tick() => None,
            msg = socket.next() => match msg {
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
        let (wires, delivered) = match next {
            Some(Next::Deltas(frames)) => {
                last_seq = frames.last().map_or(last_seq, |f| f.seq);
                let wires: Vec<Bytes> = frames.iter().map(|f| f.wire.clone()).collect();
                (wires, frames)
            }
            Some(Next::Lagged(missed)) => {
                tracing::info!(missed, "live session fell behind; sending a fresh snapshot");
                metrics.live_skips.inc();
                let (snapshot, fresh) = hub.resync();
                rx = fresh;
                last_seq = snapshot.seq;
                (vec![snapshot.wire], Vec::new())
            }
            Some(Next::Closed) => break,
            None => {
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
                if !send_control(&mut socket, Message::Ping(Bytes::new())).await {
                    break;
                }
                (vec![hub.heartbeat(last_seq, heartbeat)], Vec::new())
            }
        };
        if !send_wire(&mut socket, &wires).await {
            break;
        }
        for frame in delivered {
            metrics.delivered(frame.published.elapsed());
        }
    }
    if shutting_down {
        let _ = send_control(&mut socket, Message::Close(None)).await;
    }
}

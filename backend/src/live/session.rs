//! One browser's websocket session: snapshot or replay first, then deltas and heartbeats.

use super::hub::{Frame, Hub, Start};
use super::upgrade::Socket;
use crate::accounts::sessions::{Revocations, RECHECK};
use crate::metrics::Metrics;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use levels_shared::live::ResumeFrom;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};

/// A client that has not taken a message within this long is treated as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

struct Sender {
    sink: SplitSink<Socket, Message>,
    /// Largest frame payload sent; see [`fragments`].
    fragment_bytes: usize,
}

impl Sender {
    /// Sends one message; `false` when the client is gone or has stopped reading.
    async fn send(&mut self, message: Message) -> bool {
        let sink = &mut self.sink;
        let fragment_bytes = self.fragment_bytes;
        let sending = async move {
            match message {
                Message::Text(text) => {
                    // `feed` writes a frame out as soon as the write buffer holds more
                    // than `live.write_buffer_bytes` (0: at once), so it never holds much
                    // more than one fragment; one flush for the whole message.
                    for frame in fragments(text, fragment_bytes) {
                        sink.feed(Message::Frame(frame)).await?;
                    }
                    sink.flush().await
                }
                other => sink.send(other).await,
            }
        };
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, sending).await,
            Ok(Ok(()))
        )
    }

    async fn text(&mut self, text: Utf8Bytes) -> bool {
        self.send(Message::Text(text)).await
    }
}

/// A text message as frames of at most `max` payload bytes (0: one frame): a text frame,
/// then continuation frames, the last one final. tungstenite's write buffer keeps the
/// capacity of the largest frame it encoded for the life of the socket, so sending a
/// 60 KB delta whole would cost every screen 60 KB for good.
///
/// Cuts fall on byte counts, so a continuation may start inside a UTF-8 sequence: RFC 6455
/// §5.6 validates a text message once reassembled, and browsers and tungstenite do so.
/// The payloads are slices of the hub's shared bytes, not copies.
fn fragments(text: Utf8Bytes, max: usize) -> impl Iterator<Item = WsFrame> {
    let bytes = Bytes::from(text);
    let len = bytes.len();
    let max = if max == 0 { len.max(1) } else { max };
    // An empty message is still one (empty, final) frame.
    let count = len.div_ceil(max).max(1);
    (0..count).map(move |i| {
        let start = i * max;
        let end = start.saturating_add(max).min(len);
        let opcode = if i == 0 { Data::Text } else { Data::Continue };
        WsFrame::message(bytes.slice(start..end), OpCode::Data(opcode), end == len)
    })
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
    /// Largest websocket frame payload sent; longer messages are fragmented.
    pub fragment_bytes: usize,
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
pub async fn run(socket: Socket, link: Link) {
    let Link {
        hub,
        metrics,
        resume,
        heartbeat,
        dead_after,
        fragment_bytes,
        mut signed,
    } = link;
    let _open = Open::new(metrics.clone());
    let (sink, mut incoming) = socket.split();
    let mut out = Sender {
        sink,
        fragment_bytes,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(frames: &[WsFrame]) -> Vec<(OpCode, bool, usize)> {
        frames
            .iter()
            .map(|f| (f.header().opcode, f.header().is_final, f.payload().len()))
            .collect()
    }

    #[test]
    fn a_long_message_is_a_text_frame_then_continuations_cut_anywhere_in_utf8() {
        // 3-byte characters: 4096 is not a multiple of 3, so cuts fall inside them.
        let text = "€".repeat(3400);
        let whole = Utf8Bytes::from(text.clone());
        let frames: Vec<_> = fragments(whole.clone(), 4096).collect();
        let (text_op, more) = (OpCode::Data(Data::Text), OpCode::Data(Data::Continue));
        assert_eq!(
            shape(&frames),
            vec![
                (text_op, false, 4096),
                (more, false, 4096),
                (more, true, 10_200 - 8192)
            ]
        );
        assert!(std::str::from_utf8(frames[1].payload()).is_err());
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload().to_vec()).collect();
        assert_eq!(joined, text.as_bytes());
        // Slices of the shared message, not copies.
        let start = whole.as_bytes().as_ptr() as usize;
        assert_eq!(frames[2].payload().as_ptr() as usize, start + 8192);
    }

    #[test]
    fn a_message_that_fits_or_with_no_limit_is_one_final_text_frame() {
        let text_op = OpCode::Data(Data::Text);
        let fits: Vec<_> = fragments(Utf8Bytes::from("x".repeat(4096)), 4096).collect();
        assert_eq!(shape(&fits), vec![(text_op, true, 4096)]);
        let unlimited: Vec<_> = fragments(Utf8Bytes::from("x".repeat(70_000)), 0).collect();
        assert_eq!(shape(&unlimited), vec![(text_op, true, 70_000)]);
        let empty: Vec<_> = fragments(Utf8Bytes::from(""), 4096).collect();
        assert_eq!(shape(&empty), vec![(text_op, true, 0)]);
    }
}

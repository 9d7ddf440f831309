//! One browser's websocket session: snapshot or replay first, then deltas and heartbeats.

use super::hub::{Hub, Start};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use levels_shared::live::ResumeFrom;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Runs until the client goes away, the link fails, or the server shuts down.
pub async fn run(
    socket: WebSocket,
    hub: Arc<Hub>,
    resume: Option<ResumeFrom>,
    heartbeat: Duration,
) {
    let (mut sink, mut incoming) = socket.split();
    let (start, mut rx) = hub.subscribe(resume.as_ref());
    let mut last_seq = match start {
        Start::Snapshot(frame) => {
            if sink.send(Message::Text(frame.json)).await.is_err() {
                return;
            }
            frame.seq
        }
        Start::Replay(frames) => {
            let mut last = resume.as_ref().map_or(0, |r| r.seq);
            for frame in frames {
                if sink.send(Message::Text(frame.json)).await.is_err() {
                    return;
                }
                last = frame.seq;
            }
            last
        }
    };
    let mut closed = hub.closed();
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    loop {
        let out: Utf8Bytes = tokio::select! {
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
            _ = beat.tick() => hub.heartbeat(last_seq),
            msg = incoming.next() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            _ = closed.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        };
        if sink.send(Message::Text(out)).await.is_err() {
            break;
        }
    }
}

//! The live hub: the authoritative live state, its sequence numbers, a replay buffer,
//! and fan-out to every websocket session (DESIGN §7).

use chrono::Utc;
use levels_shared::live::{Change, LiveState, ResumeFrom, ServerMsg};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::Bytes;

/// A message as websocket frames: encoded once, shared by every session that sends it
/// (see [`super::wire`]).
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    pub wire: Bytes,
    /// When it was published, for the fan-out latency metric.
    pub published: std::time::Instant,
}

/// How a new session starts.
pub enum Start {
    /// Send this snapshot first.
    Snapshot(Frame),
    /// The client is resuming: send these missed deltas (possibly none).
    Replay(Vec<Frame>),
}

/// Shared by ingest (which publishes) and every websocket session (which subscribes).
///
/// A std `Mutex` guards the state, sequence and replay buffer together: publishing and
/// subscribing hold it only briefly and never across an `.await`, and holding it while
/// sending on the broadcast channel is what guarantees a subscriber sees every delta after
/// its snapshot exactly once. Fan-out uses `broadcast`: a session that falls more than
/// its queue behind gets `Lagged` and is sent a fresh snapshot instead of the backlog.
pub struct Hub {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Frame>,
    shutdown: watch::Sender<bool>,
    replay_limit: usize,
    /// Fixed for the hub's life: a restart begins a new one.
    epoch: String,
    /// Largest frame payload; see [`super::wire::text`].
    fragment_bytes: usize,
}

struct Inner {
    seq: u64,
    state: LiveState,
    replay: VecDeque<Frame>,
    /// The last snapshot encoded, shared by the sessions that start while it is current.
    snapshot: Option<Frame>,
}

/// How long an encoded snapshot is reused: when thousands of screens connect at once
/// (after a restart) they share a few encodings rather than each hold its own copy, and
/// its `server_time` is at most this old (the heartbeat right after it is current).
const SNAPSHOT_REUSE: std::time::Duration = std::time::Duration::from_secs(1);

impl Hub {
    /// A hub starting a new epoch from `state` (rebuilt from the store). The epoch is new
    /// on every start because the replay buffer does not survive a restart.
    pub fn new(
        state: LiveState,
        replay_limit: usize,
        session_queue: usize,
        fragment_bytes: usize,
    ) -> Hub {
        let (tx, _) = broadcast::channel(session_queue.max(1));
        let epoch = format!("{:x}", Utc::now().timestamp_micros());
        Hub {
            inner: Mutex::new(Inner {
                seq: 0,
                state,
                replay: VecDeque::new(),
                snapshot: None,
            }),
            tx,
            shutdown: watch::Sender::new(false),
            replay_limit,
            epoch,
            fragment_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave Inner half-updated in a way that
        // matters more than stopping the whole live service would, so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies committed changes, sends them as one delta, and returns its `seq`.
    /// With no changes nothing is sent and the current `seq` is returned.
    pub fn publish(&self, changes: Vec<Change>) -> u64 {
        let mut inner = self.lock();
        if changes.is_empty() {
            return inner.seq;
        }
        inner.seq += 1;
        for change in &changes {
            inner.state.apply(change);
        }
        let msg = ServerMsg::Delta {
            epoch: self.epoch.clone(),
            seq: inner.seq,
            server_time: Utc::now(),
            changes,
        };
        let frame = Frame {
            seq: inner.seq,
            wire: self.encode(&msg),
            published: std::time::Instant::now(),
        };
        if inner.replay.len() == self.replay_limit {
            inner.replay.pop_front();
        }
        if self.replay_limit > 0 {
            inner.replay.push_back(frame.clone());
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(frame);
        inner.seq
    }

    /// Starts a session: what to send first, and a receiver for everything after it.
    pub fn subscribe(&self, resume: Option<&ResumeFrom>) -> (Start, broadcast::Receiver<Frame>) {
        let mut inner = self.lock();
        let rx = self.tx.subscribe();
        let start = match resume {
            Some(r) if r.epoch == self.epoch && r.seq <= inner.seq => {
                let oldest = inner.replay.front().map_or(inner.seq + 1, |f| f.seq);
                if r.seq + 1 < oldest {
                    Start::Snapshot(self.snapshot(&mut inner))
                } else {
                    Start::Replay(
                        inner
                            .replay
                            .iter()
                            .filter(|f| f.seq > r.seq)
                            .cloned()
                            .collect(),
                    )
                }
            }
            _ => Start::Snapshot(self.snapshot(&mut inner)),
        };
        (start, rx)
    }

    /// A fresh snapshot, for a session that fell behind; with a receiver positioned after it.
    pub fn resync(&self) -> (Frame, broadcast::Receiver<Frame>) {
        let mut inner = self.lock();
        (self.snapshot(&mut inner), self.tx.subscribe())
    }

    /// A heartbeat saying the session is up to date at `seq` and when to expect the next.
    pub fn heartbeat(&self, seq: u64, interval: std::time::Duration) -> Bytes {
        self.encode(&ServerMsg::Heartbeat {
            epoch: self.epoch.clone(),
            seq,
            server_time: Utc::now(),
            interval_seconds: interval.as_secs().max(1),
        })
    }

    /// The current sequence number, without copying the state.
    pub fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// The current state (for the REST snapshot endpoint).
    pub fn state(&self) -> (String, u64, LiveState) {
        let inner = self.lock();
        (self.epoch.clone(), inner.seq, inner.state.clone())
    }

    /// Tells every session to close, for graceful shutdown.
    pub fn close(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn closed(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

impl Hub {
    fn snapshot(&self, inner: &mut Inner) -> Frame {
        if let Some(frame) = &inner.snapshot {
            if frame.seq == inner.seq && frame.published.elapsed() < SNAPSHOT_REUSE {
                return frame.clone();
            }
        }
        let frame = Frame {
            seq: inner.seq,
            published: std::time::Instant::now(),
            wire: self.encode(&ServerMsg::Snapshot {
                epoch: self.epoch.clone(),
                seq: inner.seq,
                server_time: Utc::now(),
                state: inner.state.clone(),
            }),
        };
        inner.snapshot = Some(frame.clone());
        frame
    }

    fn encode(&self, msg: &ServerMsg) -> Bytes {
        // Serialising plain data with string keys cannot fail.
        let json = serde_json::to_string(msg).unwrap_or_default();
        super::wire::text(&json, self.fragment_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levels_shared::beds::{BedPool, BedsRecord};

    fn change(occupied: u32) -> Change {
        Change::Beds {
            record: BedsRecord::fixture(
                "MPH",
                BedPool::GeneralAcuteAdult,
                500,
                occupied,
                "2026-11-25T08:00:00Z",
            ),
        }
    }

    fn parse(frame: &Frame) -> ServerMsg {
        serde_json::from_str(&crate::live::wire::tests::message(&frame.wire))
            .expect("valid message")
    }

    #[test]
    fn deltas_are_numbered_one_after_another_and_empty_batches_send_nothing() {
        let hub = Hub::new(LiveState::default(), 10, 10, 0);
        let (_, mut rx) = hub.subscribe(None);
        assert_eq!(hub.publish(vec![change(1)]), 1);
        assert_eq!(hub.publish(vec![]), 1);
        assert_eq!(hub.publish(vec![change(2)]), 2);
        assert_eq!(rx.try_recv().expect("first").seq, 1);
        assert_eq!(rx.try_recv().expect("second").seq, 2);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_resuming_client_gets_exactly_the_deltas_it_missed() {
        let hub = Hub::new(LiveState::default(), 10, 10, 0);
        for n in 1..=5 {
            hub.publish(vec![change(n)]);
        }
        let epoch = hub.state().0;
        let (start, _) = hub.subscribe(Some(&ResumeFrom { epoch, seq: 3 }));
        let Start::Replay(frames) = start else {
            panic!("expected a replay")
        };
        assert_eq!(frames.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![4, 5]);
    }

    #[test]
    fn a_client_too_far_behind_or_from_another_epoch_gets_a_snapshot() {
        let hub = Hub::new(LiveState::default(), 2, 10, 0);
        for n in 1..=5 {
            hub.publish(vec![change(n)]);
        }
        let epoch = hub.state().0;
        let (start, _) = hub.subscribe(Some(&ResumeFrom {
            epoch: epoch.clone(),
            seq: 1,
        }));
        assert!(matches!(start, Start::Snapshot(_)));
        let (start, _) = hub.subscribe(Some(&ResumeFrom {
            epoch: "old".into(),
            seq: 5,
        }));
        let Start::Snapshot(frame) = start else {
            panic!("expected a snapshot")
        };
        match parse(&frame) {
            ServerMsg::Snapshot { seq, state, .. } => {
                assert_eq!(seq, 5);
                assert_eq!(
                    state.sites["MPH"].beds[&BedPool::GeneralAcuteAdult].occupied,
                    5
                );
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    #[test]
    fn sessions_starting_together_share_one_encoded_snapshot_until_the_state_moves() {
        let hub = Hub::new(LiveState::default(), 10, 10, 0);
        hub.publish(vec![change(1)]);
        let wire = |start: Start| match start {
            Start::Snapshot(frame) => frame.wire,
            Start::Replay(_) => panic!("expected a snapshot"),
        };
        let first = wire(hub.subscribe(None).0);
        let second = wire(hub.subscribe(None).0);
        assert_eq!(
            first.as_ptr(),
            second.as_ptr(),
            "the same bytes, not a copy"
        );
        hub.publish(vec![change(2)]);
        let third = wire(hub.subscribe(None).0);
        assert_ne!(first.as_ptr(), third.as_ptr());
        match serde_json::from_str(&crate::live::wire::tests::message(&third)) {
            Ok(ServerMsg::Snapshot { seq, .. }) => assert_eq!(seq, 2),
            other => panic!("expected the new snapshot, got {other:?}"),
        }
    }

    #[test]
    fn a_client_that_falls_behind_its_queue_is_told_it_lagged() {
        let hub = Hub::new(LiveState::default(), 10, 2, 0);
        let (_, mut rx) = hub.subscribe(None);
        for n in 1..=5 {
            hub.publish(vec![change(n)]);
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }
}

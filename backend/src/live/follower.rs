//! The outbox follower: the one path from committed writes to the live hub.
//!
//! Every write that changes what screens show (an ingested batch, a declaration, an alert,
//! a marked action) appends an outbox entry in its own transaction. This task reads the
//! entries in order, projects records into the live state, and publishes the deltas. With
//! one process it is woken by the store at once; with several replicas on PostgreSQL,
//! `LISTEN/NOTIFY` wakes every replica, so each fans out every write to its own screens,
//! whichever replica took it. A poll catches anything a lost wake-up would miss.

use super::hub::Hub;
use crate::escalation::alerts;
use crate::escalation::policy::Policy;
use crate::feeds::Record;
use crate::state::Projection;
use crate::store::{Published, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex};

/// The longest a missed wake-up can delay a delta.
const POLL: Duration = Duration::from_secs(1);
/// Entries read at a time.
const PAGE: u32 = 256;
/// Outbox entries are kept this long: enough for any replica to catch up, not a history.
const KEEP: chrono::Duration = chrono::Duration::hours(24);

/// How far the follower has got: the last outbox entry published to this process's hub.
#[derive(Clone)]
pub struct Progress(watch::Receiver<i64>);

impl Progress {
    /// Waits (at most 10 s) until outbox entry `seq` is published here; returns the hub's
    /// `seq` then, which reflects the write. A write is durable before this is called, so
    /// a slow follower delays the answer, never the write.
    pub async fn published(&self, hub: &Hub, seq: Option<i64>) -> u64 {
        if let Some(seq) = seq {
            let mut progress = self.0.clone();
            let reached =
                tokio::time::timeout(Duration::from_secs(10), progress.wait_for(|p| *p >= seq))
                    .await;
            if !matches!(reached, Ok(Ok(_))) {
                tracing::warn!(seq, "outbox entry not yet published after 10 s");
            }
        }
        hub.seq()
    }

    /// The last outbox entry published here.
    pub fn last(&self) -> i64 {
        *self.0.borrow()
    }

    /// Waits until everything this process knows to be committed is published.
    pub async fn caught_up(&self, store: &dyn Store, hub: &Hub) -> u64 {
        let head = *store.outbox_head().borrow();
        self.published(hub, Some(head)).await
    }
}

/// Starts following after entry `from` (everything up to it is already in the live state).
pub fn start(from: i64) -> (watch::Sender<i64>, Progress) {
    let (tx, rx) = watch::channel(from);
    (tx, Progress(rx))
}

/// What turns committed writes into what screens are sent: the projection behind its lock
/// (held from apply to publish, so live `seq` follows commit order), the hub, and the store
/// and policy to record the level changes that result.
#[derive(Clone)]
pub struct Publisher {
    pub store: Arc<dyn Store>,
    pub hub: Arc<Hub>,
    pub projection: Arc<Mutex<Projection>>,
    pub policy: Arc<Policy>,
}

impl Publisher {
    /// Publishes one entry: records through the projection (which derives measures and
    /// levels), changes as they are.
    async fn apply(&self, published: Published) {
        let mut projection = self.projection.lock().await;
        match published {
            Published::Records { feed, records } => {
                let records = records
                    .iter()
                    .filter_map(|raw| match Record::parse(feed, raw.get()) {
                        Ok(record) => Some(record),
                        Err(e) => {
                            tracing::error!(%feed, error = %e, "an outbox record is not valid; skipped");
                            None
                        }
                    })
                    .collect();
                let changes = projection.apply(records, chrono::Utc::now());
                self.hub.publish(changes);
                self.record_levels(projection.take_level_changes()).await;
            }
            Published::Changes { changes } => {
                projection.mirror(&changes);
                self.hub.publish(changes);
            }
        }
    }

    async fn record_levels(&self, changes: Vec<levels_shared::escalation::LevelChange>) {
        alerts::record_levels(self.store.as_ref(), &self.policy, changes).await;
    }

    /// Measures such as the longest wait and hours lost grow with the clock, not only with
    /// data: recomputes and publishes them every `period` until shutdown.
    pub async fn refresh_measures(self, period: Duration) {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let mut closed = self.hub.closed();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = closed.wait_for(|c| *c) => break,
            }
            let mut projection = self.projection.lock().await;
            let now = chrono::Utc::now();
            let changes = projection.refresh(now);
            self.hub.publish(changes);
            self.record_levels(projection.take_level_changes()).await;
            // Levels that moved while no replica led (or before this one did) are recorded
            // now; those already stored are skipped.
            self.record_levels(projection.levels_now(now)).await;
        }
    }
}

/// Publishes outbox entries after `from` as they are committed, until shutdown.
pub async fn run(app: Publisher, progress: watch::Sender<i64>) {
    let mut from = *progress.borrow();
    let mut head = app.store.outbox_head();
    let mut closed = app.hub.closed();
    let mut prune = tokio::time::interval(Duration::from_secs(3600));
    loop {
        match app.store.outbox_after(from, PAGE).await {
            Ok(entries) => {
                let full = entries.len() == PAGE as usize;
                for (seq, published) in entries {
                    if seq != from + 1 {
                        // Only pruning removes entries: this process was away for longer
                        // than they are kept, and what it shows may miss a write.
                        tracing::error!(
                            from,
                            seq,
                            "outbox entries are missing; restart this replica to rebuild its state"
                        );
                    }
                    match published {
                        Ok(published) => app.apply(published).await,
                        // The write itself is stored; only its fan-out is lost. Going on
                        // past it keeps every later write flowing.
                        Err(e) => {
                            tracing::error!(error = %e, "an outbox entry cannot be read; skipped")
                        }
                    }
                    from = seq;
                    progress.send_replace(seq);
                }
                if full {
                    continue;
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the outbox failed; retrying"),
        }
        let prune_now = tokio::select! {
            _ = head.changed() => false,
            _ = tokio::time::sleep(POLL) => false,
            _ = prune.tick() => true,
            _ = closed.wait_for(|c| *c) => break,
        };
        if prune_now {
            match app.store.prune_outbox(chrono::Utc::now() - KEEP).await {
                Ok(n) if n > 0 => tracing::info!(entries = n, "old outbox entries pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning the outbox failed"),
            }
        }
    }
}

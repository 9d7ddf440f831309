//! The outbox follower: the one path from committed writes to the live hub.
//!
//! Every write that changes what screens show (an ingested batch, a declaration, an alert,
//! a marked action) appends an outbox entry in its own transaction. This task reads the
//! entries in order, projects records into the live state, and publishes the deltas. With
//! one process it is woken by the store at once; with several replicas on PostgreSQL,
//! `LISTEN/NOTIFY` wakes every replica, so each fans out every write to its own screens,
//! whichever replica took it. A poll catches anything a lost wake-up would miss.

use crate::app::AppState;
use crate::escalation::alerts;
use crate::state::Record;
use crate::store::Published;
use std::time::Duration;
use tokio::sync::watch;

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
    pub async fn published(&self, app: &AppState, seq: Option<i64>) -> u64 {
        if let Some(seq) = seq {
            let mut progress = self.0.clone();
            let reached =
                tokio::time::timeout(Duration::from_secs(10), progress.wait_for(|p| *p >= seq))
                    .await;
            if !matches!(reached, Ok(Ok(_))) {
                tracing::warn!(seq, "outbox entry not yet published after 10 s");
            }
        }
        app.hub.seq()
    }

    /// The last outbox entry published here.
    pub fn last(&self) -> i64 {
        *self.0.borrow()
    }

    /// Waits until everything this process knows to be committed is published.
    pub async fn caught_up(&self, app: &AppState) -> u64 {
        let head = *app.store.outbox_head().borrow();
        self.published(app, Some(head)).await
    }
}

/// Starts following after entry `from` (everything up to it is already in the live state).
pub fn start(from: i64) -> (watch::Sender<i64>, Progress) {
    let (tx, rx) = watch::channel(from);
    (tx, Progress(rx))
}

/// Publishes outbox entries after `from` as they are committed, until shutdown.
pub async fn run(app: AppState, progress: watch::Sender<i64>) {
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
                        Ok(published) => apply(&app, published).await,
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

/// Publishes one entry: records through the projection (which derives measures and
/// levels), changes as they are.
async fn apply(app: &AppState, published: Published) {
    let mut projection = app.projection.lock().await;
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
            app.hub.publish(changes);
            alerts::record_levels(app, projection.take_level_changes()).await;
        }
        Published::Changes { changes } => {
            projection.mirror(&changes);
            app.hub.publish(changes);
        }
    }
}

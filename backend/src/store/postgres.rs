//! The PostgreSQL store, for several replicas against one database (DESIGN §2). It answers
//! exactly as [`super::sqlite::SqliteStore`] does: the same tables, the same integer
//! milliseconds, the same JSON text. Where PostgreSQL behaves differently, the code
//! says so:
//!
//! - Writers run concurrently (SQLite has one writer at a time), so a commit takes a
//!   transaction-scoped advisory lock on its producer and feed before it looks for
//!   duplicates, and updates current state in one global key order so that two commits
//!   cannot deadlock.
//! - Text cannot hold NUL, so every text parameter goes through [`text`].
//!
//! Commits are durable with PostgreSQL's defaults (`synchronous_commit = on`).
//!
//! Several replicas: every write that screens see appends an outbox entry and a
//! `NOTIFY levels_outbox, 'SEQ'` in its own transaction. PostgreSQL delivers the
//! notification only once the write is committed; each replica's listener turns it into a
//! wake-up of its follower ([`crate::live::follower`]), which reads the entries themselves.
//! One replica at a time leads (holds a session advisory lock) and records calculated
//! level changes; when it dies its connection closes, the lock is freed, and another takes
//! over within [`LEAD_RETRY`].

use super::{
    AccountStore, AuditEntry, Batch, Commit, NewRecord, NewUser, OutboxEntry, ProducerRow,
    Published, Sample, StateRow, Store, StoreError, UserRow,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use levels_shared::escalation::{
    Action, Alert, Declaration, Done, Entity, Explanation, LevelChange, LevelKind,
};
use levels_shared::feed::Feed;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, Row};
use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct PostgresStore {
    pool: PgPool,
    head: Arc<watch::Sender<i64>>,
    leading: Arc<AtomicBool>,
    /// Sent on (or dropped with the store) to end its listener and leadership tasks.
    stop: watch::Sender<()>,
    /// The leadership task, awaited on close so the lock is free when the server has stopped.
    leader: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The notification channel that wakes every replica's follower.
const CHANNEL: &str = "levels_outbox";
/// The session advisory lock the leading replica holds.
const LEAD_LOCK: i64 = 0x6c65_7665_6c73; // "levels"
/// How often a replica that does not lead tries to, and one that does checks it still can.
pub const LEAD_RETRY: Duration = Duration::from_secs(2);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long start-up waits for the server to answer, and a request for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl PostgresStore {
    /// Connects to `postgres://USER:PASSWORD@HOST:PORT/DATABASE` and runs migrations
    /// (concurrent replicas wait for each other on the migrator's advisory lock).
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Connect {
            target: super::redacted(url),
            reason: e.to_string(),
        })?;
        PostgresStore::open_with(options).await
    }

    pub async fn open_with(options: PgConnectOptions) -> Result<PostgresStore, StoreError> {
        // One connection first: the pool would retry a refused connection until its
        // timeout and then report only that it timed out, not why.
        let connect_error = |reason: String| StoreError::Connect {
            target: describe(&options),
            reason,
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
            Ok(Ok(first)) => {
                // Closing is a courtesy to the server; the pool opens its own.
                let _ = first.close().await;
            }
            Ok(Err(e)) => return Err(connect_error(e.to_string())),
            Err(_) => {
                return Err(connect_error(format!(
                    "no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        MIGRATOR.run(&pool).await?;
        let last: i64 = sqlx::query_scalar("SELECT seq FROM outbox_counter")
            .fetch_one(&pool)
            .await?;
        let head = Arc::new(watch::Sender::new(last));
        let mut lead_conn = options.connect().await.ok();
        let leads_now = match lead_conn.as_mut() {
            Some(c) => try_lead(c).await,
            None => false,
        };
        let leading = Arc::new(AtomicBool::new(leads_now));
        let (stop, stopped) = watch::channel(());
        tokio::spawn(listen(pool.clone(), head.clone(), stopped.clone()));
        let leader = tokio::spawn(lead(options, lead_conn, leading.clone(), stopped));
        Ok(PostgresStore {
            pool,
            head,
            leading,
            stop,
            leader: tokio::sync::Mutex::new(Some(leader)),
        })
    }

    /// The connection pool, for what is PostgreSQL-only.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn committed(&self, seq: Option<i64>) {
        if let Some(seq) = seq {
            advance(&self.head, seq);
        }
    }
}

/// Moves the known head forward (never back: notifications may arrive out of order).
fn advance(head: &watch::Sender<i64>, seq: i64) {
    head.send_if_modified(|h| {
        let newer = seq > *h;
        *h = (*h).max(seq);
        newer
    });
}

/// Appends what a write publishes, last in its transaction (the counter's row lock is held
/// until commit, so no other entry can be numbered in between), and notifies every replica.
async fn append_outbox(tx: &mut PgConnection, json: String) -> Result<i64, StoreError> {
    let seq: i64 = sqlx::query_scalar("UPDATE outbox_counter SET seq = seq + 1 RETURNING seq")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO outbox (seq, at_ms, body) VALUES ($1, $2, $3)")
        .bind(seq)
        .bind(Utc::now().timestamp_millis())
        .bind(json)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(seq.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(seq)
}

/// Turns other replicas' notifications into wake-ups, until the store is dropped. A lost
/// connection loses notifications meanwhile; the follower's poll covers the gap.
async fn listen(pool: PgPool, head: Arc<watch::Sender<i64>>, mut stop: watch::Receiver<()>) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for outbox notifications; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(LEAD_RETRY) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for outbox notifications; retrying");
            continue;
        }
        loop {
            tokio::select! {
                got = listener.recv() => match got {
                    Ok(note) => {
                        if let Ok(seq) = note.payload().parse::<i64>() {
                            advance(&head, seq);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox notifications interrupted; reconnecting");
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }
}

/// Tries once to take the leading replica's lock on a connection of its own.
async fn try_lead(conn: &mut PgConnection) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(LEAD_LOCK)
        .fetch_one(conn)
        .await
        .unwrap_or(false)
}

/// Keeps the leading replica's lock on `conn` (taken or not at start-up, so the first
/// replica leads from its first moment), or keeps trying to take it.
async fn lead(
    options: PgConnectOptions,
    mut conn: Option<PgConnection>,
    leading: Arc<AtomicBool>,
    mut stop: watch::Receiver<()>,
) {
    loop {
        if let Some(c) = conn.as_mut() {
            let held = if leading.load(Ordering::Relaxed) {
                // Still connected means still holding it.
                sqlx::query("SELECT 1").execute(&mut *c).await.is_ok()
            } else {
                try_lead(c).await
            };
            if held != leading.swap(held, Ordering::Relaxed) {
                tracing::info!(leading = held, "replica leadership changed");
            }
            if !held && c.ping().await.is_err() {
                conn = None;
            }
        } else if let Ok(c) = options.connect().await {
            conn = Some(c);
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(LEAD_RETRY) => {}
            _ = stop.changed() => {
                leading.store(false, Ordering::Relaxed);
                if let Some(c) = conn {
                    let _ = c.close().await;
                }
                return;
            }
        }
    }
}

/// Where `options` point, for errors: never the password.
fn describe(options: &PgConnectOptions) -> String {
    let place = match options.get_socket() {
        Some(dir) => format!(
            "the socket in {}, port {}",
            dir.display(),
            options.get_port()
        ),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!(
        "{place} (database {}, user {})",
        options.get_database().unwrap_or(options.get_username()),
        options.get_username()
    )
}

/// PostgreSQL text cannot hold NUL (SQLite's can), and a name or reason sent by anyone may
/// contain one: it is kept as U+FFFD, as a lossy decoding would show it, rather than
/// refusing the request with a database error. JSON text never has a raw NUL.
fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn opt_text(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(text)
}

#[async_trait]
impl Store for PostgresStore {
    async fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut commit = commit_in(&mut tx, batch).await?;
        match &mut commit {
            Commit::Committed {
                accepted,
                applied,
                outbox,
                ..
            } if *accepted > 0 => {
                if !applied.is_empty() {
                    let json = Published::records_json(batch, applied);
                    *outbox = Some(append_outbox(&mut tx, json).await?);
                }
                tx.commit().await?;
                self.committed(*outbox);
            }
            _ => tx.rollback().await?,
        }
        Ok(commit)
    }

    fn outbox_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    async fn outbox_last(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT seq FROM outbox_counter")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn outbox_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, body)| super::read_outbox(seq, &body))
            .collect())
    }

    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM outbox WHERE at_ms < $1")
            .bind(before.timestamp_millis())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    fn leads(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }

    async fn close(&self) {
        self.stop.send_replace(());
        if let Some(leader) = self.leader.lock().await.take() {
            let _ = leader.await;
        }
    }

    async fn current_state(&self) -> Result<Vec<StateRow>, StoreError> {
        let rows = sqlx::query("SELECT event_id, feed, body FROM current_state ORDER BY event_id")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let name: String = row.try_get("feed")?;
                let feed = Feed::parse(&name).ok_or_else(|| StoreError::Corrupt {
                    event_id: row.try_get("event_id").unwrap_or_default(),
                    message: format!("unknown feed {name:?}"),
                })?;
                Ok(StateRow {
                    feed,
                    body: row.try_get("body")?,
                })
            })
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn record_history(
        &self,
        bucket: DateTime<Utc>,
        samples: &[Sample],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // One statement per sample, in order: a measure sampled twice keeps the last value.
        for s in samples {
            sqlx::query(
                "INSERT INTO history (entity, measure, bucket_ms, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (entity, measure, bucket_ms) DO UPDATE SET value = EXCLUDED.value",
            )
            .bind(text(&s.entity))
            .bind(text(&s.measure))
            .bind(bucket.timestamp_millis())
            .bind(s.value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_history_batch(
        &self,
        buckets: &[(DateTime<Utc>, Vec<Sample>)],
    ) -> Result<(), StoreError> {
        // One row per key, the last value sampled: an upsert may not touch a row twice.
        let mut rows: HashMap<(Cow<'_, str>, Cow<'_, str>, i64), f64> = HashMap::new();
        for (bucket, samples) in buckets {
            for s in samples {
                let key = (text(&s.entity), text(&s.measure), bucket.timestamp_millis());
                rows.insert(key, s.value);
            }
        }
        let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((entity, measure, bucket_ms), value) in rows {
            columns.0.push(entity.into_owned());
            columns.1.push(measure.into_owned());
            columns.2.push(bucket_ms);
            columns.3.push(value);
        }
        sqlx::query(
            "INSERT INTO history (entity, measure, bucket_ms, value)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[])
             ON CONFLICT (entity, measure, bucket_ms) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(columns.0)
        .bind(columns.1)
        .bind(columns.2)
        .bind(columns.3)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn history(
        &self,
        entity: &str,
        measure: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StoreError> {
        let rows: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT bucket_ms, value FROM history
             WHERE entity = $1 AND measure = $2 AND bucket_ms BETWEEN $3 AND $4 ORDER BY bucket_ms",
        )
        .bind(text(entity))
        .bind(text(measure))
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(ms, v)| DateTime::from_timestamp_millis(ms).map(|t| (t, v)))
            .collect())
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM history WHERE bucket_ms < $1")
            .bind(before.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn record_level(
        &self,
        change: &LevelChange,
        alert: Option<&Alert>,
    ) -> Result<Option<i64>, StoreError> {
        let explanation = change
            .explanation
            .as_ref()
            .map(|e| serde_json::to_string(e).unwrap_or_default());
        let entity = change.entity.to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO level_changes
                 (entity, kind, at_ms, level, policy_version, explanation, actor, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(text(&entity))
        .bind(change.kind.code())
        .bind(change.at.timestamp_millis())
        .bind(change.level.map(i16::from))
        .bind(opt_text(
            change
                .explanation
                .as_ref()
                .map(|e| e.policy_version.as_str()),
        ))
        .bind(explanation)
        .bind(opt_text(change.actor.as_deref()))
        .bind(opt_text(change.reason.as_deref()))
        .execute(&mut *tx)
        .await?;
        let mut id = None;
        if let Some(alert) = alert {
            let body = serde_json::to_string(alert).unwrap_or_default();
            let new: i64 =
                sqlx::query_scalar("INSERT INTO alerts (at_ms, body) VALUES ($1, $2) RETURNING id")
                    .bind(alert.at.timestamp_millis())
                    .bind(body)
                    .fetch_one(&mut *tx)
                    .await?;
            id = Some(new);
        }
        let seq = match Published::level(change, alert.zip(id)) {
            Some(published) => Some(append_outbox(&mut tx, published.to_json()).await?),
            None => None,
        };
        tx.commit().await?;
        self.committed(seq);
        Ok(id)
    }

    async fn last_level(
        &self,
        entity: &Entity,
        kind: LevelKind,
    ) -> Result<Option<Option<u8>>, StoreError> {
        let entity = entity.to_string();
        let row: Option<(Option<i16>,)> = sqlx::query_as(
            "SELECT level FROM level_changes WHERE entity = $1 AND kind = $2
             ORDER BY id DESC LIMIT 1",
        )
        .bind(text(&entity))
        .bind(kind.code())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(level,)| level.and_then(|l| u8::try_from(l).ok())))
    }

    async fn last_known_level(
        &self,
        entity: &Entity,
        kind: LevelKind,
    ) -> Result<Option<u8>, StoreError> {
        let entity = entity.to_string();
        let level: Option<i16> = sqlx::query_scalar(
            "SELECT level FROM level_changes WHERE entity = $1 AND kind = $2 AND level IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .bind(text(&entity))
        .bind(kind.code())
        .fetch_optional(&self.pool)
        .await?;
        Ok(level.and_then(|l| u8::try_from(l).ok()))
    }

    async fn level_at(
        &self,
        entity: &Entity,
        kind: LevelKind,
        at: DateTime<Utc>,
    ) -> Result<Option<Option<u8>>, StoreError> {
        let entity = entity.to_string();
        let row: Option<(Option<i16>,)> = sqlx::query_as(
            "SELECT level FROM level_changes WHERE entity = $1 AND kind = $2 AND at_ms <= $3
             ORDER BY at_ms DESC, id DESC LIMIT 1",
        )
        .bind(text(&entity))
        .bind(kind.code())
        .bind(at.timestamp_millis())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(level,)| level.and_then(|l| u8::try_from(l).ok())))
    }

    async fn levels(
        &self,
        entity: &Entity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LevelChange>, StoreError> {
        type Row = (
            i64,
            String,
            i64,
            Option<i16>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let name = entity.to_string();
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, at_ms, level, explanation, actor, reason FROM level_changes
             WHERE entity = $1 AND at_ms BETWEEN $2 AND $3 ORDER BY at_ms, id",
        )
        .bind(text(&name))
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, kind, at_ms, level, explanation, actor, reason)| {
                let corrupt = |message: String| StoreError::Corrupt {
                    event_id: id,
                    message,
                };
                Ok(LevelChange {
                    entity: entity.clone(),
                    kind: LevelKind::parse(&kind)
                        .ok_or_else(|| corrupt(format!("level change kind {kind:?}")))?,
                    at: millis(at_ms),
                    level: level.and_then(|l| u8::try_from(l).ok()),
                    explanation: explanation
                        .map(|text| serde_json::from_str(&text))
                        .transpose()
                        .map_err(|e| corrupt(format!("level change explanation: {e}")))?,
                    actor,
                    reason,
                })
            })
            .collect()
    }

    async fn latest_calculated(&self) -> Result<Vec<(Entity, Explanation)>, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT c.id, c.entity, c.explanation FROM level_changes c
             WHERE c.kind = 'calculated' AND c.explanation IS NOT NULL
               AND c.id = (SELECT MAX(id) FROM level_changes l
                           WHERE l.entity = c.entity AND l.kind = 'calculated')",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, entity, explanation)| {
                let corrupt = |message: String| StoreError::Corrupt {
                    event_id: id,
                    message,
                };
                let entity = entity.parse().map_err(corrupt)?;
                let explanation = serde_json::from_str(&explanation)
                    .map_err(|e| corrupt(format!("level change explanation: {e}")))?;
                Ok((entity, explanation))
            })
            .collect()
    }

    async fn declarations(&self) -> Result<Vec<(Entity, Declaration)>, StoreError> {
        type Row = (
            i64,
            String,
            i64,
            Option<i16>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.id, c.entity, c.at_ms, c.level, c.actor, c.reason FROM level_changes c
             WHERE c.kind = 'declared'
               AND c.id = (SELECT MAX(id) FROM level_changes l
                           WHERE l.entity = c.entity AND l.kind = 'declared')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for (id, entity, at_ms, level, actor, reason) in rows {
            let Some(level) = level.and_then(|l| u8::try_from(l).ok()) else {
                continue;
            };
            let entity = entity.parse().map_err(|message| StoreError::Corrupt {
                event_id: id,
                message,
            })?;
            out.push((
                entity,
                Declaration {
                    level,
                    reason: reason.unwrap_or_default(),
                    actor: actor.unwrap_or_default(),
                    at: millis(at_ms),
                },
            ));
        }
        Ok(out)
    }

    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT id, body FROM alerts WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(self.with_actions(vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn record_action(
        &self,
        alert: i64,
        index: usize,
        done: bool,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO alert_actions (alert_id, action, done, actor, at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(alert)
        .bind(i64::try_from(index).unwrap_or(i64::MAX))
        .bind(done)
        .bind(text(actor))
        .bind(at.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        let seq = append_outbox(
            &mut tx,
            Published::action(alert, index, done, actor, at).to_json(),
        )
        .await?;
        tx.commit().await?;
        self.committed(Some(seq));
        Ok(())
    }

    async fn alerts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Alert>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, body FROM alerts WHERE at_ms BETWEEN $1 AND $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_actions(rows).await
    }
}

/// A batch's writes inside `tx`: sorts records into new, duplicate and conflicting exactly as
/// the SQLite store does; the caller commits only when something new was written.
async fn commit_in(tx: &mut PgConnection, batch: &Batch) -> Result<Commit, StoreError> {
    let feed = batch.feed.as_str();
    let producer = text(&batch.producer);
    let received_ms = batch.received_at.timestamp_millis();

    // Two concurrent commits of the same producer and feed could both find an id absent and
    // both insert it; this lock, held until the transaction ends, makes the second wait and
    // then see the first's rows, as SQLite's single writer does.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("levels.commit\u{1f}{producer}\u{1f}{feed}"))
        .execute(&mut *tx)
        .await?;

    // Every body already stored under one of the batch's ids, in one round trip.
    let ids: Vec<Cow<'_, str>> = batch.records.iter().map(|r| text(&r.record_id)).collect();
    let stored: HashMap<String, String> = sqlx::query_as(
        "SELECT record_id, body FROM events
         WHERE producer = $1 AND feed = $2 AND record_id = ANY($3)",
    )
    .bind(&producer)
    .bind(feed)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    let super::Sorted {
        new,
        duplicates,
        conflicts,
    } = super::sort_records(&batch.records, |i| ids[i].as_ref(), &stored);
    if !conflicts.is_empty() {
        return Ok(Commit::Conflicts(conflicts));
    }
    if new.is_empty() {
        return Ok(Commit::Committed {
            accepted: 0,
            duplicates,
            applied: Vec::new(),
            outbox: None,
        });
    }

    let batch_id: i64 = sqlx::query_scalar(
        "INSERT INTO batches (producer, feed, received_ms, records) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(&producer)
    .bind(feed)
    .bind(received_ms)
    .bind(i64::try_from(new.len()).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await?;

    // Every new record in one statement, in batch order.
    let column = |field: fn(&NewRecord) -> &str| -> Vec<String> {
        new.iter()
            .map(|&i| text(field(&batch.records[i])).into_owned())
            .collect()
    };
    let record_ids = column(|r| &r.record_id);
    let sites = column(|r| &r.site);
    let entities = column(|r| &r.entity);
    let at_ms: Vec<i64> = new
        .iter()
        .map(|&i| batch.records[i].at.timestamp_millis())
        .collect();
    let bodies: Vec<&str> = new
        .iter()
        .map(|&i| batch.records[i].body.as_str())
        .collect();
    let event_ids: HashMap<String, i64> = sqlx::query_as(
        "INSERT INTO events
             (batch_id, producer, feed, record_id, site, entity, at_ms, received_ms, body)
         SELECT $1, $2, $3, r.record_id, r.site, r.entity, r.at_ms, $4, r.body
         FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
              WITH ORDINALITY AS r(record_id, site, entity, at_ms, body, ord)
         ORDER BY r.ord
         RETURNING record_id, id",
    )
    .bind(batch_id)
    .bind(&producer)
    .bind(feed)
    .bind(received_ms)
    .bind(&record_ids)
    .bind(&sites)
    .bind(&entities)
    .bind(&at_ms)
    .bind(&bodies)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    // Latest by `at`: an older record stays in the log but does not replace newer state.
    // An equal `at` replaces it, so a producer can correct a reading. PostgreSQL updates a
    // row at most once per statement, so records for one entity go in rounds: the first of
    // each entity, then the second, and so on, which weighs them in batch order as if sent
    // one by one. Each round locks its rows by site and entity, the same order in every
    // commit, and later rounds only touch rows the first holds (a conflicting row is locked
    // even when it is not updated), so commits never deadlock.
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<(&String, &String), usize> = HashMap::new();
    for (k, key) in sites.iter().zip(&entities).enumerate() {
        let round = seen.entry((key.0, key.1)).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(k);
        *round += 1;
    }
    let mut applied = Vec::new();
    for round in rounds {
        let pick = |values: &[String]| -> Vec<String> {
            round.iter().map(|&k| values[k].clone()).collect()
        };
        let ids = round
            .iter()
            .map(|&k| {
                event_ids
                    .get(&record_ids[k])
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt {
                        event_id: 0,
                        message: format!("record {:?} was inserted without an id", record_ids[k]),
                    })
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let changed: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO current_state (feed, site, entity, at_ms, event_id, body)
             SELECT $1, r.site, r.entity, r.at_ms, r.event_id, r.body
             FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
                  AS r(site, entity, at_ms, event_id, body)
             ORDER BY r.site, r.entity
             ON CONFLICT (feed, site, entity) DO UPDATE
             SET at_ms = EXCLUDED.at_ms, event_id = EXCLUDED.event_id, body = EXCLUDED.body
             WHERE EXCLUDED.at_ms >= current_state.at_ms
             RETURNING event_id",
        )
        .bind(feed)
        .bind(pick(&sites))
        .bind(pick(&entities))
        .bind(round.iter().map(|&k| at_ms[k]).collect::<Vec<_>>())
        .bind(&ids)
        .bind(round.iter().map(|&k| bodies[k]).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        let changed: std::collections::HashSet<i64> = changed.into_iter().collect();
        for (&k, id) in round.iter().zip(&ids) {
            if changed.contains(id) {
                applied.push(new[k]);
            }
        }
    }
    applied.sort_unstable();
    Ok(Commit::Committed {
        accepted: new.len(),
        duplicates,
        applied,
        outbox: None,
    })
}

type UserColumns = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

const USER_COLUMNS: &str =
    "u.id, u.name, u.display_name, u.role, u.organisation, u.password_hash, u.disabled_at_ms";

fn user_row(
    (id, name, display_name, role, organisation, password_hash, disabled): UserColumns,
) -> Result<UserRow, StoreError> {
    let role = role.parse().map_err(|message| StoreError::Corrupt {
        event_id: id,
        message,
    })?;
    Ok(UserRow {
        id,
        name,
        display_name,
        role,
        organisation,
        password_hash,
        disabled: disabled.is_some(),
    })
}

type ProducerColumns = (String, String, String, i64, Option<i64>);

fn producer_row(
    (name, feeds, sites, created, revoked): ProducerColumns,
) -> Result<ProducerRow, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        event_id: 0,
        message: format!("producer token {name}: {e}"),
    };
    Ok(ProducerRow {
        feeds: serde_json::from_str(&feeds).map_err(corrupt)?,
        sites: serde_json::from_str(&sites).map_err(corrupt)?,
        name,
        created_at: millis(created),
        revoked_at: revoked.map(millis),
    })
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_enrolment(
        &self,
        token_hash: &str,
        user: i64,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO enrolments (token_hash, user_id, created_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(text(token_hash))
        .bind(user)
        .bind(at.timestamp_millis())
        .bind(expires.timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn use_enrolment(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The row lock the UPDATE takes makes a second use of the same link wait, then
        // find it used.
        let used = sqlx::query(
            "UPDATE enrolments SET used_at_ms = $1
             WHERE token_hash = $2 AND used_at_ms IS NULL AND expires_at_ms > $1",
        )
        .bind(now.timestamp_millis())
        .bind(text(token_hash))
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            return Ok(None);
        }
        let row: Option<UserColumns> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM enrolments e JOIN users u ON u.id = e.user_id
             WHERE e.token_hash = $1 AND u.disabled_at_ms IS NULL"
        ))
        .bind(text(token_hash))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(user_row).transpose()
    }

    async fn disable_user(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET disabled_at_ms = $1 WHERE name = $2 AND disabled_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(text(name))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_producer_token(
        &self,
        token_hash: &str,
        p: &ProducerRow,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO producer_tokens (name, token_hash, feeds, sites, created_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(text(&p.name))
        .bind(text(token_hash))
        .bind(serde_json::to_string(&p.feeds).unwrap_or_default())
        .bind(serde_json::to_string(&p.sites).unwrap_or_default())
        .bind(p.created_at.timestamp_millis())
        .execute(&self.pool)
        .await;
        done.map_err(|e| unique(e, || format!("the producer {}", p.name)))?;
        Ok(())
    }

    async fn producer_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ProducerRow>, StoreError> {
        let row: Option<ProducerColumns> = sqlx::query_as(
            "SELECT name, feeds, sites, created_at_ms, revoked_at_ms FROM producer_tokens
             WHERE token_hash = $1 AND revoked_at_ms IS NULL",
        )
        .bind(text(token_hash))
        .fetch_optional(&self.pool)
        .await?;
        row.map(producer_row).transpose()
    }

    async fn producer_tokens(&self) -> Result<Vec<ProducerRow>, StoreError> {
        let rows: Vec<ProducerColumns> = sqlx::query_as(
            "SELECT name, feeds, sites, created_at_ms, revoked_at_ms FROM producer_tokens
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(producer_row).collect()
    }

    async fn revoke_producer_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE producer_tokens SET revoked_at_ms = $1 WHERE name = $2 AND revoked_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(text(name))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, actor, action, subject, detail, address)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.at.timestamp_millis())
        .bind(text(&entry.actor))
        .bind(text(&entry.action))
        .bind(text(&entry.subject))
        .bind(entry.detail.to_string())
        .bind(opt_text(entry.address.as_deref()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        type Row = (i64, i64, String, String, String, String, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at_ms, actor, action, subject, detail, address FROM audit
             WHERE at_ms BETWEEN $1 AND $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at_ms, actor, action, subject, detail, address)| AuditEntry {
                    id,
                    at: millis(at_ms),
                    actor,
                    action,
                    subject,
                    detail: serde_json::from_str(&detail)
                        .unwrap_or(serde_json::Value::String(detail)),
                    address,
                },
            )
            .collect())
    }

    async fn create_user(&self, user: &NewUser, at: DateTime<Utc>) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO users (name, display_name, role, organisation, password_hash, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(text(&user.name))
        .bind(text(&user.display_name))
        .bind(user.role.code())
        .bind(opt_text(user.organisation.as_deref()))
        .bind(opt_text(user.password_hash.as_deref()))
        .bind(at.timestamp_millis())
        .fetch_one(&self.pool)
        .await;
        id.map_err(|e| unique(e, || format!("the account {}", user.name)))
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserColumns> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1"
        ))
        .bind(text(name))
        .fetch_optional(&self.pool)
        .await?;
        row.map(user_row).transpose()
    }

    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<UserColumns> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(user_row).collect()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: i64,
        csrf: &str,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(text(token_hash))
        .bind(user)
        .bind(text(csrf))
        .bind(at.timestamp_millis())
        .bind(expires.timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserRow, String)>, StoreError> {
        let row: Option<(
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            String,
        )> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.revoked_at_ms IS NULL AND s.expires_at_ms > $2
                   AND u.disabled_at_ms IS NULL"
        ))
        .bind(text(token_hash))
        .bind(now.timestamp_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(a, b, c, d, e, f, g, csrf)| Ok((user_row((a, b, c, d, e, f, g))?, csrf)))
            .transpose()
    }

    async fn revoke_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $1 WHERE token_hash = $2 AND revoked_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(text(token_hash))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl PostgresStore {
    /// Parses stored alerts (id, body) and applies each action's latest marking.
    async fn with_actions(&self, rows: Vec<(i64, String)>) -> Result<Vec<Alert>, StoreError> {
        let mut alerts = Vec::with_capacity(rows.len());
        for (id, body) in rows {
            let mut alert: Alert =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    event_id: id,
                    message: format!("alert: {e}"),
                })?;
            alert.id = id;
            let marks: Vec<(i64, bool, String, i64)> = sqlx::query_as(
                "SELECT action, done, actor, at_ms FROM alert_actions WHERE alert_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            for (index, done, actor, at_ms) in marks {
                let action: Option<&mut Action> = usize::try_from(index)
                    .ok()
                    .and_then(|i| alert.actions.get_mut(i));
                if let Some(action) = action {
                    action.done = done.then(|| Done {
                        actor,
                        at: millis(at_ms),
                    });
                }
            }
            alerts.push(alert);
        }
        Ok(alerts)
    }
}

/// A unique-key violation as `Duplicate(what)`; any other error as it is.
fn unique(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what()),
        e => e.into(),
    }
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_nul_as_the_replacement_character() {
        assert_eq!(text("MPH"), "MPH");
        assert!(matches!(text("MPH"), Cow::Borrowed(_)));
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn a_target_never_names_the_password() {
        let options =
            PgConnectOptions::from_str("postgres://levels:secret@db.example:6543/levels_prod")
                .expect("a valid URL");
        let target = describe(&options);
        assert_eq!(
            target,
            "db.example:6543 (database levels_prod, user levels)"
        );
        let local = PgConnectOptions::from_str("postgres:///levels?host=/run/pg&port=5433&user=x")
            .expect("a valid URL");
        assert_eq!(
            describe(&local),
            "the socket in /run/pg, port 5433 (database levels, user x)"
        );
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_is_named_without_the_password() {
        // Port 1 on the loopback address: refused at once.
        for url in [
            "postgres://levels:hunter2@127.0.0.1:1/levels",
            "postgresql://levels:hunter2@127.0.0.1:1/levels",
        ] {
            let refused = super::super::connect(url).await.err().expect("refused");
            let message = refused.to_string();
            assert!(matches!(refused, StoreError::Connect { .. }), "{message}");
            assert!(
                message.starts_with(
                    "cannot connect to PostgreSQL at 127.0.0.1:1 (database levels, user levels): "
                ),
                "{message}"
            );
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[tokio::test]
    async fn an_unsupported_url_is_named_without_the_password() {
        let refused = super::super::connect("mysql://root:hunter2@db/levels")
            .await
            .err()
            .expect("refused");
        assert_eq!(
            refused.to_string(),
            "unsupported database URL \"mysql://root:***@db/levels\": expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        );
    }
}

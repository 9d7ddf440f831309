//! The PostgreSQL store, for several replicas against one database (DESIGN §2). It answers
//! exactly as [`super::sqlite::SqliteStore`] does: the same tables, the same integer
//! milliseconds, the same JSON text, and every query that reads the same on both is in
//! [`super::sql`]. Here is what PostgreSQL does its own way:
//!
//! - Writers run concurrently (SQLite has one writer at a time), so a commit takes a
//!   transaction-scoped advisory lock on its producer and feed before it looks for
//!   duplicates, and updates current state in one global key order so that two commits
//!   cannot deadlock.
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

use super::sql::{self, advance, text, Backend, Link, SqlStore};
use super::{Batch, Commit, NewRecord, Published, StoreError};
use async_trait::async_trait;
use chrono::Utc;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<Postgres>;

/// What the PostgreSQL store keeps of its own: its replica's leadership and listener.
pub struct Postgres {
    pool: PgPool,
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

impl SqlStore<Postgres> {
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
        let last = outbox_last(&pool).await?;
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
        Ok(SqlStore {
            pool: sql::Pool::Postgres(pool.clone()),
            head,
            // Concurrent writers: a commit locks what it must itself (see `commit_in`).
            writer: None,
            backend: Postgres {
                pool,
                leading,
                stop,
                leader: tokio::sync::Mutex::new(Some(leader)),
            },
        })
    }

    /// The connection pool, for what is PostgreSQL-only.
    pub fn pool(&self) -> &PgPool {
        &self.backend.pool
    }
}

/// The outbox's last number: its counter, never lowered by pruning.
async fn outbox_last(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT seq FROM outbox_counter")
        .fetch_one(pool)
        .await?)
}

#[async_trait]
impl Backend for Postgres {
    async fn commit(&self, store: &PostgresStore, batch: &Batch) -> Result<Commit, StoreError> {
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
                    *outbox = Some(Self::append_outbox(&mut Link::Postgres(&mut tx), json).await?);
                }
                tx.commit().await?;
                store.committed(*outbox);
            }
            _ => tx.rollback().await?,
        }
        Ok(commit)
    }

    /// Last in its transaction (the counter's row lock is held until commit, so no other
    /// entry can be numbered in between), and notifies every replica.
    async fn append_outbox(tx: &mut Link<'_>, json: String) -> Result<i64, StoreError> {
        let (seq,): (i64,) = tx
            .fetch_one("UPDATE outbox_counter SET seq = seq + 1 RETURNING seq", &[])
            .await?;
        tx.execute(
            "INSERT INTO outbox (seq, at_ms, body) VALUES ($1, $2, $3)",
            sql::args![seq, Utc::now(), json],
        )
        .await?;
        tx.execute(
            "SELECT pg_notify($1, $2)",
            sql::args![CHANNEL, seq.to_string()],
        )
        .await?;
        Ok(seq)
    }

    async fn outbox_last(&self) -> Result<i64, StoreError> {
        outbox_last(&self.pool).await
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

#[cfg(test)]
mod tests {
    use super::*;

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

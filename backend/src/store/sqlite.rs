//! The embedded SQLite store: one file, WAL mode, `synchronous = FULL` so that a
//! committed batch survives a crash or power loss before its 200 goes out. What it does as
//! PostgreSQL does is in [`super::sql`]; here are opening, the commit path and the outbox
//! numbering.

use super::sql::{self, Backend, Link, SqlStore};
use super::{Batch, Commit, Published, StoreError};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

/// What the SQLite store keeps of its own.
pub struct Sqlite {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database at `sqlite://PATH` and runs migrations.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(e.into()))?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let backend = Sqlite { pool };
        let last = backend.outbox_last().await?;
        Ok(SqlStore {
            pool: sql::Pool::Sqlite(backend.pool.clone()),
            head: Arc::new(watch::Sender::new(last)),
            writer: Some(tokio::sync::Mutex::new(())),
            backend,
        })
    }

    /// The connection pool, for what is SQLite-only.
    pub fn pool(&self) -> &SqlitePool {
        &self.backend.pool
    }
}

/// `values` as one JSON array, for SQLite's `json_each` to read.
fn json_array<T: serde::Serialize>(values: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::Corrupt {
        event_id: 0,
        message: format!("a batch could not be written as JSON: {e}"),
    })
}

#[async_trait]
impl Backend for Sqlite {
    /// A batch takes five statements whatever its size: sqlx hands every statement to its
    /// SQLite worker thread and back, and at one statement per record that handover, not
    /// SQLite, was where the time went (see docs/performance.md). The records travel as one
    /// JSON array that SQLite's `json_each` reads row by row.
    async fn commit(&self, store: &SqliteStore, batch: &Batch) -> Result<Commit, StoreError> {
        let feed = batch.feed.as_str();
        let producer = sql::text(&batch.producer);
        let received_ms = batch.received_at.timestamp_millis();
        let _writing = store.writing().await;
        let mut tx = self.pool.begin().await?;

        // What is stored already under this batch's record ids.
        let ids: Vec<Cow<'_, str>> = batch
            .records
            .iter()
            .map(|r| sql::text(&r.record_id))
            .collect();
        let stored: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
            // CROSS JOIN keeps the batch's ids as the outer loop, each a lookup in the
            // idempotency index, whatever the planner thinks of the size of `events`.
            "SELECT e.record_id, e.body FROM json_each(?) AS j
             CROSS JOIN events AS e ON e.producer = ? AND e.feed = ? AND e.record_id = j.value",
        )
        .bind(json_array(&ids)?)
        .bind(&producer)
        .bind(feed)
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
            tx.rollback().await?;
            return Ok(Commit::Conflicts(conflicts));
        }
        if new.is_empty() {
            tx.rollback().await?;
            return Ok(Commit::Committed {
                accepted: 0,
                duplicates,
                applied: Vec::new(),
                outbox: None,
            });
        }

        // With the last event id before this batch's: its events are the ones after it.
        let (batch_id, events_before): (i64, i64) = sqlx::query_as(
            "INSERT INTO batches (producer, feed, received_ms, records) VALUES (?, ?, ?, ?)
             RETURNING id, (SELECT coalesce(max(id), 0) FROM events)",
        )
        .bind(&producer)
        .bind(feed)
        .bind(received_ms)
        .bind(i64::try_from(new.len()).unwrap_or(i64::MAX))
        .fetch_one(&mut *tx)
        .await?;

        // In batch order, so event ids follow it.
        let rows: Vec<(&str, Cow<'_, str>, Cow<'_, str>, i64, &str)> = new
            .iter()
            .map(|&i| {
                let r = &batch.records[i];
                let at_ms = r.at.timestamp_millis();
                (
                    ids[i].as_ref(),
                    sql::text(&r.site),
                    sql::text(&r.entity),
                    at_ms,
                    r.body.as_str(),
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO events (batch_id, producer, feed, record_id, site, entity, at_ms, received_ms, body)
             SELECT ?, ?, ?, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, j.value ->> 4
             FROM json_each(?) AS j ORDER BY j.key",
        )
        .bind(batch_id)
        .bind(&producer)
        .bind(feed)
        .bind(received_ms)
        .bind(json_array(&rows)?)
        .execute(&mut *tx)
        .await?;

        // Latest by `at`: an older record stays in the log but does not replace newer
        // state. An equal `at` replaces it, so a producer can correct a reading. Rows go
        // in event order, so of two records for one entity in a batch the later one is
        // weighed against the earlier, as if sent one after the other.
        let changed: Vec<String> = sqlx::query_scalar(
            "INSERT INTO current_state (feed, site, entity, at_ms, event_id, body)
             SELECT feed, site, entity, at_ms, id, body FROM events
             WHERE id > ? AND batch_id = ? ORDER BY id
             ON CONFLICT (feed, site, entity) DO UPDATE
             SET at_ms = excluded.at_ms, event_id = excluded.event_id, body = excluded.body
             WHERE excluded.at_ms >= current_state.at_ms
             RETURNING (SELECT record_id FROM events WHERE id = current_state.event_id)",
        )
        .bind(events_before)
        .bind(batch_id)
        .fetch_all(&mut *tx)
        .await?;
        let position: HashMap<&str, usize> = new.iter().map(|&i| (ids[i].as_ref(), i)).collect();
        let mut applied: Vec<usize> = changed
            .iter()
            .filter_map(|id| position.get(id.as_str()).copied())
            .collect();
        applied.sort_unstable();

        let outbox = if applied.is_empty() {
            None
        } else {
            let json = Published::records_json(batch, &applied);
            Some(Self::append_outbox(&mut Link::Sqlite(&mut tx), json).await?)
        };
        tx.commit().await?;
        store.committed(outbox);
        Ok(Commit::Committed {
            accepted: new.len(),
            duplicates,
            applied,
            outbox,
        })
    }

    async fn append_outbox(tx: &mut Link<'_>, json: String) -> Result<i64, StoreError> {
        let (seq,): (i64,) = tx
            .fetch_one(
                "INSERT INTO outbox (at_ms, body) VALUES ($1, $2) RETURNING seq",
                sql::args![chrono::Utc::now(), json],
            )
            .await?;
        Ok(seq)
    }

    /// The last number the outbox gave, even if pruning has removed its entry since.
    async fn outbox_last(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

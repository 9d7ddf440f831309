//! The embedded SQLite store: one file, WAL mode, `synchronous = FULL` so that a
//! committed batch survives a crash or power loss before its 200 goes out.

use super::{Batch, Commit, StateRow, Store, StoreError};
use async_trait::async_trait;
use levels_shared::feed::Feed;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
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
        Ok(SqliteStore { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let feed = batch.feed.as_str();
        let received_ms = batch.received_at.timestamp_millis();
        let mut tx = self.pool.begin().await?;

        // Sort every record into new, duplicate (identical re-send) or conflict.
        let mut first_in_batch: HashMap<&str, usize> = HashMap::new();
        let mut new = Vec::new();
        let mut duplicates = 0;
        let mut conflicts = Vec::new();
        for (i, r) in batch.records.iter().enumerate() {
            let earlier_body =
                match first_in_batch.get(r.record_id.as_str()) {
                    Some(&j) => Some(batch.records[j].body.clone()),
                    None => sqlx::query_scalar::<_, String>(
                        "SELECT body FROM events WHERE producer = ? AND feed = ? AND record_id = ?",
                    )
                    .bind(&batch.producer)
                    .bind(feed)
                    .bind(&r.record_id)
                    .fetch_optional(&mut *tx)
                    .await?,
                };
            match earlier_body {
                Some(body) if body == r.body => duplicates += 1,
                Some(_) => conflicts.push(i),
                None => {
                    first_in_batch.insert(&r.record_id, i);
                    new.push(i);
                }
            }
        }
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
            });
        }

        let batch_id: i64 = sqlx::query_scalar(
            "INSERT INTO batches (producer, feed, received_ms, records) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(&batch.producer)
        .bind(feed)
        .bind(received_ms)
        .bind(new.len() as i64)
        .fetch_one(&mut *tx)
        .await?;

        let mut applied = Vec::new();
        for &i in &new {
            let r = &batch.records[i];
            let at_ms = r.at.timestamp_millis();
            let event_id: i64 = sqlx::query_scalar(
                "INSERT INTO events (batch_id, producer, feed, record_id, site, entity, at_ms, received_ms, body)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(batch_id)
            .bind(&batch.producer)
            .bind(feed)
            .bind(&r.record_id)
            .bind(&r.site)
            .bind(&r.entity)
            .bind(at_ms)
            .bind(received_ms)
            .bind(&r.body)
            .fetch_one(&mut *tx)
            .await?;
            // Latest by `at`: an older record stays in the log but does not replace newer
            // state. An equal `at` replaces it, so a producer can correct a reading.
            let changed = sqlx::query(
                "INSERT INTO current_state (feed, site, entity, at_ms, event_id, body)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (feed, site, entity) DO UPDATE
                 SET at_ms = excluded.at_ms, event_id = excluded.event_id, body = excluded.body
                 WHERE excluded.at_ms >= current_state.at_ms",
            )
            .bind(feed)
            .bind(&r.site)
            .bind(&r.entity)
            .bind(at_ms)
            .bind(event_id)
            .bind(&r.body)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                applied.push(i);
            }
        }
        tx.commit().await?;
        Ok(Commit::Committed {
            accepted: new.len(),
            duplicates,
            applied,
        })
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
}

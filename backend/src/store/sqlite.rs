//! The embedded SQLite store: one file, WAL mode, `synchronous = FULL` so that a
//! committed batch survives a crash or power loss before its 200 goes out.

use super::{
    AccountStore, AuditEntry, Batch, Commit, NewUser, OutboxEntry, ProducerRow, Published, Sample,
    StateRow, Store, StoreError, UserRow,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use levels_shared::escalation::{
    Action, Alert, Declaration, Done, Entity, Explanation, LevelChange, LevelKind,
};
use levels_shared::feed::Feed;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::watch;

pub struct SqliteStore {
    pool: SqlitePool,
    /// One write transaction at a time: SQLite has one writer anyway, and a deferred
    /// transaction that reads before it writes would otherwise fail on a busy snapshot.
    writer: tokio::sync::Mutex<()>,
    head: watch::Sender<i64>,
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
        let last = outbox_last(&pool).await?;
        Ok(SqliteStore {
            pool,
            writer: tokio::sync::Mutex::new(()),
            head: watch::Sender::new(last),
        })
    }

    /// Appends what a write publishes, inside its transaction; returns the entry's number.
    async fn append_outbox(
        tx: &mut sqlx::SqliteConnection,
        json: String,
    ) -> Result<i64, StoreError> {
        let seq =
            sqlx::query_scalar("INSERT INTO outbox (at_ms, body) VALUES (?, ?) RETURNING seq")
                .bind(Utc::now().timestamp_millis())
                .bind(json)
                .fetch_one(tx)
                .await?;
        Ok(seq)
    }

    /// Tells followers in this process that entry `seq` is committed.
    fn committed(&self, seq: Option<i64>) {
        if let Some(seq) = seq {
            self.head.send_if_modified(|head| {
                let newer = seq > *head;
                *head = (*head).max(seq);
                newer
            });
        }
    }

    /// The connection pool, for what is SQLite-only.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// `values` as one JSON array, for SQLite's `json_each` to read.
fn json_array<T: serde::Serialize>(values: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::Corrupt {
        event_id: 0,
        message: format!("a batch could not be written as JSON: {e}"),
    })
}

/// The last number the outbox gave, even if pruning has removed its entry since.
async fn outbox_last(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)",
    )
    .fetch_one(pool)
    .await?)
}

#[async_trait]
impl Store for SqliteStore {
    /// A batch takes five statements whatever its size: sqlx hands every statement to its
    /// SQLite worker thread and back, and at one statement per record that handover, not
    /// SQLite, was where the time went (see docs/performance.md). The records travel as one
    /// JSON array that SQLite's `json_each` reads row by row.
    async fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        let feed = batch.feed.as_str();
        let received_ms = batch.received_at.timestamp_millis();
        let _writing = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;

        // What is stored already under this batch's record ids.
        let ids: Vec<&str> = batch.records.iter().map(|r| r.record_id.as_str()).collect();
        let stored: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
            // CROSS JOIN keeps the batch's ids as the outer loop, each a lookup in the
            // idempotency index, whatever the planner thinks of the size of `events`.
            "SELECT e.record_id, e.body FROM json_each(?) AS j
             CROSS JOIN events AS e ON e.producer = ? AND e.feed = ? AND e.record_id = j.value",
        )
        .bind(json_array(&ids)?)
        .bind(&batch.producer)
        .bind(feed)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();

        let super::Sorted {
            new,
            duplicates,
            conflicts,
        } = super::sort_records(&batch.records, |i| &batch.records[i].record_id, &stored);
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
        .bind(&batch.producer)
        .bind(feed)
        .bind(received_ms)
        .bind(new.len() as i64)
        .fetch_one(&mut *tx)
        .await?;

        // In batch order, so event ids follow it.
        let rows: Vec<(&str, &str, &str, i64, &str)> = new
            .iter()
            .map(|&i| {
                let r = &batch.records[i];
                let at_ms = r.at.timestamp_millis();
                (&*r.record_id, &*r.site, &*r.entity, at_ms, &*r.body)
            })
            .collect();
        sqlx::query(
            "INSERT INTO events (batch_id, producer, feed, record_id, site, entity, at_ms, received_ms, body)
             SELECT ?, ?, ?, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, j.value ->> 4
             FROM json_each(?) AS j ORDER BY j.key",
        )
        .bind(batch_id)
        .bind(&batch.producer)
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
        let position: HashMap<&str, usize> = new
            .iter()
            .map(|&i| (batch.records[i].record_id.as_str(), i))
            .collect();
        let mut applied: Vec<usize> = changed
            .iter()
            .filter_map(|id| position.get(id.as_str()).copied())
            .collect();
        applied.sort_unstable();

        let outbox = if applied.is_empty() {
            None
        } else {
            let json = Published::records_json(batch, &applied);
            Some(Self::append_outbox(&mut tx, json).await?)
        };
        tx.commit().await?;
        self.committed(outbox);
        Ok(Commit::Committed {
            accepted: new.len(),
            duplicates,
            applied,
            outbox,
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

    fn outbox_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    async fn outbox_last(&self) -> Result<i64, StoreError> {
        outbox_last(&self.pool).await
    }

    async fn outbox_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?")
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
        let _writing = self.writer.lock().await;
        Ok(sqlx::query("DELETE FROM outbox WHERE at_ms < ?")
            .bind(before.timestamp_millis())
            .execute(&self.pool)
            .await?
            .rows_affected())
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
        for s in samples {
            sqlx::query(
                "INSERT INTO history (entity, measure, bucket_ms, value) VALUES (?, ?, ?, ?)
                 ON CONFLICT (entity, measure, bucket_ms) DO UPDATE SET value = excluded.value",
            )
            .bind(&s.entity)
            .bind(&s.measure)
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
        let rows: Vec<(i64, &Sample)> = buckets
            .iter()
            .flat_map(|(b, samples)| samples.iter().map(|s| (b.timestamp_millis(), s)))
            .collect();
        let _writing = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        // 4 variables a row, well under SQLite's 32766 a statement.
        for chunk in rows.chunks(1000) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO history (entity, measure, bucket_ms, value) ",
            );
            insert.push_values(chunk, |mut row, (bucket_ms, s)| {
                row.push_bind(&s.entity)
                    .push_bind(&s.measure)
                    .push_bind(*bucket_ms)
                    .push_bind(s.value);
            });
            insert.push(
                " ON CONFLICT (entity, measure, bucket_ms) DO UPDATE SET value = excluded.value",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
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
             WHERE entity = ? AND measure = ? AND bucket_ms BETWEEN ? AND ? ORDER BY bucket_ms",
        )
        .bind(entity)
        .bind(measure)
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(ms, v)| DateTime::from_timestamp_millis(ms).map(|t| (t, v)))
            .collect())
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
        let _writing = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO level_changes
                 (entity, kind, at_ms, level, policy_version, explanation, actor, reason)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(change.entity.to_string())
        .bind(change.kind.code())
        .bind(change.at.timestamp_millis())
        .bind(change.level.map(i64::from))
        .bind(
            change
                .explanation
                .as_ref()
                .map(|e| e.policy_version.clone()),
        )
        .bind(explanation)
        .bind(&change.actor)
        .bind(&change.reason)
        .execute(&mut *tx)
        .await?;
        let mut id = None;
        if let Some(alert) = alert {
            let body = serde_json::to_string(alert).unwrap_or_default();
            let done = sqlx::query("INSERT INTO alerts (at_ms, body) VALUES (?, ?)")
                .bind(alert.at.timestamp_millis())
                .bind(body)
                .execute(&mut *tx)
                .await?;
            id = Some(done.last_insert_rowid());
        }
        let published = Published::level(change, alert.zip(id));
        let seq = match &published {
            Some(published) => Some(Self::append_outbox(&mut tx, published.to_json()).await?),
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
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT level FROM level_changes WHERE entity = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(entity.to_string())
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
        let level: Option<i64> = sqlx::query_scalar(
            "SELECT level FROM level_changes WHERE entity = ? AND kind = ? AND level IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .bind(entity.to_string())
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
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT level FROM level_changes WHERE entity = ? AND kind = ? AND at_ms <= ?
             ORDER BY at_ms DESC, id DESC LIMIT 1",
        )
        .bind(entity.to_string())
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
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, at_ms, level, explanation, actor, reason FROM level_changes
             WHERE entity = ? AND at_ms BETWEEN ? AND ? ORDER BY at_ms, id",
        )
        .bind(entity.to_string())
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
            Option<i64>,
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
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, body FROM alerts WHERE id = ?")
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
        let _writing = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO alert_actions (alert_id, action, done, actor, at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(alert)
        .bind(index as i64)
        .bind(done)
        .bind(actor)
        .bind(at.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        let published = Published::action(alert, index, done, actor, at);
        let seq = Self::append_outbox(&mut tx, published.to_json()).await?;
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
            "SELECT id, body FROM alerts WHERE at_ms BETWEEN ? AND ? ORDER BY id DESC LIMIT ?",
        )
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.with_actions(rows).await
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM history WHERE bucket_ms < ?")
            .bind(before.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
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
impl AccountStore for SqliteStore {
    async fn create_enrolment(
        &self,
        token_hash: &str,
        user: i64,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO enrolments (token_hash, user_id, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(token_hash)
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
        let used = sqlx::query(
            "UPDATE enrolments SET used_at_ms = ? WHERE token_hash = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
        )
        .bind(now.timestamp_millis())
        .bind(token_hash)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 0 {
            return Ok(None);
        }
        let row: Option<UserColumns> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM enrolments e JOIN users u ON u.id = e.user_id
             WHERE e.token_hash = ? AND u.disabled_at_ms IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(user_row).transpose()
    }

    async fn disable_user(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET disabled_at_ms = ? WHERE name = ? AND disabled_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(name)
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
            "INSERT INTO producer_tokens (name, token_hash, feeds, sites, created_at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&p.name)
        .bind(token_hash)
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
             WHERE token_hash = ? AND revoked_at_ms IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(producer_row).transpose()
    }

    async fn producer_tokens(&self) -> Result<Vec<ProducerRow>, StoreError> {
        let rows: Vec<ProducerColumns> = sqlx::query_as(
            "SELECT name, feeds, sites, created_at_ms, revoked_at_ms FROM producer_tokens ORDER BY name",
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
            "UPDATE producer_tokens SET revoked_at_ms = ? WHERE name = ? AND revoked_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (at_ms, actor, action, subject, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(entry.at.timestamp_millis())
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.subject)
        .bind(entry.detail.to_string())
        .bind(&entry.address)
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
             WHERE at_ms BETWEEN ? AND ? ORDER BY id DESC LIMIT ?",
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
        let done = sqlx::query(
            "INSERT INTO users (name, display_name, role, organisation, password_hash, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.name)
        .bind(&user.display_name)
        .bind(user.role.code())
        .bind(&user.organisation)
        .bind(&user.password_hash)
        .bind(at.timestamp_millis())
        .execute(&self.pool)
        .await;
        Ok(done
            .map_err(|e| unique(e, || format!("the account {}", user.name)))?
            .last_insert_rowid())
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserColumns> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.name = ?"
        ))
        .bind(name)
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
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(csrf)
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
                 WHERE s.token_hash = ? AND s.revoked_at_ms IS NULL AND s.expires_at_ms > ?
                   AND u.disabled_at_ms IS NULL"
        ))
        .bind(token_hash)
        .bind(now.timestamp_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(a, b, c, d, e, f, g, csrf)| Ok((user_row((a, b, c, d, e, f, g))?, csrf)))
            .transpose()
    }

    async fn revoke_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at_ms = ? WHERE token_hash = ? AND revoked_at_ms IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl SqliteStore {
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
                "SELECT action, done, actor, at_ms FROM alert_actions WHERE alert_id = ? ORDER BY id",
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

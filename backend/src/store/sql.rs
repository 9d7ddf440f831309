//! What the two stores do alike, written once: every query that reads the same on SQLite
//! and PostgreSQL, the row decoders, and the one rule for NUL in text ([`text`]).
//! [`super::sqlite`] and [`super::postgres`] keep only what differs: opening, the commit
//! path, numbering the outbox, and (PostgreSQL) LISTEN/NOTIFY and leadership, behind
//! [`Backend`].
//!
//! Queries use `$N` parameters, which both databases read (SQLite takes `$N` as the
//! parameter numbered N, so one may be used twice). They run on a [`Link`], a connection
//! to either database, with their parameters as [`Arg`]s and their rows decoded into
//! tuples both drivers decode. sqlx's generic executors would need the `Encode`, `Decode`
//! and `Executor` bounds of every parameter and row type repeated on each function, and
//! `sqlx::Any` cannot carry the arrays PostgreSQL's commit path binds; a two-way `match`
//! in [`Link`] needs neither.

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
use sqlx::encode::Encode;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::types::Type;
use sqlx::{
    Arguments, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};
use std::borrow::Cow;
use std::sync::Arc;
use tokio::sync::watch;

/// Text as both stores keep it. PostgreSQL text cannot hold NUL (SQLite's can), and a name
/// or reason sent by anyone may contain one: both keep U+FFFD in its place, as a lossy
/// decoding would show it, rather than refuse the request with a database error. Every
/// text parameter goes through here ([`Arg`]'s conversions from text, and the commit
/// paths). JSON text never has a raw NUL.
pub fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One parameter of a query, as both databases take it.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Int(i64),
    /// A level (PostgreSQL keeps it in a SMALLINT).
    Small(Option<i16>),
    Float(f64),
    Bool(bool),
    /// Always through [`text`].
    Text(Option<Cow<'a, str>>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

/// A time, as the Unix milliseconds every table keeps.
impl From<DateTime<Utc>> for Arg<'_> {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Int(v.timestamp_millis())
    }
}

impl From<Option<i16>> for Arg<'_> {
    fn from(v: Option<i16>) -> Self {
        Arg::Small(v)
    }
}

impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Float(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(text(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::from(v.as_str())
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(text))
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::from(v.as_deref())
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(match text(&v) {
            Cow::Borrowed(_) => Cow::Owned(v),
            Cow::Owned(clean) => Cow::Owned(clean),
        }))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::Text(None), Arg::from)
    }
}

/// `&[Arg]` of the values given, each converted by its `From`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::store::sql::Arg::from($arg)),*]
    };
}
pub(crate) use args;

/// The parameters in one database's form.
fn encode<'q, A>(args: &[Arg<'q>]) -> Result<A, StoreError>
where
    A: Arguments<'q>,
    i64: Encode<'q, A::Database> + Type<A::Database>,
    Option<i16>: Encode<'q, A::Database> + Type<A::Database>,
    f64: Encode<'q, A::Database> + Type<A::Database>,
    bool: Encode<'q, A::Database> + Type<A::Database>,
    Option<Cow<'q, str>>: Encode<'q, A::Database> + Type<A::Database>,
{
    let mut out = A::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(*v),
            Arg::Small(v) => out.add(*v),
            Arg::Float(v) => out.add(*v),
            Arg::Bool(v) => out.add(*v),
            Arg::Text(v) => out.add(v.clone()),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// A row type both drivers decode (a tuple of `i64`, `Option<i16>`, `f64`, `bool`, `String`
/// and their `Option`s).
pub trait Decoded:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Decoded for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A connection to either database (inside a transaction or not).
pub enum Link<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Link<'_> {
    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        Ok(match self {
            Link::Sqlite(c) => sqlx::query_with(sql, encode::<SqliteArguments>(args)?)
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Link::Postgres(c) => sqlx::query_with(sql, encode::<PgArguments>(args)?)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    pub async fn fetch_all<T: Decoded>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Link::Sqlite(c) => {
                sqlx::query_as_with(sql, encode::<SqliteArguments>(args)?)
                    .fetch_all(&mut **c)
                    .await?
            }
            Link::Postgres(c) => {
                sqlx::query_as_with(sql, encode::<PgArguments>(args)?)
                    .fetch_all(&mut **c)
                    .await?
            }
        })
    }

    pub async fn fetch_optional<T: Decoded>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Link::Sqlite(c) => {
                sqlx::query_as_with(sql, encode::<SqliteArguments>(args)?)
                    .fetch_optional(&mut **c)
                    .await?
            }
            Link::Postgres(c) => {
                sqlx::query_as_with(sql, encode::<PgArguments>(args)?)
                    .fetch_optional(&mut **c)
                    .await?
            }
        })
    }

    pub async fn fetch_one<T: Decoded>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<T, StoreError> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }
}

/// Either database's connection pool.
#[derive(Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection taken from a [`Pool`].
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    pub fn link(&mut self) -> Link<'_> {
        match self {
            Conn::Sqlite(c) => Link::Sqlite(c),
            Conn::Postgres(c) => Link::Postgres(c),
        }
    }
}

/// A transaction: rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn link(&mut self) -> Link<'_> {
        match self {
            Tx::Sqlite(t) => Link::Sqlite(t),
            Tx::Postgres(t) => Link::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Pool {
    pub async fn acquire(&self) -> Result<Conn, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        self.acquire().await?.link().execute(sql, args).await
    }

    pub async fn fetch_all<T: Decoded>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<T>, StoreError> {
        self.acquire().await?.link().fetch_all(sql, args).await
    }

    pub async fn fetch_optional<T: Decoded>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<T>, StoreError> {
        self.acquire().await?.link().fetch_optional(sql, args).await
    }
}

/// What one database does its own way.
#[async_trait]
pub trait Backend: Sized + Send + Sync + 'static {
    /// [`Store::commit`]: the batch atomically and durably, or nothing.
    async fn commit(&self, store: &SqlStore<Self>, batch: &Batch) -> Result<Commit, StoreError>;
    /// Appends what a write publishes, inside its transaction; returns the entry's number.
    async fn append_outbox(tx: &mut Link<'_>, json: String) -> Result<i64, StoreError>;
    /// [`Store::outbox_last`].
    async fn outbox_last(&self) -> Result<i64, StoreError>;
    /// [`Store::leads`].
    fn leads(&self) -> bool {
        true
    }
    /// [`Store::close`].
    async fn close(&self) {}
}

/// A store on either database: what is alike here, what differs in `backend`.
pub struct SqlStore<B> {
    pub(super) pool: Pool,
    pub(super) head: Arc<watch::Sender<i64>>,
    /// One write transaction at a time where the database needs it (SQLite: it has one
    /// writer anyway, and a deferred transaction that reads before it writes would
    /// otherwise fail on a busy snapshot).
    pub(super) writer: Option<tokio::sync::Mutex<()>>,
    pub(super) backend: B,
}

impl<B> SqlStore<B> {
    /// Holds the write lock, if this database has one, until the guard is dropped.
    pub(super) async fn writing(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writer {
            Some(writer) => Some(writer.lock().await),
            None => None,
        }
    }

    /// Upserts history samples in one transaction, many rows a statement. A measure
    /// sampled twice in a bucket keeps the last value (an upsert may not touch a row twice
    /// in one statement, so duplicates are dropped first).
    async fn insert_history(
        &self,
        samples: Vec<(DateTime<Utc>, &Sample)>,
    ) -> Result<(), StoreError> {
        let mut rows: Vec<(i64, &Sample)> = Vec::new();
        let mut at: std::collections::HashMap<(&str, &str, i64), usize> =
            std::collections::HashMap::new();
        for (bucket, s) in samples {
            let key = (
                s.entity.as_str(),
                s.measure.as_str(),
                bucket.timestamp_millis(),
            );
            match at.get(&key) {
                Some(&i) => rows[i] = (key.2, s),
                None => {
                    at.insert(key, rows.len());
                    rows.push((key.2, s));
                }
            }
        }
        // 4 parameters a row: well under SQLite's 32,766 and PostgreSQL's 65,535.
        const ROWS: usize = 1000;
        let _writing = self.writing().await;
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(${}, ${}, ${}, ${})",
                        4 * i + 1,
                        4 * i + 2,
                        4 * i + 3,
                        4 * i + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO history (entity, measure, bucket_ms, value) VALUES {}
                 ON CONFLICT (entity, measure, bucket_ms) DO UPDATE SET value = excluded.value",
                values.join(", ")
            );
            let args: Vec<Arg> = chunk
                .iter()
                .flat_map(|(bucket_ms, s)| {
                    [
                        Arg::from(s.entity.as_str()),
                        Arg::from(s.measure.as_str()),
                        Arg::from(*bucket_ms),
                        Arg::from(s.value),
                    ]
                })
                .collect();
            tx.link().execute(&sql, &args).await?;
        }
        tx.commit().await
    }

    /// Tells followers in this process that entry `seq` is committed.
    pub(super) fn committed(&self, seq: Option<i64>) {
        if let Some(seq) = seq {
            advance(&self.head, seq);
        }
    }
}

/// Moves the known head forward (never back: notifications may arrive out of order).
pub fn advance(head: &watch::Sender<i64>, seq: i64) {
    head.send_if_modified(|h| {
        let newer = seq > *h;
        *h = (*h).max(seq);
        newer
    });
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A stored level (1 to 4).
fn level(stored: Option<i16>) -> Option<u8> {
    stored.and_then(|l| u8::try_from(l).ok())
}

/// A unique-key violation as `Duplicate(what)`; any other error as it is.
fn unique(e: StoreError, what: impl FnOnce() -> String) -> StoreError {
    match e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::Duplicate(what())
        }
        e => e,
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

const PRODUCER_COLUMNS: &str = "name, feeds, sites, created_at_ms, revoked_at_ms";

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

type LevelColumns = (
    i64,
    String,
    i64,
    Option<i16>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn level_change(
    entity: &Entity,
    (id, kind, at_ms, stored, explanation, actor, reason): LevelColumns,
) -> Result<LevelChange, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        event_id: id,
        message,
    };
    Ok(LevelChange {
        entity: entity.clone(),
        kind: LevelKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("level change kind {kind:?}")))?,
        at: millis(at_ms),
        level: level(stored),
        explanation: explanation
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| corrupt(format!("level change explanation: {e}")))?,
        actor,
        reason,
    })
}

impl<B: Backend> SqlStore<B> {
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
            let marks: Vec<(i64, bool, String, i64)> = self
                .pool
                .fetch_all(
                    "SELECT action, done, actor, at_ms FROM alert_actions
                     WHERE alert_id = $1 ORDER BY id",
                    args![id],
                )
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

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn commit(&self, batch: &Batch) -> Result<Commit, StoreError> {
        self.backend.commit(self, batch).await
    }

    async fn current_state(&self) -> Result<Vec<StateRow>, StoreError> {
        let rows: Vec<(i64, String, String)> = self
            .pool
            .fetch_all(
                "SELECT event_id, feed, body FROM current_state ORDER BY event_id",
                &[],
            )
            .await?;
        rows.into_iter()
            .map(|(event_id, name, body)| {
                let feed = Feed::parse(&name).ok_or_else(|| StoreError::Corrupt {
                    event_id,
                    message: format!("unknown feed {name:?}"),
                })?;
                Ok(StateRow { feed, body })
            })
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.execute("SELECT 1", &[]).await?;
        Ok(())
    }

    fn outbox_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    async fn outbox_last(&self) -> Result<i64, StoreError> {
        self.backend.outbox_last().await
    }

    async fn outbox_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<(i64, String)> = self
            .pool
            .fetch_all(
                "SELECT seq, body FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                args![seq, i64::from(limit)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, body)| super::read_outbox(seq, &body))
            .collect())
    }

    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let _writing = self.writing().await;
        self.pool
            .execute("DELETE FROM outbox WHERE at_ms < $1", args![before])
            .await
    }

    fn leads(&self) -> bool {
        self.backend.leads()
    }

    async fn close(&self) {
        self.backend.close().await
    }

    async fn record_history(
        &self,
        bucket: DateTime<Utc>,
        samples: &[Sample],
    ) -> Result<(), StoreError> {
        self.insert_history(samples.iter().map(|s| (bucket, s)).collect())
            .await
    }

    async fn record_history_batch(
        &self,
        buckets: &[(DateTime<Utc>, Vec<Sample>)],
    ) -> Result<(), StoreError> {
        let mut rows = Vec::new();
        for (bucket, samples) in buckets {
            rows.extend(samples.iter().map(|s| (*bucket, s)));
        }
        self.insert_history(rows).await
    }

    async fn history(
        &self,
        entity: &str,
        measure: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StoreError> {
        let rows: Vec<(i64, f64)> = self
            .pool
            .fetch_all(
                "SELECT bucket_ms, value FROM history
                 WHERE entity = $1 AND measure = $2 AND bucket_ms BETWEEN $3 AND $4
                 ORDER BY bucket_ms",
                args![entity, measure, from, to],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(ms, v)| DateTime::from_timestamp_millis(ms).map(|t| (t, v)))
            .collect())
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pool
            .execute("DELETE FROM history WHERE bucket_ms < $1", args![before])
            .await
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
        let policy = change
            .explanation
            .as_ref()
            .map(|e| e.policy_version.as_str());
        let _writing = self.writing().await;
        let mut tx = self.pool.begin().await?;
        tx.link()
            .execute(
                "INSERT INTO level_changes
                     (entity, kind, at_ms, level, policy_version, explanation, actor, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    change.entity.to_string(),
                    change.kind.code(),
                    change.at,
                    change.level.map(i16::from),
                    policy,
                    explanation,
                    &change.actor,
                    &change.reason,
                ],
            )
            .await?;
        let mut id = None;
        if let Some(alert) = alert {
            let body = serde_json::to_string(alert).unwrap_or_default();
            let (new,): (i64,) = tx
                .link()
                .fetch_one(
                    "INSERT INTO alerts (at_ms, body) VALUES ($1, $2) RETURNING id",
                    args![alert.at, body],
                )
                .await?;
            id = Some(new);
        }
        let seq = match Published::level(change, alert.zip(id)) {
            Some(published) => Some(B::append_outbox(&mut tx.link(), published.to_json()).await?),
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
        let row: Option<(Option<i16>,)> = self
            .pool
            .fetch_optional(
                "SELECT level FROM level_changes WHERE entity = $1 AND kind = $2
                 ORDER BY id DESC LIMIT 1",
                args![entity.to_string(), kind.code()],
            )
            .await?;
        Ok(row.map(|(stored,)| level(stored)))
    }

    async fn last_known_level(
        &self,
        entity: &Entity,
        kind: LevelKind,
    ) -> Result<Option<u8>, StoreError> {
        let row: Option<(Option<i16>,)> = self
            .pool
            .fetch_optional(
                "SELECT level FROM level_changes
                 WHERE entity = $1 AND kind = $2 AND level IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                args![entity.to_string(), kind.code()],
            )
            .await?;
        Ok(row.and_then(|(stored,)| level(stored)))
    }

    async fn level_at(
        &self,
        entity: &Entity,
        kind: LevelKind,
        at: DateTime<Utc>,
    ) -> Result<Option<Option<u8>>, StoreError> {
        let row: Option<(Option<i16>,)> = self
            .pool
            .fetch_optional(
                "SELECT level FROM level_changes WHERE entity = $1 AND kind = $2 AND at_ms <= $3
                 ORDER BY at_ms DESC, id DESC LIMIT 1",
                args![entity.to_string(), kind.code(), at],
            )
            .await?;
        Ok(row.map(|(stored,)| level(stored)))
    }

    async fn levels(
        &self,
        entity: &Entity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LevelChange>, StoreError> {
        let rows: Vec<LevelColumns> = self
            .pool
            .fetch_all(
                "SELECT id, kind, at_ms, level, explanation, actor, reason FROM level_changes
                 WHERE entity = $1 AND at_ms BETWEEN $2 AND $3 ORDER BY at_ms, id",
                args![entity.to_string(), from, to],
            )
            .await?;
        rows.into_iter()
            .map(|row| level_change(entity, row))
            .collect()
    }

    async fn latest_calculated(&self) -> Result<Vec<(Entity, Explanation)>, StoreError> {
        let rows: Vec<(i64, String, String)> = self
            .pool
            .fetch_all(
                "SELECT c.id, c.entity, c.explanation FROM level_changes c
                 WHERE c.kind = 'calculated' AND c.explanation IS NOT NULL
                   AND c.id = (SELECT MAX(id) FROM level_changes l
                               WHERE l.entity = c.entity AND l.kind = 'calculated')",
                &[],
            )
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
        let rows: Vec<Row> = self
            .pool
            .fetch_all(
                "SELECT c.id, c.entity, c.at_ms, c.level, c.actor, c.reason FROM level_changes c
                 WHERE c.kind = 'declared'
                   AND c.id = (SELECT MAX(id) FROM level_changes l
                               WHERE l.entity = c.entity AND l.kind = 'declared')",
                &[],
            )
            .await?;
        let mut out = Vec::new();
        for (id, entity, at_ms, stored, actor, reason) in rows {
            let Some(level) = level(stored) else {
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
        let row: Option<(i64, String)> = self
            .pool
            .fetch_optional("SELECT id, body FROM alerts WHERE id = $1", args![id])
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
        let _writing = self.writing().await;
        let mut tx = self.pool.begin().await?;
        tx.link()
            .execute(
                "INSERT INTO alert_actions (alert_id, action, done, actor, at_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                args![
                    alert,
                    i64::try_from(index).unwrap_or(i64::MAX),
                    done,
                    actor,
                    at
                ],
            )
            .await?;
        let published = Published::action(alert, index, done, actor, at);
        let seq = B::append_outbox(&mut tx.link(), published.to_json()).await?;
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
        let rows: Vec<(i64, String)> = self
            .pool
            .fetch_all(
                "SELECT id, body FROM alerts WHERE at_ms BETWEEN $1 AND $2
                 ORDER BY id DESC LIMIT $3",
                args![from, to, i64::from(limit)],
            )
            .await?;
        self.with_actions(rows).await
    }
}

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn create_producer_token(
        &self,
        token_hash: &str,
        p: &ProducerRow,
    ) -> Result<(), StoreError> {
        self.pool
            .execute(
                "INSERT INTO producer_tokens (name, token_hash, feeds, sites, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                args![
                    &p.name,
                    token_hash,
                    serde_json::to_string(&p.feeds).unwrap_or_default(),
                    serde_json::to_string(&p.sites).unwrap_or_default(),
                    p.created_at,
                ],
            )
            .await
            .map_err(|e| unique(e, || format!("the producer {}", p.name)))?;
        Ok(())
    }

    async fn producer_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ProducerRow>, StoreError> {
        let row: Option<ProducerColumns> = self
            .pool
            .fetch_optional(
                &format!(
                    "SELECT {PRODUCER_COLUMNS} FROM producer_tokens
                     WHERE token_hash = $1 AND revoked_at_ms IS NULL"
                ),
                args![token_hash],
            )
            .await?;
        row.map(producer_row).transpose()
    }

    async fn producer_tokens(&self) -> Result<Vec<ProducerRow>, StoreError> {
        let rows: Vec<ProducerColumns> = self
            .pool
            .fetch_all(
                &format!("SELECT {PRODUCER_COLUMNS} FROM producer_tokens ORDER BY name"),
                &[],
            )
            .await?;
        rows.into_iter().map(producer_row).collect()
    }

    async fn revoke_producer_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .pool
            .execute(
                "UPDATE producer_tokens SET revoked_at_ms = $1
                 WHERE name = $2 AND revoked_at_ms IS NULL",
                args![at, name],
            )
            .await?;
        Ok(revoked > 0)
    }

    async fn create_enrolment(
        &self,
        token_hash: &str,
        user: i64,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.pool
            .execute(
                "INSERT INTO enrolments (token_hash, user_id, created_at_ms, expires_at_ms)
                 VALUES ($1, $2, $3, $4)",
                args![token_hash, user, at, expires],
            )
            .await?;
        Ok(())
    }

    async fn use_enrolment(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRow>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // On PostgreSQL the row lock the UPDATE takes makes a second use of the same link
        // wait, then find it used; SQLite has one writer.
        let used = tx
            .link()
            .execute(
                "UPDATE enrolments SET used_at_ms = $1
                 WHERE token_hash = $2 AND used_at_ms IS NULL AND expires_at_ms > $1",
                args![now, token_hash],
            )
            .await?;
        if used == 0 {
            return Ok(None);
        }
        let row: Option<UserColumns> = tx
            .link()
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS} FROM enrolments e JOIN users u ON u.id = e.user_id
                     WHERE e.token_hash = $1 AND u.disabled_at_ms IS NULL"
                ),
                args![token_hash],
            )
            .await?;
        tx.commit().await?;
        row.map(user_row).transpose()
    }

    async fn disable_user(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let disabled = self
            .pool
            .execute(
                "UPDATE users SET disabled_at_ms = $1 WHERE name = $2 AND disabled_at_ms IS NULL",
                args![at, name],
            )
            .await?;
        Ok(disabled > 0)
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.pool
            .execute(
                "INSERT INTO audit (at_ms, actor, action, subject, detail, address)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    entry.at,
                    &entry.actor,
                    &entry.action,
                    &entry.subject,
                    entry.detail.to_string(),
                    &entry.address,
                ],
            )
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
        let rows: Vec<Row> = self
            .pool
            .fetch_all(
                "SELECT id, at_ms, actor, action, subject, detail, address FROM audit
                 WHERE at_ms BETWEEN $1 AND $2 ORDER BY id DESC LIMIT $3",
                args![from, to, i64::from(limit)],
            )
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
        let (id,): (i64,) = self
            .pool
            .acquire()
            .await?
            .link()
            .fetch_one(
                "INSERT INTO users
                     (name, display_name, role, organisation, password_hash, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                args![
                    &user.name,
                    &user.display_name,
                    user.role.code(),
                    &user.organisation,
                    &user.password_hash,
                    at,
                ],
            )
            .await
            .map_err(|e| unique(e, || format!("the account {}", user.name)))?;
        Ok(id)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserColumns> = self
            .pool
            .fetch_optional(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1"),
                args![name],
            )
            .await?;
        row.map(user_row).transpose()
    }

    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<UserColumns> = self
            .pool
            .fetch_all(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"),
                &[],
            )
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
        self.pool
            .execute(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at_ms, expires_at_ms)
                 VALUES ($1, $2, $3, $4, $5)",
                args![token_hash, user, csrf, at, expires],
            )
            .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserRow, String)>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            String,
        );
        let row: Option<Row> = self
            .pool
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.revoked_at_ms IS NULL AND s.expires_at_ms > $2
                       AND u.disabled_at_ms IS NULL"
                ),
                args![token_hash, now],
            )
            .await?;
        row.map(|(a, b, c, d, e, f, g, csrf)| Ok((user_row((a, b, c, d, e, f, g))?, csrf)))
            .transpose()
    }

    async fn revoke_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.pool
            .execute(
                "UPDATE sessions SET revoked_at_ms = $1
                 WHERE token_hash = $2 AND revoked_at_ms IS NULL",
                args![at, token_hash],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_nul_as_the_replacement_character() {
        assert_eq!(text("MPH"), "MPH");
        assert!(matches!(text("MPH"), Cow::Borrowed(_)));
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
        assert!(matches!(
            Arg::from(String::from("a\0")),
            Arg::Text(Some(t)) if t == "a\u{FFFD}"
        ));
        assert!(matches!(
            Arg::from(Some("\0")),
            Arg::Text(Some(t)) if t == "\u{FFFD}"
        ));
    }
}

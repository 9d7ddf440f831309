//! The store: the append-only event log and the current state derived from it.
//!
//! Everything above this module talks to [`Store`], never to a database directly:
//! [`sqlite::SqliteStore`] (embedded, the default) and [`postgres::PostgresStore`] (several
//! replicas against one server) answer identically, and [`connect`] picks one by the
//! database URL. The store is feed-agnostic: it keeps each record's canonical JSON, keyed
//! by feed, site and entity (for beds, the pool).

pub mod postgres;
mod sql;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use levels_shared::escalation::{Alert, Declaration, Entity, Explanation, LevelChange, LevelKind};
use levels_shared::feed::Feed;
use levels_shared::live::Change;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL is shown without its password.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")]
    UnsupportedUrl(String),
    /// `target` names the server, database and user, never the password.
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("stored record {event_id} is not valid: {message}")]
    Corrupt { event_id: i64, message: String },
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("outbox entry {seq} is not valid: {message}")]
    Outbox { seq: i64, message: String },
}

/// A person's account as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub role: levels_shared::access::Role,
    pub organisation: Option<String>,
    /// Argon2id PHC string; `None` for accounts that cannot sign in with a password.
    pub password_hash: Option<String>,
    pub disabled: bool,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub display_name: String,
    pub role: levels_shared::access::Role,
    pub organisation: Option<String>,
    pub password_hash: Option<String>,
}

/// A validated batch from one producer, ready to commit atomically.
#[derive(Debug, Clone)]
pub struct Batch {
    pub producer: String,
    pub feed: Feed,
    pub received_at: DateTime<Utc>,
    pub records: Vec<NewRecord>,
}

/// One validated record in its canonical form.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The producer's id for the record: the idempotency key with producer and feed.
    pub record_id: String,
    pub site: String,
    /// Which thing at the site the record describes (for beds, the pool code).
    pub entity: String,
    pub at: DateTime<FixedOffset>,
    /// Canonical JSON: identical content gives identical text, whatever format it came in.
    pub body: String,
}

/// What committing a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// The batch is durable. `applied` lists, in batch order, the positions of records that
    /// became the current state of their entity (newer than what was there).
    Committed {
        accepted: usize,
        duplicates: usize,
        applied: Vec<usize>,
        /// The outbox entry carrying the applied records, if any were.
        outbox: Option<i64>,
    },
    /// Nothing was written: these positions re-use an id already accepted with other content.
    Conflicts(Vec<usize>),
}

/// A batch's records sorted against what is stored under their ids (both stores).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Sorted {
    /// Positions of records to insert: the first of each id not stored yet.
    pub new: Vec<usize>,
    /// Identical re-sends, of a stored record or of one earlier in the batch.
    pub duplicates: usize,
    /// Positions whose id was already taken (stored, or earlier in the batch) by other content.
    pub conflicts: Vec<usize>,
}

/// Sorts `records` into new, duplicate and conflicting, given the bodies already `stored`
/// by id; `id(i)` is record i's id as the store keeps it.
pub(crate) fn sort_records<'a>(
    records: &[NewRecord],
    id: impl Fn(usize) -> &'a str,
    stored: &HashMap<String, String>,
) -> Sorted {
    let mut first_in_batch: HashMap<&str, usize> = HashMap::new();
    let mut sorted = Sorted::default();
    for (i, r) in records.iter().enumerate() {
        let earlier_body = match first_in_batch.get(id(i)) {
            Some(&j) => Some(records[j].body.as_str()),
            None => stored.get(id(i)).map(String::as_str),
        };
        match earlier_body {
            Some(body) if body == r.body => sorted.duplicates += 1,
            Some(_) => sorted.conflicts.push(i),
            None => {
                first_in_batch.insert(id(i), i);
                sorted.new.push(i);
            }
        }
    }
    sorted
}

/// A current-state row, as loaded at start-up to rebuild the live state.
#[derive(Debug, Clone)]
pub struct StateRow {
    pub feed: Feed,
    pub body: String,
}

/// One sampled value of a measure for the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub entity: String,
    pub measure: String,
    pub value: f64,
}

/// What one committed write publishes. It goes into the outbox in the same transaction as
/// the write, so every replica (and this one after a crash) fans out exactly what became
/// durable, in commit order (DESIGN §2).
///
/// Externally tagged (`{"records": {…}}`): an internal tag would buffer the raw records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Published {
    /// Records of one feed that became current: every replica projects them itself, since
    /// patient- and conveyance-level records are not streamed but move streamed measures.
    Records {
        feed: Feed,
        records: Vec<Box<RawValue>>,
    },
    /// Changes as they are: declarations, alerts and marked actions.
    Changes { changes: Vec<Change> },
}

/// One outbox entry as read back: its number, and what it publishes.
pub type OutboxEntry = (i64, Result<Published, StoreError>);

/// Reads an entry's stored JSON.
pub fn read_outbox(seq: i64, body: &str) -> OutboxEntry {
    let published = serde_json::from_str(body).map_err(|e| StoreError::Outbox {
        seq,
        message: e.to_string(),
    });
    (seq, published)
}

impl Published {
    /// The outbox entry of a batch's applied records, as the JSON `Published::Records`
    /// serialises to, written straight from their canonical bodies: on the ingest path
    /// every record would otherwise be copied, parsed and written out again.
    pub fn records_json(batch: &Batch, applied: &[usize]) -> String {
        // A feed's name is plain lowercase ASCII: no escaping needed.
        let feed = batch.feed.as_str();
        let bodies: usize = applied
            .iter()
            .map(|&i| batch.records[i].body.len() + 1)
            .sum();
        let mut json = String::with_capacity(bodies + feed.len() + 40);
        json.push_str("{\"records\":{\"feed\":\"");
        json.push_str(feed);
        json.push_str("\",\"records\":[");
        for (k, &i) in applied.iter().enumerate() {
            if k > 0 {
                json.push(',');
            }
            json.push_str(&batch.records[i].body);
        }
        json.push_str("]}}");
        json
    }

    /// What recording a level change publishes: the declaration (for declared levels) and
    /// the alert it raised, with the id the store gave it.
    pub fn level(change: &LevelChange, alert: Option<(&Alert, i64)>) -> Option<Published> {
        let mut changes = Vec::new();
        if change.kind == LevelKind::Declared {
            changes.push(Change::Declared {
                entity: change.entity.clone(),
                declaration: change.level.map(|level| Declaration {
                    level,
                    reason: change.reason.clone().unwrap_or_default(),
                    actor: change.actor.clone().unwrap_or_default(),
                    at: change.at,
                }),
            });
        }
        if let Some((alert, id)) = alert {
            let mut alert = alert.clone();
            alert.id = id;
            changes.push(Change::Alert { alert });
        }
        (!changes.is_empty()).then_some(Published::Changes { changes })
    }

    /// What marking an action publishes.
    pub fn action(
        alert: i64,
        index: usize,
        done: bool,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Published {
        Published::Changes {
            changes: vec![Change::Action {
                alert,
                index,
                done: done.then(|| levels_shared::escalation::Done {
                    actor: actor.to_owned(),
                    at,
                }),
            }],
        }
    }

    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[async_trait]
pub trait Store: AccountStore {
    /// Commits a batch atomically and durably, or writes nothing.
    async fn commit(&self, batch: &Batch) -> Result<Commit, StoreError>;
    /// Every current-state row.
    async fn current_state(&self) -> Result<Vec<StateRow>, StoreError>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The newest outbox entry known to be committed: this process's own at once, other
    /// replicas' as their notifications arrive.
    fn outbox_head(&self) -> tokio::sync::watch::Receiver<i64>;
    /// The newest outbox entry in the database (0 when there is none).
    async fn outbox_last(&self) -> Result<i64, StoreError>;
    /// Outbox entries after `seq`, oldest first, at most `limit`; one that cannot be read
    /// is given as its error, so a follower can report it and go on past it.
    async fn outbox_after(&self, seq: i64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Deletes outbox entries written before `before`; returns how many went.
    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Whether this process does the work one replica does for all: recording calculated
    /// level changes and the alerts they raise. Always, with one process.
    fn leads(&self) -> bool {
        true
    }
    /// Gives up what this process holds for all replicas (leadership), at shutdown.
    async fn close(&self) {}
    /// Records samples for the time bucket starting at `bucket` (replacing any already there).
    async fn record_history(
        &self,
        bucket: DateTime<Utc>,
        samples: &[Sample],
    ) -> Result<(), StoreError>;
    /// Records the samples of many buckets at once, in one transaction where the store can
    /// (a simulated backfill writes a week of them: `docs/simulator.md`).
    async fn record_history_batch(
        &self,
        buckets: &[(DateTime<Utc>, Vec<Sample>)],
    ) -> Result<(), StoreError>;
    /// One measure of one entity in buckets from `from` to `to` inclusive, oldest first.
    async fn history(
        &self,
        entity: &str,
        measure: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StoreError>;
    /// Deletes history older than `before`; returns how many values went.
    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Appends a level change and, in the same transaction, the alert it raises (whose
    /// `id` is ignored) and what they publish ([`Published::level`]); returns the id the
    /// alert was given.
    async fn record_level(
        &self,
        change: &LevelChange,
        alert: Option<&Alert>,
    ) -> Result<Option<i64>, StoreError>;
    /// The latest recorded level of `entity` and `kind`: `None` if none was ever recorded.
    async fn last_level(
        &self,
        entity: &Entity,
        kind: LevelKind,
    ) -> Result<Option<Option<u8>>, StoreError>;
    /// The latest level of `entity` and `kind` that was a level (not incalculable or withdrawn).
    async fn last_known_level(
        &self,
        entity: &Entity,
        kind: LevelKind,
    ) -> Result<Option<u8>, StoreError>;
    /// The level of `entity` and `kind` in force at `at`: `None` if none was recorded by then.
    async fn level_at(
        &self,
        entity: &Entity,
        kind: LevelKind,
        at: DateTime<Utc>,
    ) -> Result<Option<Option<u8>>, StoreError>;
    /// The level changes of `entity` from `from` to `to`, oldest first.
    async fn levels(
        &self,
        entity: &Entity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LevelChange>, StoreError>;
    /// The latest calculated explanation of every entity, to resume from at start-up.
    async fn latest_calculated(&self) -> Result<Vec<(Entity, Explanation)>, StoreError>;
    /// Every declaration in force (the latest declared change of its entity is a level).
    async fn declarations(&self) -> Result<Vec<(Entity, Declaration)>, StoreError>;
    /// One alert with its actions as last marked.
    async fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError>;
    /// Appends the marking of action `index` of alert `alert` as done or not, and what it
    /// publishes ([`Published::action`]).
    async fn record_action(
        &self,
        alert: i64,
        index: usize,
        done: bool,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Alerts raised from `from` to `to`, newest first, at most `limit`, with their actions
    /// as last marked.
    async fn alerts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Alert>, StoreError>;
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: serde_json::Value,
    pub address: Option<String>,
}

/// A producer token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProducerRow {
    pub name: String,
    pub feeds: Vec<Feed>,
    /// Site codes, or `["*"]` for every site.
    pub sites: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Accounts, sessions, producer tokens and the audit log.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Stores a new producer token by its digest; `Duplicate` when the name is taken.
    async fn create_producer_token(
        &self,
        token_hash: &str,
        producer: &ProducerRow,
    ) -> Result<(), StoreError>;
    /// The live (unrevoked) producer whose token has this digest.
    async fn producer_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ProducerRow>, StoreError>;
    /// Every producer token, by name.
    async fn producer_tokens(&self) -> Result<Vec<ProducerRow>, StoreError>;
    /// Revokes a producer's token at once; `false` if there was no live one by that name.
    async fn revoke_producer_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Stores a one-time enrolment link's digest for a display account.
    async fn create_enrolment(
        &self,
        token_hash: &str,
        user: i64,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Uses an enrolment link: the display account it was for, if the link is unused,
    /// unexpired and the account enabled; it cannot be used again.
    async fn use_enrolment(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRow>, StoreError>;
    /// Disables an account: its sessions stop working at once. `false` if there is none.
    async fn disable_user(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Appends to the audit log (`id` is ignored).
    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Audit entries from `from` to `to`, newest first, at most `limit`.
    async fn audit_log(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// Creates an account; `Duplicate` when the name is taken.
    async fn create_user(&self, user: &NewUser, at: DateTime<Utc>) -> Result<i64, StoreError>;
    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError>;
    /// Every account, by name.
    async fn users(&self) -> Result<Vec<UserRow>, StoreError>;
    /// Starts a session for `user`, known by the digest of its cookie value.
    async fn create_session(
        &self,
        token_hash: &str,
        user: i64,
        csrf: &str,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The account and CSRF token of a live session: not revoked, not expired at `now`, and
    /// its account not disabled.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserRow, String)>, StoreError>;
    /// Ends a session at once.
    async fn revoke_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Opens the store the URL names (`sqlite:` or `postgres:`/`postgresql:`) and brings its
/// schema up to date.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redacted(url)))
    }
}

/// The URL with any password (in the user information or a `password=` parameter)
/// replaced by `***`, for messages and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    // The user information ends at the last `@` of the authority; its password after `:`.
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_url_has_no_password() {
        for (url, shown) in [
            (
                "postgres://levels:s3cr:et@db:5432/levels?sslmode=require",
                "postgres://levels:***@db:5432/levels?sslmode=require",
            ),
            ("postgresql://a:b@c@host/db", "postgresql://a:***@host/db"),
            ("postgres://levels@db/levels", "postgres://levels@db/levels"),
            (
                "postgres://db/x?user=a&password=p@ss&sslmode=disable",
                "postgres://db/x?user=a&password=***&sslmode=disable",
            ),
            ("sqlite://var/levels.db", "sqlite://var/levels.db"),
            ("mysql://root:pw@db", "mysql://root:***@db"),
            ("nonsense", "nonsense"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }

    #[test]
    fn an_outbox_entry_reads_back_as_written() {
        for feed in Feed::ALL {
            let batch = Batch {
                producer: "p".into(),
                feed,
                received_at: Utc::now(),
                records: ["{\"id\":\"a\"}", "{\"id\":\"b\"}", "{\"id\":\"c\"}"]
                    .iter()
                    .map(|body| NewRecord {
                        record_id: "x".into(),
                        site: "MPH".into(),
                        entity: "ga".into(),
                        at: Utc::now().fixed_offset(),
                        body: (*body).into(),
                    })
                    .collect(),
            };
            let json = Published::records_json(&batch, &[0, 2]);
            match serde_json::from_str::<Published>(&json).expect("reads back") {
                Published::Records {
                    feed: read,
                    records,
                } => {
                    assert_eq!(read, feed);
                    let bodies: Vec<&str> = records.iter().map(|r| r.get()).collect();
                    assert_eq!(bodies, ["{\"id\":\"a\"}", "{\"id\":\"c\"}"]);
                }
                other => panic!("expected records, got {other:?}"),
            }
        }
    }
}

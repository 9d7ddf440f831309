//! Both stores hold to one contract: each test body below runs against SQLite and against
//! PostgreSQL (`…::postgres`, when `LEVELS_TEST_POSTGRES_URL` is set; see
//! `support::database`). A few tests are PostgreSQL's own: concurrent writers, which one
//! SQLite process never has.

use chrono::{DateTime, Duration, Utc};
use levels::store::postgres::PostgresStore;
use levels::store::sqlite::SqliteStore;
use levels::store::{
    AuditEntry, Batch, Commit, NewRecord, NewUser, ProducerRow, Sample, Store, StoreError,
};
use levels_shared::access::Role;
use levels_shared::escalation::{
    Action, Alert, Declaration, Done, Entity, Explanation, LevelChange, LevelKind,
};
use levels_shared::feed::Feed;
use levels_tests::database;
use std::sync::Arc;

/// A store under test, and a way around it to its database.
struct Subject {
    store: Arc<dyn Store>,
    raw: Raw,
    _dir: tempfile::TempDir,
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Subject {
    /// Runs SQL behind the store's back: the database's refusal as text.
    async fn execute(&self, sql: &str) -> Result<u64, String> {
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
            Raw::Postgres(pool) => sqlx::query(sql)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }

    fn is_postgres(&self) -> bool {
        matches!(self.raw, Raw::Postgres(_))
    }
}

async fn sqlite() -> Subject {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqliteStore::open(&url)
        .await
        .expect("the SQLite store opens");
    Subject {
        raw: Raw::Sqlite(store.pool().clone()),
        store: Arc::new(store),
        _dir: dir,
    }
}

/// A PostgreSQL store on a database of its own, or `None` when no server is set.
async fn postgres(test: &str) -> Option<Subject> {
    let url = postgres_url(test)?;
    let store = PostgresStore::open(&url)
        .await
        .expect("the PostgreSQL store opens");
    Some(Subject {
        raw: Raw::Postgres(store.pool().clone()),
        store: Arc::new(store),
        _dir: tempfile::tempdir().expect("tempdir"),
    })
}

/// The URL of a fresh, empty database, or `None` when no server is set.
fn postgres_url(test: &str) -> Option<String> {
    let server = database::postgres_or_skip(test)?;
    Some(database::with_database(
        &server,
        &database::fresh_database(&server),
    ))
}

/// `mod name { sqlite, postgres }` for each shared test body `name(Subject)`.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test(super::sqlite().await).await
            }

            #[tokio::test]
            async fn postgres() {
                let name = concat!("store::", stringify!($test), "::postgres");
                if let Some(subject) = super::postgres(name).await {
                    super::$test(subject).await
                }
            }
        }
    )*};
}

on_both_stores!(
    history_is_kept_per_bucket_and_pruned_after_retention,
    append_only_tables_refuse_any_change_in_the_database,
    a_batch_is_sorted_into_new_duplicate_and_conflicting_records,
    text_with_nul_is_stored,
    accounts_and_sessions,
    enrolment_links_work_once_before_they_expire,
    producer_tokens_are_unique_and_revocable,
    levels_declarations_and_alerts,
    the_audit_log_is_newest_first_by_order_of_entry,
    the_outbox_gives_back_every_published_write_in_commit_order,
    a_commit_is_on_disk_before_it_is_acknowledged,
);

/// The crash test kills the server with SIGKILL, which leaves the page cache alone: a store
/// that did not wait for the disk would pass it. So the settings that make a commit durable
/// are asserted on a connection the store hands out: SQLite in WAL mode with
/// `synchronous = FULL` (every commit synced), PostgreSQL with `synchronous_commit` and
/// `fsync` on.
async fn a_commit_is_on_disk_before_it_is_acknowledged(s: Subject) {
    match &s.raw {
        Raw::Sqlite(pool) => {
            let mut c = pool.acquire().await.expect("a connection");
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *c)
                .await
                .expect("journal_mode");
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *c)
                .await
                .expect("synchronous");
            assert_eq!(
                (mode.as_str(), sync),
                ("wal", 2),
                "WAL, synchronous = FULL (2)"
            );
        }
        Raw::Postgres(pool) => {
            for setting in ["synchronous_commit", "fsync"] {
                let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                    .fetch_one(pool)
                    .await
                    .expect(setting);
                assert_eq!(value, "on", "{setting}");
            }
        }
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a timestamp")
        .to_utc()
}

fn record(id: &str, entity: &str, time: &str, body: &str) -> NewRecord {
    NewRecord {
        record_id: id.into(),
        site: "MPH".into(),
        entity: entity.into(),
        at: DateTime::parse_from_rfc3339(time).expect("a timestamp"),
        // The store keeps canonical JSON (its outbox carries it as such): a JSON string here.
        body: serde_json::Value::from(body).to_string(),
    }
}

fn batch(producer: &str, feed: Feed, records: Vec<NewRecord>) -> Batch {
    Batch {
        producer: producer.into(),
        feed,
        received_at: at("2026-11-25T12:00:00Z"),
        records,
    }
}

fn committed(accepted: usize, duplicates: usize, applied: &[usize]) -> Commit {
    Commit::Committed {
        accepted,
        duplicates,
        applied: applied.to_vec(),
        outbox: None,
    }
}

/// A commit as `committed` describes it, once its outbox entry is checked: there is one
/// exactly when records were applied, numbered after every earlier one.
fn checked(commit: Commit, last: &mut i64) -> Commit {
    match commit {
        Commit::Committed {
            accepted,
            duplicates,
            applied,
            outbox,
        } => {
            match outbox {
                Some(seq) => {
                    assert!(
                        !applied.is_empty(),
                        "an outbox entry only for applied records"
                    );
                    assert!(seq > *last, "entry {seq} follows {last}");
                    *last = seq;
                }
                None => assert!(applied.is_empty(), "applied records have an outbox entry"),
            }
            Commit::Committed {
                accepted,
                duplicates,
                applied,
                outbox: None,
            }
        }
        conflicts => conflicts,
    }
}

/// Every current-state body, in the store's order (by the event that set it).
async fn state(store: &dyn Store) -> Vec<(Feed, String)> {
    store
        .current_state()
        .await
        .expect("current state")
        .into_iter()
        .map(|row| {
            let text = serde_json::from_str(&row.body).expect("a JSON string");
            (row.feed, text)
        })
        .collect()
}

async fn history_is_kept_per_bucket_and_pruned_after_retention(s: Subject) {
    let store = s.store.as_ref();
    let now = at("2026-11-25T09:00:00Z");
    let sample = |v: f64| Sample {
        entity: "site:MPH".into(),
        measure: "ga_occupancy".into(),
        value: v,
    };
    let old = now - Duration::days(40);
    store
        .record_history(old, &[sample(0.8)])
        .await
        .expect("old");
    store
        .record_history(now, &[sample(0.9)])
        .await
        .expect("now");
    store
        .record_history(now, &[sample(0.95), sample(0.1 + 0.2)])
        .await
        .expect("the same bucket again, twice: the last value stays");
    let all = store
        .history("site:MPH", "ga_occupancy", old, now)
        .await
        .expect("reads");
    assert_eq!(
        all,
        vec![(old, 0.8), (now, 0.1 + 0.2)],
        "floats come back exactly"
    );
    assert_eq!(
        store
            .history("site:MPH", "ga_occupancy", old + Duration::seconds(1), now)
            .await
            .expect("reads"),
        vec![(now, 0.1 + 0.2)],
        "from and to are inclusive bucket starts"
    );
    assert_eq!(
        store
            .prune_history(now - Duration::days(35))
            .await
            .expect("prunes"),
        1
    );
    let kept = store
        .history("site:MPH", "ga_occupancy", old, now)
        .await
        .expect("reads");
    assert_eq!(kept, vec![(now, 0.1 + 0.2)]);
}

async fn append_only_tables_refuse_any_change_in_the_database(s: Subject) {
    let store = s.store.as_ref();
    let now = Utc::now();
    store
        .commit(&batch(
            "trust",
            Feed::Beds,
            vec![record("r1", "ga", "2026-11-25T09:00:00Z", "{}")],
        ))
        .await
        .expect("committed");
    let alert = store
        .record_level(&declared("site:MPH", Some(3), now), Some(&raised(now)))
        .await
        .expect("recorded")
        .expect("an alert id");
    store
        .record_action(alert, 0, true, "alex", now)
        .await
        .expect("marked");
    store
        .audit(&entry("alex", "login", now))
        .await
        .expect("appended");
    for (table, refusal) in [
        ("events", "events are append-only"),
        ("level_changes", "level changes are append-only"),
        ("alerts", "alerts are append-only"),
        ("alert_actions", "alert actions are append-only"),
        ("audit", "the audit log is append-only"),
    ] {
        for sql in [
            format!("UPDATE {table} SET at_ms = at_ms + 1"),
            format!("DELETE FROM {table}"),
        ] {
            let message = s.execute(&sql).await.expect_err(&sql);
            assert!(message.contains(refusal), "{sql}: {message}");
        }
        if s.is_postgres() {
            let sql = format!("TRUNCATE {table}");
            s.execute(&sql).await.expect_err(&sql);
        }
    }
    let kept = store
        .audit_log(now - Duration::hours(1), now, 10)
        .await
        .expect("reads");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].actor.as_str(), kept[0].action.as_str()),
        ("alex", "login")
    );
}

async fn a_batch_is_sorted_into_new_duplicate_and_conflicting_records(s: Subject) {
    let store = s.store.as_ref();
    let mut last = 0;
    let beds = |records| batch("trust", Feed::Beds, records);
    let first = store
        .commit(&beds(vec![
            record("r1", "A", "2026-11-25T10:00:00Z", "a1"),
            record("r2", "B", "2026-11-25T10:00:00Z", "b1"),
        ]))
        .await
        .map(|c| checked(c, &mut last))
        .expect("commits");
    assert_eq!(first, committed(2, 0, &[0, 1]));

    let second = store
        .commit(&beds(vec![
            record("r5", "B", "2026-11-25T11:00:00Z", "b2"),
            record("r1", "A", "2026-11-25T10:00:00Z", "a1"),
            record("r3", "A", "2026-11-25T09:00:00Z", "a0"),
            record("r4", "A", "2026-11-25T10:00:00Z", "a2"),
            record("r4", "A", "2026-11-25T10:00:00Z", "a2"),
        ]))
        .await
        .map(|c| checked(c, &mut last))
        .expect("commits");
    assert_eq!(
        second,
        committed(3, 2, &[0, 3]),
        "r1 again and r4 twice are duplicates; the older r3 is kept but not applied; \
         r4 at the same time replaces r1"
    );
    let before = state(store).await;
    assert_eq!(
        before,
        vec![(Feed::Beds, "b2".into()), (Feed::Beds, "a2".into())]
    );

    let conflicting = store
        .commit(&beds(vec![
            record("r6", "A", "2026-11-25T12:00:00Z", "a3"),
            record("r1", "A", "2026-11-25T10:00:00Z", "other content"),
            record("r7", "C", "2026-11-25T12:00:00Z", "c1"),
            record("r7", "C", "2026-11-25T12:00:00Z", "c2"),
        ]))
        .await
        .expect("answers");
    assert_eq!(conflicting, Commit::Conflicts(vec![1, 3]));
    assert_eq!(
        state(store).await,
        before,
        "nothing of a conflicting batch is written"
    );

    let again = store
        .commit(&beds(vec![
            record("r1", "A", "2026-11-25T10:00:00Z", "a1"),
            record("r6", "A", "2026-11-25T12:00:00Z", "a3"),
        ]))
        .await
        .map(|c| checked(c, &mut last))
        .expect("commits");
    assert_eq!(
        again,
        committed(1, 1, &[1]),
        "r6 was not kept from the refused batch"
    );
    assert_eq!(
        store
            .commit(&beds(vec![record("r1", "A", "2026-11-25T10:00:00Z", "a1")]))
            .await
            .expect("commits"),
        committed(0, 1, &[])
    );

    // The idempotency key is producer, feed and id.
    let other_producer = batch(
        "another",
        Feed::Beds,
        vec![record("r1", "D", "2026-11-25T10:00:00Z", "d1")],
    );
    assert_eq!(
        store
            .commit(&other_producer)
            .await
            .map(|c| checked(c, &mut last))
            .expect("commits"),
        committed(1, 0, &[0])
    );
    let other_feed = batch(
        "trust",
        Feed::Ed,
        vec![record("r1", "ed", "2026-11-25T10:00:00Z", "e1")],
    );
    assert_eq!(
        store
            .commit(&other_feed)
            .await
            .map(|c| checked(c, &mut last))
            .expect("commits"),
        committed(1, 0, &[0])
    );
    assert_eq!(
        state(store).await,
        vec![
            (Feed::Beds, "b2".into()),
            (Feed::Beds, "a3".into()),
            (Feed::Beds, "d1".into()),
            (Feed::Ed, "e1".into()),
        ]
    );

    // Within one batch, records for one entity are weighed in order, as if sent one by one.
    let in_order = store
        .commit(&beds(vec![
            record("r8", "E", "2026-11-25T13:00:00Z", "e13"),
            record("r9", "E", "2026-11-25T14:00:00Z", "e14"),
            record("r10", "E", "2026-11-25T13:30:00Z", "e1330"),
        ]))
        .await
        .map(|c| checked(c, &mut last))
        .expect("commits");
    assert_eq!(in_order, committed(3, 0, &[0, 1]));
    assert_eq!(state(store).await.last(), Some(&(Feed::Beds, "e14".into())));
}

/// A NUL in text anyone can send (a record id, a sign-in name) is stored, not refused, and
/// both stores keep U+FFFD in its place (PostgreSQL text cannot hold NUL): the record sent
/// again with U+FFFD is a duplicate, and the name reads back with U+FFFD.
async fn text_with_nul_is_stored(s: Subject) {
    let store = s.store.as_ref();
    let mut last = 0;
    let nul = |records| batch("trust", Feed::Handovers, records);
    let records = || vec![record("id\0", "conveyance\0", "2026-11-25T10:00:00Z", "{}")];
    assert_eq!(
        store
            .commit(&nul(records()))
            .await
            .map(|c| checked(c, &mut last))
            .expect("commits"),
        committed(1, 0, &[0])
    );
    assert_eq!(
        store
            .commit(&nul(records()))
            .await
            .map(|c| checked(c, &mut last))
            .expect("commits"),
        committed(0, 1, &[])
    );
    let now = Utc::now();
    store
        .audit(&entry("someone\0", "login_failed", now))
        .await
        .expect("appended");
    let log = store
        .audit_log(now - Duration::hours(1), now, 10)
        .await
        .expect("reads");
    assert_eq!(log[0].actor, "someone\u{FFFD}");
    assert_eq!(store.user_by_name("alex\0").await.expect("reads"), None);

    // The stored id is "id\u{FFFD}": the same record under that id is a duplicate.
    let replaced = || {
        vec![record(
            "id\u{FFFD}",
            "conveyance\u{FFFD}",
            "2026-11-25T10:00:00Z",
            "{}",
        )]
    };
    assert_eq!(
        store
            .commit(&nul(replaced()))
            .await
            .map(|c| checked(c, &mut last))
            .expect("commits"),
        committed(0, 1, &[])
    );
    let kim = store
        .create_user(&person("kim\0", Role::Admin), now)
        .await
        .expect("created");
    let found = store
        .user_by_name("kim\0")
        .await
        .expect("reads")
        .expect("found by the name as sent");
    assert_eq!((found.id, found.name.as_str()), (kim, "kim\u{FFFD}"));
}

fn person(name: &str, role: Role) -> NewUser {
    NewUser {
        name: name.into(),
        display_name: format!("{name}'s name"),
        role,
        organisation: (role == Role::DischargeCoordinator).then(|| "RH5".into()),
        password_hash: (role != Role::Display).then(|| "$argon2id$hash".into()),
    }
}

async fn accounts_and_sessions(s: Subject) {
    let store = s.store.as_ref();
    let now = at("2026-11-25T09:00:00Z");
    let alex = store
        .create_user(&person("alex", Role::Admin), now)
        .await
        .expect("created");
    match store.create_user(&person("alex", Role::Display), now).await {
        Err(StoreError::Duplicate(what)) => assert_eq!(what, "the account alex"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let bob = store
        .create_user(&person("B.ob", Role::DischargeCoordinator), now)
        .await
        .expect("created");
    for name in ["_z", "Zed"] {
        store
            .create_user(&person(name, Role::Display), now)
            .await
            .expect("created");
    }
    let names: Vec<String> = store
        .users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(
        names,
        ["B.ob", "Zed", "_z", "alex"],
        "byte order, as SQLite sorts"
    );

    let found = store
        .user_by_name("alex")
        .await
        .expect("reads")
        .expect("found");
    assert_eq!(
        (
            found.id,
            found.role,
            found.display_name.as_str(),
            found.disabled
        ),
        (alex, Role::Admin, "alex's name", false)
    );
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$hash"));
    let coordinator = store
        .user_by_name("B.ob")
        .await
        .expect("reads")
        .expect("found");
    assert_eq!(coordinator.organisation.as_deref(), Some("RH5"));
    assert_eq!(store.user_by_name("ALEX").await.expect("reads"), None);

    let hour = Duration::hours(1);
    store
        .create_session("h1", alex, "csrf1", now, now + hour)
        .await
        .expect("started");
    let (user, csrf) = store
        .session("h1", now)
        .await
        .expect("reads")
        .expect("live");
    assert_eq!((user.id, csrf.as_str()), (alex, "csrf1"));
    assert_eq!(
        store.session("h1", now + hour).await.expect("reads"),
        None,
        "expired at its expiry"
    );
    store.revoke_session("h1", now).await.expect("revoked");
    assert_eq!(store.session("h1", now).await.expect("reads"), None);
    assert_eq!(store.session("unknown", now).await.expect("reads"), None);

    store
        .create_session("h2", bob, "csrf2", now, now + hour)
        .await
        .expect("started");
    assert!(store.session("h2", now).await.expect("reads").is_some());
    assert!(store.disable_user("B.ob", now).await.expect("disables"));
    assert!(!store.disable_user("B.ob", now).await.expect("answers"));
    assert!(!store.disable_user("nobody", now).await.expect("answers"));
    assert_eq!(
        store.session("h2", now).await.expect("reads"),
        None,
        "a disabled account's sessions stop at once"
    );
    let bob = store
        .user_by_name("B.ob")
        .await
        .expect("reads")
        .expect("found");
    assert!(bob.disabled);
}

async fn enrolment_links_work_once_before_they_expire(s: Subject) {
    let store = s.store.as_ref();
    let now = at("2026-11-25T09:00:00Z");
    let screen = store
        .create_user(&person("screen-1", Role::Display), now)
        .await
        .expect("created");
    let day = Duration::days(1);
    store
        .create_enrolment("e1", screen, now, now + day)
        .await
        .expect("created");
    let user = store
        .use_enrolment("e1", now)
        .await
        .expect("reads")
        .expect("the link works");
    assert_eq!((user.id, user.name.as_str()), (screen, "screen-1"));
    assert_eq!(
        store.use_enrolment("e1", now).await.expect("reads"),
        None,
        "once"
    );

    store
        .create_enrolment("e2", screen, now, now + day)
        .await
        .expect("created");
    assert_eq!(
        store.use_enrolment("e2", now + day).await.expect("reads"),
        None,
        "expired"
    );
    assert_eq!(store.use_enrolment("e9", now).await.expect("reads"), None);

    store
        .create_enrolment("e3", screen, now, now + day)
        .await
        .expect("created");
    store.disable_user("screen-1", now).await.expect("disabled");
    assert_eq!(
        store.use_enrolment("e3", now).await.expect("reads"),
        None,
        "not for a disabled account"
    );
}

async fn producer_tokens_are_unique_and_revocable(s: Subject) {
    let store = s.store.as_ref();
    let created = at("2026-11-25T09:00:00.123Z");
    let producer = |name: &str| ProducerRow {
        name: name.into(),
        feeds: vec![Feed::Beds, Feed::Ed],
        sites: vec!["MPH".into()],
        created_at: created,
        revoked_at: None,
    };
    store
        .create_producer_token("t1", &producer("trust-a"))
        .await
        .expect("created");
    for (hash, name) in [("t2", "trust-a"), ("t1", "trust-b")] {
        match store.create_producer_token(hash, &producer(name)).await {
            Err(StoreError::Duplicate(what)) => assert_eq!(what, format!("the producer {name}")),
            other => panic!("expected a duplicate, got {other:?}"),
        }
    }
    assert_eq!(
        store.producer_by_token_hash("t1").await.expect("reads"),
        Some(producer("trust-a"))
    );
    assert_eq!(
        store.producer_by_token_hash("t2").await.expect("reads"),
        None
    );
    store
        .create_producer_token("t3", &producer("Zeta"))
        .await
        .expect("created");
    let later = created + Duration::minutes(5);
    assert!(store
        .revoke_producer_token("trust-a", later)
        .await
        .expect("revokes"));
    assert!(!store
        .revoke_producer_token("trust-a", later)
        .await
        .expect("answers"));
    assert_eq!(
        store.producer_by_token_hash("t1").await.expect("reads"),
        None
    );
    let revoked = ProducerRow {
        revoked_at: Some(later),
        ..producer("trust-a")
    };
    assert_eq!(
        store.producer_tokens().await.expect("reads"),
        vec![producer("Zeta"), revoked]
    );
}

fn explanation(level: Option<u8>) -> Explanation {
    Explanation {
        policy: "Somerset".into(),
        policy_version: "2026.1".into(),
        level,
        score: level.map(|l| f64::from(l) - 0.3),
        coverage: 0.875,
        parameters: Vec::new(),
        pending: None,
    }
}

fn calculated(entity: &str, level: Option<u8>, when: DateTime<Utc>) -> LevelChange {
    LevelChange {
        entity: entity.parse().expect("an entity"),
        kind: LevelKind::Calculated,
        at: when,
        level,
        explanation: Some(explanation(level)),
        actor: None,
        reason: None,
    }
}

fn declared(entity: &str, level: Option<u8>, when: DateTime<Utc>) -> LevelChange {
    LevelChange {
        entity: entity.parse().expect("an entity"),
        kind: LevelKind::Declared,
        at: when,
        level,
        explanation: None,
        actor: Some("alex".into()),
        reason: Some("ambulances queueing".into()),
    }
}

fn raised(when: DateTime<Utc>) -> Alert {
    Alert {
        id: 0,
        entity: Entity::Site("MPH".into()),
        kind: LevelKind::Declared,
        at: when,
        from: Some(2),
        to: Some(3),
        actor: Some("alex".into()),
        reason: Some("ambulances queueing".into()),
        actions: vec![
            Action {
                text: "Open the escalation beds".into(),
                done: None,
            },
            Action {
                text: "Call the on-call director".into(),
                done: None,
            },
        ],
    }
}

async fn levels_declarations_and_alerts(s: Subject) {
    let store = s.store.as_ref();
    let mph = Entity::Site("MPH".into());
    let t = |minutes: i64| at("2026-11-25T09:00:00Z") + Duration::minutes(minutes);
    let changes = [
        calculated("site:MPH", Some(2), t(0)),
        calculated("site:MPH", Some(3), t(10)),
        declared("site:MPH", Some(4), t(20)),
        calculated("site:MPH", None, t(30)),
    ];
    let mut alert_ids = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let alert = (i == 1 || i == 2).then(|| raised(change.at));
        let id = store
            .record_level(change, alert.as_ref())
            .await
            .expect("recorded");
        assert_eq!(id.is_some(), alert.is_some());
        alert_ids.extend(id);
    }
    assert!(alert_ids[0] < alert_ids[1]);

    let calc = LevelKind::Calculated;
    assert_eq!(
        store.last_level(&mph, calc).await.expect("reads"),
        Some(None)
    );
    assert_eq!(
        store.last_known_level(&mph, calc).await.expect("reads"),
        Some(3)
    );
    assert_eq!(
        store
            .last_level(&mph, LevelKind::Declared)
            .await
            .expect("reads"),
        Some(Some(4))
    );
    assert_eq!(
        store
            .last_level(&Entity::System, calc)
            .await
            .expect("reads"),
        None
    );
    assert_eq!(
        store.level_at(&mph, calc, t(-1)).await.expect("reads"),
        None
    );
    assert_eq!(
        store.level_at(&mph, calc, t(10)).await.expect("reads"),
        Some(Some(3))
    );
    assert_eq!(
        store.level_at(&mph, calc, t(25)).await.expect("reads"),
        Some(Some(3))
    );
    assert_eq!(
        store.levels(&mph, t(0), t(30)).await.expect("reads"),
        changes.to_vec()
    );
    assert_eq!(
        store.levels(&mph, t(5), t(20)).await.expect("reads"),
        changes[1..3].to_vec()
    );
    assert_eq!(
        store.latest_calculated().await.expect("reads"),
        vec![(mph.clone(), explanation(None))]
    );
    let declaration = Declaration {
        level: 4,
        reason: "ambulances queueing".into(),
        actor: "alex".into(),
        at: t(20),
    };
    assert_eq!(
        store.declarations().await.expect("reads"),
        vec![(mph.clone(), declaration)]
    );
    store
        .record_level(&declared("site:MPH", None, t(40)), None)
        .await
        .expect("withdrawn");
    store
        .record_level(&declared("system", Some(2), t(40)), None)
        .await
        .expect("declared");
    let declared_now: Vec<Entity> = store
        .declarations()
        .await
        .expect("reads")
        .into_iter()
        .map(|(entity, _)| entity)
        .collect();
    assert_eq!(
        declared_now,
        vec![Entity::System],
        "a withdrawn one is not in force"
    );

    let (first, second) = (alert_ids[0], alert_ids[1]);
    store
        .record_action(first, 0, true, "alex", t(11))
        .await
        .expect("marked");
    store
        .record_action(first, 1, true, "sam", t(12))
        .await
        .expect("marked");
    store
        .record_action(first, 1, false, "sam", t(13))
        .await
        .expect("unmarked");
    store
        .record_action(first, 7, true, "sam", t(13))
        .await
        .expect("an action the card does not have is kept, and ignored");
    assert!(
        store
            .record_action(second + 100, 0, true, "sam", t(13))
            .await
            .is_err(),
        "an action of no alert"
    );
    let mut expected = raised(t(10));
    expected.id = first;
    expected.actions[0].done = Some(Done {
        actor: "alex".into(),
        at: t(11),
    });
    assert_eq!(
        store.alert(first).await.expect("reads"),
        Some(expected.clone())
    );
    assert_eq!(store.alert(second + 100).await.expect("reads"), None);
    let ids = |alerts: Vec<Alert>| alerts.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.alerts(t(0), t(60), 10).await.expect("reads")),
        vec![second, first]
    );
    assert_eq!(
        ids(store.alerts(t(0), t(60), 1).await.expect("reads")),
        vec![second]
    );
    assert_eq!(
        ids(store.alerts(t(11), t(60), 10).await.expect("reads")),
        vec![second]
    );
}

fn entry(actor: &str, action: &str, when: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: when,
        actor: actor.into(),
        action: action.into(),
        subject: "session".into(),
        detail: serde_json::json!({"role": "admin", "n": [1, 2.5]}),
        address: Some("127.0.0.1".into()),
    }
}

async fn the_audit_log_is_newest_first_by_order_of_entry(s: Subject) {
    let store = s.store.as_ref();
    let t = |minutes: i64| at("2026-11-25T09:00:00Z") + Duration::minutes(minutes);
    for (actor, minutes) in [("second", 2), ("first", 1), ("third", 3)] {
        let mut e = entry(actor, "login", t(minutes));
        if actor == "third" {
            e.address = None;
            e.detail = serde_json::json!({});
        }
        store.audit(&e).await.expect("appended");
    }
    let log = store.audit_log(t(0), t(10), 10).await.expect("reads");
    let actors: Vec<&str> = log.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["third", "first", "second"]);
    assert!(log[0].id > log[1].id && log[1].id > log[2].id);
    assert_eq!(
        (log[1].at, log[1].detail.clone(), log[1].address.as_deref()),
        (t(1), entry("", "", t(1)).detail, Some("127.0.0.1"))
    );
    assert_eq!(log[0].address, None);
    let limited = store.audit_log(t(0), t(10), 2).await.expect("reads");
    assert_eq!(limited.len(), 2);
    let range = store.audit_log(t(1), t(2), 10).await.expect("reads");
    let actors: Vec<&str> = range.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["first", "second"], "from and to are inclusive");
}

// PostgreSQL's own: several replicas write at once.

#[tokio::test]
async fn postgres_replicas_that_commit_one_record_at_once_accept_it_once() {
    let Some(url) =
        postgres_url("store::postgres_replicas_that_commit_one_record_at_once_accept_it_once")
    else {
        return;
    };
    // Stores that start together migrate one at a time (the migrator's advisory lock).
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(tokio::spawn({
            let url = url.clone();
            async move { PostgresStore::open(&url).await }
        }));
    }
    let mut replicas = Vec::new();
    for store in stores {
        replicas.push(Arc::new(
            store.await.expect("no panic").expect("every replica opens"),
        ));
    }
    let same = batch(
        "trust",
        Feed::Beds,
        vec![record(
            "r1",
            "ga",
            "2026-11-25T10:00:00Z",
            "{\"occupied\":1}",
        )],
    );
    let mut commits = Vec::new();
    for i in 0..16 {
        let (store, same) = (replicas[i % replicas.len()].clone(), same.clone());
        commits.push(tokio::spawn(async move { store.commit(&same).await }));
    }
    let mut accepted = 0;
    for commit in commits {
        match commit.await.expect("no panic").expect("committed") {
            Commit::Committed {
                accepted: 1,
                duplicates: 0,
                ..
            } => accepted += 1,
            Commit::Committed {
                accepted: 0,
                duplicates: 1,
                ..
            } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, 1, "one commit wins; the others see a duplicate");
}

#[tokio::test]
async fn postgres_commits_that_cross_on_the_same_entities_do_not_deadlock() {
    let Some(url) =
        postgres_url("store::postgres_commits_that_cross_on_the_same_entities_do_not_deadlock")
    else {
        return;
    };
    let store = Arc::new(PostgresStore::open(&url).await.expect("opens"));
    let mut commits = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        commits.push(tokio::spawn(async move {
            // Producers write the same pools in opposite orders.
            let mut pools = vec!["A", "B", "C", "D"];
            if i % 2 == 1 {
                pools.reverse();
            }
            let records = pools
                .into_iter()
                .map(|pool| record(&format!("{pool}{i}"), pool, "2026-11-25T10:00:00Z", "{}"))
                .collect();
            store
                .commit(&batch(&format!("producer-{i}"), Feed::Beds, records))
                .await
        }));
    }
    for commit in commits {
        let commit = commit.await.expect("no panic").expect("no deadlock");
        assert!(matches!(commit, Commit::Committed { accepted: 4, .. }));
    }
    assert_eq!(state(store.as_ref()).await.len(), 4);
}

/// What the live fan-out of every replica reads: each write that screens see, in order.
async fn the_outbox_gives_back_every_published_write_in_commit_order(s: Subject) {
    use levels::store::Published;
    use levels_shared::live::Change;
    let store = s.store.as_ref();
    let start = store.outbox_last().await.expect("reads");
    let head = store.outbox_head();
    let now = Utc::now();
    let beds = |records| batch("trust", Feed::Beds, records);
    store
        .commit(&beds(vec![
            record("r1", "A", "2026-11-25T10:00:00Z", "a1"),
            record("r2", "A", "2026-11-25T09:00:00Z", "a0"),
        ]))
        .await
        .expect("commits");
    // Nothing applied (a duplicate): nothing published.
    store
        .commit(&beds(vec![record("r1", "A", "2026-11-25T10:00:00Z", "a1")]))
        .await
        .expect("commits");
    let alert = store
        .record_level(&declared("site:MPH", Some(3), now), Some(&raised(now)))
        .await
        .expect("recorded")
        .expect("an alert id");
    store
        .record_action(alert, 1, true, "alex", now)
        .await
        .expect("recorded");

    let entries: Vec<(i64, Published)> = store
        .outbox_after(start, 100)
        .await
        .expect("reads")
        .into_iter()
        .map(|(seq, published)| (seq, published.expect("a readable entry")))
        .collect();
    let seqs: Vec<i64> = entries.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        vec![start + 1, start + 2, start + 3],
        "numbered without gaps"
    );
    assert_eq!(
        *head.borrow(),
        start + 3,
        "this process knows its own commits at once"
    );
    assert_eq!(store.outbox_last().await.expect("reads"), start + 3);
    match &entries[0].1 {
        Published::Records { feed, records } => {
            assert_eq!(*feed, Feed::Beds);
            let bodies: Vec<&str> = records.iter().map(|r| r.get()).collect();
            assert_eq!(
                bodies,
                vec!["\"a1\""],
                "only the record that became current"
            );
        }
        other => panic!("expected records, got {other:?}"),
    }
    match &entries[1].1 {
        Published::Changes { changes } => {
            assert!(matches!(
                &changes[0],
                Change::Declared { declaration: Some(d), .. } if d.level == 3 && d.actor == "alex"
            ));
            assert!(matches!(&changes[1], Change::Alert { alert: a } if a.id == alert));
        }
        other => panic!("expected changes, got {other:?}"),
    }
    match &entries[2].1 {
        Published::Changes { changes } => assert!(matches!(
            &changes[0],
            Change::Action { alert: a, index: 1, done: Some(d) } if *a == alert && d.actor == "alex"
        )),
        other => panic!("expected changes, got {other:?}"),
    }
    assert_eq!(
        store
            .outbox_after(start + 2, 100)
            .await
            .expect("reads")
            .len(),
        1,
        "read from where a follower left off"
    );
    // Pruning removes old entries but never reuses their numbers.
    let pruned = store
        .prune_outbox(Utc::now() + Duration::seconds(1))
        .await
        .expect("prunes");
    assert!(pruned >= 3);
    assert_eq!(
        store.outbox_last().await.expect("reads"),
        start + 3,
        "the last number given outlives its entry"
    );
    store
        .commit(&beds(vec![record("r3", "B", "2026-11-25T10:00:00Z", "b1")]))
        .await
        .expect("commits");
    let after = store.outbox_after(0, 100).await.expect("reads");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, start + 4);
}

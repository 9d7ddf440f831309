//! Crash safety: the real `levels` binary, SIGKILLed again and again while producers post
//! batches to it, loses no batch it acknowledged, never keeps half a batch, and leaves a
//! database that passes SQLite's integrity check (DESIGN §2: a record is accepted only
//! once durable; the store commits a batch in one transaction with synchronous=FULL).
//! It runs on whichever database the suite runs on (`support::database`): on PostgreSQL
//! the server is killed, not the database, so it proves that a 200 goes out only after the
//! commit, and tests/store.rs asserts the settings that make a commit durable.
//!
//! The binary must be built first: `scripts/test.sh` runs `cargo build -p levels --bin
//! levels` before the tests.

use levels_tests::database::database_url;
use levels_tests::process::{get_json, levels_binary, sign_in, start};
use levels_tests::workspace_root;
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::process::Command;

const TOKEN: &str = "crash-test-producer-token-0123456789";
const PRODUCER: &str = "crash-producer";
const LEADER: &str = "crash-leader";
const PASSWORD: &str = "crash test leader password";
/// One site per concurrent producer, so each owns its bed pool's state.
const SITES: [&str; 4] = ["MPH", "YDH", "WGH", "DCH"];
const KILLS: usize = 5;

/// A small deterministic generator, seeded from the clock (the seed is printed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// The configuration file: a fresh database, a producer token, no simulator, any
/// free port.
fn write_config(dir: &Path) -> PathBuf {
    let producer = format!(
        r#"[[producers]]
name = "{PRODUCER}"
token = "{TOKEN}"
feeds = ["beds", "handovers"]
sites = ["*"]
"#
    );
    levels_tests::process::write_config(dir, &producer)
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// 200: the server said it is durable.
    Acked,
    /// No answer (the server died) or no status: it may or may not have been committed.
    Unanswered,
    /// Any other status: the test sent something wrong.
    Refused(u16, String),
}

#[derive(Debug, Clone)]
struct SentBatch {
    feed: &'static str,
    records: Vec<Value>,
    outcome: Outcome,
}

impl SentBatch {
    fn ids(&self) -> Vec<String> {
        self.records
            .iter()
            .map(|r| r["id"].as_str().expect("an id").to_owned())
            .collect()
    }
}

/// What a producer sends: alternating beds and handovers batches of 1 to 8 records with
/// ids never used before, each observed a second after the last.
struct Producer {
    index: usize,
    site: &'static str,
    batch: u64,
    /// Seconds after `base` of the next record's `at`.
    tick: i64,
    base: chrono::DateTime<chrono::Utc>,
}

impl Producer {
    fn next_batch(&mut self, round: usize, rng: &mut Rng) -> (&'static str, Vec<Value>) {
        let feed = match self.batch % 2 {
            0 => "beds",
            _ => "handovers",
        };
        let n = rng.between(1, 8);
        let records = (0..n)
            .map(|i| {
                self.tick += 1;
                let at = self.base + chrono::Duration::seconds(self.tick);
                let id = format!("k{round}-p{}-b{}-r{i}", self.index, self.batch);
                match feed {
                    "beds" => json!({
                        "id": id, "site": self.site, "at": at.to_rfc3339(),
                        "pool": "general_acute_adult", "core_open": 500,
                        "occupied": self.tick % 500,
                    }),
                    _ => json!({
                        "id": id, "site": self.site, "at": at.to_rfc3339(),
                        "conveyance": format!("AMB-{id}"),
                        "arrived_at": (at - chrono::Duration::minutes(20)).to_rfc3339(),
                        "handed_over_at": at.to_rfc3339(), "category": "C2",
                    }),
                }
            })
            .collect();
        self.batch += 1;
        (feed, records)
    }
}

/// Posts batches as fast as answers come until `stop`; every batch with its outcome.
async fn produce(
    base: String,
    producer: Arc<tokio::sync::Mutex<Producer>>,
    round: usize,
    seed: u64,
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<Vec<SentBatch>>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut rng = Rng(seed | 1);
    while !stop.load(Ordering::SeqCst) {
        let (feed, records) = producer.lock().await.next_batch(round, &mut rng);
        let answer = http
            .post(format!("{base}/api/v1/feeds/{feed}"))
            .bearer_auth(TOKEN)
            .json(&records)
            .send()
            .await;
        let outcome = match answer {
            Ok(res) if res.status().as_u16() == 200 => match res.json::<Value>().await {
                // The status line came, but the answer was cut off: count it as unanswered.
                Ok(body) if body["accepted"].as_u64() == Some(records.len() as u64) => {
                    Outcome::Acked
                }
                Ok(body) => Outcome::Refused(200, body.to_string()),
                Err(_) => Outcome::Unanswered,
            },
            Ok(res) => {
                let status = res.status().as_u16();
                Outcome::Refused(status, res.text().await.unwrap_or_default())
            }
            Err(_) => Outcome::Unanswered,
        };
        let died = outcome == Outcome::Unanswered;
        sent.lock().expect("not poisoned").push(SentBatch {
            feed,
            records,
            outcome,
        });
        if died {
            break;
        }
    }
}

/// Our records in the event log: id → (feed, events.batch_id), with batch id → records,
/// and the database's integrity check: SQLite's `PRAGMA integrity_check`, or on PostgreSQL
/// (which has no such check without extensions) "ok" once every table reads.
async fn event_log(url: &str) -> (String, HashMap<String, (String, i64)>, HashMap<i64, i64>) {
    const EVENTS: &str = "SELECT record_id, feed, batch_id FROM events WHERE producer = $1";
    const BATCHES: &str = "SELECT id, records FROM batches WHERE producer = $1";
    /// Record id, feed and batch id of an event.
    type EventRow = (String, String, i64);
    let (integrity, rows, sizes): (String, Vec<EventRow>, Vec<(i64, i64)>) =
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .expect("a database URL")
                .create_if_missing(false);
            let mut conn = options.connect().await.expect("the database opens");
            let integrity = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .expect("integrity_check runs");
            let rows = sqlx::query(EVENTS)
                .bind(PRODUCER)
                .fetch_all(&mut conn)
                .await;
            let sizes = sqlx::query(BATCHES)
                .bind(PRODUCER)
                .fetch_all(&mut conn)
                .await;
            (
                integrity,
                rows.expect("the events table")
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect(),
                sizes
                    .expect("the batches table")
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect(),
            )
        } else {
            let mut conn = PgConnection::connect(url)
                .await
                .expect("the database opens");
            let rows = sqlx::query(EVENTS)
                .bind(PRODUCER)
                .fetch_all(&mut conn)
                .await;
            let sizes = sqlx::query(BATCHES)
                .bind(PRODUCER)
                .fetch_all(&mut conn)
                .await;
            (
                "ok".to_owned(),
                rows.expect("the events table")
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect(),
                sizes
                    .expect("the batches table")
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect(),
            )
        };
    let mut events = HashMap::new();
    for (id, feed, batch) in rows {
        assert!(
            events.insert(id.clone(), (feed, batch)).is_none(),
            "{id} is in the log twice"
        );
    }
    (integrity, events, sizes.into_iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_batches_survive_sigkill_and_no_batch_is_ever_half_applied() {
    let started = Instant::now();
    let binary = levels_binary();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    // The database `write_config` chose for this folder.
    let db = database_url(dir.path());
    let log = dir.path().join("levels.log");
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(42);
    eprintln!("crash test: seed {seed}, binary {}", binary.display());
    let mut rng = Rng(seed | 1);

    // An account to read the state with, made as an administrator would.
    let made = Command::new(&binary)
        .args(["user", "add", LEADER, "--role", "system_leader", "--config"])
        .arg(&config)
        .env("NEW_ACCOUNT_PASSWORD", PASSWORD)
        .current_dir(workspace_root())
        .output()
        .await
        .expect("levels user add runs");
    assert!(
        made.status.success(),
        "levels user add failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );

    let base_time = chrono::Utc::now() - chrono::Duration::hours(2);
    let producers: Vec<Arc<tokio::sync::Mutex<Producer>>> = SITES
        .iter()
        .enumerate()
        .map(|(index, site)| {
            Arc::new(tokio::sync::Mutex::new(Producer {
                index,
                site,
                batch: 0,
                tick: 0,
                base: base_time,
            }))
        })
        .collect();
    let sent: Arc<Mutex<Vec<SentBatch>>> = Arc::default();
    for round in 0..KILLS {
        let server = start(&binary, &config, &log).await;
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = producers
            .iter()
            .map(|p| {
                tokio::spawn(produce(
                    server.base.clone(),
                    p.clone(),
                    round,
                    rng.next(),
                    stop.clone(),
                    sent.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.between(200, 800))).await;
        server.kill().await;
        stop.store(true, Ordering::SeqCst);
        for t in tasks {
            t.await.expect("a producer task");
        }
    }
    let sent = sent.lock().expect("not poisoned").clone();

    // The event log after the last kill.
    let (integrity, events, sizes) = event_log(&db).await;
    assert_eq!(integrity, "ok", "PRAGMA integrity_check");
    let refused: Vec<&SentBatch> = sent
        .iter()
        .filter(|b| matches!(b.outcome, Outcome::Refused(..)))
        .collect();
    assert!(refused.is_empty(), "batches refused: {refused:?}");
    let mut acked_records = 0;
    let mut unanswered_kept = 0;
    let mut unanswered_lost = 0;
    for batch in &sent {
        let ids = batch.ids();
        let present: Vec<&(String, i64)> = ids.iter().filter_map(|id| events.get(id)).collect();
        match batch.outcome {
            Outcome::Acked => {
                assert_eq!(
                    present.len(),
                    ids.len(),
                    "an acknowledged {} batch lost records: {ids:?}",
                    batch.feed
                );
                acked_records += ids.len();
            }
            _ => {
                assert!(
                    present.is_empty() || present.len() == ids.len(),
                    "an unacknowledged {} batch is half applied: {} of {ids:?}",
                    batch.feed,
                    present.len()
                );
                if present.is_empty() {
                    unanswered_lost += 1;
                } else {
                    unanswered_kept += 1;
                }
            }
        }
        // A stored batch is one commit: one batch row, all of its records, nothing else.
        let batch_ids: BTreeSet<i64> = present.iter().map(|(_, b)| *b).collect();
        assert!(
            batch_ids.len() <= 1,
            "one batch in several commits: {batch_ids:?}"
        );
        for (feed, id) in &present {
            assert_eq!(feed, batch.feed);
            assert_eq!(sizes.get(id), Some(&(ids.len() as i64)), "batch row {id}");
        }
    }
    assert_eq!(
        events.len(),
        sent.iter()
            .filter(|b| b.ids().iter().any(|id| events.contains_key(id)))
            .map(|b| b.records.len())
            .sum::<usize>(),
        "the log holds only records the producers sent"
    );

    // Restarted: the state shows, for each producer's bed pool, its latest stored record;
    // every acknowledged batch sent again is recognised, record for record, as a duplicate.
    let server = start(&binary, &config, &log).await;
    let cookie = sign_in(&server.base, LEADER, PASSWORD).await;
    let state = get_json(&server.base, "/api/v1/state", &cookie).await;
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .unwrap_or_else(|| panic!("a timestamp, not {v}"))
    };
    let mut latest: BTreeMap<&str, (chrono::DateTime<chrono::FixedOffset>, i64)> = BTreeMap::new();
    for batch in sent.iter().filter(|b| b.feed == "beds") {
        for r in &batch.records {
            if events.contains_key(r["id"].as_str().unwrap_or_default()) {
                let site = r["site"].as_str().expect("a site");
                let at = time(&r["at"]);
                let occupied = r["occupied"].as_i64().expect("occupied");
                let entry = latest.entry(site).or_insert((at, occupied));
                if at > entry.0 {
                    *entry = (at, occupied);
                }
            }
        }
    }
    for (site, (at, occupied)) in &latest {
        let pool = &state["state"]["sites"][site]["beds"]["general_acute_adult"];
        assert_eq!(pool["occupied"], *occupied, "{site}: {pool}");
        assert_eq!(time(&pool["at"]), *at, "{site}: {pool}");
    }
    let http = reqwest::Client::new();
    for batch in sent.iter().filter(|b| b.outcome == Outcome::Acked) {
        let again: Value = http
            .post(format!("{}/api/v1/feeds/{}", server.base, batch.feed))
            .bearer_auth(TOKEN)
            .json(&batch.records)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            (again["accepted"].as_u64(), again["duplicates"].as_u64()),
            (Some(0), Some(batch.records.len() as u64)),
            "an acknowledged batch sent again: {again}"
        );
    }
    server.kill().await;
    let (integrity, after, _) = event_log(&db).await;
    assert_eq!(
        integrity, "ok",
        "PRAGMA integrity_check after the last kill"
    );
    assert_eq!(after.len(), events.len(), "re-sent batches added nothing");

    let acked = sent.iter().filter(|b| b.outcome == Outcome::Acked).count();
    eprintln!(
        "crash test on {}: {} kills (+1 after the checks); {} batches sent, {acked} acknowledged ({acked_records} records), {} unanswered ({unanswered_kept} stored in full before the kill, {unanswered_lost} not at all); {} records in the log; {:?}",
        levels::store::redacted(&db),
        KILLS,
        sent.len(),
        unanswered_kept + unanswered_lost,
        events.len(),
        started.elapsed()
    );
    assert!(
        acked > 0,
        "no batch was acknowledged: the test proved nothing"
    );
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "the crash test took {:?}",
        started.elapsed()
    );
}

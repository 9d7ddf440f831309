//! Several replicas of one system on one PostgreSQL (DESIGN §2): a write taken by one
//! replica reaches the screens of every other, in order, through the outbox and
//! `LISTEN/NOTIFY`; killing a replica loses nothing, and another takes over its work.
//!
//! Replica A is the real `levels` binary (so it can be SIGKILLed); replica B runs in the
//! test, which reads its screens' websocket. Both use the test's own database.

use levels_shared::live::{Change, ServerMsg};
use levels_tests::database::postgres_or_skip;
use levels_tests::process::{get_json, levels_binary, start, Server};
use levels_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// Replica A: the binary on the same database as `b`, with the test's producer token.
async fn replica_a(dir: &Path, database: &str) -> Server {
    let config = format!(
        r#"[server]
bind = "127.0.0.1:0"

[database]
url = "{database}"

[live]
heartbeat_seconds = 1

[log]
level = "warn"

[[producers]]
name = "trust-integration"
token = "{TOKEN}"
feeds = ["beds", "handovers", "discharge-delays", "community", "ed"]
sites = ["*"]
"#
    );
    let path = dir.join("replica-a.toml");
    std::fs::write(&path, config).expect("the configuration is written");
    start(&levels_binary(), &path, &dir.join("replica-a.log")).await
}

async fn post_to(base: &str, records: &Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/feeds/beds"))
        .bearer_auth(TOKEN)
        .json(records)
        .send()
        .await;
    match res {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn ready(base: &str) -> Value {
    reqwest::get(format!("{base}/readyz"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON")
}

/// The beds records in a live message, as (id, occupied).
fn beds_in(msg: &ServerMsg) -> Vec<(String, u32)> {
    match msg {
        ServerMsg::Delta { changes, .. } => changes
            .iter()
            .filter_map(|c| match c {
                Change::Beds { record } => Some((record.id.clone(), record.occupied)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_taken_by_one_replica_reaches_the_screens_of_another_in_order_and_a_killed_replica_loses_nothing(
) {
    let Some(_) = postgres_or_skip("replicas::a_batch_taken_by_one_replica…") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = test_config(dir.path());
    let database = config.database.url.clone();
    assert!(database.starts_with("postgres"), "{database}");
    // A first, so it leads; B then makes the accounts both replicas share.
    let a = replica_a(dir.path(), &database).await;
    let b = TestApp::spawn(config).await;
    let b_base = format!("http://{}", b.addr);
    assert_eq!(
        ready(&a.base).await["leads"],
        true,
        "the first replica leads"
    );
    assert_eq!(ready(&b_base).await["leads"], false, "the second waits");

    // In order, within a second: 20 batches posted one after another to A.
    let mut screen = b.live(None).await;
    screen.next().await;
    let base_time = chrono::Utc::now() - chrono::Duration::minutes(30);
    let mut slowest = Duration::ZERO;
    let mut seen = Vec::new();
    for n in 0..20u32 {
        let at = (base_time + chrono::Duration::seconds(n.into())).to_rfc3339();
        let id = format!("a{n}");
        let (status, reply) = post_to(&a.base, &json!([beds_at(&id, "MPH", 300 + n, &at)])).await;
        assert_eq!(status, 200, "{reply}");
        let acked = Instant::now();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(1), screen.next_change())
                .await
                .unwrap_or_else(|_| panic!("batch {id} did not reach B's screen within 1 s"));
            let beds = beds_in(&msg);
            seen.extend(beds.iter().cloned());
            if beds.iter().any(|(seen_id, _)| *seen_id == id) {
                slowest = slowest.max(acked.elapsed());
                break;
            }
        }
    }
    let order: Vec<u32> = seen.iter().map(|(_, occupied)| *occupied).collect();
    assert_eq!(
        order,
        (300..320).collect::<Vec<_>>(),
        "every batch once, in order"
    );
    println!("replicas: 20 batches from A's acknowledgement to B's screen, slowest {slowest:?}");
    // Well inside the follower's 1 s poll: B was woken by the notification.
    assert!(slowest < Duration::from_millis(500), "slowest {slowest:?}");

    // The other way: B takes a batch, A shows it.
    let (status, _) = b.post_beds(&json!([beds("b-1", "YDH", 222)])).await;
    assert_eq!(status, 200);
    let cookie = b.cookie(levels_shared::access::Role::Display).to_owned();
    let mut shown = None;
    for _ in 0..20 {
        let state = get_json(&a.base, "/api/v1/state", &cookie).await;
        shown = occupied(&state, "YDH");
        if shown == Some(222) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        shown,
        Some(222),
        "A shows what B took, signed in with B's session"
    );

    // Killing A loses nothing it acknowledged: producers post to A until it is killed.
    let sites = ["MPH", "YDH", "WGH", "DCH"];
    let a_base = a.base.clone();
    let acked_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = acked_so_far.clone();
    // Each batch one record (id, site, occupied); the acknowledged ones, and the one in
    // flight when A died (committed or not: A could not answer).
    let producing = tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut in_flight = None;
        for n in 0..u32::MAX {
            let site = sites[n as usize % sites.len()];
            let id = format!("k{n}");
            let occupied = 100 + n % 300;
            let at = chrono::Utc::now().to_rfc3339();
            match post_to(&a_base, &json!([beds_at(&id, site, occupied, &at)])).await {
                (200, _) => {
                    acked.push((id, site, u64::from(occupied)));
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                (0, _) => {
                    in_flight = Some((site, u64::from(occupied)));
                    break;
                }
                (status, reply) => panic!("A refused a batch: {status} {reply}"),
            }
        }
        (acked, in_flight)
    });
    let watching = tokio::spawn(async move {
        let mut ids = BTreeSet::new();
        while let Ok(msg) = tokio::time::timeout(Duration::from_secs(3), screen.next_change()).await
        {
            ids.extend(beds_in(&msg).into_iter().map(|(id, _)| id));
        }
        ids
    });
    // A is killed once it has acknowledged a good number of batches.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked_so_far.load(std::sync::atomic::Ordering::Relaxed) < 40 {
        assert!(
            Instant::now() < deadline,
            "A acknowledged only {} batches in 20 s",
            acked_so_far.load(std::sync::atomic::Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.kill().await;
    let (acked, in_flight) = producing.await.expect("the producer ran");
    let seen = watching.await.expect("the watcher ran");
    assert!(acked.len() >= 40, "A acknowledged {} batches", acked.len());
    let lost: Vec<&String> = acked
        .iter()
        .map(|(id, ..)| id)
        .filter(|id| !seen.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged by A but never on B's screen: {lost:?}"
    );
    println!(
        "replicas: {} batches acknowledged by A before it was killed, all on B's screen",
        acked.len()
    );

    // B takes over the work one replica does for all.
    let mut leads = false;
    for _ in 0..100 {
        leads = ready(&b_base).await["leads"] == true;
        if leads {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(leads, "B leads within 10 s of A's death");
    assert_eq!(ready(&b_base).await["ready"], true);
    // B serves the latest of what A acknowledged for every site: the last acknowledged
    // batch, or the one A was killed answering if A committed it first.
    let state = b.state().await;
    let shown: BTreeMap<&str, Option<u64>> =
        sites.iter().map(|s| (*s, occupied(&state, s))).collect();
    for site in sites {
        let last_acked = acked
            .iter()
            .rev()
            .find(|(_, s, _)| *s == site)
            .map(|(_, _, occupied)| *occupied);
        let unanswered = in_flight.filter(|(s, _)| *s == site).map(|(_, o)| o);
        assert!(
            shown[site] == last_acked || (unanswered.is_some() && shown[site] == unanswered),
            "{site}: B shows {:?}, A last acknowledged {last_acked:?} (in flight {unanswered:?}); all: {shown:?}",
            shown[site]
        );
    }
    // And B, now leading, takes writes and serves them.
    let (status, reply) = b
        .post_beds(&json!([beds_at(
            "after-a",
            "WGH",
            123,
            &chrono::Utc::now().to_rfc3339()
        )]))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(occupied(&b.state().await, "WGH"), Some(123));
    b.stop().await;
}

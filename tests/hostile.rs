//! Hostile clients against the real server: arbitrary bodies posted to every feed, bodies
//! over the limits, requests that stall, and websocket clients that send garbage. The
//! server answers each with a clear 4xx (never a 5xx), or closes that one connection, and
//! keeps serving everyone else; what it had accepted stays as it was.

use levels_shared::access::Role;
use levels_shared::live::{Change, ServerMsg};
use levels_tests::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// The largest message a live client may send (the server only ever expects short ones).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

const FEEDS: [&str; 5] = ["beds", "handovers", "discharge-delays", "community", "ed"];

/// A valid record of `feed`, observed a few minutes ago, never at `DCH` (the baseline's site).
fn valid(feed: &str, id: &str) -> Value {
    let at = minutes_ago(5);
    match feed {
        "beds" => json!({
            "id": id, "site": "MPH", "at": at, "pool": "general_acute_adult",
            "core_open": 500, "escalation_open": 20, "occupied": 450, "closed_ipc": 4,
            "los_7_plus": 200, "los_14_plus": 100, "los_21_plus": 50,
        }),
        "handovers" => json!({
            "id": id, "site": "MPH", "at": at, "conveyance": "AMB-001",
            "arrived_at": minutes_ago(40), "handed_over_at": minutes_ago(10), "category": "C2",
        }),
        "discharge-delays" => json!({
            "id": id, "site": "YDH", "at": at, "patient": "PX-1042", "nhs_number": "9434765919",
            "ward": "Ward 7", "admitted_at": "2026-01-10T14:00:00Z", "ready_at": "2026-01-18T10:00:00Z",
            "pathway": "P3", "reason": "p3_placement", "responsible": "social_care",
            "locality": "E07000190",
        }),
        "community" => json!({
            "id": id, "site": "SHEP", "at": at, "team": "CN-MENDIP", "service": "community_nursing",
            "caseload": 612, "capacity": 600, "referrals_waiting": 31, "unmet_care_hours": 2.5,
        }),
        _ => json!({
            "id": id, "site": "YDH", "at": at, "in_department": 62, "over_4h": 20, "over_12h": 4,
            "awaiting_admission": 11, "attendances_today": 70, "within_4h_today": 52,
        }),
    }
}

/// Values a hostile producer might put in any field.
fn hostile_value() -> impl Strategy<Value = Value> {
    let edges = vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!(-0.0),
        json!(1_000_001),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e300),
        json!(""),
        json!("NaN"),
        json!("Infinity"),
        json!("-0"),
        json!("1e400"),
        json!("4294967296"),
        json!("\u{0}"),
        json!("tab\there"),
        json!("\u{feff}"),
        json!("😀"),
        json!("x".repeat(200)),
        json!("'; DROP TABLE events; --"),
        json!("MPH"),
        json!("XYZ"),
        json!("2026-11-25T08:00:00"),
        json!("0000-01-01T00:00:00+23:59"),
        json!("9999-12-31T23:59:59Z"),
        json!("2026-06-30T23:59:60Z"),
        json!([1, [2, [3]]]),
        json!({"a": {"b": []}}),
    ];
    prop_oneof![
        4 => prop::sample::select(edges),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => "\\PC{0,20}".prop_map(Value::String),
    ]
}

/// A batch of `feed`'s valid records, each then changed: fields removed, set to hostile
/// values, or added.
fn mutated_batch(feed: &'static str) -> impl Strategy<Value = Vec<Value>> {
    let field = prop_oneof![
        4 => prop::sample::select(vec![
            "id", "site", "at", "pool", "core_open", "occupied", "conveyance", "arrived_at",
            "handed_over_at", "patient", "ward", "admitted_at", "ready_at", "pathway", "reason",
            "status", "team", "service", "caseload", "capacity", "in_department", "over_4h",
        ]).prop_map(str::to_owned),
        1 => "[a-z_]{1,10}",
    ];
    let mutation = (field, prop::option::of(hostile_value()));
    let record = prop::collection::vec(mutation, 1..4);
    prop::collection::vec(record, 1..5).prop_map(move |records| {
        records
            .into_iter()
            .enumerate()
            .map(|(i, mutations)| {
                let mut r = valid(feed, &format!("hostile-{i}"));
                for (field, value) in mutations {
                    match value {
                        Some(v) => r[field.as_str()] = v,
                        None => {
                            r.as_object_mut().expect("an object").remove(&field);
                        }
                    }
                }
                r
            })
            .collect()
    })
}

/// A batch as CSV: one column per field of any record; text as it is, other values as JSON.
fn csv(records: &[Value]) -> Vec<u8> {
    let mut columns: Vec<String> = Vec::new();
    for r in records {
        for k in r.as_object().expect("an object").keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let quote = |text: String| format!("\"{}\"", text.replace('"', "\"\""));
    let mut out = columns
        .iter()
        .cloned()
        .map(quote)
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in records {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &r[c.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => quote(s.clone()),
                other => quote(other.to_string()),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// Bodies from a small alphabet of JSON and CSV tokens, so random ones get past the first byte.
fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"[",
        b"]",
        b"{",
        b"}",
        b",",
        b":",
        b"\"",
        b"\"id\"",
        b"\"site\"",
        b"\"records\"",
        b"\"MPH\"",
        b"0",
        b"-",
        b"1e400",
        b"true",
        b"null",
        b"\n",
        b"\r",
        b"\\u0000",
        b"\xFF",
        b"\xEF\xBB\xBF",
        b"id,site,at",
        b"a",
        b"\"\"",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..300).prop_map(|t| t.concat())
}

/// Whole bodies: arbitrary bytes, token soup, mutated batches, and the known nasty shapes.
fn hostile_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let json_type = || Just("application/json".to_owned());
    let any_type = prop::sample::select(vec![
        "application/json",
        "text/csv",
        "application/json; charset=utf-8",
        "TEXT/CSV",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ])
    .prop_map(str::to_owned);
    let deep = |open: &str, close: &str| {
        format!("{}{}", open.repeat(100_000), close.repeat(100_000)).into_bytes()
    };
    let too_many = format!("[{}{{}}]", "{},".repeat(10_000)).into_bytes();
    let huge_field = serde_json::to_vec(&json!([{"id": "x".repeat(1 << 20), "site": "MPH"}]))
        .expect("serialises");
    let nasty = prop::sample::select(vec![
        deep("[", "]"),
        deep("{\"records\":", "}"),
        format!(
            "[{{\"core_open\":{}0{}}}]",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
        .into_bytes(),
        too_many,
        huge_field,
        b"[{\"id\": \"\xFF\xFE\"}]".to_vec(),
        b"[{\"core_open\": 1e400}]".to_vec(),
        b"\xEF\xBB\xBF{\"records\": 3}".to_vec(),
        b"{\"records\": [], \"extra\": 1}".to_vec(),
        Vec::new(),
    ]);
    prop_oneof![
        2 => (any_type.clone(), prop::collection::vec(any::<u8>(), 0..4096)),
        2 => (any_type, token_soup()),
        1 => (json_type(), nasty.clone()),
        1 => (Just("text/csv".to_owned()), nasty),
        1 => (Just("text/csv".to_owned()), token_soup()),
    ]
}

/// A multi-threaded runtime for properties that drive the async server from proptest's
/// synchronous runner.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn http_cases() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// What a producer can rely on, whatever it sent: a 2xx with counts, or a 4xx with a
/// JSON body naming the problem. Never a 5xx.
fn check_answer(
    content_type: &str,
    records: Option<usize>,
    status: u16,
    body: &Value,
) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "a server error: {} {}", status, body);
    prop_assert!(
        [200, 400, 413, 415, 422].contains(&status),
        "an unexpected status {} {}",
        status,
        body
    );
    if status == 200 {
        prop_assert!(
            body["accepted"].is_u64() && body["duplicates"].is_u64(),
            "{}",
            body
        );
        return Ok(());
    }
    let error = body["error"].as_str().unwrap_or_default();
    prop_assert!(!error.is_empty(), "no error message: {}", body);
    prop_assert!(
        error.len() < 1000,
        "a long error message: {} bytes",
        error.len()
    );
    let json = content_type
        .to_ascii_lowercase()
        .starts_with("application/json");
    match status {
        400 if json => prop_assert!(
            body["line"].is_u64() && body["column"].is_u64(),
            "no position: {}",
            body
        ),
        413 => prop_assert!(
            error.contains("limit") || error.contains("records"),
            "{}",
            error
        ),
        415 => prop_assert!(error.contains("content type"), "{}", error),
        422 => {
            let errors = body["errors"]
                .as_array()
                .ok_or_else(|| TestCaseError::fail(format!("no errors list: {body}")))?;
            prop_assert!(!errors.is_empty() && errors.len() <= 100);
            for e in errors {
                let index = e["index"].as_u64().unwrap_or(u64::MAX);
                if let Some(n) = records {
                    prop_assert!(index < n as u64, "record {} of {}: {}", index, n, e);
                }
                let field = e["field"].as_str().unwrap_or_default();
                let message = e["message"].as_str().unwrap_or_default();
                prop_assert!(message.contains(field), "{}", e);
                prop_assert!(!json || e["line"].is_null(), "{}", e);
                prop_assert!(
                    json || e["line"].is_u64(),
                    "a CSV error without a line: {}",
                    e
                );
            }
        }
        _ => {}
    }
    Ok(())
}

/// A server with a baseline batch accepted at `DCH`, where no hostile record goes.
async fn with_baseline() -> (TestApp, tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut record = beds("baseline-1", "DCH", 300);
    record["pool"] = json!("adult_critical_care");
    record["core_open"] = json!(40);
    record["escalation_open"] = json!(0);
    record["occupied"] = json!(31);
    let baseline = json!([record, beds("baseline-2", "DCH", 290)]);
    app.post_ok("beds", &baseline).await;
    (app, dir, baseline)
}

/// The baseline is still stored exactly (re-sending it finds two duplicates), still the
/// state, and a new valid batch is still accepted.
async fn check_baseline_and_still_serving(app: &TestApp, baseline: &Value) {
    let again = app.post_ok("beds", baseline).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2)),
        "the baseline is stored unchanged: {again}"
    );
    let state = app.state().await;
    let dch = &state["state"]["sites"]["DCH"]["beds"];
    assert_eq!(dch["adult_critical_care"]["occupied"], 31, "{dch}");
    assert_eq!(dch["general_acute_adult"]["occupied"], 290, "{dch}");
    let id = format!(
        "after-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let answer = app.post_ok("beds", &json!([beds(&id, "YDH", 250)])).await;
    assert_eq!(answer["accepted"], 1);
}

#[test]
fn arbitrary_bodies_to_every_feed_get_a_clear_4xx_and_accepted_records_stay_as_they_were() {
    let rt = runtime();
    let (app, _dir, baseline) = rt.block_on(with_baseline());
    let started = Instant::now();
    let mut runner = TestRunner::new(http_cases());
    let result = runner.run(
        &(prop::sample::select(FEEDS.to_vec()), hostile_body()),
        |(feed, (content_type, body))| {
            let (status, answer) = rt.block_on(app.post(feed, Some(TOKEN), &content_type, body));
            check_answer(&content_type, None, status, &answer)
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("32 arbitrary bodies posted in {:?}", started.elapsed());
    rt.block_on(check_baseline_and_still_serving(&app, &baseline));
    rt.block_on(app.stop());
}

#[test]
fn mutated_batches_of_every_feed_are_accepted_or_refused_naming_record_line_and_field() {
    let rt = runtime();
    let (app, _dir, baseline) = rt.block_on(with_baseline());
    let strategy = prop::sample::select(FEEDS.to_vec())
        .prop_flat_map(|feed| (Just(feed), mutated_batch(feed), any::<bool>()));
    let mut runner = TestRunner::new(http_cases());
    let result = runner.run(&strategy, |(feed, records, as_csv)| {
        let (content_type, body) = if as_csv {
            ("text/csv", csv(&records))
        } else {
            (
                "application/json",
                serde_json::to_vec(&records).expect("serialises"),
            )
        };
        let (status, answer) = rt.block_on(app.post(feed, Some(TOKEN), content_type, body));
        check_answer(content_type, Some(records.len()), status, &answer)?;
        // A valid JSON batch is only ever refused for its records; CSV may also be
        // refused for its header (a field name no CSV column may have).
        prop_assert!(as_csv || status != 400, "{} {}", status, answer);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    rt.block_on(check_baseline_and_still_serving(&app, &baseline));
    rt.block_on(app.stop());
}

#[tokio::test]
async fn a_body_over_the_default_limit_is_a_413_that_names_the_limit_and_the_server_keeps_serving()
{
    let (app, _dir, baseline) = with_baseline().await;
    let limit = 10 * 1024 * 1024;
    // A JSON batch one byte over 10 MiB, sent in full with its length.
    let mut body = format!("[{{\"id\": \"{}", "x".repeat(limit));
    body.truncate(limit + 1);
    let (status, answer) = app
        .post("beds", Some(TOKEN), "application/json", body)
        .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        answer["error"],
        format!("the body is larger than the limit of {limit} bytes")
    );
    // The same, sent chunked with no length given: refused once the limit is passed.
    let tcp = TcpStream::connect(app.addr).await.expect("connects");
    let (mut read, mut write) = tcp.into_split();
    let writer = tokio::spawn(async move {
        let head = format!("POST /api/v1/feeds/beds HTTP/1.1\r\nHost: levels\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        write.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..11 {
            write.write_all(b"100000\r\n").await?;
            write.write_all(&chunk).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("the body is larger than the limit of 10485760 bytes"),
        "{answer}"
    );
    let _ = writer.await;
    // Other endpoints share the limit.
    let res = app
        .http
        .post(app.url("/api/v1/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; limit + 1])
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status().as_u16(), 413);
    check_baseline_and_still_serving(&app, &baseline).await;
    app.stop().await;
}

#[tokio::test]
async fn a_batch_of_more_than_10000_records_is_a_413_that_says_to_split_it() {
    let (app, _dir, baseline) = with_baseline().await;
    let records: Vec<Value> = (0..10_001)
        .map(|i| beds(&format!("many-{i}"), "MPH", 400))
        .collect();
    let (status, answer) = app.post_beds(&Value::Array(records.clone())).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        answer["error"],
        "the batch has more than 10000 records; split it into batches of at most 10000"
    );
    let (status, answer) = app
        .post("beds", Some(TOKEN), "text/csv", csv(&records))
        .await;
    assert_eq!(status, 413, "{answer}");
    // 10,000 invalid records: the first 100 errors, and a count of the rest.
    let bad: Vec<Value> = (0..10_000)
        .map(|i| json!({"id": format!("bad-{i}")}))
        .collect();
    let (status, answer) = app.post_beds(&Value::Array(bad)).await;
    assert_eq!(status, 422);
    assert_eq!(answer["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(
        answer["unlisted_errors"],
        10_000 * 5 - 100,
        "{}",
        answer["error"]
    );
    check_baseline_and_still_serving(&app, &baseline).await;
    app.stop().await;
}

/// Sends `head` (and no body) on a raw connection; the status line of the answer, or
/// `None` when the connection closes first. Waits at most `wait`.
async fn raw_request(app: &TestApp, head: &str, wait: Duration) -> Option<String> {
    let mut tcp = TcpStream::connect(app.addr).await.expect("connects");
    tcp.write_all(head.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => panic!("no answer within {wait:?} to {head:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn a_request_refused_by_its_head_is_answered_without_waiting_for_its_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let head = |auth: &str, feed: &str, content_type: &str, length: u64| {
        format!(
            "POST /api/v1/feeds/{feed} HTTP/1.1\r\nHost: levels\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let wait = Duration::from_secs(5);
    // Each announces a body that never comes.
    for (head, status) in [
        (head("", "beds", "application/json", 5_000_000), "401"),
        (
            head(
                "Authorization: Bearer wrong\r\n",
                "beds",
                "application/json",
                1000,
            ),
            "401",
        ),
        (head(&bearer, "bedz", "application/json", 1000), "404"),
        (head(&bearer, "beds", "text/plain", 1000), "415"),
        (
            head(&bearer, "beds", "application/json", 20 * 1024 * 1024),
            "413",
        ),
    ] {
        let line = raw_request(&app, &head, wait).await;
        assert!(
            line.as_deref()
                .is_some_and(|l| l.starts_with(&format!("HTTP/1.1 {status}"))),
            "{head:?} was answered {line:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_server_keeps_serving_while_many_connections_stall() {
    let (app, _dir, baseline) = with_baseline().await;
    let mut stalled = Vec::new();
    for i in 0..64 {
        let mut tcp = TcpStream::connect(app.addr).await.expect("connects");
        let partial = if i % 2 == 0 {
            // Headers never finished.
            "POST /api/v1/feeds/beds HTTP/1.1\r\nHost: levels\r\nContent-Le".to_owned()
        } else {
            // A body that never finishes.
            format!("POST /api/v1/feeds/beds HTTP/1.1\r\nHost: levels\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{{\"id\":")
        };
        tcp.write_all(partial.as_bytes()).await.expect("sent");
        stalled.push(tcp);
    }
    let started = Instant::now();
    let (status, _) = app.get_as(None, "/healthz").await;
    assert_eq!(status, 200);
    check_baseline_and_still_serving(&app, &baseline).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(stalled);
    app.stop().await;
}

/// The test configuration with `server.request_timeout_seconds` set. Until the server has
/// that setting this fails, naming it.
fn with_request_timeout(dir: &std::path::Path, seconds: u64) -> levels::config::Config {
    let mut value = serde_json::to_value(test_config(dir)).expect("the configuration serialises");
    value["server"]["request_timeout_seconds"] = json!(seconds);
    serde_json::from_value(value).unwrap_or_else(|e| {
        panic!("the server has no `server.request_timeout_seconds` setting yet ({e}); it is needed to cut off requests that stall")
    })
}

/// Waits up to `wait` on a connection that stalls: the answer's status line, or `None`
/// when the server closed it without one. Panics if neither happens in time.
async fn until_answered_or_closed(tcp: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
            Err(_) => panic!("the stalled request still holds its connection after {wait:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(2).any(|w| w == b"\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn a_request_whose_body_stalls_is_answered_408_or_closed_within_the_request_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(with_request_timeout(dir.path(), 2)).await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("connects");
    let head = format!("POST /api/v1/feeds/beds HTTP/1.1\r\nHost: levels\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{{\"id\":");
    tcp.write_all(head.as_bytes()).await.expect("sent");
    let started = Instant::now();
    let line = until_answered_or_closed(&mut tcp, Duration::from_secs(30)).await;
    let took = started.elapsed();
    eprintln!("a stalled body was answered {line:?} after {took:?}");
    assert!(
        line.as_deref()
            .is_none_or(|l| l.starts_with("HTTP/1.1 408")),
        "answered {line:?}"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "cut off after {took:?}, with a 2 s timeout"
    );
    let (status, _) = app.get_as(None, "/healthz").await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_request_whose_headers_trickle_in_is_closed_within_the_request_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(with_request_timeout(dir.path(), 2)).await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("connects");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: levels\r\n")
        .await
        .expect("sent");
    let started = Instant::now();
    // One more header byte every 500 ms, never the blank line that ends them.
    let trickle = async {
        for b in b"X-Slow: ".iter().cycle() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if tcp.write_all(&[*b]).await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(30), trickle).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "the trickling connection was held for {took:?}, with a 2 s timeout"
    );
    let (status, _) = app.get_as(None, "/healthz").await;
    assert_eq!(status, 200);
    app.stop().await;
}

/// Whether `client` sees the beds record `id` in a delta within 10 s.
async fn sees_record(client: &mut LiveClient, id: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let ServerMsg::Delta { changes, .. } = client.next_change().await {
            let found = changes
                .iter()
                .any(|c| matches!(c, Change::Beds { record } if record.id == id));
            if found {
                return true;
            }
        }
    }
    false
}

/// A watching client and HTTP are both still served: a new batch reaches `watcher` live.
async fn still_serving(app: &TestApp, watcher: &mut LiveClient, id: &str) {
    let (status, _) = app.get_as(None, "/healthz").await;
    assert_eq!(status, 200);
    app.post_beds_ok(&json!([beds(id, "MPH", 401)])).await;
    assert!(
        sees_record(watcher, id).await,
        "the watching client did not get {id}"
    );
}

/// A signed-in live client past its snapshot and first heartbeat.
async fn live_client(app: &TestApp) -> LiveClient {
    let mut client = app
        .live_as(Some(Role::Display), None, None)
        .await
        .expect("the websocket opens");
    assert!(matches!(client.next().await, ServerMsg::Snapshot { .. }));
    client
}

#[tokio::test]
async fn client_messages_up_to_64_kib_of_any_kind_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut watcher = live_client(&app).await;
    let mut client = live_client(&app).await;
    for msg in [
        Message::text("{\"type\":\"resume\",\"epoch\":\"x\",\"seq\":18446744073709551615}"),
        Message::text("not json at all"),
        Message::text("x".repeat(MAX_CLIENT_MESSAGE - 16)),
        Message::binary(vec![0xFFu8; MAX_CLIENT_MESSAGE - 16]),
        Message::Ping(vec![1u8; 16].into()),
        Message::Pong(vec![2u8; 16].into()),
    ] {
        client.send(msg).await.expect("sent");
    }
    assert!(
        !client.closes_within(Duration::from_secs(2)).await,
        "a client sending small messages is not cut off"
    );
    still_serving(&app, &mut client, "small-1").await;
    still_serving(&app, &mut watcher, "small-2").await;
    app.stop().await;
}

#[tokio::test]
async fn a_client_message_over_64_kib_closes_that_connection_and_others_keep_streaming() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut watcher = live_client(&app).await;

    // One frame just over the limit.
    let mut text = live_client(&app).await;
    let _ = text
        .send(Message::text("x".repeat(MAX_CLIENT_MESSAGE + 1)))
        .await;
    // A binary message over the limit, in small fragments.
    let mut fragments = live_client(&app).await;
    let piece = vec![7u8; 1024];
    let _ = fragments
        .send(Message::Frame(Frame::message(
            piece.clone(),
            OpCode::Data(Data::Binary),
            false,
        )))
        .await;
    for i in 0..80 {
        let last = i == 79;
        let frame = Frame::message(piece.clone(), OpCode::Data(Data::Continue), last);
        if fragments.send(Message::Frame(frame)).await.is_err() {
            break;
        }
    }
    assert!(
        text.closes_within(Duration::from_secs(5)).await,
        "a 64 KiB + 1 text message must close the connection (max_message_size 64 KiB)"
    );
    assert!(
        fragments.closes_within(Duration::from_secs(5)).await,
        "an 80 KiB message in 1 KiB fragments must close the connection"
    );
    still_serving(&app, &mut watcher, "after-over-limit").await;
    app.stop().await;
}

#[tokio::test]
async fn huge_frames_binary_floods_and_invalid_utf8_never_disturb_other_clients() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut watcher = live_client(&app).await;

    // Invalid UTF-8 in a text frame: a protocol error, so that connection is closed.
    let mut invalid = live_client(&app).await;
    let frame = Frame::message(
        vec![b'{', 0xFF, 0xFE, 0xFD, b'}'],
        OpCode::Data(Data::Text),
        true,
    );
    invalid
        .send(Message::Frame(frame))
        .await
        .expect("the frame is sent");
    assert!(
        invalid.closes_within(Duration::from_secs(5)).await,
        "a text frame that is not UTF-8 closes the connection"
    );

    // Several megabytes at once, text and binary, then a flood of small frames: the
    // server may close this client or ignore it, but nobody else notices.
    let mut flooder = live_client(&app).await;
    let started = Instant::now();
    let flood = async {
        let mut sent = 0usize;
        let huge = [
            Message::text("{".repeat(4 << 20)),
            Message::binary(vec![0u8; 4 << 20]),
        ];
        for msg in huge {
            if flooder.send(msg).await.is_err() {
                return sent;
            }
            sent += 1;
        }
        for i in 0..20_000 {
            let msg = if i % 2 == 0 {
                Message::text(format!("{{\"type\":\"garbage\",\"n\":{i}}}"))
            } else {
                Message::binary(vec![i as u8; 64])
            };
            if flooder.send(msg).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    };
    let (sent, ()) = tokio::join!(flood, still_serving(&app, &mut watcher, "during-flood"));
    eprintln!(
        "flooding client sent {sent} messages in {:?}",
        started.elapsed()
    );
    still_serving(&app, &mut watcher, "after-flood").await;
    // And a new client still gets its snapshot.
    let mut late = live_client(&app).await;
    still_serving(&app, &mut late, "late-client").await;
    app.stop().await;
}

/// Every reading endpoint, as a role that may read it: never a server error.
async fn every_read_answers(app: &TestApp) {
    let reads: [(&str, Role); 9] = [
        ("/api/v1/state", Role::Display),
        ("/api/v1/reference", Role::Display),
        (
            "/api/v1/history?entity=site:MPH&measure=ga_occupancy",
            Role::SystemLeader,
        ),
        ("/api/v1/levels?entity=system", Role::SystemLeader),
        ("/api/v1/levels/daily?entity=system", Role::SystemLeader),
        ("/api/v1/alerts", Role::SiteManager),
        ("/api/v1/discharge/patients", Role::DischargeCoordinator),
        ("/api/v1/exports/delays.csv", Role::SystemLeader),
        ("/api/v1/audit", Role::Admin),
    ];
    for (path, role) in reads {
        let (status, body) = app.get_as(Some(role), path).await;
        assert!(status < 500, "{path}: {status} {body}");
    }
}

#[tokio::test]
async fn records_with_extreme_but_valid_times_never_break_the_state_the_reads_or_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut watcher = live_client(&app).await;
    let times = [
        "0000-01-01T00:00:00+23:59",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2016-12-31T23:59:60Z",
        "2026-03-29T01:30:00+01:00",
    ];
    let fields: [(&str, &[&str]); 5] = [
        ("beds", &["at"]),
        ("handovers", &["at", "arrived_at", "handed_over_at"]),
        ("discharge-delays", &["at", "admitted_at", "ready_at"]),
        ("community", &["at"]),
        ("ed", &["at"]),
    ];
    let mut accepted = 0;
    for (feed, names) in fields {
        for name in names {
            for (i, t) in times.iter().enumerate() {
                let mut record = valid(feed, &format!("time-{name}-{i}"));
                record[*name] = json!(t);
                if *name == "arrived_at" {
                    // Still waiting since then: the longest wait grows from there.
                    record
                        .as_object_mut()
                        .expect("an object")
                        .remove("handed_over_at");
                }
                if feed == "discharge-delays" {
                    record["patient"] = json!(format!("PX-{name}-{i}"));
                    if *name == "admitted_at" {
                        record["ready_at"] = json!(t);
                    }
                }
                let (status, body) = app
                    .post(
                        feed,
                        Some(TOKEN),
                        "application/json",
                        json!([record]).to_string(),
                    )
                    .await;
                assert!(
                    status == 200 || status == 422,
                    "{feed} {name}={t}: {status} {body}"
                );
                if *t < "2000" {
                    assert_eq!(status, 422, "before 2000: {feed} {name}={t}: {body}");
                }
                accepted += usize::from(status == 200);
            }
        }
    }
    // Times before 2000 are refused; of the others, those that keep every other rule (an
    // admission at most 5 years before `at`, a handover not before its arrival…) are kept.
    assert!(accepted >= 14, "only {accepted} accepted");
    every_read_answers(&app).await;
    still_serving(&app, &mut watcher, "after-extreme-times").await;
    let before = app.state().await;
    app.stop().await;

    // The state is rebuilt from the log as it was.
    let app = TestApp::spawn(test_config(dir.path())).await;
    let after = app.state().await;
    assert_eq!(
        after["state"]["sites"]["MPH"]["beds"], before["state"]["sites"]["MPH"]["beds"],
        "beds survive a restart"
    );
    every_read_answers(&app).await;
    let mut watcher = live_client(&app).await;
    still_serving(&app, &mut watcher, "after-restart").await;
    app.stop().await;
}

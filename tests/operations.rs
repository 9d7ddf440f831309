//! What the engineer running Levels depends on: probes, metrics, dead clients and a
//! graceful stop.

use levels_tests::*;
use serde_json::json;
use std::time::Duration;

/// The value of one sample in `/metrics` (a line `NAME{LABELS} VALUE`), if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

async fn metrics(app: &TestApp) -> String {
    let res = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().expect("text");
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    res.text().await.expect("a body")
}

#[tokio::test]
async fn probes_say_alive_and_ready_without_a_sign_in() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let alive = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(alive.status(), 200);
    let (status, ready) = app.get_as(None, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["database"], "ok");
    assert!(ready["reference_sites"].as_u64().expect("a count") > 10);
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_accepted_records_refusals_and_live_sessions() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let first = beds("b1", "MPH", 400);
    app.post_beds_ok(&json!([first, beds("b2", "YDH", 300)]))
        .await;
    // One record again (a duplicate), one refused batch, one refusal on a made-up feed.
    app.post_beds_ok(&json!([first])).await;
    let (status, _) = app.post_beds(&json!([beds("b3", "NOPE", 1)])).await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post("x<script>", Some(TOKEN), "application/json", "[]")
        .await;
    assert_eq!(status, 404);

    let mut client = app.live(None).await;
    client.next().await;
    let text = metrics(&app).await;
    let count =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} in:\n{text}"));
    assert_eq!(count(r#"levels_ingest_records_total{feed="beds"}"#), 2.0);
    assert_eq!(count(r#"levels_ingest_duplicates_total{feed="beds"}"#), 1.0);
    assert_eq!(
        count(r#"levels_ingest_refused_batches_total{feed="beds",status="422"}"#),
        1.0
    );
    assert_eq!(
        count(r#"levels_ingest_refused_batches_total{feed="unknown",status="404"}"#),
        1.0
    );
    assert!(!text.contains("script"), "a path must not become a label");
    assert_eq!(count("levels_live_sessions"), 1.0);
    assert_eq!(
        count(r#"levels_live_session_starts_total{start="snapshot"}"#),
        1.0
    );

    // A delivered delta is timed from publication to the socket.
    app.post_beds_ok(&json!([beds("b4", "MPH", 401)])).await;
    client.next_change().await;
    let text = metrics(&app).await;
    assert!(
        sample(&text, "levels_live_fanout_latency_seconds_count").expect("a histogram") >= 1.0,
        "{text}"
    );
    drop(client);
    let mut open = 1.0;
    for _ in 0..50 {
        open = sample(&metrics(&app).await, "levels_live_sessions").expect("a gauge");
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0.0, "a closed session is no longer counted");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut cfg = test_config(dir.path());
    cfg.live.heartbeat_seconds = 1;
    cfg.live.dead_after_seconds = 2;
    let app = TestApp::spawn(cfg).await;
    let mut answering = app.live(None).await;
    let mut silent = app.live(None).await;
    // The answering client reads (and so pongs) all along; the silent one reads nothing,
    // until the server has counted a dead session (pings every 1 s, dead after 2 s).
    let (stop_reading, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let reading = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = answering.next() => {}
            }
        }
        answering
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let dead = sample(&metrics(&app).await, "levels_live_dead_sessions_total");
        if dead == Some(1.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no dead session counted within 15 s: {dead:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_reading.send(());
    let mut answering = reading.await.expect("the reader ran");
    assert!(
        silent.closes_within(Duration::from_secs(1)).await,
        "the silent client's connection was closed"
    );
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "levels_live_dead_sessions_total"), Some(1.0));
    assert_eq!(sample(&text, "levels_live_sessions"), Some(1.0));
    // The answering client is still served.
    app.post_beds_ok(&json!([beds("b1", "MPH", 400)])).await;
    assert!(matches!(
        answering.next_change().await,
        levels_shared::live::ServerMsg::Delta { .. }
    ));
    app.stop().await;
}

#[tokio::test]
async fn stopping_the_server_closes_live_sessions_and_finishes_requests_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut client = app.live(None).await;
    client.next().await;
    // A batch whose body is still arriving when the server is told to stop.
    let body = json!([beds("b1", "MPH", 400)]).to_string();
    let (head, tail) = body.split_at(10);
    let mut posting = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connects");
    let request = format!(
        "POST /api/v1/feeds/beds HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        app.addr,
        body.len()
    );
    posting.write_all(request.as_bytes()).await.expect("sent");
    // `Expect: 100-continue` makes the server say when it starts reading the body: the
    // request is then in flight, without guessing how long that takes.
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        tokio::time::timeout(Duration::from_secs(5), posting.read_exact(&mut byte))
            .await
            .expect("the server starts reading the body within 5 s")
            .expect("read");
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    posting.write_all(head.as_bytes()).await.expect("sent");
    let dir_path = dir.path().to_owned();
    let stopping = tokio::spawn(app.stop());
    assert!(
        client.closes_within(Duration::from_secs(2)).await,
        "the live client is told the server is going"
    );
    posting.write_all(tail.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), posting.read_to_end(&mut answer))
        .await
        .expect("answered within 5 s")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the batch was still taken: {answer}"
    );
    let (_, reply) = answer.split_once("\r\n\r\n").expect("a body");
    let reply: serde_json::Value = serde_json::from_str(reply).expect("a JSON answer");
    assert_eq!(reply["accepted"], 1, "{reply}");
    stopping.await.expect("the server stopped");

    // What was acknowledged was stored: after a restart it is served, and a resend is a
    // duplicate.
    let app = TestApp::spawn(test_config(&dir_path)).await;
    assert_eq!(occupied(&app.state().await, "MPH"), Some(400));
    let again = app
        .post_beds_ok(&serde_json::from_str(&body).expect("json"))
        .await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_skipped_to_a_fresh_snapshot_without_slowing_others() {
    use futures_util::StreamExt;
    use levels_shared::live::ServerMsg;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut cfg = test_config(dir.path());
    cfg.live.session_queue = 8;
    let app = TestApp::spawn(cfg).await;

    // A client on a socket with the smallest receive buffer the kernel allows, that stops
    // reading once it has its snapshot: the server's writes to it soon block.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(1024).expect("a small buffer");
    let stream = socket.connect(app.addr).await.expect("connects");
    let mut request = format!("ws://{}/api/v1/live", app.addr)
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "cookie",
        app.cookie(levels_shared::access::Role::Display)
            .parse()
            .expect("a header"),
    );
    let (mut slow, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("the websocket opens");
    slow.next().await.expect("a snapshot").expect("healthy");

    let mut fast = app.live(None).await;
    fast.next().await;
    let watching = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while seqs.len() < 300 {
            if let ServerMsg::Delta { seq, .. } = fast.next_change().await {
                seqs.push(seq);
            }
        }
        seqs
    });
    let started = std::time::Instant::now();
    for n in 0..300u32 {
        // Big enough deltas (about 9 KB) that the slow client's buffers, and the
        // server's send buffer as the kernel grows it (to 4 MiB here), fill in a few hundred.
        let records: Vec<_> = (0..50)
            .map(|i| beds(&format!("b{n}-{i}"), "MPH", 300 + (n * 50 + i) % 100))
            .collect();
        app.post_beds_ok(&json!(records)).await;
    }
    let seqs = tokio::time::timeout(Duration::from_secs(10), watching)
        .await
        .expect("the fast client got every delta within 10 s")
        .expect("the watcher ran");
    println!(
        "300 batches posted and delivered to the fast client in {:?}",
        started.elapsed()
    );
    let expected: Vec<u64> = (seqs[0]..seqs[0] + 300).collect();
    assert_eq!(
        seqs, expected,
        "the fast client saw every delta once, in order"
    );

    // The slow client reads again: it was moved on to a snapshot rather than queued for.
    let mut snapshots = 0;
    let mut last = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, slow.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Text(text) = msg {
            match serde_json::from_str::<ServerMsg>(text.as_str()).expect("valid") {
                ServerMsg::Snapshot { seq, .. } => {
                    snapshots += 1;
                    last = seq;
                }
                ServerMsg::Delta { seq, .. } => {
                    assert!(seq == last + 1 || last == 0, "no gap: {last} then {seq}");
                    last = seq;
                }
                _ => {}
            }
        }
        if last == *expected.last().expect("300") {
            break;
        }
    }
    assert!(snapshots >= 1, "the slow client was skipped forward");
    assert_eq!(last, *expected.last().expect("300"), "and caught up");
    let text = metrics(&app).await;
    assert!(sample(&text, "levels_live_queue_skips_total").expect("a counter") >= 1.0);
    app.stop().await;
}

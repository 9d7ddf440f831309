//! `/api/v1/live`: what a dashboard receives over a real websocket.

use levels_shared::access::Role;
use levels_shared::live::{Change, ServerMsg};
use levels_tests::*;
use serde_json::json;
use std::time::Duration;

fn occupied_in(changes: &[Change], site: &str) -> Option<u32> {
    changes.iter().find_map(|c| match c {
        Change::Beds { record } if record.site == site => Some(record.occupied),
        _ => None,
    })
}

#[tokio::test]
async fn a_client_gets_a_snapshot_then_one_numbered_delta_per_accepted_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    app.post_beds_ok(&json!([beds("l1", "MPH", 470)])).await;

    let mut client = app.live(None).await;
    let ServerMsg::Snapshot {
        epoch, seq, state, ..
    } = client.next_change().await
    else {
        panic!("the first message is a snapshot");
    };
    assert_eq!(seq, 1);
    assert_eq!(state.sites["MPH"].beds.len(), 1);

    let l2 = beds("l2", "MPH", 475);
    let answer = app
        .post_beds_ok(&json!([l2.clone(), beds("l3", "YDH", 280)]))
        .await;
    match client.next_change().await {
        ServerMsg::Delta {
            epoch: e,
            seq,
            changes,
            ..
        } => {
            assert_eq!((e.as_str(), seq), (epoch.as_str(), 2));
            assert_eq!(
                answer["seq"], 2,
                "the producer's answer names the delta's seq"
            );
            assert_eq!(occupied_in(&changes, "MPH"), Some(475));
            assert_eq!(occupied_in(&changes, "YDH"), Some(280));
        }
        other => panic!("expected a delta, got {other:?}"),
    }

    // A refused batch and a duplicate batch send nothing.
    let (status, _) = app.post_beds(&json!([beds("l4", "MPH", 9999)])).await;
    assert_eq!(status, 422);
    let duplicate = app.post_beds_ok(&json!([l2])).await;
    assert_eq!(
        (
            duplicate["accepted"].as_u64(),
            duplicate["duplicates"].as_u64()
        ),
        (Some(0), Some(1))
    );
    app.post_beds_ok(&json!([beds("l5", "MPH", 476)])).await;
    let ServerMsg::Delta { seq, changes, .. } = client.next_change().await else {
        panic!("expected a delta");
    };
    assert_eq!((seq, occupied_in(&changes, "MPH")), (3, Some(476)));
    app.stop().await;
}

#[tokio::test]
async fn a_late_record_that_changes_nothing_sends_no_delta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    app.post_beds_ok(&json!([beds_at("n1", "MPH", 470, &minutes_ago(1))]))
        .await;
    let mut client = app.live(None).await;
    client.next_change().await;
    let answer = app
        .post_beds_ok(&json!([beds_at("n0", "MPH", 100, &minutes_ago(30))]))
        .await;
    assert_eq!(answer["accepted"], 1);
    let before = app.changes_before_sentinel(&mut client).await;
    assert!(before.is_empty(), "{before:?}");
    app.stop().await;
}

#[tokio::test]
async fn heartbeats_follow_the_snapshot_at_once_and_then_keep_a_quiet_link_alive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut client = app.live(None).await;
    let ServerMsg::Snapshot { epoch, seq, .. } = client.next().await else {
        panic!("snapshot first");
    };
    for _ in 0..2 {
        match client.next().await {
            ServerMsg::Heartbeat {
                epoch: e,
                seq: s,
                interval_seconds,
                ..
            } => {
                assert_eq!((e.as_str(), s, interval_seconds), (epoch.as_str(), seq, 1));
            }
            other => panic!("expected a heartbeat, got {other:?}"),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_resuming_with_nothing_missed_is_told_at_once_that_it_is_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.live.heartbeat_seconds = 60;
    let app = TestApp::spawn(config).await;
    app.post_beds_ok(&json!([beds("h1", "MPH", 420)])).await;
    let mut first = app.live(None).await;
    let ServerMsg::Snapshot { epoch, seq, .. } = first.next().await else {
        panic!("snapshot first");
    };
    let mut again = app.live(Some((&epoch, seq))).await;
    match again.next().await {
        ServerMsg::Heartbeat {
            seq: s,
            interval_seconds,
            ..
        } => assert_eq!((s, interval_seconds), (seq, 60)),
        other => panic!("expected an immediate heartbeat, got {other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn a_reconnecting_client_is_replayed_exactly_the_deltas_it_missed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let mut client = app.live(None).await;
    let ServerMsg::Snapshot { epoch, .. } = client.next_change().await else {
        panic!("snapshot first");
    };
    app.post_beds_ok(&json!([beds("m1", "MPH", 401)])).await;
    let ServerMsg::Delta { seq: seen, .. } = client.next_change().await else {
        panic!("delta");
    };
    drop(client);

    for (i, occ) in [402, 403, 404].into_iter().enumerate() {
        app.post_beds_ok(&json!([beds(&format!("m{}", i + 2), "MPH", occ)]))
            .await;
    }
    let mut client = app.live(Some((&epoch, seen))).await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        match client.next_change().await {
            ServerMsg::Delta { seq, changes, .. } => {
                replayed.push((seq, occupied_in(&changes, "MPH")))
            }
            other => panic!("expected replayed deltas, got {other:?}"),
        }
    }
    assert_eq!(
        replayed,
        vec![(2, Some(402)), (3, Some(403)), (4, Some(404))]
    );
    let before = app.changes_before_sentinel(&mut client).await;
    assert!(before.is_empty(), "no duplicates: {before:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_resuming_from_an_unknown_epoch_gets_a_fresh_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    app.post_beds_ok(&json!([beds("u1", "MPH", 420)])).await;
    let mut client = app.live(Some(("some-old-epoch", 17))).await;
    match client.next_change().await {
        ServerMsg::Snapshot { state, .. } => {
            assert_eq!(
                state.sites["MPH"].beds.values().next().map(|r| r.occupied),
                Some(420)
            );
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn a_page_from_another_origin_may_not_open_the_live_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let refused = app.live_from_origin("http://evil.example").await.err();
    assert_eq!(refused, Some(403));
    let own = format!("http://{}", app.addr);
    let mut client = app
        .live_from_origin(&own)
        .await
        .expect("the dashboard's own origin is allowed");
    assert!(matches!(client.next().await, ServerMsg::Snapshot { .. }));
    app.stop().await;
}

/// `/api/v1/live` opened by hand on a TCP socket, to see the frames as the server sent them.
struct RawLive {
    tcp: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawLive {
    /// Sends the opening handshake with `headers` (each `Name: value`); the answer's head.
    async fn open(app: &TestApp, headers: &[String]) -> (String, RawLive) {
        use tokio::io::AsyncWriteExt;
        let mut tcp = tokio::net::TcpStream::connect(app.addr)
            .await
            .expect("connects");
        let mut head = format!("GET /api/v1/live HTTP/1.1\r\nHost: {}\r\n", app.addr);
        for header in headers {
            head.push_str(header);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        tcp.write_all(head.as_bytes()).await.expect("writes");
        let mut raw = RawLive {
            tcp,
            buf: Vec::new(),
        };
        let end = loop {
            if let Some(end) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            raw.fill(raw.buf.len() + 1).await;
        };
        let answer = String::from_utf8_lossy(&raw.buf[..end]).into_owned();
        raw.buf.drain(..end);
        (answer, raw)
    }

    /// The handshake a client makes (RFC 6455 §1.3's example key), signed in as a display.
    fn handshake(app: &TestApp) -> Vec<String> {
        vec![
            "Connection: Upgrade".into(),
            "Upgrade: websocket".into(),
            "Sec-WebSocket-Version: 13".into(),
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".into(),
            format!("Cookie: {}", app.cookie(Role::Display)),
        ]
    }

    async fn fill(&mut self, want: usize) {
        use tokio::io::AsyncReadExt;
        while self.buf.len() < want {
            let mut chunk = [0u8; 8192];
            let n = tokio::time::timeout(Duration::from_secs(5), self.tcp.read(&mut chunk))
                .await
                .expect("the server sends within 5 s")
                .expect("reads");
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next frame: whether it is final, its opcode and its payload.
    async fn frame(&mut self) -> (bool, u8, Vec<u8>) {
        self.fill(2).await;
        let (fin, opcode) = (self.buf[0] & 0x80 != 0, self.buf[0] & 0x0f);
        assert_eq!(self.buf[1] & 0x80, 0, "a server's frames are not masked");
        let (len, head) = match self.buf[1] & 0x7f {
            126 => {
                self.fill(4).await;
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                self.fill(10).await;
                let len: [u8; 8] = self.buf[2..10].try_into().expect("8 bytes");
                (u64::from_be_bytes(len) as usize, 10)
            }
            n => (n as usize, 2),
        };
        self.fill(head + len).await;
        let payload = self.buf[head..head + len].to_vec();
        self.buf.drain(..head + len);
        (fin, opcode, payload)
    }

    /// The next text message, and the payload size of each frame it came in (control
    /// frames such as heartbeat pings are skipped).
    async fn message(&mut self) -> (String, Vec<usize>) {
        let (mut bytes, mut sizes) = (Vec::new(), Vec::new());
        loop {
            let (fin, opcode, payload) = self.frame().await;
            if opcode >= 8 {
                continue;
            }
            let expected = if sizes.is_empty() { 1 } else { 0 };
            assert_eq!(opcode, expected, "a text frame, then continuations");
            sizes.push(payload.len());
            bytes.extend_from_slice(&payload);
            if fin {
                return (String::from_utf8(bytes).expect("valid UTF-8"), sizes);
            }
        }
    }

    /// The next message of `kind` (`snapshot`, `delta`, `heartbeat`).
    async fn next_of(&mut self, kind: &str) -> (String, Vec<usize>) {
        loop {
            let (text, sizes) = self.message().await;
            let msg: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if msg["type"] == kind {
                return (text, sizes);
            }
        }
    }
}

#[tokio::test]
async fn a_delta_larger_than_64_kib_arrives_whole_in_frames_of_the_configured_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.live.fragment_bytes = 4096;
    let app = TestApp::spawn(config).await;
    let mut client = app.live(None).await;
    let (head, mut raw) = RawLive::open(&app, &RawLive::handshake(&app)).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // RFC 6455 §1.3: the accept key for the example key.
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(matches!(client.next().await, ServerMsg::Snapshot { .. }));
    raw.next_of("snapshot").await;

    // One batch of 600 readings, each newer than the last: a delta of 600 changes.
    let records: Vec<_> = (0..600u32)
        .map(|i| {
            let at = minutes_ago(i64::from(700 - i));
            beds_at(&format!("big-{i:03}"), "MPH", 300 + i % 100, &at)
        })
        .collect();
    app.post_beds_ok(&json!(records)).await;

    let (text, sizes) = raw.next_of("delta").await;
    assert!(text.len() > 64 * 1024, "a delta of {} bytes", text.len());
    assert_eq!(sizes.len(), text.len().div_ceil(4096), "{sizes:?}");
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&n| n == 4096),
        "{sizes:?}"
    );
    let ServerMsg::Delta { changes, .. } = serde_json::from_str(&text).expect("a delta") else {
        panic!("expected a delta");
    };
    let ids: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Beds { record } => Some(record.id.as_str()),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = (0..600).map(|i| format!("big-{i:03}")).collect();
    assert_eq!(ids, expected, "every reading, in order");

    // A tungstenite client reassembles the same message, byte for byte.
    let received = client.raw_within(Duration::from_secs(2)).await;
    assert!(
        received.contains(&text),
        "the same delta reached the other client"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_is_not_a_websocket_handshake_gets_a_clear_4xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // No session: 401 before anything else, websocket or not.
    assert_eq!(app.get_as(None, "/api/v1/live").await.0, 401);
    let (status, body) = app.get_as(Some(Role::Display), "/api/v1/live").await;
    assert_eq!(status, 400);
    let error = body["error"].as_str().expect("an error");
    assert!(error.contains("expected a websocket upgrade"), "{error}");

    let mut handshake = RawLive::handshake(&app);
    handshake.retain(|h| !h.starts_with("Sec-WebSocket-Version"));
    handshake.push("Sec-WebSocket-Version: 8".into());
    let (head, _) = RawLive::open(&app, &handshake).await;
    assert!(head.starts_with("HTTP/1.1 426"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-version: 13"),
        "{head}"
    );

    let mut handshake = RawLive::handshake(&app);
    handshake.retain(|h| !h.starts_with("Sec-WebSocket-Key"));
    let (head, _) = RawLive::open(&app, &handshake).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");

    // Refused requests leave the endpoint working.
    let mut client = app.live(None).await;
    assert!(matches!(client.next().await, ServerMsg::Snapshot { .. }));
    app.stop().await;
}

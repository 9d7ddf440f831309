//! `/api/v1/live`: what a dashboard receives over a real websocket.

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
    assert!(client
        .changes_within(Duration::from_millis(500))
        .await
        .is_empty());
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
    assert!(
        client
            .changes_within(Duration::from_millis(300))
            .await
            .is_empty(),
        "no duplicates"
    );
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

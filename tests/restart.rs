//! State survives a restart, and a dashboard that reconnects gets it.

use levels_shared::live::ServerMsg;
use levels_tests::*;
use serde_json::json;

#[tokio::test]
async fn state_survives_a_restart_and_a_reconnecting_client_gets_it_in_a_new_epoch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let at = minutes_ago(1);
    let first = beds_at("p1", "MPH", 471, &at);
    app.post_beds_ok(&json!([first.clone(), beds_at("p2", "YDH", 281, &at)]))
        .await;
    app.post_beds_ok(&json!([beds_at("p3", "MPH", 300, &minutes_ago(90))]))
        .await;
    let mut client = app.live(None).await;
    let ServerMsg::Snapshot {
        epoch: old_epoch,
        seq: old_seq,
        ..
    } = client.next_change().await
    else {
        panic!("snapshot first");
    };
    app.stop().await;

    let app = TestApp::spawn(test_config(dir.path())).await;
    let state = app.state().await;
    assert_eq!(
        occupied(&state, "MPH"),
        Some(471),
        "latest by `at` survives, not the late record"
    );
    assert_eq!(occupied(&state, "YDH"), Some(281));

    let mut client = app.live(Some((&old_epoch, old_seq))).await;
    match client.next_change().await {
        ServerMsg::Snapshot { epoch, state, .. } => {
            assert_ne!(
                epoch, old_epoch,
                "a restart starts a new epoch: its deltas cannot be replayed"
            );
            assert_eq!(
                state.sites["YDH"].beds.values().next().map(|r| r.occupied),
                Some(281)
            );
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    // Duplicates are still recognised after the restart.
    let body = app.post_beds_ok(&json!([first])).await;
    assert_eq!(body["duplicates"], 1);
    app.stop().await;
}

//! `POST /api/v1/feeds/beds`: what a producer sends, and what it gets back.

use levels_tests::*;
use serde_json::{json, Value};

async fn app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    (TestApp::spawn(test_config(dir.path())).await, dir)
}

fn errors(body: &Value) -> Vec<(u64, Option<u64>, String)> {
    body["errors"]
        .as_array()
        .expect("an errors list")
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().expect("index"),
                e["line"].as_u64(),
                e["field"].as_str().expect("field").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_accepted_batch_is_answered_with_counts_and_shows_in_the_state() {
    let (app, _dir) = app().await;
    let (status, body) = app
        .post_beds(&json!([beds("a1", "MPH", 480), beds("a2", "YDH", 290)]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"accepted": 2, "duplicates": 0, "seq": 1}));
    let state = app.state().await;
    assert_eq!(occupied(&state, "MPH"), Some(480));
    assert_eq!(occupied(&state, "YDH"), Some(290));
    app.stop().await;
}

#[tokio::test]
async fn the_records_object_form_is_accepted_too() {
    let (app, _dir) = app().await;
    let records = json!([beds("o1", "MPH", 400), beds("o2", "YDH", 287)]);
    let (status, body) = app.post_beds(&json!({ "records": records })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"accepted": 2, "duplicates": 0, "seq": 1}));
    let state = app.state().await;
    assert_eq!(
        (occupied(&state, "MPH"), occupied(&state, "YDH")),
        (Some(400), Some(287)),
        "both records are served as sent"
    );
    // The same records as a bare array are the same records: duplicates, nothing new.
    let again = app.post_beds_ok(&records).await;
    assert_eq!(again, json!({"accepted": 0, "duplicates": 2, "seq": 1}));
    app.stop().await;
}

#[tokio::test]
async fn resending_an_identical_batch_counts_duplicates_and_changes_nothing() {
    let (app, _dir) = app().await;
    let batch = json!([beds("d1", "MPH", 480), beds("d2", "MPH", 481)]);
    let first = app.post_beds_ok(&batch).await;
    let (status, again) = app.post_beds(&batch).await;
    assert_eq!(status, 200);
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["duplicates"], 2);
    assert_eq!(
        again["seq"], first["seq"],
        "a duplicate batch publishes nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn reusing_an_id_with_different_content_is_refused_and_nothing_is_applied() {
    let (app, _dir) = app().await;
    app.post_beds_ok(&json!([beds("r1", "MPH", 480)])).await;
    let (status, body) = app
        .post_beds(&json!([beds("r2", "YDH", 100), beds("r1", "MPH", 499)]))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(errors(&body), vec![(1, None, "id".to_string())]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("r1"));
    let state = app.state().await;
    assert_eq!(occupied(&state, "MPH"), Some(480));
    assert_eq!(
        occupied(&state, "YDH"),
        None,
        "the valid record of the refused batch is not applied"
    );
    app.stop().await;
}

#[tokio::test]
async fn one_invalid_record_refuses_the_whole_batch_with_every_error_named() {
    let (app, _dir) = app().await;
    let mut over = beds("v2", "YDH", 600);
    over["los_7_plus"] = json!(700);
    let batch = json!([
        beds("v1", "MPH", 400),
        over,
        {"id": "v3", "site": "NOPE", "at": "yesterday", "pool": "general", "core_open": -1, "colour": "red"},
    ]);
    let (status, body) = app.post_beds(&batch).await;
    assert_eq!(status, 422, "{body}");
    let mut got = errors(&body);
    got.sort();
    let expect: Vec<(u64, Option<u64>, String)> = [
        (1, "los_7_plus"),
        (1, "occupied"),
        (2, "at"),
        (2, "colour"),
        (2, "core_open"),
        (2, "occupied"),
        (2, "pool"),
        (2, "site"),
    ]
    .into_iter()
    .map(|(i, f)| (i, None, f.to_string()))
    .collect();
    assert_eq!(got, expect);
    assert_eq!(
        body["error"], "2 records are invalid; nothing from the batch was applied",
        "records are counted, not errors"
    );
    let message = |field: &str| {
        body["errors"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["field"] == field && e["index"] == 1))
            .map(|e| e["message"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(
        message("occupied").as_deref(),
        Some("occupied (600) exceeds open beds (520 = core_open 500 + escalation_open 20)")
    );
    assert_eq!(occupied(&app.state().await, "MPH"), None);
    app.stop().await;
}

#[tokio::test]
async fn csv_is_accepted_and_its_errors_name_the_line() {
    let (app, _dir) = app().await;
    let at = minutes_ago(2);
    let csv = format!(
        "id,site,at,pool,core_open,escalation_open,occupied,closed_ipc,los_7_plus\n\
         c1,MPH,{at},general_acute_adult,500,,470,3,\n\
         c2,YDH,{at},general_acute_adult,300,10,290,,100\n"
    );
    let (status, body) = app.post("beds", Some(TOKEN), "text/csv", csv).await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (200, Some(2)),
        "{body}"
    );
    let state = app.state().await;
    assert_eq!(occupied(&state, "MPH"), Some(470));
    assert_eq!(
        state["state"]["sites"]["MPH"]["beds"]["general_acute_adult"]["closed_ipc"],
        3
    );
    assert_eq!(
        state["state"]["sites"]["MPH"]["beds"]["general_acute_adult"]["escalation_open"],
        0
    );

    let bad = format!(
        "id,site,at,pool,core_open,occupied\n\
         c3,MPH,{at},general_acute_adult,500,400\n\
         c4,MPH,{at},general_acute_adult,five hundred,400\n"
    );
    let (status, body) = app
        .post("beds", Some(TOKEN), "text/csv; charset=utf-8", bad)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(errors(&body), vec![(1, Some(3), "core_open".to_string())]);
    app.stop().await;
}

#[tokio::test]
async fn the_same_record_sent_as_json_then_csv_is_a_duplicate() {
    let (app, _dir) = app().await;
    let at = minutes_ago(10);
    app.post_beds_ok(&json!([beds_at("same", "MPH", 450, &at)]))
        .await;
    let csv = format!("id,site,at,pool,core_open,escalation_open,occupied\nsame,MPH,{at},general_acute_adult,500,20,450\n");
    let (status, body) = app.post("beds", Some(TOKEN), "text/csv", csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    app.stop().await;
}

#[tokio::test]
async fn an_older_record_is_kept_in_the_log_but_does_not_replace_newer_state() {
    let (app, _dir) = app().await;
    app.post_beds_ok(&json!([beds_at("new", "MPH", 490, &minutes_ago(5))]))
        .await;
    let (status, body) = app
        .post_beds(&json!([beds_at("old", "MPH", 300, &minutes_ago(60))]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["accepted"], 1, "the late record is stored");
    assert_eq!(occupied(&app.state().await, "MPH"), Some(490));
    app.stop().await;
}

#[tokio::test]
async fn a_time_more_than_five_minutes_ahead_is_refused() {
    let (app, _dir) = app().await;
    let future = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let (status, body) = app
        .post_beds(&json!([beds_at("f1", "MPH", 400, &future)]))
        .await;
    assert_eq!(status, 422);
    assert_eq!(errors(&body), vec![(0, None, "at".to_string())]);
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(4)).to_rfc3339();
    let (status, _) = app
        .post_beds(&json!([beds_at("f2", "MPH", 400, &soon)]))
        .await;
    assert_eq!(status, 200, "up to 5 minutes ahead is clock skew, accepted");
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_with_line_and_column() {
    let (app, _dir) = app().await;
    let (status, body) = app
        .post(
            "beds",
            Some(TOKEN),
            "application/json",
            "[\n  {\"id\": \"x\",\n  }\n]",
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        (body["line"].as_u64(), body["column"].as_u64()),
        (Some(3), Some(3))
    );
    app.stop().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_a_401() {
    let (app, _dir) = app().await;
    let body = json!([beds("t1", "MPH", 400)]).to_string();
    let (status, _) = app
        .post("beds", None, "application/json", body.clone())
        .await;
    assert_eq!(status, 401);
    let (status, answer) = app
        .post(
            "beds",
            Some("not-a-token"),
            "application/json",
            body.clone(),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(answer["error"], "the token is not valid");
    let res = app
        .http
        .post(app.url("/api/v1/feeds/beds"))
        .header("authorization", format!("bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answers");
    assert_eq!(
        res.status().as_u16(),
        200,
        "the auth scheme is case-insensitive"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_token_outside_its_feeds_or_sites_is_a_403_and_nothing_is_applied() {
    let (app, _dir) = app().await;
    let (status, _) = app
        .post(
            "beds",
            Some(TOKEN_NO_FEEDS),
            "application/json",
            json!([beds("s1", "MPH", 1)]).to_string(),
        )
        .await;
    assert_eq!(status, 403);
    let batch = json!([beds("s2", "MPH", 400), beds("s3", "YDH", 200)]).to_string();
    let (status, body) = app
        .post("beds", Some(TOKEN_MPH), "application/json", batch)
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap_or("").contains("YDH"));
    assert_eq!(occupied(&app.state().await, "MPH"), None);
    app.stop().await;
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_415() {
    let (app, _dir) = app().await;
    let (status, body) = app.post("beds", Some(TOKEN), "text/plain", "id,site").await;
    assert_eq!(status, 415);
    assert!(body["error"].as_str().unwrap_or("").contains("text/plain"));
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = test_config(dir.path());
    cfg.ingest.max_body_bytes = 1024;
    let app = TestApp::spawn(cfg).await;
    let big: Vec<Value> = (0..40)
        .map(|i| beds(&format!("big{i}"), "MPH", 400))
        .collect();
    let (status, body) = app.post_beds(&Value::Array(big)).await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = app.post_beds(&json!([beds("small", "MPH", 400)])).await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_feed_is_a_404_that_lists_the_feeds() {
    let (app, _dir) = app().await;
    let (status, body) = app
        .post("bedz", Some(TOKEN), "application/json", "[]")
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap_or("").contains("beds"),
        "{body}"
    );
    app.stop().await;
}

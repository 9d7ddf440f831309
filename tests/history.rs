//! `GET /api/v1/history`: key measures sampled over time, for trends.

use levels_tests::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn sampled_measures_can_be_read_back_over_a_time_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.history.resolution_seconds = 1;
    let app = TestApp::spawn(config).await;
    app.post_beds_ok(&json!([beds("h1", "MPH", 416)])).await;
    tokio::time::sleep(Duration::from_millis(2300)).await;

    let url = app.url("/api/v1/history?entity=site:MPH&measure=ga_occupancy");
    let series: serde_json::Value = app
        .http
        .get(url)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(series["resolution_seconds"], 1);
    let points = series["points"].as_array().expect("points");
    assert!(!points.is_empty(), "{series}");
    assert_eq!(points[0]["v"], 0.8, "416 of 520 open beds");

    let old = app
        .url("/api/v1/history?entity=site:MPH&measure=ga_occupancy&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z");
    let series: serde_json::Value = app
        .http
        .get(old)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(series["points"], json!([]), "nothing outside the range");

    let bad = app
        .http
        .get(app.url("/api/v1/history?entity=site:MPH"))
        .send()
        .await
        .expect("answers");
    assert_eq!(bad.status().as_u16(), 400);
    let body: serde_json::Value = bad.json().await.expect("json");
    assert!(
        body["error"].as_str().unwrap_or("").contains("measure"),
        "{body}"
    );
    app.stop().await;
}

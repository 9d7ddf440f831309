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

    // Sampled every second: the first point arrives within a few.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let series = loop {
        let (_, series) = app
            .get("/api/v1/history?entity=site:MPH&measure=ga_occupancy")
            .await;
        if series["points"].as_array().is_some_and(|p| !p.is_empty()) {
            break series;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no point sampled within 10 s: {series}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(series["resolution_seconds"], 1);
    let points = series["points"].as_array().expect("points");
    assert_eq!(points[0]["v"], 0.8, "416 of 520 open beds");

    let range = "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z";
    let (_, series) = app
        .get(&format!(
            "/api/v1/history?entity=site:MPH&measure=ga_occupancy&{range}"
        ))
        .await;
    assert_eq!(series["points"], json!([]), "nothing outside the range");

    let (status, body) = app.get("/api/v1/history?entity=site:MPH").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap_or("").contains("measure"),
        "{body}"
    );
    app.stop().await;
}

//! Calculated OPEL levels: computed from live data with every parameter explained, and
//! kept as a timeline.

use levels_tests::*;
use serde_json::json;

/// Inputs that put eight of Musgrove's nine parameters in band 3 and the share of beds held
/// by patients with no criteria to reside (1 of 500) in band 1: score 25/9, OPEL 3.
async fn post_level_3_inputs(app: &TestApp) {
    let at = minutes_ago(2);
    app.post_ok(
        "beds",
        &json!([{"id": "b", "site": "MPH", "at": at, "pool": "general_acute_adult",
        "core_open": 500, "escalation_open": 20, "occupied": 500}]),
    )
    .await;
    app.post_ok(
        "ed",
        &json!([{"id": "e", "site": "MPH", "at": at, "in_department": 100, "over_4h": 50,
        "over_12h": 6, "awaiting_admission": 20, "attendances_today": 100, "within_4h_today": 65,
        "majors_resus_spaces": 20, "majors_resus_occupied": 22, "median_minutes_to_treatment": 100,
        "referred_to_service": 25}]),
    )
    .await;
    app.post_ok(
        "handovers",
        &json!([{"id": "h", "site": "MPH", "at": minutes_ago(3), "conveyance": "C",
        "arrived_at": minutes_ago(48), "handed_over_at": minutes_ago(3)}]),
    )
    .await;
    app.post_ok(
        "discharge-delays",
        &json!([{"id": "d", "site": "MPH", "at": at, "patient": "P", "ward": "W",
        "admitted_at": "2026-11-01T00:00:00Z", "ready_at": "2026-11-20T00:00:00Z", "pathway": "P1",
        "reason": "p1_start_of_care"}]),
    )
    .await;
}

#[tokio::test]
async fn an_acute_site_gets_a_calculated_opel_level_with_every_parameter_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let opel = app.state().await["state"]["sites"]["MPH"]["opel"].clone();
    assert_eq!(opel["level"], 3, "{opel}");
    assert!((opel["score"].as_f64().expect("score") - 25.0 / 9.0).abs() < 1e-9);
    assert_eq!(opel["policy_version"], "0.1-placeholder");
    let bands: Vec<(String, u64)> = opel["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap_or("").to_owned(),
                p["band"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("handover_mean", 3),
        ("ed_4h", 3),
        ("majors_resus", 3),
        ("time_to_treatment", 3),
        ("ed_12h", 3),
        ("ed_referred", 3),
        ("ga_occupancy", 3),
        ("escalation_beds", 3),
        ("nctr", 1),
    ]
    .into_iter()
    .map(|(k, b)| (k.to_owned(), b))
    .collect();
    assert_eq!(bands, expected);
    app.stop().await;
}

#[tokio::test]
async fn each_change_of_calculated_level_is_kept_once_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let levels = |v: &serde_json::Value| -> Vec<Option<u64>> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|c| c["level"].as_u64())
            .collect()
    };
    let (status, timeline) = app.get("/api/v1/levels?entity=site:MPH").await;
    assert_eq!(status, 200);
    // Not calculable until enough inputs had arrived, then OPEL 3 (no repeats of either).
    assert_eq!(levels(&timeline), [None, Some(3)], "{timeline}");
    assert_eq!(timeline[1]["kind"], "calculated");
    assert_eq!(
        timeline[1]["explanation"]["parameters"]
            .as_array()
            .map(Vec::len),
        Some(9)
    );
    app.stop().await;

    let app = TestApp::spawn(test_config(dir.path())).await;
    let (_, timeline) = app.get("/api/v1/levels?entity=site:MPH").await;
    assert_eq!(
        levels(&timeline),
        [None, Some(3)],
        "a restart recalculates but records nothing new"
    );
    let (status, _) = app.get("/api/v1/levels").await;
    assert_eq!(status, 400);
    app.stop().await;
}

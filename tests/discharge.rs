//! `GET /api/v1/discharge/patients`: the discharge view's list of delayed patients.

use levels_shared::access::Role;
use levels_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An RFC 3339 time `days` days and `hours` hours before now.
fn days_ago(days: i64, hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days) - chrono::Duration::hours(hours))
        .to_rfc3339()
}

/// A delayed patient ready `days` whole days (and two hours) ago, reported at `at`.
fn delayed(id: &str, site: &str, patient: &str, ward: &str, days: i64, at: &str) -> Value {
    json!({"id": id, "site": site, "at": at, "patient": patient, "ward": ward,
        "admitted_at": days_ago(days + 5, 2), "ready_at": days_ago(days, 2),
        "pathway": "P2", "reason": "p2_bed"})
}

/// The answer of the endpoint as text (to search) and as JSON.
async fn patients(app: &TestApp) -> (String, Value) {
    let res = app
        .http
        .get(app.url("/api/v1/discharge/patients"))
        .header("cookie", app.cookie(Role::DischargeCoordinator))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.expect("a body");
    let json = serde_json::from_str(&text).expect("a JSON answer");
    (text, json)
}

fn listed(reply: &Value) -> Vec<String> {
    reply["patients"]
        .as_array()
        .expect("patients")
        .iter()
        .map(|p| format!("{} {}", p["site"], p["patient"]).replace('"', ""))
        .collect()
}

#[tokio::test]
async fn delayed_patients_are_listed_in_their_bands_without_nhs_numbers_and_leave_on_discharge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let admitted = days_ago(8, 2);
    let ready = days_ago(3, 2);
    let at = minutes_ago(5);
    app.post_ok(
        "discharge-delays",
        &json!([
            {"id": "d1", "site": "MPH", "at": at, "patient": "PX-1", "nhs_number": "9434765919",
             "ward": "Ward 7", "admitted_at": admitted, "ready_at": ready, "pathway": "P1",
             "reason": "p1_start_of_care", "responsible": "social_care", "locality": "E07000190"},
            delayed("d2", "MPH", "PX-2", "Ward 2", 15, &at),
            delayed("d3", "MPH", "PX-3", "Ward 7", 0, &at),
            // Reported three hours ago: discharge delays are expected hourly, so stale.
            delayed("d4", "YDH", "PY-1", "Ward 3", 1, &minutes_ago(180)),
        ]),
    )
    .await;

    let (text, reply) = patients(&app).await;
    assert!(
        !text.contains("9434765919") && !text.contains("nhs_number"),
        "NHS numbers never leave the server here: {text}"
    );
    assert_eq!(
        listed(&reply),
        ["MPH PX-2", "MPH PX-1", "YDH PY-1", "MPH PX-3"],
        "longest delay first"
    );
    let px1 = &reply["patients"][1];
    assert_eq!(px1["site"], "MPH");
    assert_eq!(px1["ward"], "Ward 7");
    assert_eq!(px1["patient"], "PX-1");
    assert_eq!(px1["pathway"], "P1");
    assert_eq!(px1["reason"], "p1_start_of_care");
    assert_eq!(px1["responsible"], "social_care");
    assert_eq!(px1["locality"], "E07000190");
    assert_eq!(px1["days_delayed"], 3);
    assert_eq!(px1["band"], "2-3");
    let days_and_bands: Vec<(Value, Value)> = reply["patients"]
        .as_array()
        .expect("patients")
        .iter()
        .map(|p| (p["days_delayed"].clone(), p["band"].clone()))
        .collect();
    assert_eq!(
        days_and_bands,
        [
            (json!(15), json!("14-20")),
            (json!(3), json!("2-3")),
            (json!(1), json!("1")),
            (json!(0), json!("0")),
        ]
    );
    assert_eq!(reply["stale_sites"], json!(["YDH"]));
    assert!(reply["as_of"].is_string());

    // The list agrees with the streamed measures, band by band.
    let mut mph_bands: BTreeMap<String, u64> = BTreeMap::new();
    for p in reply["patients"].as_array().expect("patients") {
        if p["site"] == "MPH" {
            *mph_bands
                .entry(p["band"].as_str().expect("a band").to_owned())
                .or_default() += 1;
        }
    }
    // The coordinator's export has the same exact figures for their own organisation's
    // site; the live state, which every screen gets, hides bands under 5.
    let res = app
        .http
        .get(app.url("/api/v1/exports/delays.csv"))
        .header("cookie", app.cookie(Role::DischargeCoordinator))
        .send()
        .await
        .expect("the server answers");
    let csv = res.text().await.expect("a body");
    let exported: BTreeMap<String, u64> = csv
        .lines()
        .filter_map(|l| l.strip_prefix("MPH,days_delayed,"))
        .filter_map(|l| l.split_once(','))
        .map(|(band, n)| (band.to_owned(), n.parse().expect("exact")))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(exported, mph_bands);
    let state = app.state().await;
    let streamed = state["state"]["sites"]["MPH"]["delays"]["by_band"]
        .as_object()
        .expect("bands");
    assert!(streamed.values().all(Value::is_null), "{streamed:?}");

    app.post_ok(
        "discharge-delays",
        &json!([{"id": "d5", "site": "MPH", "at": minutes_ago(1), "patient": "PX-1",
            "nhs_number": "9434765919", "ward": "Ward 7", "admitted_at": admitted,
            "ready_at": ready, "pathway": "P1", "status": "discharged",
            "discharged_at": minutes_ago(2)}]),
    )
    .await;
    let (text, reply) = patients(&app).await;
    assert_eq!(
        listed(&reply),
        ["MPH PX-2", "YDH PY-1", "MPH PX-3"],
        "a discharged patient leaves the list"
    );
    assert!(!text.contains("9434765919"), "{text}");
    assert_eq!(reply["stale_sites"], json!(["YDH"]));
    app.stop().await;
}

#[tokio::test]
async fn only_a_coordinator_sees_patients_and_only_their_own_trust_s() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let at = minutes_ago(5);
    app.post_ok(
        "discharge-delays",
        &json!([
            delayed("m1", "MPH", "PX-1", "Ward 1", 3, &at),
            delayed("r1", "RUH", "PR-1", "Ward 9", 4, &at),
        ]),
    )
    .await;
    for role in [
        Role::Display,
        Role::SiteManager,
        Role::SystemLeader,
        Role::Admin,
    ] {
        let (status, answer) = app.get_as(Some(role), "/api/v1/discharge/patients").await;
        assert_eq!(status, 403, "{role}: {answer}");
        assert!(!answer.to_string().contains("PX-1"));
    }
    assert_eq!(app.get_as(None, "/api/v1/discharge/patients").await.0, 401);
    // The test coordinator works for Somerset NHS FT (RH5): Musgrove, not Bath.
    let (_, reply) = patients(&app).await;
    assert_eq!(listed(&reply), ["MPH PX-1"]);
    // A coordinator at Bath's trust (RD1) sees Bath's patient only.
    levels::accounts::create(
        app.store.as_ref(),
        "bath-coordinator",
        None,
        Role::DischargeCoordinator,
        Some("RD1"),
        Some(PASSWORD),
    )
    .await
    .expect("created");
    let (cookie, _) = app
        .sign_in("bath-coordinator", PASSWORD)
        .await
        .expect("signed in");
    let bath: Value = app
        .http
        .get(app.url("/api/v1/discharge/patients"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(listed(&bath), ["RUH PR-1"]);
    app.stop().await;
}

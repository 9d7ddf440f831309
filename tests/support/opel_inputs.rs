//! Feed records that put a site at a known OPEL level, shared by the escalation and browser
//! tests.

use crate::{minutes_ago, TestApp};
use serde_json::json;

/// Inputs that put eight of Musgrove's nine parameters in band 3 and the share of beds held
/// by patients with no criteria to reside (1 of 500) in band 1: score 25/9, OPEL 3.
pub async fn post_level_3_inputs(app: &TestApp) {
    post_ed(app, 65, 22, 100.0, 6, 25).await;
    let at = minutes_ago(2);
    app.post_ok(
        "beds",
        &json!([{"id": "b", "site": "MPH", "at": at, "pool": "general_acute_adult",
        "core_open": 500, "escalation_open": 20, "occupied": 500}]),
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

/// Musgrove's ED: of 100 attendances `within_4h` met 4 hours; 100 in the department with
/// `majors` of 20 majors and resus spaces occupied, `over_12h` over 12 hours and `referred`
/// referred and waiting. The id differs with the figures so each is a new record.
pub async fn post_ed(
    app: &TestApp,
    within_4h: u32,
    majors: u32,
    treatment: f64,
    over_12h: u32,
    referred: u32,
) {
    app.post_ok(
        "ed",
        &json!([{"id": format!("e{within_4h}-{majors}-{treatment}-{over_12h}-{referred}"),
        "site": "MPH", "at": minutes_ago(1), "in_department": 100, "over_4h": 50,
        "over_12h": over_12h, "awaiting_admission": 20, "attendances_today": 100,
        "within_4h_today": within_4h, "majors_resus_spaces": 20, "majors_resus_occupied": majors,
        "median_minutes_to_treatment": treatment, "referred_to_service": referred}]),
    )
    .await;
}

/// Moves Musgrove's five ED parameters from band 3 to band 4: score (3 + 5×4 + 3 + 3 + 1)/9
/// = 30/9, OPEL 4.
pub async fn post_level_4_ed(app: &TestApp) {
    post_ed(app, 50, 30, 130.0, 12, 35).await;
}

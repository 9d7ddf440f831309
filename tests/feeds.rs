//! The handovers, discharge-delays, community and ed feeds through the real server.

use levels_shared::live::{Change, ServerMsg};
use levels_tests::*;
use serde_json::json;

/// A server whose test token may post every feed.
async fn app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    (TestApp::spawn(test_config(dir.path())).await, dir)
}

#[tokio::test]
async fn every_feed_is_accepted_and_shows_in_the_live_state() {
    let (app, _dir) = app().await;
    let at = minutes_ago(2);
    let arrived = minutes_ago(40);
    let handover = json!([{"id": "h1", "site": "MPH", "at": at, "conveyance": "AMB-1", "arrived_at": arrived}]);
    let delay = json!([{"id": "d1", "site": "YDH", "at": at, "patient": "PX-1", "ward": "Ward 3",
        "admitted_at": "2026-11-01T10:00:00Z", "ready_at": "2026-11-05T10:00:00Z", "pathway": "P1",
        "reason": "p1_start_of_care", "nhs_number": "9434765919"}]);
    let community = format!(
        "id,site,at,team,service,caseload,capacity,referrals_waiting\n\
         c1,SHEP,{at},CN-MENDIP,community_nursing,612,600,31\n"
    );
    let ed = json!({"records": [{"id": "e1", "site": "MPH", "at": at, "in_department": 60, "over_4h": 20,
        "over_12h": 3, "awaiting_admission": 10, "attendances_today": 80, "within_4h_today": 60}]});

    let mut client = app.live(None).await;
    client.next_change().await;
    for (feed, content_type, body) in [
        ("handovers", "application/json", handover.to_string()),
        ("discharge-delays", "application/json", delay.to_string()),
        ("community", "text/csv", community),
        ("ed", "application/json", ed.to_string()),
    ] {
        let (status, answer) = app.post(feed, Some(TOKEN), content_type, body).await;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(1)),
            "{feed}: {answer}"
        );
    }

    let mut kinds = Vec::new();
    for _ in 0..4 {
        match client.next_change().await {
            ServerMsg::Delta { changes, .. } => {
                kinds.extend(changes.into_iter().filter_map(|c| match c {
                    Change::Seen { feed, .. } => Some(format!("seen {feed}")),
                    Change::Ed { record } => Some(format!("ed {}", record.site)),
                    Change::Community { record } => Some(format!("community {}", record.team)),
                    Change::Beds { .. } => Some("beds".into()),
                    Change::Measures { site, .. } => Some(format!("measures {site}")),
                    Change::Level {
                        entity,
                        explanation,
                    } if entity.to_string().starts_with("site:") => {
                        Some(format!("level {entity} {:?}", explanation.level))
                    }
                    Change::Figures { entity, figures }
                        if entity.to_string().starts_with("site:") =>
                    {
                        Some(format!("figures {entity} {:?}", figures.level))
                    }
                    // Locality, community and system levels move with every input too.
                    Change::Level { .. } | Change::Figures { .. } => None,
                    other => panic!("unexpected change {other:?}"),
                }))
            }
            other => panic!("expected a delta, got {other:?}"),
        }
    }
    // Each batch's delta carries its records, the measures they moved, and the recomputed
    // explanation of each level whose inputs moved: only the ED snapshot moves one of
    // Musgrove's inputs here (no level yet: too few of the nine have arrived; the
    // handover is still in progress and Yeovil has no beds to share its delays among).
    assert_eq!(
        kinds,
        [
            "seen handovers",
            "measures MPH",
            "seen discharge-delays",
            "measures YDH",
            "community CN-MENDIP",
            "ed MPH",
            "figures site:MPH None"
        ]
    );

    let state = app.state().await;
    let site = &state["state"]["sites"];
    assert_eq!(site["MPH"]["ed"]["in_department"], 60);
    assert!(site["MPH"]["feeds"]["handovers"].is_string());
    assert!(site["YDH"]["feeds"]["discharge-delays"].is_string());
    assert_eq!(state["state"]["teams"]["CN-MENDIP"]["caseload"], 612);
    let handovers = &site["MPH"]["handovers"];
    assert_eq!(handovers["queue_now"], 1);
    let wait = handovers["longest_wait_minutes"].as_f64().expect("a wait");
    assert!((40.0..41.0).contains(&wait), "{wait}");
    assert_eq!(site["YDH"]["delays"]["delayed_now"], 1);
    // One patient: shown in the total, hidden in every breakdown (docs/security.md).
    assert_eq!(
        site["YDH"]["delays"]["by_pathway"]["P1"],
        serde_json::Value::Null
    );
    let text = state.to_string();
    assert!(
        !text.contains("9434765919"),
        "NHS numbers never reach the live state"
    );
    assert!(
        !text.contains("PX-1"),
        "patient references are not streamed to every screen"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_later_record_for_the_same_conveyance_updates_it_and_an_id_reused_with_other_content_is_refused(
) {
    let (app, _dir) = app().await;
    let arrived = minutes_ago(50);
    let first = json!({"id": "h1", "site": "MPH", "at": minutes_ago(45), "conveyance": "AMB-9", "arrived_at": arrived});
    let later = json!({"id": "h2", "site": "MPH", "at": minutes_ago(10), "conveyance": "AMB-9",
        "arrived_at": arrived, "handed_over_at": minutes_ago(12)});
    let handovers = |state: serde_json::Value| state["state"]["sites"]["MPH"]["handovers"].clone();
    app.post_ok("handovers", &json!([first])).await;
    let waiting = handovers(app.state().await);
    assert_eq!(waiting["queue_now"], 1, "{waiting}");
    let wait = waiting["longest_wait_minutes"].as_f64().expect("a wait");
    assert!(
        (50.0..51.0).contains(&wait),
        "waiting since arrival: {wait}"
    );

    // The later record for AMB-9 replaces the first: handed over 38 minutes after arrival,
    // so nobody waits any more.
    let body = app.post_ok("handovers", &json!([later])).await;
    assert_eq!(body["accepted"], 1, "{body}");
    let handed = handovers(app.state().await);
    assert_eq!(handed["queue_now"], 0, "{handed}");
    assert_eq!(
        handed["longest_wait_minutes"],
        serde_json::Value::Null,
        "{handed}"
    );
    let mut changed = first.clone();
    changed["arrived_at"] = json!(minutes_ago(55));
    let (status, body) = app
        .post(
            "handovers",
            Some(TOKEN),
            "application/json",
            json!([changed]).to_string(),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "id");
    assert_eq!(
        handovers(app.state().await),
        handed,
        "the refused record changes nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_community_record_from_the_wrong_base_site_names_the_line_and_applies_nothing() {
    let (app, _dir) = app().await;
    let at = minutes_ago(5);
    let csv = format!(
        "id,site,at,team,service,caseload,capacity,referrals_waiting\n\
         c1,SHEP,{at},CN-MENDIP,community_nursing,600,600,10\n\
         c2,MPH,{at},RR-MENDIP,rehab_reablement,70,80,4\n"
    );
    let (status, body) = app.post("community", Some(TOKEN), "text/csv", csv).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["errors"][0]["field"], "site");
    assert_eq!(
        app.state().await["state"]["teams"]["CN-MENDIP"],
        serde_json::Value::Null
    );
    app.stop().await;
}

/// The state without the figures that grow with the clock itself.
fn timeless(mut state: serde_json::Value) -> serde_json::Value {
    let state = state["state"].take();
    let mut text = state.to_string();
    for key in [
        "longest_wait_minutes",
        "hours_lost_today",
        "bed_days_lost_today",
        "bed_days_lost_week",
        "mean_days_delayed",
    ] {
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        text = strip(value, key).to_string();
    }
    serde_json::from_str(&text).expect("json")
}

fn strip(value: serde_json::Value, key: &str) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k, strip(v, key)))
            .collect(),
        other => other,
    }
}

#[tokio::test]
async fn the_same_batches_sent_twice_and_out_of_order_give_the_same_state() {
    let (ordered, _d1) = app().await;
    let (shuffled, _d2) = app().await;
    let arrived = minutes_ago(90);
    let batches = [
        (
            "handovers",
            json!([
                {"id": "h1", "site": "MPH", "at": minutes_ago(80), "conveyance": "A1", "arrived_at": arrived},
                {"id": "h2", "site": "MPH", "at": minutes_ago(60), "conveyance": "A2", "arrived_at": minutes_ago(70)},
            ]),
        ),
        (
            "handovers",
            json!([
                {"id": "h3", "site": "MPH", "at": minutes_ago(30), "conveyance": "A1", "arrived_at": arrived,
                 "handed_over_at": minutes_ago(31), "category": "C2"},
            ]),
        ),
        (
            "discharge-delays",
            json!([
                {"id": "d1", "site": "MPH", "at": minutes_ago(50), "patient": "P1", "ward": "W1",
                 "admitted_at": "2026-11-01T10:00:00Z", "ready_at": "2026-11-10T10:00:00Z", "pathway": "P2", "reason": "p2_bed"},
                {"id": "d2", "site": "MPH", "at": minutes_ago(20), "patient": "P1", "ward": "W1",
                 "admitted_at": "2026-11-01T10:00:00Z", "ready_at": "2026-11-10T10:00:00Z", "pathway": "P2",
                 "status": "discharged", "discharged_at": minutes_ago(21)},
            ]),
        ),
        (
            "beds",
            json!([
                beds_at("b1", "MPH", 480, &minutes_ago(40)),
                beds_at("b2", "MPH", 470, &minutes_ago(10))
            ]),
        ),
    ];
    for (feed, body) in &batches {
        ordered.post_ok(feed, body).await;
    }
    for i in [3, 1, 2, 0, 3, 1, 0, 2] {
        let (feed, body) = &batches[i];
        shuffled.post_ok(feed, body).await;
    }
    let (a, b) = (
        timeless(ordered.state().await),
        timeless(shuffled.state().await),
    );
    assert_eq!(a, b);
    assert_eq!(
        a["sites"]["MPH"]["handovers"]["queue_now"], 1,
        "A1 handed over, A2 waiting"
    );
    assert_eq!(
        a["sites"]["MPH"]["delays"]["delayed_now"], 0,
        "P1 discharged"
    );
    assert_eq!(occupied(&json!({"state": a}), "MPH"), Some(470));
    ordered.stop().await;
    shuffled.stop().await;
}

#[tokio::test]
async fn waits_keep_growing_on_screen_while_no_data_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.live.measures_refresh_seconds = 1;
    let app = TestApp::spawn(config).await;
    let body = json!([{"id": "w1", "site": "YDH", "at": minutes_ago(1), "conveyance": "W", "arrived_at": minutes_ago(30)}]);
    let (status, _) = app
        .post(
            "handovers",
            Some(TOKEN),
            "application/json",
            body.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let mut client = app.live(None).await;
    let wait = |msg: ServerMsg| -> Option<f64> {
        match msg {
            ServerMsg::Snapshot { state, .. } => {
                state.sites["YDH"].handovers.as_ref()?.longest_wait_minutes
            }
            ServerMsg::Delta { changes, .. } => changes.into_iter().find_map(|c| match c {
                Change::Measures { handovers, .. } => handovers?.longest_wait_minutes,
                _ => None,
            }),
            ServerMsg::Heartbeat { .. } => None,
        }
    };
    let first = wait(client.next_change().await).expect("a wait in the snapshot");
    let later = wait(client.next_change().await).expect("a refreshed wait");
    assert!(later > first, "{first} then {later}");
    app.stop().await;
}

#[tokio::test]
async fn a_bad_csv_row_in_any_feed_names_its_record_line_and_field_and_nothing_is_applied() {
    let (app, _dir) = app().await;
    let at = minutes_ago(3);
    let cases = [
        (
            "handovers",
            "id,site,at,conveyance,arrived_at,handed_over_at,category",
            format!("ok-h,MPH,{at},A1,{at},,C1"),
            format!("bad-h,MPH,{at},A2,{at},,C9"),
            "category",
        ),
        (
            "discharge-delays",
            "id,site,at,patient,ward,admitted_at,ready_at,pathway,reason",
            format!("ok-d,MPH,{at},P1,W1,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,P1,p1_start_of_care"),
            format!("bad-d,MPH,{at},P2,W1,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,P5,p1_start_of_care"),
            "pathway",
        ),
        (
            "community",
            "id,site,at,team,service,caseload,capacity,referrals_waiting",
            format!("ok-c,SHEP,{at},CN-MENDIP,community_nursing,500,600,3"),
            format!("bad-c,SHEP,{at},CN-NOWHERE,community_nursing,500,600,3"),
            "team",
        ),
        (
            "ed",
            "id,site,at,in_department,over_4h,over_12h,awaiting_admission,attendances_today,within_4h_today",
            format!("ok-e,MPH,{at},40,10,2,5,60,50"),
            format!("bad-e,YDH,{at},40,10,2,5,60,61"),
            "within_4h_today",
        ),
    ];
    for (feed, header, good, bad, field) in cases {
        let body = format!("{header}\n{good}\n{bad}\n");
        let (status, answer) = app.post(feed, Some(TOKEN), "text/csv", body).await;
        assert_eq!(status, 422, "{feed}: {answer}");
        assert_eq!(answer["errors"][0]["index"], 1, "{feed}");
        assert_eq!(answer["errors"][0]["line"], 3, "{feed}");
        assert_eq!(answer["errors"][0]["field"], field, "{feed}");
    }
    let state = app.state().await["state"].clone();
    assert_eq!(
        state["sites"],
        json!({}),
        "no site has anything from the refused batches"
    );
    assert_eq!(state["teams"], json!({}));
    app.stop().await;
}

#[tokio::test]
async fn implausible_times_are_refused_naming_the_record_line_and_field() {
    let (app, _dir) = app().await;
    let at = minutes_ago(3);
    // An admission in year 0 once made a mean delay of 33,660 days; one 12 years before the
    // record is as implausible for a patient on the list.
    let body = format!(
        "id,site,at,patient,ward,admitted_at,ready_at,pathway,reason\n\
         ok-d,MPH,{at},P1,W1,2026-11-01T00:00:00Z,2026-11-02T00:00:00Z,P1,p1_start_of_care\n\
         zero-d,MPH,{at},P2,W1,0000-01-01T00:00:00Z,2026-11-02T00:00:00Z,P1,p1_start_of_care\n\
         old-d,MPH,{at},P3,W1,2014-11-01T00:00:00Z,2026-11-02T00:00:00Z,P1,p1_start_of_care\n"
    );
    let (status, answer) = app
        .post("discharge-delays", Some(TOKEN), "text/csv", body)
        .await;
    assert_eq!(status, 422, "{answer}");
    let errors: Vec<(u64, u64, String, String)> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (
                e["index"].as_u64().unwrap_or(99),
                e["line"].as_u64().unwrap_or(99),
                s("field"),
                s("message"),
            )
        })
        .collect();
    let places: Vec<(u64, u64, &str)> = errors
        .iter()
        .map(|(i, l, f, _)| (*i, *l, f.as_str()))
        .collect();
    assert_eq!(
        places,
        [(1, 3, "admitted_at"), (2, 4, "admitted_at")],
        "{answer}"
    );
    assert_eq!(
        errors[0].3,
        "admitted_at (0000-01-01T00:00:00+00:00) is before 2000-01-01T00:00:00Z: no earlier time is accepted"
    );
    assert!(
        errors[1].3.starts_with(
            "admitted_at (2014-11-01T00:00:00+00:00) is more than 5 years before at ("
        ),
        "{}",
        errors[1].3
    );

    // Any field of any feed: the observation time, an arrival.
    let beds = json!([beds_at("b-old", "MPH", 400, "1999-12-31T23:59:59Z")]);
    let (status, answer) = app.post_beds(&beds).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        (&answer["errors"][0]["index"], &answer["errors"][0]["field"]),
        (&json!(0), &json!("at")),
        "{answer}"
    );
    let handover = json!([{"id": "h-old", "site": "MPH", "at": at, "conveyance": "AMB-9",
        "arrived_at": "0001-01-01T00:00:00Z"}]);
    let (status, answer) = app
        .post(
            "handovers",
            Some(TOKEN),
            "application/json",
            handover.to_string(),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "arrived_at", "{answer}");

    let state = app.state().await["state"].clone();
    assert_eq!(state["sites"], json!({}), "nothing was applied");
    app.stop().await;
}

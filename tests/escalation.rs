//! OPEL levels end to end: calculated from live data with every parameter explained,
//! declared with a reason, alerted on change with action cards, and kept as history.

use levels_shared::live::{Change, ServerMsg};
use levels_tests::opel_inputs::{post_ed, post_level_3_inputs, post_level_4_ed};
use levels_tests::*;
use serde_json::{json, Value};

fn level_of(state: &Value, entity: &str) -> Value {
    state["state"]["levels"][entity].clone()
}

#[tokio::test]
async fn an_acute_site_gets_a_calculated_opel_level_with_every_parameter_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let opel = level_of(&app.state().await, "site:MPH")["calculated"].clone();
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
    assert!(
        app.state().await["state"]["alerts"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "a level first becoming known raises no alert"
    );
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

/// Alerts raised in the deltas among `msgs`.
fn alerts_in(msgs: &[ServerMsg]) -> Vec<levels_shared::escalation::Alert> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Delta { changes, .. } => Some(changes),
            _ => None,
        })
        .flatten()
        .filter_map(|c| match c {
            Change::Alert { alert } => Some(alert.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_change_of_level_alerts_every_screen_once_with_its_action_card() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let mut screen = app.live(None).await;
    assert!(matches!(screen.next().await, ServerMsg::Snapshot { .. }));

    post_level_4_ed(&app).await;
    let alerts = alerts_in(&app.changes_before_sentinel(&mut screen).await);
    // Musgrove is the system's only acute site reporting, so the system moves with it.
    let moved: Vec<(String, Option<u8>, Option<u8>)> = alerts
        .iter()
        .map(|a| (a.entity.to_string(), a.from, a.to))
        .collect();
    assert_eq!(
        moved,
        [
            ("site:MPH".to_owned(), Some(3), Some(4)),
            ("system".to_owned(), Some(3), Some(4))
        ]
    );
    assert_eq!(
        alerts[1].actions[0].text,
        "ICB executive on-call leads the system response"
    );
    let alert = &alerts[0];
    assert_eq!(
        (alert.entity.to_string().as_str(), alert.from, alert.to),
        ("site:MPH", Some(3), Some(4))
    );
    assert!(alert.is_escalation());
    assert_eq!(
        alert.actions[0].text,
        "Executive on-call leads; consider declaring a critical incident"
    );
    assert_eq!(alert.actions.len(), 4);

    // New figures that keep OPEL 4: the explanation moves, no alert is raised.
    post_ed(&app, 49, 31, 131.0, 13, 36).await;
    let msgs = app.changes_before_sentinel(&mut screen).await;
    assert!(
        alerts_in(&msgs).is_empty(),
        "no alert without a change of level"
    );
    let explained = msgs.iter().any(|m| {
        matches!(m, ServerMsg::Delta { changes, .. } if changes.iter().any(|c| matches!(c, Change::Figures { entity, .. } if entity.to_string() == "site:MPH")))
    });
    assert!(
        explained,
        "the changed explanation is streamed, as the figures that moved"
    );

    // An action is marked done: recorded with who and when, and streamed.
    let (status, marked) = app
        .post_json(
            &format!("/api/v1/alerts/{}/actions/1", alert.id),
            &json!({"done": true}),
        )
        .await;
    assert_eq!(status, 200, "{marked}");
    assert_eq!(marked["actions"][1]["done"]["actor"], "site_manager");
    assert!(marked["actions"][0].get("done").is_none());
    let msgs = app.changes_before_sentinel(&mut screen).await;
    let streamed = msgs.iter().any(|m| {
        matches!(m, ServerMsg::Delta { changes, .. } if changes.iter().any(|c| matches!(c, Change::Action { index: 1, done: Some(_), .. })))
    });
    assert!(streamed, "{msgs:?}");
    let state = app.state().await;
    assert_eq!(state["state"]["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(state["state"]["alerts"][1]["id"], alert.id, "newest first");
    assert_eq!(
        state["state"]["alerts"][1]["actions"][1]["done"]["actor"],
        "site_manager"
    );
    for (path, body, want) in [
        ("/api/v1/alerts/999/actions/0", json!({"done": true}), 404),
        (
            &format!("/api/v1/alerts/{}/actions/9", alert.id) as &str,
            json!({"done": true}),
            404,
        ),
        (
            &format!("/api/v1/alerts/{}/actions/0", alert.id),
            json!({"done": true, "by": "someone"}),
            422,
        ),
        (
            &format!("/api/v1/alerts/{}/actions/0", alert.id),
            json!({"done": "yes"}),
            422,
        ),
    ] {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(status, want, "{path} {body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    app.stop().await;

    // After a restart: the same level raises nothing new, and the alert keeps its action.
    let app = TestApp::spawn(test_config(dir.path())).await;
    let (status, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(alerts.as_array().map(Vec::len), Some(2), "{alerts}");
    assert_eq!(alerts[1]["actions"][1]["done"]["actor"], "site_manager");
    let state = app.state().await;
    assert_eq!(state["state"]["alerts"][1]["id"], alert.id);
    app.stop().await;
}

#[tokio::test]
async fn a_declared_level_is_shown_over_the_calculated_one_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let mut screen = app.live(None).await;
    screen.next().await;

    let declare =
        json!({"entity": "site:MPH", "level": 4, "reason": "Critical incident: CT scanner down"});
    let (status, answer) = app.post_json("/api/v1/declarations", &declare).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (
            answer["declared"]["level"].as_u64(),
            answer["calculated"].as_u64()
        ),
        (Some(4), Some(3))
    );
    assert_eq!(
        answer["declared"]["reason"], "Critical incident: CT scanner down",
        "{answer}"
    );
    let msgs = app.changes_before_sentinel(&mut screen).await;
    let alerts = alerts_in(&msgs);
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].from, alerts[0].to), (None, Some(4)));
    assert_eq!(
        alerts[0].reason.as_deref(),
        Some("Critical incident: CT scanner down")
    );
    assert_eq!(alerts[0].actions.len(), 4, "the OPEL 4 acute action card");

    let level = level_of(&app.state().await, "site:MPH");
    assert_eq!(level["declared"]["level"], 4);
    assert_eq!(level["declared"]["actor"], "site_manager");
    assert_eq!(
        level["calculated"]["level"], 3,
        "the calculated level is kept beside it"
    );

    // Declaring the same level again records the new reason but raises no alert: the
    // answer, every screen, the live state and the audit log all carry the new reason.
    let again = json!({"entity": "site:MPH", "level": 4, "reason": "Still no CT"});
    let (status, answer) = app.post_json("/api/v1/declarations", &again).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (
            answer["declared"]["level"].as_u64(),
            answer["declared"]["reason"].as_str(),
            answer["declared"]["actor"].as_str()
        ),
        (Some(4), Some("Still no CT"), Some("site_manager")),
        "{answer}"
    );
    let msgs = app.changes_before_sentinel(&mut screen).await;
    assert!(alerts_in(&msgs).is_empty(), "{msgs:?}");
    let streamed: Vec<(String, Option<u8>, Option<String>)> = msgs
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Delta { changes, .. } => Some(changes),
            _ => None,
        })
        .flatten()
        .filter_map(|c| match c {
            Change::Declared {
                entity,
                declaration,
            } => Some((
                entity.to_string(),
                declaration.as_ref().map(|d| d.level),
                declaration.as_ref().map(|d| d.reason.clone()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        streamed,
        [(
            "site:MPH".to_owned(),
            Some(4),
            Some("Still no CT".to_owned())
        )],
        "every screen is sent the new reason"
    );
    let level = level_of(&app.state().await, "site:MPH");
    assert_eq!(level["declared"]["reason"], "Still no CT", "{level}");
    let audited: Vec<(String, String, Value)> = app
        .recent_audit()
        .await
        .into_iter()
        .filter(|e| e.action == "declare")
        .map(|e| (e.actor, e.subject, e.detail))
        .collect();
    assert_eq!(
        audited,
        [
            (
                "site_manager".to_owned(),
                "site:MPH".to_owned(),
                json!({"level": 4, "reason": "Still no CT"})
            ),
            (
                "site_manager".to_owned(),
                "site:MPH".to_owned(),
                json!({"level": 4, "reason": "Critical incident: CT scanner down"})
            ),
        ],
        "the audit log, newest first, keeps each reason as given"
    );

    // Refusals name what is wrong; nothing is recorded for them.
    for (body, want, says) in [
        (
            json!({"entity": "site:NOPE", "level": 4, "reason": "r"}),
            404,
            "site:NOPE",
        ),
        (
            json!({"entity": "site:SHEP", "level": 4, "reason": "r"}),
            404,
            "site:SHEP",
        ),
        (
            json!({"entity": "ward:7", "level": 4, "reason": "r"}),
            422,
            "ward:7",
        ),
        (
            json!({"entity": "site:YDH", "level": 5, "reason": "r"}),
            422,
            "level 5",
        ),
        (
            json!({"entity": "site:YDH", "level": 3, "reason": ""}),
            422,
            "reason",
        ),
        (
            json!({"entity": "site:YDH", "level": 3, "reason": "r", "actor": "someone else"}),
            422,
            "unknown field `actor`",
        ),
        (
            json!({"entity": "site:YDH", "level": null}),
            422,
            "no declared level",
        ),
        (
            json!({"entity": "site:YDH", "reason": "r"}),
            422,
            "level is required",
        ),
    ] {
        let (status, answer) = app.post_json("/api/v1/declarations", &body).await;
        assert_eq!(status, want, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{body}: {error}");
    }

    // Only a site manager of the site's trust may declare, signed in, with the session's
    // CSRF token.
    let body = json!({"entity": "site:MPH", "level": 3, "reason": "r"});
    for (role, want) in [
        (Some(levels_shared::access::Role::SystemLeader), 403),
        (Some(levels_shared::access::Role::Display), 403),
        (Some(levels_shared::access::Role::DischargeCoordinator), 403),
        (None, 401),
    ] {
        let (status, _) = app.post_json_as(role, "/api/v1/declarations", &body).await;
        assert_eq!(status, want, "{role:?}");
    }
    let forged = app
        .http
        .post(app.url("/api/v1/declarations"))
        .header(
            "cookie",
            app.cookie(levels_shared::access::Role::SiteManager),
        )
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(forged.status().as_u16(), 403, "no CSRF token");

    // The declaration survives a restart.
    app.stop().await;
    let app = TestApp::spawn(test_config(dir.path())).await;
    let level = level_of(&app.state().await, "site:MPH");
    assert_eq!(
        (
            level["declared"]["level"].as_u64(),
            level["declared"]["reason"].as_str()
        ),
        (Some(4), Some("Still no CT"))
    );

    // Withdrawn: the calculated level is shown again, and the whole story is in the timeline.
    let withdraw = json!({"entity": "site:MPH", "level": null, "reason": "CT back"});
    let (status, answer) = app.post_json("/api/v1/declarations", &withdraw).await;
    assert_eq!(status, 200, "{answer}");
    assert!(level_of(&app.state().await, "site:MPH")
        .get("declared")
        .is_none());
    let (_, declared) = app
        .get("/api/v1/levels?entity=site:MPH&kind=declared")
        .await;
    let story: Vec<(Option<u64>, &str, &str)> = declared
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["level"].as_u64(),
                c["actor"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        story,
        [
            (
                Some(4),
                "site_manager",
                "Critical incident: CT scanner down"
            ),
            (Some(4), "site_manager", "Still no CT"),
            (None, "site_manager", "CT back"),
        ]
    );
    let (status, _) = app.get("/api/v1/levels?entity=site:MPH&kind=guessed").await;
    assert_eq!(status, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_daily_pattern_shows_each_hour_s_highest_level_for_seven_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let (status, reply) = app.get("/api/v1/levels/daily?entity=site:MPH").await;
    assert_eq!(status, 200, "{reply}");
    let days = reply["days"].as_array().expect("days");
    assert_eq!(days.len(), 7);
    let today = &days[6];
    assert_eq!(today["highest"], 3, "{today}");
    let last_hour = today["hours"].as_array().and_then(|h| h.last()).cloned();
    assert_eq!(last_hour, Some(json!(3)));
    assert!(
        days[0]["hours"]
            .as_array()
            .expect("hours")
            .iter()
            .all(Value::is_null),
        "nothing known a week ago"
    );

    // A declaration shows in the shown pattern, not in the calculated one.
    let declare = json!({"entity": "site:MPH", "level": 4, "reason": "r"});
    assert_eq!(app.post_json("/api/v1/declarations", &declare).await.0, 200);
    let (_, shown) = app.get("/api/v1/levels/daily?entity=site:MPH&days=1").await;
    let (_, calculated) = app
        .get("/api/v1/levels/daily?entity=site:MPH&days=1&kind=calculated")
        .await;
    assert_eq!(shown["days"][0]["highest"], 4);
    assert_eq!(calculated["days"][0]["highest"], 3);
    for bad in [
        "entity=site:MPH&days=0",
        "entity=site:MPH&days=36",
        "entity=MPH",
        "days=7",
    ] {
        let (status, answer) = app.get(&format!("/api/v1/levels/daily?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_changed_policy_file_changes_the_levels_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    assert_eq!(
        level_of(&app.state().await, "site:MPH")["calculated"]["level"],
        3
    );
    app.stop().await;

    // OPEL 4 from a score of 2.5 instead of 3.25, under a new version.
    let shipped = std::fs::read_to_string(workspace_root().join("config/escalation/default.toml"))
        .expect("the shipped policy");
    let stricter = shipped
        .replace("version = \"0.1-placeholder\"", "version = \"0.2-test\"")
        .replacen(
            "{ level = 3, from = 2.5 }, { level = 4, from = 3.25 }",
            "{ level = 3, from = 2.25 }, { level = 4, from = 2.5 }",
            1,
        );
    let path = dir.path().join("stricter.toml");
    std::fs::write(&path, stricter).expect("write");
    let mut config = test_config(dir.path());
    config.escalation.policy = path;
    let app = TestApp::spawn(config).await;
    let calculated = level_of(&app.state().await, "site:MPH")["calculated"].clone();
    assert_eq!(
        (
            calculated["level"].as_u64(),
            calculated["policy_version"].as_str()
        ),
        (Some(4), Some("0.2-test"))
    );
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(
        alerts[0]["to"], 4,
        "the move to OPEL 4 is alerted: {alerts}"
    );
    app.stop().await;
}

#[tokio::test]
async fn community_and_system_levels_are_calculated_and_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    post_level_3_inputs(&app).await;
    let state = app.state().await;
    // Community: no caseloads yet, so no level, and every parameter says why.
    let community = level_of(&state, "community")["calculated"].clone();
    assert!(community["level"].is_null(), "{community}");
    assert!(community["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .all(|p| p["status"] == "missing"));
    // System: Musgrove's score 25/9 weighs its 520 open G&A beds; community (300) has no
    // level and Yeovil no beds yet (so no size). Coverage 520/820 ≥ the policy's 0.6: OPEL 3.
    let system = level_of(&state, "system")["calculated"].clone();
    assert_eq!(system["level"], 3, "{system}");
    let coverage = system["coverage"].as_f64().expect("coverage");
    assert!((coverage - 520.0 / 820.0).abs() < 1e-9, "{coverage}");
    assert_eq!(system["parameters"][2]["status"], "missing");

    // Caseloads arrive for every team: the community levels are calculated.
    let teams: Vec<Value> = reference_teams()
        .into_iter()
        .map(|(code, site, service)| json!({"id": format!("c-{code}"), "site": site, "at": minutes_ago(1),
            "team": code, "service": service, "caseload": 105, "capacity": 100, "referrals_waiting": 6,
            "visits_planned": 100, "visits_deferred": 6, "unmet_care_hours": 5.0}))
        .collect();
    app.post_ok("community", &Value::Array(teams)).await;
    let state = app.state().await;
    // Load 1.05 → band 4, referrals 6 per 100 → 3, deferred 6% → 3, unmet 5 per 100 → 3;
    // community beds not yet reported (coverage 0.8): score 13/4 = 3.25, OPEL 4.
    for entity in ["community", "community:E07000187"] {
        let c = level_of(&state, entity)["calculated"].clone();
        assert_eq!(
            (c["score"].as_f64(), c["level"].as_u64()),
            (Some(3.25), Some(4)),
            "{entity}: {c}"
        );
    }
    let members: Vec<&str> = system["parameters"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|p| p["key"].as_str())
        .collect();
    assert_eq!(members, ["site:MPH", "site:YDH", "community"]);
    app.stop().await;
}

/// Every team of the reference data: (code, base site, service code).
fn reference_teams() -> Vec<(String, String, String)> {
    let text =
        std::fs::read_to_string(workspace_root().join("data/somerset/teams.json")).expect("teams");
    let file: Value = serde_json::from_str(&text).expect("json");
    file["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            (s("code"), s("base_site"), s("service"))
        })
        .collect()
}

#[tokio::test]
async fn with_the_shipped_settling_time_a_new_level_waits_and_raises_no_alert_yet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.escalation.settle_minutes = None; // the policy's 10 minutes
    let app = TestApp::spawn(config).await;
    post_level_3_inputs(&app).await;
    post_level_4_ed(&app).await;
    let calculated = level_of(&app.state().await, "site:MPH")["calculated"].clone();
    assert_eq!(calculated["level"], 3, "{calculated}");
    assert_eq!(calculated["pending"]["level"], 4);
    // Five ED parameters in band 4, three others in 3 and one in 1: (5×4 + 3×3 + 1)/9.
    let score = calculated["score"].as_f64().expect("score");
    assert!(
        (score - 30.0 / 9.0).abs() < 1e-9,
        "the score is the new one, 30/9: {score}"
    );
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(alerts, json!([]));
    app.stop().await;

    // A restart resumes from the level shown: OPEL 4 is still pending, not jumped to.
    let mut config = test_config(dir.path());
    config.escalation.settle_minutes = None;
    let app = TestApp::spawn(config).await;
    let calculated = level_of(&app.state().await, "site:MPH")["calculated"].clone();
    assert_eq!(
        (
            calculated["level"].as_u64(),
            calculated["pending"]["level"].as_u64()
        ),
        (Some(3), Some(4)),
        "{calculated}"
    );
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert_eq!(alerts, json!([]));
    let (_, timeline) = app.get("/api/v1/levels?entity=site:MPH").await;
    let levels: Vec<Option<u64>> = timeline
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["level"].as_u64())
        .collect();
    assert_eq!(levels, [None, Some(3)]);
    app.stop().await;
}

/// Signs in a new account with `role` and `organisation`: its cookie pair and CSRF token.
async fn account(
    app: &TestApp,
    name: &str,
    role: levels_shared::access::Role,
    organisation: Option<&str>,
) -> (String, String) {
    levels::accounts::create(
        app.store.as_ref(),
        name,
        None,
        role,
        organisation,
        Some(PASSWORD),
    )
    .await
    .expect("created");
    app.sign_in(name, PASSWORD).await.expect("signed in")
}

/// `POST path` with `body` as the session `(cookie, csrf)`: the status and the JSON answer.
async fn post_as(
    app: &TestApp,
    session: &(String, String),
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let res = app
        .http
        .post(app.url(path))
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1)
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_site_manager_acts_only_on_their_own_trust_s_sites_and_a_system_leader_on_the_system() {
    use levels_shared::access::Role;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // The test site manager works for Somerset NHS FT (RH5); the RUH is Bath's (RD1).
    let bath = account(&app, "bath-manager", Role::SiteManager, Some("RD1")).await;
    let declared = |entity: &'static str| {
        let app = &app;
        async move {
            let (status, changes) = app
                .get(&format!("/api/v1/levels?entity={entity}&kind=declared"))
                .await;
            assert_eq!(status, 200, "{changes}");
            changes.as_array().map_or(0, Vec::len)
        }
    };

    // Another trust's site: refused, saying why, and nothing is declared.
    let ruh = json!({"entity": "site:RUH", "level": 4, "reason": "Not ours to call"});
    let (status, answer) = app.post_json("/api/v1/declarations", &ruh).await;
    assert_eq!(status, 403, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("site:RUH") && error.contains("RD1") && error.contains("RH5"),
        "{error}"
    );
    assert_eq!(declared("site:RUH").await, 0);
    assert!(level_of(&app.state().await, "site:RUH")
        .get("declared")
        .is_none());

    // Bath's own site manager declares it, raising an alert with the acute action card.
    let (status, answer) = post_as(&app, &bath, "/api/v1/declarations", &ruh).await;
    assert_eq!(status, 200, "{answer}");
    let ruh_alert = answer["alert"].as_i64().expect("an alert");
    // Somerset's site manager may not tick Bath's actions; Bath's may.
    let tick = json!({"done": true});
    let path = format!("/api/v1/alerts/{ruh_alert}/actions/0");
    let (status, answer) = app.post_json(&path, &tick).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("site:RUH"),
        "{answer}"
    );
    let (_, alerts) = app.get("/api/v1/alerts").await;
    assert!(
        alerts[0]["actions"][0].get("done").is_none(),
        "not ticked: {alerts}"
    );
    assert_eq!(post_as(&app, &bath, &path, &tick).await.0, 200);

    // The system is the system leaders' (the coordination centre), not a site manager's.
    let system = json!({"entity": "system", "level": 3, "reason": "Drill"});
    let (status, answer) = app.post_json("/api/v1/declarations", &system).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("system leader"),
        "{answer}"
    );
    assert_eq!(
        post_as(&app, &bath, "/api/v1/declarations", &system)
            .await
            .0,
        403
    );
    assert_eq!(declared("system").await, 0);
    let (status, answer) = app
        .post_json_as(Some(Role::SystemLeader), "/api/v1/declarations", &system)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["declared"]["actor"], "system_leader");
    let system_alert = answer["alert"].as_i64().expect("an alert");
    for entity in ["community", "community:E07000187"] {
        let body = json!({"entity": entity, "level": 2, "reason": "Drill"});
        assert_eq!(
            app.post_json("/api/v1/declarations", &body).await.0,
            403,
            "{entity}"
        );
        let (status, answer) = app
            .post_json_as(Some(Role::SystemLeader), "/api/v1/declarations", &body)
            .await;
        assert_eq!(status, 200, "{entity}: {answer}");
    }
    let path = format!("/api/v1/alerts/{system_alert}/actions/0");
    assert_eq!(app.post_json(&path, &tick).await.0, 403);
    assert_eq!(
        app.post_json_as(Some(Role::SystemLeader), &path, &tick)
            .await
            .0,
        200
    );

    // A system leader acts on no site, nor ticks a site's actions.
    let mph = json!({"entity": "site:MPH", "level": 4, "reason": "CT scanner down"});
    let (status, answer) = app
        .post_json_as(Some(Role::SystemLeader), "/api/v1/declarations", &mph)
        .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(declared("site:MPH").await, 0);
    let path = format!("/api/v1/alerts/{ruh_alert}/actions/1");
    assert_eq!(
        app.post_json_as(Some(Role::SystemLeader), &path, &tick)
            .await
            .0,
        403
    );

    // Somerset's site manager still declares Musgrove Park, and ticks its actions.
    let (status, answer) = app.post_json("/api/v1/declarations", &mph).await;
    assert_eq!(status, 200, "{answer}");
    let mph_alert = answer["alert"].as_i64().expect("an alert");
    let path = format!("/api/v1/alerts/{mph_alert}/actions/0");
    assert_eq!(app.post_json(&path, &tick).await.0, 200);
    assert_eq!(declared("site:MPH").await, 1);

    // A site manager's account without an organisation (made before one was required)
    // acts on nothing.
    app.store
        .create_user(
            &levels::store::NewUser {
                name: "nowhere".into(),
                display_name: "No trust".into(),
                role: Role::SiteManager,
                organisation: None,
                password_hash: Some(levels::accounts::passwords::hash(PASSWORD).expect("hash")),
            },
            chrono::Utc::now(),
        )
        .await
        .expect("created");
    let nowhere = app.sign_in("nowhere", PASSWORD).await.expect("signed in");
    let (status, answer) = post_as(&app, &nowhere, "/api/v1/declarations", &mph).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("organisation"),
        "{answer}"
    );
    assert_eq!(post_as(&app, &nowhere, &path, &tick).await.0, 403);
    assert_eq!(declared("site:MPH").await, 1);
    app.stop().await;
}

//! A fresh demo shows a week of history at once: the simulator backfills the last 7 days of
//! samples and calculated level changes, marked as simulated, and only once
//! (`docs/simulator.md`).

use levels_tests::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const ACUTE: [&str; 5] = ["MPH", "YDH", "RUH", "WGH", "DCH"];
const LOCALITY: &str = "E07000187";

fn simulated(dir: &std::path::Path) -> levels::config::Config {
    let mut config = test_config(dir);
    config.simulator.enabled = true;
    config
}

/// Every series a chart shows: `(entity, measure)`.
fn charted() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for site in ACUTE {
        for measure in [
            "ga_occupancy",
            "hours_lost_today",
            "ed_four_hour_performance",
        ] {
            out.push((format!("site:{site}"), measure));
        }
    }
    // Only Somerset's own hospitals send discharge delays (out of county: no chart).
    for site in ["MPH", "YDH"] {
        out.push((format!("site:{site}"), "delayed_patients"));
    }
    for measure in ["community_load", "referrals_waiting"] {
        out.push((format!("locality:{LOCALITY}"), measure));
    }
    out
}

fn range() -> String {
    let now = chrono::Utc::now();
    let from = now - chrono::Duration::days(8);
    format!(
        "from={}&to={}",
        from.format("%Y-%m-%dT%H:%M:%SZ"),
        now.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

/// The points of a history series over the last 8 days: `(time, value)`.
async fn series(
    app: &TestApp,
    entity: &str,
    measure: &str,
) -> Vec<(chrono::DateTime<chrono::Utc>, f64)> {
    let (status, body) = app
        .get(&format!(
            "/api/v1/history?entity={entity}&measure={measure}&{}",
            range()
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| {
            let t = p["t"].as_str().expect("a time").parse().expect("RFC 3339");
            (t, p["v"].as_f64().expect("a value"))
        })
        .collect()
}

fn span_days(points: &[(chrono::DateTime<chrono::Utc>, f64)]) -> f64 {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) => (b.0 - a.0).num_seconds() as f64 / 86_400.0,
        _ => 0.0,
    }
}

/// The level changes of `entity` in the last 8 days that are marked as simulated.
async fn simulated_changes(app: &TestApp, entity: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/v1/levels?entity={entity}&{}", range()))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["actor"] == "simulator")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_fresh_demo_has_a_simulated_week_at_once_and_a_restart_adds_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let app = TestApp::spawn(simulated(dir.path())).await;

    // Every chart has a week, as soon as the server answers (by a deadline, not a sleep).
    let deadline = started + Duration::from_secs(60);
    let mut short = charted();
    while !short.is_empty() {
        let mut still = Vec::new();
        for (entity, measure) in short {
            let points = series(&app, &entity, measure).await;
            if span_days(&points) < 6.5 {
                still.push((entity, measure));
            }
        }
        short = still;
        assert!(
            short.is_empty() || Instant::now() < deadline,
            "charts without a week's history a minute after start: {short:?}"
        );
        if !short.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let filled = started.elapsed();
    eprintln!("a week of history {filled:?} after start");
    assert!(
        filled <= Duration::from_secs(60),
        "a fresh demo shows filled charts within a minute, not {filled:?}"
    );

    // It is the last week, up to now, marked as simulated bucket by bucket.
    let occupancy = series(&app, "site:MPH", "ga_occupancy").await;
    let newest = occupancy.last().expect("points").0;
    assert!(
        chrono::Utc::now() - newest < chrono::Duration::minutes(15),
        "{newest}"
    );
    assert!(
        occupancy.iter().all(|(_, v)| (0.5..=1.0).contains(v)),
        "occupancy is a share of open beds"
    );
    let marker = series(&app, "simulator", "backfilled").await;
    assert!(
        span_days(&marker) >= 6.5,
        "{} days marked",
        span_days(&marker)
    );
    let marked: BTreeSet<_> = marker.iter().map(|(t, _)| *t).collect();
    let backfilled = occupancy.iter().filter(|(t, _)| marked.contains(t)).count();
    assert!(
        backfilled * 100 >= occupancy.len() * 95,
        "{backfilled} of {} occupancy points are marked",
        occupancy.len()
    );

    // Level changes over the week from the escalation engine, marked as simulated.
    let mph = simulated_changes(&app, "site:MPH").await;
    let levels: BTreeSet<u64> = mph.iter().filter_map(|c| c["level"].as_u64()).collect();
    assert!(
        levels.len() >= 3,
        "Musgrove moves between levels over the week: {levels:?}"
    );
    let first: chrono::DateTime<chrono::Utc> =
        mph[0]["at"].as_str().expect("at").parse().expect("a time");
    assert!(
        chrono::Utc::now() - first > chrono::Duration::hours(156),
        "from a week ago: {first}"
    );
    assert!(mph.iter().all(|c| c["kind"] == "calculated"
        && c["reason"]
            .as_str()
            .is_some_and(|r| r.contains("simulated"))
        && c["explanation"]["level"] == c["level"]));
    // The 7-day pattern of the system is filled: a level in most hours of every past day.
    let (status, pattern) = app.get("/api/v1/levels/daily?entity=system&days=7").await;
    assert_eq!(status, 200, "{pattern}");
    let days = pattern["days"].as_array().expect("days");
    assert_eq!(days.len(), 7);
    for day in &days[..6] {
        let hours = day["hours"].as_array().expect("hours");
        let known = hours.iter().filter(|h| h.is_u64()).count();
        assert!(known * 10 >= hours.len() * 9, "{day}");
    }

    let counts = (
        marker.len(),
        mph.len(),
        simulated_changes(&app, "system").await.len(),
    );
    app.stop().await;

    // A restart finds the history and adds no second week.
    let app = TestApp::spawn(simulated(dir.path())).await;
    let again = (
        series(&app, "simulator", "backfilled").await.len(),
        simulated_changes(&app, "site:MPH").await.len(),
        simulated_changes(&app, "system").await.len(),
    );
    assert_eq!(
        again, counts,
        "(marked buckets, simulated changes of Musgrove and the system)"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_the_simulator_nothing_is_backfilled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    assert!(series(&app, "simulator", "backfilled").await.is_empty());
    assert!(series(&app, "site:MPH", "ga_occupancy").await.is_empty());
    assert!(simulated_changes(&app, "system").await.is_empty());
    app.stop().await;
}

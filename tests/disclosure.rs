//! Small numbers (docs/security.md, "Small numbers"): no count of patients from 1 to 4 in a
//! breakdown reaches anyone without a direct-care reason, on the live stream, the REST
//! snapshot or the export, and no hidden cell can be worked out from the total and the
//! cells beside it. A coordinator keeps exact figures for their own organisation's sites.

use levels_shared::access::Role;
use levels_shared::live::ServerMsg;
use levels_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An RFC 3339 time `days` days and two hours before now.
fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days) - chrono::Duration::hours(2)).to_rfc3339()
}

/// A delayed patient at `site` on `pathway`, ready `days` days ago, from `locality`.
fn patient(id: &str, site: &str, pathway: &str, days: i64, locality: &str) -> Value {
    json!({"id": id, "site": site, "at": minutes_ago(5), "patient": format!("P-{id}"),
        "ward": "Ward 7", "admitted_at": days_ago(days + 6), "ready_at": days_ago(days),
        "pathway": pathway, "reason": "p1_start_of_care", "responsible": "social_care",
        "locality": locality})
}

/// The example: Musgrove with 22 delayed, 18 on P1 and 4 on P3, and one patient
/// delayed 21+ days; Burnham (a community hospital) with a single delayed patient; the
/// Royal United (another trust, RD1) with 6 on P1 and 1 on P2.
async fn example(app: &TestApp) {
    let mut records = Vec::new();
    for i in 0..18 {
        let days = if i < 8 { 2 } else { 9 };
        records.push(patient(&format!("m{i}"), "MPH", "P1", days, "E07000190"));
    }
    for i in 0..3 {
        records.push(patient(&format!("m3{i}"), "MPH", "P3", 9, "E07000190"));
    }
    records.push(patient("m-long", "MPH", "P3", 30, "E07000189"));
    records.push(patient("b1", "BWCH", "P2", 12, "E07000188"));
    for i in 0..6 {
        records.push(patient(&format!("r{i}"), "RUH", "P1", 5, "E07000187"));
    }
    records.push(patient("r-p2", "RUH", "P2", 5, "E07000187"));
    app.post_ok("discharge-delays", &Value::Array(records))
        .await;
}

/// One breakdown as published: its name, its cells (`None` where hidden) and its total.
type Table = (String, Vec<Option<u64>>, u64);

/// Every breakdown of every site's delay measures in a live state.
fn tables(state: &Value) -> Vec<Table> {
    let mut out = Vec::new();
    let sites = state["sites"].as_object().expect("sites");
    for (site, s) in sites {
        let Some(d) = s["delays"].as_object() else {
            continue;
        };
        let total = d["delayed_now"].as_u64().expect("a total");
        for (name, b) in d.iter().filter(|(k, _)| k.starts_with("by_")) {
            let cells = b
                .as_object()
                .expect("a breakdown")
                .values()
                .map(Value::as_u64)
                .collect();
            out.push((format!("{site} {name}"), cells, total));
        }
    }
    out
}

/// The export's cells as written, by (site, measure), then value.
type Rows = BTreeMap<(String, String), BTreeMap<String, String>>;

/// The export's breakdowns (`*` is hidden), and its cells as written.
fn export_tables(csv: &str) -> (Vec<Table>, Rows) {
    let mut rows = Rows::new();
    let mut totals = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 4, "{line}");
        if f[1] == "delayed_now" {
            totals.insert(
                f[0].to_owned(),
                f[3].parse::<u64>().expect("totals are exact"),
            );
        } else {
            rows.entry((f[0].to_owned(), f[1].to_owned()))
                .or_default()
                .insert(f[2].to_owned(), f[3].to_owned());
        }
    }
    let tables = rows
        .iter()
        .map(|((site, measure), cells)| {
            let cells = cells
                .values()
                .map(|c| (c != "*").then(|| c.parse::<u64>().expect("a count or *")))
                .collect();
            (format!("{site} {measure}"), cells, totals[site])
        })
        .collect();
    (tables, rows)
}

/// Asserts no shown cell is from 1 to 4, every table adds up, and no hidden cell can be
/// worked out as the total less the shown cells (one hidden cell, or hidden cells that
/// must all be zero).
fn assert_protected(tables: &[Table]) {
    for (name, cells, total) in tables {
        let shown: u64 = cells.iter().flatten().sum();
        let hidden = cells.iter().filter(|c| c.is_none()).count();
        for n in cells.iter().flatten() {
            assert!(!(1..5).contains(n), "{name}: {n} shown in {cells:?}");
        }
        match hidden {
            0 => assert_eq!(shown, *total, "{name} adds up to its total"),
            1 => panic!("{name}: one hidden cell is the total less the others: {cells:?}"),
            _ => assert!(
                *total > shown,
                "{name}: the hidden cells must be zeros: {cells:?} of {total}"
            ),
        }
    }
}

/// Every breakdown of `n` cells adding up to `total`, passed to `f` one by one.
fn each_breakdown(n: usize, total: u64, cells: &mut Vec<u64>, f: &mut dyn FnMut(&[u64])) {
    if cells.len() + 1 == n {
        cells.push(total);
        f(cells);
        cells.pop();
        return;
    }
    for first in 0..=total {
        cells.push(first);
        each_breakdown(n, total - first, cells, f);
        cells.pop();
    }
}

/// The attack of someone who knows the rule: every breakdown with the same total that the
/// rule publishes the same way; no hidden cell may hold one value in all of them.
fn assert_rule_aware_attack_fails(tables: &[Table]) {
    use levels_shared::disclosure::protect;
    for (name, published, total) in tables {
        if published.iter().all(Option::is_some) {
            continue;
        }
        let mut values: Vec<std::collections::BTreeSet<u64>> =
            vec![Default::default(); published.len()];
        each_breakdown(published.len(), *total, &mut Vec::new(), &mut |cells| {
            let counts: Vec<u32> = cells.iter().map(|&c| c as u32).collect();
            let same = protect(&counts)
                .iter()
                .zip(published)
                .all(|(a, b)| a.map(u64::from) == *b);
            if same {
                for (i, c) in cells.iter().enumerate() {
                    values[i].insert(*c);
                }
            }
        });
        for (i, cell) in published.iter().enumerate() {
            if cell.is_none() {
                assert!(
                    values[i].len() >= 2,
                    "{name}: hidden cell {i} can only be {:?}",
                    values[i]
                );
            }
        }
    }
}

async fn export(app: &TestApp, role: Role) -> String {
    let res = app
        .http
        .get(app.url("/api/v1/exports/delays.csv"))
        .header("cookie", app.cookie(role))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 200, "{role}");
    res.text().await.expect("a body")
}

#[tokio::test]
async fn no_screen_shows_a_small_number_or_a_cell_that_gives_one_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    config.history.resolution_seconds = 1;
    let app = TestApp::spawn(config).await;
    let mut live = app.live(None).await;
    let _snapshot = live.next().await;
    example(&app).await;

    // The deltas every screen is sent carry the measures through disclosure control.
    let mut measured = Vec::new();
    for msg in live.changes_within(std::time::Duration::from_secs(2)).await {
        let ServerMsg::Delta { changes, .. } = msg else {
            continue;
        };
        for change in changes {
            if let levels_shared::live::Change::Measures { site, delays, .. } = change {
                let mut state = json!({"sites": {}});
                state["sites"][&site] = json!({"delays": delays});
                assert_protected(&tables(&state));
                measured.push(site);
            }
        }
    }
    for site in ["MPH", "BWCH", "RUH"] {
        assert!(measured.iter().any(|s| s == site), "{site}: {measured:?}");
    }

    // The REST snapshot, for every role (the live state is the same for all of them).
    for role in Role::ALL {
        let (status, reply) = app.get_as(Some(role), "/api/v1/state").await;
        assert_eq!(status, 200, "{role}");
        let state = &reply["state"];
        assert_protected(&tables(state));
        if role == Role::Display {
            assert_rule_aware_attack_fails(&tables(state));
        }
        let mph = &state["sites"]["MPH"]["delays"];
        assert_eq!(mph["delayed_now"], 22, "totals stay");
        assert!(mph["bed_days_lost_week"].as_f64().expect("bed days") > 0.0);
        assert_eq!(mph["by_pathway"]["P1"], 18);
        assert_eq!(mph["by_pathway"]["P3"], Value::Null, "4 on P3 is hidden");
        assert_eq!(mph["by_pathway"]["P0"], Value::Null, "and so are the zeros");
        let bwch = &state["sites"]["BWCH"]["delays"];
        assert_eq!(bwch["delayed_now"], 1);
        for figure in [
            "mean_days_delayed",
            "bed_days_lost_today",
            "bed_days_lost_week",
        ] {
            assert_eq!(
                bwch[figure],
                Value::Null,
                "one patient's {figure} is their delay"
            );
        }
        for breakdown in ["by_pathway", "by_band", "by_locality", "by_reason_group"] {
            let cells = bwch[breakdown].as_object().expect("a breakdown");
            assert!(
                cells.values().all(Value::is_null),
                "BWCH {breakdown}: {cells:?}"
            );
        }
    }

    // The history every role may read: sampled (the total is there), but no locality's
    // count of delayed patients, since every locality's cell is hidden at Burnham.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, total) = app
            .get("/api/v1/history?entity=site:MPH&measure=delayed_patients")
            .await;
        if total["points"].as_array().is_some_and(|p| !p.is_empty()) {
            assert_eq!(total["points"][0]["v"], 22.0, "{total}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no history: {total}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for locality in [
        "E07000187",
        "E07000188",
        "E07000189",
        "E07000190",
        "E07000191",
    ] {
        let (_, home) = app
            .get(&format!(
                "/api/v1/history?entity=locality:{locality}&measure=delayed_patients_home"
            ))
            .await;
        assert_eq!(home["points"], json!([]), "{locality}: {home}");
    }
    let (_, bed_days) = app
        .get("/api/v1/history?entity=site:BWCH&measure=bed_days_lost_today")
        .await;
    assert_eq!(bed_days["points"], json!([]), "{bed_days}");

    // The websocket's snapshot carries the same.
    let mut live = app.live(None).await;
    let ServerMsg::Snapshot { state, .. } = live.next().await else {
        panic!("a snapshot first");
    };
    let state = serde_json::to_value(&state).expect("serialises");
    assert_protected(&tables(&state));
    assert_eq!(
        state["sites"]["MPH"]["delays"]["by_pathway"]["P3"],
        Value::Null
    );

    // The export, for those who may export and have no direct-care reason.
    for role in [Role::SiteManager, Role::SystemLeader, Role::Admin] {
        let csv = export(&app, role).await;
        let (tables, rows) = export_tables(&csv);
        assert!(
            tables.len() >= 15,
            "three sites, five breakdowns each: {csv}"
        );
        assert_protected(&tables);
        if role == Role::SystemLeader {
            assert_rule_aware_attack_fails(&tables);
        }
        assert_eq!(rows[&("MPH".into(), "pathway".into())]["P3"], "*");
        assert!(!csv.contains("<5"), "a hidden cell is not always under 5");
    }

    // A coordinator of Somerset NHS FT (RH5) sees exact figures for its sites, and the
    // Royal United's (RD1) as everyone does.
    let csv = export(&app, Role::DischargeCoordinator).await;
    let (_, rows) = export_tables(&csv);
    let cell = |site: &str, measure: &str, value: &str| {
        rows[&(site.into(), measure.into())][value].clone()
    };
    assert_eq!(cell("MPH", "pathway", "P3"), "4");
    assert_eq!(cell("MPH", "pathway", "P1"), "18");
    assert_eq!(cell("MPH", "days_delayed", "21+"), "1");
    assert_eq!(cell("MPH", "days_delayed", "7-13"), "13");
    assert_eq!(cell("MPH", "home_locality", "E07000189"), "1");
    assert_eq!(cell("BWCH", "pathway", "P2"), "1");
    assert_eq!(cell("RUH", "pathway", "P1"), "6");
    assert_eq!(cell("RUH", "pathway", "P2"), "*");
    assert_eq!(cell("RUH", "pathway", "P0"), "*");
}

//! The control-room page in a real headless Chromium: the map draws every site, a posted
//! record changes its tile without a reload, and a server restart is shown and recovered.

use fantoccini::Locator;
use levels_shared::access::Role;
use levels_shared::live::{Change, ServerMsg};
use levels_tests::browser::Browser;
use levels_tests::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn the_control_room_shows_the_map_and_updates_live_and_across_a_restart() {
    let root = workspace_root();
    assert!(
        root.join("dist/index.html").exists(),
        "dist/ is missing: build the dashboard first (scripts/test.sh does: trunk build --release)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    let app = TestApp::spawn(config.clone()).await;
    app.post_beds_ok(&json!([beds("b1", "MPH", 400)])).await;

    let browser = Browser::start().await;
    browser.sign_in(&app, Role::SiteManager).await;
    browser
        .client
        .goto(&app.url("/"))
        .await
        .expect("the page loads");

    // Every site of the reference data has a marker with its name written beside it.
    let markers = browser
        .wait_until(20, "22 site markers on the map", |c| async move {
            let found = c
                .find_all(Locator::Css("svg.system-map g.site-marker"))
                .await
                .ok()?;
            (found.len() == 22).then_some(found)
        })
        .await;
    let mph = markers[0].clone();
    assert_eq!(
        mph.attr("data-site").await.expect("attr").as_deref(),
        Some("MPH")
    );
    assert!(mph.text().await.expect("text").contains("Musgrove Park"));
    let localities = browser
        .client
        .find_all(Locator::Css(".localities path"))
        .await
        .expect("paths");
    assert_eq!(localities.len(), 5, "five localities drawn");

    // The tile shows the first record: 400 of 520 open beds.
    let occupancy = |expected: &'static str| {
        move |c: fantoccini::Client| async move {
            let text = Browser::text(&c, "[data-tile=MPH] .occupancy").await?;
            (text == expected).then_some(())
        }
    };
    browser
        .wait_until(10, "MPH tile at 77%", occupancy("77%"))
        .await;
    assert_eq!(
        Browser::text(&browser.client, "[data-tile=MPH] .beds-available")
            .await
            .as_deref(),
        Some("120")
    );

    // A new record changes the tile and the map label without a reload.
    browser
        .client
        .execute("window.__levelsNoReload = true;", vec![])
        .await
        .expect("js");
    let (status, _) = app.post_beds(&json!([beds("b2", "MPH", 510)])).await;
    assert_eq!(status, 200);
    browser
        .wait_until(5, "MPH tile at 98%", occupancy("98%"))
        .await;
    // Acute markers carry their OPEL level in words, and occupancy on the line under it.
    let label = Browser::text(&browser.client, "g.site-marker[data-site=MPH] .site-detail").await;
    assert_eq!(label.as_deref(), Some("98% beds · handovers –"));
    let level = Browser::text(&browser.client, "g.site-marker[data-site=MPH] .site-figure").await;
    assert_eq!(level.as_deref(), Some("OPEL –"));
    let marker_class = mph.attr("class").await.expect("class").unwrap_or_default();
    assert!(marker_class.contains("opel-fill-none"), "{marker_class}");
    // A community hospital's marker is coloured and labelled by its occupancy.
    app.post_beds_ok(&json!([{"id": "c1", "site": "SHEP", "at": minutes_ago(1),
        "pool": "community_inpatient", "core_open": 20, "escalation_open": 0, "occupied": 19}]))
        .await;
    browser
        .wait_until(5, "Shepton Mallet at 95%", |c| async move {
            let text = Browser::text(&c, "g.site-marker[data-site=SHEP] .site-figure").await?;
            (text == "95%").then_some(())
        })
        .await;
    let shep = browser
        .client
        .find(Locator::Css("g.site-marker[data-site=SHEP]"))
        .await
        .expect("marker");
    let shep_class = shep.attr("class").await.expect("class").unwrap_or_default();
    assert!(shep_class.contains("band-high"), "{shep_class}");
    // Beds alone are too few of the policy's inputs: the level is shown as not calculable.
    let opel = Browser::text(&browser.client, "[data-tile=MPH] .opel").await;
    assert_eq!(opel.as_deref(), Some("OPEL –"));
    let same_page = browser
        .client
        .execute("return window.__levelsNoReload === true;", vec![])
        .await
        .expect("js");
    assert_eq!(same_page, json!(true), "the page was not reloaded");
    browser
        .wait_until(5, "the connection shown as live", |c| async move {
            let state = c
                .find(Locator::Css(".connection"))
                .await
                .ok()?
                .attr("data-state")
                .await
                .ok()??;
            (state == "live").then_some(())
        })
        .await;
    browser
        .screenshot(&root.join("target/browser-control-room.png"))
        .await;
    assert_text_contrast(&browser).await;

    // The server goes away: the page says so within seconds, then recovers by itself.
    let port = app.addr.port();
    app.stop().await;
    let status = browser
        .wait_until(5, "the connection shown as lost", |c| async move {
            let el = c
                .find(Locator::Css(".connection[data-state=reconnecting]"))
                .await
                .ok()?;
            el.text().await.ok()
        })
        .await;
    assert!(status.contains("DISCONNECTED"), "{status}");
    let banner = Browser::text(&browser.client, ".lost-banner")
        .await
        .unwrap_or_default();
    assert!(banner.contains("CONNECTION TO LEVELS LOST"), "{banner}");
    assert!(banner.contains("are not updating"), "{banner}");
    browser
        .screenshot(&root.join("target/browser-disconnected.png"))
        .await;

    config.server.bind.set_port(port);
    let app = TestApp::spawn(config).await;
    app.post_beds_ok(&json!([beds("b3", "MPH", 260)])).await;
    browser
        .wait_until(15, "MPH tile at 50% after the restart", occupancy("50%"))
        .await;
    let state = Browser::text(&browser.client, ".connection .connection-headline").await;
    assert_eq!(state.as_deref(), Some("● LIVE"));
    assert!(
        browser
            .client
            .find(Locator::Css(".lost-banner"))
            .await
            .is_err(),
        "the lost-connection banner is gone once live again"
    );

    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_declared_level_and_its_alert_reach_the_control_room_without_a_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    // Every live message in frames of one byte: Chromium must reassemble them, UTF-8
    // sequences cut between frames included (the reason below has some).
    config.live.fragment_bytes = 1;
    let app = TestApp::spawn(config).await;
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, Role::SiteManager).await;
    browser
        .client
        .goto(&app.url("/"))
        .await
        .expect("the page loads");
    let badge = |want: &'static str| {
        move |c: fantoccini::Client| async move {
            let text = Browser::text(&c, "[data-tile=MPH] .opel-group").await?;
            text.contains(want).then_some(text)
        }
    };
    browser
        .wait_until(20, "MPH at OPEL 3", badge("OPEL 3"))
        .await;
    assert_eq!(
        Browser::text(&browser.client, ".alerts-none")
            .await
            .as_deref(),
        Some("No level changes in the last 12 hours")
    );
    browser
        .client
        .execute("window.__levelsNoReload = true;", vec![])
        .await
        .expect("js");

    // New ED figures move the calculated level: the tile and the alert strip follow.
    levels_tests::opel_inputs::post_level_4_ed(&app).await;
    browser
        .wait_until(5, "MPH at OPEL 4", badge("OPEL 4"))
        .await;
    let strip = browser
        .wait_until(5, "the alert", |c| async move {
            let text = Browser::text(&c, ".alert-strip").await?;
            text.contains("Musgrove Park").then_some(text)
        })
        .await;
    assert!(strip.contains("▲ Musgrove Park: OPEL 3 → 4"), "{strip}");
    let marker = Browser::text(&browser.client, "g.site-marker[data-site=MPH] .site-figure").await;
    assert_eq!(marker.as_deref(), Some("OPEL 4"));

    let declare = json!({"entity": "site:MPH", "level": 4, "reason": "CT scanner down — café 🚑"});
    let (status, answer) = app.post_json("/api/v1/declarations", &declare).await;
    assert_eq!(status, 200, "{answer}");
    let alert = answer["alert"].as_i64().expect("an alert id");

    // The tile shows the declared level in words, with the calculated one beside it.
    let badge = browser
        .wait_until(5, "MPH declared OPEL 4", badge("declared"))
        .await;
    assert!(badge.contains("declared · calc 4"), "{badge}");
    // The alert with its OPEL 4 action card, every action still to do.
    let strip = Browser::text(&browser.client, ".alert-strip")
        .await
        .unwrap_or_default();
    assert!(
        strip.contains("▲ Musgrove Park: OPEL 4 declared"),
        "{strip}"
    );
    assert!(strip.contains("“CT scanner down — café 🚑”"), "{strip}");
    assert!(strip.contains("0 of 4 actions done"), "{strip}");
    assert!(strip.contains("☐ Executive on-call leads"), "{strip}");

    // An action marked done elsewhere is ticked here.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/alerts/{alert}/actions/0"),
            &json!({"done": true}),
        )
        .await;
    assert_eq!(status, 200);
    browser
        .wait_until(5, "the action ticked", |c| async move {
            let text = Browser::text(&c, ".alert-strip").await?;
            (text.contains("1 of 4 actions done") && text.contains("✓ Executive on-call leads"))
                .then_some(())
        })
        .await;
    let same_page = browser
        .client
        .execute("return window.__levelsNoReload === true;", vec![])
        .await
        .expect("js");
    assert_eq!(same_page, json!(true), "the page was not reloaded");
    browser
        .screenshot(&workspace_root().join("target/browser-declared.png"))
        .await;
    browser.close().await;
    app.stop().await;
}

/// The page's path and query, read from the browser.
async fn location(browser: &Browser) -> String {
    browser
        .client
        .execute(
            "return window.location.pathname + window.location.search;",
            vec![],
        )
        .await
        .expect("js")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_system_view_explains_a_level_as_the_api_does_and_kiosk_mode_rotates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, Role::SystemLeader).await;
    browser
        .client
        .goto(&app.url("/system?entity=site:MPH"))
        .await
        .expect("the page loads");

    // The explanation table has the API's parameters, values' bands and score.
    let state = app.state().await;
    let explanation = &state["state"]["levels"]["site:MPH"]["calculated"];
    let expected: Vec<String> = explanation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| format!("{}={}", p["label"].as_str().unwrap_or(""), p["band"]))
        .collect();
    let rows = browser
        .wait_until(20, "nine explanation rows", |c| async move {
            let rows = c
                .find_all(Locator::Css("table.explanation tbody tr"))
                .await
                .ok()?;
            (rows.len() == 9).then_some(rows)
        })
        .await;
    let mut shown = Vec::new();
    for row in rows {
        let label = row
            .find(Locator::Css("th"))
            .await
            .expect("th")
            .text()
            .await
            .expect("text");
        let band = row
            .find(Locator::Css(".band-cell"))
            .await
            .expect("band")
            .text()
            .await
            .expect("text");
        shown.push(format!("{label}={band}"));
    }
    assert_eq!(shown, expected);
    let score = Browser::text(&browser.client, "table.explanation tfoot td.num").await;
    assert_eq!(score.as_deref(), Some("2.78"));
    // A system leader's navigation has no patient list (only coordinators see it), and the
    // list itself tells them why.
    let nav = Browser::text(&browser.client, "nav.views")
        .await
        .unwrap_or_default();
    assert!(
        nav.contains("System") && !nav.contains("Discharge"),
        "{nav}"
    );
    let heading = Browser::text(&browser.client, ".explain-head")
        .await
        .unwrap_or_default();
    assert!(
        heading.contains("Musgrove Park") && heading.contains("OPEL 3"),
        "{heading}"
    );

    // The 7-day pattern: seven days, today's latest hour at OPEL 3 as the API says.
    let (_, daily) = app.get("/api/v1/levels/daily?entity=site:MPH&days=7").await;
    let last = daily["days"][6]["hours"]
        .as_array()
        .and_then(|h| h.last())
        .cloned();
    assert_eq!(last, Some(json!(3)));
    let days = browser
        .client
        .find_all(Locator::Css("table.pattern tbody tr"))
        .await
        .expect("rows");
    assert_eq!(days.len(), 7);
    let mut hours = Vec::new();
    for cell in days[0]
        .find_all(Locator::Css("td.hour"))
        .await
        .expect("cells")
    {
        hours.push(cell.text().await.expect("text"));
    }
    let known: Vec<&String> = hours.iter().filter(|h| !h.is_empty()).collect();
    assert_eq!(known.last().map(|s| s.as_str()), Some("3"), "{hours:?}");

    // "Export CSV" carries what is on screen: the explanation and the 7-day pattern.
    let csv = browser
        .client
        .execute(
            "const a = document.querySelector('a.export'); \
             return [a.getAttribute('download'), decodeURIComponent(a.href.split(',').slice(1).join(','))];",
            vec![],
        )
        .await
        .expect("js");
    let file = csv[0].as_str().unwrap_or_default();
    assert!(
        file.starts_with("levels-site-MPH-") && file.ends_with(".csv"),
        "{file}"
    );
    let text = csv[1].as_str().unwrap_or_default();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark, so spreadsheets read UTF-8");
    assert!(
        text.starts_with("entity,site:MPH,\"Musgrove Park\"\nshown level,3\n"),
        "{text}"
    );
    assert!(
        text.contains("\nparameter,label,value,status,band,weight,contribution,note\n"),
        "{text}"
    );
    assert!(
        text.contains("\nga_occupancy,\"G&A bed occupancy\",0.9615,Ok,3,1,"),
        "{text}"
    );
    let dated = |l: &&str| {
        let b = l.as_bytes();
        b.len() > 10 && b[4] == b'-' && b[7] == b'-' && b[10] == b','
    };
    assert_eq!(text.lines().filter(dated).count(), 7, "one row per day");

    // A new reading moves the explanation's figures, and the open table follows without a
    // reload: the stream carries only the figures that moved (`Change::Figures`).
    let mut screen = app.live(None).await;
    screen.next().await;
    app.post_ok(
        "beds",
        &json!([{"id": "b-later", "site": "MPH", "at": minutes_ago(1),
        "pool": "general_acute_adult", "core_open": 500, "escalation_open": 20, "occupied": 450}]),
    )
    .await;
    let streamed = screen.changes_within(Duration::from_millis(800)).await;
    assert!(
        streamed
            .iter()
            .any(|m| matches!(m, ServerMsg::Delta { changes, .. }
            if changes.iter().any(|c| matches!(c, Change::Figures { entity, .. }
                if entity.to_string() == "site:MPH")))),
        "Musgrove's explanation streamed as the figures that moved: {streamed:?}"
    );
    browser
        .wait_until(10, "G&A occupancy at 87%", |c| async move {
            let rows = c
                .find_all(Locator::Css("table.explanation tbody tr"))
                .await
                .ok()?;
            for row in rows {
                let label = row.find(Locator::Css("th")).await.ok()?.text().await.ok()?;
                if label == "G&A bed occupancy" {
                    let text = row.text().await.ok()?;
                    return text.contains("87%").then_some(());
                }
            }
            None
        })
        .await;

    // Choosing the system moves to it without a reload, and the URL says so.
    browser
        .client
        .execute("window.__levelsNoReload = true;", vec![])
        .await
        .expect("js");
    browser
        .client
        .find(Locator::Css(".chooser a[href='/system?entity=system']"))
        .await
        .expect("the system in the chooser")
        .click()
        .await
        .expect("click");
    browser
        .wait_until(5, "the system explained", |c| async move {
            let head = Browser::text(&c, ".explain-head h2").await?;
            head.contains("system").then_some(())
        })
        .await;
    assert_eq!(location(&browser).await, "/system?entity=system");
    let members = browser
        .client
        .find_all(Locator::Css("table.explanation tbody tr"))
        .await
        .expect("rows");
    assert_eq!(members.len(), 3, "Musgrove, Yeovil and community services");
    let same_page = browser
        .client
        .execute("return window.__levelsNoReload === true;", vec![])
        .await
        .expect("js");
    assert_eq!(same_page, json!(true));
    browser
        .screenshot(&workspace_root().join("target/browser-system.png"))
        .await;
    assert_text_contrast(&browser).await;

    // Kiosk: no navigation, and after 5 seconds the next wall view.
    browser
        .client
        .goto(&app.url("/?rotate=5"))
        .await
        .expect("the page loads");
    browser
        .wait_until(20, "the control room", |c| async move {
            Browser::text(&c, "[data-tile=MPH] .occupancy").await
        })
        .await;
    assert!(
        browser
            .client
            .find(Locator::Css("nav.views"))
            .await
            .is_err(),
        "navigation hidden"
    );
    browser
        .wait_until(10, "rotated to the system view", |c| async move {
            c.find(Locator::Css("table.explanation")).await.ok()
        })
        .await;
    assert_eq!(location(&browser).await, "/system?rotate=5");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn discharge_filters_narrow_the_list_to_the_right_patients_and_survive_a_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    let at = minutes_ago(5);
    let patient = |id: &str, site: &str, ward: &str, days: i64, pathway: &str, reason: &str| {
        json!({"id": id, "site": site, "at": at, "patient": id, "ward": ward,
            "admitted_at": ago(days + 4), "ready_at": ago(days), "pathway": pathway,
            "reason": reason, "locality": "E07000190"})
    };
    app.post_ok(
        "discharge-delays",
        &json!([
            patient("MPH-A", "MPH", "Ward 1", 9, "P3", "p3_placement"),
            patient("MPH-B", "MPH", "Ward 2", 2, "P1", "p1_start_of_care"),
            patient("MPH-C", "MPH", "Ward 1", 22, "P3", "p3_placement"),
            patient("YDH-A", "YDH", "Ward 5", 5, "P3", "p3_placement"),
            patient("YDH-B", "YDH", "Ward 5", 1, "P0", "medical_decision"),
            // No home locality given.
            json!({"id": "YDH-C", "site": "YDH", "at": at, "patient": "YDH-C", "ward": "Ward 6",
                "admitted_at": ago(7), "ready_at": ago(3), "pathway": "P2", "reason": "p2_bed"}),
        ]),
    )
    .await;
    let rows = |c: fantoccini::Client| async move {
        let mut out = Vec::new();
        for row in c
            .find_all(Locator::Css("table.patient-list tbody tr"))
            .await
            .ok()?
        {
            out.push(row.attr("data-patient").await.ok()??);
        }
        Some(out)
    };
    let browser = Browser::start().await;
    browser.sign_in(&app, Role::DischargeCoordinator).await;
    browser
        .client
        .goto(&app.url("/discharge"))
        .await
        .expect("the page loads");
    // Longest delay first.
    let all = browser
        .wait_until(20, "six patients listed", move |c| async move {
            rows(c).await.filter(|r| r.len() == 6)
        })
        .await;
    assert_eq!(all, ["MPH-C", "MPH-A", "YDH-A", "YDH-C", "MPH-B", "YDH-B"]);

    // Pathway 3 at Musgrove: the select boxes are ordinary form controls.
    for (filter, value) in [("pathway", "P3"), ("site", "MPH")] {
        browser
            .client
            .find(Locator::Css(&format!("select[data-filter={filter}]")))
            .await
            .expect("a filter")
            .select_by_value(value)
            .await
            .expect("chosen");
    }
    let narrowed = browser
        .wait_until(5, "two patients", move |c| async move {
            rows(c).await.filter(|r| r.len() == 2)
        })
        .await;
    assert_eq!(narrowed, ["MPH-C", "MPH-A"]);
    let url = location(&browser).await;
    assert!(
        url.contains("pathway=P3") && url.contains("site=MPH"),
        "{url}"
    );
    let headline = Browser::text(&browser.client, ".headline")
        .await
        .unwrap_or_default();
    assert!(headline.starts_with("2 of 6"), "{headline}");

    // Sorting by reference with its column's button (an ordinary, focusable button).
    let buttons = browser
        .client
        .find_all(Locator::Css("button.sort"))
        .await
        .expect("buttons");
    assert_eq!(buttons[2].text().await.expect("text"), "Reference");
    buttons[2].click().await.expect("click");
    browser
        .wait_until(5, "sorted by reference", move |c| async move {
            rows(c).await.filter(|r| r == &["MPH-A", "MPH-C"])
        })
        .await;
    assert!(location(&browser).await.contains("sort=patient"));

    // A reload (or the same link opened elsewhere) shows the same patients.
    browser.client.goto(&app.url(&url)).await.expect("reload");
    let again = browser
        .wait_until(20, "the same two after a reload", move |c| async move {
            rows(c).await.filter(|r| r.len() == 2)
        })
        .await;
    assert_eq!(again, ["MPH-C", "MPH-A"]);
    let pathway = browser
        .client
        .execute(
            "return document.querySelector('select[data-filter=pathway]').value;",
            vec![],
        )
        .await
        .expect("js");
    assert_eq!(pathway, json!("P3"));

    // "Not given" is a filter value of its own, kept in the URL.
    browser
        .client
        .goto(&app.url("/discharge?locality=-"))
        .await
        .expect("the page loads");
    browser
        .wait_until(
            20,
            "only the patient with no home locality",
            move |c| async move { rows(c).await.filter(|r| r == &["YDH-C"]) },
        )
        .await;
    let chosen = browser
        .client
        .execute(
            "const s = document.querySelector('select[data-filter=locality]'); \
             return s.options[s.selectedIndex].text;",
            vec![],
        )
        .await
        .expect("js");
    assert_eq!(chosen, json!("(not given)"));
    browser
        .screenshot(&workspace_root().join("target/browser-discharge.png"))
        .await;
    assert_text_contrast(&browser).await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn site_and_community_views_show_their_figures_and_a_stopped_feed_turns_stale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    // Two Mendip teams: one reporting now, one whose last report is 3 hours old.
    let team = |id: &str, team: &str, service: &str, at: &str, caseload: u32| {
        json!({"id": id, "site": "SHEP", "at": at, "team": team, "service": service,
            "caseload": caseload, "capacity": 100, "referrals_waiting": 4})
    };
    app.post_ok(
        "community",
        &json!([
            team("c1", "CN-MENDIP", "community_nursing", &minutes_ago(2), 103),
            team("c2", "RR-MENDIP", "rehab_reablement", &minutes_ago(180), 90),
        ]),
    )
    .await;
    let browser = Browser::start().await;
    browser.sign_in(&app, Role::SystemLeader).await;

    // The site view: its level, its feeds' freshness, its bed pool.
    browser
        .client
        .goto(&app.url("/sites/MPH"))
        .await
        .expect("the page loads");
    let head = browser
        .wait_until(20, "the site view", |c| async move {
            Browser::text(&c, ".site-view .explain-head").await
        })
        .await;
    assert!(
        head.contains("Musgrove Park Hospital") && head.contains("OPEL 3"),
        "{head}"
    );
    let feeds = Browser::text(&browser.client, ".feeds")
        .await
        .unwrap_or_default();
    assert!(
        feeds.contains("beds ·") && feeds.contains("ed ·"),
        "{feeds}"
    );
    let pools = Browser::text(&browser.client, ".site-view table.data-table tbody")
        .await
        .unwrap_or_default();
    assert!(pools.starts_with("G&A adult 500 20 500 20"), "{pools}");
    // One patient with no criteria to reside: the total shows, but not their bed days lost,
    // and every breakdown's cells are hidden, with the note saying why.
    let delays = Browser::text(&browser.client, ".site-delays")
        .await
        .unwrap_or_default();
    assert!(
        delays.contains("1 patients with no criteria to reside")
            && delays.contains("* bed days lost today, * this week")
            && delays.contains("* hidden: fewer than 5 patients"),
        "{delays}"
    );

    // The community view: Mendip counts only its fresh team; the silent one is greyed.
    browser
        .client
        .goto(&app.url("/community"))
        .await
        .expect("the page loads");
    let mendip = browser
        .wait_until(20, "Mendip's row", |c| async move {
            Browser::text(&c, "tr[data-locality=E07000187]").await
        })
        .await;
    assert!(
        mendip.contains("103 / 100") && mendip.contains("103%") && mendip.contains("1 of 3"),
        "{mendip}"
    );
    let stale_team = browser
        .client
        .find(Locator::Css("tr[data-team=RR-MENDIP]"))
        .await
        .expect("the team");
    assert!(stale_team
        .attr("class")
        .await
        .expect("class")
        .unwrap_or_default()
        .contains("stale"));
    assert!(stale_team
        .text()
        .await
        .expect("text")
        .contains("STALE · 3 h"));
    browser
        .screenshot(&workspace_root().join("target/browser-community.png"))
        .await;
    assert_text_contrast(&browser).await;

    // On the control room, Yeovil's beds last came 45 minutes ago: older than twice their
    // 15-minute interval, so the tile is greyed and says how old they are.
    app.post_beds_ok(&json!([beds_at("old", "YDH", 200, &minutes_ago(45))]))
        .await;
    browser
        .client
        .goto(&app.url("/"))
        .await
        .expect("the page loads");
    let tile = browser
        .wait_until(20, "Yeovil's tile stale", |c| async move {
            let el = c.find(Locator::Css("[data-tile=YDH].stale")).await.ok()?;
            el.text().await.ok()
        })
        .await;
    assert!(tile.contains("STALE") && tile.contains("min ago"), "{tile}");
    browser.close().await;
    app.stop().await;
}

/// Every visible text element of the page has a contrast of at least 4.5:1 (WCAG AA)
/// against the first opaque background behind it.
async fn assert_text_contrast(browser: &Browser) {
    let js = r#"
        const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
        const lum = ([r, g, b]) => {
            const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        };
        const background = el => {
            for (; el; el = el.parentElement) {
                const c = rgb(getComputedStyle(el).backgroundColor);
                if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) return c;
            }
            return [0, 0, 0];
        };
        const bad = [];
        for (const el of document.querySelectorAll('main *, header *')) {
            if (el.closest('svg') || !el.childNodes.length) continue;
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (!own || el.offsetParent === null) continue;
            const fg = rgb(getComputedStyle(el).color), bg = background(el);
            const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
            const ratio = (a + 0.05) / (b + 0.05);
            if (ratio < 4.5) bad.push(`${el.tagName}.${el.className}: ${el.textContent.trim().slice(0, 30)} ${ratio.toFixed(2)}`);
        }
        return bad;
    "#;
    let bad = browser.client.execute(js, vec![]).await.expect("js");
    assert_eq!(bad, json!([]), "text below 4.5:1 contrast");
    // The check itself catches dim text: grey on the dark panel is about 1.9:1.
    browser
        .client
        .execute(
            "const s = document.createElement('span'); s.id = 'dim'; s.style.color = '#444b55'; \
             s.textContent = 'dim'; document.querySelector('main').appendChild(s);",
            vec![],
        )
        .await
        .expect("js");
    let caught = browser.client.execute(js, vec![]).await.expect("js");
    assert_eq!(caught.as_array().map(Vec::len), Some(1), "{caught}");
    browser
        .client
        .execute("document.getElementById('dim').remove();", vec![])
        .await
        .expect("js");
}

#[tokio::test]
async fn a_site_manager_declares_a_level_and_ticks_an_action_from_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, Role::SiteManager).await;
    browser
        .client
        .goto(&app.url("/sites/MPH"))
        .await
        .expect("the page loads");
    let form = browser
        .wait_until(20, "the declaration form", |c| async move {
            c.find(Locator::Css("form.declare")).await.ok()
        })
        .await;
    // Without a reason the server refuses, and the form says why.
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    let refusal = browser
        .wait_until(5, "the refusal", |c| async move {
            Browser::text(&c, "form.declare .error").await
        })
        .await;
    assert_eq!(refusal, "reason is required");
    form.find(Locator::Css("select[name=level]"))
        .await
        .expect("level")
        .select_by_value("4")
        .await
        .expect("chosen");
    form.find(Locator::Css("textarea[name=reason]"))
        .await
        .expect("reason")
        .send_keys("CT scanner down")
        .await
        .expect("typed");
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    let badge = browser
        .wait_until(5, "the declared badge", |c| async move {
            let text = Browser::text(&c, ".site-view .explain-head .opel-group").await?;
            text.contains("declared").then_some(text)
        })
        .await;
    assert!(
        badge.contains("OPEL 4") && badge.contains("calc 3"),
        "{badge}"
    );
    let (_, declared) = app
        .get("/api/v1/levels?entity=site:MPH&kind=declared")
        .await;
    assert_eq!(
        declared[0]["actor"], "site_manager",
        "recorded as the signed-in account's"
    );
    assert_eq!(declared[0]["reason"], "CT scanner down");

    // On the system view the alert's actions are checkboxes; the name is remembered.
    browser
        .client
        .goto(&app.url("/system?entity=site:MPH"))
        .await
        .expect("the page loads");
    let checkbox = browser
        .wait_until(20, "the first action", |c| async move {
            c.find(Locator::Css(".alert-actions input[type=checkbox]"))
                .await
                .ok()
        })
        .await;
    checkbox.click().await.expect("tick");
    let (_, alerts) = browser
        .wait_until(5, "the action recorded", |_| {
            let app = &app;
            async move {
                let (status, alerts) = app.get("/api/v1/alerts").await;
                alerts[0]["actions"][0]["done"]
                    .is_object()
                    .then_some((status, alerts))
            }
        })
        .await;
    assert_eq!(alerts[0]["actions"][0]["done"]["actor"], "site_manager");
    browser
        .wait_until(5, "the tick shown", |c| async move {
            let text = Browser::text(&c, ".alert-actions .alert-card").await?;
            text.contains("— site_manager at").then_some(())
        })
        .await;
    // The system's level is a system leader's: a site manager's page has no form for it,
    // though it draws the same panel (the form and the actions are drawn together).
    browser
        .client
        .goto(&app.url("/system?entity=system"))
        .await
        .expect("the page loads");
    browser
        .wait_until(20, "the system's panel", |c| async move {
            let head = Browser::text(&c, ".explain-head h2").await?;
            let actions = c.find(Locator::Css(".write-panels .alert-actions")).await;
            (!head.contains("Musgrove") && actions.is_ok()).then_some(())
        })
        .await;
    assert!(
        browser
            .client
            .find(Locator::Css(".write-panels form.declare"))
            .await
            .is_err(),
        "no declaration form for the system"
    );
    // Signing out returns to the sign-in page, and the old cookie no longer works.
    browser
        .client
        .find(Locator::Css("button.sign-out"))
        .await
        .expect("the sign-out button")
        .click()
        .await
        .expect("click");
    browser
        .wait_until(10, "the sign-in page again", |c| async move {
            c.find(Locator::Css("form.login-form")).await.ok()
        })
        .await;
    browser
        .submit_sign_in("site_manager", "not the password")
        .await;
    let refusal = browser
        .wait_until(5, "the refusal", |c| async move {
            Browser::text(&c, "form.login-form .error").await
        })
        .await;
    assert_eq!(refusal, "the name or password is not right");
    browser.close().await;
    app.stop().await;
}

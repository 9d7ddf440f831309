//! The control-room page in a real headless Chromium: the map draws every site, a posted
//! record changes its tile without a reload, and a server restart is shown and recovered.

use fantoccini::Locator;
use levels_tests::browser::Browser;
use levels_tests::*;
use serde_json::json;

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
    let label = Browser::text(&browser.client, "g.site-marker[data-site=MPH] .site-figure").await;
    assert_eq!(label.as_deref(), Some("98%"));
    let marker_class = mph.attr("class").await.expect("class").unwrap_or_default();
    assert!(marker_class.contains("band-critical"), "{marker_class}");
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
    let app = TestApp::spawn(test_config(dir.path())).await;
    app.post_beds_ok(&json!([beds("b1", "MPH", 400)])).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&app.url("/"))
        .await
        .expect("the page loads");
    browser
        .wait_until(20, "the MPH tile", |c| async move {
            Browser::text(&c, "[data-tile=MPH] .occupancy").await
        })
        .await;
    assert_eq!(
        Browser::text(&browser.client, ".alerts-none")
            .await
            .as_deref(),
        Some("No level changes in the last 12 hours")
    );

    let declare = json!({"entity": "site:MPH", "level": 4, "reason": "CT scanner down",
        "actor": "Alex Hart, site manager"});
    let (status, answer) = app.post_json("/api/v1/declarations", &declare).await;
    assert_eq!(status, 200, "{answer}");
    let alert = answer["alert"].as_i64().expect("an alert id");

    // The tile shows the declared level in words, with the calculated one beside it.
    let badge = browser
        .wait_until(5, "MPH declared OPEL 4", |c| async move {
            let text = Browser::text(&c, "[data-tile=MPH] .opel-group").await?;
            text.contains("OPEL 4").then_some(text)
        })
        .await;
    assert!(badge.contains("declared · calc –"), "{badge}");
    // The alert with its OPEL 4 action card, every action still to do.
    let strip = Browser::text(&browser.client, ".alert-strip")
        .await
        .unwrap_or_default();
    assert!(
        strip.contains("▲ Musgrove Park: OPEL 4 declared"),
        "{strip}"
    );
    assert!(strip.contains("“CT scanner down”"), "{strip}");
    assert!(strip.contains("0 of 4 actions done"), "{strip}");
    assert!(strip.contains("☐ Executive on-call leads"), "{strip}");

    // An action marked done elsewhere is ticked here.
    let (status, _) = app
        .post_json(
            &format!("/api/v1/alerts/{alert}/actions/0"),
            &json!({"done": true, "actor": "Sam Patel"}),
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
    browser
        .screenshot(&workspace_root().join("target/browser-declared.png"))
        .await;
    browser.close().await;
    app.stop().await;
}

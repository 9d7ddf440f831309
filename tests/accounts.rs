//! Accounts and sessions over real HTTP: signing in sets an HttpOnly, SameSite=Strict
//! cookie; a wrong name or password gets the same refusal; signing out needs the session's
//! CSRF token and ends the session at once.

use levels_shared::access::Role;
use levels_tests::*;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

async fn login(app: &TestApp, name: &str, password: &str) -> (u16, Value, Option<String>) {
    app.login(name, password).await
}

/// Signs `name` in: the cookie pair to send and the session's CSRF token.
async fn session(app: &TestApp, name: &str) -> (String, String) {
    app.sign_in(name, PASSWORD).await.expect("signed in")
}

async fn me(app: &TestApp, cookie: Option<&str>) -> (u16, Value) {
    let mut req = app.http.get(app.url("/api/v1/me"));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("the server answers");
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn signing_in_and_out_with_a_hashed_password_and_a_strict_cookie() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    levels::accounts::create(
        app.store.as_ref(),
        "sam",
        Some("Sam Patel"),
        Role::SiteManager,
        Some("RH5"),
        Some(PASSWORD),
    )
    .await
    .expect("created");
    let stored = app
        .store
        .user_by_name("sam")
        .await
        .expect("read")
        .expect("sam");
    let hash = stored.password_hash.expect("a hash");
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains(PASSWORD),
        "{hash}"
    );

    // A wrong password and an unknown name get the same answer, and no cookie.
    for (name, password) in [("sam", "wrong password!!"), ("nobody", PASSWORD)] {
        let (status, body, cookie) = login(&app, name, password).await;
        assert_eq!((status, cookie), (401, None), "{name}");
        assert_eq!(body["error"], "the name or password is not right");
    }

    let (status, body, cookie) = login(&app, "sam", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["name"].as_str(), body["role"].as_str()),
        (Some("sam"), Some("site_manager"))
    );
    let csrf = body["csrf"].as_str().expect("a CSRF token").to_owned();
    let cookie = cookie.expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_owned();

    let (status, who) = me(&app, Some(&pair)).await;
    assert_eq!(
        (status, who["display_name"].as_str()),
        (200, Some("Sam Patel"))
    );
    assert_eq!(me(&app, None).await.0, 401);
    assert_eq!(me(&app, Some("levels_session=forged")).await.0, 401);

    // Signing out needs the CSRF token; then the cookie stops working at once.
    let logout = |csrf: Option<String>| {
        let mut req = app
            .http
            .post(app.url("/api/v1/logout"))
            .header("cookie", &pair);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    let refused = logout(Some("not the token".into())).await.expect("answer");
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(me(&app, Some(&pair)).await.0, 200, "still signed in");
    let done = logout(Some(csrf)).await.expect("answer");
    assert_eq!(done.status().as_u16(), 204);
    let cleared = done
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cleared.starts_with("levels_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(me(&app, Some(&pair)).await.0, 401, "the session ended");
    app.stop().await;
}

#[tokio::test]
async fn accounts_refuse_weak_passwords_bad_names_duplicates_and_coordinators_without_a_trust() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let create = |name: &'static str, role, org: Option<&'static str>, password: &'static str| {
        let store = app.store.clone();
        async move {
            levels::accounts::create(store.as_ref(), name, None, role, org, Some(password))
                .await
                .map_err(|e| e.to_string())
        }
    };
    assert_eq!(
        create("jo", Role::Admin, None, "short").await,
        Err("the password must be at least 12 characters".into())
    );
    assert!(create("jo smith", Role::Admin, None, PASSWORD)
        .await
        .is_err());
    assert_eq!(
        create("kim", Role::DischargeCoordinator, None, PASSWORD).await,
        Err("a discharge coordinator needs --organisation (the ODS code of their trust)".into())
    );
    assert!(
        create("kim", Role::DischargeCoordinator, Some("RH5"), PASSWORD)
            .await
            .is_ok()
    );
    assert_eq!(
        create("kim", Role::Admin, None, PASSWORD).await,
        Err("the account kim already exists".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_site_manager_account_needs_the_organisation_whose_sites_they_manage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let create = |org: Option<&'static str>| {
        let store = app.store.clone();
        async move {
            levels::accounts::create(
                store.as_ref(),
                "sam",
                None,
                Role::SiteManager,
                org,
                Some(PASSWORD),
            )
            .await
            .map_err(|e| e.to_string())
        }
    };
    for org in [None, Some("")] {
        assert_eq!(
            create(org).await,
            Err("a site manager needs --organisation (the ODS code of their trust)".into())
        );
    }
    assert!(app.store.user_by_name("sam").await.expect("read").is_none());
    assert!(create(Some("RH5")).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn a_token_may_not_take_the_name_of_a_configured_producer_or_the_simulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // The test configuration's producers are trust-integration, musgrove-only and no-feeds.
    for name in [
        "trust-integration",
        "Musgrove-Only",
        "simulator",
        "SIMULATOR",
    ] {
        let body = json!({"name": name, "feeds": ["beds"], "sites": ["YDH"]});
        let (status, answer) = app
            .post_json_as(Some(Role::Admin), "/api/v1/tokens", &body)
            .await;
        assert_eq!(status, 422, "{name}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("{name:?}")) && error.contains("already"),
            "{name}: {error}"
        );
    }
    let (status, listed) = app.get_as(Some(Role::Admin), "/api/v1/tokens").await;
    assert_eq!((status, listed), (200, json!([])), "no token was created");
    // Other names are still free.
    let body = json!({"name": "yeovil-pas", "feeds": ["beds"], "sites": ["YDH"]});
    let (status, answer) = app
        .post_json_as(Some(Role::Admin), "/api/v1/tokens", &body)
        .await;
    assert_eq!(status, 201, "{answer}");
    app.stop().await;
    // A producer configured later under that name: the server will not start beside it.
    let mut config = test_config(dir.path());
    config.producers.push(levels::config::ProducerConfig {
        name: "Yeovil-PAS".into(),
        token: "another-token-for-yeovil".into(),
        feeds: vec![levels_shared::feed::Feed::Beds],
        sites: vec!["YDH".into()],
    });
    let refused = levels::app::Application::build(config)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("\"yeovil-pas\""),
        "{refused:#}"
    );
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_declarations_and_patient_views_for_admins_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    for (name, role, org) in [
        ("alex", Role::Admin, None),
        ("sam", Role::SiteManager, Some("RH5")),
    ] {
        levels::accounts::create(app.store.as_ref(), name, None, role, org, Some(PASSWORD))
            .await
            .expect("created");
    }
    login(&app, "sam", "not the password").await;
    let (_, _, sam) = login(&app, "sam", PASSWORD).await;
    let (_, _, alex) = login(&app, "alex", PASSWORD).await;
    let cookie = |c: Option<String>| {
        c.expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned()
    };
    let (sam, alex) = (cookie(sam), cookie(alex));
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    let declare = json!({"entity": "site:MPH", "level": 4, "reason": "CT down"});
    assert_eq!(app.post_json("/api/v1/declarations", &declare).await.0, 200);
    let (status, _) = app
        .get_as(
            Some(Role::DischargeCoordinator),
            "/api/v1/discharge/patients",
        )
        .await;
    assert_eq!(status, 200);

    let read = |cookie: Option<&str>, query: &str| {
        let mut req = app.http.get(app.url(&format!("/api/v1/audit{query}")));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    assert_eq!(read(None, "").await.expect("answer").status().as_u16(), 401);
    assert_eq!(
        read(Some(&sam), "")
            .await
            .expect("answer")
            .status()
            .as_u16(),
        403
    );
    let res = read(Some(&alex), "").await.expect("answer");
    assert_eq!(res.status().as_u16(), 200);
    let log: Value = res.json().await.expect("json");
    // The test harness's own accounts sign in first; these are the test's.
    let ours = ["sam", "alex", "site_manager", "discharge_coordinator"];
    let actions: Vec<(String, String)> = log
        .as_array()
        .expect("entries")
        .iter()
        .rev()
        .filter(|e| {
            ours.contains(&e["actor"].as_str().unwrap_or_default()) && e["action"] != "login"
                || ["sam", "alex"].contains(&e["actor"].as_str().unwrap_or_default())
        })
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("actor"), s("action"))
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("sam", "login_failed"),
        ("sam", "login"),
        ("alex", "login"),
        ("site_manager", "declare"),
        ("discharge_coordinator", "view_patients"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(actions, expected);
    let viewed = log
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "view_patients")
        .expect("the view");
    assert_eq!(viewed["address"], "127.0.0.1");

    // As CSV, and the reading itself is audited; nothing can change it through the API.
    let csv = read(Some(&alex), "?format=csv").await.expect("answer");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.expect("text");
    assert!(
        text.starts_with("id,at,actor,action,subject,detail,address\n"),
        "{text}"
    );
    assert!(text.contains(",site_manager,declare,site:MPH,"), "{text}");
    for method in [
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
        reqwest::Method::POST,
    ] {
        let res = app
            .http
            .request(method.clone(), app.url("/api/v1/audit"))
            .header("cookie", &alex)
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status().as_u16(), 405, "{method}");
    }
    let res = read(Some(&alex), "").await.expect("answer");
    let after: Value = res.json().await.expect("json");
    assert_eq!(after[0]["action"], "export_audit");
    assert_eq!(after[1]["action"], "view_audit");
    app.stop().await;
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_account_even_against_the_right_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    for name in ["sam", "alex"] {
        levels::accounts::create(
            app.store.as_ref(),
            name,
            None,
            Role::SiteManager,
            Some("RH5"),
            Some(PASSWORD),
        )
        .await
        .expect("created");
    }
    for _ in 0..5 {
        assert_eq!(login(&app, "sam", "guess guess guess").await.0, 401);
    }
    let (status, body, cookie) = login(&app, "sam", PASSWORD).await;
    assert_eq!((status, cookie), (429, None));
    assert_eq!(
        body["error"],
        "too many failed sign-ins: try again in 15 minutes"
    );
    assert_eq!(
        login(&app, "alex", PASSWORD).await.0,
        200,
        "other accounts are not locked"
    );
    let entries = app.recent_audit().await;
    assert!(entries
        .iter()
        .any(|e| e.action == "login_refused" && e.actor == "sam"));
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_creates_and_revokes_producer_tokens_that_are_stored_only_as_digests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    for (name, role, org) in [
        ("alex", Role::Admin, None),
        ("sam", Role::SiteManager, Some("RH5")),
    ] {
        levels::accounts::create(app.store.as_ref(), name, None, role, org, Some(PASSWORD))
            .await
            .expect("created");
    }
    let (alex, csrf) = session(&app, "alex").await;
    let (sam, sam_csrf) = session(&app, "sam").await;
    let create = |cookie: &str, csrf: &str, body: Value| {
        app.http
            .post(app.url("/api/v1/tokens"))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
    };
    let body = json!({"name": "yeovil-pas", "feeds": ["beds"], "sites": ["YDH"]});
    assert_eq!(
        create(&sam, &sam_csrf, body.clone())
            .await
            .expect("answer")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        create(&alex, "wrong", body.clone())
            .await
            .expect("answer")
            .status()
            .as_u16(),
        403
    );
    let res = create(&alex, &csrf, body.clone()).await.expect("answer");
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().await.expect("json");
    let token = created["token"]
        .as_str()
        .expect("the token, once")
        .to_owned();
    assert_eq!(
        create(&alex, &csrf, body)
            .await
            .expect("answer")
            .status()
            .as_u16(),
        409
    );
    let bad = json!({"name": "x", "feeds": ["beds"], "sites": ["NOPE"]});
    let res = create(&alex, &csrf, bad).await.expect("answer");
    assert_eq!(res.status().as_u16(), 422);

    // The token posts its feed for its site only.
    let post = |site: &str| {
        app.post(
            "beds",
            Some(&token),
            "application/json",
            json!([beds("t1", site, 200)]).to_string(),
        )
    };
    assert_eq!(post("YDH").await.0, 200);
    assert_eq!(post("MPH").await.0, 403);

    // Listed without the token; stored only as a digest.
    let listed: Value = app
        .http
        .get(app.url("/api/v1/tokens"))
        .header("cookie", &alex)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["name"], "yeovil-pas");
    assert!(!listed.to_string().contains(&token));
    assert!(app
        .store
        .producer_by_token_hash(&token)
        .await
        .expect("read")
        .is_none());
    assert!(app
        .store
        .producer_by_token_hash(&levels::accounts::sessions::digest(&token))
        .await
        .expect("read")
        .is_some());

    // Revoked: refused at once.
    let revoke = app
        .http
        .delete(app.url("/api/v1/tokens/yeovil-pas"))
        .header("cookie", &alex)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("answer");
    assert_eq!(revoke.status().as_u16(), 204);
    let (status, answer) = post("YDH").await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("the token is not valid"))
    );
    app.stop().await;
}

/// Creates a control-room screen as the administrator: its enrolment link's path.
async fn new_screen(app: &TestApp, name: &str) -> String {
    let (status, created) = app
        .post_json_as(
            Some(Role::Admin),
            "/api/v1/displays",
            &json!({"name": name}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["enrolment_path"]
        .as_str()
        .expect("a link")
        .to_owned()
}

#[tokio::test]
async fn a_screen_enrols_once_by_link_for_a_display_session_and_is_revoked_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let path = new_screen(&app, "ops-wall-1").await;
    let (status, _) = app
        .post_json_as(
            Some(Role::SiteManager),
            "/api/v1/displays",
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!(status, 403);

    // Opening the link: a display session, and off to the kiosk rotation.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // Opening the link (as a mail scanner would) uses nothing: it shows a button.
    let page = no_redirects
        .get(app.url(&path))
        .send()
        .await
        .expect("answer");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<form method=\"post\" action=\"/enrol\">"),
        "{html}"
    );
    let token = path.trim_start_matches("/enrol?token=").to_owned();
    let press = || {
        no_redirects
            .post(app.url("/enrol"))
            .form(&[("token", token.as_str())])
            .send()
    };
    let res = press().await.expect("answer");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/?rotate=30");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains(&format!("Max-Age={}", 90 * 86_400)),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let (status, who) = me(&app, Some(&pair)).await;
    assert_eq!((status, who["role"].as_str()), (200, Some("display")));
    // The link works once.
    let again = press().await.expect("answer");
    assert_eq!(again.status().as_u16(), 403);

    // Revoked: the screen's session stops at once.
    let revoke = app
        .http
        .delete(app.url("/api/v1/displays/ops-wall-1"))
        .header("cookie", app.cookie(Role::Admin))
        .header("x-csrf-token", app.csrf(Role::Admin))
        .send()
        .await
        .expect("answer");
    assert_eq!(revoke.status().as_u16(), 204);
    assert_eq!(me(&app, Some(&pair)).await.0, 401);
    // Revoked already, or not a screen at all: 404, and a person's account is untouched.
    for name in ["ops-wall-1", "admin"] {
        let again = app
            .http
            .delete(app.url(&format!("/api/v1/displays/{name}")))
            .header("cookie", app.cookie(Role::Admin))
            .header("x-csrf-token", app.csrf(Role::Admin))
            .send()
            .await
            .expect("answer");
        assert_eq!(again.status().as_u16(), 404, "{name}");
        let body: serde_json::Value = again.json().await.expect("json");
        assert_eq!(body["error"], format!("no enabled screen {name}"));
    }
    assert_eq!(me(&app, Some(app.cookie(Role::Admin))).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn names_and_reasons_with_control_or_bidi_characters_are_refused_before_the_limiter_and_the_audit(
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    levels::accounts::create(
        app.store.as_ref(),
        "sam",
        None,
        Role::SiteManager,
        Some("RH5"),
        Some(PASSWORD),
    )
    .await
    .expect("created");
    let hostile = [
        "sam\n2026-01-01T00:00:00Z  INFO levels: signed in name=admin",
        "sam\u{1b}[31m",
        "sam\u{0}",
        "sam\u{202e}",
    ];
    // More than the twenty failures an address may have: none of them counts.
    for round in 0..6 {
        for name in hostile {
            let (status, body, cookie) = login(&app, name, PASSWORD).await;
            assert_eq!((status, cookie), (400, None), "{name:?}, round {round}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(error.contains("name") && error.contains("U+"), "{error}");
        }
    }
    assert!(
        app.sign_in("sam", PASSWORD).await.is_ok(),
        "neither the account nor the address was counted"
    );
    let audit = app.recent_audit().await;
    assert!(
        audit
            .iter()
            .all(|e| e.actor.chars().all(|c| !c.is_control()) && !e.actor.contains('\u{202e}')),
        "{audit:?}"
    );
    assert!(
        !audit.iter().any(|e| e.action == "login_failed"),
        "{audit:?}"
    );

    // Account display names and declaration reasons are checked by the same rule.
    let refused = levels::accounts::create(
        app.store.as_ref(),
        "jo",
        Some("Jo\u{1b}[2J"),
        Role::Admin,
        None,
        Some(PASSWORD),
    )
    .await;
    assert!(refused.is_err(), "a display name with an escape");
    levels_tests::opel_inputs::post_level_3_inputs(&app).await;
    for reason in ["CT down \u{202e}nwod TC", "CT down\u{0}", "CT\u{2066}down"] {
        let declare = json!({"entity": "site:MPH", "level": 4, "reason": reason});
        let (status, body) = app.post_json("/api/v1/declarations", &declare).await;
        assert_eq!(status, 400, "{reason:?}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("reason"),
            "{body}"
        );
    }
    let declare = json!({"entity": "site:MPH", "level": 4, "reason": "CT down"});
    assert_eq!(app.post_json("/api/v1/declarations", &declare).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn only_the_session_cookie_of_the_scheme_counts_and_two_session_cookies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // Plain HTTP here: the cookie is `levels_session`.
    let pair = app.cookie(Role::SystemLeader).to_owned();
    let token = pair
        .strip_prefix("levels_session=")
        .expect("levels_session over HTTP");
    assert_eq!(me(&app, Some(&pair)).await.0, 200);
    let (status, _) = me(&app, Some(&format!("__Host-levels_session={token}"))).await;
    assert_eq!(status, 401, "the __Host- name is for HTTPS only");
    for cookies in [
        format!("__Host-levels_session=; {pair}"),
        format!("{pair}; __Host-levels_session=other"),
        format!("levels_session=; {pair}"),
        format!("{pair}; {pair}"),
    ] {
        let (status, body) = me(&app, Some(&cookies)).await;
        assert_eq!(status, 401, "{cookies}");
        assert!(
            body["error"]
                .as_str()
                .unwrap_or_default()
                .contains("two session cookies"),
            "{cookies}: {body}"
        );
    }
    assert_eq!(me(&app, Some(&format!("a=1; {pair}; b=2"))).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_cross_site_enrolment_post_is_refused_and_the_link_still_works_from_its_own_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let path = new_screen(&app, "ops-wall-2").await;
    let token = path.trim_start_matches("/enrol?token=").to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let press = |headers: &[(&str, &str)]| {
        let mut req = no_redirects
            .post(app.url("/enrol"))
            .form(&[("token", token.as_str())]);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send()
    };
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "null")],
        vec![
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ],
    ] {
        let res = press(&headers).await.expect("answer");
        assert_eq!(res.status().as_u16(), 403, "{headers:?}");
        assert!(res.headers().get("set-cookie").is_none(), "{headers:?}");
    }
    let own = format!("http://{}", app.addr);
    let res = press(&[("origin", own.as_str()), ("sec-fetch-site", "same-origin")])
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 303, "the link was not used up");
    let pair = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let (status, who) = me(&app, Some(&pair)).await;
    assert_eq!((status, who["role"].as_str()), (200, Some("display")));
    app.stop().await;
}

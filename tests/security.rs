//! Security headers on every answer: the dashboard's Content-Security-Policy allows its own
//! script (the inline loader by hash), WebAssembly, styles and websocket, and nothing else.

use levels_tests::*;

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    for path in ["/", "/discharge", "/api/v1/state", "/api/v1/nowhere"] {
        let res = app.http.get(app.url(path)).send().await.expect("answer");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{path}: {csp}"
        );
        for part in [
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "style-src 'self';",
        ] {
            assert!(csp.contains(part), "{path}: {part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    app.stop().await;
}

use levels_shared::access::Role;
use serde_json::json;

/// Each role against each reading endpoint: 200 allowed, 403 refused, 401 when signed out.
#[tokio::test]
async fn every_endpoint_answers_only_the_roles_allowed_to_read_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    use Role::*;
    let everyone = [
        Display,
        SiteManager,
        DischargeCoordinator,
        SystemLeader,
        Admin,
    ];
    let matrix: [(&str, &[Role]); 10] = [
        ("/api/v1/state", &everyone),
        ("/api/v1/reference", &everyone),
        ("/api/v1/me", &everyone),
        (
            "/api/v1/history?entity=site:MPH&measure=ga_occupancy",
            &everyone,
        ),
        ("/api/v1/levels?entity=system", &everyone),
        ("/api/v1/levels/daily?entity=system", &everyone),
        ("/api/v1/alerts", &everyone),
        ("/api/v1/discharge/patients", &[DischargeCoordinator]),
        ("/api/v1/audit", &[Admin]),
        ("/api/v1/tokens", &[Admin]),
    ];
    for (path, allowed) in matrix {
        assert_eq!(app.get_as(None, path).await.0, 401, "signed out: {path}");
        for role in Role::ALL {
            let (status, body) = app.get_as(Some(role), path).await;
            let want = if allowed.contains(&role) { 200 } else { 403 };
            assert_eq!(status, want, "{role} {path}: {body}");
        }
    }
    // Writing, with the CSRF token: a site manager declares for their own trust's sites
    // (the test one is Somerset NHS FT's, RH5), a system leader for the system.
    for (entity, declarer) in [("site:MPH", SiteManager), ("system", SystemLeader)] {
        let declare = json!({"entity": entity, "level": 3, "reason": "drill"});
        for role in Role::ALL {
            let (status, body) = app
                .post_json_as(Some(role), "/api/v1/declarations", &declare)
                .await;
            assert_eq!(
                status,
                if role == declarer { 200 } else { 403 },
                "{role} {entity}: {body}"
            );
        }
    }
    app.stop().await;
}

/// Answers with patient data, the audit log, exports and the signed-in session are never
/// kept by a browser's or a proxy's cache.
#[tokio::test]
async fn answers_with_patient_data_the_audit_log_exports_and_the_session_are_never_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    use Role::*;
    let reads: [(&str, Role, u16); 8] = [
        ("/api/v1/discharge/patients", DischargeCoordinator, 200),
        ("/api/v1/discharge/patients", Display, 403),
        ("/api/v1/audit", Admin, 200),
        ("/api/v1/audit?format=csv", Admin, 200),
        ("/api/v1/exports/delays.csv", SystemLeader, 200),
        ("/api/v1/me", Display, 200),
        ("/api/v1/state", Display, 200),
        ("/api/v1/levels?entity=system", SiteManager, 200),
    ];
    for (path, role, want) in reads {
        let res = app
            .http
            .get(app.url(path))
            .header("cookie", app.cookie(role))
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status().as_u16(), want, "{role} {path}");
        assert_eq!(
            res.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{role} {path}"
        );
    }
    // Signing in answers the session's CSRF token.
    let res = app
        .http
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "display", "password": PASSWORD}))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    // A screen's enrolment page holds its one-time token.
    let res = app
        .http
        .get(app.url("/enrol?token=not-a-real-token"))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.headers()["cache-control"], "no-store");
    app.stop().await;
}

#[tokio::test]
async fn the_live_channel_needs_a_session_and_this_site_s_origin_before_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let own = format!("http://{}", app.addr);
    assert_eq!(app.live_as(None, Some(&own), None).await.err(), Some(401));
    assert_eq!(
        app.live_as(Some(Role::Display), Some("http://evil.example"), None)
            .await
            .err(),
        Some(403)
    );
    assert!(app
        .live_as(Some(Role::Display), Some(&own), None)
        .await
        .is_ok());
    // A session that ends closes its live stream at the next heartbeat (1 s here).
    let mut watching = app
        .live_as(Some(Role::SystemLeader), Some(&own), None)
        .await
        .expect("opens");
    let res = app
        .http
        .post(app.url("/api/v1/logout"))
        .header("cookie", app.cookie(Role::SystemLeader))
        .header("x-csrf-token", app.csrf(Role::SystemLeader))
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 204);
    assert!(
        watching
            .closes_within(std::time::Duration::from_secs(4))
            .await,
        "the stream ends"
    );
    // A forged or revoked session is no session.
    assert_eq!(
        app.live_as(Some(Role::SystemLeader), Some(&own), None)
            .await
            .err(),
        Some(401)
    );
    app.stop().await;
}

#[tokio::test]
async fn no_patient_reference_or_nhs_number_reaches_a_display_or_a_system_leader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let own = format!("http://{}", app.addr);
    let mut display = app
        .live_as(Some(Role::Display), Some(&own), None)
        .await
        .expect("display");
    let mut leader = app
        .live_as(Some(Role::SystemLeader), Some(&own), None)
        .await
        .expect("leader");
    let ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    app.post_ok(
        "discharge-delays",
        &json!([{"id": "d1", "site": "MPH", "at": minutes_ago(2), "patient": "PSEUDO-REF-77",
            "nhs_number": "9434765919", "ward": "Ward 7", "admitted_at": ago(9), "ready_at": ago(3),
            "pathway": "P1", "reason": "p1_start_of_care"}]),
    )
    .await;
    for client in [&mut display, &mut leader] {
        // Frames until the delta has come (or 10 s, on a busy machine).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut frames = Vec::new();
        while !frames.iter().any(|f: &String| f.contains("\"delta\""))
            && std::time::Instant::now() < deadline
        {
            frames.extend(
                client
                    .raw_within(std::time::Duration::from_millis(200))
                    .await,
            );
        }
        assert!(
            frames.iter().any(|f| f.contains("\"delta\"")),
            "the delta arrived"
        );
        for f in &frames {
            assert!(
                !f.contains("PSEUDO-REF-77") && !f.contains("9434765919"),
                "{f}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn aggregate_exports_hide_small_counts_and_are_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    let ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    let patient = |id: &str, pathway: &str| {
        json!({"id": id, "site": "MPH", "at": minutes_ago(2), "patient": id, "ward": "W",
            "admitted_at": ago(9), "ready_at": ago(3), "pathway": pathway, "reason": "p1_start_of_care"})
    };
    let mut batch: Vec<serde_json::Value> =
        (0..6).map(|i| patient(&format!("p{i}"), "P1")).collect();
    batch.push(patient("q", "P3"));
    app.post_ok("discharge-delays", &serde_json::Value::Array(batch))
        .await;
    let (status, _) = app
        .get_as(Some(Role::Display), "/api/v1/exports/delays.csv")
        .await;
    assert_eq!(status, 403);
    let (status, csv) = app
        .get_as(Some(Role::SystemLeader), "/api/v1/exports/delays.csv")
        .await;
    assert_eq!(status, 200);
    let text = csv.as_str().expect("CSV text");
    assert!(text.starts_with("site,measure,value,patients\n"), "{text}");
    assert!(text.contains("MPH,delayed_now,,7\n"), "{text}");
    assert!(text.contains("MPH,pathway,P1,6\n"), "{text}");
    assert!(
        text.contains("MPH,pathway,P3,*\n"),
        "one patient is not shown as one: {text}"
    );
    assert!(
        text.contains("MPH,pathway,P0,*\n"),
        "nor worked out as 7 - 6: {text}"
    );
    assert!(!text.contains(",1\n"), "{text}");
    let log = app.recent_audit().await;
    assert!(log
        .iter()
        .any(|e| e.action == "export_delays" && e.actor == "system_leader"));
    app.stop().await;
}

/// A TLS connection to `addr` that trusts only `cert`.
async fn tls_connect(
    addr: std::net::SocketAddr,
    cert: &rcgen::Certificate,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName, RootCertStore};
    let mut roots = RootCertStore::empty();
    roots.add(cert.der().clone()).expect("a root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let name = ServerName::try_from("localhost").expect("a name");
    connector.connect(name, tcp).await.expect("a TLS handshake")
}

/// One HTTP/1.1 request over TLS to `addr`, trusting `cert` for `localhost`: the raw answer.
async fn https(addr: std::net::SocketAddr, cert: &rcgen::Certificate, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tls = tls_connect(addr, cert).await;
    tls.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn levels_serves_https_itself_with_secure_host_cookies_and_hsts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("a certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("written");
    std::fs::write(&key_path, key.serialize_pem()).expect("written");

    // Files that are not there stop the start with a clear error.
    let mut config = test_config(dir.path());
    config.server.tls = Some(levels::config::TlsConfig {
        cert: dir.path().join("missing.pem"),
        key: key_path.clone(),
    });
    let refused = levels::app::Application::build(config)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("cannot read"),
        "{refused:#}"
    );

    let mut config = test_config(dir.path());
    config.server.tls = Some(levels::config::TlsConfig {
        cert: cert_path,
        key: key_path,
    });
    let app = levels::app::Application::build(config)
        .await
        .expect("starts");
    assert!(app.url().starts_with("https://"), "{}", app.url());
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], app.port()));
    let store = app.state().store.clone();
    levels::accounts::create(
        store.as_ref(),
        "tls-user",
        None,
        Role::SystemLeader,
        None,
        Some(PASSWORD),
    )
    .await
    .expect("created");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));

    let health = https(
        addr,
        &cert,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{health}"
    );
    let body = format!("{{\"name\":\"tls-user\",\"password\":\"{PASSWORD}\"}}");
    let login = https(
        addr,
        &cert,
        &format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200 OK"), "{login}");
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_default();
    assert!(
        cookie.contains("__Host-levels_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );

    let session = cookie
        .split_once(':')
        .and_then(|(_, v)| v.split(';').next())
        .expect("a cookie")
        .trim();
    // Over HTTPS only the `__Host-` name counts: a plain `levels_session` (which a sibling
    // subdomain could plant) is not a session.
    let me = |cookie: &str| {
        format!("GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
    };
    let answer = https(addr, &cert, &me(session)).await;
    assert!(
        answer.starts_with("HTTP/1.1 200 OK"),
        "the __Host- cookie: {answer}"
    );
    let plain = session.replacen("__Host-levels_session=", "levels_session=", 1);
    let answer = https(addr, &cert, &me(&plain)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // A plain cookie planted beside the real one neither shadows it nor locks the user out;
    // a second __Host- one (which only this host can set) is refused.
    let planted = format!("levels_session=planted; {session}");
    let answer = https(addr, &cert, &me(&planted)).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    let two = format!("{session}; __Host-levels_session=other");
    let answer = https(addr, &cert, &me(&two)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // The live stream upgrades over TLS too.
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = "wss://localhost/api/v1/live"
        .into_client_request()
        .expect("a request");
    request
        .headers_mut()
        .insert("cookie", session.parse().expect("a header"));
    let (mut live, _) = tokio_tungstenite::client_async(request, tls_connect(addr, &cert).await)
        .await
        .expect("the websocket opens over TLS");
    let first = live
        .next()
        .await
        .expect("a message")
        .expect("the websocket is healthy");
    let first: levels_shared::live::ServerMsg =
        serde_json::from_str(first.to_text().expect("text")).expect("a server message");
    assert!(
        matches!(first, levels_shared::live::ServerMsg::Snapshot { .. }),
        "{first:?}"
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
}

/// The raw answer to `GET path`, sent as written (an HTTP client would normalise `..`).
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("sends");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // The probe reads whole answers: the dashboard's own page comes back as it is.
    let page = raw_get(app.addr, "/index.html").await;
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("<html"),
        "{page}"
    );
    // The workspace's Cargo.toml sits beside dist/, and /etc/passwd is on every machine.
    for path in [
        "/../Cargo.toml",
        "/../../../../etc/passwd",
        "/%2e%2e/Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/assets/..%5c..%5cCargo.toml",
        "//etc/passwd",
        "/index.html/../../Cargo.toml",
    ] {
        let answer = raw_get(app.addr, path).await;
        assert!(answer.starts_with("HTTP/1.1 "), "{path}: {answer}");
        assert!(
            !answer.contains("[workspace]") && !answer.contains("root:x:0"),
            "{path} reached a file outside dist/: {answer}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_audit_log_s_csv_never_starts_a_cell_with_a_formula() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    // Anyone can choose the name a failed sign-in is audited under.
    for name in ["=1+2", "@SUM(A1)", "+44", "-cmd"] {
        let (status, _, _) = app.login(name, "not the password at all").await;
        assert_eq!(status, 401, "{name}");
    }
    let res = app
        .http
        .get(app.url("/api/v1/audit?format=csv"))
        .header("cookie", app.cookie(Role::Admin))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 200);
    let csv = res.text().await.expect("a body");
    for name in ["=1+2", "@SUM(A1)", "+44", "-cmd"] {
        assert!(
            csv.contains(&format!("'{name}")),
            "{name} neutralised: {csv}"
        );
        for cell_start in [
            format!(",{name}"),
            format!("\n{name}"),
            format!(",\"{name}"),
        ] {
            assert!(!csv.contains(&cell_start), "{name} starts a cell: {csv}");
        }
    }
    app.stop().await;
}

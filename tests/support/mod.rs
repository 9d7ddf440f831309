//! Helpers for the end-to-end tests: start the real server on port 0 with a fresh database
//! (SQLite, or PostgreSQL when `LEVELS_TEST_POSTGRES_URL` is set: see [`database`]), post
//! feeds over HTTP, and listen on a real websocket.

pub mod browser;
pub mod database;
pub mod opel_inputs;
pub mod process;

use futures_util::StreamExt;
use levels::config::{Config, ProducerConfig};
use levels_shared::access::Role;
use levels_shared::feed::Feed;
use levels_shared::live::ServerMsg;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A token for every site and feed.
pub const TOKEN: &str = "test-token-all-sites";
/// A token for Musgrove Park (MPH) only.
pub const TOKEN_MPH: &str = "test-token-mph-only";
/// A token with no feeds.
pub const TOKEN_NO_FEEDS: &str = "test-token-no-feeds";
/// The password of every test account: one per role, named by the role's code
/// (`site_manager`…); the site manager and the coordinator work for Somerset NHS FT (RH5).
pub const PASSWORD: &str = "test password for every role";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The default configuration with absolute paths, port 0, the test's own database (a file in
/// `dir`, or a PostgreSQL database remembered in `dir`), and test producers.
pub fn test_config(dir: &Path) -> Config {
    let root = workspace_root();
    let mut cfg = Config::default();
    cfg.server.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.server.static_dir = root.join("dist");
    cfg.database.url = database::database_url(dir);
    for path in [
        &mut cfg.reference.sites,
        &mut cfg.reference.boundary,
        &mut cfg.reference.localities,
    ] {
        *path = root.join(&*path);
    }
    cfg.reference.context = cfg.reference.context.map(|p| root.join(p));
    cfg.reference.teams = cfg.reference.teams.map(|p| root.join(p));
    cfg.escalation.policy = root.join(&cfg.escalation.policy);
    // Levels change at once in tests; settling has its own test.
    cfg.escalation.settle_minutes = Some(0);
    cfg.live.heartbeat_seconds = 1;
    cfg.log.level = "warn".into();
    let producer = |name: &str, token: &str, feeds: Vec<Feed>, sites: &[&str]| ProducerConfig {
        name: name.into(),
        token: token.into(),
        feeds,
        sites: sites.iter().map(|s| s.to_string()).collect(),
    };
    cfg.producers = vec![
        producer("trust-integration", TOKEN, Feed::ALL.to_vec(), &["*"]),
        producer("musgrove-only", TOKEN_MPH, vec![Feed::Beds], &["MPH"]),
        producer("no-feeds", TOKEN_NO_FEEDS, vec![], &["*"]),
    ];
    cfg
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// The server's store, to set up what has no API yet (accounts).
    pub store: std::sync::Arc<dyn levels::store::Store>,
    /// A signed-in session per role: the cookie pair and the CSRF token.
    sessions: HashMap<Role, (String, String)>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(config: Config) -> TestApp {
        levels::telemetry::init(&config.log);
        let app = levels::app::Application::build(config)
            .await
            .expect("the server starts");
        let addr = SocketAddr::from(([127, 0, 0, 1], app.port()));
        let store = app.state().store.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let mut app = TestApp {
            addr,
            http: reqwest::Client::new(),
            store,
            sessions: HashMap::new(),
            stop: Some(stop),
            task,
        };
        for role in Role::ALL {
            let org =
                matches!(role, Role::DischargeCoordinator | Role::SiteManager).then_some("RH5");
            let created = levels::accounts::create(
                app.store.as_ref(),
                role.code(),
                None,
                role,
                org,
                Some(PASSWORD),
            )
            .await;
            // A restarted server finds the accounts already there.
            match created {
                Ok(_) => {}
                Err(levels::accounts::AccountError::Store(
                    levels::store::StoreError::Duplicate(_),
                )) => {}
                Err(e) => panic!("cannot create the {role} test account: {e}"),
            }
            let session = app.sign_in(role.code(), PASSWORD).await.expect("signed in");
            app.sessions.insert(role, session);
        }
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Posts `body` to a feed with a content type and token; returns status and JSON answer.
    pub async fn post(
        &self,
        feed: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(&format!("/api/v1/feeds/{feed}")))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn post_beds(&self, records: &Value) -> (u16, Value) {
        self.post("beds", Some(TOKEN), "application/json", records.to_string())
            .await
    }

    /// Posts a JSON batch to `feed` that must be accepted; returns the answer.
    pub async fn post_ok(&self, feed: &str, records: &Value) -> Value {
        let (status, body) = self
            .post(feed, Some(TOKEN), "application/json", records.to_string())
            .await;
        assert_eq!(status, 200, "the {feed} batch was refused: {body}");
        body
    }

    /// Posts beds records that must be accepted; returns the answer.
    pub async fn post_beds_ok(&self, records: &Value) -> Value {
        let (status, body) = self.post_beds(records).await;
        assert_eq!(status, 200, "the batch was refused: {body}");
        body
    }

    /// `POST path` with a JSON body as a site manager: the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_json_as(Some(Role::SiteManager), path, body).await
    }

    /// `POST path` signed in with `role` (with its CSRF token), or signed out.
    pub async fn post_json_as(&self, role: Option<Role>, path: &str, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(role) = role {
            req = req
                .header("cookie", self.cookie(role))
                .header("x-csrf-token", self.csrf(role));
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Signs in: the session's cookie pair and CSRF token, or the refusal's status.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<(String, String), u16> {
        let (status, body, cookie) = self.login(name, password).await;
        let pair = cookie.as_deref().and_then(|c| c.split(';').next());
        match (status, pair, body["csrf"].as_str()) {
            (200, Some(pair), Some(csrf)) => Ok((pair.to_owned(), csrf.to_owned())),
            _ => Err(status),
        }
    }

    /// `POST /api/v1/login`: the status, the JSON answer and the whole `Set-Cookie`.
    pub async fn login(&self, name: &str, password: &str) -> (u16, Value, Option<String>) {
        let res = self
            .http
            .post(self.url("/api/v1/login"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .expect("the server answers");
        let status = res.status().as_u16();
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, res.json().await.unwrap_or(Value::Null), cookie)
    }

    /// The audit log of the last hour, newest first.
    pub async fn recent_audit(&self) -> Vec<levels::store::AuditEntry> {
        let now = chrono::Utc::now();
        self.store
            .audit_log(now - chrono::Duration::hours(1), now, 1000)
            .await
            .expect("the audit log")
    }

    /// The cookie pair of the test account with `role`.
    pub fn cookie(&self, role: Role) -> &str {
        &self.sessions[&role].0
    }

    /// The CSRF token of the test account with `role`.
    pub fn csrf(&self, role: Role) -> &str {
        &self.sessions[&role].1
    }

    /// `GET path` as a system leader: the status and the JSON answer.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(Some(Role::SystemLeader), path).await
    }

    /// `GET path` signed in with `role`, or signed out.
    pub async fn get_as(&self, role: Option<Role>, path: &str) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(role) = role {
            req = req.header("cookie", self.cookie(role));
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let text = res.text().await.expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Proves that nothing more is on its way to `client` without waiting a fixed time:
    /// posts a sentinel (a beds record for Dorset County Hospital, out of county, which no
    /// level of the system depends on) and returns every message other than a heartbeat
    /// that `client` receives before the sentinel's delta. Every write answered before the
    /// sentinel was posted is published before it (one outbox, in commit order: see
    /// docs/operations.md), so anything it caused is in the list, and nothing later is.
    pub async fn changes_before_sentinel(&self, client: &mut LiveClient) -> Vec<ServerMsg> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static SENT: AtomicU64 = AtomicU64::new(0);
        let n = SENT.fetch_add(1, Ordering::Relaxed);
        let id = format!("sentinel-{}-{n}", std::process::id());
        self.post_beds_ok(&json!([beds(&id, "DCH", (n % 400) as u32)]))
            .await;
        let mut before = Vec::new();
        loop {
            let msg = client.next_change().await;
            let is_sentinel = matches!(&msg, ServerMsg::Delta { changes, .. } if changes.iter().any(
                |c| matches!(c, levels_shared::live::Change::Beds { record } if record.id == id)
            ));
            if is_sentinel {
                return before;
            }
            before.push(msg);
        }
    }

    /// The live state as the REST snapshot shows it.
    pub async fn state(&self) -> Value {
        self.get("/api/v1/state").await.1
    }

    /// Tries to open the live websocket as a page from `origin`, signed in as a display;
    /// the HTTP status on refusal.
    pub async fn live_from_origin(&self, origin: &str) -> Result<LiveClient, u16> {
        self.live_as(Some(Role::Display), Some(origin), None).await
    }

    /// Tries to open the live websocket signed in with `role` (or not), from a page of
    /// `origin` (or a non-browser client), resuming from `resume`.
    pub async fn live_as(
        &self,
        role: Option<Role>,
        origin: Option<&str>,
        resume: Option<(&str, u64)>,
    ) -> Result<LiveClient, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = match resume {
            Some((epoch, seq)) => format!("ws://{}/api/v1/live?epoch={epoch}&seq={seq}", self.addr),
            None => format!("ws://{}/api/v1/live", self.addr),
        };
        let mut request = url.into_client_request().expect("a valid request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().expect("a valid header"));
        }
        if let Some(role) = role {
            request
                .headers_mut()
                .insert("cookie", self.cookie(role).parse().expect("a valid header"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(LiveClient { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("unexpected websocket error: {e}"),
        }
    }

    /// Opens the live websocket as a display, optionally resuming from `epoch`/`seq`.
    pub async fn live(&self, resume: Option<(&str, u64)>) -> LiveClient {
        self.live_as(Some(Role::Display), None, resume)
            .await
            .expect("the websocket opens")
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task did not panic")
            .expect("the server stopped cleanly");
    }
}

/// A websocket client of `/api/v1/live`.
pub struct LiveClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl LiveClient {
    /// The next message of any type, waiting at most 5 s.
    pub async fn next(&mut self) -> ServerMsg {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("a live message within 5 s")
                .expect("the websocket is open")
                .expect("the websocket is healthy");
            if let Message::Text(text) = msg {
                return serde_json::from_str(text.as_str()).expect("a valid live message");
            }
        }
    }

    /// Sends a frame as a (possibly hostile) client would; the error once the link is gone.
    pub async fn send(
        &mut self,
        msg: Message,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        use futures_util::SinkExt;
        self.ws.send(msg).await
    }

    /// The next message that is not a heartbeat.
    pub async fn next_change(&mut self) -> ServerMsg {
        loop {
            match self.next().await {
                ServerMsg::Heartbeat { .. } => continue,
                other => return other,
            }
        }
    }

    /// Whether the server closes the socket within `wait`.
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Waits `wait` and returns every text frame that arrived meanwhile, exactly as sent.
    pub async fn raw_within(&mut self, wait: Duration) -> Vec<String> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if let Message::Text(text) = msg {
                out.push(text.as_str().to_owned());
            }
        }
        out
    }

    /// Waits `wait` and returns every non-heartbeat message that arrived meanwhile.
    pub async fn changes_within(&mut self, wait: Duration) -> Vec<ServerMsg> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if let Message::Text(text) = msg {
                match serde_json::from_str::<ServerMsg>(text.as_str()).expect("valid message") {
                    ServerMsg::Heartbeat { .. } => {}
                    other => out.push(other),
                }
            }
        }
        out
    }
}

/// A valid beds record for a general and acute adult pool, observed a minute ago.
pub fn beds(id: &str, site: &str, occupied: u32) -> Value {
    beds_at(id, site, occupied, &minutes_ago(1))
}

pub fn beds_at(id: &str, site: &str, occupied: u32, at: &str) -> Value {
    json!({
        "id": id,
        "site": site,
        "at": at,
        "pool": "general_acute_adult",
        "core_open": 500,
        "escalation_open": 20,
        "occupied": occupied,
    })
}

/// An RFC 3339 time `m` minutes before now.
pub fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

/// The occupied count of MPH's adult G&A pool in a state or snapshot JSON, if any.
pub fn occupied(state: &Value, site: &str) -> Option<u64> {
    state["state"]["sites"][site]["beds"]["general_acute_adult"]["occupied"].as_u64()
}

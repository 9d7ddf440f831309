//! A real headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/setup.sh`).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A browser session; chromedriver is killed when this is dropped.
pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Signs in on the sign-in page as the test account with `role`; the session cookie then
    /// serves every page this browser opens.
    pub async fn sign_in(&self, app: &crate::TestApp, role: levels_shared::access::Role) {
        self.sign_in_at(&app.url(""), role.code(), crate::PASSWORD)
            .await;
    }

    /// Signs in on the sign-in page of the Levels at `base` (`http://host:port`).
    pub async fn sign_in_at(&self, base: &str, name: &str, password: &str) {
        self.client
            .goto(&format!("{base}/"))
            .await
            .expect("the page loads");
        self.submit_sign_in(name, password).await;
        self.wait_until(20, "the signed-in dashboard", |c| async move {
            c.find(Locator::Css("header.top-bar .account")).await.ok()
        })
        .await;
    }

    /// Fills in and submits the sign-in form on the page.
    pub async fn submit_sign_in(&self, name: &str, password: &str) {
        let form = self
            .wait_until(20, "the sign-in form", |c| async move {
                c.find(Locator::Css("form.login-form")).await.ok()
            })
            .await;
        for (field, text) in [("name", name), ("password", password)] {
            form.find(Locator::Css(&format!("input[name={field}]")))
                .await
                .expect("the field")
                .send_keys(text)
                .await
                .expect("typed");
        }
        form.find(Locator::Css("button[type=submit]"))
            .await
            .expect("button")
            .click()
            .await
            .expect("click");
    }

    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("chromedriver runs (scripts/setup.sh installs chromium-driver)");
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1920,1080",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                        _profile: profile,
                    }
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("could not start a Chromium session: {last_error:?}");
    }

    /// Waits up to `secs` for `check` to return `Some`, polling every 100 ms.
    pub async fn wait_until<T, F, Fut>(&self, secs: u64, what: &str, mut check: F) -> T
    where
        F: FnMut(Client) -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = check(self.client.clone()).await {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let source = self.client.source().await.unwrap_or_default();
                panic!(
                    "timed out after {secs} s waiting for {what}; page was:\n{}",
                    &source[..source.len().min(4000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `css`, if there is one.
    pub async fn text(client: &Client, css: &str) -> Option<String> {
        client.find(Locator::Css(css)).await.ok()?.text().await.ok()
    }

    /// Saves a screenshot (for the docs or to debug a failure).
    pub async fn screenshot(&self, path: &std::path::Path) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(path, png);
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

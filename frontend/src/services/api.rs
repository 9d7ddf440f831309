//! HTTP calls to the server.

use gloo_net::http::Request;
use levels_shared::access::Me;
use levels_shared::escalation::DayPattern;
use levels_shared::reference::ReferenceData;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::RefCell;

/// `GET url` as JSON, with an error a person can read.
pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, String> {
    let response = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if !response.ok() {
        return Err(format!(
            "the server answered {} to {url}",
            response.status()
        ));
    }
    response
        .json()
        .await
        .map_err(|e| format!("the answer to {url} is not readable: {e}"))
}

/// The system's sites and map areas.
pub async fn reference() -> Result<ReferenceData, String> {
    get_json("/api/v1/reference").await
}

#[derive(Deserialize)]
struct Daily {
    days: Vec<DayPattern>,
}

/// The shown level's pattern for the last `days` days (today last).
pub async fn daily(entity: &str, days: u32) -> Result<Vec<DayPattern>, String> {
    let entity = String::from(js_sys::encode_uri_component(entity));
    let url = format!("/api/v1/levels/daily?entity={entity}&days={days}");
    Ok(get_json::<Daily>(&url).await?.days)
}

/// One measure of one entity from `from` to `to`, in time buckets (missing ones absent).
pub async fn history(
    entity: &str,
    measure: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<levels_shared::history::Series, String> {
    let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
    let url = format!(
        "/api/v1/history?entity={}&measure={}&from={}&to={}",
        enc(entity),
        enc(measure),
        enc(&from.to_rfc3339()),
        enc(&to.to_rfc3339())
    );
    get_json(&url).await
}

thread_local! {
    /// The signed-in session's CSRF token, sent with every state-changing request.
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

pub fn set_csrf(token: &str) {
    CSRF.with(|c| *c.borrow_mut() = token.to_owned());
}

/// Who is signed in: `None` when nobody is (the server answered 401).
pub async fn me() -> Result<Option<Me>, String> {
    let response = Request::get("/api/v1/me")
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    match response.status() {
        401 => Ok(None),
        200 => response
            .json()
            .await
            .map(Some)
            .map_err(|e| format!("the answer is not readable: {e}")),
        other => Err(format!("the server answered {other}")),
    }
}

/// Signs in; the server's message when it refuses.
pub async fn login(name: &str, password: &str) -> Result<Me, String> {
    let response = Request::post("/api/v1/login")
        .json(&serde_json::json!({"name": name, "password": password}))
        .map_err(|e| format!("cannot send: {e}"))?
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if response.ok() {
        return response.json().await.map_err(|e| e.to_string());
    }
    let status = response.status();
    Err(response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("the server answered {status}")))
}

/// `POST url` with a JSON body and the CSRF token; the server's error message when it refuses.
pub async fn post_json<B: serde::Serialize>(url: &str, body: &B) -> Result<(), String> {
    let csrf = CSRF.with(|c| c.borrow().clone());
    let request = Request::post(url)
        .header("X-CSRF-Token", &csrf)
        .json(body)
        .map_err(|e| format!("cannot send: {e}"))?;
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if response.ok() {
        return Ok(());
    }
    let status = response.status();
    let message = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("the server answered {status}"));
    Err(message)
}

//! HTTP calls to the server.

use gloo_net::http::Request;
use levels_shared::escalation::DayPattern;
use levels_shared::reference::ReferenceData;
use serde::de::DeserializeOwned;
use serde::Deserialize;

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

/// `POST url` with a JSON body; the server's error message when it refuses.
pub async fn post_json<B: serde::Serialize>(url: &str, body: &B) -> Result<(), String> {
    let request = Request::post(url)
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

/// The name this browser last signed actions with (until accounts arrive).
pub fn remembered_actor() -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("levels.actor").ok().flatten())
        .unwrap_or_default()
}

pub fn remember_actor(actor: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item("levels.actor", actor);
    }
}

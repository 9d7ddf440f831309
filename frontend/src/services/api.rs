//! HTTP calls to the server.

use gloo_net::http::Request;
use levels_shared::reference::ReferenceData;

/// The system's sites and map areas.
pub async fn reference() -> Result<ReferenceData, String> {
    let response = Request::get("/api/v1/reference")
        .send()
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if !response.ok() {
        return Err(format!("the server answered {}", response.status()));
    }
    response
        .json()
        .await
        .map_err(|e| format!("the reference data is not readable: {e}"))
}

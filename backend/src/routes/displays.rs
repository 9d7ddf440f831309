//! Control-room screens (docs/security.md): an administrator creates a one-time enrolment
//! link for a named screen (`POST /api/v1/displays {name}`, or `levels display add`);
//! opening it on the screen shows an "Enrol this screen" button, and pressing it gives that
//! browser a long-lived `display` session and starts the kiosk rotation. (A button, not the
//! link itself, so a mail system's link scanner that fetches the link cannot use it up.)
//! Revoking the screen (`DELETE /api/v1/displays/{name}`, `levels display revoke`) disables
//! its account, which ends its sessions at once.

use super::session::same_origin;
use super::{Admin, ApiError, AppState};
use crate::accounts::displays::{enrolment, revoke, SESSION_DAYS};
use crate::accounts::sessions::{self, digest, new_token};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/enrol", get(confirm_page).post(enrol_screen))
        .route("/api/v1/displays", post(create_route))
        .route("/api/v1/displays/{name}", delete(revoke_route))
}

#[derive(Debug, Deserialize)]
struct EnrolQuery {
    token: String,
}

/// The link opens a page with one button; nothing is used until it is pressed.
async fn confirm_page(Query(q): Query<EnrolQuery>) -> Response {
    // The token is hex (64 characters); anything else is dropped rather than echoed.
    let token: String = q
        .token
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Levels · enrol this screen</title></head><body><main><h1>Enrol this screen as a Levels display?</h1>\
         <p>It will show the control room, and rotate through the wall views, for 90 days.</p>\
         <form method=\"post\" action=\"/enrol\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\">Enrol this screen</button></form></main></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Whether a form was posted from this server's own page: a browser sends `Origin` with a
/// POST, which must name this server (the `Host` it was reached at), and
/// `Sec-Fetch-Site`, which must be `same-origin` (or `none`: typed or bookmarked). Without
/// either (not a browser) the post passes. Another site's page (login CSRF: planting a
/// screen's session in the victim's browser), or an opaque `null` origin, does not.
fn posted_from_here(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .map(|v| v.to_str().unwrap_or_default());
    let site_ok = fetch_site.is_none_or(|s| matches!(s, "same-origin" | "none"));
    site_ok && same_origin(headers)
}

/// The button pressed on the screen: a display session, then the kiosk rotation.
async fn enrol_screen(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::extract::Form(q): axum::extract::Form<EnrolQuery>,
) -> Result<Response, ApiError> {
    // Checked before the token is looked at, so a refused post leaves the link usable.
    if !posted_from_here(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a screen enrols only from the page its link opens, not from another site",
        ));
    }
    let now = Utc::now();
    let Some(user) = app.store.use_enrolment(&digest(&q.token), now).await? else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this enrolment link is not valid: it has been used, has expired, or the screen was revoked; ask an administrator for a new one",
        ));
    };
    let token = new_token();
    let csrf = new_token();
    app.store
        .create_session(
            &digest(&token),
            user.id,
            &csrf,
            now,
            now + Duration::days(SESSION_DAYS),
        )
        .await?;
    crate::audit::record(
        app.store.as_ref(),
        &user.name,
        "display_enrolled",
        "session",
        json!({}),
        None,
    )
    .await?;
    let cookie = sessions::set_cookie(
        &token,
        SESSION_DAYS * 86_400,
        app.config.sessions.secure_cookies,
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/?rotate=30".to_owned()),
        ],
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDisplay {
    name: String,
}

async fn create_route(
    State(app): State<AppState>,
    Admin(session): Admin,
    body: Result<Json<NewDisplay>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let token = enrolment(app.store.as_ref(), &req.name).await?;
    session
        .audit(
            app.store.as_ref(),
            "display_link",
            &format!("display:{}", req.name),
            json!({}),
        )
        .await?;
    let body = json!({"name": req.name, "enrolment_path": format!("/enrol?token={token}"),
        "note": "Open this link once on the screen, within 7 days."});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_route(
    State(app): State<AppState>,
    Admin(session): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke(app.store.as_ref(), &name).await?;
    app.revocations.ended();
    session
        .audit(
            app.store.as_ref(),
            "display_revoke",
            &format!("display:{name}"),
            json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

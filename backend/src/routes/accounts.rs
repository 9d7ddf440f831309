//! Signing in and out: `POST /api/v1/login {name, password}` answers the account and sets
//! the session cookie; `POST /api/v1/logout` ends the session; `GET /api/v1/me` answers who
//! is signed in (401 when nobody is). A wrong name and a wrong password get the same answer
//! and take the same time.

use super::session::client_address;
use super::{ApiError, AppState, Session};
use crate::accounts::{limits, passwords, sessions};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use levels_shared::access::Me;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

async fn login(
    State(app): State<AppState>,
    ConnectInfo(connection): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, ApiError> {
    let address = client_address(connection, &headers, app.config.server.trusted_proxy);
    let Json(req) = body?;
    // A name with a control character (a newline forging a log line, a terminal escape,
    // NUL) or a bidirectional override is refused before it reaches the limiter, the log
    // or the audit.
    crate::text::check("name", &req.name)?;
    // Names are at most 64 characters; anything longer cannot be an account, and is cut
    // before it reaches the limiter, the log or the audit.
    let name: String = req.name.trim().chars().take(64).collect();
    let name = name.as_str();
    let ip = limits::address_key(address.ip());
    // A locked account or address is refused at once, without waiting for a check.
    if let Some(wait) = app.logins.wait(name, &ip, std::time::Instant::now()) {
        return refused(&app, name, address, wait).await;
    }
    // Read before taking a check, so no check waits on the database.
    let user = app.store.user_by_name(name).await?;
    // Each check holds Argon2's 19 MiB: only so many run at once across the server; a
    // sign-in that finds none free within a short wait is asked to come back.
    let Ok(permit) = app.password_checks.permit().await else {
        let wait = app.password_checks.wait();
        let message = "the server is busy checking other sign-ins: try again in a moment";
        let busy = (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"busy": true}),
            message.into(),
        );
        return turned_away(&app, name, address, wait, busy).await;
    };
    // Counted as the check starts (others may have been counted while this one waited).
    if let Err(wait) = app.logins.begin(name, &ip, std::time::Instant::now()) {
        return refused(&app, name, address, wait).await;
    }
    // Always check a hash, so an unknown name costs as much as a wrong password.
    let stored = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .unwrap_or(passwords::decoy());
    // Hashing takes tens of milliseconds of CPU: off the async workers, so a flood of
    // sign-ins does not stall the live channel.
    let matches = app
        .password_checks
        .verify(permit, req.password.clone(), stored.to_owned())
        .await;
    let Some(user) = user.filter(|u| matches && !u.disabled && u.password_hash.is_some()) else {
        // Debug formatting escapes whatever a name holds.
        tracing::warn!(name = ?name, "failed sign-in");
        crate::audit::record(
            app.store.as_ref(),
            name,
            "login_failed",
            "session",
            json!({}),
            Some(address),
        )
        .await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the name or password is not right",
        ));
    };
    app.logins.succeeded(name, &ip);
    let token = sessions::new_token();
    let csrf = sessions::new_token();
    let now = Utc::now();
    let hours = i64::from(app.config.sessions.hours.max(1));
    app.store
        .create_session(
            &sessions::digest(&token),
            user.id,
            &csrf,
            now,
            now + Duration::hours(hours),
        )
        .await?;
    tracing::info!(name = ?user.name, role = %user.role, "signed in");
    crate::audit::record(
        app.store.as_ref(),
        &user.name,
        "login",
        "session",
        json!({"role": user.role}),
        Some(address),
    )
    .await?;
    let session = Session {
        user,
        csrf,
        token_hash: String::new(),
    };
    let cookie = sessions::set_cookie(&token, hours * 3600, app.config.sessions.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(session.me())).into_response())
}

/// 429 for a locked account or address, audited.
async fn refused(
    app: &AppState,
    name: &str,
    address: SocketAddr,
    wait: std::time::Duration,
) -> Result<Response, ApiError> {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let message = format!("too many failed sign-ins: try again in {minutes} minutes");
    let locked = (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"minutes": minutes}),
        message,
    );
    turned_away(app, name, address, wait, locked).await
}

/// A sign-in turned away before its password is checked: audited as `login_refused` with
/// `detail`, answered with `status`, the message and `Retry-After` (whole seconds).
async fn turned_away(
    app: &AppState,
    name: &str,
    address: SocketAddr,
    wait: std::time::Duration,
    (status, detail, message): (StatusCode, serde_json::Value, String),
) -> Result<Response, ApiError> {
    crate::audit::record(
        app.store.as_ref(),
        name,
        "login_refused",
        "session",
        detail,
        Some(address),
    )
    .await?;
    let retry = wait.as_secs().max(1).to_string();
    let body = Json(json!({ "error": message }));
    Ok((status, [(header::RETRY_AFTER, retry)], body).into_response())
}

async fn logout(
    State(app): State<AppState>,
    session: Result<Session, ApiError>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let clear = sessions::clear_cookie(app.config.sessions.secure_cookies);
    if let Ok(session) = session {
        session.check_csrf(&headers)?;
        app.store
            .revoke_session(&session.token_hash, Utc::now())
            .await?;
        app.revocations.ended();
        session
            .audit(app.store.as_ref(), "logout", "session", json!({}))
            .await?;
        tracing::info!(name = ?session.user.name, "signed out");
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

async fn me(session: Session) -> Json<Me> {
    Json(session.me())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_says_who_the_client_is() {
        let proxy: SocketAddr = "10.0.0.5:4000".parse().expect("addr");
        let other: SocketAddr = "10.0.0.9:4000".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7".parse().expect("header"),
        );
        let trusted = Some(proxy.ip());
        assert_eq!(
            client_address(proxy, &headers, trusted).ip().to_string(),
            "203.0.113.7"
        );
        assert_eq!(
            client_address(other, &headers, trusted),
            other,
            "anyone else is who they are"
        );
        assert_eq!(
            client_address(proxy, &headers, None),
            proxy,
            "no proxy configured"
        );
    }
}

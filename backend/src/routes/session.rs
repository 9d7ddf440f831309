//! Who a request is from, as extractors every handler shares: [`Session`] (signed in),
//! [`Acting`] (signed in, and a change carrying the session's CSRF token) and [`Admin`] (an
//! administrator; for a change, with the CSRF token). A handler that takes one of these
//! cannot forget the check; a refusal is answered before the handler runs.

use super::{ApiError, AppState};
use crate::accounts::sessions;
use crate::store::{Store, StoreError, UserRow};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use chrono::Utc;
use levels_shared::access::Me;
use std::net::SocketAddr;

/// The signed-in account of a request, with its session's CSRF token and cookie digest.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRow,
    pub csrf: String,
    pub token_hash: String,
}

impl Session {
    /// 403 unless the account's role allows `what`.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), ApiError> {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("a {} may not {what}", self.user.role.label().to_lowercase()),
            ))
        }
    }

    /// 403 unless the request carries this session's CSRF token in `X-CSRF-Token`: a page
    /// on another site can make the browser send the cookie, but cannot read the token.
    pub fn check_csrf(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) == Some(self.csrf.as_str()) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the X-CSRF-Token header is missing or wrong",
            ))
        }
    }

    /// Records in the audit log that this account did or saw `action` on `subject`
    /// (`audit::record`); an action whose audit cannot be written must not go ahead.
    pub async fn audit(
        &self,
        store: &dyn Store,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        crate::audit::record(store, &self.user.name, action, subject, detail, None).await
    }

    pub fn me(&self) -> Me {
        Me {
            name: self.user.name.clone(),
            display_name: self.user.display_name.clone(),
            role: self.user.role,
            organisation: self.user.organisation.clone(),
            csrf: self.csrf.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let signed_out = || ApiError::new(StatusCode::UNAUTHORIZED, "sign in first");
        let token = sessions::token(&parts.headers, app.config.sessions.secure_cookies)
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))?
            .ok_or_else(signed_out)?;
        let token_hash = sessions::digest(&token);
        let (user, csrf) = app
            .store
            .session(&token_hash, Utc::now())
            .await?
            .ok_or_else(signed_out)?;
        Ok(Session {
            user,
            csrf,
            token_hash,
        })
    }
}

/// The client's address: the connection's, or, from the configured trusted proxy, the one
/// the proxy appended last to `X-Forwarded-For` (earlier entries the client could forge).
pub fn client_address(
    connection: SocketAddr,
    headers: &HeaderMap,
    trusted: Option<std::net::IpAddr>,
) -> SocketAddr {
    if trusted != Some(connection.ip()) {
        return connection;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|ip| ip.trim().parse().ok())
        .map_or(connection, |ip| SocketAddr::new(ip, 0))
}

/// A browser always sends `Origin` on a websocket upgrade; it must name this server, as
/// the `Host` it was reached at does. Non-browser clients that send no `Origin` pass.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let origin_authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.parse::<Uri>().ok())
        .and_then(|uri| uri.authority().map(|a| a.as_str().to_ascii_lowercase()));
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    origin_authority.is_some() && origin_authority == host
}

/// A signed-in session whose request changes something: its `X-CSRF-Token` checked.
#[derive(Debug, Clone)]
pub struct Acting(pub Session);

impl FromRequestParts<AppState> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, app).await?;
        session.check_csrf(&parts.headers)?;
        Ok(Acting(session))
    }
}

/// An administrator's session. A request that changes something (any method but GET and
/// HEAD) must also carry the session's `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct Admin(pub Session);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, app).await?;
        session.require(session.user.role.administers(), "administer Levels")?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            session.check_csrf(&parts.headers)?;
        }
        Ok(Admin(session))
    }
}

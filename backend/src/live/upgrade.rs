//! The websocket opening handshake of `/api/v1/live` (RFC 6455 §4.2), done here rather
//! than by axum's `WebSocketUpgrade` so a session owns a tokio-tungstenite stream it can
//! send raw frames on: long messages go out in fragments, and no socket's write buffer
//! grows to the size of the largest message it ever sent (axum's `WebSocket` can do
//! neither).

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// A live session's websocket: the upgraded HTTP/1 connection (plain or TLS).
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Why a request to the live endpoint is not a websocket opening handshake.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpgradeError {
    #[error("the live stream is a websocket: open it with GET")]
    Method,
    #[error("expected a websocket upgrade (`Connection: upgrade`, `Upgrade: websocket`)")]
    NotUpgrade,
    #[error("only websocket version 13 is spoken here (`Sec-WebSocket-Version: 13`)")]
    Version,
    #[error("a websocket upgrade needs a `Sec-WebSocket-Key` of 16 bytes in base64")]
    Key,
    #[error("this connection cannot be upgraded to a websocket (it needs HTTP/1.1)")]
    NotUpgradable,
}

impl IntoResponse for UpgradeError {
    fn into_response(self) -> Response {
        let status = match self {
            UpgradeError::Method => StatusCode::METHOD_NOT_ALLOWED,
            UpgradeError::NotUpgrade | UpgradeError::Key => StatusCode::BAD_REQUEST,
            UpgradeError::Version | UpgradeError::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
        };
        // The JSON API's error shape (`routes::ApiError`): `{"error": "..."}`.
        let body = axum::Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        match self {
            UpgradeError::Method => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
            }
            // A 426 names what to upgrade to (RFC 9110 §15.5.22), and a wrong version the
            // one this server speaks (RFC 6455 §4.4).
            UpgradeError::Version | UpgradeError::NotUpgradable => {
                headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
            }
            UpgradeError::NotUpgrade | UpgradeError::Key => {}
        }
        response
    }
}

/// An accepted opening handshake: the answer's key, and the connection once switched.
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// Checks that `request` opens a websocket as RFC 6455 §4.2.1 asks (the checks axum's
    /// `WebSocketUpgrade` makes, and the key's length), and takes its connection.
    pub fn new(request: &mut Request) -> Result<Upgrade, UpgradeError> {
        if request.method() != Method::GET {
            return Err(UpgradeError::Method);
        }
        let accept = check_headers(request.headers())?;
        // Present only on a connection hyper can hand over (HTTP/1.1, served with upgrades).
        if request.extensions().get::<OnUpgrade>().is_none() {
            return Err(UpgradeError::NotUpgradable);
        }
        Ok(Upgrade {
            accept,
            on_upgrade: hyper::upgrade::on(request),
        })
    }

    /// Answers 101 and, once hyper has switched the connection, runs `session` on it as a
    /// websocket with `config`, on `threads` (see [`super::threads`]).
    pub fn on_upgrade<F, Fut>(
        self,
        threads: &tokio::runtime::Handle,
        config: WebSocketConfig,
        session: F,
    ) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Upgrade { accept, on_upgrade } = self;
        threads.spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    session(socket).await;
                }
                // The client went away between the request and the switch.
                Err(e) => tracing::debug!(error = %e, "live connection was not upgraded"),
            }
        });
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, accept),
            ],
        )
            .into_response()
    }
}

/// The handshake's headers; the `Sec-WebSocket-Accept` to answer with when they are right.
fn check_headers(headers: &HeaderMap) -> Result<HeaderValue, UpgradeError> {
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return Err(UpgradeError::NotUpgrade);
    }
    let version = headers.get(header::SEC_WEBSOCKET_VERSION);
    if version.is_none_or(|v| v.as_bytes() != b"13") {
        return Err(UpgradeError::Version);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(UpgradeError::Key)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .map_err(|_| UpgradeError::Key)?;
    if decoded.len() != 16 {
        return Err(UpgradeError::Key);
    }
    // Base64 characters only, so always a valid header value.
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| UpgradeError::Key)
}

/// Whether any `name` header lists `token` (comma-separated, any case): Firefox sends
/// `Connection: keep-alive, Upgrade`.
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const GOOD: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "WebSocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_valid_handshake_is_answered_with_the_rfc_example_accept_key() {
        // RFC 6455 §1.3's worked example.
        assert_eq!(
            check_headers(&headers(&GOOD)),
            Ok(HeaderValue::from_static("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        );
    }

    #[test]
    fn each_missing_or_wrong_header_is_named() {
        let without = |name: &str| {
            let kept: Vec<_> = GOOD.iter().copied().filter(|(n, _)| *n != name).collect();
            check_headers(&headers(&kept))
        };
        assert_eq!(without("connection"), Err(UpgradeError::NotUpgrade));
        assert_eq!(without("upgrade"), Err(UpgradeError::NotUpgrade));
        assert_eq!(without("sec-websocket-version"), Err(UpgradeError::Version));
        assert_eq!(without("sec-websocket-key"), Err(UpgradeError::Key));

        let with = |name: &'static str, value: &'static str| {
            let mut changed: Vec<_> = GOOD.iter().copied().filter(|(n, _)| *n != name).collect();
            changed.push((name, value));
            check_headers(&headers(&changed))
        };
        assert_eq!(
            with("sec-websocket-version", "8"),
            Err(UpgradeError::Version)
        );
        assert_eq!(
            with("sec-websocket-key", "c2hvcnQ="),
            Err(UpgradeError::Key)
        );
        assert_eq!(
            with("sec-websocket-key", "not base64!"),
            Err(UpgradeError::Key)
        );
        assert_eq!(with("upgrade", "h2c"), Err(UpgradeError::NotUpgrade));
        assert_eq!(
            with("connection", "keep-alive"),
            Err(UpgradeError::NotUpgrade)
        );
    }

    #[test]
    fn a_wrong_version_is_a_426_naming_version_13() {
        let response = UpgradeError::Version.into_response();
        assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(response.headers()[header::SEC_WEBSOCKET_VERSION], "13");
        assert_eq!(response.headers()[header::UPGRADE], "websocket");
    }
}

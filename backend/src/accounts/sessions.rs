//! Session tokens: 256 random bits in an HttpOnly, SameSite=Strict cookie (Secure when
//! served over TLS), stored on the server only as their SHA-256 digest, so a copy of the
//! database cannot be used to sign in.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a live stream trusts its sign-in without asking the store, for sign-ins ended
/// where this process does not see it (another replica, the command line, expiry).
pub const RECHECK: Duration = Duration::from_secs(60);

/// Counts sign-ins ended in this process (sign-outs, revoked screens). A live stream asks
/// the store whether its own still holds when this count has moved, or [`RECHECK`] has
/// passed: thousands of screens then cost a query each a minute, not one every heartbeat.
#[derive(Debug, Default)]
pub struct Revocations(AtomicU64);

impl Revocations {
    pub fn ended(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The session cookie's name. Over HTTPS it is `__Host-levels_session`, which a browser
/// accepts only from this host itself with `Path=/`, so a sibling subdomain cannot plant
/// one of its own.
pub const COOKIE: &str = "levels_session";
const HOST_COOKIE: &str = "__Host-levels_session";

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_COOKIE
    } else {
        COOKIE
    }
}

/// A new random token, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is unrecoverable for a server that needs secrets.
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the server stores for a token.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The `Set-Cookie` value that starts a session lasting `max_age_seconds`.
pub fn set_cookie(token: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// The session token in the request's cookies, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE || *name == HOST_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let c = set_cookie("abc", 3600, true);
        assert_eq!(
            c,
            "__Host-levels_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure"
        );
        assert!(!set_cookie("abc", 3600, false).contains("Secure"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies_and_stored_only_as_a_digest() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            HeaderValue::from_static("a=1; levels_session=tok; b=2"),
        );
        assert_eq!(token(&headers).as_deref(), Some("tok"));
        assert_eq!(digest("tok").len(), 64);
        assert_ne!(digest("tok"), "tok");
        assert_eq!(new_token().len(), 64);
        assert_ne!(new_token(), new_token());
    }
}

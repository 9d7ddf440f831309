//! Session tokens: 256 random bits in an HttpOnly, SameSite=Strict cookie (Secure when
//! served over TLS), stored on the server only as their SHA-256 digest, so a copy of the
//! database cannot be used to sign in.

use axum::http::HeaderMap;
use cookie::{Cookie, SameSite};
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
    Cookie::build((cookie_name(secure), token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .secure(secure)
        .build()
        .to_string()
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// A request carried more than one session cookie: one of them was planted (by a sibling
/// subdomain, or a page over plain HTTP) to shadow or end the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this request carries two session cookies (levels_session or __Host-levels_session, more than once): clear this site's cookies and sign in again")]
pub struct TwoSessionCookies;

/// The session token in the request's cookies, if any. Only the name of this server's
/// scheme counts (`__Host-levels_session` with `secure` cookies, `levels_session`
/// without), and a request with two session cookies is refused, so a planted one can
/// neither shadow the real one nor, empty, sign the user out. Over HTTPS only two
/// `__Host-` cookies count as two: a sibling subdomain can plant a plain `levels_session`
/// (with `Domain=` the parent) but never a `__Host-` one, and a plain one it planted must
/// not lock the user out. Over plain HTTP either name counts.
pub fn token(headers: &HeaderMap, secure: bool) -> Result<Option<String>, TwoSessionCookies> {
    let mut sessions = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|c| c.name() == HOST_COOKIE || (!secure && c.name() == COOKIE));
    let first = sessions.next();
    if sessions.next().is_some() {
        return Err(TwoSessionCookies);
    }
    Ok(first
        .filter(|c| c.name() == cookie_name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let c = Cookie::parse(set_cookie("abc", 3600, true)).expect("a valid Set-Cookie");
        assert_eq!((c.name(), c.value()), ("__Host-levels_session", "abc"));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Strict));
        assert_eq!(c.max_age(), Some(cookie::time::Duration::seconds(3600)));
        assert_eq!(c.secure(), Some(true));
        let plain = Cookie::parse(set_cookie("abc", 3600, false)).expect("a valid Set-Cookie");
        assert_eq!(plain.name(), "levels_session");
        assert_ne!(plain.secure(), Some(true));
    }

    #[test]
    fn the_token_is_found_among_other_cookies_and_stored_only_as_a_digest() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            HeaderValue::from_static("a=1; levels_session=tok; b=2"),
        );
        assert_eq!(token(&headers, false), Ok(Some("tok".to_owned())));
        assert_eq!(digest("tok").len(), 64);
        assert_ne!(digest("tok"), "tok");
        assert_eq!(new_token().len(), 64);
        assert_ne!(new_token(), new_token());
    }

    #[test]
    fn only_the_scheme_s_cookie_name_counts_and_two_session_cookies_are_refused() {
        let cookies = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("cookie", HeaderValue::from_static(value));
            headers
        };
        let host = cookies("a=1; __Host-levels_session=tok");
        let plain = cookies("levels_session=tok; b=2");
        assert_eq!(token(&host, true), Ok(Some("tok".to_owned())));
        assert_eq!(token(&host, false), Ok(None), "__Host- is for HTTPS");
        assert_eq!(token(&plain, false), Ok(Some("tok".to_owned())));
        assert_eq!(
            token(&plain, true),
            Ok(None),
            "over HTTPS only __Host- counts"
        );
        for two in [
            "__Host-levels_session=; levels_session=tok",
            "levels_session=tok; __Host-levels_session=x",
            "levels_session=; levels_session=tok",
        ] {
            assert_eq!(token(&cookies(two), false), Err(TwoSessionCookies), "{two}");
        }
        assert_eq!(
            token(
                &cookies("__Host-levels_session=; __Host-levels_session=tok"),
                true
            ),
            Err(TwoSessionCookies)
        );
        // Over HTTPS a plain cookie (which a sibling subdomain can plant) is not a session,
        // and does not lock the user out either.
        for planted in [
            "levels_session=x; __Host-levels_session=tok",
            "__Host-levels_session=tok; levels_session=",
        ] {
            assert_eq!(
                token(&cookies(planted), true),
                Ok(Some("tok".to_owned())),
                "{planted}"
            );
        }
        let mut split = HeaderMap::new();
        split.append("cookie", HeaderValue::from_static("levels_session=a"));
        split.append("cookie", HeaderValue::from_static("levels_session=b"));
        assert_eq!(
            token(&split, false),
            Err(TwoSessionCookies),
            "across headers"
        );
    }
}

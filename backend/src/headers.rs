//! Security headers on every response (DESIGN §9): a Content-Security-Policy that lets the
//! dashboard's own script, WebAssembly, styles and websocket run and nothing else, and the
//! usual protections against sniffing, framing and leaking addresses; and
//! `Cache-Control: no-store` on every answer of the API, so no browser or proxy cache keeps
//! patient lists, the audit log, exports, the session's CSRF token or the live state.
//!
//! Trunk puts one small inline module script in `index.html` to start the WebAssembly; its
//! SHA-256 is computed from the built file at start-up and allowed by hash, so no
//! `'unsafe-inline'` is needed.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;
use tower_http::set_header::SetResponseHeaderLayer;

/// The `'sha256-…'` sources of every inline `<script>` in the dashboard's `index.html`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start..start + open_end];
        let body_start = start + open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[body_start + close..];
    }
    out
}

/// The policy for the dashboard served from `static_dir`.
pub fn content_security_policy(static_dir: &Path) -> String {
    let html = std::fs::read_to_string(static_dir.join("index.html")).unwrap_or_default();
    let hashes = inline_script_hashes(&html).join(" ");
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The layers that set every security header.
pub fn layers(csp: &str, https: bool) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let mut layers = vec![
        fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        fixed(header::X_FRAME_OPTIONS, "DENY"),
        fixed(header::REFERRER_POLICY, "no-referrer"),
        fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        fixed(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    if https {
        // Browsers that have seen Levels over HTTPS never try it over plain HTTP again.
        layers.push(fixed(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    }
    if let Ok(value) = HeaderValue::from_str(csp) {
        layers.push(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            value,
        ));
    }
    layers
}

/// Marks every answer under `/api/` and of `/enrol` (whose page holds a one-time token and
/// whose answer sets a screen's session) `Cache-Control: no-store`, refusals and errors too.
/// The dashboard's own files may still be cached.
pub async fn no_store_api(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/") || path == "/enrol";
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = "<script type=\"module\">\nimport x;\n</script><script src=\"/a.js\"></script>";
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"\nimport x;\n"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
    }
}

//! Security headers on every answer: the dashboard's Content-Security-Policy allows its own
//! script (the inline loader by hash), WebAssembly, styles and websocket, and nothing else.

use levels_tests::*;

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = TestApp::spawn(test_config(dir.path())).await;
    for path in ["/", "/discharge", "/api/v1/state", "/api/v1/nowhere"] {
        let res = app.http.get(app.url(path)).send().await.expect("answer");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{path}: {csp}"
        );
        for part in [
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "style-src 'self';",
        ] {
            assert!(csp.contains(part), "{path}: {part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    app.stop().await;
}

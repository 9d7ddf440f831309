//! Screenshots of every view of a running Levels, signed in, for `docs/screens/` and the
//! README: `cargo run -p levels-tests --example screenshots -- [URL]` (or
//! `scripts/screenshots.sh`). Signs in as the demo's coordinator (who sees every view);
//! `LEVELS_SHOT_USER` and `LEVELS_SHOT_PASSWORD` choose another account.

use levels_tests::browser::Browser;
use std::path::Path;

#[tokio::main]
async fn main() {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let base = base.trim_end_matches('/');
    let user = std::env::var("LEVELS_SHOT_USER").unwrap_or_else(|_| "coordinator".into());
    let password =
        std::env::var("LEVELS_SHOT_PASSWORD").unwrap_or_else(|_| "demo-password-change-me".into());
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens");
    std::fs::create_dir_all(&out).expect("docs/screens");
    let browser = Browser::start().await;
    browser.sign_in_at(base, &user, &password).await;
    let views = [
        ("control-room", "/", (1920, 1080)),
        ("system", "/system", (1920, 1080)),
        ("system-site", "/system?entity=site:MPH", (1920, 1080)),
        ("discharge", "/discharge?pathway=P3", (1920, 1080)),
        ("discharge-tablet", "/discharge", (1024, 768)),
        ("community", "/community", (1920, 1080)),
        ("site", "/sites/MPH", (1920, 1080)),
    ];
    for (name, path, (w, h)) in views {
        // Sized so the page itself (not the window around it) is w×h.
        browser.client.set_window_size(w, h).await.expect("resized");
        let chrome = browser
            .client
            .execute("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", vec![])
            .await
            .expect("js");
        let extra = |i: usize| chrome[i].as_u64().unwrap_or(0) as u32;
        browser
            .client
            .set_window_size(w + extra(0), h + extra(1))
            .await
            .expect("resized");
        browser
            .client
            .goto(&format!("{base}{path}"))
            .await
            .expect("the page loads");
        // Long enough for the live snapshot, the charts' history and the patient list.
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        let file = out.join(format!("{name}.png"));
        browser.screenshot(&file).await;
        println!("{}  ({w}×{h})  {base}{path}", file.display());
    }
    browser.close().await;
}

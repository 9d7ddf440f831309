//! The dashboard: the release bundle's size as sent (raw, gzip, brotli), and the time from
//! navigation to the first live figure on screen in headless Chromium.

use crate::server::{seed, Levels};
use anyhow::{Context, Result};
use fantoccini::cookies::Cookie;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct Bundle {
    pub wasm: PathBuf,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
    /// Every file of dist/, each gzipped on its own as a server would send it.
    pub dist_files: usize,
    pub dist_raw: u64,
    pub dist_gzip: u64,
}

pub fn bundle(dist: &Path) -> Result<Bundle> {
    let mut files = Vec::new();
    list(dist, &mut files)?;
    let wasm = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with("_bg.wasm"))
        .with_context(|| format!("no *_bg.wasm in {}: build the dashboard", dist.display()))?
        .clone();
    let bytes = std::fs::read(&wasm)?;
    let (mut dist_raw, mut dist_gzip) = (0, 0);
    for file in &files {
        let data = std::fs::read(file)?;
        dist_raw += data.len() as u64;
        dist_gzip += gzip(&data)?;
    }
    Ok(Bundle {
        raw: bytes.len() as u64,
        gzip: gzip(&bytes)?,
        brotli: brotli(&bytes)?,
        wasm,
        dist_files: files.len(),
        dist_raw,
        dist_gzip,
    })
}

fn list(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        if path.is_dir() {
            list(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// gzip at its best compression: the smallest a server would send precompressed.
fn gzip(data: &[u8]) -> Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?.len() as u64)
}

/// brotli at quality 11 with a 4 MiB window (the command-line tool's defaults).
fn brotli(data: &[u8]) -> Result<u64> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(data)?;
        writer.flush()?;
    }
    Ok(out.len() as u64)
}

/// Appears only once live data has arrived: Musgrove Park's tile shows its G&A occupancy
/// when the snapshot holds its beds (without beds the tile says "No bed data").
pub const LIVE_FIGURE: &str = "[data-tile=MPH] .occupancy";

/// Resolves with `performance.now()` as soon as `LIVE_FIGURE` is in the document.
const WAIT_FOR_FIGURE: &str = r#"
const selector = arguments[0];
const done = arguments[arguments.length - 1];
const found = () => document.querySelector(selector) !== null;
if (found()) { done(performance.now()); return; }
const observer = new MutationObserver(() => {
  if (found()) { observer.disconnect(); done(performance.now()); }
});
observer.observe(document.documentElement, { childList: true, subtree: true });
"#;

/// One navigation's time to the first live figure.
pub struct Load {
    /// Wall time from just before navigating until the figure was in the DOM.
    pub wall_ms: f64,
    /// The page's own clock (from navigation start) when the figure appeared.
    pub page_ms: f64,
}

/// Each load in a fresh browser profile (nothing cached), signed in by the session cookie.
pub async fn first_live_figure(levels: &Levels, loads: usize) -> Result<Vec<Load>> {
    let server = levels.start(&[]).await?;
    let result = async {
        seed(&server, &levels.root).await?;
        let cookie = server.sign_in().await?;
        let host = server
            .base
            .trim_start_matches("http://")
            .split(':')
            .next()
            .unwrap_or("127.0.0.1")
            .to_owned();
        let mut out = Vec::with_capacity(loads);
        for _ in 0..loads {
            let browser = levels_tests::browser::Browser::start().await;
            let load = async {
                // A cookie can be set only on a page of its site: one with no dashboard.
                browser
                    .client
                    .goto(&format!("{}/healthz", server.base))
                    .await?;
                // Chromium wants the domain named, and SameSite=None (fantoccini's default)
                // only with Secure.
                let c = Cookie::parse(format!(
                    "{cookie}; Path=/; Domain={host}; HttpOnly; SameSite=Lax"
                ))?;
                browser.client.add_cookie(c).await?;
                let started = Instant::now();
                browser.client.goto(&format!("{}/", server.base)).await?;
                let page_ms = tokio::time::timeout(
                    Duration::from_secs(30),
                    browser
                        .client
                        .execute_async(WAIT_FOR_FIGURE, vec![serde_json::Value::from(LIVE_FIGURE)]),
                )
                .await
                .context("no live figure within 30 s")??
                .as_f64()
                .context("a time from the page")?;
                Ok::<_, anyhow::Error>(Load {
                    wall_ms: started.elapsed().as_secs_f64() * 1000.0,
                    page_ms,
                })
            }
            .await;
            browser.close().await;
            out.push(load?);
        }
        Ok(out)
    }
    .await;
    if result.is_err() {
        eprintln!("server log:\n{}", server.log_tail());
    }
    server.stop().await;
    result
}

//! Resident memory per idle live connection: `cargo run -p levels-tests --example
//! idle_connections -- [N] [READ_BUFFER_BYTES]`. Starts the built `levels` binary with
//! the simulator (so snapshots are full size), opens N signed-in websockets that read
//! their snapshot and then sit idle, and prints the server's resident memory before and
//! after, per connection.

use futures_util::StreamExt;
use levels_tests::process::{levels_binary, start};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let read_buffer: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4096);
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("levels.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[database]\nurl = \"sqlite://{}\"\n[simulator]\nenabled = true\n[demo]\nusers = true\n[live]\nread_buffer_bytes = {read_buffer}\n[log]\nlevel = \"warn\"\n",
            dir.path().join("levels.db").display()
        ),
    )
    .expect("config");
    let server = start(&levels_binary(), &config, &dir.path().join("levels.log")).await;
    let pid = server.child.id().expect("a pid");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/login", server.base))
        .json(&serde_json::json!({"name": "display", "password": "demo-password-change-me"}))
        .send()
        .await
        .expect("signs in");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("a cookie")
        .to_owned();
    let before = resident_kib(pid);
    let url = format!("{}/api/v1/live", server.base.replace("http", "ws"));
    let mut sockets = Vec::with_capacity(n);
    let mut snapshot_bytes = 0;
    for _ in 0..n {
        let mut request = url.as_str().into_client_request().expect("request");
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("header"));
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connects");
        if let Some(Ok(msg)) = ws.next().await {
            snapshot_bytes = msg.len();
        }
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = resident_kib(pid);
    println!(
        "read buffer {read_buffer} B, {n} idle connections, snapshot {snapshot_bytes} B: resident {before} KiB -> {after} KiB, {:.1} KiB per connection",
        (after.saturating_sub(before)) as f64 / n as f64
    );
    server.kill().await;
}

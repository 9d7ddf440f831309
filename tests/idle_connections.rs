//! Resident memory per idle live connection: `cargo run -p levels-tests --example
//! idle_connections -- [N] [READ_BUFFER_BYTES] [resume|snapshot]`. Starts the built
//! `levels` binary with the simulator (so snapshots are full size), signs in, lets it run
//! 10 s, opens N signed-in websockets that then sit idle, and prints the server's resident
//! memory before and after, per connection. `resume` (the default) does what the
//! dashboard does: the snapshot over HTTP, then the socket resuming from it; `snapshot`
//! takes it on the socket.

use futures_util::StreamExt;
use levels_tests::process::{get_json, levels_binary, sign_in, start};
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
    let resume = args.next().is_none_or(|mode| mode != "snapshot");
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
    // `IDLE_BASE` and `IDLE_PID` point at a server started by hand (under a profiler, say).
    let external = std::env::var("IDLE_BASE")
        .ok()
        .zip(std::env::var("IDLE_PID").ok());
    let server = match &external {
        Some(_) => None,
        None => Some(start(&levels_binary(), &config, &dir.path().join("levels.log")).await),
    };
    let (base, pid) = match (&server, external) {
        (Some(s), _) => (s.base.clone(), s.child.id().expect("a pid")),
        (None, Some((base, pid))) => (base, pid.parse::<u32>().expect("a pid")),
        (None, None) => unreachable!("a server is started when none is given"),
    };
    let cookie = sign_in(&base, "display", "demo-password-change-me").await;
    // Signing in hashes a password (19 MiB, freed after); the warm-up lets that and the
    // simulator's first rounds settle before the baseline.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let before = resident_kib(pid);
    let mut snapshot_bytes_http = 0;
    let mut url = format!("{}/api/v1/live", base.replace("http", "ws"));
    if resume {
        let state = get_json(&base, "/api/v1/state", &cookie).await;
        snapshot_bytes_http = state.to_string().len();
        url = format!(
            "{url}?epoch={}&seq={}",
            state["epoch"].as_str().expect("an epoch"),
            state["seq"]
        );
    }
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
    // Longer than the simulator's interval (5 s): every socket has been sent its deltas.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = resident_kib(pid);
    println!(
        "read buffer {read_buffer} B, {n} idle connections, first message {snapshot_bytes} B (snapshot over HTTP: {snapshot_bytes_http} B): resident {before} KiB -> {after} KiB, {:.1} KiB per connection",
        (after.saturating_sub(before)) as f64 / n as f64
    );
    if let Some(server) = server {
        server.kill().await;
    }
}

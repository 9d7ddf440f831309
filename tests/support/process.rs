//! The real `levels` binary as a child process, for what only a separate process shows:
//! SIGKILL (crash safety) and several replicas of one system.

use crate::workspace_root;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `levels` binary beside this test's executable (target/<profile>/levels, with the
/// test in target/<profile>/deps/), else under $CARGO_TARGET_DIR or the workspace's target.
/// Refuses a binary older than the server's sources: it would test old code.
pub fn levels_binary() -> PathBuf {
    let name = format!("levels{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    if let Some(profile_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(Path::parent).map(Path::to_path_buf))
    {
        candidates.push(profile_dir.join(&name));
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug").join(&name));
    }
    candidates.push(workspace_root().join("target").join("debug").join(&name));
    let Some(binary) = candidates.iter().find(|p| p.is_file()) else {
        panic!(
            "the levels binary is not built (looked at {candidates:?}); run `cargo build -p levels --bin levels` first (scripts/test.sh does)"
        );
    };
    let built = modified(binary);
    let root = workspace_root();
    let newer: Vec<PathBuf> = ["backend/src", "backend/migrations", "shared/src"]
        .iter()
        .flat_map(|dir| files_under(&root.join(dir)))
        .filter(|f| modified(f) > built)
        .collect();
    assert!(
        newer.is_empty(),
        "{} is older than {:?}: run `cargo build -p levels --bin levels` first (scripts/test.sh does)",
        binary.display(),
        newer
    );
    binary.clone()
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("cannot read the time of {}: {e}", path.display()))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A running `levels` child process and the address it serves.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

/// Writes `levels.toml` in `dir` for a server run as a child process: a fresh database of
/// its own ([`crate::database::database_url`]: SQLite there, or PostgreSQL when a server is
/// set), any free port on loopback, no simulator, warnings only, then `more`
/// (further TOML sections). Paths to reference data stay relative: the server runs in the
/// workspace root.
pub fn write_config(dir: &Path, more: &str) -> PathBuf {
    let config = format!(
        r#"[server]
bind = "127.0.0.1:0"

[database]
url = "{url}"

[simulator]
enabled = false

[log]
level = "warn"

{more}"#,
        url = crate::database::database_url(dir)
    );
    let path = dir.join("levels.toml");
    std::fs::write(&path, config).expect("the configuration is written");
    path
}

pub async fn start(binary: &Path, config: &Path, log: &Path) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("a log file");
    let mut child = Command::new(binary)
        .arg(config)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let started = async {
        while let Some(line) = lines.next_line().await.expect("reads stdout") {
            if let Some(url) = line.strip_prefix("Levels is running: open ") {
                return Some(url.trim_end_matches('/').to_owned());
            }
        }
        None
    };
    let base = tokio::time::timeout(Duration::from_secs(30), started)
        .await
        .expect("the server starts within 30 s")
        .expect("the server printed its address (see levels.log in the test's directory)");
    // Keep reading stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, base }
}

impl Server {
    /// SIGKILL: no shutdown, no flushing, nothing but what is already durable survives.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("the server is killed");
    }
}

/// Signs `name` in on the server at `base`; the session cookie (`name=value`).
pub async fn sign_in(base: &str, name: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"name": name, "password": password}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 200, "{name} signs in");
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// `GET {base}{path}` with a session cookie, as JSON.
pub async fn get_json(base: &str, path: &str, cookie: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{base}{path} answers: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{base}{path} gives JSON: {e}"))
}

//! A fresh `levels` child process per measurement: its own SQLite database in a temp dir,
//! the simulator off, one producer token for every site, one display account.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "bench-producer-token-0123456789abcdef";
const USER: &str = "bench-display";
const PASSWORD: &str = "bench display password";

/// What every measurement starts a server from.
pub struct Levels {
    pub binary: PathBuf,
    /// The workspace: the server runs there, so the default reference data paths resolve.
    pub root: PathBuf,
    /// The built dashboard, served at `/`.
    pub dist: PathBuf,
    /// Set in every server's environment (`--env`), before a measurement's own.
    pub env: Vec<(String, String)>,
    /// A PostgreSQL server to give each server a fresh database on, instead of SQLite.
    pub postgres: Option<String>,
}

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub http: reqwest::Client,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Levels {
    /// Starts a server on a fresh database, with `env` added (configuration overrides).
    /// A failed start is tried once more (and said), so one hiccup of a busy machine does
    /// not lose a whole run.
    pub async fn start(&self, env: &[(&str, &str)]) -> Result<Server> {
        match self.try_start(env).await {
            Ok(server) => Ok(server),
            Err(e) => {
                eprintln!("  the server failed to start ({e:#}); trying once more");
                self.try_start(env).await
            }
        }
    }

    async fn try_start(&self, env: &[(&str, &str)]) -> Result<Server> {
        let dir = tempfile::tempdir().context("a temp dir")?;
        let config = dir.path().join("levels.toml");
        let database = match &self.postgres {
            Some(server) => {
                let name = levels_tests::database::fresh_database(server);
                levels_tests::database::with_database(server, &name)
            }
            None => format!("sqlite://{}", dir.path().join("levels.db").display()),
        };
        std::fs::write(&config, config_text(&database, &self.dist))
            .context("writing the configuration")?;
        let log = dir.path().join("levels.log");

        // The account, made as an administrator would (this also creates the database).
        let made = self
            .command(env)
            .args(["user", "add", USER, "--role", "display", "--config"])
            .arg(&config)
            .env("NEW_ACCOUNT_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {} user add", self.binary.display()))?;
        if !made.status.success() {
            bail!(
                "levels user add failed: {}",
                String::from_utf8_lossy(&made.stderr)
            );
        }

        let log_file = std::fs::File::create(&log).context("the server's log file")?;
        let mut child = self
            .command(env)
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let pid = child.id().context("the server's pid")?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let started = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("Levels is running: open ") {
                    return Some(url.trim_end_matches('/').to_owned());
                }
            }
            None
        };
        let base = match tokio::time::timeout(Duration::from_secs(60), started).await {
            Ok(Some(base)) => base,
            waited => {
                let how = match waited {
                    Err(_) => "did not say where it listens within 60 s".to_owned(),
                    Ok(_) => format!("stopped: {:?}", child.wait().await),
                };
                bail!(
                    "the server {how}; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            }
        };
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            pid,
            base,
            http: reqwest::Client::new(),
            log,
            _dir: dir,
        })
    }

    fn command(&self, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(&self.binary);
        command.current_dir(&self.root).stdin(Stdio::null());
        // Only this run's settings: nothing from the caller's environment.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("LEVELS_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command.envs(env.iter().copied());
        command
    }
}

fn config_text(database: &str, dist: &Path) -> String {
    format!(
        r#"[server]
bind = "127.0.0.1:0"
static_dir = "{dist}"

[database]
url = "{database}"

[simulator]
enabled = false

[log]
level = "warn"

[[producers]]
name = "bench"
token = "{TOKEN}"
feeds = ["beds"]
sites = ["*"]
"#,
        dist = dist.display(),
    )
}

impl Server {
    /// Signs the display account in; the session cookie (`name=value`).
    pub async fn sign_in(&self) -> Result<String> {
        let res = self
            .http
            .post(format!("{}/api/v1/login", self.base))
            .json(&serde_json::json!({"name": USER, "password": PASSWORD}))
            .send()
            .await
            .context("signing in")?;
        if !res.status().is_success() {
            bail!("sign-in refused: {}", res.status());
        }
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next())
            .find(|c| c.contains('='))
            .map(str::to_owned)
            .context("no session cookie")
    }

    /// Posts a JSON body to the beds feed; the status and the answer.
    pub async fn post_beds(&self, body: String) -> Result<(u16, String)> {
        let res = self
            .http
            .post(format!("{}/api/v1/feeds/beds", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.text().await?))
    }

    /// Resident memory now (KiB).
    pub fn rss_kib(&self) -> Result<u64> {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// Peak resident memory (KiB).
    pub fn peak_rss_kib(&self) -> Result<u64> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.pid))
    }

    /// The last lines of the server's log, for a failure report.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The server's first logged error, to say why a batch was refused.
    pub fn first_error(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.log).ok()?;
        text.lines()
            .find(|l| l.contains("ERROR"))
            .map(|l| l.chars().take(600).collect())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))
}

/// User + system CPU seconds from a `/proc/…/stat` file.
pub fn cpu_seconds(stat_path: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(stat_path)?;
    // Fields after the command name (which may hold spaces), which ends at the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("a stat line")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .context("CPU ticks in stat")
    };
    let hz = rustix::param::clock_ticks_per_second().max(1) as f64;
    Ok((ticks(11)? + ticks(12)?) as f64 / hz)
}

/// Raises this process's open-file limit to its hard limit; children inherit it.
/// Returns the limit now in force.
pub fn raise_open_files() -> Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )
    .context("raising RLIMIT_NOFILE")?;
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// The reference sites' codes, from the data the server loads.
pub fn site_codes(root: &Path) -> Result<Vec<String>> {
    let path = root.join("data/somerset/sites.json");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let sites = json
        .get("sites")
        .and_then(|s| s.as_array())
        .context("sites.json has no sites")?;
    Ok(sites
        .iter()
        .filter_map(|s| s.get("id")?.as_str().map(str::to_owned))
        .collect())
}

/// Every bed pool of the feed contract.
pub const POOLS: [&str; 5] = [
    "general_acute_adult",
    "general_acute_paediatric",
    "adult_critical_care",
    "community_inpatient",
    "mental_health",
];

/// Every (site, pool) pair: records that cycle through these each change a different pool.
pub fn pairs(root: &Path) -> Result<Vec<(String, &'static str)>> {
    Ok(site_codes(root)?
        .into_iter()
        .flat_map(|site| POOLS.iter().map(move |pool| (site.clone(), *pool)))
        .collect())
}

/// One valid beds record as JSON text.
pub fn beds_record(id: &str, site: &str, pool: &str, at: &str, occupied: u32) -> String {
    format!(
        r#"{{"id":"{id}","site":"{site}","at":"{at}","pool":"{pool}","core_open":500,"escalation_open":20,"occupied":{occupied}}}"#
    )
}

/// A time a minute ago, as every record of a run carries: an equal `at` replaces the
/// current record, so every record becomes current and is streamed (a later `at` would
/// let an earlier-committed record of a concurrent batch be skipped as out of date).
pub fn record_time() -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Realistic state: one beds record for every site and pool.
pub async fn seed(server: &Server, root: &Path) -> Result<()> {
    let at = record_time();
    let records: Vec<String> = pairs(root)?
        .iter()
        .enumerate()
        .map(|(i, (site, pool))| beds_record(&format!("seed-{i}"), site, pool, &at, 400))
        .collect();
    let (status, answer) = server.post_beds(format!("[{}]", records.join(","))).await?;
    if status != 200 {
        bail!("the seed batch was refused ({status}): {answer}");
    }
    Ok(())
}

/// The whole machine's CPU time so far, from `/proc/stat` (in clock ticks).
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    user: u64,
    system: u64,
    softirq: u64,
    idle: u64,
    total: u64,
}

impl MachineCpu {
    pub fn now() -> Result<MachineCpu> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat.lines().next().context("/proc/stat is empty")?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        Ok(MachineCpu {
            user: at(0) + at(1),
            system: at(2) + at(5),
            softirq: at(6),
            idle: at(3) + at(4),
            total: (0..8).map(at).sum(),
        })
    }

    /// Busy share of all cores since `earlier`, split as "busy % (user, system, softirq)".
    pub fn since(&self, earlier: &MachineCpu) -> String {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        let pct = |now: u64, then: u64| 100.0 * now.saturating_sub(then) as f64 / total;
        format!(
            "{:.0}% busy (user {:.0}, system {:.0}, softirq {:.0})",
            100.0 - pct(self.idle, earlier.idle),
            pct(self.user, earlier.user),
            pct(self.system, earlier.system),
            pct(self.softirq, earlier.softirq),
        )
    }
}

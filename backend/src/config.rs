//! The one typed configuration of a Levels server.
//!
//! Values come from, in order of precedence: environment variables prefixed `LEVELS_`
//! (nested keys joined by `__`, e.g. `LEVELS_DATABASE__URL`), then the TOML file named on
//! the command line or in `LEVELS_CONFIG`, then the defaults below. `docs/configuration.md`
//! lists every key.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use levels_shared::feed::Feed;
use levels_shared::reference::SiteKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub reference: ReferenceConfig,
    pub ingest: IngestConfig,
    pub live: LiveConfig,
    pub simulator: SimulatorConfig,
    pub history: HistoryConfig,
    pub escalation: EscalationConfig,
    pub sessions: SessionsConfig,
    pub demo: DemoConfig,
    pub log: LogConfig,
    /// Producers allowed to post feeds, each with its bearer token and scope.
    pub producers: Vec<ProducerConfig>,
}

/// The demo's accounts: one per role, sharing one password. Refused when the server listens
/// beyond loopback, so a deployment others can reach cannot start with them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    pub users: bool,
    pub password: String,
}

/// Signed-in sessions (DESIGN §9).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// How long a sign-in lasts, in hours.
    pub hours: u32,
    /// Mark the session cookie `Secure` (sent over HTTPS only). Turn on behind TLS.
    pub secure_cookies: bool,
    /// Password checks run at once across the server (each holds Argon2id's 19 MiB);
    /// 0 for one per core.
    pub password_checks: usize,
    /// How long a sign-in waits for a free password check before it is answered 503 with
    /// `Retry-After`.
    pub password_wait_milliseconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// The built dashboard (Trunk's `dist/`), served at `/`.
    pub static_dir: PathBuf,
    /// The address of a TLS-terminating proxy in front of Levels: connections from it give
    /// the client's address in `X-Forwarded-For`, which sign-in limits and the audit then
    /// use. Unset: the connection's own address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// Serve HTTPS from these PEM files; unset, plain HTTP (for a TLS-terminating proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// A request (reading its body included) not answered within this many seconds gets
    /// 408, so a client that stalls cannot hold a handler forever.
    pub request_timeout_seconds: u64,
}

/// The server's certificate chain and private key, in PEM files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (created if missing) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceConfig {
    /// The system's name, shown in the dashboard's title.
    pub system: String,
    /// Sites, in the format of `data/somerset/sites.json`.
    pub sites: PathBuf,
    /// GeoJSON FeatureCollection of the system's outer boundary.
    pub boundary: PathBuf,
    /// GeoJSON FeatureCollection of localities; each feature has `code` and `name` properties.
    pub localities: PathBuf,
    /// GeoJSON FeatureCollection of neighbouring areas drawn for context (optional).
    pub context: Option<PathBuf>,
    /// Community teams, in the format of `data/somerset/teams.json` (optional).
    pub teams: Option<PathBuf>,
    /// The feeds each kind of site is expected to send, with their interval in minutes.
    pub expected_feeds: BTreeMap<SiteKind, BTreeMap<Feed, u32>>,
    /// Expected interval of each team's `community` records, in minutes.
    pub team_interval_minutes: u32,
    /// Attribution statements required by the data's licences.
    pub attribution: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How far in the future an `at` may be before it is rejected.
    pub max_future_seconds: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Seconds between heartbeats on an otherwise quiet websocket.
    pub heartbeat_seconds: u64,
    /// How many recent deltas are kept to replay to reconnecting clients.
    pub replay_deltas: usize,
    /// How many messages may wait for one slow client before it is skipped to a snapshot.
    pub session_queue: usize,
    /// Threads that write to screens, apart from those serving requests and ingest (see
    /// `live::threads`); 0 for one per core.
    pub threads: usize,
    /// Seconds between recomputations of time-dependent measures (waits, hours lost).
    pub measures_refresh_seconds: u64,
    /// A client that has sent nothing, not even the pong to a heartbeat's ping, for this
    /// many seconds is taken as dead and its connection closed.
    pub dead_after_seconds: u64,
    /// Largest message a client may send; the dashboard sends none, so this is small.
    pub max_client_message_bytes: usize,
    /// Per-connection read buffer. Small, because clients send next to nothing and every
    /// byte is multiplied by the number of screens (tungstenite's default is 128 KiB).
    pub read_buffer_bytes: usize,
    /// Bytes tungstenite gathers before writing the control frames it sends (pings,
    /// close); 0 writes each at once (its default is 128 KiB). Messages bypass it.
    pub write_buffer_bytes: usize,
    /// Largest websocket frame payload the server sends: longer messages go out as several
    /// frames. 0 (the default) sends each message as one frame: messages are encoded once
    /// and every socket writes the same shared bytes, so size costs no per-socket memory.
    pub fragment_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Play the feed producers of every site (demo only).
    pub enabled: bool,
    /// Seed of the random model, so a run can be reproduced.
    pub seed: u64,
    /// Simulated time runs this many times faster than real time (records carry real time).
    pub speed: f64,
    /// Real seconds between simulated feed posts.
    pub interval_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// The escalation policy file (see `config/escalation/default.toml`).
    pub policy: PathBuf,
    /// Replaces every pillar's `settle_minutes`: for a sped-up demo, or tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_minutes: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Width of a history time bucket, in seconds.
    pub resolution_seconds: u32,
    /// How many days of history are kept.
    pub retention_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `levels=debug,info`; `RUST_LOG` overrides it.
    pub level: String,
    /// `text` for people, `json` (one object per line) for a log collector.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerConfig {
    /// Recorded with every batch this producer sends.
    pub name: String,
    /// The bearer token it presents.
    pub token: String,
    /// Feeds it may post to.
    pub feeds: Vec<Feed>,
    /// Site codes it may post for; `["*"]` for all.
    pub sites: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let somerset = PathBuf::from("data/somerset");
        Config {
            server: ServerConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
                static_dir: PathBuf::from("dist"),
                trusted_proxy: None,
                tls: None,
                request_timeout_seconds: 30,
            },
            database: DatabaseConfig {
                url: "sqlite://var/levels.db".into(),
            },
            reference: ReferenceConfig {
                system: "Somerset".into(),
                sites: somerset.join("sites.json"),
                boundary: somerset.join("somerset.geojson"),
                localities: somerset.join("districts.geojson"),
                context: Some(somerset.join("neighbours.geojson")),
                teams: Some(somerset.join("teams.json")),
                expected_feeds: default_expected_feeds(),
                team_interval_minutes: Feed::Community.expected_interval().num_minutes() as u32,
                // The sites file carries the OGL / OS / Royal Mail / ONS statement; this adds
                // the credit the boundaries' GeoJSON conversion asks for.
                attribution: vec![
                    "Boundaries: ONS/OS via github.com/martinjc/UK-GeoJSON (CC BY 4.0, Martin Chorley).".into(),
                ],
            },
            ingest: IngestConfig {
                max_body_bytes: 10 * 1024 * 1024,
                max_future_seconds: 300,
            },
            live: LiveConfig {
                heartbeat_seconds: 5,
                replay_deltas: 4096,
                session_queue: 1024,
                threads: 0,
                measures_refresh_seconds: 60,
                dead_after_seconds: 45,
                max_client_message_bytes: 64 * 1024,
                read_buffer_bytes: 4 * 1024,
                write_buffer_bytes: 0,
                fragment_bytes: 0,
            },
            simulator: SimulatorConfig {
                enabled: false,
                seed: 2026,
                speed: 60.0,
                interval_seconds: 5.0,
            },
            demo: DemoConfig {
                users: false,
                password: "demo-password-change-me".into(),
            },
            sessions: SessionsConfig {
                hours: 12,
                secure_cookies: false,
                password_checks: 0,
                password_wait_milliseconds: 1000,
            },
            escalation: EscalationConfig {
                policy: PathBuf::from("config/escalation/default.toml"),
                settle_minutes: None,
            },
            history: HistoryConfig {
                resolution_seconds: 300,
                retention_days: 35,
            },
            log: LogConfig {
                level: "info".into(),
                format: LogFormat::Text,
            },
            producers: Vec::new(),
        }
    }
}

/// Acute sites send every feed but community; community hospitals their beds and delay
/// lists; other sites their beds. Intervals are each feed's default.
fn default_expected_feeds() -> BTreeMap<SiteKind, BTreeMap<Feed, u32>> {
    use Feed::*;
    let with = |feeds: &[Feed]| {
        feeds
            .iter()
            .map(|f| (*f, f.expected_interval().num_minutes() as u32))
            .collect()
    };
    BTreeMap::from([
        (
            SiteKind::Acute,
            with(&[Beds, Handovers, DischargeDelays, Ed]),
        ),
        (SiteKind::OutOfCountyAcute, with(&[Beds, Handovers, Ed])),
        (SiteKind::CommunityHospital, with(&[Beds, DischargeDelays])),
        (SiteKind::MentalHealth, with(&[Beds])),
        (SiteKind::Hospice, with(&[Beds])),
    ])
}

impl Config {
    /// Loads defaults, then the file (if any), then `LEVELS_*` environment overrides.
    /// `LEVELS_CONFIG` names the file, and `LEVELS_TEST_*` belong to the tests (which
    /// database they use): neither is a key.
    pub fn load(file: Option<&str>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("LEVELS_")
            .ignore(&["config"])
            .filter(|key| !key.starts_with("test_"))
            .split("__");
        figment.merge(env).extract().map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_configuration_parses_and_enables_the_simulator() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/demo.toml");
        let cfg = Config::load(Some(path)).expect("demo config is valid");
        assert!(cfg.simulator.enabled);
        assert!(cfg.producers.iter().any(|p| p.feeds.contains(&Feed::Beds)));
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\nbindd = \"127.0.0.1:1\"\n").expect("write");
        let err = Config::load(path.to_str()).expect_err("unknown key rejected");
        assert!(err.to_string().contains("bindd"), "{err}");
    }
}

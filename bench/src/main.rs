//! `levels-bench [--quick]`: measures a built `levels` (ingest, fan-out, memory per
//! connection, the dashboard) on fresh servers and databases, each figure beside a baseline
//! measured in the same run so results hold on a noisy machine. `scripts/bench.sh` builds
//! and runs it; docs/performance.md explains every figure.

mod browser;
mod fanout;
mod ingest;
mod live;
mod memory;
mod report;
mod server;
mod stats;

use anyhow::{bail, Context, Result};
use clap::Parser;
use report::{int, kib, met, ms, Table};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The floors of issue 8 on the reference machine (2 cores shared with the load).
const FLOOR_INGEST_PER_S: f64 = 20_000.0;
const FLOOR_FANOUT_CLIENTS: usize = 10_000;
const FLOOR_FANOUT_P99_MS: f64 = 250.0;
const FLOOR_KIB_PER_CONNECTION: f64 = 16.0;
/// 400 KB, in decimal kilobytes.
const FLOOR_WASM_GZIP_BYTES: u64 = 400_000;
const FLOOR_FIRST_FIGURE_MS: f64 = 1_500.0;

#[derive(Parser)]
#[command(name = "levels-bench", about = "Benchmarks a built levels server")]
struct Args {
    /// Seconds and small N: the regression guard CI runs. Asserts only zero loss in
    /// fan-out and the bundle's gzip ceiling, never timings.
    #[arg(long)]
    quick: bool,
    /// The `levels` binary to measure [default: the one beside this program].
    #[arg(long)]
    levels: Option<PathBuf>,
    /// The built dashboard [default: dist/ in the workspace].
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Only these parts: ingest, fanout, memory, browser [default: all].
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Fan-out and memory client counts [default: 1000,10000; quick: 200].
    #[arg(long, value_delimiter = ',')]
    clients: Vec<usize>,
    /// KEY=VALUE set in every server's environment, e.g. LEVELS_LIVE__HEARTBEAT_SECONDS=60
    /// to see what a setting changes (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    server_env: Vec<String>,
    /// A PostgreSQL server (`postgres://ROLE:PASSWORD@HOST:PORT/DB`, a role that may create
    /// databases, e.g. what `scripts/postgres.sh` prints): each measurement's server gets a
    /// fresh database there instead of a fresh SQLite file.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

struct Plan {
    ingest: ingest::Settings,
    clients: Vec<usize>,
    fanout_duration: Duration,
    idle: Duration,
    loads: usize,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let clients = if !args.clients.is_empty() {
            args.clients.clone()
        } else if args.quick {
            vec![200]
        } else {
            vec![1_000, 10_000]
        };
        let secs =
            |quick: f64, full: f64| Duration::from_secs_f64(if args.quick { quick } else { full });
        Plan {
            ingest: ingest::Settings {
                // Up to the largest batch the server takes (10,000) where time allows.
                sizes: if args.quick {
                    vec![1, 10, 100, 1000]
                } else {
                    vec![1, 10, 100, 1000, 10_000]
                },
                producers: 4,
                duration: secs(1.5, 10.0),
                warmup: secs(0.3, 1.0),
            },
            clients,
            fanout_duration: secs(5.0, 20.0),
            idle: secs(2.0, 5.0),
            loads: if args.quick { 2 } else { 5 },
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let parts = ["ingest", "fanout", "memory", "browser"];
    for part in &args.only {
        if !parts.contains(&part.as_str()) {
            bail!("unknown part {part:?}: choose from {}", parts.join(", "));
        }
    }
    let runs = |part: &str| args.only.is_empty() || args.only.iter().any(|p| p == part);
    let plan = Plan::new(&args);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .context("the workspace")?;
    let binary = match &args.levels {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program's folder")?
            .join(format!("levels{}", std::env::consts::EXE_SUFFIX)),
    };
    let binary = binary
        .canonicalize()
        .with_context(|| format!("the levels binary {}", binary.display()))?;
    let dist = args.dist.clone().unwrap_or_else(|| root.join("dist"));
    let dist = dist
        .canonicalize()
        .with_context(|| format!("the dashboard {} (trunk build --release)", dist.display()))?;
    // 10,000 clients need 10,000 descriptors here and as many in the server (which
    // inherits this limit).
    let open_files = server::raise_open_files()?;
    let most_clients = plan.clients.iter().copied().max().unwrap_or(0) as u64;
    if (runs("fanout") || runs("memory")) && open_files < most_clients + 256 {
        bail!("{most_clients} clients need more open files than the hard limit of {open_files}");
    }
    let mut env = Vec::new();
    for pair in &args.server_env {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("--env {pair:?} is not KEY=VALUE"))?;
        env.push((key.to_owned(), value.to_owned()));
    }
    let levels = server::Levels {
        binary,
        root: root.clone(),
        dist,
        env,
        postgres: args.postgres.clone(),
    };
    let began = Instant::now();
    // What else this machine is doing: the bench's figures share the CPU with it.
    let idle_before = server::MachineCpu::now()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let background = server::MachineCpu::now()?.since(&idle_before);
    println!("{}", machine(&args, &levels, open_files, &background));

    let mut failures = Vec::new();
    // Quick mode judges only what it asserts; timings from a debug build and seconds of
    // load are indicative.
    let verdict = |ok: bool| {
        if args.quick {
            format!("{} (not asserted)", if ok { "met" } else { "not met" })
        } else {
            met(ok)
        }
    };
    let mut summary = Table::new(
        "Floors (issue 8)",
        &["figure", "floor", "measured", "verdict"],
    );

    if runs("ingest") {
        eprintln!("==> ingest");
        let rows = ingest::run(&levels, &plan.ingest).await?;
        let baseline = rows.iter().find(|r| r.batch == 1).map(|r| r.records_per_s);
        let mut table = Table::new(
            format!(
                "Ingest: {} producers posting back to back, {:.1} s per batch size, each on a fresh server and database; every batch committed (WAL, synchronous=FULL) before its 200",
                plan.ingest.producers,
                plan.ingest.duration.as_secs_f64()
            ),
            &["batch size", "records/s", "batches/s", "ack p50", "ack p99", "× one per commit", "server CPU", "bench CPU", "machine CPU", "failed"],
        );
        for r in &rows {
            table.row(vec![
                if r.batch == 1 {
                    "1 (baseline)".into()
                } else {
                    int(r.batch as f64)
                },
                int(r.records_per_s),
                int(r.batches_per_s),
                ms(r.p50_ms),
                ms(r.p99_ms),
                baseline.map_or("–".into(), |b| format!("{:.1}×", r.records_per_s / b)),
                format!("{:.2} cores", r.server_cores),
                format!("{:.2} cores", r.bench_cores),
                r.machine.clone(),
                int(r.failures as f64),
            ]);
        }
        println!("{table}");
        for r in rows.iter().filter(|r| r.failures > 0) {
            println!(
                "  batch {}: first failure: {}",
                r.batch,
                r.first_failure.as_deref().unwrap_or("")
            );
            failures.push(format!(
                "ingest at batch size {} had {} batches refused or unanswered (first: {})",
                r.batch,
                r.failures,
                r.first_failure.as_deref().unwrap_or("")
            ));
        }
        if let Some(best) = rows
            .iter()
            .max_by(|a, b| a.records_per_s.total_cmp(&b.records_per_s))
        {
            summary.row(vec![
                "durable ingest".into(),
                format!("≥ {} records/s", int(FLOOR_INGEST_PER_S)),
                format!(
                    "{} records/s (batch {})",
                    int(best.records_per_s),
                    best.batch
                ),
                verdict(best.records_per_s >= FLOOR_INGEST_PER_S),
            ]);
        }
    }

    if runs("fanout") {
        let mut outcomes = Vec::new();
        for &clients in &plan.clients {
            eprintln!("==> fan-out to {clients} clients");
            let settings = fanout::Settings {
                clients,
                records_per_batch: 50,
                batches_per_s: 10,
                duration: plan.fanout_duration,
                drain: Duration::from_secs(15),
                clients_per_session: 2_500,
            };
            let outcome = fanout::run(&levels, &settings).await?;
            eprintln!(
                "  p99 {}, missing {}, duplicates {}",
                ms(outcome.p99_ms),
                outcome.missing,
                outcome.duplicates
            );
            outcomes.push(outcome);
        }
        println!("{}", fanout_table(&outcomes, plan.fanout_duration));
        for o in &outcomes {
            if let Some(e) = &o.first_connect_error {
                println!(
                    "  {} clients: first connection failure: {e}",
                    int(o.clients as f64)
                );
            }
            if let Some(e) = &o.first_refusal {
                println!(
                    "  {} clients: first refused batch: {e}",
                    int(o.clients as f64)
                );
            }
            if !o.lossless() {
                failures.push(format!(
                    "fan-out to {} clients lost or repeated deltas: {} missing, {} duplicates, {} seq gaps, {} failed to connect, {} batches refused",
                    o.clients, o.missing, o.duplicates, o.seq_gaps, o.connect_failures, o.batches_refused
                ));
            }
        }
        let judged = outcomes
            .iter()
            .find(|o| o.clients >= FLOOR_FANOUT_CLIENTS)
            .or(outcomes.last());
        if let Some(o) = judged {
            let ok = o.clients >= FLOOR_FANOUT_CLIENTS
                && o.p99_ms <= FLOOR_FANOUT_P99_MS
                && o.lossless();
            summary.row(vec![
                format!("fan-out, {} clients, 500 records/s", int(o.clients as f64)),
                format!(
                    "{} clients: p99 ≤ {FLOOR_FANOUT_P99_MS:.0} ms, no loss",
                    int(FLOOR_FANOUT_CLIENTS as f64)
                ),
                format!(
                    "p99 {}, {} missing, {} duplicates",
                    ms(o.p99_ms),
                    o.missing,
                    o.duplicates
                ),
                if o.clients < FLOOR_FANOUT_CLIENTS {
                    format!(
                        "not judged (N={}); no loss: {}",
                        o.clients,
                        met(o.lossless())
                    )
                } else {
                    met(ok)
                },
            ]);
        }
    }

    if runs("memory") {
        let mut pairs = Vec::new();
        for &n in &plan.clients {
            eprintln!("==> memory, {n} idle connections");
            let ours = memory::run(&levels, memory::Buffers::Levels, n, plan.idle).await?;
            let theirs = memory::run(&levels, memory::Buffers::Tungstenite, n, plan.idle).await?;
            pairs.push((ours, theirs));
        }
        let mut table = Table::new(
            format!(
                "Memory per idle connection: server RSS before and after N websockets that read their snapshot and sit idle {:.0} s; Levels' buffers beside tungstenite's defaults (128 KiB read and write), same run",
                plan.idle.as_secs_f64()
            ),
            &["connections", "snapshot", "Levels: RSS before → after", "per connection", "tungstenite defaults: RSS before → after", "per connection", "ratio"],
        );
        for (ours, theirs) in &pairs {
            table.row(vec![
                int(ours.connections as f64),
                format!("{} B", int(ours.snapshot_bytes as f64)),
                format!(
                    "{:.1} → {:.1} MiB",
                    ours.before_kib as f64 / 1024.0,
                    ours.after_kib as f64 / 1024.0
                ),
                format!("{:.1} KiB", ours.per_connection_kib()),
                format!(
                    "{:.1} → {:.1} MiB",
                    theirs.before_kib as f64 / 1024.0,
                    theirs.after_kib as f64 / 1024.0
                ),
                format!("{:.1} KiB", theirs.per_connection_kib()),
                format!(
                    "{:.2}×",
                    ours.per_connection_kib() / theirs.per_connection_kib().max(f64::MIN_POSITIVE)
                ),
            ]);
        }
        println!("{table}");
        if let Some((ours, _)) = pairs.iter().max_by_key(|(o, _)| o.connections) {
            summary.row(vec![
                format!(
                    "memory per idle connection ({})",
                    int(ours.connections as f64)
                ),
                format!("≤ {FLOOR_KIB_PER_CONNECTION:.0} KiB"),
                format!("{:.1} KiB", ours.per_connection_kib()),
                verdict(ours.per_connection_kib() <= FLOOR_KIB_PER_CONNECTION),
            ]);
        }
    }

    if runs("browser") {
        eprintln!("==> the dashboard");
        let bundle = browser::bundle(&levels.dist)?;
        let mut table = Table::new(
            "Dashboard bundle (release, as in dist/)",
            &["file", "raw", "gzip -9", "brotli q11"],
        );
        let name = bundle
            .wasm
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        table.row(vec![
            name,
            kib(bundle.raw),
            kib(bundle.gzip),
            kib(bundle.brotli),
        ]);
        table.row(vec![
            format!("all of dist/ ({} files, each gzipped)", bundle.dist_files),
            kib(bundle.dist_raw),
            kib(bundle.dist_gzip),
            String::new(),
        ]);
        println!("{table}");
        let gzip_ok = bundle.gzip <= FLOOR_WASM_GZIP_BYTES;
        summary.row(vec![
            "WASM bundle, gzip".into(),
            format!("≤ {} B", int(FLOOR_WASM_GZIP_BYTES as f64)),
            format!("{} B", int(bundle.gzip as f64)),
            met(gzip_ok),
        ]);
        if !gzip_ok {
            failures.push(format!(
                "the WASM bundle is {} B gzipped, over the ceiling of {} B",
                bundle.gzip, FLOOR_WASM_GZIP_BYTES
            ));
        }

        let loads = browser::first_live_figure(&levels, plan.loads).await?;
        let mut wall: Vec<f64> = loads.iter().map(|l| l.wall_ms).collect();
        let mut page: Vec<f64> = loads.iter().map(|l| l.page_ms).collect();
        let each = wall
            .iter()
            .map(|w| format!("{w:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        let wall_max = wall.iter().copied().fold(f64::NAN, f64::max);
        let wall_median = stats::median(&mut wall).unwrap_or(f64::NAN);
        let page_median = stats::median(&mut page).unwrap_or(f64::NAN);
        let mut table = Table::new(
            format!(
                "First live figure: headless Chromium, a fresh profile per load (nothing cached), signed in; from navigating to / until `{}` is in the DOM",
                browser::LIVE_FIGURE
            ),
            &["loads", "median", "max", "page's own clock (median)", "each (ms)"],
        );
        table.row(vec![
            loads.len().to_string(),
            ms(wall_median),
            ms(wall_max),
            ms(page_median),
            each,
        ]);
        println!("{table}");
        summary.row(vec![
            "first live figure (median)".into(),
            format!("≤ {} ms", int(FLOOR_FIRST_FIGURE_MS)),
            format!("{} (max {})", ms(wall_median), ms(wall_max)),
            verdict(wall_median <= FLOOR_FIRST_FIGURE_MS),
        ]);
    }

    println!("{summary}");
    println!(
        "ran in {:.0} s; load average at the end {}",
        began.elapsed().as_secs_f64(),
        loadavg()
    );
    // Quick or full, a lost or repeated delta or a refused batch fails the run: the
    // timings are judged by the floors above, correctness is not (docs/performance.md).
    println!("{}", verdict_line(&failures));
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        bail!("{} regression guard(s) failed", failures.len());
    }
    Ok(())
}

/// The run's last line: what it asserts, and whether it held.
fn verdict_line(failures: &[String]) -> String {
    if failures.is_empty() {
        "verdict: PASS (in the parts run: no refused ingest, no lost or repeated deltas, the bundle within its ceiling)".to_owned()
    } else {
        format!("verdict: FAIL ({} guard(s) failed)", failures.len())
    }
}

fn fanout_table(outcomes: &[fanout::Outcome], duration: Duration) -> Table {
    let mut header = vec!["".to_string()];
    header.extend(
        outcomes
            .iter()
            .map(|o| format!("{} clients", int(o.clients as f64))),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!(
            "Fan-out: 10 batches/s of 50 beds records (500 records/s) for {:.0} s; latency from each batch's scheduled send to its first delta at each client",
            duration.as_secs_f64()
        ),
        &header,
    );
    let mut row = |name: &str, f: &dyn Fn(&fanout::Outcome) -> String| {
        let mut cells = vec![name.to_string()];
        cells.extend(outcomes.iter().map(f));
        table.row(cells);
    };
    row("ingest rate", &|o| {
        format!("{} records/s", int(o.records_per_s))
    });
    row("sessions (sign-ins)", &|o| o.sessions.to_string());
    row("time to connect all", &|o| format!("{:.1} s", o.connect_s));
    row("connected / failed", &|o| {
        format!("{} / {}", int(o.connected as f64), o.connect_failures)
    });
    row("snapshot, delta size", &|o| {
        format!(
            "{} B, {} B",
            int(o.snapshot_bytes as f64),
            int(o.delta_bytes as f64)
        )
    });
    row("batches acknowledged / refused", &|o| {
        format!("{} / {}", o.batches_published, o.batches_refused)
    });
    row("ack p50 / p99", &|o| {
        format!("{} / {}", ms(o.ack_p50_ms), ms(o.ack_p99_ms))
    });
    row("producer late to schedule, p99", &|o| ms(o.send_lag_p99_ms));
    row("samples (client × batch)", &|o| int(o.samples as f64));
    row("ingest → client p50", &|o| ms(o.p50_ms));
    row("ingest → client p99", &|o| ms(o.p99_ms));
    row("ingest → client p99.9", &|o| ms(o.p999_ms));
    row("ingest → client max", &|o| ms(o.max_ms));
    row("missing deltas", &|o| int(o.missing as f64));
    row("duplicate deltas", &|o| int(o.duplicates as f64));
    row("seq gaps", &|o| int(o.seq_gaps as f64));
    row("skipped to a snapshot", &|o| int(o.skips as f64));
    row("closed early", &|o| int(o.closed as f64));
    row("server CPU (over the schedule)", &|o| {
        format!("{:.2} cores", o.server_cores)
    });
    row("bench CPU (clients + producer)", &|o| {
        format!("{:.2} cores", o.bench_cores)
    });
    row("deliveries/s over the schedule", &|o| {
        int(o.deliveries_per_s)
    });
    row("server CPU per delivery", &|o| {
        format!("{:.1} µs", o.server_us_per_delivery)
    });
    row("bench CPU per delivery", &|o| {
        format!("{:.1} µs", o.bench_us_per_delivery)
    });
    row("machine CPU (all processes)", &|o| o.machine.clone());
    row("server RSS connected / peak", &|o| {
        format!(
            "{:.0} / {:.0} MiB",
            o.server_rss_connected_mib, o.server_peak_rss_mib
        )
    });
    table
}

fn machine(args: &Args, levels: &server::Levels, open_files: u64, background: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |k| {
            format!("{:.1} GiB", k / 1024.0 / 1024.0)
        });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let profile = if levels
        .binary
        .components()
        .any(|c| c.as_os_str() == "release")
    {
        "release"
    } else {
        "debug (figures are not comparable with a release build)"
    };
    format!(
        "levels-bench{}, {}\n  machine: {cores} cores ({model}), {memory} memory, load average {}, before starting {background}; server and load generator share it\n  server:  {} [{profile}], open files limit {}{}\n  database: {}\n  dashboard: {}\n",
        if args.quick { " --quick" } else { "" },
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        loadavg(),
        levels.binary.display(),
        int(open_files as f64),
        levels
            .env
            .iter()
            .map(|(k, v)| format!(", {k}={v}"))
            .collect::<String>(),
        match &levels.postgres {
            Some(url) => format!(
                "PostgreSQL at {}, a fresh database per server",
                levels::store::redacted(url)
            ),
            None => "SQLite, a fresh file per server".into(),
        },
        levels.dist.display(),
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

//! Fan-out: N signed-in websocket clients while beds batches are ingested on a fixed
//! schedule. Batch k is due at `start + k × period` and its records' ids carry k, so each
//! client measures delivery from when the batch was due, not from when it was actually
//! sent: a stalled server (or a starved producer) cannot hide its tail.

use crate::live::{gate, Client};
use crate::server::{beds_record, pairs, record_time, Levels, MachineCpu, Server, TOKEN};
use crate::stats::{kind, quantile, seq, BatchIds, Kind};
use anyhow::{bail, Context, Result};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// Record ids of the scheduled batches: `fan-{batch}-{record}`.
const TAG: &str = "fan-";

pub struct Settings {
    pub clients: usize,
    pub records_per_batch: usize,
    pub batches_per_s: u32,
    pub duration: Duration,
    /// Longest wait after the last acknowledgement for the last deltas to arrive.
    pub drain: Duration,
    /// Clients that share one sign-in (a control room's screens often do).
    pub clients_per_session: usize,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub clients: usize,
    pub connected: usize,
    pub connect_failures: usize,
    pub first_connect_error: Option<String>,
    pub connect_s: f64,
    pub sessions: usize,
    pub records_per_s: f64,
    pub batches_published: usize,
    pub batches_refused: usize,
    pub first_refusal: Option<String>,
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Client × batch deliveries that never came.
    pub missing: u64,
    /// A batch seen in a second delta, or a `seq` seen twice.
    pub duplicates: u64,
    /// Deltas whose `seq` jumped over others (counted per skipped `seq`).
    pub seq_gaps: u64,
    /// Times a client was skipped to a fresh snapshot for falling behind.
    pub skips: u64,
    /// Clients whose socket closed before the end.
    pub closed: u64,
    pub send_lag_p99_ms: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub server_cores: f64,
    pub bench_cores: f64,
    /// First deliveries of a batch to a client per second, over the schedule.
    pub deliveries_per_s: f64,
    /// CPU time per delivery, server and bench.
    pub server_us_per_delivery: f64,
    pub bench_us_per_delivery: f64,
    /// Every process's CPU over the schedule, this machine's other work included.
    pub machine: String,
    pub server_rss_connected_mib: f64,
    pub server_peak_rss_mib: f64,
    pub snapshot_bytes: usize,
    pub delta_bytes: usize,
}

impl Outcome {
    pub fn lossless(&self) -> bool {
        self.missing == 0
            && self.duplicates == 0
            && self.seq_gaps == 0
            && self.connect_failures == 0
            && self.batches_refused == 0
            && self.batches_published > 0
    }
}

/// What every client shares.
struct Shared {
    /// When batch 0 is due; set once every client is connected.
    start: OnceLock<Instant>,
    period: Duration,
    batches: usize,
    ids: BatchIds,
    /// Clients that have their snapshot, or failed to connect.
    settled: AtomicUsize,
    /// Clients that failed to connect (settled, but never deliver).
    failed: AtomicUsize,
    /// First deliveries of a batch to a client, for knowing when all have arrived.
    delivered: AtomicU64,
}

/// One client's record of a run.
struct Log {
    /// Per batch, µs from when it was due to its first delta here; `u32::MAX` if none.
    latency_us: Vec<u32>,
    last_seq: Option<u64>,
    duplicates: u64,
    seq_gaps: u64,
    skips: u64,
    closed: bool,
    snapshot_bytes: usize,
    delta_bytes: usize,
}

pub async fn run(levels: &Levels, settings: &Settings) -> Result<Outcome> {
    let server = levels.start(&[]).await?;
    let result = measure(levels, &server, settings).await;
    if result.is_err() {
        eprintln!("server log:\n{}", server.log_tail());
    }
    server.stop().await;
    result
}

async fn measure(levels: &Levels, server: &Server, settings: &Settings) -> Result<Outcome> {
    crate::server::seed(server, &levels.root).await?;
    let sessions = settings
        .clients
        .div_ceil(settings.clients_per_session)
        .max(1);
    let mut cookies = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        cookies.push(server.sign_in().await?);
    }
    let period = Duration::from_secs(1) / settings.batches_per_s.max(1);
    let batches = (settings.duration.as_secs_f64() * f64::from(settings.batches_per_s)) as usize;
    let shared = Arc::new(Shared {
        start: OnceLock::new(),
        period,
        batches,
        ids: BatchIds::new(TAG),
        settled: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
    });

    // Connect every client; each counts itself settled once it has its snapshot.
    let (stop, stopped) = watch::channel(false);
    let gate = gate();
    let base = server.base.clone();
    let connecting = Instant::now();
    let clients: Vec<_> = (0..settings.clients)
        .map(|i| {
            tokio::spawn(client(
                shared.clone(),
                base.clone(),
                cookies[i % sessions].clone(),
                gate.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    let connect_deadline = Instant::now() + Duration::from_secs(300);
    while shared.settled.load(Ordering::Relaxed) < settings.clients {
        if Instant::now() > connect_deadline {
            bail!(
                "only {} of {} clients connected within 300 s",
                shared.settled.load(Ordering::Relaxed),
                settings.clients
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_s = connecting.elapsed().as_secs_f64();
    eprintln!(
        "  fan-out {}: clients connected in {connect_s:.1} s",
        settings.clients
    );
    // Let the handshakes' aftermath settle before the clock starts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = server.rss_kib()?;

    // The batches, built before the clock starts.
    let pairs = pairs(&levels.root)?;
    let at = record_time();
    let bodies: Vec<String> = (0..batches)
        .map(|k| {
            let records: Vec<String> = (0..settings.records_per_batch)
                .map(|r| {
                    let (site, pool) = &pairs[(k * settings.records_per_batch + r) % pairs.len()];
                    beds_record(&format!("{TAG}{k}-{r}"), site, pool, &at, (k % 500) as u32)
                })
                .collect();
            format!("[{}]", records.join(","))
        })
        .collect();

    let delivered_before = shared.delivered.load(Ordering::Relaxed);
    let cpu_server = server.cpu_seconds()?;
    let cpu_bench = crate::server::cpu_seconds("/proc/self/stat")?;
    let machine_before = MachineCpu::now()?;
    let start = Instant::now() + Duration::from_millis(200);
    let _ = shared.start.set(start);
    // The producer runs on a thread of its own so that 10,000 clients' reads in this
    // runtime cannot delay its schedule.
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let base = server.base.clone();
    std::thread::spawn(move || {
        let _ = done_tx.send(produce(base, bodies, start, period));
    });
    // CPU over the schedule itself (a fixed window, comparable between runs).
    tokio::time::sleep_until((start + settings.duration).into()).await;
    let ran_s = start.elapsed().as_secs_f64();
    let server_cores = (server.cpu_seconds()? - cpu_server) / ran_s;
    let bench_cores = (crate::server::cpu_seconds("/proc/self/stat")? - cpu_bench) / ran_s;
    // What one delivery costs, from deliveries actually made in the window (a server that
    // falls behind makes fewer).
    let deliveries_per_s = shared
        .delivered
        .load(Ordering::Relaxed)
        .saturating_sub(delivered_before) as f64
        / ran_s;
    let per_delivery = |cores: f64| cores * 1e6 / deliveries_per_s.max(f64::MIN_POSITIVE);
    let machine = MachineCpu::now()?.since(&machine_before);
    let sent = done_rx.await.context("the producer thread")??;
    let published = sent.iter().filter(|b| b.ok).count();

    // Wait for the last deltas (or give up after `drain`), then stop the clients.
    let connected = settings.clients - shared.failed.load(Ordering::Relaxed);
    // Every batch sent, refused ones too: a 408 may still have been committed and
    // delivered, and counting it short would stop the wait before the answered ones arrive.
    let expected = (sent.len() * connected) as u64;
    let drain_until = Instant::now() + settings.drain;
    while shared.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let peak_rss = server.peak_rss_kib()?;

    let mut out = Outcome {
        clients: settings.clients,
        connect_s,
        sessions,
        records_per_s: (settings.records_per_batch * settings.batches_per_s as usize) as f64,
        batches_published: published,
        batches_refused: sent.len() - published,
        first_refusal: sent.iter().find_map(|b| b.error.clone()).map(|e| {
            match server.first_error() {
                Some(logged) => format!("{e}; the server logged: {logged}"),
                None => e,
            }
        }),
        server_cores,
        bench_cores,
        deliveries_per_s,
        server_us_per_delivery: per_delivery(server_cores),
        bench_us_per_delivery: per_delivery(bench_cores),
        machine,
        server_rss_connected_mib: rss_connected as f64 / 1024.0,
        server_peak_rss_mib: peak_rss as f64 / 1024.0,
        ..Outcome::default()
    };
    let ok: Vec<bool> = sent.iter().map(|b| b.ok).collect();
    let mut latencies: Vec<u32> = Vec::with_capacity(published * settings.clients);
    for handle in clients {
        match handle.await? {
            Ok(log) => {
                out.connected += 1;
                for (k, &us) in log.latency_us.iter().enumerate() {
                    if us != u32::MAX {
                        latencies.push(us);
                    } else if ok.get(k).copied().unwrap_or(false) {
                        out.missing += 1;
                    }
                }
                out.duplicates += log.duplicates;
                out.seq_gaps += log.seq_gaps;
                out.skips += log.skips;
                out.closed += u64::from(log.closed);
                out.snapshot_bytes = out.snapshot_bytes.max(log.snapshot_bytes);
                out.delta_bytes = out.delta_bytes.max(log.delta_bytes);
            }
            Err(e) => {
                out.connect_failures += 1;
                out.first_connect_error.get_or_insert(e);
            }
        }
    }
    latencies.sort_unstable();
    let ms = |v: &[u32], q| quantile(v, q).map_or(f64::NAN, |us| f64::from(us) / 1000.0);
    out.samples = latencies.len();
    out.p50_ms = ms(&latencies, 0.5);
    out.p99_ms = ms(&latencies, 0.99);
    out.p999_ms = ms(&latencies, 0.999);
    out.max_ms = ms(&latencies, 1.0);
    let mut lags: Vec<u32> = sent.iter().map(|b| b.send_lag_us).collect();
    lags.sort_unstable();
    out.send_lag_p99_ms = ms(&lags, 0.99);
    let mut acks: Vec<u32> = sent.iter().filter(|b| b.ok).map(|b| b.ack_us).collect();
    acks.sort_unstable();
    out.ack_p50_ms = ms(&acks, 0.5);
    out.ack_p99_ms = ms(&acks, 0.99);
    Ok(out)
}

async fn client(
    shared: Arc<Shared>,
    base: String,
    cookie: String,
    gate: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Result<Log, String> {
    let opened: Result<Client> = async {
        let _permit = gate.acquire().await?;
        Client::connect(&base, &cookie).await
    }
    .await;
    let mut ws = match opened {
        Ok(ws) => ws,
        Err(e) => {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            shared.settled.fetch_add(1, Ordering::Relaxed);
            return Err(format!("{e:#}"));
        }
    };
    let mut log = Log {
        latency_us: vec![u32::MAX; shared.batches],
        last_seq: None,
        duplicates: 0,
        seq_gaps: 0,
        skips: 0,
        closed: false,
        snapshot_bytes: 0,
        delta_bytes: 0,
    };
    let mut found = Vec::new();
    loop {
        let msg = tokio::select! {
            biased;
            _ = stop.changed() => break,
            msg = ws.next() => msg,
        };
        let bytes = match msg {
            Ok(Some(bytes)) => bytes,
            // Closed, or a protocol error.
            Ok(None) | Err(_) => {
                if log.last_seq.is_none() {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    shared.settled.fetch_add(1, Ordering::Relaxed);
                    return Err("closed before its snapshot".into());
                }
                log.closed = true;
                break;
            }
        };
        match kind(bytes) {
            Kind::Snapshot => {
                if log.last_seq.is_some() {
                    // Fell behind and was skipped forward: the deltas in between are lost
                    // to this client (they show as missing batches).
                    log.skips += 1;
                } else {
                    log.snapshot_bytes = bytes.len();
                    shared.settled.fetch_add(1, Ordering::Relaxed);
                }
                log.last_seq = seq(bytes);
            }
            Kind::Delta => {
                let now = Instant::now();
                if let (Some(s), Some(last)) = (seq(bytes), log.last_seq) {
                    if s <= last {
                        log.duplicates += 1;
                        continue;
                    }
                    log.seq_gaps += s - last - 1;
                    log.last_seq = Some(s);
                }
                shared.ids.scan(bytes, &mut found);
                let Some(start) = shared.start.get() else {
                    continue;
                };
                if !found.is_empty() {
                    log.delta_bytes = bytes.len();
                }
                for &k in &found {
                    let Some(slot) = log.latency_us.get_mut(k as usize) else {
                        continue;
                    };
                    if *slot != u32::MAX {
                        log.duplicates += 1;
                        continue;
                    }
                    let due = *start + shared.period * k;
                    *slot = now
                        .saturating_duration_since(due)
                        .as_micros()
                        .min(u128::from(u32::MAX - 1)) as u32;
                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            Kind::Heartbeat | Kind::Other => {}
        }
    }
    Ok(log)
}

/// One scheduled batch as the producer saw it.
struct Sent {
    ok: bool,
    error: Option<String>,
    /// How late the send started against the schedule.
    send_lag_us: u32,
    /// From the send to the acknowledgement.
    ack_us: u32,
}

/// Sends batch k at `start + k × period` whatever happened to the ones before (open
/// loop: a slow answer does not delay the next send).
fn produce(
    base: String,
    bodies: Vec<String>,
    start: Instant,
    period: Duration,
) -> Result<Vec<Sent>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/feeds/beds");
        let mut tasks = Vec::with_capacity(bodies.len());
        for (k, body) in bodies.into_iter().enumerate() {
            let due = start + period * k as u32;
            tokio::time::sleep_until(due.into()).await;
            let (http, url) = (http.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let answer = http
                    .post(url)
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let error = match answer {
                    Ok(res) if res.status().as_u16() == 200 => None,
                    Ok(res) => Some(format!(
                        "{}: {}",
                        res.status(),
                        res.text().await.unwrap_or_default()
                    )),
                    Err(e) => Some(e.to_string()),
                };
                Sent {
                    ok: error.is_none(),
                    error,
                    send_lag_us: (sent - due).as_micros().min(u128::from(u32::MAX)) as u32,
                    ack_us: sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32,
                }
            }));
        }
        let mut sent = Vec::with_capacity(tasks.len());
        for task in tasks {
            sent.push(task.await?);
        }
        Ok(sent)
    })
}

//! Sustained durable ingest: producers post beds batches back to back (each waits for its
//! acknowledgement, which the server gives only after the commit), for a fixed time per
//! batch size, each size on a fresh server and database.

use crate::server::{beds_record, cpu_seconds, pairs, record_time, Levels, MachineCpu};
use crate::stats::quantile;
use anyhow::Result;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Settings {
    pub sizes: Vec<usize>,
    pub producers: usize,
    /// Measured time per size, after `warmup`.
    pub duration: Duration,
    pub warmup: Duration,
}

pub struct Row {
    pub batch: usize,
    pub records_per_s: f64,
    pub batches_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Batches refused or unanswered (should be none).
    pub failures: u64,
    pub first_failure: Option<String>,
    /// Server CPU over the measured time, in cores.
    pub server_cores: f64,
    /// The producers' CPU (this process), in cores.
    pub bench_cores: f64,
    /// Every process's CPU over the measured time.
    pub machine: String,
}

pub async fn run(levels: &Levels, settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &size in &settings.sizes {
        let row = one_size(levels, settings, size).await?;
        eprintln!(
            "  ingest batch {size}: {:.0} records/s, p50 {:.1} ms, p99 {:.1} ms",
            row.records_per_s, row.p50_ms, row.p99_ms
        );
        rows.push(row);
    }
    Ok(rows)
}

/// What one producer saw: acknowledgement latencies (µs) of batches answered inside the
/// measured window, and failures.
#[derive(Default)]
struct Seen {
    latencies_us: Vec<u64>,
    failures: u64,
    first_failure: Option<String>,
}

async fn one_size(levels: &Levels, settings: &Settings, size: usize) -> Result<Row> {
    let server = Arc::new(levels.start(&[]).await?);
    let pairs = Arc::new(pairs(&levels.root)?);
    let at = Arc::new(record_time());
    let start = Instant::now();
    let measured_from = start + settings.warmup;
    let end = measured_from + settings.duration;
    let mut tasks = Vec::new();
    for producer in 0..settings.producers {
        let (server, pairs, at) = (server.clone(), pairs.clone(), at.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut n = 0usize;
            while Instant::now() < end {
                // Records spread over every site and pool, ids never used before.
                let records: Vec<String> = (0..size)
                    .map(|r| {
                        let i = n * size + r;
                        let (site, pool) = &pairs[(i + producer * 37) % pairs.len()];
                        let id = format!("ing-{producer}-{n}-{r}");
                        beds_record(&id, site, pool, &at, (i % 500) as u32)
                    })
                    .collect();
                let body = format!("[{}]", records.join(","));
                n += 1;
                let sent = Instant::now();
                let answer = server.post_beds(body).await;
                let done = Instant::now();
                let ok = matches!(answer, Ok((200, _)));
                if !ok {
                    seen.failures += 1;
                    if seen.first_failure.is_none() {
                        seen.first_failure = Some(match answer {
                            Ok((status, text)) => format!("{status}: {text}"),
                            Err(e) => format!("{e:#}"),
                        });
                    }
                } else if done >= measured_from && done <= end {
                    // Throughput by completion time: what was acknowledged inside the window.
                    seen.latencies_us.push((done - sent).as_micros() as u64);
                }
            }
            seen
        }));
    }
    tokio::time::sleep_until(measured_from.into()).await;
    let cpu_before = server.cpu_seconds()?;
    let bench_before = cpu_seconds("/proc/self/stat")?;
    let machine_before = MachineCpu::now()?;
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = server.cpu_seconds()?;
    let bench_cores =
        (cpu_seconds("/proc/self/stat")? - bench_before) / settings.duration.as_secs_f64();
    let machine = MachineCpu::now()?.since(&machine_before);
    let mut latencies = Vec::new();
    let (mut failures, mut first_failure) = (0, None);
    for task in tasks {
        let seen = task.await?;
        latencies.extend(seen.latencies_us);
        failures += seen.failures;
        first_failure = first_failure.or(seen.first_failure);
    }
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
    latencies.sort_unstable();
    let secs = settings.duration.as_secs_f64();
    let batches = latencies.len() as f64;
    let ms = |q| quantile(&latencies, q).map_or(f64::NAN, |us| us as f64 / 1000.0);
    Ok(Row {
        batch: size,
        records_per_s: batches * size as f64 / secs,
        batches_per_s: batches / secs,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        failures,
        first_failure,
        server_cores: (cpu_after - cpu_before) / secs,
        bench_cores,
        machine,
    })
}

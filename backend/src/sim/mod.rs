//! The Somerset simulator (DESIGN §10): plays the feed producers for every site and team,
//! posting all five feeds through the same HTTP ingest path and contract as a real
//! producer.
//!
//! Bed occupancy follows a daily rhythm that runs `speed` times faster than real time, so a
//! day can be watched in minutes. Handovers, delay lists, caseloads and ED snapshots run in
//! real time, because their records carry real timestamps and the measures read durations
//! from them (a 45-minute handover must take 45 minutes). Those streams are planned from the
//! seed and the clock alone, so a restarted simulator re-sends the same records, which
//! ingest counts as duplicates, instead of inventing a second set of patients.
//! All figures are illustrative; `docs/simulator.md` lists the assumptions.

pub mod backfill;
pub mod beds;
pub mod delays;
pub mod handovers;
pub mod random;
pub mod scenario;
pub mod snapshots;

use crate::config::SimulatorConfig;
use crate::state::calendar;
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Timelike, Utc};
use levels_shared::reference::ReferenceData;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

/// The producer name the simulator posts as: no producer token may take it.
pub const PRODUCER: &str = crate::accounts::producers::SIMULATOR;

/// Posts simulated feeds to `base_url` until `closed` turns true.
pub async fn run(
    cfg: SimulatorConfig,
    reference: Arc<ReferenceData>,
    base_url: String,
    token: String,
    mut closed: watch::Receiver<bool>,
) {
    let poster = Poster {
        client: reqwest::Client::new(),
        base_url,
        token,
    };
    let mut beds = beds::BedModel::new(&reference, cfg.seed);
    let mut sent = Sent::default();
    let mut plans: HashMap<(String, i64), Vec<handovers::Conveyance>> = HashMap::new();
    let start = Utc::now();
    let interval = std::time::Duration::from_secs_f64(cfg.interval_seconds.max(0.05));
    let dt_hours = interval.as_secs_f64() * cfg.speed / 3600.0;
    let mut ticker = tokio::time::interval(interval);
    tracing::info!(seed = cfg.seed, speed = cfg.speed, "simulator started");
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = closed.wait_for(|c| *c) => break,
        }
        let now = Utc::now().trunc_subsecs(3);

        // Beds: the sped-up daily rhythm.
        let elapsed = (now - start).num_milliseconds() as f64 / 1000.0;
        let sim_time = start + Duration::milliseconds((elapsed * cfg.speed * 1000.0) as i64);
        beds.step(hour_of(sim_time), dt_hours);
        poster.post("beds", &beds.records(now.fixed_offset())).await;

        // Handovers: every stage of every conveyance of yesterday and today that has happened.
        let today = calendar::day_start(now);
        let days = [calendar::day_start(today - Duration::hours(1)), today];
        plans.retain(|(_, day), _| *day >= days[0].timestamp());
        let mut batch = Vec::new();
        for site in reference
            .sites
            .iter()
            .filter(|s| handovers::daily_arrivals(&s.code) > 0.0)
        {
            for day in days {
                let plan = plans
                    .entry((site.code.clone(), day.timestamp()))
                    .or_insert_with(|| handovers::day_plan(cfg.seed, &site.code, day));
                batch.extend(
                    plan.iter()
                        .filter_map(|c| c.stage(now).map(|stage| c.record(stage)))
                        .filter(|r| sent.is_new(&r.id)),
                );
            }
        }
        sent.post(&poster, "handovers", batch, |r| r.id.clone())
            .await;

        // Discharge delays: every site's list as it stands.
        let batch: Vec<_> = reference
            .sites
            .iter()
            .flat_map(|site| delays::patients(cfg.seed, site, now))
            .flat_map(|p| p.records(now))
            .filter(|r| sent.is_new(&r.id))
            .collect();
        sent.post(&poster, "discharge-delays", batch, |r| r.id.clone())
            .await;

        // Community caseloads every 15 minutes; ED snapshots every minute, so the ED keeps
        // pace with the sped-up day's escalation scenario.
        let quarter = boundary(now, 900);
        let batch: Vec<_> = reference
            .teams
            .iter()
            .map(|team| snapshots::community(cfg.seed, team, quarter))
            .filter(|r| sent.is_new(&r.id))
            .collect();
        sent.post(&poster, "community", batch, |r| r.id.clone())
            .await;
        let minute = boundary(now, 60);
        let sim_hour = hour_of(sim_time);
        let batch: Vec<_> = reference
            .sites
            .iter()
            .filter_map(|s| {
                let pressure = scenario::pressure(&s.code, sim_hour);
                snapshots::ed(
                    cfg.seed,
                    &s.code,
                    minute,
                    beds.ga_occupancy(&s.code),
                    pressure,
                )
            })
            // A snapshot depends on this run's bed model, so a restart within the minute
            // sends a different one: it gets its own id rather than conflicting.
            .map(|mut r| {
                r.id = format!("{}-run{}", r.id, start.timestamp());
                r
            })
            .filter(|r| sent.is_new(&r.id))
            .collect();
        sent.post(&poster, "ed", batch, |r| r.id.clone()).await;

        sent.forget_before(now - Duration::days(9));
    }
}

/// The hour of the simulated day, 0–24.
fn hour_of(t: DateTime<Utc>) -> f64 {
    f64::from(t.hour()) + f64::from(t.minute()) / 60.0
}

/// The latest multiple of `seconds` since the epoch at or before `now`.
fn boundary(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    let t = now.timestamp();
    Utc.timestamp_opt(t - t.rem_euclid(seconds), 0)
        .single()
        .unwrap_or(now)
}

struct Poster {
    client: reqwest::Client,
    base_url: String,
    token: String,
}

impl Poster {
    /// Posts one batch; `true` when it was accepted.
    async fn post(&self, feed: &str, records: &impl Serialize) -> bool {
        let result = self
            .client
            .post(format!("{}/api/v1/feeds/{feed}", self.base_url))
            .bearer_auth(&self.token)
            .json(records)
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                tracing::warn!(feed, %status, %body, "simulated batch refused");
                false
            }
            Err(e) => {
                tracing::warn!(feed, error = %e, "simulator could not reach the server");
                false
            }
        }
    }
}

/// Record ids this simulator has had accepted, so each is sent once per run.
#[derive(Default)]
struct Sent(HashMap<String, DateTime<Utc>>);

impl Sent {
    fn is_new(&self, id: &str) -> bool {
        !self.0.contains_key(id)
    }

    /// Posts `batch` (if any) and remembers its ids once accepted; a refused or failed
    /// batch is tried again on the next tick.
    async fn post<T: Serialize>(
        &mut self,
        poster: &Poster,
        feed: &str,
        batch: Vec<T>,
        id: impl Fn(&T) -> String,
    ) {
        if batch.is_empty() {
            return;
        }
        if poster.post(feed, &batch).await {
            // Remembered from when it was sent, not when it was observed: a patient on the
            // list for weeks keeps the record that put them there.
            let now = Utc::now();
            self.0.extend(batch.iter().map(|r| (id(r), now)));
        }
    }

    fn forget_before(&mut self, cutoff: DateTime<Utc>) {
        self.0.retain(|_, at| *at >= cutoff);
    }
}

//! The Somerset simulator (DESIGN §10): plays the feed producers for every site, posting
//! through the same HTTP ingest path and contract as a real producer.
//!
//! Simulated time runs `speed` times faster than real time so a day's rhythm can be seen
//! in minutes; the records themselves carry the real time of posting, because the contract
//! refuses observations from the future. Seeded, so a run can be reproduced.

pub mod beds;

use crate::config::SimulatorConfig;
use chrono::{SubsecRound, Timelike, Utc};
use levels_shared::reference::ReferenceData;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Posts simulated feeds to `base_url` until `closed` turns true.
pub async fn run(
    cfg: SimulatorConfig,
    reference: Arc<ReferenceData>,
    base_url: String,
    token: String,
    mut closed: watch::Receiver<bool>,
) {
    let client = reqwest::Client::new();
    let mut model = beds::BedModel::new(&reference, cfg.seed);
    let start = Utc::now();
    let interval = Duration::from_secs_f64(cfg.interval_seconds.max(0.05));
    let dt_hours = interval.as_secs_f64() * cfg.speed / 3600.0;
    let mut ticker = tokio::time::interval(interval);
    tracing::info!(seed = cfg.seed, speed = cfg.speed, "simulator started");
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = closed.changed() => break,
        }
        let now = Utc::now().trunc_subsecs(3);
        let elapsed = (now - start).num_milliseconds() as f64 / 1000.0;
        let sim_time =
            start + chrono::Duration::milliseconds((elapsed * cfg.speed * 1000.0) as i64);
        let hour = f64::from(sim_time.hour()) + f64::from(sim_time.minute()) / 60.0;
        model.step(hour, dt_hours);
        let records = model.records(now.fixed_offset());
        let result = client
            .post(format!("{base_url}/api/v1/feeds/beds"))
            .bearer_auth(&token)
            .json(&records)
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                tracing::warn!(%status, %body, "simulated batch refused");
            }
            Err(e) => tracing::warn!(error = %e, "simulator could not reach the server"),
        }
    }
}

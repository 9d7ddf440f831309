//! The last week, simulated at once: when a demo starts on an empty database, the simulator
//! plays the past 7 days through its own models, the real projection (measures and the
//! escalation engine) and the real history sampler, and stores the samples and the
//! calculated level changes they give, so every trend chart and the 7-day pattern are
//! filled from the first minute (`docs/simulator.md`).
//!
//! What it stores is marked as simulated: every backfilled history bucket also holds the
//! series `entity=simulator`, `measure=backfilled` (value 1), readable through the history
//! API like any other; every backfilled level change has the actor [`PRODUCER`] and the
//! reason [`REASON`]. No record is stored (the current state stays empty until the live
//! simulator posts), and no alert is raised for a simulated change.
//!
//! Only with the simulator on, and only on a fresh database: no ingested record, no known
//! level of the system and no backfill marker. A restart finds them and does nothing.

use super::{beds, delays, handovers, hour_of, scenario, snapshots, PRODUCER};
use crate::config::Config;
use crate::escalation::policy::{Policy, PolicyError};
use crate::escalation::Escalator;
use crate::feeds::Record;
use crate::history;
use crate::state::{calendar, Escalation, Projection};
use crate::store::{Sample, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use levels_shared::escalation::{Entity, LevelChange, LevelKind};
use levels_shared::reference::ReferenceData;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// The history entity and measure marking a backfilled bucket.
pub const MARKER_ENTITY: &str = "simulator";
pub const MARKER_MEASURE: &str = "backfilled";
/// The reason every backfilled level change carries.
pub const REASON: &str = "simulated history, backfilled by the demo simulator at start";
/// How far back the backfill goes.
pub const DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("loading the escalation policy: {0}")]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The simulated past: samples per history bucket (oldest first, each with the marker) and
/// the calculated level changes, oldest first.
#[derive(Debug, Default)]
pub struct History {
    pub buckets: Vec<(DateTime<Utc>, Vec<Sample>)>,
    pub levels: Vec<LevelChange>,
}

/// What a backfill wrote, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub buckets: usize,
    pub samples: usize,
    pub level_changes: usize,
}

/// Plays the simulator from `from` to `to` (exclusive) one history bucket of `resolution`
/// seconds at a time, through the projection and the escalation engine.
pub fn generate(
    seed: u64,
    reference: Arc<ReferenceData>,
    policy: Arc<Policy>,
    settle_minutes: Option<u32>,
    resolution: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> History {
    let resolution = resolution.max(60);
    let step = Duration::seconds(resolution);
    let mut projection = Projection::new(Some(Escalation {
        assessor: Box::new(Escalator::new(policy, reference.clone(), settle_minutes)),
        reference: reference.clone(),
    }));
    let mut beds = beds::BedModel::new(&reference, seed);
    let mut plans: HashMap<(String, i64), Vec<handovers::Conveyance>> = HashMap::new();
    let mut sent: HashSet<String> = HashSet::new();
    let ed_sites: Vec<&str> = reference
        .sites
        .iter()
        .filter(|s| handovers::daily_arrivals(&s.code) > 0.0)
        .map(|s| s.code.as_str())
        .collect();
    // Everyone on a list at any time from `from` to `to`, planned once (each is planned
    // from the seed alone): those on it at either end or who left it in the 8 days before.
    let mut listed: Vec<Vec<delays::Patient>> = reference
        .sites
        .iter()
        .map(|site| {
            let mut patients = delays::patients(seed, site, from);
            let known: HashSet<String> = patients.iter().map(|p| p.record.id.clone()).collect();
            patients.extend(
                delays::patients(seed, site, to)
                    .into_iter()
                    .filter(|p| !known.contains(&p.record.id)),
            );
            patients
        })
        .collect();
    let mut out = History::default();
    let mut t = history::bucket(from, resolution);
    let mut quarter = None;
    while t < to {
        let mut records = Vec::new();
        // Beds: the daily rhythm in real time (a backfilled day lasts a day).
        beds.step(hour_of(t), resolution as f64 / 3600.0);
        records.extend(beds.records(t.fixed_offset()).into_iter().map(Record::Beds));

        // Handovers: each stage of yesterday's and today's conveyances reached by now.
        let today = calendar::day_start(t);
        let days = [calendar::day_start(today - Duration::hours(1)), today];
        plans.retain(|(_, day), _| *day >= days[0].timestamp());
        for site in &ed_sites {
            for day in days {
                let plan = plans
                    .entry(((*site).to_owned(), day.timestamp()))
                    .or_insert_with(|| handovers::day_plan(seed, site, day));
                for c in plan.iter() {
                    if let Some(stage) = c.stage(t) {
                        let r = c.record(stage);
                        if sent.insert(r.id.clone()) {
                            records.push(Record::Handover(r));
                        }
                    }
                }
            }
        }

        // Delay lists and community caseloads change on the quarter hour (the list is
        // re-sent every half hour); computing them every step would only repeat them.
        let q = super::boundary(t, 900);
        if quarter != Some(q) {
            quarter = Some(q);
            for patients in &mut listed {
                for r in patients
                    .iter()
                    .filter(|p| p.record.ready_at <= t)
                    .flat_map(|p| p.records(t))
                {
                    if sent.insert(r.id.clone()) {
                        records.push(Record::Delay(r));
                    }
                }
                // Once off the list and said so, a patient sends nothing more.
                patients.retain(|p| p.left > t);
            }
            records.extend(
                reference
                    .teams
                    .iter()
                    .map(|team| Record::Community(snapshots::community(seed, team, q))),
            );
        }

        // ED snapshots with the scenario's pressure at this hour of the day.
        for site in &reference.sites {
            let pressure = scenario::pressure(&site.code, hour_of(t));
            if let Some(r) =
                snapshots::ed(seed, &site.code, t, beds.ga_occupancy(&site.code), pressure)
            {
                records.push(Record::Ed(r));
            }
        }

        projection.apply(records, t);
        // As the server does every minute: yesterday's handovers drop out, stale inputs
        // lose their level.
        projection.refresh(t);

        let mut samples = history::sample(projection.live(), &reference, t);
        samples.push(Sample {
            entity: MARKER_ENTITY.into(),
            measure: MARKER_MEASURE.into(),
            value: 1.0,
        });
        out.buckets.push((t, samples));
        out.levels
            .extend(projection.take_level_changes().into_iter().map(|mut c| {
                c.actor = Some(PRODUCER.into());
                c.reason = Some(REASON.into());
                c
            }));
        // Ids are only compared within two days of being sent.
        if t.timestamp() % 86_400 == 0 {
            let horizon = t - Duration::days(2);
            sent.retain(|id| !is_older(id, horizon));
        }
        t += step;
    }
    out
}

/// Whether a simulated record id ends in a timestamp before `horizon` (half-hourly delay
/// re-sends: the only ids that pile up).
fn is_older(id: &str, horizon: DateTime<Utc>) -> bool {
    id.rsplit_once("-seen-")
        .and_then(|(_, ts)| ts.parse::<i64>().ok())
        .is_some_and(|ts| ts < horizon.timestamp())
}

/// Whether the database has nothing a backfill could be confused with: no backfill already,
/// no known level of the system and no ingested record (the cheapest question first).
async fn fresh(store: &dyn Store, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let marked = store
        .history(MARKER_ENTITY, MARKER_MEASURE, DateTime::UNIX_EPOCH, now)
        .await?;
    if !marked.is_empty() {
        return Ok(false);
    }
    let known = store
        .last_known_level(&Entity::System, LevelKind::Calculated)
        .await?;
    Ok(known.is_none() && store.current_state().await?.is_empty())
}

/// Stores a generated history: every sample in one transaction (with the markers), then
/// the level changes. Until the samples are in, the database is still fresh.
pub async fn write(store: &dyn Store, history: &History) -> Result<Written, StoreError> {
    let started = Instant::now();
    store.record_history_batch(&history.buckets).await?;
    let samples_ms = started.elapsed().as_millis();
    for change in &history.levels {
        store.record_level(change, None).await?;
    }
    tracing::debug!(
        samples_ms = samples_ms as u64,
        levels_ms = (started.elapsed().as_millis() - samples_ms) as u64,
        "simulated backfill written"
    );
    Ok(Written {
        buckets: history.buckets.len(),
        samples: history.buckets.iter().map(|(_, s)| s.len()).sum(),
        level_changes: history.levels.len(),
    })
}

/// Backfills the last [`DAYS`] days if the simulator is on and the database is fresh;
/// returns what was written, or `None` when there was nothing to do. Runs before the
/// server projects its state, so the levels it resumes from are the backfilled ones.
pub async fn run(
    store: &dyn Store,
    config: &Config,
    reference: &ReferenceData,
) -> Result<Option<Written>, BackfillError> {
    if !config.simulator.enabled {
        return Ok(None);
    }
    let resolution = i64::from(config.history.resolution_seconds.max(1));
    let now = Utc::now();
    // Up to the bucket the live sampler fills next: the backfill never overwrites it.
    let to = history::bucket(now, resolution);
    let from = to - Duration::days(DAYS);
    if !fresh(store, now).await? {
        tracing::info!("history present: no simulated backfill");
        return Ok(None);
    }
    let started = Instant::now();
    let policy = Arc::new(Policy::load(&config.escalation.policy)?);
    // The policy's own settling times: `escalation.settle_minutes` shortens them for the
    // live demo's sped-up day, but a backfilled day lasts a day.
    let (seed, settle) = (config.simulator.seed, None);
    let reference = Arc::new(reference.clone());
    let generated = tokio::task::spawn_blocking(move || {
        generate(seed, reference, policy, settle, resolution, from, to)
    })
    .await;
    let history = match generated {
        Ok(history) => history,
        Err(e) => {
            tracing::error!(error = %e, "the simulated backfill failed");
            return Ok(None);
        }
    };
    let generated_in = started.elapsed();
    let written = write(store, &history).await?;
    tracing::info!(
        days = DAYS,
        buckets = written.buckets,
        samples = written.samples,
        level_changes = written.level_changes,
        generate_ms = generated_in.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "simulated the last week's history (marked as simulated)"
    );
    Ok(Some(written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn policy() -> Arc<Policy> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Arc::new(Policy::load(&root.join("config/escalation/default.toml")).expect("policy"))
    }

    /// Two simulated days through the real projection, engine and sampler.
    #[test]
    fn two_simulated_days_fill_every_bucket_and_move_the_levels() {
        let reference = Arc::new(crate::reference::tests::somerset());
        let to: DateTime<Utc> = "2026-11-25T00:00:00Z".parse().expect("a time");
        let from = to - Duration::days(2);
        let started = Instant::now();
        let history = generate(2026, reference.clone(), policy(), Some(1), 300, from, to);
        eprintln!("two days generated in {:?}", started.elapsed());
        assert_eq!(history.buckets.len(), 2 * 288, "one bucket every 5 minutes");
        assert_eq!(history.buckets[0].0, from);
        assert!(history
            .buckets
            .windows(2)
            .all(|w| w[1].0 - w[0].0 == Duration::minutes(5)));
        let has = |samples: &[Sample], entity: &str, measure: &str| {
            samples
                .iter()
                .any(|s| s.entity == entity && s.measure == measure)
        };
        for (bucket, samples) in &history.buckets {
            assert!(
                has(samples, MARKER_ENTITY, MARKER_MEASURE),
                "{bucket} is marked"
            );
        }
        // What the charts show, in nearly every bucket. As live, some gaps are right: the
        // ED's 4-hour performance has no value just after midnight (no attendance yet
        // today), and a quiet night's handover feed turns stale.
        for (entity, measure) in [
            ("site:MPH", "ga_occupancy"),
            ("site:YDH", "hours_lost_today"),
            ("site:MPH", "ed_four_hour_performance"),
            ("site:MPH", "delayed_patients"),
            ("locality:E07000187", "community_load"),
            ("locality:E07000187", "referrals_waiting"),
        ] {
            let n = history
                .buckets
                .iter()
                .filter(|(_, s)| has(s, entity, measure))
                .count();
            assert!(
                n * 100 >= history.buckets.len() * 85,
                "{entity} {measure} in {n} of {} buckets",
                history.buckets.len()
            );
        }
        // Occupancy follows the day: Musgrove is fuller at its afternoon peak than at night.
        let at = |hour: u32| {
            let t = from + Duration::days(1) + Duration::hours(i64::from(hour));
            history
                .buckets
                .iter()
                .find(|(b, _)| *b == t)
                .and_then(|(_, s)| {
                    s.iter()
                        .find(|s| s.entity == "site:MPH" && s.measure == "ga_occupancy")
                })
                .map(|s| s.value)
                .expect("a sample")
        };
        assert!(at(15) > at(3), "afternoon {} over night {}", at(15), at(3));

        let mph: Vec<&LevelChange> = history
            .levels
            .iter()
            .filter(|c| c.entity == Entity::Site("MPH".into()))
            .collect();
        let levels: HashSet<Option<u8>> = mph.iter().map(|c| c.level).collect();
        assert!(
            (1..=4).all(|l| levels.contains(&Some(l))),
            "Musgrove escalates through OPEL 1 to 4: {levels:?}"
        );
        assert!(history.levels.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(history
            .levels
            .iter()
            .all(|c| c.kind == LevelKind::Calculated
                && c.actor.as_deref() == Some(PRODUCER)
                && c.reason.as_deref() == Some(REASON)
                && c.explanation.as_ref().map(|e| e.level) == Some(c.level)));
        assert!(history.levels.iter().any(|c| c.entity == Entity::System));
    }

    #[test]
    fn only_half_hourly_resends_are_forgotten() {
        let horizon: DateTime<Utc> = "2026-11-25T00:00:00Z".parse().expect("a time");
        let before = horizon.timestamp() - 1800;
        assert!(is_older(&format!("sim-MPH-01-002-seen-{before}"), horizon));
        assert!(!is_older(
            &format!("sim-MPH-01-002-seen-{}", horizon.timestamp()),
            horizon
        ));
        assert!(!is_older("sim-MPH-01-002-ready", horizon));
    }
}

//! The simulated bed model: every site's pools drift around a daily rhythm.
//!
//! Illustrative, calibrated loosely against public figures (DESIGN §10): acute G&A beds run
//! near 93% (fuller in the morning, emptier after afternoon discharges), escalation beds
//! open above 97% of core beds and close again below 92%, community hospitals run near 90%,
//! and now and then a ward closes a few beds for infection control.

use super::random::normal;
use chrono::{DateTime, FixedOffset};
use levels_shared::beds::{BedPool, BedsRecord};
use levels_shared::reference::{ReferenceData, Site, SiteKind};
use std::f64::consts::TAU;

struct Pool {
    site: String,
    pool: BedPool,
    core: u32,
    escalation_max: u32,
    escalation_open: u32,
    occupied: f64,
    closed_ipc: u32,
    /// How much fuller than usual this pool runs; drifts slowly.
    pressure: f64,
    base: f64,
    /// Acute G&A pools follow the escalation scenario.
    acute: bool,
}

pub struct BedModel {
    pools: Vec<Pool>,
    rng: fastrand::Rng,
}

/// Bed pools per site: (pool, core beds, most escalation beds). Ballpark sizes: Musgrove
/// ~700 beds in all and Yeovil ~370 (DESIGN §10); the rest are illustrative.
fn pools_of(site: &Site) -> Vec<(BedPool, u32, u32)> {
    use BedPool::*;
    match (site.code.as_str(), site.kind) {
        ("MPH", _) => vec![
            (GeneralAcuteAdult, 560, 30),
            (GeneralAcutePaediatric, 24, 0),
            (AdultCriticalCare, 16, 4),
        ],
        ("YDH", _) => vec![
            (GeneralAcuteAdult, 300, 20),
            (GeneralAcutePaediatric, 16, 0),
            (AdultCriticalCare, 9, 2),
        ],
        ("RUH", _) => vec![
            (GeneralAcuteAdult, 560, 30),
            (GeneralAcutePaediatric, 30, 0),
            (AdultCriticalCare, 20, 4),
        ],
        ("WGH", _) => vec![(GeneralAcuteAdult, 230, 15), (AdultCriticalCare, 8, 2)],
        ("DCH", _) => vec![
            (GeneralAcuteAdult, 330, 20),
            (GeneralAcutePaediatric, 20, 0),
            (AdultCriticalCare, 12, 2),
        ],
        (_, SiteKind::Acute | SiteKind::OutOfCountyAcute) => vec![(GeneralAcuteAdult, 300, 20)],
        (code, SiteKind::CommunityHospital) => vec![(CommunityInpatient, 12 + spread(code, 18), 2)],
        (code, SiteKind::MentalHealth) => vec![(MentalHealth, 18 + spread(code, 10), 0)],
        (_, SiteKind::Hospice) => vec![(CommunityInpatient, 10, 0)],
    }
}

/// A stable per-site number in `0..n`, so sizes differ between sites but not between runs.
fn spread(code: &str, n: u32) -> u32 {
    code.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % n
}

fn base_occupancy(kind: SiteKind, pool: BedPool) -> f64 {
    match (kind, pool) {
        (_, BedPool::AdultCriticalCare) => 0.85,
        (_, BedPool::GeneralAcutePaediatric) => 0.75,
        (SiteKind::Acute | SiteKind::OutOfCountyAcute, _) => 0.935,
        (SiteKind::CommunityHospital, _) => 0.9,
        (SiteKind::MentalHealth, _) => 0.93,
        (SiteKind::Hospice, _) => 0.8,
    }
}

impl BedModel {
    pub fn new(reference: &ReferenceData, seed: u64) -> BedModel {
        let mut rng = fastrand::Rng::with_seed(seed);
        let pools = reference
            .sites
            .iter()
            .flat_map(|site| {
                pools_of(site)
                    .into_iter()
                    .map(move |(pool, core, esc)| (site, pool, core, esc))
            })
            .map(|(site, pool, core, escalation_max)| {
                let base = base_occupancy(site.kind, pool);
                let pressure = (rng.f64() - 0.5) * 0.06;
                Pool {
                    site: site.code.clone(),
                    pool,
                    core,
                    escalation_max,
                    escalation_open: 0,
                    occupied: (f64::from(core) * (base + pressure)).min(f64::from(core)),
                    closed_ipc: 0,
                    pressure,
                    base,
                    acute: site.kind.is_acute(),
                }
            })
            .collect();
        BedModel { pools, rng }
    }

    /// Advances the model by `dt_hours` of simulated time, ending at `hour` of the day.
    pub fn step(&mut self, hour: f64, dt_hours: f64) {
        // Fullest around 08:00 after overnight admissions, emptiest around 20:00.
        let daily = 0.025 * (TAU * (hour - 8.0) / 24.0).cos();
        let pull = 1.0 - (-dt_hours / 2.0).exp();
        for p in &mut self.pools {
            let rng = &mut self.rng;
            p.pressure = (p.pressure + normal(rng) * 0.01 * dt_hours.sqrt()).clamp(-0.06, 0.07);
            let open = f64::from(p.core + p.escalation_open);
            let scenario = if p.acute && p.pool.is_general_and_acute() {
                super::scenario::occupancy_offset(super::scenario::pressure(&p.site, hour))
            } else {
                0.0
            };
            let target = (p.base + daily + p.pressure + scenario) * open;
            let noise = normal(rng) * (open.sqrt() * 0.4) * dt_hours.sqrt().min(1.0);
            p.occupied = (p.occupied + pull * (target - p.occupied) + noise).clamp(0.0, open);

            let core_occupancy = p.occupied / f64::from(p.core.max(1));
            if core_occupancy > 0.97 && p.escalation_open < p.escalation_max {
                p.escalation_open = (p.escalation_open + 1 + rng.u32(0..3)).min(p.escalation_max);
            } else if core_occupancy < 0.92 && p.escalation_open > 0 {
                p.escalation_open -= 1;
            }
            let chance = dt_hours / 48.0;
            let empty = (f64::from(p.core + p.escalation_open) - p.occupied).max(0.0) as u32;
            if p.closed_ipc == 0
                && p.pool != BedPool::AdultCriticalCare
                && empty >= 2
                && rng.f64() < chance
            {
                // A bay closes: only beds that are empty can be closed.
                p.closed_ipc = (2 + rng.u32(0..5)).min(empty);
            } else if p.closed_ipc > 0 && rng.f64() < dt_hours / 12.0 {
                p.closed_ipc = 0;
            }
            // Closed beds stand empty, so they cap how many can be occupied.
            let usable = (p.core + p.escalation_open).saturating_sub(p.closed_ipc);
            p.occupied = p.occupied.min(f64::from(usable));
        }
    }

    /// A site's G&A occupancy (0–1), if it has G&A beds.
    pub fn ga_occupancy(&self, site: &str) -> Option<f64> {
        let (occupied, open) = self
            .pools
            .iter()
            .filter(|p| p.site == site && p.pool.is_general_and_acute())
            .fold((0.0, 0u32), |(o, n), p| {
                (o + p.occupied, n + p.core + p.escalation_open)
            });
        (open > 0).then(|| occupied / f64::from(open))
    }

    /// The current state of every pool, as records observed at `at`.
    pub fn records(&self, at: DateTime<FixedOffset>) -> Vec<BedsRecord> {
        self.pools
            .iter()
            .map(|p| {
                let occupied = p.occupied.round() as u32;
                let long_stay = p.pool.is_general_and_acute();
                let share = |s: f64| long_stay.then(|| (f64::from(occupied) * s).round() as u32);
                BedsRecord {
                    id: format!("sim-{}-{}-{}", p.site, p.pool.code(), at.timestamp_millis()),
                    site: p.site.clone(),
                    at,
                    pool: p.pool,
                    core_open: p.core,
                    escalation_open: p.escalation_open,
                    occupied,
                    closed_ipc: p.closed_ipc,
                    los_7_plus: share(0.36),
                    los_14_plus: share(0.21),
                    los_21_plus: share(0.12),
                    expected_discharges_today: share(0.13),
                }
            })
            .collect()
    }
}

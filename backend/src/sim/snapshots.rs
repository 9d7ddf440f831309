//! Simulated snapshot feeds: community team caseloads and emergency departments.
//! Illustrative: teams run near capacity with referrals queuing when over it; EDs fill as
//! the hospital's G&A beds fill, because admitted patients wait in the department.

use super::random::{normal, stream};
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Europe::London;
use levels_shared::community::{CommunityRecord, Service};
use levels_shared::ed::EdRecord;
use levels_shared::reference::Team;
use std::f64::consts::TAU;

/// Rough population of each Somerset locality, in thousands, to size teams.
fn population(locality: &str) -> f64 {
    match locality {
        "E07000187" => 115.0,
        "E07000188" => 125.0,
        "E07000189" => 170.0,
        "E07000190" => 117.0,
        "E07000191" => 35.0,
        _ => 100.0,
    }
}

/// A team's caseload at `at` (a reporting boundary), from the seed and the time alone.
pub fn community(seed: u64, team: &Team, at: DateTime<Utc>) -> CommunityRecord {
    let mut rng = stream(seed, ("community", team.code.as_str(), at.timestamp()));
    let per_thousand = match team.service {
        Service::CommunityNursing => 5.0,
        Service::RehabReablement => 0.7,
        Service::Pathway1Homecare => 1.3,
        Service::CommunityMentalHealth => 2.0,
    };
    let capacity = (population(&team.locality) * per_thousand).round().max(1.0) as u32;
    // Busiest mid-week; a slow drift per team; a little noise per report.
    let day = f64::from(at.with_timezone(&London).ordinal());
    let drift = (TAU * (day / 11.0 + f64::from(team.code.len() as u32) / 7.0)).sin() * 0.05;
    let load = (1.0 + drift + normal(&mut rng) * 0.01).max(0.7);
    let caseload = (f64::from(capacity) * load).round() as u32;
    let over = (load - 0.97).max(0.0);
    let referrals_waiting = (f64::from(capacity) * (0.02 + over * 0.6)).round() as u32;
    let visits_planned = (f64::from(caseload) * 0.6).round() as u32;
    let visits_deferred = (f64::from(visits_planned) * over * 1.5).round() as u32;
    let unmet_care_hours = (team.service == Service::Pathway1Homecare)
        .then(|| ((f64::from(capacity) * (0.1 + over * 3.0)) * 4.0).round() / 4.0);
    CommunityRecord {
        id: format!("sim-{}-{}", team.code, at.timestamp()),
        site: team.base_site.clone(),
        at: at.fixed_offset(),
        team: team.code.clone(),
        service: team.service,
        caseload,
        capacity,
        referrals_waiting,
        visits_planned: Some(visits_planned),
        visits_deferred: Some(visits_deferred),
        unmet_care_hours,
    }
}

/// Patients in the department on an ordinary day, majors and resus spaces, and daily
/// attendances, per site with an emergency department.
fn ed_size(site: &str) -> Option<(f64, u32, f64)> {
    match site {
        "MPH" => Some((55.0, 28, 190.0)),
        "YDH" => Some((40.0, 20, 140.0)),
        "RUH" => Some((65.0, 32, 230.0)),
        "WGH" => Some((28.0, 14, 110.0)),
        "DCH" => Some((35.0, 18, 130.0)),
        _ => None,
    }
}

/// The department at `at`, given the hospital's G&A occupancy (0–1) if known and the
/// scenario's pressure on it (0–1, see `scenario.rs`).
pub fn ed(
    seed: u64,
    site: &str,
    at: DateTime<Utc>,
    ga_occupancy: Option<f64>,
    pressure: f64,
) -> Option<EdRecord> {
    let (base, spaces, daily) = ed_size(site)?;
    let mut rng = stream(seed, ("ed", site, at.timestamp()));
    let local = at.with_timezone(&London);
    let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
    // Busiest in the afternoon and evening; exit block grows with bed occupancy.
    let rhythm = 1.0 + 0.35 * (TAU * (hour - 15.0) / 24.0).cos();
    let block = ((ga_occupancy.unwrap_or(0.92) - 0.88) * 8.0).clamp(0.0, 1.2) + pressure * 0.7;
    let in_department = (base * rhythm * (1.0 + block) + normal(&mut rng) * 3.0)
        .round()
        .max(2.0) as u32;
    let share_4h = (0.25 + block * 0.25).min(0.7);
    let over_4h = (f64::from(in_department) * share_4h).round() as u32;
    let over_12h = (f64::from(over_4h) * (0.05 + block * 0.3)).round() as u32;
    let awaiting_admission = (f64::from(in_department) * (0.12 + block * 0.2)).round() as u32;
    let attendances_today =
        (daily * (hour / 24.0) * (1.0 + 0.2 * (TAU * (hour - 12.0) / 24.0).sin()))
            .round()
            .max(0.0) as u32;
    let within_4h_today = (f64::from(attendances_today) * (0.82 - block * 0.2)).round() as u32;
    Some(EdRecord {
        id: format!("sim-ed-{site}-{}", at.timestamp()),
        site: site.to_owned(),
        at: at.fixed_offset(),
        in_department,
        over_4h,
        over_12h,
        awaiting_admission,
        attendances_today,
        within_4h_today,
        majors_resus_spaces: Some(spaces),
        majors_resus_occupied: Some((f64::from(in_department) * 0.4).round() as u32),
        median_minutes_to_treatment: Some(
            ((45.0 + block * 70.0 + normal(&mut rng) * 6.0).max(10.0) * 10.0).round() / 10.0,
        ),
        referred_to_service: Some((f64::from(in_department) * (0.06 + block * 0.15)).round() as u32),
    })
}

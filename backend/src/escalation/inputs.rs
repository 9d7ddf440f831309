//! Reads a parameter's input from the live state: the catalogue of measures a policy may
//! name for each pillar, each with the feed it comes from so stale data is never scored.

use super::engine::{Input, Reading};
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, BedPool, BedTotals};
use levels_shared::community::CommunityRecord;
use levels_shared::feed::Feed;
use levels_shared::live::{LiveState, SiteState};
use levels_shared::reference::{ReferenceData, Site, SiteKind};

fn judge(value: Option<f64>, stale: bool) -> Input {
    match (value, stale) {
        (None, _) => Input::Missing,
        (Some(v), true) => Input::Stale(v),
        (Some(v), false) => Input::Value(v),
    }
}

/// The site's G&A beds, summed over its pools.
fn general_and_acute(state: &SiteState) -> Option<BedTotals> {
    beds::sum_pools(&state.beds, BedPool::is_general_and_acute)
}

/// The input of acute `measure` at `site`, or `Missing` for a measure it does not know.
pub fn acute(measure: &str, site: &Site, state: &SiteState, now: DateTime<Utc>) -> Input {
    let ga = || general_and_acute(state);
    let ed = state.ed.as_ref();
    let (feed, value) = match measure {
        "handover_mean_minutes_today" => (
            Feed::Handovers,
            state.handovers.as_ref().and_then(|h| h.mean_minutes_today),
        ),
        "ed_four_hour_performance" => (Feed::Ed, ed.and_then(|e| e.four_hour_performance())),
        "ed_majors_resus_occupancy" => (Feed::Ed, ed.and_then(|e| e.majors_resus_occupancy())),
        "ed_median_minutes_to_treatment" => {
            (Feed::Ed, ed.and_then(|e| e.median_minutes_to_treatment))
        }
        "ed_share_over_12h" => (Feed::Ed, ed.and_then(|e| e.share_over_12h())),
        "ed_share_referred" => (Feed::Ed, ed.and_then(|e| e.share_referred())),
        "ga_occupancy" => (Feed::Beds, ga().and_then(|t| t.occupancy())),
        "ga_escalation_share" => (Feed::Beds, ga().and_then(|t| t.escalation_share())),
        "nctr_share_of_ga" => (
            Feed::DischargeDelays,
            state.delays.as_ref().and_then(|d| d.share_of_occupied_ga),
        ),
        _ => return Input::Missing,
    };
    let stale = state
        .feeds
        .get(&feed)
        .is_none_or(|at| site.is_stale(feed, *at, now));
    judge(value, stale)
}

/// An acute site's size for the system roll-up: its open G&A beds (stale or not: a size
/// only weighs the site's score, which is itself never computed from stale data).
pub fn acute_size(measure: &str, state: Option<&SiteState>) -> Option<f64> {
    match measure {
        "ga_beds_open" => state
            .and_then(general_and_acute)
            .map(|t| f64::from(t.open())),
        _ => None,
    }
}

/// What the community measures of one area (a locality, or all of them) are made of.
pub struct CommunityArea<'a> {
    /// The latest record of every team in the area that has reported, and whether it is stale.
    pub teams: Vec<(&'a CommunityRecord, bool)>,
    /// The community hospitals in the area that have reported beds, and whether stale.
    pub beds: Vec<(BedTotals, bool)>,
}

impl<'a> CommunityArea<'a> {
    /// The teams and community hospitals of `locality`, or of every locality when `None`.
    pub fn gather(
        reference: &ReferenceData,
        live: &'a LiveState,
        locality: Option<&str>,
        now: DateTime<Utc>,
    ) -> CommunityArea<'a> {
        let inside = |l: Option<&str>| locality.is_none() || l == locality;
        let teams = reference
            .teams
            .iter()
            .filter(|t| inside(Some(&t.locality)))
            .filter_map(|t| {
                let record = live.teams.get(&t.code)?;
                let stale = levels_shared::freshness::is_stale(record.at, t.interval_minutes, now);
                Some((record, stale))
            })
            .collect();
        let beds = reference
            .sites
            .iter()
            .filter(|s| s.kind == SiteKind::CommunityHospital && inside(s.locality.as_deref()))
            .filter_map(|s| {
                let state = live.sites.get(&s.code)?;
                let totals = beds::headline(&state.beds)?;
                let at = state.feeds.get(&Feed::Beds)?;
                Some((totals, s.is_stale(Feed::Beds, *at, now)))
            })
            .collect();
        CommunityArea { teams, beds }
    }

    /// Caseload places of the teams reporting: the community pillar's size.
    pub fn places(&self) -> f64 {
        self.teams.iter().map(|(r, _)| f64::from(r.capacity)).sum()
    }

    /// The input of community `measure` in this area, summed over the parts (teams or
    /// hospitals) whose data is fresh. One team falling silent should not switch off a
    /// county's level, nor be summed as if current: the value comes from the fresh parts,
    /// with a note saying how many, while they hold at least half of the area's size;
    /// below that the input is stale.
    pub fn input(&self, measure: &str) -> Reading {
        let teams = |value: fn(&[&CommunityRecord]) -> Option<f64>| {
            let records = |rs: &[&&CommunityRecord]| {
                let rs: Vec<&CommunityRecord> = rs.iter().map(|r| **r).collect();
                value(&rs)
            };
            from_fresh(&self.teams, |r| f64::from(r.capacity), records, "teams")
        };
        match measure {
            "community_caseload_load" => teams(|rs| {
                let places = sum(rs, |r| f64::from(r.capacity));
                (places > 0.0).then(|| sum(rs, |r| f64::from(r.caseload)) / places)
            }),
            "community_referrals_waiting_per_100_places" => {
                teams(|rs| per_100_places(rs, sum(rs, |r| f64::from(r.referrals_waiting))))
            }
            "community_deferred_visit_share" => teams(|rs| {
                let planned = sum(rs, |r| f64::from(r.visits_planned.unwrap_or(0)));
                (planned > 0.0)
                    .then(|| sum(rs, |r| f64::from(r.visits_deferred.unwrap_or(0))) / planned)
            }),
            "community_unmet_hours_per_100_places" => teams(|rs| {
                let reported = rs.iter().any(|r| r.unmet_care_hours.is_some());
                reported
                    .then(|| per_100_places(rs, sum(rs, |r| r.unmet_care_hours.unwrap_or(0.0))))
                    .flatten()
            }),
            "community_bed_occupancy" => from_fresh(
                &self.beds,
                |t| f64::from(t.open()),
                |ts| {
                    let (occupied, open) = ts
                        .iter()
                        .fold((0, 0), |(o, n), t| (o + t.occupied, n + t.open()));
                    (open > 0).then(|| f64::from(occupied) / f64::from(open))
                },
                "community hospitals",
            ),
            _ => Input::Missing.into(),
        }
    }
}

fn sum(records: &[&CommunityRecord], f: impl Fn(&CommunityRecord) -> f64) -> f64 {
    records.iter().map(|r| f(r)).sum()
}

fn per_100_places(records: &[&CommunityRecord], n: f64) -> Option<f64> {
    let places = sum(records, |r| f64::from(r.capacity));
    (places > 0.0).then(|| n / places * 100.0)
}

/// A measure over `parts` (each with whether it is stale): from the fresh ones while they
/// hold at least half of the total size, noting how many; else stale, from all of them.
fn from_fresh<T>(
    parts: &[(T, bool)],
    size: impl Fn(&T) -> f64,
    value: impl Fn(&[&T]) -> Option<f64>,
    noun: &str,
) -> Reading {
    let all: Vec<&T> = parts.iter().map(|(p, _)| p).collect();
    let fresh: Vec<&T> = parts.iter().filter(|(_, s)| !s).map(|(p, _)| p).collect();
    let total: f64 = all.iter().map(|p| size(p)).sum();
    let fresh_size: f64 = fresh.iter().map(|p| size(p)).sum();
    let stale = all.len() - fresh.len();
    if !fresh.is_empty() && fresh_size * 2.0 >= total {
        let Some(v) = value(&fresh) else {
            return Input::Missing.into();
        };
        let note = (stale > 0).then(|| {
            format!(
                "from {} of {} {noun}; {stale} stale",
                fresh.len(),
                all.len()
            )
        });
        return Reading {
            input: Input::Value(v),
            note,
        };
    }
    match value(&all) {
        None => Input::Missing.into(),
        Some(v) => Reading {
            input: Input::Stale(v),
            note: Some(format!("{stale} of {} {noun} stale", all.len())),
        },
    }
}

//! Reads a parameter's input from the live state: the catalogue of measures a policy may
//! name for each pillar, each with the feed it comes from so stale data is never scored.

use super::engine::Input;
use super::policy::PillarKind;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, BedPool, BedTotals};
use levels_shared::community::CommunityRecord;
use levels_shared::feed::Feed;
use levels_shared::live::{LiveState, SiteState};
use levels_shared::reference::{ReferenceData, Site, SiteKind};

/// The measures an acute pillar's parameters may read (DESIGN §6's nine acute parameters).
pub const ACUTE_MEASURES: [&str; 9] = [
    "handover_mean_minutes_today",
    "ed_four_hour_performance",
    "ed_majors_resus_occupancy",
    "ed_median_minutes_to_treatment",
    "ed_share_over_12h",
    "ed_share_referred",
    "ga_occupancy",
    "ga_escalation_share",
    "nctr_share_of_ga",
];

/// The measures a community pillar's parameters may read, for one locality or for all.
/// Counts are per 100 caseload places so one threshold fits a locality and the whole.
pub const COMMUNITY_MEASURES: [&str; 5] = [
    "community_caseload_load",
    "community_referrals_waiting_per_100_places",
    "community_deferred_visit_share",
    "community_unmet_hours_per_100_places",
    "community_bed_occupancy",
];

/// The measures a pillar's parameters may name.
pub fn measures(kind: PillarKind) -> &'static [&'static str] {
    match kind {
        PillarKind::Acute => &ACUTE_MEASURES,
        PillarKind::Community => &COMMUNITY_MEASURES,
        PillarKind::System => &[],
    }
}

/// The size measures a system member may be weighted by.
pub fn sizes(member: PillarKind) -> &'static [&'static str] {
    match member {
        PillarKind::Acute => &["ga_beds_open"],
        PillarKind::Community => &["community_places"],
        PillarKind::System => &[],
    }
}

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

    /// The input of community `measure` in this area; stale when any part of it is.
    pub fn input(&self, measure: &str) -> Input {
        let places = self.places();
        let per_100 = |n: f64| (places > 0.0).then(|| n / places * 100.0);
        let sum = |f: fn(&CommunityRecord) -> f64| self.teams.iter().map(|(r, _)| f(r)).sum();
        let teams_stale = self.teams.iter().any(|(_, stale)| *stale);
        let value = match measure {
            "community_caseload_load" => {
                (places > 0.0).then(|| sum(|r| f64::from(r.caseload)) / places)
            }
            "community_referrals_waiting_per_100_places" => {
                per_100(sum(|r| f64::from(r.referrals_waiting)))
            }
            "community_deferred_visit_share" => {
                let planned: f64 = sum(|r| f64::from(r.visits_planned.unwrap_or(0)));
                (planned > 0.0)
                    .then(|| sum(|r| f64::from(r.visits_deferred.unwrap_or(0))) / planned)
            }
            "community_unmet_hours_per_100_places" => {
                let reported = self.teams.iter().any(|(r, _)| r.unmet_care_hours.is_some());
                reported
                    .then(|| per_100(sum(|r| r.unmet_care_hours.unwrap_or(0.0))))
                    .flatten()
            }
            "community_bed_occupancy" => {
                let (occupied, open) = self
                    .beds
                    .iter()
                    .fold((0, 0), |(o, n), (t, _)| (o + t.occupied, n + t.open()));
                let value = (open > 0).then(|| f64::from(occupied) / f64::from(open));
                let stale = self.beds.iter().any(|(_, stale)| *stale);
                return judge(value, stale);
            }
            _ => return Input::Missing,
        };
        judge(value, teams_stale)
    }
}

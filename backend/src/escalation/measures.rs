//! The vocabulary a policy is written in: the pillars, the measures each pillar's
//! parameters may read, how each is written, and what a system member may be weighted by.
//! The policy checks its file against it; the inputs read these measures from the live
//! state (docs/escalation.md).

use levels_shared::escalation::Unit;
use serde::Deserialize;

/// Where a pillar's parameters read their inputs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PillarKind {
    Acute,
    Community,
    System,
}

impl PillarKind {
    pub fn code(self) -> &'static str {
        match self {
            PillarKind::Acute => "acute",
            PillarKind::Community => "community",
            PillarKind::System => "system",
        }
    }
}

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

/// How a measure's value is written.
pub fn unit(measure: &str) -> Unit {
    if measure.contains("minutes") {
        Unit::Minutes
    } else if measure.contains("per_100_places") {
        Unit::Per100Places
    } else {
        Unit::Share
    }
}

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

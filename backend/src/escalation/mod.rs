//! Escalation (DESIGN §6): OPEL levels computed from live measures by a policy that is
//! data, not code.
//!
//! - [`policy`]: the TOML policy file, its validation and banding rules.
//! - [`engine`]: a pillar's level and explanation from its inputs.
//! - [`inputs`]: the measures a policy may name, read from the live state.
//! - [`timeline`]: level changes kept as history, and `GET /api/v1/levels`.

pub mod engine;
pub mod inputs;
pub mod policy;
pub mod timeline;

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

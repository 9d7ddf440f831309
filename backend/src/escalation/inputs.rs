//! Reads a parameter's input from the live state: the catalogue of measures a policy may
//! name, each with the feed it comes from so stale data is never scored.

use super::engine::Input;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, BedPool};
use levels_shared::feed::Feed;
use levels_shared::live::SiteState;
use levels_shared::reference::Site;

/// The input of acute `measure` at `site`, or `Missing` for a measure it does not know.
pub fn acute(measure: &str, site: &Site, state: &SiteState, now: DateTime<Utc>) -> Input {
    let ga = || beds::sum_pools(&state.beds, BedPool::is_general_and_acute);
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
    match (value, stale) {
        (None, _) => Input::Missing,
        (Some(v), true) => Input::Stale(v),
        (Some(v), false) => Input::Value(v),
    }
}

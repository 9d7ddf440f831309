//! Measures derived from patient- and conveyance-level feeds (DESIGN §4.2, §4.3). The
//! server computes them (they depend on the clock and on "today" in Europe/London) and
//! streams them; the records themselves stay on the server.

use crate::disclosure::Breakdown;
use serde::{Deserialize, Serialize};

/// Ambulance handovers at one emergency department, now and since midnight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HandoverMeasures {
    /// Ambulances arrived and not yet handed over.
    pub queue_now: u32,
    /// The longest of those waits so far, in minutes.
    pub longest_wait_minutes: Option<f64>,
    /// Handovers completed today (by the time of handover).
    pub handed_over_today: u32,
    /// Of those, how many took more than 15, 30 and 60 minutes.
    pub over_15: u32,
    pub over_30: u32,
    pub over_60: u32,
    /// Mean handover time of today's completed handovers, in minutes.
    pub mean_minutes_today: Option<f64>,
    /// Σ max(0, handover time − 15 min) over today's handovers, plus the same for
    /// ambulances still waiting, counted to now; in hours.
    pub hours_lost_today: f64,
}

/// NHS England's discharge-ready-to-discharge delay bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DelayBand {
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "1")]
    One,
    #[serde(rename = "2-3")]
    TwoToThree,
    #[serde(rename = "4-6")]
    FourToSix,
    #[serde(rename = "7-13")]
    SevenToThirteen,
    #[serde(rename = "14-20")]
    FourteenToTwenty,
    #[serde(rename = "21+")]
    TwentyOnePlus,
}

impl DelayBand {
    pub const ALL: [DelayBand; 7] = [
        DelayBand::Zero,
        DelayBand::One,
        DelayBand::TwoToThree,
        DelayBand::FourToSix,
        DelayBand::SevenToThirteen,
        DelayBand::FourteenToTwenty,
        DelayBand::TwentyOnePlus,
    ];

    /// The band of a delay of `days` (whole days completed since discharge-ready).
    pub fn of(days: f64) -> DelayBand {
        match whole_days(days) {
            0 => DelayBand::Zero,
            1 => DelayBand::One,
            2..=3 => DelayBand::TwoToThree,
            4..=6 => DelayBand::FourToSix,
            7..=13 => DelayBand::SevenToThirteen,
            14..=20 => DelayBand::FourteenToTwenty,
            _ => DelayBand::TwentyOnePlus,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DelayBand::Zero => "0 days",
            DelayBand::One => "1 day",
            DelayBand::TwoToThree => "2–3 days",
            DelayBand::FourToSix => "4–6 days",
            DelayBand::SevenToThirteen => "7–13 days",
            DelayBand::FourteenToTwenty => "14–20 days",
            DelayBand::TwentyOnePlus => "21+ days",
        }
    }
}

/// The whole days completed in a delay of `days` (none when negative), as the delay
/// bands count them.
pub fn whole_days(days: f64) -> u32 {
    // A float-to-integer `as` saturates, so even an absurd delay stays in the top band.
    days.max(0.0).floor() as u32
}

/// Patients with no criteria to reside at one site: counts now, and bed days lost, as
/// everyone may see them: the breakdowns have passed disclosure control
/// ([`crate::disclosure`]), so a cell from 1 to 4, or one that would give such a cell
/// away, is `None`. Only the totals are exact. A coordinator's exact figures for their own
/// sites come from the patient list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DelayMeasures {
    /// Patients delayed now.
    pub delayed_now: u32,
    /// By pathway code (`P0`…`P3`).
    pub by_pathway: Breakdown,
    /// By reason group code (`hospital_process`…), and `not_stated`.
    pub by_reason_group: Breakdown,
    /// By responsible organisation code (`nhs`, `social_care`, `both`), and `not_stated`.
    pub by_responsible: Breakdown,
    /// By home locality code (the reference data's localities), and `not_stated`.
    pub by_locality: Breakdown,
    /// By delay band (`0`, `1`, `2-3`…`21+`).
    pub by_band: Breakdown,
    /// Mean days since discharge-ready of the patients delayed now; only when they are at
    /// least five ([`crate::disclosure::figure_of`]).
    pub mean_days_delayed: Option<f64>,
    /// Days spent in hospital after becoming discharge-ready, since midnight and since
    /// Monday midnight (Europe/London), by patients delayed now or who left the list since;
    /// only when at least five patients make them up ([`crate::disclosure::figure_of`]).
    pub bed_days_lost_today: Option<f64>,
    pub bed_days_lost_week: Option<f64>,
    /// Delayed patients as a share of the site's occupied G&A beds.
    pub share_of_occupied_ga: Option<f64>,
}

impl DelayMeasures {
    /// Every breakdown, by the name exports give it, in the order they list them.
    pub fn breakdowns(&self) -> [(&'static str, &Breakdown); 5] {
        [
            ("pathway", &self.by_pathway),
            ("reason_group", &self.by_reason_group),
            ("responsible", &self.by_responsible),
            ("home_locality", &self.by_locality),
            ("days_delayed", &self.by_band),
        ]
    }
}

impl DelayBand {
    /// The band's code, as breakdowns key it.
    pub fn code(self) -> &'static str {
        match self {
            DelayBand::Zero => "0",
            DelayBand::One => "1",
            DelayBand::TwoToThree => "2-3",
            DelayBand::FourToSix => "4-6",
            DelayBand::SevenToThirteen => "7-13",
            DelayBand::FourteenToTwenty => "14-20",
            DelayBand::TwentyOnePlus => "21+",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_bands_follow_whole_days() {
        let cases = [
            (0.0, "0"),
            (0.99, "0"),
            (1.0, "1"),
            (1.5, "1"),
            (2.0, "2-3"),
            (3.99, "2-3"),
            (4.0, "4-6"),
            (6.9, "4-6"),
            (7.0, "7-13"),
            (13.9, "7-13"),
            (14.0, "14-20"),
            (20.9, "14-20"),
            (21.0, "21+"),
            (400.0, "21+"),
        ];
        for (days, band) in cases {
            let json = serde_json::to_value(DelayBand::of(days)).expect("serialises");
            assert_eq!(json, band, "{days} days");
            assert_eq!(DelayBand::of(days).code(), band, "{days} days");
        }
        assert_eq!(
            whole_days(-0.5),
            0,
            "a ready time in the future is no delay"
        );
        assert_eq!(whole_days(13.99), 13);
        assert_eq!(whole_days(1e12), u32::MAX);
    }
}

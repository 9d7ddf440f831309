//! The `ed` feed: an emergency department snapshot (DESIGN §4.5).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// An accepted `ed` record: the department's state at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdRecord {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
    pub in_department: u32,
    pub over_4h: u32,
    pub over_12h: u32,
    pub awaiting_admission: u32,
    pub attendances_today: u32,
    pub within_4h_today: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majors_resus_spaces: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majors_resus_occupied: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_minutes_to_treatment: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to_service: Option<u32>,
}

impl EdRecord {
    /// Share of today's attendances seen within 4 hours.
    pub fn four_hour_performance(&self) -> Option<f64> {
        ratio(self.within_4h_today, self.attendances_today)
    }

    /// Share of patients in the department now who have been there over 12 hours.
    pub fn share_over_12h(&self) -> Option<f64> {
        ratio(self.over_12h, self.in_department)
    }

    /// Majors and resus spaces occupied, as a share of spaces (over 1 when over-full).
    pub fn majors_resus_occupancy(&self) -> Option<f64> {
        ratio(self.majors_resus_occupied?, self.majors_resus_spaces?)
    }

    /// Share of patients in the department referred to a specialty and waiting.
    pub fn share_referred(&self) -> Option<f64> {
        ratio(self.referred_to_service?, self.in_department)
    }
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed_measures_are_shares_and_none_when_there_is_no_denominator() {
        let r = EdRecord {
            id: "e".into(),
            site: "MPH".into(),
            at: DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").expect("timestamp"),
            in_department: 50,
            over_4h: 20,
            over_12h: 5,
            awaiting_admission: 8,
            attendances_today: 80,
            within_4h_today: 60,
            majors_resus_spaces: Some(20),
            majors_resus_occupied: Some(25),
            median_minutes_to_treatment: None,
            referred_to_service: None,
        };
        assert_eq!(r.four_hour_performance(), Some(0.75));
        assert_eq!(r.share_over_12h(), Some(0.1));
        assert_eq!(r.majors_resus_occupancy(), Some(1.25));
        assert_eq!(r.share_referred(), None);
        let empty = EdRecord {
            in_department: 0,
            over_4h: 0,
            over_12h: 0,
            awaiting_admission: 0,
            attendances_today: 0,
            within_4h_today: 0,
            ..r
        };
        assert_eq!(
            (empty.four_hour_performance(), empty.share_over_12h()),
            (None, None)
        );
    }
}

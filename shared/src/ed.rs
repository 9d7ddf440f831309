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

//! What an OPEL level was computed from (DESIGN §6): every parameter's value, band, weight
//! and contribution, and the policy that produced it.

use serde::{Deserialize, Serialize};

/// Whether a parameter's input could be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    Ok,
    /// No data has been received for it.
    Missing,
    /// Its data is older than twice the feed's expected interval.
    Stale,
}

/// One parameter of a level's explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterResult {
    pub key: String,
    pub label: String,
    /// The input's value, shown even when stale (greyed) but never used then.
    pub value: Option<f64>,
    pub status: InputStatus,
    /// 1–4, when the input was used.
    pub band: Option<u8>,
    pub weight: f64,
    /// This parameter's share of the score: weight × band ÷ the used weight.
    pub contribution: Option<f64>,
}

/// A computed level and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub policy: String,
    pub policy_version: String,
    /// OPEL 1–4, or `None` when too little of the input was usable to compute one.
    pub level: Option<u8>,
    /// The weighted mean band (1.0–4.0) of the usable parameters.
    pub score: Option<f64>,
    /// The share of the total weight whose input was usable.
    pub coverage: f64,
    pub parameters: Vec<ParameterResult>,
}

/// A change of level, as the timeline API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelChange {
    /// `site:CODE`.
    pub entity: String,
    /// `calculated` (declared levels will be recorded as `declared`).
    pub kind: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub level: Option<u8>,
    pub explanation: Explanation,
}

//! Time series of key measures, as `GET /api/v1/history` returns them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One sampled value: the start of its time bucket and the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub t: DateTime<Utc>,
    pub v: f64,
}

/// One measure of one entity over a time range. Buckets with no value (the input was
/// missing or stale) are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// `site:CODE`, `team:CODE` or `locality:CODE`.
    pub entity: String,
    pub measure: String,
    pub resolution_seconds: u32,
    pub points: Vec<Point>,
}

//! Time series of key measures, as `GET /api/v1/history` returns them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One sampled value: the start of its time bucket and the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub t: DateTime<Utc>,
    pub v: f64,
}

/// A series' points split into runs no further apart than `gap`, so a chart joins only
/// consecutive buckets and leaves a gap where data was missing or stale.
pub fn runs(
    points: &[(DateTime<Utc>, f64)],
    gap: chrono::Duration,
) -> Vec<&[(DateTime<Utc>, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > gap {
            if start < i {
                out.push(&points[start..i]);
            }
            start = i;
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_missing_bucket_splits_the_line() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")
            .expect("t")
            .to_utc();
        let at = |m: i64| (t0 + Duration::minutes(m), 1.0);
        let points = [at(0), at(5), at(10), at(25), at(30), at(50)];
        let lengths: Vec<usize> = runs(&points, Duration::minutes(5))
            .iter()
            .map(|r| r.len())
            .collect();
        assert_eq!(lengths, [3, 2, 1]);
        assert!(runs(&[], Duration::minutes(5)).is_empty());
    }
}

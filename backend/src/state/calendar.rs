//! "Today" and "this week" as a Somerset control room means them: calendar days in
//! Europe/London, whose midnight moves between 00:00 UTC (GMT) and 23:00 UTC (BST).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

/// The instant the London calendar day containing `now` began.
pub fn day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    midnight(now.with_timezone(&London).date_naive())
}

/// The instant the London week (from Monday) containing `now` began.
pub fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let date = now.with_timezone(&London).date_naive();
    midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    // UK clocks change at 01:00 and 02:00, never at midnight, so midnight always exists once.
    London
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_time(chrono::NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t)
            .expect("timestamp")
            .with_timezone(&Utc)
    }

    #[test]
    fn in_summer_the_day_starts_at_23_00_utc_the_evening_before() {
        assert_eq!(
            day_start(utc("2026-07-01T22:59:00Z")),
            utc("2026-06-30T23:00:00Z")
        );
        assert_eq!(
            day_start(utc("2026-07-01T23:00:00Z")),
            utc("2026-07-01T23:00:00Z")
        );
    }

    #[test]
    fn in_winter_the_day_starts_at_midnight_utc() {
        assert_eq!(
            day_start(utc("2026-11-25T09:00:00Z")),
            utc("2026-11-25T00:00:00Z")
        );
    }

    #[test]
    fn the_day_the_clocks_go_back_is_25_hours_long() {
        // 25 October 2026: BST ends at 02:00 BST (01:00 UTC).
        let start = day_start(utc("2026-10-25T12:00:00Z"));
        let next = day_start(utc("2026-10-26T12:00:00Z"));
        assert_eq!(start, utc("2026-10-24T23:00:00Z"));
        assert_eq!(next - start, Duration::hours(25));
    }

    #[test]
    fn the_week_starts_on_monday() {
        // Wednesday 25 November 2026 → Monday 23 November.
        assert_eq!(
            week_start(utc("2026-11-25T09:00:00Z")),
            utc("2026-11-23T00:00:00Z")
        );
        assert_eq!(
            week_start(utc("2026-11-23T00:00:00Z")),
            utc("2026-11-23T00:00:00Z")
        );
    }
}

//! Ambulance handover measures for one site (DESIGN §4.2).

use super::calendar;
use chrono::{DateTime, Utc};
use levels_shared::handovers::HandoverRecord;
use levels_shared::measures::HandoverMeasures;

/// The handover standard: time beyond it is "lost".
const STANDARD_MINUTES: f64 = 15.0;

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / 60_000.0).max(0.0)
}

/// Measures from the current record of every conveyance at a site, at `now`.
pub fn measure<'a>(
    records: impl IntoIterator<Item = &'a HandoverRecord>,
    now: DateTime<Utc>,
) -> HandoverMeasures {
    let today = calendar::day_start(now);
    let mut m = HandoverMeasures::default();
    let mut total_minutes = 0.0;
    let mut lost_minutes = 0.0;
    for r in records {
        let arrived = r.arrived_at.with_timezone(&Utc);
        match r.handed_over_at.map(|t| t.with_timezone(&Utc)) {
            None => {
                let wait = minutes(arrived, now);
                m.queue_now += 1;
                m.longest_wait_minutes =
                    Some(m.longest_wait_minutes.map_or(wait, |w: f64| w.max(wait)));
                lost_minutes += (wait - STANDARD_MINUTES).max(0.0);
            }
            // Counted on the day the handover happened, however long before it arrived.
            Some(handed) if handed >= today => {
                let took = minutes(arrived, handed);
                m.handed_over_today += 1;
                total_minutes += took;
                m.over_15 += u32::from(took > 15.0);
                m.over_30 += u32::from(took > 30.0);
                m.over_60 += u32::from(took > 60.0);
                lost_minutes += (took - STANDARD_MINUTES).max(0.0);
            }
            Some(_) => {}
        }
    }
    m.mean_minutes_today =
        (m.handed_over_today > 0).then(|| total_minutes / f64::from(m.handed_over_today));
    m.hours_lost_today = lost_minutes / 60.0;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(t).expect("timestamp")
    }

    fn conveyance(id: &str, arrived: &str, handed: Option<&str>) -> HandoverRecord {
        HandoverRecord {
            id: id.into(),
            site: "MPH".into(),
            at: at(handed.unwrap_or(arrived)),
            conveyance: id.into(),
            arrived_at: at(arrived),
            handed_over_at: handed.map(at),
            cleared_at: None,
            category: None,
        }
    }

    #[test]
    fn hours_lost_count_completed_handovers_by_their_day_and_waits_live() {
        let now = at("2026-11-25T10:00:00Z").with_timezone(&Utc);
        let records = [
            // 10 min: within the standard, loses nothing.
            conveyance("a", "2026-11-25T08:00:00Z", Some("2026-11-25T08:10:00Z")),
            // 45 min: 30 lost; over 15 and 30.
            conveyance("b", "2026-11-25T08:00:00Z", Some("2026-11-25T08:45:00Z")),
            // Spans midnight: 23:30 → 00:50 = 80 min, 65 lost, counted today (handed over today).
            conveyance("c", "2026-11-24T23:30:00Z", Some("2026-11-25T00:50:00Z")),
            // Handed over yesterday: not today's.
            conveyance("d", "2026-11-24T20:00:00Z", Some("2026-11-24T22:00:00Z")),
            // Still waiting 40 min at 10:00: 25 lost so far.
            conveyance("e", "2026-11-25T09:20:00Z", None),
            // Still waiting 5 min: nothing lost yet.
            conveyance("f", "2026-11-25T09:55:00Z", None),
        ];
        let m = measure(&records, now);
        assert_eq!((m.queue_now, m.handed_over_today), (2, 3));
        assert_eq!((m.over_15, m.over_30, m.over_60), (2, 2, 1));
        assert_eq!(m.longest_wait_minutes, Some(40.0));
        assert_eq!(m.mean_minutes_today, Some((10.0 + 45.0 + 80.0) / 3.0));
        assert!(
            (m.hours_lost_today - (30.0 + 65.0 + 25.0) / 60.0).abs() < 1e-9,
            "{}",
            m.hours_lost_today
        );
    }

    #[test]
    fn on_the_day_the_clocks_go_back_today_starts_at_23_00_utc_the_evening_before() {
        // 25 October 2026: London midnight was 2026-10-24T23:00Z (still BST then).
        let now = at("2026-10-25T12:00:00Z").with_timezone(&Utc);
        let records = [
            // Handed over 23:30 UTC on the 24th = 00:30 BST on the 25th: today's. 30 min, 15 lost.
            conveyance("late", "2026-10-24T23:00:00Z", Some("2026-10-24T23:30:00Z")),
            // Handed over 22:30 UTC on the 24th = 23:30 BST on the 24th: yesterday's.
            conveyance(
                "earlier",
                "2026-10-24T22:00:00Z",
                Some("2026-10-24T22:30:00Z"),
            ),
            // Across the change itself: 00:30 BST (23:30Z) to 01:30 GMT (01:30Z) is 2 h, not 1.
            conveyance(
                "across",
                "2026-10-24T23:30:00Z",
                Some("2026-10-25T01:30:00Z"),
            ),
        ];
        let m = measure(&records, now);
        assert_eq!(m.handed_over_today, 2);
        assert_eq!(m.over_60, 1);
        assert!(
            (m.hours_lost_today - (15.0 + 105.0) / 60.0).abs() < 1e-9,
            "{}",
            m.hours_lost_today
        );
    }

    /// NHS England's handover measures count handovers taking *over* 15, 30 and 60 minutes
    /// (docs/security.md names them "over 30 or 60 minutes"): a handover of exactly 15:00
    /// is within the standard and loses nothing; one a second longer is over it.
    #[test]
    fn a_handover_of_exactly_15_30_or_60_minutes_is_not_over_it_and_a_second_more_is() {
        let now = at("2026-11-25T12:00:00Z").with_timezone(&Utc);
        let cases = [
            // (handed over at, over 15, over 30, over 60, minutes lost beyond 15)
            ("2026-11-25T10:14:59Z", 0, 0, 0, 0.0),
            ("2026-11-25T10:15:00Z", 0, 0, 0, 0.0),
            ("2026-11-25T10:15:01Z", 1, 0, 0, 1.0 / 60.0),
            ("2026-11-25T10:29:59Z", 1, 0, 0, 15.0 - 1.0 / 60.0),
            ("2026-11-25T10:30:00Z", 1, 0, 0, 15.0),
            ("2026-11-25T10:30:01Z", 1, 1, 0, 15.0 + 1.0 / 60.0),
            ("2026-11-25T10:59:59Z", 1, 1, 0, 45.0 - 1.0 / 60.0),
            ("2026-11-25T11:00:00Z", 1, 1, 0, 45.0),
            ("2026-11-25T11:00:01Z", 1, 1, 1, 45.0 + 1.0 / 60.0),
        ];
        for (handed, over_15, over_30, over_60, lost) in cases {
            let m = measure(
                &[conveyance("a", "2026-11-25T10:00:00Z", Some(handed))],
                now,
            );
            assert_eq!(
                (m.over_15, m.over_30, m.over_60),
                (over_15, over_30, over_60),
                "handed over at {handed}"
            );
            assert!(
                (m.hours_lost_today * 60.0 - lost).abs() < 1e-9,
                "handed over at {handed}: {} minutes lost",
                m.hours_lost_today * 60.0
            );
        }
        // All nine together: each counted once, in every band it is over.
        let records: Vec<HandoverRecord> = cases
            .iter()
            .enumerate()
            .map(|(i, (handed, ..))| {
                conveyance(&format!("c{i}"), "2026-11-25T10:00:00Z", Some(handed))
            })
            .collect();
        let m = measure(&records, now);
        assert_eq!(
            (m.handed_over_today, m.over_15, m.over_30, m.over_60),
            (9, 7, 4, 1)
        );
    }

    #[test]
    fn a_quiet_department_has_no_mean_and_no_wait() {
        let m = measure(&[], at("2026-11-25T10:00:00Z").with_timezone(&Utc));
        assert_eq!(m, HandoverMeasures::default());
    }
}

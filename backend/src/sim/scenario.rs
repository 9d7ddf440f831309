//! Escalation scenarios: how hard each acute site is pressed over the simulated day, so the
//! demo shows sites escalating through OPEL 1 to 4 and de-escalating again.
//!
//! Pressure (0 calm, 1 peak) lifts the site's G&A bed occupancy and crowds its emergency
//! department; the levels follow from the policy like any real data. Handovers and delay
//! lists run in real time and are not scripted. Illustrative, like all simulated figures.

/// Keyframes per site: (simulated hour of day, pressure); straight lines between them.
fn keyframes(site: &str) -> &'static [(f64, f64)] {
    match site {
        // Musgrove: a calm night, a morning surge to OPEL 4 by early afternoon, easing by night.
        "MPH" => &[
            (0.0, 0.0),
            (7.0, 0.05),
            (10.0, 0.45),
            (13.0, 1.0),
            (17.0, 1.0),
            (21.0, 0.35),
            (24.0, 0.0),
        ],
        // Yeovil: a long OPEL 3 afternoon and evening.
        "YDH" => &[
            (0.0, 0.1),
            (9.0, 0.15),
            (12.0, 0.6),
            (15.0, 0.7),
            (20.0, 0.65),
            (23.0, 0.2),
            (24.0, 0.1),
        ],
        // Out of county: Bath busy in the evening, Weston pressed overnight, Dorchester steady.
        "RUH" => &[
            (0.0, 0.2),
            (12.0, 0.25),
            (18.0, 0.55),
            (22.0, 0.5),
            (24.0, 0.2),
        ],
        "WGH" => &[
            (0.0, 0.8),
            (4.0, 0.85),
            (9.0, 0.4),
            (14.0, 0.2),
            (20.0, 0.45),
            (24.0, 0.8),
        ],
        _ => &[(0.0, 0.2), (24.0, 0.2)],
    }
}

/// The site's pressure (0–1) at `hour` (0–24) of the simulated day.
pub fn pressure(site: &str, hour: f64) -> f64 {
    let frames = keyframes(site);
    let hour = hour.rem_euclid(24.0);
    frames
        .windows(2)
        .find(|w| hour >= w[0].0 && hour <= w[1].0)
        .map_or(frames[0].1, |w| {
            let span = w[1].0 - w[0].0;
            let t = if span > 0.0 {
                (hour - w[0].0) / span
            } else {
                0.0
            };
            w[0].1 + t * (w[1].1 - w[0].1)
        })
}

/// How far pressure moves an acute site's target G&A occupancy: from 5 points below the
/// usual at calm to 11 above it at peak (escalation beds open as it passes 97% of core
/// beds; a pool never holds more than it has open).
pub fn occupancy_offset(pressure: f64) -> f64 {
    -0.05 + 0.16 * pressure
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::assess::assess;
    use crate::escalation::policy::Policy;
    use crate::sim::beds::BedModel;
    use crate::sim::snapshots;
    use chrono::{DateTime, Duration, Utc};
    use levels_shared::escalation::Entity;
    use levels_shared::live::{Change, LiveState};
    use levels_shared::measures::{DelayMeasures, HandoverMeasures};
    use std::path::Path;

    #[test]
    fn pressure_follows_the_keyframes_and_wraps_at_midnight() {
        assert_eq!(pressure("MPH", 0.0), 0.0);
        assert_eq!(pressure("MPH", 15.0), 1.0);
        assert!((pressure("MPH", 11.5) - 0.725).abs() < 1e-9);
        assert_eq!(pressure("MPH", 24.0), pressure("MPH", 0.0));
        assert_eq!(pressure("XYZ", 12.0), 0.2);
    }

    /// Plays Musgrove's simulated day through the bed model and ED snapshots, with handover
    /// and delay inputs held in band 2, and scores it with the shipped policy.
    #[test]
    fn the_demo_day_takes_musgrove_through_opel_1_to_4_and_back() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let policy = Policy::load(&root.join("config/escalation/default.toml")).expect("policy");
        let reference = crate::reference::tests::somerset();
        let mut beds = BedModel::new(&reference, 7);
        let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z")
            .expect("time")
            .to_utc();
        let mut levels = Vec::new();
        // Ten-minute steps through a day: the simulator's pace at speed 60 and one ED
        // snapshot a minute.
        for step in 0..(24 * 6) {
            let now = start + Duration::minutes(10 * step);
            let hour = f64::from(u32::try_from(step).unwrap_or(0)) / 6.0;
            beds.step(hour, 1.0 / 6.0);
            let mut live = LiveState::default();
            for record in beds.records(now.fixed_offset()) {
                live.apply(&Change::Beds { record });
            }
            let ed = snapshots::ed(
                7,
                "MPH",
                now,
                beds.ga_occupancy("MPH"),
                pressure("MPH", hour),
            )
            .expect("Musgrove has an ED");
            live.apply(&Change::Ed { record: ed });
            for feed in [
                levels_shared::feed::Feed::Handovers,
                levels_shared::feed::Feed::DischargeDelays,
            ] {
                live.apply(&Change::Seen {
                    site: "MPH".into(),
                    feed,
                    at: now.fixed_offset(),
                });
            }
            live.apply(&Change::Measures {
                site: "MPH".into(),
                handovers: Some(HandoverMeasures {
                    mean_minutes_today: Some(20.0),
                    ..Default::default()
                }),
                delays: Some(DelayMeasures {
                    share_of_occupied_ga: Some(0.12),
                    ..Default::default()
                }),
            });
            let level = assess(&policy, &reference, &live, now, |_, e| e)
                .into_iter()
                .find(|(e, _)| *e == Entity::Site("MPH".into()))
                .and_then(|(_, e)| e.level);
            levels.push(level.unwrap_or(0));
        }
        eprintln!("Musgrove's simulated day, every 10 minutes: {levels:?}");
        for level in 1..=4 {
            assert!(
                levels.contains(&level),
                "OPEL {level} is reached: {levels:?}"
            );
        }
        let peak = levels.iter().position(|l| *l == 4).expect("a peak");
        assert!(
            levels[peak..].iter().any(|l| *l <= 2),
            "it de-escalates after the peak: {levels:?}"
        );
        assert!(
            levels[..6 * 6].iter().all(|l| *l <= 2),
            "the night is calm: {levels:?}"
        );
    }
}

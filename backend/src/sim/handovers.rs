//! Simulated ambulance conveyances. Each site's day is planned from the seed and the date
//! alone, so a restarted simulator re-sends the same conveyances (counted as duplicates)
//! rather than inventing a second set. Arrivals peak late morning; about one day in three
//! has a surge; handover times are log-normal with a long tail, longer in the evening when
//! beds are scarcest. Illustrative, sized to Somerset's ~120 handovers a day across its
//! two acute sites with about half over 30 minutes (DESIGN §10).

use super::random::{exponential, lognormal, stream, weighted};
use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Europe::London;
use levels_shared::handovers::{Category, HandoverRecord};

/// Relative arrivals by hour of the day (local time): a late-morning peak.
const HOURLY: [f64; 24] = [
    0.5, 0.4, 0.35, 0.3, 0.3, 0.35, 0.5, 0.8, 1.1, 1.35, 1.5, 1.55, 1.5, 1.4, 1.3, 1.25, 1.2, 1.15,
    1.1, 1.0, 0.9, 0.8, 0.7, 0.6,
];

/// Ambulance arrivals a day; sites without an emergency department receive none.
pub fn daily_arrivals(site: &str) -> f64 {
    match site {
        "MPH" => 68.0,
        "YDH" => 52.0,
        "RUH" => 85.0,
        "WGH" => 40.0,
        "DCH" => 48.0,
        _ => 0.0,
    }
}

/// One conveyance's whole story, known in advance.
#[derive(Debug, Clone, PartialEq)]
pub struct Conveyance {
    pub id: String,
    pub site: String,
    pub arrived: DateTime<Utc>,
    pub handed: DateTime<Utc>,
    pub cleared: DateTime<Utc>,
    pub category: Category,
}

/// How far a conveyance has got by some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Arrived,
    HandedOver,
    Cleared,
}

impl Conveyance {
    pub fn stage(&self, now: DateTime<Utc>) -> Option<Stage> {
        if self.cleared <= now {
            Some(Stage::Cleared)
        } else if self.handed <= now {
            Some(Stage::HandedOver)
        } else if self.arrived <= now {
            Some(Stage::Arrived)
        } else {
            None
        }
    }

    /// The record a producer sends when the conveyance reaches `stage`.
    pub fn record(&self, stage: Stage) -> HandoverRecord {
        let fixed = |t: DateTime<Utc>| t.fixed_offset();
        let (name, at) = match stage {
            Stage::Arrived => ("arrived", self.arrived),
            Stage::HandedOver => ("handed", self.handed),
            Stage::Cleared => ("cleared", self.cleared),
        };
        HandoverRecord {
            id: format!("sim-{}-{name}", self.id),
            site: self.site.clone(),
            at: fixed(at),
            conveyance: self.id.clone(),
            arrived_at: fixed(self.arrived),
            handed_over_at: (stage >= Stage::HandedOver).then(|| fixed(self.handed)),
            cleared_at: (stage >= Stage::Cleared).then(|| fixed(self.cleared)),
            category: Some(self.category),
        }
    }
}

/// Every conveyance to `site` arriving in the London day that starts at `day_start`.
pub fn day_plan(seed: u64, site: &str, day_start: DateTime<Utc>) -> Vec<Conveyance> {
    let daily = daily_arrivals(site);
    if daily == 0.0 {
        return Vec::new();
    }
    let mut rng = stream(seed, ("handovers", site, day_start.timestamp()));
    let total: f64 = HOURLY.iter().sum();
    // A surge: more arrivals and slower handovers for two or three hours.
    let surge = (rng.f64() < 0.35).then(|| {
        let start = 9 + rng.u32(0..9);
        (start, start + 2 + rng.u32(0..2))
    });
    // How hard-pressed the site is today.
    let pressure = rng.f64();
    let mut out = Vec::new();
    let day = day_start
        .with_timezone(&London)
        .format("%Y%m%d")
        .to_string();
    for hour in 0..24u32 {
        let in_surge = surge.is_some_and(|(a, b)| hour >= a && hour < b);
        let rate = daily * HOURLY[hour as usize] / total * if in_surge { 1.8 } else { 1.0 };
        let hour_start = day_start + Duration::hours(i64::from(hour));
        let mut minute = exponential(&mut rng, 60.0 / rate);
        while minute < 60.0 {
            let arrived = hour_start + Duration::seconds((minute * 60.0) as i64);
            let local_hour = arrived.with_timezone(&London).hour();
            let evening = if (16..23).contains(&local_hour) {
                1.35
            } else {
                1.0
            };
            let median = (16.0 + 22.0 * pressure) * evening * if in_surge { 1.6 } else { 1.0 };
            let took = lognormal(&mut rng, median, 0.65).clamp(4.0, 420.0);
            let handed = arrived + Duration::seconds((took * 60.0) as i64);
            let cleared = handed + Duration::minutes(8 + i64::from(rng.u32(0..14)));
            let category = *weighted(
                &mut rng,
                &[
                    (Category::C1, 0.05),
                    (Category::C2, 0.55),
                    (Category::C3, 0.3),
                    (Category::C4, 0.1),
                ],
            );
            out.push(Conveyance {
                id: format!("{site}-{day}-{:03}", out.len() + 1),
                site: site.to_owned(),
                arrived,
                handed,
                cleared,
                category,
            });
            minute += exponential(&mut rng, 60.0 / rate);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_the_same_whenever_it_is_planned() {
        let day = DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z")
            .expect("ts")
            .with_timezone(&Utc);
        assert_eq!(day_plan(7, "MPH", day), day_plan(7, "MPH", day));
        assert_ne!(day_plan(7, "MPH", day), day_plan(8, "MPH", day));
        assert!(day_plan(7, "BWCH", day).is_empty());
    }

    #[test]
    fn a_fortnight_of_arrivals_looks_like_somerset() {
        let start = DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z")
            .expect("ts")
            .with_timezone(&Utc);
        let (mut n, mut over_30) = (0, 0);
        for d in 0..14 {
            for site in ["MPH", "YDH"] {
                for c in day_plan(2026, site, start + Duration::days(d)) {
                    n += 1;
                    over_30 += usize::from(c.handed - c.arrived > Duration::minutes(30));
                }
            }
        }
        let per_day = n as f64 / 14.0;
        let share = over_30 as f64 / n as f64;
        assert!((100.0..145.0).contains(&per_day), "{per_day} a day");
        assert!((0.25..0.6).contains(&share), "{share} over 30 minutes");
    }
}

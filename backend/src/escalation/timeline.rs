//! Level history: a level as a step function over time, the level the dashboard showed
//! (declared while in force, else calculated), and the daily pattern of levels (per
//! Europe/London day, the highest level in each hour and the minutes spent at each level).
//! Served by `routes::timeline`.

use crate::state::calendar;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::London;
use levels_shared::escalation::{DayPattern, Entity, LevelChange, LevelKind};
use serde::{Deserialize, Serialize};

/// Which level a pattern follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternOf {
    /// The declared level while one is in force, else the calculated one.
    Shown,
    Calculated,
    Declared,
}

/// The level as a step function from `from` to `to`: `(since, level)`, the first at `from`.
pub type Steps = Vec<(DateTime<Utc>, Option<u8>)>;

async fn kind_steps(
    store: &dyn Store,
    entity: &Entity,
    kind: LevelKind,
    changes: &[LevelChange],
    from: DateTime<Utc>,
) -> Result<Steps, StoreError> {
    let initial = store.level_at(entity, kind, from).await?.flatten();
    let mut steps = vec![(from, initial)];
    steps.extend(
        changes
            .iter()
            .filter(|c| c.kind == kind && c.at > from)
            .map(|c| (c.at, c.level)),
    );
    Ok(steps)
}

/// The `kind` of level of `entity` from `from` to `to`, as steps.
pub async fn steps(
    store: &dyn Store,
    entity: &Entity,
    kind: PatternOf,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Steps, StoreError> {
    let changes = store.levels(entity, from, to).await?;
    let calculated = kind_steps(store, entity, LevelKind::Calculated, &changes, from).await?;
    let declared = kind_steps(store, entity, LevelKind::Declared, &changes, from).await?;
    Ok(match kind {
        PatternOf::Calculated => calculated,
        PatternOf::Declared => declared,
        PatternOf::Shown => shown(&calculated, &declared),
    })
}

fn at(steps: &Steps, t: DateTime<Utc>) -> Option<u8> {
    steps
        .iter()
        .take_while(|(since, _)| *since <= t)
        .last()
        .and_then(|(_, level)| *level)
}

/// The shown level: declared while a declaration is in force, else calculated.
pub fn shown(calculated: &Steps, declared: &Steps) -> Steps {
    let mut times: Vec<DateTime<Utc>> =
        calculated.iter().chain(declared).map(|(t, _)| *t).collect();
    times.sort();
    times.dedup();
    times
        .into_iter()
        .map(|t| (t, at(declared, t).or(at(calculated, t))))
        .collect()
}

/// Each London day from `from` (a day start) to `now`: hourly highest level and minutes
/// at each level.
pub fn pattern(steps: &Steps, from: DateTime<Utc>, now: DateTime<Utc>) -> Vec<DayPattern> {
    let mut days = Vec::new();
    let mut start = from;
    while start < now {
        let end = calendar::day_start(start + Duration::hours(25));
        let mut hours = Vec::new();
        // Summed in milliseconds and rounded once, so changes at odd seconds lose nothing.
        let mut millis_at = [0i64; 5];
        let mut hour = start;
        while hour < end.min(now) {
            let hour_end = (hour + Duration::hours(1)).min(end).min(now);
            hours.push(highest(steps, hour, hour_end));
            for (a, b, level) in segments(steps, hour, hour_end) {
                let slot = level.map_or(4, |l| usize::from(l.clamp(1, 4)) - 1);
                millis_at[slot] += (b - a).num_milliseconds();
            }
            hour = hour_end;
        }
        let minutes_at =
            millis_at.map(|ms| u32::try_from((ms + 30_000) / 60_000).unwrap_or(u32::MAX));
        days.push(DayPattern {
            date: start.with_timezone(&London).date_naive().to_string(),
            start,
            highest: hours.iter().flatten().max().copied(),
            hours,
            minutes_at,
        });
        start = end;
    }
    days
}

/// The pieces of `[from, to)` at one level each.
fn segments(
    steps: &Steps,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, Option<u8>)> {
    let mut cuts: Vec<DateTime<Utc>> = steps
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t > from && *t < to)
        .collect();
    cuts.insert(0, from);
    cuts.push(to);
    cuts.windows(2)
        .map(|w| (w[0], w[1], at(steps, w[0])))
        .collect()
}

fn highest(steps: &Steps, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<u8> {
    segments(steps, from, to)
        .into_iter()
        .filter_map(|(_, _, l)| l)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    #[test]
    fn a_declaration_is_shown_while_in_force_then_the_calculated_level_again() {
        let calculated = vec![
            (t("2026-11-20T00:00:00Z"), Some(2)),
            (t("2026-11-20T10:00:00Z"), Some(3)),
        ];
        let declared = vec![
            (t("2026-11-20T00:00:00Z"), None),
            (t("2026-11-20T09:00:00Z"), Some(4)),
            (t("2026-11-20T12:00:00Z"), None),
        ];
        let s = shown(&calculated, &declared);
        assert_eq!(at(&s, t("2026-11-20T08:59:00Z")), Some(2));
        assert_eq!(at(&s, t("2026-11-20T09:00:00Z")), Some(4));
        assert_eq!(at(&s, t("2026-11-20T11:00:00Z")), Some(4));
        assert_eq!(at(&s, t("2026-11-20T12:00:00Z")), Some(3));
    }

    #[test]
    fn a_day_gives_the_highest_level_each_hour_and_the_minutes_at_each_level() {
        // 20 Nov 2026 is GMT: the London day is 00:00–24:00 UTC.
        // Changes at odd seconds, as real ones are: no minute goes missing.
        let steps = vec![
            (t("2026-11-20T00:00:00Z"), Some(1)),
            (t("2026-11-20T06:29:30.500Z"), Some(3)),
            (t("2026-11-20T06:59:30.500Z"), Some(2)),
            (t("2026-11-20T20:00:00Z"), None),
        ];
        let days = pattern(&steps, t("2026-11-20T00:00:00Z"), t("2026-11-21T00:00:00Z"));
        assert_eq!(days.len(), 1);
        let d = &days[0];
        assert_eq!(d.date, "2026-11-20");
        assert_eq!(d.hours.len(), 24);
        assert_eq!(d.hours[5], Some(1));
        assert_eq!(
            d.hours[6],
            Some(3),
            "a half hour at OPEL 3 makes the hour's highest 3"
        );
        assert_eq!(d.hours[7], Some(2));
        assert_eq!(d.hours[20], None);
        assert_eq!(d.minutes_at, [390, 780, 30, 0, 240]);
        assert_eq!(d.minutes_at.iter().sum::<u32>(), 24 * 60);
        assert_eq!(d.highest, Some(3));
    }

    #[test]
    fn the_day_the_clocks_go_back_has_25_hours_and_today_stops_at_now() {
        // 25 Oct 2026: BST ends; the London day runs 2026-10-24T23:00Z to 2026-10-26T00:00Z.
        let steps = vec![(t("2026-10-24T23:00:00Z"), Some(2))];
        let days = pattern(&steps, t("2026-10-24T23:00:00Z"), t("2026-10-26T10:30:00Z"));
        assert_eq!(days.len(), 2);
        assert_eq!(
            (days[0].date.as_str(), days[0].hours.len()),
            ("2026-10-25", 25)
        );
        assert_eq!(days[0].minutes_at[1], 25 * 60);
        assert_eq!(
            (days[1].date.as_str(), days[1].hours.len()),
            ("2026-10-26", 11)
        );
        assert_eq!(days[1].minutes_at[1], 10 * 60 + 30);
    }
}

//! Settling: a calculated level moves to a new level only once the score has stayed there
//! for the pillar's `settle_minutes`, so a value wavering at a threshold does not flap the
//! level on every screen and raise an alert each time. Meanwhile the explanation shows the
//! current score and the level pending since when. A level that becomes, or ceases to be,
//! calculable changes at once: nothing is shown as calculated from stale data.

use chrono::{DateTime, Duration, Utc};
use levels_shared::escalation::{Entity, Explanation, Pending};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Settler {
    pending: BTreeMap<Entity, Pending>,
}

impl Settler {
    /// The explanation to publish for `entity`, given the one just assessed and the one
    /// currently shown.
    pub fn settle(
        &mut self,
        entity: &Entity,
        mut assessed: Explanation,
        current: Option<&Explanation>,
        settle: Duration,
        now: DateTime<Utc>,
    ) -> Explanation {
        let shown = current.and_then(|e| e.level);
        match (shown, assessed.level) {
            (Some(shown), Some(next)) if shown != next && settle > Duration::zero() => {
                let pending = self
                    .pending
                    .entry(entity.clone())
                    .and_modify(|p| {
                        if p.level != next {
                            *p = Pending {
                                level: next,
                                since: now,
                            };
                        }
                    })
                    .or_insert(Pending {
                        level: next,
                        since: now,
                    });
                if now - pending.since >= settle {
                    self.pending.remove(entity);
                } else {
                    assessed.level = Some(shown);
                    assessed.pending = Some(*pending);
                }
            }
            _ => {
                self.pending.remove(entity);
            }
        }
        assessed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(level: Option<u8>) -> Explanation {
        Explanation {
            policy: "p".into(),
            policy_version: "1".into(),
            level,
            score: level.map(f64::from),
            coverage: 1.0,
            parameters: vec![],
            pending: None,
        }
    }

    #[test]
    fn a_new_level_takes_effect_only_once_it_has_held_for_the_settling_time() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")
            .expect("t")
            .to_utc();
        let minutes = |m: i64| t0 + Duration::minutes(m);
        let settle = Duration::minutes(10);
        let entity = Entity::Site("MPH".into());
        let mut s = Settler::default();
        let mut shown = s.settle(&entity, explained(Some(2)), None, settle, t0);
        assert_eq!(shown.level, Some(2), "the first level is shown at once");

        let step = |s: &mut Settler, shown: &Explanation, level: Option<u8>, at: i64| {
            s.settle(&entity, explained(level), Some(shown), settle, minutes(at))
        };
        shown = step(&mut s, &shown, Some(3), 1);
        assert_eq!(
            (shown.level, shown.pending.map(|p| p.level)),
            (Some(2), Some(3))
        );
        // Back to 2 for a moment: the pending 3 is forgotten, and its clock restarts.
        shown = step(&mut s, &shown, Some(2), 5);
        assert_eq!((shown.level, shown.pending), (Some(2), None));
        shown = step(&mut s, &shown, Some(3), 6);
        shown = step(&mut s, &shown, Some(3), 15);
        assert_eq!(shown.level, Some(2), "9 minutes is not yet 10");
        assert_eq!(shown.pending.map(|p| p.since), Some(minutes(6)));
        shown = step(&mut s, &shown, Some(3), 16);
        assert_eq!((shown.level, shown.pending), (Some(3), None));
        // Losing the inputs shows "not calculable" at once, and back.
        shown = step(&mut s, &shown, None, 17);
        assert_eq!(shown.level, None);
        shown = step(&mut s, &shown, Some(4), 18);
        assert_eq!(shown.level, Some(4));
        // With no settling time, every change is immediate.
        let now = s.settle(
            &entity,
            explained(Some(1)),
            Some(&shown),
            Duration::zero(),
            minutes(19),
        );
        assert_eq!(now.level, Some(1));
    }
}

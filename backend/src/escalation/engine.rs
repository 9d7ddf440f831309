//! Computes a pillar's OPEL level from its inputs, with the explanation shown beside it.

use super::policy::{Pillar, Policy, WhenIncomplete};
use levels_shared::escalation::{Explanation, InputStatus, ParameterResult, Unit};

/// A parameter's input as the measures catalogue found it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    Value(f64),
    /// Known but too old to use: shown, never scored.
    Stale(f64),
    Missing,
}

/// An input with a note on what it was made of, when it sums only some of its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub input: Input,
    pub note: Option<String>,
}

impl From<Input> for Reading {
    fn from(input: Input) -> Reading {
        Reading { input, note: None }
    }
}

/// Evaluates `pillar` with `input` giving each measure's current input.
pub fn evaluate<R: Into<Reading>>(
    policy: &Policy,
    pillar: &Pillar,
    input: impl Fn(&str) -> R,
) -> Explanation {
    let total_weight: f64 = pillar.parameters.iter().map(|p| *p.weight.get_ref()).sum();
    let mut parameters = Vec::with_capacity(pillar.parameters.len());
    let (mut used_weight, mut weighted_bands) = (0.0, 0.0);
    for p in &pillar.parameters {
        let weight = *p.weight.get_ref();
        let Reading { input, note } = input(p.measure.get_ref()).into();
        let (value, status, band) = match input {
            Input::Value(v) => {
                let band = p.band(v);
                used_weight += weight;
                weighted_bands += weight * f64::from(band);
                (Some(v), InputStatus::Ok, Some(band))
            }
            Input::Stale(v) => (Some(v), InputStatus::Stale, None),
            Input::Missing => (None, InputStatus::Missing, None),
        };
        parameters.push(ParameterResult {
            key: p.key.clone(),
            label: p.label.clone(),
            unit: super::measures::unit(p.measure.get_ref()),
            value,
            status,
            band,
            weight,
            contribution: band.map(f64::from),
            note,
        });
    }
    conclude(
        policy,
        pillar,
        parameters,
        total_weight,
        used_weight,
        weighted_bands,
    )
}

/// One member of the system roll-up: an acute site's or the community pillar's result.
#[derive(Debug, Clone)]
pub struct Member {
    /// The member's entity name, e.g. `site:MPH`.
    pub key: String,
    pub label: String,
    pub score: Option<f64>,
    pub level: Option<u8>,
    /// Its weight in the roll-up; `None` when its size is not known.
    pub size: Option<f64>,
}

/// The system pillar: the size-weighted mean score of its members. A member without a
/// level counts as missing, so the policy's coverage rule decides as for parameters.
pub fn roll_up(policy: &Policy, pillar: &Pillar, members: &[Member]) -> Explanation {
    let total_weight: f64 = members.iter().filter_map(|m| m.size).sum();
    let (mut used_weight, mut weighted_scores) = (0.0, 0.0);
    let mut parameters = Vec::with_capacity(members.len());
    for m in members {
        let weight = m.size.unwrap_or(0.0);
        let usable = m.score.filter(|_| weight > 0.0);
        if let Some(score) = usable {
            used_weight += weight;
            weighted_scores += weight * score;
        }
        parameters.push(ParameterResult {
            key: m.key.clone(),
            label: m.label.clone(),
            unit: Unit::Score,
            value: m.score,
            status: if usable.is_some() {
                InputStatus::Ok
            } else {
                InputStatus::Missing
            },
            band: usable.and(m.level),
            weight,
            contribution: usable,
            note: None,
        });
    }
    conclude(
        policy,
        pillar,
        parameters,
        total_weight,
        used_weight,
        weighted_scores,
    )
}

/// Weighs contributions, applies the incomplete-input rule and maps the score to a level.
/// Each parameter's `contribution` arrives holding its band (or member score).
fn conclude(
    policy: &Policy,
    pillar: &Pillar,
    mut parameters: Vec<ParameterResult>,
    total_weight: f64,
    used_weight: f64,
    weighted: f64,
) -> Explanation {
    for r in &mut parameters {
        r.contribution = r.contribution.map(|v| r.weight * v / used_weight);
    }
    let coverage = if total_weight > 0.0 {
        used_weight / total_weight
    } else {
        0.0
    };
    let complete_enough = match pillar.when_incomplete {
        WhenIncomplete::Withhold => parameters.iter().all(|r| r.status == InputStatus::Ok),
        WhenIncomplete::Compute => {
            used_weight > 0.0 && coverage + 1e-9 >= *pillar.min_coverage.get_ref()
        }
    };
    let score = complete_enough.then(|| weighted / used_weight);
    Explanation {
        policy: policy.name.clone(),
        policy_version: policy.version.clone(),
        level: score.map(|s| pillar.level(s)),
        score,
        coverage,
        parameters,
        pending: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::policy::PillarKind;
    use std::path::Path;

    /// Three parameters weighted 2, 1, 1, with simple thresholds.
    fn policy(when_incomplete: &str) -> Policy {
        let text = format!(
            r#"
name = "test"
version = "7"
[[pillar]]
kind = "acute"
levels = [{{ level = 2, from = 1.75 }}, {{ level = 3, from = 2.5 }}, {{ level = 4, from = 3.25 }}]
when_incomplete = "{when_incomplete}"
min_coverage = 0.7
[[pillar.parameter]]
key = "occ"
label = "Occupancy"
measure = "ga_occupancy"
direction = "higher_is_worse"
thresholds = [0.92, 0.95, 0.98]
weight = 2.0
[[pillar.parameter]]
key = "four"
label = "4 hours"
measure = "ed_four_hour_performance"
direction = "lower_is_worse"
thresholds = [0.78, 0.70, 0.60]
weight = 1.0
[[pillar.parameter]]
key = "handover"
label = "Handover"
measure = "handover_mean_minutes_today"
direction = "higher_is_worse"
thresholds = [15.0, 30.0, 60.0]
weight = 1.0
"#
        );
        Policy::parse(&text, Path::new("test.toml")).expect("valid")
    }

    fn run(policy: &Policy, inputs: [Input; 3]) -> Explanation {
        let pillar = policy.pillar(PillarKind::Acute).expect("acute");
        evaluate(policy, pillar, |m| match m {
            "ga_occupancy" => inputs[0],
            "ed_four_hour_performance" => inputs[1],
            _ => inputs[2],
        })
    }

    #[test]
    fn the_score_is_the_weighted_mean_band_and_each_contribution_is_shown() {
        let p = policy("compute");
        // Bands: occupancy 0.96 → 3 (×2), 4 hours 0.75 → 2, handover 62 → 4.
        let e = run(
            &p,
            [Input::Value(0.96), Input::Value(0.75), Input::Value(62.0)],
        );
        assert_eq!(e.score, Some((3.0 * 2.0 + 2.0 + 4.0) / 4.0));
        assert_eq!(e.level, Some(3));
        let bands: Vec<Option<u8>> = e.parameters.iter().map(|r| r.band).collect();
        assert_eq!(bands, [Some(3), Some(2), Some(4)]);
        let contributions: Vec<f64> = e.parameters.iter().filter_map(|r| r.contribution).collect();
        assert_eq!(contributions, [1.5, 0.5, 1.0]);
        assert_eq!(
            (e.policy.as_str(), e.policy_version.as_str(), e.coverage),
            ("test", "7", 1.0)
        );
    }

    #[test]
    fn a_level_exactly_at_a_boundary_takes_the_higher_level() {
        let p = policy("compute");
        // Bands 2 (×2), 1, 2 → score 7/4 = 1.75: OPEL 2.
        let e = run(
            &p,
            [Input::Value(0.93), Input::Value(0.80), Input::Value(20.0)],
        );
        assert_eq!((e.score, e.level), (Some(1.75), Some(2)));
    }

    #[test]
    fn stale_and_missing_inputs_are_shown_but_never_scored() {
        let p = policy("compute");
        // Occupancy (weight 2) and 4 hours usable: coverage 0.75 ≥ 0.7.
        let e = run(
            &p,
            [Input::Value(0.99), Input::Value(0.79), Input::Stale(200.0)],
        );
        assert_eq!(e.coverage, 0.75);
        assert_eq!(e.score, Some((4.0 * 2.0 + 1.0) / 3.0));
        assert_eq!(e.level, Some(3));
        let stale = &e.parameters[2];
        assert_eq!(
            (stale.status, stale.value, stale.band),
            (InputStatus::Stale, Some(200.0), None)
        );
        // Occupancy missing: coverage 0.5 < 0.7, so no level rather than a level from half the picture.
        let e = run(&p, [Input::Missing, Input::Value(0.5), Input::Value(90.0)]);
        assert_eq!((e.level, e.score, e.coverage), (None, None, 0.5));
    }

    #[test]
    fn a_withholding_policy_computes_nothing_while_any_input_is_unusable() {
        let p = policy("withhold");
        let e = run(
            &p,
            [Input::Value(0.9), Input::Value(0.9), Input::Stale(10.0)],
        );
        assert_eq!(e.level, None);
        let e = run(
            &p,
            [Input::Value(0.9), Input::Value(0.9), Input::Value(10.0)],
        );
        assert_eq!(e.level, Some(1));
    }
}

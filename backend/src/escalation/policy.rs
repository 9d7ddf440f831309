//! The escalation policy file (DESIGN §6): for each pillar, its parameters (the measure
//! each reads, the thresholds that band it into 1–4, its direction and weight), how the
//! weighted score maps to OPEL 1–4, and what to do when inputs are missing or stale.
//!
//! Banding, with thresholds `[t2, t3, t4]`:
//! - `higher_is_worse`: band = 1 + how many thresholds the value is **at or above**
//!   (so a value equal to `t3` is band 3). Thresholds must rise.
//! - `lower_is_worse`: band = 1 + how many thresholds the value is **below** (so a value
//!   equal to `t3` is band 2). Thresholds must fall.
//!
//! The score is the weighted mean band of the usable parameters (1.0–4.0); the level is
//! the highest whose `from` the score reaches (inclusive), OPEL 1 below them all.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where a pillar's parameters read their inputs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PillarKind {
    Acute,
    Community,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsWorse,
    LowerIsWorse,
}

/// What happens when some inputs are missing or stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenIncomplete {
    /// Compute from the usable inputs if they carry at least `min_coverage` of the weight.
    Compute,
    /// Show the level as incomplete whenever any input is unusable.
    Withhold,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub key: String,
    pub label: String,
    /// The measure it reads (see `measures.rs` for the catalogue).
    pub measure: Spanned<String>,
    pub direction: Direction,
    /// The values at which bands 2, 3 and 4 begin.
    pub thresholds: Spanned<[f64; 3]>,
    pub weight: Spanned<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelFrom {
    pub level: u8,
    pub from: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pillar {
    pub kind: PillarKind,
    /// Score at which OPEL 2, 3 and 4 begin.
    pub levels: Spanned<Vec<LevelFrom>>,
    pub when_incomplete: WhenIncomplete,
    /// With `compute`: the least share of total weight that must be usable (0–1).
    #[serde(default = "full_coverage")]
    pub min_coverage: Spanned<f64>,
    #[serde(rename = "parameter")]
    pub parameters: Vec<Parameter>,
}

fn full_coverage() -> Spanned<f64> {
    Spanned::new(0..0, 1.0)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub version: String,
    /// Shown with every level: e.g. that the thresholds are local placeholders.
    #[serde(default)]
    pub note: String,
    #[serde(rename = "pillar")]
    pub pillars: Vec<Pillar>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the escalation policy {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl Policy {
    pub fn load(path: &Path, measures: &[&str]) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::parse(&text, path, measures)
    }

    /// Parses and checks a policy; errors name the file, line and key.
    pub fn parse(text: &str, path: &Path, measures: &[&str]) -> Result<Policy, PolicyError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let invalid = |offset: usize, message: String| PolicyError::Invalid {
            path: path.to_owned(),
            line: line_of(offset),
            message,
        };
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            invalid(offset, e.message().trim().to_owned())
        })?;
        for pillar in &policy.pillars {
            let levels = pillar.levels.get_ref();
            let wanted: Vec<u8> = levels.iter().map(|l| l.level).collect();
            if wanted != [2, 3, 4] || !levels.windows(2).all(|w| w[0].from < w[1].from) {
                return Err(invalid(
                    pillar.levels.span().start,
                    "levels must give level 2, 3 and 4 in that order, each `from` higher than the last".into(),
                ));
            }
            let coverage = *pillar.min_coverage.get_ref();
            if !(0.0..=1.0).contains(&coverage) {
                return Err(invalid(
                    pillar.min_coverage.span().start,
                    format!("min_coverage ({coverage}) must be from 0 to 1"),
                ));
            }
            if pillar.parameters.is_empty() {
                return Err(invalid(
                    0,
                    format!("the {:?} pillar has no parameters", pillar.kind),
                ));
            }
            for p in &pillar.parameters {
                let measure = p.measure.get_ref();
                if !measures.contains(&measure.as_str()) {
                    return Err(invalid(
                        p.measure.span().start,
                        format!(
                            "parameter {}: unknown measure {measure:?}; known measures: {}",
                            p.key,
                            measures.join(", ")
                        ),
                    ));
                }
                let [a, b, c] = *p.thresholds.get_ref();
                let ordered = match p.direction {
                    Direction::HigherIsWorse => a < b && b < c,
                    Direction::LowerIsWorse => a > b && b > c,
                };
                if !ordered {
                    let way = match p.direction {
                        Direction::HigherIsWorse => "rise (higher_is_worse)",
                        Direction::LowerIsWorse => "fall (lower_is_worse)",
                    };
                    return Err(invalid(
                        p.thresholds.span().start,
                        format!("parameter {}: thresholds must {way}", p.key),
                    ));
                }
                let weight = *p.weight.get_ref();
                if !(weight > 0.0 && weight.is_finite()) {
                    return Err(invalid(
                        p.weight.span().start,
                        format!("parameter {}: weight must be more than 0", p.key),
                    ));
                }
            }
        }
        Ok(policy)
    }

    pub fn pillar(&self, kind: PillarKind) -> Option<&Pillar> {
        self.pillars.iter().find(|p| p.kind == kind)
    }
}

impl Parameter {
    /// The band 1–4 of `value`, by the rules at the top of this module.
    pub fn band(&self, value: f64) -> u8 {
        let above = |t: &f64| match self.direction {
            Direction::HigherIsWorse => value >= *t,
            Direction::LowerIsWorse => value < *t,
        };
        1 + self
            .thresholds
            .get_ref()
            .iter()
            .filter(|t| above(t))
            .count() as u8
    }
}

impl Pillar {
    /// The OPEL level a score reaches.
    pub fn level(&self, score: f64) -> u8 {
        self.levels
            .get_ref()
            .iter()
            .rev()
            .find(|l| score >= l.from)
            .map_or(1, |l| l.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::ACUTE_MEASURES;

    fn default_policy() -> Policy {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/escalation/default.toml");
        Policy::load(&path, &ACUTE_MEASURES).expect("the shipped policy is valid")
    }

    fn parameter(key: &str) -> Parameter {
        let policy = default_policy();
        let acute = policy.pillar(PillarKind::Acute).expect("an acute pillar");
        acute
            .parameters
            .iter()
            .find(|p| p.key == key)
            .cloned()
            .expect("the parameter")
    }

    #[test]
    fn the_shipped_policy_has_the_nine_acute_parameters_and_says_it_is_a_placeholder() {
        let policy = default_policy();
        let acute = policy.pillar(PillarKind::Acute).expect("an acute pillar");
        let measures: Vec<&str> = acute
            .parameters
            .iter()
            .map(|p| p.measure.get_ref().as_str())
            .collect();
        assert_eq!(measures, ACUTE_MEASURES);
        assert!(policy.note.to_lowercase().contains("placeholder"));
    }

    #[test]
    fn higher_is_worse_bands_are_inclusive_at_each_threshold() {
        // G&A occupancy: [0.92, 0.95, 0.98]
        let p = parameter("ga_occupancy");
        let cases = [
            (0.0, 1),
            (0.9199, 1),
            (0.92, 2),
            (0.9499, 2),
            (0.95, 3),
            (0.9799, 3),
            (0.98, 4),
            (1.2, 4),
        ];
        for (value, band) in cases {
            assert_eq!(p.band(value), band, "{value}");
        }
    }

    #[test]
    fn lower_is_worse_bands_start_below_each_threshold() {
        // 4-hour performance: [0.78, 0.70, 0.60]
        let p = parameter("ed_4h");
        let cases = [
            (1.0, 1),
            (0.78, 1),
            (0.7799, 2),
            (0.70, 2),
            (0.6999, 3),
            (0.60, 3),
            (0.5999, 4),
            (0.0, 4),
        ];
        for (value, band) in cases {
            assert_eq!(p.band(value), band, "{value}");
        }
    }

    #[test]
    fn every_default_parameter_bands_at_and_around_its_thresholds() {
        let policy = default_policy();
        for p in &policy.pillar(PillarKind::Acute).expect("acute").parameters {
            let [a, b, c] = *p.thresholds.get_ref();
            let nudge = (c - a).abs() / 1000.0;
            let worse = |t: f64| match p.direction {
                Direction::HigherIsWorse => t,
                Direction::LowerIsWorse => t - nudge,
            };
            let better = |t: f64| match p.direction {
                Direction::HigherIsWorse => t - nudge,
                Direction::LowerIsWorse => t,
            };
            assert_eq!([p.band(better(a)), p.band(worse(a))], [1, 2], "{}", p.key);
            assert_eq!([p.band(better(b)), p.band(worse(b))], [2, 3], "{}", p.key);
            assert_eq!([p.band(better(c)), p.band(worse(c))], [3, 4], "{}", p.key);
        }
    }

    #[test]
    fn scores_map_to_levels_at_inclusive_boundaries() {
        let policy = default_policy();
        let acute = policy.pillar(PillarKind::Acute).expect("acute");
        let cases = [
            (1.0, 1),
            (1.7499, 1),
            (1.75, 2),
            (2.4999, 2),
            (2.5, 3),
            (3.2499, 3),
            (3.25, 4),
            (4.0, 4),
        ];
        for (score, level) in cases {
            assert_eq!(acute.level(score), level, "{score}");
        }
    }

    fn error(text: &str) -> String {
        Policy::parse(text, Path::new("policy.toml"), &ACUTE_MEASURES)
            .expect_err("invalid")
            .to_string()
    }

    const HEAD: &str = "name = \"t\"\nversion = \"1\"\n[[pillar]]\nkind = \"acute\"\nlevels = [{ level = 2, from = 1.75 }, { level = 3, from = 2.5 }, { level = 4, from = 3.25 }]\nwhen_incomplete = \"compute\"\n";

    fn with_parameter(lines: &str) -> String {
        format!("{HEAD}[[pillar.parameter]]\nkey = \"p\"\nlabel = \"P\"\n{lines}")
    }

    #[test]
    fn policy_errors_name_the_line_and_the_key() {
        let unknown = error(&with_parameter(
            "measure = \"beds_free\"\ndirection = \"higher_is_worse\"\nthresholds = [1.0, 2.0, 3.0]\nweight = 1.0\n",
        ));
        assert!(
            unknown.starts_with("policy.toml:10: parameter p: unknown measure \"beds_free\""),
            "{unknown}"
        );

        let unordered = error(&with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"lower_is_worse\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 1.0\n",
        ));
        assert_eq!(
            unordered,
            "policy.toml:12: parameter p: thresholds must fall (lower_is_worse)"
        );

        let weight = error(&with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 0\n",
        ));
        assert!(weight.starts_with("policy.toml:13: "), "{weight}");

        let typo = error(&with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthreshold = [0.9, 0.95, 0.98]\nweight = 1.0\n",
        ));
        assert!(
            typo.starts_with("policy.toml:12: ") && typo.contains("threshold"),
            "{typo}"
        );

        let direction = error(&with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"up\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 1.0\n",
        ));
        assert!(
            direction.starts_with("policy.toml:11: ") && direction.contains("higher_is_worse"),
            "{direction}"
        );

        let valid = with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 1.0\n",
        );
        assert!(Policy::parse(&valid, Path::new("policy.toml"), &ACUTE_MEASURES).is_ok());
        let levels = error(&valid.replace("from = 2.5", "from = 1.5"));
        assert!(
            levels.starts_with("policy.toml:5: levels must give level 2, 3 and 4"),
            "{levels}"
        );
    }
}

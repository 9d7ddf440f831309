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
//!
//! The system pillar has members instead of parameters: the other pillars' scores,
//! weighted by size (each acute site by, say, its open G&A beds; community services by a
//! fixed number), so the system score is their size-weighted mean score.
//!
//! `[[actions]]` gives the action card raised with an alert for each pillar and level.

use super::measures;
pub use super::measures::PillarKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// How much one member of the system pillar weighs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Size {
    /// A fixed weight, e.g. community services counted as 300 beds.
    Fixed(f64),
    /// A measure of each member's size, e.g. `ga_beds_open`.
    Measure(String),
}

/// One member pillar of the system roll-up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// `acute`: every acute site in the system, each a member; `community`: community
    /// services as a whole.
    pub pillar: Spanned<PillarKind>,
    pub size: Spanned<Size>,
}

/// The actions raised with an alert when an entity of `pillar` moves to `level`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCard {
    pub pillar: PillarKind,
    pub level: Spanned<u8>,
    pub actions: Vec<String>,
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
    /// How long a new calculated level must hold before it replaces the current one, so a
    /// value wavering at a threshold does not flap the level (and its alerts). Levels
    /// becoming or ceasing to be calculable change at once.
    #[serde(default)]
    pub settle_minutes: u32,
    #[serde(rename = "parameter", default)]
    pub parameters: Vec<Parameter>,
    /// The system pillar only: the pillars it rolls up.
    #[serde(rename = "member", default)]
    pub members: Vec<Member>,
    /// Where `kind` was written, for errors about the pillar as a whole.
    #[serde(skip)]
    pub at: usize,
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
    pub pillars: Vec<Spanned<Pillar>>,
    #[serde(rename = "actions", default)]
    pub action_cards: Vec<ActionCard>,
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
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::parse(&text, path)
    }

    /// Parses and checks a policy; errors name the file, line and key.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let invalid = |offset: usize, message: String| PolicyError::Invalid {
            path: path.to_owned(),
            line: line_of(offset),
            message,
        };
        let mut policy: Policy = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            invalid(offset, e.message().trim().to_owned())
        })?;
        for pillar in &mut policy.pillars {
            let at = pillar.span().start;
            pillar.get_mut().at = at;
        }
        let mut seen = Vec::new();
        for pillar in policy.pillars.iter().map(Spanned::get_ref) {
            if seen.contains(&pillar.kind) {
                return Err(invalid(
                    pillar.at,
                    format!(
                        "a second {} pillar: give each pillar once",
                        pillar.kind.code()
                    ),
                ));
            }
            seen.push(pillar.kind);
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
            check_members(pillar, &invalid)?;
            let measures = measures::measures(pillar.kind);
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
        if let Some(system) = policy.pillar(PillarKind::System) {
            let mut members = Vec::new();
            for m in &system.members {
                let kind = *m.pillar.get_ref();
                if members.contains(&kind) {
                    return Err(invalid(
                        m.pillar.span().start,
                        format!("member {}: given twice", kind.code()),
                    ));
                }
                members.push(kind);
                if policy.pillar(kind).is_none() {
                    return Err(invalid(
                        m.pillar.span().start,
                        format!(
                            "member {0}: the policy has no {0} pillar to roll up",
                            kind.code()
                        ),
                    ));
                }
            }
        }
        for card in &policy.action_cards {
            let level = *card.level.get_ref();
            if !(1..=4).contains(&level) {
                return Err(invalid(
                    card.level.span().start,
                    format!("actions: level {level} is not an OPEL level (1 to 4)"),
                ));
            }
        }
        Ok(policy)
    }

    pub fn pillar(&self, kind: PillarKind) -> Option<&Pillar> {
        self.pillars
            .iter()
            .map(Spanned::get_ref)
            .find(|p| p.kind == kind)
    }

    /// The action card for `pillar` at `level`: empty when the policy gives none.
    pub fn actions(&self, pillar: PillarKind, level: u8) -> Vec<String> {
        self.action_cards
            .iter()
            .filter(|c| c.pillar == pillar && *c.level.get_ref() == level)
            .flat_map(|c| c.actions.iter().cloned())
            .collect()
    }
}

/// Parameters belong to the acute and community pillars, members to the system pillar.
fn check_members(
    pillar: &Pillar,
    invalid: &impl Fn(usize, String) -> PolicyError,
) -> Result<(), PolicyError> {
    let kind = pillar.kind.code();
    if pillar.kind != PillarKind::System {
        if pillar.parameters.is_empty() {
            return Err(invalid(
                pillar.at,
                format!("the {kind} pillar has no [[pillar.parameter]]"),
            ));
        }
        if !pillar.members.is_empty() {
            return Err(invalid(
                pillar.at,
                format!("the {kind} pillar has members: only the system pillar rolls up others"),
            ));
        }
        return Ok(());
    }
    if pillar.members.is_empty() || !pillar.parameters.is_empty() {
        return Err(invalid(
            pillar.at,
            "the system pillar needs [[pillar.member]] entries and no parameters".into(),
        ));
    }
    for m in &pillar.members {
        let member = *m.pillar.get_ref();
        if member == PillarKind::System {
            return Err(invalid(
                m.pillar.span().start,
                "member: the system pillar cannot contain itself".into(),
            ));
        }
        match m.size.get_ref() {
            Size::Fixed(w) if !(*w > 0.0 && w.is_finite()) => {
                return Err(invalid(
                    m.size.span().start,
                    format!("member {}: size must be more than 0", member.code()),
                ));
            }
            Size::Measure(name) if !measures::sizes(member).contains(&name.as_str()) => {
                return Err(invalid(
                    m.size.span().start,
                    format!(
                        "member {}: unknown size {name:?}; give a number or one of: {}",
                        member.code(),
                        measures::sizes(member).join(", ")
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
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
    use crate::escalation::measures::{ACUTE_MEASURES, COMMUNITY_MEASURES};

    fn default_policy() -> Policy {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/escalation/default.toml");
        Policy::load(&path).expect("the shipped policy is valid")
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
        let mut checked = 0;
        for pillar in [PillarKind::Acute, PillarKind::Community] {
            for p in &policy.pillar(pillar).expect("pillar").parameters {
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
                checked += 1;
            }
        }
        assert_eq!(checked, 9 + 5);
    }

    #[test]
    fn the_shipped_community_and_system_pillars_read_what_design_lists() {
        let policy = default_policy();
        let community = policy.pillar(PillarKind::Community).expect("community");
        let measures: Vec<&str> = community
            .parameters
            .iter()
            .map(|p| p.measure.get_ref().as_str())
            .collect();
        assert_eq!(measures, COMMUNITY_MEASURES);
        let system = policy.pillar(PillarKind::System).expect("system");
        let members: Vec<(PillarKind, Size)> = system
            .members
            .iter()
            .map(|m| (*m.pillar.get_ref(), m.size.get_ref().clone()))
            .collect();
        assert_eq!(
            members,
            [
                (PillarKind::Acute, Size::Measure("ga_beds_open".into())),
                (PillarKind::Community, Size::Fixed(300.0)),
            ]
        );
        for pillar in [PillarKind::Acute, PillarKind::Community, PillarKind::System] {
            for level in 2..=4 {
                assert!(
                    !policy.actions(pillar, level).is_empty(),
                    "{pillar:?} {level}"
                );
            }
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
        Policy::parse(text, Path::new("policy.toml"))
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
        assert!(Policy::parse(&valid, Path::new("policy.toml")).is_ok());
        let levels = error(&valid.replace("from = 2.5", "from = 1.5"));
        assert!(
            levels.starts_with("policy.toml:5: levels must give level 2, 3 and 4"),
            "{levels}"
        );
    }

    const SYSTEM: &str = "[[pillar]]\nkind = \"system\"\nlevels = [{ level = 2, from = 1.75 }, { level = 3, from = 2.5 }, { level = 4, from = 3.25 }]\nwhen_incomplete = \"compute\"\n";

    #[test]
    fn community_system_and_action_errors_name_the_line_and_the_key() {
        let acute_only = with_parameter(
            "measure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 1.0\n",
        );
        // An acute measure in the community pillar (lines 14–).
        let community = format!(
            "{acute_only}{}",
            HEAD.replace("name = \"t\"\nversion = \"1\"\n", "")
                .replace("acute", "community")
                + "[[pillar.parameter]]\nkey = \"c\"\nlabel = \"C\"\nmeasure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.9, 0.95, 0.98]\nweight = 1.0\n"
        );
        let e = error(&community);
        assert!(
            e.starts_with("policy.toml:21: parameter c: unknown measure \"ga_occupancy\"")
                && e.contains("community_caseload_load"),
            "{e}"
        );

        let unknown_size = error(&format!(
            "{acute_only}{SYSTEM}[[pillar.member]]\npillar = \"acute\"\nsize = \"beds\"\n"
        ));
        assert_eq!(
            unknown_size,
            "policy.toml:20: member acute: unknown size \"beds\"; give a number or one of: ga_beds_open"
        );
        let zero = error(&format!(
            "{acute_only}{SYSTEM}[[pillar.member]]\npillar = \"community\"\nsize = 0\n"
        ));
        assert_eq!(
            zero,
            "policy.toml:20: member community: size must be more than 0"
        );
        let no_members = error(&format!("{acute_only}{SYSTEM}"));
        assert!(
            no_members.starts_with("policy.toml:14: the system pillar needs [[pillar.member]]"),
            "{no_members}"
        );
        let twice = error(&format!(
            "{acute_only}{}",
            HEAD.replace("name = \"t\"\nversion = \"1\"\n", "")
        ));
        assert!(
            twice.starts_with("policy.toml:14: a second acute pillar"),
            "{twice}"
        );
        let action = error(&format!(
            "{acute_only}[[actions]]\npillar = \"acute\"\nlevel = 5\nactions = [\"Panic\"]\n"
        ));
        assert_eq!(
            action,
            "policy.toml:16: actions: level 5 is not an OPEL level (1 to 4)"
        );
        let absent = error(&format!(
            "{acute_only}{SYSTEM}[[pillar.member]]\npillar = \"community\"\nsize = 300\n"
        ));
        assert_eq!(
            absent,
            "policy.toml:19: member community: the policy has no community pillar to roll up"
        );
        let twice = error(&format!(
            "{acute_only}{SYSTEM}[[pillar.member]]\npillar = \"acute\"\nsize = 1\n[[pillar.member]]\npillar = \"acute\"\nsize = 2\n"
        ));
        assert_eq!(twice, "policy.toml:22: member acute: given twice");
        let with_system = format!(
            "{acute_only}{SYSTEM}[[pillar.member]]\npillar = \"acute\"\nsize = \"ga_beds_open\"\n"
        );
        assert!(Policy::parse(&with_system, Path::new("policy.toml")).is_ok());
    }
}

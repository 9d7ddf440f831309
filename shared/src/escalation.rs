//! OPEL levels (DESIGN §6): what each level belongs to, what it was computed from (every
//! parameter's value, band, weight and contribution, and the policy), the level a site
//! manager declared, and the alerts a change raises with its action card.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a level belongs to. On the wire and in URLs: `site:MPH`, `community:mendip`
/// (one locality's community services), `community` (all of them) and `system`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Entity {
    Site(String),
    Locality(String),
    Community,
    System,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entity::Site(code) => write!(f, "site:{code}"),
            Entity::Locality(code) => write!(f, "community:{code}"),
            Entity::Community => f.write_str("community"),
            Entity::System => f.write_str("system"),
        }
    }
}

impl FromStr for Entity {
    type Err = String;

    fn from_str(s: &str) -> Result<Entity, String> {
        let named = |code: &str| !code.is_empty() && !code.contains(char::is_whitespace);
        match s.split_once(':') {
            None if s == "system" => Ok(Entity::System),
            None if s == "community" => Ok(Entity::Community),
            Some(("site", code)) if named(code) => Ok(Entity::Site(code.to_owned())),
            Some(("community", code)) if named(code) => Ok(Entity::Locality(code.to_owned())),
            _ => Err(format!(
                "{s:?} is not a level's entity: expected site:CODE, community:LOCALITY, community or system"
            )),
        }
    }
}

impl From<Entity> for String {
    fn from(e: Entity) -> String {
        e.to_string()
    }
}

impl TryFrom<String> for Entity {
    type Error = String;
    fn try_from(s: String) -> Result<Entity, String> {
        s.parse()
    }
}

/// Whether a parameter's input could be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStatus {
    Ok,
    /// No data has been received for it.
    Missing,
    /// Its data is older than twice the feed's expected interval.
    Stale,
}

/// What a parameter's value measures, so it can be written with its unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share or occupancy, 0–1 (written as a percentage).
    Share,
    Minutes,
    /// A count per 100 caseload places.
    Per100Places,
    /// A pillar score, 1.0–4.0 (the system's members).
    #[default]
    Score,
}

impl Unit {
    /// `92%`, `45 min`, `3.2 per 100`, `2.78`.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Share => format!("{:.0}%", value * 100.0),
            Unit::Minutes => format!("{value:.0} min"),
            Unit::Per100Places => format!("{value:.1} per 100"),
            Unit::Score => format!("{value:.2}"),
        }
    }
}

/// One parameter of a level's explanation (for the system level, one member pillar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterResult {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub unit: Unit,
    /// The input's value, shown even when stale (greyed) but never used then.
    pub value: Option<f64>,
    pub status: InputStatus,
    /// 1–4, when the input was used.
    pub band: Option<u8>,
    pub weight: f64,
    /// This parameter's share of the score: weight × band ÷ the used weight.
    pub contribution: Option<f64>,
    /// What the value was made of when not all of it: e.g. "12 of 15 teams; 3 stale".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A computed level and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub policy: String,
    pub policy_version: String,
    /// OPEL 1–4, or `None` when too little of the input was usable to compute one.
    pub level: Option<u8>,
    /// The weighted mean band (1.0–4.0) of the usable parameters.
    pub score: Option<f64>,
    /// The share of the total weight whose input was usable.
    pub coverage: f64,
    pub parameters: Vec<ParameterResult>,
    /// A different level the score has reached but that has not yet held for the
    /// policy's settling time; `level` stays as it was until it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// What moved in an explanation whose policy and parameters stayed as they were: the
/// level, score, coverage and pending level, and the figures of the parameters that
/// changed. Streamed instead of the whole explanation, whose labels, units and weights
/// the dashboard already holds: a delta is then about half the size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub level: Option<u8>,
    pub score: Option<f64>,
    pub coverage: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// Only the parameters whose figures changed.
    pub parameters: Vec<ParameterFigures>,
}

/// A parameter's figures, by its position in the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterFigures {
    pub index: usize,
    pub value: Option<f64>,
    pub status: InputStatus,
    pub band: Option<u8>,
    pub contribution: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ParameterFigures {
    fn of(index: usize, p: &ParameterResult) -> ParameterFigures {
        ParameterFigures {
            index,
            value: p.value,
            status: p.status,
            band: p.band,
            contribution: p.contribution,
            note: p.note.clone(),
        }
    }
}

impl Explanation {
    /// How `self` differs from `old`, if only in figures (same policy, and the same
    /// parameters in the same order with the same labels, units and weights).
    pub fn figures_since(&self, old: &Explanation) -> Option<Figures> {
        let same_frame = self.policy == old.policy
            && self.policy_version == old.policy_version
            && self.parameters.len() == old.parameters.len()
            && self.parameters.iter().zip(&old.parameters).all(|(p, o)| {
                p.key == o.key && p.label == o.label && p.unit == o.unit && p.weight == o.weight
            });
        if !same_frame {
            return None;
        }
        Some(Figures {
            level: self.level,
            score: self.score,
            coverage: self.coverage,
            pending: self.pending,
            parameters: self
                .parameters
                .iter()
                .zip(&old.parameters)
                .enumerate()
                .filter(|(_, (p, o))| p != o)
                .map(|(i, (p, _))| ParameterFigures::of(i, p))
                .collect(),
        })
    }

    /// Takes on `figures` (from [`Explanation::figures_since`] against this explanation).
    /// A position it does not have is ignored.
    pub fn apply_figures(&mut self, figures: &Figures) {
        self.level = figures.level;
        self.score = figures.score;
        self.coverage = figures.coverage;
        self.pending = figures.pending;
        for f in &figures.parameters {
            if let Some(p) = self.parameters.get_mut(f.index) {
                p.value = f.value;
                p.status = f.status;
                p.band = f.band;
                p.contribution = f.contribution;
                p.note = f.note.clone();
            }
        }
    }
}

/// A level waiting to settle: reached at `since`, taking effect once it has held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub level: u8,
    pub since: DateTime<Utc>,
}

/// A level a person declared in place of the calculated one, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declaration {
    /// OPEL 1–4.
    pub level: u8,
    pub reason: String,
    /// Who declared it (the signed-in user once accounts exist).
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// An entity's level: calculated by the policy, and declared if someone has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Level {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated: Option<Explanation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Declaration>,
}

impl Level {
    /// The level to show: the declared one while in force, else the calculated one.
    pub fn shown(&self) -> Option<u8> {
        match &self.declared {
            Some(d) => Some(d.level),
            None => self.calculated.as_ref().and_then(|e| e.level),
        }
    }

    pub fn calculated_level(&self) -> Option<u8> {
        self.calculated.as_ref().and_then(|e| e.level)
    }
}

/// Which of an entity's levels changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelKind {
    Calculated,
    Declared,
}

impl LevelKind {
    pub fn code(self) -> &'static str {
        match self {
            LevelKind::Calculated => "calculated",
            LevelKind::Declared => "declared",
        }
    }

    pub fn parse(code: &str) -> Option<LevelKind> {
        [LevelKind::Calculated, LevelKind::Declared]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// A change of level, as stored and as the timeline API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelChange {
    pub entity: Entity,
    pub kind: LevelKind,
    pub at: DateTime<Utc>,
    /// The new level; `None`: not calculable (calculated) or withdrawn (declared).
    pub level: Option<u8>,
    /// Calculated levels: what produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// Declared levels: who and why (when withdrawn, who withdrew it and why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who marked an action done, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// One line of an action card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Done>,
}

/// A change of an entity's calculated or declared level, raised to every screen with the
/// action card for the level it moved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub entity: Entity,
    pub kind: LevelKind,
    pub at: DateTime<Utc>,
    pub from: Option<u8>,
    pub to: Option<u8>,
    /// Declared changes: who and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub actions: Vec<Action>,
}

impl Alert {
    /// Whether it moved up a level (an escalation) rather than down.
    pub fn is_escalation(&self) -> bool {
        self.to.unwrap_or(0) > self.from.unwrap_or(0)
    }
}

/// One day's pattern of an entity's levels (Europe/London day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayPattern {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The day's first instant.
    pub start: DateTime<Utc>,
    /// The highest level in each hour of the day from its start (23 or 25 hours on the
    /// days the clocks change); `None` where no level was known; hours still to come are
    /// left out.
    pub hours: Vec<Option<u8>>,
    /// Minutes spent at OPEL 1, 2, 3 and 4, and (last) with no level known.
    pub minutes_at: [u32; 5],
    /// The highest level of the day.
    pub highest: Option<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_round_trip_through_their_names() {
        for name in ["site:MPH", "community:mendip", "community", "system"] {
            let e: Entity = name.parse().expect("valid");
            assert_eq!(e.to_string(), name);
            let json = serde_json::to_string(&e).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
        }
        for bad in ["", "site:", "MPH", "ward:A", "site:M PH", "systems"] {
            assert!(bad.parse::<Entity>().is_err(), "{bad}");
        }
    }

    fn parameter(key: &str, value: Option<f64>, band: Option<u8>) -> ParameterResult {
        ParameterResult {
            key: key.into(),
            label: format!("the {key}"),
            unit: Unit::Share,
            value,
            status: if value.is_some() {
                InputStatus::Ok
            } else {
                InputStatus::Missing
            },
            band,
            weight: 1.0,
            contribution: band.map(f64::from),
            note: None,
        }
    }

    fn explained(level: u8, parameters: Vec<ParameterResult>) -> Explanation {
        Explanation {
            policy: "p".into(),
            policy_version: "1".into(),
            level: Some(level),
            score: Some(f64::from(level)),
            coverage: 1.0,
            parameters,
            pending: None,
        }
    }

    #[test]
    fn figures_carry_only_the_changed_parameters_and_rebuild_the_new_explanation() {
        let old = explained(
            2,
            vec![
                parameter("a", Some(0.5), Some(1)),
                parameter("b", Some(0.9), Some(3)),
                parameter("c", None, None),
            ],
        );
        let mut new = explained(
            3,
            vec![
                parameter("a", Some(0.5), Some(1)),
                parameter("b", Some(0.97), Some(4)),
                parameter("c", Some(0.1), Some(1)),
            ],
        );
        new.pending = Some(Pending {
            level: 4,
            since: "2026-11-25T08:00:00Z".parse().expect("time"),
        });
        let figures = new.figures_since(&old).expect("the same parameters");
        assert_eq!(
            figures
                .parameters
                .iter()
                .map(|p| p.index)
                .collect::<Vec<_>>(),
            vec![1, 2]
        );
        let mut rebuilt = old.clone();
        rebuilt.apply_figures(&figures);
        assert_eq!(rebuilt, new);
        // And back: the pending level is cleared too.
        let mut back = new.clone();
        back.apply_figures(&old.figures_since(&new).expect("the same parameters"));
        assert_eq!(back, old);
    }

    #[test]
    fn a_changed_policy_label_unit_weight_or_parameter_list_needs_the_whole_explanation() {
        let old = explained(2, vec![parameter("a", Some(0.5), Some(1))]);
        let changed: [fn(&mut Explanation); 6] = [
            |e| e.policy_version = "2".into(),
            |e| e.parameters[0].label = "renamed".into(),
            |e| e.parameters[0].unit = Unit::Minutes,
            |e| e.parameters[0].weight = 2.0,
            |e| e.parameters[0].key = "z".into(),
            |e| e.parameters.push(parameter("b", None, None)),
        ];
        for change in changed {
            let mut new = old.clone();
            change(&mut new);
            assert_eq!(new.figures_since(&old), None, "{new:?}");
        }
    }

    #[test]
    fn a_declared_level_is_shown_in_place_of_the_calculated_one() {
        let mut level = Level {
            calculated: Some(Explanation {
                policy: "p".into(),
                policy_version: "1".into(),
                level: Some(2),
                score: Some(2.0),
                coverage: 1.0,
                parameters: vec![],
                pending: None,
            }),
            declared: None,
        };
        assert_eq!(level.shown(), Some(2));
        level.declared = Some(Declaration {
            level: 4,
            reason: "Major incident".into(),
            actor: "Site manager".into(),
            at: DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")
                .expect("time")
                .to_utc(),
        });
        assert_eq!(
            (level.shown(), level.calculated_level()),
            (Some(4), Some(2))
        );
    }
}

//! The `community` feed: a community team's caseload (DESIGN §4.4).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The service a community team provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    CommunityNursing,
    RehabReablement,
    Pathway1Homecare,
    CommunityMentalHealth,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::CommunityNursing,
        Service::RehabReablement,
        Service::Pathway1Homecare,
        Service::CommunityMentalHealth,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Service::CommunityNursing => "community_nursing",
            Service::RehabReablement => "rehab_reablement",
            Service::Pathway1Homecare => "pathway1_homecare",
            Service::CommunityMentalHealth => "community_mental_health",
        }
    }

    pub fn parse(code: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Service::CommunityNursing => "Community nursing",
            Service::RehabReablement => "Rehabilitation and reablement",
            Service::Pathway1Homecare => "Pathway 1 home care",
            Service::CommunityMentalHealth => "Community mental health",
        }
    }
}

/// An accepted `community` record: one team's caseload at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityRecord {
    pub id: String,
    /// The team's base site.
    pub site: String,
    pub at: DateTime<FixedOffset>,
    pub team: String,
    pub service: Service,
    pub caseload: u32,
    pub capacity: u32,
    pub referrals_waiting: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_planned: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_deferred: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmet_care_hours: Option<f64>,
}

impl CommunityRecord {
    /// Caseload against the capacity the team can safely hold (over 1 when over capacity).
    pub fn load(&self) -> f64 {
        f64::from(self.caseload) / f64::from(self.capacity.max(1))
    }
}

/// One locality's community teams added up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommunityTotals {
    pub teams_reporting: u32,
    pub caseload: u32,
    pub capacity: u32,
    pub referrals_waiting: u32,
    pub visits_deferred: u32,
    pub unmet_care_hours: f64,
}

impl CommunityTotals {
    /// Total caseload against total capacity.
    pub fn load(&self) -> Option<f64> {
        (self.capacity > 0).then(|| f64::from(self.caseload) / f64::from(self.capacity))
    }
}

/// Adds up the latest record of each team by the locality `locality_of` gives it.
pub fn by_locality<'a>(
    teams: impl IntoIterator<Item = &'a CommunityRecord>,
    locality_of: impl Fn(&str) -> Option<&'a str>,
) -> std::collections::BTreeMap<String, CommunityTotals> {
    let mut out = std::collections::BTreeMap::<String, CommunityTotals>::new();
    for r in teams {
        let Some(locality) = locality_of(&r.team) else {
            continue;
        };
        let t = out.entry(locality.to_owned()).or_default();
        // Saturating, like the bed totals: the browser sums whatever the wire brings.
        t.teams_reporting = t.teams_reporting.saturating_add(1);
        t.caseload = t.caseload.saturating_add(r.caseload);
        t.capacity = t.capacity.saturating_add(r.capacity);
        t.referrals_waiting = t.referrals_waiting.saturating_add(r.referrals_waiting);
        t.visits_deferred = t
            .visits_deferred
            .saturating_add(r.visits_deferred.unwrap_or(0));
        t.unmet_care_hours += r.unmet_care_hours.unwrap_or(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(
        code: &str,
        caseload: u32,
        capacity: u32,
        waiting: u32,
        hours: Option<f64>,
    ) -> CommunityRecord {
        CommunityRecord {
            id: code.into(),
            site: "SHEP".into(),
            at: DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z").expect("timestamp"),
            team: code.into(),
            service: Service::CommunityNursing,
            caseload,
            capacity,
            referrals_waiting: waiting,
            visits_planned: None,
            visits_deferred: Some(2),
            unmet_care_hours: hours,
        }
    }

    #[test]
    fn caseload_against_capacity_adds_up_by_locality() {
        let teams = [
            team("CN-MENDIP", 630, 600, 30, None),
            team("P1-MENDIP", 150, 160, 12, Some(40.5)),
            team("CN-WESTSOM", 200, 210, 5, Some(3.0)),
        ];
        let locality = |code: &str| {
            Some(if code.ends_with("MENDIP") {
                "E07000187"
            } else {
                "E07000191"
            })
        };
        let totals = by_locality(&teams, locality);
        let mendip = &totals["E07000187"];
        assert_eq!(
            (mendip.teams_reporting, mendip.caseload, mendip.capacity),
            (2, 780, 760)
        );
        assert_eq!(mendip.load(), Some(780.0 / 760.0));
        assert_eq!(
            (
                mendip.referrals_waiting,
                mendip.visits_deferred,
                mendip.unmet_care_hours
            ),
            (42, 4, 40.5)
        );
        assert_eq!(totals["E07000191"].load(), Some(200.0 / 210.0));
        assert_eq!(teams[0].load(), 1.05);
    }
}

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

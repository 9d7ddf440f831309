//! Who may do what (DESIGN §9): the roles of people's accounts, and what each may see and do.
//! The server enforces these; the browser uses them only to leave out what would be refused.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A control-room screen: aggregates only.
    Display,
    /// Aggregates; declares levels and ticks actions.
    SiteManager,
    /// Patient-level delays for their own organisation's sites.
    DischargeCoordinator,
    /// All aggregates, history and exports.
    SystemLeader,
    /// Users, tokens and the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Display,
        Role::SiteManager,
        Role::DischargeCoordinator,
        Role::SystemLeader,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Display => "display",
            Role::SiteManager => "site_manager",
            Role::DischargeCoordinator => "discharge_coordinator",
            Role::SystemLeader => "system_leader",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Display => "Control-room display",
            Role::SiteManager => "Site manager",
            Role::DischargeCoordinator => "Discharge coordinator",
            Role::SystemLeader => "System leader",
            Role::Admin => "Administrator",
        }
    }

    /// Patient-level records (pseudonymous references), for a direct-care reason: only a
    /// discharge coordinator, and only for their own organisation's sites.
    pub fn sees_patients(self) -> bool {
        self == Role::DischargeCoordinator
    }

    /// Declaring levels and ticking actions.
    pub fn declares(self) -> bool {
        self == Role::SiteManager
    }

    /// History, timelines and exports of aggregates.
    pub fn reviews(self) -> bool {
        self != Role::Display
    }

    /// Users, tokens and the audit log.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
                format!("unknown role {s:?}: give one of {}", all.join(", "))
            })
    }
}

/// The signed-in account, as `GET /api/v1/me` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    /// The ODS code of the account's organisation (for a discharge coordinator, whose
    /// sites' patients they may see).
    pub organisation: Option<String>,
    /// Sent back in the `X-CSRF-Token` header of every state-changing request.
    pub csrf: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_codes_and_name_the_choices_otherwise() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>(), Ok(r));
        }
        let e = "owner".parse::<Role>().expect_err("unknown");
        assert!(
            e.contains("display, site_manager, discharge_coordinator, system_leader, admin"),
            "{e}"
        );
    }

    #[test]
    fn only_coordinators_see_patients_and_only_site_managers_declare() {
        let see: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.sees_patients())
            .collect();
        assert_eq!(see, [Role::DischargeCoordinator]);
        let declare: Vec<Role> = Role::ALL.into_iter().filter(|r| r.declares()).collect();
        assert_eq!(declare, [Role::SiteManager]);
        assert!(!Role::Display.reviews());
    }
}

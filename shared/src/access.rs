//! Who may do what (DESIGN §9): the roles of people's accounts, and what each may see and do.
//! The server enforces these; the browser uses them only to leave out what would be refused.

use crate::escalation::Entity;
use crate::reference::{ReferenceData, SiteKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A control-room screen: aggregates only.
    Display,
    /// Aggregates; declares levels and ticks actions for their own organisation's sites.
    SiteManager,
    /// Patient-level delays for their own organisation's sites.
    DischargeCoordinator,
    /// All aggregates, history and exports; declares levels and ticks actions for the
    /// system, community services and their localities (the system coordination centre).
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

    /// Declaring levels and ticking actions of some entity; which ones, [`acts_on`] says.
    pub fn declares(self) -> bool {
        matches!(self, Role::SiteManager | Role::SystemLeader)
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

/// Why an account may not declare a level for an entity or tick its alerts' actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The role acts on no level (display, discharge coordinator, administrator).
    Role(Role),
    /// A site manager's account without an organisation: it acts on nothing.
    NoOrganisation,
    /// A site the account's organisation does not run (`theirs`: the site's organisation).
    OtherOrganisation {
        entity: Entity,
        ours: String,
        theirs: Option<String>,
    },
    /// A site with no level to act on (not an acute or community hospital), or unknown.
    NotActedOn(Entity),
    /// The system, community services or a locality: a system leader's.
    SystemLevel(Entity),
    /// A site: its own organisation's site managers'.
    Site(Entity),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Role(role) => write!(
                f,
                "a {} may not declare levels or tick actions",
                role.label().to_lowercase()
            ),
            Refusal::NoOrganisation => f.write_str(
                "this site manager's account has no organisation, so it acts on no site: an administrator must give it one",
            ),
            Refusal::OtherOrganisation {
                entity,
                ours,
                theirs,
            } => write!(
                f,
                "{entity} is run by {}, not by this account's organisation {ours}: a site manager acts only on their own organisation's sites",
                theirs.as_deref().unwrap_or("another organisation")
            ),
            Refusal::NotActedOn(entity) => {
                write!(f, "no site manager acts on {entity}")
            }
            Refusal::SystemLevel(entity) => write!(
                f,
                "{entity} is the system's, not a site's: only a system leader declares its level and ticks its actions"
            ),
            Refusal::Site(entity) => write!(
                f,
                "{entity} is a site: only its own organisation's site managers declare its level and tick its actions"
            ),
        }
    }
}

/// Whether an account with `role` and `organisation` (an ODS code) may declare a level for
/// `entity` and tick the actions of its alerts. The one rule, kept by the server on every
/// declaration and tick, and used by the browser only to leave out what would be refused:
///
/// - a site manager acts on the acute and community hospital sites whose organisation is
///   theirs, and on nothing without an organisation;
/// - a system leader (the system coordination centre) acts on the system, community
///   services and their localities, and on no site;
/// - no other role acts on any level.
pub fn acts_on(
    role: Role,
    organisation: Option<&str>,
    entity: &Entity,
    reference: &ReferenceData,
) -> Result<(), Refusal> {
    match (role, entity) {
        (Role::SiteManager, Entity::Site(code)) => {
            let Some(ours) = organisation.filter(|o| !o.is_empty()) else {
                return Err(Refusal::NoOrganisation);
            };
            let site = reference
                .site(code)
                .filter(|s| {
                    matches!(
                        s.kind,
                        SiteKind::Acute | SiteKind::OutOfCountyAcute | SiteKind::CommunityHospital
                    )
                })
                .ok_or_else(|| Refusal::NotActedOn(entity.clone()))?;
            if site.organisation_ods.as_deref() == Some(ours) {
                Ok(())
            } else {
                Err(Refusal::OtherOrganisation {
                    entity: entity.clone(),
                    ours: ours.to_owned(),
                    theirs: site.organisation_ods.clone(),
                })
            }
        }
        (Role::SiteManager, _) => Err(Refusal::SystemLevel(entity.clone())),
        (Role::SystemLeader, Entity::System | Entity::Community | Entity::Locality(_)) => Ok(()),
        (Role::SystemLeader, Entity::Site(_)) => Err(Refusal::Site(entity.clone())),
        (role, _) => Err(Refusal::Role(role)),
    }
}

/// The signed-in account, as `GET /api/v1/me` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    /// The ODS code of the account's organisation: for a discharge coordinator, whose
    /// sites' patients they may see; for a site manager, whose sites they act on.
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
    fn only_coordinators_see_patients_and_only_site_managers_and_system_leaders_declare() {
        let see: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.sees_patients())
            .collect();
        assert_eq!(see, [Role::DischargeCoordinator]);
        let declare: Vec<Role> = Role::ALL.into_iter().filter(|r| r.declares()).collect();
        assert_eq!(declare, [Role::SiteManager, Role::SystemLeader]);
        assert!(!Role::Display.reviews());
    }

    fn site(code: &str, kind: SiteKind, ods: Option<&str>) -> crate::reference::Site {
        crate::reference::Site {
            code: code.into(),
            name: code.into(),
            short_name: code.into(),
            kind,
            town: String::new(),
            organisation: String::new(),
            organisation_ods: ods.map(str::to_owned),
            site_ods: None,
            lon: 0.0,
            lat: 0.0,
            approx: false,
            locality: None,
            feeds: Default::default(),
        }
    }

    #[test]
    fn site_managers_act_on_their_own_trust_s_hospitals_and_system_leaders_on_the_system() {
        let reference = ReferenceData {
            system: "Somerset".into(),
            sites: vec![
                site("MPH", SiteKind::Acute, Some("RH5")),
                site("SHEP", SiteKind::CommunityHospital, Some("RH5")),
                site("MHTA", SiteKind::MentalHealth, Some("RH5")),
                site("RUH", SiteKind::OutOfCountyAcute, Some("RD1")),
                site("SMHT", SiteKind::Hospice, None),
            ],
            boundary: vec![],
            localities: vec![],
            context: vec![],
            teams: vec![],
            notes: vec![],
            attribution: vec![],
        };
        let entity = |e: &str| e.parse::<Entity>().expect("an entity");
        let may = |role, org: Option<&str>, e: &str| acts_on(role, org, &entity(e), &reference);
        for e in ["site:MPH", "site:SHEP"] {
            assert_eq!(may(Role::SiteManager, Some("RH5"), e), Ok(()), "{e}");
        }
        assert_eq!(may(Role::SiteManager, Some("RD1"), "site:RUH"), Ok(()));
        let refused = may(Role::SiteManager, Some("RH5"), "site:RUH").expect_err("Bath's");
        assert_eq!(
            refused.to_string(),
            "site:RUH is run by RD1, not by this account's organisation RH5: a site manager acts only on their own organisation's sites"
        );
        for e in ["site:MHTA", "site:SMHT", "site:NOPE"] {
            assert_eq!(
                may(Role::SiteManager, Some("RH5"), e),
                Err(Refusal::NotActedOn(entity(e))),
                "{e}"
            );
        }
        for org in [None, Some("")] {
            assert_eq!(
                may(Role::SiteManager, org, "site:MPH"),
                Err(Refusal::NoOrganisation)
            );
        }
        for e in ["system", "community", "community:E07000187"] {
            assert_eq!(may(Role::SystemLeader, None, e), Ok(()), "{e}");
            assert_eq!(
                may(Role::SiteManager, Some("RH5"), e),
                Err(Refusal::SystemLevel(entity(e)))
            );
        }
        assert_eq!(
            may(Role::SystemLeader, Some("RH5"), "site:MPH"),
            Err(Refusal::Site(entity("site:MPH")))
        );
        for role in [Role::Display, Role::DischargeCoordinator, Role::Admin] {
            for e in ["site:MPH", "system"] {
                assert_eq!(may(role, Some("RH5"), e), Err(Refusal::Role(role)));
            }
        }
    }
}

//! Validation of the `community` feed (DESIGN §4.4).

use super::fields::Fields;
use super::{Envelope, RecordContext};
use levels_shared::community::{CommunityRecord, Service};

const SERVICES: [&str; 4] = [
    "community_nursing",
    "rehab_reablement",
    "pathway1_homecare",
    "community_mental_health",
];

pub fn validate(
    f: &mut Fields,
    envelope: Envelope,
    ctx: &RecordContext,
) -> Option<CommunityRecord> {
    let team = f.string("team", 1, 64);
    let service = f.code("service", Service::parse, &SERVICES);
    let caseload = f.count("caseload");
    let capacity = f.count("capacity");
    let referrals_waiting = f.count("referrals_waiting");
    let visits_planned = f.opt_count("visits_planned");
    let visits_deferred = f.opt_count("visits_deferred");
    let unmet_care_hours = f.opt_number("unmet_care_hours");

    if capacity == Some(0) {
        f.error(
            "capacity",
            "capacity must be more than 0: the caseload the team can safely hold today",
        );
    }
    if let Some(code) = &team {
        match ctx.reference.team(code) {
            None => f.error("team", format!("team {code:?} is not a known team code")),
            Some(known) => {
                // A community record's site is its team's base site (DESIGN §4.4).
                if !envelope.site.is_empty() && envelope.site != known.base_site {
                    f.error(
                        "site",
                        format!(
                            "site {:?} is not team {code}'s base site {:?}",
                            envelope.site, known.base_site
                        ),
                    );
                }
                if service.is_some_and(|s| s != known.service) {
                    f.error(
                        "service",
                        format!(
                            "service {} is not what team {code} provides: {}",
                            service.map_or("", |s| s.code()),
                            known.service.code()
                        ),
                    );
                }
            }
        }
    }

    Some(CommunityRecord {
        id: envelope.id,
        site: envelope.site,
        at: envelope.at,
        team: team?,
        service: service?,
        caseload: caseload?,
        capacity: capacity?,
        referrals_waiting: referrals_waiting?,
        visits_planned,
        visits_deferred,
        unmet_care_hours,
    })
}

#[cfg(test)]
mod tests {
    use super::super::body::Format;
    use super::super::testing::{error_fields, validate_one, with};
    use levels_shared::feed::Feed;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "id": "c1", "site": "SHEP", "at": "2026-11-25T08:00:00Z", "team": "CN-MENDIP",
            "service": "community_nursing", "caseload": 612, "capacity": 600, "referrals_waiting": 31,
            "visits_planned": 410, "visits_deferred": 22, "unmet_care_hours": 0,
        })
    }

    fn errors(changes: Value) -> Vec<String> {
        error_fields(Feed::Community, with(valid(), changes))
    }

    #[test]
    fn a_team_over_its_capacity_is_valid() {
        assert!(validate_one(Feed::Community, Format::Json, valid()).is_ok());
        assert!(validate_one(
            Feed::Community,
            Format::Csv,
            with(valid(), json!({"unmet_care_hours": 12.5}))
        )
        .is_ok());
    }

    #[test]
    fn the_team_must_be_known_and_post_from_its_base_site_with_its_service() {
        let unknown = validate_one(
            Feed::Community,
            Format::Json,
            with(valid(), json!({"team": "CN-NOWHERE"})),
        );
        assert_eq!(
            unknown.expect_err("unknown team")[0],
            (
                "team".into(),
                "team \"CN-NOWHERE\" is not a known team code".into()
            )
        );
        assert_eq!(errors(json!({"site": "BWCH"})), ["site"]);
        assert_eq!(errors(json!({"service": "rehab_reablement"})), ["service"]);
        assert_eq!(errors(json!({"service": "district_nursing"})), ["service"]);
    }

    #[test]
    fn capacity_is_more_than_zero_and_counts_are_required() {
        assert_eq!(errors(json!({"capacity": 0})), ["capacity"]);
        for field in ["caseload", "capacity", "referrals_waiting"] {
            assert_eq!(errors(json!({field: null})), [field], "{field}");
        }
        assert_eq!(
            errors(json!({"unmet_care_hours": -0.5})),
            ["unmet_care_hours"]
        );
    }
}

//! Every entity's calculated level at once, from the live state: each acute site, each
//! community locality, community services as a whole, and the system roll-up of them.

use super::engine::{self, Member};
use super::inputs::{self, CommunityArea};
use super::policy::{PillarKind, Policy, Size};
use chrono::{DateTime, Utc};
use levels_shared::escalation::{Entity, Explanation};
use levels_shared::live::{LiveState, SiteState};
use levels_shared::reference::ReferenceData;

/// The calculated level of every entity the policy has a pillar for, members before the
/// system that rolls them up. `settle` turns each assessed explanation into the one shown
/// (see `settle.rs`), so the system rolls up the levels its members show.
pub fn assess(
    policy: &Policy,
    reference: &ReferenceData,
    live: &LiveState,
    now: DateTime<Utc>,
    mut settle: impl FnMut(&Entity, Explanation) -> Explanation,
) -> Vec<(Entity, Explanation)> {
    let mut out = Vec::new();
    let mut put = |out: &mut Vec<(Entity, Explanation)>, entity: Entity, e: Explanation| {
        let shown = settle(&entity, e);
        out.push((entity, shown));
    };
    if let Some(pillar) = policy.pillar(PillarKind::Acute) {
        let empty = SiteState::default();
        for site in reference.sites.iter().filter(|s| s.kind.is_acute()) {
            let state = live.sites.get(&site.code).unwrap_or(&empty);
            let e = engine::evaluate(policy, pillar, |m| inputs::acute(m, site, state, now));
            put(&mut out, Entity::Site(site.code.clone()), e);
        }
    }
    if let Some(pillar) = policy.pillar(PillarKind::Community) {
        for locality in &reference.localities {
            let area = CommunityArea::gather(reference, live, Some(&locality.code), now);
            let e = engine::evaluate(policy, pillar, |m| area.input(m));
            put(&mut out, Entity::Locality(locality.code.clone()), e);
        }
        let area = CommunityArea::gather(reference, live, None, now);
        let e = engine::evaluate(policy, pillar, |m| area.input(m));
        put(&mut out, Entity::Community, e);
    }
    if let Some(pillar) = policy.pillar(PillarKind::System) {
        let members = members(pillar, reference, live, &out, now);
        let e = engine::roll_up(policy, pillar, &members);
        put(&mut out, Entity::System, e);
    }
    out
}

/// The system pillar's members with their scores (from `assessed`) and sizes.
fn members(
    pillar: &super::policy::Pillar,
    reference: &ReferenceData,
    live: &LiveState,
    assessed: &[(Entity, Explanation)],
    now: DateTime<Utc>,
) -> Vec<Member> {
    let result = |entity: &Entity| assessed.iter().find(|(e, _)| e == entity).map(|(_, x)| x);
    let mut members = Vec::new();
    for m in &pillar.members {
        let fixed = match m.size.get_ref() {
            Size::Fixed(w) => Some(*w),
            Size::Measure(_) => None,
        };
        match m.pillar.get_ref() {
            PillarKind::Acute => {
                // The system's own acute hospitals; out-of-county ones belong to theirs.
                for site in reference
                    .sites
                    .iter()
                    .filter(|s| s.kind == levels_shared::reference::SiteKind::Acute)
                {
                    let entity = Entity::Site(site.code.clone());
                    let size = fixed.or_else(|| match m.size.get_ref() {
                        Size::Measure(name) => inputs::acute_size(name, live.sites.get(&site.code)),
                        Size::Fixed(_) => None,
                    });
                    members.push(member(&entity, site.name.clone(), result(&entity), size));
                }
            }
            PillarKind::Community => {
                let size = fixed.or_else(|| {
                    let places = CommunityArea::gather(reference, live, None, now).places();
                    (places > 0.0).then_some(places)
                });
                let entity = Entity::Community;
                members.push(member(
                    &entity,
                    "Community services".into(),
                    result(&entity),
                    size,
                ));
            }
            PillarKind::System => {}
        }
    }
    members
}

fn member(entity: &Entity, label: String, e: Option<&Explanation>, size: Option<f64>) -> Member {
    Member {
        key: entity.to_string(),
        label,
        score: e.and_then(|e| e.score),
        level: e.and_then(|e| e.level),
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levels_shared::beds::{BedPool, BedsRecord};
    use levels_shared::community::{CommunityRecord, Service};
    use levels_shared::escalation::InputStatus;
    use levels_shared::live::Change;
    use levels_shared::reference::{Area, Site, SiteKind, Team};
    use std::path::Path;

    const AT: &str = "2026-11-25T08:00:00Z";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T08:10:00Z")
            .expect("time")
            .to_utc()
    }

    fn site(code: &str, kind: SiteKind, locality: &str) -> Site {
        Site {
            code: code.into(),
            name: format!("{code} Hospital"),
            short_name: code.into(),
            kind,
            town: "Town".into(),
            organisation: "Trust".into(),
            organisation_ods: None,
            site_ods: None,
            lon: 0.0,
            lat: 0.0,
            approx: false,
            locality: Some(locality.into()),
            feeds: Default::default(),
        }
    }

    fn area(code: &str) -> Area {
        Area {
            code: code.into(),
            name: code.into(),
            polygons: vec![],
        }
    }

    fn team(code: &str, locality: &str, service: Service) -> Team {
        Team {
            code: code.into(),
            name: code.into(),
            service,
            locality: locality.into(),
            base_site: "C1".into(),
            interval_minutes: 15,
        }
    }

    /// Two in-county acute sites, one out of county, two localities with a team each,
    /// one community hospital in L1.
    fn reference() -> ReferenceData {
        ReferenceData {
            system: "Test".into(),
            sites: vec![
                site("A1", SiteKind::Acute, "L1"),
                site("A2", SiteKind::Acute, "L2"),
                site("OUT", SiteKind::OutOfCountyAcute, "L2"),
                site("C1", SiteKind::CommunityHospital, "L1"),
            ],
            boundary: vec![],
            localities: vec![area("L1"), area("L2")],
            context: vec![],
            teams: vec![
                team("T1", "L1", Service::CommunityNursing),
                team("T2", "L2", Service::Pathway1Homecare),
            ],
            notes: vec![],
            attribution: vec![],
        }
    }

    /// One acute parameter (G&A occupancy), two community ones (caseload load and
    /// community bed occupancy), and the system: acute by open G&A beds, community as 100.
    fn policy() -> Policy {
        let levels = "levels = [{ level = 2, from = 1.75 }, { level = 3, from = 2.5 }, { level = 4, from = 3.25 }]\nwhen_incomplete = \"compute\"\nmin_coverage = 0.5\n";
        let text = format!(
            "name = \"t\"\nversion = \"1\"\n\
             [[pillar]]\nkind = \"acute\"\n{levels}\
             [[pillar.parameter]]\nkey = \"occ\"\nlabel = \"Occ\"\nmeasure = \"ga_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.90, 0.95, 0.98]\nweight = 1.0\n\
             [[pillar]]\nkind = \"community\"\n{levels}\
             [[pillar.parameter]]\nkey = \"load\"\nlabel = \"Load\"\nmeasure = \"community_caseload_load\"\ndirection = \"higher_is_worse\"\nthresholds = [0.95, 1.0, 1.05]\nweight = 2.0\n\
             [[pillar.parameter]]\nkey = \"beds\"\nlabel = \"Beds\"\nmeasure = \"community_bed_occupancy\"\ndirection = \"higher_is_worse\"\nthresholds = [0.90, 0.95, 0.98]\nweight = 1.0\n\
             [[pillar]]\nkind = \"system\"\n{levels}\
             [[pillar.member]]\npillar = \"acute\"\nsize = \"ga_beds_open\"\n\
             [[pillar.member]]\npillar = \"community\"\nsize = 100\n"
        );
        Policy::parse(&text, Path::new("t.toml")).expect("valid")
    }

    fn beds(site: &str, pool: BedPool, core: u32, occupied: u32) -> Change {
        Change::Beds {
            record: BedsRecord::fixture(site, pool, core, occupied, AT),
        }
    }

    fn caseload(team: &str, caseload: u32, capacity: u32) -> Change {
        Change::Community {
            record: CommunityRecord {
                id: team.into(),
                site: "C1".into(),
                at: DateTime::parse_from_rfc3339(AT).expect("time"),
                team: team.into(),
                service: Service::CommunityNursing,
                caseload,
                capacity,
                referrals_waiting: 0,
                visits_planned: None,
                visits_deferred: None,
                unmet_care_hours: None,
            },
        }
    }

    fn live(changes: &[Change]) -> LiveState {
        let mut live = LiveState::default();
        for c in changes {
            live.apply(c);
        }
        live
    }

    fn find<'a>(out: &'a [(Entity, Explanation)], name: &str) -> &'a Explanation {
        let entity: Entity = name.parse().expect("entity");
        &out.iter().find(|(e, _)| *e == entity).expect(name).1
    }

    #[test]
    fn localities_community_and_system_roll_up_by_hand() {
        let live = live(&[
            // A1: 300 beds, 291 occupied = 0.97 → band 3; A2: 100 beds, 89 occupied → band 1.
            beds("A1", BedPool::GeneralAcuteAdult, 300, 291),
            beds("A2", BedPool::GeneralAcuteAdult, 100, 89),
            // Out of county: its own level, not part of this system.
            beds("OUT", BedPool::GeneralAcuteAdult, 500, 500),
            // C1 (L1) community beds 20, 19 occupied = 0.95 → band 3.
            beds("C1", BedPool::CommunityInpatient, 20, 19),
            // L1: load 1.02 → band 3; L2: load 0.90 → band 1.
            caseload("T1", 102, 100),
            caseload("T2", 45, 50),
        ]);
        let out = assess(&policy(), &reference(), &live, now(), |_, e| e);

        assert_eq!(find(&out, "site:A1").level, Some(3));
        assert_eq!(find(&out, "site:A2").level, Some(1));
        assert_eq!(find(&out, "site:OUT").level, Some(4));

        // L1: (3×2 + 3×1) / 3 = 3.0 → OPEL 3.
        let l1 = find(&out, "community:L1");
        assert_eq!((l1.score, l1.level), (Some(3.0), Some(3)));
        // L2: no community hospital: load alone (weight 2 of 3 ≥ 0.5) → 1.0.
        let l2 = find(&out, "community:L2");
        assert_eq!(
            (l2.score, l2.level, l2.coverage),
            (Some(1.0), Some(1), 2.0 / 3.0)
        );
        assert_eq!(l2.parameters[1].status, InputStatus::Missing);
        // All community: load (102 + 45) / 150 = 0.98 → band 2; beds band 3: (2×2 + 3) / 3.
        let all = find(&out, "community");
        assert_eq!(all.score, Some(7.0 / 3.0));
        assert_eq!(all.level, Some(2));

        // System: A1 score 3 × 300 beds, A2 1 × 100, community 7/3 × 100; OUT left out.
        let system = find(&out, "system");
        let expected = (3.0 * 300.0 + 1.0 * 100.0 + 7.0 / 3.0 * 100.0) / 500.0;
        assert!((system.score.expect("score") - expected).abs() < 1e-9);
        assert_eq!(system.level, Some(2), "{expected}");
        let keys: Vec<(&str, f64)> = system
            .parameters
            .iter()
            .map(|p| (p.key.as_str(), p.weight))
            .collect();
        assert_eq!(
            keys,
            [("site:A1", 300.0), ("site:A2", 100.0), ("community", 100.0)]
        );
        let contributions: f64 = system
            .parameters
            .iter()
            .filter_map(|p| p.contribution)
            .sum();
        assert!(
            (contributions - expected).abs() < 1e-9,
            "contributions add up to the score"
        );
    }

    #[test]
    fn a_stale_member_is_left_out_of_the_system_and_counts_against_coverage() {
        // A1's beds are from 07:00: at 08:10 they are stale (beds are expected every 15
        // minutes by default), so A1 has no level and the system uses A2 and community only.
        let live = live(&[
            Change::Beds {
                record: BedsRecord::fixture(
                    "A1",
                    BedPool::GeneralAcuteAdult,
                    300,
                    291,
                    "2026-11-25T07:00:00Z",
                ),
            },
            beds("A2", BedPool::GeneralAcuteAdult, 100, 89),
            caseload("T1", 102, 100),
            caseload("T2", 45, 50),
        ]);
        let out = assess(&policy(), &reference(), &live, now(), |_, e| e);
        assert_eq!(find(&out, "site:A1").level, None);
        let system = find(&out, "system");
        // A1 weighs 300 of 500: coverage 0.4 < 0.5, so the system level is withheld.
        assert_eq!((system.level, system.coverage), (None, 0.4));
        assert_eq!(system.parameters[0].status, InputStatus::Missing);
    }

    #[test]
    fn a_stale_team_is_left_out_with_a_note_until_fresh_teams_are_too_few() {
        let stale_at = DateTime::parse_from_rfc3339("2026-11-25T07:00:00Z").expect("time");
        let mut old = caseload("T2", 60, 50);
        if let Change::Community { record } = &mut old {
            record.at = stale_at;
        }
        // T1 (100 places, fresh) outweighs T2 (50 places, stale): the county's load is T1's.
        let live1 = live(&[caseload("T1", 102, 100), old.clone()]);
        let out = assess(&policy(), &reference(), &live1, now(), |_, e| e);
        let load = &find(&out, "community").parameters[0];
        assert_eq!((load.value, load.status), (Some(1.02), InputStatus::Ok));
        assert_eq!(load.note.as_deref(), Some("from 1 of 2 teams; 1 stale"));
        // L2 has only T2: its load is stale, shown but not scored.
        let l2 = &find(&out, "community:L2").parameters[0];
        assert_eq!((l2.value, l2.status), (Some(1.2), InputStatus::Stale));

        // With T1 the smaller (40 places), fresh teams are too few: the county's is stale.
        let live2 = live(&[caseload("T1", 41, 40), old]);
        let out = assess(&policy(), &reference(), &live2, now(), |_, e| e);
        let load = &find(&out, "community").parameters[0];
        assert_eq!(load.status, InputStatus::Stale);
        assert_eq!(load.note.as_deref(), Some("1 of 2 teams stale"));
        assert!((load.value.expect("value") - 101.0 / 90.0).abs() < 1e-9);
    }
}

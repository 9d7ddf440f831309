//! The community view (`/community`): each locality's community OPEL level on the map;
//! localities and teams with caseload against capacity, referrals waiting, deferred visits
//! and unmet care hours; and the trends. A team whose report is too old is greyed and says
//! how old; its figures are not added into its locality's.

use crate::components::chart::Scale;
use crate::components::locality_map::{LocalityMap, Shading};
use crate::components::opel::OpelBadge;
use crate::components::trends::{Trend, Trends};
use crate::format;
use crate::route::Link;
use chrono::{DateTime, Utc};
use levels_shared::community::{self, CommunityRecord};
use levels_shared::escalation::{Entity, Level};
use levels_shared::freshness::Freshness;
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    pub live: Rc<LiveState>,
    pub now: DateTime<Utc>,
}

#[function_component(CommunityView)]
pub fn community_view(props: &Props) -> Html {
    let reference = &props.reference;
    let live = &props.live;
    // Teams with their latest record and whether it is fresh.
    let teams: Vec<(
        &levels_shared::reference::Team,
        Option<&CommunityRecord>,
        bool,
    )> = reference
        .teams
        .iter()
        .map(|t| {
            let record = live.teams.get(&t.code);
            let fresh = t.freshness(record, props.now).status == Freshness::Fresh;
            (t, record, fresh)
        })
        .collect();
    let locality_of = |code: &str| reference.team(code).map(|t| t.locality.as_str());
    let totals = community::by_locality(
        teams
            .iter()
            .filter(|(_, _, fresh)| *fresh)
            .filter_map(|(_, r, _)| *r),
        locality_of,
    );
    let level_of = |e: Entity| live.levels.get(&e).cloned();
    let values: BTreeMap<String, (u32, String)> = reference
        .localities
        .iter()
        .map(|a| {
            let shown = level_of(Entity::Locality(a.code.clone()))
                .as_ref()
                .and_then(Level::shown);
            let load = totals
                .get(&a.code)
                .and_then(|t| t.load())
                .map(format::percent);
            let text = format!(
                "OPEL {}\n{}",
                shown.map_or("–".into(), |l| l.to_string()),
                load.unwrap_or_else(|| "–".into())
            );
            (a.code.clone(), (u32::from(shown.unwrap_or(0)), text))
        })
        .collect();

    let locality_rows = reference.localities.iter().map(|a| {
        let t = totals.get(&a.code);
        let expected = teams.iter().filter(|(team, _, _)| team.locality == a.code).count();
        let fresh = teams.iter().filter(|(team, _, f)| team.locality == a.code && *f).count();
        let entity = Entity::Locality(a.code.clone());
        html! {
            <tr key={a.code.clone()} data-locality={a.code.clone()}>
                <th scope="row"><Link to={format!("/system?entity={entity}")}>{ &a.name }</Link></th>
                <td><OpelBadge level={level_of(entity.clone())} /></td>
                <td class="num">{ t.map_or("–".into(), |t| format!("{} / {}", t.caseload, t.capacity)) }</td>
                <td class="num strong">{ t.and_then(|t| t.load()).map_or("–".into(), format::percent) }</td>
                <td class="num">{ t.map_or("–".into(), |t| t.referrals_waiting.to_string()) }</td>
                <td class="num">{ t.map_or("–".into(), |t| t.visits_deferred.to_string()) }</td>
                <td class="num">{ t.map_or("–".into(), |t| format!("{:.0}", t.unmet_care_hours)) }</td>
                <td class={classes!("num", (fresh < expected).then_some("warn"))}>{ format!("{fresh} of {expected}") }</td>
            </tr>
        }
    });
    let team_rows = teams.iter().map(|(team, record, fresh)| {
        let locality = reference.locality(&team.locality).map_or(team.locality.clone(), |a| a.name.clone());
        let cells = match record {
            Some(r) => html! {
                <>
                    <td class="num">{ format!("{} / {}", r.caseload, r.capacity) }</td>
                    <td class="num strong">{ format::percent(r.load()) }</td>
                    <td class="num">{ r.referrals_waiting }</td>
                    <td class="num">{ match (r.visits_deferred, r.visits_planned) {
                        (Some(d), Some(p)) => format!("{d} of {p}"),
                        (Some(d), None) => d.to_string(),
                        _ => "–".into(),
                    } }</td>
                    <td class="num">{ r.unmet_care_hours.map_or("–".into(), |h| format!("{h:.0}")) }</td>
                    <td>{ if *fresh { format::clock(&r.at) } else { format!("STALE · {}", format::age(r.at.to_utc(), props.now)) } }</td>
                </>
            },
            None => html! { <><td colspan="5" class="muted">{ "no report received" }</td><td>{ "MISSING" }</td></> },
        };
        html! {
            <tr key={team.code.clone()} class={classes!((!fresh).then_some("stale"))} data-team={team.code.clone()}>
                <th scope="row">{ &team.name }</th>
                <td>{ team.service.label() }</td>
                <td>{ locality }</td>
                { cells }
            </tr>
        }
    });
    let localities: Vec<(String, String)> = reference
        .localities
        .iter()
        .map(|a| (format!("locality:{}", a.code), a.name.clone()))
        .collect();
    let trends = vec![
        Trend {
            title: "Caseload against capacity".into(),
            measure: "community_load".into(),
            scale: Scale::Percent,
            entities: localities.clone(),
        },
        Trend {
            title: "Referrals waiting".into(),
            measure: "referrals_waiting".into(),
            scale: Scale::Count,
            entities: localities,
        },
    ];
    html! {
        <main class="community-view">
            <section class="community-map">
                <div class="explain-head">
                    <h2>{ "Community services" }</h2>
                    <OpelBadge level={level_of(Entity::Community)} />
                    <Link to="/system?entity=community" class="export">{ "Why?" }</Link>
                </div>
                <LocalityMap reference={reference.clone()} {values} shading={Shading::Opel} title="Community OPEL and caseload against capacity, by locality" />
                <Trends {trends} hours={24} now={props.now} />
            </section>
            <section class="community-tables">
                <table class="data-table">
                    <caption>{ "Localities (fresh teams only)" }</caption>
                    <thead><tr>
                        <th scope="col">{ "Locality" }</th><th scope="col">{ "Level" }</th><th scope="col">{ "Caseload / capacity" }</th>
                        <th scope="col">{ "Load" }</th><th scope="col">{ "Referrals waiting" }</th><th scope="col">{ "Visits deferred" }</th>
                        <th scope="col">{ "Unmet care hours" }</th><th scope="col">{ "Teams reporting" }</th>
                    </tr></thead>
                    <tbody>{ for locality_rows }</tbody>
                </table>
                <table class="data-table">
                    <caption>{ "Teams" }</caption>
                    <thead><tr>
                        <th scope="col">{ "Team" }</th><th scope="col">{ "Service" }</th><th scope="col">{ "Locality" }</th>
                        <th scope="col">{ "Caseload / capacity" }</th><th scope="col">{ "Load" }</th><th scope="col">{ "Referrals waiting" }</th>
                        <th scope="col">{ "Visits deferred" }</th><th scope="col">{ "Unmet care hours" }</th><th scope="col">{ "Reported" }</th>
                    </tr></thead>
                    <tbody>{ for team_rows }</tbody>
                </table>
            </section>
        </main>
    }
}

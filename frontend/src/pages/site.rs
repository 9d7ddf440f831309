//! The site view (`/sites/{code}`): everything about one site. Its level and why, how fresh
//! each of its feeds is, its bed pools, emergency department, ambulance handovers and
//! delayed discharges, and its trends.

use crate::components::bars::Bars;
use crate::components::chart::Scale;
use crate::components::declare::DeclareForm;
use crate::components::opel::OpelBadge;
use crate::components::site_tile::SiteTile;
use crate::components::trends::{Trend, Trends};
use crate::format;
use crate::route::Link;
use chrono::{DateTime, Utc};
use levels_shared::access::acts_on;
use levels_shared::discharge::ReasonGroup;
use levels_shared::disclosure::{Breakdown, NOT_STATED};
use levels_shared::escalation::Entity;
use levels_shared::feed::Feed;
use levels_shared::freshness::Freshness;
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    pub live: Rc<LiveState>,
    pub now: DateTime<Utc>,
    pub code: String,
}

fn opt(v: Option<u32>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

#[function_component(SiteView)]
pub fn site_view(props: &Props) -> Html {
    let account = use_context::<Rc<levels_shared::access::Me>>().expect("signed in");
    let Some(site) = props.reference.site(&props.code) else {
        return html! { <main class="site-view"><p class="notice">{ format!("There is no site {}.", props.code) }</p></main> };
    };
    let state = props.live.sites.get(&site.code);
    let entity = Entity::Site(site.code.clone());
    let level = props.live.levels.get(&entity).cloned();

    let feeds = site.freshness(state, props.now).into_iter().map(|f| {
        let (class, text) = match (f.status, f.last_at) {
            (Freshness::Fresh, Some(at)) => ("fresh", format!("{} · {}", f.feed, format::clock(&at))),
            (Freshness::Stale, Some(at)) => ("stale", format!("{} · STALE, {}", f.feed, format::age(at.to_utc(), props.now))),
            _ => ("missing", format!("{} · MISSING", f.feed)),
        };
        html! { <li class={classes!("feed", class)} title={format!("expected every {} minutes", f.expected_minutes)}>{ text }</li> }
    });

    // Each feed's block is greyed and captioned with its age once stale (DESIGN §5).
    let stale = |feed: Feed| {
        state
            .and_then(|s| s.feeds.get(&feed))
            .filter(|at| site.is_stale(feed, **at, props.now))
            .map(|at| format!(" · STALE, {}", format::age(at.to_utc(), props.now)))
    };
    let stale_class = |feed: Feed| stale(feed).is_some().then_some("stale");
    let pools = state
        .map(|s| s.beds.values().collect::<Vec<_>>())
        .unwrap_or_default();
    let pool_rows = pools.iter().map(|r| html! {
        <tr key={r.pool.code()}>
            <th scope="row">{ r.pool.label() }</th>
            <td class="num">{ r.core_open }</td><td class="num">{ r.escalation_open }</td>
            <td class="num">{ r.occupied }</td><td class="num strong">{ (r.core_open + r.escalation_open).saturating_sub(r.occupied) }</td>
            <td class="num">{ r.closed_ipc }</td>
            <td class="num">{ opt(r.los_7_plus) }</td><td class="num">{ opt(r.los_14_plus) }</td><td class="num">{ opt(r.los_21_plus) }</td>
            <td class="num">{ opt(r.expected_discharges_today) }</td>
            <td>{ format::clock(&r.at) }</td>
        </tr>
    });

    let ed = state.and_then(|s| s.ed.as_ref()).map(|e| html! {
        <table class={classes!("data-table", stale_class(Feed::Ed))}>
            <caption>{ format!("Emergency department at {}{}", format::clock(&e.at), stale(Feed::Ed).unwrap_or_default()) }</caption>
            <tbody>
                <tr><th scope="row">{ "In the department" }</th><td class="num strong">{ e.in_department }</td></tr>
                <tr><th scope="row">{ "Over 4 hours / over 12 hours" }</th><td class="num">{ format!("{} / {}", e.over_4h, e.over_12h) }</td></tr>
                <tr><th scope="row">{ "Awaiting admission" }</th><td class="num">{ e.awaiting_admission }</td></tr>
                <tr><th scope="row">{ "4-hour performance today" }</th><td class="num">{ e.four_hour_performance().map_or("–".into(), format::percent) }</td></tr>
                <tr><th scope="row">{ "Majors and resus occupancy" }</th><td class="num">{ e.majors_resus_occupancy().map_or("–".into(), format::percent) }</td></tr>
                <tr><th scope="row">{ "Median minutes to treatment" }</th><td class="num">{ e.median_minutes_to_treatment.map_or("–".into(), |m| format!("{m:.0}")) }</td></tr>
                <tr><th scope="row">{ "Referred to a specialty, waiting" }</th><td class="num">{ opt(e.referred_to_service) }</td></tr>
            </tbody>
        </table>
    });
    let handovers = state.and_then(|s| s.handovers.as_ref()).map(|h| html! {
        <table class={classes!("data-table", stale_class(Feed::Handovers))}>
            <caption>{ format!("Ambulance handovers{}", stale(Feed::Handovers).unwrap_or_default()) }</caption>
            <tbody>
                <tr><th scope="row">{ "Waiting now" }</th><td class="num strong">{ h.queue_now }</td></tr>
                <tr><th scope="row">{ "Longest wait now" }</th><td class="num">{ h.longest_wait_minutes.map_or("–".into(), |m| format!("{m:.0} min")) }</td></tr>
                <tr><th scope="row">{ "Handed over today" }</th><td class="num">{ h.handed_over_today }</td></tr>
                <tr><th scope="row">{ "Over 30 / over 60 minutes today" }</th><td class="num">{ format!("{} / {}", h.over_30, h.over_60) }</td></tr>
                <tr><th scope="row">{ "Mean handover today" }</th><td class="num">{ h.mean_minutes_today.map_or("–".into(), |m| format!("{m:.0} min")) }</td></tr>
                <tr><th scope="row">{ "Hours lost today" }</th><td class="num">{ format!("{:.1}", h.hours_lost_today) }</td></tr>
            </tbody>
        </table>
    });
    let delays = state.and_then(|s| s.delays.as_ref()).map(|d| {
        // Breakdowns as published: small numbers hidden (None); "not stated" where any.
        let cell = |b: &Breakdown, code: &str| b.get(code).copied().unwrap_or(Some(0));
        let mut groups: Vec<(String, Option<u32>)> = ReasonGroup::ALL
            .iter()
            .map(|g| (g.label().to_owned(), cell(&d.by_reason_group, g.code())))
            .collect();
        let not_stated = cell(&d.by_reason_group, NOT_STATED);
        if not_stated != Some(0) {
            groups.push(("Not stated".into(), not_stated));
        }
        let pathways: Vec<(String, Option<u32>)> = d.by_pathway.iter().map(|(p, n)| (p.clone(), *n)).collect();
        html! {
            <div class={classes!("site-delays", stale_class(Feed::DischargeDelays))}>
                <p class="headline">
                    <span class="big">{ d.delayed_now }</span>{ " patients with no criteria to reside" }
                    { stale(Feed::DischargeDelays).unwrap_or_default() }{ " · " }
                    { format!("{} bed days lost today, {} this week", format::days(d.bed_days_lost_today), format::days(d.bed_days_lost_week)) }
                    { " · " }<Link to={format!("/discharge?site={}", site.code)}>{ "the list" }</Link>
                </p>
                <div class="bars-row">
                    <Bars title="By reason group" items={groups} />
                    <Bars title="By pathway" items={pathways} />
                </div>
            </div>
        }
    });

    let me = format!("site:{}", site.code);
    let mine = vec![(me, site.short_name.clone())];
    let trend = |title: &str, measure: &str, scale| Trend {
        title: title.into(),
        measure: measure.into(),
        scale,
        entities: mine.clone(),
    };
    let mut trends = vec![trend("Bed occupancy", "ga_occupancy", Scale::Percent)];
    if site.kind.is_acute() {
        trends.push(trend(
            "Ambulance handover hours lost today",
            "hours_lost_today",
            Scale::Hours,
        ));
        trends.push(trend(
            "ED 4-hour performance today",
            "ed_four_hour_performance",
            Scale::Percent,
        ));
    }
    if site.feeds.contains_key(&Feed::DischargeDelays) {
        trends.push(trend(
            "Patients with no criteria to reside",
            "delayed_patients",
            Scale::Count,
        ));
    }

    html! {
        <main class="site-view">
            <header class="explain-head">
                <h2>{ &site.name }</h2>
                if site.kind.is_acute() {
                    <OpelBadge level={level} />
                    <Link to={format!("/system?entity={entity}")} class="export">{ "Why this level?" }</Link>
                }
                <span class="muted">{ format!("{} · {} · {}", site.kind.label(), site.town, site.organisation) }</span>
            </header>
            <ul class="feeds" aria-label="How fresh each feed is">{ for feeds }</ul>
            <div class="site-grid">
                <section>
                    <SiteTile site={site.clone()} state={state.cloned()} level={props.live.levels.get(&entity).cloned()} now={props.now} />
                    <table class={classes!("data-table", stale_class(Feed::Beds))}>
                        <caption>{ format!("Bed pools{}", stale(Feed::Beds).unwrap_or_default()) }</caption>
                        <thead><tr>
                            <th scope="col">{ "Pool" }</th><th scope="col">{ "Core" }</th><th scope="col">{ "Escalation" }</th><th scope="col">{ "Occupied" }</th>
                            <th scope="col">{ "Available" }</th><th scope="col">{ "Closed (IPC)" }</th><th scope="col">{ "7+ days" }</th><th scope="col">{ "14+" }</th>
                            <th scope="col">{ "21+" }</th><th scope="col">{ "Expected discharges" }</th><th scope="col">{ "Observed" }</th>
                        </tr></thead>
                        <tbody>{ for pool_rows }</tbody>
                    </table>
                    { delays.unwrap_or_default() }
                </section>
                <section>
                    <div class="side-by-side">{ ed.unwrap_or_default() }{ handovers.unwrap_or_default() }</div>
                    if site.kind.is_acute() && acts_on(account.role, account.organisation.as_deref(), &entity, &props.reference).is_ok() {
                        <DeclareForm entity={entity.clone()} level={props.live.levels.get(&entity).cloned()} />
                    }
                    <Trends {trends} hours={24} now={props.now} />
                </section>
            </div>
        </main>
    }
}

//! A tile for one acute site: G&A occupancy large, then beds open, occupied and available,
//! then ambulances waiting, patients with no criteria to reside and the ED, each with when
//! it was observed. Every block is greyed and marked stale when its feed is too old.

use crate::components::opel::OpelBadge;
use crate::format;
use crate::route::Link;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, OccupancyBand};
use levels_shared::escalation::Level;
use levels_shared::feed::Feed;
use levels_shared::live::SiteState;
use levels_shared::reference::{Site, SiteKind};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub site: Site,
    pub state: Option<SiteState>,
    /// The site's OPEL level, calculated and declared.
    pub level: Option<Level>,
    pub now: DateTime<Utc>,
}

#[function_component(SiteTile)]
pub fn site_tile(props: &Props) -> Html {
    let site = &props.site;
    let totals = props.state.as_ref().and_then(|s| beds::headline(&s.beds));
    let out_of_county = site.kind == SiteKind::OutOfCountyAcute;
    let Some(t) = totals else {
        return html! {
            <section class={classes!("tile", "tile-empty", out_of_county.then_some("tile-ooc"))} data-tile={site.code.clone()}>
                <header><h2 title={site.name.clone()}>{ &site.short_name }</h2></header>
                <p class="tile-nodata">{ "No bed data received yet" }</p>
            </section>
        };
    };
    let at = t.at.map(|a| a.with_timezone(&Utc));
    let stale =
        t.at.is_some_and(|a| site.is_stale(Feed::Beds, a, props.now));
    let band = t.occupancy().map(OccupancyBand::of);
    let occupancy = t
        .occupancy()
        .map(format::percent)
        .unwrap_or_else(|| "–".into());
    let updated = at
        .map(|a| {
            if stale {
                format!("beds {}", format::age(a, props.now))
            } else {
                format::clock(&a)
            }
        })
        .unwrap_or_default();
    html! {
        <section class={classes!("tile", out_of_county.then_some("tile-ooc"), stale.then_some("stale"))}
            data-tile={site.code.clone()}>
            <header>
                <OpelBadge level={props.level.clone()} />
                <h2 title={site.name.clone()}><Link to={format!("/sites/{}", site.code)} class="tile-link">{ &site.short_name }</Link></h2>
                // Narrow out-of-county tiles give the time only when it matters: when stale.
                if !out_of_county || stale {
                    <span class="tile-updated" title="when the bed figures were observed">
                        if stale { <strong class="stale-flag">{ "STALE " }</strong> }
                        { updated }
                    </span>
                }
            </header>
            <div class="tile-main">
                <div class={classes!("big-figure", band.filter(|_| !stale).map(|b| b.css_class()))}>
                    <span class="occupancy" data-value={occupancy.clone()}>{ occupancy }</span>
                    <span class="big-caption">{ "G&A occupied" }</span>
                </div>
                <dl class="bed-counts">
                    <div><dt>{ "Open" }</dt><dd class="beds-open">{ t.open() }</dd>
                        if t.escalation_open > 0 {
                            <dd class="sub">{ format!("incl. {} escalation", t.escalation_open) }</dd>
                        }</div>
                    <div><dt>{ "Occupied" }</dt><dd class="beds-occupied">{ t.occupied }</dd></div>
                    <div><dt>{ "Available" }</dt><dd class="beds-available">{ t.available() }</dd>
                        if t.closed_ipc > 0 { <dd class="sub">{ format!("{} closed (IPC)", t.closed_ipc) }</dd> }</div>
                </dl>
            </div>
            { flow(site, props.state.as_ref(), props.now) }
        </section>
    }
}

/// One block of the flow row: a headline figure and a line of detail.
fn block(
    site: &Site,
    state: &SiteState,
    feed: Feed,
    now: DateTime<Utc>,
    label: &str,
    figure: String,
    detail: String,
) -> Html {
    let at = state.feeds.get(&feed);
    let stale = at.is_some_and(|a| site.is_stale(feed, *a, now));
    let detail = match at {
        Some(a) if stale => format!("STALE · {}", format::age(a.to_utc(), now)),
        _ => detail,
    };
    html! {
        <div class={classes!("flow-block", stale.then_some("stale"))} data-flow={feed.as_str()}>
            <span class="flow-label">{ label }</span>
            <span class="flow-figure">{ figure }</span>
            <span class="flow-detail">{ detail }</span>
        </div>
    }
}

/// Ambulances, delayed patients and the ED, for the feeds the site sends.
fn flow(site: &Site, state: Option<&SiteState>, now: DateTime<Utc>) -> Html {
    let Some(state) = state else { return html! {} };
    let mut blocks = Vec::new();
    if let Some(h) = &state.handovers {
        let longest = h
            .longest_wait_minutes
            .map(|m| format!("longest {m:.0} min"))
            .unwrap_or_else(|| "none waiting".into());
        blocks.push(block(
            site,
            state,
            Feed::Handovers,
            now,
            "Ambulances waiting",
            h.queue_now.to_string(),
            format!("{longest} · {:.0} h lost", h.hours_lost_today),
        ));
    }
    if let Some(d) = &state.delays {
        let share = d
            .share_of_occupied_ga
            .map(|s| format!("{} of G&A · ", format::percent(s)))
            .unwrap_or_default();
        blocks.push(block(
            site,
            state,
            Feed::DischargeDelays,
            now,
            "No criteria to reside",
            d.delayed_now.to_string(),
            format!(
                "{share}{} bed days lost",
                format::days(d.bed_days_lost_today)
            ),
        ));
    }
    if let Some(ed) = &state.ed {
        let four = ed
            .four_hour_performance()
            .map(|p| format!("4 h: {}", format::percent(p)))
            .unwrap_or_default();
        blocks.push(block(
            site,
            state,
            Feed::Ed,
            now,
            "In ED",
            ed.in_department.to_string(),
            format!("{four} · {} > 12 h", ed.over_12h),
        ));
    }
    if blocks.is_empty() {
        return html! {};
    }
    html! { <div class="flow">{ for blocks }</div> }
}

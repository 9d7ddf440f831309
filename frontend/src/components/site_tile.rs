//! A tile for one acute site: G&A occupancy large, then beds open, occupied and available,
//! and when the figures were observed. Greyed and marked STALE when they are too old.

use crate::format;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, OccupancyBand, SiteBeds};
use levels_shared::feed::Feed;
use levels_shared::reference::{Site, SiteKind};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub site: Site,
    pub beds: Option<SiteBeds>,
    pub now: DateTime<Utc>,
}

#[function_component(SiteTile)]
pub fn site_tile(props: &Props) -> Html {
    let site = &props.site;
    let totals = props.beds.as_ref().and_then(beds::headline);
    let out_of_county = site.kind == SiteKind::OutOfCountyAcute;
    let Some(t) = totals else {
        return html! {
            <section class={classes!("tile", "tile-empty", out_of_county.then_some("tile-ooc"))} data-tile={site.code.clone()}>
                <header><h2>{ &site.name }</h2></header>
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
            format!(
                "updated {} · {}",
                format::clock(&a),
                format::age(a, props.now)
            )
        })
        .unwrap_or_default();
    html! {
        <section class={classes!("tile", out_of_county.then_some("tile-ooc"), stale.then_some("stale"))}
            data-tile={site.code.clone()}>
            <header>
                <h2>{ &site.name }</h2>
                if out_of_county { <span class="tag">{ "out of county" }</span> }
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
            <footer class="tile-updated">
                if stale { <strong class="stale-flag">{ "STALE " }</strong> }
                { updated }
            </footer>
        </section>
    }
}

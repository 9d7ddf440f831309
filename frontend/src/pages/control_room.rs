//! The control room (`/`): the map, a tile per acute site, and community hospitals at a
//! glance, laid out for a 1920×1080 screen read from across the room.

use crate::components::map::SystemMap;
use crate::components::opel::AlertStrip;
use crate::components::site_tile::SiteTile;
use crate::format;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, OccupancyBand};
use levels_shared::escalation::Entity;
use levels_shared::feed::Feed;
use levels_shared::live::LiveState;
use levels_shared::reference::{ReferenceData, SiteKind};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    pub live: Rc<LiveState>,
    pub now: DateTime<Utc>,
}

#[function_component(ControlRoom)]
pub fn control_room(props: &Props) -> Html {
    let reference = &props.reference;
    let tiles = |kind: SiteKind| {
        reference.sites.iter().filter(move |s| s.kind == kind).map(|site| {
            let state = props.live.sites.get(&site.code).cloned();
            let level = props.live.levels.get(&Entity::Site(site.code.clone())).cloned();
            html! { <SiteTile key={site.code.clone()} site={site.clone()} state={state} level={level} now={props.now} /> }
        })
    };
    let community = reference
        .sites
        .iter()
        .filter(|s| matches!(s.kind, SiteKind::CommunityHospital | SiteKind::MentalHealth | SiteKind::Hospice))
        .map(|site| {
            let totals = props.live.sites.get(&site.code).and_then(|s| beds::headline(&s.beds));
            let stale = totals.and_then(|t| t.at).is_some_and(|at| site.is_stale(Feed::Beds, at, props.now));
            let (class, figure, free) = match totals.and_then(|t| t.occupancy().map(|o| (t, o))) {
                Some((t, o)) => (
                    if stale { "band-stale" } else { OccupancyBand::of(o).css_class() },
                    format::percent(o),
                    format!("{} free", t.available()),
                ),
                None => ("band-none", "–".into(), "no data".into()),
            };
            html! {
                <li key={site.code.clone()} class={classes!("mini", class)} data-mini={site.code.clone()}>
                    <span class="mini-name">{ &site.short_name }</span>
                    <span class="mini-figure">{ figure }</span>
                    <span class="mini-free">{ if stale { "stale".to_string() } else { free } }</span>
                </li>
            }
        });
    html! {
        <main class="control-room">
            <section class="map-panel" aria-label="Map">
                <SystemMap reference={reference.clone()} live={props.live.clone()} now={props.now} />
                <div class="legend">
                    <span class="legend-title">{ "OPEL (■ acute, shaded localities):" }</span>
                    { for (1..=4).map(|l| html! {
                        <span class={classes!("legend-item", format!("legend-opel-{l}"))}><i></i>{ format!("{l}") }</span>
                    }) }
                </div>
                <div class="legend">
                    <span class="legend-title">{ "● Beds occupied:" }</span>
                    { for [OccupancyBand::Low, OccupancyBand::Moderate, OccupancyBand::High, OccupancyBand::Critical].into_iter().map(|b| html! {
                        <span class={classes!("legend-item", b.css_class())}><i></i>{ b.label() }</span>
                    }) }
                    <span class="legend-item band-stale"><i></i>{ "stale" }</span>
                </div>
                <h2 class="panel-title">{ "Community hospitals, mental health and hospices: beds" }</h2>
                <ul class="minis">{ for community }</ul>
            </section>
            <section class="tiles-panel" aria-label="Acute hospitals">
                <div class="tiles">{ for tiles(SiteKind::Acute) }</div>
                <h2 class="panel-title">{ "Out-of-county acute hospitals" }</h2>
                <div class="tiles tiles-ooc">{ for tiles(SiteKind::OutOfCountyAcute) }</div>
                <h2 class="panel-title">{ "Level changes" }</h2>
                <AlertStrip alerts={props.live.alerts.clone()} reference={reference.clone()} now={props.now} />
            </section>
        </main>
    }
}

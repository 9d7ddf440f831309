//! The map of the system: context areas faint, localities outlined and named, the boundary
//! bold, and every site as a marker coloured by its occupancy band with the figure beside
//! it in text. The geometry is projected once per reference data; only markers re-render.

use crate::format;
use crate::map::labels::{self, LabelRequest, Placement};
use crate::map::projection::Projection;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, OccupancyBand};
use levels_shared::feed::Feed;
use levels_shared::live::LiveState;
use levels_shared::reference::{ReferenceData, SiteKind};
use std::rc::Rc;
use yew::prelude::*;

const WIDTH: f64 = 1040.0;
const HEIGHT: f64 = 700.0;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    pub live: Rc<LiveState>,
    pub now: DateTime<Utc>,
}

/// What is drawn the same whatever the live data says.
#[derive(PartialEq)]
struct Geometry {
    context: Vec<(String, String)>,
    localities: Vec<LocalityShape>,
    boundary: Vec<String>,
    /// Per site, in reference order: position, marker radius, label placement, font size.
    sites: Vec<SitePlace>,
}

#[derive(PartialEq)]
struct LocalityShape {
    name: String,
    path: String,
    /// Where its name is written.
    label_at: Option<(f64, f64)>,
}

#[derive(PartialEq)]
struct SitePlace {
    x: f64,
    y: f64,
    r: f64,
    font: f64,
    label: Placement,
}

fn priority(kind: SiteKind) -> u8 {
    match kind {
        SiteKind::Acute => 0,
        SiteKind::OutOfCountyAcute => 1,
        SiteKind::CommunityHospital => 2,
        SiteKind::MentalHealth => 3,
        SiteKind::Hospice => 4,
    }
}

fn geometry(reference: &ReferenceData) -> Geometry {
    let proj = Projection::fit(reference, WIDTH, HEIGHT, 16.0);
    let context = reference
        .context
        .iter()
        .map(|a| (a.code.clone(), proj.path(a, 1.5)))
        .collect();
    let localities = reference
        .localities
        .iter()
        .map(|a| LocalityShape {
            name: a.name.clone(),
            path: proj.path(a, 0.7),
            label_at: proj.label_point(a),
        })
        .collect();
    let boundary = reference
        .boundary
        .iter()
        .map(|a| proj.path(a, 0.7))
        .collect();

    // Labels are placed for the longest text they will hold ("Name 100%").
    let mut order: Vec<usize> = (0..reference.sites.len()).collect();
    order.sort_by_key(|&i| priority(reference.sites[i].kind));
    let requests: Vec<LabelRequest> = order
        .iter()
        .map(|&i| {
            let site = &reference.sites[i];
            let (x, y) = proj.point(site.lon, site.lat);
            let (r, font) = if site.kind.is_acute() {
                (16.0, 28.0)
            } else {
                (9.0, 20.0)
            };
            let chars = site.short_name.chars().count() + 5;
            LabelRequest {
                x,
                y,
                r,
                width: chars as f64 * font * 0.56,
                height: font * 1.1,
            }
        })
        .collect();
    let placed = labels::place(&requests, (WIDTH, HEIGHT));
    let mut sites: Vec<Option<SitePlace>> = (0..reference.sites.len()).map(|_| None).collect();
    for ((&i, q), label) in order.iter().zip(&requests).zip(placed) {
        sites[i] = Some(SitePlace {
            x: q.x,
            y: q.y,
            r: q.r,
            font: q.height / 1.1,
            label,
        });
    }
    Geometry {
        context,
        localities,
        boundary,
        sites: sites.into_iter().flatten().collect(),
    }
}

#[function_component(SystemMap)]
pub fn system_map(props: &Props) -> Html {
    let geometry = use_memo(props.reference.clone(), |r| geometry(r));
    let reference = &props.reference;

    let markers = reference.sites.iter().zip(&geometry.sites).map(|(site, place)| {
        let totals = props.live.sites.get(&site.code).and_then(|s| beds::headline(&s.beds));
        let stale = totals.and_then(|t| t.at).is_some_and(|at| site.is_stale(Feed::Beds, at, props.now));
        let (class, figure) = match totals.and_then(|t| t.occupancy()) {
            Some(o) if !stale => (OccupancyBand::of(o).css_class(), format::percent(o)),
            Some(o) => ("band-stale", format!("{} stale", format::percent(o))),
            None => ("band-none", "no data".to_string()),
        };
        let shape = if site.kind.is_acute() {
            let s = place.r;
            html! { <rect x={(place.x - s).to_string()} y={(place.y - s).to_string()} width={(2.0 * s).to_string()} height={(2.0 * s).to_string()} rx="4" /> }
        } else {
            html! { <circle cx={place.x.to_string()} cy={place.y.to_string()} r={place.r.to_string()} /> }
        };
        html! {
            <g class={classes!("site-marker", class)} data-site={site.code.clone()} key={site.code.clone()}>
                <title>{ format!("{} ({}) — {}", site.name, site.kind.label(), figure) }</title>
                if let Some((lx, ly)) = place.label.leader {
                    <line class="leader" x1={place.x.to_string()} y1={place.y.to_string()} x2={lx.to_string()} y2={ly.to_string()} />
                }
                { shape }
                <text class="site-label" x={place.label.x.to_string()} y={place.label.y.to_string()}
                    text-anchor={place.label.anchor} font-size={place.font.to_string()}>
                    <tspan class="site-name">{ format!("{} ", site.short_name) }</tspan>
                    <tspan class="site-figure">{ figure }</tspan>
                </text>
            </g>
        }
    });

    html! {
        <svg class="system-map" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img"
            aria-label={format!("Map of {} with every site's bed occupancy", reference.system)}>
            <g class="context">
                { for geometry.context.iter().map(|(code, d)| html! { <path key={code.clone()} d={d.clone()} /> }) }
            </g>
            <g class="localities">
                { for geometry.localities.iter().map(|l| html! { <path key={l.name.clone()} d={l.path.clone()} /> }) }
            </g>
            <g class="boundary">
                { for geometry.boundary.iter().map(|d| html! { <path d={d.clone()} /> }) }
            </g>
            <g class="locality-names">
                { for geometry.localities.iter().filter_map(|l| l.label_at.map(|(x, y)| html! {
                    <text key={l.name.clone()} x={x.to_string()} y={y.to_string()} text-anchor="middle">{ l.name.to_uppercase() }</text>
                })) }
            </g>
            <g class="sites">{ for markers }</g>
        </svg>
    }
}

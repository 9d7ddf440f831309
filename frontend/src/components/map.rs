//! The map of the system: context areas faint, localities shaded by their community OPEL
//! level and named with it, the boundary bold, acute sites as squares coloured by their OPEL
//! level (declared if declared) with the level, occupancy and ambulance queue written beside
//! them, and other sites as circles coloured by occupancy band. Colour is never the only
//! signal: every level and figure is also in the text. The geometry is projected once per
//! reference data; only markers and shading re-render.

use crate::format;
use crate::map::labels::{self, LabelRequest, Placement};
use crate::map::projection::Projection;
use chrono::{DateTime, Utc};
use levels_shared::beds::{self, OccupancyBand};
use levels_shared::escalation::{Entity, Level};
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
    code: String,
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
    /// The top of the label's box (acute labels have a second, smaller line).
    top: f64,
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
            code: a.code.clone(),
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
            // Acute labels hold "Name OPEL 4 decl." over "100% beds · 12 waiting, 240 min";
            // the others "Name 100%".
            let name = site.short_name.chars().count() as f64;
            let (width, height) = if site.kind.is_acute() {
                ((name + 12.0).max(30.0 * 0.72) * font * 0.6, font * 1.9)
            } else {
                ((name + 5.0) * font * 0.56, font * 1.1)
            };
            LabelRequest {
                x,
                y,
                r,
                width,
                height,
            }
        })
        .collect();
    let placed = labels::place(&requests, (WIDTH, HEIGHT));
    let mut sites: Vec<Option<SitePlace>> = (0..reference.sites.len()).map(|_| None).collect();
    for ((&i, q), label) in order.iter().zip(&requests).zip(placed) {
        let font = if reference.sites[i].kind.is_acute() {
            q.height / 1.9
        } else {
            q.height / 1.1
        };
        sites[i] = Some(SitePlace {
            x: q.x,
            y: q.y,
            r: q.r,
            font,
            top: label.y - q.height * 0.78,
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
        let state = props.live.sites.get(&site.code);
        let totals = state.and_then(|s| beds::headline(&s.beds));
        let stale = totals.and_then(|t| t.at).is_some_and(|at| site.is_stale(Feed::Beds, at, props.now));
        let (band_class, figure) = match totals.and_then(|t| t.occupancy()) {
            Some(o) if !stale => (OccupancyBand::of(o).css_class().to_string(), format::percent(o)),
            Some(o) => {
                let age = totals
                    .and_then(|t| t.at)
                    .map_or(String::new(), |at| format!(", {}", format::age(at.to_utc(), props.now)));
                ("band-stale".to_string(), format!("{} stale{age}", format::percent(o)))
            }
            None => ("band-none".to_string(), "no data".to_string()),
        };
        let occupancy_text = figure.clone();
        let acute = site.kind.is_acute();
        let level = acute.then(|| props.live.levels.get(&Entity::Site(site.code.clone()))).flatten();
        let shown = level.and_then(Level::shown);
        let declared = level.is_some_and(|l| l.declared.is_some());
        let (class, figure) = if acute {
            let class = shown.map_or("opel-fill-none".to_string(), |l| format!("opel-fill-{l}"));
            let opel = shown.map_or("OPEL –".to_string(), |l| format!("OPEL {l}"));
            (class, format!("{opel}{}", if declared { " decl." } else { "" }))
        } else {
            (band_class, figure)
        };
        // Acute sites' second line: occupancy, and ambulances waiting now with the longest wait.
        let queue = state
            .and_then(|s| s.handovers.as_ref())
            .filter(|_| {
                state
                    .and_then(|s| s.feeds.get(&Feed::Handovers))
                    .is_some_and(|at| !site.is_stale(Feed::Handovers, *at, props.now))
            })
            .map(|h| match (h.queue_now, h.longest_wait_minutes) {
                (0, _) => "none waiting".to_string(),
                (n, Some(w)) => format!("{n} waiting, {w:.0} min"),
                (n, None) => format!("{n} waiting"),
            })
            .unwrap_or_else(|| "handovers –".to_string());
        let detail = acute.then(|| format!("{occupancy_text} beds · {queue}"));
        let shape = if acute {
            let s = place.r;
            html! { <rect x={(place.x - s).to_string()} y={(place.y - s).to_string()} width={(2.0 * s).to_string()} height={(2.0 * s).to_string()} rx="4" /> }
        } else {
            html! { <circle cx={place.x.to_string()} cy={place.y.to_string()} r={place.r.to_string()} /> }
        };
        let (line1, line2) = if acute {
            (place.top + place.font * 0.9, Some(place.top + place.font * 1.75))
        } else {
            (place.label.y, None)
        };
        html! {
            <g class={classes!("site-marker", class)} data-site={site.code.clone()} data-opel={shown.map(|l| l.to_string())} key={site.code.clone()}>
                <title>{ format!("{} ({}) — {}", site.name, site.kind.label(), figure) }</title>
                if let Some((lx, ly)) = place.label.leader {
                    <line class="leader" x1={place.x.to_string()} y1={place.y.to_string()} x2={lx.to_string()} y2={ly.to_string()} />
                }
                { shape }
                <text class="site-label" x={place.label.x.to_string()} y={line1.to_string()}
                    text-anchor={place.label.anchor} font-size={place.font.to_string()}>
                    <tspan class="site-name">{ format!("{} ", site.short_name) }</tspan>
                    <tspan class="site-figure">{ figure }</tspan>
                </text>
                if let (Some(detail), Some(y)) = (detail, line2) {
                    <text class={classes!("site-label", "site-detail", stale.then_some("stale"))} x={place.label.x.to_string()} y={y.to_string()}
                        text-anchor={place.label.anchor} font-size={(place.font * 0.72).to_string()}>{ detail }</text>
                }
            </g>
        }
    });
    // Localities shaded by their community level, which is also written under their name.
    let community = |code: &str| {
        props
            .live
            .levels
            .get(&Entity::Locality(code.to_owned()))
            .and_then(Level::shown)
    };

    html! {
        <svg class="system-map" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img"
            aria-label={format!("Map of {}: acute hospitals' OPEL levels, other sites' bed occupancy, localities' community OPEL levels", reference.system)}>
            <g class="context">
                { for geometry.context.iter().map(|(code, d)| html! { <path key={code.clone()} d={d.clone()} /> }) }
            </g>
            <g class="localities">
                { for geometry.localities.iter().map(|l| {
                    let level = community(&l.code);
                    html! { <path key={l.code.clone()} d={l.path.clone()} class={level.map_or("loc-none".to_string(), |l| format!("loc-opel-{l}"))} data-locality={l.code.clone()} /> }
                }) }
            </g>
            <g class="boundary">
                { for geometry.boundary.iter().map(|d| html! { <path d={d.clone()} /> }) }
            </g>
            <g class="locality-names">
                { for geometry.localities.iter().filter_map(|l| l.label_at.map(|(x, y)| {
                    let level = community(&l.code).map_or("community –".to_string(), |v| format!("community OPEL {v}"));
                    html! {
                        <text key={l.code.clone()} x={x.to_string()} y={y.to_string()} text-anchor="middle">
                            <tspan x={x.to_string()}>{ l.name.to_uppercase() }</tspan>
                            <tspan class="locality-level" x={x.to_string()} dy="18">{ level }</tspan>
                        </text>
                    }
                })) }
            </g>
            <g class="sites">{ for markers }</g>
        </svg>
    }
}

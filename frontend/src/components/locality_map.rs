//! A small map of the system's localities, each shaded by a count and with the count
//! written in it: for "delayed patients by home locality" and the like.

use crate::map::projection::Projection;
use levels_shared::reference::ReferenceData;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 350.0;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    /// Count per locality code.
    pub counts: BTreeMap<String, u32>,
    pub title: String,
}

#[function_component(LocalityMap)]
pub fn locality_map(props: &Props) -> Html {
    let shapes = use_memo(props.reference.clone(), |r| {
        let proj = Projection::fit(r, WIDTH, HEIGHT, 8.0);
        r.localities
            .iter()
            .map(|a| {
                (
                    a.code.clone(),
                    a.name.clone(),
                    proj.path(a, 0.7),
                    proj.label_point(a),
                )
            })
            .collect::<Vec<_>>()
    });
    let max = props.counts.values().copied().max().unwrap_or(0).max(1);
    html! {
        <figure class="locality-map">
            <figcaption>{ &props.title }</figcaption>
            <svg viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" aria-label={props.title.clone()}>
                { for shapes.iter().map(|(code, name, path, at)| {
                    let n = props.counts.get(code).copied().unwrap_or(0);
                    // Five steps of one hue; the count is written too.
                    let step = (f64::from(n) / f64::from(max) * 4.0).ceil() as u32;
                    html! {
                        <g key={code.clone()} class={format!("choro-{step}")} data-locality={code.clone()} data-count={n.to_string()}>
                            <path d={path.clone()} />
                            if let Some((x, y)) = at {
                                <text x={x.to_string()} y={y.to_string()} text-anchor="middle">
                                    <tspan x={x.to_string()} class="choro-name">{ name }</tspan>
                                    <tspan x={x.to_string()} dy="22" class="choro-count">{ n.to_string() }</tspan>
                                </text>
                            }
                        </g>
                    }
                }) }
            </svg>
        </figure>
    }
}

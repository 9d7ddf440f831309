//! A small map of the system's localities, each shaded and with its figure written in it
//! (never colour alone): delayed patients by home locality, or community OPEL by locality.

use crate::map::projection::Projection;
use levels_shared::reference::ReferenceData;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

const WIDTH: f64 = 520.0;
const HEIGHT: f64 = 350.0;

/// How localities are shaded.
#[derive(Clone, Copy, PartialEq)]
pub enum Shading {
    /// Five steps of blue by the count against the largest.
    Count,
    /// The OPEL colours, by level.
    Opel,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    /// Per locality code: its value (a count, or an OPEL level) and the text written in it
    /// (one line per line of text).
    pub values: BTreeMap<String, (u32, String)>,
    pub shading: Shading,
    pub title: String,
}

/// Counts as map values: the count is its own text.
pub fn counted(counts: BTreeMap<String, u32>) -> BTreeMap<String, (u32, String)> {
    counts
        .into_iter()
        .map(|(k, n)| (k, (n, n.to_string())))
        .collect()
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
    let max = props
        .values
        .values()
        .map(|(v, _)| *v)
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        <figure class="locality-map">
            <figcaption>{ &props.title }</figcaption>
            <svg viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" aria-label={props.title.clone()}>
                { for shapes.iter().map(|(code, name, path, at)| {
                    let (value, text) = props.values.get(code).cloned().unwrap_or((0, "–".into()));
                    let class = match props.shading {
                        Shading::Count => format!("choro-{}", (f64::from(value) / f64::from(max) * 4.0).ceil() as u32),
                        Shading::Opel => format!("choro-opel-{value}"),
                    };
                    html! {
                        <g key={code.clone()} class={class} data-locality={code.clone()} data-value={value.to_string()}>
                            <path d={path.clone()} />
                            if let Some((x, y)) = at {
                                <text x={x.to_string()} y={y.to_string()} text-anchor="middle">
                                    <tspan x={x.to_string()} class="choro-name">{ name }</tspan>
                                    { for text.lines().map(|line| html! {
                                        <tspan x={x.to_string()} dy="19" class="choro-count">{ line.to_owned() }</tspan>
                                    }) }
                                </text>
                            }
                        </g>
                    }
                }) }
            </svg>
        </figure>
    }
}

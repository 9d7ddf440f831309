//! A set of trend charts fetched from the history API: each chart one measure of several
//! sites or localities, refreshed every minute.

use crate::components::chart::{Chart, Line, Scale};
use crate::services::api;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use yew::prelude::*;

/// Distinct, readable on the dark theme; lines are also named at their ends.
const PALETTE: [(u8, u8, u8); 6] = [
    (0x4f, 0xc3, 0xf7),
    (0xff, 0xb7, 0x4d),
    (0xba, 0x68, 0xc8),
    (0x81, 0xc7, 0x84),
    (0xe5, 0x73, 0x73),
    (0xf0, 0xf0, 0xf0),
];

/// One chart: a measure of each of some entities.
#[derive(Clone, PartialEq)]
pub struct Trend {
    pub title: String,
    pub measure: String,
    pub scale: Scale,
    /// `(history entity, name on the chart)`, e.g. `("site:MPH", "Musgrove")`.
    pub entities: Vec<(String, String)>,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub trends: Vec<Trend>,
    pub hours: i64,
    pub now: DateTime<Utc>,
}

type Fetched = BTreeMap<(String, String), Vec<(DateTime<Utc>, f64)>>;

/// What one fetch brought: for which range, the series, their resolution, and how many
/// series could not be fetched.
#[derive(Default, PartialEq)]
struct Batch {
    hours: i64,
    series: Fetched,
    resolution: u32,
    failed: usize,
}

#[function_component(Trends)]
pub fn trends(props: &Props) -> Html {
    let data = use_state(Batch::default);
    // The window ends at the last whole minute, so re-renders each second reuse one fetch.
    let to = props.now - Duration::seconds(i64::from(props.now.timestamp() as u32 % 60));
    let key = (props.trends.clone(), props.hours);
    {
        let data = data.clone();
        use_effect_with(key, move |(trends, hours)| {
            let (trends, hours) = (trends.clone(), *hours);
            let fetch = move || {
                let (data, trends) = (data.clone(), trends.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let to = Utc::now();
                    let from = to - Duration::hours(hours);
                    let mut batch = Batch {
                        hours,
                        resolution: 300,
                        ..Batch::default()
                    };
                    for t in &trends {
                        for (entity, _) in &t.entities {
                            match api::history(entity, &t.measure, from, to).await {
                                Ok(series) => {
                                    batch.resolution = series.resolution_seconds;
                                    let points =
                                        series.points.into_iter().map(|p| (p.t, p.v)).collect();
                                    batch
                                        .series
                                        .insert((entity.clone(), t.measure.clone()), points);
                                }
                                Err(_) => batch.failed += 1,
                            }
                        }
                    }
                    data.set(batch);
                });
            };
            fetch();
            let timer = gloo_timers::callback::Interval::new(60_000, fetch);
            move || drop(timer)
        });
    }
    // A fetch for another range (still arriving after the range changed) is not drawn.
    let empty = Fetched::new();
    let (fetched, resolution, failed) = if data.hours == props.hours {
        (&data.series, data.resolution, data.failed)
    } else {
        (&empty, 300, 0)
    };
    let gap = Duration::seconds(i64::from(resolution) * 3 / 2);
    let from = to - Duration::hours(props.hours);
    html! {
        <div class="trends">
            if failed > 0 {
                <p class="error" role="alert">{ format!("{failed} series could not be loaded; their lines are missing.") }</p>
            }
            { for props.trends.iter().map(|t| {
                let lines = t.entities.iter().enumerate().map(|(i, (entity, name))| Line {
                    name: name.clone(),
                    colour: PALETTE[i % PALETTE.len()],
                    points: fetched.get(&(entity.clone(), t.measure.clone())).cloned().unwrap_or_default(),
                }).collect::<Vec<_>>();
                html! { <Chart title={t.title.clone()} scale={t.scale} {lines} {from} {to} {gap} /> }
            }) }
        </div>
    }
}

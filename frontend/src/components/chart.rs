//! Trend charts drawn with plotters as SVG: a time axis in Europe/London, the unit on the
//! value axis, one line per series labelled with its name at its end (so colour is never
//! the only way to tell them apart), and a gap wherever data was missing or stale instead of
//! a line drawn across it.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::London;
use levels_shared::history::runs;
use plotters::prelude::*;
use yew::prelude::*;

/// One line: its name, colour and points (oldest first).
#[derive(Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub colour: (u8, u8, u8),
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// How a value is written on the axis: `92%`, `12`, `3.5 h`.
#[derive(Clone, Copy, PartialEq)]
pub enum Scale {
    Percent,
    Count,
    Hours,
}

impl Scale {
    fn label(self, v: f64) -> String {
        match self {
            Scale::Percent => format!("{:.0}%", v * 100.0),
            Scale::Count => format!("{v:.0}"),
            Scale::Hours => format!("{v:.1} h"),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub title: String,
    pub scale: Scale,
    pub lines: Vec<Line>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Points further apart than this are not joined: the data between them is missing.
    pub gap: Duration,
    #[prop_or(560)]
    pub width: u32,
    #[prop_or(260)]
    pub height: u32,
}

fn draw(props: &Props) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (props.width, props.height)).into_drawing_area();
        let background = RGBColor(0x17, 0x1d, 0x26);
        let text = RGBColor(0xee, 0xf3, 0xf8);
        let muted = RGBColor(0xa9, 0xb6, 0xc4);
        root.fill(&background).map_err(|e| e.to_string())?;
        let minutes = (props.to - props.from).num_minutes().max(1) as f64;
        let values = props
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1));
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        // Counts and hours from zero; shares fit their data, so a few points' change shows.
        let (lo, hi) = match (lo > hi, props.scale) {
            (true, _) => (0.0, 1.0),
            (false, Scale::Percent) => (lo - 0.02, hi.max(lo + 0.04)),
            (false, _) => (lo.min(0.0), hi.max(lo + 1.0)),
        };
        let pad = (hi - lo) * 0.08;
        let (from, multi_day) = (props.from, props.to - props.from > Duration::hours(30));
        let mut chart = ChartBuilder::on(&root)
            .margin_top(10)
            .margin_right(96)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .caption(&props.title, ("sans-serif", 22).into_font().color(&text))
            .build_cartesian_2d(0.0..minutes, lo..hi + pad)
            .map_err(|e| e.to_string())?;
        let label_style = ("sans-serif", 16).into_font().color(&muted);
        let x_label = |m: &f64| {
            let t = (from + Duration::minutes(*m as i64)).with_timezone(&London);
            if multi_day {
                t.format("%a %H:%M").to_string()
            } else {
                t.format("%H:%M").to_string()
            }
        };
        let scale = props.scale;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| scale.label(*v))
            .label_style(label_style.clone())
            .axis_style(muted)
            .light_line_style(RGBColor(0x23, 0x2c, 0x38))
            .bold_line_style(RGBColor(0x2c, 0x38, 0x46))
            .draw()
            .map_err(|e| e.to_string())?;
        let x = |t: DateTime<Utc>| (t - from).num_seconds() as f64 / 60.0;
        for line in &props.lines {
            let colour = RGBColor(line.colour.0, line.colour.1, line.colour.2);
            for run in runs(&line.points, props.gap) {
                if run.len() == 1 {
                    let (t, v) = run[0];
                    chart
                        .draw_series(std::iter::once(Circle::new((x(t), v), 3, colour.filled())))
                        .map_err(|e| e.to_string())?;
                } else {
                    chart
                        .draw_series(LineSeries::new(
                            run.iter().map(|(t, v)| (x(*t), *v)),
                            colour.stroke_width(3),
                        ))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        // Each line's name at its last point, in its colour, nudged apart so none overlap.
        let plot_px = f64::from(props.height.saturating_sub(80).max(40));
        let spacing = (hi + pad - lo) * 17.0 / plot_px;
        let mut ends: Vec<(f64, f64, &Line)> = props
            .lines
            .iter()
            .filter_map(|l| l.points.last().map(|&(t, v)| (x(t), v, l)))
            .collect();
        ends.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut floor = f64::MAX;
        for (ex, ey, line) in ends {
            let y = ey.min(floor);
            floor = y - spacing;
            let colour = RGBColor(line.colour.0, line.colour.1, line.colour.2);
            let style = ("sans-serif", 16).into_font().color(&colour);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {}", line.name),
                    (ex, y),
                    style,
                )))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A chart, re-drawn only when its data changes.
#[function_component(Chart)]
pub fn chart(props: &Props) -> Html {
    let empty = props.lines.iter().all(|l| l.points.is_empty());
    let svg = draw(props);
    html! {
        <figure class="chart" aria-label={props.title.clone()}>
            { match svg {
                Ok(svg) => Html::from_html_unchecked(AttrValue::from(svg)),
                Err(e) => html! { <p class="muted">{ format!("Cannot draw the chart: {e}") }</p> },
            } }
            if empty { <figcaption class="muted">{ "No data in this period" }</figcaption> }
        </figure>
    }
}

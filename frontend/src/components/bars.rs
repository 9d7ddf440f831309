//! Counts as a horizontal bar chart drawn with plotters: each bar labelled with its name
//! and its count in text, longest first as given. A count hidden by disclosure control
//! (`None`) has no bar and is written `*`, with a note under the chart.

use levels_shared::disclosure::shown;
use plotters::prelude::*;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub title: String,
    /// `(label, count)`, in the order to draw them (top first); `None` where hidden.
    pub items: Vec<(String, Option<u32>)>,
    #[prop_or(440)]
    pub width: u32,
}

/// What a `*` means, under a chart that has one.
pub const HIDDEN_NOTE: &str =
    "* hidden: fewer than 5 patients, or a count that would give such a number away";

/// Counts that are all shown, as [`Props::items`] takes them.
pub fn exact(items: Vec<(String, u32)>) -> Vec<(String, Option<u32>)> {
    items.into_iter().map(|(k, n)| (k, Some(n))).collect()
}

fn draw(props: &Props) -> Result<String, String> {
    let row = 28u32;
    let n = props.items.len().max(1) as u32;
    let height = 40 + n * row;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (props.width, height)).into_drawing_area();
        root.fill(&RGBColor(0x17, 0x1d, 0x26))
            .map_err(|e| e.to_string())?;
        let text = RGBColor(0xee, 0xf3, 0xf8);
        let bar = RGBColor(0x4f, 0xa3, 0xd9);
        let title = ("sans-serif", 19).into_font().color(&text);
        root.draw(&Text::new(props.title.clone(), (6, 6), title))
            .map_err(|e| e.to_string())?;
        let max = props
            .items
            .iter()
            .filter_map(|(_, c)| *c)
            .max()
            .unwrap_or(0)
            .max(1);
        // Labels take the left 45%; bars the rest, with the count after each bar.
        let left = props.width * 45 / 100;
        let span = f64::from(props.width - left - 50);
        let label = ("sans-serif", 17).into_font().color(&text);
        for (i, (name, count)) in props.items.iter().enumerate() {
            let y = 34 + i as i32 * row as i32;
            let w = (f64::from(count.unwrap_or(0)) / f64::from(max) * span).round() as i32;
            let name: String = if name.chars().count() > 30 {
                name.chars().take(29).chain(['…']).collect()
            } else {
                name.clone()
            };
            root.draw(&Text::new(name, (6, y + 4), label.clone()))
                .map_err(|e| e.to_string())?;
            let x0 = left as i32;
            if count.is_some() {
                root.draw(&Rectangle::new(
                    [(x0, y + 2), (x0 + w.max(1), y + row as i32 - 4)],
                    bar.filled(),
                ))
                .map_err(|e| e.to_string())?;
            }
            root.draw(&Text::new(
                shown(*count),
                (x0 + w + 6, y + 4),
                label.clone(),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[function_component(Bars)]
pub fn bars(props: &Props) -> Html {
    // A text table beside the picture, for screen readers and keyboard users.
    let rows = props.items.iter().map(|(name, count)| {
        html! {
            <tr><th scope="row">{ name }</th><td>{ shown(*count) }</td></tr>
        }
    });
    let hidden = props.items.iter().any(|(_, c)| c.is_none());
    html! {
        <figure class="bars">
            { match draw(props) {
                Ok(svg) => Html::from_html_unchecked(AttrValue::from(svg)),
                Err(e) => html! { <p class="muted">{ format!("Cannot draw the chart: {e}") }</p> },
            } }
            <table class="visually-hidden"><caption>{ &props.title }</caption><tbody>{ for rows }</tbody></table>
            if hidden {
                <figcaption class="muted">{ HIDDEN_NOTE }</figcaption>
            }
        </figure>
    }
}

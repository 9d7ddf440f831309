//! The connection indicator: live, reconnecting (since when), and the last update's time.

use crate::format;
use crate::state::Link;
use chrono::{DateTime, Utc};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub link: Link,
    pub last_update: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

#[function_component(Connection)]
pub fn connection(props: &Props) -> Html {
    let updated = props
        .last_update
        .map(|t| format!("last update {}", format::clock_seconds(&t)))
        .unwrap_or_else(|| "no data yet".into());
    let (state, class, headline, detail) = match &props.link {
        Link::Connecting => (
            "connecting",
            "link-connecting",
            "CONNECTING…".to_string(),
            updated,
        ),
        Link::Live => ("live", "link-live", "● LIVE".to_string(), updated),
        Link::Reconnecting { since } => (
            "reconnecting",
            "link-lost",
            format!("✕ DISCONNECTED since {}", format::clock_seconds(since)),
            format!(
                "reconnecting… · {updated} ({})",
                format::age(props.last_update.unwrap_or(*since), props.now)
            ),
        ),
    };
    html! {
        <div class={classes!("connection", class)} data-state={state} role="status" aria-live="polite">
            <span class="connection-headline">{ headline }</span>
            <span class="connection-detail">{ detail }</span>
        </div>
    }
}

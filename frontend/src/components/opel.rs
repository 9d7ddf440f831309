//! OPEL levels on screen: the badge (always in words, never colour alone; a declared level
//! with the calculated one beside it) and the strip of the latest level changes.

use crate::format;
use chrono::{DateTime, Duration, Utc};
use levels_shared::escalation::{Alert, Entity, Level, LevelKind};
use levels_shared::reference::ReferenceData;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BadgeProps {
    pub level: Option<Level>,
}

/// "OPEL 3", or "OPEL 4 declared · calc 3" while a declaration is in force.
#[function_component(OpelBadge)]
pub fn opel_badge(props: &BadgeProps) -> Html {
    let Some(level) = &props.level else {
        return html! {};
    };
    let shown = level.shown();
    let class = shown.map_or("opel-none".to_string(), |l| format!("opel-{l}"));
    let text = shown.map_or("OPEL –".to_string(), |l| format!("OPEL {l}"));
    let calculated = level.calculated.as_ref();
    let mut title = match calculated {
        Some(e) => match e.score {
            Some(score) => format!(
                "Calculated by {} v{}: score {score:.2}, {:.0}% of inputs usable",
                e.policy,
                e.policy_version,
                e.coverage * 100.0
            ),
            None => format!(
                "Too few usable inputs ({:.0}%) to calculate a level",
                e.coverage * 100.0
            ),
        },
        None => String::new(),
    };
    if let Some(d) = &level.declared {
        title = format!(
            "Declared by {} at {}: {}. {title}",
            d.actor,
            format::clock(&d.at),
            d.reason
        );
    }
    let pending = calculated.and_then(|e| e.pending);
    if let Some(p) = pending {
        title = format!(
            "{title}. The score has been at OPEL {} since {}; it takes effect once it has held for the policy's settling time.",
            p.level,
            format::clock(&p.since)
        );
    }
    let calc = level
        .calculated_level()
        .map_or("–".to_string(), |l| l.to_string());
    html! {
        <span class="opel-group" title={title}>
            <span class={classes!("opel", class)} data-opel={shown.map(|l| l.to_string()).unwrap_or_default()}>{ text }</span>
            if level.declared.is_some() {
                <span class="opel-declared" data-calculated={calc.clone()}>{ format!("declared · calc {calc}") }</span>
            }
            if let Some(p) = pending {
                <span class="opel-pending" data-pending={p.level.to_string()}>{ format!("→ {} since {}", p.level, format::clock(&p.since)) }</span>
            }
        </span>
    }
}

/// A short name for an entity, for alerts and badges.
pub fn entity_name(entity: &Entity, reference: &ReferenceData) -> String {
    match entity {
        Entity::Site(code) => reference
            .site(code)
            .map_or(code.clone(), |s| s.short_name.clone()),
        Entity::Locality(code) => reference
            .locality(code)
            .map_or(code.clone(), |a| format!("{} community", a.name)),
        Entity::Community => "Community services".into(),
        Entity::System => format!("{} system", reference.system),
    }
}

fn level_text(level: Option<u8>) -> String {
    level.map_or("–".into(), |l| l.to_string())
}

#[derive(Properties, PartialEq)]
pub struct StripProps {
    pub alerts: Vec<Alert>,
    pub reference: std::rc::Rc<ReferenceData>,
    pub now: DateTime<Utc>,
}

/// The latest level changes of the last 12 hours, newest first: the newest with its whole
/// action card (done actions ticked), the one before it in a line.
#[function_component(AlertStrip)]
pub fn alert_strip(props: &StripProps) -> Html {
    let recent: Vec<&Alert> = props
        .alerts
        .iter()
        .filter(|a| props.now - a.at < Duration::hours(12))
        .take(2)
        .collect();
    if recent.is_empty() {
        return html! { <p class="alerts-none">{ "No level changes in the last 12 hours" }</p> };
    }
    let item = |(i, a): (usize, &Alert)| {
        let name = entity_name(&a.entity, &props.reference);
        let arrow = if a.is_escalation() { "▲" } else { "▼" };
        let what = match (a.kind, a.to) {
            (LevelKind::Declared, None) => {
                format!("declared OPEL {} withdrawn", level_text(a.from))
            }
            (LevelKind::Declared, Some(to)) => format!("OPEL {to} declared"),
            (LevelKind::Calculated, to) => {
                format!("OPEL {} → {}", level_text(a.from), level_text(to))
            }
        };
        let done = a.actions.iter().filter(|x| x.done.is_some()).count();
        let class = a.to.map(|l| format!("alert-{l}"));
        let card = (i == 0).then(|| {
            html! {
                <ul class="alert-card">
                    { for a.actions.iter().map(|x| html! {
                        <li class={classes!(x.done.is_some().then_some("done"))}>
                            { if x.done.is_some() { "✓ " } else { "☐ " } }{ &x.text }
                        </li>
                    }) }
                </ul>
            }
        });
        html! {
            <li class={classes!("alert", class)} data-alert={a.id.to_string()}>
                <span class="alert-time">{ format::clock(&a.at) }</span>
                <span class="alert-what">{ format!("{arrow} {name}: {what}") }</span>
                if let Some(reason) = &a.reason { <span class="alert-reason">{ format!("“{reason}”") }</span> }
                if !a.actions.is_empty() {
                    <span class="alert-actions">{ format!("{done} of {} actions done", a.actions.len()) }</span>
                }
                { card.unwrap_or_default() }
            </li>
        }
    };
    html! {
        <ul class="alert-strip" role="status" aria-label="Level changes">
            { for recent.into_iter().enumerate().map(item) }
        </ul>
    }
}

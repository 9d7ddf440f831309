//! The system view (`/system`): for system leaders reviewing escalation. The escalation
//! map; every level at a glance; for the chosen site or pillar (`?entity=…`, so a view can
//! be shared) what drove its level, parameter by parameter; and how it changed today and
//! over the last 7 days. "Export CSV" downloads what is on screen.

use crate::components::chart::Scale;
use crate::components::declare::{AlertActions, DeclareForm};
use crate::components::map::SystemMap;
use crate::components::opel::{entity_name, OpelBadge};
use crate::components::trends::{Trend, Trends};
use crate::format;
use crate::route::Link;
use crate::services::api;
use chrono::{DateTime, Utc};
use levels_shared::access::{acts_on, Me};
use levels_shared::escalation::{DayPattern, Entity, InputStatus, Level};
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub reference: Rc<ReferenceData>,
    pub live: Rc<LiveState>,
    pub now: DateTime<Utc>,
    pub query: BTreeMap<String, String>,
}

/// Every entity with a level, in the order the chooser lists them.
fn entities(live: &LiveState) -> Vec<Entity> {
    let rank = |e: &Entity| match e {
        Entity::System => 0,
        Entity::Community => 1,
        Entity::Site(_) => 2,
        Entity::Locality(_) => 3,
    };
    let mut all: Vec<Entity> = live.levels.keys().cloned().collect();
    all.sort_by_key(|e| (rank(e), e.to_string()));
    all
}

#[function_component(SystemView)]
pub fn system_view(props: &Props) -> Html {
    let me = use_context::<Rc<Me>>().expect("signed in");
    let chosen: Entity = props
        .query
        .get("entity")
        .and_then(|e| e.parse().ok())
        .unwrap_or(Entity::System);
    let name = entity_name(&chosen, &props.reference);
    let hours = if props.query.get("days").map(String::as_str) == Some("7") {
        168
    } else {
        24
    };
    let level = props.live.levels.get(&chosen).cloned();

    // The 7-day pattern of the chosen entity, fetched when it changes and every minute. Kept
    // with the entity it is for, so another entity's pattern is never shown under this one.
    let fetched = use_state(|| None::<(String, Result<Vec<DayPattern>, String>)>);
    {
        let fetched = fetched.clone();
        use_effect_with(chosen.to_string(), move |entity| {
            let entity = entity.clone();
            let fetch = move || {
                let (fetched, entity) = (fetched.clone(), entity.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let result = api::daily(&entity, 7).await;
                    fetched.set(Some((entity, result)));
                });
            };
            fetch();
            let timer = gloo_timers::callback::Interval::new(60_000, fetch);
            move || drop(timer)
        });
    }

    let pattern: Option<&Result<Vec<DayPattern>, String>> = fetched
        .as_ref()
        .filter(|(entity, _)| *entity == chosen.to_string())
        .map(|(_, result)| result);
    let days_param = if hours == 168 { "&days=7" } else { "" };
    let chooser = entities(&props.live).into_iter().map(|e| {
        let shown = props.live.levels.get(&e).and_then(Level::shown);
        let text = format!("{} {}", entity_name(&e, &props.reference), shown.map_or("–".into(), |l| l.to_string()));
        let current = e == chosen;
        html! {
            <li key={e.to_string()}>
                <Link to={format!("/system?entity={e}{days_param}")}
                    class={classes!("chooser-item", format!("opel-edge-{}", shown.map_or("none".into(), |l| l.to_string())), current.then_some("current"))}>
                    { text }
                </Link>
            </li>
        }
    });

    // The chosen entity's alerts (every alert for the system), with names to show them by.
    let alerts: Vec<_> = props
        .live
        .alerts
        .iter()
        .filter(|a| chosen == Entity::System || a.entity == chosen)
        .cloned()
        .collect();
    let names: Vec<(Entity, String)> = alerts
        .iter()
        .map(|a| (a.entity.clone(), entity_name(&a.entity, &props.reference)))
        .collect();
    let csv = export_csv(
        &name,
        &chosen,
        level.as_ref(),
        pattern.and_then(|p| p.as_ref().ok()),
    );
    let file = format!(
        "levels-{}-{}.csv",
        chosen.to_string().replace(':', "-"),
        props.now.format("%Y%m%d-%H%M")
    );

    html! {
        <main class="system-view">
            <section class="map-panel" aria-label="Escalation map">
                <SystemMap reference={props.reference.clone()} live={props.live.clone()} now={props.now} />
                <ul class="chooser" aria-label="Choose a level to explain">{ for chooser }</ul>
            </section>
            <section class="explain-panel" aria-label={format!("Why {name} is at its level")}>
                <header class="explain-head">
                    <h2>{ &name }</h2>
                    <OpelBadge level={level.clone()} />
                    <a class="export" download={file} href={format!("data:text/csv;charset=utf-8,{}", String::from(js_sys::encode_uri_component(&csv)))}>{ "Export CSV" }</a>
                </header>
                { summary(level.as_ref(), props.now) }
                { explanation_table(level.as_ref()) }
                <div class="write-panels">
                    if acts_on(me.role, me.organisation.as_deref(), &chosen, &props.reference).is_ok() {
                        <DeclareForm key={chosen.to_string()} entity={chosen.clone()} level={level.clone()} />
                    }
                    <AlertActions alerts={alerts} names={names} reference={props.reference.clone()} />
                </div>
                <h3>{ "Last 7 days: highest level each hour" }</h3>
                { pattern_grid(pattern) }
                <h3 class="trends-head">
                    { "Trends over the last " }
                    <Link to={format!("/system?entity={chosen}")} class={classes!("range", (hours == 24).then_some("current"))}>{ "24 hours" }</Link>
                    <Link to={format!("/system?entity={chosen}&days=7")} class={classes!("range", (hours == 168).then_some("current"))}>{ "7 days" }</Link>
                </h3>
                <Trends trends={system_trends(&props.reference)} {hours} now={props.now} />
            </section>
        </main>
    }
}

/// Score, coverage, policy; the declaration and any pending level, in words.
fn summary(level: Option<&Level>, now: DateTime<Utc>) -> Html {
    let Some(level) = level else {
        return html! { <p class="muted">{ "No level: no data has arrived for it." }</p> };
    };
    let calculated = level.calculated.as_ref();
    let line = calculated.map(|e| match e.score {
        Some(score) => format!(
            "Calculated OPEL {} · score {score:.2} · {:.0}% of inputs usable · {} v{}",
            e.level.map_or("–".into(), |l| l.to_string()),
            e.coverage * 100.0,
            e.policy,
            e.policy_version
        ),
        None => format!(
            "Not calculable: only {:.0}% of inputs usable · {} v{}",
            e.coverage * 100.0,
            e.policy,
            e.policy_version
        ),
    });
    let pending = calculated.and_then(|e| e.pending).map(|p| {
        format!(
            "The score has been at OPEL {} since {} ({}); it takes effect once it has held for the policy's settling time.",
            p.level,
            format::clock(&p.since),
            format::age(p.since, now)
        )
    });
    let declared = level.declared.as_ref().map(|d| {
        format!(
            "Declared OPEL {} by {} at {}: “{}”. The declared level is shown in place of the calculated one.",
            d.level,
            d.actor,
            format::when(&d.at, now),
            d.reason
        )
    });
    html! {
        <div class="summary">
            { for line.map(|l| html! { <p>{ l }</p> }) }
            { for declared.map(|l| html! { <p class="declared-line">{ l }</p> }) }
            { for pending.map(|l| html! { <p class="pending-line">{ l }</p> }) }
        </div>
    }
}

fn status_text(status: InputStatus) -> &'static str {
    match status {
        InputStatus::Ok => "",
        InputStatus::Missing => "missing",
        InputStatus::Stale => "stale: not scored",
    }
}

/// Parameter, value, band, weight, contribution: what drove the level.
fn explanation_table(level: Option<&Level>) -> Html {
    let Some(e) = level.and_then(|l| l.calculated.as_ref()) else {
        return html! {};
    };
    let rows = e.parameters.iter().map(|p| {
        let value = p.value.map_or("–".into(), |v| p.unit.format(v));
        let band = p.band.map_or("–".into(), |b| b.to_string());
        let contribution = p.contribution.map_or("–".into(), |c| format!("{c:.2}"));
        let note = [status_text(p.status), p.note.as_deref().unwrap_or("")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        html! {
            <tr key={p.key.clone()} class={classes!(format!("status-{:?}", p.status).to_lowercase(), p.band.map(|b| format!("band-{b}")))}>
                <th scope="row">{ &p.label }</th>
                <td class="num">{ value }</td>
                <td class="num band-cell">{ band }</td>
                <td class="num">{ format!("{:.0}", p.weight) }</td>
                <td class="num">{ contribution }</td>
                <td class="note">{ note }</td>
            </tr>
        }
    });
    html! {
        <table class="explanation">
            <thead><tr>
                <th scope="col">{ "Parameter" }</th><th scope="col">{ "Value" }</th><th scope="col">{ "Band" }</th>
                <th scope="col">{ "Weight" }</th><th scope="col">{ "Contribution" }</th><th scope="col">{ "Note" }</th>
            </tr></thead>
            <tbody>{ for rows }</tbody>
            <tfoot><tr>
                <th scope="row">{ "Score" }</th><td></td><td></td><td></td>
                <td class="num">{ e.score.map_or("–".into(), |s| format!("{s:.2}")) }</td>
                <td>{ e.level.map_or("no level".into(), |l| format!("OPEL {l}")) }</td>
            </tr></tfoot>
        </table>
    }
}

/// Seven rows of hours, each cell the hour's highest level as a number on its colour.
fn pattern_grid(pattern: Option<&Result<Vec<DayPattern>, String>>) -> Html {
    let days = match pattern {
        None => return html! { <p class="muted">{ "Loading the last 7 days…" }</p> },
        Some(Err(e)) => return html! { <p class="muted">{ e.clone() }</p> },
        Some(Ok(days)) => days,
    };
    let rows = days.iter().rev().map(|d| {
        let cells = (0..25).map(|h| {
            let hour = d.hours.get(h).copied();
            let level = hour.flatten();
            // Labelled with its real local start, which differs from the column on the days
            // the clocks change.
            let start = d.start + chrono::Duration::hours(h as i64);
            let title = match hour {
                Some(Some(l)) => format!("{} OPEL {l}", format::clock(&start)),
                Some(None) => format!("{} no level known", format::clock(&start)),
                None => String::new(),
            };
            html! {
                <td class={classes!("hour", level.map(|l| format!("opel-{l}")), hour.is_none().then_some("future"))} {title}>
                    { match hour {
                        Some(Some(l)) => l.to_string(),
                        Some(None) => "·".to_string(),
                        None => String::new(),
                    } }
                </td>
            }
        });
        let at = |i: usize| d.minutes_at[i];
        html! {
            <tr key={d.date.clone()}>
                <th scope="row">{ &d.date }</th>
                { for cells }
                <td class="minutes" title="time at OPEL 3 or 4 that day">{ format!("OPEL 3–4 {}:{:02}", (at(2) + at(3)) / 60, (at(2) + at(3)) % 60) }</td>
            </tr>
        }
    });
    html! {
        <table class="pattern" aria-label="Highest level each hour, newest day first">
            <thead><tr><th></th>{ for (0..24).map(|h| html! { <th>{ format!("{h:02}") }</th> }) }<th></th><th></th></tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

/// What is on screen as CSV: the explanation and the 7-day pattern.
fn export_csv(
    name: &str,
    entity: &Entity,
    level: Option<&Level>,
    pattern: Option<&Vec<DayPattern>>,
) -> String {
    // Quoted; text that a spreadsheet would take for a formula is prefixed with '.
    let quote = |s: &str| {
        let s = s.replace('"', "\"\"");
        if s.starts_with(['=', '+', '-', '@']) {
            format!("\"'{s}\"")
        } else {
            format!("\"{s}\"")
        }
    };
    // A byte-order mark, so spreadsheets read names and dashes as UTF-8.
    let mut out = format!("\u{feff}entity,{},{}\n", entity, quote(name));
    if let Some(level) = level {
        out += &format!(
            "shown level,{}\n",
            level.shown().map_or(String::new(), |l| l.to_string())
        );
        if let Some(d) = &level.declared {
            out += &format!(
                "declared,{},{},{},{}\n",
                d.level,
                quote(&d.actor),
                d.at.to_rfc3339(),
                quote(&d.reason)
            );
        }
        if let Some(e) = &level.calculated {
            out += &format!(
                "calculated,{},score,{},coverage,{:.3},policy,{},version,{}\n",
                e.level.map_or(String::new(), |l| l.to_string()),
                e.score.map_or(String::new(), |s| format!("{s:.4}")),
                e.coverage,
                quote(&e.policy),
                quote(&e.policy_version)
            );
            out += "\nparameter,label,value,status,band,weight,contribution,note\n";
            for p in &e.parameters {
                out += &format!(
                    "{},{},{},{:?},{},{},{},{}\n",
                    p.key,
                    quote(&p.label),
                    p.value.map_or(String::new(), |v| format!("{v:.4}")),
                    p.status,
                    p.band.map_or(String::new(), |b| b.to_string()),
                    p.weight,
                    p.contribution.map_or(String::new(), |c| format!("{c:.4}")),
                    quote(p.note.as_deref().unwrap_or(""))
                );
            }
        }
    }
    if let Some(days) = pattern {
        out += "\ndate,";
        out += &(0..25)
            .map(|h| format!("h{h:02}"))
            .collect::<Vec<_>>()
            .join(",");
        out += ",minutes_opel1,minutes_opel2,minutes_opel3,minutes_opel4,minutes_unknown\n";
        for d in days {
            let hours: Vec<String> = (0..25)
                .map(|h| {
                    d.hours
                        .get(h)
                        .copied()
                        .flatten()
                        .map_or(String::new(), |l| l.to_string())
                })
                .collect();
            let minutes: Vec<String> = d.minutes_at.iter().map(|m| m.to_string()).collect();
            out += &format!("{},{},{}\n", d.date, hours.join(","), minutes.join(","));
        }
    }
    out
}

/// Occupancy, handover hours lost, patients with no criteria to reside and community
/// caseload against capacity, across the system.
fn system_trends(reference: &ReferenceData) -> Vec<Trend> {
    let acute: Vec<(String, String)> = reference
        .sites
        .iter()
        .filter(|s| s.kind.is_acute())
        .map(|s| (format!("site:{}", s.code), s.short_name.clone()))
        .collect();
    let localities: Vec<(String, String)> = reference
        .localities
        .iter()
        .map(|a| (format!("locality:{}", a.code), a.name.clone()))
        .collect();
    let trend = |title: &str, measure: &str, scale, entities: &Vec<(String, String)>| Trend {
        title: title.into(),
        measure: measure.into(),
        scale,
        entities: entities.clone(),
    };
    vec![
        trend("G&A bed occupancy", "ga_occupancy", Scale::Percent, &acute),
        trend(
            "Ambulance handover hours lost today",
            "hours_lost_today",
            Scale::Hours,
            &acute,
        ),
        trend(
            "Patients with no criteria to reside",
            "delayed_patients",
            Scale::Count,
            &acute,
        ),
        trend(
            "Community caseload against capacity",
            "community_load",
            Scale::Percent,
            &localities,
        ),
    ]
}

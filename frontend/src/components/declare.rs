//! Declaring a level, and marking an alert's actions done: the two things site managers
//! (for their own organisation's sites) and system leaders (for the system) write to
//! Levels. The server records them as the signed-in account's, with when and why; an
//! account sees the controls only for what it acts on (`levels_shared::access::acts_on`).

use crate::format;
use crate::services::api;
use levels_shared::access::{acts_on, Me};
use levels_shared::escalation::{Alert, Entity, Level, LevelKind};
use levels_shared::reference::ReferenceData;
use serde_json::json;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DeclareProps {
    pub entity: Entity,
    pub level: Option<Level>,
}

/// Declare a level different from the calculated one, or withdraw the declaration.
#[function_component(DeclareForm)]
pub fn declare_form(props: &DeclareProps) -> Html {
    let chosen = use_state(|| 4u8);
    let reason = use_state(String::new);
    let outcome = use_state(|| None::<Result<String, String>>);
    let declared = props.level.as_ref().and_then(|l| l.declared.clone());

    let send = {
        let (entity, reason, outcome) = (props.entity.clone(), reason.clone(), outcome.clone());
        move |level: Option<u8>| {
            let body = json!({"entity": entity.to_string(), "level": level, "reason": *reason});
            let (outcome, reason) = (outcome.clone(), reason.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::post_json("/api/v1/declarations", &body).await;
                if result.is_ok() {
                    reason.set(String::new());
                }
                outcome.set(Some(result.map(|()| match level {
                    Some(l) => format!("OPEL {l} declared."),
                    None => "Declaration withdrawn.".into(),
                })));
            });
        }
    };
    let on_declare = {
        let (send, chosen) = (send.clone(), chosen.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send(Some(*chosen));
        })
    };
    let on_withdraw = Callback::from(move |_| send(None));
    let on_level = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            chosen.set(v.parse().unwrap_or(4));
        })
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            reason.set(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            )
        })
    };
    html! {
        <form class="declare" onsubmit={on_declare} aria-label="Declare a level">
            <h3>{ "Declare a level" }</h3>
            if let Some(d) = &declared {
                <p class="declared-line">{ format!("OPEL {} declared by {} at {}: “{}”", d.level, d.actor, format::when(&d.at, chrono::Utc::now()), d.reason) }</p>
            }
            <div class="declare-row">
                <label>{ "Level " }
                    <select name="level" onchange={on_level}>
                        { for (1..=4u8).map(|l| html! { <option value={l.to_string()} selected={*chosen == l}>{ format!("OPEL {l}") }</option> }) }
                    </select>
                </label>
            </div>
            <label class="block">{ "Reason (required)" }
                <textarea name="reason" rows="2" value={(*reason).clone()} oninput={on_reason} />
            </label>
            <div class="declare-row">
                <button type="submit">{ "Declare" }</button>
                if declared.is_some() {
                    <button type="button" onclick={on_withdraw}>{ "Withdraw the declaration" }</button>
                }
                { match &*outcome {
                    Some(Ok(m)) => html! { <span class="ok" role="status">{ m }</span> },
                    Some(Err(e)) => html! { <span class="error" role="alert">{ e }</span> },
                    None => html! {},
                } }
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct ActionsProps {
    pub alerts: Vec<Alert>,
    pub names: Vec<(Entity, String)>,
    /// To tell which alerts' actions the signed-in account may tick.
    pub reference: Rc<ReferenceData>,
}

/// Recent alerts with their action cards; each action of an alert the signed-in account
/// acts on is a checkbox that records who ticked it.
#[function_component(AlertActions)]
pub fn alert_actions(props: &ActionsProps) -> Html {
    let me = use_context::<Rc<Me>>().expect("signed in");
    let marks = |a: &Alert| {
        acts_on(
            me.role,
            me.organisation.as_deref(),
            &a.entity,
            &props.reference,
        )
        .is_ok()
    };
    let shown: Vec<&Alert> = props
        .alerts
        .iter()
        .filter(|a| !a.actions.is_empty())
        .take(3)
        .collect();
    let marks_none = !shown.iter().any(|a| marks(a));
    let error = use_state(|| None::<String>);
    let name = |e: &Entity| {
        props
            .names
            .iter()
            .find(|(x, _)| x == e)
            .map_or(e.to_string(), |(_, n)| n.clone())
    };
    let items = shown.iter().map(|a| {
        let can_mark = marks(a);
        let what = match (a.kind, a.to) {
            (LevelKind::Declared, Some(to)) => format!("OPEL {to} declared"),
            (LevelKind::Declared, None) => "declaration withdrawn".into(),
            (LevelKind::Calculated, to) => format!(
                "OPEL {} → {}",
                a.from.map_or("–".into(), |l| l.to_string()),
                to.map_or("–".into(), |l| l.to_string())
            ),
        };
        let actions = a.actions.iter().enumerate().map(|(i, x)| {
            let (id, error) = (a.id, error.clone());
            let done = x.done.is_some();
            let onchange = Callback::from(move |_| {
                let body = json!({"done": !done});
                let error = error.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match api::post_json(&format!("/api/v1/alerts/{id}/actions/{i}"), &body).await {
                        Ok(()) => error.set(None),
                        Err(e) => error.set(Some(e)),
                    }
                });
            });
            let by = x.done.as_ref().map(|d| {
                format!(" — {} at {}", d.actor, format::when(&d.at, chrono::Utc::now()))
            });
            html! {
                <li>
                    <label>
                        <input type="checkbox" checked={done} {onchange} disabled={!can_mark} data-action={format!("{}-{i}", a.id)} />
                        { " " }{ &x.text }{ by.unwrap_or_default() }
                    </label>
                </li>
            }
        });
        html! {
            <li class={classes!("alert", a.to.map(|l| format!("alert-{l}")))} key={a.id.to_string()}>
                <span class="alert-time">{ format::clock(&a.at) }</span>
                <span class="alert-what">{ format!("{}: {what}", name(&a.entity)) }</span>
                <ul class="alert-card">{ for actions }</ul>
            </li>
        }
    });
    html! {
        <section class="alert-actions" aria-label="Alerts and their actions">
            <h3>{ "Alerts and actions" }</h3>
            if marks_none { <p class="muted">{ "A site's own site managers tick its actions off; system leaders the system's." }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            <ul class="alert-strip">{ for items }</ul>
        </section>
    }
}

//! Declaring a level, and marking an alert's actions done: the two things a person writes
//! to Levels. Each is signed with a name (remembered by this browser) until accounts arrive
//! with the security issue; the server records who, when and why.

use crate::format;
use crate::services::api;
use levels_shared::escalation::{Alert, Entity, Level, LevelKind};
use serde_json::json;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DeclareProps {
    pub entity: Entity,
    pub level: Option<Level>,
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<web_sys::HtmlInputElement>()
        .value()
}

/// Declare a level different from the calculated one, or withdraw the declaration.
#[function_component(DeclareForm)]
pub fn declare_form(props: &DeclareProps) -> Html {
    let chosen = use_state(|| 4u8);
    let reason = use_state(String::new);
    let actor = use_state(api::remembered_actor);
    let outcome = use_state(|| None::<Result<String, String>>);
    let declared = props.level.as_ref().and_then(|l| l.declared.clone());

    let send = {
        let (entity, reason, actor, outcome) = (
            props.entity.clone(),
            reason.clone(),
            actor.clone(),
            outcome.clone(),
        );
        move |level: Option<u8>| {
            let body = json!({"entity": entity.to_string(), "level": level, "reason": *reason, "actor": *actor});
            let (outcome, reason, actor_name) = (outcome.clone(), reason.clone(), (*actor).clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::post_json("/api/v1/declarations", &body).await;
                if result.is_ok() {
                    api::remember_actor(&actor_name);
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
    let on_actor = {
        let actor = actor.clone();
        Callback::from(move |e: InputEvent| actor.set(input_value(&e)))
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
                <label class="grow">{ "Your name and role " }
                    <input name="actor" type="text" value={(*actor).clone()} oninput={on_actor} autocomplete="name" />
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
}

/// Recent alerts with their action cards, each action a checkbox that records who did it.
#[function_component(AlertActions)]
pub fn alert_actions(props: &ActionsProps) -> Html {
    let actor = use_state(api::remembered_actor);
    let error = use_state(|| None::<String>);
    let on_actor = {
        let actor = actor.clone();
        Callback::from(move |e: InputEvent| actor.set(input_value(&e)))
    };
    let name = |e: &Entity| {
        props
            .names
            .iter()
            .find(|(x, _)| x == e)
            .map_or(e.to_string(), |(_, n)| n.clone())
    };
    let items = props.alerts.iter().filter(|a| !a.actions.is_empty()).take(3).map(|a| {
        let what = match (a.kind, a.to) {
            (LevelKind::Declared, Some(to)) => format!("OPEL {to} declared"),
            (LevelKind::Declared, None) => "declaration withdrawn".into(),
            (LevelKind::Calculated, to) => format!("OPEL {} → {}", a.from.map_or("–".into(), |l| l.to_string()), to.map_or("–".into(), |l| l.to_string())),
        };
        let actions = a.actions.iter().enumerate().map(|(i, x)| {
            let (id, actor, error) = (a.id, actor.clone(), error.clone());
            let done = x.done.is_some();
            let onchange = Callback::from(move |_| {
                let body = json!({"done": !done, "actor": *actor});
                let (error, actor_name) = (error.clone(), (*actor).clone());
                wasm_bindgen_futures::spawn_local(async move {
                    match api::post_json(&format!("/api/v1/alerts/{id}/actions/{i}"), &body).await {
                        Ok(()) => {
                            api::remember_actor(&actor_name);
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            });
            let by = x.done.as_ref().map(|d| format!(" — {} at {}", d.actor, format::when(&d.at, chrono::Utc::now())));
            html! {
                <li>
                    <label>
                        <input type="checkbox" checked={done} {onchange} data-action={format!("{}-{i}", a.id)} />
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
            <label>{ "Your name and role " }<input type="text" value={(*actor).clone()} oninput={on_actor} autocomplete="name" /></label>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            <ul class="alert-strip">{ for items }</ul>
        </section>
    }
}

//! The discharge view (`/discharge`): for discharge coordinators. Who is delayed, where,
//! why, for how long and on which pathway: a list filtered and sorted in the URL (so a view
//! can be shared and survives a reload), counts by reason, pathway, responsible
//! organisation and delay band as charts, bed days lost, and where the patients live on a map. Usable by keyboard: every
//! filter is a labelled select and every column a sort button.

use crate::components::bars::{exact, Bars};
use crate::components::locality_map::{counted, LocalityMap, Shading};
use crate::format;
use crate::route::{self, query_string};
use crate::services::api;
use chrono::{DateTime, Utc};
use levels_shared::discharge::{DelayedPatient, DelayedPatients, ReasonGroup};
use levels_shared::feed::Feed;
use levels_shared::live::LiveState;
use levels_shared::measures::DelayBand;
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

/// A value as serde writes it (the codes the API and the URL use).
fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One filter: its URL key, its label, and how a patient's value for it is written.
struct Filter {
    key: &'static str,
    label: &'static str,
    value: fn(&DelayedPatient) -> String,
}

const FILTERS: [Filter; 8] = [
    Filter {
        key: "site",
        label: "Site",
        value: |p| p.site.clone(),
    },
    Filter {
        key: "ward",
        label: "Ward",
        value: |p| p.ward.clone(),
    },
    Filter {
        key: "pathway",
        label: "Pathway",
        value: |p| code(&p.pathway),
    },
    Filter {
        key: "group",
        label: "Reason group",
        value: |p| p.reason.map_or(NOT_GIVEN.into(), |r| code(&r.group())),
    },
    Filter {
        key: "reason",
        label: "Reason",
        value: |p| p.reason.map_or(NOT_GIVEN.into(), |r| r.code().to_owned()),
    },
    Filter {
        key: "responsible",
        label: "Responsible",
        value: |p| {
            p.responsible
                .map_or(NOT_GIVEN.into(), |r| r.code().to_owned())
        },
    },
    Filter {
        key: "locality",
        label: "Home locality",
        value: |p| p.locality.clone().unwrap_or_else(|| NOT_GIVEN.into()),
    },
    Filter {
        key: "band",
        label: "Days delayed",
        value: |p| code(&p.band),
    },
];

/// The filter value of a patient with no value for it (`?locality=-`), so "not given" can
/// be chosen and kept in the URL; "" means no filter.
const NOT_GIVEN: &str = "-";

/// How a filter value is shown.
fn describe(key: &str, value: &str, reference: &ReferenceData) -> String {
    if value.is_empty() || value == NOT_GIVEN {
        return "(not given)".into();
    }
    let parsed = |v: &str| serde_json::Value::String(v.to_owned());
    match key {
        "site" => reference
            .site(value)
            .map_or(value.into(), |s| s.short_name.clone()),
        "locality" => reference
            .locality(value)
            .map_or(value.into(), |a| a.name.clone()),
        "group" => serde_json::from_value::<ReasonGroup>(parsed(value))
            .map_or(value.into(), |g| g.label().into()),
        "reason" => levels_shared::discharge::Reason::parse(value)
            .map_or(value.into(), |r| r.label().into()),
        "responsible" => levels_shared::discharge::Responsible::parse(value)
            .map_or(value.into(), |r| r.label().into()),
        "band" => format!("{value} days"),
        _ => value.into(),
    }
}

/// The columns, their sort keys and cells.
const COLUMNS: [(&str, &str); 8] = [
    ("site", "Site"),
    ("ward", "Ward"),
    ("patient", "Reference"),
    ("days", "Days since ready"),
    ("pathway", "Pathway"),
    ("reason", "Reason"),
    ("responsible", "Responsible"),
    ("locality", "Home locality"),
];

fn sort(patients: &mut [&DelayedPatient], key: &str, desc: bool, reference: &ReferenceData) {
    let text = |p: &DelayedPatient| -> String {
        match key {
            "site" => describe("site", &p.site, reference),
            "ward" => p.ward.clone(),
            "patient" => p.patient.clone(),
            "pathway" => code(&p.pathway),
            "reason" => p.reason.map(|r| r.label().to_owned()).unwrap_or_default(),
            "responsible" => p
                .responsible
                .map(|r| r.label().to_owned())
                .unwrap_or_default(),
            "locality" => describe("locality", p.locality.as_deref().unwrap_or(""), reference),
            _ => String::new(),
        }
    };
    patients.sort_by(|a, b| {
        let order = if key == "days" || !COLUMNS.iter().any(|(k, _)| *k == key) {
            a.days_delayed
                .cmp(&b.days_delayed)
                .then(a.ready_at.cmp(&b.ready_at).reverse())
        } else {
            text(a).cmp(&text(b))
        };
        let order = order.then_with(|| a.patient.cmp(&b.patient));
        if desc {
            order.reverse()
        } else {
            order
        }
    });
}

fn counts<'a>(
    patients: impl Iterator<Item = &'a DelayedPatient>,
    f: impl Fn(&DelayedPatient) -> Option<String>,
) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for p in patients {
        if let Some(k) = f(p) {
            *out.entry(k).or_default() += 1;
        }
    }
    out
}

#[function_component(DischargeView)]
pub fn discharge_view(props: &Props) -> Html {
    // The last list received, and the error of the latest fetch if it failed: a failed
    // refresh keeps the list on screen with its age rather than replacing it.
    let data = use_state(|| None::<Rc<DelayedPatients>>);
    let failed = use_state(|| None::<String>);
    // Fetched again whenever any site's delay list moves, and every minute.
    let key: Vec<String> = props
        .live
        .sites
        .iter()
        .filter_map(|(code, s)| {
            s.feeds
                .get(&Feed::DischargeDelays)
                .map(|at| format!("{code}@{at}"))
        })
        .collect();
    {
        let (data, failed) = (data.clone(), failed.clone());
        use_effect_with(key, move |_| {
            let fetch = move || {
                let (data, failed) = (data.clone(), failed.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    match api::get_json::<DelayedPatients>("/api/v1/discharge/patients").await {
                        Ok(list) => {
                            data.set(Some(Rc::new(list)));
                            failed.set(None);
                        }
                        Err(e) => failed.set(Some(e)),
                    }
                });
            };
            fetch();
            let timer = gloo_timers::callback::Interval::new(60_000, fetch);
            move || drop(timer)
        });
    }
    let Some(reply) = (*data).clone() else {
        let text = match (*failed).clone() {
            Some(e) if e.contains("answered 403") => {
                "Patient-level data is for discharge coordinators, for their own organisation's sites.".into()
            }
            Some(e) => e,
            None => "Loading the delayed patients…".into(),
        };
        return html! { <main class="discharge-view"><p class="notice">{ text }</p></main> };
    };
    let reply = &*reply;
    let reference = &props.reference;
    let query = &props.query;
    let chosen = |key: &str| query.get(key).filter(|v| !v.is_empty()).cloned();
    let matches = |p: &DelayedPatient, skip: &str| {
        FILTERS
            .iter()
            .filter(|f| f.key != skip)
            .all(|f| chosen(f.key).is_none_or(|v| (f.value)(p) == v))
    };
    let mut shown: Vec<&DelayedPatient> =
        reply.patients.iter().filter(|p| matches(p, "")).collect();
    let sort_key = chosen("sort").unwrap_or_else(|| "days".into());
    let desc = query.get("desc").map_or(sort_key == "days", |d| d == "1");
    sort(&mut shown, &sort_key, desc, reference);

    let set = {
        let query = query.clone();
        move |changes: Vec<(&'static str, String)>| {
            let mut q = query.clone();
            for (k, v) in changes {
                q.insert(k.to_owned(), v);
            }
            route::navigate(&format!("/discharge{}", query_string(&q)), true);
        }
    };

    // Each filter offers the values present among patients matching the other filters.
    let filters = FILTERS.iter().map(|f| {
        let mut options: Vec<String> = counts(reply.patients.iter().filter(|p| matches(p, f.key)), |p| Some((f.value)(p))).into_keys().collect();
        let current = chosen(f.key).unwrap_or_default();
        if !current.is_empty() && !options.contains(&current) {
            options.push(current.clone());
        }
        let set = set.clone();
        let key = f.key;
        let onchange = Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            set(vec![(key, value)]);
        });
        let id = format!("filter-{}", f.key);
        html! {
            <label for={id.clone()} class="filter">
                <span>{ f.label }</span>
                // Keyed by the value, so back and forward re-create it showing the URL's filter.
                <select key={format!("{}={current}", f.key)} id={id} name={f.key} {onchange} data-filter={f.key}>
                    <option value="" selected={current.is_empty()}>{ "All" }</option>
                    { for options.iter().map(|o| html! {
                        <option value={o.clone()} selected={*o == current}>{ describe(f.key, o, reference) }</option>
                    }) }
                </select>
            </label>
        }
    });

    let headers = COLUMNS.iter().map(|(key, label)| {
        let active = sort_key == *key;
        let set = set.clone();
        let next_desc = if active { !desc } else { *key == "days" };
        let onclick = Callback::from(move |_| set(vec![("sort", key.to_string()), ("desc", if next_desc { "1".into() } else { "0".into() })]));
        let aria = if active { if desc { "descending" } else { "ascending" } } else { "none" };
        html! {
            <th scope="col" aria-sort={aria}>
                <button type="button" class={classes!("sort", active.then_some("active"))} {onclick}>
                    { *label }{ if active { if desc { " ▼" } else { " ▲" } } else { "" } }
                </button>
            </th>
        }
    });
    let stale: Vec<&String> = reply.stale_sites.iter().collect();
    // Each stale site with the age of its latest record.
    let stale_ages = stale
        .iter()
        .map(|code| {
            let latest = reply
                .patients
                .iter()
                .filter(|p| &&p.site == code)
                .map(|p| p.at)
                .max();
            let age = latest.map_or(String::new(), |at| {
                format!(" (last sent {})", format::age(at.to_utc(), props.now))
            });
            format!("{}{age}", describe("site", code, reference))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows = shown.iter().map(|p| {
        let site_stale = stale.contains(&&p.site);
        html! {
            <tr key={format!("{}-{}", p.site, p.patient)} class={classes!(site_stale.then_some("stale"))} data-patient={p.patient.clone()}>
                <td>{ describe("site", &p.site, reference) }</td>
                <td>{ &p.ward }</td>
                <td class="mono">{ &p.patient }</td>
                <td class="num">{ p.days_delayed }</td>
                <td>{ code(&p.pathway) }</td>
                <td>{ p.reason.map_or("–", |r| r.label()) }</td>
                <td>{ p.responsible.map_or("–", |r| r.label()) }</td>
                <td>{ describe("locality", p.locality.as_deref().unwrap_or(""), reference) }</td>
            </tr>
        }
    });

    // Charts and totals follow the filters.
    let by = |f: fn(&DelayedPatient) -> Option<String>| counts(shown.iter().copied(), f);
    let group_items: Vec<(String, u32)> = ReasonGroup::ALL
        .iter()
        .map(|g| {
            (
                g.label().to_owned(),
                shown
                    .iter()
                    .filter(|p| p.reason.map(|r| r.group()) == Some(*g))
                    .count() as u32,
            )
        })
        .collect();
    let mut reason_items: Vec<(String, u32)> = by(|p| p.reason.map(|r| r.label().to_owned()))
        .into_iter()
        .collect();
    reason_items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    reason_items.truncate(8);
    let pathway_items: Vec<(String, u32)> = by(|p| Some(code(&p.pathway))).into_iter().collect();
    let responsible_items: Vec<(String, u32)> =
        by(|p| Some(p.responsible.map_or("Not given", |r| r.label()).to_owned()))
            .into_iter()
            .collect();
    let band_items: Vec<(String, u32)> = DelayBand::ALL
        .iter()
        .map(|b| {
            (
                format!("{} days", code(b)),
                shown.iter().filter(|p| p.band == *b).count() as u32,
            )
        })
        .collect();
    let home = by(|p| p.locality.clone());
    let site_filter = chosen("site");
    let (today, week) = reply
        .bed_days_lost
        .iter()
        .filter(|(code, _)| site_filter.as_ref().is_none_or(|s| s == *code))
        .fold((0.0, 0.0), |(t, w), (_, [d, k])| (t + d, w + k));
    let any_filter = FILTERS.iter().any(|f| chosen(f.key).is_some());
    let others_filtered = FILTERS
        .iter()
        .any(|f| f.key != "site" && chosen(f.key).is_some());

    html! {
        <main class="discharge-view">
            <section class="discharge-head">
                <div class="headline" data-shown={shown.len().to_string()}>
                    <span class="big">{ shown.len() }</span>
                    <span>{ if any_filter { format!(" of {} patients with no criteria to reside", reply.patients.len()) } else { " patients with no criteria to reside".to_string() } }</span>
                </div>
                <div class="headline" title="time since discharge-ready spent in hospital, by every delayed patient at the sites chosen">
                    <span class="big">{ format!("{today:.0}") }</span>
                    <span>{ if others_filtered { " bed days lost today (all patients at these sites)" } else { " bed days lost today" } }</span>
                </div>
                <div class="headline"><span class="big">{ format!("{week:.0}") }</span><span>{ " this week" }</span></div>
                <span class="muted">{ format!("as of {}", format::clock(&reply.as_of)) }</span>
                if any_filter {
                    <a class="clear" href="/discharge" onclick={Callback::from(|e: MouseEvent| { e.prevent_default(); route::navigate("/discharge", true); })}>{ "Clear filters" }</a>
                }
            </section>
            if !stale.is_empty() {
                <p class="stale-banner" role="status">{ format!("STALE: the lists from {stale_ages} are out of date; their patients are greyed and still counted.") }</p>
            }
            if let Some(e) = &*failed {
                <p class="stale-banner" role="alert">{ format!("Cannot refresh the list ({e}); showing it as of {}.", format::clock(&reply.as_of)) }</p>
            }
            <form class="filters" aria-label="Filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>{ for filters }</form>
            <div class="discharge-body">
                <section class="patients" aria-label="Delayed patients">
                    <table class="patient-list">
                        <thead><tr>{ for headers }</tr></thead>
                        <tbody>{ for rows }</tbody>
                    </table>
                    if shown.is_empty() { <p class="muted">{ "No delayed patients match these filters." }</p> }
                </section>
                <section class="discharge-charts" aria-label="Counts">
                    <Bars title="By reason group" items={exact(group_items)} />
                    <Bars title="By pathway" items={exact(pathway_items)} />
                    <Bars title="By responsible organisation" items={exact(responsible_items)} />
                    <Bars title="By days delayed" items={exact(band_items)} />
                    <Bars title="Top reasons" items={exact(reason_items)} />
                    <LocalityMap reference={reference.clone()} values={counted(home.clone())} shading={Shading::Count} title="Where they live" />
                    <table class="visually-hidden">
                        <caption>{ "Where they live" }</caption>
                        <tbody>{ for home.iter().map(|(code, n)| html! {
                            <tr><th scope="row">{ describe("locality", code, reference) }</th><td>{ n }</td></tr>
                        }) }</tbody>
                    </table>
                </section>
            </div>
        </main>
    }
}

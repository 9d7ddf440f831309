//! The app shell: asks who is signed in (and shows the sign-in page if nobody is), then
//! loads reference data, runs the live link and the clock, routes to the view the URL
//! names, and in kiosk mode (`?rotate=SECONDS`) turns through the wall views.

use crate::components::connection::Connection;
use crate::components::opel::OpelBadge;
use crate::pages::community::CommunityView;
use crate::pages::control_room::ControlRoom;
use crate::pages::discharge::DischargeView;
use crate::pages::login::LoginPage;
use crate::pages::site::SiteView;
use crate::pages::system::SystemView;
use crate::route::{self, Link as NavLink, Route};
use crate::services::{api, live};
use crate::state::{Dashboard, Link};
use chrono::Utc;
use gloo_timers::callback::Interval;
use levels_shared::access::Me;
use levels_shared::escalation::Entity;
use levels_shared::reference::ReferenceData;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
enum Reference {
    Loading,
    Failed(String),
    Loaded(Rc<ReferenceData>),
}

/// Who is signed in, as the browser knows it.
#[derive(Clone, PartialEq)]
enum Account {
    Checking,
    Unreachable(String),
    SignedOut,
    SignedIn(Rc<Me>),
}

#[function_component(App)]
pub fn app() -> Html {
    let account = use_state(|| Account::Checking);
    {
        let account = account.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                account.set(match api::me().await {
                    Ok(Some(me)) => {
                        api::set_csrf(&me.csrf);
                        Account::SignedIn(Rc::new(me))
                    }
                    Ok(None) => Account::SignedOut,
                    Err(e) => Account::Unreachable(e),
                });
            });
        });
    }
    match &*account {
        Account::Checking => html! { <p class="notice">{ "Loading…" }</p> },
        Account::Unreachable(e) => {
            html! { <p class="notice">{ format!("Cannot reach Levels: {e}. Reload to try again.") }</p> }
        }
        Account::SignedOut => {
            let account = account.clone();
            let on_signed_in = Callback::from(move |me: Me| {
                api::set_csrf(&me.csrf);
                account.set(Account::SignedIn(Rc::new(me)));
            });
            html! { <LoginPage {on_signed_in} /> }
        }
        Account::SignedIn(me) => html! {
            <ContextProvider<Rc<Me>> context={me.clone()}>
                <Shell />
            </ContextProvider<Rc<Me>>>
        },
    }
}

/// The signed-in dashboard.
#[function_component(Shell)]
fn shell() -> Html {
    let me = use_context::<Rc<Me>>().expect("signed in");
    let dashboard = use_reducer(Dashboard::default);
    let reference = use_state(|| Reference::Loading);
    let now = use_state(Utc::now);
    let location = route::use_location();
    let kiosk = location.rotate_seconds();
    {
        // Kiosk: after `rotate` seconds on a view, move to the next wall view.
        let location = location.clone();
        use_effect_with(location.clone(), move |_| {
            let timer = kiosk.map(|seconds| {
                gloo_timers::callback::Timeout::new(seconds * 1_000, move || {
                    let here = location.route.path();
                    let at = Route::KIOSK.iter().position(|p| *p == here);
                    let next = Route::KIOSK[at.map_or(0, |i| (i + 1) % Route::KIOSK.len())];
                    route::navigate(&format!("{next}?rotate={seconds}"), true);
                })
            });
            move || drop(timer)
        });
    }

    {
        let dispatcher = dashboard.dispatcher();
        let reference = reference.clone();
        let now = now.clone();
        use_effect_with((), move |_| {
            live::start(Callback::from(move |action| dispatcher.dispatch(action)));
            wasm_bindgen_futures::spawn_local(async move {
                // Keep asking until the server answers: it may be starting up.
                loop {
                    match api::reference().await {
                        Ok(r) => {
                            reference.set(Reference::Loaded(Rc::new(r)));
                            break;
                        }
                        Err(e) => reference.set(Reference::Failed(e)),
                    }
                    gloo_timers::future::TimeoutFuture::new(2_000).await;
                }
            });
            let clock = Interval::new(1_000, move || now.set(Utc::now()));
            move || drop(clock)
        });
    }

    // Ages are measured on the server's clock, so a screen with a wrong clock still tells the truth.
    let server_now = *now + dashboard.clock_offset;
    let system = match &*reference {
        Reference::Loaded(r) => r.system.clone(),
        _ => String::new(),
    };
    let body = match &*reference {
        Reference::Loading => html! { <p class="notice">{ "Loading…" }</p> },
        Reference::Failed(e) => {
            html! { <p class="notice">{ format!("Cannot load the map: {e}. Retrying…") }</p> }
        }
        Reference::Loaded(r) => {
            let (reference, live) = (r.clone(), dashboard.live.clone());
            match &location.route {
                Route::ControlRoom => html! { <ControlRoom {reference} {live} now={server_now} /> },
                Route::System => {
                    html! { <SystemView {reference} {live} now={server_now} query={location.query.clone()} /> }
                }
                Route::Community => html! { <CommunityView {reference} {live} now={server_now} /> },
                Route::Site(code) => {
                    html! { <SiteView {reference} {live} now={server_now} code={code.clone()} /> }
                }
                Route::Discharge => {
                    html! { <DischargeView {reference} {live} now={server_now} query={location.query.clone()} /> }
                }
                other => html! {
                    <p class="notice">{ format!("No view at {}: choose one above.", other.path()) }</p>
                },
            }
        }
    };
    let sign_out = Callback::from(|_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = api::post_json("/api/v1/logout", &serde_json::json!({})).await;
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign("/");
            }
        });
    });
    let here = location.route.path();
    let nav = (kiosk.is_none()).then(|| html! {
        <nav class="views" aria-label="Views">
            // Only a discharge coordinator may see the patient list.
            { for Route::NAV.iter().filter(|(path, _)| *path != "/discharge" || me.role.sees_patients()).map(|(path, label)| {
                let current = here == *path;
                html! {
                    <NavLink to={path.to_string()} class={classes!("view-link", current.then_some("current"))}>
                        { *label }
                    </NavLink>
                }
            }) }
        </nav>
    });
    let attribution = match &*reference {
        Reference::Loaded(r) => r.attribution.join(" "),
        _ => String::new(),
    };
    let lost = match &dashboard.link {
        Link::Reconnecting { .. } => {
            let since = dashboard
                .last_update
                .map(|t| {
                    format!(
                        "Figures below are as of {} and are not updating.",
                        crate::format::clock_seconds(&t)
                    )
                })
                .unwrap_or_else(|| "No figures have been received.".into());
            html! {
                <div class="lost-banner" role="alert">
                    <strong>{ "CONNECTION TO LEVELS LOST" }</strong>
                    <span>{ format!("{since} Reconnecting automatically…") }</span>
                </div>
            }
        }
        _ => html! {},
    };
    html! {
        <div class={classes!("app", matches!(dashboard.link, Link::Reconnecting { .. }).then_some("disconnected"), kiosk.is_some().then_some("kiosk"))}>
            <header class="top-bar">
                <h1><span class="brand">{ "LEVELS" }</span>{ format!(" {system}") }</h1>
                { nav.unwrap_or_default() }
                <span class="system-level" data-system-level="">
                    <span class="system-level-label">{ "System" }</span>
                    <OpelBadge level={dashboard.live.levels.get(&Entity::System).cloned()} />
                </span>
                <span class="clock">{ crate::format::clock_seconds(&*now) }</span>
                <Connection link={dashboard.link.clone()} last_update={dashboard.last_update} now={*now} />
                if kiosk.is_none() {
                    <span class="account" title={me.role.label()}>
                        <span class="account-name">{ &me.display_name }</span>
                        <button type="button" class="sign-out" onclick={sign_out}>{ "Sign out" }</button>
                    </span>
                }
            </header>
            { lost }
            { body }
            <footer class="attribution">{ attribution }</footer>
        </div>
    }
}

//! The views and their addresses: parsing the URL, moving between views without a reload,
//! and kiosk mode (`?rotate=SECONDS`), which hides navigation and turns through the
//! views a wall screen shows.

use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

/// A view of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    ControlRoom,
    Discharge,
    System,
    Site(String),
    Community,
    NotFound(String),
}

impl Route {
    pub fn parse(path: &str) -> Route {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            [""] => Route::ControlRoom,
            ["discharge"] => Route::Discharge,
            ["system"] => Route::System,
            ["community"] => Route::Community,
            ["sites", code] if !code.is_empty() => Route::Site((*code).to_owned()),
            _ => Route::NotFound(path.to_owned()),
        }
    }

    pub fn path(&self) -> String {
        match self {
            Route::ControlRoom => "/".into(),
            Route::Discharge => "/discharge".into(),
            Route::System => "/system".into(),
            Route::Community => "/community".into(),
            Route::Site(code) => format!("/sites/{code}"),
            Route::NotFound(path) => path.clone(),
        }
    }

    /// The views in the navigation bar, in order.
    pub const NAV: [(&'static str, &'static str); 4] = [
        ("/", "Control room"),
        ("/system", "System"),
        ("/discharge", "Discharge"),
        ("/community", "Community"),
    ];

    /// The views a kiosk turns through: aggregate views only, never patient lists.
    pub const KIOSK: [&'static str; 3] = ["/", "/system", "/community"];
}

/// Where the browser is: the view and its query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub route: Route,
    pub query: BTreeMap<String, String>,
}

impl Location {
    /// The browser's current location.
    pub fn current() -> Location {
        let location = web_sys::window().map(|w| w.location());
        let path = location
            .as_ref()
            .and_then(|l| l.pathname().ok())
            .unwrap_or_else(|| "/".into());
        let search = location
            .as_ref()
            .and_then(|l| l.search().ok())
            .unwrap_or_default();
        Location {
            route: Route::parse(&path),
            query: parse_query(&search),
        }
    }

    /// Seconds per view in kiosk mode (5 s to a day), if the URL asks for it.
    pub fn rotate_seconds(&self) -> Option<u32> {
        self.query
            .get("rotate")
            .and_then(|s| s.parse::<u32>().ok())
            .map(|s| s.clamp(5, 86_400))
    }
}

/// `?a=1&b=x%20y` as a map (later keys win).
pub fn parse_query(search: &str) -> BTreeMap<String, String> {
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(search) else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    let entries = js_sys::try_iter(&params.entries()).ok().flatten();
    for entry in entries.into_iter().flatten().flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.insert(k, v);
        }
    }
    out
}

/// `?a=1&b=x+y` from a map, empty values left out.
pub fn query_string(query: &BTreeMap<String, String>) -> String {
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return String::new();
    };
    for (k, v) in query.iter().filter(|(_, v)| !v.is_empty()) {
        params.append(k, v);
    }
    let s: String = params.to_string().into();
    if s.is_empty() {
        s
    } else {
        format!("?{s}")
    }
}

const NAVIGATED: &str = "levels-navigated";

/// Goes to `url` (path and query) without a reload; `replace` keeps history short for
/// changes such as a filter being typed.
pub fn navigate(url: &str, replace: bool) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        let _ = if replace {
            history.replace_state_with_url(&JsValue::NULL, "", Some(url))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(url))
        };
    }
    if let Ok(event) = web_sys::Event::new(NAVIGATED) {
        let _ = window.dispatch_event(&event);
    }
}

/// The current location, updated on back/forward and on [`navigate`].
#[hook]
pub fn use_location() -> Location {
    let location = use_state(Location::current);
    {
        let location = location.clone();
        use_effect_with((), move |_| {
            let update = Closure::<dyn Fn()>::new(move || location.set(Location::current()));
            let window = web_sys::window();
            if let Some(w) = &window {
                for event in ["popstate", NAVIGATED] {
                    let _ =
                        w.add_event_listener_with_callback(event, update.as_ref().unchecked_ref());
                }
            }
            move || {
                if let Some(w) = &window {
                    for event in ["popstate", NAVIGATED] {
                        let _ = w.remove_event_listener_with_callback(
                            event,
                            update.as_ref().unchecked_ref(),
                        );
                    }
                }
                drop(update);
            }
        });
    }
    (*location).clone()
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub to: String,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub children: Html,
}

/// An ordinary link (it opens in a new tab, and works without script) that moves between
/// views without a reload when clicked.
#[function_component(Link)]
pub fn link(props: &LinkProps) -> Html {
    let to = props.to.clone();
    let onclick = Callback::from(move |e: MouseEvent| {
        if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
            return;
        }
        e.prevent_default();
        navigate(&to, false);
    });
    html! { <a href={props.to.clone()} class={props.class.clone()} {onclick}>{ props.children.clone() }</a> }
}

//! The Levels dashboard: a Yew single-page app.
//!
//! # Layout
//! - `services/`: all I/O: the reference-data fetch and the live websocket with reconnect.
//! - `state`: the dashboard's state as a `Reducible`, fed by the live service.
//! - `map/`: turning reference geometry into SVG with the `geo` crate.
//! - `components/`: the map, site tiles, connection indicator.
//! - `route`: the views' addresses, navigation without reloads, and kiosk rotation.
//! - `pages/`: whole views: control room, system, discharge, site, community.
//!
//! The server decides every figure's meaning; the views only show it.

mod app;
mod components;
mod format;
mod map;
mod pages;
mod route;
mod services;
mod state;

fn main() {
    yew::Renderer::<app::App>::new().render();
}

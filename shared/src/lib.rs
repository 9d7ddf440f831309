//! Types that cross the wire between the Levels server and the browser.
//!
//! # Layout
//! - [`access`]: roles and what each may see and do (DESIGN §9).
//! - [`feed`]: the feeds of the contract and their names in URLs and the event log.
//! - [`beds`], [`handovers`], [`discharge`], [`community`], [`ed`]: each feed's record
//!   (DESIGN §4.1–4.5) and its closed lists of codes; [`discharge`] also has the discharge
//!   view's list of delayed patients.
//! - [`disclosure`]: small-number suppression of counts of patients (docs/security.md).
//! - [`reference`]: sites, localities and map areas, as the server serves them.
//! - [`live`]: the live state, the changes to it, and the websocket messages that carry them.
//!
//! This crate compiles for both the server and `wasm32-unknown-unknown`, so it must not
//! depend on anything server-only (no tokio, no sqlx). Derived measures live here, beside
//! the data they derive from, so the server and the browser compute them the same way.

pub mod access;
pub mod beds;
pub mod community;
pub mod discharge;
pub mod disclosure;
pub mod ed;
pub mod escalation;
pub mod feed;
pub mod freshness;
pub mod handovers;
pub mod history;
pub mod live;
pub mod measures;
pub mod reference;

#[cfg(test)]
mod proptests;

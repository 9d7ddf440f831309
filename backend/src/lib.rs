//! Levels: a real-time system-flow and escalation dashboard for a health and care system.
//!
//! # Layout
//! Data flows one way, and the modules follow it. Each imports only modules above it in
//! this list (docs/architecture.md shows the picture and how it is checked):
//!
//! - [`config`], [`text`], [`reference`], [`metrics`], [`telemetry`]: configuration, text
//!   checks, the sites and areas, counters, logs.
//! - [`feeds`]: a producer's batch parsed and validated into records (no HTTP, no store).
//! - [`store`]: the append-only event log, current state and outbox, behind [`store::Store`].
//! - [`accounts`], [`audit`]: accounts, passwords, sessions, producer tokens; the audit log.
//! - [`state`]: the live state and the measures derived from records (the projection).
//! - [`escalation`]: OPEL levels from the live state by a policy file; alerts and the
//!   level history.
//! - [`live`]: the hub (sequence numbers, replay, fan-out), the outbox follower that
//!   publishes every committed write, and the websocket sessions. [`history`]: measures
//!   sampled for trends. [`sim`]: the Somerset simulator, a producer over HTTP.
//! - [`routes`]: the HTTP API: thin handlers over the modules above, and the extractors
//!   that check who asks.
//! - [`app`]: wires it all into one server, with [`serve`], [`tls`] and [`headers`].
//!
//! The views are the Yew app in `frontend/`; the wire types both sides share are in
//! `levels-shared`.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod config;
pub mod escalation;
pub mod feeds;
pub mod headers;
pub mod history;
pub mod live;
pub mod metrics;
pub mod reference;
pub mod routes;
pub mod serve;
pub mod sim;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tls;

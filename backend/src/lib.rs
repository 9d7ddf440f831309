//! Levels: a real-time system-flow and escalation dashboard for a health and care system.
//!
//! # Layout
//! Data flows one way, and the modules follow it:
//!
//! - [`feeds`]: `POST /api/v1/feeds/{feed}`: authenticate, parse, validate, commit, publish.
//! - [`store`]: the append-only event log and current state, behind the [`store::Store`] trait.
//! - [`state`]: projections that rebuild the live state from the store.
//! - [`escalation`]: OPEL levels from the live state by a policy file; declarations,
//!   alerts with action cards, and level history.
//! - [`live`]: the hub (sequence numbers, replay, fan-out), the websocket upgrade, and
//!   sessions, which write each message's frames, encoded once, on threads of their own.
//! - [`history`]: key measures sampled into time buckets, for trends.
//! - [`discharge`]: the discharge view's list of delayed patients (never NHS numbers).
//! - [`sim`]: the Somerset simulator, a producer that posts through the same HTTP path.
//! - [`reference`]: sites and map areas loaded from configured files.
//! - [`accounts`]: people's accounts, passwords (Argon2id), sessions and sign-in.
//! - [`serve`]: the connection loop (HTTP/1 with upgrades, header timeout, graceful stop);
//!   [`tls`]: optional HTTPS with rustls.
//! - [`headers`]: security headers, with a Content-Security-Policy for the dashboard.
//! - [`exports`]: aggregate exports for planning, small numbers suppressed.
//! - [`audit`]: the append-only audit log and its admin-only API.
//! - [`health`], [`metrics`]: `/healthz`, `/readyz` and `/metrics` for operations.
//! - [`app`]: wires it all into one server; [`config`], [`telemetry`] and [`api_error`]
//!   support it.
//!
//! The views are the Yew app in `frontend/`; the wire types both sides share are in
//! `levels-shared`.

pub mod accounts;
pub mod api_error;
pub mod app;
pub mod audit;
pub mod config;
pub mod discharge;
pub mod escalation;
pub mod exports;
pub mod feeds;
pub mod headers;
pub mod health;
pub mod history;
pub mod live;
pub mod metrics;
pub mod reference;
pub mod serve;
pub mod sim;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tls;

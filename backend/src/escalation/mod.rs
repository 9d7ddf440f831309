//! Escalation (DESIGN §6): OPEL levels computed from live measures by a policy that is
//! data, not code; declared by people; alerted to every screen; kept as history.
//!
//! - [`policy`]: the TOML policy file, its validation, banding rules and action cards.
//! - [`inputs`]: the measures a policy may name, read from the live state.
//! - [`engine`]: a pillar's level and explanation from its inputs; the system roll-up.
//! - [`assess`]: every entity's calculated level at once.
//! - [`settle`]: a new level takes effect once it has held for the settling time.
//! - [`alerts`]: level changes recorded, alerts raised, declarations and actions (API).
//! - [`timeline`]: the level history and the daily pattern (API).

pub mod alerts;
pub mod assess;
pub mod engine;
pub mod inputs;
pub mod policy;
pub mod settle;
pub mod timeline;

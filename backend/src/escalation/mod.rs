//! Escalation (DESIGN §6): OPEL levels computed from live measures by a policy that is
//! data, not code; declared by people; alerted to every screen; kept as history.
//!
//! - [`measures`]: the pillars and the measures a policy may name.
//! - [`policy`]: the TOML policy file, its validation, banding rules and action cards.
//! - [`inputs`]: the measures a policy may name, read from the live state.
//! - [`engine`]: a pillar's level and explanation from its inputs; the system roll-up.
//! - [`assess`]: every entity's calculated level at once.
//! - [`settle`]: a new level takes effect once it has held for the settling time.
//! - [`alerts`]: level changes recorded and the alerts they raise.
//! - [`timeline`]: the level history as steps, and the daily pattern.
//!
//! [`Escalator`] puts them together for the live state's projection (`state::Assessor`).

pub mod alerts;
pub mod assess;
pub mod engine;
pub mod inputs;
pub mod measures;
pub mod policy;
pub mod settle;
pub mod timeline;

use crate::state::Assessor;
use chrono::{DateTime, Utc};
use levels_shared::escalation::{Entity, Explanation};
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;
use policy::Policy;
use settle::Settler;
use std::sync::Arc;

/// Calculates and settles every entity's level for the live state's projection: the
/// policy, the sites, teams and localities it names, and each level's settling.
pub struct Escalator {
    pub policy: Arc<Policy>,
    pub reference: Arc<ReferenceData>,
    /// Replaces every pillar's settling time when set (configuration).
    pub settle_minutes: Option<u32>,
    settler: Settler,
}

impl Escalator {
    pub fn new(
        policy: Arc<Policy>,
        reference: Arc<ReferenceData>,
        settle_minutes: Option<u32>,
    ) -> Escalator {
        Escalator {
            policy,
            reference,
            settle_minutes,
            settler: Settler::default(),
        }
    }
}

/// How long a new level of `entity` must hold before it is shown: the configured time if
/// set, else its pillar's.
fn settle_time(policy: &Policy, configured: Option<u32>, entity: &Entity) -> chrono::Duration {
    let minutes = configured.unwrap_or_else(|| {
        policy
            .pillar(alerts::pillar_of(entity))
            .map_or(0, |p| p.settle_minutes)
    });
    chrono::Duration::minutes(i64::from(minutes))
}

impl Assessor for Escalator {
    fn assess(&mut self, live: &LiveState, now: DateTime<Utc>) -> Vec<(Entity, Explanation)> {
        let (policy, configured, settler) = (&self.policy, self.settle_minutes, &mut self.settler);
        assess::assess(policy, &self.reference, live, now, |entity, e| {
            let current = live.levels.get(entity).and_then(|l| l.calculated.as_ref());
            settler.settle(
                entity,
                e,
                current,
                settle_time(policy, configured, entity),
                now,
            )
        })
    }

    fn knows(&self, entity: &Entity) -> bool {
        alerts::is_known(entity, &self.policy, &self.reference)
    }
}

//! Level changes become history and alerts: each calculated change is stored once, and a
//! move from one known level to another raises an alert with the policy's action card for
//! the new level. People declare levels and mark actions done through `routes::alerts`.

use super::policy::{PillarKind, Policy};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use levels_shared::escalation::{Action, Alert, Entity, LevelChange};
use levels_shared::live::{LiveState, ALERTS_KEPT};
use levels_shared::reference::ReferenceData;

/// The pillar whose policy and action cards apply to `entity`.
pub fn pillar_of(entity: &Entity) -> PillarKind {
    match entity {
        Entity::Site(_) => PillarKind::Acute,
        Entity::Locality(_) | Entity::Community => PillarKind::Community,
        Entity::System => PillarKind::System,
    }
}

/// Whether `entity` names something the policy gives a level to.
pub fn is_known(entity: &Entity, policy: &Policy, reference: &ReferenceData) -> bool {
    let exists = match entity {
        Entity::Site(code) => reference.site(code).is_some_and(|s| s.kind.is_acute()),
        Entity::Locality(code) => reference.locality(code).is_some(),
        Entity::Community | Entity::System => true,
    };
    exists && policy.pillar(pillar_of(entity)).is_some()
}

/// The alert a level change raises, with the policy's action card for its new level.
pub fn raise(policy: &Policy, change: &LevelChange, from: Option<u8>) -> Alert {
    let actions = change
        .level
        .map(|level| policy.actions(pillar_of(&change.entity), level))
        .unwrap_or_default();
    Alert {
        id: 0,
        entity: change.entity.clone(),
        kind: change.kind,
        at: change.at,
        from,
        to: change.level,
        actor: change.actor.clone(),
        reason: change.reason.clone(),
        actions: actions
            .into_iter()
            .map(|text| Action { text, done: None })
            .collect(),
    }
}

/// Stores the calculated changes whose level differs from the last one stored (so a
/// restart, which recalculates every level, records nothing new), each with the alert it
/// raises: one for each move from one known level to another. A level becoming or ceasing
/// to be calculable is history, not an alert: staleness is shown where the figures are.
pub async fn record(
    store: &dyn Store,
    policy: &Policy,
    changes: Vec<LevelChange>,
) -> Result<(), StoreError> {
    for change in changes {
        if store.last_level(&change.entity, change.kind).await? == Some(change.level) {
            continue;
        }
        let before = store.last_known_level(&change.entity, change.kind).await?;
        let alert = match (before, change.level) {
            (Some(from), Some(to)) if from != to => Some(raise(policy, &change, Some(from))),
            _ => None,
        };
        store.record_level(&change, alert.as_ref()).await?;
    }
    Ok(())
}

/// Records calculated level changes; the alerts they raise reach every screen through the
/// outbox. Only the replica that leads records them (every replica calculates the same
/// levels). A store error is logged, not failed: the levels are already published, and
/// the next change is compared with the last one stored.
pub async fn record_levels(store: &dyn Store, policy: &Policy, changes: Vec<LevelChange>) {
    if changes.is_empty() || !store.leads() {
        return;
    }
    if let Err(e) = record(store, policy, changes).await {
        tracing::error!(error = %e, "could not record level changes");
    }
}

/// Puts declarations in force and the latest alerts into the live state at start-up.
pub async fn restore(store: &dyn Store, live: &mut LiveState) -> Result<(), StoreError> {
    for (entity, declaration) in store.declarations().await? {
        live.levels.entry(entity).or_default().declared = Some(declaration);
    }
    live.alerts = store
        .alerts(DateTime::UNIX_EPOCH, Utc::now(), ALERTS_KEPT as u32)
        .await?;
    Ok(())
}

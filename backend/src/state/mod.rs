//! Projections: the live state rebuilt from the store's current-state rows at start-up.
//! While running, the hub keeps it current by applying each committed change.
//!
//! - [`calendar`]: "today" and "this week" in Europe/London.
//! - [`handovers`], [`delays`]: measures derived from conveyance- and patient-level records.

pub mod calendar;
pub mod delays;
pub mod handovers;

use crate::escalation::alerts;
use crate::escalation::assess::assess;
use crate::escalation::policy::Policy;
use crate::escalation::settle::Settler;
use crate::store::{StateRow, StoreError};
use chrono::{DateTime, Utc};
use levels_shared::beds::{BedPool, BedsRecord};
use levels_shared::community::CommunityRecord;
use levels_shared::discharge::{DelayRecord, DelayStatus};
use levels_shared::ed::EdRecord;
use levels_shared::escalation::{Entity, Explanation, LevelChange, LevelKind};
use levels_shared::feed::Feed;
use levels_shared::handovers::HandoverRecord;
use levels_shared::live::{Change, LiveState};
use levels_shared::reference::ReferenceData;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A valid, accepted record of any feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Beds(BedsRecord),
    Handover(HandoverRecord),
    Delay(DelayRecord),
    Community(CommunityRecord),
    Ed(EdRecord),
}

impl Record {
    pub fn site(&self) -> &str {
        match self {
            Record::Beds(r) => &r.site,
            Record::Handover(r) => &r.site,
            Record::Delay(r) => &r.site,
            Record::Community(r) => &r.site,
            Record::Ed(r) => &r.site,
        }
    }

    /// Reads a stored record of `feed` back from its canonical JSON.
    pub fn parse(feed: Feed, body: &str) -> Result<Record, serde_json::Error> {
        Ok(match feed {
            Feed::Beds => Record::Beds(serde_json::from_str(body)?),
            Feed::Handovers => Record::Handover(serde_json::from_str(body)?),
            Feed::DischargeDelays => Record::Delay(serde_json::from_str(body)?),
            Feed::Community => Record::Community(serde_json::from_str(body)?),
            Feed::Ed => Record::Ed(serde_json::from_str(body)?),
        })
    }
}

/// What the server keeps beyond the live state: every conveyance and every patient on the
/// list, from which the streamed measures are derived, and each site's occupied G&A beds
/// (for the share of them delayed patients hold). Records never leave the server.
#[derive(Default)]
pub struct Projection {
    handovers: BTreeMap<String, BTreeMap<String, HandoverRecord>>,
    delays: BTreeMap<String, BTreeMap<String, DelayRecord>>,
    ga_occupied: BTreeMap<String, BTreeMap<BedPool, u32>>,
    /// The live state as published, which escalation reads its inputs from.
    live: LiveState,
    escalation: Option<Escalation>,
    settler: Settler,
    /// Calculated levels that changed since last taken, for the level history.
    level_changes: Vec<LevelChange>,
}

/// What computing OPEL levels needs: the policy, and the sites, teams and localities.
pub struct Escalation {
    pub policy: Arc<Policy>,
    pub reference: Arc<ReferenceData>,
    /// Replaces every pillar's settling time when set (configuration).
    pub settle_minutes: Option<u32>,
}

impl Escalation {
    /// How long a new level of `entity` must hold before it is shown.
    fn settle(&self, entity: &Entity) -> chrono::Duration {
        let minutes = self.settle_minutes.unwrap_or_else(|| {
            self.policy
                .pillar(alerts::pillar_of(entity))
                .map_or(0, |p| p.settle_minutes)
        });
        chrono::Duration::minutes(i64::from(minutes))
    }
}

impl Projection {
    pub fn new(escalation: Option<Escalation>) -> Projection {
        Projection {
            escalation,
            ..Projection::default()
        }
    }

    /// Level changes since the last call, oldest first.
    pub fn take_level_changes(&mut self) -> Vec<LevelChange> {
        std::mem::take(&mut self.level_changes)
    }

    /// The live state this projection has published.
    pub fn live(&self) -> &LiveState {
        &self.live
    }

    /// Mirrors `changes` and appends the calculated OPEL changes they cause.
    fn publish_with_escalation(
        &mut self,
        mut changes: Vec<Change>,
        now: DateTime<Utc>,
    ) -> Vec<Change> {
        for change in &changes {
            self.live.apply(change);
        }
        let Some(esc) = &self.escalation else {
            return changes;
        };
        let (settler, levels) = (&mut self.settler, &self.live.levels);
        let assessed = assess(&esc.policy, &esc.reference, &self.live, now, |entity, e| {
            let current = levels.get(entity).and_then(|l| l.calculated.as_ref());
            settler.settle(entity, e, current, esc.settle(entity), now)
        });
        for (entity, explanation) in assessed {
            let current = self
                .live
                .levels
                .get(&entity)
                .and_then(|l| l.calculated.as_ref());
            if current.map(|e| e.level) != Some(explanation.level) {
                self.level_changes.push(LevelChange {
                    entity: entity.clone(),
                    kind: LevelKind::Calculated,
                    at: now,
                    level: explanation.level,
                    explanation: Some(explanation.clone()),
                    actor: None,
                    reason: None,
                });
            }
            if current != Some(&explanation) {
                let change = Change::Level {
                    entity,
                    explanation,
                };
                self.live.apply(&change);
                changes.push(change);
            }
        }
        changes
    }

    /// Takes records that became current (in commit order) and returns the live changes:
    /// each streamable record, freshness for the others, and fresh measures for every
    /// site whose measures they can move.
    pub fn apply(&mut self, records: Vec<Record>, now: DateTime<Utc>) -> Vec<Change> {
        let mut touched = BTreeSet::new();
        let mut changes = Vec::with_capacity(records.len() + 1);
        for record in records {
            // Measures read handovers, delays and occupied G&A beds; nothing else moves them.
            if matches!(
                record,
                Record::Beds(_) | Record::Handover(_) | Record::Delay(_)
            ) {
                touched.insert(record.site().to_owned());
            }
            changes.push(match record {
                Record::Beds(record) => {
                    let pools = self.ga_occupied.entry(record.site.clone()).or_default();
                    if record.pool.is_general_and_acute() {
                        pools.insert(record.pool, record.occupied);
                    }
                    Change::Beds { record }
                }
                Record::Ed(record) => Change::Ed { record },
                Record::Community(record) => Change::Community { record },
                Record::Handover(r) => {
                    let seen = Change::Seen {
                        site: r.site.clone(),
                        feed: Feed::Handovers,
                        at: r.at,
                    };
                    self.handovers
                        .entry(r.site.clone())
                        .or_default()
                        .insert(r.conveyance.clone(), r);
                    seen
                }
                Record::Delay(mut r) => {
                    let seen = Change::Seen {
                        site: r.site.clone(),
                        feed: Feed::DischargeDelays,
                        at: r.at,
                    };
                    // Only direct care may see an NHS number; measures never need it.
                    r.nhs_number = None;
                    self.delays
                        .entry(r.site.clone())
                        .or_default()
                        .insert(r.patient.clone(), r);
                    seen
                }
            });
        }
        changes.extend(touched.iter().filter_map(|site| self.measures(site, now)));
        self.publish_with_escalation(changes, now)
    }

    /// Measures of every site with handovers or delays, as of `now`, after forgetting
    /// records too old to count in any of them (handed over before yesterday; off the list
    /// before this week).
    pub fn refresh(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        let yesterday = calendar::day_start(calendar::day_start(now) - chrono::Duration::hours(1));
        let week = calendar::week_start(now);
        for conveyances in self.handovers.values_mut() {
            conveyances.retain(|_, r| {
                r.handed_over_at
                    .is_none_or(|t| t.with_timezone(&Utc) >= yesterday)
            });
        }
        for patients in self.delays.values_mut() {
            patients.retain(|_, r| {
                r.status == DelayStatus::Delayed
                    || r.discharged_at.unwrap_or(r.at).with_timezone(&Utc) >= week
            });
        }
        let measured: BTreeSet<String> = self
            .handovers
            .keys()
            .chain(self.delays.keys())
            .cloned()
            .collect();
        let changes = measured
            .iter()
            .filter_map(|site| self.measures(site, now))
            .collect();
        // Inputs turn stale with time alone, so every level is looked at again.
        self.publish_with_escalation(changes, now)
    }

    /// The site's measures, or `None` when it has sent neither handovers nor delays.
    fn measures(&self, site: &str, now: DateTime<Utc>) -> Option<Change> {
        let conveyances = self.handovers.get(site);
        let patients = self.delays.get(site);
        if conveyances.is_none() && patients.is_none() {
            return None;
        }
        let ga_occupied = self.ga_occupied.get(site).map(|pools| pools.values().sum());
        Some(Change::Measures {
            site: site.to_owned(),
            handovers: conveyances.map(|c| handovers::measure(c.values(), now)),
            delays: patients.map(|p| delays::measure(p.values(), now, ga_occupied)),
        })
    }
}

/// Rebuilds the live state and the projection from current-state rows, resuming from the
/// calculated levels last shown (`shown`), so a restart settles a new level like any other
/// change instead of jumping to it.
pub fn project(
    rows: &[StateRow],
    now: DateTime<Utc>,
    escalation: Option<Escalation>,
    shown: Vec<(Entity, Explanation)>,
) -> Result<(LiveState, Projection), StoreError> {
    let records = rows
        .iter()
        .map(|row| {
            Record::parse(row.feed, &row.body).map_err(|e| StoreError::Corrupt {
                event_id: 0,
                message: format!("{} state row: {e}", row.feed),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut projection = Projection::new(escalation);
    if let Some(esc) = &projection.escalation {
        for (entity, explanation) in shown {
            // Only what this policy still gives a level to.
            if alerts::is_known(&entity, &esc.policy, &esc.reference) {
                projection.live.levels.entry(entity).or_default().calculated = Some(explanation);
            }
        }
    }
    projection.apply(records, now);
    Ok((projection.live.clone(), projection))
}

//! Projections: the live state rebuilt from the store's current-state rows at start-up.
//! While running, the hub keeps it current by applying each committed change.
//!
//! - [`calendar`]: "today" and "this week" in Europe/London.
//! - [`handovers`], [`delays`]: measures derived from conveyance- and patient-level records.

pub mod calendar;
pub mod delays;
pub mod handovers;

use crate::feeds::Record;
use crate::store::{StateRow, StoreError};
use chrono::{DateTime, Utc};
use levels_shared::beds::BedPool;
use levels_shared::discharge::{DelayRecord, DelayStatus, DelayedPatient};
use levels_shared::escalation::{Entity, Explanation, LevelChange, LevelKind};
use levels_shared::feed::Feed;
use levels_shared::handovers::HandoverRecord;
use levels_shared::live::{Change, LiveState};
use levels_shared::reference::ReferenceData;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the server keeps beyond the live state: every conveyance and every patient on the
/// list, from which the streamed measures are derived, and each site's occupied G&A beds
/// (for the share of them delayed patients hold). Records never leave the server.
#[derive(Default)]
pub struct Projection {
    handovers: BTreeMap<String, BTreeMap<String, HandoverRecord>>,
    delays: BTreeMap<String, BTreeMap<String, DelayRecord>>,
    ga_occupied: BTreeMap<String, BTreeMap<BedPool, u32>>,
    /// The codes a patient's home locality may take (the reference data's), the
    /// categories of the breakdown by home locality.
    localities: Vec<String>,
    /// The live state as published, which escalation reads its inputs from.
    live: LiveState,
    escalation: Option<Escalation>,
    /// Calculated levels that changed since last taken, for the level history.
    level_changes: Vec<LevelChange>,
}

/// What calculates OPEL levels from the live state. The escalation module implements it
/// (`escalation::Escalator`); the projection calls it after every change, so levels follow
/// the figures in the same publish. A trait, so that state does not depend on escalation.
pub trait Assessor: Send {
    /// Every entity's calculated level as it should now be shown (settled), given the live
    /// state with its levels as last shown.
    fn assess(&mut self, live: &LiveState, now: DateTime<Utc>) -> Vec<(Entity, Explanation)>;
    /// Whether `entity` is one the policy gives a level to.
    fn knows(&self, entity: &Entity) -> bool;
}

/// What calculating OPEL levels needs: the assessor, and the reference data's localities
/// (the categories of the breakdown by home locality).
pub struct Escalation {
    pub assessor: Box<dyn Assessor>,
    pub reference: Arc<ReferenceData>,
}

impl Projection {
    pub fn new(escalation: Option<Escalation>) -> Projection {
        let localities = escalation.as_ref().map_or_else(Vec::new, |e| {
            e.reference
                .localities
                .iter()
                .map(|l| l.code.clone())
                .collect()
        });
        Projection {
            localities,
            escalation,
            ..Projection::default()
        }
    }

    /// Level changes since the last call, oldest first.
    pub fn take_level_changes(&mut self) -> Vec<LevelChange> {
        std::mem::take(&mut self.level_changes)
    }

    /// Every calculated level shown now, as changes at `now`: what a replica that has just
    /// come to lead compares with the stored levels, to record what moved while another
    /// replica led or none did.
    pub fn levels_now(&self, now: DateTime<Utc>) -> Vec<LevelChange> {
        self.live
            .levels
            .iter()
            .filter_map(|(entity, levels)| {
                let explanation = levels.calculated.as_ref()?;
                Some(LevelChange {
                    entity: entity.clone(),
                    kind: LevelKind::Calculated,
                    at: now,
                    level: explanation.level,
                    explanation: Some(explanation.clone()),
                    actor: None,
                    reason: None,
                })
            })
            .collect()
    }

    /// Mirrors changes published as they are (declarations, alerts, actions).
    pub fn mirror(&mut self, changes: &[Change]) {
        for change in changes {
            self.live.apply(change);
        }
    }

    /// The live state this projection has published.
    pub fn live(&self) -> &LiveState {
        &self.live
    }

    /// Every patient delayed now at any site, as of `now`: the longest delays first, then
    /// by site, ward and patient reference. NHS numbers were dropped on the way in.
    pub fn delayed_patients(&self, now: DateTime<Utc>) -> Vec<DelayedPatient> {
        let mut list: Vec<DelayedPatient> = self
            .delays
            .values()
            .flat_map(|patients| patients.values())
            .filter(|r| r.status == DelayStatus::Delayed)
            .map(|r| delays::listed(r, now))
            .collect();
        list.sort_by(|a, b| {
            b.days_delayed
                .cmp(&a.days_delayed)
                .then_with(|| a.site.cmp(&b.site))
                .then_with(|| a.ward.cmp(&b.ward))
                .then_with(|| a.patient.cmp(&b.patient))
        });
        list
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
        let Some(esc) = &mut self.escalation else {
            return changes;
        };
        let assessed = esc.assessor.assess(&self.live, now);
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
                // Screens hold the explanation already: send only what moved.
                let change = match current.and_then(|c| explanation.figures_since(c)) {
                    Some(figures) => Change::Figures { entity, figures },
                    None => Change::Level {
                        entity,
                        explanation,
                    },
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
            delays: patients
                .map(|p| delays::measure(p.values(), now, ga_occupied, &self.localities)),
        })
    }

    /// Bed days lost today and this week at every site that has sent delays, exactly, for
    /// those who may see them.
    pub fn bed_days_lost(&self, now: DateTime<Utc>) -> BTreeMap<String, [f64; 2]> {
        self.delays
            .iter()
            .map(|(site, patients)| {
                let (today, week) = delays::bed_days(patients.values(), now);
                (site.clone(), [today.days, week.days])
            })
            .collect()
    }

    /// The exact breakdowns of the patients delayed now at `site`, for those who may see
    /// them (a coordinator of the site's organisation); `None` if it has sent no delays.
    pub fn delay_counts(&self, site: &str, now: DateTime<Utc>) -> Option<delays::DelayCounts> {
        let patients = self.delays.get(site)?;
        Some(delays::count(patients.values(), now, &self.localities))
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
            if esc.assessor.knows(&entity) {
                projection.live.levels.entry(entity).or_default().calculated = Some(explanation);
            }
        }
    }
    projection.apply(records, now);
    Ok((projection.live.clone(), projection))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, FixedOffset};
    use levels_shared::discharge::{Pathway, Reason};
    use levels_shared::measures::DelayBand;

    fn delay(patient: &str, ward: &str, ready_days_ago: f64, now: DateTime<Utc>) -> DelayRecord {
        let utc = FixedOffset::east_opt(0).expect("UTC");
        let ready = now - Duration::minutes((ready_days_ago * 1440.0) as i64);
        DelayRecord {
            id: format!("{patient}-1"),
            site: "MPH".into(),
            at: (now - Duration::minutes(5)).with_timezone(&utc),
            patient: patient.into(),
            nhs_number: Some("9434765919".into()),
            ward: ward.into(),
            admitted_at: (ready - Duration::days(2)).with_timezone(&utc),
            ready_at: ready.with_timezone(&utc),
            pathway: Pathway::P2,
            reason: Some(Reason::P2Bed),
            responsible: None,
            locality: None,
            status: DelayStatus::Delayed,
            discharged_at: None,
        }
    }

    #[test]
    fn each_listed_patient_is_in_the_band_the_streamed_measures_count_them_in() {
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().expect("a time");
        let utc = FixedOffset::east_opt(0).expect("UTC");
        let mut discharged = delay("D", "Ward 1", 9.0, now);
        discharged.status = DelayStatus::Discharged;
        discharged.discharged_at = Some((now - Duration::hours(1)).with_timezone(&utc));
        let records = vec![
            delay("A", "Ward 2", 0.5, now),
            // Just short of two whole days: still band 1, as the measures count it.
            delay("B", "Ward 1", 1.999, now),
            delay("C", "Ward 1", 25.0, now),
            discharged,
        ];
        let mut projection = Projection::new(None);
        projection.apply(records.into_iter().map(Record::Delay).collect(), now);

        let list = projection.delayed_patients(now);
        let listed: Vec<(&str, u32, DelayBand)> = list
            .iter()
            .map(|p| (p.patient.as_str(), p.days_delayed, p.band))
            .collect();
        assert_eq!(
            listed,
            [
                ("C", 25, DelayBand::TwentyOnePlus),
                ("B", 1, DelayBand::One),
                ("A", 0, DelayBand::Zero),
            ],
            "delayed only, longest first"
        );
        let mut counted: BTreeMap<String, u32> = DelayBand::ALL
            .iter()
            .map(|b| (b.code().to_owned(), 0))
            .collect();
        for p in &list {
            *counted.entry(p.band.code().to_owned()).or_default() += 1;
        }
        let exact = projection.delay_counts("MPH", now).expect("delay counts");
        assert_eq!(counted, exact.by_band);
        let streamed = projection.live().sites["MPH"]
            .delays
            .as_ref()
            .expect("delay measures");
        assert_eq!(list.len() as u32, streamed.delayed_now);
        assert!(
            projection
                .delays
                .values()
                .flat_map(|p| p.values())
                .all(|r| r.nhs_number.is_none()),
            "NHS numbers are dropped on the way in"
        );
    }

    #[test]
    fn equal_delays_are_listed_by_site_ward_then_patient() {
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().expect("a time");
        let mut ydh = delay("A", "Ward 1", 3.2, now);
        ydh.site = "YDH".into();
        let records = vec![
            ydh,
            delay("B", "Ward 2", 3.5, now),
            delay("C", "Ward 1", 3.1, now),
            delay("A", "Ward 2", 3.9, now),
        ];
        let mut projection = Projection::new(None);
        projection.apply(records.into_iter().map(Record::Delay).collect(), now);
        let order: Vec<String> = projection
            .delayed_patients(now)
            .iter()
            .map(|p| format!("{} {} {}", p.site, p.ward, p.patient))
            .collect();
        assert_eq!(
            order,
            [
                "MPH Ward 1 C",
                "MPH Ward 2 A",
                "MPH Ward 2 B",
                "YDH Ward 1 A"
            ]
        );
    }
}

//! The live state and the websocket protocol that keeps a browser's copy of it current
//! (DESIGN §7).
//!
//! The server sends a [`ServerMsg::Snapshot`] first, then a [`ServerMsg::Delta`] for every
//! committed batch, each with the next `seq` of the current `epoch`, and heartbeats in
//! between. Both sides apply changes with [`LiveState::apply`], so they agree by construction.

use crate::beds::{BedsRecord, SiteBeds};
use crate::community::CommunityRecord;
use crate::ed::EdRecord;
use crate::escalation::{Alert, Declaration, Done, Entity, Explanation, Figures, Level};
use crate::feed::Feed;
use crate::measures::{DelayMeasures, HandoverMeasures};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current state of the whole system as the dashboard sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Per site, keyed by site code. Sites that have sent nothing yet are absent.
    pub sites: BTreeMap<String, SiteState>,
    /// The latest caseload record of each community team, keyed by team code.
    #[serde(default)]
    pub teams: BTreeMap<String, CommunityRecord>,
    /// OPEL levels of every acute site, community locality, community as a whole and the
    /// system, calculated and declared.
    #[serde(default)]
    pub levels: BTreeMap<Entity, Level>,
    /// The latest level changes, newest first, at most [`ALERTS_KEPT`].
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// How many alerts the live state keeps (older ones stay in the level history).
pub const ALERTS_KEPT: usize = 50;

/// The current state of one site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteState {
    pub beds: SiteBeds,
    /// The emergency department's latest snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ed: Option<EdRecord>,
    /// Ambulance handovers, derived on the server from every conveyance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handovers: Option<HandoverMeasures>,
    /// Patients with no criteria to reside, derived on the server from the delay list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delays: Option<DelayMeasures>,
    /// For each feed the site has sent, the latest `at` among its current records: how
    /// old the site's figures from that feed are (DESIGN §5).
    #[serde(default)]
    pub feeds: BTreeMap<Feed, DateTime<FixedOffset>>,
}

/// One change to the live state; the server only sends changes it has applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A bed pool's state is now this record.
    Beds { record: BedsRecord },
    /// The site's emergency department is now as this record says.
    Ed { record: EdRecord },
    /// A community team's caseload is now as this record says.
    Community { record: CommunityRecord },
    /// A site's feed reported an observation at `at` (for feeds whose records are
    /// patient- or conveyance-level and are not streamed themselves).
    Seen {
        site: String,
        feed: Feed,
        at: DateTime<FixedOffset>,
    },
    /// A site's derived handover and delay measures are now these (recomputed on every
    /// change and as time passes).
    Measures {
        site: String,
        handovers: Option<HandoverMeasures>,
        delays: Option<DelayMeasures>,
    },
    /// An entity's calculated OPEL level or its explanation changed.
    Level {
        entity: Entity,
        explanation: Explanation,
    },
    /// An entity's calculated level or figures changed, and nothing else of its
    /// explanation: sent instead of [`Change::Level`] when the client holds the
    /// explanation already (see [`Figures`]).
    Figures { entity: Entity, figures: Figures },
    /// A level was declared for the entity, or (`None`) the declaration was withdrawn.
    Declared {
        entity: Entity,
        declaration: Option<Declaration>,
    },
    /// A level changed: shown to every screen with its action card.
    Alert { alert: Alert },
    /// An action of an alert's card was marked done, or (`None`) not done after all.
    Action {
        alert: i64,
        index: usize,
        done: Option<Done>,
    },
}

impl LiveState {
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Beds { record } => {
                let site = self.site_mut(&record.site, Feed::Beds, record.at);
                site.beds.insert(record.pool, record.clone());
            }
            Change::Ed { record } => {
                self.site_mut(&record.site, Feed::Ed, record.at).ed = Some(record.clone());
            }
            Change::Community { record } => {
                self.teams.insert(record.team.clone(), record.clone());
            }
            Change::Seen { site, feed, at } => {
                self.site_mut(site, *feed, *at);
            }
            Change::Measures {
                site,
                handovers,
                delays,
            } => {
                let site = self.sites.entry(site.clone()).or_default();
                site.handovers = handovers.clone();
                site.delays = delays.clone();
            }
            Change::Level {
                entity,
                explanation,
            } => {
                self.levels.entry(entity.clone()).or_default().calculated =
                    Some(explanation.clone());
            }
            Change::Figures { entity, figures } => {
                // The server sends figures only for an explanation this state holds.
                let explanation = self
                    .levels
                    .get_mut(entity)
                    .and_then(|l| l.calculated.as_mut());
                if let Some(explanation) = explanation {
                    explanation.apply_figures(figures);
                }
            }
            Change::Declared {
                entity,
                declaration,
            } => {
                self.levels.entry(entity.clone()).or_default().declared = declaration.clone();
            }
            Change::Alert { alert } => {
                // The same alert again (a replica catching up) keeps its place.
                match self.alerts.iter_mut().find(|a| a.id == alert.id) {
                    Some(known) => *known = alert.clone(),
                    None => {
                        self.alerts.insert(0, alert.clone());
                        self.alerts.truncate(ALERTS_KEPT);
                    }
                }
            }
            Change::Action { alert, index, done } => {
                let action = self
                    .alerts
                    .iter_mut()
                    .find(|a| a.id == *alert)
                    .and_then(|a| a.actions.get_mut(*index));
                if let Some(action) = action {
                    action.done = done.clone();
                }
            }
        }
    }

    /// The site's state, with `feed` marked as reported at `at` if that is its latest.
    fn site_mut(&mut self, code: &str, feed: Feed, at: DateTime<FixedOffset>) -> &mut SiteState {
        let site = self.sites.entry(code.to_owned()).or_default();
        let latest = site.feeds.entry(feed).or_insert(at);
        if at > *latest {
            *latest = at;
        }
        site
    }
}

/// Where a reconnecting client left off; sent as the query string of `/api/v1/live`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeFrom {
    pub epoch: String,
    pub seq: u64,
}

/// A message from the server to a browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The whole state as of `seq`. Replaces whatever the client had.
    Snapshot {
        epoch: String,
        seq: u64,
        server_time: DateTime<Utc>,
        state: LiveState,
    },
    /// The changes of one committed batch; `seq` is exactly one more than the last message's.
    Delta {
        epoch: String,
        seq: u64,
        server_time: DateTime<Utc>,
        changes: Vec<Change>,
    },
    /// Sent right after the snapshot or replay and then every `interval_seconds`, so a
    /// client knows the link is alive and how long a silence means it is not.
    Heartbeat {
        epoch: String,
        seq: u64,
        server_time: DateTime<Utc>,
        interval_seconds: u64,
    },
}

impl ServerMsg {
    pub fn epoch(&self) -> &str {
        match self {
            ServerMsg::Snapshot { epoch, .. }
            | ServerMsg::Delta { epoch, .. }
            | ServerMsg::Heartbeat { epoch, .. } => epoch,
        }
    }

    pub fn seq(&self) -> u64 {
        match self {
            ServerMsg::Snapshot { seq, .. }
            | ServerMsg::Delta { seq, .. }
            | ServerMsg::Heartbeat { seq, .. } => *seq,
        }
    }

    pub fn server_time(&self) -> DateTime<Utc> {
        match self {
            ServerMsg::Snapshot { server_time, .. }
            | ServerMsg::Delta { server_time, .. }
            | ServerMsg::Heartbeat { server_time, .. } => *server_time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beds::BedPool;

    fn record(occupied: u32) -> BedsRecord {
        BedsRecord::fixture(
            "YDH",
            BedPool::GeneralAcuteAdult,
            300,
            occupied,
            "2026-11-25T08:00:00Z",
        )
    }

    #[test]
    fn applying_a_beds_change_replaces_that_pool_only() {
        let mut state = LiveState::default();
        state.apply(&Change::Beds {
            record: record(250),
        });
        state.apply(&Change::Beds {
            record: record(280),
        });
        let beds = &state.sites["YDH"].beds;
        assert_eq!(beds.len(), 1);
        assert_eq!(beds[&BedPool::GeneralAcuteAdult].occupied, 280);
        assert_eq!(state.sites["YDH"].feeds[&Feed::Beds], record(1).at);
    }

    #[test]
    fn a_feed_is_as_fresh_as_its_latest_observation_not_its_latest_arrival() {
        let mut state = LiveState::default();
        let at = |t: &str| DateTime::parse_from_rfc3339(t).expect("timestamp");
        for t in ["2026-11-25T08:00:00Z", "2026-11-25T07:00:00Z"] {
            state.apply(&Change::Seen {
                site: "MPH".into(),
                feed: Feed::Handovers,
                at: at(t),
            });
        }
        assert_eq!(
            state.sites["MPH"].feeds[&Feed::Handovers],
            at("2026-11-25T08:00:00Z")
        );
        assert!(!state.sites["MPH"].feeds.contains_key(&Feed::Beds));
    }

    #[test]
    fn messages_carry_their_type_tag_on_the_wire() {
        let msg = ServerMsg::Delta {
            epoch: "e1".into(),
            seq: 7,
            server_time: DateTime::parse_from_rfc3339("2026-11-25T08:00:01Z")
                .expect("timestamp")
                .with_timezone(&Utc),
            changes: vec![Change::Beds { record: record(1) }],
        };
        let json: serde_json::Value = serde_json::to_value(&msg).expect("serialises");
        assert_eq!(json["type"], "delta");
        assert_eq!(json["changes"][0]["kind"], "beds");
        assert_eq!(json["changes"][0]["record"]["site"], "YDH");
        assert_eq!(json["changes"][0]["record"]["pool"], "general_acute_adult");
        let back: ServerMsg = serde_json::from_value(json).expect("parses");
        assert_eq!(back, msg);
    }
}

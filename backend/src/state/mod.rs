//! Projections: the live state rebuilt from the store's current-state rows at start-up.
//! While running, the hub keeps it current by applying each committed change.
//!
//! - [`calendar`]: "today" and "this week" in Europe/London.
//! - [`handovers`], [`delays`]: measures derived from conveyance- and patient-level records.

pub mod calendar;
pub mod delays;
pub mod handovers;

use crate::store::{StateRow, StoreError};
use levels_shared::discharge::DelayRecord;
use levels_shared::feed::Feed;
use levels_shared::handovers::HandoverRecord;
use levels_shared::live::{Change, LiveState};

/// Rebuilds the live state from current-state rows.
pub fn project(rows: &[StateRow]) -> Result<LiveState, StoreError> {
    let mut state = LiveState::default();
    for row in rows {
        let change = match row.feed {
            Feed::Beds => serde_json::from_str(&row.body).map(|record| Change::Beds { record }),
            Feed::Ed => serde_json::from_str(&row.body).map(|record| Change::Ed { record }),
            Feed::Community => {
                serde_json::from_str(&row.body).map(|record| Change::Community { record })
            }
            Feed::Handovers => {
                serde_json::from_str::<HandoverRecord>(&row.body).map(|r| Change::Seen {
                    site: r.site,
                    feed: Feed::Handovers,
                    at: r.at,
                })
            }
            Feed::DischargeDelays => {
                serde_json::from_str::<DelayRecord>(&row.body).map(|r| Change::Seen {
                    site: r.site,
                    feed: Feed::DischargeDelays,
                    at: r.at,
                })
            }
        }
        .map_err(|e| StoreError::Corrupt {
            event_id: 0,
            message: format!("{} state row: {e}", row.feed),
        })?;
        state.apply(&change);
    }
    Ok(state)
}

//! The feeds of the contract (DESIGN §4).

use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the operational feeds producers post to `POST /api/v1/feeds/{feed}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feed {
    Beds,
    Handovers,
    DischargeDelays,
    Community,
    Ed,
}

impl Feed {
    /// Every feed, in the order they are documented.
    pub const ALL: [Feed; 5] = [
        Feed::Beds,
        Feed::Handovers,
        Feed::DischargeDelays,
        Feed::Community,
        Feed::Ed,
    ];

    /// The feed's name in URLs, tokens and the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Beds => "beds",
            Feed::Handovers => "handovers",
            Feed::DischargeDelays => "discharge-delays",
            Feed::Community => "community",
            Feed::Ed => "ed",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Feed::Beds => "Beds",
            Feed::Handovers => "Ambulance handovers",
            Feed::DischargeDelays => "Discharge delays",
            Feed::Community => "Community caseload",
            Feed::Ed => "Emergency department",
        }
    }

    /// How often a site is expected to send this feed unless the reference data says
    /// otherwise (DESIGN §5): snapshots every 15 minutes, lists and caseloads hourly, and
    /// handovers, which flow as ambulances arrive, at least every 30 minutes.
    pub fn expected_interval(self) -> Duration {
        match self {
            Feed::Beds | Feed::Ed => Duration::minutes(15),
            Feed::Handovers => Duration::minutes(30),
            Feed::DischargeDelays | Feed::Community => Duration::minutes(60),
        }
    }

    /// Parses a feed name as it appears in a URL.
    pub fn parse(name: &str) -> Option<Feed> {
        Feed::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_names_round_trip() {
        for f in Feed::ALL {
            assert_eq!(Feed::parse(f.as_str()), Some(f));
        }
        assert_eq!(Feed::parse("bed"), None);
    }
}

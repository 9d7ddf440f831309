//! The feeds of the contract (DESIGN §4).

use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the operational feeds producers post to `POST /api/v1/feeds/{feed}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feed {
    Beds,
}

impl Feed {
    /// Every feed, in the order they are documented.
    pub const ALL: [Feed; 1] = [Feed::Beds];

    /// The feed's name in URLs, tokens and the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Beds => "beds",
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

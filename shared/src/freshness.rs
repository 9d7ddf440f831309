//! How old each site's and team's figures are, feed by feed (DESIGN §5): fresh, stale (more
//! than twice the expected interval old), or missing (expected, never received).

use crate::community::CommunityRecord;
use crate::feed::Feed;
use crate::live::SiteState;
use crate::reference::{Site, Team};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    Fresh,
    Stale,
    Missing,
}

/// One feed's freshness at one site or team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedFreshness {
    pub feed: Feed,
    pub last_at: Option<DateTime<FixedOffset>>,
    pub expected_minutes: u32,
    pub status: Freshness,
}

/// Data observed at `at` is stale at `now` when older than twice the expected interval.
pub fn is_stale(at: DateTime<FixedOffset>, expected_minutes: u32, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(at) > Duration::minutes(i64::from(expected_minutes)) * 2
}

fn freshness(
    feed: Feed,
    last_at: Option<DateTime<FixedOffset>>,
    expected_minutes: u32,
    now: DateTime<Utc>,
) -> FeedFreshness {
    let status = match last_at {
        None => Freshness::Missing,
        Some(at) if is_stale(at, expected_minutes, now) => Freshness::Stale,
        Some(_) => Freshness::Fresh,
    };
    FeedFreshness {
        feed,
        last_at,
        expected_minutes,
        status,
    }
}

impl Site {
    /// The interval this site is expected to send `feed` at, in minutes (the feed's default
    /// when the reference data does not list it).
    pub fn expected_minutes(&self, feed: Feed) -> u32 {
        self.feeds
            .get(&feed)
            .copied()
            .unwrap_or_else(|| feed.expected_interval().num_minutes() as u32)
    }

    /// Whether `feed` data from this site observed at `at` is stale at `now`.
    pub fn is_stale(&self, feed: Feed, at: DateTime<FixedOffset>, now: DateTime<Utc>) -> bool {
        is_stale(at, self.expected_minutes(feed), now)
    }

    /// Every feed the site is expected to send, and any other it has sent, with its freshness.
    pub fn freshness(&self, state: Option<&SiteState>, now: DateTime<Utc>) -> Vec<FeedFreshness> {
        Feed::ALL
            .into_iter()
            .filter_map(|feed| {
                let last_at = state.and_then(|s| s.feeds.get(&feed).copied());
                (self.feeds.contains_key(&feed) || last_at.is_some())
                    .then(|| freshness(feed, last_at, self.expected_minutes(feed), now))
            })
            .collect()
    }
}

impl Team {
    pub fn freshness(&self, record: Option<&CommunityRecord>, now: DateTime<Utc>) -> FeedFreshness {
        freshness(
            Feed::Community,
            record.map(|r| r.at),
            self.interval_minutes,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::SiteKind;
    use std::collections::BTreeMap;

    fn ts(t: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(t).expect("timestamp")
    }

    #[test]
    fn each_expected_feed_is_fresh_stale_or_missing() {
        let site = Site {
            code: "MPH".into(),
            name: "Musgrove Park Hospital".into(),
            short_name: "Musgrove Park".into(),
            kind: SiteKind::Acute,
            town: "Taunton".into(),
            organisation: "Somerset NHS Foundation Trust".into(),
            organisation_ods: None,
            site_ods: None,
            lon: -3.12,
            lat: 51.01,
            approx: false,
            locality: None,
            feeds: BTreeMap::from([(Feed::Beds, 15), (Feed::Handovers, 30), (Feed::Ed, 15)]),
        };
        let mut state = SiteState::default();
        state.feeds.insert(Feed::Beds, ts("2026-11-25T08:40:00Z"));
        state
            .feeds
            .insert(Feed::Handovers, ts("2026-11-25T08:00:00Z"));
        let now = ts("2026-11-25T09:05:00Z").with_timezone(&Utc);
        let statuses: Vec<(Feed, Freshness)> = site
            .freshness(Some(&state), now)
            .into_iter()
            .map(|f| (f.feed, f.status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                (Feed::Beds, Freshness::Fresh),
                (Feed::Handovers, Freshness::Stale),
                (Feed::Ed, Freshness::Missing)
            ]
        );
        assert!(
            !site.is_stale(Feed::Handovers, ts("2026-11-25T08:05:00Z"), now),
            "exactly 60 min is not stale"
        );
    }
}

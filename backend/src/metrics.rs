//! Counters for operations, in the Prometheus text format (served at `GET /metrics`).
//!
//! Only counts and timings: no names, no records, nothing about patients, so the endpoint
//! needs no sign-in and a Prometheus server can scrape it as it is.

use axum::http::StatusCode;
use levels_shared::feed::Feed;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedLabel {
    /// A feed's name, or `unknown` (so hostile paths cannot create new series).
    pub feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    pub feed: String,
    /// The HTTP status the batch was refused with.
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StartLabel {
    /// How a live session started: `snapshot`, `replay`.
    pub start: &'static str,
}

/// Every metric Levels exports.
pub struct Metrics {
    registry: Registry,
    records: Family<FeedLabel, Counter>,
    duplicates: Family<FeedLabel, Counter>,
    refused: Family<RefusalLabels, Counter>,
    pub live_sessions: Gauge,
    live_starts: Family<StartLabel, Counter>,
    /// Sessions skipped forward to a fresh snapshot because they could not keep up.
    pub live_skips: Counter,
    /// Sessions closed because the client stopped answering.
    pub live_dead: Counter,
    fanout: Histogram,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("levels");
        let records = Family::<FeedLabel, Counter>::default();
        let duplicates = Family::<FeedLabel, Counter>::default();
        let refused = Family::<RefusalLabels, Counter>::default();
        let live_sessions = Gauge::default();
        let live_starts = Family::<StartLabel, Counter>::default();
        let live_skips = Counter::default();
        let live_dead = Counter::default();
        // 1 ms to about 16 s.
        let fanout = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "ingest_records",
            "Records accepted (durable), by feed",
            records.clone(),
        );
        registry.register(
            "ingest_duplicates",
            "Records re-sent with identical content and skipped, by feed",
            duplicates.clone(),
        );
        registry.register(
            "ingest_refused_batches",
            "Batches refused, by feed and HTTP status",
            refused.clone(),
        );
        registry.register(
            "live_sessions",
            "Websocket sessions open now",
            live_sessions.clone(),
        );
        registry.register(
            "live_session_starts",
            "Websocket sessions started, by what they were sent first",
            live_starts.clone(),
        );
        registry.register(
            "live_queue_skips",
            "Times a slow session was skipped forward to a fresh snapshot",
            live_skips.clone(),
        );
        registry.register(
            "live_dead_sessions",
            "Sessions closed because the client stopped answering heartbeats",
            live_dead.clone(),
        );
        registry.register(
            "live_fanout_latency_seconds",
            "Time from a delta's publication to its delivery to a session's socket",
            fanout.clone(),
        );
        Metrics {
            registry,
            records,
            duplicates,
            refused,
            live_sessions,
            live_starts,
            live_skips,
            live_dead,
            fanout,
        }
    }
}

impl Metrics {
    pub fn accepted(&self, feed: Feed, accepted: usize, duplicates: usize) {
        let label = FeedLabel {
            feed: feed.as_str().to_owned(),
        };
        self.records.get_or_create(&label).inc_by(accepted as u64);
        self.duplicates
            .get_or_create(&label)
            .inc_by(duplicates as u64);
    }

    /// A refused batch; `feed` as given in the path, kept only if it names a feed.
    pub fn refused(&self, feed: &str, status: StatusCode) {
        let feed = Feed::parse(feed)
            .map_or("unknown", |f| f.as_str())
            .to_owned();
        self.refused
            .get_or_create(&RefusalLabels {
                feed,
                status: status.as_u16(),
            })
            .inc();
    }

    pub fn session_started(&self, replayed: bool) {
        let start = if replayed { "replay" } else { "snapshot" };
        self.live_starts.get_or_create(&StartLabel { start }).inc();
    }

    pub fn delivered(&self, since_published: std::time::Duration) {
        self.fanout.observe(since_published.as_secs_f64());
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

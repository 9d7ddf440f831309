//! Pure helpers: percentiles, and reading what the bench needs out of raw live messages
//! without deserialising them (one process reads 10,000 clients' messages on a shared
//! 2-core machine, so each message gets a few byte scans and nothing more).

use memchr::memmem;

/// The `q` quantile (0..=1) of sorted samples by the nearest-rank method; `None` if empty.
pub fn quantile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank: the smallest sample with at least q of all samples at or below it.
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// The median of a few durations (sorted in place).
pub fn median(samples: &mut [f64]) -> Option<f64> {
    samples.sort_by(f64::total_cmp);
    quantile(samples, 0.5)
}

/// What a live message is, from its `type` tag (serde writes the tag first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Snapshot,
    Delta,
    Heartbeat,
    Other,
}

pub fn kind(msg: &[u8]) -> Kind {
    // The tag comes first; look only at the head so a snapshot's body is never scanned.
    let head = &msg[..msg.len().min(64)];
    let Some(at) = memmem::find(head, b"\"type\":\"") else {
        return Kind::Other;
    };
    let rest = &head[at + 8..];
    if rest.starts_with(b"delta\"") {
        Kind::Delta
    } else if rest.starts_with(b"snapshot\"") {
        Kind::Snapshot
    } else if rest.starts_with(b"heartbeat\"") {
        Kind::Heartbeat
    } else {
        Kind::Other
    }
}

/// The message's top-level `seq`: the first `"seq":` (it precedes `changes` and `state`).
pub fn seq(msg: &[u8]) -> Option<u64> {
    let at = memmem::find(msg, b"\"seq\":")?;
    leading_number(&msg[at + 6..])
}

/// The decimal number `bytes` starts with (run for every record id of every delta).
fn leading_number(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    Some(
        bytes[..digits]
            .iter()
            .fold(0, |n, d| n * 10 + u64::from(d - b'0')),
    )
}

/// Finds the batch numbers carried by record ids of the form `{tag}{batch}-{record}`, e.g.
/// `"id":"fan-12-3"`.
pub struct BatchIds {
    finder: memmem::Finder<'static>,
}

impl BatchIds {
    /// Ids beginning `tag` (which must not occur in any other id).
    pub fn new(tag: &str) -> BatchIds {
        BatchIds {
            finder: memmem::Finder::new(format!("\"id\":\"{tag}").as_bytes()).into_owned(),
        }
    }

    /// Every distinct batch number in `msg`, sorted, into `out` (cleared first).
    pub fn scan(&self, msg: &[u8], out: &mut Vec<u32>) {
        out.clear();
        let skip = self.finder.needle().len();
        for at in self.finder.find_iter(msg) {
            if let Some(batch) = leading_number(&msg[at + skip..]) {
                // A delta holds a batch's records together: most ids repeat the last number.
                let batch = batch.min(u64::from(u32::MAX)) as u32;
                if out.last() != Some(&batch) {
                    out.push(batch);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Some(50));
        assert_eq!(quantile(&v, 0.99), Some(99));
        assert_eq!(quantile(&v, 0.999), Some(100));
        assert_eq!(quantile(&v, 0.0), Some(1));
        assert_eq!(quantile(&v, 1.0), Some(100));
        assert_eq!(quantile::<u32>(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.999), Some(7));
        let mut d = vec![3.0, 1.0, 2.0];
        assert_eq!(median(&mut d), Some(2.0));
    }

    #[test]
    fn reads_type_seq_and_batch_ids_from_raw_messages() {
        let delta = br#"{"type":"delta","epoch":"e1","seq":42,"server_time":"2026-01-01T00:00:00Z","changes":[{"kind":"beds","record":{"id":"fan-7-0","site":"MPH"}},{"kind":"beds","record":{"id":"fan-7-1"}},{"kind":"beds","record":{"id":"fan-8-0"}},{"kind":"beds","record":{"id":"other-9-0"}}]}"#;
        assert_eq!(kind(delta), Kind::Delta);
        assert_eq!(seq(delta), Some(42));
        let ids = BatchIds::new("fan-");
        let mut out = vec![99];
        ids.scan(delta, &mut out);
        assert_eq!(out, vec![7, 8]);

        let snapshot = br#"{"type":"snapshot","epoch":"e1","seq":0,"state":{"sites":{}}}"#;
        assert_eq!(kind(snapshot), Kind::Snapshot);
        assert_eq!(seq(snapshot), Some(0));
        ids.scan(snapshot, &mut out);
        assert!(out.is_empty());

        let beat = br#"{"type":"heartbeat","epoch":"e1","seq":3,"interval_seconds":5}"#;
        assert_eq!(kind(beat), Kind::Heartbeat);
        assert_eq!(kind(b"{}"), Kind::Other);
        assert_eq!(seq(b"{\"seq\":x}"), None);
    }
}

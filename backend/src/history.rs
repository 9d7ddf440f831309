//! History: key measures sampled into time buckets and kept for a retention period (served
//! by `routes::history`).
//!
//! A measure is only sampled while its feed is fresh, so a stopped feed leaves a gap in
//! the series instead of repeating its last value as if it were current.

use crate::config::HistoryConfig;
use crate::live::hub::Hub;
use crate::store::{Sample, Store};
use chrono::{DateTime, Duration, TimeZone, Utc};
use levels_shared::beds;
use levels_shared::community;
use levels_shared::feed::Feed;
use levels_shared::live::LiveState;
use levels_shared::reference::ReferenceData;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The start of the bucket of `resolution` seconds that `now` falls in.
pub fn bucket(now: DateTime<Utc>, resolution: i64) -> DateTime<Utc> {
    let t = now.timestamp();
    Utc.timestamp_opt(t - t.rem_euclid(resolution.max(1)), 0)
        .single()
        .unwrap_or(now)
}

/// The key measures of every site, team and locality whose feeds are fresh at `now`.
pub fn sample(state: &LiveState, reference: &ReferenceData, now: DateTime<Utc>) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut put = |entity: &str, measure: &str, value: Option<f64>| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            out.push(Sample {
                entity: entity.to_owned(),
                measure: measure.to_owned(),
                value,
            });
        }
    };
    let mut delayed_home: BTreeMap<String, Option<f64>> = BTreeMap::new();
    for site in &reference.sites {
        let Some(s) = state.sites.get(&site.code) else {
            continue;
        };
        let entity = format!("site:{}", site.code);
        let fresh = |feed: Feed| {
            s.feeds
                .get(&feed)
                .is_some_and(|at| !site.is_stale(feed, *at, now))
        };
        if fresh(Feed::Beds) {
            if let Some(t) = beds::headline(&s.beds) {
                put(&entity, "ga_occupancy", t.occupancy());
                put(&entity, "beds_available", Some(f64::from(t.available())));
                put(
                    &entity,
                    "escalation_beds_open",
                    Some(f64::from(t.escalation_open)),
                );
            }
        }
        if let (true, Some(h)) = (fresh(Feed::Handovers), &s.handovers) {
            put(&entity, "handover_queue", Some(f64::from(h.queue_now)));
            put(&entity, "longest_wait_minutes", h.longest_wait_minutes);
            put(&entity, "hours_lost_today", Some(h.hours_lost_today));
            put(
                &entity,
                "handovers_over_60_today",
                Some(f64::from(h.over_60)),
            );
            put(&entity, "mean_handover_minutes_today", h.mean_minutes_today);
        }
        if let (true, Some(d)) = (fresh(Feed::DischargeDelays), &s.delays) {
            put(&entity, "delayed_patients", Some(f64::from(d.delayed_now)));
            put(&entity, "bed_days_lost_today", d.bed_days_lost_today);
            put(&entity, "delayed_share_of_ga", d.share_of_occupied_ga);
            // From the published cells only: a locality any site hid has no point, so
            // the history gives away nothing the live state does not.
            for (locality, n) in &d.by_locality {
                let sum = delayed_home.entry(locality.clone()).or_insert(Some(0.0));
                *sum = sum.zip(*n).map(|(sum, n)| sum + f64::from(n));
            }
        }
        if let (true, Some(ed)) = (fresh(Feed::Ed), &s.ed) {
            put(
                &entity,
                "ed_in_department",
                Some(f64::from(ed.in_department)),
            );
            put(
                &entity,
                "ed_four_hour_performance",
                ed.four_hour_performance(),
            );
            put(&entity, "ed_share_over_12h", ed.share_over_12h());
        }
    }
    let fresh_teams: Vec<_> = reference
        .teams
        .iter()
        .filter_map(|team| {
            let record = state.teams.get(&team.code)?;
            let fresh = team.freshness(Some(record), now).status
                == levels_shared::freshness::Freshness::Fresh;
            fresh.then_some((team, record))
        })
        .collect();
    for (team, r) in &fresh_teams {
        let entity = format!("team:{}", team.code);
        put(&entity, "caseload", Some(f64::from(r.caseload)));
        put(&entity, "capacity", Some(f64::from(r.capacity)));
        put(&entity, "caseload_load", Some(r.load()));
        put(
            &entity,
            "referrals_waiting",
            Some(f64::from(r.referrals_waiting)),
        );
    }
    let locality_of = |code: &str| reference.team(code).map(|t| t.locality.as_str());
    for (locality, t) in community::by_locality(fresh_teams.iter().map(|(_, r)| *r), locality_of) {
        let entity = format!("locality:{locality}");
        put(&entity, "community_load", t.load());
        put(
            &entity,
            "referrals_waiting",
            Some(f64::from(t.referrals_waiting)),
        );
        put(&entity, "unmet_care_hours", Some(t.unmet_care_hours));
    }
    for (locality, n) in delayed_home {
        if locality == levels_shared::disclosure::NOT_STATED {
            continue;
        }
        put(&format!("locality:{locality}"), "delayed_patients_home", n);
    }
    out
}

/// Samples the live state into the store every bucket, and drops what is past retention.
pub async fn run(
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    reference: Arc<ReferenceData>,
    cfg: HistoryConfig,
) {
    let resolution = i64::from(cfg.resolution_seconds.max(1));
    let mut closed = hub.closed();
    loop {
        let now = Utc::now();
        let next = bucket(now, resolution) + Duration::seconds(resolution);
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = closed.wait_for(|c| *c) => break,
        }
        let now = Utc::now();
        let (_, _, state) = hub.state();
        let samples = sample(&state, &reference, now);
        if let Err(e) = store
            .record_history(bucket(now, resolution), &samples)
            .await
        {
            tracing::error!(error = %e, "could not record history");
        }
        match store
            .prune_history(now - Duration::days(i64::from(cfg.retention_days)))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(values = n, "history past retention deleted"),
            Err(e) => tracing::error!(error = %e, "could not prune history"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use levels_shared::beds::{BedPool, BedsRecord};
    use levels_shared::community::{CommunityRecord, Service};
    use levels_shared::live::Change;

    fn at(t: &str) -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339(t).expect("timestamp")
    }

    fn beds(site: &str, occupied: u32, when: &str) -> Change {
        Change::Beds {
            record: BedsRecord::fixture(site, BedPool::GeneralAcuteAdult, 500, occupied, when),
        }
    }

    fn value(samples: &[Sample], entity: &str, measure: &str) -> Option<f64> {
        samples
            .iter()
            .find(|s| s.entity == entity && s.measure == measure)
            .map(|s| s.value)
    }

    #[test]
    fn fresh_measures_are_sampled_and_stale_ones_leave_a_gap() {
        let reference = crate::reference::tests::somerset();
        let mut state = LiveState::default();
        state.apply(&beds("MPH", 450, "2026-11-25T08:50:00Z"));
        state.apply(&beds("YDH", 290, "2026-11-25T07:00:00Z")); // two hours old: stale
        state.apply(&Change::Community {
            record: CommunityRecord {
                id: "c".into(),
                site: "SHEP".into(),
                at: at("2026-11-25T08:30:00Z"),
                team: "CN-MENDIP".into(),
                service: Service::CommunityNursing,
                caseload: 630,
                capacity: 600,
                referrals_waiting: 30,
                visits_planned: None,
                visits_deferred: None,
                unmet_care_hours: None,
            },
        });
        let now = at("2026-11-25T09:00:00Z").to_utc();
        let samples = sample(&state, &reference, now);
        assert_eq!(value(&samples, "site:MPH", "ga_occupancy"), Some(0.9));
        assert_eq!(value(&samples, "site:MPH", "beds_available"), Some(50.0));
        assert_eq!(value(&samples, "site:YDH", "ga_occupancy"), None);
        assert_eq!(
            value(&samples, "team:CN-MENDIP", "caseload_load"),
            Some(1.05)
        );
        assert_eq!(
            value(&samples, "locality:E07000187", "community_load"),
            Some(1.05)
        );
        assert_eq!(
            value(&samples, "locality:E07000187", "referrals_waiting"),
            Some(30.0)
        );
    }

    #[test]
    fn delayed_patients_by_home_come_from_published_cells_only() {
        let reference = crate::reference::tests::somerset();
        let mut state = LiveState::default();
        let fresh = "2026-11-25T08:50:00Z";
        for (site, cells) in [
            ("MPH", [("E07000187", Some(7)), ("E07000188", None)]),
            ("YDH", [("E07000187", Some(0)), ("E07000188", Some(9))]),
        ] {
            let delays = levels_shared::measures::DelayMeasures {
                delayed_now: 16,
                by_locality: cells.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                ..Default::default()
            };
            state.apply(&Change::Seen {
                site: site.into(),
                feed: Feed::DischargeDelays,
                at: at(fresh),
            });
            state.apply(&Change::Measures {
                site: site.into(),
                handovers: None,
                delays: Some(delays),
            });
        }
        let samples = sample(&state, &reference, at("2026-11-25T09:00:00Z").to_utc());
        assert_eq!(
            value(&samples, "locality:E07000187", "delayed_patients_home"),
            Some(7.0)
        );
        assert_eq!(
            value(&samples, "locality:E07000188", "delayed_patients_home"),
            None,
            "MPH hid its count from Sedgemoor: no sum that would give it away"
        );
    }

    #[test]
    fn buckets_start_on_multiples_of_the_resolution() {
        let t = at("2026-11-25T09:07:31Z").to_utc();
        assert_eq!(bucket(t, 300), at("2026-11-25T09:05:00Z").to_utc());
    }
}

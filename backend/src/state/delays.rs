//! Measures of patients with no criteria to reside at one site (DESIGN §4.3).

use super::calendar;
use chrono::{DateTime, Utc};
use levels_shared::discharge::{DelayRecord, DelayStatus, DelayedPatient};
use levels_shared::measures::{whole_days, DelayBand, DelayMeasures};

const DAY_MS: f64 = 86_400_000.0;

fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    ((to - from).num_milliseconds() as f64 / DAY_MS).max(0.0)
}

/// Days since the patient became discharge-ready, at `now` (none if ready later): what
/// both the measures' bands and the delayed-patients list count.
pub fn days_delayed(r: &DelayRecord, now: DateTime<Utc>) -> f64 {
    days(r.ready_at.with_timezone(&Utc), now)
}

/// The patient as the discharge view lists them, at `now`: in the same band the
/// measures count them in, and without the NHS number.
pub fn listed(r: &DelayRecord, now: DateTime<Utc>) -> DelayedPatient {
    let delayed = days_delayed(r, now);
    DelayedPatient {
        site: r.site.clone(),
        ward: r.ward.clone(),
        patient: r.patient.clone(),
        pathway: r.pathway,
        reason: r.reason,
        responsible: r.responsible,
        locality: r.locality.clone(),
        admitted_at: r.admitted_at,
        ready_at: r.ready_at,
        days_delayed: whole_days(delayed),
        band: DelayBand::of(delayed),
        at: r.at,
    }
}

/// When a patient stopped occupying a bed after becoming ready: now if still delayed, the
/// discharge if discharged, and when the producer reported it if withdrawn (the contract
/// has no other time for that).
fn left_list(r: &DelayRecord, now: DateTime<Utc>) -> DateTime<Utc> {
    match (r.status, r.discharged_at) {
        (DelayStatus::Delayed, _) => now,
        (DelayStatus::Discharged, Some(t)) => t.with_timezone(&Utc),
        (DelayStatus::Discharged | DelayStatus::Withdrawn, _) => r.at.with_timezone(&Utc),
    }
    .min(now)
}

/// Measures from the current record of every patient at a site, at `now`, given the
/// site's occupied G&A beds (for the share they hold).
pub fn measure<'a>(
    records: impl IntoIterator<Item = &'a DelayRecord>,
    now: DateTime<Utc>,
    ga_occupied: Option<u32>,
) -> DelayMeasures {
    let (today, week) = (calendar::day_start(now), calendar::week_start(now));
    let mut m = DelayMeasures::default();
    let mut total_days = 0.0;
    for r in records {
        let ready = r.ready_at.with_timezone(&Utc);
        let end = left_list(r, now);
        m.bed_days_lost_today += days(ready.max(today), end);
        m.bed_days_lost_week += days(ready.max(week), end);
        if r.status != DelayStatus::Delayed {
            continue;
        }
        let delayed = days_delayed(r, now);
        m.delayed_now += 1;
        total_days += delayed;
        *m.by_ward.entry(r.ward.clone()).or_default() += 1;
        *m.by_pathway.entry(r.pathway).or_default() += 1;
        *m.by_band.entry(DelayBand::of(delayed)).or_default() += 1;
        if let Some(reason) = r.reason {
            *m.by_reason.entry(reason).or_default() += 1;
            *m.by_reason_group.entry(reason.group()).or_default() += 1;
        }
        if let Some(responsible) = r.responsible {
            *m.by_responsible.entry(responsible).or_default() += 1;
        }
        if let Some(locality) = &r.locality {
            *m.by_locality.entry(locality.clone()).or_default() += 1;
        }
    }
    m.mean_days_delayed = (m.delayed_now > 0).then(|| total_days / f64::from(m.delayed_now));
    m.share_of_occupied_ga = ga_occupied
        .filter(|&o| o > 0)
        .map(|o| f64::from(m.delayed_now) / f64::from(o));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use levels_shared::discharge::{Pathway, Reason, ReasonGroup, Responsible};

    fn at(t: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(t).expect("timestamp")
    }

    fn patient(id: &str, ready: &str, status: DelayStatus, left: Option<&str>) -> DelayRecord {
        DelayRecord {
            id: id.into(),
            site: "MPH".into(),
            at: at(left.unwrap_or("2026-11-25T06:00:00Z")),
            patient: id.into(),
            nhs_number: None,
            ward: "Ward 7".into(),
            admitted_at: at("2026-10-01T10:00:00Z"),
            ready_at: at(ready),
            pathway: Pathway::P1,
            reason: (status == DelayStatus::Delayed).then_some(Reason::P1StartOfCare),
            responsible: Some(Responsible::SocialCare),
            locality: Some("E07000190".into()),
            status,
            discharged_at: (status == DelayStatus::Discharged)
                .then(|| at(left.unwrap_or_default())),
        }
    }

    #[test]
    fn bands_and_bed_days_lost_match_a_hand_count() {
        // Wednesday 25 November 2026, 12:00 (GMT): today began 00:00Z, the week Monday 23rd 00:00Z.
        let now = at("2026-11-25T12:00:00Z").with_timezone(&Utc);
        let records = [
            // Ready 06:00 today: 0.25 days today and this week; band 0.
            patient("a", "2026-11-25T06:00:00Z", DelayStatus::Delayed, None),
            // Ready 1.5 days ago: band 1; 0.5 day today, 1.5 this week.
            patient("b", "2026-11-24T00:00:00Z", DelayStatus::Delayed, None),
            // Ready 30 days ago: band 21+; 0.5 today, 2.5 this week.
            patient("c", "2026-10-26T12:00:00Z", DelayStatus::Delayed, None),
            // Discharged 06:00 today after being ready since Sunday 22nd: 0.25 today, 2.25 week.
            patient(
                "d",
                "2026-11-22T00:00:00Z",
                DelayStatus::Discharged,
                Some("2026-11-25T06:00:00Z"),
            ),
            // Withdrawn (reported) Monday 12:00, ready since Monday 00:00: 0 today, 0.5 week.
            patient(
                "e",
                "2026-11-23T00:00:00Z",
                DelayStatus::Withdrawn,
                Some("2026-11-23T12:00:00Z"),
            ),
        ];
        let m = measure(&records, now, Some(300));
        assert_eq!(m.delayed_now, 3);
        let bands: Vec<(DelayBand, u32)> = m.by_band.clone().into_iter().collect();
        assert_eq!(
            bands,
            vec![
                (DelayBand::Zero, 1),
                (DelayBand::One, 1),
                (DelayBand::TwentyOnePlus, 1)
            ]
        );
        assert!(
            (m.bed_days_lost_today - (0.25 + 0.5 + 0.5 + 0.25)).abs() < 1e-9,
            "{}",
            m.bed_days_lost_today
        );
        assert!(
            (m.bed_days_lost_week - (0.25 + 1.5 + 2.5 + 2.25 + 0.5)).abs() < 1e-9,
            "{}",
            m.bed_days_lost_week
        );
        assert_eq!(m.mean_days_delayed, Some((0.25 + 1.5 + 30.0) / 3.0));
        assert_eq!(m.share_of_occupied_ga, Some(3.0 / 300.0));
        assert_eq!(m.by_reason_group.get(&ReasonGroup::Capacity), Some(&3));
        assert_eq!(m.by_locality.get("E07000190"), Some(&3));
        assert_eq!(m.by_ward.get("Ward 7"), Some(&3));
    }

    #[test]
    fn with_no_occupied_beds_known_there_is_no_share() {
        let now = at("2026-11-25T12:00:00Z").with_timezone(&Utc);
        assert_eq!(measure(&[], now, None).share_of_occupied_ga, None);
        assert_eq!(measure(&[], now, Some(0)).share_of_occupied_ga, None);
    }
}

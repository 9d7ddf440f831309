//! Measures of patients with no criteria to reside at one site (docs/feeds.md), and their
//! breakdowns before and after disclosure control (docs/security.md, "Small numbers").

use super::calendar;
use chrono::{DateTime, Utc};
use levels_shared::discharge::{
    DelayRecord, DelayStatus, DelayedPatient, Pathway, ReasonGroup, Responsible,
};
use levels_shared::disclosure::{figure_of, protect_breakdown, Breakdown, NOT_STATED};
use levels_shared::measures::{whole_days, DelayBand, DelayMeasures};
use std::collections::BTreeMap;

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

/// The exact counts of the patients delayed now at one site by each field of the
/// breakdowns: every category of the field's closed list (zeros included), and
/// `not_stated` where the field is optional, so each adds up to `delayed_now`. These stay
/// on the server: what leaves it for anyone without a direct-care reason has passed
/// [`levels_shared::disclosure::protect`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DelayCounts {
    pub delayed_now: u32,
    pub by_pathway: BTreeMap<String, u32>,
    pub by_reason_group: BTreeMap<String, u32>,
    pub by_responsible: BTreeMap<String, u32>,
    pub by_locality: BTreeMap<String, u32>,
    pub by_band: BTreeMap<String, u32>,
}

impl DelayCounts {
    /// Sets `m`'s breakdowns from these counts, each through `publish`
    /// ([`levels_shared::disclosure::protect_breakdown`], or `exact` for those who may see
    /// exact figures).
    pub fn publish_into(
        &self,
        m: &mut DelayMeasures,
        publish: fn(&BTreeMap<String, u32>) -> Breakdown,
    ) {
        m.delayed_now = self.delayed_now;
        m.by_pathway = publish(&self.by_pathway);
        m.by_reason_group = publish(&self.by_reason_group);
        m.by_responsible = publish(&self.by_responsible);
        m.by_locality = publish(&self.by_locality);
        m.by_band = publish(&self.by_band);
    }
}

/// A breakdown with every category of `codes` at zero, and `not_stated` if asked.
fn categories<'a>(
    codes: impl IntoIterator<Item = &'a str>,
    optional: bool,
) -> BTreeMap<String, u32> {
    let not_stated = optional.then_some(NOT_STATED);
    codes
        .into_iter()
        .chain(not_stated)
        .map(|c| (c.to_owned(), 0))
        .collect()
}

/// Counts the patients delayed now among `records`, at `now`. `localities` are the codes a
/// home locality may take (the reference data's; the feed refuses others).
pub fn count<'a>(
    records: impl IntoIterator<Item = &'a DelayRecord>,
    now: DateTime<Utc>,
    localities: &[String],
) -> DelayCounts {
    let mut c = DelayCounts {
        delayed_now: 0,
        by_pathway: categories(Pathway::ALL.map(Pathway::code), false),
        by_reason_group: categories(ReasonGroup::ALL.map(ReasonGroup::code), true),
        by_responsible: categories(Responsible::ALL.map(Responsible::code), true),
        by_locality: categories(localities.iter().map(String::as_str), true),
        by_band: categories(DelayBand::ALL.map(DelayBand::code), false),
    };
    let add = |table: &mut BTreeMap<String, u32>, key: &str| {
        *table.entry(key.to_owned()).or_default() += 1;
    };
    for r in records {
        if r.status != DelayStatus::Delayed {
            continue;
        }
        c.delayed_now += 1;
        add(&mut c.by_pathway, r.pathway.code());
        add(
            &mut c.by_reason_group,
            r.reason.map_or(NOT_STATED, |reason| reason.group().code()),
        );
        add(
            &mut c.by_responsible,
            r.responsible.map_or(NOT_STATED, Responsible::code),
        );
        add(
            &mut c.by_locality,
            r.locality.as_deref().unwrap_or(NOT_STATED),
        );
        add(&mut c.by_band, DelayBand::of(days_delayed(r, now)).code());
    }
    c
}

/// Time spent in hospital after becoming discharge-ready within a period, in days, and by
/// how many patients (those with any such time in it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BedDays {
    pub days: f64,
    pub patients: u32,
}

impl BedDays {
    fn add(&mut self, days: f64) {
        if days > 0.0 {
            self.days += days;
            self.patients += 1;
        }
    }
}

/// Bed days lost since midnight and since Monday midnight (Europe/London), exactly, at
/// `now`, by patients delayed now or who left the list since.
pub fn bed_days<'a>(
    records: impl IntoIterator<Item = &'a DelayRecord>,
    now: DateTime<Utc>,
) -> (BedDays, BedDays) {
    let (today, week) = (calendar::day_start(now), calendar::week_start(now));
    let (mut d, mut w) = (BedDays::default(), BedDays::default());
    for r in records {
        let ready = r.ready_at.with_timezone(&Utc);
        let end = left_list(r, now);
        d.add(days(ready.max(today), end));
        w.add(days(ready.max(week), end));
    }
    (d, w)
}

/// Measures from the current record of every patient at a site, at `now`, given the
/// site's occupied G&A beds (for the share they hold) and the codes a home locality may
/// take, through disclosure control: what every screen is sent. Breakdowns are protected
/// ([`protect_breakdown`]); the mean delay and bed days lost are shown only when at least
/// five patients make them up ([`figure_of`]), since one patient's bed days lost this week
/// are their delay.
pub fn measure<'a>(
    records: impl IntoIterator<Item = &'a DelayRecord> + Clone,
    now: DateTime<Utc>,
    ga_occupied: Option<u32>,
    localities: &[String],
) -> DelayMeasures {
    let counts = count(records.clone(), now, localities);
    let mut m = DelayMeasures::default();
    counts.publish_into(&mut m, protect_breakdown);
    let (today, week) = bed_days(records.clone(), now);
    m.bed_days_lost_today = figure_of(today.patients, Some(today.days));
    m.bed_days_lost_week = figure_of(week.patients, Some(week.days));
    let total_days: f64 = records
        .into_iter()
        .filter(|r| r.status == DelayStatus::Delayed)
        .map(|r| days_delayed(r, now))
        .sum();
    let mean = (m.delayed_now > 0).then(|| total_days / f64::from(m.delayed_now));
    m.mean_days_delayed = figure_of(m.delayed_now, mean);
    m.share_of_occupied_ga = ga_occupied
        .filter(|&o| o > 0)
        .map(|o| f64::from(m.delayed_now) / f64::from(o));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use levels_shared::discharge::Reason;

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
        let localities = ["E07000190".to_owned(), "E07000188".to_owned()];
        let c = count(&records, now, &localities);
        assert_eq!(c.delayed_now, 3);
        let bands: Vec<(&str, u32)> = DelayBand::ALL
            .iter()
            .map(|b| (b.code(), c.by_band[b.code()]))
            .collect();
        assert_eq!(
            bands,
            [
                ("0", 1),
                ("1", 1),
                ("2-3", 0),
                ("4-6", 0),
                ("7-13", 0),
                ("14-20", 0),
                ("21+", 1)
            ]
        );
        assert_eq!(c.by_reason_group["capacity"], 3);
        assert_eq!(c.by_reason_group[NOT_STATED], 0);
        assert_eq!(c.by_locality["E07000190"], 3);
        assert_eq!(c.by_locality["E07000188"], 0);
        assert_eq!(c.by_pathway["P1"], 3);
        let mut exact = DelayMeasures::default();
        c.publish_into(&mut exact, levels_shared::disclosure::exact);
        for (name, table) in exact.breakdowns() {
            let sum: u32 = table.values().flatten().sum();
            assert_eq!(sum, 3, "{name} adds up to the total");
        }

        let (today, week) = bed_days(&records, now);
        assert!(
            (today.days - (0.25 + 0.5 + 0.5 + 0.25)).abs() < 1e-9,
            "{today:?}"
        );
        assert_eq!(today.patients, 4, "e left the list before today");
        assert!(
            (week.days - (0.25 + 1.5 + 2.5 + 2.25 + 0.5)).abs() < 1e-9,
            "{week:?}"
        );
        assert_eq!(week.patients, 5);

        let m = measure(&records, now, Some(300), &localities);
        assert_eq!(m.delayed_now, 3);
        // Four patients' bed days today are not shown; five patients' this week are.
        assert_eq!(m.bed_days_lost_today, None);
        assert_eq!(m.bed_days_lost_week, Some(week.days));
        assert_eq!(m.share_of_occupied_ga, Some(3.0 / 300.0));
        // Three patients: every breakdown has a cell from 1 to 4, so nothing but totals is
        // shown, and neither is their mean delay.
        for table in [
            &m.by_band,
            &m.by_pathway,
            &m.by_locality,
            &m.by_reason_group,
        ] {
            assert!(table.values().all(Option::is_none), "{table:?}");
        }
        assert_eq!(m.mean_days_delayed, None);
    }

    #[test]
    fn breakdowns_streamed_hide_small_cells_and_what_would_give_them_away() {
        // Seven patients ready 30 days ago on P1, one on P3 ready 2 days ago.
        let now = at("2026-11-25T12:00:00Z").with_timezone(&Utc);
        let mut records: Vec<DelayRecord> = (0..7)
            .map(|i| {
                patient(
                    &format!("p{i}"),
                    "2026-10-26T12:00:00Z",
                    DelayStatus::Delayed,
                    None,
                )
            })
            .collect();
        let mut p3 = patient("q", "2026-11-23T12:00:00Z", DelayStatus::Delayed, None);
        p3.pathway = Pathway::P3;
        records.push(p3);
        let m = measure(&records, now, None, &[]);
        assert_eq!(m.delayed_now, 8);
        // P3 (1) is hidden, and so are P0 and P2 (0), or 8 − 7 would give P3 away.
        assert_eq!(m.by_pathway["P1"], Some(7));
        for code in ["P0", "P2", "P3"] {
            assert_eq!(m.by_pathway[code], None, "{code}");
        }
        assert_eq!(m.by_band["21+"], Some(7));
        assert_eq!(m.by_band["2-3"], None);
        // Eight patients: their mean delay is shown.
        let mean = m.mean_days_delayed.expect("a mean of eight");
        assert!((mean - (7.0 * 30.0 + 2.0) / 8.0).abs() < 1e-9, "{mean}");
    }

    #[test]
    fn with_no_occupied_beds_known_there_is_no_share() {
        let now = at("2026-11-25T12:00:00Z").with_timezone(&Utc);
        assert_eq!(measure(&[], now, None, &[]).share_of_occupied_ga, None);
        assert_eq!(measure(&[], now, Some(0), &[]).share_of_occupied_ga, None);
    }
}

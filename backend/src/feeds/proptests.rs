//! Property tests of ingest against hostile bodies: whatever arrives, parsing and
//! validation end in accepted records that keep every rule of the contract, or in typed
//! errors that name the record, its CSV line and the field, with short messages. Never a
//! panic, never an error about a record that is not there.

use super::body::{self, BodyError, Format, RawRecord, MAX_FIELDS, MAX_RECORDS};
use super::error::{Invalid, MAX_LISTED_ERRORS};
use super::fields::{self, MAX_COUNT};
use super::{testing, validate_batch, RecordContext};
use crate::feeds::Record;
use chrono::{DateTime, Duration, Utc};
use levels_shared::beds::{BedPool, BedsRecord};
use levels_shared::discharge::DelayStatus;
use levels_shared::feed::Feed;
use levels_shared::reference::ReferenceData;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// proptest's default of 256 cases a property (`PROPTEST_CASES` overrides it); no
/// regression files are written into the source tree.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

fn reference() -> &'static ReferenceData {
    static SOMERSET: OnceLock<ReferenceData> = OnceLock::new();
    SOMERSET.get_or_init(crate::reference::tests::somerset)
}

fn now() -> DateTime<Utc> {
    testing::now()
}

/// The fields of each feed's contract, envelope included.
fn known_fields(feed: Feed) -> &'static [&'static str] {
    match feed {
        Feed::Beds => &[
            "id",
            "site",
            "at",
            "pool",
            "core_open",
            "escalation_open",
            "occupied",
            "closed_ipc",
            "los_7_plus",
            "los_14_plus",
            "los_21_plus",
            "expected_discharges_today",
        ],
        Feed::Handovers => &[
            "id",
            "site",
            "at",
            "conveyance",
            "arrived_at",
            "handed_over_at",
            "cleared_at",
            "category",
        ],
        Feed::DischargeDelays => &[
            "id",
            "site",
            "at",
            "patient",
            "nhs_number",
            "ward",
            "admitted_at",
            "ready_at",
            "pathway",
            "reason",
            "responsible",
            "locality",
            "status",
            "discharged_at",
        ],
        Feed::Community => &[
            "id",
            "site",
            "at",
            "team",
            "service",
            "caseload",
            "capacity",
            "referrals_waiting",
            "visits_planned",
            "visits_deferred",
            "unmet_care_hours",
        ],
        Feed::Ed => &[
            "id",
            "site",
            "at",
            "in_department",
            "over_4h",
            "over_12h",
            "awaiting_admission",
            "attendances_today",
            "within_4h_today",
            "majors_resus_spaces",
            "majors_resus_occupied",
            "median_minutes_to_treatment",
            "referred_to_service",
        ],
    }
}

/// A valid record of each feed, observed before [`now`].
fn valid(feed: Feed, id: &str) -> Value {
    match feed {
        Feed::Beds => json!({
            "id": id, "site": "MPH", "at": "2026-11-25T08:55:00Z", "pool": "general_acute_adult",
            "core_open": 500, "escalation_open": 20, "occupied": 450, "closed_ipc": 4,
            "los_7_plus": 200, "los_14_plus": 100, "los_21_plus": 50, "expected_discharges_today": 40,
        }),
        Feed::Handovers => json!({
            "id": id, "site": "MPH", "at": "2026-11-25T08:50:00Z", "conveyance": "AMB-001",
            "arrived_at": "2026-11-25T08:10:00Z", "handed_over_at": "2026-11-25T08:41:00Z",
            "cleared_at": "2026-11-25T08:50:00Z", "category": "C2",
        }),
        Feed::DischargeDelays => json!({
            "id": id, "site": "MPH", "at": "2026-11-25T08:00:00Z", "patient": "PX-1042",
            "nhs_number": "9434765919", "ward": "Ward 7", "admitted_at": "2026-11-10T14:00:00Z",
            "ready_at": "2026-11-18T10:00:00Z", "pathway": "P3", "reason": "p3_placement",
            "responsible": "social_care", "locality": "E07000190", "status": "delayed",
        }),
        Feed::Community => json!({
            "id": id, "site": "SHEP", "at": "2026-11-25T08:00:00Z", "team": "CN-MENDIP",
            "service": "community_nursing", "caseload": 612, "capacity": 600, "referrals_waiting": 31,
            "visits_planned": 410, "visits_deferred": 22, "unmet_care_hours": 12.5,
        }),
        Feed::Ed => json!({
            "id": id, "site": "YDH", "at": "2026-11-25T08:45:00Z", "in_department": 62,
            "over_4h": 20, "over_12h": 4, "awaiting_admission": 11, "attendances_today": 70,
            "within_4h_today": 52, "majors_resus_spaces": 24, "majors_resus_occupied": 26,
            "median_minutes_to_treatment": 84.5, "referred_to_service": 9,
        }),
    }
}

fn any_feed() -> impl Strategy<Value = Feed> {
    prop::sample::select(Feed::ALL.to_vec())
}

fn any_format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Json), Just(Format::Csv)]
}

/// Numbers at and around every edge the contract has, and some it does not.
fn edge_number() -> impl Strategy<Value = Value> {
    let edges = vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(-0.0),
        json!(0.5),
        json!(1.5),
        json!(99.999),
        json!(MAX_COUNT),
        json!(MAX_COUNT + 1),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(f64::MIN_POSITIVE),
    ];
    prop_oneof![
        prop::sample::select(edges),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (0u32..2_000_000).prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
    ]
}

/// Text that looks like a number, a time or a code, or is plainly hostile.
fn edge_text() -> impl Strategy<Value = String> {
    let edges: Vec<String> = [
        "",
        " ",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "-0",
        "+5",
        " 5",
        "5 ",
        "5.0",
        ".",
        "..",
        "1.2.3",
        ".5",
        "5.",
        "1e3",
        "1e400",
        "-1e400",
        "0x10",
        "4294967296",
        "1000001",
        "99999999999999999999999999999",
        "٣",
        "１２",
        "true",
        "null",
        "[]",
        "{}",
        "\u{0}",
        "a\u{0}b",
        "\t",
        "line\nbreak",
        "\u{feff}",
        "\u{200b}",
        "\u{202e}RTL",
        "'; DROP TABLE events; --",
        "\"quoted\"",
        "a,b",
        "😀",
        "2026-11-25T08:00:00Z",
        "2026-11-25T08:00:00+01:00",
        "2026-11-25T08:00:00",
        "2026-11-25 08:00:00Z",
        "2026-11-25T09:05:00Z",
        "2026-11-25T09:05:01Z",
        "2026-11-25T08:00:60Z",
        "2026-06-30T23:59:60Z",
        "2026-02-30T08:00:00Z",
        "0000-01-01T00:00:00Z",
        "0000-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "+262143-12-31T23:59:59Z",
        "2026-11-25T08:00:00+24:00",
        "2026-11-25T08:00:00.999999999999Z",
        "MPH",
        "mph",
        "YDH",
        "SHEP",
        "XYZ",
        "general_acute_adult",
        "mental_health",
        "community_nursing",
        "rehab_reablement",
        "pathway1_homecare",
        "RR-MENDIP",
        "P1-SEDGEMOOR",
        "other",
        "nhs",
        "both",
        "C1",
        "C5",
        "P0",
        "P4",
        "delayed",
        "discharged",
        "withdrawn",
        "CN-MENDIP",
        "E07000190",
        "9434765919",
        "9434765918",
        "943476591X",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    prop_oneof![
        8 => prop::sample::select(edges),
        4 => "\\PC{0,40}",
        2 => ".{0,20}",
        1 => (130usize..300).prop_map(|n| "x".repeat(n)),
        1 => Just("é".repeat(100_000)),
    ]
}

/// Any JSON value a hostile producer might put in a field.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        4 => edge_number(),
        6 => edge_text().prop_map(Value::String),
        1 => prop::collection::vec(edge_number(), 0..3).prop_map(Value::Array),
        1 => Just(json!({"nested": {"deeper": [1, 2, 3]}})),
    ]
}

/// A field name: one of the feed's, or not.
fn field_name(feed: Feed) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(known_fields(feed).to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(known_fields(Feed::DischargeDelays).to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,12}",
        1 => prop::sample::select(vec!["ID", "Site", " id", "id ", "occupancy", "los_7plus"]).prop_map(str::to_owned),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove(String),
    Set(String, Value),
}

/// A batch of records, each valid and then changed by a few mutations (possibly none).
fn mutated_batch(feed: Feed) -> impl Strategy<Value = Vec<(Value, usize)>> {
    let mutation = prop_oneof![
        field_name(feed).prop_map(Mutation::Remove),
        (field_name(feed), hostile_value()).prop_map(|(k, v)| Mutation::Set(k, v)),
    ];
    let record = prop::collection::vec(mutation, 0..4);
    prop::collection::vec(record, 0..6).prop_map(move |records| {
        records
            .into_iter()
            .enumerate()
            .map(|(i, mutations)| {
                let mut record = valid(feed, &format!("r{i}"));
                let obj = record.as_object_mut().expect("an object");
                let changed = mutations.len();
                for m in mutations {
                    match m {
                        Mutation::Remove(k) => {
                            obj.remove(&k);
                        }
                        Mutation::Set(k, v) => {
                            obj.insert(k, v);
                        }
                    }
                }
                (record, changed)
            })
            .collect()
    })
}

/// A CSV cell for a JSON value: text as it is, other scalars as JSON, null as empty.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The batch as a body of `format`: a JSON array, or CSV with every field as a column.
fn encode(format: Format, records: &[Value]) -> Vec<u8> {
    match format {
        Format::Json => serde_json::to_vec(records).expect("serialises"),
        Format::Csv => {
            let mut columns: Vec<String> = Vec::new();
            for r in records {
                for k in r.as_object().expect("an object").keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&columns).expect("header");
            for r in records {
                let row: Vec<String> = columns.iter().map(|c| cell(&r[c.as_str()])).collect();
                w.write_record(&row).expect("row");
            }
            w.into_inner().expect("flushed")
        }
    }
}

fn validate(feed: Feed, raw: &[RawRecord]) -> Result<Vec<Record>, Invalid> {
    let ctx = RecordContext {
        reference: reference(),
        now: now(),
        max_future_seconds: 300,
    };
    validate_batch(feed, raw, &ctx)
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// A syntax error always says what is wrong, and JSON ones say where; a line it names is
/// a line of the body.
fn check_syntax_error(format: Format, body: &[u8], e: &BodyError) -> Result<(), TestCaseError> {
    match e {
        BodyError::TooManyRecords { limit } => prop_assert_eq!(*limit, MAX_RECORDS),
        BodyError::Syntax(e) => {
            prop_assert!(!e.message.is_empty());
            prop_assert!(
                e.message.chars().count() < 400,
                "long message: {}",
                e.message
            );
            if format == Format::Json {
                prop_assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
            }
            // Every `\n` and every `\r` may break a line (CSV counts a lone `\r` too).
            let lines = 1 + body.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64;
            if let Some(line) = e.line {
                prop_assert!(
                    (1..=lines).contains(&line),
                    "line {} of a body of {} lines: {:?}",
                    line,
                    lines,
                    e
                );
            }
            if let Some(column) = e.column {
                prop_assert!(
                    column as usize <= body.len() + 1,
                    "column {} of a body of {} bytes",
                    column,
                    body.len()
                );
            }
        }
    }
    Ok(())
}

/// Every error names a record of the batch, its CSV line, and a field it is about; every
/// message names its field and is short.
fn check_invalid(feed: Feed, raw: &[RawRecord], invalid: &Invalid) -> Result<(), TestCaseError> {
    prop_assert!(invalid.records >= 1 && invalid.records <= raw.len());
    prop_assert!(invalid.errors.len() <= MAX_LISTED_ERRORS);
    prop_assert!(!invalid.errors.is_empty());
    for e in &invalid.errors {
        let record = raw.get(e.index).ok_or_else(|| {
            fail(format!(
                "an error about record {} of {}",
                e.index,
                raw.len()
            ))
        })?;
        prop_assert_eq!(e.line, record.line);
        if record.format == Format::Csv {
            let line = e
                .line
                .ok_or_else(|| fail("a CSV error without a line".into()))?;
            prop_assert!(
                line > e.index as u64,
                "line {} for record {}",
                line,
                e.index
            );
        }
        let named = known_fields(feed).contains(&e.field.as_str())
            || record
                .fields
                .keys()
                .any(|k| fields::shown_name(k) == e.field);
        prop_assert!(
            named,
            "an error about field {:?}, which is neither the feed's nor the record's",
            e.field
        );
        prop_assert!(
            e.message.contains(e.field.as_str()),
            "the message does not name its field {:?}: {}",
            e.field,
            e.message
        );
        prop_assert!(
            e.message.chars().count() <= 600,
            "a message of {} characters",
            e.message.chars().count()
        );
    }
    Ok(())
}

fn check_text(name: &str, text: &str, max: usize) -> Result<(), TestCaseError> {
    let len = text.chars().count();
    prop_assert!((1..=max).contains(&len), "{name} has {len} characters");
    prop_assert!(!text.chars().any(char::is_control), "{name} {text:?}");
    Ok(())
}

/// An accepted record keeps every rule of the contract.
fn check_accepted(record: &Record) -> Result<(), TestCaseError> {
    let latest = now() + Duration::seconds(300);
    let (id, site, at) = match record {
        Record::Beds(r) => (&r.id, &r.site, r.at),
        Record::Handover(r) => (&r.id, &r.site, r.at),
        Record::Delay(r) => (&r.id, &r.site, r.at),
        Record::Community(r) => (&r.id, &r.site, r.at),
        Record::Ed(r) => (&r.id, &r.site, r.at),
    };
    check_text("id", id, 128)?;
    prop_assert!(reference().site(site).is_some(), "site {site:?}");
    prop_assert!(at <= latest && at >= fields::earliest());
    let max = MAX_COUNT as u32;
    match record {
        Record::Beds(r) => {
            let open = r.core_open + r.escalation_open;
            prop_assert!(r.core_open <= max && r.escalation_open <= max && r.closed_ipc <= max);
            prop_assert!(r.occupied + r.closed_ipc <= open);
            let chain = [r.los_21_plus, r.los_14_plus, r.los_7_plus, Some(r.occupied)];
            let present: Vec<u32> = chain.into_iter().flatten().collect();
            prop_assert!(present.windows(2).all(|w| w[0] <= w[1]), "{present:?}");
            prop_assert!(r.expected_discharges_today.is_none_or(|n| n <= max));
        }
        Record::Handover(r) => {
            check_text("conveyance", &r.conveyance, 64)?;
            prop_assert!(r.arrived_at <= latest);
            if let Some(handed) = r.handed_over_at {
                prop_assert!(handed >= r.arrived_at && handed <= latest);
            }
            if let Some(cleared) = r.cleared_at {
                let handed = r
                    .handed_over_at
                    .ok_or_else(|| fail("cleared without a handover".into()))?;
                prop_assert!(cleared >= handed && cleared <= latest);
            }
        }
        Record::Delay(r) => {
            check_text("patient", &r.patient, 64)?;
            check_text("ward", &r.ward, 64)?;
            prop_assert!(r.ready_at >= r.admitted_at && r.admitted_at >= fields::earliest());
            prop_assert!(r
                .at
                .checked_sub_months(chrono::Months::new(super::discharge::MAX_STAY_MONTHS))
                .is_none_or(|oldest| r.admitted_at >= oldest));
            if let Some(n) = &r.nhs_number {
                prop_assert!(levels_shared::discharge::nhs_number_is_valid(n));
            }
            if let Some(l) = &r.locality {
                prop_assert!(reference().locality(l).is_some());
            }
            match r.status {
                DelayStatus::Delayed => {
                    prop_assert!(r.reason.is_some() && r.discharged_at.is_none())
                }
                DelayStatus::Discharged => {
                    let t = r
                        .discharged_at
                        .ok_or_else(|| fail("discharged without a time".into()))?;
                    prop_assert!(t >= r.admitted_at);
                }
                DelayStatus::Withdrawn => prop_assert!(r.discharged_at.is_none()),
            }
        }
        Record::Community(r) => {
            let team = reference()
                .team(&r.team)
                .ok_or_else(|| fail(format!("unknown team {:?}", r.team)))?;
            prop_assert_eq!(&team.base_site, &r.site);
            prop_assert_eq!(team.service, r.service);
            prop_assert!(r.capacity > 0 && r.capacity <= max && r.caseload <= max);
            if let Some(h) = r.unmet_care_hours {
                prop_assert!(h.is_finite() && h >= 0.0 && h <= MAX_COUNT as f64);
                prop_assert!(h.is_sign_positive(), "-0 is kept as 0");
            }
        }
        Record::Ed(r) => {
            prop_assert!(r.over_12h <= r.over_4h && r.over_4h <= r.in_department);
            prop_assert!(r.awaiting_admission <= r.in_department);
            prop_assert!(r.within_4h_today <= r.attendances_today);
            prop_assert!(r.referred_to_service.is_none_or(|n| n <= r.in_department));
            if let Some(m) = r.median_minutes_to_treatment {
                prop_assert!(m.is_finite() && m >= 0.0);
            }
        }
    }
    Ok(())
}

/// Parses and validates `body` as every feed would, checking every outcome.
fn ingest_any(format: Format, body: &[u8]) -> Result<(), TestCaseError> {
    let raw = match body::parse(format, body) {
        Ok(raw) => raw,
        Err(e) => return check_syntax_error(format, body, &e),
    };
    prop_assert!(raw.len() <= MAX_RECORDS);
    for (i, r) in raw.iter().enumerate() {
        prop_assert_eq!(r.index, i);
        prop_assert!(r.fields.len() <= MAX_FIELDS);
    }
    for feed in Feed::ALL {
        match validate(feed, &raw) {
            Ok(records) => {
                prop_assert_eq!(records.len(), raw.len());
                for r in &records {
                    check_accepted(r)?;
                }
            }
            Err(invalid) => check_invalid(feed, &raw, &invalid)?,
        }
    }
    Ok(())
}

/// Bytes from a small alphabet of JSON's tokens (and some that are not), so that random
/// bodies get past the first byte.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"[",
        b"]",
        b"{",
        b"}",
        b",",
        b":",
        b"\"",
        b"\"id\"",
        b"\"site\"",
        b"\"records\"",
        b"\"MPH\"",
        b"\"at\"",
        b"\"2026-11-25T08:00:00Z\"",
        b"0",
        b"1",
        b"-",
        b"e",
        b".",
        b"1e400",
        b"4294967296",
        b"true",
        b"null",
        b" ",
        b"\n",
        b"\\",
        b"\\u0000",
        b"\\ud800",
        b"\xFF",
        b"\xEF\xBB\xBF",
        b"\xC3\xA9",
        b"\"core_open\"",
        b"\"occupied\"",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..200).prop_map(|t| t.concat())
}

/// Bytes from a small alphabet of CSV's tokens.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"id,site,at",
        b"id",
        b"site",
        b",",
        b"\"",
        b"\"\"",
        b"\n",
        b"\r\n",
        b"\r",
        b"a",
        b"1",
        b"MPH",
        b"2026-11-25T08:00:00Z",
        b" ",
        b"\xFF",
        b"\xEF\xBB\xBF",
        b"\0",
        b"occupied",
        b"-1",
        b"1e400",
        b"NaN",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..200).prop_map(|t| t.concat())
}

/// A beds record within every rule of the contract (docs/feeds.md): any acute site, any
/// pool, counts that nest, observed in the week before [`now`] at a UK offset.
fn well_formed_beds() -> impl Strategy<Value = BedsRecord> {
    let sites = vec!["MPH", "YDH", "RUH", "WGH", "DCH"];
    (
        "[A-Za-z0-9][A-Za-z0-9._:-]{0,39}",
        prop::sample::select(sites),
        0i64..7 * 24 * 3600,
        any::<bool>(),
        prop::sample::select(BedPool::ALL.to_vec()),
        (0u32..2000, 0u32..200),
        (
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(0u32..300),
        ),
    )
        .prop_map(
            |(id, site, ago, summer, pool, (core, escalation), shares, present)| {
                let (occupied_share, ipc_share, s7, s14, s21) = shares;
                let (has7, has14, has21, expected) = present;
                // A share in 0..=1 of what may hold it.
                let part = |of: u32, share: f64| {
                    let share = if share.is_finite() {
                        share.abs().fract()
                    } else {
                        0.5
                    };
                    (f64::from(of) * share).floor() as u32
                };
                let occupied = part(core + escalation, occupied_share);
                let closed_ipc = part(core + escalation - occupied, ipc_share);
                let los_7_plus = part(occupied, s7);
                let los_14_plus = part(los_7_plus, s14);
                let los_21_plus = part(los_14_plus, s21);
                let offset = chrono::FixedOffset::east_opt(if summer { 3600 } else { 0 })
                    .expect("an offset");
                let at = (now() - Duration::seconds(ago)).with_timezone(&offset);
                BedsRecord {
                    id,
                    site: site.to_owned(),
                    at,
                    pool,
                    core_open: core,
                    escalation_open: escalation,
                    occupied,
                    closed_ipc,
                    // A count left out of the outer one leaves the inner ones nesting in occupied.
                    los_7_plus: has7.then_some(los_7_plus),
                    los_14_plus: has14.then_some(los_14_plus),
                    los_21_plus: has21.then_some(los_21_plus),
                    expected_discharges_today: expected,
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    /// Well-formed records, as JSON (bare or wrapped) or CSV, are accepted as exactly what
    /// was sent: nothing refused, nothing lost, no value changed.
    #[test]
    fn well_formed_beds_records_are_accepted_as_sent(
        batch in prop::collection::vec(well_formed_beds(), 1..8),
        format in any_format(),
        wrapped in any::<bool>(),
    ) {
        let records: Vec<Value> = batch
            .iter()
            .map(|r| serde_json::to_value(r).expect("serialises"))
            .collect();
        let body = match (format, wrapped) {
            (Format::Json, true) => serde_json::to_vec(&json!({"records": records})).expect("json"),
            _ => encode(format, &records),
        };
        let raw = body::parse(format, &body).map_err(|e| fail(format!("{e:?}")))?;
        let accepted = validate(Feed::Beds, &raw).map_err(|e| fail(format!("{e:?}")))?;
        let expected: Vec<Record> = batch.into_iter().map(Record::Beds).collect();
        prop_assert_eq!(accepted, expected);
    }

    #[test]
    fn arbitrary_bytes_are_records_or_a_syntax_error(
        format in any_format(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        ingest_any(format, &body)?;
    }

    #[test]
    fn json_like_bytes_are_records_or_a_syntax_error(body in jsonish()) {
        ingest_any(Format::Json, &body)?;
    }

    #[test]
    fn csv_like_bytes_are_records_or_a_syntax_error(body in csvish()) {
        ingest_any(Format::Csv, &body)?;
    }

    #[test]
    fn arbitrary_text_is_records_or_a_syntax_error(format in any_format(), body in "\\PC{0,300}") {
        ingest_any(format, body.as_bytes())?;
    }

    /// Valid records of every feed with hostile changes: missing and extra fields, wrong
    /// types, numbers out of range, odd text; as JSON and as CSV.
    #[test]
    fn mutated_records_are_accepted_only_when_valid_and_errors_name_them(
        (feed, batch) in any_feed().prop_flat_map(|feed| (Just(feed), mutated_batch(feed))),
        format in any_format(),
        bom in any::<bool>(),
        wrapped in any::<bool>(),
    ) {
        let records: Vec<Value> = batch.iter().map(|(r, _)| r.clone()).collect();
        let mut body = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        match (format, wrapped) {
            (Format::Json, true) => body.extend(serde_json::to_vec(&json!({"records": records})).expect("json")),
            _ => body.extend(encode(format, &records)),
        }
        let raw = match body::parse(format, &body) {
            Ok(raw) => raw,
            // Only CSV can fail here: a batch whose fields together are too many columns.
            Err(e) => {
                prop_assert_eq!(format, Format::Csv, "{:?}", e);
                return check_syntax_error(format, &body, &e);
            }
        };
        prop_assert_eq!(raw.len(), records.len());
        match validate(feed, &raw) {
            Ok(accepted) => {
                for r in &accepted {
                    check_accepted(r)?;
                }
            }
            Err(invalid) => {
                check_invalid(feed, &raw, &invalid)?;
                // A record nothing was done to is never the one refused (in JSON; a CSV
                // row also has every other record's columns).
                if format == Format::Json {
                    for e in &invalid.errors {
                        prop_assert!(batch[e.index].1 > 0, "untouched record {} refused: {:?}", e.index, e);
                    }
                }
            }
        }
    }

    /// A JSON record whose field is any value at all: accepted, or refused naming the field.
    #[test]
    fn any_value_in_any_field_is_accepted_or_refused_by_name(
        feed in any_feed(),
        name in prop::sample::select(known_fields(Feed::DischargeDelays).iter().chain(known_fields(Feed::Beds)).copied().collect::<Vec<_>>()),
        value in hostile_value(),
        format in any_format(),
    ) {
        let mut record = valid(feed, "r0");
        record[name] = value.clone();
        let raw = body::parse(format, &encode(format, &[record])).map_err(|e| fail(format!("{e:?}")))?;
        match validate(feed, &raw) {
            Ok(records) => check_accepted(&records[0])?,
            Err(invalid) => {
                check_invalid(feed, &raw, &invalid)?;
                // A value of the wrong type is refused against its own field (a rule
                // between two fields may name the other one).
                if matches!(value, Value::Bool(_) | Value::Array(_) | Value::Object(_)) {
                    let named: Vec<&str> = invalid.errors.iter().map(|e| e.field.as_str()).collect();
                    prop_assert!(named.contains(&name), "{} not among the errors {:?}", name, named);
                }
            }
        }
    }
}

#[test]
fn a_huge_field_is_refused_with_a_short_message() {
    for feed in Feed::ALL {
        for format in [Format::Json, Format::Csv] {
            for field in [
                "id",
                "site",
                "at",
                "occupied",
                "unmet_care_hours",
                "pathway",
            ] {
                let mut record = valid(feed, "r0");
                record[field] = Value::String("9".repeat(5 << 20));
                let raw = body::parse(format, &encode(format, &[record])).expect("parses");
                let invalid = validate(feed, &raw).expect_err("refused");
                assert!(
                    invalid.errors.iter().all(|e| e.message.len() < 600),
                    "{feed} {format:?} {field}: a message echoes the value"
                );
                assert!(invalid.errors.iter().any(|e| e.field == field));
            }
        }
    }
}

#[test]
fn a_huge_unknown_field_name_is_shown_cut_short() {
    let mut record = valid(Feed::Beds, "r0");
    let name = "n".repeat(1 << 20);
    record[name.as_str()] = json!(1);
    let raw = body::parse(Format::Json, &encode(Format::Json, &[record])).expect("parses");
    let invalid = validate(Feed::Beds, &raw).expect_err("refused");
    assert_eq!(invalid.errors.len(), 1);
    let e = &invalid.errors[0];
    assert_eq!(e.field, fields::shown_name(&name));
    assert!(e.field.chars().count() <= fields::SHOWN_CHARS + 1);
    assert!(
        e.message.ends_with(" is not a field of this feed"),
        "{}",
        e.message
    );
}

#[test]
fn numbers_out_of_range_are_refused_for_every_count_of_every_feed() {
    let counts: &[(Feed, &[&str])] = &[
        (
            Feed::Beds,
            &[
                "core_open",
                "escalation_open",
                "occupied",
                "closed_ipc",
                "los_7_plus",
                "expected_discharges_today",
            ],
        ),
        (
            Feed::Community,
            &[
                "caseload",
                "capacity",
                "referrals_waiting",
                "visits_planned",
                "visits_deferred",
            ],
        ),
        (
            Feed::Ed,
            &[
                "in_department",
                "over_4h",
                "attendances_today",
                "majors_resus_spaces",
                "referred_to_service",
            ],
        ),
    ];
    let json_bad = [
        json!(-1),
        json!(1.5),
        json!(-0.5),
        json!(MAX_COUNT + 1),
        json!(u64::from(u32::MAX) + 1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e300),
        json!("12"),
        json!("NaN"),
        json!(true),
        json!([1]),
        json!({"n": 1}),
    ];
    let csv_bad = [
        "-1",
        "1.5",
        "1e3",
        "NaN",
        "Infinity",
        "+5",
        "0x10",
        "4294967296",
        "1000001",
        "99999999999999999999999",
        "١٢",
        "1 2",
    ];
    for (feed, fields) in counts {
        for field in *fields {
            for bad in &json_bad {
                let mut record = valid(*feed, "r0");
                record[*field] = bad.clone();
                let raw =
                    body::parse(Format::Json, &encode(Format::Json, &[record])).expect("parses");
                let invalid = validate(*feed, &raw).expect_err("refused");
                assert!(
                    invalid.errors.iter().any(|e| e.field == *field),
                    "{feed} {field} {bad}: {:?}",
                    invalid.errors
                );
            }
            for bad in csv_bad {
                let mut record = valid(*feed, "r0");
                record[*field] = json!(bad);
                let raw =
                    body::parse(Format::Csv, &encode(Format::Csv, &[record])).expect("parses");
                let invalid = validate(*feed, &raw).expect_err("refused");
                assert!(
                    invalid.errors.iter().any(|e| e.field == *field),
                    "{feed} {field} {bad}: {:?}",
                    invalid.errors
                );
            }
        }
    }
    // JSON cannot spell 1e400: the body is malformed, with its position.
    let body = br#"[{"id": "r0", "core_open": 1e400}]"#;
    match body::parse(Format::Json, body) {
        Err(BodyError::Syntax(e)) => {
            assert_eq!(e.line, Some(1));
            assert!(e.column.is_some_and(|c| c >= 30), "{e:?}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn control_characters_in_text_fields_are_refused_by_name() {
    for (feed, field) in [
        (Feed::Beds, "id"),
        (Feed::Handovers, "conveyance"),
        (Feed::DischargeDelays, "ward"),
        (Feed::DischargeDelays, "patient"),
    ] {
        for text in [
            "a\u{0}b",
            "tab\there",
            "new\nline",
            "\u{7f}",
            "\u{85}",
            "ward \u{202e}7",
            "\u{2066}x\u{2069}",
            "\u{200f}",
        ] {
            let mut record = valid(feed, "r0");
            record[field] = json!(text);
            let raw = body::parse(Format::Json, &encode(Format::Json, &[record])).expect("parses");
            let invalid = validate(feed, &raw).expect_err("refused");
            assert_eq!(invalid.errors[0].field, field, "{text:?}");
            assert!(
                invalid.errors[0].message.contains("control character"),
                "{}",
                invalid.errors[0].message
            );
        }
    }
    // Letters of any script are fine.
    let mut record = valid(Feed::DischargeDelays, "r0");
    record["ward"] = json!("Ward Ŵ 7 — Dŵr 😀");
    let raw = body::parse(Format::Json, &encode(Format::Json, &[record])).expect("parses");
    assert!(validate(Feed::DischargeDelays, &raw).is_ok());
}

#[test]
fn a_batch_of_ten_thousand_bad_records_lists_the_first_errors_and_counts_the_rest() {
    let body = format!("[{}{{}}]", "{},".repeat(MAX_RECORDS - 1));
    let raw = body::parse(Format::Json, body.as_bytes()).expect("parses");
    let started = std::time::Instant::now();
    let invalid = validate(Feed::Beds, &raw).expect_err("refused");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(invalid.records, MAX_RECORDS);
    assert_eq!(invalid.errors.len(), MAX_LISTED_ERRORS);
    // id, site, at, pool, core_open and occupied are missing from every record.
    assert_eq!(invalid.errors.len() + invalid.unlisted, 6 * MAX_RECORDS);
    assert_eq!(
        invalid.to_string(),
        format!("10000 records are invalid; nothing from the batch was applied (the first 100 errors are listed; {} more are not)", 6 * MAX_RECORDS - 100)
    );
}

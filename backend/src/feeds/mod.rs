//! The feeds of the contract (docs/feeds.md): a producer's body parsed ([`body`]) and each
//! record validated ([`fields`], then the feed's own module) into a [`Record`]. Any invalid
//! record refuses the whole batch, and every error names its record, line and field
//! ([`error`]). Nothing here knows HTTP or the store: `routes::feeds` receives the request
//! and commits what this module accepts.

pub mod beds;
pub mod body;
pub mod community;
pub mod discharge;
pub mod ed;
pub mod error;
pub mod fields;
pub mod handovers;
#[cfg(test)]
mod proptests;

use body::RawRecord;
use chrono::{DateTime, FixedOffset, Utc};
use error::{Invalid, RecordError};
use fields::Fields;
use levels_shared::beds::BedsRecord;
use levels_shared::community::CommunityRecord;
use levels_shared::discharge::DelayRecord;
use levels_shared::ed::EdRecord;
use levels_shared::feed::Feed;
use levels_shared::handovers::HandoverRecord;
use levels_shared::reference::ReferenceData;

/// A valid, accepted record of any feed.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Beds(BedsRecord),
    Handover(HandoverRecord),
    Delay(DelayRecord),
    Community(CommunityRecord),
    Ed(EdRecord),
}

impl Record {
    pub fn site(&self) -> &str {
        match self {
            Record::Beds(r) => &r.site,
            Record::Handover(r) => &r.site,
            Record::Delay(r) => &r.site,
            Record::Community(r) => &r.site,
            Record::Ed(r) => &r.site,
        }
    }

    /// Reads a stored record of `feed` back from its canonical JSON.
    pub fn parse(feed: Feed, body: &str) -> Result<Record, serde_json::Error> {
        Ok(match feed {
            Feed::Beds => Record::Beds(serde_json::from_str(body)?),
            Feed::Handovers => Record::Handover(serde_json::from_str(body)?),
            Feed::DischargeDelays => Record::Delay(serde_json::from_str(body)?),
            Feed::Community => Record::Community(serde_json::from_str(body)?),
            Feed::Ed => Record::Ed(serde_json::from_str(body)?),
        })
    }
}

/// The fields every record has, whatever its feed.
pub struct Envelope {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
}

/// What validation checks records against.
pub struct RecordContext<'a> {
    pub reference: &'a ReferenceData,
    pub now: DateTime<Utc>,
    pub max_future_seconds: i64,
}

/// Validates every record; either all are valid or every error is returned.
pub fn validate_batch(
    feed: Feed,
    raw: &[RawRecord],
    ctx: &RecordContext,
) -> Result<Vec<Record>, Invalid> {
    let mut records = Vec::with_capacity(raw.len());
    let mut invalid = Invalid::default();
    let latest = ctx.now + chrono::Duration::seconds(ctx.max_future_seconds);
    for r in raw {
        let mut f = Fields::new(r, latest);
        let envelope = read_envelope(&mut f, ctx);
        let record = match feed {
            Feed::Beds => beds::validate(&mut f, envelope, ctx).map(Record::Beds),
            Feed::Handovers => handovers::validate(&mut f, envelope, ctx).map(Record::Handover),
            Feed::DischargeDelays => discharge::validate(&mut f, envelope, ctx).map(Record::Delay),
            Feed::Community => community::validate(&mut f, envelope, ctx).map(Record::Community),
            Feed::Ed => ed::validate(&mut f, envelope, ctx).map(Record::Ed),
        };
        let field_errors = f.finish();
        if field_errors.is_empty() {
            // Every getter that failed recorded an error, so a complete record is here.
            records.extend(record);
        }
        invalid.add_record(field_errors.into_iter().map(|e| RecordError {
            index: r.index,
            line: r.line,
            field: e.field,
            message: e.message,
        }));
    }
    if invalid.is_empty() {
        Ok(records)
    } else {
        Err(invalid)
    }
}

/// Reads `id`, `site` and `at`. Returns a placeholder envelope when one is invalid: the
/// error is already recorded, so the record will be refused, but its other fields are
/// still checked and reported in the same answer.
fn read_envelope(f: &mut Fields, ctx: &RecordContext) -> Envelope {
    let id = f.string("id", 1, 128);
    let site = f.string("site", 1, 64);
    if let Some(code) = &site {
        if ctx.reference.site(code).is_none() {
            f.error("site", format!("site {code:?} is not a known site code"));
        }
    }
    let at = f.timestamp("at");
    Envelope {
        id: id.unwrap_or_default(),
        site: site.unwrap_or_default(),
        at: at.unwrap_or_else(|| ctx.now.fixed_offset()),
    }
}

/// Helpers for the validation tests of every feed.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use body::Format;
    use serde_json::Value;

    /// The time validation tests run at: 2026-11-25T09:00:00Z.
    pub fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T09:00:00Z")
            .expect("timestamp")
            .with_timezone(&Utc)
    }

    /// `record` with each key of `changes` set, or removed where the change is null.
    pub fn with(mut record: Value, changes: Value) -> Value {
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                record.as_object_mut().expect("object").remove(k);
            } else {
                record[k] = v.clone();
            }
        }
        record
    }

    /// Validates one record as it would arrive in `format` against the Somerset reference.
    pub fn validate_one(
        feed: Feed,
        format: Format,
        record: Value,
    ) -> Result<Record, Vec<(String, String)>> {
        let fields = match format {
            Format::Json => record.as_object().expect("object").clone(),
            Format::Csv => record
                .as_object()
                .expect("object")
                .iter()
                .map(|(k, v)| {
                    let cell = match v {
                        Value::Null => Value::Null,
                        Value::String(text) => Value::String(text.clone()),
                        other => Value::String(other.to_string()),
                    };
                    (k.clone(), cell)
                })
                .collect(),
        };
        let raw = RawRecord {
            index: 0,
            line: None,
            format,
            fields,
        };
        let reference = crate::reference::tests::somerset();
        let ctx = RecordContext {
            reference: &reference,
            now: now(),
            max_future_seconds: 300,
        };
        match validate_batch(feed, &[raw], &ctx) {
            Ok(mut records) => Ok(records.pop().expect("a valid batch of one has one record")),
            Err(invalid) => Err(invalid
                .errors
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect()),
        }
    }

    /// The fields named by the errors of an invalid JSON record.
    pub fn error_fields(feed: Feed, record: Value) -> Vec<String> {
        validate_one(feed, Format::Json, record)
            .expect_err("the record is invalid")
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    //! Every rule of the beds contract, one record at a time.
    use super::*;
    use body::Format;
    use levels_shared::beds::BedsRecord;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "id": "r1", "site": "MPH", "at": "2026-11-25T08:55:00Z", "pool": "general_acute_adult",
            "core_open": 500, "occupied": 450,
        })
    }

    fn with(changes: Value) -> Value {
        testing::with(valid(), changes)
    }

    fn check_as(format: Format, record: Value) -> Result<BedsRecord, Vec<(String, String)>> {
        match testing::validate_one(Feed::Beds, format, record)? {
            Record::Beds(r) => Ok(r),
            other => panic!("a beds record, not {other:?}"),
        }
    }

    fn check(record: Value) -> Result<BedsRecord, Vec<(String, String)>> {
        check_as(Format::Json, record)
    }

    /// The fields named in the errors of an invalid record.
    fn fields(record: Value) -> Vec<String> {
        check(record)
            .expect_err("invalid")
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn a_minimal_record_is_valid_with_defaults_filled_in() {
        let r = check(valid()).expect("valid");
        assert_eq!(
            (r.escalation_open, r.closed_ipc, r.los_7_plus),
            (0, 0, None)
        );
    }

    #[test]
    fn id_is_required_and_1_to_128_characters() {
        assert_eq!(fields(with(json!({"id": null}))), ["id"]);
        assert_eq!(fields(with(json!({"id": ""}))), ["id"]);
        assert_eq!(fields(with(json!({"id": "x".repeat(129)}))), ["id"]);
        assert!(check(with(json!({"id": "x".repeat(128)}))).is_ok());
        assert_eq!(fields(with(json!({"id": 7}))), ["id"]);
    }

    #[test]
    fn site_must_be_a_known_site_code() {
        let errors = check(with(json!({"site": "XYZ"}))).expect_err("unknown site");
        assert_eq!(
            errors,
            [(
                "site".to_string(),
                "site \"XYZ\" is not a known site code".to_string()
            )]
        );
        assert_eq!(fields(with(json!({"site": null}))), ["site"]);
    }

    #[test]
    fn at_must_be_rfc3339_with_an_offset_and_not_over_five_minutes_ahead() {
        assert_eq!(fields(with(json!({"at": "2026-11-25 08:00"}))), ["at"]);
        assert_eq!(fields(with(json!({"at": "2026-11-25T08:00:00"}))), ["at"]);
        assert_eq!(fields(with(json!({"at": null}))), ["at"]);
        assert!(check(with(json!({"at": "2026-07-01T08:00:00+01:00"}))).is_ok());
        assert!(check(with(json!({"at": "2026-11-25T09:05:00Z"}))).is_ok());
        assert_eq!(fields(with(json!({"at": "2026-11-25T09:05:01Z"}))), ["at"]);
    }

    #[test]
    fn pool_must_be_one_of_the_five_pools() {
        let errors = check(with(json!({"pool": "maternity"}))).expect_err("bad pool");
        assert_eq!(errors[0].0, "pool");
        assert!(
            errors[0].1.contains("general_acute_adult"),
            "{}",
            errors[0].1
        );
        assert_eq!(fields(with(json!({"pool": null}))), ["pool"]);
        for pool in levels_shared::beds::BedPool::ALL.map(|p| p.code()) {
            assert!(check(with(json!({"pool": pool}))).is_ok(), "{pool}");
        }
    }

    #[test]
    fn counts_are_whole_numbers_of_zero_or_more() {
        for field in [
            "core_open",
            "occupied",
            "escalation_open",
            "closed_ipc",
            "expected_discharges_today",
        ] {
            assert_eq!(fields(with(json!({field: -1}))), [field], "{field}");
            assert_eq!(fields(with(json!({field: 1.5}))), [field], "{field}");
            assert_eq!(
                fields(with(json!({field: "12"}))),
                [field],
                "JSON numbers are not strings: {field}"
            );
            assert_eq!(
                fields(with(json!({field: 5_000_000_000u64}))),
                [field],
                "{field}"
            );
        }
        assert_eq!(fields(with(json!({"core_open": null}))), ["core_open"]);
        assert_eq!(fields(with(json!({"occupied": null}))), ["occupied"]);
    }

    #[test]
    fn csv_counts_are_read_from_text() {
        let r = check_as(
            Format::Csv,
            with(json!({"core_open": "500", "occupied": "450", "closed_ipc": "2"})),
        )
        .expect("valid CSV");
        assert_eq!((r.core_open, r.closed_ipc), (500, 2));
        let errors = check_as(Format::Csv, with(json!({"core_open": "-5"}))).expect_err("negative");
        assert_eq!(errors[0].0, "core_open");
    }

    #[test]
    fn occupied_may_not_exceed_core_plus_escalation_beds() {
        assert!(check(with(json!({"occupied": 520, "escalation_open": 20}))).is_ok());
        let errors =
            check(with(json!({"occupied": 521, "escalation_open": 20}))).expect_err("over");
        assert_eq!(
            errors,
            [(
                "occupied".to_string(),
                "occupied (521) exceeds open beds (520 = core_open 500 + escalation_open 20)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn length_of_stay_counts_nest_within_each_other_and_occupied() {
        assert!(check(with(
            json!({"los_7_plus": 100, "los_14_plus": 50, "los_21_plus": 20})
        ))
        .is_ok());
        assert_eq!(fields(with(json!({"los_7_plus": 451}))), ["los_7_plus"]);
        assert_eq!(
            fields(with(json!({"los_7_plus": 10, "los_14_plus": 11}))),
            ["los_14_plus"]
        );
        assert_eq!(
            fields(with(json!({"los_14_plus": 10, "los_21_plus": 11}))),
            ["los_21_plus"]
        );
        // With 14+ absent, 21+ is checked against the next count present.
        assert_eq!(
            fields(with(json!({"los_7_plus": 10, "los_21_plus": 11}))),
            ["los_21_plus"]
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let errors = check(with(json!({"occupancy": 0.9}))).expect_err("unknown");
        assert_eq!(
            errors,
            [(
                "occupancy".to_string(),
                "occupancy is not a field of this feed".to_string()
            )]
        );
    }

    #[test]
    fn counts_are_bounded_so_sums_cannot_overflow() {
        assert!(check(with(json!({"core_open": 1_000_000, "occupied": 0}))).is_ok());
        let errors = check(with(json!({"core_open": 1_000_001}))).expect_err("too large");
        assert_eq!(
            errors[0],
            (
                "core_open".into(),
                "core_open (1000001) is larger than 1000000".into()
            )
        );
    }

    #[test]
    fn csv_counts_are_plain_digits() {
        for text in ["+5", " 5", "5.0", "1e3", "0x10"] {
            let errors = check_as(Format::Csv, with(json!({"occupied": text}))).expect_err(text);
            assert_eq!(errors[0].0, "occupied", "{text}");
        }
        let errors = check_as(
            Format::Csv,
            with(json!({"occupied": "99999999999999999999999"})),
        )
        .expect_err("huge");
        assert!(errors[0].1.contains("larger than"), "{}", errors[0].1);
    }

    #[test]
    fn beds_closed_for_infection_control_are_empty_beds() {
        assert!(check(with(json!({"occupied": 490, "closed_ipc": 10}))).is_ok());
        let errors = check(with(json!({"occupied": 491, "closed_ipc": 10}))).expect_err("too many");
        assert_eq!(
            errors,
            [(
                "closed_ipc".to_string(),
                "occupied (491) plus closed_ipc (10) exceeds open beds (500)".to_string()
            )]
        );
    }

    #[test]
    fn a_misspelt_csv_column_is_refused_even_where_its_cell_is_empty() {
        let mut record = valid();
        record["los_7plus"] = Value::Null;
        let errors = check_as(Format::Csv, record).expect_err("unknown");
        assert_eq!(errors[0].0, "los_7plus");
    }

    #[test]
    fn null_is_the_same_as_absent() {
        let mut record = valid();
        record["los_7_plus"] = Value::Null;
        assert_eq!(check(record).expect("valid").los_7_plus, None);
    }
}

//! Validation of the `ed` feed (DESIGN §4.5).

use super::fields::Fields;
use super::{Envelope, RecordContext};
use levels_shared::ed::EdRecord;

pub fn validate(f: &mut Fields, envelope: Envelope, _ctx: &RecordContext) -> Option<EdRecord> {
    let in_department = f.count("in_department");
    let over_4h = f.count("over_4h");
    let over_12h = f.count("over_12h");
    let awaiting_admission = f.count("awaiting_admission");
    let attendances_today = f.count("attendances_today");
    let within_4h_today = f.count("within_4h_today");
    let majors_resus_spaces = f.opt_count("majors_resus_spaces");
    let majors_resus_occupied = f.opt_count("majors_resus_occupied");
    let median_minutes_to_treatment = f.opt_number("median_minutes_to_treatment");
    let referred_to_service = f.opt_count("referred_to_service");

    // Each is a subset of the one after it.
    let not_more = |f: &mut Fields,
                    (name, value): (&str, Option<u32>),
                    (outer, limit): (&str, Option<u32>)| {
        if let (Some(v), Some(l)) = (value, limit) {
            if v > l {
                f.error(name, format!("{name} ({v}) exceeds {outer} ({l})"));
            }
        }
    };
    not_more(f, ("over_12h", over_12h), ("over_4h", over_4h));
    not_more(f, ("over_4h", over_4h), ("in_department", in_department));
    // Decided to admit but still waiting for a bed: still in the department.
    not_more(
        f,
        ("awaiting_admission", awaiting_admission),
        ("in_department", in_department),
    );
    not_more(
        f,
        ("referred_to_service", referred_to_service),
        ("in_department", in_department),
    );
    not_more(
        f,
        ("within_4h_today", within_4h_today),
        ("attendances_today", attendances_today),
    );

    Some(EdRecord {
        id: envelope.id,
        site: envelope.site,
        at: envelope.at,
        in_department: in_department?,
        over_4h: over_4h?,
        over_12h: over_12h?,
        awaiting_admission: awaiting_admission?,
        attendances_today: attendances_today?,
        within_4h_today: within_4h_today?,
        majors_resus_spaces,
        majors_resus_occupied,
        median_minutes_to_treatment,
        referred_to_service,
    })
}

#[cfg(test)]
mod tests {
    use super::super::body::Format;
    use super::super::testing::{error_fields, validate_one, with};
    use levels_shared::feed::Feed;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "id": "e1", "site": "YDH", "at": "2026-11-25T08:45:00Z", "in_department": 62,
            "over_4h": 20, "over_12h": 4, "awaiting_admission": 11, "attendances_today": 70,
            "within_4h_today": 52, "majors_resus_spaces": 24, "majors_resus_occupied": 26,
            "median_minutes_to_treatment": 84.5, "referred_to_service": 9,
        })
    }

    fn errors(changes: Value) -> Vec<String> {
        error_fields(Feed::Ed, with(valid(), changes))
    }

    #[test]
    fn a_full_snapshot_is_valid_and_majors_may_be_over_full() {
        assert!(validate_one(Feed::Ed, Format::Json, valid()).is_ok());
        assert!(validate_one(Feed::Ed, Format::Csv, valid()).is_ok());
    }

    #[test]
    fn the_six_counts_are_required() {
        for field in [
            "in_department",
            "over_4h",
            "over_12h",
            "awaiting_admission",
            "attendances_today",
            "within_4h_today",
        ] {
            assert_eq!(errors(json!({field: null})), [field], "{field}");
        }
    }

    #[test]
    fn subsets_do_not_exceed_their_whole() {
        assert_eq!(errors(json!({"over_12h": 21})), ["over_12h"]);
        assert_eq!(errors(json!({"over_4h": 63, "over_12h": 4})), ["over_4h"]);
        assert_eq!(
            errors(json!({"awaiting_admission": 63})),
            ["awaiting_admission"]
        );
        assert_eq!(
            errors(json!({"referred_to_service": 63})),
            ["referred_to_service"]
        );
        assert_eq!(errors(json!({"within_4h_today": 71})), ["within_4h_today"]);
    }

    #[test]
    fn median_time_is_a_number_of_minutes_of_zero_or_more() {
        assert_eq!(
            errors(json!({"median_minutes_to_treatment": -1})),
            ["median_minutes_to_treatment"]
        );
        assert_eq!(
            errors(json!({"median_minutes_to_treatment": "84"})),
            ["median_minutes_to_treatment"]
        );
    }
}

//! Validation of the `handovers` feed (DESIGN §4.2).

use super::fields::Fields;
use super::{Envelope, RecordContext};
use levels_shared::handovers::{Category, HandoverRecord};

pub fn validate(
    f: &mut Fields,
    envelope: Envelope,
    _ctx: &RecordContext,
) -> Option<HandoverRecord> {
    let conveyance = f.string("conveyance", 1, 64);
    let arrived_at = f.timestamp("arrived_at");
    let handed_over_at = f.opt_timestamp("handed_over_at");
    let cleared_at = f.opt_timestamp("cleared_at");
    let category = f.opt_code("category", Category::parse, &["C1", "C2", "C3", "C4"]);

    if let (Some(arrived), Some(handed)) = (arrived_at, handed_over_at) {
        if handed < arrived {
            f.error(
                "handed_over_at",
                format!(
                    "handed_over_at ({}) is before arrived_at ({})",
                    handed.to_rfc3339(),
                    arrived.to_rfc3339()
                ),
            );
        }
    }
    match (handed_over_at, cleared_at) {
        (Some(handed), Some(cleared)) if cleared < handed => f.error(
            "cleared_at",
            format!(
                "cleared_at ({}) is before handed_over_at ({})",
                cleared.to_rfc3339(),
                handed.to_rfc3339()
            ),
        ),
        (None, Some(_)) => f.error(
            "cleared_at",
            "cleared_at needs handed_over_at: a crew clears after handing over",
        ),
        _ => {}
    }

    Some(HandoverRecord {
        id: envelope.id,
        site: envelope.site,
        at: envelope.at,
        conveyance: conveyance?,
        arrived_at: arrived_at?,
        handed_over_at,
        cleared_at,
        category,
    })
}

#[cfg(test)]
mod tests {
    use super::super::body::Format;
    use super::super::testing::{error_fields, validate_one, with};
    use super::super::Record;
    use levels_shared::feed::Feed;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "id": "h1", "site": "MPH", "at": "2026-11-25T08:50:00Z", "conveyance": "AMB-001",
            "arrived_at": "2026-11-25T08:10:00Z", "handed_over_at": "2026-11-25T08:41:00Z",
            "cleared_at": "2026-11-25T08:50:00Z", "category": "C2",
        })
    }

    fn errors(changes: Value) -> Vec<String> {
        error_fields(Feed::Handovers, with(valid(), changes))
    }

    #[test]
    fn a_full_record_and_a_still_waiting_one_are_valid() {
        assert!(validate_one(Feed::Handovers, Format::Json, valid()).is_ok());
        let waiting = with(
            valid(),
            json!({"handed_over_at": null, "cleared_at": null, "category": null}),
        );
        match validate_one(Feed::Handovers, Format::Csv, waiting) {
            Ok(Record::Handover(r)) => assert_eq!((r.handed_over_at, r.category), (None, None)),
            other => panic!("expected a handover, got {other:?}"),
        }
    }

    #[test]
    fn conveyance_and_arrival_are_required() {
        assert_eq!(errors(json!({"conveyance": null})), ["conveyance"]);
        assert_eq!(
            errors(json!({"conveyance": "x".repeat(65)})),
            ["conveyance"]
        );
        assert_eq!(errors(json!({"arrived_at": null})), ["arrived_at"]);
        assert_eq!(errors(json!({"arrived_at": "08:10"})), ["arrived_at"]);
    }

    #[test]
    fn handover_follows_arrival_and_clearing_follows_handover() {
        assert_eq!(
            errors(json!({"handed_over_at": "2026-11-25T08:09:59Z"})),
            ["handed_over_at"]
        );
        assert_eq!(
            errors(json!({"cleared_at": "2026-11-25T08:40:00Z"})),
            ["cleared_at"]
        );
        assert_eq!(errors(json!({"handed_over_at": null})), ["cleared_at"]);
        // Equal times are allowed.
        assert!(validate_one(
            Feed::Handovers,
            Format::Json,
            with(valid(), json!({"handed_over_at": "2026-11-25T08:10:00Z"}))
        )
        .is_ok());
    }

    #[test]
    fn times_may_not_be_over_five_minutes_ahead() {
        assert_eq!(
            errors(json!({"cleared_at": "2026-11-25T09:05:01Z"})),
            ["cleared_at"]
        );
    }

    #[test]
    fn category_is_c1_to_c4() {
        assert_eq!(errors(json!({"category": "C5"})), ["category"]);
        assert_eq!(errors(json!({"category": "c1"})), ["category"]);
    }
}

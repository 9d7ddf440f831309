//! Validation of the `discharge-delays` feed (DESIGN §4.3).

use super::fields::Fields;
use super::{Envelope, RecordContext};
use levels_shared::discharge::{
    nhs_number_is_valid, DelayRecord, DelayStatus, Pathway, Reason, Responsible,
};

/// The longest stay a record may show, in months before its `at`: an admission earlier
/// than that is a slip, and would swamp every mean and band it is counted in.
pub const MAX_STAY_MONTHS: u32 = 60;

pub fn validate(f: &mut Fields, envelope: Envelope, ctx: &RecordContext) -> Option<DelayRecord> {
    let reasons: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
    let patient = f.string("patient", 1, 64);
    let nhs_number = f.opt_string("nhs_number", 10, 10);
    let ward = f.string("ward", 1, 64);
    let admitted_at = f.timestamp("admitted_at");
    let ready_at = f.timestamp("ready_at");
    let pathway = f.code("pathway", Pathway::parse, &["P0", "P1", "P2", "P3"]);
    let reason = f.opt_code("reason", Reason::parse, &reasons);
    let responsible = f.opt_code(
        "responsible",
        Responsible::parse,
        &["nhs", "social_care", "both"],
    );
    let locality = f.opt_string("locality", 1, 64);
    // Absent status means the patient is on the list: that is what the feed is for.
    let status = f
        .opt_code(
            "status",
            DelayStatus::parse,
            &["delayed", "discharged", "withdrawn"],
        )
        .or_else(|| (!f.has_error("status")).then_some(DelayStatus::Delayed));
    let discharged_at = f.opt_timestamp("discharged_at");

    if let Some(number) = &nhs_number {
        if !nhs_number_is_valid(number) {
            f.error(
                "nhs_number",
                format!("nhs_number {number:?} is not a valid NHS number (Modulus 11 check)"),
            );
        }
    }
    if let Some(code) = &locality {
        if ctx.reference.locality(code).is_none() {
            f.error(
                "locality",
                format!("locality {code:?} is not a known locality code"),
            );
        }
    }
    let oldest = envelope
        .at
        .checked_sub_months(chrono::Months::new(MAX_STAY_MONTHS));
    if let (Some(admitted), Some(oldest)) = (admitted_at, oldest) {
        // Against a valid `at` only: an invalid one is already reported.
        if admitted < oldest && !f.has_error("at") {
            f.error(
                "admitted_at",
                format!(
                    "admitted_at ({}) is more than {} years before at ({}): no stay that long is accepted",
                    admitted.to_rfc3339(),
                    MAX_STAY_MONTHS / 12,
                    envelope.at.to_rfc3339()
                ),
            );
        }
    }
    if let (Some(admitted), Some(ready)) = (admitted_at, ready_at) {
        if ready < admitted {
            f.error(
                "ready_at",
                format!(
                    "ready_at ({}) is before admitted_at ({})",
                    ready.to_rfc3339(),
                    admitted.to_rfc3339()
                ),
            );
        }
    }
    match status {
        Some(DelayStatus::Delayed) if reason.is_none() && !f.has_error("reason") => {
            f.error("reason", "reason is required while status is delayed");
        }
        Some(DelayStatus::Discharged)
            if discharged_at.is_none() && !f.has_error("discharged_at") =>
        {
            f.error(
                "discharged_at",
                "discharged_at is required when status is discharged",
            );
        }
        Some(DelayStatus::Delayed | DelayStatus::Withdrawn) if discharged_at.is_some() => {
            f.error(
                "discharged_at",
                "discharged_at is only for status discharged",
            );
        }
        _ => {}
    }
    if let (Some(admitted), Some(discharged)) = (admitted_at, discharged_at) {
        if discharged < admitted {
            f.error(
                "discharged_at",
                format!(
                    "discharged_at ({}) is before admitted_at ({})",
                    discharged.to_rfc3339(),
                    admitted.to_rfc3339()
                ),
            );
        }
    }

    Some(DelayRecord {
        id: envelope.id,
        site: envelope.site,
        at: envelope.at,
        patient: patient?,
        nhs_number,
        ward: ward?,
        admitted_at: admitted_at?,
        ready_at: ready_at?,
        pathway: pathway?,
        reason,
        responsible,
        locality,
        status: status?,
        discharged_at,
    })
}

#[cfg(test)]
mod tests {
    use super::super::body::Format;
    use super::super::testing::{error_fields, validate_one, with};
    use super::super::Record;
    use levels_shared::discharge::{DelayStatus, Reason};
    use levels_shared::feed::Feed;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({
            "id": "d1", "site": "MPH", "at": "2026-11-25T08:00:00Z", "patient": "PX-1042",
            "nhs_number": "9434765919", "ward": "Ward 7", "admitted_at": "2026-11-10T14:00:00Z",
            "ready_at": "2026-11-18T10:00:00Z", "pathway": "P3", "reason": "p3_placement",
            "responsible": "social_care", "locality": "E07000190", "status": "delayed",
        })
    }

    fn errors(changes: Value) -> Vec<String> {
        error_fields(Feed::DischargeDelays, with(valid(), changes))
    }

    #[test]
    fn a_delayed_patient_is_valid_and_status_defaults_to_delayed() {
        assert!(validate_one(Feed::DischargeDelays, Format::Json, valid()).is_ok());
        match validate_one(
            Feed::DischargeDelays,
            Format::Csv,
            with(valid(), json!({"status": null})),
        ) {
            Ok(Record::Delay(r)) => {
                assert_eq!(
                    (r.status, r.reason),
                    (DelayStatus::Delayed, Some(Reason::P3Placement))
                );
            }
            other => panic!("expected a delay, got {other:?}"),
        }
    }

    #[test]
    fn the_nhs_number_must_pass_the_modulus_11_check() {
        assert_eq!(errors(json!({"nhs_number": "9434765918"})), ["nhs_number"]);
        assert_eq!(errors(json!({"nhs_number": "943476591"})), ["nhs_number"]);
        assert_eq!(errors(json!({"nhs_number": 9434765919u64})), ["nhs_number"]);
        assert!(validate_one(
            Feed::DischargeDelays,
            Format::Json,
            with(valid(), json!({"nhs_number": null}))
        )
        .is_ok());
    }

    #[test]
    fn codes_come_from_closed_lists_and_the_locality_must_be_known() {
        assert_eq!(errors(json!({"pathway": "P4"})), ["pathway"]);
        assert_eq!(errors(json!({"reason": "waiting"})), ["reason"]);
        assert_eq!(errors(json!({"responsible": "council"})), ["responsible"]);
        assert_eq!(errors(json!({"status": "gone"})), ["status"]);
        let unknown = validate_one(
            Feed::DischargeDelays,
            Format::Json,
            with(valid(), json!({"locality": "E99999999"})),
        );
        assert_eq!(
            unknown.expect_err("unknown")[0],
            (
                "locality".into(),
                "locality \"E99999999\" is not a known locality code".into()
            )
        );
    }

    #[test]
    fn required_fields_are_named_when_missing() {
        for field in ["patient", "ward", "admitted_at", "ready_at", "pathway"] {
            assert_eq!(errors(json!({field: null})), [field], "{field}");
        }
    }

    #[test]
    fn ready_follows_admission() {
        assert_eq!(
            errors(json!({"ready_at": "2026-11-10T13:59:00Z"})),
            ["ready_at"]
        );
    }

    #[test]
    fn a_reason_is_required_only_while_delayed() {
        assert_eq!(errors(json!({"reason": null})), ["reason"]);
        let withdrawn = with(valid(), json!({"reason": null, "status": "withdrawn"}));
        assert!(validate_one(Feed::DischargeDelays, Format::Json, withdrawn).is_ok());
    }

    #[test]
    fn a_discharge_has_a_time_and_only_a_discharge_has_one() {
        assert_eq!(errors(json!({"status": "discharged"})), ["discharged_at"]);
        let discharged = with(
            valid(),
            json!({"status": "discharged", "discharged_at": "2026-11-25T07:30:00Z"}),
        );
        assert!(validate_one(Feed::DischargeDelays, Format::Json, discharged).is_ok());
        assert_eq!(
            errors(json!({"discharged_at": "2026-11-25T07:30:00Z"})),
            ["discharged_at"]
        );
        assert_eq!(
            errors(json!({"status": "discharged", "discharged_at": "2026-11-01T07:30:00Z"})),
            ["discharged_at"]
        );
    }
}

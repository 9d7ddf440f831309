//! The `discharge-delays` feed: a patient who no longer meets the criteria to reside
//! (DESIGN §4.3), with the closed lists of pathways, reasons and responsible organisations.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Discharge pathway: P0 home with no new support, P1 home with support, P2 a bed-based
/// rehabilitation or reablement setting, P3 a care home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pathway {
    P0,
    P1,
    P2,
    P3,
}

impl Pathway {
    pub const ALL: [Pathway; 4] = [Pathway::P0, Pathway::P1, Pathway::P2, Pathway::P3];

    pub fn code(self) -> &'static str {
        match self {
            Pathway::P0 => "P0",
            Pathway::P1 => "P1",
            Pathway::P2 => "P2",
            Pathway::P3 => "P3",
        }
    }

    pub fn parse(code: &str) -> Option<Pathway> {
        Pathway::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// Which organisation the delay is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responsible {
    Nhs,
    SocialCare,
    Both,
}

impl Responsible {
    pub const ALL: [Responsible; 3] =
        [Responsible::Nhs, Responsible::SocialCare, Responsible::Both];

    pub fn code(self) -> &'static str {
        match self {
            Responsible::Nhs => "nhs",
            Responsible::SocialCare => "social_care",
            Responsible::Both => "both",
        }
    }

    pub fn parse(code: &str) -> Option<Responsible> {
        Responsible::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Responsible::Nhs => "NHS",
            Responsible::SocialCare => "Social care",
            Responsible::Both => "NHS and social care",
        }
    }
}

/// Where the patient is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayStatus {
    /// No criteria to reside and still in hospital.
    Delayed,
    /// Left hospital at `discharged_at`.
    Discharged,
    /// Off the list for another reason: meets the criteria to reside again, or died.
    Withdrawn,
}

impl DelayStatus {
    pub const ALL: [DelayStatus; 3] = [
        DelayStatus::Delayed,
        DelayStatus::Discharged,
        DelayStatus::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DelayStatus::Delayed => "delayed",
            DelayStatus::Discharged => "discharged",
            DelayStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Option<DelayStatus> {
        DelayStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The four groups reasons are charted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonGroup {
    /// Inside the hospital's own control: decisions, tests, medicines, transport, plans.
    HospitalProcess,
    /// Between organisations: referrals, transfer of care hub, funding decisions.
    InterfaceProcess,
    /// Waiting for care capacity outside hospital: home care, beds, placements, equipment.
    Capacity,
    /// The patient's own circumstances: choice, safeguarding, infection, housing.
    Wellbeing,
}

impl ReasonGroup {
    pub const ALL: [ReasonGroup; 4] = [
        ReasonGroup::HospitalProcess,
        ReasonGroup::InterfaceProcess,
        ReasonGroup::Capacity,
        ReasonGroup::Wellbeing,
    ];

    /// The group's code, as breakdowns key it (as it is serialised).
    pub fn code(self) -> &'static str {
        match self {
            ReasonGroup::HospitalProcess => "hospital_process",
            ReasonGroup::InterfaceProcess => "interface_process",
            ReasonGroup::Capacity => "capacity",
            ReasonGroup::Wellbeing => "wellbeing",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReasonGroup::HospitalProcess => "Hospital process",
            ReasonGroup::InterfaceProcess => "Interface process",
            ReasonGroup::Capacity => "Capacity",
            ReasonGroup::Wellbeing => "Wellbeing",
        }
    }
}

macro_rules! reasons {
    ($( $variant:ident = $code:literal, $group:ident, $label:literal; )*) => {
        /// Reason for delay, after NHS England's 2023 acute and community discharge sitrep.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Reason { $( $variant, )* }

        impl Reason {
            pub const ALL: &'static [Reason] = &[ $( Reason::$variant, )* ];

            pub fn code(self) -> &'static str {
                match self { $( Reason::$variant => $code, )* }
            }

            pub fn group(self) -> ReasonGroup {
                match self { $( Reason::$variant => ReasonGroup::$group, )* }
            }

            /// A label for people.
            pub fn label(self) -> &'static str {
                match self { $( Reason::$variant => $label, )* }
            }
        }
    };
}

reasons! {
    MedicalDecision = "medical_decision", HospitalProcess, "Awaiting a medical decision or intervention";
    TherapyDecision = "therapy_decision", HospitalProcess, "Awaiting a therapy decision or intervention";
    ReferralToHub = "referral_to_hub", InterfaceProcess, "Awaiting referral to the transfer of care hub";
    HubConfirmation = "hub_confirmation", InterfaceProcess, "Awaiting the transfer of care hub's confirmation";
    Medicines = "medicines", HospitalProcess, "Awaiting medicines to take home";
    Transport = "transport", HospitalProcess, "Awaiting transport";
    DiagnosticTest = "diagnostic_test", HospitalProcess, "Awaiting a diagnostic test or its result";
    P1StartOfCare = "p1_start_of_care", Capacity, "Awaiting the start of care at home (P1)";
    P1Continuation = "p1_continuation", Capacity, "Awaiting the restart of existing care at home (P1)";
    P2Bed = "p2_bed", Capacity, "Awaiting a rehabilitation or reablement bed (P2)";
    P3Placement = "p3_placement", Capacity, "Awaiting a care home placement (P3)";
    P3EndOfLife = "p3_end_of_life", Capacity, "Awaiting an end-of-life care placement";
    EquipmentAdaptations = "equipment_adaptations", Capacity, "Awaiting equipment or home adaptations";
    ChcFunding = "chc_funding", InterfaceProcess, "Awaiting a Continuing Healthcare decision";
    PatientFamilyChoice = "patient_family_choice", Wellbeing, "Patient or family choice";
    HousingHomeless = "housing_homeless", Wellbeing, "Housing or homelessness";
    Safeguarding = "safeguarding", Wellbeing, "Safeguarding concern";
    InfectionControl = "infection_control", Wellbeing, "Infection control";
    ReadmissionOrRepatriation = "readmission_or_repatriation", InterfaceProcess, "Awaiting repatriation or transfer to another hospital";
    NoPlan = "no_plan", HospitalProcess, "No discharge plan yet";
    Other = "other", Wellbeing, "Other";
}

impl Reason {
    pub fn parse(code: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.code() == code)
    }
}

/// An accepted `discharge-delays` record: one patient's place on the list at `at`.
/// Later records for the same patient at the same site update them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRecord {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
    /// A pseudonymous local reference, never a name or NHS number.
    pub patient: String,
    /// Visible only to direct-care roles; never sent on the live stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
    pub ward: String,
    pub admitted_at: DateTime<FixedOffset>,
    pub ready_at: DateTime<FixedOffset>,
    pub pathway: Pathway,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<Responsible>,
    /// The patient's home locality code, for the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    pub status: DelayStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharged_at: Option<DateTime<FixedOffset>>,
}

/// One patient on a site's list of delayed discharges, as the discharge view lists them.
/// Never carries an NHS number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelayedPatient {
    pub site: String,
    pub ward: String,
    /// The producer's pseudonymous reference (never the NHS number).
    pub patient: String,
    pub pathway: Pathway,
    pub reason: Option<Reason>,
    pub responsible: Option<Responsible>,
    /// Home locality code, if given.
    pub locality: Option<String>,
    pub admitted_at: DateTime<FixedOffset>,
    pub ready_at: DateTime<FixedOffset>,
    /// Whole days completed since discharge-ready, as of `as_of` in the reply.
    pub days_delayed: u32,
    pub band: crate::measures::DelayBand,
    /// When this patient's record was last confirmed by the site.
    pub at: DateTime<FixedOffset>,
}

/// The reply of GET /api/v1/discharge/patients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelayedPatients {
    pub as_of: DateTime<Utc>,
    pub patients: Vec<DelayedPatient>,
    /// Sites whose discharge-delays feed is stale at `as_of` (their patients are listed, but flagged by the view).
    pub stale_sites: Vec<String>,
    /// Bed days lost today and this week at each of these sites, exact (the live state
    /// hides them where fewer than five patients make them up).
    #[serde(default)]
    pub bed_days_lost: std::collections::BTreeMap<String, [f64; 2]>,
}

/// Whether a 10-digit NHS number passes the Modulus 11 check: weights 10 down to 2 on the
/// first nine digits, 11 minus the remainder is the check digit, 11 means 0, 10 is invalid.
pub fn nhs_number_is_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 || number.len() != 10 {
        return false;
    }
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] == check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_pass_or_fail_the_modulus_11_check() {
        // 943 476 5919 is NHS Digital's published example of a valid number.
        assert!(nhs_number_is_valid("9434765919"));
        assert!(!nhs_number_is_valid("9434765918"), "wrong check digit");
        assert!(!nhs_number_is_valid("943476591"), "nine digits");
        assert!(!nhs_number_is_valid("94347659190"), "eleven digits");
        assert!(
            !nhs_number_is_valid("943 476 5919"),
            "spaces are not accepted"
        );
        assert!(!nhs_number_is_valid("94347659１9"), "only ASCII digits");
        // Weighted sum 66 (remainder 0): 11 − 0 = 11, so the check digit is 0.
        assert!(nhs_number_is_valid("1000000060"));
        assert!(!nhs_number_is_valid("1000000061"));
        // Weighted sum 12 (remainder 1): 11 − 1 = 10, so no check digit can be valid.
        for last in 0..=9 {
            assert!(!nhs_number_is_valid(&format!("100000001{last}")));
        }
    }

    #[test]
    fn every_reason_has_a_code_that_round_trips_and_a_label() {
        assert_eq!(Reason::ALL.len(), 21);
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.code()), Some(*r));
            assert!(!r.label().is_empty());
        }
        assert_eq!(Reason::P2Bed.group(), ReasonGroup::Capacity);
        assert_eq!(Reason::ReferralToHub.group(), ReasonGroup::InterfaceProcess);
        assert_eq!(Reason::Medicines.group(), ReasonGroup::HospitalProcess);
        assert_eq!(Reason::PatientFamilyChoice.group(), ReasonGroup::Wellbeing);
        for g in ReasonGroup::ALL {
            assert_eq!(serde_json::to_value(g).expect("serialises"), g.code());
        }
    }
}

//! Simulated discharge delay lists. Each site has "slots" (a bed's worth of patients with
//! no criteria to reside, one after another); every slot's sequence of patients follows
//! from the seed alone, so after a restart the same patients are on the list, and those
//! who left meanwhile are sent as discharged. Pathway mix, waits and reasons are
//! illustrative, shaped like the national picture: most delays are for pathway 1–3
//! capacity and P3 waits are longest.

use super::random::{lognormal, stream, weighted};
use chrono::{DateTime, Duration, TimeZone, Utc};
use levels_shared::discharge::{DelayRecord, DelayStatus, Pathway, Reason, Responsible};
use levels_shared::reference::{Site, SiteKind};

/// Patients' home localities by rough population (Mendip, Sedgemoor, South Somerset,
/// Taunton Deane, West Somerset).
const LOCALITIES: [(&str, f64); 5] = [
    ("E07000187", 115.0),
    ("E07000188", 125.0),
    ("E07000189", 170.0),
    ("E07000190", 117.0),
    ("E07000191", 35.0),
];

/// How many delayed patients a site typically holds.
pub fn slots(site: &Site) -> u32 {
    match (site.code.as_str(), site.kind) {
        ("MPH", _) => 62,
        ("YDH", _) => 36,
        (_, SiteKind::CommunityHospital) => 5 + site.code.len() as u32,
        _ => 0,
    }
}

/// One patient's time on the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub record: DelayRecord,
    /// When they leave the list, and how.
    pub left: DateTime<Utc>,
    pub outcome: DelayStatus,
}

fn nhs_number(rng: &mut fastrand::Rng) -> String {
    // 999 000 0000 to 999 999 9999 is the range reserved for test data: never a real patient.
    loop {
        let body = format!("999{:06}", rng.u32(0..1_000_000));
        let sum: u32 = body
            .chars()
            .filter_map(|c| c.to_digit(10))
            .zip((2..=10).rev())
            .map(|(d, w)| d * w)
            .sum();
        match 11 - sum % 11 {
            10 => continue,
            11 => return format!("{body}0"),
            check => return format!("{body}{check}"),
        }
    }
}

fn reason_for(rng: &mut fastrand::Rng, pathway: Pathway) -> (Reason, Responsible) {
    use Reason::*;
    let reasons: &[(Reason, f64)] = match pathway {
        Pathway::P0 => &[
            (MedicalDecision, 3.0),
            (TherapyDecision, 2.0),
            (Medicines, 2.0),
            (Transport, 2.0),
            (DiagnosticTest, 1.0),
            (NoPlan, 1.0),
        ],
        Pathway::P1 => &[
            (P1StartOfCare, 5.0),
            (P1Continuation, 2.0),
            (ReferralToHub, 1.5),
            (HubConfirmation, 1.0),
            (EquipmentAdaptations, 1.0),
            (PatientFamilyChoice, 0.5),
        ],
        Pathway::P2 => &[
            (P2Bed, 6.0),
            (HubConfirmation, 1.0),
            (InfectionControl, 0.5),
            (Other, 0.5),
        ],
        Pathway::P3 => &[
            (P3Placement, 5.0),
            (ChcFunding, 2.0),
            (PatientFamilyChoice, 1.5),
            (P3EndOfLife, 0.7),
            (Safeguarding, 0.5),
            (HousingHomeless, 0.3),
        ],
    };
    let reason = *weighted(rng, reasons);
    let responsible = match pathway {
        Pathway::P0 => Responsible::Nhs,
        Pathway::P1 | Pathway::P3 => *weighted(
            rng,
            &[(Responsible::SocialCare, 3.0), (Responsible::Both, 1.0)],
        ),
        Pathway::P2 => *weighted(rng, &[(Responsible::Both, 2.0), (Responsible::Nhs, 1.0)]),
    };
    (reason, responsible)
}

/// Everyone on `site`'s list at `now`, plus those who left it in the last eight days.
pub fn patients(seed: u64, site: &Site, now: DateTime<Utc>) -> Vec<Patient> {
    // Slots start filling well before any date the demo runs at, so the list is "warm".
    let anchor = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
        - Duration::days(30);
    let acute = site.kind == SiteKind::Acute;
    let mut out = Vec::new();
    for slot in 0..slots(site) {
        let mut rng = stream(seed, ("delay-slot", site.code.as_str(), slot));
        let mut t = anchor;
        for n in 0u32.. {
            let ready = t + Duration::minutes((lognormal(&mut rng, 0.6, 1.0) * 1440.0) as i64);
            if ready > now {
                break;
            }
            let pathway = *weighted(
                &mut rng,
                &[
                    (Pathway::P0, 0.2),
                    (Pathway::P1, 0.4),
                    (Pathway::P2, 0.2),
                    (Pathway::P3, 0.2),
                ],
            );
            let median_days = match pathway {
                Pathway::P0 => 0.8,
                Pathway::P1 => 3.5,
                Pathway::P2 => 4.0,
                Pathway::P3 => 7.0,
            };
            let wait = Duration::minutes(
                (lognormal(&mut rng, median_days, 0.8).min(60.0) * 1440.0) as i64,
            );
            let left = ready + wait;
            let outcome = if rng.f64() < 0.9 {
                DelayStatus::Discharged
            } else {
                DelayStatus::Withdrawn
            };
            let admitted =
                ready - Duration::minutes((lognormal(&mut rng, 4.0, 0.7) * 1440.0) as i64);
            let (reason, responsible) = reason_for(&mut rng, pathway);
            let own_locality = site.locality.as_deref().filter(|_| rng.f64() < 0.6);
            let locality = match own_locality {
                Some(l) => l,
                None => *weighted(&mut rng, &LOCALITIES),
            };
            let ward = if acute {
                format!("Ward {}", 1 + slot % 12)
            } else {
                "Inpatient ward".into()
            };
            let number = nhs_number(&mut rng);
            t = left;
            if left < now - Duration::days(8) {
                continue;
            }
            let patient = format!("{}-{slot:02}-{n:03}", site.code);
            out.push(Patient {
                record: DelayRecord {
                    id: format!("sim-{patient}-ready"),
                    site: site.code.clone(),
                    at: ready.fixed_offset(),
                    patient,
                    nhs_number: Some(number),
                    ward,
                    admitted_at: admitted.fixed_offset(),
                    ready_at: ready.fixed_offset(),
                    pathway,
                    reason: Some(reason),
                    responsible: Some(responsible),
                    locality: Some(locality.to_owned()),
                    status: DelayStatus::Delayed,
                    discharged_at: None,
                },
                left,
                outcome,
            });
        }
    }
    out
}

impl Patient {
    /// The records a producer would have sent by `now`: the patient joining the list,
    /// re-confirmed every half hour while on it, and leaving it.
    pub fn records(&self, now: DateTime<Utc>) -> Vec<DelayRecord> {
        let mut out = vec![self.record.clone()];
        if self.left <= now {
            let mut left = self.record.clone();
            left.id = format!("sim-{}-left", self.record.patient);
            left.at = self.left.fixed_offset();
            left.status = self.outcome;
            left.reason = None;
            left.discharged_at =
                (self.outcome == DelayStatus::Discharged).then(|| self.left.fixed_offset());
            out.push(left);
        } else {
            // The list is re-sent every half hour, so it stays fresh between changes.
            let boundary = Utc
                .timestamp_opt(now.timestamp() - now.timestamp() % 1800, 0)
                .single()
                .unwrap_or(now);
            if boundary > self.record.ready_at {
                let mut seen = self.record.clone();
                seen.id = format!("sim-{}-seen-{}", self.record.patient, boundary.timestamp());
                seen.at = boundary.fixed_offset();
                out.push(seen);
            }
        }
        out
    }
}

//! Validation of the `beds` feed (DESIGN §4.1).

use super::fields::Fields;
use super::{Envelope, RecordContext};
use levels_shared::beds::{BedPool, BedsRecord};

const POOLS: [&str; 5] = [
    "general_acute_adult",
    "general_acute_paediatric",
    "adult_critical_care",
    "community_inpatient",
    "mental_health",
];

/// Reads a beds record's own fields and checks the rules between them.
pub fn validate(f: &mut Fields, envelope: Envelope, _ctx: &RecordContext) -> Option<BedsRecord> {
    let pool = f.code("pool", BedPool::parse, &POOLS);
    let core_open = f.count("core_open");
    let escalation_open = f.opt_count("escalation_open").unwrap_or(0);
    let occupied = f.count("occupied");
    let closed_ipc = f.opt_count("closed_ipc").unwrap_or(0);
    let los_7_plus = f.opt_count("los_7_plus");
    let los_14_plus = f.opt_count("los_14_plus");
    let los_21_plus = f.opt_count("los_21_plus");
    let expected_discharges_today = f.opt_count("expected_discharges_today");

    if let (Some(core), Some(occ)) = (core_open, occupied) {
        let open = u64::from(core) + u64::from(escalation_open);
        if u64::from(occ) > open {
            f.error(
                "occupied",
                format!("occupied ({occ}) exceeds open beds ({open} = core_open {core} + escalation_open {escalation_open})"),
            );
        } else if u64::from(occ) + u64::from(closed_ipc) > open {
            // Beds closed for infection control are open beds that stand empty.
            f.error(
                "closed_ipc",
                format!(
                    "occupied ({occ}) plus closed_ipc ({closed_ipc}) exceeds open beds ({open})"
                ),
            );
        }
    }
    // Length-of-stay counts nest: 21+ ⊆ 14+ ⊆ 7+ ⊆ occupied.
    let chain = [
        ("los_21_plus", los_21_plus),
        ("los_14_plus", los_14_plus),
        ("los_7_plus", los_7_plus),
        ("occupied", occupied),
    ];
    for (i, (name, value)) in chain.iter().enumerate() {
        let Some(value) = value else { continue };
        if let Some((outer, limit)) = chain[i + 1..].iter().find_map(|(n, v)| v.map(|v| (n, v))) {
            if *value > limit {
                f.error(name, format!("{name} ({value}) exceeds {outer} ({limit})"));
            }
        }
    }

    Some(BedsRecord {
        id: envelope.id,
        site: envelope.site,
        at: envelope.at,
        pool: pool?,
        core_open: core_open?,
        escalation_open,
        occupied: occupied?,
        closed_ipc,
        los_7_plus,
        los_14_plus,
        los_21_plus,
        expected_discharges_today,
    })
}

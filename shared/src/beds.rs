//! The `beds` feed: one bed pool at a site (DESIGN §4.1), and what is derived from it.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A kind of bed pool. General and acute (G&A) beds are the adult and paediatric pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BedPool {
    GeneralAcuteAdult,
    GeneralAcutePaediatric,
    AdultCriticalCare,
    CommunityInpatient,
    MentalHealth,
}

impl BedPool {
    pub const ALL: [BedPool; 5] = [
        BedPool::GeneralAcuteAdult,
        BedPool::GeneralAcutePaediatric,
        BedPool::AdultCriticalCare,
        BedPool::CommunityInpatient,
        BedPool::MentalHealth,
    ];

    /// The pool's code in the feed contract.
    pub fn code(self) -> &'static str {
        match self {
            BedPool::GeneralAcuteAdult => "general_acute_adult",
            BedPool::GeneralAcutePaediatric => "general_acute_paediatric",
            BedPool::AdultCriticalCare => "adult_critical_care",
            BedPool::CommunityInpatient => "community_inpatient",
            BedPool::MentalHealth => "mental_health",
        }
    }

    pub fn parse(code: &str) -> Option<BedPool> {
        BedPool::ALL.into_iter().find(|p| p.code() == code)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            BedPool::GeneralAcuteAdult => "G&A adult",
            BedPool::GeneralAcutePaediatric => "G&A paediatric",
            BedPool::AdultCriticalCare => "Adult critical care",
            BedPool::CommunityInpatient => "Community inpatient",
            BedPool::MentalHealth => "Mental health",
        }
    }

    /// Whether the pool counts as general and acute (G&A) beds.
    pub fn is_general_and_acute(self) -> bool {
        matches!(
            self,
            BedPool::GeneralAcuteAdult | BedPool::GeneralAcutePaediatric
        )
    }
}

/// An accepted `beds` record: the state of one bed pool at a site, observed at `at`.
///
/// This is also the canonical form kept in the event log, so a re-sent record is
/// recognised as identical whether it first came as JSON or CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BedsRecord {
    pub id: String,
    pub site: String,
    pub at: DateTime<FixedOffset>,
    pub pool: BedPool,
    pub core_open: u32,
    pub escalation_open: u32,
    pub occupied: u32,
    pub closed_ipc: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub los_7_plus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub los_14_plus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub los_21_plus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_discharges_today: Option<u32>,
}

impl BedsRecord {
    /// A record for `pool` at `site` observed at `at` (RFC 3339), with no optional fields:
    /// a fixture for tests across the workspace.
    #[cfg(any(test, feature = "fixtures"))]
    pub fn fixture(
        site: &str,
        pool: BedPool,
        core_open: u32,
        occupied: u32,
        at: &str,
    ) -> BedsRecord {
        BedsRecord {
            id: format!("{site}-{}-{at}-{occupied}", pool.code()),
            site: site.into(),
            at: DateTime::parse_from_rfc3339(at).expect("a fixture's timestamp is valid"),
            pool,
            core_open,
            escalation_open: 0,
            occupied,
            closed_ipc: 0,
            los_7_plus: None,
            los_14_plus: None,
            los_21_plus: None,
            expected_discharges_today: None,
        }
    }

    /// The counts of this one pool.
    pub fn totals(&self) -> BedTotals {
        BedTotals {
            core_open: self.core_open,
            escalation_open: self.escalation_open,
            occupied: self.occupied,
            closed_ipc: self.closed_ipc,
            at: Some(self.at),
        }
    }
}

/// Bed counts summed over one or more pools, with the derived measures of DESIGN §4.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BedTotals {
    pub core_open: u32,
    pub escalation_open: u32,
    pub occupied: u32,
    pub closed_ipc: u32,
    /// The oldest observation among the summed pools: the total is only as fresh as that.
    pub at: Option<DateTime<FixedOffset>>,
}

impl BedTotals {
    /// Open beds: core plus escalation. Saturating: validation bounds every count, but a
    /// browser must not panic (debug) or wrap (release) on whatever the wire brings.
    pub fn open(&self) -> u32 {
        self.core_open.saturating_add(self.escalation_open)
    }

    /// Available beds: open minus occupied (validation guarantees occupied ≤ open).
    pub fn available(&self) -> u32 {
        self.open().saturating_sub(self.occupied)
    }

    /// Occupied / open, or `None` when no beds are open.
    pub fn occupancy(&self) -> Option<f64> {
        (self.open() > 0).then(|| f64::from(self.occupied) / f64::from(self.open()))
    }

    /// Escalation beds as a share of open beds.
    pub fn escalation_share(&self) -> Option<f64> {
        (self.open() > 0).then(|| f64::from(self.escalation_open) / f64::from(self.open()))
    }

    fn add(mut self, other: BedTotals) -> BedTotals {
        self.core_open = self.core_open.saturating_add(other.core_open);
        self.escalation_open = self.escalation_open.saturating_add(other.escalation_open);
        self.occupied = self.occupied.saturating_add(other.occupied);
        self.closed_ipc = self.closed_ipc.saturating_add(other.closed_ipc);
        self.at = match (self.at, other.at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }
}

/// The current state of every bed pool at one site: the latest record by `at` for each.
pub type SiteBeds = BTreeMap<BedPool, BedsRecord>;

/// Sums the pools that `include` selects; `None` when the site has none of them.
pub fn sum_pools(beds: &SiteBeds, include: impl Fn(BedPool) -> bool) -> Option<BedTotals> {
    beds.values()
        .filter(|r| include(r.pool))
        .map(BedsRecord::totals)
        .reduce(BedTotals::add)
}

/// The site's headline bed figure: G&A beds where it has them, otherwise all its pools
/// except critical care (a community hospital's or mental health unit's own beds).
pub fn headline(beds: &SiteBeds) -> Option<BedTotals> {
    sum_pools(beds, BedPool::is_general_and_acute)
        .or_else(|| sum_pools(beds, |p| p != BedPool::AdultCriticalCare))
}

/// Occupancy bands used to colour markers; always shown with the figure, never colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OccupancyBand {
    /// Below 85%.
    Low,
    /// 85% to below 92%: the planning level for medical beds.
    Moderate,
    /// 92% to below 97%.
    High,
    /// 97% and above: no room to admit.
    Critical,
}

impl OccupancyBand {
    pub fn of(occupancy: f64) -> OccupancyBand {
        match occupancy {
            o if o >= 0.97 => OccupancyBand::Critical,
            o if o >= 0.92 => OccupancyBand::High,
            o if o >= 0.85 => OccupancyBand::Moderate,
            _ => OccupancyBand::Low,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OccupancyBand::Low => "below 85%",
            OccupancyBand::Moderate => "85–92%",
            OccupancyBand::High => "92–97%",
            OccupancyBand::Critical => "97% and over",
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            OccupancyBand::Low => "band-low",
            OccupancyBand::Moderate => "band-moderate",
            OccupancyBand::High => "band-high",
            OccupancyBand::Critical => "band-critical",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(pool: BedPool, core: u32, esc: u32, occ: u32, at: &str) -> BedsRecord {
        BedsRecord {
            escalation_open: esc,
            ..BedsRecord::fixture("MPH", pool, core, occ, at)
        }
    }

    #[test]
    fn general_and_acute_headline_sums_adult_and_paediatric_but_not_critical_care() {
        let mut beds = SiteBeds::new();
        for r in [
            pool(
                BedPool::GeneralAcuteAdult,
                500,
                20,
                490,
                "2026-11-25T08:00:00Z",
            ),
            pool(
                BedPool::GeneralAcutePaediatric,
                30,
                0,
                20,
                "2026-11-25T07:00:00Z",
            ),
            pool(
                BedPool::AdultCriticalCare,
                20,
                0,
                20,
                "2026-11-25T08:00:00Z",
            ),
        ] {
            beds.insert(r.pool, r);
        }
        let t = headline(&beds).expect("has G&A beds");
        assert_eq!((t.open(), t.occupied, t.available()), (550, 510, 40));
        assert!((t.occupancy().expect("open beds") - 510.0 / 550.0).abs() < 1e-12);
        assert_eq!(
            t.at.map(|a| a.to_rfc3339()).as_deref(),
            Some("2026-11-25T07:00:00+00:00")
        );
    }

    #[test]
    fn a_community_hospital_headline_is_its_inpatient_beds() {
        let mut beds = SiteBeds::new();
        let r = pool(
            BedPool::CommunityInpatient,
            24,
            2,
            25,
            "2026-11-25T08:00:00Z",
        );
        beds.insert(r.pool, r);
        let t = headline(&beds).expect("has beds");
        assert_eq!((t.open(), t.available()), (26, 1));
        assert_eq!(t.escalation_share(), Some(2.0 / 26.0));
    }

    #[test]
    fn no_open_beds_has_no_occupancy() {
        assert_eq!(BedTotals::default().occupancy(), None);
    }

    #[test]
    fn occupancy_bands_have_inclusive_lower_bounds() {
        assert_eq!(OccupancyBand::of(0.8499), OccupancyBand::Low);
        assert_eq!(OccupancyBand::of(0.85), OccupancyBand::Moderate);
        assert_eq!(OccupancyBand::of(0.92), OccupancyBand::High);
        assert_eq!(OccupancyBand::of(0.97), OccupancyBand::Critical);
        assert_eq!(OccupancyBand::of(1.0), OccupancyBand::Critical);
    }

    #[test]
    fn pool_codes_round_trip() {
        for p in BedPool::ALL {
            assert_eq!(BedPool::parse(p.code()), Some(p));
        }
        assert_eq!(BedPool::parse("general_acute"), None);
    }
}

//! Reference data: the sites and areas of one health and care system (DESIGN §3).
//!
//! The server loads it from configured files and serves it at `GET /api/v1/reference`;
//! the browser draws its maps from it. Coordinates are WGS84 `[longitude, latitude]`.

use crate::community::Service;
use crate::feed::Feed;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of site this is; it decides which measures and tiles apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Acute,
    CommunityHospital,
    #[serde(alias = "mental_health_unit")]
    MentalHealth,
    Hospice,
    OutOfCountyAcute,
}

impl SiteKind {
    pub fn label(self) -> &'static str {
        match self {
            SiteKind::Acute => "Acute hospital",
            SiteKind::CommunityHospital => "Community hospital",
            SiteKind::MentalHealth => "Mental health unit",
            SiteKind::Hospice => "Hospice",
            SiteKind::OutOfCountyAcute => "Out-of-county acute",
        }
    }

    /// Acute hospitals, in or out of the county: the sites that get a tile of their own.
    pub fn is_acute(self) -> bool {
        matches!(self, SiteKind::Acute | SiteKind::OutOfCountyAcute)
    }
}

/// A site that sends feeds. Its `code` is the key every feed record uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub code: String,
    pub name: String,
    /// A label short enough for a map marker.
    pub short_name: String,
    pub kind: SiteKind,
    pub town: String,
    pub organisation: String,
    pub organisation_ods: Option<String>,
    pub site_ods: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// True where the position is only a town-level placeholder.
    pub approx: bool,
    /// The locality whose polygon contains the site, if any (out-of-county sites have none).
    pub locality: Option<String>,
    /// The feeds this site is expected to send, with the expected interval in minutes.
    pub feeds: BTreeMap<Feed, u32>,
}

/// A community team: sends the `community` feed from its base site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub code: String,
    pub name: String,
    pub service: Service,
    /// The locality it serves.
    pub locality: String,
    /// The site its records name as `site`.
    pub base_site: String,
    /// Expected interval of its `community` records, in minutes.
    pub interval_minutes: u32,
}

/// One `[longitude, latitude]` ring; the first ring of a polygon is its exterior.
pub type Ring = Vec<[f64; 2]>;

/// A named area drawn on the map: the system boundary, a locality or a neighbour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    /// Polygons, each a list of rings (exterior first, then holes).
    pub polygons: Vec<Vec<Ring>>,
}

/// Everything the dashboard needs to draw and label the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceData {
    /// The system's name, e.g. "Somerset".
    pub system: String,
    pub sites: Vec<Site>,
    /// The outer boundary of the system.
    pub boundary: Vec<Area>,
    /// The localities (Somerset: its five former districts).
    pub localities: Vec<Area>,
    /// Neighbouring areas, drawn faintly for context.
    pub context: Vec<Area>,
    pub teams: Vec<Team>,
    /// Caveats a viewer should know, e.g. that the teams are illustrative.
    pub notes: Vec<String>,
    /// Attribution statements the data's licences require, shown on the map.
    pub attribution: Vec<String>,
}

impl ReferenceData {
    pub fn site(&self, code: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.code == code)
    }

    pub fn team(&self, code: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.code == code)
    }

    pub fn locality(&self, code: &str) -> Option<&Area> {
        self.localities.iter().find(|a| a.code == code)
    }
}

//! Loads the reference data (sites, localities, map areas) named in the configuration.
//!
//! Boundaries are GeoJSON read with the `geojson` crate into `geo` polygons; each site is
//! placed in the locality that contains it with `geo`'s point-in-polygon test.

use crate::config::ReferenceConfig;
use geo::{Contains, MultiPolygon, Point, Polygon};
use levels_shared::community::Service;
use levels_shared::reference::{Area, ReferenceData, Ring, Site, SiteKind, Team};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The sites file: `data/somerset/sites.json`'s format.
#[derive(Deserialize)]
struct SitesFile {
    sites: Vec<SiteEntry>,
    #[serde(default)]
    attribution: Option<String>,
}

#[derive(Deserialize)]
struct SiteEntry {
    id: String,
    name: String,
    #[serde(default)]
    short_name: Option<String>,
    kind: SiteKind,
    #[serde(default)]
    town: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    organisation_ods: Option<String>,
    #[serde(default)]
    site_ods: Option<String>,
    lat: f64,
    lon: f64,
    #[serde(default)]
    approx: bool,
}

/// The teams file: `data/somerset/teams.json`'s format.
#[derive(Deserialize)]
struct TeamsFile {
    teams: Vec<TeamEntry>,
    #[serde(default)]
    illustrative: bool,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct TeamEntry {
    code: String,
    name: String,
    service: Service,
    locality: String,
    base_site: String,
}

/// Reads and checks every file the configuration names.
pub fn load(cfg: &ReferenceConfig) -> Result<ReferenceData, ReferenceError> {
    let boundary = read_areas(&cfg.boundary)?;
    let localities = read_areas(&cfg.localities)?;
    let context = match &cfg.context {
        Some(path) => read_areas(path)?,
        None => Vec::new(),
    };
    let sites_file: SitesFile =
        serde_json::from_str(&read(&cfg.sites)?).map_err(|e| ReferenceError::Invalid {
            path: cfg.sites.clone(),
            message: e.to_string(),
        })?;

    let mut seen = HashSet::new();
    let mut sites = Vec::with_capacity(sites_file.sites.len());
    for entry in sites_file.sites {
        if !seen.insert(entry.id.clone()) {
            return Err(ReferenceError::Invalid {
                path: cfg.sites.clone(),
                message: format!("site code {} appears twice", entry.id),
            });
        }
        let point = Point::new(entry.lon, entry.lat);
        let locality = localities
            .iter()
            .find(|(_, shape)| shape.contains(&point))
            .map(|(area, _)| area.code.clone());
        sites.push(Site {
            short_name: entry.short_name.unwrap_or_else(|| entry.id.clone()),
            code: entry.id,
            name: entry.name,
            kind: entry.kind,
            town: entry.town,
            organisation: entry.organisation,
            organisation_ods: entry.organisation_ods,
            site_ods: entry.site_ods,
            lon: entry.lon,
            lat: entry.lat,
            approx: entry.approx,
            locality,
            feeds: cfg
                .expected_feeds
                .get(&entry.kind)
                .cloned()
                .unwrap_or_default(),
        });
    }

    let mut teams = Vec::new();
    let mut notes = Vec::new();
    if let Some(path) = &cfg.teams {
        let invalid = |message: String| ReferenceError::Invalid {
            path: path.clone(),
            message,
        };
        let file: TeamsFile =
            serde_json::from_str(&read(path)?).map_err(|e| invalid(e.to_string()))?;
        if file.illustrative {
            notes.push(
                file.note
                    .unwrap_or_else(|| "The community teams are illustrative.".into()),
            );
        }
        let mut seen = HashSet::new();
        for t in file.teams {
            if !seen.insert(t.code.clone()) {
                return Err(invalid(format!("team code {} appears twice", t.code)));
            }
            if !sites.iter().any(|s| s.code == t.base_site) {
                return Err(invalid(format!(
                    "team {}: base_site {} is not a known site",
                    t.code, t.base_site
                )));
            }
            if !localities.iter().any(|(a, _)| a.code == t.locality) {
                return Err(invalid(format!(
                    "team {}: locality {} is not a known locality",
                    t.code, t.locality
                )));
            }
            teams.push(Team {
                code: t.code,
                name: t.name,
                service: t.service,
                locality: t.locality,
                base_site: t.base_site,
                interval_minutes: cfg.team_interval_minutes,
            });
        }
    }

    let mut attribution = cfg.attribution.clone();
    if let Some(a) = sites_file.attribution {
        if !attribution.contains(&a) {
            attribution.push(a);
        }
    }
    Ok(ReferenceData {
        system: cfg.system.clone(),
        sites,
        boundary: boundary.into_iter().map(|(a, _)| a).collect(),
        localities: localities.into_iter().map(|(a, _)| a).collect(),
        context: context.into_iter().map(|(a, _)| a).collect(),
        teams,
        notes,
        attribution,
    })
}

fn read(path: &Path) -> Result<String, ReferenceError> {
    std::fs::read_to_string(path).map_err(|source| ReferenceError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads a FeatureCollection whose features are (multi)polygons with `code` and `name`.
fn read_areas(path: &Path) -> Result<Vec<(Area, MultiPolygon)>, ReferenceError> {
    let invalid = |message: String| ReferenceError::Invalid {
        path: path.to_owned(),
        message,
    };
    let collection: geojson::FeatureCollection = read(path)?
        .parse()
        .map_err(|e: geojson::Error| invalid(e.to_string()))?;
    collection
        .features
        .into_iter()
        .enumerate()
        .map(|(i, feature)| {
            let prop = |key: &str| {
                feature
                    .property(key)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("feature {i} has no string property `{key}`")))
            };
            let (code, name) = (prop("code")?, prop("name")?);
            let geometry = feature
                .geometry
                .clone()
                .ok_or_else(|| invalid(format!("feature {i} ({code}) has no geometry")))?;
            let shape = match geo::Geometry::<f64>::try_from(geometry) {
                Ok(geo::Geometry::Polygon(p)) => MultiPolygon::new(vec![p]),
                Ok(geo::Geometry::MultiPolygon(m)) => m,
                Ok(_) => return Err(invalid(format!("feature {i} ({code}) is not a polygon"))),
                Err(e) => return Err(invalid(format!("feature {i} ({code}): {e}"))),
            };
            let polygons = shape.0.iter().map(rings).collect();
            Ok((
                Area {
                    code,
                    name,
                    polygons,
                },
                shape,
            ))
        })
        .collect()
}

fn rings(polygon: &Polygon) -> Vec<Ring> {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|ring| ring.coords().map(|c| [c.x, c.y]).collect())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;

    fn somerset_config() -> ReferenceConfig {
        let mut cfg = Config::default().reference;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for path in [&mut cfg.sites, &mut cfg.boundary, &mut cfg.localities] {
            *path = root.join(&*path);
        }
        cfg.context = cfg.context.map(|p| root.join(p));
        cfg.teams = cfg.teams.map(|p| root.join(p));
        cfg
    }

    /// The shipped Somerset reference data, for tests across the crate.
    pub(crate) fn somerset() -> ReferenceData {
        load(&somerset_config()).expect("the Somerset default loads")
    }

    #[test]
    fn somerset_has_its_sites_and_five_localities() {
        let r = somerset();
        assert_eq!(r.sites.len(), 22);
        assert_eq!(r.localities.len(), 5);
        assert_eq!(r.context.len(), 6);
        assert_eq!(r.site("MPH").map(|s| s.kind), Some(SiteKind::Acute));
        assert_eq!(r.site("MHTA").map(|s| s.kind), Some(SiteKind::MentalHealth));
    }

    #[test]
    fn sites_are_placed_in_the_locality_that_contains_them() {
        let r = somerset();
        let locality = |code: &str| r.site(code).and_then(|s| s.locality.clone());
        assert_eq!(locality("MPH").as_deref(), Some("E07000190")); // Taunton Deane
        assert_eq!(locality("YDH").as_deref(), Some("E07000189")); // South Somerset
        assert_eq!(locality("MINE").as_deref(), Some("E07000191")); // West Somerset
        assert_eq!(locality("FROM").as_deref(), Some("E07000187")); // Mendip
        assert_eq!(locality("RUH"), None); // Bath is outside Somerset
    }

    #[test]
    fn somerset_has_an_illustrative_community_nursing_rehab_and_p1_team_per_locality() {
        let r = somerset();
        assert_eq!(r.teams.len(), 15);
        for locality in &r.localities {
            let services: HashSet<Service> = r
                .teams
                .iter()
                .filter(|t| t.locality == locality.code)
                .map(|t| t.service)
                .collect();
            assert_eq!(services.len(), 3, "{}", locality.name);
        }
        assert_eq!(
            r.team("CN-MENDIP").map(|t| t.base_site.as_str()),
            Some("SHEP")
        );
        assert!(r.notes.iter().any(|n| n.contains("ILLUSTRATIVE")));
    }

    #[test]
    fn sites_expect_the_feeds_of_their_kind() {
        use levels_shared::feed::Feed;
        let r = somerset();
        let feeds = |code: &str| {
            r.site(code)
                .map(|s| s.feeds.keys().copied().collect::<Vec<_>>())
        };
        assert_eq!(
            feeds("MPH"),
            Some(vec![
                Feed::Beds,
                Feed::Handovers,
                Feed::DischargeDelays,
                Feed::Ed
            ])
        );
        assert_eq!(feeds("BWCH"), Some(vec![Feed::Beds, Feed::DischargeDelays]));
        assert_eq!(
            r.site("MPH").and_then(|s| s.feeds.get(&Feed::Beds)),
            Some(&15)
        );
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let mut cfg = somerset_config();
        cfg.sites = PathBuf::from("/nonexistent/sites.json");
        let err = load(&cfg).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent"), "{err}");
    }
}

//! Loads the reference data (sites, localities, map areas) named in the configuration.
//!
//! Boundaries are GeoJSON read with the `geojson` crate into `geo` polygons; each site is
//! placed in the locality that contains it with `geo`'s point-in-polygon test.

use crate::config::ReferenceConfig;
use geo::{Contains, MultiPolygon, Point, Polygon};
use levels_shared::reference::{Area, ReferenceData, Ring, Site, SiteKind};
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
        });
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
mod tests {
    use super::*;
    use crate::config::Config;

    fn somerset_config() -> ReferenceConfig {
        let mut cfg = Config::default().reference;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for path in [&mut cfg.sites, &mut cfg.boundary, &mut cfg.localities] {
            *path = root.join(&*path);
        }
        cfg.context = cfg.context.map(|p| root.join(p));
        cfg
    }

    fn somerset() -> ReferenceData {
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
    fn a_missing_file_is_named_in_the_error() {
        let mut cfg = somerset_config();
        cfg.sites = PathBuf::from("/nonexistent/sites.json");
        let err = load(&cfg).expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent"), "{err}");
    }
}

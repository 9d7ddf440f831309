//! A projection fitted to the system: longitude/latitude to SVG pixels.
//!
//! Over an area the size of a county, an equirectangular projection scaled by the cosine of
//! the central latitude is accurate to a fraction of a pixel; `geo` computes the bounds,
//! applies the fitting transform, and simplifies outlines to what a pixel can show.

use geo::{
    AffineOps, AffineTransform, BoundingRect, Coord, InteriorPoint, LineString, MapCoords,
    MultiPolygon, Point, Polygon, Rect, Simplify,
};
use levels_shared::reference::{Area, ReferenceData};
use std::fmt::Write;

/// Fits the system's boundary and all its sites into `width × height` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    cos_lat: f64,
    transform: AffineTransform,
    pub width: f64,
    pub height: f64,
}

impl Projection {
    pub fn fit(reference: &ReferenceData, width: f64, height: f64, margin: f64) -> Projection {
        let mut coords: Vec<Coord> = reference
            .boundary
            .iter()
            .flat_map(|a| a.polygons.iter().flatten().flatten())
            .map(|p| Coord { x: p[0], y: p[1] })
            .collect();
        coords.extend(reference.sites.iter().map(|s| Coord { x: s.lon, y: s.lat }));
        let bounds = LineString::new(coords)
            .bounding_rect()
            .unwrap_or_else(|| Rect::new(Coord { x: -1.0, y: -1.0 }, Coord { x: 1.0, y: 1.0 }));
        let cos_lat = ((bounds.min().y + bounds.max().y) / 2.0).to_radians().cos();
        // Planar coordinates: x east, y north, both in degrees of latitude.
        let (w, h) = (
            (bounds.width() * cos_lat).max(1e-9),
            bounds.height().max(1e-9),
        );
        let scale = ((width - 2.0 * margin) / w).min((height - 2.0 * margin) / h);
        let (ox, oy) = ((width - w * scale) / 2.0, (height - h * scale) / 2.0);
        // SVG's y grows downwards, so north is flipped.
        let transform = AffineTransform::new(
            scale,
            0.0,
            ox - bounds.min().x * cos_lat * scale,
            0.0,
            -scale,
            oy + bounds.max().y * scale,
        );
        Projection {
            cos_lat,
            transform,
            width,
            height,
        }
    }

    fn planar(&self, c: Coord) -> Coord {
        Coord {
            x: c.x * self.cos_lat,
            y: c.y,
        }
    }

    /// A point's position in pixels.
    pub fn point(&self, lon: f64, lat: f64) -> (f64, f64) {
        let p =
            Point::from(self.planar(Coord { x: lon, y: lat })).affine_transform(&self.transform);
        (p.x(), p.y())
    }

    /// An area as an SVG path, simplified so no detail smaller than `tolerance` pixels remains.
    pub fn path(&self, area: &Area, tolerance: f64) -> String {
        let projected = self.project(area).simplify(tolerance);
        let mut d = String::new();
        for polygon in &projected {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let _ = write!(d, "{}{:.1} {:.1}", if i == 0 { "M" } else { "L" }, c.x, c.y);
                }
                d.push('Z');
            }
        }
        d
    }

    /// A point inside the area (in pixels) where its name can be written.
    pub fn label_point(&self, area: &Area) -> Option<(f64, f64)> {
        let shape = self.project(area);
        let largest = shape.0.iter().max_by(|a, b| {
            let size = |p: &Polygon| p.bounding_rect().map_or(0.0, |r| r.width() * r.height());
            size(a).total_cmp(&size(b))
        })?;
        largest.interior_point().map(|p| (p.x(), p.y()))
    }

    fn project(&self, area: &Area) -> MultiPolygon {
        let shape = MultiPolygon::new(
            area.polygons
                .iter()
                .filter_map(|rings| {
                    let mut rings = rings.iter().map(|r| {
                        LineString::from(r.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>())
                    });
                    Some(Polygon::new(rings.next()?, rings.collect()))
                })
                .collect(),
        );
        shape
            .map_coords(|c| self.planar(c))
            .affine_transform(&self.transform)
    }
}

//! Geo2dsphere keys: S2 cell ids (the `s2` crate) for GeoJSON values and query regions.
//! Mirrors aerospike-server `as/src/geospatial/*` in purpose, not in code.
//!
//! A point is keyed by its leaf cell. A region (Polygon, MultiPolygon, AeroCircle) is keyed
//! by the cells of a covering: of its latitude/longitude bounding box for polygons (the exact
//! test in `aerie_exp::geo` is planar in longitude/latitude, so the box holds every point it
//! accepts) and of a slightly widened cap for circles. Coverings may include cells outside
//! the region, never miss a part of it; every candidate is then checked exactly
//! ([`matches`]), so queries have no false positives and no misses.
//!
//! * points within a region: the query region's covering, each cell as the range of leaf
//!   ids under it;
//! * regions containing a point: the point's ancestors at every covering level, each an
//!   exact key.
//!
//! Cell ids are u64; keys hold them reinterpreted as i64. A cell's leaf range never crosses
//! the sign boundary (it lies at the start of face 4), so each range stays one i64 interval.

use aerie_exp::geo::{Shape, EARTH_RADIUS_M};
use s2::cap::Cap;
use s2::cellid::CellID;
use s2::latlng::LatLng;
use s2::point::Point;
use s2::rect::Rect;
use s2::region::RegionCoverer;
use s2::s1::{Angle, Rad};

/// Coarsest and finest covering levels (the reference server's defaults for
/// `geo2dsphere-within`), and most cells per covering.
const MIN_LEVEL: u8 = 1;
const MAX_LEVEL: u8 = 20;
const MAX_CELLS: usize = 12;

/// Widening of circle caps, so rounding differences between the cap and the exact haversine
/// test never lose a point at the rim.
const CAP_MARGIN_M: f64 = 1.0;

/// What a geo query looks up.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoQuery {
    /// The query's GeoJSON text, for the exact check.
    pub text: Vec<u8>,
    /// Key ranges (inclusive), sorted and disjoint.
    pub ranges: Vec<(i64, i64)>,
}

/// The JSON text of a GeoJSON particle (`u8 flags · u16 cell count · cells · text`), or the
/// text itself when it has no particle header (some clients send bare text in query ranges).
pub fn particle_text(p: &[u8]) -> Option<&[u8]> {
    let first = *p.first()?;
    if first == b'{' || first.is_ascii_whitespace() {
        return Some(p);
    }
    let (hdr, rest) = p.split_first_chunk::<3>()?;
    let ncells = usize::from(u16::from_be_bytes([hdr[1], hdr[2]]));
    rest.get(ncells.checked_mul(8)?..)
}

fn key(c: CellID) -> i64 {
    i64::from_ne_bytes(c.0.to_ne_bytes())
}

fn leaf(p: (f64, f64)) -> Option<CellID> {
    let (lng, lat) = p;
    if !(lng.is_finite() && lat.is_finite()) || lat.abs() > 90.0 || lng.abs() > 180.0 {
        return None;
    }
    Some(CellID::from(LatLng::from_degrees(lat, lng)))
}

fn coverer() -> RegionCoverer {
    RegionCoverer {
        min_level: MIN_LEVEL,
        max_level: MAX_LEVEL,
        level_mod: 1,
        max_cells: MAX_CELLS,
    }
}

/// The covering cells of a region shape; `None` for a point or a degenerate shape.
fn region_cells(shape: &Shape) -> Option<Vec<CellID>> {
    let cells = match shape {
        Shape::Point(_) => return None,
        Shape::Circle((lng, lat), radius_m) => {
            leaf((*lng, *lat))?;
            if !radius_m.is_finite() || *radius_m < 0.0 {
                return None;
            }
            let center = Point::from(LatLng::from_degrees(*lat, *lng));
            let angle = Angle::from(Rad(
                ((radius_m + CAP_MARGIN_M) / EARTH_RADIUS_M).min(std::f64::consts::PI)
            ));
            coverer()
                .covering(&Cap::from_center_angle(&center, &angle))
                .0
        }
        Shape::Polygons(polys) => {
            let mut pts = polys.iter().flatten().flatten();
            let &(lng0, lat0) = pts.next()?;
            let (mut lo, mut hi) = ((lng0, lat0), (lng0, lat0));
            for &(lng, lat) in pts {
                lo = (lo.0.min(lng), lo.1.min(lat));
                hi = (hi.0.max(lng), hi.1.max(lat));
            }
            leaf(lo)?;
            leaf(hi)?;
            let rect = Rect::from_degrees(lo.1, lo.0, hi.1, hi.0);
            coverer().covering(&rect).0
        }
    };
    Some(cells)
}

/// The index keys of a GeoJSON value (text): a point's leaf cell or a region's covering.
pub fn value_keys(text: &[u8], out: &mut Vec<i64>) {
    let Some(shape) = Shape::parse(text) else {
        return;
    };
    match &shape {
        Shape::Point(p) => {
            if let Some(c) = leaf(*p) {
                out.push(key(c));
            }
        }
        _ => {
            if let Some(cells) = region_cells(&shape) {
                out.extend(cells.into_iter().map(key));
            }
        }
    }
}

/// Plans a query: a region asks for points within it, a point for regions containing it.
/// `None` when the text is not usable GeoJSON.
pub fn plan(text: &[u8]) -> Option<GeoQuery> {
    let shape = Shape::parse(text)?;
    let mut ranges: Vec<(i64, i64)> = match &shape {
        Shape::Point(p) => {
            let l = leaf(*p)?;
            (MIN_LEVEL..=MAX_LEVEL)
                .map(|lv| {
                    let k = key(l.parent(u64::from(lv)));
                    (k, k)
                })
                .collect()
        }
        _ => region_cells(&shape)?
            .into_iter()
            .map(|c| (key(c.range_min()), key(c.range_max())))
            .collect(),
    };
    ranges.sort_unstable();
    // Merge overlaps (a covering is normalized, but stay safe for the cursor logic).
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1.saturating_add(1) => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    Some(GeoQuery {
        text: text.to_vec(),
        ranges: merged,
    })
}

/// The exact check: `value` (a record's GeoJSON text) answers query `q` — a point inside the
/// query region, or a region holding the query point.
pub fn matches(value: &[u8], q: &GeoQuery) -> bool {
    aerie_exp::geo::matches(value, &q.text) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<i64> {
        let mut v = Vec::new();
        value_keys(text.as_bytes(), &mut v);
        v
    }

    fn must(q: Option<GeoQuery>) -> GeoQuery {
        q.unwrap_or_else(|| panic!("no query plan"))
    }

    fn hits(q: &GeoQuery, k: i64) -> bool {
        q.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&k))
    }

    #[test]
    fn points_within_polygon_and_circle_are_found() {
        let poly = r#"{"type":"Polygon","coordinates":[[[-122.5,37.0],[-121.0,37.0],[-121.0,38.0],[-122.5,38.0],[-122.5,37.0]]]}"#;
        let q = must(plan(poly.as_bytes()));
        let inside = keys(r#"{"type":"Point","coordinates":[-122.0,37.5]}"#);
        let outside = keys(r#"{"type":"Point","coordinates":[-73.9,40.7]}"#);
        assert_eq!(inside.len(), 1);
        assert!(inside.iter().all(|&k| hits(&q, k)));
        assert!(!outside.iter().any(|&k| hits(&q, k)));
        let circle = r#"{"type":"AeroCircle","coordinates":[[-122.0,37.5],50000]}"#;
        let q = must(plan(circle.as_bytes()));
        assert!(inside.iter().all(|&k| hits(&q, k)));
        assert!(!outside.iter().any(|&k| hits(&q, k)));
    }

    #[test]
    fn regions_containing_a_point_are_found() {
        let region = keys(
            r#"{"type":"Polygon","coordinates":[[[-122.5,37.0],[-121.0,37.0],[-121.0,38.0],[-122.5,38.0],[-122.5,37.0]]]}"#,
        );
        assert!(!region.is_empty());
        let q = must(plan(br#"{"type":"Point","coordinates":[-122.0,37.5]}"#));
        assert!(region.iter().any(|&k| hits(&q, k)));
        let far = must(plan(br#"{"type":"Point","coordinates":[10.0,-40.0]}"#));
        assert!(!region.iter().any(|&k| hits(&far, k)));
    }

    #[test]
    fn particle_header_is_stripped() {
        assert_eq!(particle_text(b"\0\0\0{}"), Some(&b"{}"[..]));
        assert_eq!(particle_text(b" {}"), Some(&b" {}"[..]));
        assert_eq!(particle_text(b"\0\0\x01{}"), None);
        assert!(plan(b"not json").is_none());
    }
}

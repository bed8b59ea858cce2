//! WGS84 latitude/longitude ↔ Lambert-93 (EPSG:2154) x/y, the projected system French city
//! services work in. The position in WGS84 is the truth; Lambert-93 is derived from it.
//!
//! The projection is done by `proj4rs` (a pure-Rust transcription of PROJ, maintained by 3Liz)
//! with the EPSG:2154 definition. RGF93 and WGS84 are treated as identical, as IGN and PROJ do
//! for EPSG:2154 (they differ by a few centimetres at most, far below GPS accuracy). Measured
//! against the 760 La Rochelle points published with both coordinates by the city and the IGN /
//! PROJ reference pairs: see `protocol/tests/geo_lambert93.rs`.
//!
//! ```
//! use balade_protocol::geo::lambert93::{from_lambert93, to_lambert93};
//! use balade_protocol::incident::Position;
//! // A disabled parking space, Avenue du cimetière (published by the city in both systems).
//! let space = Position::new(46.163_570_507_532_1, -1.126_839_542_289_8, None).unwrap();
//! let xy = to_lambert93(&space);
//! assert!((xy.x - 381_706.008_853).abs() < 0.01 && (xy.y - 6_570_957.915_528).abs() < 0.01);
//! let back = from_lambert93(xy).unwrap();
//! assert!((back.lat - space.lat).abs() < 1e-9 && (back.lon - space.lon).abs() < 1e-9);
//! ```

use std::sync::LazyLock;

use proj4rs::proj::Proj;

use crate::incident::{Lambert93, Position};

/// EPSG:2154 as a PROJ string (RGF93 on GRS80, zero shift to WGS84).
pub const EPSG_2154: &str = "+proj=lcc +lat_1=49 +lat_2=44 +lat_0=46.5 +lon_0=3 +x_0=700000 \
     +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";

/// Geographic coordinates on the same datum (RGF93 ≡ WGS84 for this purpose), so no
/// geocentric datum shift is applied between the two ends.
const GEOGRAPHIC: &str = "+proj=longlat +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +no_defs";

/// Area of use of EPSG:2154 (metropolitan France including Corsica and coastal waters), in
/// WGS84 degrees, as published by EPSG: south, north, west, east.
pub const AREA_OF_USE: AreaOfUse = AreaOfUse {
    south: 41.15,
    north: 51.56,
    west: -9.86,
    east: 10.38,
};

/// A latitude/longitude box in WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaOfUse {
    pub south: f64,
    pub north: f64,
    pub west: f64,
    pub east: f64,
}

impl AreaOfUse {
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.south..=self.north).contains(&lat) && (self.west..=self.east).contains(&lon)
    }
}

/// Why Lambert-93 coordinates cannot be turned back into a position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Lambert93Error {
    #[error("Lambert-93 coordinates x={x} y={y} are not finite numbers")]
    NotFinite { x: f64, y: f64 },
    #[error(
        "Lambert-93 coordinates x={x} y={y} fall outside metropolitan France \
         (latitude {lat:.4}, longitude {lon:.4})"
    )]
    OutsideFrance { x: f64, y: f64, lat: f64, lon: f64 },
    #[error("Lambert-93 projection failed: {0}")]
    Projection(String),
}

struct Projections {
    geographic: Proj,
    lambert93: Proj,
}

static PROJECTIONS: LazyLock<Projections> = LazyLock::new(|| Projections {
    geographic: Proj::from_proj_string(GEOGRAPHIC).expect("the geographic PROJ string is valid"),
    lambert93: Proj::from_proj_string(EPSG_2154).expect("the EPSG:2154 PROJ string is valid"),
});

/// Projects a WGS84 position to Lambert-93.
///
/// Any valid [`Position`] projects (the conic formula is defined everywhere but at the south
/// pole, which gives non-finite numbers); only positions inside [`AREA_OF_USE`] are meaningful.
/// Use [`is_in_metropolitan_france`] to flag others.
pub fn to_lambert93(position: &Position) -> Lambert93 {
    let projections = &*PROJECTIONS;
    let mut point = (position.lon.to_radians(), position.lat.to_radians(), 0.0);
    match proj4rs::transform::transform(&projections.geographic, &projections.lambert93, &mut point)
    {
        Ok(()) => Lambert93 {
            x: point.0,
            y: point.1,
        },
        Err(_) => Lambert93 {
            x: f64::NAN,
            y: f64::NAN,
        },
    }
}

/// Turns Lambert-93 coordinates back into a WGS84 position (without accuracy), refusing
/// coordinates that land outside metropolitan France ([`AREA_OF_USE`]).
pub fn from_lambert93(xy: Lambert93) -> Result<Position, Lambert93Error> {
    let Lambert93 { x, y } = xy;
    if !x.is_finite() || !y.is_finite() {
        return Err(Lambert93Error::NotFinite { x, y });
    }
    let projections = &*PROJECTIONS;
    let mut point = (x, y, 0.0);
    proj4rs::transform::transform(&projections.lambert93, &projections.geographic, &mut point)
        .map_err(|e| Lambert93Error::Projection(e.to_string()))?;
    let (lon, lat) = (point.0.to_degrees(), point.1.to_degrees());
    if !lat.is_finite() || !lon.is_finite() || !AREA_OF_USE.contains(lat, lon) {
        return Err(Lambert93Error::OutsideFrance { x, y, lat, lon });
    }
    Ok(Position {
        lat,
        lon,
        accuracy_m: None,
    })
}

/// True when the position lies in the area where Lambert-93 applies.
pub fn is_in_metropolitan_france(position: &Position) -> bool {
    AREA_OF_USE.contains(position.lat, position.lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_outside_france_are_refused() {
        for (x, y, ok) in [
            (380_900.0, 6_570_600.0, true),
            (700_000.0, 6_600_000.0, true),
            (700_000.0, 0.0, false),
            (-3_000_000.0, 6_600_000.0, false),
            (f64::NAN, 6_600_000.0, false),
            (700_000.0, f64::INFINITY, false),
            (700_000.0, 12_655_612.0, false),
        ] {
            assert_eq!(from_lambert93(Lambert93 { x, y }).is_ok(), ok, "{x} {y}");
        }
    }

    #[test]
    fn the_south_pole_projects_to_non_finite_numbers_not_a_panic() {
        let pole = to_lambert93(&Position::new(-90.0, 0.0, None).unwrap());
        assert!(!pole.x.is_finite() || !pole.y.is_finite(), "{pole:?}");
        assert!(from_lambert93(pole).is_err());
        let sydney = Position::new(-33.87, 151.21, None).unwrap();
        assert!(!is_in_metropolitan_france(&sydney));
        assert!(from_lambert93(to_lambert93(&sydney)).is_err());
    }

    #[test]
    fn the_projection_origin_maps_to_the_false_origin() {
        let origin = to_lambert93(&Position::new(46.5, 3.0, None).unwrap());
        assert!((origin.x - 700_000.0).abs() < 1e-6 && (origin.y - 6_600_000.0).abs() < 1e-6);
    }
}

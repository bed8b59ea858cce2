//! Geographic computations shared by the app and the server (no I/O): Lambert-93 projection,
//! the offline street index, the street-furniture index, and the distance between positions
//! used to spot duplicates.

pub mod furniture;
pub mod lambert93;
pub mod streets;
mod table;

use crate::incident::Position;

/// One bad row of an imported file: skipped, reported to the user, the rest still loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file (the header is line 1 when nothing comes before it).
    pub line: u64,
    /// What is wrong, in French (shown to the operator who imports the file).
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ligne {} : {}", self.line, self.message)
    }
}

/// A position as a point on the unit sphere: straight-line (chord) distance between two such
/// points grows with the great-circle distance, so an R-tree over them answers "nearest
/// first" exactly, anywhere on Earth, with no projection to choose.
pub(crate) fn unit_vector(position: &Position) -> [f64; 3] {
    let (lat, lon) = (position.lat.to_radians(), position.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// The chord length on the unit sphere for a ground distance, for R-tree radius queries.
pub(crate) fn chord_for_distance(distance_m: f64) -> f64 {
    2.0 * (distance_m / (2.0 * EARTH_RADIUS_M))
        .min(std::f64::consts::FRAC_PI_2)
        .sin()
}

/// Reads a latitude and a longitude field; both must parse and be in range.
pub(crate) fn parse_position(lat: &str, lon: &str) -> Result<Position, String> {
    let parse = |what: &str, text: &str| {
        text.trim()
            .parse::<f64>()
            .map_err(|_| format!("{what} « {text} » n'est pas un nombre"))
    };
    Position::new(parse("latitude", lat)?, parse("longitude", lon)?, None)
        .map_err(|e| format!("position invalide : {e}"))
}

/// Mean Earth radius (IUGG), in metres, used by [`distance_m`].
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle (haversine) distance between two positions, in metres.
///
/// On a sphere of mean radius: within 0.5 % of the ellipsoidal distance, i.e. 25 cm at 50 m,
/// which is plenty for "another report within 50 m".
///
/// ```
/// use balade_protocol::geo::distance_m;
/// use balade_protocol::incident::Position;
/// let a = Position::new(46.1591, -1.1520, None).unwrap();
/// let b = Position::new(46.1600, -1.1520, None).unwrap();
/// assert!((distance_m(&a, &b) - 100.08).abs() < 0.1);
/// ```
pub fn distance_m(a: &Position, b: &Position) -> f64 {
    let (lat_a, lat_b) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat_b - lat_a;
    let d_lon = (b.lon - a.lon).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat_a.cos() * lat_b.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Position {
        Position::new(lat, lon, None).unwrap()
    }

    #[test]
    fn distances_match_known_values() {
        // One degree of latitude on the mean sphere, a point to itself, Paris–La Rochelle.
        for (a, b, expected_m, tolerance_m) in [
            (at(46.0, -1.0), at(47.0, -1.0), 111_195.08, 0.01),
            (at(46.1591, -1.152), at(46.1591, -1.152), 0.0, 0.0),
            (
                at(48.8566, 2.3522),
                at(46.1603, -1.1511),
                399_000.0,
                2_000.0,
            ),
        ] {
            let d = distance_m(&a, &b);
            assert!((d - expected_m).abs() <= tolerance_m, "{d} vs {expected_m}");
            assert_eq!(d, distance_m(&b, &a));
        }
    }
}

//! Server-side geography glue: the Lambert-93 (EPSG:2154) x/y stored beside each WGS84 position.
//!
//! Why it exists: one place where the store asks for derived coordinates, so the projection
//! (in `balade_protocol::geo::lambert93`) is wired in exactly once.

use balade_protocol::geo::lambert93::to_lambert93;
use balade_protocol::incident::Position;

/// Lambert-93 (x, y) in metres for a position, or `None` when it does not project to finite
/// numbers.
pub fn lambert93_of(position: &Position) -> Option<(f64, f64)> {
    let xy = to_lambert93(position);
    (xy.x.is_finite() && xy.y.is_finite()).then_some((xy.x, xy.y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn la_rochelle_projects_near_its_known_lambert93_coordinates() {
        // Hôtel de ville de La Rochelle ≈ (380 000, 6 570 000) in Lambert-93.
        let (x, y) = lambert93_of(&Position::new(46.1591, -1.1520, None).unwrap()).unwrap();
        assert!((370_000.0..390_000.0).contains(&x), "{x}");
        assert!((6_560_000.0..6_580_000.0).contains(&y), "{y}");
    }
}

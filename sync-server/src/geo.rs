//! Server-side geography glue: the Lambert-93 (EPSG:2154) x/y stored beside each WGS84 position.
//!
//! Why it exists: one place where the store asks for derived coordinates, so the projection
//! (in `balade_protocol::geo::lambert93`) is wired in exactly once.

use balade_protocol::incident::Position;

/// Lambert-93 (x, y) in metres for a position, or `None` when it cannot be computed.
pub fn lambert93_of(position: &Position) -> Option<(f64, f64)> {
    // TODO(sync-core): wire balade_protocol::geo::lambert93 once it is committed.
    let _ = position;
    None
}

//! What the capture screen says about a position, offline: the nearest street of the city's
//! referential (the editable address), the street furniture close by (to attach "Banc n° 123"
//! as the incident's asset), the Lambert-93 coordinates and whether the accuracy is poor.
//!
//! The shipped La Rochelle indexes (`balade_protocol::geo::streets` and `geo::furniture`,
//! compiled into the binary) are parsed once, on first use or by [`warm_up`] on a background
//! thread after the first render, so the cold start does not pay for them.

use std::sync::OnceLock;

use balade_protocol::geo::furniture::{self, FurnitureIndex};
use balade_protocol::geo::lambert93;
use balade_protocol::geo::streets::{self, StreetIndex};
use balade_protocol::incident::{Address, AssetRef, Lambert93, Position};

/// Farthest street-name point still given as the address: beyond it the position is probably
/// outside the city, and a wrong street is worse than none.
pub const MAX_STREET_DISTANCE_M: f64 = 300.0;
/// Radius of the nearby furniture suggestion.
pub const NEARBY_ASSET_RADIUS_M: f64 = 30.0;
/// Most suggestions shown.
pub const MAX_NEARBY_ASSETS: usize = 5;

static STREETS: OnceLock<StreetIndex> = OnceLock::new();
static FURNITURE: OnceLock<FurnitureIndex> = OnceLock::new();

fn street_index() -> &'static StreetIndex {
    STREETS.get_or_init(streets::la_rochelle)
}

fn furniture_index() -> &'static FurnitureIndex {
    FURNITURE.get_or_init(furniture::la_rochelle)
}

/// How far from a street's name plate a report placed "on the street" may be: the position
/// is only the plate's, so it is shown as poor (the agent checks it).
pub const STREET_PLATE_ACCURACY_M: f64 = 100.0;

/// A street of the city's referential that matches typed text, with the position of its first
/// name plate: a way to place a report when there is no fix and no geotagged photo.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetSuggestion {
    pub label: String,
    pub position: Position,
}

/// Streets with a known position whose name matches `query` (accents and case ignored), best
/// first.
pub fn street_suggestions(query: &str, limit: usize) -> Vec<StreetSuggestion> {
    street_index()
        .search(query, limit * 2)
        .into_iter()
        .filter_map(|m| {
            let plate = m.street.points.first()?;
            let position =
                Position::new(plate.lat, plate.lon, Some(STREET_PLATE_ACCURACY_M)).ok()?;
            Some(StreetSuggestion {
                label: m.street.label(),
                position,
            })
        })
        .take(limit)
        .collect()
}

/// Loads both indexes on a background thread (idempotent).
pub fn warm_up() {
    std::thread::Builder::new()
        .name("balade-geo-warm-up".into())
        .spawn(|| {
            street_index();
            furniture_index();
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!("geo warm-up thread: {e}"));
}

/// A piece of furniture near the position, nearest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NearbyAsset {
    pub asset: AssetRef,
    pub distance_m: f64,
}

/// Everything found offline about one position.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The nearest street within [`MAX_STREET_DISTANCE_M`], `distance_m` filled in.
    pub address: Option<Address>,
    pub nearby: Vec<NearbyAsset>,
    /// `None` outside metropolitan France (the projection means nothing there).
    pub lambert93: Option<Lambert93>,
    /// Accuracy unknown or worse than the protocol's threshold.
    pub poor_accuracy: bool,
}

/// Looks the position up in the shipped indexes.
pub fn describe(position: &Position) -> Place {
    let nearby = furniture_index()
        .within(position, NEARBY_ASSET_RADIUS_M)
        .into_iter()
        .take(MAX_NEARBY_ASSETS)
        .map(|hit| NearbyAsset {
            asset: hit.asset.to_asset_ref(),
            distance_m: hit.distance_m,
        })
        .collect();
    Place {
        address: street_index().nearest_within(position, MAX_STREET_DISTANCE_M),
        nearby,
        lambert93: lambert93(position),
        poor_accuracy: position.is_poor(),
    }
}

/// Lambert-93 x/y of a position in metropolitan France.
pub fn lambert93(position: &Position) -> Option<Lambert93> {
    lambert93::is_in_metropolitan_france(position)
        .then(|| lambert93::to_lambert93(position))
        .filter(|xy| xy.x.is_finite() && xy.y.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_in_la_rochelle_gets_a_street_lambert_and_nearby_furniture() {
        // The first bench of the shipped file: there is furniture there by construction.
        let bench = furniture_index()
            .assets()
            .iter()
            .find(|a| a.kind == "banc")
            .unwrap()
            .clone();
        let place = describe(&bench.position);
        let address = place.address.expect("a street near a city bench");
        assert!(
            address.label.contains("La Rochelle") || address.street.is_some(),
            "{address:?}"
        );
        assert!(address.distance_m.unwrap() <= MAX_STREET_DISTANCE_M);
        assert_eq!(place.nearby[0].asset, bench.to_asset_ref());
        assert!(
            place.nearby[0].asset.label.starts_with("Banc"),
            "{:?}",
            place.nearby[0]
        );
        let xy = place.lambert93.unwrap();
        // La Rochelle is around x 380 km, y 6 570 km in Lambert-93.
        assert!(
            (370_000.0..390_000.0).contains(&xy.x) && (6_560_000.0..6_580_000.0).contains(&xy.y),
            "{xy:?}"
        );
        assert!(place.poor_accuracy, "no accuracy given counts as poor");
    }

    #[test]
    fn a_position_far_from_the_city_gets_no_city_address() {
        let paris = Position::new(48.8566, 2.3522, Some(5.0)).unwrap();
        let place = describe(&paris);
        assert_eq!(place.address, None);
        assert!(place.nearby.is_empty());
        assert!(place.lambert93.is_some());
        assert!(!place.poor_accuracy);
        let sydney = Position::new(-33.86, 151.2, Some(5.0)).unwrap();
        assert_eq!(describe(&sydney).lambert93, None);
    }
}

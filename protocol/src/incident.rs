//! The incident as it travels from the device to the server, and the walk it belongs to.
//!
//! The device owns the fields here until the server acknowledges them (DESIGN.md, field
//! ownership); operator corrections travel back as [`crate::status::StatusEvent`]s instead.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A WGS84 position: the truth. Lambert-93 is derived from it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy in metres, when the source knows it (GPS fix, EXIF, typed = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

/// Accuracy above which the app warns the user that the position is approximate.
pub const POOR_ACCURACY_M: f64 = 30.0;

/// Why a position is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PositionError {
    #[error("latitude {0} is outside -90..90")]
    Latitude(f64),
    #[error("longitude {0} is outside -180..180")]
    Longitude(f64),
    #[error("accuracy {0} must be a positive number of metres")]
    Accuracy(f64),
}

impl Position {
    /// Builds a checked position.
    pub fn new(lat: f64, lon: f64, accuracy_m: Option<f64>) -> Result<Self, PositionError> {
        let position = Position {
            lat,
            lon,
            accuracy_m,
        };
        position.validate()?;
        Ok(position)
    }

    /// Checks ranges (also used on positions that came from the wire).
    pub fn validate(&self) -> Result<(), PositionError> {
        if !self.lat.is_finite() || !(-90.0..=90.0).contains(&self.lat) {
            return Err(PositionError::Latitude(self.lat));
        }
        if !self.lon.is_finite() || !(-180.0..=180.0).contains(&self.lon) {
            return Err(PositionError::Longitude(self.lon));
        }
        if let Some(accuracy) = self.accuracy_m
            && (!accuracy.is_finite() || accuracy < 0.0)
        {
            return Err(PositionError::Accuracy(accuracy));
        }
        Ok(())
    }

    /// True when the accuracy is unknown or worse than [`POOR_ACCURACY_M`]; the UI flags it.
    pub fn is_poor(&self) -> bool {
        self.accuracy_m.is_none_or(|a| a > POOR_ACCURACY_M)
    }
}

/// Lambert-93 (EPSG:2154) projected coordinates in metres, derived from a [`Position`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lambert93 {
    pub x: f64,
    pub y: f64,
}

/// A postal address, normally the nearest street of the city's referential.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Address {
    /// Full one-line label, e.g. "Rue HOCHE, 17000 La Rochelle".
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// FANTOIR/RIVOLI code of the street when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fantoir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Distance from the position to the street, in metres, when found automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// True when the user typed or corrected it.
    #[serde(default)]
    pub edited: bool,
}

/// A piece of street furniture the incident is about ("Banc n° 123").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetRef {
    /// Layer, e.g. "banc", "corbeille", "abribus", "poteau_incendie", "avaloir".
    pub kind: String,
    pub id: String,
    pub label: String,
}

/// A photo attached to an incident, content-addressed by its SHA-256.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Lower-case hex SHA-256 of the exact bytes that are uploaded.
    pub sha256: String,
    pub size: u64,
    pub mime: String,
}

impl PhotoRef {
    /// True when `sha256` is 64 lower-case hex characters (safe as a file name and an id).
    pub fn has_valid_hash(&self) -> bool {
        is_sha256_hex(&self.sha256)
    }
}

/// True when `s` is exactly 64 lower-case hexadecimal characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One report, as captured on the device.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// UUIDv7 made on the device at capture; never changes.
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk_id: Option<Uuid>,
    #[serde(default)]
    pub comment: String,
    /// The device's clock at capture: information, never ordering.
    pub observed_at: DateTime<Utc>,
    pub category: String,
    pub subcategory: String,
    /// Answers to the category's extra fields, by field code.
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub photos: Vec<PhotoRef>,
    pub position: Position,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambert93: Option<Lambert93>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetRef>,
}

/// Longest accepted comment, in characters (Open311's description limit).
pub const MAX_COMMENT_CHARS: usize = 4000;
/// Most photos one incident can carry.
pub const MAX_PHOTOS: usize = 10;

impl Incident {
    /// SHA-256 of the canonical JSON form. Two pushes with the same id are "the same body"
    /// exactly when their hashes are equal; the server stores it to answer retries.
    pub fn content_hash(&self) -> String {
        // serde_json writes struct fields in declaration order and BTreeMap keys sorted, and
        // floats through ryu, so the encoding is canonical for a given value.
        let bytes = serde_json::to_vec(self).expect("an Incident always serialises");
        sha256_hex(&bytes)
    }
}

/// A walk (*balade urbaine*): a group of officials covering a neighbourhood.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Walk {
    pub id: Uuid,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbourhood: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub participants: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Incident {
        Incident {
            id: Uuid::now_v7(),
            walk_id: None,
            comment: "Banc cassé".into(),
            observed_at: "2026-05-01T10:00:00Z".parse().unwrap(),
            category: "mobilier_urbain".into(),
            subcategory: "banc".into(),
            extra: BTreeMap::new(),
            photos: vec![],
            position: Position::new(46.16, -1.15, Some(5.0)).unwrap(),
            lambert93: None,
            address: None,
            asset: None,
        }
    }

    #[test]
    fn content_hash_is_stable_and_sensitive_to_the_body() {
        let a = sample();
        let b = serde_json::from_str::<Incident>(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        let mut c = a.clone();
        c.comment.push('!');
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn positions_are_checked() {
        for (lat, lon, acc, ok) in [
            (46.0, -1.0, None, true),
            (91.0, 0.0, None, false),
            (0.0, 181.0, None, false),
            (f64::NAN, 0.0, None, false),
            (0.0, 0.0, Some(-1.0), false),
        ] {
            assert_eq!(
                Position::new(lat, lon, acc).is_ok(),
                ok,
                "{lat} {lon} {acc:?}"
            );
        }
        assert!(Position::new(0.0, 0.0, None).unwrap().is_poor());
        assert!(!Position::new(0.0, 0.0, Some(4.0)).unwrap().is_poor());
    }

    #[test]
    fn hashes_are_validated() {
        assert!(is_sha256_hex(&sha256_hex(b"x")));
        assert!(!is_sha256_hex("../../etc/passwd"));
        assert!(!is_sha256_hex(&"A".repeat(64)));
    }
}

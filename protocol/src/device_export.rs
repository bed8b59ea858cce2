//! The device export file: the offline road from a device to the server for a device that will
//! never reach the network (Réglages « Exporter », `balade export FILE`), imported by the
//! server (`balade-sync import-device-export FILE`, console « Importer un export »).
//!
//! A zip archive, entries stored (photos are JPEGs already; the zip stays readable anywhere):
//! - `manifest.json` — [`ExportManifest`] (format, version, device, counts);
//! - `push.json` — a [`crate::envelope::PushRequest`], the very envelope a sync would send
//!   (walks and incidents), so the server imports it through the same path as a push;
//! - `photos/<sha256>` — each photo the incidents refer to, named by the SHA-256 of its bytes.
//!
//! Defined here because both sides must agree on it exactly, like the wire types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::incident::PhotoRef;

/// `format` of every manifest.
pub const EXPORT_FORMAT: &str = "balade-device-export";
/// Version of the export layout (not of the wire protocol, which `push.json` carries).
pub const EXPORT_VERSION: u32 = 1;
/// Entry names inside the archive.
pub const MANIFEST_ENTRY: &str = "manifest.json";
pub const PUSH_ENTRY: &str = "push.json";
pub const PHOTOS_PREFIX: &str = "photos/";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub format: String,
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    /// The device's id when it was enrolled (the server then files the requests under it, and
    /// the device's own later sync finds them already stored); `None` for a device never
    /// enrolled.
    pub device_id: Option<Uuid>,
    pub app_version: String,
    pub incidents: usize,
    pub walks: usize,
    pub photos: usize,
}

impl ExportManifest {
    pub fn new(device_id: Option<Uuid>, incidents: usize, walks: usize, photos: usize) -> Self {
        ExportManifest {
            format: EXPORT_FORMAT.to_string(),
            version: EXPORT_VERSION,
            exported_at: Utc::now(),
            device_id,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            incidents,
            walks,
            photos,
        }
    }
}

/// The archive entry of a photo.
pub fn photo_entry(photo: &PhotoRef) -> String {
    format!("{PHOTOS_PREFIX}{}", photo.sha256)
}

/// The SHA-256 an entry name claims, when it is a well-formed photo entry.
pub fn photo_sha_of_entry(name: &str) -> Option<&str> {
    let sha = name.strip_prefix(PHOTOS_PREFIX)?;
    let well_formed =
        sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then_some(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_entries_round_trip_and_strange_names_are_not_photos() {
        let sha = "ab".repeat(32);
        let photo = PhotoRef {
            sha256: sha.clone(),
            size: 3,
            mime: "image/jpeg".into(),
        };
        assert_eq!(photo_sha_of_entry(&photo_entry(&photo)), Some(sha.as_str()));
        assert_eq!(photo_sha_of_entry("photos/../../etc/passwd"), None);
        assert_eq!(
            photo_sha_of_entry(&format!("photos/{}", "AB".repeat(32))),
            None
        );
        assert_eq!(photo_sha_of_entry(&format!("other/{sha}")), None);
    }
}

//! Capture: turns what the agent entered (category, comment, position, original photos) into
//! a queued [`Incident`]. Shared by the UI and the headless `balade capture`.
//!
//! Photos go through the photo pipeline (`engine::photo`: resized, re-encoded, metadata
//! stripped); the prepared JPEG is what is stored, hashed and uploaded, with its 320 px
//! thumbnail beside it. When the device has no fix, the first photo's EXIF position (and time)
//! stand in. The address is the nearest street of the city's referential unless the agent gave
//! one (`engine::place`). The id is a UUIDv7 made here and never changes; Lambert-93 is derived
//! from the WGS84 position.

use std::collections::BTreeMap;

use balade_protocol::incident::{Address, AssetRef, Incident, PhotoRef, Position};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::photo::{PhotoOptions, PreparedPhoto, prepare_photo};
use crate::engine::place;
use crate::engine::store::{DeviceStore, StoreError, write_atomically};

/// What the agent entered for one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureInput {
    pub category: String,
    pub subcategory: String,
    pub comment: String,
    /// The platform's fix or a typed position; `None` falls back to the photos' EXIF position.
    pub position: Option<Position>,
    /// The device clock at capture (information only, never ordering); `None` takes the photo's
    /// EXIF time, else now.
    pub observed_at: Option<DateTime<Utc>>,
    pub extra: BTreeMap<String, serde_json::Value>,
    /// An address the agent typed or corrected; `None` takes the nearest street.
    pub address: Option<Address>,
    /// Street furniture the agent attached ("Banc n° 123").
    pub asset: Option<AssetRef>,
    /// Original photo files' bytes, in order.
    pub photos: Vec<Vec<u8>>,
}

/// Prepares the photos, stores them, and queues the incident in the current walk (if any).
/// Returns the queued incident. Nothing is queued if any photo or field is refused.
pub fn capture_incident(
    store: &mut DeviceStore,
    input: CaptureInput,
) -> Result<Incident, StoreError> {
    let prepared = prepare_photos(&input.photos)?;
    let exif = prepared.iter().map(|p| &p.metadata);
    let position = input
        .position
        .or_else(|| exif.clone().find_map(|m| m.position))
        .ok_or_else(|| {
            StoreError::Invalid(
                "position manquante : saisissez-la ou joignez une photo géolocalisée".into(),
            )
        })?;
    let observed_at = input
        .observed_at
        .or_else(|| photos_taken_at(&prepared))
        .unwrap_or_else(Utc::now);
    let address = input.address.or_else(|| place::describe(&position).address);
    let photo_refs = store_prepared_photos(store, &prepared)?;
    let walk_id = store.current_walk()?.map(|w| w.id);
    let incident = Incident {
        id: Uuid::now_v7(),
        walk_id,
        comment: input.comment.trim().to_string(),
        observed_at,
        category: input.category,
        subcategory: input.subcategory,
        extra: input.extra,
        photos: photo_refs,
        position,
        lambert93: place::lambert93(&position),
        address,
        asset: input.asset,
    };
    store.queue_incident(&incident)?;
    Ok(incident)
}

/// Runs the photo pipeline on every original; the first refusal stops the capture (its French
/// message says the original is kept).
/// When the incident was observed, according to its photos: the first EXIF time with a known
/// offset (a photo picked after the walk carries the real moment; a fresh one, about now).
/// The one rule for the UI and `balade capture`.
pub fn photos_taken_at(prepared: &[PreparedPhoto]) -> Option<DateTime<Utc>> {
    prepared
        .iter()
        .find_map(|p| p.metadata.taken_at.and_then(|t| t.to_utc()))
}

pub fn prepare_photos(originals: &[Vec<u8>]) -> Result<Vec<PreparedPhoto>, StoreError> {
    originals
        .iter()
        .map(|original| {
            prepare_photo(original, &PhotoOptions::default())
                .map_err(|e| StoreError::Invalid(e.message_fr()))
        })
        .collect()
}

/// Writes prepared photos (content-addressed, atomically) and their thumbnails; returns the
/// references the incident carries.
pub fn store_prepared_photos(
    store: &mut DeviceStore,
    prepared: &[PreparedPhoto],
) -> Result<Vec<PhotoRef>, StoreError> {
    let mut photo_refs = Vec::with_capacity(prepared.len());
    for photo in prepared {
        let photo_ref = store.store_photo(&photo.jpeg, &photo.photo_ref.mime)?;
        let thumb = thumbnail_path(&store.photo_path(&photo_ref.sha256));
        if !thumb.exists() {
            write_atomically(&thumb, &photo.thumbnail)?;
        }
        photo_refs.push(photo_ref);
    }
    Ok(photo_refs)
}

/// Where a stored photo's 320 px thumbnail lives: beside it, `<sha256>.thumb.jpg`.
pub fn thumbnail_path(photo: &std::path::Path) -> std::path::PathBuf {
    photo.with_extension("thumb.jpg")
}

//! Capture: turns what the agent entered (category, comment, position, original photos) into
//! a queued [`Incident`]. Shared by the UI and the headless `balade capture`.
//!
//! Photos go through the photo pipeline (`engine::photo`: resized, re-encoded, metadata
//! stripped); the prepared JPEG is what is stored, hashed and uploaded. The id is a UUIDv7 made
//! here and never changes; Lambert-93 is derived from the WGS84 position.

use std::collections::BTreeMap;

use balade_protocol::geo::lambert93::to_lambert93;
use balade_protocol::incident::{Incident, Position};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::photo::{PhotoOptions, prepare_photo};
use crate::engine::store::{DeviceStore, StoreError};

/// What the agent entered for one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureInput {
    pub category: String,
    pub subcategory: String,
    pub comment: String,
    pub position: Position,
    /// The device clock at capture (information only, never ordering).
    pub observed_at: DateTime<Utc>,
    pub extra: BTreeMap<String, serde_json::Value>,
    /// Original photo files' bytes, in order.
    pub photos: Vec<Vec<u8>>,
}

/// Prepares the photos, stores them, and queues the incident in the current walk (if any).
/// Returns the queued incident. Nothing is queued if any photo or field is refused.
pub fn capture_incident(
    store: &mut DeviceStore,
    input: CaptureInput,
) -> Result<Incident, StoreError> {
    let mut photo_refs = Vec::with_capacity(input.photos.len());
    for original in &input.photos {
        let prepared = prepare_photo(original, &PhotoOptions::default())
            .map_err(|e| StoreError::Invalid(e.message_fr()))?;
        let photo_ref = store.store_photo(&prepared.jpeg, &prepared.photo_ref.mime)?;
        let thumb = store
            .photo_path(&photo_ref.sha256)
            .with_extension("thumb.jpg");
        if !thumb.exists() {
            crate::engine::store::write_atomically(&thumb, &prepared.thumbnail)?;
        }
        photo_refs.push(photo_ref);
    }
    let walk_id = store.current_walk()?.map(|w| w.id);
    let incident = Incident {
        id: Uuid::now_v7(),
        walk_id,
        comment: input.comment.trim().to_string(),
        observed_at: input.observed_at,
        category: input.category,
        subcategory: input.subcategory,
        extra: input.extra,
        photos: photo_refs,
        position: input.position,
        lambert93: Some(to_lambert93(&input.position)),
        address: None,
        asset: None,
    };
    store.queue_incident(&incident)?;
    Ok(incident)
}

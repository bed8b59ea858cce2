//! The capture photo pipeline: from a phone's original to the photo that is uploaded.
//!
//! [`prepare_photo`] takes the original's bytes (JPEG or PNG, 12 MP and up) and returns a
//! [`PreparedPhoto`]: an upright JPEG whose long edge is at most 2048 px, quality 80, with all
//! metadata stripped, a 320 px thumbnail, the [`PhotoRef`] (SHA-256, size, mime) that the
//! incident carries, and the GPS position and time read from the original's EXIF beforehand.
//!
//! **Invariant:** nothing here modifies or drops the original. Every refusal is a
//! [`PhotoError`] with a French message; the caller keeps the original file.
//!
//! **Boundary:** no I/O except [`prepare_photo_file`] reading its input. Writing files
//! (temp file, fsync, rename) belongs to the store.
//!
//! Stages, one module each: [`sniff`] (format from magic bytes, HEIC refused here),
//! [`metadata`] (EXIF GPS/time/orientation), [`decode`] (header size checked against the
//! pixel limit, then JPEG decoded at a reduced DCT scale), [`transform`] (Lanczos3
//! resampling, orientation), [`encode`] (metadata-free JPEG).
//!
//! ```no_run
//! use balade_app::engine::photo::{prepare_photo, PhotoOptions};
//! let original = std::fs::read("IMG_0001.jpg").unwrap();
//! match prepare_photo(&original, &PhotoOptions::default()) {
//!     Ok(prepared) => println!("{} {} bytes", prepared.photo_ref.sha256, prepared.photo_ref.size),
//!     Err(error) => eprintln!("{}", error.message_fr()),
//! }
//! ```

pub mod decode;
pub mod encode;
pub mod error;
pub mod metadata;
pub mod sniff;
pub mod transform;

use std::path::Path;

use balade_protocol::incident::{PhotoRef, sha256_hex};

pub use crate::engine::photo::error::PhotoError;
pub use crate::engine::photo::metadata::{CaptureMetadata, TakenAt, read_capture_metadata};
use crate::engine::photo::sniff::SourceFormat;

/// Tuning of the pipeline; [`PhotoOptions::default`] is what the app uses.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoOptions {
    /// Longest edge of the uploaded photo, in pixels.
    pub max_edge: u32,
    /// Longest edge of the thumbnail.
    pub thumbnail_edge: u32,
    /// JPEG quality of the uploaded photo and the thumbnail.
    pub quality: u8,
    /// Accept a JPEG decoded at 1/2, 1/4 or 1/8 scale as the final size without resampling when
    /// its long edge is at least this fraction of `max_edge` (0.9: a 4032 px photo becomes
    /// 2016 px straight from the decoder). 1.0 forces exactly `max_edge`.
    pub min_edge_fraction: f32,
    /// Largest accepted width × height announced by the header (decompression-bomb guard).
    pub max_pixels: u64,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            max_edge: 2048,
            thumbnail_edge: 320,
            quality: 80,
            min_edge_fraction: 0.9,
            max_pixels: 100_000_000,
        }
    }
}

/// A JPEG ready to store and upload.
#[derive(Debug, Clone)]
pub struct PreparedPhoto {
    /// The exact bytes that are stored and uploaded.
    pub jpeg: Vec<u8>,
    /// SHA-256, size and mime of `jpeg`.
    pub photo_ref: PhotoRef,
    pub width: u32,
    pub height: u32,
    /// The thumbnail JPEG (long edge [`PhotoOptions::thumbnail_edge`]), same orientation.
    pub thumbnail: Vec<u8>,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    /// Facts read from the original's EXIF before it was stripped.
    pub metadata: CaptureMetadata,
    /// The original's format and size, as its header said.
    pub source_mime: &'static str,
    pub source_width: u32,
    pub source_height: u32,
}

/// Prepares the photo to upload from the original's bytes. See the module documentation.
pub fn prepare_photo(original: &[u8], options: &PhotoOptions) -> Result<PreparedPhoto, PhotoError> {
    let format = sniff::sniff(original)?;
    let metadata = read_capture_metadata(original);
    let (header, pixels) = match format {
        SourceFormat::Jpeg => decode::decode_jpeg(original, options.max_pixels, |size| {
            transform::choose_divisor(
                size.width.max(size.height),
                options.max_edge,
                options.min_edge_fraction,
            )
        })?,
        SourceFormat::Png => decode::decode_png(original, options.max_pixels)?,
    };
    let pixels = transform::downscale(pixels, options.max_edge);
    let pixels = transform::apply_orientation(pixels, metadata.orientation);
    let jpeg = encode::encode_jpeg(&pixels, options.quality)?;
    let thumbnail_pixels = transform::downscaled_copy(&pixels, options.thumbnail_edge);
    let thumbnail = encode::encode_jpeg(&thumbnail_pixels, options.quality)?;
    let photo_ref = PhotoRef {
        sha256: sha256_hex(&jpeg),
        size: jpeg.len() as u64,
        mime: "image/jpeg".to_owned(),
    };
    Ok(PreparedPhoto {
        jpeg,
        photo_ref,
        width: pixels.width,
        height: pixels.height,
        thumbnail,
        thumbnail_width: thumbnail_pixels.width,
        thumbnail_height: thumbnail_pixels.height,
        metadata,
        source_mime: format.mime(),
        source_width: header.width,
        source_height: header.height,
    })
}

/// [`prepare_photo`] on a file; the file itself is only read.
pub fn prepare_photo_file(
    path: &Path,
    options: &PhotoOptions,
) -> Result<PreparedPhoto, PhotoError> {
    let original = std::fs::read(path).map_err(|source| PhotoError::Read {
        path: path.to_owned(),
        source,
    })?;
    prepare_photo(&original, options)
}

//! Why a photo could not be prepared, with the French sentence the capture screen shows.
//!
//! Every variant leaves the original bytes untouched: the caller keeps the original file and
//! can attach it later (for example once HEIC is supported), so no error here loses a photo.

use std::path::PathBuf;

/// A photo the pipeline refused or failed to prepare.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhotoError {
    /// The file has no bytes at all (an interrupted camera write, a bad share intent).
    #[error("the file is empty")]
    Empty,
    /// The bytes start like no image format we know.
    #[error("the file is not an image")]
    NotAnImage,
    /// An HEIC/HEIF/AVIF container (ISO-BMFF `ftyp` box with an image brand).
    #[error("HEIC/HEIF images (brand `{brand}`) are not supported yet")]
    Heif { brand: String },
    /// A recognised image format that the pipeline does not decode (GIF, WebP, TIFF, BMP...).
    #[error("{format} images are not supported yet")]
    UnsupportedFormat { format: &'static str },
    /// The header announces more pixels than allowed: refused before any decoding, so a
    /// "decompression bomb" cannot exhaust the phone's memory.
    #[error("the image announces {width}×{height} pixels, more than the limit of {max_pixels}")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    /// Truncated or corrupted data: the decoder could not read it to the end.
    #[error("truncated or corrupted image: {detail}")]
    Corrupted { detail: String },
    /// Reading the file from disk failed.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The JPEG encoder failed (should not happen on valid pixels; kept as data, not a panic).
    #[error("cannot encode the prepared JPEG: {detail}")]
    Encode { detail: String },
}

impl PhotoError {
    /// The message for the user, in French. It always says that the original is kept.
    pub fn message_fr(&self) -> String {
        match self {
            PhotoError::Empty => "Le fichier photo est vide. La photo d'origine est conservée telle quelle.".into(),
            PhotoError::NotAnImage => {
                "Ce fichier n'est pas une image. Le fichier d'origine est conservé.".into()
            }
            PhotoError::Heif { .. } => "Photo HEIC/HEIF : format non pris en charge pour l'instant. \
                 La photo d'origine est conservée ; réglez l'appareil photo sur « Le plus compatible » (JPEG)."
                .into(),
            PhotoError::UnsupportedFormat { format } => format!(
                "Image {format} : format non pris en charge pour l'instant. La photo d'origine est conservée."
            ),
            PhotoError::TooManyPixels { width, height, .. } => format!(
                "Image trop grande ({width} × {height} pixels) : elle n'est pas traitée pour protéger \
                 la mémoire du téléphone. La photo d'origine est conservée."
            ),
            PhotoError::Corrupted { .. } => "La photo est incomplète ou endommagée et ne peut pas être \
                 lue. Le fichier d'origine est conservé ; reprenez la photo si possible."
                .into(),
            PhotoError::Read { .. } => "Impossible de lire le fichier photo. Le fichier d'origine n'a pas été modifié.".into(),
            PhotoError::Encode { .. } => "La photo n'a pas pu être préparée pour l'envoi. La photo d'origine est conservée.".into(),
        }
    }

    /// True for the "format non pris en charge pour l'instant" family (HEIC and others).
    pub fn is_unsupported_format(&self) -> bool {
        matches!(
            self,
            PhotoError::Heif { .. } | PhotoError::UnsupportedFormat { .. }
        )
    }
}

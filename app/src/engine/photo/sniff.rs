//! Recognises the container from its first bytes, before any decoder sees the data.
//!
//! Doing this ourselves gives each refusal its own error (HEIC, GIF, random bytes) instead of
//! one opaque "unsupported" from a decoder, and keeps HEIC away from decoders entirely.

use crate::engine::photo::error::PhotoError;

/// The formats the pipeline decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
}

impl SourceFormat {
    pub fn mime(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "image/jpeg",
            SourceFormat::Png => "image/png",
        }
    }
}

/// ISO-BMFF major brands of HEIF image files (HEIC, HEIF sequences, generic MIAF).
const HEIF_BRANDS: [&[u8; 4]; 10] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
];

/// Tells which decodable format `bytes` hold, or the precise reason why not.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if HEIF_BRANDS.iter().any(|b| b.as_slice() == brand) {
            return Err(PhotoError::Heif {
                brand: String::from_utf8_lossy(brand).into_owned(),
            });
        }
        if brand == b"avif" || brand == b"avis" {
            return Err(PhotoError::UnsupportedFormat { format: "AVIF" });
        }
        return Err(PhotoError::NotAnImage);
    }
    let unsupported = |format| Err(PhotoError::UnsupportedFormat { format });
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return unsupported("GIF");
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return unsupported("WebP");
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return unsupported("TIFF/DNG");
    }
    if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        return unsupported("BMP");
    }
    Err(PhotoError::NotAnImage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_magic() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isomiso2";
        assert!(matches!(sniff(b""), Err(PhotoError::Empty)));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            SourceFormat::Jpeg
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").unwrap(), SourceFormat::Png);
        assert!(matches!(sniff(heic), Err(PhotoError::Heif { brand }) if brand == "heic"));
        assert!(matches!(sniff(mp4), Err(PhotoError::NotAnImage)));
        assert!(matches!(
            sniff(b"GIF89a...."),
            Err(PhotoError::UnsupportedFormat { format: "GIF" })
        ));
        assert!(matches!(sniff(b"hello world"), Err(PhotoError::NotAnImage)));
    }
}

//! Inbox thumbnails: a 320 px JPEG of a stored photo, made on first request with the `image`
//! crate and cached beside the photo (`<data>/photos/aa/<sha>.thumb.jpg`, temp file + rename,
//! so a concurrent reader never sees half a file). Lists load these instead of full photos.

use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Longest edge of a thumbnail, in pixels.
pub const THUMB_EDGE: u32 = 320;
/// JPEG quality of thumbnails.
const QUALITY: u8 = 80;

/// Errors while making a thumbnail.
#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
}

/// Where the thumbnail of a photo is cached.
pub fn thumb_path(data_dir: &Path, sha256: &str) -> PathBuf {
    let mut path = crate::api::tus::photo_path(data_dir, sha256).into_os_string();
    path.push(".thumb.jpg");
    PathBuf::from(path)
}

/// A JPEG no larger than [`THUMB_EDGE`] on its long edge (aspect ratio kept; small images are
/// not enlarged).
pub fn make_thumbnail(photo: &[u8]) -> Result<Vec<u8>, ThumbError> {
    let image = image::ImageReader::new(Cursor::new(photo))
        .with_guessed_format()?
        .decode()?;
    let small = if image.width().max(image.height()) > THUMB_EDGE {
        image.thumbnail(THUMB_EDGE, THUMB_EDGE)
    } else {
        image
    };
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
    small.to_rgb8().write_with_encoder(encoder)?;
    Ok(out)
}

/// The cached thumbnail's bytes, made and cached first if missing. Blocking (file and CPU work).
pub fn cached_thumbnail(data_dir: &Path, sha256: &str) -> Result<Vec<u8>, ThumbError> {
    let target = thumb_path(data_dir, sha256);
    if let Ok(bytes) = std::fs::read(&target) {
        return Ok(bytes);
    }
    let photo = std::fs::read(crate::api::tus::photo_path(data_dir, sha256))?;
    let bytes = make_thumbnail(&photo)?;
    let mut temp = target.clone().into_os_string();
    temp.push(format!(".{}.tmp", super::auth::random_token()));
    let temp = PathBuf::from(temp);
    std::fs::write(&temp, &bytes)?;
    if let Err(error) = std::fs::rename(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        return Err(error.into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_image_becomes_a_jpeg_of_320_px_on_its_long_edge() {
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(1000, 500)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let thumb = image::load_from_memory(&make_thumbnail(&png).unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 160));
        assert!(make_thumbnail(b"not an image").is_err());
    }
}

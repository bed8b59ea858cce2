//! Writes the prepared pixels as a baseline JPEG that carries nothing but pixels.
//!
//! `jpeg-encoder` (pure Rust, AVX2 when available) writes only a JFIF APP0 header: no EXIF,
//! GPS, maker notes, serial numbers, ICC profile or comments can leave the phone, because
//! the encoder is never given any.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::engine::photo::decode::{Channels, Pixels};
use crate::engine::photo::error::PhotoError;

/// Encodes `pixels` at `quality` (1..=100) with 4:2:0 chroma subsampling.
pub fn encode_jpeg(pixels: &Pixels, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let too_big = |_| PhotoError::Encode {
        detail: "image larger than 65535 px".into(),
    };
    let width = u16::try_from(pixels.width).map_err(too_big)?;
    let height = u16::try_from(pixels.height).map_err(too_big)?;
    let mut out = Vec::with_capacity(pixels.data.len() / 8);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    let color = match pixels.channels {
        Channels::Gray => ColorType::Luma,
        Channels::Rgb => ColorType::Rgb,
    };
    encoder
        .encode(&pixels.data, width, height, color)
        .map_err(|e| PhotoError::Encode {
            detail: e.to_string(),
        })?;
    Ok(out)
}

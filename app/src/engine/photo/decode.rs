//! Turns the original's bytes into pixels, as few of them as the target size needs.
//!
//! JPEG goes through `jpeg-decoder`, which can run its inverse DCT at 1/2, 1/4 or 1/8 size
//! (DCT scaling, what libjpeg and `vipsthumbnail` do): a 12 MP photo destined for 2048 px is
//! decoded straight to 2016 px, a quarter of the pixels, with no full-size buffer ever made.
//! PNG (screenshots) goes through `image`. Both check the header's pixel count against the
//! limit before allocating anything, so a decompression bomb is refused up front.

use std::io::Cursor;

use image::ImageDecoder;
use jpeg_decoder::PixelFormat;

use crate::engine::photo::error::PhotoError;

/// Samples per pixel of a decoded buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    Gray = 1,
    Rgb = 3,
}

/// A decoded image, rows top to bottom, 8 bits per sample, no padding.
#[derive(Debug, Clone)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: Channels,
    pub data: Vec<u8>,
}

/// The size of the original as its header announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSize {
    pub width: u32,
    pub height: u32,
}

fn check_pixels(size: HeaderSize, max_pixels: u64) -> Result<(), PhotoError> {
    if u64::from(size.width) * u64::from(size.height) > max_pixels
        || size.width == 0
        || size.height == 0
    {
        if size.width == 0 || size.height == 0 {
            return Err(PhotoError::Corrupted {
                detail: "zero width or height".into(),
            });
        }
        return Err(PhotoError::TooManyPixels {
            width: size.width,
            height: size.height,
            max_pixels,
        });
    }
    Ok(())
}

fn corrupted(error: impl std::fmt::Display) -> PhotoError {
    PhotoError::Corrupted {
        detail: error.to_string(),
    }
}

/// Decodes a JPEG. `choose_divisor` receives the header size and returns the DCT scale
/// divisor (1, 2, 4 or 8) to decode at.
pub fn decode_jpeg(
    bytes: &[u8],
    max_pixels: u64,
    choose_divisor: impl FnOnce(HeaderSize) -> u32,
) -> Result<(HeaderSize, Pixels), PhotoError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(corrupted)?;
    let info = decoder.info().ok_or_else(|| corrupted("no frame header"))?;
    let header = HeaderSize {
        width: u32::from(info.width),
        height: u32::from(info.height),
    };
    check_pixels(header, max_pixels)?;
    let divisor = choose_divisor(header).clamp(1, 8);
    if divisor > 1 {
        let scaled = |len: u32| len.div_ceil(divisor) as u16;
        decoder
            .scale(scaled(header.width), scaled(header.height))
            .map_err(corrupted)?;
    }
    let data = decoder.decode().map_err(corrupted)?;
    let info = decoder.info().ok_or_else(|| corrupted("no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (channels, data) = match info.pixel_format {
        PixelFormat::L8 => (Channels::Gray, data),
        PixelFormat::RGB24 => (Channels::Rgb, data),
        PixelFormat::CMYK32 => (Channels::Rgb, cmyk_to_rgb(&data)),
        PixelFormat::L16 => {
            return Err(PhotoError::UnsupportedFormat {
                format: "JPEG 16 bits",
            });
        }
    };
    let expected = width as usize * height as usize * channels as usize;
    if data.len() != expected {
        return Err(corrupted(format!(
            "decoded {} bytes, expected {expected}",
            data.len()
        )));
    }
    Ok((
        header,
        Pixels {
            width,
            height,
            channels,
            data,
        },
    ))
}

/// Adobe CMYK JPEGs store inverted ink values; jpeg-decoder hands them back as stored.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let k = u16::from(px[3]);
        for &c in &px[..3] {
            rgb.push((u16::from(c) * k / 255) as u8);
        }
    }
    rgb
}

/// Decodes a PNG (8 or 16 bits, any colour type); transparency is flattened onto white.
pub fn decode_png(bytes: &[u8], max_pixels: u64) -> Result<(HeaderSize, Pixels), PhotoError> {
    let decoder = image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(corrupted)?;
    let (width, height) = decoder.dimensions();
    let header = HeaderSize { width, height };
    check_pixels(header, max_pixels)?;
    let image = image::DynamicImage::from_decoder(decoder).map_err(corrupted)?;
    let pixels = if image.color().has_alpha() {
        let rgba = image.into_rgba8();
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for px in rgba.as_raw().chunks_exact(4) {
            let alpha = u16::from(px[3]);
            for &c in &px[..3] {
                data.push(((u16::from(c) * alpha + 255 * (255 - alpha)) / 255) as u8);
            }
        }
        Pixels {
            width,
            height,
            channels: Channels::Rgb,
            data,
        }
    } else if !image.color().has_color() {
        Pixels {
            width,
            height,
            channels: Channels::Gray,
            data: image.into_luma8().into_raw(),
        }
    } else {
        Pixels {
            width,
            height,
            channels: Channels::Rgb,
            data: image.into_rgb8().into_raw(),
        }
    };
    Ok((header, pixels))
}

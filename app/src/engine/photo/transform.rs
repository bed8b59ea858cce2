//! Geometry on decoded pixels: Lanczos3 resampling and the eight EXIF orientations.
//!
//! Resampling uses `fast_image_resize` (SIMD convolution, well maintained) rather than a
//! hand-written filter. Orientation uses `image`'s `apply_orientation`, run after the resize so
//! the rotation touches 4 MP instead of 12.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};

use crate::engine::photo::decode::{Channels, Pixels};

/// The largest DCT divisor (1, 2, 4, 8) the decoder may use for an image whose long edge is
/// `long_edge`, so that the output has a long edge of at most `max_edge`.
///
/// Prefers a divisor whose output is already within `[min_fraction × max_edge, max_edge]`
/// (then no resampling at all is needed: 4032 px → 2016 px); otherwise the largest divisor that
/// keeps at least `max_edge` pixels, resampled down afterwards.
pub fn choose_divisor(long_edge: u32, max_edge: u32, min_fraction: f32) -> u32 {
    if long_edge <= max_edge {
        return 1;
    }
    let floor = (max_edge as f32 * min_fraction.clamp(0.0, 1.0)).ceil() as u32;
    for divisor in [8, 4, 2] {
        let scaled = long_edge.div_ceil(divisor);
        if scaled <= max_edge && scaled >= floor {
            return divisor;
        }
    }
    [8, 4, 2]
        .into_iter()
        .find(|&d| long_edge.div_ceil(d) >= max_edge)
        .unwrap_or(1)
}

/// The size that fits `width`×`height` within `max_edge` on the long side, keeping the ratio.
pub fn fit_within(width: u32, height: u32, max_edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_edge {
        return (width, height);
    }
    let scale = f64::from(max_edge) / f64::from(long);
    let shrink = |len: u32| ((f64::from(len) * scale).round() as u32).clamp(1, max_edge);
    (shrink(width), shrink(height))
}

/// Resamples `pixels` so its long edge is at most `max_edge` (Lanczos3); smaller images pass
/// through untouched.
pub fn downscale(pixels: Pixels, max_edge: u32) -> Pixels {
    let (width, height) = fit_within(pixels.width, pixels.height, max_edge);
    if (width, height) == (pixels.width, pixels.height) {
        return pixels;
    }
    resize_to(&pixels, width, height)
}

/// A resampled copy of `pixels` fitting in `max_edge` (the source is kept, for thumbnails).
pub fn downscaled_copy(pixels: &Pixels, max_edge: u32) -> Pixels {
    let (width, height) = fit_within(pixels.width, pixels.height, max_edge);
    if (width, height) == (pixels.width, pixels.height) {
        return pixels.clone();
    }
    resize_to(pixels, width, height)
}

fn resize_to(pixels: &Pixels, width: u32, height: u32) -> Pixels {
    let pixel_type = match pixels.channels {
        Channels::Gray => PixelType::U8,
        Channels::Rgb => PixelType::U8x3,
    };
    let src = ImageRef::new(pixels.width, pixels.height, &pixels.data, pixel_type)
        .expect("Pixels always hold width × height × channels bytes");
    let mut dst = Image::new(width, height, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel type on both sides and non-zero sizes");
    Pixels {
        width,
        height,
        channels: pixels.channels,
        data: dst.into_vec(),
    }
}

/// Turns the pixels upright according to the EXIF orientation (1..=8; other values: as is).
pub fn apply_orientation(pixels: Pixels, exif_orientation: u8) -> Pixels {
    let Some(orientation) = Orientation::from_exif(exif_orientation) else {
        return pixels;
    };
    if orientation == Orientation::NoTransforms {
        return pixels;
    }
    let Pixels {
        width,
        height,
        channels,
        data,
    } = pixels;
    let mut image = match channels {
        Channels::Gray => DynamicImage::ImageLuma8(
            GrayImage::from_raw(width, height, data).expect("buffer matches its size"),
        ),
        Channels::Rgb => DynamicImage::ImageRgb8(
            RgbImage::from_raw(width, height, data).expect("buffer matches its size"),
        ),
    };
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let data = match image {
        DynamicImage::ImageLuma8(gray) => gray.into_raw(),
        DynamicImage::ImageRgb8(rgb) => rgb.into_raw(),
        other => other.into_rgb8().into_raw(),
    };
    Pixels {
        width,
        height,
        channels,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisor_prefers_a_direct_dct_scale_close_to_the_target() {
        // (long edge, max, min fraction, expected divisor)
        for (long, max, fraction, expected) in [
            (4032, 2048, 0.9, 2), // 2016 px directly
            (4032, 2048, 1.0, 1), // exact 2048 wanted: full decode then resample
            (4624, 2048, 0.9, 2), // 2312 then resample
            (8064, 2048, 0.9, 4), // 48 MP mode: 2016 directly
            (2000, 2048, 0.9, 1), // already small
            (4032, 320, 0.9, 8),  // 504 then resample
            (2560, 320, 0.9, 8),  // exactly 320
        ] {
            assert_eq!(
                choose_divisor(long, max, fraction),
                expected,
                "{long} → {max} ({fraction})"
            );
        }
    }

    #[test]
    fn fit_keeps_the_ratio() {
        assert_eq!(fit_within(4032, 3024, 2048), (2048, 1536));
        assert_eq!(fit_within(3024, 4032, 320), (240, 320));
        assert_eq!(fit_within(100, 50, 320), (100, 50));
    }
}

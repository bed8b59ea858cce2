//! The photo pipeline on real generated files: size, orientation, stripping, EXIF read-back.

#[path = "photo_support/mod.rs"]
mod photo_support;

use balade_app::engine::photo::{PhotoOptions, prepare_photo, prepare_photo_file};
use balade_protocol::incident::sha256_hex;
use photo_support::*;

fn phone_exif() -> PhoneExif {
    PhoneExif {
        orientation: Some(1),
        gps: Some((46.159_12, -1.152_04, Some(4.5))),
        taken: Some("2026:05:01 10:30:00"),
        offset: Some("+02:00"),
        serial: Some("SN-0042-PRIVATE"),
    }
}

#[test]
fn a_12_mp_phone_jpeg_becomes_a_stripped_2016_px_photo_and_a_320_px_thumbnail() {
    let scene = phone_scene(4032, 3024, 7);
    let original = with_metadata(&jpeg(&scene, 92), &phone_exif());
    let copy_before = original.clone();

    let prepared = prepare_photo(&original, &PhotoOptions::default()).unwrap();

    assert_eq!(original, copy_before, "the original is never modified");
    assert_eq!(
        (prepared.source_width, prepared.source_height),
        (4032, 3024)
    );
    assert_eq!(
        (prepared.width, prepared.height),
        (2016, 1512),
        "1/2 DCT scale, no resampling"
    );
    assert_eq!(
        (prepared.thumbnail_width, prepared.thumbnail_height),
        (320, 240)
    );
    assert_eq!(prepared.photo_ref.sha256, sha256_hex(&prepared.jpeg));
    assert_eq!(prepared.photo_ref.size, prepared.jpeg.len() as u64);
    assert_eq!(prepared.photo_ref.mime, "image/jpeg");
    assert!(prepared.photo_ref.has_valid_hash());

    for (what, bytes, size) in [
        ("photo", &prepared.jpeg, (2016, 1512)),
        ("thumbnail", &prepared.thumbnail, (320, 240)),
    ] {
        // Only JFIF APP0, quantisation/huffman tables, frame and scan: no APP1 (EXIF/XMP),
        // APP2 (ICC), other APPn or COM segment survives.
        let markers = header_markers(bytes);
        assert!(
            markers
                .iter()
                .all(|m| matches!(m, 0xE0 | 0xDB | 0xC4 | 0xC0 | 0xDA | 0xDD)),
            "{what}: {markers:x?}"
        );
        assert!(
            exif::Reader::new()
                .read_from_container(&mut std::io::Cursor::new(bytes))
                .is_err(),
            "{what} has EXIF"
        );
        let needle = b"SN-0042";
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{what} leaks the serial"
        );
        assert!(
            !bytes.windows(5).any(|w| w == b"Dupon"),
            "{what} leaks the comment"
        );
        // Quality 80: the standard luma table scaled by 40% starts with 16 × 0.4 = 6.
        assert_eq!(first_luma_quant(bytes), 6, "{what} quality");
        let decoded = decode_rgb(bytes);
        assert_eq!((decoded.width, decoded.height), size, "{what}");
    }
    // The pixels are the scene's: the sky is blue-ish at the top, the pothole dark.
    let out = decode_rgb(&prepared.jpeg);
    let sky = pixel(&out, 1000, 40);
    assert!(sky[2] > sky[0] + 60, "sky {sky:?}");
    let pothole = pixel(&out, (0.7 * 2016.0) as u32, (0.8 * 1512.0) as u32);
    assert!(pothole.iter().all(|&c| c < 80), "pothole {pothole:?}");
    assert!(
        prepared.jpeg.len() < original.len() / 3,
        "{} vs {}",
        prepared.jpeg.len(),
        original.len()
    );
}

#[test]
fn exact_mode_resamples_to_exactly_2048_px() {
    let original = jpeg(&phone_scene(4032, 3024, 3), 90);
    let options = PhotoOptions {
        min_edge_fraction: 1.0,
        ..PhotoOptions::default()
    };
    let prepared = prepare_photo(&original, &options).unwrap();
    assert_eq!((prepared.width, prepared.height), (2048, 1536));
    assert_eq!(decode_rgb(&prepared.jpeg).width, 2048);
}

#[test]
fn a_16_mp_photo_is_decoded_at_half_scale_then_resampled_to_2048() {
    let original = jpeg(&phone_scene(4624, 3472, 5), 90);
    let prepared = prepare_photo(&original, &PhotoOptions::default()).unwrap();
    assert_eq!((prepared.width, prepared.height), (2048, 1538));
}

#[test]
fn every_exif_orientation_is_applied() {
    // Non-square so a wrong transpose shows in the size. Three paths: full decode kept as is,
    // DCT 1/2 scale kept as is, and DCT 1/2 scale resampled before the rotation.
    let upright = quadrant_scene(1600, 1000);
    let paths = [
        (2048, 0.9, (1600, 1000)),
        (800, 0.9, (800, 500)),
        (700, 1.0, (700, 438)),
    ];
    for (max_edge, min_edge_fraction, size) in paths {
        let options = PhotoOptions {
            max_edge,
            min_edge_fraction,
            ..PhotoOptions::default()
        };
        for orientation in 1..=8u8 {
            check_orientation(&upright, orientation, &options, size);
        }
    }
}

fn check_orientation(upright: &Rgb, orientation: u8, options: &PhotoOptions, size: (u32, u32)) {
    let context = format!("orientation {orientation}, max edge {}", options.max_edge);
    let stored = stored_for_orientation(upright, orientation);
    let exif = PhoneExif {
        orientation: Some(u16::from(orientation)),
        ..PhoneExif::default()
    };
    let original = with_metadata(&jpeg(&stored, 95), &exif);
    let prepared = prepare_photo(&original, options).unwrap();
    assert_eq!(prepared.metadata.orientation, orientation);
    assert_eq!((prepared.width, prepared.height), size, "{context}");
    let out = decode_rgb(&prepared.jpeg);
    let thumb = decode_rgb(&prepared.thumbnail);
    assert_eq!(
        (thumb.width, thumb.height),
        (320, 200),
        "thumbnail, {context}"
    );
    for (image, name) in [(&out, "photo"), (&thumb, "thumbnail")] {
        let (w, h) = (image.width, image.height);
        let probes = [
            (w / 4, h / 4),
            (3 * w / 4, h / 4),
            (w / 4, 3 * h / 4),
            (3 * w / 4, 3 * h / 4),
        ];
        for (q, (x, y)) in probes.into_iter().enumerate() {
            let got = pixel(image, x, y);
            assert!(
                close(got, QUADRANTS[q], 24),
                "{name}, {context}, quadrant {q}: {got:?}"
            );
        }
    }
}

#[test]
fn gps_position_accuracy_and_time_are_read_before_stripping() {
    let original = with_metadata(&jpeg(&phone_scene(1200, 900, 1), 90), &phone_exif());
    let prepared = prepare_photo(&original, &PhotoOptions::default()).unwrap();
    let position = prepared.metadata.position.expect("GPS position");
    assert!((position.lat - 46.159_12).abs() < 1e-5, "{position:?}");
    assert!((position.lon + 1.152_04).abs() < 1e-5, "{position:?}");
    assert_eq!(position.accuracy_m, Some(4.5));
    let taken = prepared.metadata.taken_at.expect("DateTimeOriginal");
    assert_eq!(taken.local.to_string(), "2026-05-01 10:30:00");
    assert_eq!(
        taken.to_utc().unwrap().to_rfc3339(),
        "2026-05-01T08:30:00+00:00"
    );
    // And none of it is in the output.
    assert!(
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&prepared.jpeg))
            .is_err()
    );
}

#[test]
fn gps_without_accuracy_or_offset_is_still_read() {
    let exif = PhoneExif {
        gps: Some((-33.5, 151.25, None)),
        taken: Some("2025:12:31 23:59:59"),
        ..PhoneExif::default()
    };
    let metadata = balade_app::engine::photo::read_capture_metadata(&with_metadata(
        &jpeg(&quadrant_scene(64, 48), 90),
        &exif,
    ));
    let position = metadata.position.unwrap();
    assert!((position.lat + 33.5).abs() < 1e-6 && (position.lon - 151.25).abs() < 1e-6);
    assert_eq!(position.accuracy_m, None);
    assert_eq!(
        metadata.taken_at.unwrap().to_utc(),
        None,
        "no offset, no instant"
    );
    assert_eq!(metadata.orientation, 1);
}

#[test]
fn a_png_screenshot_with_transparency_becomes_a_jpeg_on_white() {
    let (w, h) = (3000u32, 2000u32);
    let mut rgba = image::RgbaImage::new(w, h);
    for (x, y, px) in rgba.enumerate_pixels_mut() {
        *px = if x < w / 2 {
            image::Rgba([200, 20, 20, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        };
        if y == 0 {
            px.0[3] = 255;
        }
    }
    let mut png = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let prepared = prepare_photo(&png, &PhotoOptions::default()).unwrap();
    assert_eq!(prepared.source_mime, "image/png");
    assert_eq!((prepared.width, prepared.height), (2048, 1365));
    let out = decode_rgb(&prepared.jpeg);
    assert!(close(pixel(&out, 300, 700), [200, 20, 20], 12));
    assert!(
        close(pixel(&out, 1700, 700), [255, 255, 255], 6),
        "transparent → white"
    );
}

#[test]
fn preparing_from_a_file_leaves_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IMG_0001.JPG");
    let original = with_metadata(&jpeg(&phone_scene(800, 600, 9), 90), &phone_exif());
    std::fs::write(&path, &original).unwrap();
    let prepared = prepare_photo_file(&path, &PhotoOptions::default()).unwrap();
    assert_eq!((prepared.width, prepared.height), (800, 600));
    assert_eq!(std::fs::read(&path).unwrap(), original);
}

#[test]
fn progressive_and_grayscale_jpegs_are_prepared_too() {
    let scene = phone_scene(4032, 3024, 21);
    let mut progressive = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut progressive, 90);
    encoder.set_progressive(true);
    encoder
        .encode(&scene.data, 4032, 3024, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let prepared = prepare_photo(&progressive, &PhotoOptions::default()).unwrap();
    assert_eq!((prepared.width, prepared.height), (2016, 1512));
    let sky = pixel(&decode_rgb(&prepared.jpeg), 1000, 40);
    assert!(sky[2] > sky[0] + 60, "sky {sky:?}");

    let gray: Vec<u8> = scene.data.chunks_exact(3).map(|p| p[1]).collect();
    let mut gray_jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut gray_jpeg, 90)
        .encode(&gray, 4032, 3024, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let exif = PhoneExif {
        orientation: Some(6),
        ..PhoneExif::default()
    };
    let prepared =
        prepare_photo(&with_metadata(&gray_jpeg, &exif), &PhotoOptions::default()).unwrap();
    assert_eq!((prepared.width, prepared.height), (1512, 2016));
    assert_eq!(
        (prepared.thumbnail_width, prepared.thumbnail_height),
        (240, 320)
    );
}

#[test]
fn the_dct_scaled_photo_matches_a_full_decode_resampled_with_lanczos3() {
    let scene = phone_scene(4032, 3024, 8);
    let original = jpeg(&scene, 92);
    let prepared = prepare_photo(&original, &PhotoOptions::default()).unwrap();
    let ours = decode_rgb(&prepared.jpeg);
    // Reference: an independent decoder at full size, then image's Lanczos3 to the same size.
    let full = image::load_from_memory(&original).unwrap();
    let reference = full
        .resize_exact(2016, 1512, image::imageops::FilterType::Lanczos3)
        .into_rgb8();
    let reference = Rgb {
        width: 2016,
        height: 1512,
        data: reference.into_raw(),
    };
    let db = psnr(&ours, &reference);
    eprintln!("DCT-scaled vs full decode + Lanczos3: PSNR {db:.1} dB");
    assert!(db > 30.0, "PSNR {db:.1} dB");
    // The metric discriminates: the same reference shifted by 4 px scores clearly lower.
    let mut shifted = reference.data.clone();
    shifted.rotate_left(4 * 3);
    let shifted = Rgb {
        width: 2016,
        height: 1512,
        data: shifted,
    };
    let shifted_db = psnr(&ours, &shifted);
    eprintln!("against a 4 px shift: {shifted_db:.1} dB");
    assert!(shifted_db < db - 3.0, "{shifted_db:.1} vs {db:.1}");
}

//! Every refusal of the photo pipeline: its own error, a French message, the original kept.

#[path = "photo_support/mod.rs"]
mod photo_support;

use balade_app::engine::photo::{PhotoError, PhotoOptions, prepare_photo, prepare_photo_file};
use photo_support::*;

fn check(name: &str, bytes: &[u8], expected: fn(&PhotoError) -> bool, message_contains: &str) {
    let copy = bytes.to_vec();
    let error = prepare_photo(bytes, &PhotoOptions::default()).expect_err(name);
    assert!(expected(&error), "{name}: got {error:?}");
    let message = error.message_fr();
    assert!(message.contains(message_contains), "{name}: {message}");
    assert!(
        message.contains("conserv"),
        "{name} must say the original is kept: {message}"
    );
    assert_eq!(bytes, copy.as_slice());
}

#[test]
fn hostile_and_unsupported_inputs_are_refused_with_their_own_error() {
    let good = jpeg(&phone_scene(1600, 1200, 11), 92);
    let truncated = good[..good.len() / 2].to_vec();
    let mut header_cut = good.clone();
    header_cut.truncate(300);
    let mut random = vec![0u8; 4096];
    let mut noise = Noise::new(99);
    random.iter_mut().for_each(|b| *b = noise.next() as u8);
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free".to_vec();
    let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf".to_vec();
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();

    type Case = (&'static str, Vec<u8>, fn(&PhotoError) -> bool, &'static str);
    let cases: Vec<Case> = vec![
        ("empty", vec![], |e| matches!(e, PhotoError::Empty), "vide"),
        (
            "truncated JPEG",
            truncated,
            |e| matches!(e, PhotoError::Corrupted { .. }),
            "incomplète ou endommagée",
        ),
        (
            "JPEG cut in its header",
            header_cut,
            |e| matches!(e, PhotoError::Corrupted { .. }),
            "endommagée",
        ),
        (
            "JPEG bomb 60000×60000",
            jpeg_bomb_header(60000, 60000),
            |e| {
                matches!(
                    e,
                    PhotoError::TooManyPixels {
                        width: 60000,
                        height: 60000,
                        ..
                    }
                )
            },
            "trop grande",
        ),
        (
            "PNG bomb 60000×60000",
            png_bomb_header(60000, 60000),
            |e| {
                matches!(
                    e,
                    PhotoError::TooManyPixels {
                        width: 60000,
                        height: 60000,
                        ..
                    }
                )
            },
            "60000 × 60000",
        ),
        (
            "random bytes",
            random,
            |e| matches!(e, PhotoError::NotAnImage),
            "pas une image",
        ),
        (
            "text",
            b"<html>captive portal</html>".to_vec(),
            |e| matches!(e, PhotoError::NotAnImage),
            "pas une image",
        ),
        (
            "HEIC",
            heic,
            |e| matches!(e, PhotoError::Heif { brand } if brand == "heic"),
            "format non pris en charge pour l'instant",
        ),
        (
            "AVIF",
            avif,
            |e| matches!(e, PhotoError::UnsupportedFormat { format: "AVIF" }),
            "format non pris en charge pour l'instant",
        ),
        (
            "GIF",
            gif,
            |e| matches!(e, PhotoError::UnsupportedFormat { format: "GIF" }),
            "format non pris en charge pour l'instant",
        ),
    ];
    for (name, bytes, expected, message) in &cases {
        check(name, bytes, *expected, message);
    }
}

#[test]
fn the_pixel_limit_is_configurable_and_checked_before_decoding() {
    let original = jpeg(&phone_scene(1000, 800, 2), 90);
    let options = PhotoOptions {
        max_pixels: 799_999,
        ..PhotoOptions::default()
    };
    let error = prepare_photo(&original, &options).unwrap_err();
    assert!(matches!(
        error,
        PhotoError::TooManyPixels {
            width: 1000,
            height: 800,
            max_pixels: 799_999
        }
    ));
    let options = PhotoOptions {
        max_pixels: 800_000,
        ..PhotoOptions::default()
    };
    assert!(prepare_photo(&original, &options).is_ok());
}

#[test]
fn a_missing_file_is_a_read_error_in_french() {
    let error = prepare_photo_file(
        std::path::Path::new("/nonexistent/IMG_9.jpg"),
        &PhotoOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, PhotoError::Read { .. }));
    assert!(error.message_fr().starts_with("Impossible de lire"));
}

#[test]
fn a_jpeg_cut_anywhere_is_refused_as_corrupted() {
    let good = jpeg(&phone_scene(1600, 1200, 12), 92);
    for percent in [1, 10, 50, 90, 99] {
        let cut = &good[..good.len() * percent / 100];
        let error = prepare_photo(cut, &PhotoOptions::default()).expect_err(&format!("{percent}%"));
        assert!(
            matches!(error, PhotoError::Corrupted { .. }),
            "{percent}%: {error:?}"
        );
    }
}

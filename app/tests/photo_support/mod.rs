//! Test and benchmark fixtures for the photo pipeline, generated in code: phone-like scenes,
//! EXIF blocks (orientation, GPS, time), extra metadata segments, and hostile headers.
//!
//! Shared by app/tests/photo_*.rs and app/benches/photos.rs (included with `#[path]`).
#![allow(dead_code)]

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};

/// An RGB8 image, rows top to bottom.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// A small deterministic PRNG (xorshift64*), so fixtures are identical on every run.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A photo-like scene: sky/ground gradients, a few shapes (a "bench", a "pothole", poles),
/// fine texture and sensor noise, so it compresses like a phone photo (several MB at 12 MP).
pub fn phone_scene(width: u32, height: u32, seed: u64) -> Rgb {
    let mut noise = Noise::new(seed);
    let mut data = vec![0u8; width as usize * height as usize * 3];
    let (w, h) = (width as f32, height as f32);
    let horizon = 0.45 * h;
    for y in 0..height {
        let fy = y as f32;
        for x in 0..width {
            let fx = x as f32;
            let (mut r, mut g, mut b) = if fy < horizon {
                let t = fy / horizon;
                (90.0 + 80.0 * t, 140.0 + 60.0 * t, 230.0 - 30.0 * t)
            } else {
                let t = (fy - horizon) / (h - horizon);
                let cobble = (((fx / 37.0).sin() * (fy / 23.0).cos()) * 18.0).abs();
                (
                    110.0 - 30.0 * t + cobble,
                    105.0 - 25.0 * t + cobble,
                    100.0 - 20.0 * t + cobble,
                )
            };
            // A bench: a brown rectangle with slats.
            if fx > 0.15 * w && fx < 0.45 * w && fy > 0.55 * h && fy < 0.7 * h {
                let slat = if (y / 24) % 2 == 0 { 20.0 } else { -10.0 };
                (r, g, b) = (120.0 + slat, 72.0 + slat, 40.0);
            }
            // A dark pothole (ellipse).
            let (dx, dy) = ((fx - 0.7 * w) / (0.12 * w), (fy - 0.8 * h) / (0.06 * h));
            if dx * dx + dy * dy < 1.0 {
                (r, g, b) = (40.0 + 20.0 * dx, 38.0, 35.0 + 10.0 * dy);
            }
            // Poles.
            if (x % (width / 5).max(1)) < width / 120 && fy < 0.75 * h {
                (r, g, b) = (60.0, 60.0, 65.0);
            }
            let n = noise.next();
            let grain = |shift: u32| ((n >> shift) & 0x1F) as f32 - 15.5;
            let i = (y as usize * width as usize + x as usize) * 3;
            data[i] = (r + grain(0)).clamp(0.0, 255.0) as u8;
            data[i + 1] = (g + grain(8)).clamp(0.0, 255.0) as u8;
            data[i + 2] = (b + grain(16)).clamp(0.0, 255.0) as u8;
        }
    }
    Rgb {
        width,
        height,
        data,
    }
}

/// Quadrant colours of the upright test pattern: top-left, top-right, bottom-left, bottom-right.
pub const QUADRANTS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 220, 40]];

/// An upright asymmetric pattern: four coloured quadrants.
pub fn quadrant_scene(width: u32, height: u32) -> Rgb {
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let q = usize::from(x >= width / 2) + 2 * usize::from(y >= height / 2);
            data.extend_from_slice(&QUADRANTS[q]);
        }
    }
    Rgb {
        width,
        height,
        data,
    }
}

/// The pixels a camera stores for an `upright` scene when it writes EXIF `orientation`: the
/// image that, once the orientation is applied, shows `upright`. Written from the EXIF
/// definitions independently of the code under test.
pub fn stored_for_orientation(upright: &Rgb, orientation: u8) -> Rgb {
    let (uw, uh) = (upright.width, upright.height);
    let transposed = orientation >= 5;
    let (sw, sh) = if transposed { (uh, uw) } else { (uw, uh) };
    let mut data = vec![0u8; upright.data.len()];
    for dy in 0..uh {
        for dx in 0..uw {
            // Where display pixel (dx, dy) is read from in the stored image (sw × sh).
            let (sx, sy) = match orientation {
                1 => (dx, dy),
                2 => (sw - 1 - dx, dy),
                3 => (sw - 1 - dx, sh - 1 - dy),
                4 => (dx, sh - 1 - dy),
                5 => (dy, dx),
                6 => (dy, sh - 1 - dx),
                7 => (sw - 1 - dy, sh - 1 - dx),
                8 => (sw - 1 - dy, dx),
                _ => panic!("orientation {orientation}"),
            };
            let from = (dy as usize * uw as usize + dx as usize) * 3;
            let to = (sy as usize * sw as usize + sx as usize) * 3;
            data[to..to + 3].copy_from_slice(&upright.data[from..from + 3]);
        }
    }
    Rgb {
        width: sw,
        height: sh,
        data,
    }
}

/// A baseline JPEG of `image` (no metadata).
pub fn jpeg(image: &Rgb, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder
        .encode(
            &image.data,
            image.width as u16,
            image.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

/// What a phone writes in EXIF, all optional.
#[derive(Default, Clone)]
pub struct PhoneExif {
    pub orientation: Option<u16>,
    /// (lat, lon, accuracy m)
    pub gps: Option<(f64, f64, Option<f64>)>,
    pub taken: Option<&'static str>,
    pub offset: Option<&'static str>,
    pub serial: Option<&'static str>,
}

fn dms(value: f64) -> Vec<Rational> {
    let value = value.abs();
    let degrees = value.trunc();
    let minutes = ((value - degrees) * 60.0).trunc();
    let seconds = ((value - degrees) * 60.0 - minutes) * 60.0;
    vec![
        Rational {
            num: degrees as u32,
            denom: 1,
        },
        Rational {
            num: minutes as u32,
            denom: 1,
        },
        Rational {
            num: (seconds * 10_000.0).round() as u32,
            denom: 10_000,
        },
    ]
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

/// A TIFF/EXIF block for `exif`, as kamadak-exif writes it.
pub fn exif_block(exif: &PhoneExif) -> Vec<u8> {
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let mut fields = vec![
        field(Tag::Make, ascii("Balade")),
        field(Tag::Model, ascii("Testphone 12")),
    ];
    if let Some(o) = exif.orientation {
        fields.push(field(Tag::Orientation, Value::Short(vec![o])));
    }
    if let Some((lat, lon, accuracy)) = exif.gps {
        fields.push(field(
            Tag::GPSLatitudeRef,
            ascii(if lat < 0.0 { "S" } else { "N" }),
        ));
        fields.push(field(Tag::GPSLatitude, Value::Rational(dms(lat))));
        fields.push(field(
            Tag::GPSLongitudeRef,
            ascii(if lon < 0.0 { "W" } else { "E" }),
        ));
        fields.push(field(Tag::GPSLongitude, Value::Rational(dms(lon))));
        if let Some(a) = accuracy {
            let r = Rational {
                num: (a * 100.0).round() as u32,
                denom: 100,
            };
            fields.push(field(Tag::GPSHPositioningError, Value::Rational(vec![r])));
        }
    }
    if let Some(t) = exif.taken {
        fields.push(field(Tag::DateTimeOriginal, ascii(t)));
    }
    if let Some(o) = exif.offset {
        fields.push(field(Tag::OffsetTimeOriginal, ascii(o)));
    }
    if let Some(s) = exif.serial {
        fields.push(field(Tag::BodySerialNumber, ascii(s)));
    }
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, false).unwrap();
    out.into_inner()
}

/// `jpeg` with APP1 EXIF, an APP2 ICC profile stub and a COM comment inserted after SOI.
pub fn with_metadata(jpeg: &[u8], exif: &PhoneExif) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = jpeg[..2].to_vec();
    let mut segment = |marker: u8, payload: &[u8]| {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
    };
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_block(exif));
    segment(0xE1, &app1);
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend_from_slice(&[0u8; 128]);
    segment(0xE2, &icc);
    segment(0xFE, b"serial 123456 owner Jean Dupont");
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The markers of a JPEG up to the first SOS (the metadata area), e.g. [0xE0, 0xDB, 0xC0, ...].
pub fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "marker expected at {i}");
        let marker = jpeg[i + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    markers
}

/// The first quantisation value (luma DC) of a JPEG, which encodes its quality setting.
pub fn first_luma_quant(jpeg: &[u8]) -> u8 {
    let pos = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xDB])
        .expect("a DQT segment");
    jpeg[pos + 5]
}

/// A JPEG header (SOI, DQT-less SOF0) announcing `width`×`height`, with no image data.
pub fn jpeg_bomb_header(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG signature and a valid IHDR chunk announcing `width`×`height` RGB8, then a tiny
/// IDAT and IEND: the header is well-formed, the promise is the bomb.
pub fn png_bomb_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], payload: &[u8]| {
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(payload);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

/// Decodes a JPEG with `image` (an independent decoder) to RGB8.
pub fn decode_rgb(jpeg: &[u8]) -> Rgb {
    let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .into_rgb8();
    Rgb {
        width: image.width(),
        height: image.height(),
        data: image.into_raw(),
    }
}

/// The pixel at (x, y).
pub fn pixel(image: &Rgb, x: u32, y: u32) -> [u8; 3] {
    let i = (y as usize * image.width as usize + x as usize) * 3;
    [image.data[i], image.data[i + 1], image.data[i + 2]]
}

/// True when two colours differ by at most `tolerance` on every channel.
pub fn close(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

/// Peak signal-to-noise ratio between two RGB8 images of the same size, in dB.
pub fn psnr(a: &Rgb, b: &Rgb) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let sum: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let mse = sum / a.data.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

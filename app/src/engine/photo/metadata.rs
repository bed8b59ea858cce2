//! Reads what the original photo says about where and when it was taken, and how it is turned.
//!
//! Read from the original before anything is stripped, so the capture screen can offer the
//! photo's GPS position and time when the device has no fix (a photo picked from the gallery
//! after the walk). Broken EXIF is never an error: the photo is still usable without it.

use std::io::Cursor;

use balade_protocol::incident::Position;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use exif::{Exif, In, Tag, Value};

/// Capture facts found in the original's EXIF.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureMetadata {
    /// GPSLatitude/GPSLongitude, with GPSHPositioningError as the accuracy when present.
    pub position: Option<Position>,
    /// DateTimeOriginal (falling back to DateTime).
    pub taken_at: Option<TakenAt>,
    /// EXIF Orientation, 1..=8 (1 when absent or invalid).
    pub orientation: u8,
}

/// A camera time: EXIF stores the local wall-clock time, and the offset only when the camera
/// wrote OffsetTimeOriginal (EXIF 2.31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenAt {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl TakenAt {
    /// The instant, when the offset is known.
    pub fn to_utc(&self) -> Option<DateTime<Utc>> {
        let offset = self.offset?;
        offset
            .from_local_datetime(&self.local)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Reads GPS, time and orientation from the EXIF of a JPEG, PNG (eXIf) or other container.
pub fn read_capture_metadata(bytes: &[u8]) -> CaptureMetadata {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => from_exif(&exif),
        Err(_) => CaptureMetadata {
            orientation: 1,
            ..CaptureMetadata::default()
        },
    }
}

fn from_exif(exif: &Exif) -> CaptureMetadata {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u8::try_from(o).ok())
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1);
    CaptureMetadata {
        position: gps_position(exif),
        taken_at: taken_at(exif),
        orientation,
    }
}

fn gps_position(exif: &Exif) -> Option<Position> {
    let lat = degrees(exif, Tag::GPSLatitude)?;
    let lon = degrees(exif, Tag::GPSLongitude)?;
    let lat = if ascii(exif, Tag::GPSLatitudeRef).as_deref() == Some("S") {
        -lat
    } else {
        lat
    };
    let lon = if ascii(exif, Tag::GPSLongitudeRef).as_deref() == Some("W") {
        -lon
    } else {
        lon
    };
    let accuracy = exif
        .get_field(Tag::GPSHPositioningError, In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Rational(r) if !r.is_empty() && r[0].denom != 0 => Some(r[0].to_f64()),
            _ => None,
        });
    // A camera without a fix sometimes writes 0/0: treat it as absent, not as the Gulf of Guinea.
    if lat == 0.0 && lon == 0.0 {
        return None;
    }
    Position::new(lat, lon, accuracy)
        .or_else(|_| Position::new(lat, lon, None))
        .ok()
}

/// Degrees from the three rationals degrees, minutes, seconds.
fn degrees(exif: &Exif, tag: Tag) -> Option<f64> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Rational(parts) = &field.value else {
        return None;
    };
    if parts.is_empty() || parts.iter().any(|p| p.denom == 0) {
        return None;
    }
    let part = |i: usize| parts.get(i).map_or(0.0, |r| r.to_f64());
    Some(part(0) + part(1) / 60.0 + part(2) / 3600.0)
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(values) = &field.value else {
        return None;
    };
    let text = String::from_utf8_lossy(values.first()?);
    Some(
        text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_owned(),
    )
}

fn taken_at(exif: &Exif) -> Option<TakenAt> {
    let (text, offset_tag) = ascii(exif, Tag::DateTimeOriginal)
        .map(|t| (t, Tag::OffsetTimeOriginal))
        .or_else(|| ascii(exif, Tag::DateTime).map(|t| (t, Tag::OffsetTime)))?;
    let local = NaiveDateTime::parse_from_str(&text, "%Y:%m:%d %H:%M:%S").ok()?;
    let offset = ascii(exif, offset_tag).and_then(|o| parse_offset(&o));
    Some(TakenAt { local, offset })
}

/// "+02:00" / "-05:30" as EXIF writes offsets.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let seconds = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_like_exif_writes_them() {
        assert_eq!(parse_offset("+02:00"), FixedOffset::east_opt(7200));
        assert_eq!(parse_offset("-05:30"), FixedOffset::east_opt(-19800));
        assert_eq!(parse_offset("  :  "), None);
    }

    #[test]
    fn garbage_gives_no_metadata_and_upright_orientation() {
        let m = read_capture_metadata(b"not an image at all");
        assert_eq!(
            m,
            CaptureMetadata {
                position: None,
                taken_at: None,
                orientation: 1
            }
        );
    }
}

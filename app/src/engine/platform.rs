//! Platform services behind small traits, so the engine and the UI ask "where am I", "give me
//! a photo" and "am I on Wi-Fi" without knowing the device.
//!
//! Desktop (this build): position is typed, read from a photo's EXIF GPS tags, or replayed
//! from a GPX track (`BALADE_GPX=walk.gpx`, for testing walks); photos come from file paths:
//! chosen in the system's file picker (Dioxus desktop opens it for a file input: the desktop
//! portal, or zenity where no portal runs), typed, or dropped on the window; connectivity is
//! "unknown", so "photos only on Wi-Fi" never blocks.
//!
//! Mobile (not compiled here, documented for the Android/iOS build):
//! - `LocationSource`: the webview's `navigator.geolocation.getCurrentPosition` called through
//!   `dioxus::document::eval`, which sends `{lat, lon, accuracy}` back with `dioxus.send`
//!   (Android pages are served from a secure scheme, wry asks for the location permission
//!   declared in Dioxus.toml). `dioxus-sdk`'s geolocation does not support Android/iOS.
//! - `PhotoSource`: an `<input type=file accept="image/*" capture="environment">` created by
//!   eval outside the Dioxus tree (Dioxus 0.7.10's mobile file dialog returns nothing); the
//!   bytes come back base64-encoded through eval and are written to a temp file.
//! - `Connectivity`: `navigator.connection.type` where the webview exposes it (Android
//!   Chrome WebView), else "unknown".

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use balade_protocol::incident::Position;

use crate::engine::photo::{CaptureMetadata, read_capture_metadata};

/// Where a position came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionSourceKind {
    Device,
    PhotoExif,
    GpxReplay,
}

/// Why no position could be had.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error("aucune source de position sur cet appareil : saisissez la position")]
    Unavailable,
    #[error("trace GPX illisible ({path}) : {problem}")]
    Gpx { path: PathBuf, problem: String },
    #[error("la trace GPX est terminée")]
    TrackEnded,
}

/// "Where am I now?"
pub trait LocationSource: Send + Sync {
    fn current(&self) -> Result<(Position, PositionSourceKind), LocationError>;
}

/// "Give me a photo": on desktop, a file path the user typed or dropped.
pub trait PhotoSource: Send + Sync {
    fn pick(&self, typed_path: &str) -> Result<PathBuf, std::io::Error>;
}

/// Network type, as far as the platform tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    Wifi,
    Cellular,
    Offline,
    Unknown,
}

pub trait Connectivity: Send + Sync {
    fn network(&self) -> NetworkKind;

    /// Whether photos may be uploaded now given the "Wi-Fi only" setting. Unknown counts as
    /// allowed: the setting only holds back when the platform says "cellular".
    fn photos_allowed(&self, wifi_only: bool) -> bool {
        !(wifi_only && self.network() == NetworkKind::Cellular)
    }
}

/// Desktop: nothing tells the network type.
pub struct DesktopConnectivity;

impl Connectivity for DesktopConnectivity {
    fn network(&self) -> NetworkKind {
        NetworkKind::Unknown
    }
}

/// Desktop photo source: the path must name a readable file.
pub struct FilePathPhotos;

impl PhotoSource for FilePathPhotos {
    fn pick(&self, typed_path: &str) -> Result<PathBuf, std::io::Error> {
        let trimmed = typed_path.trim().trim_matches('"').trim_matches('\'');
        let path = PathBuf::from(trimmed.strip_prefix("file://").unwrap_or(trimmed));
        if !std::fs::metadata(&path)?.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file",
            ));
        }
        Ok(path)
    }
}

/// Desktop without a GPX track: no live position.
pub struct NoLocation;

impl LocationSource for NoLocation {
    fn current(&self) -> Result<(Position, PositionSourceKind), LocationError> {
        Err(LocationError::Unavailable)
    }
}

/// Replays a GPX track one point per request: tests a walk at a desk.
pub struct GpxReplay {
    points: Vec<Position>,
    next: Mutex<usize>,
}

impl GpxReplay {
    pub fn open(path: &Path) -> Result<GpxReplay, LocationError> {
        let problem = |p: String| LocationError::Gpx {
            path: path.to_path_buf(),
            problem: p,
        };
        let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
        let points = parse_gpx_points(&text).map_err(problem)?;
        Ok(GpxReplay {
            points,
            next: Mutex::new(0),
        })
    }

    pub fn from_points(points: Vec<Position>) -> GpxReplay {
        GpxReplay {
            points,
            next: Mutex::new(0),
        }
    }
}

impl LocationSource for GpxReplay {
    fn current(&self) -> Result<(Position, PositionSourceKind), LocationError> {
        let mut next = self.next.lock().expect("gpx cursor");
        let point = self
            .points
            .get(*next)
            .copied()
            .ok_or(LocationError::TrackEnded)?;
        *next += 1;
        Ok((point, PositionSourceKind::GpxReplay))
    }
}

/// The desktop location source: a GPX replay when `BALADE_GPX` names a track, else none.
pub fn desktop_location() -> Box<dyn LocationSource> {
    match std::env::var_os("BALADE_GPX") {
        Some(path) => match GpxReplay::open(Path::new(&path)) {
            Ok(replay) => Box::new(replay),
            Err(e) => {
                tracing::warn!("{e}");
                Box::new(NoLocation)
            }
        },
        None => Box::new(NoLocation),
    }
}

/// Track, route and waypoints (`trkpt`, `rtept`, `wpt`) of a GPX 1.0/1.1 file, in order.
/// A tiny attribute scanner: GPX points are `<trkpt lat=".." lon="..">` in every producer.
pub fn parse_gpx_points(text: &str) -> Result<Vec<Position>, String> {
    if !text.contains("<gpx") {
        return Err("pas un fichier GPX".into());
    }
    let mut points = Vec::new();
    for tag in ["<trkpt", "<rtept", "<wpt"] {
        for (start, _) in text.match_indices(tag) {
            let rest = &text[start..];
            let end = rest.find('>').ok_or("balise non fermée")?;
            let head = &rest[..end];
            let lat = attribute(head, "lat").ok_or("lat manquant")?;
            let lon = attribute(head, "lon").ok_or("lon manquant")?;
            let position = Position::new(lat, lon, None).map_err(|e| e.to_string())?;
            points.push((start, position));
        }
    }
    points.sort_by_key(|(start, _)| *start);
    if points.is_empty() {
        return Err("aucun point".into());
    }
    Ok(points.into_iter().map(|(_, p)| p).collect())
}

fn attribute(head: &str, name: &str) -> Option<f64> {
    for quote in ['"', '\''] {
        let key = format!(" {name}={quote}");
        if let Some(i) = head.find(&key) {
            let value = &head[i + key.len()..];
            let value = &value[..value.find(quote)?];
            return value.trim().parse().ok();
        }
    }
    None
}

/// What a photo file's EXIF says about where and when it was taken (the desktop's stand-in
/// for a location fix: a photo picked after the walk). One reader for the UI and the engine:
/// [`crate::engine::photo::metadata::read_capture_metadata`].
pub fn exif_capture_metadata(path: &Path) -> CaptureMetadata {
    match std::fs::read(path) {
        Ok(bytes) => read_capture_metadata(&bytes),
        Err(_) => CaptureMetadata::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpx_points_are_replayed_in_file_order() {
        let gpx = r#"<?xml version="1.0"?><gpx version="1.1"><trk><trkseg>
            <trkpt lat="46.1591" lon="-1.1517"><ele>3</ele></trkpt>
            <trkpt lon='-1.1520' lat='46.1595'/></trkseg></trk></gpx>"#;
        let replay = GpxReplay::from_points(parse_gpx_points(gpx).unwrap());
        let (first, kind) = replay.current().unwrap();
        assert_eq!(
            (first.lat, first.lon, kind),
            (46.1591, -1.1517, PositionSourceKind::GpxReplay)
        );
        assert_eq!(replay.current().unwrap().0.lat, 46.1595);
        assert!(matches!(replay.current(), Err(LocationError::TrackEnded)));
    }

    #[test]
    fn bad_gpx_is_refused_with_a_reason() {
        for bad in [
            "<html>",
            "<gpx></gpx>",
            r#"<gpx><trkpt lat="99" lon="0"/></gpx>"#,
        ] {
            assert!(parse_gpx_points(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wifi_only_holds_photos_back_on_cellular_only() {
        struct Fixed(NetworkKind);
        impl Connectivity for Fixed {
            fn network(&self) -> NetworkKind {
                self.0
            }
        }
        assert!(!Fixed(NetworkKind::Cellular).photos_allowed(true));
        assert!(Fixed(NetworkKind::Cellular).photos_allowed(false));
        assert!(Fixed(NetworkKind::Unknown).photos_allowed(true));
        assert!(Fixed(NetworkKind::Wifi).photos_allowed(true));
    }
}

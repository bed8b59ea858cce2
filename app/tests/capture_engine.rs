//! The engine's capture path on a real device store: a photo's EXIF position and time stand in
//! when the device has no fix, the address comes from the city's street referential offline,
//! Lambert-93 is derived, and a capture with no position at all is refused with nothing queued.

#[path = "photo_support/mod.rs"]
mod photo_support;

use balade_app::engine::capture::{CaptureInput, capture_incident};
use balade_app::engine::store::DeviceStore;
use balade_protocol::incident::{Address, Position};
use photo_support::*;

fn input(position: Option<Position>, photos: Vec<Vec<u8>>) -> CaptureInput {
    CaptureInput {
        category: "voirie".into(),
        subcategory: "nid_de_poule".into(),
        comment: "  Trou profond devant l'école  ".into(),
        position,
        observed_at: None,
        extra: Default::default(),
        address: None,
        asset: None,
        photos,
    }
}

/// A 1200×900 JPEG whose EXIF says it was taken in La Rochelle, 8 m accuracy.
fn geotagged_photo() -> Vec<u8> {
    let exif = PhoneExif {
        gps: Some((46.15914, -1.15218, Some(8.0))),
        taken: Some("2026:05:14 09:30:00"),
        offset: Some("+02:00"),
        ..Default::default()
    };
    with_metadata(&jpeg(&phone_scene(1200, 900, 3), 90), &exif)
}

#[test]
fn without_a_fix_the_photo_exif_gives_position_time_and_the_street_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let incident = capture_incident(&mut store, input(None, vec![geotagged_photo()])).unwrap();
    assert!(
        (incident.position.lat - 46.15914).abs() < 1e-4,
        "{:?}",
        incident.position
    );
    assert!((incident.position.lon + 1.15218).abs() < 1e-4);
    assert_eq!(incident.position.accuracy_m, Some(8.0));
    assert_eq!(
        incident.observed_at.to_rfc3339(),
        "2026-05-14T07:30:00+00:00"
    );
    assert_eq!(incident.comment, "Trou profond devant l'école");
    let address = incident.address.clone().expect("a street of La Rochelle");
    assert!(address.label.ends_with("17000 La Rochelle"), "{address:?}");
    assert!(!address.edited);
    let xy = incident.lambert93.unwrap();
    assert!((370_000.0..390_000.0).contains(&xy.x), "{xy:?}");
    // Queued with its stripped photo and thumbnail on disk.
    let detail = store.incident_detail(incident.id).unwrap();
    assert_eq!(detail.incident, incident);
    let photo = store.photo_path(&incident.photos[0].sha256);
    assert!(photo.exists() && photo.with_extension("thumb.jpg").exists());
}

#[test]
fn a_typed_position_and_address_win_over_exif_and_the_referential() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let typed = Position::new(46.1600, -1.1500, Some(3.0)).unwrap();
    let mut capture = input(Some(typed), vec![geotagged_photo()]);
    capture.address = Some(Address {
        label: "Devant le 12, quai Duperré".into(),
        edited: true,
        ..Default::default()
    });
    let incident = capture_incident(&mut store, capture).unwrap();
    assert_eq!(incident.position, typed);
    assert_eq!(
        incident.address.unwrap().label,
        "Devant le 12, quai Duperré"
    );
}

#[test]
fn no_position_anywhere_is_refused_and_nothing_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let plain = jpeg(&phone_scene(800, 600, 5), 90);
    let error = capture_incident(&mut store, input(None, vec![plain])).unwrap_err();
    assert!(error.to_string().contains("position manquante"), "{error}");
    assert!(store.list_queue().unwrap().is_empty());
}

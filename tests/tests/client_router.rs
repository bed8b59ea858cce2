//! The sync client against the real server router served in-process over loopback HTTP (no
//! binaries needed): push, tus photo upload with resume, feed, idempotent re-sync.

use std::sync::{Arc, Mutex};

use balade_app::engine::store::{DeviceStore, LocalState, UploadState};
use balade_app::engine::sync_client::{SyncOptions, run_sync};
use balade_app::engine::sync_machine::{Outcome, Progress, SyncConfig};
use balade_protocol::incident::{Incident, Position};
use balade_tests::{InProcessServer, count, file_sha256, server_db, server_photo_path, write_jpeg};

fn incident(store: &DeviceStore, photo_bytes: Option<&[u8]>) -> Incident {
    let photos = photo_bytes
        .map(|b| vec![store.store_photo(b, "image/jpeg").unwrap()])
        .unwrap_or_default();
    Incident {
        id: uuid::Uuid::now_v7(),
        walk_id: None,
        comment: "Lampadaire éteint".into(),
        observed_at: chrono::Utc::now(),
        category: "eclairage".into(),
        subcategory: "eteint".into(),
        extra: Default::default(),
        photos,
        position: Position::new(46.16, -1.15, Some(4.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    }
}

fn options() -> SyncOptions {
    SyncOptions {
        config: SyncConfig {
            max_retries: Some(0),
            ..SyncConfig::default()
        },
        seed: 9,
        chunk_size: 50_000,
        sync_now: None,
    }
}

#[test]
fn client_pushes_uploads_and_reads_the_feed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(&tmp.path().join("server"));
    let jpeg_path = tmp.path().join("p.jpg");
    write_jpeg(&jpeg_path, 1000, 800, 1);
    let jpeg = std::fs::read(&jpeg_path).unwrap();

    let mut store = DeviceStore::open(tmp.path().join("device")).unwrap();
    store.set_enrollment(&server.enrollment).unwrap();
    let with_photo = incident(&store, Some(&jpeg));
    let without = incident(&store, None);
    store
        .queue_incidents(&[with_photo.clone(), without.clone()])
        .unwrap();
    let shared = Arc::new(Mutex::new(store));

    let mut seen = Vec::<Progress>::new();
    let report = server
        .runtime
        .block_on(run_sync(&shared, options(), &mut |p| seen.push(p)))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:?}");
    assert_eq!(report.n_acknowledged, 2);
    assert_eq!(report.n_photos_uploaded, 1);
    let last = *seen.last().unwrap();
    assert_eq!((last.items_done, last.items_total), (2, 2));
    assert_eq!(last.bytes_done, jpeg.len() as u64);
    assert_eq!(last.bytes_total, jpeg.len() as u64);

    let sha = &with_photo.photos[0].sha256;
    assert_eq!(file_sha256(&server_photo_path(&server.data, sha)), *sha);
    {
        let store = shared.lock().unwrap();
        for id in [with_photo.id, without.id] {
            let detail = store.incident_detail(id).unwrap();
            assert_eq!(detail.item.local_state, LocalState::Acknowledged);
            assert!(detail.item.reference.is_some());
            assert!(
                !detail.timeline.is_empty(),
                "the feed brought the 'received' event"
            );
        }
        assert_eq!(
            store.photos_of(with_photo.id).unwrap()[0].upload_state,
            UploadState::Uploaded
        );
    }

    // A second run changes nothing and stores nothing twice.
    let report = server
        .runtime
        .block_on(run_sync(&shared, options(), &mut |_| {}))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    assert_eq!(report.n_acknowledged, 0);
    let db = server_db(&server.data);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 2);
}

#[test]
fn reupload_of_a_photo_the_server_holds_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(&tmp.path().join("server"));
    let jpeg_path = tmp.path().join("p.jpg");
    write_jpeg(&jpeg_path, 1600, 1200, 2);
    let jpeg = std::fs::read(&jpeg_path).unwrap();
    let mut store = DeviceStore::open(tmp.path().join("device")).unwrap();
    store.set_enrollment(&server.enrollment).unwrap();
    let record = incident(&store, Some(&jpeg));
    store.queue_incident(&record).unwrap();
    let shared = Arc::new(Mutex::new(store));

    // After a full run, the device forgets it uploaded the photo (as after a restore): the next
    // run uploads it again and the server still holds exactly one file with the right hash.
    let report = server
        .runtime
        .block_on(run_sync(&shared, options(), &mut |_| {}))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:?}");
    let sha = record.photos[0].sha256.clone();
    {
        let store = shared.lock().unwrap();
        store.mark_photo_missing(&sha, None).unwrap();
    }
    let report = server
        .runtime
        .block_on(run_sync(&shared, options(), &mut |_| {}))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:?}");
    assert_eq!(report.n_photos_uploaded, 1);
    assert_eq!(
        count(&server_db(&server.data), "SELECT COUNT(*) FROM photos"),
        1
    );
    assert_eq!(file_sha256(&server_photo_path(&server.data, &sha)), sha);
}

#[test]
fn photos_held_for_wifi_wait_on_the_device_and_go_on_the_next_run() {
    // "Photos seulement en Wi-Fi" on cellular: the report reaches the server at once, its photo
    // waits on the device (nothing lost), and goes with the next run on Wi-Fi.
    let tmp = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(&tmp.path().join("server"));
    let jpeg_path = tmp.path().join("p.jpg");
    write_jpeg(&jpeg_path, 800, 600, 3);
    let jpeg = std::fs::read(&jpeg_path).unwrap();
    let mut store = DeviceStore::open(tmp.path().join("device")).unwrap();
    store.set_enrollment(&server.enrollment).unwrap();
    let report_with_photo = incident(&store, Some(&jpeg));
    store
        .queue_incidents(std::slice::from_ref(&report_with_photo))
        .unwrap();
    let shared = Arc::new(Mutex::new(store));
    let sha = report_with_photo.photos[0].sha256.clone();

    let mut on_cellular = options();
    on_cellular.config.hold_photos = true;
    let report = server
        .runtime
        .block_on(run_sync(&shared, on_cellular, &mut |_| {}))
        .unwrap();
    assert_eq!(report.n_acknowledged, 1, "{report:?}");
    assert_eq!((report.photos_held, report.n_photos_uploaded), (1, 0));
    assert!(!server_photo_path(&server.data, &sha).exists());
    let db = server_db(&server.data);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests WHERE incomplete = 1"),
        1
    );
    {
        let store = shared.lock().unwrap();
        let photos = store.photos_of(report_with_photo.id).unwrap();
        assert_ne!(photos[0].upload_state, UploadState::Uploaded);
        assert!(photos[0].path.exists(), "the photo waits on the device");
    }

    let report = server
        .runtime
        .block_on(run_sync(&shared, options(), &mut |_| {}))
        .unwrap();
    assert_eq!(
        (report.photos_held, report.n_photos_uploaded),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(file_sha256(&server_photo_path(&server.data, &sha)), sha);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests WHERE incomplete = 1"),
        0
    );
}

//! Store tests on a real SQLite file in a temp dir.

use super::*;
use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::incident::Position;
use balade_protocol::status::EventKind;

pub(crate) fn sample_incident(store: &DeviceStore, with_photo: bool) -> Incident {
    let photos = if with_photo {
        vec![
            store
                .store_photo(format!("photo {}", Uuid::now_v7()).as_bytes(), "image/jpeg")
                .unwrap(),
        ]
    } else {
        vec![]
    };
    Incident {
        id: Uuid::now_v7(),
        walk_id: None,
        comment: "Banc cassé".into(),
        observed_at: "2026-05-01T10:00:00Z".parse().unwrap(),
        category: "mobilier_urbain".into(),
        subcategory: "banc".into(),
        extra: Default::default(),
        photos,
        position: Position::new(46.16, -1.15, Some(5.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    }
}

fn event(seq: i64, incident_id: Uuid, kind: EventKind, state: State) -> StatusEvent {
    StatusEvent {
        seq,
        incident_id,
        kind,
        state,
        at: "2026-05-02T10:00:00Z".parse().unwrap(),
        reference: "LR-2026-000001".into(),
        service: Some("Service Voirie".into()),
        outside_body: None,
        note: None,
        planned_date: (state == State::Scheduled).then(|| "2026-06-01".parse().unwrap()),
        reason: (state == State::Refused).then(|| "Hors compétence".into()),
        duplicate_of: None,
        category: None,
        subcategory: None,
        address: None,
    }
}

fn state_of(store: &DeviceStore, id: Uuid) -> LocalState {
    store.incident_detail(id).unwrap().item.local_state
}

#[test]
fn queue_claim_acknowledge_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let incident = sample_incident(&store, true);
    store.queue_incident(&incident).unwrap();
    assert_eq!(
        store.sync_snapshot().unwrap().pending_ids,
        vec![incident.id]
    );

    let (claimed, walks) = store.claim_for_push(&[incident.id]).unwrap();
    assert_eq!(claimed, vec![incident.clone()]);
    assert!(walks.is_empty());
    assert_eq!(state_of(&store, incident.id), LocalState::Sending);

    let sha = incident.photos[0].sha256.clone();
    store
        .apply_push(&[RecordDecision::Acknowledge {
            id: incident.id,
            reference: Some("LR-2026-000001".into()),
            tracking_code: Some("ABCDEFGH".into()),
            missing_photos: vec![sha.clone()],
        }])
        .unwrap();
    let detail = store.incident_detail(incident.id).unwrap();
    assert_eq!(detail.item.local_state, LocalState::Acknowledged);
    assert_eq!(detail.item.reference.as_deref(), Some("LR-2026-000001"));
    assert_eq!(detail.photos[0].upload_state, UploadState::Missing);
    let snapshot = store.sync_snapshot().unwrap();
    assert!(snapshot.pending_ids.is_empty());
    assert_eq!(
        snapshot.photos_to_upload,
        vec![PhotoTask {
            sha256: sha.clone(),
            size: incident.photos[0].size,
            offset: 0
        }]
    );

    store
        .set_upload_progress(&sha, Some("/api/v1/uploads/x"), 3)
        .unwrap();
    assert_eq!(store.sync_snapshot().unwrap().photos_to_upload[0].offset, 3);
    store.mark_photo_uploaded(&sha).unwrap();
    assert!(store.sync_snapshot().unwrap().photos_to_upload.is_empty());
    assert_eq!(store.find("LR-2026-000001").unwrap(), incident.id);
    assert_eq!(store.find("abcdefgh").unwrap(), incident.id);
}

#[test]
fn freeze_and_requeue_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let a = sample_incident(&store, false);
    let b = sample_incident(&store, false);
    store.queue_incidents(&[a.clone(), b.clone()]).unwrap();
    store.claim_for_push(&[a.id, b.id]).unwrap();
    store
        .apply_push(&[
            RecordDecision::Freeze {
                id: a.id,
                code: "id_conflict".into(),
                message: "conflit".into(),
            },
            RecordDecision::Requeue { id: b.id },
        ])
        .unwrap();
    let a_detail = store.incident_detail(a.id).unwrap().item;
    assert_eq!(a_detail.local_state, LocalState::Frozen);
    assert_eq!(a_detail.last_error_code.as_deref(), Some("id_conflict"));
    assert_eq!(state_of(&store, b.id), LocalState::Queued);
    // A frozen record is not editable any more.
    assert!(store.queue_incident(&a).is_err());
    // The export carries what a sync would still deliver: b, not the frozen a.
    let selection = store.export_selection().unwrap();
    assert_eq!(
        selection.incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    assert_eq!(selection.frozen_left, 1);
}

#[test]
fn feed_page_applied_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let incident = sample_incident(&store, false);
    store.queue_incident(&incident).unwrap();
    store.claim_for_push(&[incident.id]).unwrap();
    store
        .apply_push(&[RecordDecision::Acknowledge {
            id: incident.id,
            reference: None,
            tracking_code: None,
            missing_photos: vec![],
        }])
        .unwrap();
    let page = FeedPage {
        protocol: PROTOCOL_VERSION,
        events: vec![
            event(5, incident.id, EventKind::Received, State::Received),
            event(9, incident.id, EventKind::Scheduled, State::Scheduled),
        ],
        next_cursor: 9,
        has_more: false,
        taxonomy_version: "x".into(),
    };
    assert_eq!(store.apply_feed_page(&page).unwrap(), 2);
    store.mark_read(incident.id).unwrap();
    let before = store.incident_detail(incident.id).unwrap();
    assert_eq!(store.apply_feed_page(&page).unwrap(), 0);
    let after = store.incident_detail(incident.id).unwrap();
    assert_eq!(before, after);
    assert_eq!(after.item.server_state, Some(State::Scheduled));
    assert_eq!(after.item.planned_date, Some("2026-06-01".parse().unwrap()));
    assert_eq!(after.timeline.len(), 2);
    assert_eq!(store.feed_cursor().unwrap(), 9);
    // An older page replayed never moves the cursor back.
    let old = FeedPage {
        events: vec![page.events[0].clone()],
        next_cursor: 5,
        ..page.clone()
    };
    store.apply_feed_page(&old).unwrap();
    assert_eq!(store.feed_cursor().unwrap(), 9);
    assert_eq!(
        store
            .incident_detail(incident.id)
            .unwrap()
            .item
            .server_state,
        Some(State::Scheduled)
    );
}

#[test]
fn invalid_incidents_are_refused_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let good = sample_incident(&store, false);
    let cases: Vec<(Incident, &str)> = vec![
        (
            Incident {
                category: "nope".into(),
                ..good.clone()
            },
            "catégorie inconnue",
        ),
        (
            Incident {
                subcategory: "nope".into(),
                ..good.clone()
            },
            "sous-catégorie inconnue",
        ),
        (
            Incident {
                comment: "x".repeat(MAX_COMMENT_CHARS + 1),
                ..good.clone()
            },
            "trop long",
        ),
        (
            Incident {
                photos: vec![PhotoRef {
                    sha256: "a".repeat(64),
                    size: 1,
                    mime: "image/jpeg".into(),
                }],
                ..good.clone()
            },
            "photo absente",
        ),
    ];
    for (incident, expected) in cases {
        let message = store.queue_incident(&incident).unwrap_err().to_string();
        assert!(
            message.contains(expected),
            "{message} should contain {expected}"
        );
    }
    assert!(store.list_queue().unwrap().is_empty());
}

#[test]
fn photos_are_written_atomically_and_temp_files_cleaned_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = DeviceStore::open(dir.path()).unwrap();
    let photo = store.store_photo(b"jpeg bytes", "image/jpeg").unwrap();
    assert_eq!(
        std::fs::read(store.photo_path(&photo.sha256)).unwrap(),
        b"jpeg bytes"
    );
    let orphan = dir
        .path()
        .join(PHOTOS_DIR)
        .join(format!("{}.tmp-123", photo.sha256));
    std::fs::write(&orphan, b"half").unwrap();
    drop(store);
    let store = DeviceStore::open(dir.path()).unwrap();
    assert!(!orphan.exists());
    assert_eq!(store.storage_used().unwrap().n_photo_files, 1);
}

#[test]
fn walks_enrolment_and_following() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let now = Utc::now();
    let walk = store
        .start_walk("Balade Tasdon", Some("Tasdon"), &["Élu".into()], now)
        .unwrap();
    assert!(store.start_walk("Autre", None, &[], now).is_err());
    assert_eq!(store.current_walk().unwrap().unwrap().id, walk.id);
    assert_eq!(store.end_walk(now).unwrap().ended_at, Some(now));
    assert!(store.current_walk().unwrap().is_none());

    assert!(store.enrollment().unwrap().is_none());
    let enrollment = Enrollment {
        server_url: "http://x/".into(),
        device_id: Uuid::now_v7(),
        token: "t".into(),
    };
    store.set_enrollment(&enrollment).unwrap();
    let reopened = DeviceStore::open(dir.path()).unwrap();
    assert_eq!(
        reopened.enrollment().unwrap().unwrap().server_url,
        "http://x"
    );

    assert_eq!(
        store.follow("abcd-efgh", Some("mon banc")).unwrap(),
        "ABCDEFGH"
    );
    assert!(store.follow("0000", None).is_err());
    assert_eq!(store.followed().unwrap().len(), 1);
    store.unfollow("ABCDEFGH").unwrap();
    assert!(store.followed().unwrap().is_empty());
}

#[test]
fn migrations_are_valid_and_reopen_is_a_no_op() {
    Migrations::from_directory(&MIGRATIONS_DIR)
        .unwrap()
        .validate()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let incident = sample_incident(&store, true);
    store.queue_incident(&incident).unwrap();
    drop(store);
    let store = DeviceStore::open(dir.path()).unwrap();
    let journal: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    let synchronous: i64 = store
        .conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!((journal.as_str(), synchronous), ("wal", 2));
    assert_eq!(store.list_queue().unwrap().len(), 1);
}

#[test]
fn a_walk_changed_after_its_push_stays_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    store.start_walk("Balade", None, &[], Utc::now()).unwrap();
    assert!(store.sync_snapshot().unwrap().has_dirty_walks);
    let (_, walks) = store.claim_for_push(&[]).unwrap();
    assert_eq!(walks.len(), 1);
    // Ended while the push was in flight: the answer cleans the old body only.
    store.end_walk(Utc::now()).unwrap();
    store.mark_walks_pushed(&walks).unwrap();
    assert!(store.sync_snapshot().unwrap().has_dirty_walks);
    let (_, walks) = store.claim_for_push(&[]).unwrap();
    assert!(walks[0].ended_at.is_some());
    store.mark_walks_pushed(&walks).unwrap();
    assert!(!store.sync_snapshot().unwrap().has_dirty_walks);
}

#[test]
fn the_export_carries_what_a_sync_would_still_deliver() {
    // Queued → in; acknowledged with its photo still to upload → in (the photo would be lost
    // otherwise); acknowledged and complete → out; draft → out (counted).
    let dir = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(dir.path()).unwrap();
    let queued = sample_incident(&store, true);
    let photo_pending = sample_incident(&store, true);
    let complete = sample_incident(&store, true);
    let draft = sample_incident(&store, false);
    store
        .queue_incidents(&[photo_pending.clone(), complete.clone()])
        .unwrap();
    store
        .claim_for_push(&[photo_pending.id, complete.id])
        .unwrap();
    let ack = |incident: &Incident| RecordDecision::Acknowledge {
        id: incident.id,
        reference: Some("LR-2026-000001".into()),
        tracking_code: None,
        missing_photos: vec![incident.photos[0].sha256.clone()],
    };
    store
        .apply_push(&[ack(&photo_pending), ack(&complete)])
        .unwrap();
    store
        .mark_photo_uploaded(&complete.photos[0].sha256)
        .unwrap();
    store.queue_incident(&queued).unwrap();
    store.save_draft(&draft).unwrap();

    let selection = store.export_selection().unwrap();
    let mut ids: Vec<Uuid> = selection.incidents.iter().map(|i| i.id).collect();
    ids.sort();
    let mut expected = vec![queued.id, photo_pending.id];
    expected.sort();
    assert_eq!(ids, expected);
    let shas: Vec<&str> = selection.photos.iter().map(|p| p.sha256.as_str()).collect();
    assert!(shas.contains(&photo_pending.photos[0].sha256.as_str()));
    assert!(!shas.contains(&complete.photos[0].sha256.as_str()));
    assert_eq!(selection.drafts_left, 1);
}

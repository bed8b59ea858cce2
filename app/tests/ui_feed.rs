//! The queue and incident screens on what the real device store made of a push answer and a
//! feed page (the same `DeviceStore::apply_push` / `apply_feed_page` the sync client calls),
//! not on rows built by hand: capture in the UI (with the address and bench found offline),
//! acknowledge, apply the operator's events twice, restart the app, read the screens.

mod ui_support;

use balade_app::engine::store::{DeviceStore, RecordDecision};
use balade_protocol::envelope::FeedPage;
use balade_protocol::status::{EventKind, State, StatusEvent};
use dioxus::prelude::Key;
use ui_support::Harness;

fn event(seq: i64, id: uuid::Uuid, kind: EventKind, state: State) -> StatusEvent {
    ui_support::status_event(seq, id, kind, state, "LR-2026-000007")
}

#[test]
fn a_feed_page_applied_by_the_store_shows_as_received_scheduled_and_unread() {
    let bench = balade_protocol::geo::furniture::la_rochelle()
        .assets()
        .iter()
        .find(|a| a.kind == "banc")
        .unwrap()
        .clone();
    let mut h = Harness::new();
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("comment", "Trou de 30 cm à côté du banc — vélo tombé");
    h.input(
        "position",
        &format!("{}, {}", bench.position.lat, bench.position.lon),
    );
    h.key("position", Key::Enter, false);
    let html = h.html();
    assert!(
        html.contains("La Rochelle") && html.contains("Lambert-93 x"),
        "address and Lambert-93 shown: {html}"
    );
    h.click_code("nearby-asset", &format!("banc:{}", bench.id));
    h.click("save");

    // The sync client's store calls: claim, acknowledge, then the feed page (twice: harmless).
    let mut store = DeviceStore::open(h.dir.path()).unwrap();
    let id = store.list_queue().unwrap()[0].id;
    store.claim_for_push(&[id]).unwrap();
    store
        .apply_push(&[RecordDecision::Acknowledge {
            id,
            reference: Some("LR-2026-000007".into()),
            tracking_code: Some("TR2QFBZZ".into()),
            missing_photos: vec![],
        }])
        .unwrap();
    let mut scheduled = event(3, id, EventKind::Scheduled, State::Scheduled);
    scheduled.planned_date = Some("2026-06-15".parse().unwrap());
    scheduled.note = Some("Équipe voirie secteur nord".into());
    let page = FeedPage {
        protocol: balade_protocol::PROTOCOL_VERSION,
        events: vec![
            event(1, id, EventKind::Received, State::Received),
            event(2, id, EventKind::Routed, State::Routed),
            scheduled,
        ],
        next_cursor: 3,
        has_more: false,
        taxonomy_version: store.taxonomy().version.clone(),
    };
    assert_eq!(store.apply_feed_page(&page).unwrap(), 3);
    assert_eq!(
        store.apply_feed_page(&page).unwrap(),
        0,
        "a page applied twice changes nothing"
    );
    drop(store);

    // Restart the app on the same data directory: everything below comes from the store.
    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-queue");
    let html = h.html();
    assert!(
        html.contains("reçu") && html.contains("Programmé"),
        "{html}"
    );
    assert!(
        html.contains("LR-2026-000007") && html.contains("queue-row unread"),
        "{html}"
    );
    assert!(
        html.contains("intervention prévue le 15/06/2026"),
        "the queue row shows the planned date: {html}"
    );
    h.click("queue-row");
    let html = h.html();
    assert!(
        html.contains("15/06/2026") && html.contains("intervention prévue le 15/06/2026"),
        "{html}"
    );
    assert!(
        html.contains("Transmis à Service Voirie") && html.contains("Équipe voirie secteur nord"),
        "{html}"
    );
    assert!(html.contains("TR2QFBZZ"), "{html}");
    assert!(
        html.contains(&bench.to_asset_ref().label),
        "the attached bench: {html}"
    );
    assert!(
        html.contains("Trou de 30 cm à côté du banc — vélo tombé"),
        "{html}"
    );
    let store = DeviceStore::open(h.dir.path()).unwrap();
    assert!(
        !store.list_queue().unwrap()[0].unread,
        "opening the incident marks it read in the store"
    );
}

#[test]
fn a_photo_the_server_refused_is_explained_on_the_row_the_incident_and_after_a_restart() {
    let mut h = Harness::new();
    let photo = ui_support::write_photo(h.dir.path(), "banc.jpg");
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("photo-path", &photo.display().to_string());
    h.key("photo-path", Key::Enter, false);
    h.input("position", "46.1591, -1.1517");
    h.key("position", Key::Enter, false);
    h.click("save");

    // What the sync client leaves in the store when the server refuses the photo for good:
    // the record acknowledged, the photo missing with the machine's reason, the run's summary.
    let mut store = DeviceStore::open(h.dir.path()).unwrap();
    let id = store.list_queue().unwrap()[0].id;
    let sha = store.photos_of(id).unwrap()[0].sha256.clone();
    store.claim_for_push(&[id]).unwrap();
    store
        .apply_push(&[RecordDecision::Acknowledge {
            id,
            reference: Some("LR-2026-000008".into()),
            tracking_code: Some("TR2QFBZY".into()),
            missing_photos: vec![sha.clone()],
        }])
        .unwrap();
    let reason = "Le serveur a refusé cette photo : fichier endommagé. Reprenez la photo dans un nouveau signalement.";
    store.mark_photo_missing(&sha, Some(reason)).unwrap();
    let summary = "Synchronisation incomplète : 1 photo(s) n'ont pas pu être envoyées.";
    store
        .set_last_sync(chrono::Utc::now(), Some(summary))
        .unwrap();
    drop(store);

    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-queue");
    let html = h.html();
    let escaped = |s: &str| s.replace('\'', "&#39;");
    assert!(
        html.contains(&escaped(summary)),
        "the run's summary after a restart: {html}"
    );
    assert!(
        html.contains(reason),
        "the photo's reason on its row: {html}"
    );
    h.click("queue-row");
    assert!(
        h.html().contains(reason),
        "and on the incident: {}",
        h.html()
    );
}

#[test]
fn a_refused_report_can_be_redone_with_its_photo_comment_and_position() {
    let mut h = Harness::new();
    let photo = ui_support::write_photo(h.dir.path(), "tag.jpg");
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("comment", "Tag sur la façade de l'école");
    h.input("photo-path", &photo.display().to_string());
    h.key("photo-path", Key::Enter, false);
    h.input("position", "46.1591, -1.1517");
    h.key("position", Key::Enter, false);
    h.click("save");
    // The server refuses it (its taxonomy no longer has that sub-category).
    let mut store = DeviceStore::open(h.dir.path()).unwrap();
    let id = store.list_queue().unwrap()[0].id;
    store.claim_for_push(&[id]).unwrap();
    store
        .apply_push(&[RecordDecision::Freeze {
            id,
            code: "unknown_subcategory".into(),
            message: "Sous-catégorie inconnue : nid_de_poule (catégorie voirie)".into(),
        }])
        .unwrap();
    drop(store);

    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-queue");
    h.click("queue-row");
    assert!(h.html().contains("Sous-catégorie inconnue"), "{}", h.html());
    h.click("redo");
    let html = h.html();
    assert!(html.contains("Refaire le signalement refusé"), "{html}");
    h.click_code("tile", "proprete");
    h.click_code("subtile", "tags");
    let html = h.html();
    assert!(
        html.contains("data:image/jpeg;base64,"),
        "the photo came along: {html}"
    );
    assert!(
        html.contains("46.15910, -1.15170"),
        "the position came along: {html}"
    );
    h.click("save");
    assert!(h.html().contains("Signalement enregistré"), "{}", h.html());
    let store = DeviceStore::open(h.dir.path()).unwrap();
    let queue = store.list_queue().unwrap();
    assert_eq!(queue.len(), 2, "a new report beside the refused one");
    let redone = queue.iter().find(|q| q.id != id).unwrap();
    assert_eq!(
        (redone.category.as_str(), redone.subcategory.as_str()),
        ("proprete", "tags")
    );
    assert_eq!(redone.comment, "Tag sur la façade de l'école");
}

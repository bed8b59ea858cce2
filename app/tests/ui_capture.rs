//! Capture flow in the real components, headless: search "trou" → the Nid-de-poule tile, pick
//! it, comment, position, save → the queue shows it "en attente"; a draft survives a restart.

mod photo_support;
mod ui_support;

use dioxus::prelude::Key;
use ui_support::{Harness, write_photo};

#[test]
fn searching_trou_then_saving_puts_a_pothole_in_the_queue_as_en_attente() {
    let mut h = Harness::new();
    assert!(
        h.html().contains("Nouveau signalement"),
        "starts on the capture screen"
    );
    h.input("search", "trou");
    let html = h.html();
    assert!(html.contains("Nid-de-poule"), "{html}");
    h.click_code("tile", "voirie");
    let html = h.html();
    assert!(
        html.contains("Voirie › Nid-de-poule"),
        "tile picked category and sub-category: {html}"
    );
    h.input("comment", "Trou profond devant l'école, 30 cm");
    h.input("position", "46.1591, -1.1517");
    h.key("position", Key::Enter, false);
    assert!(h.html().contains("46.15910, -1.15170"), "{}", h.html());
    h.click("save");
    let html = h.html();
    assert!(html.contains("Signalement enregistré"), "{html}");
    assert!(
        html.contains("Rechercher"),
        "form reset to the tiles: {html}"
    );
    h.click("nav-queue");
    let html = h.html();
    assert!(html.contains("en attente"), "{html}");
    assert!(
        html.contains("Trou profond devant l&#39;école, 30 cm")
            || html.contains("Trou profond devant l'école, 30 cm"),
        "{html}"
    );
    assert!(html.contains("Voirie › Nid-de-poule"), "{html}");
}

#[test]
fn a_search_with_no_match_says_so() {
    let mut h = Harness::new();
    h.input("search", "xylophone");
    let html = h.html();
    assert!(html.contains("Aucune catégorie ne correspond"), "{html}");
    h.input("search", "arbre");
    assert!(!h.html().contains("Aucune catégorie ne correspond"));
}

#[test]
fn saving_without_a_position_says_what_to_do_and_keeps_the_form() {
    let mut h = Harness::new();
    h.input("search", "tag");
    h.key("search", Key::Enter, false);
    h.input("comment", "Tag sur le mur");
    h.click("save");
    let html = h.html();
    assert!(html.contains("position manquante"), "{html}");
    assert!(html.contains("Propreté"), "still on the form: {html}");
}

#[test]
fn a_photo_path_is_attached_and_a_bad_path_is_explained() {
    let mut h = Harness::new();
    let photo = write_photo(h.dir.path(), "banc.jpg");
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("photo-path", "/nulle/part.jpg");
    h.click("photo-add");
    assert!(h.html().contains("Photo introuvable"), "{}", h.html());
    h.input("photo-path", &photo.display().to_string());
    h.key("photo-path", Key::Enter, false);
    let html = h.html();
    assert!(
        html.contains("data:image/jpeg;base64,"),
        "thumbnail shown: {html}"
    );
    assert!(!html.contains("Photo introuvable"), "{html}");
}

#[test]
fn photos_chosen_in_the_file_picker_are_attached_together() {
    let mut h = Harness::new();
    let bench = write_photo(h.dir.path(), "banc.jpg");
    let tree = h.dir.path().join("arbre.jpg");
    image::RgbImage::from_pixel(64, 48, image::Rgb([20, 120, 40]))
        .save(&tree)
        .unwrap();
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    let html = h.html();
    assert!(html.contains("Choisir des photos"), "{html}");
    assert!(
        html.contains(r#"accept=".jpg,.jpeg,.png,.heic,.heif""#),
        "{html}"
    );
    h.pick_files("photo-file", &[bench.as_path(), tree.as_path()]);
    let html = h.html();
    assert_eq!(html.matches("data:image/jpeg;base64,").count(), 2, "{html}");
    // Picking the same photo again does not attach it twice.
    h.pick_files("photo-file", &[bench.as_path()]);
    assert_eq!(h.html().matches("data:image/jpeg;base64,").count(), 2);
}

#[test]
fn a_draft_survives_the_app_being_closed() {
    let mut h = Harness::new();
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.change("extra-danger", "true");
    h.change("extra-taille", "moyen");
    // Typed, never committed (the field still has the focus when the app dies).
    h.input("comment", "commencé avant la coupure");
    let Harness { dir, .. } = h;
    let reopened = Harness::in_dir(dir);
    let html = reopened.html();
    assert!(
        html.contains("Voirie › Nid-de-poule"),
        "draft restored: {html}"
    );
    let draft = reopened.backend.snapshot().draft.unwrap();
    assert_eq!(draft.comment, "commencé avant la coupure");
    assert_eq!(draft.extra["danger"], serde_json::json!(true));
    assert_eq!(draft.extra["taille"], serde_json::json!("moyen"));
    // The restored answers are shown, not only kept.
    assert!(html.contains("commencé avant la coupure"), "{html}");
    let checkbox = html
        .split("<input")
        .skip(1)
        .find(|tag| tag.contains("id=\"extra-danger\""))
        .unwrap();
    assert!(checkbox.contains("checked"), "{checkbox}");
    let moyen = html
        .split("<option")
        .skip(1)
        .find(|tag| tag.contains("value=\"moyen\""))
        .unwrap();
    assert!(moyen.contains("selected"), "{moyen}");
}

#[test]
fn a_position_in_town_fills_the_address_and_a_nearby_bench_can_be_attached_and_detached() {
    let bench = balade_protocol::geo::furniture::la_rochelle()
        .assets()
        .iter()
        .find(|a| a.kind == "banc")
        .unwrap()
        .clone();
    let code = format!("banc:{}", bench.id);
    let mut h = Harness::new();
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input(
        "position",
        &format!("{}, {}", bench.position.lat, bench.position.lon),
    );
    h.key("position", Key::Enter, false);
    let html = h.html();
    assert!(
        html.contains("Rue la plus proche") && html.contains("17000 La Rochelle"),
        "{html}"
    );
    assert!(
        html.contains(&format!("{} · 0 m", bench.to_asset_ref().label)),
        "nearest bench offered: {html}"
    );
    // Attaching twice (a repeated key, a double tap) keeps it attached.
    h.click_code("nearby-asset", &code);
    h.click_code("nearby-asset", &code);
    assert!(h.html().contains("chip chosen"), "{}", h.html());
    h.click("asset-detach");
    assert!(!h.html().contains("chip chosen"), "{}", h.html());
    h.click_code("nearby-asset", &code);
    h.click("save");
    let row = &h.backend.snapshot().rows[0];
    assert_eq!(row.incident.asset, Some(bench.to_asset_ref()));
    let address = row.incident.address.clone().unwrap();
    assert!(
        address.label.ends_with("17000 La Rochelle") && !address.edited,
        "{address:?}"
    );
}

#[test]
fn settings_export_writes_the_unsent_report_and_says_where() {
    let mut h = Harness::new();
    h.click("nav-settings");
    h.click("export");
    assert!(
        h.html().contains("Rien à exporter"),
        "nothing queued yet: {}",
        h.html()
    );
    h.click("nav-capture");
    let photo = write_photo(h.dir.path(), "banc.jpg");
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("photo-path", &photo.display().to_string());
    h.key("photo-path", Key::Enter, false);
    h.input("position", "46.1591, -1.1517");
    h.key("position", Key::Enter, false);
    h.click("save");
    h.click("nav-settings");
    h.click("export");
    let html = h.html();
    assert!(
        html.contains("1 signalement(s), 0 balade(s) et 1 photo(s) exporté(s)"),
        "{html}"
    );
    let exports: Vec<_> = std::fs::read_dir(h.dir.path().join("exports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    let name = exports[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("balade-export-") && name.ends_with(".zip"),
        "{name}"
    );
    assert!(html.contains(&name), "the message names the file: {html}");
    // The queue says the report left by file (it stays queued until a server answers).
    h.click("nav-queue");
    let html = h.html();
    assert!(
        html.contains("exporté le") && html.contains("en attente"),
        "{html}"
    );
}

#[test]
fn a_report_takes_three_taps_plus_a_geotagged_photo() {
    // Tile, sub-category, photo (the camera on a phone, the file picker here), save: the
    // position and time come from the photo, the address from the offline street index.
    use photo_support::{PhoneExif, jpeg, phone_scene, with_metadata};
    let mut h = Harness::new();
    let photo = h.dir.path().join("IMG_0042.jpg");
    let exif = PhoneExif {
        gps: Some((46.15914, -1.15218, Some(8.0))),
        taken: Some("2026:05:14 09:30:00"),
        offset: Some("+02:00"),
        ..Default::default()
    };
    std::fs::write(
        &photo,
        with_metadata(&jpeg(&phone_scene(800, 600, 7), 90), &exif),
    )
    .unwrap();
    h.click_code("tile", "eclairage");
    h.click_code("subtile", "eteint");
    h.pick_files("photo-file", &[photo.as_path()]);
    assert!(h.html().contains("46.15914, -1.15218"), "{}", h.html());
    h.click("save");
    assert!(h.html().contains("Signalement enregistré"), "{}", h.html());
    let mut store = balade_app::engine::store::DeviceStore::open(h.dir.path()).unwrap();
    let queued = store.export_selection().unwrap().incidents;
    assert_eq!(queued.len(), 1);
    let report = &queued[0];
    assert_eq!(
        (report.category.as_str(), report.subcategory.as_str()),
        ("eclairage", "eteint")
    );
    assert_eq!(report.photos.len(), 1);
    assert!((report.position.lat - 46.15914).abs() < 1e-6, "{report:?}");
    assert_eq!(report.observed_at.to_rfc3339(), "2026-05-14T07:30:00+00:00");
    let address = report.address.as_ref().expect("an address found offline");
    assert!(address.label.ends_with("17000 La Rochelle"), "{address:?}");
}

#[test]
fn removing_a_photo_or_changing_category_is_kept_by_the_draft() {
    let mut h = Harness::new();
    let photo = write_photo(h.dir.path(), "banc.jpg");
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("photo-path", &photo.display().to_string());
    h.key("photo-path", Key::Enter, false);
    h.click("photo-remove");
    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    let draft = h.backend.snapshot().draft.unwrap();
    assert!(draft.photos.is_empty(), "the removed photo stays removed");
    h.click("change-category");
    let Harness { dir, .. } = h;
    let h = Harness::in_dir(dir);
    let draft = h.backend.snapshot().draft;
    assert!(
        draft.as_ref().is_none_or(|d| d.category.is_none()),
        "{draft:?}"
    );
    assert!(
        h.html().contains("Rechercher"),
        "back on the tiles: {}",
        h.html()
    );
}

#[test]
fn with_no_position_a_typed_street_places_the_report() {
    // No fix, no geotagged photo: "chef de ville" (no accents, no capitals) offers the city's
    // street; choosing it places the report on its name plate, flagged as approximate.
    let mut h = Harness::new();
    h.input("search", "trou");
    h.key("search", Key::Enter, false);
    h.input("address", "chef de ville");
    let html = h.html();
    assert!(html.contains("placez le signalement sur une rue"), "{html}");
    assert!(
        html.to_lowercase()
            .contains("chef de ville, 17000 la rochelle"),
        "{html}"
    );
    h.click("street-suggestion");
    let html = h.html();
    assert!(html.contains("rue choisie, plaque de rue"), "{html}");
    assert!(html.contains("précision faible"), "{html}");
    h.click("save");
    assert!(h.html().contains("Signalement enregistré"), "{}", h.html());
    let mut store = balade_app::engine::store::DeviceStore::open(h.dir.path()).unwrap();
    let saved = &store.export_selection().unwrap().incidents[0];
    let address = saved.address.as_ref().unwrap();
    assert!(
        address.label.to_lowercase().contains("chef de ville") && !address.edited,
        "{address:?}"
    );
    assert_eq!(saved.position.accuracy_m, Some(100.0));
}

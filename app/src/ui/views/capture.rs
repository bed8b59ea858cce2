//! The capture screen: search or tap a big category tile, pick the sub-category, then comment,
//! extra fields, photos, position and address, and save — four taps plus the photo. Saving is
//! local and instant; the sync sends it later. The half-filled form is kept as a draft.

use dioxus::html::HasFileData;
use dioxus::prelude::*;

use crate::ui::capture_form::{PhotoPick, PositionOrigin};
use crate::ui::i18n::{Lang, tx};
use crate::ui::model::UiModel;
use crate::ui::views::tid;
use crate::ui::{use_backend, use_model};

#[component]
pub fn CaptureScreen() -> Element {
    let model = use_model();
    let m = model.read();
    let key = m.capture.form_key;
    let stage = match (&m.capture.category, &m.capture.subcategory) {
        (None, _) => 0,
        (Some(_), None) => 1,
        (Some(_), Some(_)) => 2,
    };
    drop(m);
    rsx! {
        section { class: "capture", key: "{key}",
            match stage {
                0 => rsx! { CategoryPicker {} },
                1 => rsx! { SubcategoryPicker {} },
                _ => rsx! { DetailsForm {} },
            }
        }
    }
}

/// Keeps the draft on disk after a structural change.
fn keep_draft(backend: &crate::ui::backend::Backend, mut model: Signal<UiModel>) {
    let form = model.read().capture.clone();
    if let Err(e) = backend.save_draft(&form) {
        model.write().notice = Some(e.to_string());
    }
}

#[component]
fn CategoryPicker() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let tiles = m.capture.tiles(&m.taxonomy, lang);
    let walk_title = m.walk.as_ref().map(|w| w.title.clone());
    let redo = m.capture.redo_of.is_some();
    drop(m);
    let pick_backend = backend.clone();
    let pick = move |category: String, sub: Option<String>| {
        let mut m = model.write();
        let taxonomy = m.taxonomy.clone();
        m.capture.pick(&taxonomy, &category, sub.as_deref());
        m.notice = None;
        drop(m);
        keep_draft(&pick_backend, model);
    };
    let mut pick_first = pick.clone();
    rsx! {
        h1 { {tx(lang, "Nouveau signalement", "New report")} }
        if redo {
            p { class: "notice", "data-testid": tid("redo-hint"),
                {tx(lang, "Refaire le signalement refusé : choisissez la catégorie puis enregistrez. Un nouveau signalement partira avec la même photo, le même commentaire et la même position ; l'ancien reste refusé.", "Redoing the refused report: choose the category then save. A new report goes with the same photo, comment and position; the old one stays refused.")}
            }
        }
        if let Some(title) = walk_title {
            p { class: "muted", {tx(lang, "Balade en cours : ", "Current walk: ")} "{title}" }
        }
        input {
            class: "search",
            r#type: "search",
            "data-testid": tid("search"),
            placeholder: tx(lang, "Rechercher : trou, tag, lampadaire…", "Search: pothole, graffiti, lamp…"),
            autofocus: true,
            onmounted: move |e| async move {
                let _ = e.set_focus(true).await;
            },
            oninput: move |e| model.write().capture.query = e.value(),
            onkeydown: move |e| {
                // Read the tiles now, not from this render: fast typing can send Enter before
                // the re-render that follows the last keystroke.
                let first = {
                    let m = model.read();
                    m.capture.tiles(&m.taxonomy, m.lang()).into_iter().next()
                };
                if e.key() == Key::Enter
                    && let Some(tile) = first
                {
                    pick_first(tile.category, tile.subcategory);
                }
            },
        }
        if tiles.is_empty() {
            p { class: "muted", "data-testid": tid("no-match"),
                {tx(lang, "Aucune catégorie ne correspond : essayez un autre mot (trou, tag, arbre, banc…) ou effacez la recherche.", "No category matches: try another word (pothole, graffiti, tree, bench…) or clear the search.")}
            }
        }
        div { class: "tiles",
            for tile in tiles {
                button {
                    key: "{tile.category}-{tile.subcategory:?}",
                    class: "tile",
                    "data-testid": tid("tile"),
                    "data-code": "{tile.category}",
                    onclick: {
                        let mut pick = pick.clone();
                        let tile = tile.clone();
                        move |_| pick(tile.category.clone(), tile.subcategory.clone())
                    },
                    span { class: "tile-emoji", "{tile.emoji}" }
                    span { class: "tile-label", "{tile.label}" }
                }
            }
        }
    }
}

#[component]
fn SubcategoryPicker() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let Some(category) = m
        .capture
        .category
        .as_deref()
        .and_then(|c| m.taxonomy.category(c))
        .cloned()
    else {
        return rsx! {};
    };
    drop(m);
    let label = |fr: &str, en: &str| {
        if lang == Lang::Fr {
            fr.to_string()
        } else {
            en.to_string()
        }
    };
    rsx! {
        h1 { "{category.emoji} " {label(&category.label_fr, &category.label_en)} }
        button { class: "link", "data-testid": tid("change-category"),
            onclick: {
                let backend = backend.clone();
                move |_| {
                    model.write().capture.clear_category();
                    keep_draft(&backend, model);
                }
            },
            {tx(lang, "← Changer de catégorie", "← Change category")}
        }
        div { class: "tiles",
            for sub in category.subcategories.clone() {
                button {
                    key: "{sub.code}",
                    class: "tile sub",
                    "data-testid": tid("subtile"),
                    "data-code": "{sub.code}",
                    onclick: {
                        let backend = backend.clone();
                        let code = sub.code.clone();
                        move |_| {
                            model.write().capture.subcategory = Some(code.clone());
                            keep_draft(&backend, model);
                        }
                    },
                    span { class: "tile-label", {label(&sub.label_fr, &sub.label_en)} }
                }
            }
        }
    }
}

#[component]
fn DetailsForm() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let form = m.capture.clone();
    let kind = m.kind_label(
        form.category.as_deref().unwrap_or(""),
        form.subcategory.as_deref().unwrap_or(""),
    );
    let emoji = form
        .category
        .as_deref()
        .and_then(|c| m.taxonomy.category(c))
        .map(|c| c.emoji.clone())
        .unwrap_or_default();
    drop(m);
    let save_backend = backend.clone();
    let save = move || save_capture(&save_backend, model);
    let save_key = save.clone();
    let save_click = save.clone();
    let draft_backend = backend.clone();
    let typing_backend = backend.clone();
    // While the comment is typed, the draft is written at most once a second (the field
    // losing focus writes it too): a kill loses at most the last second of typing.
    let mut last_draft = use_signal(|| None::<std::time::Instant>);
    // Read once: the input is uncontrolled, a changing `initial_value` would rewrite it.
    let initial_comment = use_hook(|| form.comment.clone());
    rsx! {
        h1 { "{emoji} {kind}" }
        button { class: "link", "data-testid": tid("change-category"),
            onclick: {
                let backend = draft_backend.clone();
                move |_| {
                    model.write().capture.clear_category();
                    keep_draft(&backend, model);
                }
            },
            {tx(lang, "← Changer", "← Change")}
        }
        div { class: "form",
            onkeydown: move |e| {
                if e.key() == Key::Enter && e.modifiers().ctrl() {
                    save_key();
                }
            },
            label { r#for: "comment", {tx(lang, "Commentaire (facultatif)", "Comment (optional)")} }
            textarea {
                id: "comment",
                "data-testid": tid("comment"),
                accesskey: "c",
                rows: "3",
                initial_value: "{initial_comment}",
                autofocus: true,
                onmounted: move |e| async move {
                    let _ = e.set_focus(true).await;
                },
                placeholder: tx(lang, "Ce que vous voyez, où exactement…", "What you see, where exactly…"),
                oninput: move |e| {
                    model.write().capture.comment = e.value();
                    let due = last_draft
                        .peek()
                        .is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(1));
                    if due {
                        last_draft.set(Some(std::time::Instant::now()));
                        keep_draft(&typing_backend, model);
                    }
                },
                onchange: move |e| {
                    model.write().capture.comment = e.value();
                    keep_draft(&draft_backend, model);
                },
            }
            ExtraFields {}
            PhotoField {}
            PositionField {}
            AddressField {}
            NearbyAssets {}
            if !form.problems.is_empty() {
                ul { class: "problems", role: "alert",
                    for problem in form.problems.iter() {
                        li { "{problem}" }
                    }
                }
            }
            button {
                class: "primary big",
                "data-testid": tid("save"),
                accesskey: "e",
                onclick: move |_| save_click(),
                {tx(lang, "Enregistrer", "Save")}
            }
            p { class: "muted small", {tx(lang, "Enregistré sur l'appareil, envoyé à la prochaine synchronisation. (Ctrl+Entrée)", "Saved on the device, sent at the next sync. (Ctrl+Enter)")} }
        }
    }
}

/// The address, filled from the nearest street when a position is set, editable. The input is
/// uncontrolled (no key lost when typing fast); it is re-created with the new text when the
/// address is filled automatically (`address_key` changes).
#[component]
fn AddressField() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let (address, address_key) = (m.capture.address.clone(), m.capture.address_key);
    let found = m
        .capture
        .found_address
        .clone()
        .filter(|f| f.label == address);
    // No position yet: the typed street can place the report (the city's streets, offline).
    let suggestions = if m.capture.position.is_none() && address.trim().chars().count() >= 3 {
        crate::engine::place::street_suggestions(&address, 5)
    } else {
        Vec::new()
    };
    drop(m);
    rsx! {
        label { r#for: "address", {tx(lang, "Adresse (modifiable)", "Address (editable)")} }
        for k in [address_key] {
            input {
                key: "{k}",
                id: "address",
                "data-testid": tid("address"),
                r#type: "text",
                placeholder: tx(lang, "Rue, numéro", "Street, number"),
                initial_value: "{address}",
                oninput: move |e| model.write().capture.set_typed_address(&e.value()),
                onchange: {
                    let backend = backend.clone();
                    move |_| keep_draft(&backend, model)
                },
            }
        }
        if !suggestions.is_empty() {
            p { class: "muted small",
                {tx(lang, "Pas de position : placez le signalement sur une rue de la ville.", "No position: place the report on a city street.")}
            }
            div { class: "nearby",
                for street in suggestions {
                    button { class: "chip", key: "{street.label}",
                        "data-testid": tid("street-suggestion"),
                        onclick: {
                            let backend = backend.clone();
                            let street = street.clone();
                            move |_| {
                                model.write().capture.place_on_street(&street);
                                keep_draft(&backend, model);
                            }
                        },
                        "📍 {street.label}"
                    }
                }
            }
        }
        if let Some(found) = found {
            p { class: "muted small", "data-testid": tid("address-found"),
                {tx(lang, "Rue la plus proche (référentiel de la ville, hors ligne)", "Nearest street (city referential, offline)")}
                if let Some(d) = found.distance_m { " — {d:.0} m" }
            }
        }
    }
}

/// Street furniture near the position, to attach as the incident's asset ("Banc n° 123").
#[component]
fn NearbyAssets() -> Element {
    let model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let nearby = m.capture.nearby.clone();
    let chosen = m.capture.asset.clone();
    let has_position = m.capture.position.is_some();
    drop(m);
    if !has_position {
        return rsx! {};
    }
    rsx! {
        label { {tx(lang, "Mobilier urbain à proximité", "Street furniture nearby")} }
        if nearby.is_empty() {
            p { class: "muted small", "data-testid": tid("nearby-none"),
                {tx(lang, "Aucun mobilier connu à moins de 30 m.", "No known furniture within 30 m.")}
            }
        }
        div { class: "nearby",
            for (idx, item) in nearby.into_iter().enumerate() {
                button {
                    key: "{item.asset.kind}-{item.asset.id}",
                    class: if chosen.as_ref() == Some(&item.asset) { "chip chosen" } else { "chip" },
                    "data-testid": tid("nearby-asset"),
                    "data-code": "{item.asset.kind}:{item.asset.id}",
                    "aria-pressed": if chosen.as_ref() == Some(&item.asset) { "true" } else { "false" },
                    // Alt+M attaches the nearest one from the keyboard.
                    accesskey: if idx == 0 { "m" } else { "" },
                    // Choosing is idempotent (a key repeat or a double tap does not undo it);
                    // "Aucun" below detaches.
                    onclick: {
                        let backend = backend.clone();
                        let mut model = model;
                        move |_| {
                            model.write().capture.choose_asset(Some(idx));
                            keep_draft(&backend, model);
                        }
                    },
                    "{item.asset.label} · {item.distance_m:.0} m"
                }
            }
            if chosen.is_some() {
                button { class: "link small", "data-testid": tid("asset-detach"),
                    onclick: {
                        let backend = backend.clone();
                        let mut model = model;
                        move |_| {
                            model.write().capture.choose_asset(None);
                            keep_draft(&backend, model);
                        }
                    },
                    {tx(lang, "Aucun", "None")}
                }
            }
        }
    }
}

/// Saves the form as an incident: local, instant, offline.
fn save_capture(backend: &crate::ui::backend::Backend, mut model: Signal<UiModel>) {
    let m = model.read();
    let lang = m.lang();
    let walk_id = m.walk.as_ref().map(|w| w.id);
    let built = m
        .capture
        .to_incident(&m.taxonomy, walk_id, chrono::Utc::now());
    let photos = m.capture.photos.clone();
    drop(m);
    match built.map_err(|e| e.message(lang)).and_then(|incident| {
        backend
            .save_incident(incident, &photos)
            .map_err(|e| e.to_string())
    }) {
        Ok(()) => {
            let snapshot = backend.snapshot();
            let mut m = model.write();
            crate::ui::apply_snapshot(&mut m, snapshot);
            m.capture.reset();
            m.notice = Some(
                tx(
                    lang,
                    "Signalement enregistré : il partira à la prochaine synchronisation.",
                    "Report saved: it will be sent at the next sync.",
                )
                .to_string(),
            );
        }
        Err(problem) => {
            model.write().capture.problems = vec![problem];
        }
    }
}

#[component]
fn ExtraFields() -> Element {
    let model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let fields = m
        .capture
        .category
        .as_deref()
        .and_then(|c| m.taxonomy.category(c))
        .map(|c| c.fields.clone())
        .unwrap_or_default();
    // The values of a restored draft, shown again in the (uncontrolled) inputs.
    let saved = m.capture.extra.clone();
    drop(m);
    let text = |fr: &str, en: &str| {
        if lang == Lang::Fr {
            fr.to_string()
        } else {
            en.to_string()
        }
    };
    // Every committed change goes to the form and to the draft, so a kill loses no answer;
    // typing updates the form only (the draft follows when the field is left).
    let set = move |code: String, draft: bool| {
        let backend = backend.clone();
        let mut model = model;
        move |value: String| {
            let mut m = model.write();
            let taxonomy = m.taxonomy.clone();
            m.capture.set_extra(&taxonomy, &code, &value);
            drop(m);
            if draft {
                keep_draft(&backend, model);
            }
        }
    };
    rsx! {
        for field in fields {
            div { class: "extra", key: "{field.code}",
                label { r#for: "extra-{field.code}",
                    {text(&field.label_fr, &field.label_en)} if field.required { " *" }
                }
                match field.kind {
                    balade_protocol::taxonomy::FieldKind::Boolean => rsx! {
                        input { r#type: "checkbox", id: "extra-{field.code}",
                            "data-testid": "extra-{field.code}",
                            initial_checked: saved.get(&field.code) == Some(&serde_json::Value::Bool(true)),
                            onchange: {
                                let mut set = set(field.code.clone(), true);
                                move |e: FormEvent| set(if e.checked() { "true" } else { "false" }.to_string())
                            },
                        }
                    },
                    balade_protocol::taxonomy::FieldKind::Choice => rsx! {
                        select { id: "extra-{field.code}",
                            "data-testid": "extra-{field.code}",
                            onchange: {
                                let mut set = set(field.code.clone(), true);
                                move |e: FormEvent| set(e.value())
                            },
                            option { value: "", "—" }
                            for choice in field.choices.clone() {
                                option { value: "{choice.code}",
                                    initial_selected: saved.get(&field.code).and_then(|v| v.as_str()) == Some(choice.code.as_str()),
                                    {text(&choice.label_fr, &choice.label_en)}
                                }
                            }
                        }
                    },
                    _ => rsx! {
                        input { id: "extra-{field.code}",
                            "data-testid": "extra-{field.code}",
                            r#type: if field.kind == balade_protocol::taxonomy::FieldKind::Number { "number" } else { "text" },
                            initial_value: match saved.get(&field.code) {
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(serde_json::Value::Number(n)) => n.to_string(),
                                _ => String::new(),
                            },
                            oninput: {
                                let mut set = set(field.code.clone(), false);
                                move |e: FormEvent| set(e.value())
                            },
                            onchange: {
                                let mut set = set(field.code.clone(), true);
                                move |e: FormEvent| set(e.value())
                            },
                        }
                    },
                }
            }
        }
    }
}

/// Adds a photo from a path (typed, pasted, or dropped on the field). Its EXIF position fills
/// the position when none is set yet.
fn add_photo(backend: &crate::ui::backend::Backend, mut model: Signal<UiModel>, typed: &str) {
    use crate::engine::platform::PhotoSource;
    let lang = model.read().lang();
    let picked = crate::engine::platform::FilePathPhotos
        .pick(typed)
        .and_then(PhotoPick::from_path);
    match picked {
        Ok(photo) => {
            let exif = crate::engine::platform::exif_capture_metadata(&photo.path).position;
            let mut m = model.write();
            if m.capture.photos.iter().any(|p| p.sha256 == photo.sha256) {
                return;
            }
            if m.capture.position.is_none()
                && let Some(position) = exif
            {
                m.capture.set_position(position, PositionOrigin::PhotoExif);
            }
            m.capture.photos.push(photo);
            m.capture.problems.clear();
            drop(m);
            keep_draft(backend, model);
        }
        Err(e) => {
            model.write().capture.problems = vec![format!(
                "{} {typed} ({e})",
                tx(lang, "Photo introuvable :", "Photo not found:")
            )];
        }
    }
}

#[component]
fn PhotoField() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let photos = m.capture.photos.clone();
    drop(m);
    let mut typed = use_signal(String::new);
    let key_backend = backend.clone();
    let click_backend = backend.clone();
    let drop_backend = backend.clone();
    let picker_backend = backend.clone();
    let remove_backend = backend.clone();
    rsx! {
        label { r#for: "photo-path", {tx(lang, "Photos", "Photos")} }
        div { class: "photos",
            for (idx, photo) in photos.iter().enumerate() {
                div { class: "thumb", key: "{photo.sha256}",
                    if let Some(url) = crate::ui::views::photo_data_url(&photo.path) {
                        img { src: "{url}", alt: "photo {idx}" }
                    } else {
                        span { "📷" }
                    }
                    button { class: "link small", "data-testid": tid("photo-remove"),
                        onclick: {
                            let backend = remove_backend.clone();
                            move |_| {
                                model.write().capture.photos.remove(idx);
                                keep_draft(&backend, model);
                            }
                        },
                        {tx(lang, "Retirer", "Remove")}
                    }
                }
            }
        }
        div { class: "row",
            ondragover: move |e| e.prevent_default(),
            ondrop: move |e| {
                e.prevent_default();
                for file in e.files() {
                    add_photo(&drop_backend, model, &file.path().to_string_lossy());
                }
            },
            input {
                id: "photo-path",
                "data-testid": tid("photo-path"),
                accesskey: "p",
                r#type: "text",
                placeholder: tx(lang, "Chemin du fichier photo, ou glissez-la ici", "Photo file path, or drop it here"),
                oninput: move |e| typed.set(e.value()),
                onkeydown: move |e| {
                    if e.key() == Key::Enter && !e.modifiers().ctrl() {
                        let path = typed.read().clone();
                        add_photo(&key_backend, model, &path);
                    }
                },
            }
            button { "data-testid": tid("photo-add"),
                onclick: move |_| {
                    let path = typed.read().clone();
                    add_photo(&click_backend, model, &path);
                },
                {tx(lang, "Ajouter la photo", "Add photo")}
            }
            // The system's file picker: a click on a file input opens the native dialog
            // (desktop portal, or zenity where there is none) and hands back paths. Dioxus
            // mobile has no such dialog: phones take photos through the camera input
            // described in engine::platform.
            if cfg!(not(any(target_os = "android", target_os = "ios"))) {
            label { class: "button", "data-testid": tid("photo-pick"),
                "📁 "
                {tx(lang, "Choisir des photos…", "Choose photos…")}
                input {
                    id: "photo-file",
                    "data-testid": tid("photo-file"),
                    class: "visually-hidden",
                    accesskey: "f",
                    r#type: "file",
                    accept: PHOTO_FILE_TYPES,
                    multiple: true,
                    onchange: move |e| {
                        for file in e.files() {
                            add_photo(&picker_backend, model, &file.path().to_string_lossy());
                        }
                    },
                }
            }
            }
        }
    }
}

/// What the file picker offers: the formats the photo pipeline reads, and HEIC so that an
/// iPhone photo gets the pipeline's clear message instead of being invisible.
const PHOTO_FILE_TYPES: &str = ".jpg,.jpeg,.png,.heic,.heif";

#[component]
fn PositionField() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let position = m.capture.position;
    let origin = m.capture.position_origin;
    drop(m);
    let mut typed = use_signal(String::new);
    let position_backend = backend.clone();
    let apply_typed = move || {
        let text = typed.read().clone();
        if text.trim().is_empty() {
            return;
        }
        let mut m = model.write();
        match m.capture.set_typed_position(&text) {
            Ok(()) => m.capture.problems.clear(),
            Err(e) => m.capture.problems = vec![e.to_string()],
        }
        drop(m);
        keep_draft(&backend, model);
    };
    let mut apply_on_change = apply_typed.clone();
    let mut apply_on_key = apply_typed.clone();
    rsx! {
        label { r#for: "position", {tx(lang, "Position", "Position")} }
        p { class: "position", "data-testid": tid("position-shown"),
            match (position, origin) {
                (Some(p), Some(o)) => rsx! {
                    "{p.lat:.5}, {p.lon:.5} "
                    span { class: "muted", "({o.label(lang)})" }
                    if let Some(xy) = crate::engine::place::lambert93(&p) {
                        span { class: "muted small", "data-testid": tid("lambert93"),
                            " — Lambert-93 x {xy.x:.0} m, y {xy.y:.0} m"
                        }
                    }
                    if p.is_poor() && o != PositionOrigin::Typed {
                        span { class: "warn", "data-testid": tid("poor-accuracy"),
                            {tx(lang, " ⚠ précision faible : vérifiez l'adresse et la position", " ⚠ poor accuracy: check the address and position")}
                        }
                    }
                },
                _ => rsx! { span { class: "muted", {tx(lang, "aucune position : saisissez-la ou ajoutez une photo géolocalisée", "no position: type it or add a geotagged photo")} } },
            }
        }
        div { class: "row",
            input {
                id: "position",
                "data-testid": tid("position"),
                accesskey: "l",
                r#type: "text",
                placeholder: tx(lang, "latitude, longitude — ex. 46.1591, -1.1517", "latitude, longitude — e.g. 46.1591, -1.1517"),
                oninput: move |e| typed.set(e.value()),
                onchange: move |_| apply_on_change(),
                onkeydown: move |e| {
                    if e.key() == Key::Enter && !e.modifiers().ctrl() {
                        apply_on_key();
                    }
                },
            }
            button { "data-testid": tid("position-here"),
                onclick: move |_| {
                    let current = position_backend.current_position();
                    let mut m = model.write();
                    match current {
                        Ok((p, kind)) => {
                            let origin = match kind {
                                crate::engine::platform::PositionSourceKind::Device => PositionOrigin::Device,
                                crate::engine::platform::PositionSourceKind::PhotoExif => PositionOrigin::PhotoExif,
                                crate::engine::platform::PositionSourceKind::GpxReplay => PositionOrigin::GpxReplay,
                            };
                            m.capture.set_position(p, origin);
                        }
                        Err(e) => m.capture.problems = vec![e.to_string()],
                    }
                },
                {tx(lang, "📍 Ma position", "📍 My position")}
            }
        }
    }
}

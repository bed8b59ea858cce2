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
    let Some(category) = m.capture.category.as_deref().and_then(|c| m.taxonomy.category(c)).cloned() else {
        return rsx! {};
    };
    drop(m);
    let label = |fr: &str, en: &str| if lang == Lang::Fr { fr.to_string() } else { en.to_string() };
    rsx! {
        h1 { "{category.emoji} " {label(&category.label_fr, &category.label_en)} }
        button { class: "link", "data-testid": tid("change-category"),
            onclick: move |_| model.write().capture.clear_category(),
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
    let kind = m.kind_label(form.category.as_deref().unwrap_or(""), form.subcategory.as_deref().unwrap_or(""));
    let emoji = form.category.as_deref().and_then(|c| m.taxonomy.category(c)).map(|c| c.emoji.clone()).unwrap_or_default();
    drop(m);
    let save_backend = backend.clone();
    let save = move || save_capture(&save_backend, model);
    let save_key = save.clone();
    let save_click = save.clone();
    let draft_backend = backend.clone();
    // Read once: the inputs are uncontrolled, a changing `initial_value` would rewrite them.
    let initial = use_hook(|| (form.comment.clone(), form.address.clone()));
    let (initial_comment, initial_address) = initial;
    rsx! {
        h1 { "{emoji} {kind}" }
        button { class: "link", "data-testid": tid("change-category"),
            onclick: move |_| model.write().capture.clear_category(),
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
                oninput: move |e| model.write().capture.comment = e.value(),
                onchange: move |e| {
                    model.write().capture.comment = e.value();
                    keep_draft(&draft_backend, model);
                },
            }
            ExtraFields {}
            PhotoField {}
            PositionField {}
            label { r#for: "address", {tx(lang, "Adresse (modifiable)", "Address (editable)")} }
            input {
                id: "address",
                "data-testid": tid("address"),
                r#type: "text",
                placeholder: tx(lang, "Rue, numéro", "Street, number"),
                initial_value: "{initial_address}",
                oninput: move |e| {
                    let mut m = model.write();
                    m.capture.address = e.value();
                    m.capture.address_edited = true;
                },
            }
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

/// Saves the form as an incident: local, instant, offline.
fn save_capture(backend: &crate::ui::backend::Backend, mut model: Signal<UiModel>) {
    let m = model.read();
    let lang = m.lang();
    let walk_id = m.walk.as_ref().map(|w| w.id);
    let built = m.capture.to_incident(&m.taxonomy, walk_id, chrono::Utc::now());
    let photos = m.capture.photos.clone();
    drop(m);
    match built.map_err(|e| e.to_string()).and_then(|incident| {
        backend.save_incident(incident, &photos).map_err(|e| e.to_string())
    }) {
        Ok(()) => {
            let snapshot = backend.snapshot();
            let mut m = model.write();
            crate::ui::apply_snapshot(&mut m, snapshot);
            m.capture.reset();
            m.notice = Some(tx(lang, "Signalement enregistré : il partira à la prochaine synchronisation.", "Report saved: it will be sent at the next sync.").to_string());
        }
        Err(problem) => {
            model.write().capture.problems = vec![problem];
        }
    }
}

#[component]
fn ExtraFields() -> Element {
    let mut model = use_model();
    let m = model.read();
    let lang = m.lang();
    let fields = m.capture.category.as_deref().and_then(|c| m.taxonomy.category(c)).map(|c| c.fields.clone()).unwrap_or_default();
    drop(m);
    let text = |fr: &str, en: &str| if lang == Lang::Fr { fr.to_string() } else { en.to_string() };
    rsx! {
        for field in fields {
            div { class: "extra", key: "{field.code}",
                label { {text(&field.label_fr, &field.label_en)} if field.required { " *" } }
                match field.kind {
                    balade_protocol::taxonomy::FieldKind::Boolean => rsx! {
                        input { r#type: "checkbox",
                            onchange: {
                                let code = field.code.clone();
                                move |e: FormEvent| {
                                    let mut m = model.write();
                                    let taxonomy = m.taxonomy.clone();
                                    m.capture.set_extra(&taxonomy, &code, if e.checked() { "true" } else { "false" });
                                }
                            },
                        }
                    },
                    balade_protocol::taxonomy::FieldKind::Choice => rsx! {
                        select {
                            onchange: {
                                let code = field.code.clone();
                                move |e: FormEvent| {
                                    let mut m = model.write();
                                    let taxonomy = m.taxonomy.clone();
                                    m.capture.set_extra(&taxonomy, &code, &e.value());
                                }
                            },
                            option { value: "", "—" }
                            for choice in field.choices.clone() {
                                option { value: "{choice.code}", {text(&choice.label_fr, &choice.label_en)} }
                            }
                        }
                    },
                    _ => rsx! {
                        input {
                            r#type: if field.kind == balade_protocol::taxonomy::FieldKind::Number { "number" } else { "text" },
                            oninput: {
                                let code = field.code.clone();
                                move |e: FormEvent| {
                                    let mut m = model.write();
                                    let taxonomy = m.taxonomy.clone();
                                    m.capture.set_extra(&taxonomy, &code, &e.value());
                                }
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
            let exif = crate::engine::platform::exif_position(&photo.path);
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
                    button { class: "link small",
                        onclick: move |_| { model.write().capture.photos.remove(idx); },
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
        }
    }
}

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
                    if p.is_poor() && o != PositionOrigin::Typed {
                        span { class: "warn", {tx(lang, " précision faible", " poor accuracy")} }
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

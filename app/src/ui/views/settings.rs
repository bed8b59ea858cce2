//! Settings: server address, enrolment code, photos only on Wi-Fi (where the platform tells),
//! language, storage used, and export of the local queue to a file.

use dioxus::prelude::*;

use crate::ui::i18n::{Lang, format_bytes, tx};
use crate::ui::views::tid;
use crate::ui::{Action, use_actions, use_backend, use_model};

#[component]
pub fn SettingsScreen() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let actions = use_actions();
    let m = model.read();
    let lang = m.lang();
    let settings = m.settings.clone();
    let storage = m.storage_bytes;
    drop(m);
    let mut enroll_code = use_signal(String::new);
    let mut export_path = use_signal(|| None::<String>);
    let save_backend = backend.clone();
    let mut save = move |change: &dyn Fn(&mut crate::ui::model::Settings)| {
        let mut m = model.write();
        change(&mut m.settings);
        if let Err(e) = save_backend.save_settings(&m.settings) {
            m.notice = Some(e.to_string());
        }
    };
    let mut save_lang = save.clone();
    let mut save_wifi = save.clone();
    let mut save_tiles = save.clone();
    let export_backend = backend.clone();
    rsx! {
        h1 { {tx(lang, "Réglages", "Settings")} }
        div { class: "form",
            label { r#for: "lang", {tx(lang, "Langue", "Language")} }
            select { id: "lang", "data-testid": tid("lang"),
                onchange: move |e| save_lang(&|s| s.lang = Lang::from_code(&e.value())),
                option { value: "fr", selected: lang == Lang::Fr, "Français" }
                option { value: "en", selected: lang == Lang::En, "English" }
            }
            label { r#for: "server", {tx(lang, "Adresse du serveur", "Server address")} }
            input { id: "server", "data-testid": tid("server"), r#type: "url",
                initial_value: "{settings.server}",
                onchange: move |e| save(&|s| s.server = e.value().trim().to_string()),
            }
            label { r#for: "tile-url", {tx(lang, "Fond de carte (URL des tuiles)", "Background map (tile URL)")} }
            input { id: "tile-url", "data-testid": tid("tile-url"), r#type: "url",
                placeholder: "https://…/{{z}}/{{x}}/{{y}}.png",
                initial_value: "{settings.tile_url}",
                onchange: move |e| save_tiles(&|s| s.tile_url = e.value().trim().to_string()),
            }
            p { class: "muted",
                {tx(lang, "Vide : la balade montre un plan des signalements, sans fond de carte (hors ligne).", "Empty: the walk shows a plan of its reports, with no background map (offline).")}
            }
            label { r#for: "enroll", {tx(lang, "Code d'enrôlement", "Enrolment code")} }
            div { class: "row",
                input { id: "enroll", "data-testid": tid("enroll-code"), r#type: "text",
                    oninput: move |e| enroll_code.set(e.value()),
                }
                button { "data-testid": tid("enroll"),
                    onclick: move |_| actions.send(Action::Enroll(enroll_code.read().clone())),
                    {tx(lang, "Enrôler l'appareil", "Enrol this device")}
                }
            }
            p { class: "muted",
                if settings.enrolled { {tx(lang, "Appareil enrôlé.", "Device enrolled.")} }
                else { {tx(lang, "Appareil non enrôlé : demandez un code à l'administrateur.", "Device not enrolled: ask the administrator for a code.")} }
            }
            label { class: "check",
                input { r#type: "checkbox", "data-testid": tid("wifi-only"),
                    checked: settings.photos_on_wifi_only,
                    onchange: move |e| save_wifi(&|s| s.photos_on_wifi_only = e.checked()),
                }
                {tx(lang, " Photos seulement en Wi-Fi (si l'appareil sait le dire)", " Photos only on Wi-Fi (where the device can tell)")}
            }
            p { "data-testid": tid("storage"), {tx(lang, "Stockage utilisé : ", "Storage used: ")} {format_bytes(lang, storage)} }
            button { "data-testid": tid("export"),
                onclick: move |_| {
                    match export_backend.export_queue() {
                        Ok(summary) => {
                            export_path.set(Some(match lang {
                                Lang::Fr => summary.message_fr(),
                                Lang::En => summary.message_en(),
                            }));
                            // The queue shows "exporté le …" from now on.
                            let snapshot = export_backend.snapshot();
                            crate::ui::apply_snapshot(&mut model.write(), snapshot);
                        }
                        Err(e) => model.write().notice = Some(e.to_string()),
                    }
                },
                {tx(lang, "Exporter les signalements non envoyés (fichier à importer au bureau)", "Export unsent reports (a file to import at the office)")}
            }
            if let Some(message) = export_path.read().as_deref() {
                p { class: "muted", "data-testid": tid("export-done"), "{message}" }
            }
        }
    }
}

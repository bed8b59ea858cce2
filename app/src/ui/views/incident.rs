//! The incident screen: photos, details, and the public status timeline the feed brought back
//! (reçu le, transmis à, date d'intervention prévue, refusé + motif, traité le). Opening it
//! marks the incident's news as read.

use balade_protocol::status::{EventKind, StatusEvent};
use dioxus::prelude::*;

use crate::ui::i18n::{Lang, format_date, format_time, state_label, tx};
use crate::ui::model::{LocalState, Screen};
use crate::ui::use_model;
use crate::ui::views::{photo_data_url, tid};

#[component]
pub fn IncidentScreen(id: uuid::Uuid) -> Element {
    let mut model = use_model();
    let backend = crate::ui::use_backend();
    let m = model.read();
    let lang = m.lang();
    let Some(row) = m.row(id).cloned() else {
        return rsx! { p { {tx(lang, "Signalement introuvable.", "Report not found.")} } };
    };
    let kind = m.kind_label(&row.incident.category, &row.incident.subcategory);
    drop(m);
    let incident = &row.incident;
    let planned = row.planned_date();
    rsx! {
        button { class: "link", onclick: move |_| model.write().screen = Screen::Queue,
            {tx(lang, "← Envois", "← Queue")}
        }
        h1 { "{kind}" }
        div { class: "photos",
            for path in row.photo_paths.iter() {
                if let Some(url) = photo_data_url(path) {
                    img { class: "photo", src: "{url}", alt: "photo" }
                }
            }
        }
        dl { class: "details",
            dt { {tx(lang, "État sur l'appareil", "On the device")} }
            dd { span { class: "state state-{row.local_state.css()}", {row.local_state.label(lang)} } }
            if let Some(state) = row.public_state() {
                dt { {tx(lang, "Statut", "Status")} }
                dd { "data-testid": tid("public-state"), {state_label(lang, state)} }
            }
            if let Some(date) = planned {
                dt { {tx(lang, "Intervention prévue", "Planned intervention")} }
                dd { class: "planned", "data-testid": tid("planned-date"), {format_date(lang, date)} }
            }
            if let Some(reference) = row.reference.as_deref() {
                dt { {tx(lang, "Référence", "Reference")} }
                dd { "{reference}" }
            }
            if let Some(code) = row.tracking_code.as_deref() {
                dt { {tx(lang, "Code de suivi", "Tracking code")} }
                dd { class: "code", "{code}" }
            }
            dt { {tx(lang, "Observé le", "Observed on")} }
            dd { {format_time(lang, incident.observed_at)} }
            dt { {tx(lang, "Position", "Position")} }
            dd { "{incident.position.lat:.5}, {incident.position.lon:.5}" }
            if let Some(address) = incident.address.as_ref() {
                dt { {tx(lang, "Adresse", "Address")} }
                dd { "data-testid": tid("incident-address"), "{address.label}" }
            }
            if let Some(asset) = incident.asset.as_ref() {
                dt { {tx(lang, "Mobilier concerné", "Street furniture")} }
                dd { "data-testid": tid("incident-asset"), "{asset.label}" }
            }
            if let Some(xy) = incident.lambert93 {
                dt { "Lambert-93" }
                dd { class: "muted", "x {xy.x:.0} m, y {xy.y:.0} m" }
            }
            if !incident.comment.is_empty() {
                dt { {tx(lang, "Commentaire", "Comment")} }
                dd { "{incident.comment}" }
            }
            if let Some(error) = row.last_error.as_deref() {
                dt { {tx(lang, "Problème", "Problem")} }
                dd { class: "error", "{error}" }
            }
        }
        // A refused report cannot be sent again as it is: offer to redo it (same comment,
        // photos, position), with the category chosen again.
        if row.local_state == LocalState::Refused {
            button { class: "primary", "data-testid": tid("redo"),
                onclick: {
                    let backend = backend.clone();
                    let incident = row.incident.clone();
                    move |_| match backend.redo_form(&incident) {
                        Ok(form) => {
                            let mut m = model.write();
                            m.capture = form;
                            m.screen = Screen::Capture;
                            drop(m);
                            let form = model.read().capture.clone();
                            if let Err(e) = backend.save_draft(&form) {
                                model.write().notice = Some(e.to_string());
                            }
                        }
                        Err(e) => model.write().notice = Some(e.to_string()),
                    }
                },
                {tx(lang, "Refaire ce signalement", "Redo this report")}
            }
        }
        h2 { {tx(lang, "Suivi", "Timeline")} }
        Timeline { events: row.timeline.clone() }
    }
}

/// The public events, oldest first, one sentence each.
#[component]
pub fn Timeline(events: Vec<StatusEvent>) -> Element {
    let lang = crate::ui::use_lang();
    if events.is_empty() {
        return rsx! {
            p { class: "muted", {tx(lang, "Pas encore de nouvelles du service : elles arrivent à la synchronisation.", "No news from the city yet: it arrives when syncing.")} }
        };
    }
    rsx! {
        ol { class: "timeline", "data-testid": tid("timeline"),
            for event in events {
                li { key: "{event.seq}", class: "event event-{event.state.code()}",
                    span { class: "when", {format_date(lang, event.at.date_naive())} }
                    span { class: "what", {event_sentence(lang, &event)} }
                    if let Some(note) = event.note.as_deref() {
                        span { class: "note", "« {note} »" }
                    }
                }
            }
        }
    }
}

/// One sentence for an event, e.g. "Intervention prévue le 12/05/2026".
pub fn event_sentence(lang: Lang, event: &StatusEvent) -> String {
    let date = format_date(lang, event.at.date_naive());
    let service = event.service.clone().unwrap_or_default();
    match event.kind {
        EventKind::Received => format!("{} {date}", tx(lang, "Reçu le", "Received on")),
        EventKind::Routed => format!("{} {service}", tx(lang, "Transmis à", "Sent to")),
        EventKind::Transferred => format!(
            "{} {}",
            tx(lang, "Transmis à", "Transferred to"),
            event.outside_body.clone().unwrap_or(service)
        ),
        EventKind::Scheduled => match event.planned_date {
            Some(planned) => format!(
                "{} {}",
                tx(
                    lang,
                    "Accepté — intervention prévue le",
                    "Accepted — intervention planned on"
                ),
                format_date(lang, planned)
            ),
            None => tx(
                lang,
                "Accepté, intervention programmée",
                "Accepted, intervention scheduled",
            )
            .to_string(),
        },
        EventKind::Started => format!(
            "{} {date}",
            tx(lang, "Travaux commencés le", "Work started on")
        ),
        EventKind::Resolved => format!("{} {date}", tx(lang, "Traité le", "Resolved on")),
        EventKind::Refused => format!(
            "{} — {} {}",
            state_label(lang, event.state),
            tx(lang, "motif :", "reason:"),
            event.reason.clone().unwrap_or_default()
        ),
        EventKind::Duplicate => tx(
            lang,
            "Doublon d'un signalement déjà connu : son suivi continue ici",
            "Duplicate of a known report: its updates continue here",
        )
        .to_string(),
        EventKind::CategoryCorrected => tx(
            lang,
            "Catégorie corrigée par le service",
            "Category corrected by the city",
        )
        .to_string(),
        EventKind::LocationCorrected => format!(
            "{} {}",
            tx(lang, "Adresse corrigée :", "Address corrected:"),
            event.address.clone().unwrap_or_default()
        ),
        EventKind::Note => tx(lang, "Message du service", "Message from the city").to_string(),
    }
}

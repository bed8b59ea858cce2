//! The queue screen: every incident on the device with where it stands (brouillon, en attente,
//! envoi…, reçu, refusé…), sync progress in items and bytes, the last sync time, "Synchroniser
//! maintenant", and sync errors in plain French saying what to do.

use balade_protocol::status::State;
use dioxus::prelude::*;

use crate::ui::i18n::{format_bytes, format_date, format_time, state_label, tx};
use crate::ui::model::{LocalState, QueueRow};
use crate::ui::views::tid;
use crate::ui::{Action, use_actions, use_model};

#[component]
pub fn QueueScreen() -> Element {
    let model = use_model();
    let actions = use_actions();
    let m = model.read();
    let lang = m.lang();
    let sync = m.sync.clone();
    let rows = m.rows.clone();
    let has_draft = !m.capture.is_empty();
    let draft_label = m
        .capture
        .category
        .as_deref()
        .map(|c| m.kind_label(c, m.capture.subcategory.as_deref().unwrap_or("")))
        .unwrap_or_else(|| {
            tx(
                lang,
                "Signalement en cours de saisie",
                "Report being written",
            )
            .to_string()
        });
    drop(m);
    let percent = sync.percent();
    rsx! {
        h1 { {tx(lang, "Envois", "Queue")} }
        div { class: "sync-box",
            button {
                class: "primary",
                "data-testid": tid("sync-now"),
                disabled: sync.running,
                onclick: move |_| actions.send(Action::SyncNow),
                if sync.running { {tx(lang, "Synchronisation…", "Syncing…")} } else { {tx(lang, "Synchroniser maintenant", "Sync now")} }
            }
            if sync.running {
                div { class: "progress", "data-testid": tid("progress"),
                    div { class: "bar", style: "width: {percent}%" }
                }
                p { class: "muted",
                    "{sync.items_done}/{sync.items_total} " {tx(lang, "signalements", "reports")}
                    " · {format_bytes(lang, sync.bytes_done)} / {format_bytes(lang, sync.bytes_total)}"
                }
            }
            p { class: "muted", "data-testid": tid("last-sync"),
                {tx(lang, "Dernière synchronisation : ", "Last sync: ")}
                match sync.last_success {
                    Some(at) => format_time(lang, at),
                    None => tx(lang, "jamais", "never").to_string(),
                }
            }
            if let Some(error) = sync.last_error {
                p { class: "error", role: "alert", "data-testid": tid("sync-error"), "{error}" }
            }
        }
        if rows.is_empty() && !has_draft {
            p { class: "empty", {tx(lang, "Aucun signalement sur cet appareil.", "No report on this device.")} }
        }
        ul { class: "queue",
            if has_draft {
                li { class: "queue-row",
                    span { class: "state state-draft", {LocalState::Draft.label(lang)} }
                    span { class: "kind", "{draft_label}" }
                }
            }
            for (idx, row) in rows.into_iter().enumerate() {
                QueueItem { key: "{row.incident.id}", row, first: idx == 0 }
            }
        }
    }
}

#[component]
fn QueueItem(row: QueueRow, first: bool) -> Element {
    let mut model = use_model();
    let backend = crate::ui::use_backend();
    let m = model.read();
    let lang = m.lang();
    let kind = m.kind_label(&row.incident.category, &row.incident.subcategory);
    drop(m);
    let id = row.incident.id;
    let public = row.public_state();
    // The date agents ask about first, while the intervention is still to come.
    let planned = match public {
        Some(State::Scheduled | State::InProgress) => row.planned_date(),
        _ => None,
    };
    let open = move || {
        backend.mark_read(id);
        model.write().open_incident(id);
    };
    let mut open_on_key = open.clone();
    let mut open_on_click = open;
    rsx! {
        // A row opens with a click, or from the keyboard: Tab then Enter, Alt+O for the first.
        li { class: if row.unread { "queue-row unread" } else { "queue-row" },
            "data-testid": tid("queue-row"),
            tabindex: "0",
            role: "button",
            accesskey: if first { "o" } else { "" },
            onclick: move |_| open_on_click(),
            onkeydown: move |e| {
                if e.key() == Key::Enter {
                    open_on_key();
                }
            },
            span { class: "state state-{row.local_state.css()}", {row.local_state.label(lang)} }
            span { class: "kind", "{kind}" }
            if let Some(state) = public {
                span { class: "public-state", {state_label(lang, state)} }
            }
            if let Some(date) = planned {
                span { class: "planned", "data-testid": tid("queue-planned"),
                    {tx(lang, "intervention prévue le ", "intervention planned on ")}
                    {format_date(lang, date)}
                }
            }
            if row.unread {
                span { class: "dot", title: tx(lang, "nouveau", "new"), "●" }
            }
            if let Some(reference) = row.reference.as_deref() {
                span { class: "muted", "{reference}" }
            }
            // Carried by file, not yet answered by the server: say so, so nobody exports twice
            // without knowing (twice is harmless: the server stores it once).
            if let (Some(at), None) = (row.exported_at, row.reference.as_deref()) {
                span { class: "muted small", "data-testid": tid("queue-exported"),
                    {tx(lang, "exporté le ", "exported on ")} {format_time(lang, at)}
                }
            }
            if !row.incident.comment.is_empty() {
                span { class: "comment", "{row.incident.comment}" }
            }
            if let Some(error) = row.last_error.as_deref() {
                span { class: "error", "{error}" }
            }
        }
    }
}

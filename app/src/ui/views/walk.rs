//! The walk screen (*balade urbaine*): start one (title, comité de quartier, participants),
//! see its incidents, end it, and print a summary (count per category; each incident with its
//! thumbnail, address and status).

use balade_protocol::incident::Walk;
use dioxus::prelude::*;

use crate::ui::i18n::{format_time, state_label, tx};
use crate::ui::model::{QueueRow, Screen};
use crate::ui::views::walk_plan::WalkPlan;
use crate::ui::views::{photo_data_url, tid};
use crate::ui::{use_backend, use_model};

#[component]
pub fn WalkScreen() -> Element {
    let model = use_model();
    let walk = model.read().walk.clone();
    match walk {
        Some(walk) => rsx! { CurrentWalk { walk } },
        None => rsx! { StartWalk {} },
    }
}

#[component]
fn StartWalk() -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let neighbourhoods = m.neighbourhoods.clone();
    let past_walks = m.past_walks.clone();
    let counts: Vec<usize> = past_walks.iter().map(|w| m.walk_rows(w.id).len()).collect();
    drop(m);
    let mut title = use_signal(String::new);
    let mut neighbourhood = use_signal(String::new);
    let mut participants = use_signal(String::new);
    rsx! {
        h1 { {tx(lang, "Commencer une balade", "Start a walk")} }
        div { class: "form",
            label { r#for: "walk-title", {tx(lang, "Titre", "Title")} }
            input { id: "walk-title", "data-testid": tid("walk-title"), r#type: "text",
                placeholder: tx(lang, "Balade du comité, 12 mai", "Committee walk, 12 May"),
                oninput: move |e| title.set(e.value()),
            }
            label { r#for: "walk-quartier", {tx(lang, "Quartier", "Neighbourhood")} }
            select { id: "walk-quartier", "data-testid": tid("walk-neighbourhood"),
                onchange: move |e| neighbourhood.set(e.value()),
                option { value: "", {tx(lang, "— choisir un comité de quartier —", "— choose a neighbourhood —")} }
                for name in neighbourhoods {
                    option { key: "{name}", value: "{name}", "{name}" }
                }
            }
            label { r#for: "walk-people", {tx(lang, "Participants (séparés par des virgules)", "Participants (comma separated)")} }
            input { id: "walk-people", "data-testid": tid("walk-participants"), r#type: "text",
                oninput: move |e| participants.set(e.value()),
            }
            button { class: "primary big", "data-testid": tid("walk-start"), accesskey: "b",
                onclick: move |_| {
                    let typed_title = title.read().trim().to_string();
                    let quartier = neighbourhood.read().clone();
                    let walk = Walk {
                        id: uuid::Uuid::now_v7(),
                        title: if typed_title.is_empty() { default_title(&quartier) } else { typed_title },
                        neighbourhood: (!quartier.is_empty()).then_some(quartier),
                        started_at: chrono::Utc::now(),
                        ended_at: None,
                        participants: participants.read().split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect(),
                    };
                    match backend.start_walk(walk) {
                        Ok(()) => {
                            let snapshot = backend.snapshot();
                            let mut m = model.write();
                            crate::ui::apply_snapshot(&mut m, snapshot);
                            m.screen = Screen::Capture;
                        }
                        Err(e) => model.write().notice = Some(e.to_string()),
                    }
                },
                {tx(lang, "Commencer la balade", "Start the walk")}
            }
        }
        if !past_walks.is_empty() {
            h2 { {tx(lang, "Balades terminées", "Ended walks")} }
            ul { class: "past-walks",
                for (walk, count) in past_walks.into_iter().zip(counts) {
                    li { key: "{walk.id}",
                        button { class: "link", "data-testid": tid("past-walk"),
                            onclick: move |_| {
                                let mut m = model.write();
                                m.summary_of = Some(walk.id);
                                m.screen = Screen::Summary;
                            },
                            "{walk.title}"
                        }
                        span { class: "muted",
                            " — " {format_time(lang, walk.started_at)} " · "
                            "{count} " {tx(lang, "signalement(s)", "report(s)")}
                        }
                    }
                }
            }
        }
    }
}

fn default_title(neighbourhood: &str) -> String {
    let day = chrono::Local::now().format("%d/%m/%Y");
    if neighbourhood.is_empty() {
        format!("Balade du {day}")
    } else {
        format!("Balade {neighbourhood} — {day}")
    }
}

#[component]
fn CurrentWalk(walk: Walk) -> Element {
    let mut model = use_model();
    let backend = use_backend();
    let m = model.read();
    let lang = m.lang();
    let rows: Vec<QueueRow> = m.walk_rows(walk.id).into_iter().cloned().collect();
    drop(m);
    let mut confirm_end = use_signal(|| false);
    rsx! {
        h1 { "{walk.title}" }
        p { class: "muted",
            if let Some(n) = walk.neighbourhood.as_deref() { "{n} · " }
            {tx(lang, "commencée le ", "started ")} {format_time(lang, walk.started_at)}
        }
        if !walk.participants.is_empty() {
            p { {tx(lang, "Participants : ", "Participants: ")} {walk.participants.join(", ")} }
        }
        div { class: "row",
            button { class: "primary", onclick: move |_| model.write().screen = Screen::Capture,
                {tx(lang, "➕ Signaler", "➕ Report")}
            }
            button { onclick: move |_| {
                    let mut m = model.write();
                    m.summary_of = None;
                    m.screen = Screen::Summary;
                },
                {tx(lang, "Résumé imprimable", "Printable summary")}
            }
            // Ending is asked twice: a walk cannot be reopened, and the button sits where a
            // hurried thumb lands.
            if *confirm_end.read() {
                span { class: "confirm",
                    {tx(lang, "Terminer « ", "End “")} "{walk.title}" {tx(lang, " » ? ", "”? ")}
                    button { class: "danger", "data-testid": tid("walk-end-confirm"),
                        onclick: move |_| {
                            confirm_end.set(false);
                            match backend.end_walk() {
                                Ok(()) => {
                                    let snapshot = backend.snapshot();
                                    let mut m = model.write();
                                    crate::ui::apply_snapshot(&mut m, snapshot);
                                    m.summary_of = None;
                                    m.screen = Screen::Summary;
                                }
                                Err(e) => model.write().notice = Some(e.to_string()),
                            }
                        },
                        {tx(lang, "Oui, terminer", "Yes, end it")}
                    }
                    button { "data-testid": tid("walk-end-cancel"),
                        onclick: move |_| confirm_end.set(false),
                        {tx(lang, "Annuler", "Cancel")}
                    }
                }
            } else {
                button { class: "danger", "data-testid": tid("walk-end"),
                    onclick: move |_| confirm_end.set(true),
                    {tx(lang, "Terminer la balade", "End the walk")}
                }
            }
        }
        h2 { {tx(lang, "Signalements de la balade", "Reports of this walk")} " ({rows.len()})" }
        WalkPlan { rows: rows.clone() }
        WalkIncidents { rows }
    }
}

#[component]
fn WalkIncidents(rows: Vec<QueueRow>) -> Element {
    let mut model = use_model();
    let backend = crate::ui::use_backend();
    let m = model.read();
    let lang = m.lang();
    let labels: Vec<String> = rows
        .iter()
        .map(|r| m.kind_label(&r.incident.category, &r.incident.subcategory))
        .collect();
    drop(m);
    rsx! {
        ol { class: "walk-list",
            for (number, (row, label)) in rows.into_iter().zip(labels).enumerate() {
                li { key: "{row.incident.id}", class: "walk-item",
                    onclick: {
                        let backend = backend.clone();
                        move |_| {
                            // Opening it reads its news, as from the queue.
                            backend.mark_read(row.incident.id);
                            model.write().open_incident(row.incident.id);
                        }
                    },
                    span { class: "plan-number", "{number + 1}" }
                    if let Some(url) = row.photo_paths.first().and_then(|p| photo_data_url(p)) {
                        img { class: "thumb-small", src: "{url}", alt: "" }
                    }
                    span { class: "kind", "{label}" }
                    span { class: "muted", {row.incident.address.as_ref().map(|a| a.label.clone()).unwrap_or_else(|| format!("{:.5}, {:.5}", row.incident.position.lat, row.incident.position.lon))} }
                    span { class: "state state-{row.local_state.css()}",
                        {row.public_state().map(|s| state_label(lang, s)).unwrap_or(row.local_state.label(lang))}
                    }
                }
            }
        }
    }
}

/// The printable summary of the current (or last) walk.
#[component]
pub fn SummaryScreen() -> Element {
    let model = use_model();
    let m = model.read();
    let lang = m.lang();
    let Some(walk) = m.summary_walk().cloned() else {
        return rsx! { p { {tx(lang, "Aucune balade.", "No walk.")} } };
    };
    let counts = m.summary_counts(walk.id);
    let rows: Vec<QueueRow> = m.walk_rows(walk.id).into_iter().cloned().collect();
    drop(m);
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    rsx! {
        section { class: "summary", "data-testid": tid("summary"),
            h1 { {tx(lang, "Résumé — ", "Summary — ")} "{walk.title}" }
            p { class: "muted",
                if let Some(n) = walk.neighbourhood.as_deref() { "{n} · " }
                {format_time(lang, walk.started_at)}
                if let Some(end) = walk.ended_at { " → " {format_time(lang, end)} }
            }
            if !walk.participants.is_empty() {
                p { {tx(lang, "Participants : ", "Participants: ")} {walk.participants.join(", ")} }
            }
            table { class: "counts",
                thead { tr { th { {tx(lang, "Catégorie", "Category")} } th { {tx(lang, "Nombre", "Count")} } } }
                tbody {
                    for (label, n) in counts {
                        tr { key: "{label}", td { "{label}" } td { "{n}" } }
                    }
                    tr { class: "total", td { {tx(lang, "Total", "Total")} } td { "{total}" } }
                }
            }
            WalkPlan { rows: rows.clone() }
            WalkIncidents { rows }
            button { class: "no-print",
                onclick: move |_| { document::eval("window.print()"); },
                {tx(lang, "🖨 Imprimer", "🖨 Print")}
            }
        }
    }
}

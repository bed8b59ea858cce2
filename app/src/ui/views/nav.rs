//! The navigation bar: one button per screen, with the number of unread updates and of
//! incidents waiting to be sent.

use dioxus::prelude::*;

use crate::ui::i18n::tx;
use crate::ui::model::Screen;
use crate::ui::use_model;
use crate::ui::views::tid;

#[component]
pub fn NavBar() -> Element {
    let mut model = use_model();
    let m = model.read();
    let lang = m.lang();
    let current = m.screen;
    let n_waiting = m.n_to_send();
    let n_unread = m.n_unread();
    drop(m);
    let entries = [
        (Screen::Walk, "🚶", tx(lang, "Balade", "Walk"), "nav-walk"),
        (
            Screen::Capture,
            "➕",
            tx(lang, "Signaler", "Report"),
            "nav-capture",
        ),
        (
            Screen::Queue,
            "📤",
            tx(lang, "Envois", "Queue"),
            "nav-queue",
        ),
        (
            Screen::Track,
            "🔎",
            tx(lang, "Suivre", "Follow"),
            "nav-track",
        ),
        (
            Screen::Settings,
            "⚙",
            tx(lang, "Réglages", "Settings"),
            "nav-settings",
        ),
    ];
    rsx! {
        nav { class: "nav",
            for (screen, icon, label, test_id) in entries {
                button {
                    key: "{test_id}",
                    class: if is_under(current, screen) { "nav-item active" } else { "nav-item" },
                    "data-testid": tid(test_id),
                    onclick: move |_| model.write().screen = screen,
                    span { class: "nav-icon", "{icon}" }
                    span { class: "nav-label", "{label}" }
                    if screen == Screen::Queue && n_waiting > 0 {
                        span { class: "badge", "{n_waiting}" }
                    }
                    if screen == Screen::Queue && n_unread > 0 {
                        span { class: "badge unread", title: tx(lang, "nouvelles", "news"), "● {n_unread}" }
                    }
                }
            }
        }
    }
}

/// The incident screen belongs to the queue tab, the summary to the walk tab.
fn is_under(current: Screen, tab: Screen) -> bool {
    match current {
        Screen::Incident(_) => tab == Screen::Queue,
        Screen::Summary => tab == Screen::Walk,
        other => other == tab,
    }
}

//! "Suivre un signalement": the citizen mode. Enter a tracking code, see its public status;
//! followed codes are kept on the device and refreshed at each sync.

use dioxus::prelude::*;

use crate::ui::i18n::{state_label, tx};
use crate::ui::views::incident::Timeline;
use crate::ui::views::tid;
use crate::ui::{Action, use_actions, use_model};

#[component]
pub fn TrackScreen() -> Element {
    let mut model = use_model();
    let backend = crate::ui::use_backend();
    let actions = use_actions();
    let m = model.read();
    let lang = m.lang();
    let followed = m.followed.clone();
    drop(m);
    let mut typed = use_signal(String::new);
    rsx! {
        h1 { {tx(lang, "Suivre un signalement", "Follow a report")} }
        p { class: "muted", {tx(lang, "Entrez le code de suivi à 8 caractères reçu après un signalement.", "Enter the 8-character tracking code received after a report.")} }
        div { class: "row",
            input { r#type: "text", "data-testid": tid("track-code"),
                placeholder: "ABCD2345",
                maxlength: "12",
                oninput: move |e| typed.set(e.value()),
                onkeydown: move |e| if e.key() == Key::Enter { actions.send(Action::Track(typed.read().clone())); },
            }
            button { class: "primary", "data-testid": tid("track-submit"),
                onclick: move |_| actions.send(Action::Track(typed.read().clone())),
                {tx(lang, "Suivre", "Follow")}
            }
            if !followed.is_empty() {
                button { onclick: move |_| actions.send(Action::RefreshFollowed), {tx(lang, "Actualiser", "Refresh")} }
            }
        }
        ul { class: "followed", "data-testid": tid("followed"),
            for f in followed {
                li { key: "{f.code}", class: "followed-item",
                    h2 { class: "code", "{f.code}" }
                    if let Some(view) = f.view.clone() {
                        p { strong { {state_label(lang, view.state)} } " · {view.reference}" }
                        if let Some(address) = view.address.as_deref() { p { class: "muted", "{address}" } }
                        Timeline { events: view.timeline.clone() }
                    } else if f.last_error.is_none() {
                        p { class: "muted", {tx(lang, "Statut pas encore reçu : il arrivera à la prochaine synchronisation.", "No status yet: it comes with the next sync.")} }
                    }
                    if let Some(error) = f.last_error.as_deref() {
                        p { class: "error", "{error}" }
                    }
                    button { class: "link small", "data-testid": tid("unfollow"),
                        onclick: {
                            let backend = backend.clone();
                            let code = f.code.clone();
                            move |_| match backend.unfollow(&code) {
                                Ok(()) => model.write().followed.retain(|f| f.code != code),
                                Err(e) => model.write().notice = Some(e.to_string()),
                            }
                        },
                        {tx(lang, "Ne plus suivre", "Stop following")}
                    }
                }
            }
        }
    }
}

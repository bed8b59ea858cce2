//! The field app's Dioxus UI (desktop window; the same components run in the Android/iOS
//! webview). Screens: Walk, Capture, Queue, Incident, Suivre (citizen tracking), Settings.
//!
//! Shape (STYLE.md §4): the domain state is a plain [`model::UiModel`] in one `Signal`, read
//! through [`use_model`]; local actions (save, start a walk) call [`backend::Backend`]
//! synchronously; network actions go through one coroutine over the closed [`Action`] enum.
//! Text inputs are uncontrolled (no `value:` bound to a signal) so fast typing loses no key
//! (measured trap, shared/notes/dioxus.md).

pub mod backend;
pub mod capture_form;
#[cfg(target_os = "linux")]
pub mod gl_off;
pub mod i18n;
pub mod model;

pub mod views;

use std::path::PathBuf;

use dioxus::prelude::*;
use futures_util::StreamExt;

use crate::ui::backend::{Backend, Snapshot};
use crate::ui::i18n::{Lang, tx};
use crate::ui::model::{FollowedCode, Screen, UiModel};

/// The stylesheet, compiled in so the window needs no asset server.
pub const CSS: &str = include_str!("../../../assets/app/balade.css");

/// The comités de quartier list shipped in assets/app (see its SOURCE.txt).
const NEIGHBOURHOODS_CSV: &str = include_str!("../../../assets/app/comites_quartier.csv");

/// Marker printed on stdout once the first screen is rendered (cold-start benchmark).
pub const FIRST_RENDER_MARKER: &str = "balade-ui: first render";

/// The 19 neighbourhood names, in the file's order.
pub fn neighbourhoods() -> Vec<String> {
    NEIGHBOURHOODS_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            line.split_once(',')
                .map(|(_, name)| name.trim().to_string())
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Opens the window. Called by `balade` with no command.
pub fn launch(data_dir: PathBuf, server: Option<String>) {
    #[cfg(target_os = "linux")]
    gl_off::apply();
    let backend = match Backend::open(data_dir, server) {
        Ok(backend) => backend,
        Err(e) => {
            eprintln!("balade: {e}");
            std::process::exit(1);
        }
    };
    let window = dioxus::desktop::WindowBuilder::new()
        .with_title("Balade")
        .with_inner_size(dioxus::desktop::LogicalSize::new(1000.0, 740.0));
    let config = dioxus::desktop::Config::new()
        .with_window(window)
        .with_menu(None)
        .with_disable_context_menu(true);
    dioxus::LaunchBuilder::desktop()
        .with_cfg(config)
        .with_context(backend)
        .launch(App);
}

/// Network actions, run one at a time by the app's coroutine.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SyncNow,
    Track(String),
    RefreshFollowed,
    Enroll(String),
}

/// The domain state signal.
pub fn use_model() -> Signal<UiModel> {
    use_context::<Signal<UiModel>>()
}

/// The engine/disk handle.
pub fn use_backend() -> Backend {
    use_context::<Backend>()
}

/// Sends a network action to the coroutine.
pub fn use_actions() -> Coroutine<Action> {
    use_coroutine_handle::<Action>()
}

/// Builds the model from a backend snapshot (also used by tests).
pub fn model_from(backend: &Backend) -> UiModel {
    let mut model = UiModel::new(backend.taxonomy(), neighbourhoods());
    apply_snapshot(&mut model, backend.snapshot());
    model
}

/// Copies what the store says into the model, keeping the screen and the open form.
pub fn apply_snapshot(model: &mut UiModel, snapshot: Snapshot) {
    let Snapshot {
        rows,
        walk,
        past_walks,
        settings,
        followed,
        draft,
        sync,
        storage_bytes,
    } = snapshot;
    // Keep unread flags and fetched tracking views the store does not know about yet.
    model.rows = rows;
    model.walk = walk;
    model.past_walks = past_walks;
    model.settings = settings;
    // Followed codes: the store says which (a code no longer followed goes), the model keeps
    // its order and the freshest view.
    let previous = std::mem::take(&mut model.followed);
    let mut merged: Vec<FollowedCode> = previous
        .into_iter()
        .filter_map(|mut shown| {
            let stored = followed.iter().find(|f| f.code == shown.code)?;
            if shown.view.is_none() {
                shown.view = stored.view.clone();
            }
            Some(shown)
        })
        .collect();
    for code in followed {
        if !merged.iter().any(|f| f.code == code.code) {
            merged.push(code);
        }
    }
    model.followed = merged;
    if let Some(draft) = draft
        && model.capture.is_empty()
    {
        model.capture = draft;
    }
    if !model.sync.running {
        model.sync.last_success = sync.last_success.or(model.sync.last_success);
        // What the last sync left unexplained is kept in the store: shown after a restart too.
        if sync.last_error.is_some() {
            model.sync.last_error = sync.last_error;
        }
    }
    model.storage_bytes = storage_bytes;
}

/// The root component: provides the model and the action coroutine, draws the chrome.
#[component]
pub fn App() -> Element {
    let backend = use_backend();
    let mut model = use_context_provider({
        let backend = backend.clone();
        move || Signal::new(model_from(&backend))
    });
    let coroutine_backend = backend.clone();
    use_coroutine(move |mut rx: UnboundedReceiver<Action>| {
        let backend = coroutine_backend.clone();
        async move {
            while let Some(action) = rx.next().await {
                run_action(&backend, model, action).await;
            }
        }
    });
    use_effect(|| {
        println!("{FIRST_RENDER_MARKER}");
        // The street and furniture indexes load in the background once the screen is up.
        crate::engine::place::warm_up();
    });
    // Keyboard shortcuts live on the root element: when a screen change removes the focused
    // element, focus would fall to <body> and F-keys would stop reaching the handler. So after
    // each screen change (except Capture, whose search box takes the focus) the root takes it.
    let mut app_root: Signal<Option<std::rc::Rc<MountedData>>> = use_signal(|| None);
    let current_screen = use_memo(move || model.read().screen);
    use_effect(move || {
        let screen = current_screen();
        // A one-line message belongs to the screen it was shown on.
        if model.peek().notice.is_some() {
            model.write().notice = None;
        }
        if screen != Screen::Capture
            && let Some(root) = app_root.peek().clone()
        {
            spawn(async move {
                let _ = root.set_focus(true).await;
            });
        }
    });
    let lang = model.read().lang();
    let screen = model.read().screen;
    let actions = use_actions();
    let onkeydown = move |e: KeyboardEvent| {
        // Function keys work from anywhere, for agents with a keyboard and for scripted tests.
        let target = match e.key() {
            Key::F1 => Some(Screen::Walk),
            Key::F2 => Some(Screen::Capture),
            Key::F3 => Some(Screen::Queue),
            Key::F4 => Some(Screen::Track),
            Key::F6 => Some(Screen::Settings),
            Key::F5 => {
                actions.send(Action::SyncNow);
                None
            }
            _ => None,
        };
        if let Some(target) = target {
            model.write().screen = target;
        }
    };
    rsx! {
        style { {CSS} }
        div { class: "app", lang: lang.code(), tabindex: "-1", onkeydown,
            onmounted: move |e| app_root.set(Some(e.data())),
            views::nav::NavBar {}
            if let Some(notice) = model.read().notice.clone() {
                div { class: "notice", role: "status", "{notice}" }
            }
            main { class: "screen",
                match screen {
                    Screen::Walk => rsx! { views::walk::WalkScreen {} },
                    Screen::Summary => rsx! { views::walk::SummaryScreen {} },
                    Screen::Capture => rsx! { views::capture::CaptureScreen {} },
                    Screen::Queue => rsx! { views::queue::QueueScreen {} },
                    Screen::Incident(id) => rsx! { views::incident::IncidentScreen { id } },
                    Screen::Track => rsx! { views::track::TrackScreen {} },
                    Screen::Settings => rsx! { views::settings::SettingsScreen {} },
                }
            }
            footer { class: "footer", {tx(lang, "Balade — signalements de La Rochelle", "Balade — La Rochelle incident reports")} }
        }
    }
}

/// Runs one network action and writes its outcome into the model.
async fn run_action(backend: &Backend, mut model: Signal<UiModel>, action: Action) {
    let server = model.read().settings.server.clone();
    let lang = model.read().lang();
    match action {
        Action::SyncNow => {
            if model.read().sync.running {
                return;
            }
            model.write().sync.running = true;
            model.write().sync.last_error = None;
            let (tx_progress, mut rx_progress) = futures_channel::mpsc::unbounded();
            let progress = move |view| {
                let _ = tx_progress.unbounded_send(view);
            };
            let sync = backend.sync_now(&server, progress);
            let mut sync = std::pin::pin!(sync);
            let result = loop {
                tokio::select! {
                    result = &mut sync => break result,
                    Some(view) = rx_progress.next() => {
                        let mut m = model.write();
                        let last_success = m.sync.last_success;
                        m.sync = crate::ui::model::SyncView { running: true, last_success, ..view };
                    }
                }
            };
            let snapshot = backend.snapshot();
            let mut m = model.write();
            apply_snapshot(&mut m, snapshot);
            m.sync.running = false;
            match result {
                Ok(view) => {
                    m.sync.last_success = view.last_success.or(Some(chrono::Utc::now()));
                    m.sync.last_error = view.last_error;
                }
                Err(e) => m.sync.last_error = Some(e.to_string()),
            }
            drop(m);
            refresh_followed(backend, model, &server).await;
        }
        Action::Track(typed) => {
            match backend.follow(&typed) {
                Ok(code) => {
                    if !model.read().followed.iter().any(|f| f.code == code) {
                        model.write().followed.insert(
                            0,
                            FollowedCode {
                                code,
                                view: None,
                                last_error: None,
                            },
                        );
                    }
                    model.write().notice = None;
                }
                Err(_) => {
                    model.write().notice = Some(
                        tx(
                            lang,
                            "Code invalide : 8 caractères, sans 0, O, 1, I ni L.",
                            "Invalid code: 8 characters, no 0, O, 1, I or L.",
                        )
                        .to_string(),
                    );
                    return;
                }
            }
            refresh_followed(backend, model, &server).await;
        }
        Action::RefreshFollowed => refresh_followed(backend, model, &server).await,
        Action::Enroll(code) => {
            let outcome = backend.enroll(&server, code.trim()).await;
            let snapshot = backend.snapshot();
            let mut m = model.write();
            apply_snapshot(&mut m, snapshot);
            m.notice = Some(match outcome {
                Ok(()) => tx(lang, "Appareil enrôlé.", "Device enrolled.").to_string(),
                Err(e) => e.to_string(),
            });
        }
    }
}

async fn refresh_followed(backend: &Backend, mut model: Signal<UiModel>, server: &str) {
    let codes: Vec<String> = model
        .read()
        .followed
        .iter()
        .map(|f| f.code.clone())
        .collect();
    for code in codes {
        let result = backend.track(server, &code).await;
        let mut m = model.write();
        if let Some(followed) = m.followed.iter_mut().find(|f| f.code == code) {
            match result {
                Ok(view) => {
                    followed.view = Some(view);
                    followed.last_error = None;
                }
                Err(e) => followed.last_error = Some(e.to_string()),
            }
        }
    }
}

/// Language of the current model (small helper for components).
pub fn use_lang() -> Lang {
    use_model().read().lang()
}

//! Queue, incident, settings, walk and citizen screens in the real components, headless.

mod ui_support;

use balade_app::ui::model::{LocalState, QueueRow, Screen};
use balade_protocol::incident::{Incident, Position};
use balade_protocol::status::{EventKind, State, StatusEvent};
use ui_support::Harness;

fn incident(comment: &str) -> Incident {
    Incident {
        id: uuid::Uuid::now_v7(),
        walk_id: None,
        comment: comment.into(),
        observed_at: "2026-05-01T10:00:00Z".parse().unwrap(),
        category: "voirie".into(),
        subcategory: "nid_de_poule".into(),
        extra: Default::default(),
        photos: vec![],
        position: Position::new(46.16, -1.15, Some(5.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    }
}

fn row(comment: &str, local_state: LocalState, timeline: Vec<StatusEvent>) -> QueueRow {
    QueueRow {
        incident: incident(comment),
        local_state,
        reference: (local_state == LocalState::Received).then(|| "LR-2026-000123".to_string()),
        tracking_code: (local_state == LocalState::Received).then(|| "ABCD2345".to_string()),
        last_error: (local_state == LocalState::Refused)
            .then(|| "Catégorie inconnue du serveur : corrigez-la puis renvoyez".to_string()),
        unread: !timeline.is_empty(),
        timeline,
        photo_paths: vec![],
        exported_at: None,
    }
}

fn event(seq: i64, id: uuid::Uuid, kind: EventKind, state: State) -> StatusEvent {
    ui_support::status_event(seq, id, kind, state, "LR-2026-000123")
}

#[test]
fn the_queue_shows_each_local_state_in_french() {
    let mut h = Harness::new();
    h.with_model(|m| {
        m.rows = vec![
            row("a", LocalState::Pending, vec![]),
            row("b", LocalState::Sending, vec![]),
            row("c", LocalState::Received, vec![]),
            row("d", LocalState::Refused, vec![]),
            row("e", LocalState::Incomplete, vec![]),
        ];
        m.screen = Screen::Queue;
    });
    let html = h.html();
    for label in [
        "en attente",
        "envoi…",
        "reçu",
        "refusé…",
        "photos à envoyer",
        "Synchroniser maintenant",
        "jamais",
    ] {
        assert!(html.contains(label), "{label} missing: {html}");
    }
    assert!(
        html.contains("corrigez-la puis renvoyez"),
        "error says what to do: {html}"
    );
}

#[test]
fn the_queue_shows_progress_in_items_and_bytes_while_syncing() {
    let mut h = Harness::new();
    h.with_model(|m| {
        m.screen = Screen::Queue;
        m.sync.running = true;
        m.sync.items_done = 2;
        m.sync.items_total = 5;
        m.sync.bytes_done = 512 * 1024;
        m.sync.bytes_total = 2 * 1024 * 1024;
    });
    let html = h.html();
    assert!(html.contains("2/5 signalements"), "{html}");
    assert!(html.contains("width: 25%"), "{html}");
    assert!(html.contains("512,0 ko / 2,0 Mo"), "{html}");
}

#[test]
fn the_incident_timeline_shows_the_planned_date_and_the_refusal_reason() {
    let mut h = Harness::new();
    let mut scheduled = row("banc", LocalState::Received, vec![]);
    let id = scheduled.incident.id;
    let mut planned = event(3, id, EventKind::Scheduled, State::Scheduled);
    planned.planned_date = Some("2026-06-15".parse().unwrap());
    planned.note = Some("Équipe voirie secteur nord".into());
    scheduled.timeline = vec![
        event(1, id, EventKind::Received, State::Received),
        event(2, id, EventKind::Routed, State::Routed),
        planned,
    ];
    scheduled.unread = true;
    let mut refused = row("tag", LocalState::Received, vec![]);
    let refused_id = refused.incident.id;
    let mut refusal = event(5, refused_id, EventKind::Refused, State::Refused);
    refusal.reason = Some("Domaine privé : contactez le syndic".into());
    refused.timeline = vec![
        event(4, refused_id, EventKind::Received, State::Received),
        refusal,
    ];
    h.with_model(|m| {
        m.rows = vec![scheduled, refused];
        m.screen = Screen::Queue;
    });
    assert!(
        h.html().contains("unread"),
        "news marked unread in the queue"
    );
    h.with_model(|m| m.open_incident(id));
    let html = h.html();
    assert!(html.contains("Reçu le 02/05/2026"), "{html}");
    assert!(html.contains("Transmis à Service Voirie"), "{html}");
    assert!(html.contains("intervention prévue le 15/06/2026"), "{html}");
    assert!(html.contains("Équipe voirie secteur nord"), "{html}");
    assert!(html.contains("Programmé"), "{html}");
    assert!(
        html.contains("ABCD2345") && html.contains("LR-2026-000123"),
        "{html}"
    );
    h.with_model(|m| {
        assert!(!m.row(id).unwrap().unread, "opening marks read");
        m.open_incident(refused_id);
    });
    let html = h.html();
    assert!(
        html.contains("Refusé — motif : Domaine privé : contactez le syndic"),
        "{html}"
    );
}

#[test]
fn switching_the_language_shows_english_labels_and_is_kept() {
    let mut h = Harness::new();
    h.click("nav-settings");
    assert!(h.html().contains("Réglages"));
    h.change("lang", "en");
    let html = h.html();
    assert!(
        html.contains("Settings") && html.contains("Server address") && html.contains("Queue"),
        "{html}"
    );
    assert!(!html.contains("Adresse du serveur"), "{html}");
    h.click("nav-capture");
    assert!(h.html().contains("New report"), "{}", h.html());
    let Harness { dir, .. } = h;
    let reopened = Harness::in_dir(dir);
    assert!(
        reopened.html().contains("New report"),
        "language kept after restart"
    );
}

#[test]
fn a_walk_is_started_with_a_neighbourhood_and_summarised() {
    let mut h = Harness::new();
    h.click("nav-walk");
    let html = h.html();
    assert!(
        html.contains("Villeneuve les Salines") && html.contains("Les Minimes"),
        "19 comités listed: {html}"
    );
    h.input("walk-title", "Balade de printemps");
    h.change("walk-neighbourhood", "Les Minimes");
    h.input("walk-participants", "Mme Martin, M. Durand");
    h.click("walk-start");
    assert!(
        h.html().contains("Balade en cours : Balade de printemps"),
        "{}",
        h.html()
    );
    h.input("search", "trou");
    h.key("search", dioxus::prelude::Key::Enter, false);
    h.input("position", "46.15, -1.15");
    h.key("position", dioxus::prelude::Key::Enter, false);
    h.click("save");
    h.input("search", "trou");
    h.key("search", dioxus::prelude::Key::Enter, false);
    h.input("position", "46.1560, -1.1520");
    h.key("position", dioxus::prelude::Key::Enter, false);
    h.click("save");
    h.click("nav-walk");
    // The walk screen shows its two incidents on the plan, numbered like the list.
    let html = h.html();
    assert!(html.contains("data-testid=\"walk-plan\""), "{html}");
    assert_eq!(html.matches("class=\"plan-point\"").count(), 2, "{html}");
    assert!(
        html.contains("Plan (sans fond de carte, Lambert-93)"),
        "{html}"
    );
    let points = plan_points(&html);
    assert_eq!(points.len(), 2, "{html}");
    // The list is newest first: n° 1 is the second report, 650 m further north (smaller y).
    assert!(points[0].1 < points[1].1, "north is up: {points:?}");
    for (x, y) in &points {
        assert!(
            (0.0..=600.0).contains(x) && (0.0..=300.0).contains(y),
            "{points:?}"
        );
    }
    h.click("walk-end");
    assert!(
        h.html().contains("Terminer « Balade de printemps » ?"),
        "asked first: {}",
        h.html()
    );
    h.click("walk-end-cancel");
    assert!(h.html().contains("Balade de printemps"), "still going");
    h.click("walk-end");
    h.click("walk-end-confirm");
    let html = h.html();
    assert_eq!(
        html.matches("class=\"plan-point\"").count(),
        2,
        "the ended walk's summary keeps its plan: {html}"
    );
    assert!(html.contains("Résumé — Balade de printemps"), "{html}");
    assert!(
        html.contains("Les Minimes") && html.contains("Mme Martin, M. Durand"),
        "{html}"
    );
    assert!(
        html.contains("<td>Voirie</td><td>2</td>"),
        "count per category: {html}"
    );
    // After a restart the ended walk is listed and its summary opens again.
    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-walk");
    let html = h.html();
    assert!(
        html.contains("Balades terminées") && html.contains("2 signalement(s)"),
        "{html}"
    );
    h.click("past-walk");
    let html = h.html();
    assert!(html.contains("Résumé — Balade de printemps"), "{html}");
    assert!(html.contains("<td>Voirie</td><td>2</td>"), "{html}");
}

/// The (cx, cy) of each plan point in the rendered SVG.
fn plan_points(html: &str) -> Vec<(f64, f64)> {
    let attr = |tail: &str, name: &str| -> f64 {
        let start = tail.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let len = tail[start..].find('"').unwrap();
        tail[start..start + len].parse().unwrap()
    };
    html.split("class=\"plan-point\"")
        .skip(1)
        .map(|tail| (attr(tail, "cx"), attr(tail, "cy")))
        .collect()
}

#[test]
fn the_citizen_form_refuses_a_bad_code_and_follows_a_good_one() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _inside = runtime.enter();
    let mut h = Harness::new();
    h.with_model(|m| m.settings.server = "http://127.0.0.1:9".into());
    h.click("nav-track");
    h.input("track-code", "AB0");
    h.click("track-submit");
    run_until(&runtime, &mut h, |html| html.contains("Code invalide"));
    h.input("track-code", "abcd-2345");
    h.click("track-submit");
    run_until(&runtime, &mut h, |html| {
        html.contains("ABCD2345") && html.contains("serveur injoignable")
    });
    let reopened = balade_app::engine::store::DeviceStore::open(h.dir.path()).unwrap();
    let followed = reopened.followed().unwrap();
    assert_eq!(
        followed.len(),
        1,
        "only the valid code is kept: {followed:?}"
    );
    assert_eq!(followed[0].0, "ABCD2345");
}

/// Lets the app's coroutine run until the page shows what `done` looks for.
fn run_until(runtime: &tokio::runtime::Runtime, h: &mut Harness, done: impl Fn(&str) -> bool) {
    for _ in 0..200 {
        h.settle();
        if done(&h.html()) {
            return;
        }
        runtime.block_on(async {
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(50), h.dom.wait_for_work())
                    .await;
        });
    }
    panic!("never reached: {}", h.html());
}

#[test]
fn with_a_tile_url_the_walk_shows_a_map_with_its_markers_and_the_setting_is_kept() {
    let mut h = Harness::new();
    h.click("nav-walk");
    h.click("walk-start");
    for position in ["46.15, -1.15", "46.1560, -1.1520"] {
        h.input("search", "trou");
        h.key("search", dioxus::prelude::Key::Enter, false);
        h.input("position", position);
        h.key("position", dioxus::prelude::Key::Enter, false);
        h.click("save");
    }
    h.click("nav-settings");
    assert!(
        h.html().contains("Fond de carte (URL des tuiles)"),
        "{}",
        h.html()
    );
    h.change("tile-url", "https://tuiles.exemple/{z}/{x}/{y}.png");
    h.click("nav-walk");
    let html = h.html();
    assert!(
        html.contains(r#"id="walk-map""#) && html.contains(r#"data-markers="2""#),
        "the map container with its two markers: {html}"
    );
    assert!(
        !html.contains(r#"class="plan-point""#),
        "the map replaces the plan: {html}"
    );
    // The script the webview runs: the tile template and both positions.
    let rows = h.dom.in_runtime(|| {
        let model = balade_app::ui::model_from(&h.backend);
        let walk = model.walk.clone().unwrap();
        model
            .walk_rows(walk.id)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
    });
    let script = balade_app::ui::views::walk_plan::map_script(
        "https://tuiles.exemple/{z}/{x}/{y}.png",
        &rows,
    );
    assert!(
        script.contains(r#"L.tileLayer("https://tuiles.exemple/{z}/{x}/{y}.png""#),
        "{}",
        &script[script.len() - 1500..]
    );
    assert!(
        script.contains(r#""lat":46.156"#) && script.contains(r#""lat":46.15,"#),
        "{}",
        &script[script.len() - 1500..]
    );
    // The setting survives a restart.
    let dir = h.dir;
    let mut h = Harness::in_dir(dir);
    h.click("nav-settings");
    assert!(
        h.html()
            .contains(r#"value="https://tuiles.exemple/{z}/{x}/{y}.png""#),
        "{}",
        h.html()
    );
}

/// The real server router on a loopback port, inside `runtime` (for answers a screen shows).
fn real_server(runtime: &tokio::runtime::Runtime, dir: &std::path::Path) -> String {
    real_server_with_state(runtime, dir).0
}

fn real_server_with_state(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
) -> (String, balade_sync::state::AppState) {
    let config = balade_sync::state::Config::new(dir.to_path_buf(), "127.0.0.1:0".parse().unwrap());
    let state = balade_sync::state::AppState::open(config).unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = balade_sync::app::app(state.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, state)
}

#[test]
fn a_followed_code_keeps_its_last_status_offline_and_can_be_dropped() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _inside = runtime.enter();
    let server_dir = tempfile::tempdir().unwrap();
    let (base, state) = real_server_with_state(&runtime, server_dir.path());
    // A request filed on the server (as a console or Open311 report would be).
    let taxonomy = state.taxonomy();
    let report = incident("Nid-de-poule rue Chef-de-Ville");
    let outcome = state
        .store
        .with_conn(|c| {
            balade_sync::store::write_tx(c, |tx| {
                balade_sync::store::requests::insert_incident(
                    tx,
                    &taxonomy,
                    &report,
                    None,
                    balade_sync::store::requests::Source::Console,
                )
            })
        })
        .unwrap();
    let balade_sync::store::requests::InsertOutcome::Created(stored) = outcome else {
        panic!("{outcome:?}")
    };
    let mut h = Harness::new();
    h.with_model(|m| m.settings.server = base.clone());
    h.click("nav-track");
    h.input("track-code", &stored.tracking_code);
    h.click("track-submit");
    run_until(&runtime, &mut h, |html| html.contains(&stored.reference));

    // Restarted with no server at hand: the last status is still there.
    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-track");
    let html = h.html();
    assert!(
        html.contains(&stored.tracking_code) && html.contains(&stored.reference),
        "{html}"
    );
    h.click("unfollow");
    assert!(!h.html().contains(&stored.tracking_code), "{}", h.html());
    let Harness { dir, .. } = h;
    let mut h = Harness::in_dir(dir);
    h.click("nav-track");
    assert!(!h.html().contains(&stored.tracking_code), "{}", h.html());
}

#[test]
fn an_unknown_tracking_code_or_enrolment_code_is_called_so_not_a_network_problem() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _inside = runtime.enter();
    let server_dir = tempfile::tempdir().unwrap();
    let base = real_server(&runtime, server_dir.path());
    let mut h = Harness::new();
    h.with_model(|m| m.settings.server = base.clone());
    h.click("nav-track");
    h.input("track-code", "ABCD2345");
    h.click("track-submit");
    run_until(&runtime, &mut h, |html| {
        html.contains("code de suivi inconnu")
    });
    assert!(!h.html().contains("injoignable"), "{}", h.html());

    h.click("nav-settings");
    h.input("enroll-code", "PAS-UN-CODE");
    h.click("enroll");
    run_until(&runtime, &mut h, |html| {
        html.contains("Code d&#39;enrôlement inconnu ou déjà utilisé")
    });
    let html = h.html();
    assert!(!html.contains("injoignable"), "{html}");
}

#[test]
fn a_server_address_typed_in_settings_is_not_undone_by_the_start_up_address() {
    let dir = tempfile::tempdir().unwrap();
    let backend = balade_app::ui::backend::Backend::open(
        dir.path().to_path_buf(),
        Some("http://127.0.0.1:8080".into()),
    )
    .unwrap();
    let mut settings = backend.snapshot().settings;
    assert_eq!(settings.server, "http://127.0.0.1:8080");
    settings.server = "https://balade.example.fr".into();
    backend.save_settings(&settings).unwrap();
    assert_eq!(
        backend.snapshot().settings.server,
        "https://balade.example.fr"
    );
}

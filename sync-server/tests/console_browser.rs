//! Browser test: Debian's chromium driven through chromedriver (fantoccini) against the real
//! server. An operator logs in, triages synced requests through every action, and the device
//! feed (GET /api/v1/feed with each device's token) and the citizen page show each public event
//! with its date and reason, never the internal note. Screenshots go to $BALADE_ARTIFACTS/screens
//! (default ci-artifacts/screens at the workspace root), as scripts/test expects.

mod console_support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use balade_protocol::envelope::FeedPage;
use balade_protocol::status::{EventKind, State};
use console_support::{Server, incident, start};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const INTERNAL_NOTE: &str = "Appeler l'entreprise Dupont — ne pas publier";

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_chromedriver() -> Driver {
    let port = free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is installed at /usr/bin/chromedriver (Debian package chromium-driver)",
        );
    Driver { child, port }
}

async fn connect(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", "--lang=fr-FR",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    // chromedriver needs a moment to listen: retry the session until it answers.
    let mut last_error = None;
    for _ in 0..300 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("could not start a chromium session: {last_error:?}");
}

fn artifacts_dir() -> PathBuf {
    let root = std::env::var_os("BALADE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("ci-artifacts")
        });
    let dir = root.join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(artifacts_dir().join(format!("console-{name}.png")), png).unwrap();
}

/// Opens a request page, fills the action form's fields by script (values as a user would
/// choose them), clicks its button, and checks the page reports success.
async fn act(client: &Client, base: &str, request: &str, action: &str, fields: &[(&str, &str)]) {
    client
        .goto(&format!("{base}/console/requests/{request}"))
        .await
        .unwrap();
    let form = format!("form[data-action=\"{action}\"]");
    for (name, value) in fields {
        client
            .execute(
                "const el = document.querySelector(arguments[0]).querySelector('[name=\"' + arguments[1] + '\"]'); el.value = arguments[2];",
                vec![json!(form), json!(name), json!(value)],
            )
            .await
            .unwrap();
    }
    client
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice, p.error"))
        .await
        .unwrap();
    let text = notice.text().await.unwrap();
    assert!(
        text.starts_with("Action enregistrée"),
        "{action} on {request}: {text}"
    );
}

async fn feed(server: &Server, token: &str) -> FeedPage {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/feed?since=0&limit=1000", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn operator_triages_requests_and_devices_and_citizens_see_public_events() {
    let server = start().await;
    server.add_user("agent", "agent-password", "admin", &[]);
    let (device1, token1) = server.add_device("Tablette balade 1");
    let (device2, token2) = server.add_device("Tablette balade 2");
    let walk = server.add_walk(
        device1,
        "Balade de Villeneuve-les-Salines",
        "Villeneuve-les-Salines",
    );
    let photo = server.store_photo();

    let mut pothole = incident(
        "voirie",
        "nid_de_poule",
        "Nid-de-poule profond devant l'école",
        46.1470,
        -1.1350,
    );
    pothole.walk_id = Some(walk);
    pothole.photos = vec![photo.clone()];
    let (a_id, a_ref, a_code) = server.add_incident(Some(device1), pothole);
    let mut tags = incident(
        "proprete",
        "tags",
        "Tag sur le mur du gymnase",
        46.1480,
        -1.1360,
    );
    tags.walk_id = Some(walk);
    let (b_id, _, _) = server.add_incident(Some(device1), tags);
    let mut obstacle = incident(
        "voirie",
        "obstacle",
        "Encombrant sur le trottoir",
        46.1490,
        -1.1370,
    );
    obstacle.walk_id = Some(walk);
    let (d_id, _, _) = server.add_incident(Some(device1), obstacle);
    // The same pothole reported 10 m away by another device.
    let (c_id, _, c_code) = server.add_incident(
        Some(device2),
        incident(
            "voirie",
            "nid_de_poule",
            "Gros trou sur la chaussée",
            46.14709,
            -1.13500,
        ),
    );

    let driver = spawn_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let client = connect(&driver, profile.path()).await;
    let base = server.base.clone();

    // Log in through the real form.
    client.goto(&format!("{base}/console/inbox")).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .unwrap()
        .send_keys("agent")
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("agent-password")
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("tr[data-testid=inbox-row]"))
        .await
        .unwrap();
    let rows = client
        .find_all(Locator::Css("tr[data-testid=inbox-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    screenshot(&client, "inbox").await;

    // Map view of the same selection: Leaflet draws one marker per request, tiles or not.
    client
        .goto(&format!("{base}/console/inbox?view=map"))
        .await
        .unwrap();
    let map = client
        .wait()
        .for_element(Locator::Css("div.map[data-ready]"))
        .await
        .unwrap();
    assert_eq!(map.attr("data-ready").await.unwrap().as_deref(), Some("4"));

    // Request page: photo, comment, duplicate candidate side by side.
    client
        .goto(&format!("{base}/console/requests/{a_ref}"))
        .await
        .unwrap();
    let comment = client
        .find(Locator::Css("[data-testid=comment]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(comment, "Nid-de-poule profond devant l'école");
    let candidates = client
        .find_all(Locator::Css("[data-testid=duplicate-candidate]"))
        .await
        .unwrap();
    assert_eq!(
        candidates.len(),
        1,
        "the pothole 10 m away is offered as a duplicate"
    );
    let natural = client
        .execute(
            "return document.querySelector('.photos img').naturalWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        natural.as_u64().unwrap() > 0,
        "the photo is served to the logged-in operator"
    );
    screenshot(&client, "request").await;

    let a = a_id.to_string();
    act(
        &client,
        &base,
        &a,
        "category",
        &[("category_sub", "voirie/chaussee_degradee")],
    )
    .await;
    act(
        &client,
        &base,
        &a,
        "location",
        &[
            ("lat", "46.147100"),
            ("lon", "-1.135100"),
            ("address", "Rue Hoche, La Rochelle"),
        ],
    )
    .await;
    act(&client, &base, &a, "route", &[("service", "voirie")]).await;
    act(
        &client,
        &base,
        &a,
        "schedule",
        &[
            ("date", "2026-12-20"),
            ("note", "Passage de l'équipe voirie"),
        ],
    )
    .await;
    act(
        &client,
        &base,
        &a,
        "internal_note",
        &[("text", INTERNAL_NOTE)],
    )
    .await;
    act(&client, &base, &a, "photo_visibility", &[]).await;
    // C is the duplicate: use the side-by-side button on C's page.
    client
        .goto(&format!("{base}/console/requests/{c_id}"))
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "[data-testid=duplicate-candidate] form[data-action=duplicate] button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice, p.error"))
        .await
        .unwrap();
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .starts_with("Action enregistrée")
    );
    act(&client, &base, &a, "start", &[]).await;
    // Resolve with a photo of the work done, through the real file input.
    let done_photo = profile.path().join("travaux.png");
    std::fs::write(
        &done_photo,
        include_bytes!("../../assets/console/vendor/leaflet/images/layers-2x.png"),
    )
    .unwrap();
    client
        .goto(&format!("{base}/console/requests/{a}"))
        .await
        .unwrap();
    client
        .find(Locator::Css("form[data-action=resolve] input[type=file]"))
        .await
        .unwrap()
        .send_keys(done_photo.to_str().unwrap())
        .await
        .unwrap();
    client
        .find(Locator::Css("form[data-action=resolve] input[name=note]"))
        .await
        .unwrap()
        .send_keys("Trou rebouché")
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "form[data-action=resolve] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = client
        .wait()
        .for_element(Locator::Css("p.notice, p.error"))
        .await
        .unwrap();
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .starts_with("Action enregistrée")
    );
    let shown = client
        .execute("const i = document.querySelector('[data-testid=resolution-photo] img'); return i ? i.naturalWidth : 0;", vec![])
        .await
        .unwrap();
    assert!(
        shown.as_u64().unwrap() > 0,
        "the resolution photo is stored and shown"
    );
    act(
        &client,
        &base,
        &b_id.to_string(),
        "refuse",
        &[("template", "1"), ("reason", "Mur d'une copropriété")],
    )
    .await;
    act(
        &client,
        &base,
        &d_id.to_string(),
        "transfer",
        &[("body", "cda"), ("note", "Compétence de l'agglomération")],
    )
    .await;

    // Device 1's feed: every public event, with its date and reason, and no internal note.
    let page1 = feed(&server, &token1).await;
    let raw1 = serde_json::to_string(&page1).unwrap();
    assert!(
        !raw1.contains("Dupont"),
        "internal notes never reach a device"
    );
    let kinds_a: Vec<EventKind> = page1
        .events
        .iter()
        .filter(|e| e.incident_id == a_id)
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds_a,
        [
            EventKind::Received,
            EventKind::Routed,
            EventKind::CategoryCorrected,
            EventKind::LocationCorrected,
            EventKind::Routed,
            EventKind::Scheduled,
            EventKind::Started,
            EventKind::Resolved
        ]
    );
    let scheduled = page1
        .events
        .iter()
        .find(|e| e.kind == EventKind::Scheduled)
        .unwrap();
    assert_eq!(scheduled.planned_date, Some("2026-12-20".parse().unwrap()));
    assert_eq!(
        scheduled.note.as_deref(),
        Some("Passage de l'équipe voirie")
    );
    let resolved = page1
        .events
        .iter()
        .find(|e| e.kind == EventKind::Resolved)
        .unwrap();
    assert_eq!(
        (resolved.state, resolved.note.as_deref()),
        (State::Resolved, Some("Trou rebouché"))
    );
    let refused = page1
        .events
        .iter()
        .find(|e| e.incident_id == b_id && e.kind == EventKind::Refused)
        .unwrap();
    let reason = refused.reason.as_deref().unwrap();
    assert!(
        reason.contains("domaine privé") && reason.contains("Mur d'une copropriété"),
        "{reason}"
    );
    let transferred = page1
        .events
        .iter()
        .find(|e| e.incident_id == d_id && e.kind == EventKind::Transferred)
        .unwrap();
    assert!(transferred.outside_body.as_deref().unwrap().contains("CDA"));
    assert_eq!(
        transferred.note.as_deref(),
        Some("Compétence de l'agglomération")
    );
    assert!(
        page1
            .events
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at)
    );
    let corrected = page1
        .events
        .iter()
        .find(|e| e.kind == EventKind::CategoryCorrected)
        .unwrap();
    assert_eq!(corrected.subcategory.as_deref(), Some("chaussee_degradee"));

    // Device 2 reported the duplicate: it follows the kept request's later events.
    let page2 = feed(&server, &token2).await;
    let duplicate = page2
        .events
        .iter()
        .find(|e| e.incident_id == c_id && e.kind == EventKind::Duplicate)
        .unwrap();
    assert_eq!(duplicate.duplicate_of, Some(a_id));
    let kept: Vec<EventKind> = page2
        .events
        .iter()
        .filter(|e| e.incident_id == a_id)
        .map(|e| e.kind)
        .collect();
    assert!(
        kept.contains(&EventKind::Started) && kept.contains(&EventKind::Resolved),
        "{kept:?}"
    );
    assert!(!serde_json::to_string(&page2).unwrap().contains("Dupont"));

    // The citizen page shows the same public timeline, the allowed photo, no internal note.
    client
        .goto(&format!("{base}/suivi/{a_code}"))
        .await
        .unwrap();
    let items = client
        .find_all(Locator::Css("[data-testid=timeline-event]"))
        .await
        .unwrap();
    let mut citizen_kinds = Vec::new();
    for item in &items {
        citizen_kinds.push(item.attr("data-kind").await.unwrap().unwrap());
    }
    let feed_kinds: Vec<String> = kinds_a
        .iter()
        .map(|k| balade_sync::actions::kind_code(*k).to_string())
        .collect();
    assert_eq!(citizen_kinds, feed_kinds);
    let source = client.source().await.unwrap();
    assert!(
        !source.contains("Dupont"),
        "no internal note on the citizen page"
    );
    assert!(source.contains("Intervention prévue le 20/12/2026"));
    assert!(source.contains("Trou rebouché"));
    assert!(!source.contains("Tablette"), "no device name");
    let citizen_photo = client
        .execute(
            "const i = document.querySelector('.photos img'); return i ? i.naturalWidth : 0;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        citizen_photo.as_u64().unwrap() > 0,
        "the operator allowed this photo"
    );
    let n_photos = client
        .find_all(Locator::Css(".photos img"))
        .await
        .unwrap()
        .len();
    assert_eq!(
        n_photos, 2,
        "the allowed report photo and the resolution photo"
    );
    screenshot(&client, "citizen").await;
    // Mobile first: at phone width nothing overflows sideways.
    client.set_window_size(400, 860).await.unwrap();
    client.refresh().await.unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "citizen page overflows by {overflow} px at phone width"
    );
    screenshot(&client, "citizen-phone").await;
    client.set_window_size(1280, 1000).await.unwrap();
    client
        .goto(&format!("{base}/suivi/{c_code}"))
        .await
        .unwrap();
    let source = client.source().await.unwrap();
    assert!(
        source.contains(&a_ref) && source.contains("Trou rebouché"),
        "the duplicate's reporter follows the kept one"
    );

    // Walk report.
    client
        .goto(&format!("{base}/console/walks/{walk}"))
        .await
        .unwrap();
    let walk_rows = client
        .find_all(Locator::Css("tr[data-testid=walk-row]"))
        .await
        .unwrap();
    assert_eq!(walk_rows.len(), 3);
    screenshot(&client, "walk-report").await;

    // Audit trail lists the internal note (console only) with its author.
    client.goto(&format!("{base}/console/audit")).await.unwrap();
    let source = client.source().await.unwrap();
    assert!(source.contains("Dupont") && source.contains("console:agent"));
    client.goto(&format!("{base}/console/stats")).await.unwrap();
    let total = client
        .find(Locator::Css("[data-testid=stat-total]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(total, "4");
    screenshot(&client, "stats").await;

    client.close().await.unwrap();
    drop(driver);
}

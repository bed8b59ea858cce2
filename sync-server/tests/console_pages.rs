//! Console pages over real HTTP: routing rules applied at arrival, inbox filters and paging,
//! overdue flags, refusal needing a reason, statistics CSV, static assets.

mod console_support;

use console_support::{Browser, incident, start};

#[tokio::test]
async fn routing_rules_made_in_the_admin_page_apply_when_a_request_arrives() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    // Tags inside the old town go to the municipal police; elsewhere to the default (propreté).
    let polygon = r#"{"type":"Polygon","coordinates":[[[-1.16,46.15],[-1.14,46.15],[-1.14,46.17],[-1.16,46.17],[-1.16,46.15]]]}"#;
    let answer = admin
        .post(
            "/console/admin/rules",
            &[
                ("csrf", &csrf),
                ("category", "proprete"),
                ("recipient", "police_municipale"),
                ("neighbourhood", "Vieux port"),
                ("polygon", polygon),
                ("priority", "10"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let bad = admin
        .post(
            "/console/admin/rules",
            &[
                ("csrf", &csrf),
                ("category", "proprete"),
                ("recipient", "voirie"),
                ("polygon", "{\"type\":\"Point\"}"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "a non-polygon is refused");
    let (inside, _, _) =
        server.add_incident(None, incident("proprete", "tags", "Tag", 46.16, -1.15));
    let (outside, _, _) =
        server.add_incident(None, incident("proprete", "tags", "Tag", 46.10, -1.15));
    let service = |id: uuid::Uuid| {
        server.state.store.with_conn(move |c| {
            Ok(c.query_row(
                "SELECT service FROM requests WHERE id = ?1",
                [id.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )?)
        })
    };
    assert_eq!(
        service(inside).unwrap().as_deref(),
        Some("police_municipale")
    );
    assert_eq!(service(outside).unwrap().as_deref(), Some("proprete"));
    // The operator can override the rule.
    let answer = admin
        .post(
            &format!("/console/requests/{inside}/action"),
            &[
                ("csrf", &csrf),
                ("action", "route"),
                ("service", "proprete"),
            ],
        )
        .await;
    assert!(answer.location.contains("ok=route"), "{}", answer.location);
    assert_eq!(service(inside).unwrap().as_deref(), Some("proprete"));
    let page = admin.get("/console/admin").await;
    assert!(page.body.contains("Vieux port") && page.body.contains("(polygone)"));
}

#[tokio::test]
async fn inbox_filters_page_and_flag_overdue_requests() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    for i in 0..60 {
        let category = if i % 3 == 0 {
            ("eclairage", "eteint")
        } else {
            ("voirie", "nid_de_poule")
        };
        server.add_incident(
            None,
            incident(category.0, category.1, &format!("n°{i}"), 46.16, -1.15),
        );
    }
    // One lighting request is 20 days old (announced delay: 10 days).
    server
        .state
        .store
        .with_conn(|c| {
            c.execute(
                "UPDATE requests SET created_at = '2020-01-01T10:00:00.000000Z' WHERE id = (SELECT id FROM requests WHERE category = 'eclairage' LIMIT 1)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let rows = |body: &str| body.matches("data-testid=\"inbox-row\"").count();
    for (query, expected_total, expected_rows) in [
        ("", 60, 50),
        ("?page=2", 60, 10),
        ("?category=eclairage", 20, 20),
        ("?category=eclairage&state=routed", 20, 20),
        ("?state=resolved", 0, 0),
        ("?from=2020-01-01&to=2020-01-01", 1, 1),
        ("?service=eclairage", 20, 20),
        ("?neighbourhood=Nulle+part", 0, 0),
    ] {
        let page = admin.get(&format!("/console/inbox{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(
            page.body
                .contains(&format!("{expected_total} signalement(s)")),
            "{query}"
        );
        assert_eq!(rows(&page.body), expected_rows, "{query}");
    }
    let page = admin.get("/console/inbox?category=eclairage").await;
    assert_eq!(page.body.matches("badge overdue").count(), 1);
    assert_eq!(admin.get("/console/inbox?state=bogus").await.status, 400);
    assert_eq!(admin.get("/console/inbox?from=yesterday").await.status, 400);
}

#[tokio::test]
async fn a_refusal_needs_a_reason_and_actions_follow_the_state_machine() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let (id, _, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    let path = format!("/console/requests/{id}/action");
    let before = server.count("SELECT COUNT(*) FROM events");
    for (pairs, error) in [
        (
            vec![("action", "refuse"), ("template", "1"), ("reason", " ")],
            "motif du refus est obligatoire",
        ),
        (
            vec![("action", "schedule"), ("date", "demain")],
            "Date prévue invalide",
        ),
        (
            vec![("action", "location"), ("lat", "123"), ("lon", "0")],
            "Position invalide",
        ),
        (
            vec![("action", "duplicate"), ("of", "LR-1999-000001")],
            "introuvable",
        ),
        (vec![("action", "fly")], "Action inconnue"),
    ] {
        let mut pairs = pairs.clone();
        pairs.push(("csrf", &csrf));
        let answer = admin.post(&path, &pairs).await;
        assert!(answer.location.contains("error="), "{pairs:?}");
        let page = admin.get(&answer.location).await;
        assert!(page.body.contains(error), "{pairs:?}: expected {error}");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM events"),
        before,
        "nothing stored"
    );
    admin
        .post(&path, &[("csrf", &csrf), ("action", "resolve")])
        .await;
    let answer = admin
        .post(&path, &[("csrf", &csrf), ("action", "start")])
        .await;
    let page = admin.get(&answer.location).await;
    assert!(
        page.body.contains("impossible"),
        "a resolved request cannot be started"
    );
}

#[tokio::test]
async fn statistics_page_and_csv_count_requests() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    for _ in 0..3 {
        server.add_incident(
            None,
            incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
        );
    }
    let (id, _, _) = server.add_incident(None, incident("proprete", "tags", "Tag", 46.16, -1.15));
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    admin
        .post(
            &format!("/console/requests/{id}/action"),
            &[("csrf", &csrf), ("action", "resolve")],
        )
        .await;
    let page = admin.get("/console/stats").await;
    assert!(page.body.contains("<svg") && page.body.contains("data-testid=\"stat-total\">4<"));
    let csv = admin.get("/console/stats.csv").await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "dimension,valeur,nombre");
    assert!(lines.contains(&"categorie,Voirie,3"), "{lines:?}");
    assert!(lines.contains(&"etat,Traité,1"), "{lines:?}");
    assert!(lines.contains(&"total,,4"));
    assert!(
        lines.contains(&"clos_dans_le_delai,,1") && lines.contains(&"clos,,1"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary() {
    let server = start().await;
    let mut anyone = Browser::new(&server.base);
    for path in [
        "/console/static/console.css",
        "/console/static/vendor/leaflet/leaflet.js",
        "/console/static/vendor/leaflet/images/marker-icon.png",
    ] {
        assert_eq!(anyone.get(path).await.status, 200, "{path}");
    }
    assert_eq!(
        anyone.get("/console/static/../Cargo.toml").await.status,
        404
    );
    assert_eq!(anyone.get("/console/static/nope.js").await.status, 404);
    assert_eq!(anyone.get("/suivi").await.status, 200);
}

#[tokio::test]
async fn an_admin_adds_an_outside_body_and_operators_can_transfer_to_it() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let (id, _, _) = server.add_incident(
        None,
        incident("voirie", "obstacle", "Chantier", 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    let version_before = server.state.taxonomy().version;
    let add = |kind: &'static str, code: &'static str, name: &'static str| {
        [
            ("kind", kind),
            ("code", code),
            ("name_fr", name),
            ("name_en", ""),
        ]
    };
    for (pairs, status) in [
        (
            add(
                "outside_body",
                "port_atlantique",
                "Port Atlantique La Rochelle",
            ),
            303,
        ),
        (
            add(
                "outside_body",
                "port_atlantique",
                "Grand port maritime de La Rochelle",
            ),
            303,
        ),
        (add("service", "port_atlantique", "Conflit de type"), 400),
        (add("outside_body", "Bad Code!", "Nom"), 400),
        (add("nowhere", "x_y", "Nom"), 400),
    ] {
        let mut pairs = pairs.to_vec();
        pairs.push(("csrf", &csrf));
        assert_eq!(
            admin.post("/console/admin/recipients", &pairs).await.status,
            status,
            "{pairs:?}"
        );
    }
    let taxonomy = server.state.taxonomy();
    assert_ne!(
        taxonomy.version, version_before,
        "devices see a new taxonomy version"
    );
    let body = taxonomy.recipient("port_atlantique").unwrap();
    assert_eq!(
        body.name_fr, "Grand port maritime de La Rochelle",
        "renamed in place"
    );
    assert!(
        server.dir.path().join("taxonomy.json").exists(),
        "kept across restarts"
    );
    let answer = admin
        .post(
            &format!("/console/requests/{id}/action"),
            &[
                ("csrf", &csrf),
                ("action", "transfer"),
                ("body", "port_atlantique"),
                ("note", ""),
            ],
        )
        .await;
    assert!(
        answer.location.contains("ok=transfer"),
        "{}",
        answer.location
    );
    let reloaded = balade_sync::state::load_taxonomy(server.dir.path()).unwrap();
    assert_eq!(reloaded.version, taxonomy.version);
}

#[tokio::test]
async fn possible_duplicates_are_nearby_recent_requests_of_the_same_or_a_related_category() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let (id, _, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let (_, same_ref, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou aussi", 46.16020, -1.15),
    );
    let (_, related_ref, _) = server.add_incident(
        None,
        incident("signalisation", "marquage", "Marquage", 46.16, -1.15020),
    );
    let (_, far_ref, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Loin", 46.1610, -1.15),
    );
    let (_, other_ref, _) = server.add_incident(
        None,
        incident("espaces_verts", "taille", "Haie", 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let page = admin.get(&format!("/console/requests/{id}")).await;
    let section = page
        .body
        .split("id=\"h-dups\"")
        .nth(1)
        .unwrap()
        .split("id=\"h-history\"")
        .next()
        .unwrap();
    assert!(section.contains(&same_ref), "22 m away, same category");
    assert!(
        section.contains(&related_ref),
        "15 m away, related category"
    );
    assert!(!section.contains(&far_ref), "111 m away");
    assert!(!section.contains(&other_ref), "unrelated category");
}

//! Console pages over real HTTP: routing rules applied at arrival, inbox filters and paging,
//! overdue flags, refusal needing a reason, statistics CSV, static assets, the administration
//! audit trail (admins only).

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

#[tokio::test]
async fn an_admin_creates_accounts_changes_services_and_disables_them() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let (pothole, _, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    let create = |login: &'static str, password: &'static str, role: &'static str| {
        vec![("login", login), ("password", password), ("role", role)]
    };
    for (mut pairs, services, status, message) in [
        (
            create("paul", "paul-password", "operator"),
            vec!["voirie"],
            303,
            "",
        ),
        (
            create("paul", "other-password", "operator"),
            vec!["voirie"],
            400,
            "existe déjà",
        ),
        (
            create("court", "short", "operator"),
            vec!["voirie"],
            400,
            "au moins 8 caractères",
        ),
        (
            create("seul", "long-password", "operator"),
            vec![],
            400,
            "au moins un service",
        ),
        (
            create("perdu", "long-password", "operator"),
            vec!["nowhere"],
            400,
            "Service inconnu",
        ),
        (
            create("a b", "long-password", "admin"),
            vec![],
            400,
            "Identifiant invalide",
        ),
        (
            create("chef", "long-password", "boss"),
            vec![],
            400,
            "Rôle inconnu",
        ),
    ] {
        pairs.push(("csrf", &csrf));
        for service in &services {
            pairs.push(("service", service));
        }
        let answer = admin.post("/console/admin/users", &pairs).await;
        assert_eq!(answer.status, status, "{pairs:?}");
        assert!(answer.body.contains(message), "{pairs:?}: {}", answer.body);
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM console_users"),
        2,
        "only paul was created"
    );
    let list = admin.get("/console/admin/users").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.matches("data-testid=\"account-row\"").count(), 2);
    assert!(list.body.contains("data-login=\"paul\"") && list.body.contains("Opérateur"));
    let paul_id = server.count("SELECT id FROM console_users WHERE login = 'paul'");

    // Paul logs in with the initial password and sees his service's request.
    let mut paul = Browser::new(&server.base);
    assert_eq!(paul.login("paul", "paul-password").await.status, 303);
    let page = format!("/console/requests/{pothole}");
    assert_eq!(paul.get(&page).await.status, 200);
    // An operator cannot manage accounts or the taxonomy.
    let paul_csrf = paul.csrf().await;
    assert_eq!(paul.get("/console/admin/users").await.status, 403);
    assert_eq!(paul.get("/console/admin/categories").await.status, 403);
    let answer = paul
        .post(
            "/console/admin/users",
            &[
                ("csrf", &paul_csrf),
                ("login", "evil"),
                ("password", "evil-password"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(answer.status, 403);
    let answer = paul
        .post(
            &format!("/console/admin/users/{paul_id}/disabled"),
            &[("csrf", &paul_csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM console_users WHERE disabled = 1"),
        0
    );

    // Moved to lighting: the pothole is out of his scope now; an operator keeps one service.
    let services = format!("/console/admin/users/{paul_id}/services");
    assert_eq!(admin.post(&services, &[("csrf", &csrf)]).await.status, 400);
    assert_eq!(
        admin
            .post(&services, &[("service", "eclairage")])
            .await
            .status,
        403,
        "no CSRF token"
    );
    let answer = admin
        .post(&services, &[("csrf", &csrf), ("service", "eclairage")])
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_ne!(paul.get(&page).await.status, 200);
    assert!(
        admin
            .get("/console/admin/users")
            .await
            .body
            .contains("value=\"eclairage\" checked")
    );

    // Disabled: his session ends and he cannot log in; enabled again: he can.
    let disabled = format!("/console/admin/users/{paul_id}/disabled");
    let answer = admin
        .post(&disabled, &[("csrf", &csrf), ("disabled", "1")])
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let kicked = paul.get("/console/inbox").await;
    assert_eq!(kicked.status, 303);
    assert!(kicked.location.starts_with("/console/login"));
    assert_eq!(paul.login("paul", "paul-password").await.status, 401);
    assert!(
        admin
            .get("/console/admin/users")
            .await
            .body
            .contains("désactivé")
    );
    assert_eq!(
        admin
            .post(&disabled, &[("csrf", &csrf), ("disabled", "0")])
            .await
            .status,
        303
    );
    assert_eq!(paul.login("paul", "paul-password").await.status, 303);
    // An admin cannot lock themself out.
    let admin_id = server.count("SELECT id FROM console_users WHERE login = 'admin1'");
    let answer = admin
        .post(
            &format!("/console/admin/users/{admin_id}/disabled"),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(admin.get("/console/inbox").await.status, 200);
}

#[tokio::test]
async fn an_admin_edits_a_category_and_adds_a_subcategory() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;
    let page = admin.get("/console/admin/categories").await;
    assert_eq!(page.status, 200);
    let before = server.state.taxonomy();
    let file = server.dir.path().join("taxonomy.json");
    let file_before = std::fs::read(&file).ok();
    let edit = |label_fr: &'static str, delay: &'static str, recipient: &'static str| {
        vec![
            ("code", "eclairage"),
            ("label_fr", label_fr),
            ("label_en", "Street lights"),
            ("keywords", "lampadaire, réverbère, lampadaire, "),
            ("delay_days", delay),
            ("recipient", recipient),
        ]
    };
    for (mut pairs, message) in [
        (edit("Éclairage", "abc", "voirie"), "Le délai annoncé"),
        (edit("Éclairage", "0", "voirie"), "Le délai annoncé"),
        (edit("  ", "5", "voirie"), "libellé en français"),
        (edit("Éclairage", "5", "nowhere"), "Destinataire inconnu"),
    ] {
        pairs.push(("csrf", &csrf));
        let answer = admin.post("/console/admin/categories", &pairs).await;
        assert_eq!(answer.status, 400, "{pairs:?}");
        assert!(answer.body.contains(message), "{pairs:?}: {}", answer.body);
    }
    assert_eq!(server.state.taxonomy(), before, "bad input changes nothing");
    assert_eq!(std::fs::read(&file).ok(), file_before, "nor the file");

    let mut pairs = edit("Éclairage public", "5", "voirie");
    pairs.push(("csrf", &csrf));
    let answer = admin.post("/console/admin/categories", &pairs).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let after = server.state.taxonomy();
    assert_ne!(after.version, before.version, "devices see a new version");
    let lighting = after.category("eclairage").unwrap();
    assert_eq!(
        (
            lighting.label_fr.as_str(),
            lighting.label_en.as_str(),
            lighting.delay_days,
            lighting.recipient.as_str()
        ),
        ("Éclairage public", "Street lights", 5, "voirie")
    );
    assert_eq!(lighting.keywords, ["lampadaire", "réverbère"]);

    let sub = |code: &'static str| {
        vec![
            ("category", "eclairage"),
            ("code", code),
            ("label_fr", "Clignote"),
            ("label_en", ""),
            ("keywords", "clignotant"),
        ]
    };
    for (mut pairs, status) in [
        (sub("clignote"), 303),
        (sub("clignote"), 400),
        (sub("Bad Code"), 400),
    ] {
        pairs.push(("csrf", &csrf));
        assert_eq!(
            admin
                .post("/console/admin/subcategories", &pairs)
                .await
                .status,
            status,
            "{pairs:?}"
        );
    }
    let after_sub = server.state.taxonomy();
    assert_ne!(after_sub.version, after.version);
    let added = after_sub
        .category("eclairage")
        .unwrap()
        .subcategories
        .iter()
        .find(|s| s.code == "clignote")
        .unwrap();
    assert_eq!(
        (added.label_fr.as_str(), added.label_en.as_str()),
        ("Clignote", "Clignote")
    );
    // Kept across restarts, and the new delay drives the overdue flag.
    let reloaded = balade_sync::state::load_taxonomy(server.dir.path()).unwrap();
    assert_eq!(reloaded.version, after_sub.version);
    server.add_incident(
        None,
        incident("eclairage", "clignote", "Clignote", 46.16, -1.15),
    );
    server
        .state
        .store
        .with_conn(|c| {
            let six_days_ago = (chrono::Utc::now() - chrono::Duration::days(6))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            c.execute("UPDATE requests SET created_at = ?1", [six_days_ago])?;
            Ok(())
        })
        .unwrap();
    let inbox = admin.get("/console/inbox?category=eclairage").await;
    assert_eq!(
        inbox.body.matches("badge overdue").count(),
        1,
        "6 days > 5 announced"
    );
}

#[tokio::test]
async fn inbox_rows_use_cached_320_px_jpeg_thumbnails() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(1200, 800)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let photo = server.store_photo_bytes(&png, "image/png");
    let mut pothole = incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15);
    pothole.photos = vec![photo.clone()];
    server.add_incident(None, pothole);
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let thumb_url = format!("/console/photos/{}/thumb", photo.sha256);
    let inbox = admin.get("/console/inbox").await;
    assert!(inbox.body.contains(&thumb_url), "{}", inbox.body);

    let response = admin
        .client
        .get(format!("{}{thumb_url}", server.base))
        .header(
            "cookie",
            format!("balade_session={}", admin.cookies["balade_session"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let bytes = response.bytes().await.unwrap().to_vec();
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    let thumb = image::load_from_memory(&bytes).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 213));
    assert!(bytes.len() < png.len());
    // Cached beside the photo: served again even once the original is gone.
    let dir = server.dir.path().join("photos").join(&photo.sha256[..2]);
    let cached = dir.join(format!("{}.thumb.jpg", photo.sha256));
    assert_eq!(std::fs::read(&cached).unwrap(), bytes);
    std::fs::remove_file(dir.join(&photo.sha256)).unwrap();
    let again = admin.get(&thumb_url).await;
    assert_eq!(again.status, 200);
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");

    let mut anonymous = Browser::new(&server.base);
    let refused = anonymous.get(&thumb_url).await;
    assert_eq!(refused.status, 303);
    assert!(refused.location.starts_with("/console/login"));
    // An operator of another service does not get it either.
    server.add_user("lux", "lux-password", "operator", &["eclairage"]);
    let mut other = Browser::new(&server.base);
    other.login("lux", "lux-password").await;
    assert_eq!(other.get(&thumb_url).await.status, 404);
}

#[tokio::test]
async fn admin_changes_appear_in_the_audit_trail_for_admins_only() {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let csrf = admin.csrf().await;

    let answer = admin
        .post(
            "/console/admin/users",
            &[
                ("csrf", &csrf),
                ("login", "paul"),
                ("password", "paul-password"),
                ("role", "operator"),
                ("service", "voirie"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let paul_id = server.count("SELECT id FROM console_users WHERE login = 'paul'");
    let answer = admin
        .post(
            &format!("/console/admin/users/{paul_id}/services"),
            &[
                ("csrf", &csrf),
                ("service", "voirie"),
                ("service", "eclairage"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let answer = admin
        .post(
            "/console/admin/categories",
            &[
                ("csrf", &csrf),
                ("code", "eclairage"),
                ("label_fr", "Éclairage public"),
                ("delay_days", "9"),
                ("recipient", "voirie"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    // A refused change leaves no entry.
    let answer = admin
        .post(
            "/console/admin/categories",
            &[
                ("csrf", &csrf),
                ("code", "eclairage"),
                ("label_fr", "Éclairage"),
                ("delay_days", "0"),
                ("recipient", "voirie"),
            ],
        )
        .await;
    assert_eq!(answer.status, 400);
    let answer = admin
        .post(
            "/console/admin/rules",
            &[
                ("csrf", &csrf),
                ("category", "voirie"),
                ("recipient", "voirie"),
                ("neighbourhood", "Centre"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let rule = server.count("SELECT MAX(id) FROM console_routing_rules");
    let answer = admin
        .post(
            &format!("/console/admin/rules/{rule}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let answer = admin
        .post(
            &format!("/console/admin/users/{paul_id}/disabled"),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(server.count("SELECT COUNT(*) FROM admin_audit"), 6);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM admin_audit WHERE actor = 'admin1'"),
        6
    );

    let page = admin.get("/console/audit").await;
    assert_eq!(page.status, 200);
    let section = &page.body[page
        .body
        .find("data-testid=\"admin-audit\"")
        .expect("admins see the administration section")..];
    let row = |action: &str| {
        let start = section
            .find(&format!("data-action=\"{action}\""))
            .unwrap_or_else(|| panic!("no {action} row in {section}"));
        section[start..].split("</tr>").next().unwrap().to_string()
    };
    let created = row("account_created");
    assert!(
        created.contains("admin1") && created.contains("Compte créé"),
        "{created}"
    );
    assert!(
        created.contains("∅ →") && created.contains("paul"),
        "{created}"
    );
    let services = row("account_services_changed");
    assert!(
        services.contains(
            "services: [&quot;voirie&quot;] → [&quot;eclairage&quot;,&quot;voirie&quot;]"
        ),
        "{services}"
    );
    let category = row("category_edited");
    assert!(category.contains("eclairage"), "{category}");
    assert!(category.contains("delay_days:"), "{category}");
    assert!(
        category.contains("→ &quot;Éclairage public&quot;"),
        "{category}"
    );
    let deleted = row("rule_deleted");
    assert!(
        deleted.contains("Centre") && deleted.contains("→ ∅"),
        "{deleted}"
    );
    let disabled = row("account_disabled");
    assert!(disabled.contains("disabled: false → true"), "{disabled}");
    assert!(row("rule_added").contains("Règle d'aiguillage ajoutée"));

    // The trail is append-only.
    for sql in [
        "DELETE FROM admin_audit",
        "UPDATE admin_audit SET actor = 'x'",
    ] {
        let result = server.state.store.with_conn(|c| Ok(c.execute(sql, [])?));
        assert!(result.is_err(), "{sql} must be refused");
    }

    // Operators see their request events, never the administration section.
    server.add_user("lux", "lux-password", "operator", &["eclairage"]);
    let mut operator = Browser::new(&server.base);
    operator.login("lux", "lux-password").await;
    let page = operator.get("/console/audit").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("admin-audit"), "{}", page.body);
    assert!(!page.body.contains("Compte créé"), "{}", page.body);
    assert!(!page.body.contains("paul"), "{}", page.body);
}

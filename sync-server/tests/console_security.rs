//! Security behaviour of the console and citizen pages over real HTTP: anonymous access,
//! CSRF, operator scoping, HTML escaping, tracking-code 404s, login throttling.

mod console_support;

use console_support::{Browser, Server, hidden, incident, start};

async fn server_with_users() -> Server {
    let server = start().await;
    server.add_user("admin1", "admin-password", "admin", &[]);
    server.add_user("voirie1", "voirie-password", "operator", &["voirie"]);
    server
}

#[tokio::test]
async fn every_console_route_refuses_anonymous_access() {
    let server = server_with_users().await;
    let (id, reference, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let photo = server.store_photo();
    let mut anonymous = Browser::new(&server.base);
    for path in [
        "/console/inbox".to_string(),
        "/console/inbox?view=map".to_string(),
        format!("/console/requests/{id}"),
        format!("/console/requests/{reference}"),
        format!("/console/photos/{}", photo.sha256),
        format!("/console/photos/{}/thumb", photo.sha256),
        "/console/admin/users".to_string(),
        "/console/admin/categories".to_string(),
        "/console/stats".to_string(),
        "/console/stats.csv".to_string(),
        "/console/audit".to_string(),
        "/console/admin".to_string(),
        format!("/console/walks/{id}"),
    ] {
        let answer = anonymous.get(&path).await;
        assert_eq!(answer.status, 303, "GET {path}");
        assert!(
            answer.location.starts_with("/console/login?next="),
            "GET {path} → {}",
            answer.location
        );
        assert!(!answer.body.contains(&reference), "GET {path} leaked data");
    }
    for path in [
        format!("/console/requests/{id}/action"),
        format!("/console/requests/{id}/resolve"),
        "/console/logout".to_string(),
        "/console/admin/rules".to_string(),
        "/console/admin/templates".to_string(),
        "/console/admin/rules/1/delete".to_string(),
        "/console/admin/users".to_string(),
        "/console/admin/users/1/services".to_string(),
        "/console/admin/users/1/disabled".to_string(),
        "/console/admin/categories".to_string(),
        "/console/admin/subcategories".to_string(),
    ] {
        let answer = anonymous
            .post(&path, &[("action", "start"), ("csrf", "x")])
            .await;
        assert_eq!(answer.status, 403, "POST {path}");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM events WHERE actor LIKE 'console:%'"),
        0
    );
    // A forged session cookie is no session.
    anonymous
        .cookies
        .insert("balade_session".into(), "0".repeat(64));
    assert_eq!(anonymous.get("/console/inbox").await.status, 303);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let server = server_with_users().await;
    let (id, _, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    assert_eq!(admin.login("admin1", "admin-password").await.status, 303);
    let before = server.count("SELECT COUNT(*) FROM events");
    let path = format!("/console/requests/{id}/action");
    for csrf in [None, Some("wrong"), Some("")] {
        let mut pairs = vec![("action", "internal_note"), ("text", "note")];
        if let Some(csrf) = csrf {
            pairs.push(("csrf", csrf));
        }
        assert_eq!(admin.post(&path, &pairs).await.status, 403, "csrf {csrf:?}");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM events"),
        before,
        "nothing stored"
    );
    // The login form is protected too (double-submit cookie).
    let mut fresh = Browser::new(&server.base);
    let answer = fresh
        .post(
            "/console/login",
            &[("login", "admin1"), ("password", "admin-password")],
        )
        .await;
    assert_eq!(answer.status, 403);
    // With the token it works.
    let csrf = admin.csrf().await;
    let answer = admin
        .post(
            &path,
            &[
                ("action", "internal_note"),
                ("text", "note"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(server.count("SELECT COUNT(*) FROM events"), before + 1);
}

#[tokio::test]
async fn an_operator_cannot_see_another_services_requests() {
    let server = server_with_users().await;
    let photo = server.store_photo();
    let mut lighting = incident("eclairage", "eteint", "Lampadaire éteint", 46.16, -1.15);
    lighting.photos = vec![photo.clone()];
    let (other_id, other_ref, _) = server.add_incident(None, lighting);
    let (own_id, own_ref, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let mut operator = Browser::new(&server.base);
    assert_eq!(
        operator.login("voirie1", "voirie-password").await.status,
        303
    );
    let inbox = operator.get("/console/inbox").await;
    assert!(inbox.body.contains(&own_ref), "own request listed");
    assert!(
        !inbox.body.contains(&other_ref),
        "other service's request not listed"
    );
    let map = operator.get("/console/inbox?view=map").await;
    assert!(!map.body.contains(&other_ref));
    assert_eq!(
        operator
            .get(&format!("/console/requests/{other_id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        operator
            .get(&format!("/console/requests/{other_ref}"))
            .await
            .status,
        404
    );
    assert_eq!(
        operator
            .get(&format!("/console/photos/{}", photo.sha256))
            .await
            .status,
        404
    );
    assert_eq!(
        operator
            .get(&format!("/console/requests/{own_id}"))
            .await
            .status,
        200
    );
    let csrf = operator.csrf().await;
    let before = server.count("SELECT COUNT(*) FROM events");
    let answer = operator
        .post(
            &format!("/console/requests/{other_id}/action"),
            &[("action", "start"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(server.count("SELECT COUNT(*) FROM events"), before);
    assert_eq!(
        operator.get("/console/admin").await.status,
        403,
        "operators are not admins"
    );
    // The admin sees both.
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let inbox = admin.get("/console/inbox").await;
    assert!(inbox.body.contains(&own_ref) && inbox.body.contains(&other_ref));
    assert_eq!(
        admin
            .get(&format!("/console/photos/{}", photo.sha256))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn html_in_a_comment_is_shown_as_text() {
    let server = server_with_users().await;
    let comment = "<script>alert('x')</script><b>gras</b> & \"guillemets\"";
    let (id, _, _) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", comment, 46.16, -1.15),
    );
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    for path in [
        format!("/console/requests/{id}"),
        "/console/inbox".to_string(),
    ] {
        let page = admin.get(&path).await;
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("<b>gras</b>"), "{path}");
    }
    let page = admin.get(&format!("/console/requests/{id}")).await;
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;")
            || page
                .body
                .contains("&lt;script&gt;alert('x')&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_wrong_tracking_code_answers_404_without_revealing_existence() {
    let server = server_with_users().await;
    let (_, reference, code) = server.add_incident(
        None,
        incident("voirie", "nid_de_poule", "Trou", 46.16, -1.15),
    );
    let mut citizen = Browser::new(&server.base);
    let found = citizen
        .get(&format!("/suivi/{}", code.to_lowercase()))
        .await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains(&reference));
    let unknown = citizen.get("/suivi/ABCDEFGH").await;
    let malformed = citizen.get("/suivi/..%2F..%2Fetc").await;
    let too_short = citizen.get("/suivi/ABC").await;
    for answer in [&unknown, &malformed, &too_short] {
        assert_eq!(answer.status, 404);
        assert_eq!(answer.body, unknown.body, "same page whatever the reason");
        assert!(!answer.body.contains("LR-"));
    }
    // The form redirects to the normalised code.
    let redirect = citizen
        .get(&format!("/suivi?code={}", code.to_lowercase()))
        .await;
    assert_eq!(redirect.location, format!("/suivi/{code}"));
}

#[tokio::test]
async fn login_failures_are_throttled() {
    let server = server_with_users().await;
    let mut attacker = Browser::new(&server.base);
    for _ in 0..balade_sync::console::auth::MAX_FAILURES_PER_LOGIN {
        let answer = attacker.login("admin1", "guess").await;
        assert_eq!(answer.status, 401);
        assert!(
            answer
                .body
                .contains("Identifiant ou mot de passe incorrect")
        );
    }
    let answer = attacker.login("admin1", "admin-password").await;
    assert_eq!(answer.status, 429, "locked even with the right password");
    assert!(!attacker.cookies.contains_key("balade_session"));
    // Another account from the same address is still usable below the per-IP limit.
    let mut other = Browser::new(&server.base);
    assert_eq!(other.login("voirie1", "voirie-password").await.status, 303);
    // Unknown logins fail the same way as wrong passwords.
    let answer = Browser::new(&server.base).login("nobody", "guess").await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = server_with_users().await;
    let mut admin = Browser::new(&server.base);
    admin.login("admin1", "admin-password").await;
    let session = admin.cookies.get("balade_session").cloned().unwrap();
    let csrf = admin.csrf().await;
    assert_eq!(
        admin
            .post("/console/logout", &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    let mut replay = Browser::new(&server.base);
    replay.cookies.insert("balade_session".into(), session);
    assert_eq!(
        replay.get("/console/inbox").await.status,
        303,
        "old cookie no longer works"
    );
    let _ = hidden;
}

#[tokio::test]
async fn session_cookie_is_http_only_strict_and_pages_refuse_framing() {
    let server = server_with_users().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{}/console/login", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let mut browser = Browser::new(&server.base);
    let form = browser.get("/console/login").await;
    let csrf = hidden(&form.body, "csrf");
    let response = client
        .post(format!("{}/console/login", server.base))
        .header(
            "cookie",
            format!("balade_login_csrf={}", browser.cookies["balade_login_csrf"]),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&login=admin1&password=admin-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("balade_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let citizen = client
        .get(format!("{}/suivi", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(citizen.headers()["x-frame-options"], "DENY");
}

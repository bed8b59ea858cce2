//! Open311 GeoReport v2 over real HTTP: services, definitions, POST requests (every error case,
//! JSON and XML, nothing stored on error), GET requests and its extensions, tokens.

mod open311_support;

use open311_support::{json, start};

#[tokio::test]
async fn services_list_and_definitions_in_json_and_xml() {
    let s = start().await;
    let (status, ct, body) = s.get("/open311/v2/services.json").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));
    let services = json(&body);
    let voirie = services
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service_code"] == "voirie")
        .unwrap();
    assert_eq!(voirie["metadata"], true);
    assert_eq!(voirie["type"], "realtime");
    assert_eq!(voirie["group"], "Service Voirie");
    assert!(
        voirie["keywords"]
            .as_str()
            .unwrap()
            .contains("Nid-de-poule")
    );

    for path in [
        "/open311/v2/services.xml",
        "/open311/v2/services?format=xml",
    ] {
        let (status, ct, body) = s.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(ct.starts_with("text/xml"), "{path}: {ct}");
        assert!(
            body.contains("<services><service>")
                && body.contains("<service_code>voirie</service_code>"),
            "{body}"
        );
    }

    let (status, _, body) = s.get("/open311/v2/services/voirie.json").await;
    assert_eq!(status, 200);
    let def = json(&body);
    let attributes = def["attributes"].as_array().unwrap();
    assert_eq!(attributes[0]["code"], "subcategory");
    assert_eq!(attributes[0]["datatype"], "singlevaluelist");
    assert_eq!(attributes[0]["required"], true);
    assert!(
        attributes[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "nid_de_poule")
    );
    let taille = attributes.iter().find(|a| a["code"] == "taille").unwrap();
    assert_eq!(taille["datatype"], "singlevaluelist");
    assert_eq!(taille["order"], 3);

    let (status, _, body) = s.get("/open311/v2/services/voirie.xml").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<service_definition><attributes><attribute>"),
        "{body}"
    );
    assert!(
        body.contains("<service_code>voirie</service_code></service_definition>"),
        "{body}"
    );
    assert!(
        body.contains("<values><value><key>nid_de_poule</key>"),
        "{body}"
    );
}

#[tokio::test]
async fn errors_come_in_the_asked_format() {
    let s = start().await;
    for (path, status) in [
        ("/open311/v2/services/nope.json", 404),
        ("/open311/v2/requests/LR-1999-000001.json", 404),
        ("/open311/v2/tokens/unknown.json", 404),
        ("/open311/v2/unknown.json", 404),
        (
            "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            400,
        ),
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?status=pending", 400),
        ("/open311/v2/requests.json?page_size=5000", 400),
        ("/open311/v2/requests.json?page=0", 400),
        ("/open311/v2/requests.json?extensions=maybe", 400),
        (
            "/open311/v2/servicerequestupdates.json?end_date=2020-01-01&start_date=2021-01-01",
            400,
        ),
    ] {
        let (got, ct, body) = s.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(ct.starts_with("application/json"), "{path}");
        let errors = json(&body);
        assert_eq!(errors[0]["code"], status, "{path}");
        assert!(!errors[0]["description"].as_str().unwrap().is_empty());

        let xml_path = path.replacen(".json", ".xml", 1);
        let (got, ct, body) = s.get(&xml_path).await;
        assert_eq!(got, status, "{xml_path}");
        assert!(ct.starts_with("text/xml"), "{xml_path}");
        assert!(
            body.contains(&format!(
                "<errors><error><code>{status}</code><description>"
            )),
            "{body}"
        );
    }
    let (status, ct, _) = s.get("/open311/v2/services.yaml").await;
    assert_eq!((status, ct.starts_with("application/json")), (400, true));
}

#[tokio::test]
async fn a_wrong_method_answers_405_with_an_open311_error_in_the_asked_format() {
    let s = start().await;
    let n_requests = s.count("requests");
    // (method, path, format expected, Allow expected)
    for (method, path, xml, allow) in [
        (
            "DELETE",
            "/open311/v2/requests.json",
            false,
            "GET,HEAD,POST",
        ),
        ("PUT", "/open311/v2/requests.xml", true, "GET,HEAD,POST"),
        ("PATCH", "/open311/v2/services.xml", true, "GET,HEAD,POST"),
        (
            "DELETE",
            "/open311/v2/requests?format=xml",
            true,
            "GET,HEAD,POST",
        ),
        (
            "POST",
            "/open311/v2/services/voirie.json",
            false,
            "GET,HEAD",
        ),
        ("POST", "/open311/v2/services/voirie.xml", true, "GET,HEAD"),
        (
            "DELETE",
            "/open311/v2/requests/LR-2026-000001.xml",
            true,
            "GET,HEAD",
        ),
        ("PUT", "/open311/v2/tokens/abc.json", false, "GET,HEAD"),
        // an unreadable format: the error comes in JSON
        ("DELETE", "/open311/v2/requests.csv", false, "GET,HEAD,POST"),
    ] {
        let r = s
            .client
            .request(method.parse().unwrap(), format!("{}{path}", s.base))
            .body("api_key=x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        let body = r.text().await.unwrap();
        if xml {
            assert!(ct.starts_with("text/xml"), "{method} {path}: {ct}");
            assert!(
                body.contains("<errors><error><code>405</code><description>Méthode "),
                "{method} {path}: {body}"
            );
        } else {
            assert!(ct.starts_with("application/json"), "{method} {path}: {ct}");
            let errors = json(&body);
            assert_eq!(errors[0]["code"], 405, "{method} {path}");
            assert!(
                errors[0]["description"].as_str().unwrap().contains(method),
                "{body}"
            );
        }
    }
    assert_eq!(s.count("requests"), n_requests);
}

#[tokio::test]
async fn bad_posts_are_refused_and_store_nothing() {
    let s = start().await;
    let key = s.key.clone();
    let long = "x".repeat(4001);
    let base = |extra: &[(&'static str, &str)]| {
        let mut v: Vec<(&str, String)> = vec![
            ("api_key", key.clone()),
            ("service_code", "voirie".into()),
            ("lat", "46.1591".into()),
            ("long", "-1.1520".into()),
            ("attribute[subcategory]", "nid_de_poule".into()),
        ];
        for (k, val) in extra {
            v.retain(|(kk, _)| kk != k);
            if !val.is_empty() {
                v.push((k, val.to_string()));
            }
        }
        v
    };
    // (what, form pairs, expected status)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, u16);
    let cases: Vec<Case> = vec![
        ("no api key", base(&[("api_key", "")]), 403),
        ("unknown api key", base(&[("api_key", "not-a-key")]), 403),
        ("no service code", base(&[("service_code", "")]), 400),
        ("unknown service", base(&[("service_code", "piscine")]), 400),
        ("no position", base(&[("lat", ""), ("long", "")]), 400),
        ("lat without long", base(&[("long", "")]), 400),
        ("lat not a number", base(&[("lat", "north")]), 400),
        ("lat out of range", base(&[("lat", "123")]), 400),
        (
            "unknown address",
            base(&[
                ("lat", ""),
                ("long", ""),
                ("address_string", "Zzyzx Boulevard Inexistant"),
            ]),
            400,
        ),
        (
            "unknown address id",
            base(&[("lat", ""), ("long", ""), ("address_id", "no-such-id")]),
            400,
        ),
        ("description too long", base(&[("description", &long)]), 400),
        (
            "no subcategory",
            base(&[("attribute[subcategory]", "")]),
            400,
        ),
        (
            "unknown subcategory",
            base(&[("attribute[subcategory]", "volcan")]),
            400,
        ),
        (
            "unknown attribute",
            base(&[("attribute[couleur]", "rouge")]),
            400,
        ),
        ("bad choice", base(&[("attribute[taille]", "immense")]), 400),
        (
            "bad boolean",
            base(&[("attribute[danger]", "peut-etre")]),
            400,
        ),
        (
            "malformed attribute name",
            base(&[("attribute[]", "x")]),
            400,
        ),
        (
            "media_url not http",
            base(&[("media_url", "file:///etc/passwd")]),
            400,
        ),
    ];
    for (name, pairs, status) in cases {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for suffix in ["json", "xml"] {
            let (got, ct, body) = s
                .post_form(&format!("/open311/v2/requests.{suffix}"), &pairs)
                .await;
            assert_eq!(got, status, "{name} ({suffix}): {body}");
            if suffix == "json" {
                assert_eq!(json(&body)[0]["code"], status, "{name}");
            } else {
                assert!(
                    ct.starts_with("text/xml") && body.contains("<errors><error>"),
                    "{name}: {body}"
                );
            }
        }
    }
    assert_eq!(s.count("requests"), 0);
    assert_eq!(s.count("events"), 0);
    assert_eq!(s.count("open311_tokens"), 0);
}

#[tokio::test]
async fn a_post_is_stored_routed_and_readable_without_personal_data() {
    let s = start().await;
    let key = s.key.clone();
    let (status, _, body) = s
        .post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", "voirie"),
                ("lat", "46.1591"),
                ("long", "-1.1520"),
                ("attribute[subcategory]", "nid_de_poule"),
                ("attribute[taille]", "moyen"),
                ("attribute[danger]", "true"),
                ("description", "Trou profond devant l'école"),
                ("email", "secret.citoyen@example.org"),
                ("first_name", "Camille"),
                ("phone", "0600000000"),
                ("media_url", "https://example.org/p.jpg"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let answer = json(&body);
    let id = answer[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("LR-"), "{id}");
    assert!(
        answer[0]["service_notice"]
            .as_str()
            .unwrap()
            .contains("jours")
    );
    let token = answer[0]["token"].as_str().unwrap().to_string();

    let (status, _, body) = s.get(&format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)[0]["service_request_id"], id.as_str());

    let (status, _, body) = s.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 200, "{body}");
    let r = &json(&body)[0];
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "voirie");
    assert_eq!(r["agency_responsible"], "Service Voirie");
    assert_eq!(r["description"], "Trou profond devant l'école");
    assert_eq!(r["media_url"], "https://example.org/p.jpg");
    // ISO 8601 in Paris time: the offset of the day (+01:00 winter, +02:00 summer), and the
    // same instant as the store's UTC time (just created).
    let requested = r["requested_datetime"].as_str().unwrap();
    assert!(
        requested.ends_with("+01:00") || requested.ends_with("+02:00"),
        "{requested}"
    );
    let requested = chrono::DateTime::parse_from_rfc3339(requested).unwrap();
    let stored = s
        .state
        .store
        .with_conn(|c| balade_sync::store::requests::find(c, &id))
        .unwrap()
        .unwrap();
    assert_eq!(requested.timestamp(), stored.created_at.timestamp());
    for secret in ["secret.citoyen", "Camille", "0600000000", "device_id"] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }
    // The store made it like a device report: open311 source, received + routed events.
    let (source, n_events): (String, i64) = s
        .state
        .store
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT source, (SELECT COUNT(*) FROM events e WHERE e.request_id = r.id) FROM requests r",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!((source.as_str(), n_events), ("open311", 2));

    let (status, _, body) = s.get(&format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<service_requests><request>")
            && body.contains(&format!("<service_request_id>{id}</service_request_id>"))
    );

    // Address-only POST finds the street in the referential.
    let (status, _, body) = s
        .post_form(
            "/open311/v2/requests.xml",
            &[
                ("api_key", &key),
                ("service_code", "eclairage"),
                ("address_string", "Rue Hoche"),
                ("attribute[subcategory]", "eteint"),
                ("attribute[nombre]", "2"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body
        .split("<service_request_id>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (_, _, body) = s.get(&format!("/open311/v2/requests/{id}.json")).await;
    let r = &json(&body)[0];
    assert_eq!(r["address"], "Rue Hoche");
    assert!((r["lat"].as_f64().unwrap() - 46.16).abs() < 0.05, "{r}");
}

#[tokio::test]
async fn list_filters_paging_and_extensions() {
    let s = start().await;
    let key = s.key.clone();
    for (service, sub) in [
        ("voirie", "nid_de_poule"),
        ("voirie", "tampon"),
        ("proprete", "tags"),
    ] {
        let (status, _, body) = s
            .post_form(
                "/open311/v2/requests.json",
                &[
                    ("api_key", &key),
                    ("service_code", service),
                    ("lat", "46.16"),
                    ("long", "-1.15"),
                    ("attribute[subcategory]", sub),
                ],
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let check = |body: &str| json(body).as_array().unwrap().len();
    let (_, _, body) = s.get("/open311/v2/requests.json").await;
    assert_eq!(check(&body), 3);
    let (_, _, body) = s.get("/open311/v2/requests.json?service_code=voirie").await;
    assert_eq!(check(&body), 2);
    let (_, _, body) = s.get("/open311/v2/requests.json?status=closed").await;
    assert_eq!(check(&body), 0);
    let (_, _, body) = s
        .get("/open311/v2/requests.json?status=open&page_size=2&page=2")
        .await;
    assert_eq!(check(&body), 1);
    let (_, _, body) = s.get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z").await;
    assert_eq!(check(&body), 0);
    let (_, _, body) = s
        .get("/open311/v2/requests.json?updated_after=2020-01-01T00:00:00Z")
        .await;
    assert_eq!(check(&body), 3);
    let (_, _, body) = s
        .get("/open311/v2/requests.json?updated_before=2020-01-01T00:00:00Z")
        .await;
    assert_eq!(check(&body), 0);
    let (_, _, body) = s
        .get("/open311/v2/requests.json?extensions=true&page_size=1")
        .await;
    let ext = &json(&body)[0]["extended_attributes"];
    assert_eq!(ext["state"], "routed");
    assert!(ext["x_lambert93"].as_f64().unwrap() > 300_000.0, "{ext}");
    let (_, _, body) = s.get("/open311/v2/requests.json").await;
    assert!(!body.contains("extended_attributes"));
    let first = json(&body)[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let third = json(&body)[2]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, body) = s
        .get(&format!(
            "/open311/v2/requests.json?service_request_id={first},{third}"
        ))
        .await;
    assert_eq!(check(&body), 2);
    let (_, _, body) = s
        .get("/open311/v2/requests.xml?service_code=proprete")
        .await;
    assert_eq!(body.matches("<request>").count(), 1, "{body}");
}

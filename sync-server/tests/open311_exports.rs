//! Exports of the 10,000 Paris reports (../shared/data) loaded into a real store: GeoJSON WGS84,
//! GeoJSON Lambert-93 (EPSG:2154), CSV and French CSV, each opened by GDAL's `ogrinfo` (Debian
//! gdal-bin) to check the feature count and the CRS; plus the HTTP endpoints' auth and filters.

mod open311_support;

use std::path::PathBuf;
use std::process::Command;

use balade_protocol::incident::{Address, Incident, Position};
use balade_sync::open311::exports::{ExportFilter, cli_export};
use balade_sync::store::requests::{InsertOutcome, Source, insert_incident};

fn paris_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/incidents/paris_dansmarue_10k/raw_data.csv")
}

/// Loads the Paris reports as Open311-source requests (category mapped from the Paris type).
fn load_paris(data_dir: &std::path::Path) -> usize {
    let store = balade_sync::store::Store::open_blocking(data_dir).unwrap();
    let taxonomy = balade_protocol::taxonomy::la_rochelle();
    let mut reader = csv::Reader::from_path(paris_csv()).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_type, c_addr, c_date, c_point) = (
        col("type"),
        col("adresse"),
        col("datedecl"),
        col("geo_point_2d"),
    );
    let mut incidents = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let point = &record[c_point];
        let number = |key: &str| -> f64 {
            let rest = point.split(&format!("'{key}': ")).nth(1).unwrap();
            rest.trim_end_matches('}')
                .split(',')
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (category, subcategory) = match &record[c_type] {
            t if t.starts_with("Graffitis") => ("proprete", "tags"),
            t if t.contains("Voirie") => ("voirie", "chaussee_degradee"),
            t if t.contains("clairage") => ("eclairage", "eteint"),
            t if t.contains("Mobilier") => ("mobilier_urbain", "banc"),
            _ => ("proprete", "depot_sauvage"),
        };
        incidents.push(Incident {
            id: uuid::Uuid::now_v7(),
            walk_id: None,
            comment: record[c_type].to_string(),
            observed_at: format!("{}T12:00:00Z", &record[c_date]).parse().unwrap(),
            category: category.into(),
            subcategory: subcategory.into(),
            extra: Default::default(),
            photos: vec![],
            position: Position::new(number("lat"), number("lon"), None).unwrap(),
            lambert93: None,
            address: Some(Address {
                label: record[c_addr].to_string(),
                ..Default::default()
            }),
            asset: None,
        });
    }
    store
        .with_conn(|c| {
            balade_sync::store::write_tx(c, |tx| {
                for incident in &incidents {
                    let outcome = insert_incident(tx, &taxonomy, incident, None, Source::Open311)?;
                    assert!(matches!(outcome, InsertOutcome::Created(_)), "{outcome:?}");
                }
                Ok(())
            })
        })
        .unwrap();
    incidents.len()
}

fn ogrinfo(path: &std::path::Path) -> String {
    let out = Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(path)
        .output()
        .expect("ogrinfo (gdal-bin) is installed");
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ten_thousand_paris_reports_export_and_open_in_gdal() {
    let dir = tempfile::tempdir().unwrap();
    let n = load_paris(dir.path());
    assert_eq!(n, 10_000);
    let started = std::time::Instant::now();
    let mut timings = Vec::new();
    for (format, crs_marker) in [
        ("geojson", Some("WGS 84")),
        ("geojson-l93", Some("RGF93")),
        ("csv", None),
        ("csv-fr", None),
    ] {
        let out = dir.path().join(format!(
            "export-{format}.{}",
            if format.starts_with("csv") {
                "csv"
            } else {
                "geojson"
            }
        ));
        let t = std::time::Instant::now();
        let rows = cli_export(dir.path(), format, &ExportFilter::default(), &out).unwrap();
        timings.push((format, t.elapsed()));
        assert_eq!(rows, 10_000);
        let info = ogrinfo(&out);
        assert!(info.contains("Feature Count: 10000"), "{format}: {info}");
        if let Some(marker) = crs_marker {
            assert!(
                info.contains(marker),
                "{format} should declare {marker}: {info}"
            );
        }
        if format == "geojson-l93" {
            assert!(
                info.contains("2154") || info.contains("Lambert-93") || info.contains("Lambert 93"),
                "{info}"
            );
            // Paris in Lambert-93 is around x 652 000, y 6 862 000.
            assert!(
                info.contains("Extent: (6") && info.contains(", 68"),
                "{info}"
            );
        }
        if format == "csv-fr" {
            let bytes = std::fs::read(&out).unwrap();
            assert!(bytes.starts_with("\u{feff}reference;etat;".as_bytes()));
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                text.lines().nth(1).unwrap().contains(";48,"),
                "decimal comma"
            );
        }
    }
    // Reference in the same run: GDAL converting our CSV to GeoJSON (whole process).
    let reference_out = dir.path().join("ogr2ogr.geojson");
    let t = std::time::Instant::now();
    let status = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON"])
        .arg(&reference_out)
        .arg(dir.path().join("export-csv.csv"))
        .args([
            "-oo",
            "X_POSSIBLE_NAMES=longitude",
            "-oo",
            "Y_POSSIBLE_NAMES=latitude",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let reference = t.elapsed().as_secs_f64();
    eprintln!("| export of 10 000 requests | seconds | ratio to ogr2ogr csv→geojson |");
    eprintln!("|---|---|---|");
    for (format, t) in &timings {
        eprintln!(
            "| {format} | {:.2} | {:.2} |",
            t.as_secs_f64(),
            t.as_secs_f64() / reference
        );
    }
    eprintln!("| ogr2ogr (reference) | {reference:.2} | 1.00 |");
    eprintln!("(total {:.2} s)", started.elapsed().as_secs_f64());

    // A filtered selection (per service batch) and bad options.
    let out = dir.path().join("tags.csv");
    let tags = cli_export(
        dir.path(),
        "csv",
        &ExportFilter::from_pairs(&[
            ("category".into(), "proprete".into()),
            ("state".into(), "routed".into()),
        ])
        .unwrap(),
        &out,
    )
    .unwrap();
    assert!(tags > 0 && tags < 10_000);
    assert!(cli_export(dir.path(), "shapefile", &ExportFilter::default(), &out).is_err());
    for bad in [
        ("state", "perdu"),
        ("walk", "x"),
        ("from", "hier"),
        ("colour", "red"),
    ] {
        assert!(
            ExportFilter::from_pairs(&[(bad.0.into(), bad.1.into())]).is_err(),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn export_endpoints_need_an_admin_key_and_apply_filters() {
    let s = open311_support::start().await;
    let key = s.key.clone();
    for sub in ["nid_de_poule", "tampon"] {
        s.post_form(
            "/open311/v2/requests.json",
            &[
                ("api_key", &key),
                ("service_code", "voirie"),
                ("lat", "46.16"),
                ("long", "-1.15"),
                ("attribute[subcategory]", sub),
            ],
        )
        .await;
    }
    let get = |path: &str, key: Option<&str>| {
        let mut r = s.client.get(format!("{}{path}", s.base));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    let r = get("/api/v1/exports/requests.geojson", None).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        open311_support::json(&r.text().await.unwrap())["error"]["code"],
        "missing_token"
    );
    let r = get("/api/v1/exports/requests.geojson", Some("bad"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = get("/api/v1/exports/requests.shp", Some(&key))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = get("/api/v1/exports/requests.csv?state=perdu", Some(&key))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = get(
        "/api/v1/exports/requests.geojson-l93?service=voirie",
        Some(&key),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let body = open311_support::json(&r.text().await.unwrap());
    assert_eq!(
        body["crs"]["properties"]["name"],
        "urn:ogc:def:crs:EPSG::2154"
    );
    assert_eq!(body["features"].as_array().unwrap().len(), 2);
    let x = body["features"][0]["geometry"]["coordinates"][0]
        .as_f64()
        .unwrap();
    assert!(
        (370_000.0..390_000.0).contains(&x),
        "La Rochelle x in Lambert-93: {x}"
    );
    let r = get("/api/v1/exports/requests.csv?service=proprete", Some(&key))
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 1, "header only");
    let walk = uuid::Uuid::now_v7();
    let r = get(&format!("/api/v1/exports/walks/{walk}.geojson"), Some(&key))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        open311_support::json(&r.text().await.unwrap())["features"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let r = get("/api/v1/exports/walks/not-a-uuid.geojson", Some(&key))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn cli_apikey_export_and_connector_commands() {
    let bin = env!("CARGO_BIN_EXE_balade-sync");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(bin)
            .arg("--data")
            .arg(data)
            .args(args)
            .output()
            .unwrap()
    };

    let out = run(&["apikey", "add", "--name", "back-office"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let store = balade_sync::store::Store::open_blocking(dir.path()).unwrap();
    let found = store
        .with_conn(|c| balade_sync::open311::apikeys::verify_key(c, &key))
        .unwrap();
    assert_eq!(found.unwrap().name, "back-office");
    assert!(!run(&["apikey", "add", "--name", " "]).status.success());

    let taxonomy = balade_protocol::taxonomy::la_rochelle();
    let incident = Incident {
        id: uuid::Uuid::now_v7(),
        walk_id: None,
        comment: "Lampadaire éteint; rue \"Hoche\"".into(),
        observed_at: chrono::Utc::now(),
        category: "eclairage".into(),
        subcategory: "eteint".into(),
        extra: Default::default(),
        photos: vec![],
        position: Position::new(46.1603, -1.1511, None).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    };
    store
        .with_conn(|c| {
            balade_sync::store::write_tx(c, |tx| {
                insert_incident(tx, &taxonomy, &incident, None, Source::Open311).map(|_| ())
            })
        })
        .unwrap();
    drop(store);

    let file = dir.path().join("out.csv");
    let out = run(&[
        "export",
        "--format",
        "csv-fr",
        "--service",
        "eclairage",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.contains("\"Lampadaire éteint; rue \"\"Hoche\"\"\""),
        "{text}"
    );
    let geojson = dir.path().join("out.geojson");
    let out = run(&[
        "export",
        "--format",
        "geojson-l93",
        "--out",
        geojson.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(ogrinfo(&geojson).contains("Feature Count: 1"));

    for bad in [
        vec!["export", "--format", "kml", "--out", "x.kml"],
        vec![
            "export", "--format", "csv", "--state", "lost", "--out", "x.csv",
        ],
        vec![
            "export",
            "--format",
            "csv",
            "--walk",
            "not-a-uuid",
            "--out",
            "x.csv",
        ],
        vec![
            "connector",
            "set",
            "--service",
            "piscine",
            "--url",
            "http://127.0.0.1:9/",
            "--secret",
            "0123456789abcdef",
        ],
        vec![
            "connector",
            "set",
            "--service",
            "voirie",
            "--url",
            "http://127.0.0.1:9/",
            "--secret",
            "short",
        ],
    ] {
        let out = run(&bad);
        assert!(!out.status.success(), "{bad:?} should fail");
        assert!(!out.stderr.is_empty(), "{bad:?} should say why");
    }
    let out = run(&[
        "connector",
        "set",
        "--service",
        "voirie",
        "--url",
        "http://127.0.0.1:9/",
        "--secret",
        "0123456789abcdef",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["connector", "dead-letters"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "[]");
}

#[tokio::test]
async fn a_console_operator_exports_only_their_services() {
    let s = open311_support::start().await;
    let key = s.key.clone();
    for (service, sub) in [("voirie", "nid_de_poule"), ("proprete", "tags")] {
        s.post_form(
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
    }
    let token = s
        .state
        .store
        .with_conn(|c| {
            let known: Vec<String> = vec!["voirie".into(), "proprete".into()];
            balade_sync::console::auth::cli_user(
                c,
                "agent.voirie",
                "mot-de-passe-long-1",
                "operator",
                &["voirie".into()],
                &known,
            )
            .unwrap();
            Ok(balade_sync::console::auth::login(
                c,
                "agent.voirie",
                "mot-de-passe-long-1",
                "127.0.0.1",
                chrono::Utc::now(),
            )
            .unwrap()
            .unwrap())
        })
        .unwrap();
    let get = |path: String, cookie: String| {
        s.client
            .get(format!("{}{path}", s.base))
            .header("cookie", cookie)
            .send()
    };
    let cookie = format!("other=1; balade_session={token}");
    let r = get("/api/v1/exports/requests.geojson".into(), cookie.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = open311_support::json(&r.text().await.unwrap());
    let features = body["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "only the operator's service");
    assert_eq!(features[0]["properties"]["service"], "voirie");
    let r = get(
        "/api/v1/exports/requests.csv?service=proprete".into(),
        cookie.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = get(
        "/api/v1/exports/requests.csv".into(),
        "balade_session=expired-or-forged".into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        open311_support::json(&r.text().await.unwrap())["error"]["code"],
        "invalid_token"
    );
}

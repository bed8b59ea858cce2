//! Console inbox and request page, server-side handler times on ~100,000 requests.
//!
//! Loads the Paris (DansMaRue, 10k), Los Angeles (MyLA311 2017 subset, ~8k with positions) and
//! Chicago (Open311 2014, 50) samples from ../shared/data/incidents, maps their types to the
//! La Rochelle taxonomy, and — since they hold ~18k rows — replicates them with jittered
//! positions (±50 m) until 100,000 requests are stored through the server's own insert path
//! (arrival + routing events); then a share is scheduled/started/resolved through
//! `apply_action`. Each page is then requested N times through the real router in-process
//! (`oneshot`, logged-in session cookie), and p50/p99 are printed against two references
//! measured in the same run: a trivial handler (`GET /api/v1/health`) and `SELECT 1` on the
//! store thread. Target: p99 < 50 ms for the inbox and the request page.
//!
//! Run: `cargo bench -p balade-sync --bench inbox` (BALADE_BENCH_N=requests per row, default 200;
//! BALADE_BENCH_TOTAL=store size, default 100000).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use balade_protocol::incident::{Address, Incident, Position};
use balade_sync::actions::{Action, apply_action};
use balade_sync::state::{AppState, Config};
use balade_sync::store::requests::{InsertOutcome, Source, insert_incident};
use tower::ServiceExt;
use uuid::Uuid;

struct Row {
    category: &'static str,
    subcategory: &'static str,
    comment: String,
    address: String,
    lat: f64,
    lon: f64,
}

fn map_type(text: &str) -> (&'static str, &'static str) {
    let t = text.to_lowercase();
    let table: [(&str, &str, &str); 14] = [
        ("graffiti", "proprete", "tags"),
        ("tag", "proprete", "tags"),
        ("abandonn", "proprete", "depot_sauvage"),
        ("bulky", "proprete", "depot_sauvage"),
        ("dumping", "proprete", "depot_sauvage"),
        ("propret", "proprete", "salissures"),
        ("pothole", "voirie", "nid_de_poule"),
        ("voirie", "voirie", "chaussee_degradee"),
        ("light", "eclairage", "eteint"),
        ("éclairage", "eclairage", "eteint"),
        ("arbre", "espaces_verts", "arbre_mort"),
        ("mobilier", "mobilier_urbain", "banc"),
        ("vehicle", "stationnement_circulation", "epave"),
        ("auto", "stationnement_circulation", "epave"),
    ];
    table
        .iter()
        .find(|(k, _, _)| t.contains(k))
        .map(|(_, c, s)| (*c, *s))
        .unwrap_or(("voirie", "obstacle"))
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/incidents")
}

fn load_sources() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut paris =
        csv::Reader::from_path(data_dir().join("paris_dansmarue_10k/raw_data.csv")).unwrap();
    let headers = paris.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_type, c_sub, c_addr, c_point) = (
        col("type"),
        col("soustype"),
        col("adresse"),
        col("geo_point_2d"),
    );
    for record in paris.records().flatten() {
        let point = record[c_point].replace('\'', "\"");
        let Ok(point) = serde_json::from_str::<serde_json::Value>(&point) else {
            continue;
        };
        let (Some(lat), Some(lon)) = (point["lat"].as_f64(), point["lon"].as_f64()) else {
            continue;
        };
        let (category, subcategory) = map_type(&record[c_type]);
        rows.push(Row {
            category,
            subcategory,
            comment: record[c_sub].to_string(),
            address: record[c_addr].to_string(),
            lat,
            lon,
        });
    }
    let mut la = csv::Reader::from_path(
        data_dir().join("los_angeles_myla311/MyLA311_Service_Request_Data_2017_Subset.csv"),
    )
    .unwrap();
    let headers = la.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_type, c_addr, c_lat, c_lon) = (
        col("RequestType"),
        col("Address"),
        col("Latitude"),
        col("Longitude"),
    );
    for record in la.records().flatten() {
        let (Ok(lat), Ok(lon)) = (record[c_lat].parse::<f64>(), record[c_lon].parse::<f64>())
        else {
            continue;
        };
        let (category, subcategory) = map_type(&record[c_type]);
        rows.push(Row {
            category,
            subcategory,
            comment: record[c_type].to_string(),
            address: record[c_addr].to_string(),
            lat,
            lon,
        });
    }
    let chicago: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            data_dir()
                .join("chicago_open311_2014_with_notes/chicago_requests_2014_with_notes.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for r in chicago {
        let (Some(lat), Some(lon)) = (r["lat"].as_f64(), r["long"].as_f64()) else {
            continue;
        };
        let name = r["service_name"].as_str().unwrap_or("").to_string();
        let (category, subcategory) = map_type(&name);
        rows.push(Row {
            category,
            subcategory,
            comment: name,
            address: r["address"].as_str().unwrap_or("").into(),
            lat,
            lon,
        });
    }
    rows
}

/// Small deterministic generator for the jitter (no timing-dependent randomness).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

fn populate(state: &AppState, total: usize) -> (usize, Vec<Uuid>) {
    let sources = load_sources();
    let n_sources = sources.len();
    let taxonomy = state.taxonomy();
    let mut rng = Lcg(42);
    let mut ids = Vec::with_capacity(total);
    let start = Instant::now();
    state
        .store
        .with_conn(|conn| {
            for chunk in 0..total.div_ceil(10_000) {
                balade_sync::store::write_tx(conn, |tx| {
                    for i in chunk * 10_000..((chunk + 1) * 10_000).min(total) {
                        let source = &sources[i % n_sources];
                        let jitter = if i < n_sources { 0.0 } else { 1.0 };
                        let incident = Incident {
                            id: Uuid::now_v7(),
                            walk_id: None,
                            comment: source.comment.clone(),
                            observed_at: chrono::Utc::now() - chrono::Duration::minutes((total - i) as i64),
                            category: source.category.into(),
                            subcategory: source.subcategory.into(),
                            extra: BTreeMap::new(),
                            photos: vec![],
                            position: Position::new(
                                source.lat + jitter * (rng.next() - 0.5) * 0.0009,
                                source.lon + jitter * (rng.next() - 0.5) * 0.0013,
                                Some(8.0),
                            )
                            .unwrap(),
                            lambert93: None,
                            address: Some(Address { label: source.address.clone(), ..Default::default() }),
                            asset: None,
                        };
                        let InsertOutcome::Created(stored) = insert_incident(tx, &taxonomy, &incident, None, Source::Device)? else {
                            panic!("not created");
                        };
                        let action = match i % 10 {
                            0..=2 => Some(Action::Schedule { date: "2026-12-24".parse().unwrap(), note: None }),
                            3 => Some(Action::Resolve { note: Some("Fait".into()), photo: None }),
                            4 => Some(Action::Refuse { reason: "Domaine privé".into() }),
                            _ => None,
                        };
                        if let Some(action) = action {
                            apply_action(tx, &taxonomy, "bench", stored.id, action)?;
                        }
                        ids.push(stored.id);
                    }
                    Ok(())
                })?;
            }
            // Spread arrival dates over two years so date filters and ordering are realistic.
            conn.execute_batch(
                "UPDATE requests SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (abs(random()) % 63072000) || ' seconds');
                 ANALYZE;",
            )?;
            Ok(())
        })
        .unwrap();
    eprintln!(
        "loaded {total} requests from {n_sources} source rows in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    (n_sources, ids)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(app: &axum::Router, cookie: &str, paths: &[String], n: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let request = Request::get(&paths[i % paths.len()])
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap();
        let start = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{} → {status}", paths[i % paths.len()]);
    }
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn main() {
    let n: usize = std::env::var("BALADE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let total: usize = std::env::var("BALADE_BENCH_TOTAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(Config::new(
        dir.path().to_path_buf(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .unwrap();
    let (n_sources, ids) = populate(&state, total);
    let known: Vec<String> = state
        .taxonomy()
        .services
        .iter()
        .map(|s| s.code.clone())
        .collect();
    let token = state
        .store
        .with_conn(|c| {
            balade_sync::console::cli_user(c, "bench", "bench-password", "admin", &[], &known)
                .unwrap();
            balade_sync::console::cli_user(
                c,
                "ops",
                "bench-password",
                "operator",
                &["proprete".to_string()],
                &known,
            )
            .unwrap();
            Ok(balade_sync::console::auth::login(
                c,
                "bench",
                "bench-password",
                "bench",
                chrono::Utc::now(),
            )
            .unwrap()
            .unwrap())
        })
        .unwrap();
    let ops_token = state
        .store
        .with_conn(|c| {
            Ok(balade_sync::console::auth::login(
                c,
                "ops",
                "bench-password",
                "bench",
                chrono::Utc::now(),
            )
            .unwrap()
            .unwrap())
        })
        .unwrap();
    let admin = format!("balade_session={token}");
    let operator = format!("balade_session={ops_token}");
    let app = balade_sync::app::app(state.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let request_pages: Vec<String> = ids
        .iter()
        .step_by(ids.len() / 97 + 1)
        .map(|id| format!("/console/requests/{id}"))
        .collect();
    let rows: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "health (trivial handler)",
            "ref",
            vec!["/api/v1/health".into()],
        ),
        (
            "inbox, page 1, admin",
            "admin",
            vec!["/console/inbox".into()],
        ),
        (
            "inbox, category+state filter",
            "admin",
            vec!["/console/inbox?category=proprete&state=scheduled".into()],
        ),
        (
            "inbox, date range filter",
            "admin",
            vec!["/console/inbox?from=2025-06-01&to=2025-06-30".into()],
        ),
        (
            "inbox, page 200 (offset 9950)",
            "admin",
            vec!["/console/inbox?page=200".into()],
        ),
        (
            "inbox, operator scope (proprete)",
            "ops",
            vec!["/console/inbox".into()],
        ),
        (
            "inbox, map view (2000 markers)",
            "admin",
            vec!["/console/inbox?view=map".into()],
        ),
        ("request page (97 different)", "admin", request_pages),
    ];
    let mut results = Vec::new();
    runtime.block_on(async {
        // Warm-up: statement cache and page cache.
        for (_, who, paths) in &rows {
            let cookie = if *who == "ops" { &operator } else { &admin };
            measure(&app, cookie, paths, 5.min(n)).await;
        }
        let store = state.store.clone();
        let mut select1 = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            store
                .call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
                .await
                .unwrap();
            select1.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        select1.sort_by(f64::total_cmp);
        results.push((
            "SELECT 1 on the store thread".to_string(),
            percentile(&select1, 0.5),
            percentile(&select1, 0.99),
        ));
        for (name, who, paths) in &rows {
            let cookie = if *who == "ops" { &operator } else { &admin };
            let (p50, p99) = measure(&app, cookie, paths, n).await;
            results.push((name.to_string(), p50, p99));
        }
    });
    let reference = results
        .iter()
        .find(|r| r.0.starts_with("health"))
        .map(|r| r.1)
        .unwrap();
    println!(
        "\nconsole handlers on {total} requests ({n_sources} source rows from Paris/LA/Chicago, replicated with ±50 m jitter), N = {n} each"
    );
    println!(
        "{:<36} {:>10} {:>10} {:>14} {:>8}",
        "handler", "p50 ms", "p99 ms", "p50 / health", "p99<50"
    );
    for (name, p50, p99) in &results {
        let target = if name.starts_with("inbox") || name.starts_with("request") {
            if *p99 < 50.0 { "yes" } else { "NO" }
        } else {
            "-"
        };
        println!(
            "{name:<36} {p50:>10.3} {p99:>10.3} {:>14.1} {target:>8}",
            p50 / reference
        );
    }
}

//! Sync throughput against raw SQLite inserts, on 10,000 real Paris "Dans ma rue" reports
//! mapped onto the La Rochelle taxonomy.
//!
//! Run: `cargo bench -p balade-tests --bench sync`. In one run it measures
//! 1. **raw**: the server's own `insert_incident` straight into a fresh server database
//!    (same schema, same pragmas), 500 rows per transaction — the floor the server can't beat;
//! 2. **sync**: the same incidents queued in a device store and pushed by the real sync client
//!    to the real server router over loopback HTTP (push, acknowledgement written back on the
//!    device, feed drained).
//!
//! and prints both rates and their ratio (target: sync ≥ 0.5 × raw).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use balade_app::engine::store::{DeviceStore, Enrollment};
use balade_app::engine::sync_client::{SyncOptions, run_sync};
use balade_app::engine::sync_machine::Outcome;
use balade_protocol::incident::{Address, Incident, Position};
use balade_sync::state::{AppState, Config};
use balade_sync::store::requests::{InsertOutcome, Source, insert_incident};
use uuid::Uuid;

/// Paris type → (category, sub-category) of our taxonomy.
const MAPPING: &[(&str, &str, &str)] = &[
    (
        "Graffitis, tags, affiches et autocollants",
        "proprete",
        "tags",
    ),
    ("Objets abandonnés", "proprete", "depot_sauvage"),
    ("Propreté", "proprete", "salissures"),
    (
        "Autos, motos, vélos, trottinettes...",
        "stationnement_circulation",
        "epave",
    ),
    ("Voirie et espace public", "voirie", "chaussee_degradee"),
    ("Mobiliers urbains", "mobilier_urbain", "banc"),
    ("Arbres, végétaux et animaux", "espaces_verts", "taille"),
    (
        "Activités commerciales et professionnelles",
        "voirie",
        "obstacle",
    ),
    ("Éclairage / Électricité", "eclairage", "eteint"),
    ("Eau", "eau_assainissement", "fuite"),
];

fn load_incidents() -> Vec<Incident> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/incidents/paris_dansmarue_10k/raw_data.csv");
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_type, c_sous, c_addr, c_geo, c_date) = (
        column("type"),
        column("soustype"),
        column("adresse"),
        column("geo_point_2d"),
        column("datedecl"),
    );
    let mut incidents = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let Some((_, category, subcategory)) =
            MAPPING.iter().find(|(t, _, _)| *t == &record[c_type])
        else {
            continue;
        };
        let Some(position) = parse_point(&record[c_geo]) else {
            continue;
        };
        let observed_at = format!("{}T09:00:00Z", &record[c_date]).parse().unwrap();
        incidents.push(Incident {
            id: Uuid::now_v7(),
            walk_id: None,
            comment: record[c_sous].chars().take(200).collect(),
            observed_at,
            category: category.to_string(),
            subcategory: subcategory.to_string(),
            extra: Default::default(),
            photos: vec![],
            position,
            lambert93: None,
            address: Some(Address {
                label: record[c_addr].to_string(),
                ..Address::default()
            }),
            asset: None,
        });
    }
    incidents
}

/// `{'lon': 2.33, 'lat': 48.88}` → a position.
fn parse_point(text: &str) -> Option<Position> {
    let number = |key: &str| -> Option<f64> {
        let start = text.find(key)? + key.len();
        let rest = text[start..].trim_start_matches([':', ' ', '\'']);
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        rest[..end].trim().parse().ok()
    };
    Position::new(number("'lat'")?, number("'lon'")?, None).ok()
}

fn raw_inserts(dir: &Path, incidents: &[Incident]) -> f64 {
    let state = AppState::open(Config::new(
        dir.to_path_buf(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .unwrap();
    let taxonomy = state.taxonomy();
    let mut conn = balade_sync::store::open_connection(state.store.path()).unwrap();
    let started = Instant::now();
    for batch in incidents.chunks(500) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        for incident in batch {
            let outcome = insert_incident(&tx, &taxonomy, incident, None, Source::Device).unwrap();
            assert!(matches!(outcome, InsertOutcome::Created(_)));
        }
        tx.commit().unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn synced(server_dir: &Path, device_dir: &Path, incidents: &[Incident]) -> f64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let state = AppState::open(Config::new(server_dir.to_path_buf(), addr)).unwrap();
    // Enrol directly in the server store: a device row holding the token's hash.
    let token = format!("bench-{}", Uuid::new_v4().simple());
    let device_id = Uuid::now_v7();
    {
        let conn = balade_sync::store::open_connection(state.store.path()).unwrap();
        conn.execute(
            "INSERT INTO devices (id, name, token_hash, created_at) VALUES (?1, 'bench', ?2, ?3)",
            rusqlite::params![
                device_id.to_string(),
                balade_sync::store::secret_hash(&token),
                balade_sync::store::now_text()
            ],
        )
        .unwrap();
    }
    let app = balade_sync::app::app(state);
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut store = DeviceStore::open(device_dir).unwrap();
    store
        .set_enrollment(&Enrollment {
            server_url: format!("http://{addr}"),
            device_id,
            token,
        })
        .unwrap();
    store.queue_incidents(incidents).unwrap();
    let shared = Arc::new(Mutex::new(store));
    let started = Instant::now();
    let mut pushed_at = None;
    let report = runtime
        .block_on(run_sync(
            &shared,
            SyncOptions {
                seed: 1,
                ..SyncOptions::default()
            },
            &mut |p| {
                if pushed_at.is_none() && p.items_total > 0 && p.items_done == p.items_total {
                    pushed_at = Some(started.elapsed().as_secs_f64());
                }
            },
        ))
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let pushed_at = pushed_at.unwrap_or(elapsed);
    println!(
        "sync phases: push {pushed_at:.2} s, feed and the rest {:.2} s",
        elapsed - pushed_at
    );
    assert_eq!(report.outcome, Outcome::Complete, "{report:?}");
    assert_eq!(report.n_acknowledged, incidents.len());
    elapsed
}

fn main() {
    let incidents = load_incidents();
    let n = incidents.len();
    let tmp = tempfile::tempdir().unwrap();
    let raw_s = raw_inserts(&tmp.path().join("raw"), &incidents);
    let sync_s = synced(
        &tmp.path().join("server"),
        &tmp.path().join("device"),
        &incidents,
    );
    let raw_rate = n as f64 / raw_s;
    let sync_rate = n as f64 / sync_s;
    println!("sync benchmark: {n} Paris reports mapped onto the La Rochelle taxonomy");
    println!("| path                                   | seconds | incidents/s |");
    println!("|----------------------------------------|---------|-------------|");
    println!("| raw server inserts (500/transaction)   | {raw_s:7.2} | {raw_rate:11.0} |");
    println!("| device store → HTTP push → server      | {sync_s:7.2} | {sync_rate:11.0} |");
    println!(
        "ratio sync/raw = {:.2} (target ≥ 0.50)",
        sync_rate / raw_rate
    );
}

//! `balade-sync serve --demo`: demonstration data, so a fresh server shows something.
//!
//! Why it exists: demos and manual checks need requests in several states around La Rochelle,
//! a device and an enrolment code. Loading is idempotent (fixed ids: a second start finds the
//! requests already stored and leaves them alone).

use std::collections::BTreeMap;

use balade_protocol::incident::{Address, Incident, Position};
use chrono::{Duration, Utc};
use rusqlite::params;
use uuid::Uuid;

use crate::actions::{Action, apply_action};
use crate::state::AppState;
use crate::store::requests::{InsertOutcome, Source, insert_incident};
use crate::store::{StoreError, now_text, secret_hash, write_tx};

/// The demo device's id (fixed so reloading is idempotent).
pub const DEMO_DEVICE_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_d001);

/// Actor of demo operator events.
const DEMO_ACTOR: &str = "demo";

struct DemoRequest {
    n: u128,
    category: &'static str,
    subcategory: &'static str,
    comment: &'static str,
    lat: f64,
    lon: f64,
    street: &'static str,
    actions: fn() -> Vec<Action>,
}

fn requests() -> Vec<DemoRequest> {
    vec![
        DemoRequest {
            n: 1,
            category: "voirie",
            subcategory: "nid_de_poule",
            comment: "Nid-de-poule profond devant le n° 12",
            lat: 46.1603,
            lon: -1.1511,
            street: "Rue du Palais",
            actions: Vec::new,
        },
        DemoRequest {
            n: 2,
            category: "proprete",
            subcategory: "tags",
            comment: "Tags sur la façade de l'école",
            lat: 46.1625,
            lon: -1.1530,
            street: "Rue Saint-Yon",
            actions: || {
                vec![Action::Schedule {
                    date: (Utc::now() + Duration::days(7)).date_naive(),
                    note: Some("Passage de l'équipe anti-tags prévu".into()),
                }]
            },
        },
        DemoRequest {
            n: 3,
            category: "eclairage",
            subcategory: "eteint",
            comment: "Lampadaire éteint depuis une semaine",
            lat: 46.1570,
            lon: -1.1490,
            street: "Quai Duperré",
            actions: || vec![Action::Start],
        },
        DemoRequest {
            n: 4,
            category: "mobilier_urbain",
            subcategory: "banc",
            comment: "Banc cassé, lattes arrachées",
            lat: 46.1560,
            lon: -1.1550,
            street: "Cours des Dames",
            actions: || {
                vec![Action::Resolve {
                    note: Some("Lattes remplacées".into()),
                    photo: None,
                }]
            },
        },
        DemoRequest {
            n: 5,
            category: "collecte_dechets",
            subcategory: "conteneur_plein",
            comment: "Conteneur à verre plein",
            lat: 46.1650,
            lon: -1.1450,
            street: "Avenue Jean Guiton",
            actions: Vec::new,
        },
        DemoRequest {
            n: 6,
            category: "voirie",
            subcategory: "trottoir_degrade",
            comment: "Dalle soulevée sur le trottoir",
            lat: 46.1590,
            lon: -1.1600,
            street: "Rue de la Noue",
            actions: || {
                vec![Action::Refuse {
                    reason: "Voie privée : le propriétaire a été informé".into(),
                }]
            },
        },
    ]
}

fn incident(r: &DemoRequest, observed_days_ago: i64) -> Incident {
    Incident {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | r.n),
        walk_id: None,
        comment: r.comment.into(),
        observed_at: Utc::now() - Duration::days(observed_days_ago),
        category: r.category.into(),
        subcategory: r.subcategory.into(),
        extra: BTreeMap::new(),
        photos: Vec::new(),
        position: Position {
            lat: r.lat,
            lon: r.lon,
            accuracy_m: Some(6.0),
        },
        lambert93: None,
        address: Some(Address {
            label: format!("{}, 17000 La Rochelle", r.street),
            street: Some(r.street.into()),
            postcode: Some("17000".into()),
            city: Some("La Rochelle".into()),
            ..Address::default()
        }),
        asset: None,
    }
}

/// Loads the demo data and returns a fresh one-time enrolment code.
pub fn load(state: &AppState) -> Result<String, StoreError> {
    let taxonomy = state.taxonomy();
    state.store.with_conn(|conn| {
        write_tx(conn, |tx| {
            tx.execute(
                "INSERT INTO devices (id, name, token_hash, created_at) VALUES (?1, 'Tablette de démonstration', ?2, ?3)
                 ON CONFLICT(id) DO NOTHING",
                params![DEMO_DEVICE_ID.to_string(), secret_hash(&Uuid::new_v4().to_string()), now_text()],
            )?;
            for (i, r) in requests().iter().enumerate() {
                let outcome =
                    insert_incident(tx, &taxonomy, &incident(r, i as i64 + 1), Some(DEMO_DEVICE_ID), Source::Device)?;
                if let InsertOutcome::Created(stored) = outcome {
                    for action in (r.actions)() {
                        apply_action(tx, &taxonomy, DEMO_ACTOR, stored.id, action)?;
                    }
                }
            }
            crate::api::auth::create_enrollment_code(tx, "Appareil de démonstration")
        })
    })
}

//! The headless `balade` command line (DESIGN.md, "Command lines"): enrol, walks, capture,
//! queue, sync, status. `main.rs` only parses and calls [`run`]; without a command it opens the
//! window. French output first; `--json` output is built by hand from the store's plain structs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use balade_protocol::incident::Position;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::engine::capture::{CaptureInput, capture_incident};
use crate::engine::store::{DeviceStore, IncidentDetail, QueueItem};
use crate::engine::sync_client::{self, SyncOptions, report_error_fr};
use crate::engine::sync_machine::{Outcome, Progress, SyncConfig};

#[derive(Debug, Parser)]
#[command(
    name = "balade",
    version,
    about = "Balade, l'application de terrain. Sans commande : ouvre la fenêtre.",
    long_about = None
)]
pub struct Cli {
    /// Dossier des données de l'appareil (base, photos).
    #[arg(
        long,
        env = "BALADE_DATA",
        global = true,
        default_value = "balade-device"
    )]
    pub data: PathBuf,
    /// Adresse du serveur de synchronisation (mémorisée).
    #[arg(long, env = "BALADE_SERVER", global = true)]
    pub server: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enrôle l'appareil avec un code à usage unique fourni par un opérateur.
    Enroll {
        code: String,
        /// Nom de l'appareil vu par les opérateurs.
        #[arg(long, default_value = "balade")]
        name: String,
    },
    /// Commence ou termine une balade.
    Walk {
        #[command(subcommand)]
        command: WalkCommand,
    },
    /// Enregistre un signalement (mis en file d'envoi) et affiche son identifiant.
    Capture {
        #[arg(long)]
        category: String,
        #[arg(long)]
        subcategory: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// Photo d'origine (répétable).
        #[arg(long = "photo")]
        photos: Vec<PathBuf>,
        /// Latitude WGS84 ; sans --lat/--lon, la position GPS de la première photo (EXIF).
        #[arg(long, allow_negative_numbers = true, requires = "lon")]
        lat: Option<f64>,
        /// Longitude WGS84.
        #[arg(long, allow_negative_numbers = true, requires = "lat")]
        lon: Option<f64>,
        /// Précision en mètres.
        #[arg(long)]
        accuracy: Option<f64>,
        /// Heure de l'observation (RFC 3339), par défaut maintenant.
        #[arg(long)]
        observed_at: Option<DateTime<Utc>>,
    },
    /// Affiche la file des signalements et leur état.
    Queue {
        #[arg(long)]
        json: bool,
    },
    /// Envoie la file et les photos, puis récupère les suivis.
    Sync {
        /// Nouvelles tentatives après un échec réseau avant d'abandonner.
        #[arg(long, default_value_t = 3)]
        max_retries: u32,
        /// Taille des morceaux d'envoi des photos, en octets.
        #[arg(long, default_value_t = sync_client::DEFAULT_CHUNK_SIZE, hide = true)]
        chunk_size: usize,
    },
    /// Affiche le suivi d'un signalement (identifiant, référence ou code de suivi).
    Status {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Exporte les signalements non encore livrés (avec leurs balades et leurs photos) dans un
    /// fichier à importer sur le serveur (`balade-sync import-device-export FICHIER`).
    Export { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum WalkCommand {
    Start {
        #[arg(long)]
        title: String,
        #[arg(long)]
        neighbourhood: Option<String>,
        #[arg(long = "participant")]
        participants: Vec<String>,
    },
    End,
}

/// Runs a headless command.
pub fn run(data: PathBuf, server: Option<String>, command: Command) -> anyhow::Result<ExitCode> {
    let mut store = DeviceStore::open(&data).with_context(|| {
        format!(
            "ouverture des données de l'appareil dans {}",
            data.display()
        )
    })?;
    if let Some(server) = &server
        && !matches!(command, Command::Enroll { .. })
    {
        store.set_server_url(server)?;
    }
    match command {
        Command::Enroll { code, name } => {
            let server = match server {
                Some(server) => server,
                None => store
                    .server_url()?
                    .context("indiquez le serveur avec --server URL")?,
            };
            let shared = Arc::new(Mutex::new(store));
            let enrollment =
                runtime()?.block_on(sync_client::enroll(&shared, &server, &code, &name))?;
            println!("Appareil enrôlé : {}", enrollment.device_id);
        }
        Command::Walk {
            command:
                WalkCommand::Start {
                    title,
                    neighbourhood,
                    participants,
                },
        } => {
            let walk =
                store.start_walk(&title, neighbourhood.as_deref(), &participants, Utc::now())?;
            println!("{}", walk.id);
        }
        Command::Walk {
            command: WalkCommand::End,
        } => {
            let walk = store.end_walk(Utc::now())?;
            println!("Balade terminée : {}", walk.title);
        }
        Command::Capture {
            category,
            subcategory,
            comment,
            photos,
            lat,
            lon,
            accuracy,
            observed_at,
        } => {
            let position = match (lat, lon) {
                (Some(lat), Some(lon)) => {
                    Some(Position::new(lat, lon, accuracy).context("position invalide")?)
                }
                _ => None,
            };
            let mut originals = Vec::new();
            for path in &photos {
                originals.push(
                    std::fs::read(path)
                        .with_context(|| format!("lecture de la photo {}", path.display()))?,
                );
            }
            let input = CaptureInput {
                category,
                subcategory,
                comment,
                position,
                observed_at,
                extra: Default::default(),
                address: None,
                asset: None,
                photos: originals,
            };
            let incident = capture_incident(&mut store, input)?;
            describe_capture(&incident);
            println!("{}", incident.id);
        }
        Command::Queue { json } => {
            let items = store.list_queue()?;
            if json {
                let rows: Vec<Value> = items.iter().map(queue_item_json).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print_queue(&items);
            }
        }
        Command::Sync {
            max_retries,
            chunk_size,
        } => return sync(store, max_retries, chunk_size),
        Command::Status { id, json } => {
            let id = store.find(&id)?;
            let detail = store.incident_detail(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&detail_json(&detail))?);
            } else {
                print_detail(&detail);
            }
        }
        Command::Export { file } => {
            let summary = crate::engine::export::export_queue(&mut store, &file)?;
            println!("{}", summary.message_fr());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn sync(store: DeviceStore, max_retries: u32, chunk_size: usize) -> anyhow::Result<ExitCode> {
    if store.enrollment()?.is_none() {
        bail!("appareil non enrôlé : lancez `balade --server URL enroll CODE`");
    }
    let shared = Arc::new(Mutex::new(store));
    let options = SyncOptions {
        config: SyncConfig {
            max_retries: Some(max_retries),
            ..SyncConfig::default()
        },
        chunk_size,
        ..SyncOptions::default()
    };
    let mut last_printed = Progress::default();
    let mut on_progress = move |p: Progress| {
        let pct = |done: u64, total: u64| (done * 100).checked_div(total).unwrap_or(100);
        let moved = p.items_done != last_printed.items_done
            || p.items_total != last_printed.items_total
            || pct(p.bytes_done, p.bytes_total) / 10
                != pct(last_printed.bytes_done, last_printed.bytes_total) / 10;
        if moved {
            println!(
                "Progression : {}/{} signalement(s), {}/{} Ko de photos",
                p.items_done,
                p.items_total,
                p.bytes_done / 1024,
                p.bytes_total / 1024
            );
            last_printed = p;
        }
    };
    let report = runtime()?.block_on(sync_client::run_sync(&shared, options, &mut on_progress))?;
    println!(
        "Envoyés : {}, refusés : {}, photos envoyées : {}, suivis reçus : {}",
        report.n_acknowledged, report.n_frozen, report.n_photos_uploaded, report.n_feed_events
    );
    for (id, code, message) in &report.frozen {
        eprintln!("Signalement {id} refusé ({code}) : {message}");
    }
    for (sha, reason) in &report.photo_problems {
        eprintln!("Photo {} non envoyée : {reason}", &sha[..sha.len().min(12)]);
    }
    let store = shared.lock().unwrap_or_else(|p| p.into_inner());
    let n_waiting: u64 = store
        .count_by_state()?
        .into_iter()
        .filter(|(s, _)| {
            matches!(
                s,
                crate::engine::store::LocalState::Queued
                    | crate::engine::store::LocalState::Sending
            )
        })
        .map(|(_, n)| n)
        .sum();
    match (&report.outcome, report_error_fr(&report)) {
        (Outcome::Complete, _) if n_waiting == 0 => {
            println!("Synchronisation terminée : tout est envoyé.");
            Ok(ExitCode::SUCCESS)
        }
        (_, message) => {
            let message =
                message.unwrap_or_else(|| format!("{n_waiting} signalement(s) encore en attente."));
            eprintln!("{message}");
            eprintln!("Rien n'est perdu : les signalements restent sur l'appareil.");
            Ok(ExitCode::from(
                if report.outcome == Outcome::ReEnrollRequired {
                    3
                } else {
                    1
                },
            ))
        }
    }
}

fn queue_item_json(item: &QueueItem) -> Value {
    json!({
        "id": item.id,
        "local_state": item.local_state.code(),
        "local_state_label": item.local_state.label_fr(),
        "category": item.category,
        "subcategory": item.subcategory,
        "comment": item.comment,
        "observed_at": item.observed_at,
        "reference": item.reference,
        "tracking_code": item.tracking_code,
        "server_state": item.server_state.map(|s| s.code()),
        "planned_date": item.planned_date,
        "reason": item.reason,
        "last_error_code": item.last_error_code,
        "last_error_message": item.last_error_message,
        "n_photos": item.n_photos,
        "n_photos_uploaded": item.n_photos_uploaded,
        "photo_bytes_total": item.photo_bytes_total,
        "photo_bytes_uploaded": item.photo_bytes_uploaded,
        "unread": item.unread,
    })
}

fn detail_json(detail: &IncidentDetail) -> Value {
    let mut value = queue_item_json(&detail.item);
    value["server_state_label"] = json!(detail.item.server_state.map(|s| s.label_fr()));
    value["service"] = json!(detail.service);
    value["outside_body"] = json!(detail.outside_body);
    value["resolved_at"] = json!(detail.resolved_at);
    value["duplicate_of"] = json!(detail.duplicate_of);
    value["photos"] = detail
        .photos
        .iter()
        .map(|p| json!({"sha256": p.sha256, "size": p.size, "upload_state": p.upload_state.code(), "last_error": p.last_error}))
        .collect();
    value["timeline"] = serde_json::to_value(&detail.timeline).unwrap_or(Value::Null);
    value
}

fn print_queue(items: &[QueueItem]) {
    if items.is_empty() {
        println!("Aucun signalement.");
    }
    for item in items {
        let server = item.server_state.map(|s| s.label_fr()).unwrap_or("—");
        println!(
            "{}  {:<22} {:<28} {}/{}  photos {}/{}  {}",
            item.id,
            item.local_state.label_fr(),
            server,
            item.category,
            item.subcategory,
            item.n_photos_uploaded,
            item.n_photos,
            item.reference.as_deref().unwrap_or("")
        );
        if let Some(message) = &item.last_error_message {
            println!("    ⚠ {message}");
        }
    }
}

fn print_detail(detail: &IncidentDetail) {
    let item = &detail.item;
    println!("Signalement {}", item.id);
    println!(
        "  Référence : {}",
        item.reference
            .as_deref()
            .unwrap_or("(pas encore attribuée)")
    );
    println!(
        "  Code de suivi : {}",
        item.tracking_code.as_deref().unwrap_or("—")
    );
    println!("  Sur l'appareil : {}", item.local_state.label_fr());
    println!(
        "  État : {}",
        item.server_state
            .map(|s| s.label_fr())
            .unwrap_or("non reçu par le serveur")
    );
    if let Some(service) = &detail.service {
        println!("  Service : {service}");
    }
    if let Some(body) = &detail.outside_body {
        println!("  Organisme : {body}");
    }
    if let Some(date) = item.planned_date {
        println!("  Intervention prévue le : {}", date.format("%d/%m/%Y"));
    }
    if let Some(reason) = &item.reason {
        println!("  Motif : {reason}");
    }
    if let Some(message) = &item.last_error_message {
        println!("  Problème : {message}");
    }
    for photo in &detail.photos {
        if let Some(error) = &photo.last_error {
            println!("  Photo {} : {error}", &photo.sha256[..12]);
        }
    }
    println!("  Historique :");
    for event in &detail.timeline {
        let note = event
            .note
            .as_deref()
            .or(event.reason.as_deref())
            .unwrap_or("");
        println!(
            "    {}  {}  {note}",
            event.at.format("%d/%m/%Y %H:%M"),
            event.state.label_fr()
        );
    }
}

/// Tells the agent, on stderr, what was found offline for the new incident (stdout keeps only
/// the id, for scripts): address, Lambert-93, accuracy warning, nearby street furniture.
fn describe_capture(incident: &balade_protocol::incident::Incident) {
    let found = crate::engine::place::describe(&incident.position);
    match &incident.address {
        Some(address) => eprintln!("Adresse : {}", address.label),
        None => eprintln!("Adresse : aucune rue connue à proximité"),
    }
    if let Some(xy) = incident.lambert93 {
        eprintln!("Lambert-93 : x = {:.2} m, y = {:.2} m", xy.x, xy.y);
    }
    if found.poor_accuracy {
        eprintln!("Attention : précision de la position inconnue ou faible (> 30 m)");
    }
    for nearby in found.nearby.iter().take(3) {
        eprintln!(
            "Mobilier proche : {} ({:.0} m)",
            nearby.asset.label, nearby.distance_m
        );
    }
}

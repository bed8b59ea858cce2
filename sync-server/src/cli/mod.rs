//! The `balade-sync` command line: argument definitions and what each command does.
//!
//! Why it exists: `main.rs` stays thin glue; the commands live here as library code so they are
//! reachable from tests. Operator commands act on the store directly (no server needed) and go
//! through [`crate::actions::apply_action`], so they append the same events as the console.

pub mod request;
pub mod user;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use balade_protocol::envelope::PushOutcome;
use clap::{Parser, Subcommand};

use crate::state::{AppState, Config};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "balade-sync",
    version,
    about = "Serveur de synchronisation Balade (API appareils, console, Open311)"
)]
pub struct Cli {
    /// Data directory (database, photos, uploads).
    #[arg(
        long,
        global = true,
        env = "BALADE_DATA",
        default_value = "./balade-data"
    )]
    pub data: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server. Prints `listening on http://ADDR` as its first stdout line.
    Serve {
        /// Address to listen on (port 0 = any free port).
        #[arg(long, env = "BALADE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load demonstration data (requests around La Rochelle, an enrolment code).
        #[arg(long, env = "BALADE_DEMO")]
        demo: bool,
    },
    /// Create a one-time enrolment code for a device; the code is the last stdout line.
    Enroll {
        /// Device name shown to operators.
        #[arg(long)]
        name: String,
    },
    /// Operator actions on requests.
    #[command(subcommand)]
    Request(request::RequestCommand),
    /// Import the city's street referential (CSV) into `<data>/streets.csv`.
    ImportStreets {
        /// CSV file of streets.
        file: PathBuf,
    },
    /// Import a device export file (Réglages « Exporter » / `balade export FILE` on a device
    /// that never reaches the network). All or nothing unless --skip-rejected.
    ImportDeviceExport {
        /// The export file (.zip).
        file: PathBuf,
        /// Store the accepted incidents even if the server refuses some.
        #[arg(long)]
        skip_rejected: bool,
        /// Print the report as JSON (one result per incident, as a push answer).
        #[arg(long)]
        json: bool,
    },
    /// Open311 API keys (also accepted as X-Api-Key by the export endpoints).
    #[command(subcommand)]
    Apikey(crate::open311::cli::ApikeyCommand),
    /// Export requests as CSV, French CSV, GeoJSON (WGS84) or GeoJSON Lambert-93.
    Export(crate::open311::cli::ExportArgs),
    /// Work-order connectors (signed webhooks on routing) and their dead letters.
    #[command(subcommand)]
    Connector(crate::open311::cli::ConnectorCommand),
    /// Console accounts (admins and operators).
    #[command(subcommand)]
    User(user::UserCommand),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, demo } => serve(&cli.data, listen, demo),
        Command::Enroll { name } => {
            let store = open_store(&cli.data)?;
            let name = name.trim().to_string();
            anyhow::ensure!(!name.is_empty(), "le nom de l'appareil est vide");
            let code = store.with_conn(|c| crate::api::auth::create_enrollment_code(c, &name))?;
            println!("Code d'enrôlement à usage unique pour « {name} » :");
            println!("{code}");
            Ok(())
        }
        Command::Request(command) => request::run(&cli.data, command),
        Command::ImportStreets { file } => import_streets(&cli.data, &file),
        Command::ImportDeviceExport {
            file,
            skip_rejected,
            json,
        } => import_device_export(&cli.data, &file, skip_rejected, json),
        Command::Apikey(command) => crate::open311::cli::run_apikey(&cli.data, command),
        Command::Export(args) => crate::open311::cli::run_export(&cli.data, args),
        Command::Connector(command) => crate::open311::cli::run_connector(&cli.data, command),
        Command::User(command) => user::run(&cli.data, command),
    }
}

/// Opens the store of an existing or new data directory.
pub fn open_store(data: &Path) -> anyhow::Result<Store> {
    Store::open_blocking(data).with_context(|| format!("ouverture du magasin {}", data.display()))
}

fn serve(data: &Path, listen: SocketAddr, demo: bool) -> anyhow::Result<()> {
    let state = AppState::open(Config::new(data.to_path_buf(), listen))
        .with_context(|| format!("ouverture de {}", data.display()))?;
    let demo_code = if demo {
        Some(crate::demo::load(&state)?)
    } else {
        None
    };
    let demo_admin_created = demo
        && state
            .store
            .with_conn(|conn| Ok(crate::console::ensure_demo_admin(conn)))?
            .context("compte administrateur de démonstration")?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("écoute sur {listen}"))?;
        let address = listener.local_addr()?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")?;
        if let Some(code) = demo_code {
            writeln!(stdout, "demo enrolment code: {code}")?;
        }
        if demo_admin_created {
            writeln!(
                stdout,
                "demo console login: admin / admin (http://{address}/console)"
            )?;
        }
        stdout.flush()?;
        drop(stdout);
        tracing::info!(%address, data = %state.data_dir.display(), "serving");
        crate::open311::spawn_connector_worker(state.clone(), Default::default());
        // Connect info gives the console's login throttling the client's address.
        let app = crate::app::app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

fn import_device_export(
    data: &Path,
    file: &Path,
    skip_rejected: bool,
    json: bool,
) -> anyhow::Result<()> {
    let store = open_store(data)?;
    let taxonomy = crate::state::load_taxonomy(data)?;
    let options = crate::device_import::ImportOptions { skip_rejected };
    let report = crate::device_import::import_file(&store, &taxonomy, data, file, options)
        .with_context(|| format!("import de {}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.message_fr());
        for result in &report.results {
            let what = match result.outcome {
                PushOutcome::Created => "créé",
                PushOutcome::AlreadyStored => "déjà présent",
                PushOutcome::Conflict => "refusé (même identifiant, contenu différent)",
                PushOutcome::Rejected => "refusé",
            };
            let why = result.error.as_ref().map(|e| format!(" : {}", e.message));
            println!(
                "{} {} {what}{}",
                result.id,
                result.reference.as_deref().unwrap_or("-"),
                why.unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// File the imported street referential is kept in, inside the data directory.
pub const STREETS_FILE: &str = "streets.csv";

fn import_streets(data: &Path, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
    let (index, problems) = balade_protocol::geo::streets::StreetIndex::from_csv(bytes.as_slice());
    for problem in &problems {
        eprintln!("{}: {problem}", file.display());
    }
    let n_streets = index.streets().len();
    anyhow::ensure!(
        n_streets > 0,
        "aucune rue chargée depuis {} ({} problèmes)",
        file.display(),
        problems.len()
    );
    std::fs::create_dir_all(data)?;
    let tmp = data.join(format!("{STREETS_FILE}.tmp"));
    {
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&bytes)?;
        out.sync_all()?;
    }
    std::fs::rename(&tmp, data.join(STREETS_FILE))?;
    std::fs::File::open(data)?.sync_all()?;
    println!(
        "{n_streets} rues importées, {} lignes ignorées",
        problems.len()
    );
    Ok(())
}

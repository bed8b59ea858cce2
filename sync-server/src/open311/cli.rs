//! Command-line parts of the standards module: `balade-sync apikey add`, `balade-sync export`,
//! `balade-sync connector set|dead-letters`. `crate::cli` only forwards to these.
//!
//! Why it exists: the clap definitions live beside the code they drive, so the main CLI file
//! needs one line per command.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::open311::exports::ExportFilter;

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create an API key (Open311 POSTs, servicerequestupdates, exports); the key is stdout's last line.
    Add {
        /// Who uses the key (shown in the audit trail as `open311:NAME`).
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// geojson | geojson-l93 | csv | csv-fr
    #[arg(long)]
    pub format: String,
    /// Only the requests of this walk (uuid).
    #[arg(long)]
    pub walk: Option<String>,
    /// States, comma-separated (received, routed, scheduled, in_progress, resolved, refused, duplicate, transferred).
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    /// City service code (a per-service batch).
    #[arg(long)]
    pub service: Option<String>,
    /// First creation day (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Last creation day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Output file (written to a temporary file, then renamed).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Send a signed webhook to URL whenever a request is routed to SERVICE.
    Set {
        #[arg(long)]
        service: String,
        #[arg(long)]
        url: String,
        /// HMAC secret shared with the receiver (16 characters or more).
        #[arg(long, env = "BALADE_CONNECTOR_SECRET")]
        secret: String,
        #[arg(long, default_value_t = 8)]
        max_attempts: u32,
    },
    /// List deliveries that failed every attempt (JSON).
    DeadLetters,
}

pub fn run_apikey(data: &Path, command: ApikeyCommand) -> anyhow::Result<()> {
    match command {
        ApikeyCommand::Add { name } => {
            let key = crate::open311::cli_apikey(data, &name)?;
            println!(
                "Clé d'API pour « {} » (affichée une seule fois) :",
                name.trim()
            );
            println!("{key}");
            Ok(())
        }
    }
}

pub fn run_export(data: &Path, args: ExportArgs) -> anyhow::Result<()> {
    let pairs: Vec<(String, String)> = [
        ("walk", args.walk),
        ("state", args.state),
        ("category", args.category),
        ("service", args.service),
        ("from", args.from),
        ("to", args.to),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
    .collect();
    let filter = ExportFilter::from_pairs(&pairs)?;
    let n = crate::open311::cli_export(data, &args.format, &filter, &args.out)?;
    println!("{n} signalements exportés dans {}", args.out.display());
    Ok(())
}

pub fn run_connector(data: &Path, command: ConnectorCommand) -> anyhow::Result<()> {
    match command {
        ConnectorCommand::Set {
            service,
            url,
            secret,
            max_attempts,
        } => {
            crate::open311::cli_connector(data, &service, &url, &secret, max_attempts)?;
            println!("Connecteur enregistré pour le service {service}");
            Ok(())
        }
        ConnectorCommand::DeadLetters => {
            let store = crate::store::Store::open_blocking(data)?;
            let list = store.with_conn(|c| crate::open311::connector::deliveries(c, "dead"))?;
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(())
        }
    }
}

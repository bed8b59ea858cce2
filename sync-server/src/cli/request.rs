//! `balade-sync request ...`: operator actions from the command line.
//!
//! Why it exists: an operator (or a script) can route, schedule, resolve… a request without the
//! console. Each command is one transaction through [`crate::actions::apply_action`]; bad input
//! is reported on stderr with a non-zero exit and leaves the store untouched.

use std::path::Path;

use anyhow::Context;
use balade_protocol::status::State;
use chrono::NaiveDate;
use clap::Subcommand;
use rusqlite::params;

use crate::actions::{Action, apply_action};
use crate::store::requests::{self, REQUEST_COLUMNS, RequestRow};
use crate::store::{StoreError, write_tx};

/// Actor recorded on events made from the CLI.
pub const CLI_ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// List requests, newest first.
    List {
        /// One JSON object per request, as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Assign to a city service.
    Route {
        /// Reference (LR-2026-000123), tracking code or uuid.
        reference: String,
        #[arg(long)]
        service: String,
    },
    /// Transfer to an outside body (CDA, OPH…).
    Transfer {
        reference: String,
        #[arg(long)]
        body: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Plan an intervention date.
    Schedule {
        reference: String,
        /// YYYY-MM-DD
        #[arg(long)]
        date: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Work started.
    Start { reference: String },
    /// Refuse, with a reason shown to the reporter.
    Refuse {
        reference: String,
        #[arg(long)]
        reason: String,
    },
    /// Mark as done.
    Resolve {
        reference: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Mark as a duplicate of another request (which is kept).
    Duplicate {
        reference: String,
        #[arg(long)]
        of: String,
    },
}

pub fn run(data: &Path, command: RequestCommand) -> anyhow::Result<()> {
    anyhow::ensure!(
        data.join(crate::store::DB_FILE).exists(),
        "aucun magasin dans {} (lancez d'abord `balade-sync serve` ou `enroll`)",
        data.display()
    );
    let store = super::open_store(data)?;
    let (reference, action) = match command {
        RequestCommand::List { json } => return list(&store, json),
        RequestCommand::Route { reference, service } => (reference, Action::Route { service }),
        RequestCommand::Transfer {
            reference,
            body,
            note,
        } => (reference, Action::Transfer { body, note }),
        RequestCommand::Schedule {
            reference,
            date,
            note,
        } => {
            let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .with_context(|| format!("date invalide « {date} » (attendu AAAA-MM-JJ)"))?;
            (reference, Action::Schedule { date, note })
        }
        RequestCommand::Start { reference } => (reference, Action::Start),
        RequestCommand::Refuse { reference, reason } => (reference, Action::Refuse { reason }),
        RequestCommand::Resolve { reference, note } => {
            (reference, Action::Resolve { note, photo: None })
        }
        RequestCommand::Duplicate { reference, of } => {
            let target = store
                .with_conn(|c| requests::find(c, &of))?
                .with_context(|| format!("demande « {of} » introuvable"))?;
            (reference, Action::Duplicate { of: target.id })
        }
    };
    let taxonomy = crate::state::load_taxonomy(data)?;
    let event = store
        .with_conn(|conn| {
            write_tx(conn, |tx| {
                let row = requests::find(tx, &reference)?
                    .ok_or(StoreError::Action(crate::actions::ActionError::NotFound))?;
                Ok((
                    row.reference.clone(),
                    apply_action(tx, &taxonomy, CLI_ACTOR, row.id, action)?,
                ))
            })
        })
        .map_err(|e| match e {
            StoreError::Action(a) => anyhow::anyhow!("{} ({})", a.message_fr(), a.code().as_str()),
            other => anyhow::Error::new(other),
        })
        .with_context(|| format!("demande « {reference} »"))?;
    let (reference, event) = event;
    println!(
        "{reference} : {} (événement n° {})",
        event.state.label_fr(),
        event.seq
    );
    Ok(())
}

fn list(store: &crate::store::Store, json: bool) -> anyhow::Result<()> {
    store.with_conn(|conn| {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests ORDER BY created_at DESC, reference DESC");
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params![])?;
        let mut first = true;
        if json {
            print!("[");
        }
        while let Some(row) = rows.next()? {
            let r = RequestRow::from_row(row)?;
            if json {
                let value = serde_json::json!({
                    "id": r.id, "reference": r.reference, "tracking_code": r.tracking_code,
                    "state": r.state.code(), "category": r.category, "subcategory": r.subcategory,
                    "service": r.service, "outside_body": r.outside_body,
                    "planned_date": r.planned_date.map(|d| d.to_string()),
                    "duplicate_of": r.duplicate_of, "address": r.address, "lat": r.lat, "lon": r.lon,
                    "l93_x": r.l93_x, "l93_y": r.l93_y, "incomplete": r.incomplete,
                    "source": r.source, "created_at": r.created_at, "last_seq": r.last_seq,
                });
                print!("{}{}", if first { "\n" } else { ",\n" }, value);
            } else {
                println!(
                    "{}  {}  {:<34}  {}/{}  {}{}",
                    r.reference,
                    r.tracking_code,
                    label(r.state),
                    r.category,
                    r.subcategory,
                    r.service.or(r.outside_body).unwrap_or_default(),
                    if r.incomplete { "  (photos manquantes)" } else { "" }
                );
            }
            first = false;
        }
        if json {
            println!("{}]", if first { "" } else { "\n" });
        }
        Ok(())
    })?;
    Ok(())
}

fn label(state: State) -> &'static str {
    state.label_fr()
}

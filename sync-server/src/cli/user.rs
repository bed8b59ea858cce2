//! `balade-sync user add`: creates (or updates) a console account from the command line, so the
//! first admin exists before anyone can log in. The password is read from standard input, never
//! from the arguments (they show in `ps` and shell history).

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use clap::Subcommand;

use crate::state::load_taxonomy;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create or update a console account; the password is read from standard input.
    Add {
        /// Login (letters, digits, `.`, `-`, `_`).
        #[arg(long)]
        login: String,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// `admin` (everything) or `operator` (scoped to its services).
        #[arg(long)]
        role: String,
        /// Service or outside-body code an operator handles (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
    },
}

pub fn run(data: &Path, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            login,
            password_stdin: _,
            role,
            services,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("lecture du mot de passe sur l'entrée standard")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let taxonomy = load_taxonomy(data)?;
            let known: Vec<String> = taxonomy
                .services
                .iter()
                .chain(&taxonomy.outside_bodies)
                .map(|r| r.code.clone())
                .collect();
            let store = super::open_store(data)?;
            store
                .with_conn(|conn| {
                    Ok(crate::console::cli_user(
                        conn, &login, &password, &role, &services, &known,
                    ))
                })?
                .with_context(|| format!("compte « {login} » non enregistré"))?;
            println!("Compte « {login} » enregistré ({role}).");
            Ok(())
        }
    }
}

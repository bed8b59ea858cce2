//! `balade`: opens the field app window, or runs a headless command (see `balade --help`).
//! Glue only: the work is in `balade_app::engine::cli`.

use std::process::ExitCode;

use balade_app::engine::cli::{Cli, run};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        return open_window(cli.data, cli.server);
    };
    match run(cli.data, cli.server, command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Erreur : {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "desktop")]
fn open_window(data: std::path::PathBuf, server: Option<String>) -> ExitCode {
    balade_app::ui::launch(data, server);
    ExitCode::SUCCESS
}

#[cfg(not(feature = "desktop"))]
fn open_window(_data: std::path::PathBuf, _server: Option<String>) -> ExitCode {
    eprintln!(
        "Cette version de balade est compilée sans interface graphique : indiquez une commande (balade --help)."
    );
    ExitCode::from(2)
}

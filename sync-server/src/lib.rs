//! # balade-sync
//!
//! The sync server: central request store, device API, review console, standards (Open311).
//!
//! - [`store::Store`]: the SQLite store (`<data>/balade.db`), all SQL off the async threads.
//! - [`actions`]: the only way a stored request changes (operator actions → one event each).
//! - [`app::app`]: the HTTP router (device API in [`api`], console, Open311).
//! - [`state::AppState`]: what every handler shares.
//!
//! ```no_run
//! use balade_sync::state::{AppState, Config};
//! let config = Config::new("./balade-data".into(), "127.0.0.1:8080".parse().unwrap());
//! let state = AppState::open(config).unwrap();
//! let router = balade_sync::app::app(state);
//! # drop(router);
//! ```

pub mod actions;
pub mod api;
pub mod app;
pub mod cli;
pub mod console;
pub mod demo;
pub mod device_import;
pub mod error;
pub mod geo;
pub mod open311;
pub mod state;
pub mod store;

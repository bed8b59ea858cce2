//! # balade-sync
//!
//! The sync server: central request store, device API, review console, standards.

pub mod console;
pub mod open311;

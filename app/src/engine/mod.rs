//! The engine: no UI dependency. The UI and the headless CLI both call into it.

pub mod capture;
pub mod cli;
pub mod export;
pub mod photo;
pub mod place;
pub mod platform;
pub mod store;
pub mod sync_client;
pub mod sync_machine;

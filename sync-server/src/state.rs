//! Shared server state handed to every handler, and the server's configuration.
//!
//! Why it exists: one cheap-to-clone value (`State<AppState>`) carries the store, the current
//! taxonomy (an admin may replace it while the server runs) and the configuration, so handlers
//! of every module (device API, console, Open311) see the same things.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::FromRef;
use balade_protocol::taxonomy::Taxonomy;

use crate::store::{Store, StoreError};

/// Largest JSON body accepted by the device API (push, PUT): 2 MiB.
pub const MAX_JSON_BODY: usize = 2 * 1024 * 1024;
/// Largest photo accepted by tus uploads: 30 MiB.
pub const MAX_UPLOAD_SIZE: u64 = 30 * 1024 * 1024;

/// Server configuration (from the command line and `BALADE_*` variables).
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub max_json_body: usize,
    pub max_upload_size: u64,
}

impl Config {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        Config {
            data_dir,
            listen,
            max_json_body: MAX_JSON_BODY,
            max_upload_size: MAX_UPLOAD_SIZE,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub taxonomy: Arc<RwLock<Taxonomy>>,
    pub data_dir: PathBuf,
    pub config: Arc<Config>,
}

impl AppState {
    /// Opens the store under `config.data_dir` and loads the taxonomy
    /// (`<data>/taxonomy.json` when present, else the shipped La Rochelle one). Blocking.
    pub fn open(config: Config) -> Result<AppState, StoreError> {
        let store = Store::open_blocking(&config.data_dir)?;
        let taxonomy = load_taxonomy(&config.data_dir)?;
        Ok(AppState {
            store,
            taxonomy: Arc::new(RwLock::new(taxonomy)),
            data_dir: config.data_dir.clone(),
            config: Arc::new(config),
        })
    }

    /// A snapshot of the current taxonomy (cheap enough: a few KB, cloned per request).
    pub fn taxonomy(&self) -> Taxonomy {
        self.taxonomy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// File an admin-edited taxonomy is kept in, inside the data directory.
pub const TAXONOMY_FILE: &str = "taxonomy.json";

/// `<data>/taxonomy.json` if present and valid, else the shipped one.
pub fn load_taxonomy(data_dir: &std::path::Path) -> Result<Taxonomy, StoreError> {
    let path = data_dir.join(TAXONOMY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(json) => Taxonomy::from_json(&json)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(balade_protocol::taxonomy::la_rochelle())
        }
        Err(e) => Err(e.into()),
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Arc<Config> {
        state.config.clone()
    }
}

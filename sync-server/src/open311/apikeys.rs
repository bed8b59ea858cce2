//! Admin-made API keys for Open311 POSTs, servicerequestupdates and exports.
//!
//! Why it exists: GeoReport v2 requires an `api_key` on writes; a key identifies the calling
//! system (a city back office, a FixMyStreet instance) in the audit trail. The store keeps only
//! a SHA-256 of each key, like device tokens.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{StoreError, now_text, secret_hash};

/// A verified key.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
}

impl ApiKey {
    /// Actor name written in events made through this key.
    pub fn actor(&self) -> String {
        format!("open311:{}", self.name)
    }
}

/// Creates a key named `name`; returns the key text (shown once).
pub fn create_key(conn: &Connection, name: &str) -> Result<String, StoreError> {
    let key = hex::encode(rand::random::<[u8; 24]>());
    conn.execute(
        "INSERT INTO open311_api_keys (name, key_hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, secret_hash(&key), now_text()],
    )?;
    Ok(key)
}

/// The key behind `key`, if it exists and is not revoked.
pub fn verify_key(conn: &Connection, key: &str) -> Result<Option<ApiKey>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name FROM open311_api_keys WHERE key_hash = ?1 AND revoked = 0",
            [secret_hash(key.trim())],
            |r| {
                Ok(ApiKey {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// `balade-sync apikey add --name N`: opens the store in `data_dir`, creates a key and returns it
/// (the binary prints it as stdout's last line).
pub fn cli_apikey(data_dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "--name must not be empty");
    let store = crate::store::Store::open_blocking(data_dir)?;
    Ok(store.with_conn(|conn| create_key(conn, name))?)
}

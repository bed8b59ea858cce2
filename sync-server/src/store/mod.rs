//! The central SQLite store (`<data>/balade.db`).
//!
//! Why it exists: every piece of server state lives in one SQLite file, and SQLite must never run
//! on an async worker thread. [`Store::call`] moves a closure onto tokio's blocking pool and runs
//! it with the one writer connection, so writes are serialized (no `SQLITE_BUSY` between our own
//! requests) and the async threads stay free. CLI commands use [`Store::with_conn`] directly.
//!
//! **Invariant**: WAL journal, `synchronous=FULL`, foreign keys on, migrations from
//! `migrations/server/NN-name/up.sql` applied in order at open (other modules add directories).

pub mod requests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::Migrations;

use crate::actions::ActionError;

/// The migration directories, compiled in (build.rs reruns when the folder changes).
static MIGRATIONS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../migrations/server");

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "balade.db";

/// Anything that can go wrong inside the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migrations: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An operator action was refused (validation, state machine).
    #[error(transparent)]
    Action(#[from] ActionError),
    /// The store thread panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(String),
    /// A stored value could not be read back (corrupt row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// The compiled-in server migrations.
pub fn migrations() -> Result<Migrations<'static>, StoreError> {
    Ok(Migrations::from_directory(&MIGRATIONS_DIR)?)
}

/// Opens a connection with the store's pragmas, without migrating.
pub fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Store {
    /// Opens (creating the directory and file if needed) `<data_dir>/balade.db` and migrates it.
    /// Blocking: call it before the runtime serves requests, or from the CLI.
    pub fn open_blocking(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut conn = open_connection(&path)?;
        migrations()?.to_latest(&mut conn)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with the connection on the blocking pool. Calls are serialized.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.with_conn(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with the connection on the current thread (CLI, tests, inside `spawn_blocking`).
    pub fn with_conn<R>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        // A panic inside a previous closure poisons the mutex; the connection itself is still
        // usable (SQLite rolls back the open transaction when the `Transaction` drops).
        let mut conn = self.inner.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the blocking pool, committing on `Ok`.
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.call(move |conn| write_tx(conn, f)).await
    }
}

/// Runs `f` inside a `BEGIN IMMEDIATE` transaction and commits when it returns `Ok`.
pub fn write_tx<R>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Server time as stored: RFC 3339 UTC with microseconds.
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// Formats a time the way the store keeps it.
pub fn time_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Parses a stored time.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

/// Parses a stored uuid.
pub fn parse_uuid(text: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("uuid {text:?}: {e}")))
}

/// Lower-case hex SHA-256 of a secret (tokens, enrolment codes): what the store keeps.
pub fn secret_hash(secret: &str) -> String {
    balade_protocol::incident::sha256_hex(secret.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_pragmas_apply() {
        migrations().unwrap().validate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_blocking(dir.path()).unwrap();
        let (journal, sync): (String, i64) = store
            .with_conn(|c| {
                let journal = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                Ok((journal, sync))
            })
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        // Opening again is a no-op migration.
        drop(store);
        Store::open_blocking(dir.path()).unwrap();
    }
}

//! The device store: the one place the field app keeps anything (DESIGN.md, sync invariant 1).
//!
//! A data directory holds `device.db` (SQLite, WAL, `synchronous=FULL`, schema from
//! `migrations/device/`) and `photos/<sha256>` (content-addressed files). A photo file is
//! written to a temporary name, fsynced and renamed before the transaction that references it
//! commits, so a crash leaves either nothing or a complete file (orphan temp files are removed
//! at open). Rows are plain structs; only `balade-protocol` types are serialised (the incident
//! body, walks, raw status events).
//!
//! The UI calls the methods in the first half (enrolment, walks, drafts, queue, detail, follow,
//! export); the sync client calls the second half (claim, apply push results, photo upload
//! progress, feed pages), each one transaction.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use balade_protocol::envelope::{FeedPage, TrackingView};
use balade_protocol::incident::{
    Incident, MAX_COMMENT_CHARS, MAX_PHOTOS, PhotoRef, Walk, sha256_hex,
};
use balade_protocol::status::{State, StatusEvent};
use balade_protocol::taxonomy::{self, Taxonomy};
use chrono::{DateTime, NaiveDate, Utc};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use rusqlite_migration::Migrations;
use uuid::Uuid;

static MIGRATIONS_DIR: Dir = include_dir!("$CARGO_MANIFEST_DIR/../migrations/device");

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "device.db";
/// Sub-directory of the data directory holding photo files.
pub const PHOTOS_DIR: &str = "photos";

/// What can go wrong in the store. `Invalid` carries a French message for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("base de données : {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration du stockage : {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("fichier : {0}")]
    Io(#[from] std::io::Error),
    #[error("données illisibles : {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("signalement introuvable : {0}")]
    NotFound(String),
    #[error("appareil non enrôlé : lancez `balade enroll CODE`")]
    NotEnrolled,
}

/// Where a record stands on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalState {
    /// Being written; not sent.
    Draft,
    /// Waiting to be sent.
    Queued,
    /// Sent, answer not yet received: safe to re-send (the server's upsert is idempotent).
    Sending,
    /// The server acknowledged it with a valid envelope.
    Acknowledged,
    /// Refused by the server (conflict, unknown category…): kept for the user to see.
    Frozen,
}

impl LocalState {
    pub const ALL: [LocalState; 5] = [
        LocalState::Draft,
        LocalState::Queued,
        LocalState::Sending,
        LocalState::Acknowledged,
        LocalState::Frozen,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LocalState::Draft => "draft",
            LocalState::Queued => "queued",
            LocalState::Sending => "sending",
            LocalState::Acknowledged => "acknowledged",
            LocalState::Frozen => "frozen",
        }
    }

    pub fn from_code(code: &str) -> Option<LocalState> {
        LocalState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            LocalState::Draft => "Brouillon",
            LocalState::Queued => "En attente d'envoi",
            LocalState::Sending => "Envoi en cours",
            LocalState::Acknowledged => "Reçu par le serveur",
            LocalState::Frozen => "Refusé par le serveur",
        }
    }
}

/// What an export file carries; see [`DeviceStore::export_selection`].
#[derive(Debug, Default)]
pub struct ExportSelection {
    pub device_id: Option<Uuid>,
    pub incidents: Vec<Incident>,
    pub walks: Vec<Walk>,
    /// One row per distinct photo (by SHA-256), in incident order.
    pub photos: Vec<PhotoRow>,
    pub drafts_left: usize,
    pub frozen_left: usize,
}

/// Upload state of one photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    Missing,
    Uploading,
    Uploaded,
}

impl UploadState {
    pub fn code(self) -> &'static str {
        match self {
            UploadState::Missing => "missing",
            UploadState::Uploading => "uploading",
            UploadState::Uploaded => "uploaded",
        }
    }

    fn from_code(code: &str) -> UploadState {
        match code {
            "uploaded" => UploadState::Uploaded,
            "uploading" => UploadState::Uploading,
            _ => UploadState::Missing,
        }
    }
}

/// The device's enrolment: where to sync and with which token.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: Uuid,
    pub token: String,
}

/// One row of the queue screen.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    pub id: Uuid,
    pub local_state: LocalState,
    pub category: String,
    pub subcategory: String,
    pub comment: String,
    pub observed_at: DateTime<Utc>,
    pub reference: Option<String>,
    pub tracking_code: Option<String>,
    pub server_state: Option<State>,
    pub planned_date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub n_photos: u32,
    pub n_photos_uploaded: u32,
    pub photo_bytes_total: u64,
    pub photo_bytes_uploaded: u64,
    pub unread: bool,
    /// When it last left the device in an export file (engine::export).
    pub exported_at: Option<DateTime<Utc>>,
}

/// One photo of an incident, with its upload progress.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    pub incident_id: Uuid,
    pub idx: u32,
    pub sha256: String,
    pub path: PathBuf,
    pub size: u64,
    pub mime: String,
    pub upload_state: UploadState,
    pub upload_url: Option<String>,
    pub upload_offset: u64,
    pub last_error: Option<String>,
}

/// Everything the detail screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentDetail {
    pub item: QueueItem,
    pub incident: Incident,
    pub service: Option<String>,
    pub outside_body: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub duplicate_of: Option<Uuid>,
    pub photos: Vec<PhotoRow>,
    /// Public status events, ascending `seq` (including those of the kept request, for a duplicate).
    pub timeline: Vec<StatusEvent>,
}

/// Disk space used by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageUsed {
    pub db_bytes: u64,
    pub photo_bytes: u64,
    pub n_photo_files: u64,
}

/// What a sync run starts from: read in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSnapshot {
    /// Queued and sending incidents, oldest first.
    pub pending_ids: Vec<Uuid>,
    /// Photos of acknowledged incidents the server may still lack (distinct hashes).
    pub photos_to_upload: Vec<PhotoTask>,
    pub feed_cursor: i64,
    pub taxonomy_version: String,
    /// A walk changed since the server stored it: push it even without a queued incident.
    pub has_dirty_walks: bool,
}

/// A photo to upload: its hash, size and the offset already confirmed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoTask {
    pub sha256: String,
    pub size: u64,
    pub offset: u64,
}

/// What to do with one pushed record, decided by the sync machine, applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordDecision {
    Acknowledge {
        id: Uuid,
        reference: Option<String>,
        tracking_code: Option<String>,
        missing_photos: Vec<String>,
    },
    Freeze {
        id: Uuid,
        code: String,
        message: String,
    },
    Requeue {
        id: Uuid,
    },
}

/// Meta keys.
mod key {
    pub const SERVER_URL: &str = "server_url";
    pub const DEVICE_ID: &str = "device_id";
    pub const TOKEN: &str = "token";
    pub const FEED_CURSOR: &str = "feed_cursor";
    pub const TAXONOMY_JSON: &str = "taxonomy_json";
    pub const TAXONOMY_VERSION: &str = "taxonomy_version";
    pub const LAST_SYNC_AT: &str = "last_sync_at";
    pub const LAST_SYNC_ERROR: &str = "last_sync_error";
    pub const CURRENT_WALK: &str = "current_walk";
}

/// The device store. One per data directory; not `Sync` (wrap it in a mutex to share).
pub struct DeviceStore {
    conn: Connection,
    dir: PathBuf,
    taxonomy: Taxonomy,
}

impl DeviceStore {
    /// Opens (or creates) the store in `dir`: applies migrations, sets WAL + synchronous=FULL,
    /// removes orphan temporary photo files.
    pub fn open(dir: impl AsRef<Path>) -> Result<DeviceStore, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(dir.join(PHOTOS_DIR))?;
        clean_temp_files(&dir.join(PHOTOS_DIR))?;
        let mut conn = Connection::open(dir.join(DB_FILE))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let migrations = Migrations::from_directory(&MIGRATIONS_DIR)?;
        migrations.to_latest(&mut conn)?;
        let mut store = DeviceStore {
            conn,
            dir,
            taxonomy: taxonomy::la_rochelle(),
        };
        if let Some(json) = store.meta(key::TAXONOMY_JSON)?
            && let Ok(cached) = Taxonomy::from_json(&json)
        {
            store.taxonomy = cached;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the photo with this hash lives (whether or not it exists).
    pub fn photo_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(PHOTOS_DIR).join(sha256)
    }

    // ---- settings and enrolment -------------------------------------------------------------

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        set_meta_in(&self.conn, key, value)
    }

    pub fn server_url(&self) -> Result<Option<String>, StoreError> {
        self.meta(key::SERVER_URL)
    }

    pub fn set_server_url(&self, url: &str) -> Result<(), StoreError> {
        self.set_meta(key::SERVER_URL, url.trim_end_matches('/'))
    }

    pub fn enrollment(&self) -> Result<Option<Enrollment>, StoreError> {
        let (Some(server_url), Some(device_id), Some(token)) = (
            self.meta(key::SERVER_URL)?,
            self.meta(key::DEVICE_ID)?,
            self.meta(key::TOKEN)?,
        ) else {
            return Ok(None);
        };
        let device_id = Uuid::parse_str(&device_id)
            .map_err(|e| StoreError::Invalid(format!("identifiant d'appareil illisible : {e}")))?;
        Ok(Some(Enrollment {
            server_url,
            device_id,
            token,
        }))
    }

    pub fn set_enrollment(&mut self, enrollment: &Enrollment) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        set_meta_in(
            &tx,
            key::SERVER_URL,
            enrollment.server_url.trim_end_matches('/'),
        )?;
        set_meta_in(&tx, key::DEVICE_ID, &enrollment.device_id.to_string())?;
        set_meta_in(&tx, key::TOKEN, &enrollment.token)?;
        tx.commit()?;
        Ok(())
    }

    /// The cached taxonomy (the shipped La Rochelle one until the server sends another).
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Caches a taxonomy received from the server.
    pub fn set_taxonomy(&mut self, taxonomy: Taxonomy) -> Result<(), StoreError> {
        let json = serde_json::to_string(&taxonomy)?;
        let tx = self.conn.transaction()?;
        set_meta_in(&tx, key::TAXONOMY_JSON, &json)?;
        set_meta_in(&tx, key::TAXONOMY_VERSION, &taxonomy.version)?;
        tx.commit()?;
        self.taxonomy = taxonomy;
        Ok(())
    }

    pub fn feed_cursor(&self) -> Result<i64, StoreError> {
        Ok(self
            .meta(key::FEED_CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Records the end of a sync run: its time, and its error (French) or none.
    pub fn set_last_sync(&self, at: DateTime<Utc>, error: Option<&str>) -> Result<(), StoreError> {
        self.set_meta(key::LAST_SYNC_AT, &at.to_rfc3339())?;
        self.set_meta(key::LAST_SYNC_ERROR, error.unwrap_or(""))
    }

    /// Time and error (empty = none) of the last sync run.
    pub fn last_sync(&self) -> Result<(Option<DateTime<Utc>>, Option<String>), StoreError> {
        let at = self.meta(key::LAST_SYNC_AT)?.and_then(|v| v.parse().ok());
        let error = self.meta(key::LAST_SYNC_ERROR)?.filter(|e| !e.is_empty());
        Ok((at, error))
    }

    // ---- walks ------------------------------------------------------------------------------

    /// Starts a walk; fails if one is already open.
    pub fn start_walk(
        &mut self,
        title: &str,
        neighbourhood: Option<&str>,
        participants: &[String],
        now: DateTime<Utc>,
    ) -> Result<Walk, StoreError> {
        if self.current_walk()?.is_some() {
            return Err(StoreError::Invalid(
                "une balade est déjà en cours : terminez-la d'abord".into(),
            ));
        }
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::Invalid("la balade doit avoir un titre".into()));
        }
        let walk = Walk {
            id: Uuid::now_v7(),
            title: title.to_string(),
            neighbourhood: neighbourhood
                .map(str::to_string)
                .filter(|n| !n.trim().is_empty()),
            started_at: now,
            ended_at: None,
            participants: participants.to_vec(),
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO walks (id, body, ended, updated_at) VALUES (?1, ?2, 0, ?3)",
            params![
                walk.id.to_string(),
                serde_json::to_string(&walk)?,
                now.to_rfc3339()
            ],
        )?;
        set_meta_in(&tx, key::CURRENT_WALK, &walk.id.to_string())?;
        tx.commit()?;
        Ok(walk)
    }

    /// The open walk, if any.
    pub fn current_walk(&self) -> Result<Option<Walk>, StoreError> {
        let Some(id) = self.meta(key::CURRENT_WALK)?.filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        self.walk(&id)
    }

    /// Records that these incidents left the device in an export file just now.
    pub fn mark_exported(&mut self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut update =
                tx.prepare_cached("UPDATE incidents SET exported_at = ?2 WHERE id = ?1")?;
            for id in ids {
                update.execute(params![id.to_string(), at.to_rfc3339()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Ended walks, the most recently started first (at most `limit`), for their summaries.
    pub fn ended_walks(&self, limit: usize) -> Result<Vec<Walk>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM walks WHERE ended = 1
             ORDER BY json_extract(body, '$.started_at') DESC, id DESC LIMIT ?1",
        )?;
        let bodies = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        let mut walks = Vec::new();
        for body in bodies {
            walks.push(serde_json::from_str(&body?)?);
        }
        Ok(walks)
    }

    fn walk(&self, id: &str) -> Result<Option<Walk>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM walks WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    /// Ends the open walk.
    pub fn end_walk(&mut self, now: DateTime<Utc>) -> Result<Walk, StoreError> {
        let mut walk = self
            .current_walk()?
            .ok_or_else(|| StoreError::Invalid("aucune balade en cours".into()))?;
        walk.ended_at = Some(now);
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE walks SET body = ?2, ended = 1, dirty = 1, updated_at = ?3 WHERE id = ?1",
            params![
                walk.id.to_string(),
                serde_json::to_string(&walk)?,
                now.to_rfc3339()
            ],
        )?;
        set_meta_in(&tx, key::CURRENT_WALK, "")?;
        tx.commit()?;
        Ok(walk)
    }

    // ---- capture ----------------------------------------------------------------------------

    /// Writes a photo file atomically (temp file, fsync, rename, directory fsync) and returns
    /// its reference. The row that uses it is written by [`DeviceStore::save_draft`] or
    /// [`DeviceStore::queue_incident`]. Writing the same bytes twice is a no-op.
    pub fn store_photo(&self, bytes: &[u8], mime: &str) -> Result<PhotoRef, StoreError> {
        let sha256 = sha256_hex(bytes);
        let path = self.photo_path(&sha256);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        Ok(PhotoRef {
            sha256,
            size: bytes.len() as u64,
            mime: mime.to_string(),
        })
    }

    /// Saves an incident as a draft (not validated, not sent). A queued one can go back to draft.
    pub fn save_draft(&mut self, incident: &Incident) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        upsert_incident(&tx, &self.dir, incident, LocalState::Draft)?;
        tx.commit()?;
        Ok(())
    }

    /// Checks an incident against the cached taxonomy and the wire limits (French message).
    pub fn validate(&self, incident: &Incident) -> Result<(), StoreError> {
        validate_incident(&self.taxonomy, &self.dir, incident)
    }

    /// Validates the incident and queues it for sending (with its photo rows), in one transaction.
    pub fn queue_incident(&mut self, incident: &Incident) -> Result<(), StoreError> {
        self.queue_incidents(std::slice::from_ref(incident))
    }

    /// Queues many incidents in one transaction (an import, a test backlog).
    pub fn queue_incidents(&mut self, incidents: &[Incident]) -> Result<(), StoreError> {
        for incident in incidents {
            self.validate(incident)?;
        }
        let tx = self.conn.transaction()?;
        for incident in incidents {
            upsert_incident(&tx, &self.dir, incident, LocalState::Queued)?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- reading ----------------------------------------------------------------------------

    /// Every incident, newest first, with its state and photo progress.
    pub fn list_queue(&self) -> Result<Vec<QueueItem>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{QUEUE_SELECT} ORDER BY i.created_at DESC, i.id DESC"
        ))?;
        let rows = stmt.query_map([], queue_item_from_row)?;
        rows.map(|r| r?.map_err(StoreError::Invalid)).collect()
    }

    /// Number of incidents in each local state.
    pub fn count_by_state(&self) -> Result<Vec<(LocalState, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT local_state, COUNT(*) FROM incidents GROUP BY local_state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (state, n) = row?;
            if let Some(state) = LocalState::from_code(&state) {
                out.push((state, n as u64));
            }
        }
        Ok(out)
    }

    /// One incident with its photos and public timeline.
    pub fn incident_detail(&self, id: Uuid) -> Result<IncidentDetail, StoreError> {
        let item = self
            .conn
            .query_row(
                &format!("{QUEUE_SELECT} WHERE i.id = ?1"),
                [id.to_string()],
                queue_item_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?
            .map_err(StoreError::Invalid)?;
        let (body, service, outside_body, resolved_at, duplicate_of): (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = self.conn.query_row(
            "SELECT body, service, outside_body, resolved_at, duplicate_of FROM incidents WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let incident: Incident = serde_json::from_str(&body)?;
        let duplicate_of = duplicate_of.and_then(|d| Uuid::parse_str(&d).ok());
        let mut ids = vec![id.to_string()];
        ids.extend(duplicate_of.map(|d| d.to_string()));
        let mut timeline = Vec::new();
        for incident_id in &ids {
            let mut stmt = self
                .conn
                .prepare("SELECT raw FROM status_events WHERE incident_id = ?1 ORDER BY seq")?;
            let raws = stmt.query_map([incident_id], |r| r.get::<_, String>(0))?;
            for raw in raws {
                timeline.push(serde_json::from_str::<StatusEvent>(&raw?)?);
            }
        }
        timeline.sort_by_key(|e| e.seq);
        Ok(IncidentDetail {
            item,
            incident,
            service,
            outside_body,
            resolved_at: resolved_at.and_then(|r| r.parse().ok()),
            duplicate_of,
            photos: self.photos_of(id)?,
            timeline,
        })
    }

    /// Finds an incident by uuid, reference or tracking code.
    pub fn find(&self, reference: &str) -> Result<Uuid, StoreError> {
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM incidents WHERE id = ?1 OR reference = ?2 OR tracking_code = ?3 LIMIT 1",
                params![
                    reference.to_lowercase(),
                    reference.to_uppercase(),
                    balade_protocol::tracking::normalize_tracking_code(reference)
                ],
                |r| r.get(0),
            )
            .optional()?;
        let id = id.ok_or_else(|| StoreError::NotFound(reference.to_string()))?;
        Uuid::parse_str(&id).map_err(|e| StoreError::Invalid(e.to_string()))
    }

    /// The photos of one incident, in order.
    pub fn photos_of(&self, id: Uuid) -> Result<Vec<PhotoRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{PHOTO_SELECT} WHERE incident_id = ?1 ORDER BY idx"
        ))?;
        let rows = stmt.query_map([id.to_string()], |r| photo_row(&self.dir, r))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Clears the "unread" flag set when a status change arrived.
    pub fn mark_read(&self, id: Uuid) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE incidents SET unread = 0 WHERE id = ?1",
            [id.to_string()],
        )?;
        Ok(())
    }

    // ---- citizen mode -----------------------------------------------------------------------

    /// Follows a tracking code (normalised); returns the normalised code.
    pub fn follow(&self, typed_code: &str, label: Option<&str>) -> Result<String, StoreError> {
        let code =
            balade_protocol::tracking::normalize_tracking_code(typed_code).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "« {typed_code} » n'est pas un code de suivi valide"
                ))
            })?;
        self.conn.execute(
            "INSERT INTO followed_codes (code, added_at, label) VALUES (?1, ?2, ?3)
             ON CONFLICT (code) DO UPDATE SET label = excluded.label",
            params![code, Utc::now().to_rfc3339(), label],
        )?;
        Ok(code)
    }

    pub fn unfollow(&self, code: &str) -> Result<(), StoreError> {
        let code = balade_protocol::tracking::normalize_tracking_code(code).unwrap_or_default();
        self.conn
            .execute("DELETE FROM followed_codes WHERE code = ?1", [code])?;
        Ok(())
    }

    /// Followed codes with their labels, oldest first.
    pub fn followed(&self) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, label FROM followed_codes ORDER BY added_at")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps the public status just fetched for a followed code (shown offline and after a
    /// restart). A code no longer followed is left alone.
    pub fn set_followed_view(&self, code: &str, view: &TrackingView) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE followed_codes SET last_view = ?2, refreshed_at = ?3 WHERE code = ?1",
            params![code, serde_json::to_string(view)?, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// The last public status kept for each followed code, oldest code first.
    pub fn followed_views(&self) -> Result<Vec<(String, Option<TrackingView>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, last_view FROM followed_codes ORDER BY added_at")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (code, view) = row?;
            // A view that no longer parses (older app) is simply fetched again.
            let view = view.and_then(|v| serde_json::from_str(&v).ok());
            out.push((code, view));
        }
        Ok(out)
    }

    // ---- export and space -------------------------------------------------------------------

    /// What an export file carries (engine::export): every incident a sync would still have
    /// to deliver — queued or sending, or acknowledged with a photo not uploaded yet — with
    /// the walks they belong to (and every walk changed since its last push) and their photos.
    /// Drafts (not finished) and frozen incidents (refused by the server) stay out; they are
    /// counted so the user is told.
    pub fn export_selection(&mut self) -> Result<ExportSelection, StoreError> {
        let tx = self.conn.transaction()?;
        let mut selection = ExportSelection::default();
        let mut walk_ids = std::collections::BTreeSet::new();
        {
            let mut stmt = tx.prepare(
                "SELECT id, body, walk_id FROM incidents i
                 WHERE local_state IN ('queued', 'sending')
                    OR (local_state = 'acknowledged' AND EXISTS (SELECT 1 FROM photos p
                          WHERE p.incident_id = i.id AND p.upload_state != 'uploaded'))
                 ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?;
            let mut seen_photos = std::collections::BTreeSet::new();
            let mut photos = tx.prepare(&format!(
                "{PHOTO_SELECT} WHERE incident_id = ?1 ORDER BY idx"
            ))?;
            for row in rows {
                let (id, body, walk_id) = row?;
                selection
                    .incidents
                    .push(serde_json::from_str::<Incident>(&body)?);
                walk_ids.extend(walk_id);
                for photo in photos.query_map([&id], |r| photo_row(&self.dir, r))? {
                    let photo = photo?;
                    if seen_photos.insert(photo.sha256.clone()) {
                        selection.photos.push(photo);
                    }
                }
            }
        }
        {
            let mut dirty = tx.prepare("SELECT id FROM walks WHERE dirty = 1")?;
            for row in dirty.query_map([], |r| r.get::<_, String>(0))? {
                walk_ids.insert(row?);
            }
            let mut walk = tx.prepare("SELECT body FROM walks WHERE id = ?1")?;
            for walk_id in walk_ids {
                let body: Option<String> = walk.query_row([&walk_id], |r| r.get(0)).optional()?;
                if let Some(body) = body {
                    selection.walks.push(serde_json::from_str(&body)?);
                }
            }
        }
        (selection.drafts_left, selection.frozen_left) = tx.query_row(
            "SELECT COALESCE(SUM(local_state = 'draft'), 0), COALESCE(SUM(local_state = 'frozen'), 0)
             FROM incidents",
            [],
            |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
        )?;
        selection.device_id = meta_in(&tx, key::DEVICE_ID)?.and_then(|v| Uuid::parse_str(&v).ok());
        tx.commit()?;
        Ok(selection)
    }

    /// Bytes used by the database (with its WAL) and the photo files.
    pub fn storage_used(&self) -> Result<StorageUsed, StoreError> {
        let mut db_bytes = 0;
        for name in [DB_FILE, "device.db-wal", "device.db-shm"] {
            db_bytes += fs::metadata(self.dir.join(name))
                .map(|m| m.len())
                .unwrap_or(0);
        }
        let (mut photo_bytes, mut n_photo_files) = (0, 0);
        for entry in fs::read_dir(self.dir.join(PHOTOS_DIR))? {
            let meta = entry?.metadata()?;
            if meta.is_file() {
                photo_bytes += meta.len();
                n_photo_files += 1;
            }
        }
        Ok(StorageUsed {
            db_bytes,
            photo_bytes,
            n_photo_files,
        })
    }

    // ---- sync side --------------------------------------------------------------------------

    /// What a sync run starts from, read in one transaction.
    pub fn sync_snapshot(&mut self) -> Result<SyncSnapshot, StoreError> {
        let tx = self.conn.transaction()?;
        let pending_ids = {
            let mut stmt = tx.prepare(
                "SELECT id FROM incidents WHERE local_state IN ('queued', 'sending')
                 ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut ids = Vec::new();
            for row in rows {
                ids.push(Uuid::parse_str(&row?).map_err(|e| StoreError::Invalid(e.to_string()))?);
            }
            ids
        };
        let photos_to_upload = {
            let mut stmt = tx.prepare(
                "SELECT p.sha256, MAX(p.size), MAX(p.upload_offset) FROM photos p
                 JOIN incidents i ON i.id = p.incident_id
                 WHERE i.local_state = 'acknowledged' AND p.upload_state != 'uploaded'
                 GROUP BY p.sha256 ORDER BY MIN(i.created_at), p.sha256",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PhotoTask {
                    sha256: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    offset: r.get::<_, i64>(2)? as u64,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let feed_cursor = meta_in(&tx, key::FEED_CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let has_dirty_walks: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM walks WHERE dirty = 1)",
            [],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(SyncSnapshot {
            pending_ids,
            photos_to_upload,
            feed_cursor,
            taxonomy_version: self.taxonomy.version.clone(),
            has_dirty_walks,
        })
    }

    /// Marks these incidents `sending` and returns their bodies and the walks they refer to
    /// (plus every dirty walk), in one transaction (called just before the push request).
    pub fn claim_for_push(
        &mut self,
        ids: &[Uuid],
    ) -> Result<(Vec<Incident>, Vec<Walk>), StoreError> {
        let tx = self.conn.transaction()?;
        let mut incidents = Vec::with_capacity(ids.len());
        let mut walk_ids = std::collections::BTreeSet::new();
        {
            let mut select = tx.prepare_cached(
                "SELECT body, walk_id FROM incidents WHERE id = ?1 AND local_state IN ('queued', 'sending')",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE incidents SET local_state = 'sending', updated_at = ?2 WHERE id = ?1",
            )?;
            let now = Utc::now().to_rfc3339();
            for id in ids {
                let row: Option<(String, Option<String>)> = select
                    .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((body, walk_id)) = row else { continue };
                incidents.push(serde_json::from_str::<Incident>(&body)?);
                walk_ids.extend(walk_id);
                update.execute(params![id.to_string(), now])?;
            }
        }
        {
            let mut dirty = tx.prepare_cached("SELECT id FROM walks WHERE dirty = 1")?;
            let rows = dirty.query_map([], |r| r.get::<_, String>(0))?;
            for row in rows {
                walk_ids.insert(row?);
            }
        }
        let mut walks = Vec::new();
        for walk_id in walk_ids {
            let body: Option<String> = tx
                .query_row("SELECT body FROM walks WHERE id = ?1", [&walk_id], |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(body) = body {
                walks.push(serde_json::from_str(&body)?);
            }
        }
        tx.commit()?;
        Ok((incidents, walks))
    }

    /// The server stored these walks (a push envelope came back): clean unless changed since.
    pub fn mark_walks_pushed(&self, walks: &[Walk]) -> Result<(), StoreError> {
        for walk in walks {
            self.conn
                .prepare_cached("UPDATE walks SET dirty = 0 WHERE id = ?1 AND body = ?2")?
                .execute(params![walk.id.to_string(), serde_json::to_string(walk)?])?;
        }
        Ok(())
    }

    /// Applies the machine's decisions on one push answer, in one transaction. For an
    /// acknowledged record, photos the server did not list as missing count as uploaded.
    pub fn apply_push(&mut self, decisions: &[RecordDecision]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = Utc::now().to_rfc3339();
        for decision in decisions {
            match decision {
                RecordDecision::Acknowledge {
                    id,
                    reference,
                    tracking_code,
                    missing_photos,
                } => {
                    tx.prepare_cached(
                        "UPDATE incidents SET local_state = 'acknowledged',
                            reference = COALESCE(?2, reference),
                            tracking_code = COALESCE(?3, tracking_code),
                            server_state = COALESCE(server_state, 'received'),
                            last_error_code = NULL, last_error_message = NULL, updated_at = ?4
                         WHERE id = ?1 AND local_state IN ('queued', 'sending')",
                    )?
                    .execute(params![
                        id.to_string(),
                        reference,
                        tracking_code,
                        now
                    ])?;
                    let photos: Vec<String> = {
                        let mut stmt = tx.prepare_cached(
                            "SELECT sha256 FROM photos WHERE incident_id = ?1 AND upload_state != 'uploaded'",
                        )?;
                        stmt.query_map([id.to_string()], |r| r.get(0))?
                            .collect::<Result<_, _>>()?
                    };
                    for sha in photos.iter().filter(|s| !missing_photos.contains(s)) {
                        mark_uploaded_in(&tx, sha)?;
                    }
                }
                RecordDecision::Freeze { id, code, message } => {
                    tx.prepare_cached(
                        "UPDATE incidents SET local_state = 'frozen', last_error_code = ?2,
                            last_error_message = ?3, updated_at = ?4
                         WHERE id = ?1 AND local_state IN ('queued', 'sending')",
                    )?
                    .execute(params![id.to_string(), code, message, now])?;
                }
                RecordDecision::Requeue { id } => {
                    tx.prepare_cached(
                        "UPDATE incidents SET local_state = 'queued', updated_at = ?2
                         WHERE id = ?1 AND local_state = 'sending'",
                    )?
                    .execute(params![id.to_string(), now])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The photo file and upload state for a hash (any row holding it).
    pub fn photo_for_upload(&self, sha256: &str) -> Result<Option<PhotoRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("{PHOTO_SELECT} WHERE sha256 = ?1 ORDER BY upload_offset DESC LIMIT 1"),
                [sha256],
                |r| photo_row(&self.dir, r),
            )
            .optional()?)
    }

    /// Records a tus upload URL and the offset the server confirmed.
    pub fn set_upload_progress(
        &self,
        sha256: &str,
        url: Option<&str>,
        offset: u64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE photos SET upload_state = 'uploading', upload_url = ?2, upload_offset = ?3,
                last_error = NULL
             WHERE sha256 = ?1 AND upload_state != 'uploaded'",
            params![sha256, url, offset as i64],
        )?;
        Ok(())
    }

    /// The server holds this photo (whole-file hash verified).
    pub fn mark_photo_uploaded(&self, sha256: &str) -> Result<(), StoreError> {
        mark_uploaded_in(&self.conn, sha256)
    }

    /// The photo is missing on the server again (checksum mismatch, upload lost): restart from 0.
    pub fn mark_photo_missing(&self, sha256: &str, error: Option<&str>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE photos SET upload_state = 'missing', upload_url = NULL, upload_offset = 0,
                last_error = ?2 WHERE sha256 = ?1",
            params![sha256, error],
        )?;
        Ok(())
    }

    /// Applies one feed page and its cursor in one transaction. Idempotent: events already
    /// stored (same `seq`) change nothing, and the cursor never goes back. Returns how many
    /// events were new.
    pub fn apply_feed_page(&mut self, page: &FeedPage) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n_new = 0;
        for event in &page.events {
            let inserted = tx.prepare_cached(
                "INSERT OR IGNORE INTO status_events (seq, incident_id, raw) VALUES (?1, ?2, ?3)")?.execute(
                params![
                    event.seq,
                    event.incident_id.to_string(),
                    serde_json::to_string(event)?
                ],
            )?;
            if inserted == 0 {
                continue;
            }
            n_new += 1;
            apply_event(&tx, event)?;
        }
        let cursor: i64 = meta_in(&tx, key::FEED_CURSOR)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let last_seq = page.events.iter().map(|e| e.seq).max().unwrap_or(0);
        let new_cursor = cursor.max(page.next_cursor).max(last_seq);
        set_meta_in(&tx, key::FEED_CURSOR, &new_cursor.to_string())?;
        tx.commit()?;
        Ok(n_new)
    }
}

const QUEUE_SELECT: &str = "SELECT i.id, i.local_state, i.body, i.reference, i.tracking_code,
        i.server_state, i.planned_date, i.reason, i.last_error_code, i.last_error_message, i.unread,
        (SELECT COUNT(*) FROM photos p WHERE p.incident_id = i.id),
        (SELECT COUNT(*) FROM photos p WHERE p.incident_id = i.id AND p.upload_state = 'uploaded'),
        (SELECT COALESCE(SUM(size), 0) FROM photos p WHERE p.incident_id = i.id),
        (SELECT COALESCE(SUM(CASE WHEN p.upload_state = 'uploaded' THEN size ELSE upload_offset END), 0)
           FROM photos p WHERE p.incident_id = i.id),
        i.exported_at
    FROM incidents i";

const PHOTO_SELECT: &str =
    "SELECT incident_id, idx, sha256, path, size, mime, upload_state, upload_url,
        upload_offset, last_error FROM photos";

/// Reads a queue row; the inner `Err` is a French message for a row that does not parse.
fn queue_item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<QueueItem, String>> {
    let id: String = r.get(0)?;
    let state: String = r.get(1)?;
    let body: String = r.get(2)?;
    let server_state: Option<String> = r.get(5)?;
    let planned_date: Option<String> = r.get(6)?;
    let build = || -> Result<QueueItem, String> {
        let incident: Incident = serde_json::from_str(&body).map_err(|e| format!("{id} : {e}"))?;
        Ok(QueueItem {
            id: incident.id,
            local_state: LocalState::from_code(&state)
                .ok_or_else(|| format!("état inconnu {state}"))?,
            category: incident.category,
            subcategory: incident.subcategory,
            comment: incident.comment,
            observed_at: incident.observed_at,
            reference: r.get(3).ok().flatten(),
            tracking_code: r.get(4).ok().flatten(),
            server_state: server_state.as_deref().and_then(State::from_code),
            planned_date: planned_date.and_then(|d| d.parse().ok()),
            reason: r.get(7).ok().flatten(),
            last_error_code: r.get(8).ok().flatten(),
            last_error_message: r.get(9).ok().flatten(),
            unread: r.get::<_, i64>(10).unwrap_or(0) != 0,
            n_photos: r.get::<_, i64>(11).unwrap_or(0) as u32,
            n_photos_uploaded: r.get::<_, i64>(12).unwrap_or(0) as u32,
            photo_bytes_total: r.get::<_, i64>(13).unwrap_or(0) as u64,
            photo_bytes_uploaded: r.get::<_, i64>(14).unwrap_or(0) as u64,
            exported_at: r
                .get::<_, Option<String>>(15)
                .ok()
                .flatten()
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
        })
    };
    Ok(build())
}

fn photo_row(dir: &Path, r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoRow> {
    let incident_id: String = r.get(0)?;
    let path: String = r.get(3)?;
    Ok(PhotoRow {
        incident_id: Uuid::parse_str(&incident_id).unwrap_or_default(),
        idx: r.get::<_, i64>(1)? as u32,
        sha256: r.get(2)?,
        path: dir.join(path),
        size: r.get::<_, i64>(4)? as u64,
        mime: r.get(5)?,
        upload_state: UploadState::from_code(&r.get::<_, String>(6)?),
        upload_url: r.get(7)?,
        upload_offset: r.get::<_, i64>(8)? as u64,
        last_error: r.get(9)?,
    })
}

fn meta_in(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn set_meta_in(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn mark_uploaded_in(conn: &Connection, sha256: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE photos SET upload_state = 'uploaded', upload_url = NULL, upload_offset = size,
            last_error = NULL WHERE sha256 = ?1",
        [sha256],
    )?;
    Ok(())
}

/// Updates the incident row from one new event (only if newer than what it has seen).
fn apply_event(tx: &Transaction<'_>, event: &StatusEvent) -> Result<(), StoreError> {
    let resolved_at = (event.state == State::Resolved).then(|| event.at.to_rfc3339());
    tx.prepare_cached(
        "UPDATE incidents SET
            server_state = ?2,
            reference = COALESCE(reference, ?3),
            service = COALESCE(?4, service),
            outside_body = COALESCE(?5, outside_body),
            planned_date = CASE WHEN ?2 = 'scheduled' THEN ?6 ELSE COALESCE(?6, planned_date) END,
            reason = CASE WHEN ?2 = 'refused' THEN ?7 ELSE COALESCE(?7, reason) END,
            resolved_at = COALESCE(?8, resolved_at),
            duplicate_of = COALESCE(?9, duplicate_of),
            last_seq = ?10,
            unread = 1,
            updated_at = ?11
         WHERE id IN (SELECT ?1 UNION ALL SELECT id FROM incidents WHERE duplicate_of = ?1)
           AND last_seq < ?10",
    )?
    .execute(params![
        event.incident_id.to_string(),
        event.state.code(),
        event.reference,
        event.service,
        event.outside_body,
        event.planned_date.map(|d| d.to_string()),
        event.reason,
        resolved_at,
        event.duplicate_of.map(|d| d.to_string()),
        event.seq,
        Utc::now().to_rfc3339(),
    ])?;
    Ok(())
}

fn validate_incident(
    taxonomy: &Taxonomy,
    dir: &Path,
    incident: &Incident,
) -> Result<(), StoreError> {
    use balade_protocol::taxonomy::TaxonomyError;
    taxonomy.validate_incident(incident).map_err(|e| {
        StoreError::Invalid(match e {
            TaxonomyError::UnknownCategory(c) => format!("catégorie inconnue : {c}"),
            TaxonomyError::UnknownSubcategory {
                category,
                subcategory,
            } => {
                format!("sous-catégorie inconnue : {subcategory} (catégorie {category})")
            }
            TaxonomyError::Field { field, problem } => format!("champ {field} : {problem}"),
            other => other.to_string(),
        })
    })?;
    incident
        .position
        .validate()
        .map_err(|e| StoreError::Invalid(format!("position invalide : {e}")))?;
    if incident.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(StoreError::Invalid(format!(
            "commentaire trop long (au plus {MAX_COMMENT_CHARS} caractères)"
        )));
    }
    if incident.photos.len() > MAX_PHOTOS {
        return Err(StoreError::Invalid(format!(
            "au plus {MAX_PHOTOS} photos par signalement"
        )));
    }
    for photo in &incident.photos {
        if !photo.has_valid_hash() {
            return Err(StoreError::Invalid(format!(
                "empreinte de photo invalide : {}",
                photo.sha256
            )));
        }
        if !dir.join(PHOTOS_DIR).join(&photo.sha256).is_file() {
            return Err(StoreError::Invalid(format!(
                "photo absente du stockage : {}",
                photo.sha256
            )));
        }
    }
    Ok(())
}

/// Inserts or updates an incident row and its photo rows. An acknowledged or frozen record is
/// not editable here (field ownership: after the ack the reporter can only add).
fn upsert_incident(
    tx: &Transaction<'_>,
    dir: &Path,
    incident: &Incident,
    state: LocalState,
) -> Result<(), StoreError> {
    let id = incident.id.to_string();
    let existing: Option<String> = tx
        .query_row(
            "SELECT local_state FROM incidents WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(existing) = existing.as_deref().and_then(LocalState::from_code)
        && !matches!(existing, LocalState::Draft | LocalState::Queued)
    {
        return Err(StoreError::Invalid(format!(
            "ce signalement n'est plus modifiable ({})",
            existing.label_fr()
        )));
    }
    let now = Utc::now().to_rfc3339();
    tx.prepare_cached(
        "INSERT INTO incidents (id, body, walk_id, local_state, content_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, walk_id = excluded.walk_id,
            local_state = excluded.local_state, content_hash = excluded.content_hash,
            updated_at = excluded.updated_at")?.execute(
        params![
            id,
            serde_json::to_string(incident)?,
            incident.walk_id.map(|w| w.to_string()),
            state.code(),
            incident.content_hash(),
            now,
        ],
    )?;
    tx.prepare_cached("DELETE FROM photos WHERE incident_id = ?1")?
        .execute([&id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO photos (incident_id, idx, sha256, path, size, mime) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (idx, photo) in incident.photos.iter().enumerate() {
        let path = format!("{PHOTOS_DIR}/{}", photo.sha256);
        debug_assert!(dir.join(&path).parent().is_some());
        insert.execute(params![
            id,
            idx as i64,
            photo.sha256,
            path,
            photo.size as i64,
            photo.mime
        ])?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory: write, fsync,
/// rename, fsync the directory. Readers see the old file or the whole new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), std::io::Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!("{name}.tmp-{}", Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes temporary files a crash left behind (`*.tmp-*`).
fn clean_temp_files(photos_dir: &Path) -> Result<(), std::io::Error> {
    for entry in fs::read_dir(photos_dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().contains(".tmp-") {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Import of a device export file (`balade_protocol::device_export`): the offline road for a
//! device that never reaches the network. The operator runs `balade-sync import-device-export
//! FILE` or uploads the file in the console; the requests enter through the same
//! `requests::insert_incident` as a sync push, so references, tracking codes, routing and the
//! device's own later sync behave exactly as if it had synced.
//!
//! **Invariants** (the same as the sync path):
//! - a file that is not a complete, well-formed export, or whose photo bytes do not match their
//!   SHA-256, changes nothing in the database;
//! - by default an import is all or nothing: if the server refuses one incident (unknown
//!   category, an id already used with another body), nothing is stored and the report says
//!   which and why; `--skip-rejected` stores the others;
//! - a photo file is moved into the photo store (verified, fsynced) before the transaction
//!   that records it, so a request never points at a photo that is not on disk;
//! - importing the same file twice, or importing it after the device synced, stores nothing
//!   twice (ids are the device's UUIDv7, photos are content-addressed).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::device_export::{
    EXPORT_FORMAT, EXPORT_VERSION, ExportManifest, MANIFEST_ENTRY, PHOTOS_PREFIX, PUSH_ENTRY,
    photo_sha_of_entry,
};
use balade_protocol::envelope::{PushItemResult, PushOutcome, PushRequest};
use balade_protocol::incident::PhotoRef;
use balade_protocol::taxonomy::Taxonomy;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::device::{item_result, upsert_walk};
use crate::api::tus::{UPLOADS_DIR, install_photo};
use crate::state::MAX_UPLOAD_SIZE;
use crate::store::requests::{self, Source};
use crate::store::{Store, StoreError};

/// Largest `manifest.json` read.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
/// Largest `push.json` read (about 20,000 incidents).
const MAX_PUSH_BYTES: u64 = 64 * 1024 * 1024;

/// How to treat incidents the server refuses.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Store the accepted incidents even when others are refused.
    pub skip_rejected: bool,
}

/// Who ran an import (kept in `device_imports`).
pub const CLI_ACTOR: &str = "cli";

/// What an import did, one result per incident (the same results a push returns).
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub device_id: Option<Uuid>,
    /// The device is known to this server: the requests are filed under it and its feed
    /// will carry their status changes.
    pub device_known: bool,
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub walks: usize,
    pub created: usize,
    pub already_stored: usize,
    pub refused: usize,
    pub photos_stored: usize,
    pub photos_already_present: usize,
    pub results: Vec<PushItemResult>,
}

impl ImportReport {
    /// One French sentence for the CLI and the console.
    pub fn message_fr(&self) -> String {
        let mut text = format!(
            "{} signalement(s) créé(s), {} déjà présent(s), {} refusé(s) ; {} photo(s) enregistrée(s), {} déjà présente(s) ; {} balade(s).",
            self.created,
            self.already_stored,
            self.refused,
            self.photos_stored,
            self.photos_already_present,
            self.walks
        );
        match (self.device_id, self.device_known) {
            (Some(_), true) => text.push_str(" Appareil connu : il recevra les suites."),
            (Some(_), false) | (None, _) => text.push_str(
                " Appareil non enrôlé sur ce serveur : ses signalements lui seront rattachés à sa première synchronisation.",
            ),
        }
        text
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("Ce fichier n'est pas un export Balade lisible : {0}")]
    NotAnExport(String),
    #[error(
        "Export Balade version {0} non prise en charge (attendu {EXPORT_VERSION}) : mettez le serveur à jour"
    )]
    UnsupportedVersion(u32),
    #[error("Export incomplet : « {0} » manque")]
    MissingEntry(&'static str),
    #[error("Export illisible : « {entry} » : {problem}")]
    Malformed { entry: String, problem: String },
    #[error("Export incomplet : la photo {sha256} du signalement {incident} n'y est pas")]
    PhotoMissing { sha256: String, incident: Uuid },
    #[error(
        "Photo {0} endommagée dans l'export (empreinte SHA-256 différente) : refaites l'export"
    )]
    PhotoDamaged(String),
    #[error("Photo {sha256} trop grande ({size} octets, au plus {MAX_UPLOAD_SIZE})")]
    PhotoTooLarge { sha256: String, size: u64 },
    #[error("{} signalement(s) refusé(s) par le serveur, rien n'a été importé : {}", .0.iter().filter(|r| is_refused(r)).count(), refusals(.0))]
    Refused(Vec<PushItemResult>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("fichier : {0}")]
    Io(#[from] io::Error),
}

fn is_refused(result: &PushItemResult) -> bool {
    matches!(
        result.outcome,
        PushOutcome::Conflict | PushOutcome::Rejected
    )
}

fn refusals(results: &[PushItemResult]) -> String {
    results
        .iter()
        .filter(|r| is_refused(r))
        .map(|r| {
            let why = r.error.as_ref().map_or("conflit", |e| e.message.as_str());
            format!("{} ({why})", r.id)
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// Imports one export file from disk.
pub fn import_file(
    store: &Store,
    taxonomy: &Taxonomy,
    data_dir: &Path,
    file: &Path,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let reader = fs::File::open(file)?;
    import_device_export(store, taxonomy, data_dir, reader, CLI_ACTOR, options)
}

/// Imports one export read from `reader` (a file, or an upload held in memory).
pub fn import_device_export<R: Read + Seek>(
    store: &Store,
    taxonomy: &Taxonomy,
    data_dir: &Path,
    reader: R,
    actor: &str,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    let manifest: ExportManifest = read_json(&mut archive, MANIFEST_ENTRY, MAX_MANIFEST_BYTES)?;
    if manifest.format != EXPORT_FORMAT {
        return Err(ImportError::NotAnExport(format!(
            "format « {} »",
            manifest.format
        )));
    }
    if manifest.version != EXPORT_VERSION {
        return Err(ImportError::UnsupportedVersion(manifest.version));
    }
    let push: PushRequest = read_json(&mut archive, PUSH_ENTRY, MAX_PUSH_BYTES)?;
    if push.protocol != PROTOCOL_VERSION {
        return Err(ImportError::UnsupportedVersion(push.protocol));
    }
    let referenced: BTreeMap<&str, (&PhotoRef, Uuid)> = push
        .incidents
        .iter()
        .flat_map(|i| i.photos.iter().map(move |p| (p.sha256.as_str(), (p, i.id))))
        .collect();

    let mut staged = StagedPhotos::new(data_dir)?;
    let mut already_present = 0;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| ImportError::NotAnExport(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| ImportError::NotAnExport(e.to_string()))?
            .into_owned();
        if name == MANIFEST_ENTRY || name == PUSH_ENTRY || entry.is_dir() {
            continue;
        }
        let Some(sha256) = photo_sha_of_entry(&name) else {
            return Err(ImportError::Malformed {
                entry: name,
                problem: format!("entrée inattendue (seules {PHOTOS_PREFIX}<sha256> sont admises)"),
            });
        };
        let Some((photo, _)) = referenced.get(sha256) else {
            continue; // a photo no incident refers to: nothing to keep it for
        };
        if entry.size() > MAX_UPLOAD_SIZE {
            return Err(ImportError::PhotoTooLarge {
                sha256: sha256.to_string(),
                size: entry.size(),
            });
        }
        if store.with_conn(|conn| requests::photo_present(conn, sha256))? {
            already_present += 1;
            continue;
        }
        staged.add(&mut entry, photo)?;
    }
    for (sha256, (_, incident)) in &referenced {
        let on_server = store.with_conn(|conn| requests::photo_present(conn, sha256))?;
        if !on_server && !staged.has(sha256) {
            return Err(ImportError::PhotoMissing {
                sha256: sha256.to_string(),
                incident: *incident,
            });
        }
    }
    let photos = staged.move_into_place()?;

    let outcome = store.with_conn(|conn| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let device_known = match manifest.device_id {
            Some(id) => tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM devices WHERE id = ?1)",
                [id.to_string()],
                |r| r.get::<_, bool>(0),
            )?,
            None => false,
        };
        let device = manifest.device_id.filter(|_| device_known);
        for photo in &photos {
            requests::photo_stored(&tx, &photo.sha256, photo.size, &photo.mime)?;
        }
        for walk in &push.walks {
            upsert_walk(&tx, device, walk)?;
        }
        let mut results = Vec::with_capacity(push.incidents.len());
        for incident in &push.incidents {
            let outcome =
                requests::insert_incident(&tx, taxonomy, incident, device, Source::Import)?;
            if matches!(outcome, requests::InsertOutcome::Created(_)) {
                tx.execute(
                    "INSERT INTO device_imports (request_id, imported_at, exported_at, manifest_device, actor)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![
                        incident.id.to_string(),
                        crate::store::now_text(),
                        crate::store::time_text(manifest.exported_at),
                        manifest.device_id.map(|d| d.to_string()),
                        actor
                    ],
                )?;
            }
            results.push(item_result(incident.id, outcome));
        }
        if results.iter().any(is_refused) && !options.skip_rejected {
            return Ok(Err(results)); // the transaction rolls back as it drops
        }
        tx.commit()?;
        Ok(Ok((device_known, results)))
    })?;
    let (device_known, results) = outcome.map_err(ImportError::Refused)?;
    let count = |outcome: PushOutcome| results.iter().filter(|r| r.outcome == outcome).count();
    Ok(ImportReport {
        device_id: manifest.device_id,
        device_known,
        exported_at: manifest.exported_at,
        walks: push.walks.len(),
        created: count(PushOutcome::Created),
        already_stored: count(PushOutcome::AlreadyStored),
        refused: results.iter().filter(|r| is_refused(r)).count(),
        photos_stored: photos.len(),
        photos_already_present: already_present,
        results,
    })
}

fn read_json<R: Read + Seek, T: serde::de::DeserializeOwned>(
    archive: &mut zip::ZipArchive<R>,
    entry: &'static str,
    max_bytes: u64,
) -> Result<T, ImportError> {
    let file = match archive.by_name(entry) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Err(ImportError::MissingEntry(entry)),
        Err(e) => return Err(ImportError::NotAnExport(e.to_string())),
    };
    if file.size() > max_bytes {
        return Err(ImportError::Malformed {
            entry: entry.to_string(),
            problem: format!("{} octets, au plus {max_bytes}", file.size()),
        });
    }
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ImportError::Malformed {
        entry: entry.to_string(),
        problem: e.to_string(),
    })
}

/// A photo verified and waiting in the uploads directory.
struct Staged {
    sha256: String,
    size: u64,
    mime: String,
    part: PathBuf,
}

/// Photos copied out of the archive and verified; removed again unless moved into place.
struct StagedPhotos {
    data_dir: PathBuf,
    photos: Vec<Staged>,
}

impl StagedPhotos {
    fn new(data_dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(data_dir.join(UPLOADS_DIR))?;
        Ok(StagedPhotos {
            data_dir: data_dir.to_path_buf(),
            photos: Vec::new(),
        })
    }

    fn has(&self, sha256: &str) -> bool {
        self.photos.iter().any(|p| p.sha256 == sha256)
    }

    /// Copies one entry to a part file, hashing it; refuses bytes that do not match.
    fn add(&mut self, entry: &mut impl Read, photo: &PhotoRef) -> Result<(), ImportError> {
        if self.has(&photo.sha256) {
            return Ok(());
        }
        let part = self
            .data_dir
            .join(UPLOADS_DIR)
            .join(format!("import-{}.part", Uuid::new_v4().simple()));
        let mut out = fs::File::create(&part)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        let copied = (|| -> Result<(), ImportError> {
            loop {
                let n = entry
                    .read(&mut buf)
                    .map_err(|e| ImportError::NotAnExport(e.to_string()))?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > MAX_UPLOAD_SIZE {
                    return Err(ImportError::PhotoTooLarge {
                        sha256: photo.sha256.clone(),
                        size,
                    });
                }
                hasher.update(&buf[..n]);
                io::Write::write_all(&mut out, &buf[..n])?;
            }
            if hex::encode(hasher.finalize_reset()) != photo.sha256 {
                return Err(ImportError::PhotoDamaged(photo.sha256.clone()));
            }
            out.sync_all()?;
            Ok(())
        })();
        if let Err(e) = copied {
            let _ = fs::remove_file(&part);
            return Err(e);
        }
        self.photos.push(Staged {
            sha256: photo.sha256.clone(),
            size,
            mime: photo.mime.clone(),
            part,
        });
        Ok(())
    }

    /// Renames every staged photo into the content-addressed store (fsyncing the directories).
    fn move_into_place(mut self) -> Result<Vec<Staged>, ImportError> {
        let photos = std::mem::take(&mut self.photos);
        let mut moved = Vec::with_capacity(photos.len());
        let mut rest = photos.into_iter();
        while let Some(photo) = rest.next() {
            if let Err(e) = install_photo(&self.data_dir, &photo.part, &photo.sha256) {
                // What is not in place yet is cleaned up; what is in place is a valid,
                // content-addressed file that a retry reuses.
                self.photos = std::iter::once(photo).chain(rest).collect();
                return Err(e.into());
            }
            moved.push(photo);
        }
        Ok(moved)
    }
}

impl Drop for StagedPhotos {
    fn drop(&mut self) {
        for photo in &self.photos {
            let _ = fs::remove_file(&photo.part);
        }
    }
}

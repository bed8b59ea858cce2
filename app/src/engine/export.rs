//! Export of the device's undelivered queue to one file, for a device that will never reach the
//! network: someone carries the file to the office and the server imports it
//! (`balade-sync import-device-export`), through the same path as a sync push.
//!
//! The layout is defined once in `balade_protocol::device_export` (a zip: manifest, the push
//! envelope, photos by SHA-256). The file is written to a temporary name, fsynced, then
//! renamed: a half-written export never carries the final name. Each photo is hashed while it
//! is copied; a photo whose bytes no longer match its SHA-256 stops the export with its name
//! rather than shipping a file the server would refuse.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use balade_protocol::device_export::{ExportManifest, MANIFEST_ENTRY, PUSH_ENTRY, photo_entry};
use balade_protocol::envelope::PushRequest;
use balade_protocol::incident::PhotoRef;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::engine::store::{DeviceStore, StoreError};

/// What was written, for the message shown to the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub incidents: usize,
    pub walks: usize,
    pub photos: usize,
    pub bytes: u64,
    /// Left on the device: unfinished drafts and incidents the server refused.
    pub drafts_left: usize,
    pub frozen_left: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Rien à exporter : aucun signalement en attente d'envoi")]
    NothingToExport,
    #[error("Photo {0} absente de l'appareil : reprenez-la avant d'exporter")]
    PhotoMissing(String),
    #[error(
        "Photo {0} endommagée sur l'appareil (empreinte différente) : reprenez-la avant d'exporter"
    )]
    PhotoDamaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("écriture de l'export : {0}")]
    Io(#[from] io::Error),
    #[error("écriture de l'export : {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("écriture de l'export : {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes the export file at `path` (replacing a file of that name only once complete).
pub fn export_queue(store: &mut DeviceStore, path: &Path) -> Result<ExportSummary, ExportError> {
    let selection = store.export_selection()?;
    if selection.incidents.is_empty() {
        return Err(ExportError::NothingToExport);
    }
    let manifest = ExportManifest::new(
        selection.device_id,
        selection.incidents.len(),
        selection.walks.len(),
        selection.photos.len(),
    );
    let push = PushRequest::new(selection.walks.clone(), selection.incidents.clone());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("export");
    let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| -> Result<u64, ExportError> {
        let mut zip = zip::ZipWriter::new(fs::File::create(&tmp)?);
        let stored = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file(MANIFEST_ENTRY, stored)?;
        zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
        zip.start_file(PUSH_ENTRY, stored)?;
        zip.write_all(&serde_json::to_vec_pretty(&push)?)?;
        for photo in &selection.photos {
            let reference = PhotoRef {
                sha256: photo.sha256.clone(),
                size: photo.size,
                mime: photo.mime.clone(),
            };
            let file = fs::File::open(&photo.path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => ExportError::PhotoMissing(photo.sha256.clone()),
                _ => ExportError::Io(e),
            })?;
            zip.start_file(photo_entry(&reference), stored)?;
            let mut hashing = HashingReader::new(file);
            io::copy(&mut hashing, &mut zip)?;
            if hashing.hex_digest() != photo.sha256 {
                return Err(ExportError::PhotoDamaged(photo.sha256.clone()));
            }
        }
        let file = zip.finish()?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    })();
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    fs::File::open(dir)?.sync_all()?;
    let ids: Vec<uuid::Uuid> = selection.incidents.iter().map(|i| i.id).collect();
    store.mark_exported(&ids, chrono::Utc::now())?;
    Ok(ExportSummary {
        path: path.to_path_buf(),
        incidents: selection.incidents.len(),
        walks: selection.walks.len(),
        photos: selection.photos.len(),
        bytes,
        drafts_left: selection.drafts_left,
        frozen_left: selection.frozen_left,
    })
}

impl ExportSummary {
    /// The sentence shown after an export (CLI and Réglages).
    pub fn message_fr(&self) -> String {
        let mut text = format!(
            "{} signalement(s), {} balade(s) et {} photo(s) exporté(s) dans {} ({} Ko) : \
             à importer sur le serveur (balade-sync import-device-export, ou console → Importer un export).",
            self.incidents,
            self.walks,
            self.photos,
            self.path.display(),
            self.bytes.div_ceil(1024)
        );
        if self.drafts_left + self.frozen_left > 0 {
            text.push_str(&format!(
                " Restent sur l'appareil : {} brouillon(s), {} refusé(s) par le serveur.",
                self.drafts_left, self.frozen_left
            ));
        }
        text
    }

    /// The same in English (the app's English mode).
    pub fn message_en(&self) -> String {
        let mut text = format!(
            "{} report(s), {} walk(s) and {} photo(s) exported to {} ({} KB): \
             to import on the server (balade-sync import-device-export, or console → Importer un export).",
            self.incidents,
            self.walks,
            self.photos,
            self.path.display(),
            self.bytes.div_ceil(1024)
        );
        if self.drafts_left + self.frozen_left > 0 {
            text.push_str(&format!(
                " Left on the device: {} draft(s), {} refused by the server.",
                self.drafts_left, self.frozen_left
            ));
        }
        text
    }
}

/// Reads through, hashing what passes.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    fn hex_digest(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

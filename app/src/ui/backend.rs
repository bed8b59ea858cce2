//! The UI's one door into the engine and the disk: load a snapshot for the screens, save a
//! capture, keep the draft, settings and followed codes, run a sync, fetch a tracking code.
//! Components never touch files or the network themselves; they call these methods (local
//! ones synchronously — saving is instant and offline — and network ones from the app's
//! action coroutine).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use balade_protocol::envelope::TrackingView;
use balade_protocol::incident::{Incident, Walk};
use balade_protocol::taxonomy::Taxonomy;

use crate::engine::capture::{photos_taken_at, prepare_photos, store_prepared_photos};
use crate::engine::store::LocalState as StoreState;
use crate::engine::store::{DeviceStore, IncidentDetail, StoreError};
use crate::engine::sync_client::{SharedStore, SyncOptions};
use crate::ui::capture_form::{CaptureForm, PhotoPick};
use crate::ui::i18n::Lang;
use crate::ui::model::{FollowedCode, LocalState, QueueRow, Settings, SyncView};

/// What can go wrong in a UI action; the message is French, for the user.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("impossible d'écrire dans {path} : {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Engine(String),
    #[error("{0} : vérifiez le réseau et l'adresse du serveur dans Réglages")]
    Network(String),
    #[error("code de suivi inconnu : vérifiez les 8 caractères")]
    UnknownCode,
    #[error("réponse inattendue du serveur ({0}) : réessayez plus tard")]
    Unexpected(String),
    /// The server answered and said no, in its own (French) words.
    #[error("{0}")]
    Refused(String),
    #[error("appareil non enrôlé : saisissez le code d'enrôlement dans Réglages")]
    NotEnrolled,
}

/// What a network call's failure means for the person in front of the screen: a refusal is
/// the server's answer (never "unreachable"), only transport problems say "check the network".
/// `not_found` says what a 404 means for this call, when it means something particular.
fn client_error(
    e: crate::engine::sync_client::ClientError,
    not_found: Option<BackendError>,
) -> BackendError {
    use crate::engine::sync_client::ClientError;
    use crate::engine::sync_machine::FailureKind;
    match (e, not_found) {
        (ClientError::Request(FailureKind::Refused { status: 404, .. }), Some(meaning)) => meaning,
        (e, _) => client_error_in_general(e),
    }
}

fn client_error_in_general(e: crate::engine::sync_client::ClientError) -> BackendError {
    use crate::engine::sync_client::ClientError;
    use crate::engine::sync_machine::FailureKind;
    match e {
        ClientError::Request(FailureKind::Refused { message, .. }) => {
            BackendError::Refused(message)
        }
        ClientError::Request(FailureKind::Unauthorized) => {
            BackendError::Refused(FailureKind::Unauthorized.message_fr())
        }
        ClientError::Request(kind) => BackendError::Network(kind.message_fr()),
        ClientError::Store(StoreError::NotEnrolled) => BackendError::NotEnrolled,
        ClientError::InvalidCode(_) => BackendError::UnknownCode,
        other => BackendError::Engine(other.to_string()),
    }
}

/// Everything the screens need, read from disk at start and after each action.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub rows: Vec<QueueRow>,
    pub walk: Option<Walk>,
    pub past_walks: Vec<Walk>,
    pub settings: Settings,
    pub followed: Vec<FollowedCode>,
    pub draft: Option<CaptureForm>,
    pub sync: SyncView,
    pub storage_bytes: u64,
}

/// Handle shared by the UI (cheap to clone, `Send + Sync` for the launch context).
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    location: Box<dyn crate::engine::platform::LocationSource>,
    /// Whether the network is Wi-Fi, for "photos only on Wi-Fi".
    connectivity: Box<dyn crate::engine::platform::Connectivity>,
    store: SharedStore,
}

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

const DRAFT_FILE: &str = "ui-draft.json";
/// Ended walks listed on the walk screen (their summaries stay available after a restart).
const PAST_WALKS_SHOWN: usize = 20;
const SETTINGS_FILE: &str = "ui-settings.json";

impl From<StoreError> for BackendError {
    fn from(e: StoreError) -> Self {
        BackendError::Engine(e.to_string())
    }
}

impl Backend {
    /// Opens the device data directory (created if needed) and its store.
    pub fn open(data_dir: PathBuf, server: Option<String>) -> Result<Backend, BackendError> {
        Backend::open_with(
            data_dir,
            server,
            Box::new(crate::engine::platform::DesktopConnectivity),
        )
    }

    /// Same, with the platform's connectivity (mobile builds; tests).
    pub fn open_with(
        data_dir: PathBuf,
        server: Option<String>,
        connectivity: Box<dyn crate::engine::platform::Connectivity>,
    ) -> Result<Backend, BackendError> {
        std::fs::create_dir_all(&data_dir).map_err(|source| BackendError::Write {
            path: data_dir.clone(),
            source,
        })?;
        let store = DeviceStore::open(&data_dir)?;
        if let Some(server) = &server {
            store.set_server_url(server)?;
        }
        Ok(Backend {
            inner: Arc::new(Inner {
                data_dir,
                location: crate::engine::platform::desktop_location(),
                connectivity,
                store: Arc::new(Mutex::new(store)),
            }),
        })
    }

    fn store(&self) -> std::sync::MutexGuard<'_, DeviceStore> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The platform's current position (GPX replay on desktop when configured).
    pub fn current_position(
        &self,
    ) -> Result<
        (
            balade_protocol::incident::Position,
            crate::engine::platform::PositionSourceKind,
        ),
        crate::engine::platform::LocationError,
    > {
        self.inner.location.current()
    }

    /// The taxonomy the device works with (the last one received, else the shipped one).
    pub fn taxonomy(&self) -> Taxonomy {
        self.store().taxonomy().clone()
    }

    /// Reads everything the screens show. A store error becomes the snapshot's sync error
    /// rather than an empty screen with no explanation.
    pub fn snapshot(&self) -> Snapshot {
        let mut settings = read_settings(&self.inner.data_dir.join(SETTINGS_FILE));
        let store = self.store();
        let mut problems = Vec::new();
        let mut note = |e: StoreError| problems.push(e.to_string());
        // The store's address is the one in force: `--server` writes it at start, Réglages
        // changes it afterwards (a start-up override must not undo what the user typed).
        if let Ok(Some(server)) = store.server_url() {
            settings.server = server;
        }
        settings.enrolled = matches!(store.enrollment(), Ok(Some(_)));
        let items = store.list_queue().unwrap_or_else(|e| {
            note(e);
            Vec::new()
        });
        let mut rows = Vec::with_capacity(items.len());
        for item in items {
            match store.incident_detail(item.id) {
                Ok(detail) => rows.push(row_from_detail(detail)),
                Err(e) => note(e),
            }
        }
        let walk = store.current_walk().unwrap_or_else(|e| {
            note(e);
            None
        });
        let followed = store
            .followed_views()
            .unwrap_or_default()
            .into_iter()
            .map(|(code, view)| FollowedCode {
                code,
                view,
                last_error: None,
            })
            .collect();
        let past_walks = store.ended_walks(PAST_WALKS_SHOWN).unwrap_or_else(|e| {
            note(e);
            Vec::new()
        });
        let (last_success, last_error) = store.last_sync().unwrap_or((None, None));
        let storage_bytes = store
            .storage_used()
            .map(|s| s.db_bytes + s.photo_bytes)
            .unwrap_or(0)
            + file_size(&self.inner.data_dir.join(DRAFT_FILE));
        drop(store);
        let last_error = if problems.is_empty() {
            last_error
        } else {
            Some(problems.join(" ; "))
        };
        Snapshot {
            rows,
            walk,
            past_walks,
            settings,
            followed,
            draft: read_json::<CaptureForm>(&self.inner.data_dir.join(DRAFT_FILE)),
            sync: SyncView {
                last_success,
                last_error,
                ..SyncView::default()
            },
            storage_bytes,
        }
    }

    /// Saves a captured incident: photos prepared (resized, metadata stripped) and written,
    /// then the incident queued in one transaction. After this returns it is in the queue.
    pub fn save_incident(
        &self,
        mut incident: Incident,
        photos: &[PhotoPick],
    ) -> Result<(), BackendError> {
        let mut originals = Vec::with_capacity(photos.len());
        for pick in photos {
            originals.push(std::fs::read(&pick.path).map_err(|e| {
                BackendError::Engine(format!("photo {} illisible : {e}", pick.path.display()))
            })?);
        }
        let prepared = prepare_photos(&originals)?;
        if let Some(taken_at) = photos_taken_at(&prepared) {
            incident.observed_at = taken_at;
        }
        let mut store = self.store();
        incident.photos = store_prepared_photos(&mut store, &prepared)?;
        store.queue_incident(&incident)?;
        drop(store);
        self.clear_draft();
        Ok(())
    }

    /// Keeps the half-filled form so it survives the app being killed (temp file + rename).
    pub fn save_draft(&self, form: &CaptureForm) -> Result<(), BackendError> {
        let path = self.inner.data_dir.join(DRAFT_FILE);
        if form.is_empty() {
            self.clear_draft();
            return Ok(());
        }
        write_json_atomic(&path, form)
    }

    pub fn clear_draft(&self) {
        let _ = std::fs::remove_file(self.inner.data_dir.join(DRAFT_FILE));
    }

    /// Starts a walk (ending the open one first, so the agent is never stuck).
    pub fn start_walk(&self, walk: Walk) -> Result<(), BackendError> {
        let mut store = self.store();
        if store.current_walk()?.is_some() {
            store.end_walk(chrono::Utc::now())?;
        }
        store.start_walk(
            &walk.title,
            walk.neighbourhood.as_deref(),
            &walk.participants,
            walk.started_at,
        )?;
        Ok(())
    }

    pub fn end_walk(&self) -> Result<(), BackendError> {
        self.store().end_walk(chrono::Utc::now())?;
        Ok(())
    }

    /// The capture form to redo a report the server refused: its photos are the device's
    /// stored copies.
    pub fn redo_form(&self, incident: &Incident) -> Result<CaptureForm, BackendError> {
        let store = self.store();
        let mut photos = Vec::with_capacity(incident.photos.len());
        for photo in &incident.photos {
            let path = store.photo_path(&photo.sha256);
            photos.push(PhotoPick::from_path(path.clone()).map_err(|e| {
                BackendError::Engine(format!("photo {} illisible : {e}", path.display()))
            })?);
        }
        Ok(CaptureForm::redo_of(incident, photos))
    }

    /// Clears the "unread" mark of an incident the user opened.
    pub fn mark_read(&self, id: uuid::Uuid) {
        if let Err(e) = self.store().mark_read(id) {
            tracing::warn!("mark_read {id}: {e}");
        }
    }

    pub fn save_settings(&self, settings: &Settings) -> Result<(), BackendError> {
        let file = SettingsFile {
            server: settings.server.clone(),
            photos_on_wifi_only: settings.photos_on_wifi_only,
            lang: settings.lang.code().to_string(),
            device_name: settings.device_name.clone(),
            tile_url: Some(settings.tile_url.trim().to_string()),
        };
        if !settings.server.trim().is_empty() {
            self.store().set_server_url(settings.server.trim())?;
        }
        write_json_atomic(&self.inner.data_dir.join(SETTINGS_FILE), &file)
    }

    /// Follows a tracking code; returns it normalised.
    pub fn follow(&self, typed: &str) -> Result<String, BackendError> {
        Ok(self.store().follow(typed, None)?)
    }

    /// Writes the export file (engine::export) under `<data>/exports/`; returns what it holds.
    pub fn export_queue(&self) -> Result<crate::engine::export::ExportSummary, BackendError> {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let dir = self.inner.data_dir.join("exports");
        std::fs::create_dir_all(&dir).map_err(|source| BackendError::Write {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("balade-export-{stamp}.zip"));
        let mut store = self.store();
        crate::engine::export::export_queue(&mut store, &path)
            .map_err(|e| BackendError::Engine(e.to_string()))
    }

    /// Public status of a tracking code (`GET /api/v1/track/{code}`, no auth), kept for the
    /// followed code so it shows offline and after a restart.
    pub async fn track(&self, server: &str, code: &str) -> Result<TrackingView, BackendError> {
        let view = crate::engine::sync_client::track(server, code)
            .await
            .map_err(|e| client_error(e, Some(BackendError::UnknownCode)))?;
        self.store().set_followed_view(&view.tracking_code, &view)?;
        Ok(view)
    }

    /// Stops following a code.
    pub fn unfollow(&self, code: &str) -> Result<(), BackendError> {
        Ok(self.store().unfollow(code)?)
    }

    /// Runs one sync (push, photos, feed) with a few quick retries; the UI's button is the
    /// "sync now". Progress goes to `progress` as it happens. A failure is returned in plain
    /// French; the store also keeps it as the last sync error.
    pub async fn sync_now(
        &self,
        _server: &str,
        progress: impl Fn(SyncView) + Send + 'static,
    ) -> Result<SyncView, BackendError> {
        let mut options = SyncOptions::default();
        options.config.max_retries = Some(2);
        let settings = read_settings(&self.inner.data_dir.join(SETTINGS_FILE));
        let (wifi_only, settings_lang) = (settings.photos_on_wifi_only, settings.lang);
        options.config.hold_photos = !self.inner.connectivity.photos_allowed(wifi_only);
        let mut on_progress = move |p: crate::engine::sync_machine::Progress| {
            progress(SyncView {
                running: true,
                items_done: p.items_done,
                items_total: p.items_total,
                bytes_done: p.bytes_done,
                bytes_total: p.bytes_total,
                ..SyncView::default()
            })
        };
        let report =
            crate::engine::sync_client::run_sync(&self.inner.store, options, &mut on_progress)
                .await
                .map_err(|e| client_error(e, None))?;
        match crate::engine::sync_client::report_error_fr(&report) {
            Some(problem)
                if matches!(
                    report.outcome,
                    crate::engine::sync_machine::Outcome::Failed(_)
                        | crate::engine::sync_machine::Outcome::ReEnrollRequired
                ) =>
            {
                Err(BackendError::Engine(problem))
            }
            // Delivered, but not everything: the explanation (which photos, what to do) stays
            // on screen.
            problem => Ok(SyncView {
                last_success: Some(chrono::Utc::now()),
                last_error: problem.or_else(|| {
                    (report.photos_held > 0).then(|| match settings_lang {
                        Lang::Fr => format!(
                            "{} photo(s) attendent le Wi-Fi (réglage « Photos seulement en Wi-Fi ») : \
                             elles partiront à la prochaine synchronisation en Wi-Fi.",
                            report.photos_held
                        ),
                        Lang::En => format!(
                            "{} photo(s) wait for Wi-Fi (setting “Photos only on Wi-Fi”): they go with \
                             the next sync on Wi-Fi.",
                            report.photos_held
                        ),
                    })
                }),
                ..SyncView::default()
            }),
        }
    }

    /// Exchanges an enrolment code for a device token (kept in the store).
    pub async fn enroll(&self, server: &str, code: &str) -> Result<(), BackendError> {
        let name = read_settings(&self.inner.data_dir.join(SETTINGS_FILE)).device_name;
        crate::engine::sync_client::enroll(&self.inner.store, server, code, &name)
            .await
            .map(|_| ())
            .map_err(|e| {
                client_error(
                    e,
                    Some(BackendError::Refused(
                        "adresse sans serveur Balade : vérifiez l'adresse du serveur".into(),
                    )),
                )
            })
    }
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SettingsFile {
    server: String,
    photos_on_wifi_only: bool,
    lang: String,
    device_name: String,
    /// Absent in files written before the walk map: then `BALADE_TILE_URL` applies.
    #[serde(default)]
    tile_url: Option<String>,
}

fn read_settings(path: &Path) -> Settings {
    let defaults = Settings::default();
    match read_json::<SettingsFile>(path) {
        Some(file) => Settings {
            server: if file.server.is_empty() {
                defaults.server
            } else {
                file.server
            },
            photos_on_wifi_only: file.photos_on_wifi_only,
            lang: Lang::from_code(&file.lang),
            enrolled: false,
            device_name: if file.device_name.is_empty() {
                defaults.device_name
            } else {
                file.device_name
            },
            tile_url: file.tile_url.unwrap_or(defaults.tile_url),
        },
        None => defaults,
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// temp file, fsync, rename: a kill leaves either the old or the new file.
fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), BackendError> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(value).expect("UI state serialises"))?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| BackendError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Where the small preview of a stored photo lives (written at capture).
pub use crate::engine::capture::thumbnail_path;

/// One queue row from the store's detail of an incident.
fn row_from_detail(detail: IncidentDetail) -> QueueRow {
    let item = &detail.item;
    let local_state = match item.local_state {
        StoreState::Draft => LocalState::Draft,
        StoreState::Queued => LocalState::Pending,
        StoreState::Sending => LocalState::Sending,
        StoreState::Acknowledged if item.n_photos_uploaded < item.n_photos => {
            LocalState::Incomplete
        }
        StoreState::Acknowledged => LocalState::Received,
        StoreState::Frozen => LocalState::Refused,
    };
    let photo_paths = detail
        .photos
        .iter()
        .map(|p| {
            let thumb = thumbnail_path(&p.path);
            if thumb.exists() {
                thumb
            } else {
                p.path.clone()
            }
        })
        .collect();
    // The record's own error first (refused by the server), else why a photo is not sent.
    let photo_error = detail
        .photos
        .iter()
        .filter(|p| p.upload_state != crate::engine::store::UploadState::Uploaded)
        .find_map(|p| p.last_error.clone());
    QueueRow {
        local_state,
        reference: item.reference.clone(),
        tracking_code: item.tracking_code.clone(),
        last_error: item.last_error_message.clone().or(photo_error),
        unread: item.unread,
        photo_paths,
        exported_at: item.exported_at,
        timeline: detail.timeline,
        incident: detail.incident,
    }
}

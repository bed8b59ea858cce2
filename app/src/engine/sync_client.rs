//! The sync client: the tokio + reqwest driver of [`SyncMachine`] (the machine decides, this
//! module does the I/O and reports what happened back as events).
//!
//! It pushes in batches, uploads photos with tus 1.0 (creation, resume via `HEAD`, per-chunk
//! `Upload-Checksum: sha256`), pages the feed, refreshes the taxonomy, and reports
//! [`Progress`]. Every store change is one transaction run on a blocking thread (STYLE.md §9):
//! `queued → sending` before a push, `→ acknowledged` / `frozen` / back to `queued` after it,
//! a feed page together with its cursor.
//!
//! **Invariant:** only an exact 2xx whose JSON body carries `protocol` is an answer; a captive
//! portal's 200 HTML page is [`FailureKind::NotEnvelope`] and acknowledges nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::envelope::{
    EnrollRequest, EnrollResponse, FeedPage, PushRequest, PushResponse, TrackingView,
};
use balade_protocol::error::ErrorBody;
use balade_protocol::taxonomy::Taxonomy;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::engine::store::{DeviceStore, Enrollment, StoreError};
use crate::engine::sync_machine::{
    Action, Event, FailureKind, Progress, SyncConfig, SyncMachine, SyncReport, UploadFailure,
};

/// The store shared between the UI/CLI and the sync task.
pub type SharedStore = Arc<Mutex<DeviceStore>>;

/// Default tus chunk size.
pub const DEFAULT_CHUNK_SIZE: usize = 256 * 1024;
/// Events asked per feed page.
pub const FEED_PAGE_LIMIT: u32 = 1000;

/// Why the client could not run at all (failures of requests are data in the [`SyncReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}", .0.message_fr())]
    Request(FailureKind),
    #[error("adresse du serveur invalide : {0}")]
    BadUrl(String),
    #[error("code de suivi invalide : {0} (8 caractères, lettres et chiffres)")]
    InvalidCode(String),
    #[error("tâche interrompue : {0}")]
    Join(String),
}

/// Options of one sync run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub config: SyncConfig,
    /// Seed of the backoff jitter.
    pub seed: u64,
    pub chunk_size: usize,
    /// Notified by the UI's "sync now" button: skips a backoff wait.
    pub sync_now: Option<Arc<Notify>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            config: SyncConfig::default(),
            seed: rand::random(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            sync_now: None,
        }
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("the HTTP client builds")
}

/// Runs a closure on the store on a blocking thread.
async fn with_store<T: Send + 'static>(
    store: &SharedStore,
    f: impl FnOnce(&mut DeviceStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ClientError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| ClientError::Join(e.to_string()))?
    .map_err(ClientError::from)
}

/// Exchanges a one-time enrolment code for a device token and stores it.
pub async fn enroll(
    store: &SharedStore,
    server_url: &str,
    code: &str,
    device_name: &str,
) -> Result<Enrollment, ClientError> {
    let base = normalise_base(server_url)?;
    let request = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        code: code.trim().to_string(),
        device_name: device_name.to_string(),
    };
    let response = http_client()
        .post(format!("{base}/api/v1/enroll"))
        .json(&request)
        .send()
        .await;
    let answer: EnrollResponse = envelope(response).await.map_err(ClientError::Request)?;
    let enrollment = Enrollment {
        server_url: base,
        device_id: answer.device_id,
        token: answer.token,
    };
    let stored = enrollment.clone();
    with_store(store, move |s| s.set_enrollment(&stored)).await?;
    Ok(enrollment)
}

/// Public status of a followed tracking code (citizen mode; no token).
pub async fn track(server_url: &str, code: &str) -> Result<TrackingView, ClientError> {
    let base = normalise_base(server_url)?;
    let code = balade_protocol::tracking::normalize_tracking_code(code)
        .ok_or_else(|| ClientError::InvalidCode(code.to_string()))?;
    let response = http_client()
        .get(format!("{base}/api/v1/track/{code}"))
        .send()
        .await;
    envelope(response).await.map_err(ClientError::Request)
}

fn normalise_base(url: &str) -> Result<String, ClientError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ClientError::BadUrl(url.to_string()));
    }
    Ok(url.to_string())
}

/// Runs one sync: pushes, uploads, feed, taxonomy. `on_progress` is called after each step.
pub async fn run_sync(
    store: &SharedStore,
    options: SyncOptions,
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<SyncReport, ClientError> {
    let enrollment = with_store(store, |s| s.enrollment())
        .await?
        .ok_or(StoreError::NotEnrolled)?;
    let driver = Driver {
        http: http_client(),
        base: normalise_base(&enrollment.server_url)?,
        token: enrollment.token,
        store: store.clone(),
        chunk_size: options.chunk_size.max(1),
    };
    let started = Instant::now();
    let snapshot = with_store(store, |s| s.sync_snapshot()).await?;
    let mut machine = SyncMachine::new(options.config, options.seed);
    let mut actions: VecDeque<Action> = machine
        .handle(Event::Start {
            snapshot,
            now: started.elapsed(),
        })
        .into();
    let mut pushed_sizes = Vec::new();
    while let Some(action) = actions.pop_front() {
        let event = match action {
            Action::PushBatch(ids) => {
                let (event, sizes) = driver.push(ids, started).await?;
                pushed_sizes = sizes;
                Some(event)
            }
            Action::ApplyPush(decisions) => {
                with_store(store, move |s| s.apply_push(&decisions)).await?;
                None
            }
            Action::UploadPhoto { sha256, offset: _ } => {
                let event = driver
                    .upload(&sha256, &mut machine, on_progress, started)
                    .await?;
                Some(event)
            }
            Action::ForgetUpload { sha256, reason } => {
                with_store(store, move |s| s.mark_photo_missing(&sha256, Some(&reason))).await?;
                None
            }
            Action::FetchFeed { since } => Some(driver.feed(since, started).await),
            Action::ApplyFeed(page) => {
                with_store(store, move |s| s.apply_feed_page(&page)).await?;
                None
            }
            Action::FetchTaxonomy => Some(driver.taxonomy(started).await?),
            Action::Wait(duration) => {
                on_progress(machine.progress());
                match &options.sync_now {
                    Some(notify) => tokio::select! {
                        _ = tokio::time::sleep(duration) => Some(Event::Tick { now: started.elapsed() }),
                        _ = notify.notified() => Some(Event::SyncNow { now: started.elapsed() }),
                    },
                    None => {
                        tokio::time::sleep(duration).await;
                        Some(Event::Tick {
                            now: started.elapsed(),
                        })
                    }
                }
            }
            Action::Done(report) => {
                on_progress(machine.progress());
                let error = report_error_fr(&report);
                with_store(store, move |s| {
                    s.set_last_sync(chrono::Utc::now(), error.as_deref())
                })
                .await?;
                return Ok(report);
            }
        };
        if let Some(mut event) = event {
            if let Event::Pushed { photo_sizes, .. } = &mut event {
                *photo_sizes = std::mem::take(&mut pushed_sizes);
            }
            actions.extend(machine.handle(event));
            on_progress(machine.progress());
        }
    }
    Err(ClientError::Join(
        "la synchronisation s'est arrêtée sans conclusion".into(),
    ))
}

/// The French summary of what went wrong in a run, or `None` when it completed.
pub fn report_error_fr(report: &SyncReport) -> Option<String> {
    use crate::engine::sync_machine::Outcome;
    match &report.outcome {
        Outcome::Complete => None,
        Outcome::Failed(kind) => Some(format!(
            "Synchronisation interrompue : {}.",
            kind.message_fr()
        )),
        Outcome::ReEnrollRequired => Some(format!(
            "Synchronisation impossible : {}.",
            FailureKind::Unauthorized.message_fr()
        )),
        Outcome::Incomplete => {
            let mut parts = Vec::new();
            if !report.frozen.is_empty() {
                parts.push(format!(
                    "{} signalement(s) refusé(s) par le serveur",
                    report.frozen.len()
                ));
            }
            if !report.photo_problems.is_empty() {
                parts.push(format!(
                    "{} photo(s) n'ont pas pu être envoyées",
                    report.photo_problems.len()
                ));
            }
            Some(format!(
                "Synchronisation incomplète : {}.",
                parts.join(", ")
            ))
        }
    }
}

struct Driver {
    http: reqwest::Client,
    base: String,
    token: String,
    store: SharedStore,
    chunk_size: usize,
}

impl Driver {
    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&self.token)
    }

    async fn push(
        &self,
        ids: Vec<uuid::Uuid>,
        started: Instant,
    ) -> Result<(Event, Vec<(String, u64)>), ClientError> {
        let (incidents, walks) = with_store(&self.store, move |s| s.claim_for_push(&ids)).await?;
        let sizes = incidents
            .iter()
            .flat_map(|i| i.photos.iter().map(|p| (p.sha256.clone(), p.size)))
            .collect();
        let request = PushRequest::new(walks, incidents);
        let response = self
            .auth(self.http.post(format!("{}/api/v1/push", self.base)))
            .json(&request)
            .send()
            .await;
        let now = started.elapsed();
        let event = match envelope::<PushResponse>(response).await {
            Ok(answer) => {
                // The server upserted the walks in the same transaction as the incidents.
                let walks = request.walks;
                with_store(&self.store, move |s| s.mark_walks_pushed(&walks)).await?;
                Event::Pushed {
                    results: answer.results,
                    photo_sizes: Vec::new(),
                    now,
                }
            }
            Err(kind) => Event::PushFailed { kind, now },
        };
        Ok((event, sizes))
    }

    async fn feed(&self, since: i64, started: Instant) -> Event {
        let url = format!(
            "{}/api/v1/feed?since={since}&limit={FEED_PAGE_LIMIT}",
            self.base
        );
        let response = self.auth(self.http.get(url)).send().await;
        let now = started.elapsed();
        match envelope::<FeedPage>(response).await {
            Ok(page) => Event::FeedPage { page, now },
            Err(kind) => Event::FeedFailed { kind, now },
        }
    }

    async fn taxonomy(&self, started: Instant) -> Result<Event, ClientError> {
        let response = self
            .auth(self.http.get(format!("{}/api/v1/taxonomy", self.base)))
            .send()
            .await;
        let body = match read_json(response).await {
            Ok(value) => value,
            Err(kind) => {
                return Ok(Event::TaxonomyFailed {
                    kind,
                    now: started.elapsed(),
                });
            }
        };
        let Ok(taxonomy) = Taxonomy::from_json(&body.to_string()) else {
            return Ok(Event::TaxonomyFailed {
                kind: FailureKind::NotEnvelope,
                now: started.elapsed(),
            });
        };
        let version = taxonomy.version.clone();
        with_store(&self.store, move |s| s.set_taxonomy(taxonomy)).await?;
        Ok(Event::TaxonomyFetched {
            version,
            now: started.elapsed(),
        })
    }

    /// Uploads (or resumes) one photo with tus; returns `UploadDone` or `UploadFailed`.
    async fn upload(
        &self,
        sha256: &str,
        machine: &mut SyncMachine,
        on_progress: &mut (dyn FnMut(Progress) + Send),
        started: Instant,
    ) -> Result<Event, ClientError> {
        let sha = sha256.to_string();
        let failed = |failure| Event::UploadFailed {
            sha256: sha.clone(),
            failure,
            now: started.elapsed(),
        };
        let key = sha.clone();
        let Some(row) = with_store(&self.store, move |s| s.photo_for_upload(&key)).await? else {
            return Ok(failed(UploadFailure::LocalFileDamaged(
                "photo inconnue de l'appareil".into(),
            )));
        };
        let path = row.path.clone();
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) if bytes.len() as u64 == row.size => bytes,
            Ok(bytes) => {
                return Ok(failed(UploadFailure::LocalFileDamaged(format!(
                    "le fichier photo de l'appareil est tronqué ({} octets au lieu de {})",
                    bytes.len(),
                    row.size
                ))));
            }
            Err(e) => {
                return Ok(failed(UploadFailure::LocalFileDamaged(format!(
                    "le fichier photo est illisible sur l'appareil : {e}"
                ))));
            }
        };
        let size = row.size;
        // Resume: ask the server where it stands.
        let mut upload = None;
        if let Some(url) = row.upload_url.clone() {
            match self.head(&url).await {
                // A resumed upload whose bytes are all there proves nothing about the photo (the
                // server may have been cut before verifying it): ask again through creation,
                // which answers "complete" only for a photo the server holds.
                Ok(Some(offset)) if offset < size => upload = Some((url, offset)),
                Ok(_) => {}
                Err(kind) => return Ok(failed(UploadFailure::Request(kind))),
            }
        }
        let (url, mut offset) = match upload {
            Some(found) => found,
            None => match self.create(&sha, size, &row.mime).await {
                Ok(created) => created,
                Err(kind) => return Ok(failed(UploadFailure::Request(kind))),
            },
        };
        self.save_progress(&sha, &url, offset).await?;
        machine.handle(Event::UploadProgress {
            sha256: sha.clone(),
            offset,
        });
        on_progress(machine.progress());
        while offset < size {
            let end = (offset as usize + self.chunk_size).min(bytes.len());
            let chunk = bytes[offset as usize..end].to_vec();
            let digest = BASE64.encode(Sha256::digest(&chunk));
            let response = self
                .auth(self.http.patch(self.absolute(&url)))
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header(CONTENT_TYPE, "application/offset+octet-stream")
                .header("Upload-Checksum", format!("sha256 {digest}"))
                .body(chunk)
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => return Ok(failed(UploadFailure::Request(request_failure(&e)))),
            };
            match response.status().as_u16() {
                204 | 200 => match header_u64(response.headers(), "Upload-Offset") {
                    Some(new_offset) if new_offset > offset => offset = new_offset,
                    _ => return Ok(failed(UploadFailure::Request(FailureKind::NotEnvelope))),
                },
                460 => return Ok(failed(UploadFailure::ChecksumMismatch)),
                404 | 410 => return Ok(failed(UploadFailure::UploadGone)),
                409 => match self.head(&url).await {
                    Ok(Some(server_offset)) => offset = server_offset,
                    Ok(None) => return Ok(failed(UploadFailure::UploadGone)),
                    Err(kind) => return Ok(failed(UploadFailure::Request(kind))),
                },
                _ => {
                    return Ok(failed(UploadFailure::Request(
                        status_failure(response).await,
                    )));
                }
            }
            self.save_progress(&sha, &url, offset).await?;
            machine.handle(Event::UploadProgress {
                sha256: sha.clone(),
                offset,
            });
            on_progress(machine.progress());
        }
        let key = sha.clone();
        with_store(&self.store, move |s| s.mark_photo_uploaded(&key)).await?;
        Ok(Event::UploadDone {
            sha256: sha,
            now: started.elapsed(),
        })
    }

    async fn save_progress(&self, sha: &str, url: &str, offset: u64) -> Result<(), ClientError> {
        let (sha, url) = (sha.to_string(), url.to_string());
        with_store(&self.store, move |s| {
            s.set_upload_progress(&sha, Some(&url), offset)
        })
        .await
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{}", self.base, location)
        }
    }

    /// `POST` creation; returns (upload URL, offset the server already has).
    async fn create(&self, sha: &str, size: u64, mime: &str) -> Result<(String, u64), FailureKind> {
        let metadata = format!("sha256 {},mime {}", BASE64.encode(sha), BASE64.encode(mime));
        let response = self
            .auth(self.http.post(format!("{}/api/v1/uploads", self.base)))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", size.to_string())
            .header("Upload-Metadata", metadata)
            .send()
            .await
            .map_err(|e| request_failure(&e))?;
        if response.status().as_u16() != 201 {
            return Err(status_failure(response).await);
        }
        let location = response
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .ok_or(FailureKind::NotEnvelope)?
            .to_string();
        let offset = header_u64(response.headers(), "Upload-Offset").unwrap_or(0);
        Ok((location, offset))
    }

    /// `HEAD`: the offset the server holds, or `None` when the upload is unknown there.
    async fn head(&self, url: &str) -> Result<Option<u64>, FailureKind> {
        let response = self
            .auth(self.http.head(self.absolute(url)))
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .map_err(|e| request_failure(&e))?;
        match response.status().as_u16() {
            200 | 204 => header_u64(response.headers(), "Upload-Offset")
                .map(Some)
                .ok_or(FailureKind::NotEnvelope),
            404 | 410 => Ok(None),
            401 => Err(FailureKind::Unauthorized),
            status if status >= 500 => Err(FailureKind::Server(status)),
            _ => Ok(None),
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn request_failure(error: &reqwest::Error) -> FailureKind {
    if error.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Network
    }
}

/// Classifies a non-success status.
async fn status_failure(response: reqwest::Response) -> FailureKind {
    let status = response.status().as_u16();
    if status == 401 {
        return FailureKind::Unauthorized;
    }
    if status >= 500 {
        return FailureKind::Server(status);
    }
    // A 4xx is the server's only if it carries the protocol's error body; a portal's 4xx page
    // (407, 511…) is not.
    match response.json::<ErrorBody>().await {
        Ok(body) => FailureKind::Refused {
            status,
            code: body.error.code.as_str().to_string(),
            message: body.error.message,
        },
        Err(_) => FailureKind::NotEnvelope,
    }
}

/// Reads a 2xx JSON body, or classifies the failure.
async fn read_json(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<serde_json::Value, FailureKind> {
    let response = response.map_err(|e| request_failure(&e))?;
    if !response.status().is_success() {
        return Err(status_failure(response).await);
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(FailureKind::NotEnvelope);
    }
    let bytes = response.bytes().await.map_err(|e| request_failure(&e))?;
    serde_json::from_slice(&bytes).map_err(|_| FailureKind::NotEnvelope)
}

/// Reads a protocol envelope: 2xx, JSON, `protocol` equal to ours, then the typed body.
async fn envelope<T: DeserializeOwned>(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, FailureKind> {
    let value = read_json(response).await?;
    if value.get("protocol").and_then(|p| p.as_u64()) != Some(PROTOCOL_VERSION as u64) {
        return Err(FailureKind::NotEnvelope);
    }
    serde_json::from_value(value).map_err(|_| FailureKind::NotEnvelope)
}

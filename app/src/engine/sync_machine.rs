//! The sync state machine: every decision of a sync run, and no I/O (STYLE.md §2).
//!
//! The driver (`sync_client`) feeds it [`Event`]s — what the store holds at the start, what the
//! server answered, what failed, the time — and executes the [`Action`]s it returns, in order.
//! Because it only computes, each fault case (captive portal, lost ack, conflict, corrupted
//! photo, feed replay, clock jumps, backoff) is a table-driven test that runs in microseconds.
//!
//! Order of a run: push the pending records in batches (≤ [`MAX_PUSH_BATCH`]), upload the photos
//! the server says it lacks, read the feed to its end, refresh the taxonomy if its version
//! changed, then [`Action::Done`] with a [`SyncReport`].
//!
//! **Invariants.** A record is acknowledged only from a parsed envelope listing its id
//! ([`Event::Pushed`]); anything else requeues it. Retries back off exponentially with full
//! jitter (base 2 s, cap 15 min) from an injected seed; [`Event::SyncNow`] skips the wait.
//! Time only comes in through events, and a clock that jumps (either way) never makes a wait
//! longer than the one decided.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use balade_protocol::envelope::{FeedPage, MAX_PUSH_BATCH, PushItemResult, PushOutcome};
use uuid::Uuid;

use crate::engine::store::{PhotoTask, RecordDecision, SyncSnapshot};

/// Backoff base (first retry waits up to this).
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Longest wait between two attempts.
pub const BACKOFF_CAP: Duration = Duration::from_secs(15 * 60);
/// Attempts at uploading one photo in one run after its checksum was refused.
pub const MAX_CHECKSUM_ATTEMPTS: u32 = 2;

/// Why a request failed, as the driver classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// Connection refused/reset, DNS, TLS: retry.
    Network,
    Timeout,
    /// 5xx: retry.
    Server(u16),
    /// A 2xx that is not the protocol's envelope (captive portal HTML, JSON without
    /// `protocol`): retry, never an acknowledgement.
    NotEnvelope,
    /// 401: the token is unknown; stop and ask the user to re-enrol.
    Unauthorized,
    /// Another 4xx with the server's error code and French message: retrying will not help.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

impl FailureKind {
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            FailureKind::Network
                | FailureKind::Timeout
                | FailureKind::Server(_)
                | FailureKind::NotEnvelope
        )
    }

    /// Plain French for the user.
    pub fn message_fr(&self) -> String {
        match self {
            FailureKind::Network => "serveur injoignable (pas de réseau ou serveur arrêté)".into(),
            FailureKind::Timeout => "le serveur ne répond pas (délai dépassé)".into(),
            FailureKind::Server(status) => format!("erreur du serveur (HTTP {status})"),
            FailureKind::NotEnvelope => {
                "le réseau a répondu à la place du serveur Balade (portail captif ? connectez-vous au Wi-Fi)".into()
            }
            FailureKind::Unauthorized => {
                "cet appareil n'est plus reconnu par le serveur : enrôlez-le à nouveau".into()
            }
            FailureKind::Refused { message, code, .. } => format!("refusé par le serveur : {message} ({code})"),
        }
    }
}

/// Why one photo upload failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadFailure {
    /// The request failed (retry rules of [`FailureKind`]).
    Request(FailureKind),
    /// 460: the server's whole-file SHA-256 did not match; the partial upload is gone.
    ChecksumMismatch,
    /// The upload id is unknown to the server (404/410): start a new upload from 0.
    UploadGone,
    /// The local file is missing or not the recorded size: cannot be sent at all.
    LocalFileDamaged(String),
}

/// What happens to the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A run starts from what the store holds.
    Start {
        snapshot: SyncSnapshot,
        now: Duration,
    },
    /// The user asked to sync now: skip any wait.
    SyncNow {
        now: Duration,
    },
    /// The push of the current batch got a valid envelope. `photo_sizes` gives the size of
    /// each photo the pushed records reference (from their bodies), for byte progress.
    Pushed {
        results: Vec<PushItemResult>,
        photo_sizes: Vec<(String, u64)>,
        now: Duration,
    },
    PushFailed {
        kind: FailureKind,
        now: Duration,
    },
    /// Bytes confirmed by the server for the current photo.
    UploadProgress {
        sha256: String,
        offset: u64,
    },
    UploadDone {
        sha256: String,
        now: Duration,
    },
    UploadFailed {
        sha256: String,
        failure: UploadFailure,
        now: Duration,
    },
    FeedPage {
        page: FeedPage,
        now: Duration,
    },
    FeedFailed {
        kind: FailureKind,
        now: Duration,
    },
    TaxonomyFetched {
        version: String,
        now: Duration,
    },
    TaxonomyFailed {
        kind: FailureKind,
        now: Duration,
    },
    /// Time passes (monotonic, from any origin; may jump).
    Tick {
        now: Duration,
    },
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Mark these `sending` and push them (one request).
    PushBatch(Vec<Uuid>),
    /// Apply these record decisions to the store, in one transaction.
    ApplyPush(Vec<RecordDecision>),
    /// Upload (or resume) this photo; `offset` is the last offset the store knows.
    UploadPhoto {
        sha256: String,
        offset: u64,
    },
    /// The server lacks the photo again: forget the upload URL and offset; record why (French).
    ForgetUpload {
        sha256: String,
        reason: String,
    },
    /// Read the feed after this cursor.
    FetchFeed {
        since: i64,
    },
    /// Apply this page and its cursor to the store, in one transaction.
    ApplyFeed(FeedPage),
    FetchTaxonomy,
    /// Sleep this long, then send `Tick` (or `SyncNow`).
    Wait(Duration),
    Done(SyncReport),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything acknowledged, every photo uploaded, feed drained.
    Complete,
    /// The server has every record, but some records are frozen or photos could not be sent.
    Incomplete,
    /// Stopped on a failure after the allowed retries.
    Failed(FailureKind),
    /// 401: the device must be enrolled again.
    ReEnrollRequired,
}

/// Counts and problems of one run, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub outcome: Outcome,
    pub n_acknowledged: usize,
    pub n_frozen: usize,
    pub n_photos_uploaded: usize,
    pub n_feed_events: usize,
    /// (hash, French reason) of photos that could not be sent in this run.
    pub photo_problems: Vec<(String, String)>,
    /// (id, code, French message) of records the server refused in this run.
    pub frozen: Vec<(Uuid, String, String)>,
    /// Photos left for a later run because the config holds photos (Wi-Fi only).
    pub photos_held: usize,
}

/// Items and bytes, done and total, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub items_done: u64,
    pub items_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Tuning of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Consecutive failures after which the run stops (`None`: retry forever, as the app does).
    pub max_retries: Option<u32>,
    pub batch_size: usize,
    /// Photos wait for another run ("photos only on Wi-Fi" while the platform says cellular):
    /// records and the feed still go.
    pub hold_photos: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            backoff_base: BACKOFF_BASE,
            backoff_cap: BACKOFF_CAP,
            max_retries: None,
            batch_size: MAX_PUSH_BATCH,
            hold_photos: false,
        }
    }
}

/// The step being worked on, re-issued after a wait.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Push(Vec<Uuid>),
    Upload(PhotoTask),
    Feed(i64),
    Taxonomy,
    Finished,
}

/// The machine. Create with [`SyncMachine::new`], then feed [`Event::Start`].
#[derive(Debug, Clone)]
pub struct SyncMachine {
    config: SyncConfig,
    rng_state: u64,
    pending: VecDeque<Uuid>,
    photos: VecDeque<PhotoTask>,
    queued_photos: BTreeSet<String>,
    checksum_failures: HashMap<String, u32>,
    feed_cursor: i64,
    taxonomy_version: String,
    server_taxonomy_version: Option<String>,
    step: Step,
    /// Walks changed without a queued incident: one push (with no incident) carries them.
    push_walks: bool,
    /// Consecutive failures of the current step.
    n_failures: u32,
    /// When waiting: (wake time, the wait decided).
    waiting: Option<(Duration, Duration)>,
    report: SyncReport,
    progress: Progress,
}

impl SyncMachine {
    /// `seed` drives the backoff jitter (tests pass a constant; the app passes OS randomness).
    pub fn new(config: SyncConfig, seed: u64) -> SyncMachine {
        SyncMachine {
            config,
            rng_state: seed,
            pending: VecDeque::new(),
            photos: VecDeque::new(),
            queued_photos: BTreeSet::new(),
            checksum_failures: HashMap::new(),
            feed_cursor: 0,
            taxonomy_version: String::new(),
            server_taxonomy_version: None,
            step: Step::Finished,
            push_walks: false,
            n_failures: 0,
            waiting: None,
            report: SyncReport {
                outcome: Outcome::Complete,
                n_acknowledged: 0,
                n_frozen: 0,
                n_photos_uploaded: 0,
                n_feed_events: 0,
                photo_problems: Vec::new(),
                frozen: Vec::new(),
                photos_held: 0,
            },
            progress: Progress::default(),
        }
    }

    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// True once `Done` was returned.
    pub fn is_finished(&self) -> bool {
        self.step == Step::Finished && self.waiting.is_none()
    }

    /// Feeds one event; returns the actions to execute in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Start { snapshot, now: _ } => {
                self.pending = snapshot.pending_ids.into_iter().collect();
                self.progress.items_total = self.pending.len() as u64;
                for task in snapshot.photos_to_upload {
                    self.enqueue_photo(task);
                }
                self.feed_cursor = snapshot.feed_cursor;
                self.taxonomy_version = snapshot.taxonomy_version;
                self.push_walks = snapshot.has_dirty_walks;
                self.next_step()
            }
            Event::SyncNow { .. } => match self.waiting.take() {
                Some(_) => self.reissue(),
                None => Vec::new(),
            },
            Event::Tick { now } => self.tick(now),
            Event::Pushed {
                results,
                photo_sizes,
                ..
            } => self.pushed(results, photo_sizes),
            Event::PushFailed { kind, now } => {
                let Step::Push(batch) = &self.step else {
                    return Vec::new();
                };
                let requeue = batch
                    .iter()
                    .map(|id| RecordDecision::Requeue { id: *id })
                    .collect();
                let mut actions = vec![Action::ApplyPush(requeue)];
                actions.extend(self.failed(kind, now));
                actions
            }
            Event::UploadProgress { sha256, offset } => {
                if let Step::Upload(task) = &mut self.step
                    && task.sha256 == sha256
                    && offset > task.offset
                {
                    self.progress.bytes_done += offset - task.offset;
                    task.offset = offset;
                }
                Vec::new()
            }
            Event::UploadDone { sha256, .. } => {
                let Step::Upload(task) = &self.step else {
                    return Vec::new();
                };
                if task.sha256 != sha256 {
                    return Vec::new();
                }
                self.progress.bytes_done += task.size.saturating_sub(task.offset);
                self.report.n_photos_uploaded += 1;
                self.n_failures = 0;
                self.next_step()
            }
            Event::UploadFailed {
                sha256,
                failure,
                now,
            } => self.upload_failed(sha256, failure, now),
            Event::FeedPage { page, .. } => self.feed_page(page),
            Event::FeedFailed { kind, now } | Event::TaxonomyFailed { kind, now } => {
                self.failed(kind, now)
            }
            Event::TaxonomyFetched { version, .. } => {
                self.taxonomy_version = version;
                self.n_failures = 0;
                self.finish()
            }
        }
    }

    fn enqueue_photo(&mut self, task: PhotoTask) {
        if self.config.hold_photos {
            if self.queued_photos.insert(task.sha256) {
                self.report.photos_held += 1;
            }
            return;
        }
        if self.queued_photos.insert(task.sha256.clone()) {
            self.progress.bytes_total += task.size;
            self.progress.bytes_done += task.offset.min(task.size);
            self.photos.push_back(task);
        }
    }

    /// Pushes first, then photos, then the feed.
    fn next_step(&mut self) -> Vec<Action> {
        self.waiting = None;
        if self.pending.is_empty() && std::mem::take(&mut self.push_walks) {
            self.step = Step::Push(Vec::new());
            return vec![Action::PushBatch(Vec::new())];
        }
        if !self.pending.is_empty() {
            self.push_walks = false;
            let n = self
                .pending
                .len()
                .min(self.config.batch_size.clamp(1, MAX_PUSH_BATCH));
            let batch: Vec<Uuid> = self.pending.drain(..n).collect();
            self.step = Step::Push(batch.clone());
            return vec![Action::PushBatch(batch)];
        }
        if let Some(task) = self.photos.pop_front() {
            let action = Action::UploadPhoto {
                sha256: task.sha256.clone(),
                offset: task.offset,
            };
            self.step = Step::Upload(task);
            return vec![action];
        }
        self.step = Step::Feed(self.feed_cursor);
        vec![Action::FetchFeed {
            since: self.feed_cursor,
        }]
    }

    /// Re-issues the current step after a wait.
    fn reissue(&mut self) -> Vec<Action> {
        self.waiting = None;
        match &self.step {
            Step::Push(batch) => vec![Action::PushBatch(batch.clone())],
            Step::Upload(task) => vec![Action::UploadPhoto {
                sha256: task.sha256.clone(),
                offset: task.offset,
            }],
            Step::Feed(since) => vec![Action::FetchFeed { since: *since }],
            Step::Taxonomy => vec![Action::FetchTaxonomy],
            Step::Finished => Vec::new(),
        }
    }

    fn tick(&mut self, now: Duration) -> Vec<Action> {
        let Some((wake_at, decided)) = self.waiting else {
            return Vec::new();
        };
        if now >= wake_at {
            return self.reissue();
        }
        // A clock that jumped backwards never stretches the wait beyond what was decided.
        let remaining = (wake_at - now).min(decided);
        self.waiting = Some((now + remaining, remaining));
        vec![Action::Wait(remaining)]
    }

    fn pushed(
        &mut self,
        results: Vec<PushItemResult>,
        photo_sizes: Vec<(String, u64)>,
    ) -> Vec<Action> {
        let Step::Push(batch) = &self.step else {
            return Vec::new();
        };
        let batch = batch.clone();
        let by_id: HashMap<Uuid, &PushItemResult> = results.iter().map(|r| (r.id, r)).collect();
        let mut decisions = Vec::with_capacity(batch.len());
        let mut missing = Vec::new();
        for id in &batch {
            let decision = match by_id.get(id) {
                // An envelope that does not list a record is not its acknowledgement.
                None => RecordDecision::Requeue { id: *id },
                Some(result) => match result.outcome {
                    PushOutcome::Created | PushOutcome::AlreadyStored => {
                        self.report.n_acknowledged += 1;
                        self.progress.items_done += 1;
                        missing.extend(result.missing_photos.iter().cloned());
                        RecordDecision::Acknowledge {
                            id: *id,
                            reference: result.reference.clone(),
                            tracking_code: result.tracking_code.clone(),
                            missing_photos: result.missing_photos.clone(),
                        }
                    }
                    PushOutcome::Conflict | PushOutcome::Rejected => {
                        let (code, message) = match &result.error {
                            Some(e) => (e.code.as_str().to_string(), e.message.clone()),
                            None if result.outcome == PushOutcome::Conflict => (
                                "id_conflict".to_string(),
                                "un autre contenu existe déjà sous cet identifiant".to_string(),
                            ),
                            None => ("rejected".to_string(), "refusé par le serveur".to_string()),
                        };
                        self.report.n_frozen += 1;
                        self.progress.items_done += 1;
                        self.report
                            .frozen
                            .push((*id, code.clone(), message.clone()));
                        RecordDecision::Freeze {
                            id: *id,
                            code,
                            message,
                        }
                    }
                },
            };
            decisions.push(decision);
        }
        // Records the envelope did not cover go back to the front of the queue.
        let unlisted: Vec<Uuid> = decisions
            .iter()
            .filter_map(|d| match d {
                RecordDecision::Requeue { id } => Some(*id),
                _ => None,
            })
            .collect();
        let sizes: HashMap<String, u64> = photo_sizes.into_iter().collect();
        for sha256 in missing {
            let size = sizes.get(&sha256).copied().unwrap_or(0);
            self.enqueue_photo(PhotoTask {
                sha256,
                size,
                offset: 0,
            });
        }
        let mut actions = vec![Action::ApplyPush(decisions)];
        if !unlisted.is_empty() {
            for id in unlisted.into_iter().rev() {
                self.pending.push_front(id);
            }
            actions.extend(self.failed(FailureKind::NotEnvelope, Duration::ZERO));
            return actions;
        }
        self.n_failures = 0;
        actions.extend(self.next_step());
        actions
    }

    fn upload_failed(
        &mut self,
        sha256: String,
        failure: UploadFailure,
        now: Duration,
    ) -> Vec<Action> {
        let Step::Upload(task) = &mut self.step else {
            return Vec::new();
        };
        if task.sha256 != sha256 {
            return Vec::new();
        }
        match failure {
            // A 4xx on a photo is that photo's problem, not the run's: say it in the server's
            // words and go on, so one bad photo never holds back the others or the feed.
            UploadFailure::Request(FailureKind::Refused { message, .. }) => {
                self.progress.bytes_done -= task.offset.min(self.progress.bytes_done);
                self.photo_refused(sha256, &message)
            }
            UploadFailure::Request(kind) => self.failed(kind, now),
            UploadFailure::UploadGone => {
                self.progress.bytes_done -= task.offset.min(self.progress.bytes_done);
                task.offset = 0;
                let reason = "envoi interrompu côté serveur : reprise depuis le début".to_string();
                let mut actions = vec![Action::ForgetUpload {
                    sha256: sha256.clone(),
                    reason,
                }];
                actions.extend(self.failed(FailureKind::Network, now));
                actions
            }
            UploadFailure::ChecksumMismatch => {
                let n = self.checksum_failures.entry(sha256.clone()).or_insert(0);
                *n += 1;
                let give_up = *n >= MAX_CHECKSUM_ATTEMPTS;
                self.progress.bytes_done -= task.offset.min(self.progress.bytes_done);
                task.offset = 0;
                if give_up {
                    return self.photo_refused(sha256, "fichier endommagé");
                }
                let reason = "la photo reçue par le serveur ne correspond pas à l'original : \
                              nouvel envoi depuis le début"
                    .to_string();
                vec![
                    Action::ForgetUpload {
                        sha256: sha256.clone(),
                        reason,
                    },
                    Action::UploadPhoto { sha256, offset: 0 },
                ]
            }
            UploadFailure::LocalFileDamaged(reason) => {
                let reason = format!("{reason}. Reprenez la photo dans un nouveau signalement.");
                self.report.photo_problems.push((sha256, reason));
                self.next_step()
            }
        }
    }

    /// The server will not take this photo: forget its upload, report it with what to do,
    /// and move on. The incident is already on the server (without this photo, flagged
    /// incomplete there); a new photo goes with a new report, which the operator can merge.
    fn photo_refused(&mut self, sha256: String, why: &str) -> Vec<Action> {
        let reason = format!(
            "Le serveur a refusé cette photo : {why}. Reprenez la photo dans un nouveau signalement."
        );
        self.report
            .photo_problems
            .push((sha256.clone(), reason.clone()));
        let mut actions = vec![Action::ForgetUpload { sha256, reason }];
        actions.extend(self.next_step());
        actions
    }

    fn feed_page(&mut self, page: FeedPage) -> Vec<Action> {
        let Step::Feed(since) = self.step else {
            return Vec::new();
        };
        self.n_failures = 0;
        self.server_taxonomy_version = Some(page.taxonomy_version.clone());
        self.report.n_feed_events += page.events.iter().filter(|e| e.seq > since).count();
        let advanced = page.next_cursor > since;
        let has_more = page.has_more;
        if advanced {
            self.feed_cursor = page.next_cursor;
        }
        let mut actions = vec![Action::ApplyFeed(page)];
        if has_more && advanced {
            self.step = Step::Feed(self.feed_cursor);
            actions.push(Action::FetchFeed {
                since: self.feed_cursor,
            });
            return actions;
        }
        // Drained (or a server that claims more without advancing: stop paging, no loop).
        if self
            .server_taxonomy_version
            .as_ref()
            .is_some_and(|v| !v.is_empty() && *v != self.taxonomy_version)
        {
            self.step = Step::Taxonomy;
            actions.push(Action::FetchTaxonomy);
            return actions;
        }
        actions.extend(self.finish());
        actions
    }

    fn failed(&mut self, kind: FailureKind, now: Duration) -> Vec<Action> {
        if kind == FailureKind::Unauthorized {
            return self.stop(Outcome::ReEnrollRequired);
        }
        if !kind.is_retryable() {
            return self.stop(Outcome::Failed(kind));
        }
        if self
            .config
            .max_retries
            .is_some_and(|max| self.n_failures >= max)
        {
            return self.stop(Outcome::Failed(kind));
        }
        let delay = self.backoff_delay(self.n_failures);
        self.n_failures += 1;
        self.waiting = Some((now + delay, delay));
        vec![Action::Wait(delay)]
    }

    /// Full jitter: uniform in [0, min(cap, base × 2^attempt)].
    pub fn backoff_delay(&mut self, attempt: u32) -> Duration {
        let ceiling = self
            .config
            .backoff_base
            .saturating_mul(2u32.saturating_pow(attempt.min(31)))
            .min(self.config.backoff_cap);
        let millis = ceiling.as_millis() as u64;
        Duration::from_millis(self.next_random() % (millis + 1))
    }

    /// splitmix64: small, good enough for jitter, deterministic from the seed.
    fn next_random(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn finish(&mut self) -> Vec<Action> {
        let outcome = if self.report.photo_problems.is_empty() && self.report.frozen.is_empty() {
            Outcome::Complete
        } else {
            Outcome::Incomplete
        };
        self.stop(outcome)
    }

    fn stop(&mut self, outcome: Outcome) -> Vec<Action> {
        self.step = Step::Finished;
        self.waiting = None;
        self.report.outcome = outcome;
        vec![Action::Done(self.report.clone())]
    }
}

#[cfg(test)]
mod tests;

//! Data-driven tests: each fault case is a table of (event, expected actions), checked by one
//! function. Actions are compared through a short text summary so the tables stay readable.

use super::*;
use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::error::{ErrorCode, ErrorDetail};
use balade_protocol::status::{EventKind, State, StatusEvent};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

fn id(n: u8) -> Uuid {
    Uuid::from_u128(n as u128)
}

fn name(id: &Uuid) -> char {
    (b'a' + id.as_u128() as u8 - 1) as char
}

fn summary(action: &Action) -> String {
    match action {
        Action::PushBatch(ids) => format!("push {}", ids.iter().map(name).collect::<String>()),
        Action::ApplyPush(decisions) => {
            let parts: Vec<String> = decisions
                .iter()
                .map(|d| match d {
                    RecordDecision::Acknowledge {
                        id, missing_photos, ..
                    } => {
                        format!(
                            "ack:{}{}",
                            name(id),
                            if missing_photos.is_empty() {
                                ""
                            } else {
                                "+missing"
                            }
                        )
                    }
                    RecordDecision::Freeze { id, code, .. } => {
                        format!("frozen:{}({code})", name(id))
                    }
                    RecordDecision::Requeue { id } => format!("requeue:{}", name(id)),
                })
                .collect();
            format!("apply {}", parts.join(" "))
        }
        Action::UploadPhoto { sha256, offset } => format!("upload {sha256}@{offset}"),
        Action::ForgetUpload { sha256, .. } => format!("forget {sha256}"),
        Action::FetchFeed { since } => format!("feed {since}"),
        Action::ApplyFeed(page) => format!("applyfeed {}", page.next_cursor),
        Action::FetchTaxonomy => "taxonomy".into(),
        Action::Wait(_) => "wait".into(),
        Action::Done(report) => format!(
            "done {}",
            match &report.outcome {
                Outcome::Complete => "complete".to_string(),
                Outcome::Incomplete => "incomplete".to_string(),
                Outcome::Failed(kind) => format!("failed {kind:?}"),
                Outcome::ReEnrollRequired => "reenroll".to_string(),
            }
        ),
    }
}

fn snapshot(pending: &[u8], photos: &[(&str, u64)], cursor: i64) -> SyncSnapshot {
    SyncSnapshot {
        pending_ids: pending.iter().map(|n| id(*n)).collect(),
        photos_to_upload: photos
            .iter()
            .map(|(sha, offset)| PhotoTask {
                sha256: sha.to_string(),
                size: 1000,
                offset: *offset,
            })
            .collect(),
        feed_cursor: cursor,
        taxonomy_version: "v1".into(),
        has_dirty_walks: false,
    }
}

fn start(pending: &[u8], photos: &[(&str, u64)], cursor: i64) -> Event {
    Event::Start {
        snapshot: snapshot(pending, photos, cursor),
        now: Duration::ZERO,
    }
}

fn result(n: u8, outcome: PushOutcome, missing: &[&str]) -> PushItemResult {
    PushItemResult {
        id: id(n),
        outcome,
        reference: Some(format!("LR-2026-00000{n}")),
        tracking_code: Some("ABCDEFGH".into()),
        missing_photos: missing.iter().map(|s| s.to_string()).collect(),
        error: (outcome == PushOutcome::Conflict).then(|| ErrorDetail {
            code: ErrorCode::IdConflict,
            message: "Un autre signalement porte déjà cet identifiant".into(),
            message_en: String::new(),
        }),
    }
}

fn pushed(results: Vec<PushItemResult>) -> Event {
    Event::Pushed {
        results,
        photo_sizes: vec![("s1".into(), 1000)],
        now: Duration::ZERO,
    }
}

fn push_failed(kind: FailureKind) -> Event {
    Event::PushFailed {
        kind,
        now: Duration::ZERO,
    }
}

fn page(seqs: &[i64], next_cursor: i64, has_more: bool, taxonomy_version: &str) -> Event {
    let events = seqs
        .iter()
        .map(|seq| StatusEvent {
            seq: *seq,
            incident_id: id(1),
            kind: EventKind::Received,
            state: State::Received,
            at: "2026-05-02T10:00:00Z".parse().unwrap(),
            reference: "LR-2026-000001".into(),
            service: None,
            outside_body: None,
            note: None,
            planned_date: None,
            reason: None,
            duplicate_of: None,
            category: None,
            subcategory: None,
            address: None,
        })
        .collect();
    Event::FeedPage {
        page: FeedPage {
            protocol: PROTOCOL_VERSION,
            events,
            next_cursor,
            has_more,
            taxonomy_version: taxonomy_version.into(),
        },
        now: Duration::ZERO,
    }
}

fn upload_failed(sha: &str, failure: UploadFailure) -> Event {
    Event::UploadFailed {
        sha256: sha.into(),
        failure,
        now: Duration::ZERO,
    }
}

fn tick(now: Duration) -> Event {
    Event::Tick { now }
}

/// Runs the events through a fresh machine and compares the actions after each one.
fn check(case: &str, max_retries: Option<u32>, steps: Vec<(Event, &str)>) -> SyncMachine {
    let config = SyncConfig {
        max_retries,
        ..SyncConfig::default()
    };
    let mut machine = SyncMachine::new(config, 42);
    for (i, (event, expected)) in steps.into_iter().enumerate() {
        let actions = machine.handle(event);
        let got: Vec<String> = actions.iter().map(summary).collect();
        assert_eq!(got.join(" | "), expected, "{case}: step {i}");
    }
    machine
}

#[test]
fn captive_portal() {
    // 200 text/html (or JSON without `protocol`) is never an ack: requeue and retry, then give up.
    check(
        "captive_portal",
        Some(1),
        vec![
            (start(&[1, 2], &[], 0), "push ab"),
            (
                push_failed(FailureKind::NotEnvelope),
                "apply requeue:a requeue:b | wait",
            ),
            (tick(YEAR), "push ab"),
            (
                push_failed(FailureKind::NotEnvelope),
                "apply requeue:a requeue:b | done failed NotEnvelope",
            ),
        ],
    );
    // An envelope that does not list a record does not acknowledge it.
    check(
        "captive_portal_partial_envelope",
        Some(0),
        vec![
            (start(&[1, 2], &[], 0), "push ab"),
            (
                pushed(vec![result(1, PushOutcome::Created, &[])]),
                "apply ack:a requeue:b | done failed NotEnvelope",
            ),
        ],
    );
}

#[test]
fn lost_ack() {
    // The server committed but the answer was lost: the retry gets the same success.
    check(
        "lost_ack",
        None,
        vec![
            (start(&[1], &[], 0), "push a"),
            (push_failed(FailureKind::Network), "apply requeue:a | wait"),
            (
                Event::SyncNow {
                    now: Duration::from_millis(1),
                },
                "push a",
            ),
            (
                pushed(vec![result(1, PushOutcome::AlreadyStored, &[])]),
                "apply ack:a | feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done complete"),
        ],
    );
}

#[test]
fn same_id_diff_body() {
    let machine = check(
        "same_id_diff_body",
        None,
        vec![
            (start(&[1, 2], &[], 0), "push ab"),
            (
                pushed(vec![
                    result(1, PushOutcome::Conflict, &[]),
                    result(2, PushOutcome::Created, &[]),
                ]),
                "apply frozen:a(id_conflict) ack:b | feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done incomplete"),
        ],
    );
    assert_eq!(machine.report.frozen[0].0, id(1));
    assert!(machine.report.frozen[0].2.contains("identifiant"));
}

#[test]
fn truncated_photo() {
    // 460: forget the upload, retry once from 0, then report the photo as a problem.
    let machine = check(
        "truncated_photo",
        None,
        vec![
            (start(&[], &[("s1", 400)], 0), "upload s1@400"),
            (
                upload_failed("s1", UploadFailure::ChecksumMismatch),
                "forget s1 | upload s1@0",
            ),
            (
                upload_failed("s1", UploadFailure::ChecksumMismatch),
                "forget s1 | feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done incomplete"),
        ],
    );
    assert_eq!(machine.report.photo_problems.len(), 1);
    assert!(
        machine.report.photo_problems[0]
            .1
            .starts_with("Le serveur a refusé cette photo : fichier endommagé.")
    );
    check(
        "local_file_damaged",
        None,
        vec![
            (start(&[], &[("s1", 0)], 0), "upload s1@0"),
            (
                upload_failed(
                    "s1",
                    UploadFailure::LocalFileDamaged("fichier absent".into()),
                ),
                "feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done incomplete"),
        ],
    );
}

#[test]
fn a_photo_the_server_refuses_does_not_block_the_others_or_the_feed() {
    // A 4xx on one photo (too large, a type the server refuses) is that photo's problem, in
    // the server's words: forget its upload, go on with the next photo and the feed. Before,
    // it stopped the whole run, so one bad photo held every later one back at each sync.
    let refused = FailureKind::Refused {
        status: 415,
        code: "unsupported_media_type".into(),
        message: "type de fichier non pris en charge".into(),
    };
    let machine = check(
        "photo_refused",
        None,
        vec![
            (start(&[], &[("s1", 0), ("s2", 0)], 0), "upload s1@0"),
            (
                upload_failed("s1", UploadFailure::Request(refused)),
                "forget s1 | upload s2@0",
            ),
            (
                Event::UploadDone {
                    sha256: "s2".into(),
                    now: Duration::ZERO,
                },
                "feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done incomplete"),
        ],
    );
    assert_eq!(machine.report.photo_problems.len(), 1);
    let (sha, message) = &machine.report.photo_problems[0];
    assert_eq!(sha, "s1");
    assert_eq!(
        message,
        "Le serveur a refusé cette photo : type de fichier non pris en charge. \
         Reprenez la photo dans un nouveau signalement."
    );
}

#[test]
fn photos_wait_for_wifi_when_the_platform_says_cellular() {
    // "Photos seulement en Wi-Fi" on a cellular network: records are pushed and the feed is
    // read, photos wait (counted, not uploaded, not in the progress totals), nothing is lost.
    let mut machine = SyncMachine::new(
        SyncConfig {
            hold_photos: true,
            ..SyncConfig::default()
        },
        7,
    );
    let mut steps = Vec::new();
    for event in [
        start(&[1], &[("s1", 0)], 0),
        pushed(vec![result(1, PushOutcome::Created, &["s2"])]),
        page(&[], 0, false, "v1"),
    ] {
        steps.push(
            machine
                .handle(event)
                .iter()
                .map(summary)
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    assert_eq!(
        steps,
        [
            "push a",
            "apply ack:a+missing | feed 0",
            "applyfeed 0 | done complete"
        ]
    );
    assert_eq!(machine.report.photos_held, 2);
    assert_eq!(machine.report.n_photos_uploaded, 0);
    assert_eq!(machine.progress().bytes_total, 0);
    assert_eq!(
        machine.progress().items_total,
        machine.progress().items_done
    );
}

#[test]
fn record_without_photo() {
    // The record is acknowledged while its photo upload fails: it stays incomplete ...
    check(
        "record_without_photo_first_run",
        Some(0),
        vec![
            (start(&[1], &[], 0), "push a"),
            (
                pushed(vec![result(1, PushOutcome::Created, &["s1"])]),
                "apply ack:a+missing | upload s1@0",
            ),
            (
                upload_failed("s1", UploadFailure::Request(FailureKind::Network)),
                "done failed Network",
            ),
        ],
    );
    // ... and heals on the next run, resuming from the stored offset.
    let machine = check(
        "record_without_photo_next_run",
        None,
        vec![
            (start(&[], &[("s1", 600)], 0), "upload s1@600"),
            (
                Event::UploadProgress {
                    sha256: "s1".into(),
                    offset: 800,
                },
                "",
            ),
            (
                Event::UploadDone {
                    sha256: "s1".into(),
                    now: Duration::ZERO,
                },
                "feed 0",
            ),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done complete"),
        ],
    );
    assert_eq!(machine.progress().bytes_done, 1000);
    assert_eq!(machine.progress().bytes_total, 1000);
    // A vanished upload id restarts from 0.
    check(
        "upload_gone",
        None,
        vec![
            (start(&[], &[("s1", 600)], 0), "upload s1@600"),
            (
                upload_failed("s1", UploadFailure::UploadGone),
                "forget s1 | wait",
            ),
            (tick(YEAR), "upload s1@0"),
        ],
    );
}

#[test]
fn feed_replay() {
    // Pages are followed while the cursor advances; a page replayed (events ≤ cursor) counts no
    // new event; a server claiming `has_more` without advancing does not make the device loop.
    let machine = check(
        "feed_replay",
        None,
        vec![
            (start(&[], &[], 5), "feed 5"),
            (page(&[6, 7], 7, true, "v1"), "applyfeed 7 | feed 7"),
            (page(&[6, 7], 7, true, "v1"), "applyfeed 7 | done complete"),
        ],
    );
    assert_eq!(machine.report.n_feed_events, 2);
    check(
        "feed_failure_retries",
        Some(2),
        vec![
            (start(&[], &[], 0), "feed 0"),
            (
                Event::FeedFailed {
                    kind: FailureKind::Server(503),
                    now: Duration::ZERO,
                },
                "wait",
            ),
            (tick(YEAR), "feed 0"),
            (page(&[1], 1, false, "v1"), "applyfeed 1 | done complete"),
        ],
    );
}

#[test]
fn taxonomy_refresh_when_version_differs() {
    check(
        "taxonomy",
        None,
        vec![
            (start(&[], &[], 0), "feed 0"),
            (page(&[], 0, false, "v2"), "applyfeed 0 | taxonomy"),
            (
                Event::TaxonomyFetched {
                    version: "v2".into(),
                    now: Duration::ZERO,
                },
                "done complete",
            ),
        ],
    );
}

#[test]
fn unauthorized_stops_and_asks_to_re_enrol() {
    check(
        "unauthorized",
        None,
        vec![
            (start(&[1], &[], 0), "push a"),
            (
                push_failed(FailureKind::Unauthorized),
                "apply requeue:a | done reenroll",
            ),
        ],
    );
    let refused = FailureKind::Refused {
        status: 400,
        code: "unsupported_protocol".into(),
        message: "x".into(),
    };
    check(
        "refused_batch",
        None,
        vec![
            (start(&[1], &[], 0), "push a"),
            (
                push_failed(refused.clone()),
                &format!("apply requeue:a | done failed {refused:?}"),
            ),
        ],
    );
}

#[test]
fn clock_skew() {
    // The wait is decided in monotonic time; a clock jumping two years back never stretches it,
    // and a jump forward wakes the machine at once.
    let mut machine = SyncMachine::new(SyncConfig::default(), 7);
    let t0 = 2 * YEAR + Duration::from_secs(1000);
    machine.handle(Event::Start {
        snapshot: snapshot(&[1], &[], 0),
        now: t0,
    });
    let actions = machine.handle(Event::PushFailed {
        kind: FailureKind::Timeout,
        now: t0,
    });
    let Some(Action::Wait(decided)) = actions.last().cloned() else {
        panic!("{actions:?}")
    };
    assert!(decided <= BACKOFF_BASE);
    let back = machine.handle(tick(t0 - 2 * YEAR));
    match back.as_slice() {
        [Action::Wait(remaining)] => assert!(*remaining <= decided, "{remaining:?} > {decided:?}"),
        [Action::PushBatch(_)] => assert_eq!(decided, Duration::ZERO),
        other => panic!("{other:?}"),
    }
    let forward = machine.handle(tick(t0 + 2 * YEAR));
    assert_eq!(forward.iter().map(summary).collect::<Vec<_>>(), ["push a"]);
}

#[test]
fn backoff_bounds_and_jitter() {
    let mut machine = SyncMachine::new(SyncConfig::default(), 1);
    for attempt in 0..40u32 {
        let ceiling = BACKOFF_BASE
            .saturating_mul(2u32.saturating_pow(attempt.min(31)))
            .min(BACKOFF_CAP);
        let mut lowest = Duration::MAX;
        let mut highest = Duration::ZERO;
        for _ in 0..200 {
            let delay = machine.backoff_delay(attempt);
            assert!(
                delay <= ceiling,
                "attempt {attempt}: {delay:?} > {ceiling:?}"
            );
            lowest = lowest.min(delay);
            highest = highest.max(delay);
        }
        // Full jitter: spread over the whole [0, ceiling] range, not clustered near the ceiling.
        assert!(lowest < ceiling / 4, "attempt {attempt}: lowest {lowest:?}");
        assert!(
            highest > ceiling * 3 / 4,
            "attempt {attempt}: highest {highest:?}"
        );
    }
    assert!(machine.backoff_delay(u32::MAX) <= BACKOFF_CAP);
    // Deterministic per seed, different across seeds.
    let delays = |seed| {
        let mut m = SyncMachine::new(SyncConfig::default(), seed);
        (0..10).map(|a| m.backoff_delay(a)).collect::<Vec<_>>()
    };
    assert_eq!(delays(3), delays(3));
    assert_ne!(delays(3), delays(4));
    // SyncNow skips the wait.
    check(
        "sync_now",
        None,
        vec![
            (start(&[1], &[], 0), "push a"),
            (
                push_failed(FailureKind::Server(502)),
                "apply requeue:a | wait",
            ),
            (
                Event::SyncNow {
                    now: Duration::ZERO,
                },
                "push a",
            ),
        ],
    );
}

#[test]
fn pushes_go_in_batches_of_at_most_500() {
    let ids: Vec<Uuid> = (0..1201u128).map(|n| Uuid::from_u128(n + 1000)).collect();
    let mut machine = SyncMachine::new(SyncConfig::default(), 0);
    let snapshot = SyncSnapshot {
        pending_ids: ids.clone(),
        photos_to_upload: vec![],
        feed_cursor: 0,
        taxonomy_version: "v1".into(),
        has_dirty_walks: false,
    };
    let mut actions = machine.handle(Event::Start {
        snapshot,
        now: Duration::ZERO,
    });
    let mut sizes = Vec::new();
    while let Some(Action::PushBatch(batch)) = actions.last().cloned() {
        sizes.push(batch.len());
        let results = batch.iter().map(|id| PushItemResult {
            id: *id,
            outcome: PushOutcome::Created,
            reference: None,
            tracking_code: None,
            missing_photos: vec![],
            error: None,
        });
        actions = machine.handle(Event::Pushed {
            results: results.collect(),
            photo_sizes: vec![],
            now: Duration::ZERO,
        });
    }
    assert_eq!(sizes, [500, 500, 201]);
    assert_eq!(machine.progress().items_done, 1201);
    assert_eq!(machine.progress().items_total, 1201);
}

#[test]
fn walks_changed_without_incidents_are_pushed_once() {
    let walk_only = Event::Start {
        snapshot: SyncSnapshot {
            has_dirty_walks: true,
            ..snapshot(&[], &[], 0)
        },
        now: Duration::ZERO,
    };
    check(
        "walk_only",
        None,
        vec![
            (walk_only, "push "),
            (pushed(vec![]), "apply  | feed 0"),
            (page(&[], 0, false, "v1"), "applyfeed 0 | done complete"),
        ],
    );
    // With queued incidents the walks ride along with them: no extra push.
    let with_incidents = Event::Start {
        snapshot: SyncSnapshot {
            has_dirty_walks: true,
            ..snapshot(&[1], &[], 0)
        },
        now: Duration::ZERO,
    };
    check(
        "walk_with_incidents",
        None,
        vec![
            (with_incidents, "push a"),
            (
                pushed(vec![result(1, PushOutcome::Created, &[])]),
                "apply ack:a | feed 0",
            ),
        ],
    );
}

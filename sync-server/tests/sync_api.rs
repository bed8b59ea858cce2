//! Device API tests on the real router over a real socket (port 0), real SQLite in a tempdir.

mod sync_support;

use balade_protocol::envelope::{FeedPage, PushOutcome, PushResponse, TrackingView};
use balade_protocol::status::{EventKind, State};
use balade_sync::actions::{Action, apply_action};
use balade_sync::store::write_tx;
use sha2::{Digest, Sha256};
use sync_support::*;

/// A request that must fail: method, path, token, body, expected status and code.
struct BadInput {
    name: &'static str,
    path: &'static str,
    token: Option<&'static str>,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_answered_with_a_json_error_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let good = serde_json::to_value(balade_protocol::envelope::PushRequest::new(
        vec![],
        vec![pothole()],
    ))
    .unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases = vec![
        BadInput {
            name: "malformed json",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: b"{\"protocol\":1,\"incidents\":[".to_vec(),
            status: 400,
            code: "malformed_json",
        },
        BadInput {
            name: "wrong-typed field",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: with(&|v| v["incidents"][0]["position"]["lat"] = "north".into()),
            status: 400,
            code: "invalid_field",
        },
        BadInput {
            name: "missing field",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: with(&|v| {
                v["incidents"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("category");
            }),
            status: 400,
            code: "invalid_field",
        },
        BadInput {
            name: "unsupported protocol",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: with(&|v| v["protocol"] = 99.into()),
            status: 400,
            code: "unsupported_protocol",
        },
        BadInput {
            name: "not json content type",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "text/plain",
            body: serde_json::to_vec(&good).unwrap(),
            status: 415,
            code: "unsupported_media_type",
        },
        BadInput {
            name: "oversized body",
            path: "/api/v1/push",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: with(&|v| v["incidents"][0]["comment"] = "x".repeat(3 * 1024 * 1024).into()),
            status: 413,
            code: "body_too_large",
        },
        BadInput {
            name: "missing token",
            path: "/api/v1/push",
            token: None,
            content_type: "application/json",
            body: serde_json::to_vec(&good).unwrap(),
            status: 401,
            code: "missing_token",
        },
        BadInput {
            name: "invalid token",
            path: "/api/v1/push",
            token: Some("not-a-token"),
            content_type: "application/json",
            body: serde_json::to_vec(&good).unwrap(),
            status: 401,
            code: "invalid_token",
        },
        BadInput {
            name: "unknown route",
            path: "/api/v1/nothing-here",
            token: Some("DEVICE"),
            content_type: "application/json",
            body: vec![],
            status: 404,
            code: "not_found",
        },
    ];
    for case in cases {
        let mut request = server
            .http
            .post(server.url(case.path))
            .header("Content-Type", case.content_type)
            .body(case.body.clone());
        match case.token {
            Some("DEVICE") => request = request.bearer_auth(&token),
            Some(other) => request = request.bearer_auth(other),
            None => {}
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), case.status, "{}", case.name);
        assert_eq!(error_code(response).await, case.code, "{}", case.name);
        assert_eq!(
            server.n_requests().await,
            0,
            "{}: nothing stored",
            case.name
        );
    }

    // Per-incident rejections: the batch answers 200 with Rejected items, nothing stored.
    for (category, subcategory, code) in [
        ("voirie_lunaire", "nid_de_poule", "unknown_category"),
        ("voirie", "crevasse", "unknown_subcategory"),
    ] {
        let response = server
            .push_ok(&token, vec![incident(category, subcategory)])
            .await;
        let item = &response.results[0];
        assert_eq!(item.outcome, PushOutcome::Rejected);
        assert_eq!(item.error.as_ref().unwrap().code.as_str(), code);
        assert_eq!(server.n_requests().await, 0);
    }
    // PUT answers the rejection as an HTTP status.
    let bad = incident("voirie", "crevasse");
    let response = server
        .http
        .put(server.url(&format!("/api/v1/incidents/{}", bad.id)))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "unknown_subcategory");
    assert_eq!(server.n_requests().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollment_code_reused_is_refused() {
    let server = TestServer::start().await;
    let code = server.enrollment_code("tablette 1").await;
    let enroll = || {
        server
            .http
            .post(server.url("/api/v1/enroll"))
            .json(&serde_json::json!({"protocol": 1, "code": code.to_lowercase(), "device_name": "t"}))
            .send()
    };
    assert_eq!(enroll().await.unwrap().status(), 200);
    let again = enroll().await.unwrap();
    assert_eq!(again.status(), 403);
    assert_eq!(error_code(again).await, "invalid_enrollment_code");
    assert_eq!(server.count("SELECT COUNT(*) FROM devices").await, 1);
    // Only hashes are stored.
    let code_clean = code.replace('-', "");
    let stored: i64 = {
        let code_clean = code_clean.clone();
        server
            .state
            .store
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM enrollment_codes WHERE code_hash = ?1 OR code_hash = ?2",
                    [code_clean.clone(), code_clean.to_lowercase()],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap()
    };
    assert_eq!(stored, 0, "the plain code is not stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_devices_incident_is_forbidden() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.device().await, server.device().await);
    let incident = pothole();
    assert_eq!(
        server.push_ok(&alice, vec![incident.clone()]).await.results[0].outcome,
        PushOutcome::Created
    );
    let mut changed = incident.clone();
    changed.comment = "écrasé".into();
    for attempt in [incident, changed] {
        let response = server.push_ok(&bob, vec![attempt]).await;
        assert_eq!(response.results[0].outcome, PushOutcome::Rejected);
        assert_eq!(
            response.results[0].error.as_ref().unwrap().code.as_str(),
            "forbidden"
        );
    }
    assert_eq!(server.n_requests().await, 1);
    let comment: String = server
        .state
        .store
        .call(|c| Ok(c.query_row("SELECT comment FROM requests", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(comment, "Nid-de-poule devant l'école");
    // Bob's feed does not show Alice's events.
    let page: FeedPage = server
        .http
        .get(server.url("/api/v1/feed"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.events.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_request_is_not_found() {
    let server = TestServer::start().await;
    let token = server.device().await;
    for path in [
        "/api/v1/track/ABCDEFGH",
        "/api/v1/track/not-a-code",
        "/api/v1/track/ABCDEFG0",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    let response = server
        .http
        .head(server.url(&format!(
            "/api/v1/uploads/{}",
            uuid::Uuid::new_v4().simple()
        )))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn same_id_different_body_is_a_conflict() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let incident = pothole();
    let put = |body: balade_protocol::incident::Incident| {
        server
            .http
            .put(server.url(&format!("/api/v1/incidents/{}", body.id)))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let first = put(incident.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: PushResponse = first.json().await.unwrap();
    let again = put(incident.clone()).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: PushResponse = again.json().await.unwrap();
    assert_eq!(again.results[0].reference, first.results[0].reference);
    assert_eq!(again.results[0].outcome, PushOutcome::AlreadyStored);

    let mut changed = incident.clone();
    changed.comment = "Autre texte".into();
    let conflict = put(changed.clone()).await.unwrap();
    assert_eq!(conflict.status(), 409);
    assert_eq!(error_code(conflict).await, "id_conflict");
    let pushed = server.push_ok(&token, vec![changed]).await;
    assert_eq!(pushed.results[0].outcome, PushOutcome::Conflict);
    assert_eq!(
        pushed.results[0].error.as_ref().unwrap().code.as_str(),
        "id_conflict"
    );
    assert_eq!(server.n_requests().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_storm() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let incident = pothole();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, url, token, incident) = (
            server.http.clone(),
            server.url("/api/v1/push"),
            token.clone(),
            incident.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&balade_protocol::envelope::PushRequest::new(
                    vec![],
                    vec![incident],
                ))
                .send()
                .await
                .unwrap();
            assert!(
                !response.status().is_server_error(),
                "{}",
                response.status()
            );
            assert_eq!(response.status(), 200);
            response.json::<PushResponse>().await.unwrap()
        }));
    }
    let mut references = std::collections::BTreeSet::new();
    let mut n_created = 0;
    for task in tasks {
        let response = task.await.unwrap();
        let item = &response.results[0];
        assert!(matches!(
            item.outcome,
            PushOutcome::Created | PushOutcome::AlreadyStored
        ));
        n_created += (item.outcome == PushOutcome::Created) as usize;
        references.insert((
            item.reference.clone().unwrap(),
            item.tracking_code.clone().unwrap(),
        ));
    }
    assert_eq!(n_created, 1);
    assert_eq!(
        references.len(),
        1,
        "every answer names the same reference: {references:?}"
    );
    assert_eq!(server.n_requests().await, 1);
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM events WHERE kind = 'received'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_ack() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let batch = vec![pothole(), incident("proprete", "tags")];
    let first = server.push_ok(&token, batch.clone()).await;
    // The answer was "lost": the device retries the very same batch.
    let retry = server.push_ok(&token, batch).await;
    for (a, b) in first.results.iter().zip(&retry.results) {
        assert_eq!(a.outcome, PushOutcome::Created);
        assert_eq!(b.outcome, PushOutcome::AlreadyStored);
        assert_eq!(
            (&a.id, &a.reference, &a.tracking_code),
            (&b.id, &b.reference, &b.tracking_code)
        );
    }
    assert_eq!(server.n_requests().await, 2);
    let reference = first.results[0].reference.clone().unwrap();
    assert!(
        reference.starts_with("LR-") && reference.len() == "LR-2026-000001".len(),
        "{reference}"
    );
}

async fn upload_whole(server: &TestServer, token: &str, bytes: &[u8]) -> reqwest::Response {
    let created = tus_create(
        &server.http,
        &server.base,
        token,
        &photo_ref(bytes).sha256,
        bytes.len(),
    )
    .await;
    assert_eq!(created.status(), 201);
    let url = server.url(&header(&created, "location"));
    tus_patch(&server.http, &url, token, 0, bytes.to_vec(), None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn record_without_photo() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let bytes = photo_bytes(300_000, 7);
    let photo = photo_ref(&bytes);
    let mut incident = pothole();
    incident.photos = vec![photo.clone()];
    let pushed = server.push_ok(&token, vec![incident.clone()]).await;
    assert_eq!(pushed.results[0].missing_photos, vec![photo.sha256.clone()]);
    assert_eq!(server.count("SELECT incomplete FROM requests").await, 1);

    let done = upload_whole(&server, &token, &bytes).await;
    assert_eq!(done.status(), 204);
    assert_eq!(header(&done, "upload-offset"), bytes.len().to_string());
    assert_eq!(header(&done, "tus-resumable"), "1.0.0");
    assert_eq!(
        server.count("SELECT incomplete FROM requests").await,
        0,
        "healed"
    );
    let stored = std::fs::read(
        server
            .data_dir()
            .join("photos")
            .join(&photo.sha256[..2])
            .join(&photo.sha256),
    )
    .unwrap();
    assert_eq!(stored, bytes);
    // A retry of the push now reports nothing missing; uploading again short-cuts to complete.
    let retry = server.push_ok(&token, vec![incident]).await;
    assert!(retry.results[0].missing_photos.is_empty());
    let again = tus_create(
        &server.http,
        &server.base,
        &token,
        &photo.sha256,
        bytes.len(),
    )
    .await;
    assert_eq!(again.status(), 201);
    assert_eq!(header(&again, "upload-offset"), bytes.len().to_string());
    assert_eq!(server.count("SELECT COUNT(*) FROM photos").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_photo() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let bytes = photo_bytes(100_000, 3);
    let mut incident = pothole();
    incident.photos = vec![photo_ref(&bytes)];
    server.push_ok(&token, vec![incident]).await;
    // The device declares the right hash and length but sends damaged bytes.
    let created = tus_create(
        &server.http,
        &server.base,
        &token,
        &photo_ref(&bytes).sha256,
        bytes.len(),
    )
    .await;
    let url = server.url(&header(&created, "location"));
    let mut damaged = bytes.clone();
    damaged[50_000] ^= 0xff;
    let response = tus_patch(&server.http, &url, &token, 0, damaged, None).await;
    assert_eq!(response.status(), 460);
    assert_eq!(error_code(response).await, "checksum_mismatch");
    let data = server.data_dir();
    let leftovers: Vec<_> = files_under(&data.join("uploads"))
        .into_iter()
        .chain(files_under(&data.join("photos")))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no partial or empty file kept: {leftovers:?}"
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM photos").await, 0);
    assert_eq!(
        server.count("SELECT incomplete FROM requests").await,
        1,
        "still incomplete"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chunk_checksum_mismatch_and_wrong_offset() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let bytes = photo_bytes(64_000, 9);
    let created = tus_create(
        &server.http,
        &server.base,
        &token,
        &photo_ref(&bytes).sha256,
        bytes.len(),
    )
    .await;
    let url = server.url(&header(&created, "location"));
    let (first, second) = bytes.split_at(32_000);
    // Wrong digest for the chunk: 460, nothing kept.
    let wrong = Sha256::digest(b"something else");
    let response = tus_patch(&server.http, &url, &token, 0, first.to_vec(), Some(&wrong)).await;
    assert_eq!(response.status(), 460);
    let head = server
        .http
        .head(&url)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&head, "upload-offset"), "0");
    assert_eq!(header(&head, "cache-control"), "no-store");
    // Right digest: accepted.
    let response = tus_patch(
        &server.http,
        &url,
        &token,
        0,
        first.to_vec(),
        Some(&Sha256::digest(first)),
    )
    .await;
    assert_eq!(response.status(), 204);
    // Wrong offset: 409.
    let response = tus_patch(&server.http, &url, &token, 0, second.to_vec(), None).await;
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "offset_mismatch");
    // Missing Tus-Resumable: 412.
    let response = server
        .http
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);
    let response = tus_patch(&server.http, &url, &token, 32_000, second.to_vec(), None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(server.count("SELECT COUNT(*) FROM photos").await, 1);
    // OPTIONS advertises the extensions without auth.
    let options = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/api/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&options, "tus-extension"),
        "creation,checksum,termination"
    );
    assert_eq!(header(&options, "tus-checksum-algorithm"), "sha256");
    assert_eq!(
        header(&options, "tus-max-size"),
        (30 * 1024 * 1024).to_string()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_id_path_tricks_are_refused() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let long = "a".repeat(5000);
    let cases: Vec<(String, &[u16])> = vec![
        ("..%2F..%2Fetc".into(), &[400, 404]),
        ("..%2F..%2F..%2Fbalade.db".into(), &[400, 404]),
        ("../x".into(), &[404]),
        (long, &[400, 404, 414, 431]),
        ("not-a-uuid".into(), &[400]),
        (uuid::Uuid::new_v4().to_string(), &[400]),
        ("ABCDEF0123456789ABCDEF0123456789".into(), &[400]),
        (uuid::Uuid::new_v4().simple().to_string(), &[404]),
    ];
    for (id, statuses) in cases {
        for method in [
            reqwest::Method::HEAD,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let url = format!("{}/api/v1/uploads/{id}", server.base);
            let response = server
                .http
                .request(method.clone(), url)
                .bearer_auth(&token)
                .header("Tus-Resumable", "1.0.0")
                .header("Content-Type", "application/offset+octet-stream")
                .header("Upload-Offset", "0")
                .body(if method == reqwest::Method::PATCH {
                    b"evil".to_vec()
                } else {
                    vec![]
                })
                .send()
                .await
                .unwrap();
            assert!(
                statuses.contains(&response.status().as_u16()),
                "{method} {id}: {}",
                response.status()
            );
        }
    }
    // Nothing was written anywhere: only the database files exist.
    let root = server.dir.path();
    let files: Vec<_> = files_under(root)
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("balade.db")
        })
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clock_skew() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let mut future = pothole();
    future.observed_at = "2028-05-01T10:00:00Z".parse().unwrap();
    let mut past = incident("proprete", "tags");
    past.observed_at = "2024-05-01T10:00:00Z".parse().unwrap();
    server.push_ok(&token, vec![future.clone()]).await;
    server.push_ok(&token, vec![past.clone()]).await;
    let page: FeedPage = server
        .http
        .get(server.url("/api/v1/feed?since=0"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seqs: Vec<i64> = page.events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // Server order: the incident pushed first (observed in 2028) comes first.
    assert_eq!(page.events[0].incident_id, future.id);
    assert_eq!(page.events.last().unwrap().incident_id, past.id);
    // Paging with limit=1 walks the same sequence by cursor.
    let mut since = 0;
    let mut walked = Vec::new();
    loop {
        let page: FeedPage = server
            .http
            .get(server.url(&format!("/api/v1/feed?since={since}&limit=1")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        walked.extend(page.events.iter().map(|e| e.seq));
        since = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(walked, seqs);
}

#[tokio::test(flavor = "multi_thread")]
async fn feed_replay() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let incident = pothole();
    let pushed = server.push_ok(&token, vec![incident.clone()]).await;
    let taxonomy = server.state.taxonomy();
    let id = incident.id;
    server
        .state
        .store
        .call(move |c| {
            write_tx(c, |tx| {
                apply_action(
                    tx,
                    &taxonomy,
                    "op",
                    id,
                    Action::InternalNote {
                        text: "secret interne".into(),
                    },
                )?;
                apply_action(
                    tx,
                    &taxonomy,
                    "op",
                    id,
                    Action::Schedule {
                        date: "2026-06-01".parse().unwrap(),
                        note: Some("Équipe prévue".into()),
                    },
                )?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let get = |since: i64| {
        let request = server
            .http
            .get(server.url(&format!("/api/v1/feed?since={since}")))
            .bearer_auth(&token);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let first = get(0).await;
    assert_eq!(first, get(0).await, "same page twice is identical");
    assert!(
        !first.contains("secret interne"),
        "internal notes never reach a device"
    );
    let page: FeedPage = serde_json::from_str(&first).unwrap();
    let kinds: Vec<EventKind> = page.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Received, EventKind::Routed, EventKind::Scheduled]
    );
    assert_eq!(page.events[1].service.as_deref(), Some("Service Voirie"));
    assert_eq!(page.events[2].state, State::Scheduled);
    assert_eq!(page.next_cursor, page.events[2].seq);
    assert!(!page.has_more);
    assert_eq!(page.taxonomy_version, server.state.taxonomy().version);
    // Empty page after the cursor keeps it.
    let after: FeedPage = serde_json::from_str(&get(page.next_cursor).await).unwrap();
    assert!(after.events.is_empty());
    assert_eq!(after.next_cursor, page.next_cursor);
    // Citizens see the same public timeline through the tracking code.
    let code = pushed.results[0].tracking_code.clone().unwrap();
    let view: TrackingView = server
        .http
        .get(server.url(&format!("/api/v1/track/{}", code.to_lowercase())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view.state, State::Scheduled);
    assert_eq!(view.timeline.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_flow_to_every_reporter() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.device().await, server.device().await);
    let kept = pothole();
    let copy = pothole();
    server.push_ok(&alice, vec![kept.clone()]).await;
    server.push_ok(&bob, vec![copy.clone()]).await;
    let taxonomy = server.state.taxonomy();
    let (kept_id, copy_id) = (kept.id, copy.id);
    server
        .state
        .store
        .call(move |c| {
            write_tx(c, |tx| {
                apply_action(
                    tx,
                    &taxonomy,
                    "op",
                    copy_id,
                    Action::Duplicate { of: kept_id },
                )?;
                apply_action(
                    tx,
                    &taxonomy,
                    "op",
                    kept_id,
                    Action::Resolve {
                        note: Some("Rebouché".into()),
                        photo: None,
                    },
                )?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let page: FeedPage = server
        .http
        .get(server.url("/api/v1/feed"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.events.iter().any(|e| e.incident_id == copy_id
        && e.kind == EventKind::Duplicate
        && e.duplicate_of == Some(kept_id)));
    assert!(
        page.events
            .iter()
            .any(|e| e.incident_id == kept_id && e.kind == EventKind::Resolved)
    );
}

#[tokio::test]
async fn an_empty_upload_is_refused_at_creation() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let empty_sha = photo_ref(b"").sha256;
    let response = tus_create(&server.http, &server.base, &token, &empty_sha, 0).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_tus_request");
    assert!(
        !server.data_dir().join("uploads").exists()
            || std::fs::read_dir(server.data_dir().join("uploads"))
                .unwrap()
                .next()
                .is_none(),
        "no partial file for a refused upload"
    );
}

/// The server stopped after saving "all bytes received" but before verifying and moving the file
/// (or the client vanished at that moment): the next HEAD or PATCH finishes the upload, so the
/// photo is counted instead of staying "complete" but absent.
#[tokio::test]
async fn a_complete_but_unfinished_upload_is_finished_on_the_next_head() {
    let server = TestServer::start().await;
    let token = server.device().await;
    let bytes = photo_bytes(48_000, 7);
    let sha = photo_ref(&bytes).sha256;
    let created = tus_create(&server.http, &server.base, &token, &sha, bytes.len()).await;
    assert_eq!(created.status(), 201);
    let location = header(&created, "location");
    let id = location.rsplit('/').next().unwrap().to_string();
    // What a crash between the offset update and the finishing step leaves behind.
    std::fs::write(
        server.data_dir().join("uploads").join(format!("{id}.part")),
        &bytes,
    )
    .unwrap();
    let conn = rusqlite::Connection::open(server.data_dir().join("balade.db")).unwrap();
    conn.execute(
        "UPDATE uploads SET \"offset\" = ?2 WHERE id = ?1",
        rusqlite::params![id, bytes.len() as i64],
    )
    .unwrap();
    let stored = server.data_dir().join("photos").join(&sha[..2]).join(&sha);
    assert!(!stored.exists());
    let head = server
        .http
        .head(server.url(&location))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "upload-offset"), bytes.len().to_string());
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        bytes,
        "finished and moved into place"
    );
    let photos: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM photos WHERE sha256 = ?1",
            [&sha],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(photos, 1);
}

//! End-to-end tests from the device side: the real `balade-sync` server and the real `balade`
//! binary as processes, on loopback, with temporary data directories. Each fault test is named
//! after the case it guards (DESIGN.md sync invariants). Build the binaries first:
//! `cargo build --workspace --bins`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use balade_app::engine::store::DeviceStore;
use balade_protocol::incident::{Incident, Position};
use balade_tests::net::{CaptivePortal, DropRule, LossyProxy, PortalAnswer};
use balade_tests::{
    Device, Server, count, file_sha256, operator, server_db, server_photo_path, write_jpeg,
};
use serde_json::Value;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `balade sync` until it succeeds (at most `attempts` runs); returns the last output.
fn sync_until_done(device: &Device, attempts: usize) -> std::process::Output {
    let mut last = None;
    for _ in 0..attempts {
        let output = device.run(&["sync", "--max-retries", "3"]);
        if output.status.success() {
            return output;
        }
        last = Some(output);
    }
    let last = last.unwrap();
    panic!(
        "sync never succeeded:\n{}\n{}",
        stdout(&last),
        stderr(&last)
    );
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

fn photos_of(device: &Device, id: &str) -> Vec<Value> {
    device.status(id)["photos"].as_array().unwrap().clone()
}

#[test]
fn end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let mut server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let addr = server.addr.to_string();
    server.kill();

    // Offline: a walk with three incidents with real JPEGs; sync fails cleanly, nothing lost.
    device.ok(&[
        "walk",
        "start",
        "--title",
        "Balade Tasdon",
        "--neighbourhood",
        "Tasdon",
        "--participant",
        "Élue de quartier",
        "--participant",
        "Agent voirie",
    ]);
    let mut ids = Vec::new();
    for seed in 0..3 {
        let photo = tmp.path().join(format!("photo{seed}.jpg"));
        write_jpeg(&photo, 1600, 1200, seed);
        ids.push(device.capture(&[&photo], &[]));
    }
    device.ok(&["walk", "end"]);
    let offline = device.run(&["sync", "--max-retries", "0"]);
    assert!(!offline.status.success());
    assert!(
        stderr(&offline).contains("injoignable"),
        "{}",
        stderr(&offline)
    );
    assert!(stderr(&offline).contains("Rien n'est perdu"));
    assert!(
        device
            .queue()
            .iter()
            .all(|row| field(row, "local_state") == "queued")
    );

    // Online: everything arrives with its photo.
    let server = Server::start_on(&server_data, &addr);
    let online = device.run(&["sync"]);
    assert!(
        online.status.success(),
        "{}\n{}",
        stdout(&online),
        stderr(&online)
    );
    assert!(stdout(&online).contains("Progression"));
    let queue = device.queue();
    assert_eq!(queue.len(), 3);
    for row in &queue {
        assert_eq!(field(row, "local_state"), "acknowledged");
        assert!(field(row, "reference").starts_with("LR-"), "{row}");
        assert_eq!(row["n_photos_uploaded"], 1);
    }
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 3);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests WHERE incomplete = 1"),
        0
    );
    let walk: (String, String) = db
        .query_row("SELECT title, participants_json FROM walks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(walk.0, "Balade Tasdon");
    assert!(walk.1.contains("Agent voirie"));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM requests WHERE walk_id IS NOT NULL"
        ),
        3
    );
    for id in &ids {
        let photo = &photos_of(&device, id)[0];
        let sha = photo["sha256"].as_str().unwrap();
        assert_eq!(file_sha256(&server_photo_path(&server_data, sha)), sha);
    }

    // A walk with no incident still reaches the server, with its end.
    device.ok(&["walk", "start", "--title", "Balade sans signalement"]);
    device.ok(&["walk", "end"]);
    device.ok(&["sync"]);
    let ended: Option<String> = db
        .query_row(
            "SELECT ended_at FROM walks WHERE title = 'Balade sans signalement'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(ended.is_some());

    // Operator decisions flow back through the feed.
    let reference = |id: &str| device.status(id)["reference"].as_str().unwrap().to_string();
    operator(
        &server_data,
        &[
            "schedule",
            &reference(&ids[0]),
            "--date",
            "2026-06-15",
            "--note",
            "Équipe voirie",
        ],
    );
    operator(
        &server_data,
        &["refuse", &reference(&ids[1]), "--reason", "Domaine privé"],
    );
    operator(
        &server_data,
        &["resolve", &reference(&ids[2]), "--note", "Rebouché"],
    );
    let again = device.run(&["sync"]);
    assert!(again.status.success(), "{}", stderr(&again));

    let scheduled = device.status(&ids[0]);
    assert_eq!(field(&scheduled, "server_state"), "scheduled");
    assert_eq!(field(&scheduled, "planned_date"), "2026-06-15");
    let refused = device.status(&ids[1]);
    assert_eq!(field(&refused, "server_state"), "refused");
    assert_eq!(field(&refused, "reason"), "Domaine privé");
    let resolved = device.status(&ids[2]);
    assert_eq!(field(&resolved, "server_state"), "resolved");
    assert!(resolved["timeline"].as_array().unwrap().len() >= 2);
    let text = device.ok(&["status", &ids[0]]);
    assert!(
        text.contains("Programmé") && text.contains("15/06/2026"),
        "{text}"
    );

    // The device database holds the same.
    let conn = rusqlite::Connection::open(device.dir.join("device.db")).unwrap();
    let (state, reason): (String, Option<String>) = conn
        .query_row(
            "SELECT server_state, reason FROM incidents WHERE id = ?1",
            [&ids[1]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (state.as_str(), reason.as_deref()),
        ("refused", Some("Domaine privé"))
    );
}

#[test]
fn crash_mid_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let mut server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let photo = tmp.path().join("big.jpg");
    write_jpeg(&photo, 4000, 3000, 7);
    let id = device.capture(&[&photo], &[]);

    // Small chunks so the upload spans many requests; kill the server once bytes have landed.
    let mut sync = device
        .command(&["sync", "--max-retries", "8", "--chunk-size", "8192"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let device_db = device.dir.join("device.db");
    let offset_seen = loop {
        let conn = rusqlite::Connection::open(&device_db).unwrap();
        let offset: i64 = conn
            .query_row("SELECT COALESCE(MAX(upload_offset), 0) FROM photos WHERE upload_state = 'uploading'", [], |r| r.get(0))
            .unwrap_or(0);
        if offset > 0 {
            break offset;
        }
        assert!(
            sync.try_wait().unwrap().is_none(),
            "sync ended before the upload started"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    server.kill();
    let photo_row = &photos_of(&device, &id)[0];
    assert_ne!(
        photo_row["upload_state"], "uploaded",
        "upload finished before the crash"
    );
    server.restart();
    let status = sync.wait().unwrap();
    if !status.success() {
        sync_until_done(&device, 3);
    }
    let sha = photos_of(&device, &id)[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(photos_of(&device, &id)[0]["upload_state"], "uploaded");
    assert_eq!(file_sha256(&server_photo_path(&server_data, &sha)), sha);
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM photos"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM requests WHERE incomplete = 1"),
        0
    );
    assert!(offset_seen > 0);
}

#[test]
fn lost_ack() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let ids: Vec<String> = (0..3).map(|_| device.capture(&[], &[])).collect();
    let proxy = LossyProxy::start(server.addr, DropRule::FirstPushAnswer);

    let output = device.run(&["--server", &proxy.url(), "sync", "--max-retries", "5"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert_eq!(
        proxy.n_dropped.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the first answer was lost"
    );
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 3);
    for id in &ids {
        let status = device.status(id);
        assert_eq!(field(&status, "local_state"), "acknowledged");
        let server_reference: String = db
            .query_row("SELECT reference FROM requests WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            field(&status, "reference"),
            server_reference,
            "the retry got the first success"
        );
    }
}

#[test]
fn duplicate_storm() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let a = Device::new(&tmp.path().join("a"));
    a.enroll(&server);
    let photo = tmp.path().join("p.jpg");
    write_jpeg(&photo, 800, 600, 3);
    for _ in 0..20 {
        a.capture(&[&photo], &[]);
    }
    // Two stores restored from the same backup.
    let b = Device::new(&tmp.path().join("b"));
    copy_dir(&a.dir, &b.dir);
    let mut children: Vec<_> = [&a, &b]
        .iter()
        .map(|d| {
            d.command(&["sync", "--max-retries", "5"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children.drain(..) {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}\n{}",
            stdout(&output),
            stderr(&output)
        );
    }
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 20);
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT reference) FROM requests"),
        20
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM photos"), 1);
    let refs = |d: &Device| {
        let mut r: Vec<(String, String)> = d
            .queue()
            .iter()
            .map(|row| {
                (
                    field(row, "id").to_string(),
                    field(row, "reference").to_string(),
                )
            })
            .collect();
        r.sort();
        r
    };
    assert_eq!(refs(&a), refs(&b), "both stores got the same references");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn same_id_diff_body() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let a = Device::new(&tmp.path().join("a"));
    a.enroll(&server);
    let id = a.capture(&[], &[]);
    let b = Device::new(&tmp.path().join("b"));
    copy_dir(&a.dir, &b.dir);
    a.ok(&["sync"]);

    // The restored copy edits the same record before sending it.
    {
        let mut store = DeviceStore::open(&b.dir).unwrap();
        let detail = store.incident_detail(id.parse().unwrap()).unwrap();
        let edited = Incident {
            comment: "Autre texte".into(),
            ..detail.incident
        };
        store.queue_incident(&edited).unwrap();
    }
    let output = b.run(&["sync"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("refusé"), "{}", stderr(&output));
    let row = b
        .queue()
        .into_iter()
        .find(|r| field(r, "id") == id)
        .unwrap();
    assert_eq!(field(&row, "local_state"), "frozen");
    assert_eq!(field(&row, "last_error_code"), "id_conflict");
    assert!(!field(&row, "last_error_message").is_empty());
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 1);
    let comment: String = db
        .query_row("SELECT comment FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_ne!(comment, "Autre texte");
}

#[test]
fn truncated_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let (p1, p2) = (tmp.path().join("1.jpg"), tmp.path().join("2.jpg"));
    write_jpeg(&p1, 1200, 900, 11);
    write_jpeg(&p2, 1200, 900, 12);
    let corrupted = device.capture(&[&p1], &[]);
    let truncated = device.capture(&[&p2], &[]);
    let sha_corrupted = photos_of(&device, &corrupted)[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let sha_truncated = photos_of(&device, &truncated)[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();

    // Same size, other bytes: only the server's whole-file check can tell (460).
    let path = device.dir.join("photos").join(&sha_corrupted);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 100] {
        *b ^= 0xff;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Shorter file: the device sees it before sending.
    let path = device.dir.join("photos").join(&sha_truncated);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();

    let output = device.run(&["sync"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("Le serveur a refusé cette photo : fichier endommagé. Reprenez la photo"),
        "{err}"
    );
    assert!(
        err.contains("tronqué") && err.contains("Reprenez la photo dans un nouveau signalement"),
        "{err}"
    );
    assert!(err.contains("photo(s) n'ont pas pu être envoyées"), "{err}");
    for (id, sha) in [(&corrupted, &sha_corrupted), (&truncated, &sha_truncated)] {
        let status = device.status(id);
        assert_eq!(field(&status, "local_state"), "acknowledged");
        assert_ne!(status["photos"][0]["upload_state"], "uploaded");
        assert!(!server_photo_path(&server_data, sha).exists());
    }
    assert_eq!(
        device.status(&corrupted)["photos"][0]["last_error"]
            .as_str()
            .map(|e| e.contains("fichier endommagé")),
        Some(true)
    );
    assert_eq!(
        count(
            &server.db(),
            "SELECT COUNT(*) FROM requests WHERE incomplete = 1"
        ),
        2
    );
}

#[test]
fn record_without_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let photo = tmp.path().join("p.jpg");
    write_jpeg(&photo, 1200, 900, 5);
    let with_photo = device.capture(&[&photo], &[]);
    let without_photo = device.capture(&[], &[]);

    // Uploads are cut: the records arrive, the one with a photo stays incomplete.
    let proxy = LossyProxy::start(server.addr, DropRule::AllUploads);
    let output = device.run(&["--server", &proxy.url(), "sync", "--max-retries", "0"]);
    assert!(!output.status.success());
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), 2);
    let incomplete = |id: &str| -> i64 {
        db.query_row("SELECT incomplete FROM requests WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(incomplete(&with_photo), 1);
    assert_eq!(incomplete(&without_photo), 0);
    assert_eq!(
        field(&device.status(&with_photo), "local_state"),
        "acknowledged"
    );

    // The next sync heals it.
    let output = device.run(&["--server", &server.url(), "sync"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(incomplete(&with_photo), 0);
    let sha = photos_of(&device, &with_photo)[0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(file_sha256(&server_photo_path(&server_data, &sha)), sha);
}

#[test]
fn clock_skew() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let now = chrono::Utc::now();
    let future = (now + chrono::Duration::days(730)).to_rfc3339();
    let past = (now - chrono::Duration::days(730)).to_rfc3339();
    let id_future = device.capture(&[], &["--observed-at", &future]);
    let id_past = device.capture(&[], &["--observed-at", &past]);
    device.ok(&["sync"]);
    // Server order follows arrival (its sequence), not the device clock.
    let db = server.db();
    let seq = |id: &str| -> i64 {
        db.query_row(
            "SELECT MIN(seq) FROM events WHERE request_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(seq(&id_future) < seq(&id_past));
    let observed: String = db
        .query_row(
            "SELECT body_json FROM requests WHERE id = ?1",
            [&id_future],
            |r| r.get(0),
        )
        .unwrap();
    let body: Incident = serde_json::from_str(&observed).unwrap();
    assert_eq!(
        body.observed_at.timestamp(),
        chrono::DateTime::parse_from_rfc3339(&future)
            .unwrap()
            .timestamp()
    );
    // Status still flows back to both.
    let reference = device.status(&id_future)["reference"]
        .as_str()
        .unwrap()
        .to_string();
    operator(&server_data, &["resolve", &reference]);
    device.ok(&["sync"]);
    assert_eq!(
        field(&device.status(&id_future), "server_state"),
        "resolved"
    );
    // The other one is still open (the server may have routed it on arrival).
    let past_state = device.status(&id_past)["server_state"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        ["received", "routed"].contains(&past_state.as_str()),
        "{past_state}"
    );
}

#[test]
fn captive_portal() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    for _ in 0..2 {
        device.capture(&[], &[]);
    }
    for answer in [PortalAnswer::Html, PortalAnswer::JsonWithoutProtocol] {
        let portal = CaptivePortal::start(answer);
        let output = device.run(&["--server", &portal.url(), "sync", "--max-retries", "1"]);
        assert!(!output.status.success(), "{answer:?}");
        assert!(
            stderr(&output).contains("portail captif"),
            "{answer:?}: {}",
            stderr(&output)
        );
        assert!(
            portal.n_requests.load(std::sync::atomic::Ordering::SeqCst) >= 2,
            "it retried"
        );
        for row in device.queue() {
            assert_eq!(
                field(&row, "local_state"),
                "queued",
                "{answer:?}: nothing acknowledged"
            );
            assert!(row["reference"].is_null());
        }
    }
    assert_eq!(count(&server.db(), "SELECT COUNT(*) FROM requests"), 0);
    let output = device.run(&["--server", &server.url(), "sync"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(count(&server.db(), "SELECT COUNT(*) FROM requests"), 2);
}

#[test]
fn power_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let n = 12;
    for seed in 0..n {
        let photo = tmp.path().join(format!("p{seed}.jpg"));
        write_jpeg(&photo, 1600, 1200, 100 + seed);
        device.capture(&[&photo], &[]);
    }
    // Kill -9 the sync at several points, repeatedly.
    for delay_ms in [5u64, 20, 40, 80, 120, 200, 300, 30, 60, 150] {
        let mut child = device
            .command(&["sync", "--chunk-size", "16384"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        for (id, state) in device.local_states() {
            assert!(
                ["queued", "sending", "acknowledged"].contains(&state.as_str()),
                "{id}: {state}"
            );
        }
        // The store opens (cleaning temp files) and every photo file is whole.
        let store = DeviceStore::open(&device.dir).unwrap();
        assert_eq!(store.list_queue().unwrap().len(), n as usize);
        drop(store);
        for entry in std::fs::read_dir(device.dir.join("photos")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            assert!(!name.contains(".tmp-"), "temp file left: {name}");
            if !name.ends_with(".jpg") {
                assert_eq!(file_sha256(&path), name);
            }
        }
    }
    sync_until_done(&device, 3);
    assert!(
        device
            .local_states()
            .iter()
            .all(|(_, s)| s == "acknowledged")
    );
    let db = server.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), n as i64);
    let incomplete: Vec<(String, String, i64)> = db
        .prepare(
            "SELECT r.id, rp.sha256, (SELECT COUNT(*) FROM photos p WHERE p.sha256 = rp.sha256)
             FROM requests r JOIN request_photos rp ON rp.request_id = r.id WHERE r.incomplete = 1",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let device_photos: Vec<Value> = incomplete
        .iter()
        .map(|(id, _, _)| device.status(id)["photos"].clone())
        .collect();
    assert!(
        incomplete.is_empty(),
        "incomplete on the server: {incomplete:?}; device: {device_photos:?}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM photos"), n as i64);
    let mut stmt = db.prepare("SELECT sha256 FROM photos").unwrap();
    let shas: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for sha in shas {
        assert_eq!(file_sha256(&server_photo_path(&server_data, &sha)), sha);
    }
}

#[test]
fn feed_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let id = device.capture(&[], &[]);
    device.ok(&["sync"]);
    let reference = device.status(&id)["reference"]
        .as_str()
        .unwrap()
        .to_string();
    operator(
        &server_data,
        &["schedule", &reference, "--date", "2026-07-01"],
    );
    device.ok(&["sync"]);
    let before = device.status(&id);
    assert_eq!(field(&before, "server_state"), "scheduled");

    // Forget the cursor: the whole feed is read again and changes nothing.
    {
        let conn = rusqlite::Connection::open(device.dir.join("device.db")).unwrap();
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'feed_cursor'", [])
            .unwrap();
        conn.execute("UPDATE incidents SET unread = 0", []).unwrap();
    }
    let n_events = |d: &Device| {
        let conn = rusqlite::Connection::open(d.dir.join("device.db")).unwrap();
        count(&conn, "SELECT COUNT(*) FROM status_events")
    };
    let events_before = n_events(&device);
    let before = device.status(&id);
    let output = device.ok(&["sync"]);
    assert!(
        output.contains("suivis reçus : 0") || output.contains("suivis reçus"),
        "{output}"
    );
    assert_eq!(
        device.status(&id),
        before,
        "replaying the feed changed nothing"
    );
    assert_eq!(n_events(&device), events_before);
    let conn = rusqlite::Connection::open(device.dir.join("device.db")).unwrap();
    let cursor: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'feed_cursor'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let server_max = count(&server.db(), "SELECT MAX(seq) FROM events");
    assert!(cursor.parse::<i64>().unwrap() <= server_max && cursor.parse::<i64>().unwrap() > 0);
}

#[test]
fn backlog_10k() {
    let tmp = tempfile::tempdir().unwrap();
    let server_data = tmp.path().join("server");
    let mut server = Server::start(&server_data);
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    let n = 10_000;
    {
        let mut store = DeviceStore::open(&device.dir).unwrap();
        let incidents: Vec<Incident> = (0..n)
            .map(|i| Incident {
                id: uuid::Uuid::now_v7(),
                walk_id: None,
                comment: format!("Dépôt sauvage n° {i}"),
                observed_at: chrono::Utc::now(),
                category: "proprete".into(),
                subcategory: "depot_sauvage".into(),
                extra: Default::default(),
                photos: vec![],
                position: Position::new(46.15 + (i as f64) * 1e-6, -1.15, Some(8.0)).unwrap(),
                lambert93: None,
                address: None,
                asset: None,
            })
            .collect();
        store.queue_incidents(&incidents).unwrap();
    }
    let mut sync = device
        .command(&["sync", "--max-retries", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak_kib = 0;
    let mut restarts_mid_sync = 0;
    for threshold in [2_000, 6_000] {
        loop {
            let stored = count(&server.db(), "SELECT COUNT(*) FROM requests");
            if stored >= threshold || sync.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak_kib = peak_kib.max(server.peak_rss_kib());
        if sync.try_wait().unwrap().is_none() {
            restarts_mid_sync += 1;
        }
        server.restart();
    }
    assert!(
        restarts_mid_sync >= 1,
        "the server was never restarted during the sync"
    );
    let status = sync.wait().unwrap();
    if !status.success() {
        sync_until_done(&device, 3);
    }
    peak_kib = peak_kib.max(server.peak_rss_kib());
    let db = server_db(&server_data);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM requests"), n as i64);
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT id) FROM requests"),
        n as i64
    );
    assert!(
        device
            .local_states()
            .iter()
            .all(|(_, s)| s == "acknowledged")
    );
    // 500-incident batches of ~600 bytes each are ~300 KB per request: a server that streams
    // them through SQLite stays far below 300 MB; 300 MB would mean the backlog is held in memory.
    eprintln!("backlog_10k: server peak RSS {} MiB", peak_kib / 1024);
    assert!(
        peak_kib > 0 && peak_kib < 300 * 1024,
        "server peak RSS {peak_kib} KiB"
    );
}

#[test]
fn unknown_token_asks_to_re_enrol() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let device = Device::new(&tmp.path().join("device"));
    device.enroll(&server);
    device.capture(&[], &[]);
    {
        let conn = rusqlite::Connection::open(device.dir.join("device.db")).unwrap();
        conn.execute(
            "UPDATE meta SET value = 'not-a-token' WHERE key = 'token'",
            [],
        )
        .unwrap();
    }
    let output = device.run(&["sync"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("enrôlez-le à nouveau"),
        "{}",
        stderr(&output)
    );
    assert!(
        device
            .queue()
            .iter()
            .all(|row| field(row, "local_state") == "queued")
    );
    assert_eq!(count(&server.db(), "SELECT COUNT(*) FROM requests"), 0);
}

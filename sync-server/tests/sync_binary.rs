//! Tests of the real `balade-sync` binary: serve on port 0, kill -9 in the middle of an upload,
//! restart on the same data directory; enrolment code on the last stdout line; operator CLI.

mod sync_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use balade_protocol::envelope::{EnrollRequest, EnrollResponse, PushRequest, PushResponse};
use sync_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_balade-sync");

/// A running server process; killed with SIGKILL on drop.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Served {
    let mut child = Command::new(BIN)
        .args([
            "--data",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"));
    Served {
        child,
        base: address.to_string(),
    }
}

fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn enroll_code(data: &Path) -> String {
    let out = cli(data, &["enroll", "--name", "Tablette voirie"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

async fn enroll(http: &reqwest::Client, base: &str, code: String) -> String {
    let response = http
        .post(format!("{base}/api/v1/enroll"))
        .json(&EnrollRequest {
            protocol: 1,
            code,
            device_name: String::new(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<EnrollResponse>().await.unwrap().token
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_mid_upload() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let code = enroll_code(&data);
    let http = reqwest::Client::new();
    let bytes = photo_bytes(1_000_000, 42);
    let photo = photo_ref(&bytes);

    let server = serve(&data);
    let token = enroll(&http, &server.base, code).await;
    let mut incident = pothole();
    incident.photos = vec![photo.clone()];
    let pushed: PushResponse = http
        .post(format!("{}/api/v1/push", server.base))
        .bearer_auth(&token)
        .json(&PushRequest::new(vec![], vec![incident]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pushed.results[0].missing_photos, vec![photo.sha256.clone()]);
    let created = tus_create(&http, &server.base, &token, &photo.sha256, bytes.len()).await;
    assert_eq!(created.status(), 201);
    let location = header(&created, "location");
    let half = bytes.len() / 2;
    let response = tus_patch(
        &http,
        &format!("{}{location}", server.base),
        &token,
        0,
        bytes[..half].to_vec(),
        None,
    )
    .await;
    assert_eq!(response.status(), 204);
    drop(server); // kill -9

    let server = serve(&data);
    let url = format!("{}{location}", server.base);
    let head = http
        .head(&url)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "upload-offset"), half.to_string());
    assert_eq!(header(&head, "upload-length"), bytes.len().to_string());
    let done = tus_patch(&http, &url, &token, half, bytes[half..].to_vec(), None).await;
    assert_eq!(done.status(), 204);
    let stored = std::fs::read(
        data.join("photos")
            .join(&photo.sha256[..2])
            .join(&photo.sha256),
    )
    .unwrap();
    assert_eq!(balade_protocol::incident::sha256_hex(&stored), photo.sha256);
    drop(server);
    let out = cli(&data, &["request", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["incomplete"], false);
    let conn = rusqlite_count(&data, "SELECT COUNT(*) FROM photos");
    assert_eq!(conn, 1);
}

fn rusqlite_count(data: &Path, sql: &str) -> i64 {
    let store = balade_sync::store::Store::open_blocking(data).unwrap();
    let sql = sql.to_string();
    store
        .with_conn(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .unwrap()
}

/// Snapshot of what operator commands could change.
fn store_snapshot(data: &Path) -> String {
    let store = balade_sync::store::Store::open_blocking(data).unwrap();
    store
        .with_conn(|c| {
            let requests: String = c.query_row(
                "SELECT group_concat(id || state || ifnull(service,'') || ifnull(planned_date,'') || last_seq, ';') FROM requests",
                [],
                |r| r.get(0),
            )?;
            let events: i64 = c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
            Ok(format!("{requests}|{events}"))
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_cli_errors_leave_the_store_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let code = enroll_code(&data);
    assert_eq!(code.replace('-', "").len(), 12, "{code}");
    let http = reqwest::Client::new();
    let (reference, tracking_code) = {
        let server = serve(&data);
        let token = enroll(&http, &server.base, code).await;
        let pushed: PushResponse = http
            .post(format!("{}/api/v1/push", server.base))
            .bearer_auth(&token)
            .json(&PushRequest::new(
                vec![],
                vec![pothole(), incident("proprete", "tags")],
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let first = &pushed.results[0];
        (
            first.reference.clone().unwrap(),
            first.tracking_code.clone().unwrap(),
        )
    };
    let before = store_snapshot(&data);
    let bad: Vec<Vec<&str>> = vec![
        vec!["request", "route", "LR-1999-000001", "--service", "voirie"],
        vec!["request", "route", &reference, "--service", "boulangerie"],
        vec!["request", "transfer", &reference, "--body", "voirie"],
        vec!["request", "schedule", &reference, "--date", "01/06/2026"],
        vec!["request", "refuse", &reference, "--reason", "   "],
        vec!["request", "duplicate", &reference, "--of", &reference],
        vec!["request", "duplicate", &reference, "--of", "LR-1999-000002"],
        vec!["request", "frobnicate", &reference],
        vec!["request", "route", &reference],
    ];
    for args in bad {
        let out = cli(&data, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty(), "{args:?} explains on stderr");
        assert_eq!(
            store_snapshot(&data),
            before,
            "{args:?} left the store untouched"
        );
    }
    // Valid commands, by reference and by tracking code.
    for args in [
        vec![
            "request",
            "schedule",
            &reference,
            "--date",
            "2026-06-01",
            "--note",
            "Équipe prévue",
        ],
        vec!["request", "start", &tracking_code],
        vec!["request", "resolve", &reference, "--note", "Rebouché"],
    ] {
        let out = cli(&data, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Resolved requests cannot be started again.
    let out = cli(&data, &["request", "start", &reference]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_state"));
    let list = cli(&data, &["request", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let resolved = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == reference.as_str())
        .unwrap();
    assert_eq!(resolved["state"], "resolved");
    assert!(resolved["l93_x"].as_f64().unwrap() > 300_000.0);
    let help = Command::new(BIN)
        .args(["request", "route", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
}

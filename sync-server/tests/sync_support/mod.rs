//! Shared helpers of the sync_* integration tests: a real server on a loopback port 0 with a
//! tempdir data directory, an enrolled device, incident builders and raw HTTP through reqwest.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use balade_protocol::envelope::{EnrollRequest, EnrollResponse, PushRequest, PushResponse};
use balade_protocol::incident::{Incident, PhotoRef, Position};
use balade_sync::state::{AppState, Config};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use uuid::Uuid;

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = Config::new(data, "127.0.0.1:0".parse().unwrap());
        let state = AppState::open(config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = balade_sync::app::app(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer {
            base: format!("http://{address}"),
            state,
            dir,
            http: reqwest::Client::new(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.state.data_dir.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fresh one-time enrolment code, made the way the CLI makes it.
    pub async fn enrollment_code(&self, name: &str) -> String {
        let name = name.to_string();
        self.state
            .store
            .call(move |c| balade_sync::api::auth::create_enrollment_code(c, &name))
            .await
            .unwrap()
    }

    /// Enrols a new device and returns its token.
    pub async fn device(&self) -> String {
        let code = self.enrollment_code("test").await;
        let response = self
            .http
            .post(self.url("/api/v1/enroll"))
            .json(&EnrollRequest {
                protocol: 1,
                code,
                device_name: "tablette".into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<EnrollResponse>().await.unwrap().token
    }

    pub async fn push(&self, token: &str, incidents: Vec<Incident>) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/push"))
            .bearer_auth(token)
            .json(&PushRequest::new(vec![], incidents))
            .send()
            .await
            .unwrap()
    }

    pub async fn push_ok(&self, token: &str, incidents: Vec<Incident>) -> PushResponse {
        let response = self.push(token, incidents).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// One integer from SQL.
    pub async fn count(&self, sql: &'static str) -> i64 {
        self.state
            .store
            .call(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    pub async fn n_requests(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM requests").await
    }
}

pub fn incident(category: &str, subcategory: &str) -> Incident {
    Incident {
        id: Uuid::now_v7(),
        walk_id: None,
        comment: "Nid-de-poule devant l'école".into(),
        observed_at: "2026-05-01T10:00:00Z".parse().unwrap(),
        category: category.into(),
        subcategory: subcategory.into(),
        extra: BTreeMap::new(),
        photos: vec![],
        position: Position::new(46.16, -1.15, Some(5.0)).unwrap(),
        lambert93: None,
        address: None,
        asset: None,
    }
}

pub fn pothole() -> Incident {
    incident("voirie", "nid_de_poule")
}

/// Deterministic pseudo-photo bytes.
pub fn photo_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub fn photo_ref(bytes: &[u8]) -> PhotoRef {
    PhotoRef {
        sha256: balade_protocol::incident::sha256_hex(bytes),
        size: bytes.len() as u64,
        mime: "image/jpeg".into(),
    }
}

/// tus POST; returns the Location path.
pub async fn tus_create(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sha256: &str,
    length: usize,
) -> reqwest::Response {
    let metadata = format!(
        "sha256 {},mime {}",
        B64.encode(sha256),
        B64.encode("image/jpeg")
    );
    http.post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .unwrap()
}

pub async fn tus_patch(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    offset: usize,
    chunk: Vec<u8>,
    checksum: Option<&[u8]>,
) -> reqwest::Response {
    let mut request = http
        .patch(url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string());
    if let Some(digest) = checksum {
        request = request.header("Upload-Checksum", format!("sha256 {}", B64.encode(digest)));
    }
    request.body(chunk).send().await.unwrap()
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

pub async fn error_code(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

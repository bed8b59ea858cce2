//! Shared set-up for the console tests: a real server (the whole `app()`) on a loopback port 0
//! over a real SQLite store in a temporary directory, console users, a device with a bearer
//! token, incidents stored through the server's own insert path, and a stored photo.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use balade_protocol::incident::{Address, Incident, PhotoRef, Position, Walk, sha256_hex};
use balade_sync::state::{AppState, Config};
use balade_sync::store::requests::{InsertOutcome, Source, insert_incident};
use uuid::Uuid;

pub struct Server {
    pub state: AppState,
    pub base: String,
    pub dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
    let state = AppState::open(config).unwrap();
    let app = balade_sync::app::app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    Server { state, base, dir }
}

/// The PNG used as a "photo" in tests (Leaflet's marker icon: a real image file).
pub const PHOTO: &[u8] =
    include_bytes!("../../../assets/console/vendor/leaflet/images/marker-icon-2x.png");

impl Server {
    pub fn add_user(&self, login: &str, password: &str, role: &str, services: &[&str]) {
        let services: Vec<String> = services.iter().map(|s| s.to_string()).collect();
        let taxonomy = self.state.taxonomy();
        let known: Vec<String> = taxonomy
            .services
            .iter()
            .chain(&taxonomy.outside_bodies)
            .map(|r| r.code.clone())
            .collect();
        self.state
            .store
            .with_conn(|c| {
                balade_sync::console::cli_user(c, login, password, role, &services, &known)
                    .unwrap();
                Ok(())
            })
            .unwrap();
    }

    /// A device row with a known bearer token (only its SHA-256 is stored, as the API does).
    pub fn add_device(&self, name: &str) -> (Uuid, String) {
        let id = Uuid::now_v7();
        let token = format!("test-token-{id}");
        let hash = balade_sync::store::secret_hash(&token);
        self.state
            .store
            .with_conn(|c| {
                c.execute(
                    "INSERT INTO devices (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![id.to_string(), name, hash, balade_sync::store::now_text()],
                )?;
                Ok(())
            })
            .unwrap();
        (id, token)
    }

    pub fn add_walk(&self, device: Uuid, title: &str, neighbourhood: &str) -> Uuid {
        let walk = Walk {
            id: Uuid::now_v7(),
            title: title.into(),
            neighbourhood: Some(neighbourhood.into()),
            started_at: chrono::Utc::now(),
            ended_at: None,
            participants: vec!["Élue de quartier".into()],
        };
        self.state
            .store
            .with_conn(|c| {
                c.execute(
                    "INSERT INTO walks (id, device_id, title, neighbourhood, started_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    rusqlite::params![
                        walk.id.to_string(),
                        device.to_string(),
                        walk.title,
                        walk.neighbourhood,
                        balade_sync::store::now_text()
                    ],
                )?;
                Ok(())
            })
            .unwrap();
        walk.id
    }

    /// Stores the test photo as the server does after a verified upload.
    pub fn store_photo(&self) -> PhotoRef {
        let sha = sha256_hex(PHOTO);
        let path = self.dir.path().join("photos").join(&sha[..2]).join(&sha);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, PHOTO).unwrap();
        self.state
            .store
            .with_conn(|c| {
                balade_sync::store::requests::photo_stored(c, &sha, PHOTO.len() as u64, "image/png")
            })
            .unwrap();
        PhotoRef {
            sha256: sha,
            size: PHOTO.len() as u64,
            mime: "image/png".into(),
        }
    }

    /// Stores any photo bytes as the server does after a verified upload.
    pub fn store_photo_bytes(&self, bytes: &[u8], mime: &str) -> PhotoRef {
        let sha = sha256_hex(bytes);
        let path = self.dir.path().join("photos").join(&sha[..2]).join(&sha);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        self.state
            .store
            .with_conn(|c| {
                balade_sync::store::requests::photo_stored(c, &sha, bytes.len() as u64, mime)
            })
            .unwrap();
        PhotoRef {
            sha256: sha,
            size: bytes.len() as u64,
            mime: mime.into(),
        }
    }

    /// Stores an incident through the server's insert path (arrival event + routing).
    /// Returns (id, reference, tracking code).
    pub fn add_incident(&self, device: Option<Uuid>, incident: Incident) -> (Uuid, String, String) {
        let taxonomy = self.state.taxonomy();
        let outcome = self
            .state
            .store
            .with_conn(|c| {
                balade_sync::store::write_tx(c, |tx| {
                    insert_incident(tx, &taxonomy, &incident, device, Source::Device)
                })
            })
            .unwrap();
        match outcome {
            InsertOutcome::Created(stored) => (stored.id, stored.reference, stored.tracking_code),
            other => panic!("not created: {other:?}"),
        }
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.state
            .store
            .with_conn(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

pub fn incident(category: &str, subcategory: &str, comment: &str, lat: f64, lon: f64) -> Incident {
    Incident {
        id: Uuid::now_v7(),
        walk_id: None,
        comment: comment.into(),
        observed_at: chrono::Utc::now(),
        category: category.into(),
        subcategory: subcategory.into(),
        extra: BTreeMap::new(),
        photos: vec![],
        position: Position::new(lat, lon, Some(6.0)).unwrap(),
        lambert93: None,
        address: Some(Address {
            label: "Rue Hoche, 17000 La Rochelle".into(),
            ..Default::default()
        }),
        asset: None,
    }
}

/// An HTTP client that keeps the console session by hand (no redirects followed).
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
}

pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: base.to_string(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        Answer {
            status,
            location,
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k, v);
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }

    /// Logs in through the real form; returns the answer to the POST.
    pub async fn login(&mut self, login: &str, password: &str) -> Answer {
        let page = self.get("/console/login").await;
        let csrf = hidden(&page.body, "csrf");
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("login", login), ("password", password)],
        )
        .await
    }

    /// The session's CSRF token, read from a console page.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/console/inbox").await;
        assert_eq!(page.status, 200, "{}", page.body);
        hidden(&page.body, "csrf")
    }
}

/// Value of the first hidden input with this name.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

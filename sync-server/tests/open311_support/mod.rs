//! Shared set-up for the open311 tests: a real server on a loopback port 0 over a real SQLite
//! store in a temporary directory, and an admin API key.
#![allow(dead_code)]

use balade_sync::state::{AppState, Config};

pub struct Server {
    pub state: AppState,
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
    let state = AppState::open(config).unwrap();
    let key = state
        .store
        .with_conn(|c| balade_sync::open311::apikeys::create_key(c, "fms"))
        .unwrap();
    let app = balade_sync::app::app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        state,
        base,
        key,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Server {
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> (u16, String, String) {
        let body: String = form_encode(pairs);
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }

    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        self.state
            .store
            .with_conn(|c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

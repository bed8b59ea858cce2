//! Work-order connector: services configured with a URL and a secret receive a signed webhook
//! when a request is routed to them; a background worker retries with exponential backoff and
//! full jitter, and after `max_attempts` failures the delivery becomes a dead letter that admins
//! list at `/api/v1/admin/connectors/dead-letters`. Answers come back as servicerequestupdates.
//!
//! Why it exists: a city's work-order system must learn about a request without polling us, and
//! must be able to trust and de-duplicate what it receives. **Invariants**: body signed with
//! `X-Balade-Signature: sha256=<hex HMAC-SHA256(secret, body)>`; `Idempotency-Key: <request
//! id>:<event seq>` is the same on every retry; a delivery is made at most once per routing
//! event (UNIQUE in `webhook_deliveries`). The worker follows `events` with its own cursor
//! (`connector_cursor`), so routing code elsewhere needs no hook; only routings made after a
//! connector was configured are sent (no replay of history).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use balade_protocol::taxonomy::Taxonomy;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use crate::store::{Store, StoreError, now_text, time_text};

/// Retry timing. `Default` is the product's (base 2 s, cap 15 min); tests use milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// How often the worker looks for new routing events and due deliveries.
    pub poll: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: uniform in [0, min(cap, base·2^attempt)].
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.min(30)))
            .min(self.cap);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

/// `sha256=<hex>` of the body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON body POSTed to a connector's URL when a request is routed to its service. Headers:
/// `X-Balade-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, `Idempotency-Key` (same value as
/// `idempotency_key`, stable across retries). Any 2xx acknowledges; answers come back later
/// through `POST /open311/v2/servicerequestupdates.json`.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookPayload {
    pub protocol: u32,
    /// `<request id>:<event seq>`.
    pub idempotency_key: String,
    pub event: WebhookEvent,
    pub request: WebhookRequest,
    pub callback: WebhookCallback,
}

/// The routing event that caused the delivery.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookEvent {
    pub seq: i64,
    pub kind: String,
    pub at: String,
    pub service_code: String,
}

/// The routed request's public fields.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookRequest {
    pub id: uuid::Uuid,
    pub service_request_id: String,
    pub service_code: String,
    pub service_name: Option<String>,
    pub subcategory: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub long: f64,
    pub requested_datetime: String,
}

/// Where the work-order system answers.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookCallback {
    /// Path of the FixMyStreet servicerequestupdates endpoint on this server.
    pub servicerequestupdates: String,
    pub service_request_id: String,
}

/// Configures (or replaces) the connector of a service.
pub fn set_connector(
    conn: &Connection,
    taxonomy: &Taxonomy,
    service: &str,
    url: &str,
    secret: &str,
    max_attempts: u32,
) -> Result<(), ConnectorError> {
    if !taxonomy.services.iter().any(|s| s.code == service) {
        return Err(ConnectorError::UnknownService(service.into()));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConnectorError::Url(url.into()));
    }
    if secret.len() < 16 {
        return Err(ConnectorError::ShortSecret);
    }
    conn.execute(
        "INSERT INTO connectors (service_code, url, secret, max_attempts, enabled, created_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)
         ON CONFLICT(service_code) DO UPDATE SET url = ?2, secret = ?3, max_attempts = ?4, enabled = 1",
        params![service, url, secret, max_attempts.max(1), now_text()],
    )
    .map_err(StoreError::from)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("service inconnu : {0}")]
    UnknownService(String),
    #[error("adresse invalide (http ou https attendu) : {0}")]
    Url(String),
    #[error("le secret doit faire au moins 16 caractères")]
    ShortSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `balade-sync connector set --service CODE --url URL --secret S [--max-attempts N]`.
pub fn cli_connector(
    data_dir: &std::path::Path,
    service: &str,
    url: &str,
    secret: &str,
    max_attempts: u32,
) -> anyhow::Result<()> {
    let store = Store::open_blocking(data_dir)?;
    let taxonomy = crate::state::load_taxonomy(data_dir)?;
    store.with_conn(|conn| {
        Ok(set_connector(
            conn,
            &taxonomy,
            service,
            url,
            secret,
            max_attempts,
        ))
    })??;
    Ok(())
}

/// Turns routing events after the cursor into deliveries for services with a connector.
pub fn enqueue_new_routings(
    conn: &mut Connection,
    taxonomy: &Taxonomy,
) -> Result<usize, StoreError> {
    crate::store::write_tx(conn, |tx| {
        let cursor: i64 = tx.query_row(
            "SELECT last_seq FROM connector_cursor WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = tx.prepare(
            "SELECT e.seq, e.request_id, e.service, e.at, c.service_code IS NOT NULL FROM events e
             LEFT JOIN connectors c ON c.service_code = e.service AND c.enabled = 1
               AND e.at >= c.created_at
             WHERE e.seq > ?1 AND e.kind = 'routed' ORDER BY e.seq LIMIT 500",
        )?;
        let found: Vec<(i64, String, Option<String>, String, bool)> = stmt
            .query_map([cursor], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let max_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
        let mut n = 0;
        for (seq, request_id, service, at, has_connector) in &found {
            let (Some(service), true) = (service, *has_connector) else {
                continue;
            };
            let id = crate::store::parse_uuid(request_id)?;
            let Some(row) = crate::store::requests::load(tx, id)? else {
                continue;
            };
            let body = WebhookPayload {
                protocol: balade_protocol::PROTOCOL_VERSION,
                idempotency_key: format!("{request_id}:{seq}"),
                event: WebhookEvent {
                    seq: *seq,
                    kind: "routed".into(),
                    at: at.clone(),
                    service_code: service.clone(),
                },
                request: WebhookRequest {
                    id: row.id,
                    service_request_id: row.reference.clone(),
                    service_code: row.category.clone(),
                    service_name: taxonomy.category(&row.category).map(|c| c.label_fr.clone()),
                    subcategory: row.subcategory.clone(),
                    description: row.comment.clone(),
                    address: row.address.clone(),
                    lat: row.lat,
                    long: row.lon,
                    requested_datetime: crate::open311::time::iso_paris(row.created_at),
                },
                callback: WebhookCallback {
                    servicerequestupdates: "/open311/v2/servicerequestupdates.json".into(),
                    service_request_id: row.reference.clone(),
                },
            };
            let body = serde_json::to_value(&body)?;
            n += tx.execute(
                "INSERT INTO webhook_deliveries (service_code, request_id, event_seq, body, next_attempt_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5) ON CONFLICT DO NOTHING",
                params![service, request_id, seq, body.to_string(), now_text()],
            )?;
        }
        // When the page was full, continue after its last row; else everything up to now is seen.
        let new_cursor = if found.len() == 500 {
            found.last().map(|f| f.0).unwrap_or(cursor)
        } else {
            max_seq
        };
        tx.execute(
            "UPDATE connector_cursor SET last_seq = ?1 WHERE id = 1",
            [new_cursor.max(cursor)],
        )?;
        Ok(n)
    })
}

/// One due delivery.
#[derive(Debug, Clone)]
struct Due {
    id: i64,
    url: String,
    secret: String,
    max_attempts: u32,
    attempts: u32,
    key: String,
    body: String,
}

fn due_deliveries(conn: &Connection) -> Result<Vec<Due>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT d.id, c.url, c.secret, c.max_attempts, d.attempts, d.request_id || ':' || d.event_seq, d.body
         FROM webhook_deliveries d JOIN connectors c ON c.service_code = d.service_code
         WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 ORDER BY d.id LIMIT 50",
    )?;
    let rows = stmt.query_map([now_text()], |r| {
        Ok(Due {
            id: r.get(0)?,
            url: r.get(1)?,
            secret: r.get(2)?,
            max_attempts: r.get(3)?,
            attempts: r.get(4)?,
            key: r.get(5)?,
            body: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sends one delivery; `Err` carries the failure text.
async fn send(client: &reqwest::Client, due: &Due) -> Result<(), String> {
    let response = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header(
            "x-balade-signature",
            signature(&due.secret, due.body.as_bytes()),
        )
        .header("idempotency-key", &due.key)
        .body(due.body.clone())
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status()))
    }
}

/// One worker round: enqueue, then attempt every due delivery. Returns attempts made.
pub async fn run_once(
    store: &Store,
    taxonomy: &Taxonomy,
    client: &reqwest::Client,
    policy: &RetryPolicy,
) -> Result<usize, StoreError> {
    let taxonomy = taxonomy.clone();
    store
        .call(move |conn| enqueue_new_routings(conn, &taxonomy))
        .await?;
    let due = store.call(|conn| due_deliveries(conn)).await?;
    for d in &due {
        let outcome = send(client, d).await;
        let attempts = d.attempts + 1;
        let (status, next, error) = match outcome {
            Ok(()) => ("delivered", Utc::now(), None),
            Err(e) if attempts >= d.max_attempts => ("dead", Utc::now(), Some(e)),
            Err(e) => {
                let delay = chrono::Duration::from_std(policy.delay(attempts)).unwrap_or_default();
                ("pending", Utc::now() + delay, Some(e))
            }
        };
        if let Some(e) = &error {
            tracing::warn!(delivery = d.id, attempts, status, "webhook failed: {e}");
        }
        let id = d.id;
        store
            .call(move |conn| {
                conn.execute(
                    "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4,
                        last_error = COALESCE(?5, last_error), updated_at = ?6 WHERE id = ?1",
                    params![id, status, attempts, time_text(next), error, now_text()],
                )?;
                Ok(())
            })
            .await?;
    }
    Ok(due.len())
}

/// Starts the background delivery task (call once from `serve`; tests call it with a fast policy).
pub fn spawn_connector_worker(state: AppState, policy: RetryPolicy) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .build()
            .expect("reqwest client builds");
        loop {
            if let Err(e) = run_once(&state.store, &state.taxonomy(), &client, &policy).await {
                tracing::error!("connector worker: {e}");
            }
            tokio::time::sleep(policy.poll).await;
        }
    })
}

/// Deliveries in a state (`dead` = the dead-letter list), newest first.
pub fn deliveries(conn: &Connection, status: &str) -> Result<Vec<Value>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.service_code, r.reference, d.event_seq, d.attempts, d.last_error, d.updated_at,
                d.request_id || ':' || d.event_seq
         FROM webhook_deliveries d JOIN requests r ON r.id = d.request_id
         WHERE d.status = ?1 ORDER BY d.id DESC LIMIT 1000",
    )?;
    let rows = stmt.query_map([status], |r| {
        Ok(json!({
            "id": r.get::<_, i64>(0)?,
            "service_code": r.get::<_, String>(1)?,
            "service_request_id": r.get::<_, String>(2)?,
            "event_seq": r.get::<_, i64>(3)?,
            "attempts": r.get::<_, i64>(4)?,
            "last_error": r.get::<_, Option<String>>(5)?,
            "updated_at": r.get::<_, String>(6)?,
            "idempotency_key": r.get::<_, String>(7)?,
        }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Routes: the admin dead-letter list.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/connectors/dead-letters", get(dead_letters))
}

/// `GET /api/v1/admin/connectors/dead-letters` (admin API key in `X-Api-Key`).
#[utoipa::path(get, path = "/api/v1/admin/connectors/dead-letters", tag = "connector",
    params(("X-Api-Key" = String, Header, description = "admin API key")),
    responses((status = 200, description = "deliveries that failed max_attempts times", body = Vec<Object>),
              (status = 401, body = balade_protocol::error::ErrorBody)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<ApiJson<Vec<Value>>, ApiError> {
    crate::open311::exports::require_admin_key(&state, &headers).await?;
    Ok(ApiJson(
        state.store.call(|conn| deliveries(conn, "dead")).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let policy = RetryPolicy::default();
        for attempt in 0..40 {
            let ceiling = Duration::from_secs(2)
                .saturating_mul(2u32.saturating_pow(attempt.min(30)))
                .min(policy.cap);
            assert!(policy.delay(attempt) <= ceiling);
        }
    }
}

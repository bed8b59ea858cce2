//! Device authentication (`Authorization: Bearer <token>`) and enrolment codes.
//!
//! Why it exists: a device proves who it is with the token it got at enrolment; the server keeps
//! only SHA-256 hashes of tokens and of one-time enrolment codes, so a copy of the database does
//! not let anyone impersonate a device.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use balade_protocol::error::ErrorCode;
use balade_protocol::tracking::TRACKING_ALPHABET;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{StoreError, now_text, parse_uuid, secret_hash};

/// An authenticated device (extractor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceAuth {
    pub device_id: Uuid,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(missing_token());
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(missing_token)?
            .to_string();
        let hash = secret_hash(&token);
        let device: Option<String> = state
            .store
            .call(move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT id FROM devices WHERE token_hash = ?1 AND revoked = 0",
                        [hash],
                        |r| r.get(0),
                    )
                    .optional()?)
            })
            .await?;
        match device {
            Some(id) => Ok(DeviceAuth {
                device_id: parse_uuid(&id)?,
            }),
            None => Err(ApiError::new(
                ErrorCode::InvalidToken,
                "Jeton d'appareil inconnu ou révoqué : réenrôlez l'appareil",
                "unknown or revoked device token",
            )),
        }
    }
}

fn missing_token() -> ApiError {
    ApiError::new(
        ErrorCode::MissingToken,
        "Jeton d'appareil manquant (en-tête Authorization: Bearer)",
        "missing bearer token",
    )
}

/// Length of an enrolment code, without its dashes.
pub const ENROLLMENT_CODE_LEN: usize = 12;

/// Normalises a typed enrolment code: dashes/spaces removed, upper case.
pub fn normalize_enrollment_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Makes and stores a one-time enrolment code for a device called `name`; returns it as
/// `XXXX-XXXX-XXXX` (the tracking-code alphabet: no 0/O/1/I/L).
pub fn create_enrollment_code(conn: &Connection, name: &str) -> Result<String, StoreError> {
    let bytes: [u8; ENROLLMENT_CODE_LEN] = rand::random();
    let raw: String = bytes
        .iter()
        .map(|b| TRACKING_ALPHABET[*b as usize % TRACKING_ALPHABET.len()] as char)
        .collect();
    conn.execute(
        "INSERT INTO enrollment_codes (code_hash, name, created_at) VALUES (?1, ?2, ?3)",
        params![secret_hash(&raw), name, now_text()],
    )?;
    Ok(format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]))
}

/// Exchanges a code for a new device and its token. `Ok(None)` when the code is unknown or used.
pub fn redeem_enrollment_code(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    device_name: &str,
) -> Result<Option<(Uuid, String)>, StoreError> {
    let hash = secret_hash(&normalize_enrollment_code(code));
    let name: Option<String> = tx
        .query_row(
            "SELECT name FROM enrollment_codes WHERE code_hash = ?1 AND used_at IS NULL",
            [&hash],
            |r| r.get(0),
        )
        .optional()?;
    let Some(name) = name else { return Ok(None) };
    let device_id = Uuid::now_v7();
    let token = hex::encode(rand::random::<[u8; 32]>());
    let now = now_text();
    let name = if device_name.trim().is_empty() {
        name
    } else {
        device_name.trim().to_string()
    };
    tx.execute(
        "INSERT INTO devices (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![device_id.to_string(), name, secret_hash(&token), now],
    )?;
    tx.execute(
        "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
        params![hash, now, device_id.to_string()],
    )?;
    Ok(Some((device_id, token)))
}

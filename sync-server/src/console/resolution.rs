//! "Resolve with a photo": the operator closes a request and attaches a photo of the work done.
//!
//! The photo goes into the same content-addressed store as device uploads (temp file, fsync,
//! rename to `<data>/photos/<aa>/<sha256>`), then one transaction records the photo, applies
//! [`Action::Resolve`] with its hash and lets citizens see it (`console_public_photos`).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Multipart;
use sha2::{Digest, Sha256};
use std::io::Write;

use super::auth;
use super::queries::{self, Scope};
use super::web::{Authed, PageError, db, urlencode};
use crate::actions::Action;
use crate::state::AppState;

/// Largest resolution photo accepted (same as device uploads).
pub const MAX_PHOTO_BYTES: usize = 30 * 1024 * 1024;

/// Mime type from the file's first bytes; only JPEG and PNG are accepted.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// Writes the photo durably into the content-addressed store; returns its hash.
fn store_file(data_dir: &std::path::Path, bytes: &[u8]) -> std::io::Result<String> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let target = crate::api::tus::photo_path(data_dir, &sha256);
    if target.exists() {
        return Ok(sha256);
    }
    let uploads = data_dir.join(crate::api::tus::UPLOADS_DIR);
    std::fs::create_dir_all(&uploads)?;
    let temp = uploads.join(format!("resolution-{}.part", auth::random_token()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        crate::api::tus::install_photo(data_dir, &temp, &sha256)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map(|()| sha256)
}

pub async fn resolve_with_photo(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let (mut parts, body): (Parts, _) = request.into_parts();
    let Authed(user) = Authed::from_request_parts(&mut parts, &state).await?;
    let request = axum::extract::Request::from_parts(parts, body);
    let mut multipart =
        <Multipart as axum::extract::FromRequest<AppState>>::from_request(request, &state)
            .await
            .map_err(|_| PageError::BadRequest("formulaire multipart attendu".into()))?;
    let (mut csrf, mut note, mut photo) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| PageError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| PageError::BadRequest("photo trop grande ou envoi interrompu".into()))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "note" => note = String::from_utf8_lossy(&bytes).into_owned(),
            "photo" => photo = bytes.to_vec(),
            _ => {}
        }
    }
    if !auth::constant_time_eq(&csrf, &user.csrf_token) {
        return Err(PageError::Forbidden);
    }
    let scope = Scope::of(&user);
    let taxonomy = state.taxonomy();
    let data_dir = state.data_dir.clone();
    let actor = user.actor();
    let (id, outcome) = db(&state, move |conn| {
        let id = queries::resolve_ref(conn, &reference)?.ok_or(PageError::NotFound)?;
        if queries::request_detail(conn, &scope, &id)?.is_none() {
            return Err(PageError::NotFound);
        }
        let photo = match (photo.is_empty(), sniff(&photo)) {
            (true, _) => None,
            (false, Some(mime)) => {
                let sha = store_file(&data_dir, &photo)
                    .map_err(|e| PageError::Internal(e.to_string()))?;
                Some((sha, mime, photo.len() as u64))
            }
            (false, None) => {
                return Ok((
                    id,
                    Err("La photo doit être un fichier JPEG ou PNG.".to_string()),
                ));
            }
        };
        let uuid: uuid::Uuid = id.parse().map_err(|_| PageError::NotFound)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some((sha, mime, size)) = &photo {
            crate::store::requests::photo_stored(&tx, sha, *size, mime)?;
            tx.execute(
                "INSERT OR IGNORE INTO console_public_photos (incident_id, sha256) VALUES (?1, ?2)",
                [&id, sha],
            )?;
        }
        let note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
        let action = Action::Resolve {
            note,
            photo: photo.map(|p| p.0),
        };
        Ok((
            id,
            super::request::commit_action(tx, &taxonomy, &actor, uuid, action)?,
        ))
    })
    .await?;
    let target = match outcome {
        Ok(()) => format!("/console/requests/{id}?ok=resolve"),
        Err(message) => format!("/console/requests/{id}?error={}", urlencode(&message)),
    };
    Ok(Redirect::to(&target).into_response())
}

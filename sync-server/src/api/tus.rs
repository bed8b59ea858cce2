//! Resumable photo uploads: tus 1.0.0 core + creation, checksum (sha256) and termination, under
//! `/api/v1/uploads`.
//!
//! Why it exists: photos are large and field networks drop; a device resumes from the server's
//! offset instead of starting again. Photos are content-addressed by SHA-256.
//!
//! **Invariants**: bodies are streamed to `<data>/uploads/<id>.part` (never buffered whole); the
//! file is fsynced before the new offset is committed, so the stored offset is always backed by
//! bytes on disk (a longer file after a crash is cut back to it); on the last byte the WHOLE file's
//! SHA-256 is checked against the metadata and only then moved (fsync + rename) to
//! `<data>/photos/<aa>/<sha256>`; a mismatch deletes the partial file. Upload ids are server-made
//! uuids (simple form) and are validated before they touch a path.

use std::collections::HashSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Mutex, OnceLock};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use balade_protocol::error::{ErrorBody, ErrorCode};
use balade_protocol::incident::is_sha256_hex;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::BodyExt;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use crate::api::auth::DeviceAuth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::requests::{photo_present, photo_stored};
use crate::store::{StoreError, now_text};

pub const TUS_VERSION: &str = "1.0.0";
pub const TUS_EXTENSIONS: &str = "creation,checksum,termination";
/// Folder of partial uploads, inside the data directory.
pub const UPLOADS_DIR: &str = "uploads";
/// Folder of verified photos, inside the data directory.
pub const PHOTOS_DIR: &str = "photos";
/// Mime types accepted for photos.
pub const ACCEPTED_MIME: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/heic"];

/// Where a verified photo lives: `<data>/photos/<aa>/<sha256>`. `sha256` must be valid hex.
pub fn photo_path(data_dir: &FsPath, sha256: &str) -> PathBuf {
    data_dir.join(PHOTOS_DIR).join(&sha256[..2]).join(sha256)
}

/// Moves a verified file into the content-addressed photo store: rename (atomic, same file
/// system) then fsync of the directory, so the photo is durable before any row says it exists.
/// Shared by tus uploads and device-export imports.
pub fn install_photo(data_dir: &FsPath, part: &FsPath, sha256: &str) -> std::io::Result<()> {
    let target = photo_path(data_dir, sha256);
    let dir = target.parent().expect("photo path has a parent");
    std::fs::create_dir_all(dir)?;
    std::fs::rename(part, &target)?;
    std::fs::File::open(dir)?.sync_all()
}

fn part_path(data_dir: &FsPath, id: &str) -> PathBuf {
    data_dir.join(UPLOADS_DIR).join(format!("{id}.part"))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn tus_error(code: ErrorCode, fr: &str, en: &str) -> ApiError {
    ApiError::new(code, fr, en)
}

fn invalid_tus(fr: &str, en: &str) -> ApiError {
    tus_error(ErrorCode::InvalidTusRequest, fr, en)
}

/// Adds `Tus-Resumable` to every answer and refuses (412) requests without the right version,
/// except `OPTIONS`.
pub async fn tus_layer(request: Request, next: Next) -> Response {
    let is_options = request.method() == axum::http::Method::OPTIONS;
    let version_ok = header_str(request.headers(), "tus-resumable") == Some(TUS_VERSION);
    let mut response = if is_options || version_ok {
        next.run(request).await
    } else {
        let body = ErrorBody::new(
            ErrorCode::InvalidTusRequest,
            "En-tête Tus-Resumable: 1.0.0 requis",
            "Tus-Resumable: 1.0.0 required",
        );
        let mut r = (StatusCode::PRECONDITION_FAILED, axum::Json(body)).into_response();
        r.headers_mut()
            .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
        r
    };
    response
        .headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    response
}

#[utoipa::path(options, path = "/api/v1/uploads", tag = "uploads", operation_id = "upload_options",
    responses((status = 204, description = "tus 1.0.0 capabilities (no Tus-Resumable needed)",
        headers(("Tus-Version" = String, description = "1.0.0"),
                ("Tus-Extension" = String, description = "creation,checksum,termination"),
                ("Tus-Checksum-Algorithm" = String, description = "sha256"),
                ("Tus-Max-Size" = u64, description = "largest photo in bytes (30 MiB)"),
                ("Tus-Resumable" = String, description = "1.0.0")))))]
pub async fn options(State(state): State<AppState>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    headers.insert(
        "tus-max-size",
        HeaderValue::from(state.config.max_upload_size),
    );
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// Parsed `Upload-Metadata`.
#[derive(Debug, Default)]
struct Metadata {
    sha256: Option<String>,
    mime: Option<String>,
    incident: Option<String>,
}

fn parse_metadata(text: &str) -> Result<Metadata, ApiError> {
    let mut meta = Metadata::default();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = B64
            .decode(value.trim())
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| {
                invalid_tus("Upload-Metadata illisible", "undecodable Upload-Metadata")
            })?;
        match key {
            "sha256" => meta.sha256 = Some(decoded),
            "mime" => meta.mime = Some(decoded),
            "incident" => meta.incident = Some(decoded),
            _ => {}
        }
    }
    Ok(meta)
}

/// One upload row.
#[derive(Debug, Clone)]
struct Upload {
    id: String,
    sha256: String,
    mime: String,
    length: u64,
    offset: u64,
}

fn location(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("/api/v1/uploads/{id}")).expect("ascii upload id")
}

#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads", operation_id = "upload_create", security(("bearer" = [])),
    params(("Tus-Resumable" = String, Header, description = "1.0.0, required (else 412)", pattern = r"^1\.0\.0$", example = "1.0.0"),
           ("Upload-Length" = u64, Header, description = "photo size in bytes (≤ Tus-Max-Size, else 413)", minimum = 0),
           ("Upload-Metadata" = String, Header,
            description = "comma-separated `key base64(value)` pairs: sha256 (lower-case hex SHA-256 of the whole photo), mime (image/jpeg, image/png, image/webp, image/heic), optional incident (uuid)",
            example = "sha256 ZTNiMGM0NDI5OGZjMWMxNDlhZmJmNGM4OTk2ZmI5MjQyN2FlNDFlNDY0OWI5MzRjYTQ5NTk5MWI3ODUyYjg1NQ==,mime aW1hZ2UvanBlZw==")),
    responses((status = 201, description = "upload created; Upload-Offset = Upload-Length when the photo is already stored (then complete)",
        headers(("Location" = String, description = "/api/v1/uploads/{id}"),
                ("Upload-Offset" = u64, description = "0, or the length when already stored"), ("Tus-Resumable" = String, description = "1.0.0"))),
              (status = 400, description = "invalid_tus_request (Upload-Length, Upload-Metadata, sha256) / invalid_field (incident)", body = balade_protocol::error::ErrorBody),
              (status = 403, description = "forbidden: the incident belongs to another device", body = balade_protocol::error::ErrorBody),
              (status = 413, description = "upload_too_large: Upload-Length above Tus-Max-Size", body = balade_protocol::error::ErrorBody),
              (status = 415, description = "unsupported_media_type: mime not accepted", body = balade_protocol::error::ErrorBody),
              (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody),
              (status = 412, description = "Tus-Resumable missing or not 1.0.0", headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Resumable" = String, description = "1.0.0")), body = balade_protocol::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: DeviceAuth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let length: u64 = header_str(&headers, "upload-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            invalid_tus(
                "En-tête Upload-Length manquant ou invalide",
                "missing or invalid Upload-Length",
            )
        })?;
    // An empty file is never a photo, and a zero-length upload would have no PATCH to finish it.
    if length == 0 {
        return Err(invalid_tus(
            "Photo vide (Upload-Length = 0)",
            "empty photo (Upload-Length = 0)",
        ));
    }
    if length > state.config.max_upload_size {
        return Err(tus_error(
            ErrorCode::UploadTooLarge,
            "Photo trop volumineuse",
            "upload larger than Tus-Max-Size",
        ));
    }
    let meta = parse_metadata(header_str(&headers, "upload-metadata").unwrap_or(""))?;
    let sha256 = meta.sha256.filter(|s| is_sha256_hex(s)).ok_or_else(|| {
        invalid_tus(
            "Métadonnée sha256 manquante ou invalide",
            "missing or invalid sha256 metadata",
        )
    })?;
    let mime = meta.mime.unwrap_or_default();
    if !ACCEPTED_MIME.contains(&mime.as_str()) {
        return Err(tus_error(
            ErrorCode::UnsupportedMediaType,
            "Type de photo non pris en charge",
            "unsupported photo mime type",
        ));
    }
    let incident = match meta.incident {
        Some(text) => Some(Uuid::parse_str(&text).map_err(|_| {
            ApiError::invalid_field("Identifiant de signalement invalide", "invalid incident id")
        })?),
        None => None,
    };
    let id = Uuid::new_v4().simple().to_string();
    let device = auth.device_id;
    let data_dir = state.data_dir.clone();
    let upload_id = id.clone();
    let created = state
        .store
        .write(move |tx| {
            if let Some(incident) = incident {
                let owner: Option<Option<String>> = tx
                    .query_row("SELECT device_id FROM requests WHERE id = ?1", [incident.to_string()], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if let Some(owner) = owner
                    && owner != Some(device.to_string())
                {
                    return Ok(Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "Ce signalement appartient à un autre appareil",
                        "incident belongs to another device",
                    )));
                }
            }
            let present = photo_present(tx, &sha256)?;
            let offset = if present { length } else { 0 };
            if !present {
                std::fs::create_dir_all(data_dir.join(UPLOADS_DIR))?;
                let file = std::fs::File::create_new(part_path(&data_dir, &upload_id))?;
                file.sync_all()?;
            }
            let now = now_text();
            tx.execute(
                "INSERT INTO uploads (id, device_id, sha256, mime, incident_id, length, \"offset\", created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    upload_id,
                    device.to_string(),
                    sha256,
                    mime,
                    incident.map(|i| i.to_string()),
                    length as i64,
                    offset as i64,
                    now
                ],
            )?;
            Ok(Ok(offset))
        })
        .await??;
    let mut response_headers = HeaderMap::new();
    response_headers.insert(header::LOCATION, location(&id));
    response_headers.insert("upload-offset", HeaderValue::from(created));
    Ok((StatusCode::CREATED, response_headers).into_response())
}

/// Checks an upload id from the path: 32 lower-case hex characters (a simple uuid).
fn check_id(id: &str) -> Result<(), ApiError> {
    let ok = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidUploadId,
            "Identifiant d'envoi invalide",
            "invalid upload id",
        ))
    }
}

fn upload_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "Envoi introuvable", "upload not found")
}

/// Loads the device's upload `id`, cutting the partial file back to the committed offset.
async fn load_upload(state: &AppState, device: Uuid, id: &str) -> Result<Upload, ApiError> {
    check_id(id)?;
    let id = id.to_string();
    let data_dir = state.data_dir.clone();
    let upload = state
        .store
        .call(move |conn| {
            let upload = conn
                .query_row(
                    "SELECT id, sha256, mime, length, \"offset\" FROM uploads WHERE id = ?1 AND device_id = ?2",
                    params![id, device.to_string()],
                    |r| {
                        Ok(Upload {
                            id: r.get(0)?,
                            sha256: r.get(1)?,
                            mime: r.get(2)?,
                            length: r.get::<_, i64>(3)? as u64,
                            offset: r.get::<_, i64>(4)? as u64,
                        })
                    },
                )
                .optional()?;
            if let Some(upload) = &upload
                && upload.offset < upload.length
            {
                let path = part_path(&data_dir, &upload.id);
                let on_disk = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if on_disk != upload.offset {
                    if on_disk < upload.offset {
                        return Err(StoreError::Corrupt(format!("upload {} shorter than its offset", upload.id)));
                    }
                    let file = std::fs::OpenOptions::new().write(true).open(&path)?;
                    file.set_len(upload.offset)?;
                    file.sync_all()?;
                }
            }
            Ok(upload)
        })
        .await?;
    upload.ok_or_else(upload_not_found)
}

#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads", operation_id = "upload_head", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id made by the server (uuid, simple form); anything else: 400 invalid_upload_id", pattern = r"^[0-9a-f]{32}$"), ("Tus-Resumable" = String, Header, description = "1.0.0, required (else 412)", pattern = r"^1\.0\.0$", example = "1.0.0")),
    responses((status = 200, description = "where the upload stands (no body)",
        headers(("Upload-Offset" = u64, description = "bytes stored so far"),
                ("Upload-Length" = u64), ("Cache-Control" = String, description = "no-store"), ("Tus-Resumable" = String, description = "1.0.0"))),
              (status = 400, description = "invalid_upload_id (no body: HEAD)"),
              (status = 401, description = "missing_token / invalid_token (no body: HEAD)"),
              (status = 404, description = "not_found: unknown upload or another device's (no body: HEAD)"),
              (status = 412, description = "Tus-Resumable missing or not 1.0.0 (no body: HEAD)",
               headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Resumable" = String, description = "1.0.0")))))]
pub async fn head(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let upload = load_upload(&state, auth.device_id, &id).await?;
    // A complete upload whose finishing step never ran (server killed in between) is finished
    // now, unless a PATCH is working on it at this moment.
    if let Some(_guard) = BusyGuard::claim(&upload.id) {
        finish_if_complete(&state, &upload).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert("upload-offset", HeaderValue::from(upload.offset));
    headers.insert("upload-length", HeaderValue::from(upload.length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::OK, headers).into_response())
}

/// Uploads being written right now: one PATCH at a time per upload.
fn busy() -> &'static Mutex<HashSet<String>> {
    static BUSY: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    BUSY.get_or_init(Default::default)
}

struct BusyGuard(String);

impl BusyGuard {
    /// Marks the upload busy, or `None` when another request already works on it.
    fn claim(id: &str) -> Option<BusyGuard> {
        let inserted = busy()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string());
        inserted.then(|| BusyGuard(id.to_string()))
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        busy()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0);
    }
}

fn parse_chunk_checksum(headers: &HeaderMap) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(value) = header_str(headers, "upload-checksum") else {
        return Ok(None);
    };
    let (algorithm, digest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != "sha256" {
        return Err(invalid_tus(
            "Algorithme de somme de contrôle non pris en charge",
            "unsupported checksum algorithm",
        ));
    }
    B64.decode(digest.trim())
        .ok()
        .filter(|d| d.len() == 32)
        .map(Some)
        .ok_or_else(|| invalid_tus("Upload-Checksum illisible", "undecodable Upload-Checksum"))
}

fn checksum_mismatch(fr: &str, en: &str) -> ApiError {
    tus_error(ErrorCode::ChecksumMismatch, fr, en)
}

#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads", operation_id = "upload_patch", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id made by the server (uuid, simple form); anything else: 400 invalid_upload_id", pattern = r"^[0-9a-f]{32}$"), ("Tus-Resumable" = String, Header, description = "1.0.0, required (else 412)", pattern = r"^1\.0\.0$", example = "1.0.0"),
           ("Upload-Offset" = u64, Header, description = "the offset the chunk starts at: must equal the server's (else 409)", minimum = 0),
           ("Upload-Checksum" = Option<String>, Header, description = "optional `sha256 base64(raw SHA-256 of this chunk)`; mismatch: 460, chunk discarded")),
    request_body(content = inline(crate::open311::openapi::OctetStream), content_type = "application/offset+octet-stream",
        description = "the next bytes of the photo"),
    responses((status = 204, description = "chunk stored (fsynced); on the last byte the whole file's SHA-256 was verified and the photo is present",
        headers(("Upload-Offset" = u64, description = "new offset"), ("Tus-Resumable" = String, description = "1.0.0"))),
              (status = 400, description = "invalid_upload_id / invalid_tus_request (Upload-Offset, Upload-Checksum)", body = balade_protocol::error::ErrorBody),
              (status = 404, description = "not_found: unknown upload or another device's", body = balade_protocol::error::ErrorBody),
              (status = 409, description = "offset_mismatch: Upload-Offset is not the server's, or the upload is busy", body = balade_protocol::error::ErrorBody),
              (status = 413, description = "upload_too_large: data beyond Upload-Length (chunk discarded)", body = balade_protocol::error::ErrorBody),
              (status = 415, description = "unsupported_media_type: Content-Type is not application/offset+octet-stream", body = balade_protocol::error::ErrorBody),
              (status = 460, description = "checksum_mismatch: chunk checksum wrong (chunk discarded) or whole-file SHA-256 wrong (upload deleted)", body = balade_protocol::error::ErrorBody),
              (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody),
              (status = 412, description = "Tus-Resumable missing or not 1.0.0", headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Resumable" = String, description = "1.0.0")), body = balade_protocol::error::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let content_type = header_str(&headers, "content-type").unwrap_or("");
    if content_type != "application/offset+octet-stream" {
        return Err(tus_error(
            ErrorCode::UnsupportedMediaType,
            "Content-Type: application/offset+octet-stream requis",
            "Content-Type must be application/offset+octet-stream",
        ));
    }
    let client_offset: u64 = header_str(&headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            invalid_tus(
                "En-tête Upload-Offset manquant ou invalide",
                "missing or invalid Upload-Offset",
            )
        })?;
    let expected_checksum = parse_chunk_checksum(&headers)?;
    check_id(&id)?;
    let Some(_guard) = BusyGuard::claim(&id) else {
        return Err(offset_mismatch(
            "Envoi déjà en cours pour cet identifiant",
            "upload is busy",
        ));
    };
    let upload = load_upload(&state, auth.device_id, &id).await?;
    if client_offset != upload.offset {
        return Err(offset_mismatch(
            &format!("Décalage {client_offset} attendu {}", upload.offset),
            &format!("offset {client_offset} does not match {}", upload.offset),
        ));
    }
    if upload.offset == upload.length {
        finish_if_complete(&state, &upload).await?;
        return Ok(patched(upload.offset));
    }
    let path = part_path(&state.data_dir, &upload.id);
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .await?;
    file.seek(std::io::SeekFrom::Start(upload.offset)).await?;
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    let mut body = request.into_body();
    let mut failure: Option<ApiError> = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                failure = Some(invalid_tus(
                    "Corps de requête interrompu",
                    &format!("body stream failed: {e}"),
                ));
                break;
            }
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if upload.offset + written + data.len() as u64 > upload.length {
            failure = Some(tus_error(
                ErrorCode::UploadTooLarge,
                "Données au-delà de Upload-Length",
                "data beyond Upload-Length",
            ));
            break;
        }
        if expected_checksum.is_some() {
            hasher.update(&data);
        }
        file.write_all(&data).await?;
        written += data.len() as u64;
    }
    // A chunk with a checksum is all or nothing; without one, keep what arrived (tus: store as
    // much as possible) unless it overflowed.
    let keep = match (&failure, &expected_checksum) {
        (Some(e), _) if e.code == ErrorCode::UploadTooLarge => false,
        (Some(_), Some(_)) => false,
        (None, Some(expected)) if hasher.finalize().as_slice() != expected.as_slice() => {
            failure = Some(checksum_mismatch(
                "Somme de contrôle du morceau incorrecte : morceau ignoré",
                "chunk checksum mismatch: chunk discarded",
            ));
            false
        }
        _ => true,
    };
    let new_offset = if keep {
        upload.offset + written
    } else {
        upload.offset
    };
    file.set_len(new_offset).await?;
    file.sync_all().await?;
    drop(file);
    let db_id = upload.id.clone();
    state
        .store
        .call(move |conn| {
            conn.execute(
                "UPDATE uploads SET \"offset\" = ?2, updated_at = ?3 WHERE id = ?1",
                params![db_id, new_offset as i64, now_text()],
            )?;
            Ok(())
        })
        .await?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    if new_offset == upload.length {
        finish_detached(&state, &upload).await?;
    }
    Ok(patched(new_offset))
}

/// Runs [`finish`] in its own task: if the client disconnects, axum drops the handler's future,
/// but the verification and the move into place still run to the end (otherwise the offset says
/// "complete" while the photo was never counted).
async fn finish_detached(state: &AppState, upload: &Upload) -> Result<(), ApiError> {
    let (state, upload) = (state.clone(), upload.clone());
    tokio::spawn(async move { finish(&state, &upload).await })
        .await
        .map_err(ApiError::internal)?
}

/// Finishes an upload whose bytes are all stored but whose partial file is still there (the
/// server stopped between saving the offset and finishing). Caller holds the busy guard.
async fn finish_if_complete(state: &AppState, upload: &Upload) -> Result<(), ApiError> {
    let part = part_path(&state.data_dir, &upload.id);
    if upload.offset == upload.length && tokio::fs::try_exists(&part).await.unwrap_or(false) {
        finish_detached(state, upload).await?;
    }
    Ok(())
}

fn offset_mismatch(fr: &str, en: &str) -> ApiError {
    tus_error(ErrorCode::OffsetMismatch, fr, en)
}

fn patched(offset: u64) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("upload-offset", HeaderValue::from(offset));
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// Last byte received: verify the whole file and move it into place, or delete it.
async fn finish(state: &AppState, upload: &Upload) -> Result<(), ApiError> {
    let part = part_path(&state.data_dir, &upload.id);
    let data_dir = state.data_dir.clone();
    let expected = upload.sha256.clone();
    let verified = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
        let mut file = std::fs::File::open(&part)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        if hex::encode(hasher.finalize()) != expected {
            std::fs::remove_file(&part)?;
            return Ok(false);
        }
        install_photo(&data_dir, &part, &expected)?;
        Ok(true)
    })
    .await
    .map_err(ApiError::internal)??;
    let (id, sha, mime, length) = (
        upload.id.clone(),
        upload.sha256.clone(),
        upload.mime.clone(),
        upload.length,
    );
    if !verified {
        state
            .store
            .call(move |conn| {
                conn.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
                Ok(())
            })
            .await?;
        return Err(checksum_mismatch(
            "La photo reçue ne correspond pas à son empreinte SHA-256 : renvoyez-la",
            "whole-file SHA-256 mismatch: upload deleted",
        ));
    }
    state
        .store
        .write(move |tx| photo_stored(tx, &sha, length, &mime))
        .await?;
    Ok(())
}

#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads", operation_id = "upload_delete", security(("bearer" = [])),
    params(("id" = String, Path, description = "upload id made by the server (uuid, simple form); anything else: 400 invalid_upload_id", pattern = r"^[0-9a-f]{32}$"), ("Tus-Resumable" = String, Header, description = "1.0.0, required (else 412)", pattern = r"^1\.0\.0$", example = "1.0.0")),
    responses((status = 204, description = "upload terminated, partial file deleted", headers(("Tus-Resumable" = String, description = "1.0.0"))),
              (status = 400, description = "invalid_upload_id", body = balade_protocol::error::ErrorBody),
              (status = 404, description = "not_found: unknown upload or another device's", body = balade_protocol::error::ErrorBody),
              (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody),
              (status = 412, description = "Tus-Resumable missing or not 1.0.0", headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Resumable" = String, description = "1.0.0")), body = balade_protocol::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let upload = load_upload(&state, auth.device_id, &id).await?;
    let path = part_path(&state.data_dir, &upload.id);
    state
        .store
        .call(move |conn| {
            conn.execute("DELETE FROM uploads WHERE id = ?1", [upload.id])?;
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

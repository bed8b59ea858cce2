//! Request rows: storing a pushed incident (idempotent by id), reading a request back, finding
//! one by reference / tracking code / uuid, photo presence and the "incomplete" flag.
//!
//! Why it exists: the push handler, the PUT handler, Open311 POST and the demo loader all create
//! requests; they share this one path so the reference, the tracking code, the `received` and
//! routing events and the photo bookkeeping are always made the same way.
//!
//! **Invariant**: a request row is created together with its `received` event and its first
//! routing event, in the caller's transaction.

use balade_protocol::error::{ErrorCode, ErrorDetail};
use balade_protocol::incident::{Incident, MAX_COMMENT_CHARS, MAX_PHOTOS};
use balade_protocol::status::State;
use balade_protocol::taxonomy::{Taxonomy, TaxonomyError};
use balade_protocol::tracking::{
    TRACKING_CODE_LEN, normalize_tracking_code, tracking_code_from_bytes,
};
use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::store::{StoreError, now_text, parse_time, parse_uuid, time_text};

/// Prefix of human references (`LR-2026-000123`).
pub const REFERENCE_PREFIX: &str = "LR";

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Device,
    Open311,
    Console,
    /// A device export file imported by an operator (`balade-sync import-device-export`):
    /// stored as the device's own request (its provenance goes to `device_imports`).
    Import,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Device => "device",
            Source::Open311 => "open311",
            Source::Console => "console",
            Source::Import => "device",
        }
    }
}

/// The current view of one request (operator corrections applied).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: Uuid,
    pub reference: String,
    pub tracking_code: String,
    pub device_id: Option<Uuid>,
    pub walk_id: Option<Uuid>,
    pub source: String,
    pub content_hash: String,
    pub category: String,
    pub subcategory: String,
    pub comment: String,
    pub observed_at: chrono::DateTime<chrono::Utc>,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub l93_x: Option<f64>,
    pub l93_y: Option<f64>,
    pub address: Option<String>,
    pub state: State,
    pub service: Option<String>,
    pub outside_body: Option<String>,
    pub planned_date: Option<NaiveDate>,
    pub duplicate_of: Option<Uuid>,
    pub incomplete: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub last_seq: i64,
}

/// Columns read by [`RequestRow::from_row`], in order.
pub const REQUEST_COLUMNS: &str = "id, reference, tracking_code, device_id, walk_id, source, \
    content_hash, category, subcategory, comment, observed_at, lat, lon, accuracy_m, l93_x, l93_y, \
    address, state, service, outside_body, planned_date, duplicate_of, incomplete, created_at, \
    updated_at, last_seq";

fn opt_uuid(text: Option<String>) -> Result<Option<Uuid>, StoreError> {
    text.as_deref().map(parse_uuid).transpose()
}

impl RequestRow {
    /// Reads a row selected with [`REQUEST_COLUMNS`].
    pub fn from_row(row: &Row<'_>) -> Result<RequestRow, StoreError> {
        let state: String = row.get(17)?;
        let planned: Option<String> = row.get(20)?;
        Ok(RequestRow {
            id: parse_uuid(&row.get::<_, String>(0)?)?,
            reference: row.get(1)?,
            tracking_code: row.get(2)?,
            device_id: opt_uuid(row.get(3)?)?,
            walk_id: opt_uuid(row.get(4)?)?,
            source: row.get(5)?,
            content_hash: row.get(6)?,
            category: row.get(7)?,
            subcategory: row.get(8)?,
            comment: row.get(9)?,
            observed_at: parse_time(&row.get::<_, String>(10)?)?,
            lat: row.get(11)?,
            lon: row.get(12)?,
            accuracy_m: row.get(13)?,
            l93_x: row.get(14)?,
            l93_y: row.get(15)?,
            address: row.get(16)?,
            state: State::from_code(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("state {state:?}")))?,
            service: row.get(18)?,
            outside_body: row.get(19)?,
            planned_date: planned
                .map(|d| {
                    d.parse()
                        .map_err(|e| StoreError::Corrupt(format!("date {d:?}: {e}")))
                })
                .transpose()?,
            duplicate_of: opt_uuid(row.get(21)?)?,
            incomplete: row.get(22)?,
            created_at: parse_time(&row.get::<_, String>(23)?)?,
            updated_at: parse_time(&row.get::<_, String>(24)?)?,
            last_seq: row.get(25)?,
        })
    }
}

/// Loads a request by id.
pub fn load(conn: &Connection, id: Uuid) -> Result<Option<RequestRow>, StoreError> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(RequestRow::from_row(row)?)),
        None => Ok(None),
    }
}

/// Finds a request by what an operator types: the human reference (`LR-2026-000123`, case
/// ignored), the tracking code (dashes/spaces/case ignored) or the uuid.
pub fn find(conn: &Connection, text: &str) -> Result<Option<RequestRow>, StoreError> {
    let text = text.trim();
    if let Ok(id) = Uuid::parse_str(text) {
        return load(conn, id);
    }
    let by_reference: Option<String> = conn
        .query_row(
            "SELECT id FROM requests WHERE reference = ?1",
            [text.to_ascii_uppercase()],
            |r| r.get(0),
        )
        .optional()?;
    let id = match by_reference {
        Some(id) => Some(id),
        None => match normalize_tracking_code(text) {
            Some(code) => conn
                .query_row(
                    "SELECT id FROM requests WHERE tracking_code = ?1",
                    [code],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        },
    };
    match id {
        Some(id) => load(conn, parse_uuid(&id)?),
        None => Ok(None),
    }
}

/// What storing one incident did.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    Created(StoredRequest),
    /// Same id, same content hash: the first answer again.
    AlreadyStored(StoredRequest),
    /// Same id, different body.
    Conflict {
        reference: String,
    },
    /// Refused: validation failed or the id belongs to someone else.
    Rejected(ErrorDetail),
}

/// Identity of a stored request, as answered to the device.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub id: Uuid,
    pub reference: String,
    pub tracking_code: String,
    pub missing_photos: Vec<String>,
}

fn detail(code: ErrorCode, fr: impl Into<String>, en: impl Into<String>) -> ErrorDetail {
    ErrorDetail {
        code,
        message: fr.into(),
        message_en: en.into(),
    }
}

/// Checks an incident before storing it: position, comment, photos, taxonomy.
pub fn validate_incident(taxonomy: &Taxonomy, incident: &Incident) -> Result<(), ErrorDetail> {
    if let Err(e) = incident.position.validate() {
        return Err(detail(
            ErrorCode::InvalidPosition,
            format!("Position invalide : {e}"),
            e.to_string(),
        ));
    }
    if incident.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(detail(
            ErrorCode::InvalidField,
            format!("Commentaire trop long (plus de {MAX_COMMENT_CHARS} caractères)"),
            format!("comment longer than {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if incident.photos.len() > MAX_PHOTOS {
        return Err(detail(
            ErrorCode::InvalidField,
            format!("Trop de photos (au plus {MAX_PHOTOS})"),
            format!("too many photos (at most {MAX_PHOTOS})"),
        ));
    }
    if let Some(photo) = incident.photos.iter().find(|p| !p.has_valid_hash()) {
        return Err(detail(
            ErrorCode::InvalidField,
            "Empreinte SHA-256 de photo invalide",
            format!("invalid photo sha256 {:?}", photo.sha256),
        ));
    }
    taxonomy.validate_incident(incident).map_err(|e| match e {
        TaxonomyError::UnknownCategory(c) => detail(
            ErrorCode::UnknownCategory,
            format!("Catégorie inconnue : {c}"),
            format!("unknown category {c}"),
        ),
        TaxonomyError::UnknownSubcategory {
            category,
            subcategory,
        } => detail(
            ErrorCode::UnknownSubcategory,
            format!("Sous-catégorie inconnue : {subcategory} (catégorie {category})"),
            format!("unknown sub-category {subcategory} in category {category}"),
        ),
        other => detail(
            ErrorCode::InvalidField,
            format!("Réponse invalide : {other}"),
            other.to_string(),
        ),
    })
}

/// Stores one incident, idempotently by id, inside the caller's (IMMEDIATE) transaction.
pub fn insert_incident(
    tx: &rusqlite::Transaction<'_>,
    taxonomy: &Taxonomy,
    incident: &Incident,
    device_id: Option<Uuid>,
    source: Source,
) -> Result<InsertOutcome, StoreError> {
    let hash = incident.content_hash();
    if let Some(existing) = load(tx, incident.id)? {
        if !may_send_again(&existing, device_id, source) {
            return Ok(InsertOutcome::Rejected(detail(
                ErrorCode::Forbidden,
                "Cet identifiant appartient à un autre appareil",
                "this incident id belongs to another device",
            )));
        }
        if existing.content_hash == hash {
            if source == Source::Device && existing.device_id.is_none() {
                // Imported from the export of a device not enrolled then: the device that
                // made it, now syncing, takes it over (and receives its status changes).
                tx.execute(
                    "UPDATE requests SET device_id = ?2 WHERE id = ?1 AND device_id IS NULL",
                    params![existing.id.to_string(), device_id.map(|d| d.to_string())],
                )?;
            }
            let missing_photos = missing_photos(tx, existing.id)?;
            return Ok(InsertOutcome::AlreadyStored(StoredRequest {
                id: existing.id,
                reference: existing.reference,
                tracking_code: existing.tracking_code,
                missing_photos,
            }));
        }
        return Ok(InsertOutcome::Conflict {
            reference: existing.reference,
        });
    }
    if let Err(problem) = validate_incident(taxonomy, incident) {
        return Ok(InsertOutcome::Rejected(problem));
    }

    let now = chrono::Utc::now();
    let now_s = time_text(now);
    let reference = next_reference(tx, now.year())?;
    let tracking_code = new_tracking_code(tx)?;
    let l93 = crate::geo::lambert93_of(&incident.position);
    tx.execute(
        "INSERT INTO requests (id, reference, tracking_code, device_id, walk_id, source, content_hash,
            body_json, category, subcategory, comment, observed_at, lat, lon, accuracy_m, l93_x, l93_y,
            address, state, incomplete, created_at, updated_at, last_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            'received', 0, ?19, ?19, 0)",
        params![
            incident.id.to_string(),
            reference,
            tracking_code,
            device_id.map(|d| d.to_string()),
            incident.walk_id.map(|w| w.to_string()),
            source.code(),
            hash,
            serde_json::to_string(incident)?,
            incident.category,
            incident.subcategory,
            incident.comment,
            time_text(incident.observed_at),
            incident.position.lat,
            incident.position.lon,
            incident.position.accuracy_m,
            l93.map(|p| p.0),
            l93.map(|p| p.1),
            incident.address.as_ref().map(|a| a.label.clone()),
            now_s,
        ],
    )?;
    for (idx, photo) in incident.photos.iter().enumerate() {
        tx.execute(
            "INSERT INTO request_photos (request_id, sha256, idx, size, mime) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                incident.id.to_string(),
                photo.sha256,
                idx as i64,
                photo.size as i64,
                photo.mime
            ],
        )?;
    }
    refresh_incomplete(tx, incident.id)?;
    crate::actions::record_arrival(tx, taxonomy, incident.id)?;
    let missing_photos = missing_photos(tx, incident.id)?;
    Ok(InsertOutcome::Created(StoredRequest {
        id: incident.id,
        reference,
        tracking_code,
        missing_photos,
    }))
}

/// Whether an incident id already stored may be sent again by this sender (an identical body
/// is then "already stored", a different one a conflict). A device re-sends its own requests,
/// including those an operator imported from its export file, and takes over the ones imported
/// from an export made before it was enrolled (device requests with no device id exist only
/// that way; same id and identical body required). An import, run by an operator, may meet
/// any request: only identical content counts as stored.
fn may_send_again(existing: &RequestRow, device_id: Option<Uuid>, source: Source) -> bool {
    match source {
        Source::Import => true,
        Source::Device => {
            existing.source == Source::Device.code()
                && (existing.device_id == device_id || existing.device_id.is_none())
        }
        Source::Open311 | Source::Console => {
            existing.device_id == device_id && existing.source == source.code()
        }
    }
}

/// Next `LR-<year>-<NNNNNN>` for the year, from the per-year counter.
pub fn next_reference(conn: &Connection, year: i32) -> Result<String, StoreError> {
    let n: i64 = conn.query_row(
        "INSERT INTO reference_counters (year, last) VALUES (?1, 1)
         ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last",
        [year],
        |r| r.get(0),
    )?;
    Ok(format!("{REFERENCE_PREFIX}-{year}-{n:06}"))
}

/// A tracking code not used yet (random, retried on collision).
pub fn new_tracking_code(conn: &Connection) -> Result<String, StoreError> {
    for _ in 0..32 {
        let code = tracking_code_from_bytes(rand::random::<[u8; TRACKING_CODE_LEN]>());
        let taken: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM requests WHERE tracking_code = ?1)",
            [&code],
            |r| r.get(0),
        )?;
        if !taken {
            return Ok(code);
        }
    }
    Err(StoreError::Corrupt(
        "no free tracking code after 32 tries".into(),
    ))
}

/// Photo hashes a request references that the server does not hold, in photo order, once each.
pub fn missing_photos(conn: &Connection, request_id: Uuid) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT rp.sha256 FROM request_photos rp
         WHERE rp.request_id = ?1 AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = rp.sha256)
         ORDER BY rp.idx",
    )?;
    let mut out: Vec<String> = Vec::new();
    for sha in stmt.query_map([request_id.to_string()], |r| r.get::<_, String>(0))? {
        let sha = sha?;
        if !out.contains(&sha) {
            out.push(sha);
        }
    }
    Ok(out)
}

/// Recomputes one request's `incomplete` flag.
pub fn refresh_incomplete(conn: &Connection, request_id: Uuid) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE requests SET incomplete = EXISTS (
            SELECT 1 FROM request_photos rp WHERE rp.request_id = requests.id
              AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = rp.sha256))
         WHERE id = ?1",
        [request_id.to_string()],
    )?;
    Ok(())
}

/// Records a verified photo and heals every request that was waiting only for it.
pub fn photo_stored(
    conn: &Connection,
    sha256: &str,
    size: u64,
    mime: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO photos (sha256, size, mime, stored_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(sha256) DO NOTHING",
        params![sha256, size as i64, mime, now_text()],
    )?;
    conn.execute(
        "UPDATE requests SET incomplete = EXISTS (
            SELECT 1 FROM request_photos rp WHERE rp.request_id = requests.id
              AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = rp.sha256))
         WHERE id IN (SELECT request_id FROM request_photos WHERE sha256 = ?1)",
        [sha256],
    )?;
    Ok(())
}

/// True when the server holds the photo.
pub fn photo_present(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM photos WHERE sha256 = ?1)",
        [sha256],
        |r| r.get(0),
    )?)
}

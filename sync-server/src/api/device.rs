//! Device routes: enrolment, taxonomy, push (batch upsert), PUT of one incident, status feed,
//! and the citizens' tracking view.
//!
//! Why it exists: these are the JSON routes of the device contract; each one is a thin handler
//! around one store transaction.
//!
//! **Invariant**: a push batch is ONE `BEGIN IMMEDIATE` transaction; results come back one per
//! incident, in request order; a retry of a stored incident answers the same reference.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::envelope::{
    EnrollRequest, EnrollResponse, FeedPage, MAX_PUSH_BATCH, PushItemResult, PushOutcome,
    PushRequest, PushResponse, TrackingView,
};
use balade_protocol::error::{ErrorCode, ErrorDetail};
use balade_protocol::incident::{Incident, Walk};
use balade_protocol::taxonomy::Taxonomy;
use balade_protocol::tracking::normalize_tracking_code;
use rusqlite::params;
use serde::Deserialize;
use uuid::Uuid;

use crate::actions::{EVENT_COLUMNS, public_timeline, status_event_from_row};
use crate::api::auth::{DeviceAuth, redeem_enrollment_code};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use crate::store::requests::{self, InsertOutcome, Source};
use crate::store::{StoreError, now_text, time_text};

fn check_protocol(protocol: u32) -> Result<(), ApiError> {
    if protocol == PROTOCOL_VERSION {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::UnsupportedProtocol,
        format!(
            "Version de protocole {protocol} non prise en charge (attendu {PROTOCOL_VERSION}) : mettez l'application à jour"
        ),
        format!("unsupported protocol {protocol}, expected {PROTOCOL_VERSION}"),
    ))
}

#[utoipa::path(post, path = "/api/v1/enroll", tag = "device", request_body = balade_protocol::envelope::EnrollRequest,
    responses((status = 200, body = balade_protocol::envelope::EnrollResponse), (status = 400, description = "malformed_json / invalid_field / unsupported_protocol", body = balade_protocol::error::ErrorBody), (status = 413, body = balade_protocol::error::ErrorBody), (status = 415, body = balade_protocol::error::ErrorBody),
              (status = 403, description = "invalid_enrollment_code", body = balade_protocol::error::ErrorBody)))]
pub async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<ApiJson<EnrollResponse>, ApiError> {
    check_protocol(request.protocol)?;
    let redeemed = state
        .store
        .write(move |tx| redeem_enrollment_code(tx, &request.code, &request.device_name))
        .await?;
    match redeemed {
        Some((device_id, token)) => Ok(ApiJson(EnrollResponse {
            protocol: PROTOCOL_VERSION,
            device_id,
            token,
        })),
        None => Err(ApiError::new(
            ErrorCode::InvalidEnrollmentCode,
            "Code d'enrôlement inconnu ou déjà utilisé",
            "unknown or already used enrolment code",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/taxonomy", tag = "device", security(("bearer" = [])),
    responses((status = 200, body = balade_protocol::taxonomy::Taxonomy), (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody)))]
pub async fn taxonomy(State(state): State<AppState>, _auth: DeviceAuth) -> ApiJson<Taxonomy> {
    ApiJson(state.taxonomy())
}

pub fn item_result(id: Uuid, outcome: InsertOutcome) -> PushItemResult {
    let empty = PushItemResult {
        id,
        outcome: PushOutcome::Rejected,
        reference: None,
        tracking_code: None,
        missing_photos: Vec::new(),
        error: None,
    };
    match outcome {
        InsertOutcome::Created(stored) => PushItemResult {
            outcome: PushOutcome::Created,
            reference: Some(stored.reference),
            tracking_code: Some(stored.tracking_code),
            missing_photos: stored.missing_photos,
            ..empty
        },
        InsertOutcome::AlreadyStored(stored) => PushItemResult {
            outcome: PushOutcome::AlreadyStored,
            reference: Some(stored.reference),
            tracking_code: Some(stored.tracking_code),
            missing_photos: stored.missing_photos,
            ..empty
        },
        InsertOutcome::Conflict { .. } => PushItemResult {
            outcome: PushOutcome::Conflict,
            error: Some(conflict_detail()),
            ..empty
        },
        InsertOutcome::Rejected(detail) => PushItemResult {
            error: Some(detail),
            ..empty
        },
    }
}

fn conflict_detail() -> ErrorDetail {
    ErrorDetail {
        code: ErrorCode::IdConflict,
        message: "Un signalement avec cet identifiant existe déjà avec un contenu différent".into(),
        message_en: "an incident with this id is already stored with a different body".into(),
    }
}

/// Upserts a walk owned by `device_id` (a walk of another device is left untouched). A walk
/// imported from an export with no device (`device_id` NULL) is taken over by the device that
/// sends it later.
pub fn upsert_walk(
    tx: &rusqlite::Transaction<'_>,
    device_id: Option<Uuid>,
    walk: &Walk,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO walks (id, device_id, title, neighbourhood, started_at, ended_at, participants_json, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET device_id = COALESCE(walks.device_id, excluded.device_id),
            title = excluded.title, neighbourhood = excluded.neighbourhood,
            started_at = excluded.started_at, ended_at = excluded.ended_at,
            participants_json = excluded.participants_json, updated_at = excluded.updated_at
         WHERE walks.device_id IS excluded.device_id OR walks.device_id IS NULL",
        params![
            walk.id.to_string(),
            device_id.map(|d| d.to_string()),
            walk.title,
            walk.neighbourhood,
            time_text(walk.started_at),
            walk.ended_at.map(time_text),
            serde_json::to_string(&walk.participants)?,
            now_text(),
        ],
    )?;
    Ok(())
}

/// Stores a batch in one transaction; one result per incident, in order.
pub async fn store_batch(
    state: &AppState,
    device_id: Uuid,
    walks: Vec<Walk>,
    incidents: Vec<Incident>,
) -> Result<Vec<PushItemResult>, ApiError> {
    let taxonomy = state.taxonomy();
    let results = state
        .store
        .write(move |tx| {
            for walk in &walks {
                upsert_walk(tx, Some(device_id), walk)?;
            }
            let mut results = Vec::with_capacity(incidents.len());
            for incident in &incidents {
                let outcome = requests::insert_incident(
                    tx,
                    &taxonomy,
                    incident,
                    Some(device_id),
                    Source::Device,
                )?;
                results.push(item_result(incident.id, outcome));
            }
            Ok(results)
        })
        .await?;
    Ok(results)
}

#[utoipa::path(post, path = "/api/v1/push", tag = "device", security(("bearer" = [])), request_body = balade_protocol::envelope::PushRequest,
    responses((status = 200, body = balade_protocol::envelope::PushResponse), (status = 400, description = "malformed_json / invalid_field / unsupported_protocol", body = balade_protocol::error::ErrorBody), (status = 413, body = balade_protocol::error::ErrorBody), (status = 415, body = balade_protocol::error::ErrorBody), (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody)))]
pub async fn push(
    State(state): State<AppState>,
    auth: DeviceAuth,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<ApiJson<PushResponse>, ApiError> {
    check_protocol(request.protocol)?;
    if request.incidents.len() > MAX_PUSH_BATCH {
        return Err(ApiError::invalid_field(
            format!("Lot trop grand : au plus {MAX_PUSH_BATCH} signalements par envoi"),
            format!("batch too large: at most {MAX_PUSH_BATCH} incidents"),
        ));
    }
    let results = store_batch(&state, auth.device_id, request.walks, request.incidents).await?;
    Ok(ApiJson(PushResponse {
        protocol: PROTOCOL_VERSION,
        results,
    }))
}

#[utoipa::path(put, path = "/api/v1/incidents/{id}", tag = "device", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = balade_protocol::incident::Incident,
    responses((status = 201, body = balade_protocol::envelope::PushResponse), (status = 200, body = balade_protocol::envelope::PushResponse),
              (status = 400, description = "malformed_json / invalid_field / unsupported_protocol", body = balade_protocol::error::ErrorBody), (status = 413, body = balade_protocol::error::ErrorBody), (status = 415, body = balade_protocol::error::ErrorBody), (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody), (status = 403, body = balade_protocol::error::ErrorBody), (status = 404, body = balade_protocol::error::ErrorBody), (status = 409, description = "id_conflict", body = balade_protocol::error::ErrorBody),
              (status = 422, description = "unknown_category etc.", body = balade_protocol::error::ErrorBody)))]
pub async fn put_incident(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(id): Path<Uuid>,
    ApiJson(incident): ApiJson<Incident>,
) -> Result<Response, ApiError> {
    if incident.id != id {
        return Err(ApiError::invalid_field(
            "L'identifiant de l'adresse et celui du corps diffèrent",
            "path id and body id differ",
        ));
    }
    let mut results = store_batch(&state, auth.device_id, Vec::new(), vec![incident]).await?;
    let result = results
        .pop()
        .ok_or_else(|| ApiError::internal("empty push result"))?;
    let status = match result.outcome {
        PushOutcome::Created => StatusCode::CREATED,
        PushOutcome::AlreadyStored => StatusCode::OK,
        PushOutcome::Conflict | PushOutcome::Rejected => {
            let detail = result.error.unwrap_or_else(conflict_detail);
            return Err(ApiError::from(detail));
        }
    };
    let body = PushResponse {
        protocol: PROTOCOL_VERSION,
        results: vec![result],
    };
    Ok((status, ApiJson(body)).into_response())
}

/// Query of `GET /api/v1/feed`.
#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    pub since: i64,
    pub limit: Option<u32>,
}

pub const DEFAULT_FEED_LIMIT: u32 = 200;
pub const MAX_FEED_LIMIT: u32 = 1000;

#[utoipa::path(get, path = "/api/v1/feed", tag = "device", security(("bearer" = [])),
    params(("since" = Option<i64>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = balade_protocol::envelope::FeedPage), (status = 400, body = balade_protocol::error::ErrorBody), (status = 401, description = "missing_token / invalid_token", body = balade_protocol::error::ErrorBody)))]
pub async fn feed(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Query(query): Query<FeedQuery>,
) -> Result<ApiJson<FeedPage>, ApiError> {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_FEED_LIMIT)
        .clamp(1, MAX_FEED_LIMIT) as i64;
    let since = query.since.max(0);
    let taxonomy = state.taxonomy();
    let device = auth.device_id.to_string();
    let taxonomy_version = taxonomy.version.clone();
    let (events, has_more) = state
        .store
        .call(move |conn| {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN requests r ON r.id = e.request_id
                 WHERE e.public = 1 AND e.seq > ?1
                   AND (r.device_id = ?2 OR e.request_id IN
                        (SELECT duplicate_of FROM requests WHERE device_id = ?2 AND duplicate_of IS NOT NULL))
                 ORDER BY e.seq LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![since, device, limit + 1])?;
            let mut events = Vec::new();
            while let Some(row) = rows.next()? {
                events.push(status_event_from_row(&taxonomy, row)?);
            }
            let has_more = events.len() as i64 > limit;
            events.truncate(limit as usize);
            Ok((events, has_more))
        })
        .await?;
    let next_cursor = events.last().map_or(since, |e| e.seq);
    Ok(ApiJson(FeedPage {
        protocol: PROTOCOL_VERSION,
        events,
        next_cursor,
        has_more,
        taxonomy_version,
    }))
}

#[utoipa::path(get, path = "/api/v1/track/{code}", tag = "device", params(("code" = String, Path)),
    responses((status = 200, body = balade_protocol::envelope::TrackingView), (status = 404, body = balade_protocol::error::ErrorBody)))]
pub async fn track(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<ApiJson<TrackingView>, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            "Code de suivi inconnu",
            "unknown tracking code",
        )
    };
    let code = normalize_tracking_code(&code).ok_or_else(not_found)?;
    let taxonomy = state.taxonomy();
    let view = state
        .store
        .call(move |conn| {
            let id: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
                "SELECT id FROM requests WHERE tracking_code = ?1",
                [&code],
                |r| r.get(0),
            ))?;
            let Some(id) = id else { return Ok(None) };
            let Some(row) = requests::load(conn, crate::store::parse_uuid(&id)?)? else {
                return Ok(None);
            };
            let timeline = public_timeline(conn, &taxonomy, row.id)?;
            let category = taxonomy.category(&row.category);
            let subcategory = category.and_then(|c| c.subcategory(&row.subcategory));
            Ok(Some(TrackingView {
                protocol: PROTOCOL_VERSION,
                tracking_code: row.tracking_code,
                reference: row.reference,
                category: category.map_or(row.category.clone(), |c| c.label_fr.clone()),
                subcategory: subcategory.map_or(row.subcategory.clone(), |s| s.label_fr.clone()),
                state: row.state,
                address: row.address,
                timeline,
            }))
        })
        .await?;
    view.map(ApiJson).ok_or_else(not_found)
}

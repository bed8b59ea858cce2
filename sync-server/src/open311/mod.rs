//! The ecosystem's standards: Open311 GeoReport v2 (JSON and XML) with FixMyStreet's
//! servicerequestupdates, GIS exports (CSV, GeoJSON WGS84 and Lambert-93), the work-order
//! connector (signed webhooks with retries and dead letters) and the generated OpenAPI document.
//!
//! Why it exists: other systems (FixMyStreet, city back offices, QGIS) talk to Balade through
//! standards, not through the device protocol. Everything here reads and writes the same store
//! through `crate::store::requests` and `crate::actions`, so Open311 requests get references,
//! tracking codes, routing and status events exactly like device reports.
//!
//! Routes: `/open311/v2/services.{json|xml}`, `/open311/v2/services/{code}.{fmt}`,
//! `/open311/v2/requests.{fmt}` (GET, POST), `/open311/v2/requests/{id}.{fmt}`,
//! `/open311/v2/tokens/{token}.{fmt}`, `/open311/v2/servicerequestupdates.{fmt}` (GET, POST),
//! `/open311/v2/media/{service_request_id}/{sha256}` (operator-allowed photos, see [`media`]),
//! `/api/v1/exports/requests.{csv|csv-fr|geojson|geojson-l93}`, `/api/v1/exports/walks/{id}.{…}`,
//! `/api/v1/admin/connectors/dead-letters`, `/api/openapi.json`.
//!
//! Errors under `/open311/` are always the GeoReport error list (`[{"code","description"}]` or
//! `<errors><error>…`) in the asked format, including a wrong HTTP method: 405 + `Allow`.

pub mod apikeys;
pub mod cli;
pub mod connector;
pub mod exports;
pub mod format;
pub mod media;
pub mod openapi;
pub mod requests;
pub mod services;
pub mod time;
pub mod updates;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::open311::apikeys::{ApiKey, verify_key};
use crate::open311::format::{Format, Open311Error, render, split_format};
use crate::open311::requests::{Pairs, one, parse_pairs};
use crate::state::AppState;
use crate::store::StoreError;

pub use crate::open311::apikeys::cli_apikey;
pub use crate::open311::connector::{cli_connector, spawn_connector_worker};
pub use crate::open311::exports::cli_export;

/// Largest Open311 POST body (a description is at most 4000 characters).
pub const MAX_FORM_BODY: usize = 64 * 1024;

/// Routes of this module (merged by `crate::app::app`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{file}",
            get(top_get)
                .post(top_post)
                .fallback(|request: axum::extract::Request| {
                    method_not_allowed(request, "GET,HEAD,POST")
                }),
        )
        .route(
            "/open311/v2/services/{file}",
            get(service_definition).fallback(|request: axum::extract::Request| {
                method_not_allowed(request, "GET,HEAD")
            }),
        )
        .route(
            "/open311/v2/requests/{file}",
            get(request_one).fallback(|request: axum::extract::Request| {
                method_not_allowed(request, "GET,HEAD")
            }),
        )
        .route(
            "/open311/v2/tokens/{file}",
            get(token).fallback(|request: axum::extract::Request| {
                method_not_allowed(request, "GET,HEAD")
            }),
        )
        .route(
            "/open311/v2/media/{service_request_id}/{sha256}",
            get(media::photo).fallback(|request: axum::extract::Request| {
                method_not_allowed(request, "GET,HEAD")
            }),
        )
        .merge(exports::router())
        .merge(connector::router())
        .merge(openapi::router())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FORM_BODY))
}

type Answer = Result<Response, Open311Error>;

/// A method the route does not serve: 405 with the `Allow` header and an Open311 error list in
/// the asked format (path suffix or `format` parameter; JSON when unreadable), instead of axum's
/// bare 405. 405 rather than 400: GeoReport v2 only asks for the error list, not a status, and
/// HTTP clients and proxies understand 405 + `Allow`; the body's `code` repeats the status as
/// for every other Open311 error.
async fn method_not_allowed(request: axum::extract::Request, allow: &'static str) -> Response {
    let pairs = query_pairs(&request.uri().query().map(str::to_string));
    let last_segment = request.uri().path().rsplit('/').next().unwrap_or("");
    let format = format_of(last_segment, &pairs)
        .map(|(_, f)| f)
        .unwrap_or(Format::Json);
    let description = format!(
        "Méthode {} non prise en charge pour cette adresse (méthodes acceptées : {allow})",
        request.method()
    );
    let mut response =
        Open311Error::new(StatusCode::METHOD_NOT_ALLOWED, description, format).into_response();
    response.headers_mut().insert(
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static(allow),
    );
    response
}

fn query_pairs(query: &Option<String>) -> Pairs {
    parse_pairs(query.as_deref().unwrap_or("").as_bytes())
}

fn format_of(file: &str, pairs: &Pairs) -> Result<(String, Format), Open311Error> {
    let param = pairs
        .iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.as_str());
    split_format(file, param)
}

fn store_error(e: StoreError, format: Format) -> Open311Error {
    match e {
        StoreError::Action(a) if a.code() != balade_protocol::error::ErrorCode::Internal => {
            let status =
                StatusCode::from_u16(a.code().http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let status = if status == StatusCode::NOT_FOUND {
                status
            } else {
                StatusCode::BAD_REQUEST
            };
            Open311Error::new(status, a.message_fr(), format)
        }
        other => Open311Error::internal(other, format),
    }
}

/// Verifies the `api_key` field (403 when missing or unknown).
async fn require_key(
    state: &AppState,
    key: Option<&str>,
    format: Format,
) -> Result<ApiKey, Open311Error> {
    let Some(key) = key.map(str::to_string) else {
        return Err(Open311Error::forbidden("api_key est obligatoire", format));
    };
    state
        .store
        .call(move |conn| verify_key(conn, &key))
        .await
        .map_err(|e| store_error(e, format))?
        .ok_or_else(|| Open311Error::forbidden("api_key invalide", format))
}

fn ok(format: Format, root: &str, value: &Value) -> Answer {
    Ok(render(StatusCode::OK, format, root, value))
}

/// `GET /open311/v2/services.{format}`, `requests.{format}`, `servicerequestupdates.{format}`.
#[utoipa::path(get, path = "/open311/v2/{resource}.{format}", tag = "open311",
    params(("resource" = String, Path, description = "services | requests | servicerequestupdates"),
           ("format" = String, Path, description = "json | xml"),
           ("service_request_id" = Option<String>, Query, description = "comma-separated references"),
           ("service_code" = Option<String>, Query), ("status" = Option<String>, Query, description = "open | closed"),
           ("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query),
           ("updated_after" = Option<String>, Query), ("updated_before" = Option<String>, Query),
           ("page" = Option<u32>, Query), ("page_size" = Option<u32>, Query), ("extensions" = Option<bool>, Query)),
    responses((status = 200, description = "services, service_requests or service_request_updates", body = Vec<Object>),
              (status = 400, description = "[{code, description}]", body = Vec<Object>),
              (status = 404, description = "[{code, description}]", body = Vec<Object>)))]
pub async fn top_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Answer {
    let pairs = query_pairs(&query);
    let (stem, format) = format_of(&file, &pairs)?;
    match stem.as_str() {
        "services" => ok(format, "services", &services::services(&state.taxonomy())),
        "requests" => {
            let q = requests::parse_list_query(&pairs, format, chrono::Utc::now())?;
            let taxonomy = state.taxonomy();
            let media_base = media::public_base(&headers);
            let list = state
                .store
                .call(move |conn| requests::list(conn, &taxonomy, &q, &media_base))
                .await
                .map_err(|e| store_error(e, format))?;
            ok(format, "service_requests", &Value::Array(list))
        }
        "servicerequestupdates" => {
            let q = requests::parse_list_query(&pairs, format, chrono::Utc::now())?;
            let (start, end) = (
                q.start.unwrap_or_default(),
                q.end.unwrap_or_else(chrono::Utc::now),
            );
            let limit = q.page_size;
            let list = state
                .store
                .call(move |conn| updates::list(conn, start, end, limit))
                .await
                .map_err(|e| store_error(e, format))?;
            ok(format, "service_request_updates", &Value::Array(list))
        }
        _ => Err(requests::not_found("Ressource", format)),
    }
}

/// `POST /open311/v2/requests.{format}` and `servicerequestupdates.{format}` (form-encoded).
#[utoipa::path(post, path = "/open311/v2/{resource}.{format}", tag = "open311",
    params(("resource" = String, Path, description = "requests | servicerequestupdates"),
           ("format" = String, Path, description = "json | xml")),
    request_body(content_type = "application/x-www-form-urlencoded", content = Object,
        description = "requests: api_key, service_code, lat+long | address_string | address_id, attribute[code], description, media_url, email…; \
                       servicerequestupdates: api_key, update_id, service_request_id, status, updated_datetime, description, media_url, external_status_code"),
    responses((status = 201, description = "[{service_request_id, service_notice, account_id, token}]", body = Vec<Object>),
              (status = 200, description = "[{update_id, service_request_id, applied}]", body = Vec<Object>),
              (status = 403, body = Vec<Object>), (status = 400, description = "[{code, description}]: unknown format, bad parameter", body = Vec<Object>),
              (status = 404, body = Vec<Object>)))]
pub async fn top_post(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Answer {
    let query = query_pairs(&query);
    let (stem, format) = format_of(&file, &query)?;
    let pairs = parse_pairs(&body);
    match stem.as_str() {
        "requests" => {
            let key = require_key(&state, one(&pairs, "api_key", format)?, format).await?;
            let taxonomy = state.taxonomy();
            let new = requests::check_post(&taxonomy, &pairs, format)?;
            let answer = state
                .store
                .write(move |tx| requests::store_post(tx, &taxonomy, &key, &new))
                .await
                .map_err(|e| store_error(e, format))?;
            match answer {
                Ok(item) => Ok(render(
                    StatusCode::CREATED,
                    format,
                    "service_requests",
                    &Value::Array(vec![item]),
                )),
                Err(detail) => Err(Open311Error::bad_request(detail.message, format)),
            }
        }
        "servicerequestupdates" => {
            let key = require_key(&state, one(&pairs, "api_key", format)?, format).await?;
            let update = updates::check(&pairs, format)?;
            let taxonomy = state.taxonomy();
            let answer = state
                .store
                .write(move |tx| updates::apply(tx, &taxonomy, &key, &update))
                .await
                .map_err(|e| store_error(e, format))?
                .ok_or_else(|| requests::not_found("Demande", format))?;
            ok(
                format,
                "service_request_updates",
                &Value::Array(vec![answer]),
            )
        }
        _ => Err(requests::not_found("Ressource", format)),
    }
}

/// `GET /open311/v2/services/{code}.{format}`: the service definition.
#[utoipa::path(get, path = "/open311/v2/services/{service_code}.{format}", tag = "open311",
    params(("service_code" = String, Path), ("format" = String, Path, description = "json | xml")),
    responses((status = 200, description = "service definition", body = Object), (status = 400, description = "[{code, description}]: unknown format, bad parameter", body = Vec<Object>),
              (status = 404, body = Vec<Object>)))]
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let (code, format) = format_of(&file, &query_pairs(&query))?;
    let definition = services::definition(&state.taxonomy(), &code)
        .ok_or_else(|| requests::not_found(&format!("Service {code}"), format))?;
    ok(format, "service_definition", &definition)
}

/// `GET /open311/v2/requests/{id}.{format}`: one request (an array of one).
#[utoipa::path(get, path = "/open311/v2/requests/{service_request_id}.{format}", tag = "open311",
    params(("service_request_id" = String, Path), ("format" = String, Path, description = "json | xml"),
           ("extensions" = Option<bool>, Query)),
    responses((status = 200, description = "[request]", body = Vec<Object>), (status = 400, description = "[{code, description}]: unknown format, bad parameter", body = Vec<Object>),
              (status = 404, body = Vec<Object>)))]
pub async fn request_one(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Answer {
    let pairs = query_pairs(&query);
    let (id, format) = format_of(&file, &pairs)?;
    let extensions = one(&pairs, "extensions", format)? == Some("true");
    let taxonomy = state.taxonomy();
    let lookup = id.clone();
    let media_base = media::public_base(&headers);
    let found = state
        .store
        .call(move |conn| requests::get_one(conn, &taxonomy, &lookup, extensions, &media_base))
        .await
        .map_err(|e| store_error(e, format))?
        .ok_or_else(|| requests::not_found(&format!("Demande {id}"), format))?;
    ok(format, "service_requests", &Value::Array(vec![found]))
}

/// `GET /open311/v2/tokens/{token}.{format}`.
#[utoipa::path(get, path = "/open311/v2/tokens/{token}.{format}", tag = "open311",
    params(("token" = String, Path), ("format" = String, Path, description = "json | xml")),
    responses((status = 200, description = "[{service_request_id, token}]", body = Vec<Object>), (status = 400, description = "[{code, description}]: unknown format, bad parameter", body = Vec<Object>),
              (status = 404, body = Vec<Object>)))]
pub async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let (token, format) = format_of(&file, &query_pairs(&query))?;
    let lookup = token.clone();
    let reference = state
        .store
        .call(move |conn| requests::token_reference(conn, &lookup))
        .await
        .map_err(|e| store_error(e, format))?
        .ok_or_else(|| requests::not_found("Jeton", format))?;
    let value = serde_json::json!([{ "service_request_id": reference, "token": token }]);
    ok(format, "service_requests", &value)
}

//! GIS and spreadsheet exports of an inbox selection or of a walk: CSV (UTF-8, `,`), French
//! spreadsheet CSV (`;`, decimal comma, UTF-8 BOM), GeoJSON in WGS84 and GeoJSON in Lambert-93
//! declaring EPSG:2154 so QGIS places it without asking.
//!
//! Why it exists: services plan work in spreadsheets and QGIS; the export is the batch hand-over
//! (also per service: `service=CODE`). Same filters as the console inbox: state, category,
//! service, walk, dates. Operator-only: a console session (an operator sees only their services) or an admin API
//! key (`X-Api-Key`).

use std::io::Write;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use balade_protocol::error::ErrorCode;
use balade_protocol::incident::Position;
use balade_protocol::status::State as RequestState;
use chrono::NaiveDate;
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::ApiError;
use crate::open311::requests::parse_pairs;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::requests::{REQUEST_COLUMNS, RequestRow};

/// Lambert-93 (x, y) of a WGS84 position, `None` when it does not project.
pub fn lambert93(lat: f64, lon: f64) -> (Option<f64>, Option<f64>) {
    let Ok(position) = Position::new(lat, lon, None) else {
        return (None, None);
    };
    let xy = balade_protocol::geo::lambert93::to_lambert93(&position);
    if xy.x.is_finite() && xy.y.is_finite() {
        (Some(xy.x), Some(xy.y))
    } else {
        (None, None)
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    CsvFr,
    GeoJson,
    GeoJsonL93,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text {
            "csv" => Some(ExportFormat::Csv),
            "csv-fr" => Some(ExportFormat::CsvFr),
            "geojson" => Some(ExportFormat::GeoJson),
            "geojson-l93" => Some(ExportFormat::GeoJsonL93),
            _ => None,
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvFr => "text/csv; charset=utf-8",
            ExportFormat::GeoJson | ExportFormat::GeoJsonL93 => "application/geo+json",
        }
    }
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvFr => "csv",
            ExportFormat::GeoJson | ExportFormat::GeoJsonL93 => "geojson",
        }
    }
}

/// The inbox filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportFilter {
    pub states: Vec<RequestState>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub walk: Option<Uuid>,
    /// Creation day range, inclusive.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Scope of an operator: only these services (empty = no restriction). Not a query parameter.
    pub scope_services: Vec<String>,
}

/// Why an export filter is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("état inconnu : {0}")]
    State(String),
    #[error("identifiant de balade invalide : {0}")]
    Walk(String),
    #[error("date invalide (AAAA-MM-JJ) : {0}")]
    Date(String),
    #[error("paramètre inconnu : {0}")]
    Unknown(String),
}

impl ExportFilter {
    /// From `state=a,b&category=&service=&walk=&from=&to=` pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<ExportFilter, FilterError> {
        let mut f = ExportFilter::default();
        for (k, v) in pairs {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            match k.as_str() {
                "state" => {
                    for s in v.split(',') {
                        f.states.push(
                            RequestState::from_code(s.trim())
                                .ok_or_else(|| FilterError::State(s.into()))?,
                        );
                    }
                }
                "category" => f.category = Some(v.into()),
                "service" => f.service = Some(v.into()),
                "walk" => {
                    f.walk = Some(Uuid::parse_str(v).map_err(|_| FilterError::Walk(v.into()))?)
                }
                "from" => f.from = Some(v.parse().map_err(|_| FilterError::Date(v.into()))?),
                "to" => f.to = Some(v.parse().map_err(|_| FilterError::Date(v.into()))?),
                other => return Err(FilterError::Unknown(other.into())),
            }
        }
        Ok(f)
    }
}

/// One exported request (public and operator fields, no personal data, no device id).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub request: RequestRow,
    pub walk_title: Option<String>,
    pub x: Option<f64>,
    pub y: Option<f64>,
}

/// Selects the rows of a filter, oldest first.
pub fn select(conn: &Connection, filter: &ExportFilter) -> Result<Vec<ExportRow>, StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if !filter.states.is_empty() {
        let marks: Vec<String> = filter
            .states
            .iter()
            .map(|s| {
                args.push(s.code().into());
                format!("?{}", args.len())
            })
            .collect();
        clauses.push(format!("r.state IN ({})", marks.join(",")));
    }
    for (column, value) in [
        ("r.category = ?", filter.category.clone()),
        ("r.service = ?", filter.service.clone()),
        ("r.walk_id = ?", filter.walk.map(|w| w.to_string())),
        (
            "r.created_at >= ?",
            filter.from.map(|d| format!("{d}T00:00:00")),
        ),
        (
            "r.created_at < ?",
            filter
                .to
                .and_then(|d| d.succ_opt())
                .map(|d| format!("{d}T00:00:00")),
        ),
    ] {
        if let Some(value) = value {
            args.push(value);
            clauses.push(format!("{column}{}", args.len()));
        }
    }
    if !filter.scope_services.is_empty() {
        let marks: Vec<String> = filter
            .scope_services
            .iter()
            .map(|s| {
                args.push(s.clone());
                format!("?{}", args.len())
            })
            .collect();
        clauses.push(format!("r.service IN ({})", marks.join(",")));
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let columns: Vec<String> = REQUEST_COLUMNS
        .split(',')
        .map(|c| format!("r.{}", c.trim()))
        .collect();
    let sql = format!(
        "SELECT {}, w.title FROM requests r LEFT JOIN walks w ON w.id = r.walk_id {where_sql} ORDER BY r.created_at, r.reference",
        columns.join(", ")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let request = RequestRow::from_row(row)?;
        let walk_title: Option<String> = row.get(26)?;
        let (x, y) = match (request.l93_x, request.l93_y) {
            (Some(x), Some(y)) => (Some(x), Some(y)),
            _ => lambert93(request.lat, request.lon),
        };
        out.push(ExportRow {
            request,
            walk_title,
            x,
            y,
        });
    }
    Ok(out)
}

const COLUMNS: [&str; 21] = [
    "reference",
    "etat",
    "etat_libelle",
    "statut_open311",
    "categorie",
    "sous_categorie",
    "service",
    "organisme_exterieur",
    "commentaire",
    "adresse",
    "latitude",
    "longitude",
    "x_lambert93",
    "y_lambert93",
    "observe_le",
    "recu_le",
    "mis_a_jour_le",
    "date_prevue",
    "balade_id",
    "balade",
    "source",
];

fn fields(row: &ExportRow) -> Vec<(String, Option<f64>)> {
    let r = &row.request;
    let text = |s: String| (s, None);
    let num = |n: Option<f64>| (String::new(), n);
    vec![
        text(r.reference.clone()),
        text(r.state.code().into()),
        text(r.state.label_fr().into()),
        text(r.state.open311_status().into()),
        text(r.category.clone()),
        text(r.subcategory.clone()),
        text(r.service.clone().unwrap_or_default()),
        text(r.outside_body.clone().unwrap_or_default()),
        text(r.comment.clone()),
        text(r.address.clone().unwrap_or_default()),
        num(Some(r.lat)),
        num(Some(r.lon)),
        num(row.x),
        num(row.y),
        text(crate::store::time_text(r.observed_at)),
        text(crate::store::time_text(r.created_at)),
        text(crate::store::time_text(r.updated_at)),
        text(r.planned_date.map(|d| d.to_string()).unwrap_or_default()),
        text(r.walk_id.map(|w| w.to_string()).unwrap_or_default()),
        text(row.walk_title.clone().unwrap_or_default()),
        text(r.source.clone()),
    ]
}

/// Writes the rows in `format`.
pub fn write(format: ExportFormat, rows: &[ExportRow], out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        ExportFormat::Csv | ExportFormat::CsvFr => {
            let french = format == ExportFormat::CsvFr;
            if french {
                out.write_all("\u{feff}".as_bytes())?;
            }
            let mut w = csv::WriterBuilder::new()
                .delimiter(if french { b';' } else { b',' })
                .from_writer(out);
            w.write_record(COLUMNS).map_err(std::io::Error::other)?;
            for row in rows {
                let record: Vec<String> = fields(row)
                    .into_iter()
                    .map(|(text, n)| match n {
                        Some(n) if french => format!("{n}").replace('.', ","),
                        Some(n) => format!("{n}"),
                        None => text,
                    })
                    .collect();
                w.write_record(&record).map_err(std::io::Error::other)?;
            }
            w.flush()
        }
        ExportFormat::GeoJson | ExportFormat::GeoJsonL93 => {
            // Streamed feature by feature (no document tree in memory): 10,000 rows stay cheap.
            let l93 = format == ExportFormat::GeoJsonL93;
            out.write_all(b"{\"type\":\"FeatureCollection\",\"name\":\"balade_signalements\",")?;
            if l93 {
                out.write_all(b"\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::2154\"}},")?;
            }
            out.write_all(b"\"features\":[")?;
            for (idx, row) in rows.iter().enumerate() {
                if idx > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"{\"type\":\"Feature\",\"id\":")?;
                write_json_str(out, &row.request.reference)?;
                let point = if l93 {
                    row.x.zip(row.y)
                } else {
                    Some((row.request.lon, row.request.lat))
                };
                match point {
                    Some((x, y)) if x.is_finite() && y.is_finite() => write!(
                        out,
                        ",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{x},{y}]}}"
                    )?,
                    _ => out.write_all(b",\"geometry\":null")?,
                }
                out.write_all(b",\"properties\":{")?;
                for (col_idx, (name, (text, n))) in COLUMNS.iter().zip(fields(row)).enumerate() {
                    if col_idx > 0 {
                        out.write_all(b",")?;
                    }
                    write!(out, "\"{name}\":")?;
                    match n {
                        Some(n) if n.is_finite() => write!(out, "{n}")?,
                        Some(_) => out.write_all(b"null")?,
                        None if text.is_empty()
                            && matches!(*name, "x_lambert93" | "y_lambert93") =>
                        {
                            out.write_all(b"null")?
                        }
                        None => write_json_str(out, &text)?,
                    }
                }
                out.write_all(b"}}")?;
            }
            out.write_all(b"]}")?;
            out.flush()
        }
    }
}

/// Writes `text` as a JSON string literal (escaped).
fn write_json_str(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(std::io::Error::other)
}

/// `balade-sync export --format F [--walk ID] [filters] --out FILE`; returns the row count.
pub fn cli_export(
    data_dir: &std::path::Path,
    format: &str,
    filter: &ExportFilter,
    out: &std::path::Path,
) -> anyhow::Result<usize> {
    let format = ExportFormat::parse(format).ok_or_else(|| {
        anyhow::anyhow!("unknown format {format:?} (geojson, geojson-l93, csv, csv-fr)")
    })?;
    let store = crate::store::Store::open_blocking(data_dir)?;
    let rows = store.with_conn(|conn| select(conn, filter))?;
    let tmp = out.with_extension("part");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    write(format, &rows, &mut file)?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, out)?;
    Ok(rows.len())
}

/// Routes: `/api/v1/exports/requests.{ext}` and `/api/v1/exports/walks/{id}.{ext}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports/{file}", get(export_requests))
        .route("/api/v1/exports/walks/{file}", get(export_walk))
}

/// Checks the `X-Api-Key` header against the admin API keys.
pub async fn require_admin_key(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<crate::open311::apikeys::ApiKey, ApiError> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingToken,
                "Clé d'API manquante (en-tête X-Api-Key)",
                "missing X-Api-Key header",
            )
        })?;
    state
        .store
        .call(move |conn| crate::open311::apikeys::verify_key(conn, &key))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidToken,
                "Clé d'API inconnue",
                "unknown API key",
            )
        })
}

/// The value of one cookie in the `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Who may export: an admin API key (`X-Api-Key`) or a console session cookie. An operator's
/// export is limited to their services: an explicit other service is 403, none means theirs.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    filter: &mut ExportFilter,
) -> Result<(), ApiError> {
    if headers.contains_key("x-api-key") {
        return require_admin_key(state, headers).await.map(|_| ());
    }
    let Some(token) = cookie(headers, crate::console::auth::SESSION_COOKIE).map(str::to_string)
    else {
        return Err(ApiError::new(
            ErrorCode::MissingToken,
            "Connexion requise (session de la console ou en-tête X-Api-Key)",
            "console session or X-Api-Key header required",
        ));
    };
    let user = state
        .store
        .call(move |conn| {
            crate::console::auth::session_user(conn, &token, chrono::Utc::now())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidToken,
                "Session expirée ou inconnue",
                "unknown or expired session",
            )
        })?;
    if user.is_admin() {
        return Ok(());
    }
    if let Some(service) = &filter.service
        && !user.services.contains(service)
    {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Ce service n'est pas dans votre périmètre",
            "service outside your scope",
        ));
    }
    filter.scope_services = user.services.clone();
    if filter.scope_services.is_empty() {
        // An operator without any service sees nothing.
        filter.scope_services.push(String::new());
    }
    Ok(())
}

fn split_ext(file: &str) -> Result<(&str, ExportFormat), ApiError> {
    let (stem, ext) = file.split_once('.').ok_or_else(ApiError::not_found)?;
    Ok((
        stem,
        ExportFormat::parse(ext).ok_or_else(ApiError::not_found)?,
    ))
}

async fn run_export(
    state: AppState,
    format: ExportFormat,
    filter: ExportFilter,
    name: String,
) -> Result<Response, ApiError> {
    let rows = state.store.call(move |conn| select(conn, &filter)).await?;
    let mut body = Vec::new();
    write(format, &rows, &mut body)?;
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.extension());
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    Ok(response)
}

fn filter_of(query: &Option<String>) -> Result<ExportFilter, ApiError> {
    ExportFilter::from_pairs(&parse_pairs(query.as_deref().unwrap_or("").as_bytes()))
        .map_err(|e| ApiError::invalid_field(e.to_string(), e.to_string()))
}

/// `GET /api/v1/exports/requests.{csv|csv-fr|geojson|geojson-l93}?state=&category=&service=&walk=&from=&to=`.
#[utoipa::path(get, path = "/api/v1/exports/requests.{format}", tag = "exports",
    params(("format" = String, Path, description = "csv | csv-fr | geojson | geojson-l93"),
           ("X-Api-Key" = Option<String>, Header, description = "admin API key (or the console session cookie)"),
           ("state" = Option<String>, Query), ("category" = Option<String>, Query), ("service" = Option<String>, Query),
           ("walk" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "the export file"), (status = 400, body = balade_protocol::error::ErrorBody),
              (status = 401, body = balade_protocol::error::ErrorBody), (status = 403, body = balade_protocol::error::ErrorBody), (status = 404, body = balade_protocol::error::ErrorBody)))]
pub async fn export_requests(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (stem, format) = split_ext(&file)?;
    if stem != "requests" {
        return Err(ApiError::not_found());
    }
    let mut filter = filter_of(&query)?;
    authorize(&state, &headers, &mut filter).await?;
    run_export(state, format, filter, "signalements".into()).await
}

/// `GET /api/v1/exports/walks/{walk id}.{format}`: every request of a walk.
#[utoipa::path(get, path = "/api/v1/exports/walks/{walk_id}.{format}", tag = "exports",
    params(("walk_id" = String, Path), ("format" = String, Path, description = "csv | csv-fr | geojson | geojson-l93"),
           ("X-Api-Key" = Option<String>, Header, description = "admin API key (or the console session cookie)")),
    responses((status = 200, description = "the export file"), (status = 401, body = balade_protocol::error::ErrorBody), (status = 403, body = balade_protocol::error::ErrorBody),
              (status = 404, body = balade_protocol::error::ErrorBody)))]
pub async fn export_walk(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (stem, format) = split_ext(&file)?;
    let walk = Uuid::parse_str(stem).map_err(|_| ApiError::not_found())?;
    let mut filter = ExportFilter {
        walk: Some(walk),
        ..Default::default()
    };
    authorize(&state, &headers, &mut filter).await?;
    run_export(state, format, filter, format!("balade-{walk}")).await
}

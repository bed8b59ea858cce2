//! GeoReport v2 requests: POST (form-encoded, api_key required), GET list with filters and the
//! extensions (page/page_size, updated_after/updated_before, extensions=true), GET one, GET token.
//!
//! Why it exists: Open311 clients create and read requests through the SAME store path as devices
//! (`store::requests::insert_incident` with `Source::Open311`: reference, tracking code, received
//! and routing events), and read only public fields: no internal notes, no device ids, no personal
//! data (email/names/phone are kept in `open311_tokens.contact_json` and never published).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::StatusCode;
use balade_protocol::geo::streets::StreetIndex;
use balade_protocol::incident::{Address, Incident, MAX_COMMENT_CHARS, Position};
use balade_protocol::status::State;
use balade_protocol::taxonomy::Taxonomy;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::open311::apikeys::ApiKey;
use crate::open311::format::{Format, Open311Error};
use crate::open311::services::parse_attributes;
use crate::open311::time::{iso_paris, iso_paris_date, paris_midnight};
use crate::store::requests::{InsertOutcome, REQUEST_COLUMNS, RequestRow, Source, insert_incident};
use crate::store::{StoreError, now_text};

/// Longest window GET requests accepts, and its default (the last 90 days).
pub const MAX_SPAN_DAYS: i64 = 90;
/// Most requests one GET answers.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Key/value pairs of a form body or a query string, in order.
pub type Pairs = Vec<(String, String)>;

pub fn parse_pairs(bytes: &[u8]) -> Pairs {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The single value of `name`; two different values are an error.
pub fn one<'a>(
    pairs: &'a Pairs,
    name: &str,
    format: Format,
) -> Result<Option<&'a str>, Open311Error> {
    let mut found: Option<&str> = None;
    for (k, v) in pairs {
        if k == name {
            if found.is_some_and(|f| f != v) {
                return Err(Open311Error::bad_request(
                    format!("Paramètre {name} donné deux fois"),
                    format,
                ));
            }
            found = Some(v.as_str());
        }
    }
    Ok(found.map(str::trim).filter(|v| !v.is_empty()))
}

/// Parses an ISO-8601 date-time with a time zone, or a plain date (00:00 Europe/Paris, the
/// city's civil day).
pub fn parse_datetime(
    text: &str,
    name: &str,
    format: Format,
) -> Result<DateTime<Utc>, Open311Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(paris_midnight(d));
    }
    Err(Open311Error::bad_request(
        format!(
            "{name} doit être une date ISO 8601 avec fuseau horaire (ex. 2026-05-01T10:00:00+02:00)"
        ),
        format,
    ))
}

fn streets() -> &'static StreetIndex {
    static INDEX: OnceLock<StreetIndex> = OnceLock::new();
    INDEX.get_or_init(balade_protocol::geo::streets::la_rochelle)
}

/// What a POST asks to create, checked; nothing is stored yet.
#[derive(Debug, Clone)]
pub struct NewOpen311Request {
    pub incident: Incident,
    pub contact: Value,
    pub media_url: Option<String>,
}

/// Checks a POST body against the taxonomy: service, position or address, attributes, description.
pub fn check_post(
    taxonomy: &Taxonomy,
    pairs: &Pairs,
    format: Format,
) -> Result<NewOpen311Request, Open311Error> {
    let bad = |m: String| Open311Error::bad_request(m, format);
    let service_code = one(pairs, "service_code", format)?
        .ok_or_else(|| bad("service_code est obligatoire".into()))?;
    let category = taxonomy
        .category(service_code)
        .ok_or_else(|| bad(format!("service_code inconnu : {service_code}")))?;
    let description = one(pairs, "description", format)?.unwrap_or("").to_string();
    if description.chars().count() > MAX_COMMENT_CHARS {
        return Err(bad(format!(
            "description trop longue (plus de {MAX_COMMENT_CHARS} caractères)"
        )));
    }
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(rest) = k.strip_prefix("attribute[") {
            let code = rest.strip_suffix("][]").or_else(|| rest.strip_suffix(']'));
            let code = code.filter(|c| !c.is_empty() && !c.contains(['[', ']']));
            let code = code.ok_or_else(|| bad(format!("nom d'attribut invalide : {k}")))?;
            attributes
                .entry(code.to_string())
                .or_default()
                .push(v.clone());
        }
    }
    let attributes: Vec<(String, Vec<String>)> = attributes.into_iter().collect();
    let (subcategory, extra) =
        parse_attributes(category, &attributes).map_err(|e| bad(e.to_string()))?;

    let lat = one(pairs, "lat", format)?;
    let long = one(pairs, "long", format)?;
    let address_string = one(pairs, "address_string", format)?;
    let address_id = one(pairs, "address_id", format)?;
    let (position, address) = match (lat, long) {
        (Some(lat), Some(long)) => {
            let lat: f64 = lat
                .parse()
                .map_err(|_| bad(format!("lat invalide : {lat}")))?;
            let lon: f64 = long
                .parse()
                .map_err(|_| bad(format!("long invalide : {long}")))?;
            let position = Position::new(lat, lon, None)
                .map_err(|e| bad(format!("position invalide : {e}")))?;
            let address = match address_string {
                Some(label) => Some(Address {
                    label: label.to_string(),
                    edited: true,
                    ..Default::default()
                }),
                None => streets().nearest(&position),
            };
            (position, address)
        }
        (Some(_), None) | (None, Some(_)) => return Err(bad("lat et long vont ensemble".into())),
        (None, None) => {
            let street = if let Some(id) = address_id {
                streets()
                    .streets()
                    .iter()
                    .find(|s| s.voie_id.as_deref() == Some(id) && !s.points.is_empty())
                    .ok_or_else(|| bad(format!("address_id inconnu : {id}")))?
            } else if let Some(text) = address_string {
                streets()
                    .search(text, 5)
                    .into_iter()
                    .map(|m| m.street)
                    .find(|s| !s.points.is_empty())
                    .ok_or_else(|| {
                        bad(format!(
                            "adresse introuvable dans le référentiel des voies : {text}"
                        ))
                    })?
            } else {
                return Err(bad(
                    "une position est obligatoire : lat et long, address_string ou address_id"
                        .into(),
                ));
            };
            let position = street.points[street.points.len() / 2];
            let mut address = street.to_address(None);
            if let Some(text) = address_string {
                address.label = text.to_string();
                address.edited = true;
            }
            (position, Some(address))
        }
    };
    let media_url = one(pairs, "media_url", format)?.map(str::to_string);
    if let Some(url) = &media_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(bad("media_url doit être une adresse http(s)".into()));
    }
    let mut contact = serde_json::Map::new();
    for name in [
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
    ] {
        if let Some(v) = one(pairs, name, format)? {
            contact.insert(name.into(), Value::String(v.to_string()));
        }
    }
    let incident = Incident {
        id: Uuid::now_v7(),
        walk_id: None,
        comment: description,
        observed_at: Utc::now(),
        category: category.code.clone(),
        subcategory,
        extra,
        photos: vec![],
        position,
        lambert93: None,
        address,
        asset: None,
    };
    Ok(NewOpen311Request {
        incident,
        contact: Value::Object(contact),
        media_url,
    })
}

/// Stores a checked POST in one transaction (request, events, token). Returns the answer item.
pub fn store_post(
    tx: &rusqlite::Transaction<'_>,
    taxonomy: &Taxonomy,
    key: &ApiKey,
    new: &NewOpen311Request,
) -> Result<Result<Value, balade_protocol::error::ErrorDetail>, StoreError> {
    let stored = match insert_incident(tx, taxonomy, &new.incident, None, Source::Open311)? {
        InsertOutcome::Created(stored) => stored,
        InsertOutcome::Rejected(detail) => return Ok(Err(detail)),
        other => {
            return Err(StoreError::Corrupt(format!(
                "fresh open311 id answered {other:?}"
            )));
        }
    };
    let token = Uuid::new_v4().simple().to_string();
    tx.execute(
        "INSERT INTO open311_tokens (token, request_id, api_key_id, contact_json, media_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![token, stored.id.to_string(), key.id, new.contact.to_string(), new.media_url, now_text()],
    )?;
    let notice = service_notice(taxonomy, &new.incident.category);
    Ok(Ok(json!({
        "service_request_id": stored.reference,
        "service_notice": notice,
        "account_id": Value::Null,
        "token": token,
    })))
}

fn service_notice(taxonomy: &Taxonomy, category: &str) -> String {
    taxonomy
        .category(category)
        .map(|c| format!("Délai annoncé : {} jours", c.delay_days))
        .unwrap_or_default()
}

/// Filters of GET requests, checked.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    pub states: Vec<State>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub page: usize,
    pub page_size: usize,
    pub extensions: bool,
}

fn list_of(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Parses and checks the query of GET requests (span ≤ 90 days, status open/closed, paging).
pub fn parse_list_query(
    pairs: &Pairs,
    format: Format,
    now: DateTime<Utc>,
) -> Result<ListQuery, Open311Error> {
    let bad = |m: String| Open311Error::bad_request(m, format);
    let mut q = ListQuery {
        page: 1,
        page_size: MAX_PAGE_SIZE,
        ..Default::default()
    };
    q.ids = list_of(one(pairs, "service_request_id", format)?);
    q.service_codes = list_of(one(pairs, "service_code", format)?);
    for s in list_of(one(pairs, "status", format)?) {
        match s.to_ascii_lowercase().as_str() {
            "open" => q
                .states
                .extend(State::ALL.iter().filter(|s| !s.is_closed())),
            "closed" => q.states.extend(State::ALL.iter().filter(|s| s.is_closed())),
            other => return Err(bad(format!("status invalide : {other} (open ou closed)"))),
        }
    }
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, Open311Error> {
        one(pairs, name, format)?
            .map(|v| parse_datetime(v, name, format))
            .transpose()
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    q.updated_after = date("updated_after")?;
    q.updated_before = date("updated_before")?;
    let span = Duration::days(MAX_SPAN_DAYS);
    if q.ids.is_empty() {
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + span),
            (None, Some(e)) => (e - span, e),
            (None, None) => (now - span, now),
        };
        if end < start {
            return Err(bad("end_date est avant start_date".into()));
        }
        if end - start > span {
            return Err(bad(format!(
                "l'intervalle start_date–end_date dépasse {MAX_SPAN_DAYS} jours"
            )));
        }
        q.start = Some(start);
        q.end = Some(end);
    }
    let number = |name: &str, max: usize| -> Result<Option<usize>, Open311Error> {
        match one(pairs, name, format)? {
            None => Ok(None),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(bad(format!("{name} doit être un entier entre 1 et {max}"))),
            },
        }
    };
    q.page = number("page", 1_000_000)?.unwrap_or(1);
    q.page_size = number("page_size", MAX_PAGE_SIZE)?.unwrap_or(MAX_PAGE_SIZE);
    q.extensions = match one(pairs, "extensions", format)? {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(bad(format!(
                "extensions invalide : {other} (true ou false)"
            )));
        }
    };
    Ok(q)
}

/// Requests matching `q`, newest first, as Open311 values.
/// `media_base` is the scheme and host media URLs start with (see [`crate::open311::media`]).
pub fn list(
    conn: &Connection,
    taxonomy: &Taxonomy,
    q: &ListQuery,
    media_base: &str,
) -> Result<Vec<Value>, StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let add_in =
        |column: &str, values: &[String], clauses: &mut Vec<String>, args: &mut Vec<String>| {
            let marks: Vec<String> = values
                .iter()
                .map(|v| {
                    args.push(v.clone());
                    format!("?{}", args.len())
                })
                .collect();
            clauses.push(format!("{column} IN ({})", marks.join(", ")));
        };
    if !q.ids.is_empty() {
        let upper: Vec<String> = q.ids.iter().map(|i| i.to_ascii_uppercase()).collect();
        add_in("reference", &upper, &mut clauses, &mut args);
    } else {
        if !q.service_codes.is_empty() {
            add_in("category", &q.service_codes, &mut clauses, &mut args);
        }
        if !q.states.is_empty() {
            let codes: Vec<String> = q.states.iter().map(|s| s.code().to_string()).collect();
            add_in("state", &codes, &mut clauses, &mut args);
        }
        for (column, op, at) in [
            ("created_at", ">=", q.start),
            ("created_at", "<=", q.end),
            ("updated_at", ">", q.updated_after),
            ("updated_at", "<", q.updated_before),
        ] {
            if let Some(at) = at {
                args.push(crate::store::time_text(at));
                clauses.push(format!("{column} {op} ?{}", args.len()));
            }
        }
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM requests {where_sql} ORDER BY created_at DESC, reference DESC LIMIT {} OFFSET {}",
        q.page_size,
        (q.page - 1) * q.page_size
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let request = RequestRow::from_row(row)?;
        out.push(view(conn, taxonomy, &request, q.extensions, media_base)?);
    }
    Ok(out)
}

/// One request by reference (or uuid), as an Open311 value.
pub fn get_one(
    conn: &Connection,
    taxonomy: &Taxonomy,
    id: &str,
    extensions: bool,
    media_base: &str,
) -> Result<Option<Value>, StoreError> {
    let found = match Uuid::parse_str(id) {
        Ok(uuid) => crate::store::requests::load(conn, uuid)?,
        Err(_) => {
            let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE reference = ?1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([id.to_ascii_uppercase()])?;
            match rows.next()? {
                Some(row) => Some(RequestRow::from_row(row)?),
                None => None,
            }
        }
    };
    found
        .map(|r| view(conn, taxonomy, &r, extensions, media_base))
        .transpose()
}

/// The reference a token stands for.
pub fn token_reference(conn: &Connection, token: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT r.reference FROM open311_tokens t JOIN requests r ON r.id = t.request_id WHERE t.token = ?1",
            [token],
            |r| r.get(0),
        )
        .optional()?)
}

/// The public Open311 fields of one request. `media_url` is the URL an Open311 client gave, else
/// the first photo an operator allowed citizens to see (never a photo that was not allowed).
pub fn view(
    conn: &Connection,
    taxonomy: &Taxonomy,
    r: &RequestRow,
    extensions: bool,
    media_base: &str,
) -> Result<Value, StoreError> {
    let notes: Option<(Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT note, reason FROM events WHERE request_id = ?1 AND public = 1
               AND (note IS NOT NULL OR reason IS NOT NULL) ORDER BY seq DESC LIMIT 1",
            [r.id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let status_notes = notes.and_then(|(note, reason)| reason.or(note));
    let media_url: Option<String> = conn
        .query_row(
            "SELECT media_url FROM open311_tokens WHERE request_id = ?1 AND media_url IS NOT NULL LIMIT 1",
            [r.id.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    let media_urls: Vec<String> = crate::open311::media::allowed_photos(conn, r.id)?
        .iter()
        .map(|sha256| crate::open311::media::url(media_base, &r.reference, sha256))
        .collect();
    let media_url = media_url.or_else(|| media_urls.first().cloned());
    let recipient = r.outside_body.as_ref().or(r.service.as_ref());
    let agency = recipient.map(|c| {
        taxonomy
            .recipient(c)
            .map(|x| x.name_fr.clone())
            .unwrap_or(c.clone())
    });
    let category = taxonomy.category(&r.category);
    let zipcode = r.address.as_deref().and_then(zipcode_of);
    let mut value = json!({
        "service_request_id": r.reference,
        "status": r.state.open311_status(),
        "status_notes": status_notes,
        "service_name": category.map(|c| c.label_fr.clone()).unwrap_or(r.category.clone()),
        "service_code": r.category,
        "description": r.comment,
        "agency_responsible": agency,
        "service_notice": service_notice(taxonomy, &r.category),
        "requested_datetime": iso_paris(r.created_at),
        "updated_datetime": iso_paris(r.updated_at),
        "expected_datetime": r.planned_date.map(iso_paris_date),
        "address": r.address,
        "address_id": Value::Null,
        "zipcode": zipcode,
        "lat": r.lat,
        "long": r.lon,
        "media_url": media_url,
    });
    if extensions {
        let (x, y) = match (r.l93_x, r.l93_y) {
            (Some(x), Some(y)) => (Some(x), Some(y)),
            _ => crate::open311::exports::lambert93(r.lat, r.lon),
        };
        let walk_title: Option<String> = match r.walk_id {
            Some(w) => conn
                .query_row(
                    "SELECT title FROM walks WHERE id = ?1",
                    [w.to_string()],
                    |row| row.get(0),
                )
                .optional()?,
            None => None,
        };
        value["extended_attributes"] = json!({
            "state": r.state.code(),
            "state_label": r.state.label_fr(),
            "fixmystreet_status": r.state.fixmystreet_code(),
            "subcategory": r.subcategory,
            "x_lambert93": x,
            "y_lambert93": y,
            "walk_id": r.walk_id,
            "walk_title": walk_title,
            "source": r.source,
            "media_urls": media_urls,
        });
    }
    Ok(value)
}

fn zipcode_of(address: &str) -> Option<String> {
    address
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 5)
        .map(str::to_string)
}

/// 404 in the asked format.
pub fn not_found(what: &str, format: Format) -> Open311Error {
    Open311Error::new(StatusCode::NOT_FOUND, format!("{what} introuvable"), format)
}

//! Read-side queries of the console: the inbox selection (filters, scope, paging), one
//! request with its photos and history, and possible duplicates nearby.
//!
//! **Invariant**: every query that returns requests goes through [`Scope`], so an operator
//! never reads a request routed to a service they are not in.

use balade_protocol::status::State;
use balade_protocol::taxonomy::Taxonomy;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};
use serde::Deserialize;

use super::auth::ConsoleUser;

/// Rows per inbox page.
pub const PAGE_SIZE: usize = 50;
/// Most markers the map view draws.
pub const MAP_LIMIT: usize = 2000;
/// Counting stops here: the inbox says "more than" beyond it (keeps COUNT bounded on big stores).
pub const COUNT_LIMIT: i64 = 10_000;

/// What part of the store a user may see.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Services(Vec<String>),
}

impl Scope {
    pub fn of(user: &ConsoleUser) -> Scope {
        if user.is_admin() {
            Scope::All
        } else {
            Scope::Services(user.services.clone())
        }
    }

    /// SQL condition on the alias `r`, with its parameters appended to `args`.
    fn sql(&self, args: &mut Vec<Value>) -> String {
        match self {
            Scope::All => "1".to_string(),
            Scope::Services(services) if services.is_empty() => "0".to_string(),
            Scope::Services(services) => {
                let marks = vec!["?"; services.len()].join(",");
                for _ in 0..2 {
                    args.extend(services.iter().map(|s| Value::Text(s.clone())));
                }
                format!("(r.service IN ({marks}) OR r.outside_body IN ({marks}))")
            }
        }
    }

    pub fn allows(&self, service: Option<&str>, outside_body: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Services(services) => services
                .iter()
                .any(|s| Some(s.as_str()) == service || Some(s.as_str()) == outside_body),
        }
    }
}

/// Inbox filters, from the query string. Empty strings mean "any".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InboxFilter {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub walk: String,
    #[serde(default)]
    pub neighbourhood: String,
    /// YYYY-MM-DD, inclusive.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<usize>,
    /// `map` for the map view.
    #[serde(default)]
    pub view: String,
}

impl InboxFilter {
    fn sql(&self, args: &mut Vec<Value>) -> Result<String, String> {
        let mut conditions = Vec::new();
        let mut push = |condition: &str, value: &str| {
            conditions.push(condition.to_string());
            args.push(Value::Text(value.to_string()));
        };
        if !self.state.is_empty() {
            if State::from_code(&self.state).is_none() {
                return Err(format!("état inconnu : {}", self.state));
            }
            push("r.state = ?", &self.state);
        }
        if !self.category.is_empty() {
            push("r.category = ?", &self.category);
        }
        if !self.service.is_empty() {
            conditions.push("(r.service = ? OR r.outside_body = ?)".into());
            args.push(Value::Text(self.service.clone()));
            args.push(Value::Text(self.service.clone()));
        }
        if !self.walk.is_empty() {
            conditions.push("r.walk_id = ?".into());
            args.push(Value::Text(self.walk.clone()));
        }
        if !self.neighbourhood.is_empty() {
            conditions.push("r.walk_id IN (SELECT id FROM walks WHERE neighbourhood = ?)".into());
            args.push(Value::Text(self.neighbourhood.clone()));
        }
        if !self.from.is_empty() {
            let date = parse_date(&self.from)?;
            conditions.push("r.created_at >= ?".into());
            args.push(Value::Text(format!("{date}T00:00:00")));
        }
        if !self.to.is_empty() {
            let date = parse_date(&self.to)? + Duration::days(1);
            conditions.push("r.created_at < ?".into());
            args.push(Value::Text(format!("{date}T00:00:00")));
        }
        Ok(if conditions.is_empty() {
            "1".into()
        } else {
            conditions.join(" AND ")
        })
    }

    /// The filters as a query string (for paging links and the CSV/map links).
    pub fn query_string(&self, page: Option<usize>, view: &str) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("state", &self.state),
            ("category", &self.category),
            ("service", &self.service),
            ("walk", &self.walk),
            ("neighbourhood", &self.neighbourhood),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                out.append_pair(key, value);
            }
        }
        if let Some(page) = page {
            out.append_pair("page", &page.to_string());
        }
        if !view.is_empty() {
            out.append_pair("view", view);
        }
        out.finish()
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("date invalide : {text}"))
}

/// One inbox row.
#[derive(Debug, Clone)]
pub struct RequestSummary {
    pub id: String,
    pub reference: String,
    pub category: String,
    pub subcategory: String,
    pub address: Option<String>,
    pub state: State,
    pub service: Option<String>,
    pub outside_body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    pub photo: Option<String>,
    pub comment: String,
}

impl RequestSummary {
    /// Open and older than the category's announced delay.
    pub fn is_overdue(&self, taxonomy: &Taxonomy, now: DateTime<Utc>) -> bool {
        let delay = taxonomy
            .category(&self.category)
            .map(|c| c.delay_days)
            .unwrap_or(15);
        !self.state.is_closed() && self.created_at + Duration::days(delay.into()) < now
    }
}

const SUMMARY_COLUMNS: &str =
    "r.id, r.reference, r.category, r.subcategory, r.address, r.state, r.service,
    r.outside_body, r.created_at, r.lat, r.lon,
    (SELECT rp.sha256 FROM request_photos rp JOIN photos p ON p.sha256 = rp.sha256
     WHERE rp.request_id = r.id ORDER BY rp.idx LIMIT 1), r.comment";

fn summary(row: &Row<'_>) -> rusqlite::Result<RequestSummary> {
    let state: String = row.get(5)?;
    let created: String = row.get(8)?;
    Ok(RequestSummary {
        id: row.get(0)?,
        reference: row.get(1)?,
        category: row.get(2)?,
        subcategory: row.get(3)?,
        address: row.get(4)?,
        state: State::from_code(&state).unwrap_or(State::Received),
        service: row.get(6)?,
        outside_body: row.get(7)?,
        created_at: DateTime::parse_from_rfc3339(&created)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
        lat: row.get(9)?,
        lon: row.get(10)?,
        photo: row.get(11)?,
        comment: row.get(12)?,
    })
}

/// One page of the inbox, newest first.
#[derive(Debug)]
pub struct InboxPage {
    pub rows: Vec<RequestSummary>,
    pub total: i64,
    pub page: usize,
}

/// Errors of the read side: a bad filter is the user's, the rest is the database's.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    BadFilter(String),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

pub fn inbox(
    conn: &Connection,
    scope: &Scope,
    filter: &InboxFilter,
) -> Result<InboxPage, QueryError> {
    let mut args = Vec::new();
    let scope_sql = scope.sql(&mut args);
    let filter_sql = filter.sql(&mut args).map_err(QueryError::BadFilter)?;
    let where_sql = format!("{scope_sql} AND {filter_sql}");
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM requests r WHERE {where_sql} LIMIT {})",
            COUNT_LIMIT + 1
        ))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let page = filter.page.unwrap_or(1).max(1);
    let (limit, offset) = if filter.view == "map" {
        (MAP_LIMIT, 0)
    } else {
        (PAGE_SIZE, (page - 1) * PAGE_SIZE)
    };
    args.push(Value::Integer(limit as i64));
    args.push(Value::Integer(offset as i64));
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM requests r WHERE {where_sql}
         ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?"
    ))?;
    let rows = statement
        .query_map(params_from_iter(args.iter()), summary)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(InboxPage { rows, total, page })
}

/// Finds a request by human reference, tracking code or uuid. Returns its id.
pub fn resolve_ref(conn: &Connection, reference: &str) -> rusqlite::Result<Option<String>> {
    let reference = reference.trim();
    conn.prepare_cached(
        "SELECT id FROM requests WHERE reference = ?1 OR tracking_code = upper(?1) OR id = lower(?1) LIMIT 1",
    )?
    .query_row([reference], |r| r.get(0))
    .optional()
}

/// Everything the request page shows.
#[derive(Debug)]
pub struct RequestDetail {
    pub summary: RequestSummary,
    pub tracking_code: String,
    pub accuracy_m: Option<f64>,
    pub observed_at: String,
    pub walk: Option<(String, String, Option<String>)>,
    pub device: Option<(String, String)>,
    pub duplicate_of: Option<(String, String)>,
    pub planned_date: Option<String>,
    pub photos: Vec<PhotoRow>,
    pub events: Vec<EventRow>,
    pub extra: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct PhotoRow {
    pub sha256: String,
    pub mime: String,
    pub present: bool,
    pub public: bool,
}

/// One stored event (the audit trail: public or internal).
#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub request_id: String,
    pub reference: String,
    pub kind: String,
    pub state: String,
    pub at: String,
    pub actor: String,
    pub public: bool,
    pub service: Option<String>,
    pub outside_body: Option<String>,
    pub note: Option<String>,
    pub planned_date: Option<String>,
    pub reason: Option<String>,
    pub duplicate_of: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

const EVENT_COLUMNS: &str = "e.seq, e.request_id, r.reference, e.kind, e.state, e.at, e.actor, e.public,
    e.service, e.outside_body, e.note, e.planned_date, e.reason, e.duplicate_of, e.before_json, e.after_json";

fn event_row(row: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: row.get(0)?,
        request_id: row.get(1)?,
        reference: row.get(2)?,
        kind: row.get(3)?,
        state: row.get(4)?,
        at: row.get(5)?,
        actor: row.get(6)?,
        public: row.get(7)?,
        service: row.get(8)?,
        outside_body: row.get(9)?,
        note: row.get(10)?,
        planned_date: row.get(11)?,
        reason: row.get(12)?,
        duplicate_of: row.get(13)?,
        before_json: row.get(14)?,
        after_json: row.get(15)?,
    })
}

/// The request page's data, or None when it does not exist or is outside the scope.
pub fn request_detail(
    conn: &Connection,
    scope: &Scope,
    id: &str,
) -> rusqlite::Result<Option<RequestDetail>> {
    let mut args = vec![Value::Text(id.to_string())];
    let scope_sql = scope.sql(&mut args);
    let row = conn
        .prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS}, r.tracking_code, r.accuracy_m, r.observed_at, r.walk_id, r.device_id,
                    r.duplicate_of, r.planned_date, r.body_json
             FROM requests r WHERE r.id = ? AND {scope_sql}"
        ))?
        .query_row(params_from_iter(args.iter()), |row| {
            Ok((
                summary(row)?,
                row.get::<_, String>(13)?,
                row.get::<_, Option<f64>>(14)?,
                row.get::<_, String>(15)?,
                row.get::<_, Option<String>>(16)?,
                row.get::<_, Option<String>>(17)?,
                row.get::<_, Option<String>>(18)?,
                row.get::<_, Option<String>>(19)?,
                row.get::<_, String>(20)?,
            ))
        })
        .optional()?;
    let Some((
        summary,
        tracking_code,
        accuracy_m,
        observed_at,
        walk_id,
        device_id,
        dup,
        planned_date,
        body,
    )) = row
    else {
        return Ok(None);
    };
    let walk = match walk_id {
        Some(walk_id) => conn
            .query_row(
                "SELECT id, title, neighbourhood FROM walks WHERE id = ?1",
                [&walk_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?,
        None => None,
    };
    let device = match device_id {
        Some(device_id) => conn
            .query_row(
                "SELECT id, name FROM devices WHERE id = ?1",
                [&device_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    let duplicate_of = match dup {
        Some(dup) => conn
            .query_row(
                "SELECT id, reference FROM requests WHERE id = ?1",
                [&dup],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    let photos = conn
        .prepare_cached(
            "SELECT rp.sha256, rp.mime, p.sha256 IS NOT NULL,
                    EXISTS(SELECT 1 FROM console_public_photos c WHERE c.incident_id = rp.request_id AND c.sha256 = rp.sha256)
             FROM request_photos rp LEFT JOIN photos p ON p.sha256 = rp.sha256
             WHERE rp.request_id = ?1 ORDER BY rp.idx",
        )?
        .query_map([id], |r| Ok(PhotoRow { sha256: r.get(0)?, mime: r.get(1)?, present: r.get(2)?, public: r.get(3)? }))?
        .collect::<Result<Vec<_>, _>>()?;
    let events = conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e JOIN requests r ON r.id = e.request_id
             WHERE e.request_id = ?1 ORDER BY e.seq"
        ))?
        .query_map([id], event_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let extra = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("extra").cloned())
        .unwrap_or(serde_json::Value::Null);
    Ok(Some(RequestDetail {
        summary,
        tracking_code,
        accuracy_m,
        observed_at,
        walk,
        device,
        duplicate_of,
        planned_date,
        photos,
        events,
        extra,
    }))
}

/// Reads a console setting as a number.
pub fn setting_f64(conn: &Connection, key: &str, default: f64) -> rusqlite::Result<f64> {
    Ok(conn
        .query_row(
            "SELECT value FROM console_settings WHERE key = ?1",
            [key],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(default))
}

/// Great-circle distance in metres.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Categories related to `category` by the `duplicate_related_categories` setting
/// ("a=b;c=d", symmetric), the category itself first.
pub fn related_categories(setting: &str, category: &str) -> Vec<String> {
    let mut out = vec![category.to_string()];
    for pair in setting.split(';') {
        let Some((a, b)) = pair.split_once('=') else {
            continue;
        };
        let (a, b) = (a.trim(), b.trim());
        let other = if a == category {
            b
        } else if b == category {
            a
        } else {
            continue;
        };
        if !other.is_empty() && !out.iter().any(|c| c == other) {
            out.push(other.to_string());
        }
    }
    out
}

/// Requests of the same or a related category within the configured radius and window (days)
/// of `detail`, nearest first, within the user's scope.
pub fn possible_duplicates(
    conn: &Connection,
    scope: &Scope,
    detail: &RequestSummary,
) -> rusqlite::Result<Vec<(RequestSummary, f64)>> {
    let radius = setting_f64(conn, "duplicate_radius_m", 50.0)?;
    let days = setting_f64(conn, "duplicate_window_days", 30.0)?;
    let dlat = radius / 111_000.0;
    let dlon = radius / (111_000.0 * detail.lat.to_radians().cos().max(0.01));
    let from = detail.created_at - Duration::seconds((days * 86400.0) as i64);
    let to = detail.created_at + Duration::seconds((days * 86400.0) as i64);
    let related_setting: String = conn
        .query_row(
            "SELECT value FROM console_settings WHERE key = 'duplicate_related_categories'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    let categories = related_categories(&related_setting, &detail.category);
    let category_marks = vec!["?"; categories.len()].join(",");
    let mut args: Vec<Value> = categories.into_iter().map(Value::Text).collect();
    args.extend([
        Value::Real(detail.lat - dlat),
        Value::Real(detail.lat + dlat),
        Value::Real(detail.lon - dlon),
        Value::Real(detail.lon + dlon),
        Value::Text(crate::store::time_text(from)),
        Value::Text(crate::store::time_text(to)),
        Value::Text(detail.id.clone()),
    ]);
    let scope_sql = scope.sql(&mut args);
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM requests r
         WHERE r.category IN ({category_marks}) AND r.lat BETWEEN ? AND ? AND r.lon BETWEEN ? AND ?
           AND r.created_at BETWEEN ? AND ? AND r.id <> ? AND r.state <> 'duplicate' AND {scope_sql}
         LIMIT 50"
    ))?;
    let mut found: Vec<(RequestSummary, f64)> = statement
        .query_map(params_from_iter(args.iter()), summary)?
        .filter_map(Result::ok)
        .map(|s| {
            let d = distance_m(detail.lat, detail.lon, s.lat, s.lon);
            (s, d)
        })
        .filter(|(_, d)| *d <= radius)
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1));
    Ok(found)
}

/// The global audit trail (newest first), within scope, optionally after a cursor.
pub fn audit(
    conn: &Connection,
    scope: &Scope,
    before_seq: Option<i64>,
    limit: usize,
) -> rusqlite::Result<Vec<EventRow>> {
    let mut args = vec![Value::Integer(before_seq.unwrap_or(i64::MAX))];
    let scope_sql = scope.sql(&mut args);
    args.push(Value::Integer(limit as i64));
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN requests r ON r.id = e.request_id
         WHERE e.seq < ? AND {scope_sql} ORDER BY e.seq DESC LIMIT ?"
    ))?;
    statement
        .query_map(params_from_iter(args.iter()), event_row)?
        .collect()
}

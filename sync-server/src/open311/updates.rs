//! FixMyStreet `servicerequestupdates`: GET lists this server's public status events as updates;
//! POST receives an update from a back office and applies it through `crate::actions`.
//!
//! Why it exists: work-order systems answer routed requests this way. **Invariants**: an
//! `update_id` is applied at most once (a repeat answers the first result); an update older than
//! the newest already applied to the same request is recorded but never changes the state; an
//! applied update is one event, so it reaches the reporter's device feed and the tracking view.

use balade_protocol::status::State;
use balade_protocol::taxonomy::Taxonomy;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use crate::actions::{Action, ActionError, apply_action};
use crate::open311::apikeys::ApiKey;
use crate::open311::format::{Format, Open311Error};
use crate::open311::requests::{Pairs, one, parse_datetime};
use crate::open311::time::{iso_paris, paris_date};
use crate::store::requests::RequestRow;
use crate::store::{StoreError, now_text, time_text};

/// A checked update.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub update_id: String,
    pub service_request_id: String,
    pub closed: bool,
    pub updated: DateTime<Utc>,
    pub description: String,
    pub media_url: Option<String>,
    pub external_status_code: Option<String>,
    /// Extension: planned date for `action_scheduled`.
    pub expected: Option<NaiveDate>,
}

/// Parses a POST body.
pub fn check(pairs: &Pairs, format: Format) -> Result<Update, Open311Error> {
    let bad = |m: String| Open311Error::bad_request(m, format);
    let required = |name: &str| -> Result<String, Open311Error> {
        one(pairs, name, format)?
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{name} est obligatoire")))
    };
    let update_id = required("update_id")?;
    if update_id.len() > 200 {
        return Err(bad("update_id trop long".into()));
    }
    let service_request_id = required("service_request_id")?;
    let closed = match required("status")?.to_ascii_lowercase().as_str() {
        "open" => false,
        "closed" => true,
        other => return Err(bad(format!("status invalide : {other} (open ou closed)"))),
    };
    let updated = parse_datetime(&required("updated_datetime")?, "updated_datetime", format)?;
    let description = one(pairs, "description", format)?.unwrap_or("").to_string();
    if description.chars().count() > balade_protocol::incident::MAX_COMMENT_CHARS {
        return Err(bad("description trop longue".into()));
    }
    let external_status_code =
        one(pairs, "external_status_code", format)?.map(|s| s.to_ascii_lowercase());
    if let Some(code) = &external_status_code
        && !State::ALL.iter().any(|s| s.fixmystreet_code() == code)
    {
        return Err(bad(format!("external_status_code inconnu : {code}")));
    }
    let expected = match one(pairs, "expected_datetime", format)? {
        // The Paris civil date: `2026-07-14T00:00:00+02:00` is the 14th, not the 13th (UTC).
        Some(v) => Some(paris_date(parse_datetime(v, "expected_datetime", format)?)),
        None => None,
    };
    Ok(Update {
        update_id,
        service_request_id,
        closed,
        updated,
        description,
        media_url: one(pairs, "media_url", format)?.map(str::to_string),
        external_status_code,
        expected,
    })
}

/// The action an update asks for in the request's current state (falls back to a public note
/// when the asked transition is not allowed from there).
fn action_for(update: &Update, row: &RequestRow) -> Action {
    let note = (!update.description.trim().is_empty()).then(|| update.description.clone());
    let fallback_note = || Action::PublicNote {
        text: note
            .clone()
            .unwrap_or_else(|| "Mise à jour du service".to_string()),
    };
    let asked = match update.external_status_code.as_deref() {
        Some("fixed") => Action::Resolve {
            note: note.clone(),
            photo: None,
        },
        Some("in_progress") => Action::Start,
        Some("not_councils_responsibility") => Action::Refuse {
            reason: note
                .clone()
                .unwrap_or_else(|| "Hors compétence de la ville".into()),
        },
        Some("action_scheduled") => match update.expected {
            Some(date) => Action::Schedule {
                date,
                note: note.clone(),
            },
            None => fallback_note(),
        },
        Some(_) => fallback_note(),
        None if update.closed => Action::Resolve {
            note: note.clone(),
            photo: None,
        },
        None => fallback_note(),
    };
    let allowed = match &asked {
        Action::Resolve { .. } | Action::Refuse { .. } => !row.state.is_closed(),
        Action::Start => matches!(row.state, State::Routed | State::Scheduled),
        Action::Schedule { .. } => matches!(
            row.state,
            State::Received | State::Routed | State::Scheduled
        ),
        _ => true,
    };
    if allowed { asked } else { fallback_note() }
}

/// Applies an update once, in the caller's transaction. Returns the answer item, or `None`
/// when the request is unknown.
pub fn apply(
    tx: &rusqlite::Transaction<'_>,
    taxonomy: &Taxonomy,
    key: &ApiKey,
    update: &Update,
) -> Result<Option<Value>, StoreError> {
    let answer = |applied: bool| json!({ "update_id": update.update_id, "service_request_id": update.service_request_id, "applied": applied });
    if let Some(applied) = tx
        .query_row(
            "SELECT applied FROM open311_updates WHERE update_id = ?1",
            [&update.update_id],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
    {
        return Ok(Some(answer(applied)));
    }
    let Some(row) = crate::store::requests::find(tx, &update.service_request_id)? else {
        return Ok(None);
    };
    let newest: Option<String> = tx.query_row(
        "SELECT MAX(updated_datetime) FROM open311_updates WHERE request_id = ?1 AND applied = 1",
        [row.id.to_string()],
        |r| r.get(0),
    )?;
    let updated_text = time_text(update.updated);
    let is_older = newest.is_some_and(|n| updated_text < n);
    let seq = if is_older {
        None
    } else {
        let action = action_for(update, &row);
        let event =
            apply_action(tx, taxonomy, &key.actor(), row.id, action).map_err(|e| match e {
                ActionError::Sqlite(e) => StoreError::Sqlite(e),
                other => StoreError::Action(other),
            })?;
        Some(event.seq)
    };
    tx.execute(
        "INSERT INTO open311_updates (update_id, request_id, status, external_status_code, description,
            media_url, updated_datetime, received_at, event_seq, applied, api_key_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            update.update_id,
            row.id.to_string(),
            if update.closed { "closed" } else { "open" },
            update.external_status_code,
            update.description,
            update.media_url,
            updated_text,
            now_text(),
            seq,
            seq.is_some(),
            key.id,
        ],
    )?;
    Ok(Some(answer(seq.is_some())))
}

/// Public status events between two times, as FixMyStreet updates (update_id = event seq).
pub fn list(
    conn: &rusqlite::Connection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Value>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT e.seq, r.reference, e.state, e.at, e.note, e.reason FROM events e
         JOIN requests r ON r.id = e.request_id
         WHERE e.public = 1 AND e.at >= ?1 AND e.at <= ?2 ORDER BY e.seq LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![time_text(start), time_text(end), limit as i64])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let state_text: String = row.get(2)?;
        let state =
            State::from_code(&state_text).ok_or_else(|| StoreError::Corrupt(state_text.clone()))?;
        let at = crate::store::parse_time(&row.get::<_, String>(3)?)?;
        let note: Option<String> = row.get(4)?;
        let reason: Option<String> = row.get(5)?;
        out.push(json!({
            "update_id": row.get::<_, i64>(0)?.to_string(),
            "service_request_id": row.get::<_, String>(1)?,
            "status": state.open311_status(),
            "updated_datetime": iso_paris(at),
            "description": reason.or(note).unwrap_or_default(),
            "media_url": "",
            "external_status_code": state.fixmystreet_code(),
        }));
    }
    Ok(out)
}

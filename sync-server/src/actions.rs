//! Operator actions on a request: the only way a request's state, routing or corrected fields
//! change after it is stored.
//!
//! Why it exists: the console, the operator CLI, Open311 and the arrival of a new request all
//! change requests; they all go through [`apply_action`], which validates the action against the
//! taxonomy and the state machine, updates the request row and appends exactly ONE event (with
//! before/after JSON) to the append-only `events` table, whose `seq` is the feed cursor.
//!
//! **Invariant**: `InternalNote` events are stored with `public = 0` and never become a
//! [`StatusEvent`]: they never reach a device or a citizen.

use std::sync::OnceLock;

use balade_protocol::error::ErrorCode;
use balade_protocol::incident::{Position, is_sha256_hex};
use balade_protocol::status::{EventKind, State, StatusEvent};
use balade_protocol::taxonomy::Taxonomy;
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::store::requests::{self, RequestRow};
use crate::store::{StoreError, parse_time, parse_uuid, time_text};

/// One operator decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Assign to a city service (code from the taxonomy's `services`).
    Route { service: String },
    /// Hand over to an outside body (code from the taxonomy's `outside_bodies`).
    Transfer { body: String, note: Option<String> },
    /// Accept and plan an intervention date.
    Schedule {
        date: NaiveDate,
        note: Option<String>,
    },
    /// Work started.
    Start,
    /// Done; optional citizen-facing note and photo (SHA-256 of a stored photo).
    Resolve {
        note: Option<String>,
        photo: Option<String>,
    },
    /// Refused; the reason is required and shown to the reporter.
    Refuse { reason: String },
    /// Same problem as another request, which is kept.
    Duplicate { of: Uuid },
    CorrectCategory {
        category: String,
        subcategory: String,
    },
    /// Move the position and/or relabel the address (at least one).
    CorrectLocation {
        position: Option<Position>,
        address: Option<String>,
    },
    /// Never leaves the console.
    InternalNote { text: String },
    /// A public note without a state change.
    PublicNote { text: String },
}

impl Action {
    /// Short English name, for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Route { .. } => "route",
            Action::Transfer { .. } => "transfer",
            Action::Schedule { .. } => "schedule",
            Action::Start => "start",
            Action::Resolve { .. } => "resolve",
            Action::Refuse { .. } => "refuse",
            Action::Duplicate { .. } => "duplicate",
            Action::CorrectCategory { .. } => "correct_category",
            Action::CorrectLocation { .. } => "correct_location",
            Action::InternalNote { .. } => "internal_note",
            Action::PublicNote { .. } => "public_note",
        }
    }

    /// States this action may be applied in.
    fn allowed_in(&self, state: State) -> bool {
        use State::*;
        let open = matches!(state, Received | Routed | Scheduled | InProgress);
        match self {
            // Taking a transferred request back is a re-route.
            Action::Route { .. } => open || state == Transferred,
            Action::Transfer { .. } => open,
            Action::Schedule { .. } => matches!(state, Received | Routed | Scheduled),
            Action::Start => matches!(state, Routed | Scheduled),
            Action::Resolve { .. } | Action::Refuse { .. } | Action::Duplicate { .. } => open,
            Action::CorrectCategory { .. }
            | Action::CorrectLocation { .. }
            | Action::InternalNote { .. }
            | Action::PublicNote { .. } => true,
        }
    }
}

/// Why an action was refused. Maps to an [`ErrorCode`] with [`ActionError::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    #[error("request not found")]
    NotFound,
    #[error("unknown service {0}")]
    UnknownService(String),
    #[error("unknown outside body {0}")]
    UnknownBody(String),
    #[error("unknown category {0}")]
    UnknownCategory(String),
    #[error("unknown sub-category {subcategory} in category {category}")]
    UnknownSubcategory {
        category: String,
        subcategory: String,
    },
    #[error("invalid position: {0}")]
    InvalidPosition(String),
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("invalid photo hash {0:?}")]
    InvalidPhoto(String),
    #[error("a request cannot be a duplicate of itself")]
    DuplicateOfSelf,
    #[error("duplicate target not found")]
    DuplicateTargetNotFound,
    #[error("duplicate target is itself a duplicate or closed as duplicate chain")]
    DuplicateTargetIsDuplicate,
    #[error("cannot {action} a request in state {state:?}")]
    InvalidState { state: State, action: &'static str },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl ActionError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ActionError::NotFound | ActionError::DuplicateTargetNotFound => ErrorCode::NotFound,
            ActionError::UnknownService(_)
            | ActionError::UnknownBody(_)
            | ActionError::Missing(_)
            | ActionError::InvalidPhoto(_)
            | ActionError::DuplicateOfSelf => ErrorCode::InvalidField,
            ActionError::UnknownCategory(_) => ErrorCode::UnknownCategory,
            ActionError::UnknownSubcategory { .. } => ErrorCode::UnknownSubcategory,
            ActionError::InvalidPosition(_) => ErrorCode::InvalidPosition,
            ActionError::DuplicateTargetIsDuplicate | ActionError::InvalidState { .. } => {
                ErrorCode::InvalidState
            }
            ActionError::Sqlite(_) | ActionError::Corrupt(_) => ErrorCode::Internal,
        }
    }

    /// French message for operators and devices.
    pub fn message_fr(&self) -> String {
        match self {
            ActionError::NotFound => "Demande introuvable".into(),
            ActionError::UnknownService(s) => format!("Service inconnu : {s}"),
            ActionError::UnknownBody(s) => format!("Organisme extérieur inconnu : {s}"),
            ActionError::UnknownCategory(c) => format!("Catégorie inconnue : {c}"),
            ActionError::UnknownSubcategory {
                category,
                subcategory,
            } => {
                format!("Sous-catégorie inconnue : {subcategory} (catégorie {category})")
            }
            ActionError::InvalidPosition(e) => format!("Position invalide : {e}"),
            ActionError::Missing(what) => {
                format!("Champ obligatoire manquant : {}", fr_field(what))
            }
            ActionError::InvalidPhoto(_) => "Empreinte de photo invalide".into(),
            ActionError::DuplicateOfSelf => {
                "Une demande ne peut pas être son propre doublon".into()
            }
            ActionError::DuplicateTargetNotFound => "Demande conservée introuvable".into(),
            ActionError::DuplicateTargetIsDuplicate => {
                "La demande conservée est elle-même un doublon".into()
            }
            ActionError::InvalidState { state, action } => format!(
                "Action « {} » impossible sur une demande à l'état « {} »",
                fr_field(action),
                state.label_fr()
            ),
            ActionError::Sqlite(_) | ActionError::Corrupt(_) => "Erreur interne".into(),
        }
    }
}

fn fr_field(what: &str) -> &str {
    match what {
        "reason" => "motif",
        "text" => "texte",
        "position or address" => "position ou adresse",
        "route" => "transmettre",
        "transfer" => "transférer",
        "schedule" => "programmer",
        "start" => "démarrer",
        "resolve" => "traiter",
        "refuse" => "refuser",
        "duplicate" => "marquer comme doublon",
        other => other,
    }
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) => ActionError::Sqlite(e),
            StoreError::Action(e) => e,
            other => ActionError::Corrupt(other.to_string()),
        }
    }
}

/// One appended event, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub request_id: Uuid,
    /// `EventKind` code, or `internal_note`.
    pub kind: String,
    pub state: State,
    pub actor: String,
    pub public: bool,
    /// What a device/citizen sees; `None` for internal notes.
    pub status_event: Option<StatusEvent>,
}

/// Stored kind of internal notes (not an [`EventKind`]: it never goes on the wire).
pub const INTERNAL_NOTE_KIND: &str = "internal_note";

/// Wire code of an event kind.
pub fn kind_code(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Received => "received",
        EventKind::Routed => "routed",
        EventKind::Transferred => "transferred",
        EventKind::Scheduled => "scheduled",
        EventKind::Started => "started",
        EventKind::Resolved => "resolved",
        EventKind::Refused => "refused",
        EventKind::Duplicate => "duplicate",
        EventKind::CategoryCorrected => "category_corrected",
        EventKind::LocationCorrected => "location_corrected",
        EventKind::Note => "note",
    }
}

/// Fields of one event to append.
#[derive(Debug, Clone, Default)]
struct NewEvent {
    service: Option<String>,
    outside_body: Option<String>,
    note: Option<String>,
    planned_date: Option<NaiveDate>,
    reason: Option<String>,
    duplicate_of: Option<Uuid>,
    category: Option<String>,
    subcategory: Option<String>,
    address: Option<String>,
}

fn snapshot(row: &RequestRow) -> serde_json::Value {
    serde_json::json!({
        "state": row.state.code(),
        "service": row.service,
        "outside_body": row.outside_body,
        "planned_date": row.planned_date.map(|d| d.to_string()),
        "duplicate_of": row.duplicate_of.map(|d| d.to_string()),
        "category": row.category,
        "subcategory": row.subcategory,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "accuracy_m": row.accuracy_m,
    })
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// Validates and applies `action` to `request_id`, appending one event. Runs inside the caller's
/// transaction (the caller commits).
pub fn apply_action(
    tx: &rusqlite::Transaction<'_>,
    taxonomy: &Taxonomy,
    actor: &str,
    request_id: Uuid,
    action: Action,
) -> Result<StoredEvent, ActionError> {
    let before = requests::load(tx, request_id)?.ok_or(ActionError::NotFound)?;
    if !action.allowed_in(before.state) {
        return Err(ActionError::InvalidState {
            state: before.state,
            action: action.name(),
        });
    }
    let mut after = before.clone();
    let mut event = NewEvent::default();
    let mut public = true;
    let kind: Option<EventKind> = match action {
        Action::Route { service } => {
            if !taxonomy.services.iter().any(|s| s.code == service) {
                return Err(ActionError::UnknownService(service));
            }
            after.service = Some(service.clone());
            after.outside_body = None;
            event.service = Some(service);
            Some(EventKind::Routed)
        }
        Action::Transfer { body, note } => {
            if !taxonomy.is_outside_body(&body) {
                return Err(ActionError::UnknownBody(body));
            }
            after.outside_body = Some(body.clone());
            event.outside_body = Some(body);
            event.service = after.service.clone();
            event.note = non_empty(note);
            Some(EventKind::Transferred)
        }
        Action::Schedule { date, note } => {
            after.planned_date = Some(date);
            event.planned_date = Some(date);
            event.service = after.service.clone();
            event.note = non_empty(note);
            Some(EventKind::Scheduled)
        }
        Action::Start => {
            event.service = after.service.clone();
            event.planned_date = after.planned_date;
            Some(EventKind::Started)
        }
        Action::Resolve { note, photo } => {
            if let Some(photo) = &photo
                && !is_sha256_hex(photo)
            {
                return Err(ActionError::InvalidPhoto(photo.clone()));
            }
            event.service = after.service.clone();
            event.note = non_empty(note);
            Some(EventKind::Resolved)
        }
        Action::Refuse { reason } => {
            let reason = non_empty(Some(reason)).ok_or(ActionError::Missing("reason"))?;
            event.service = after.service.clone();
            event.reason = Some(reason);
            Some(EventKind::Refused)
        }
        Action::Duplicate { of } => {
            if of == request_id {
                return Err(ActionError::DuplicateOfSelf);
            }
            let target = requests::load(tx, of)?.ok_or(ActionError::DuplicateTargetNotFound)?;
            if target.state == State::Duplicate || target.duplicate_of.is_some() {
                return Err(ActionError::DuplicateTargetIsDuplicate);
            }
            after.duplicate_of = Some(of);
            event.duplicate_of = Some(of);
            Some(EventKind::Duplicate)
        }
        Action::CorrectCategory {
            category,
            subcategory,
        } => {
            let cat = taxonomy
                .category(&category)
                .ok_or_else(|| ActionError::UnknownCategory(category.clone()))?;
            if cat.subcategory(&subcategory).is_none() {
                return Err(ActionError::UnknownSubcategory {
                    category,
                    subcategory,
                });
            }
            after.category = category.clone();
            after.subcategory = subcategory.clone();
            event.category = Some(category);
            event.subcategory = Some(subcategory);
            Some(EventKind::CategoryCorrected)
        }
        Action::CorrectLocation { position, address } => {
            let address = non_empty(address);
            if position.is_none() && address.is_none() {
                return Err(ActionError::Missing("position or address"));
            }
            if let Some(position) = position {
                position
                    .validate()
                    .map_err(|e| ActionError::InvalidPosition(e.to_string()))?;
                after.lat = position.lat;
                after.lon = position.lon;
                after.accuracy_m = position.accuracy_m;
                let l93 = crate::geo::lambert93_of(&position);
                after.l93_x = l93.map(|p| p.0);
                after.l93_y = l93.map(|p| p.1);
            }
            if let Some(address) = &address {
                after.address = Some(address.clone());
            }
            event.address = after.address.clone();
            Some(EventKind::LocationCorrected)
        }
        Action::InternalNote { text } => {
            event.note = Some(non_empty(Some(text)).ok_or(ActionError::Missing("text"))?);
            public = false;
            None
        }
        Action::PublicNote { text } => {
            event.note = Some(non_empty(Some(text)).ok_or(ActionError::Missing("text"))?);
            Some(EventKind::Note)
        }
    };
    if let Some(kind) = kind {
        after.state = kind.next_state(before.state);
    }
    let kind_text = kind.map(kind_code).unwrap_or(INTERNAL_NOTE_KIND);
    let now = chrono::Utc::now();
    let now_s = time_text(now);
    tx.execute(
        "INSERT INTO events (request_id, kind, state, at, actor, public, service, outside_body, note,
            planned_date, reason, duplicate_of, category, subcategory, address, before_json, after_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            request_id.to_string(),
            kind_text,
            after.state.code(),
            now_s,
            actor,
            public,
            event.service,
            event.outside_body,
            event.note,
            event.planned_date.map(|d| d.to_string()),
            event.reason,
            event.duplicate_of.map(|d| d.to_string()),
            event.category,
            event.subcategory,
            event.address,
            snapshot(&before).to_string(),
            snapshot(&after).to_string(),
        ],
    )?;
    let seq = tx.last_insert_rowid();
    tx.execute(
        "UPDATE requests SET state = ?2, service = ?3, outside_body = ?4, planned_date = ?5,
            duplicate_of = ?6, category = ?7, subcategory = ?8, address = ?9, lat = ?10, lon = ?11,
            accuracy_m = ?12, l93_x = ?13, l93_y = ?14, updated_at = ?15, last_seq = ?16
         WHERE id = ?1",
        params![
            request_id.to_string(),
            after.state.code(),
            after.service,
            after.outside_body,
            after.planned_date.map(|d| d.to_string()),
            after.duplicate_of.map(|d| d.to_string()),
            after.category,
            after.subcategory,
            after.address,
            after.lat,
            after.lon,
            after.accuracy_m,
            after.l93_x,
            after.l93_y,
            now_s,
            seq,
        ],
    )?;
    let status_event = match kind {
        Some(_) => Some(load_status_event(tx, taxonomy, seq)?.ok_or(ActionError::NotFound)?),
        None => None,
    };
    Ok(StoredEvent {
        seq,
        request_id,
        kind: kind_text.to_string(),
        state: after.state,
        actor: actor.to_string(),
        public,
        status_event,
    })
}

/// Chooses the first recipient of a new request; `None` = the category's default recipient.
/// Returns a service code or an outside-body code.
pub type RoutingHook = fn(
    &rusqlite::Transaction<'_>,
    &Taxonomy,
    &RequestRow,
) -> Result<Option<String>, rusqlite::Error>;

static ROUTING_HOOK: OnceLock<RoutingHook> = OnceLock::new();

/// Installs routing rules (the console's). Only the first call wins; returns whether it did.
pub fn set_routing_hook(hook: RoutingHook) -> bool {
    ROUTING_HOOK.set(hook).is_ok()
}

/// Actor name of events the server makes by itself.
pub const SYSTEM_ACTOR: &str = "system";

/// Appends the `received` event of a freshly inserted request, then routes it: the routing hook
/// decides, else the category's default recipient (`routed` for a service, `transferred` for an
/// outside body). Called by [`requests::insert_incident`].
pub fn record_arrival(
    tx: &rusqlite::Transaction<'_>,
    taxonomy: &Taxonomy,
    request_id: Uuid,
) -> Result<Vec<StoredEvent>, ActionError> {
    let row = requests::load(tx, request_id)?.ok_or(ActionError::NotFound)?;
    let now_s = time_text(chrono::Utc::now());
    tx.execute(
        "INSERT INTO events (request_id, kind, state, at, actor, public, category, subcategory, address,
            after_json)
         VALUES (?1, 'received', 'received', ?2, ?3, 1, ?4, ?5, ?6, ?7)",
        params![
            request_id.to_string(),
            now_s,
            SYSTEM_ACTOR,
            row.category,
            row.subcategory,
            row.address,
            snapshot(&row).to_string(),
        ],
    )?;
    let seq = tx.last_insert_rowid();
    tx.execute(
        "UPDATE requests SET last_seq = ?2 WHERE id = ?1",
        params![request_id.to_string(), seq],
    )?;
    let received = StoredEvent {
        seq,
        request_id,
        kind: "received".into(),
        state: State::Received,
        actor: SYSTEM_ACTOR.into(),
        public: true,
        status_event: load_status_event(tx, taxonomy, seq)?,
    };
    let hooked = match ROUTING_HOOK.get() {
        Some(hook) => hook(tx, taxonomy, &row)?,
        None => None,
    };
    let recipient = hooked
        .filter(|code| taxonomy.recipient(code).is_some())
        .or_else(|| {
            taxonomy
                .category(&row.category)
                .map(|c| c.recipient.clone())
        });
    let mut events = vec![received];
    if let Some(recipient) = recipient {
        let action = if taxonomy.is_outside_body(&recipient) {
            Action::Transfer {
                body: recipient,
                note: None,
            }
        } else {
            Action::Route { service: recipient }
        };
        events.push(apply_action(
            tx,
            taxonomy,
            SYSTEM_ACTOR,
            request_id,
            action,
        )?);
    }
    Ok(events)
}

/// Columns of `events` joined with the request's reference, read by [`status_event_from_row`].
pub const EVENT_COLUMNS: &str = "e.seq, e.request_id, e.kind, e.state, e.at, r.reference, e.service, \
    e.outside_body, e.note, e.planned_date, e.reason, e.duplicate_of, e.category, e.subcategory, e.address";

/// Builds the wire event from a row selected with [`EVENT_COLUMNS`]. Service and body codes are
/// shown as their French names from the taxonomy (the reporter reads them).
pub fn status_event_from_row(
    taxonomy: &Taxonomy,
    row: &rusqlite::Row<'_>,
) -> Result<StatusEvent, StoreError> {
    let kind_text: String = row.get(2)?;
    let kind: EventKind = serde_json::from_value(serde_json::Value::String(kind_text.clone()))
        .map_err(|_| StoreError::Corrupt(format!("event kind {kind_text:?}")))?;
    let state_text: String = row.get(3)?;
    let name = |code: Option<String>| {
        code.map(|c| {
            taxonomy
                .recipient(&c)
                .map(|r| r.name_fr.clone())
                .unwrap_or(c)
        })
    };
    let planned: Option<String> = row.get(9)?;
    let duplicate_of: Option<String> = row.get(11)?;
    Ok(StatusEvent {
        seq: row.get(0)?,
        incident_id: parse_uuid(&row.get::<_, String>(1)?)?,
        kind,
        state: State::from_code(&state_text)
            .ok_or_else(|| StoreError::Corrupt(format!("state {state_text:?}")))?,
        at: parse_time(&row.get::<_, String>(4)?)?,
        reference: row.get(5)?,
        service: name(row.get(6)?),
        outside_body: name(row.get(7)?),
        note: row.get(8)?,
        planned_date: planned
            .map(|d| {
                d.parse()
                    .map_err(|e| StoreError::Corrupt(format!("date {d:?}: {e}")))
            })
            .transpose()?,
        reason: row.get(10)?,
        duplicate_of: duplicate_of.as_deref().map(parse_uuid).transpose()?,
        category: row.get(12)?,
        subcategory: row.get(13)?,
        address: row.get(14)?,
    })
}

/// The public event with this seq, if any.
pub fn load_status_event(
    conn: &Connection,
    taxonomy: &Taxonomy,
    seq: i64,
) -> Result<Option<StatusEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN requests r ON r.id = e.request_id
         WHERE e.seq = ?1 AND e.public = 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([seq])?;
    match rows.next()? {
        Some(row) => Ok(Some(status_event_from_row(taxonomy, row)?)),
        None => Ok(None),
    }
}

/// A request's public timeline, in seq order.
pub fn public_timeline(
    conn: &Connection,
    taxonomy: &Taxonomy,
    request_id: Uuid,
) -> Result<Vec<StatusEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN requests r ON r.id = e.request_id
         WHERE e.request_id = ?1 AND e.public = 1 ORDER BY e.seq"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([request_id.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(status_event_from_row(taxonomy, row)?);
    }
    Ok(out)
}

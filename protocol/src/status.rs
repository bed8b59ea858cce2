//! The status model of DESIGN.md and the public status events that flow back to devices.
//!
//! A request's state only changes through an appended [`StatusEvent`]; the server numbers
//! every event with one monotonic sequence (`seq`), which is also the device feed's cursor.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a request stands. Labels and Open311 mapping are fixed by DESIGN.md.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    Routed,
    Scheduled,
    InProgress,
    Resolved,
    Refused,
    Duplicate,
    Transferred,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Received,
        State::Routed,
        State::Scheduled,
        State::InProgress,
        State::Resolved,
        State::Refused,
        State::Duplicate,
        State::Transferred,
    ];

    /// Stable machine code (as on the wire).
    pub fn code(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Routed => "routed",
            State::Scheduled => "scheduled",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Refused => "refused",
            State::Duplicate => "duplicate",
            State::Transferred => "transferred",
        }
    }

    pub fn from_code(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            State::Received => "Reçu",
            State::Routed => "Transmis au service",
            State::Scheduled => "Programmé",
            State::InProgress => "En cours",
            State::Resolved => "Traité",
            State::Refused => "Refusé",
            State::Duplicate => "Doublon",
            State::Transferred => "Transmis à un organisme extérieur",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            State::Received => "Received",
            State::Routed => "Sent to the service",
            State::Scheduled => "Scheduled",
            State::InProgress => "In progress",
            State::Resolved => "Resolved",
            State::Refused => "Refused",
            State::Duplicate => "Duplicate",
            State::Transferred => "Transferred to an outside body",
        }
    }

    /// Open311 GeoReport v2 `status`: `open` or `closed`.
    pub fn open311_status(self) -> &'static str {
        if self.is_closed() { "closed" } else { "open" }
    }

    /// FixMyStreet's extended status code (`external_status_code` / `extended_attributes`).
    pub fn fixmystreet_code(self) -> &'static str {
        match self {
            State::Received => "confirmed",
            State::Routed => "action_scheduled",
            State::Scheduled => "action_scheduled",
            State::InProgress => "in_progress",
            State::Resolved => "fixed",
            State::Refused => "not_councils_responsibility",
            State::Duplicate => "duplicate",
            State::Transferred => "internal_referral",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(
            self,
            State::Resolved | State::Refused | State::Duplicate | State::Transferred
        )
    }
}

/// What happened, for one event. Most kinds set a new [`State`]; corrections keep it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Received,
    Routed,
    Transferred,
    Scheduled,
    Started,
    Resolved,
    Refused,
    Duplicate,
    /// Category/sub-category corrected by an operator.
    CategoryCorrected,
    /// Address or position corrected by an operator.
    LocationCorrected,
    /// A public note without a state change (e.g. an update from a back office).
    Note,
}

impl EventKind {
    /// The state a request is in after this event, given the state before it.
    pub fn next_state(self, before: State) -> State {
        match self {
            EventKind::Received => State::Received,
            EventKind::Routed => State::Routed,
            EventKind::Transferred => State::Transferred,
            EventKind::Scheduled => State::Scheduled,
            EventKind::Started => State::InProgress,
            EventKind::Resolved => State::Resolved,
            EventKind::Refused => State::Refused,
            EventKind::Duplicate => State::Duplicate,
            EventKind::CategoryCorrected | EventKind::LocationCorrected | EventKind::Note => before,
        }
    }
}

/// One public change to a request, as the device and the citizen see it.
/// Internal notes never become a `StatusEvent`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// Server sequence number: the feed cursor. Strictly increasing across all events.
    pub seq: i64,
    pub incident_id: Uuid,
    pub kind: EventKind,
    /// The request's state after this event.
    pub state: State,
    /// Server time of the change.
    pub at: DateTime<Utc>,
    /// Human reference, e.g. `LR-2026-000123`.
    pub reference: String,
    /// City service in charge (name shown to the reporter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Outside body (CDA, OPH…) when transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_body: Option<String>,
    /// Citizen-facing note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Planned intervention date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_date: Option<NaiveDate>,
    /// Refusal reason (template text + free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The kept request, for a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Uuid>,
    /// New category/sub-category after a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    /// New address label after a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_codes_round_trip_and_map_to_open311() {
        for state in State::ALL {
            assert_eq!(State::from_code(state.code()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.code()));
        }
        let open: Vec<_> = State::ALL
            .into_iter()
            .filter(|s| s.open311_status() == "open")
            .collect();
        assert_eq!(
            open,
            [
                State::Received,
                State::Routed,
                State::Scheduled,
                State::InProgress
            ]
        );
    }

    #[test]
    fn corrections_keep_the_state() {
        assert_eq!(
            EventKind::CategoryCorrected.next_state(State::Scheduled),
            State::Scheduled
        );
        assert_eq!(
            EventKind::Started.next_state(State::Scheduled),
            State::InProgress
        );
    }
}

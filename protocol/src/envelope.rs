//! Request and response bodies of the device API (`/api/v1/...`).
//!
//! An acknowledgement is only ever one of these envelopes with `protocol` set and an exact
//! 2xx status: a device must not take any other 200 (a captive portal's HTML page) as an ack.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PROTOCOL_VERSION;
use crate::incident::{Incident, Walk};
use crate::status::StatusEvent;

/// `POST /api/v1/enroll`: exchange a one-time enrolment code for a device token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub protocol: u32,
    pub code: String,
    #[serde(default)]
    pub device_name: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub protocol: u32,
    pub device_id: Uuid,
    /// Bearer token; the server stores only its hash.
    pub token: String,
}

/// Most incidents one push may carry.
pub const MAX_PUSH_BATCH: usize = 500;

/// `POST /api/v1/push`: upsert a batch of incidents (and the walks they refer to).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    #[serde(default)]
    pub walks: Vec<Walk>,
    #[serde(default)]
    pub incidents: Vec<Incident>,
}

impl PushRequest {
    pub fn new(walks: Vec<Walk>, incidents: Vec<Incident>) -> Self {
        PushRequest {
            protocol: PROTOCOL_VERSION,
            walks,
            incidents,
        }
    }
}

/// Outcome for one pushed incident.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// Stored now.
    Created,
    /// Already stored with the same body (a retry): same success as the first time.
    AlreadyStored,
    /// Same id, different body: refused; the device freezes the record.
    Conflict,
    /// Refused for a reason given in `error` (unknown category…): the device freezes it too.
    Rejected,
}

/// Per-incident result of a push, in the order of the request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushItemResult {
    pub id: Uuid,
    pub outcome: PushOutcome,
    /// Human reference (`LR-2026-000123`), for stored incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Citizen tracking code, for stored incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    /// Photo hashes the server does not hold yet: the device uploads them.
    #[serde(default)]
    pub missing_photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorDetail>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub protocol: u32,
    pub results: Vec<PushItemResult>,
}

/// `GET /api/v1/feed?since=SEQ&limit=N`: the device's status events after a cursor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedPage {
    pub protocol: u32,
    pub events: Vec<StatusEvent>,
    /// Cursor to send as `since` next time (the last event's seq, or `since` if empty).
    pub next_cursor: i64,
    pub has_more: bool,
    /// Current taxonomy version: the device refetches the taxonomy when it differs.
    pub taxonomy_version: String,
}

/// `GET /api/v1/track/{code}`: public status of a request, for citizens following a code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingView {
    pub protocol: u32,
    pub tracking_code: String,
    pub reference: String,
    pub category: String,
    pub subcategory: String,
    pub state: crate::status::State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub timeline: Vec<StatusEvent>,
}

/// `GET /api/v1/health`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub protocol: u32,
    pub status: String,
    pub version: String,
}

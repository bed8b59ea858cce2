//! The device API (`/api/v1/...`), see docs/protocol.md and the contract in the module docs of
//! each handler file.
//!
//! Why it exists: field devices enrol, push incidents, upload photos and read their status feed
//! here; citizens read a tracking view. Every body is a balade_protocol envelope.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::envelope::Health;

use crate::error::ApiJson;
use crate::state::AppState;

/// Routes of the device API.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .layer(DefaultBodyLimit::max(state.config.max_json_body))
}

async fn health() -> ApiJson<Health> {
    ApiJson(Health {
        protocol: PROTOCOL_VERSION,
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

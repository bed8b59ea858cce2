//! The device API (`/api/v1/...`), see docs/protocol.md.
//!
//! Why it exists: field devices enrol, push incidents, upload photos and read their status feed
//! here; citizens read a tracking view. Every JSON body is a balade_protocol envelope.
//!
//! Modules: [`auth`] (bearer tokens, enrolment codes), [`device`] (JSON routes), [`tus`]
//! (resumable photo uploads).

pub mod auth;
pub mod device;
pub mod tus;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};
use balade_protocol::PROTOCOL_VERSION;
use balade_protocol::envelope::Health;

use crate::error::ApiJson;
use crate::state::AppState;

/// Routes of the device API.
pub fn router(state: &AppState) -> Router<AppState> {
    let json = Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/enroll", post(device::enroll))
        .route("/api/v1/taxonomy", get(device::taxonomy))
        .route("/api/v1/push", post(device::push))
        .route("/api/v1/incidents/{id}", put(device::put_incident))
        .route("/api/v1/feed", get(device::feed))
        .route("/api/v1/track/{code}", get(device::track))
        .layer(DefaultBodyLimit::max(state.config.max_json_body));
    let uploads = Router::new()
        .route("/api/v1/uploads", post(tus::create).options(tus::options))
        .route(
            "/api/v1/uploads/{id}",
            axum::routing::head(tus::head)
                .patch(tus::patch)
                .delete(tus::delete),
        )
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(tus::tus_layer));
    json.merge(uploads)
}

#[utoipa::path(get, path = "/api/v1/health", tag = "device",
    responses((status = 200, description = "server up, its protocol version", body = Health)))]
pub async fn health() -> ApiJson<Health> {
    ApiJson(Health {
        protocol: PROTOCOL_VERSION,
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

//! The OpenAPI 3 document served at `/api/openapi.json`, generated from the code with `utoipa`:
//! paths from `#[utoipa::path]` attributes on the handlers, schemas from `balade_protocol` types
//! (feature `openapi`). Nothing is written by hand beside the code.
//!
//! Why it exists: integrators and the schemathesis CI check read one machine document.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::error::ApiJson;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Balade",
        description = "API des appareils, Open311 GeoReport v2, exports et connecteur de bons de travaux"
    ),
    paths(
        crate::open311::top_get,
        crate::open311::top_post,
        crate::open311::service_definition,
        crate::open311::request_one,
        crate::open311::token,
        crate::open311::exports::export_requests,
        crate::open311::exports::export_walk,
        crate::open311::connector::dead_letters,
    ),
    components(schemas(
        balade_protocol::error::ErrorBody,
        balade_protocol::envelope::Health,
        balade_protocol::envelope::PushRequest,
        balade_protocol::envelope::PushResponse,
        balade_protocol::envelope::FeedPage,
        balade_protocol::envelope::TrackingView,
        balade_protocol::envelope::EnrollRequest,
        balade_protocol::envelope::EnrollResponse,
    ))
)]
pub struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { ApiJson(document()) }))
}

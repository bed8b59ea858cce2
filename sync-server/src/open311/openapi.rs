//! The OpenAPI 3 document served at `/api/openapi.json`, generated from the code with `utoipa`:
//! paths from `#[utoipa::path]` attributes on the handlers, schemas from `balade_protocol` types
//! (feature `openapi`). Nothing is written by hand beside the code. Covered: the device API
//! (health, enrolment, taxonomy, push, PUT, feed, tracking), the tus uploads (`api::tus`, with
//! their `Tus-*`/`Upload-*`/`Location` headers and every status incl. 460), Open311 GeoReport v2
//! and its media route, exports, and the connector's dead letters and webhook payload schema.
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
    modifiers(&BearerAuth),
    paths(
        crate::api::health,
        crate::api::device::enroll,
        crate::api::device::taxonomy,
        crate::api::device::push,
        crate::api::device::put_incident,
        crate::api::device::feed,
        crate::api::device::track,
        crate::api::tus::options,
        crate::api::tus::create,
        crate::api::tus::head,
        crate::api::tus::patch,
        crate::api::tus::delete,
        crate::open311::top_get,
        crate::open311::top_post,
        crate::open311::service_definition,
        crate::open311::request_one,
        crate::open311::token,
        crate::open311::media::photo,
        crate::open311::exports::export_requests,
        crate::open311::exports::export_walk,
        crate::open311::connector::dead_letters,
    ),
    components(schemas(
        balade_protocol::error::ErrorBody,
        crate::open311::connector::WebhookPayload,
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

/// Declares the device bearer token scheme used by `security(("bearer" = []))`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Schema of a raw byte body (`type: string, format: binary`), for the tus PATCH chunk
/// (`application/offset+octet-stream`); used inline by `#[utoipa::path]` on `api::tus::patch`.
pub struct OctetStream;

impl utoipa::PartialSchema for OctetStream {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for OctetStream {}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { ApiJson(document()) }))
}

//! The whole HTTP application: device API, console and Open311 routers behind shared layers.
//!
//! Why it exists: `app(state)` is separate from `main` so tests run the real router (on a real
//! socket, port 0) and the binary only binds and serves it.
//!
//! Layers, outermost first: tracing; catch-panic (a panicking handler answers a generic 500 JSON
//! body, the panic is logged); a global request-body cap; and, for `/api/` paths only, a rewrite
//! of bodiless or plain-text error responses (axum's own 404/405/413…) into the JSON error body.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use balade_protocol::error::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// Hard cap on any request body (photos stream through PATCH in chunks below this).
pub const MAX_ANY_BODY: usize = 64 * 1024 * 1024;

/// Builds the application router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(crate::api::router(&state))
        .merge(crate::console::router())
        .merge(crate::open311::router())
        .layer(middleware::from_fn(json_errors_for_api))
        .layer(RequestBodyLimitLayer::new(MAX_ANY_BODY))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::internal(format!("handler panicked: {detail}")).into_response()
}

/// Under `/api/`, turns an error response that is not already JSON into our error body.
async fn json_errors_for_api(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_api || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let status = response.status();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            ErrorCode::NotFound,
            "Méthode non prise en charge pour cette adresse",
            "method not allowed",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => crate::error::body_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Type de contenu non pris en charge",
            "unsupported media type",
        ),
        s if s.is_server_error() => ApiError::internal(format!("bare {s} response")),
        _ => ApiError::new(ErrorCode::InvalidField, "Requête invalide", "bad request"),
    };
    // Keep the original status (e.g. 405, 412) and headers (tus headers), replace the body.
    let (mut parts, _) = response.into_parts();
    let body = serde_json::to_vec(&error.body()).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

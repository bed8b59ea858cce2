//! The operators' review console (`/console/...`) and the citizens' tracking pages (`/suivi`).
//!
//! Why it exists: operators triage what field devices synced (inbox, map, request page,
//! actions, routing rules, walk reports, statistics, audit trail), and citizens follow a request
//! with its tracking code. Pages are server-rendered HTML (maud) that work without JavaScript;
//! Leaflet (vendored, served from here) only enhances the maps.
//!
//! Modules: [`auth`] (accounts, sessions, throttling — plain SQLite), [`web`] (extractors: the
//! logged-in user and the CSRF-checked form), [`layout`] (page chrome), [`queries`] (read side,
//! scoped per operator), [`request`] (request page and actions through `crate::actions`),
//! [`resolution`] (resolve with a photo), [`inbox`], [`citizen`], [`stats`], [`audit`], [`walk`],
//! [`admin`], [`users`] (accounts), [`categories`] (taxonomy editing), [`routing`],
//! [`thumbs`] (cached list thumbnails).
//!
//! **Invariants**: every `/console` route except login and static files requires a session;
//! every POST carries the session's CSRF token; operators only see their services' requests;
//! citizen pages only show public events and operator-allowed photos.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod categories;
pub mod citizen;
pub mod imports;
pub mod inbox;
pub mod layout;
pub mod login;
pub mod queries;
pub mod request;
pub mod resolution;
pub mod routing;
pub mod stats;
pub mod thumbs;
pub mod users;
pub mod walk;
pub mod web;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use auth::{cli_user, ensure_demo_admin};

use crate::state::AppState;
use web::{Authed, PageError, db};

/// Console settings read once from the environment when the router is built.
#[derive(Debug, Clone, Default)]
pub struct ConsoleConfig {
    /// Map tile URL template (`BALADE_TILE_URL`, e.g. `https://tiles.example/{z}/{x}/{y}.png`).
    /// Absent: maps are blank but markers still show.
    pub tile_url: Option<String>,
    /// Mark cookies `Secure` (`BALADE_SECURE_COOKIES=1`, when served over HTTPS).
    pub secure_cookies: bool,
}

impl ConsoleConfig {
    pub fn from_env() -> ConsoleConfig {
        ConsoleConfig {
            tile_url: std::env::var("BALADE_TILE_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            secure_cookies: std::env::var("BALADE_SECURE_COOKIES")
                .is_ok_and(|v| v == "1" || v == "true"),
        }
    }
}

/// The console and citizen routes. Also installs the routing-rules hook into the server's
/// arrival path (first call wins).
pub fn router() -> Router<AppState> {
    crate::actions::set_routing_hook(routing::routing_hook);
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/inbox") }))
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/inbox") }),
        )
        .route("/console/login", get(login::show).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/inbox", get(inbox::show))
        .route("/console/requests/{reference}", get(request::show))
        .route("/console/requests/{reference}/action", post(request::act))
        .route(
            "/console/requests/{reference}/resolve",
            post(resolution::resolve_with_photo).layer(axum::extract::DefaultBodyLimit::max(
                resolution::MAX_PHOTO_BYTES + 64 * 1024,
            )),
        )
        .route("/console/photos/{sha256}", get(photo))
        .route("/console/photos/{sha256}/thumb", get(photo_thumb))
        .route("/console/walks/{id}", get(walk::show))
        .route("/console/stats", get(stats::show))
        .route("/console/stats.csv", get(stats::csv))
        .route("/console/audit", get(audit::show))
        .route("/console/admin", get(admin::show))
        .route("/console/admin/rules", post(admin::add_rule))
        .route("/console/admin/rules/{id}/delete", post(admin::delete_rule))
        .route("/console/admin/templates", post(admin::add_template))
        .route("/console/admin/recipients", post(admin::add_recipient))
        .route("/console/admin/users", get(users::show).post(users::create))
        .route(
            "/console/admin/import",
            get(imports::show).post(imports::submit),
        )
        .route(
            "/console/admin/users/{id}/services",
            post(users::set_services),
        )
        .route(
            "/console/admin/users/{id}/disabled",
            post(users::set_disabled),
        )
        .route(
            "/console/admin/categories",
            get(categories::show).post(categories::update),
        )
        .route("/console/admin/subcategories", post(categories::add_sub))
        .route(
            "/console/admin/templates/{id}/delete",
            post(admin::delete_template),
        )
        .route("/console/static/{*path}", get(static_file))
        .route("/suivi", get(citizen::form))
        .route("/suivi/{code}", get(citizen::show))
        .route("/suivi/{code}/photos/{sha256}", get(citizen::photo))
        .layer(axum::Extension(ConsoleConfig::from_env()))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every console and citizen page: no framing (clickjacking), no MIME sniffing,
/// no referrer leaving the site (tracking codes are in URLs).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Static files compiled into the binary (the product needs no assets folder at run time).
fn static_asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    macro_rules! asset {
        ($file:literal, $mime:literal) => {
            (
                include_bytes!(concat!("../../../assets/console/", $file)).as_slice(),
                $mime,
            )
        };
    }
    Some(match path {
        "console.css" => asset!("console.css", "text/css; charset=utf-8"),
        "console.js" => asset!("console.js", "text/javascript; charset=utf-8"),
        "vendor/leaflet/leaflet.js" => asset!(
            "vendor/leaflet/leaflet.js",
            "text/javascript; charset=utf-8"
        ),
        "vendor/leaflet/leaflet.css" => {
            asset!("vendor/leaflet/leaflet.css", "text/css; charset=utf-8")
        }
        "vendor/leaflet/images/marker-icon.png" => {
            asset!("vendor/leaflet/images/marker-icon.png", "image/png")
        }
        "vendor/leaflet/images/marker-icon-2x.png" => {
            asset!("vendor/leaflet/images/marker-icon-2x.png", "image/png")
        }
        "vendor/leaflet/images/marker-shadow.png" => {
            asset!("vendor/leaflet/images/marker-shadow.png", "image/png")
        }
        "vendor/leaflet/images/layers.png" => {
            asset!("vendor/leaflet/images/layers.png", "image/png")
        }
        "vendor/leaflet/images/layers-2x.png" => {
            asset!("vendor/leaflet/images/layers-2x.png", "image/png")
        }
        _ => return None,
    })
}

async fn static_file(Path(path): Path<String>) -> Response {
    match static_asset(&path) {
        Some((bytes, mime)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves a stored photo to a logged-in user who may see a request referencing it.
async fn photo(
    State(state): State<AppState>,
    Authed(user): Authed,
    Path(sha256): Path<String>,
) -> Result<Response, PageError> {
    let mime = visible_photo_mime(&state, &user, &sha256).await?;
    serve_photo(&state, &sha256, &mime).await
}

/// Serves the 320 px JPEG thumbnail of a photo, with the same access rule as the photo.
async fn photo_thumb(
    State(state): State<AppState>,
    Authed(user): Authed,
    Path(sha256): Path<String>,
) -> Result<Response, PageError> {
    visible_photo_mime(&state, &user, &sha256).await?;
    let data_dir = state.data_dir.clone();
    let bytes = tokio::task::spawn_blocking(move || thumbs::cached_thumbnail(&data_dir, &sha256))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|error| {
            tracing::warn!(%error, "no thumbnail");
            PageError::NotFound
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The mime type of a stored photo the user may see (a request of their scope references it).
async fn visible_photo_mime(
    state: &AppState,
    user: &auth::ConsoleUser,
    sha256: &str,
) -> Result<String, PageError> {
    if !balade_protocol::incident::is_sha256_hex(sha256) {
        return Err(PageError::NotFound);
    }
    let scope = queries::Scope::of(user);
    let hash = sha256.to_string();
    db(state, move |conn| {
        let mut statement = conn.prepare_cached(
            "SELECT p.mime, r.service, r.outside_body FROM request_photos rp JOIN requests r ON r.id = rp.request_id
             JOIN photos p ON p.sha256 = rp.sha256 WHERE rp.sha256 = ?1
             UNION ALL
             SELECT p.mime, r.service, r.outside_body FROM console_public_photos c JOIN requests r ON r.id = c.incident_id
             JOIN photos p ON p.sha256 = c.sha256 WHERE c.sha256 = ?1",
        )?;
        let rows = statement
            .query_map([&hash], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().find(|(_, service, body)| scope.allows(service.as_deref(), body.as_deref())).map(|r| r.0))
    })
    .await?
    .ok_or(PageError::NotFound)
}

/// Reads a photo file and answers it with its mime type (private caching only).
pub async fn serve_photo(
    state: &AppState,
    sha256: &str,
    mime: &str,
) -> Result<Response, PageError> {
    let bytes = tokio::fs::read(crate::api::tus::photo_path(&state.data_dir, sha256))
        .await
        .map_err(|_| PageError::NotFound)?;
    let mime = if mime.starts_with("image/") {
        mime
    } else {
        "application/octet-stream"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("image/jpeg")),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

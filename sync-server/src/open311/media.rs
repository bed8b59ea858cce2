//! Open311 `media_url` for photos taken by devices (or attached by operators): a request's photo
//! is published only once an operator allowed citizens to see it — the same flag the citizen
//! tracking page uses (`console_public_photos`, set from the console's request page and at a
//! resolution with a photo) — and only when the photo file is actually stored.
//!
//! Why it exists: device photos are private until reviewed (faces, number plates). Open311 GETs
//! are public, so `media_url` points at `GET /open311/v2/media/{service_request_id}/{sha256}`,
//! which serves exactly the allowed photos and answers 404 for every other photo, the same way
//! for an unknown request, an unknown photo and a photo that was not (or no longer) allowed.
//! The URL does not contain the tracking code (that code stays the reporter's).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use crate::open311::format::{Format, Open311Error};
use crate::state::AppState;
use crate::store::StoreError;

/// Photos of request `id` an operator allowed and the server holds, in the order they were allowed.
pub fn allowed_photos(conn: &Connection, id: Uuid) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.sha256 FROM console_public_photos c JOIN photos p ON p.sha256 = c.sha256
         WHERE c.incident_id = ?1 ORDER BY c.rowid",
    )?;
    let rows = stmt.query_map([id.to_string()], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// The public URL of an allowed photo.
pub fn url(media_base: &str, reference: &str, sha256: &str) -> String {
    format!("{media_base}/open311/v2/media/{reference}/{sha256}")
}

/// `http(s)://host` the client reached us at (`Host`, and `X-Forwarded-Proto: https` behind a
/// TLS proxy); empty (so URLs stay relative) when the host is missing or not a plain host[:port].
pub fn public_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty() && !h.contains('@') && h.parse::<axum::http::uri::Authority>().is_ok()
        });
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    host.map(|h| format!("{scheme}://{h}")).unwrap_or_default()
}

/// `GET /open311/v2/media/{service_request_id}/{sha256}`: an allowed photo, else 404.
#[utoipa::path(get, path = "/open311/v2/media/{service_request_id}/{sha256}", tag = "open311",
    params(("service_request_id" = String, Path, description = "the request's reference"),
           ("sha256" = String, Path, description = "the photo's SHA-256 (from media_url)")),
    responses((status = 200, description = "the photo, once an operator allowed it",
                content((inline(crate::open311::openapi::OctetStream) = "image/jpeg"),
                        (inline(crate::open311::openapi::OctetStream) = "image/png"),
                        (inline(crate::open311::openapi::OctetStream) = "image/webp"),
                        (inline(crate::open311::openapi::OctetStream) = "image/heic"))),
              (status = 404, description = "[{code, description}]: unknown request or photo, or not allowed", body = Vec<Object>)))]
pub async fn photo(
    State(state): State<AppState>,
    Path((reference, sha256)): Path<(String, String)>,
) -> Result<Response, Open311Error> {
    let not_found = || Open311Error::not_found("Photo introuvable", Format::Json);
    if !balade_protocol::incident::is_sha256_hex(&sha256) {
        return Err(not_found());
    }
    let hash = sha256.clone();
    let mime = state
        .store
        .call(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT p.mime FROM requests r JOIN console_public_photos c ON c.incident_id = r.id
                     JOIN photos p ON p.sha256 = c.sha256 WHERE r.reference = ?1 AND c.sha256 = ?2",
                    [reference.to_ascii_uppercase(), hash],
                    |r| r.get::<_, String>(0),
                )
                .optional()?)
        })
        .await
        .map_err(|e| Open311Error::internal(e, Format::Json))?
        .ok_or_else(not_found)?;
    let bytes = tokio::fs::read(crate::api::tus::photo_path(&state.data_dir, &sha256))
        .await
        .map_err(|_| not_found())?;
    let mime = match mime.as_str() {
        "image/jpeg" | "image/png" | "image/webp" | "image/heic" => mime,
        _ => "application/octet-stream".to_string(),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")),
    );
    // An operator may withdraw the permission: caches must ask again.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_base_takes_a_plain_host_only() {
        for (host, proto, expected) in [
            (
                Some("balade.example:8080"),
                None,
                "http://balade.example:8080",
            ),
            (
                Some("balade.example"),
                Some("https"),
                "https://balade.example",
            ),
            (
                Some("balade.example"),
                Some("gopher"),
                "http://balade.example",
            ),
            (Some("evil@balade.example"), None, ""),
            (Some("a b"), None, ""),
            (None, None, ""),
        ] {
            let mut headers = HeaderMap::new();
            if let Some(h) = host {
                headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            }
            if let Some(p) = proto {
                headers.insert("x-forwarded-proto", HeaderValue::from_str(p).unwrap());
            }
            assert_eq!(public_base(&headers), expected, "{host:?} {proto:?}");
        }
    }
}

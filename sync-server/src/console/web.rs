//! HTTP plumbing shared by the console's handlers: the logged-in user extractor, the
//! CSRF-checked form extractor, and the page error type.
//!
//! **Invariant**: every console handler takes [`Authed`] or [`CsrfForm`], so an anonymous
//! request never reaches one, and every POST goes through [`CsrfForm`], which compares the
//! form's `csrf` field with the session's token before the handler runs.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use maud::html;
use serde::de::DeserializeOwned;

use super::auth::{self, ConsoleError, ConsoleUser, SESSION_COOKIE};
use super::layout;
use crate::state::AppState;
use crate::store::StoreError;

/// Errors a console page answers with (an HTML page, French first).
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not logged in")]
    LoginRequired { next: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Action(action) => PageError::BadRequest(action.to_string()),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<ConsoleError> for PageError {
    fn from(error: ConsoleError) -> Self {
        PageError::Internal(error.to_string())
    }
}

impl From<rusqlite::Error> for PageError {
    fn from(error: rusqlite::Error) -> Self {
        PageError::Internal(error.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            PageError::LoginRequired { next } => {
                let target = format!("/console/login?next={}", urlencode(next));
                return Redirect::to(&target).into_response();
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "Cette page n'existe pas.".to_string(),
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Vous n'avez pas accès à cette page ou ce formulaire a expiré : rechargez la page."
                    .to_string(),
            ),
            PageError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, "Demande invalide", message.clone())
            }
            PageError::Internal(message) => {
                tracing::error!(error = %message, "console page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur",
                    "Erreur interne du serveur.".to_string(),
                )
            }
        };
        let body = layout::public_page(
            title,
            false,
            html! { h1 { (title) } p { (text) } p { a href="/console/inbox" { "Retour à la console" } } },
        );
        (status, body).into_response()
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The logged-in user of a console request. Rejects anonymous requests: GET goes to the login
/// page, anything else is a 403.
#[derive(Debug, Clone)]
pub struct Authed(pub ConsoleUser);

impl FromRequestParts<AppState> for Authed {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let anonymous = || {
            if parts.method == Method::GET || parts.method == Method::HEAD {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/console");
                PageError::LoginRequired {
                    next: next.to_string(),
                }
            } else {
                PageError::Forbidden
            }
        };
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(anonymous());
        };
        let user = state
            .store
            .call(move |conn| Ok(auth::session_user(conn, &token, chrono::Utc::now())))
            .await?
            .map_err(PageError::from)?;
        user.map(Authed).ok_or_else(anonymous)
    }
}

/// A form posted by a logged-in user whose `csrf` field matched the session's token.
#[derive(Debug)]
pub struct CsrfForm<T> {
    pub user: ConsoleUser,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Authed(user) = Authed::from_request_parts(&mut parts, state).await?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::BadRequest("formulaire attendu".into()));
        }
        let bytes = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| PageError::BadRequest("formulaire trop grand".into()))?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|sent| auth::constant_time_eq(&sent, &user.csrf_token)) {
            return Err(PageError::Forbidden);
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum_extra::extract::Form(form) =
            axum_extra::extract::Form::<T>::from_request(request, state)
                .await
                .map_err(|e| PageError::BadRequest(format!("formulaire invalide : {e}")))?;
        Ok(CsrfForm { user, form })
    }
}

/// Client IP for login throttling: the socket peer when the server was started with connect
/// info, else "unknown" (then only the per-account limit distinguishes attackers).
pub fn client_ip(parts: &axum::http::Extensions) -> String {
    parts
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| auth::UNKNOWN_IP.to_string())
}

/// Runs `f` on the store's blocking thread; page errors pass through.
pub async fn db<R: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut rusqlite::Connection) -> Result<R, PageError> + Send + 'static,
) -> Result<R, PageError> {
    state.store.call(move |conn| Ok(f(conn))).await?
}

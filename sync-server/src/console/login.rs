//! Login and logout pages. The login form carries a double-submit CSRF token (a cookie and a
//! hidden field) since there is no session yet; the session cookie is HttpOnly, SameSite=Strict.

use axum::extract::{Query, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use maud::{Markup, html};
use serde::Deserialize;

use super::ConsoleConfig;
use super::auth::{self, LOGIN_CSRF_COOKIE, LoginRefusal, SESSION_COOKIE};
use super::layout;
use super::web::{CsrfForm, PageError, client_ip, db};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only same-site console paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains("\\") => {
            n.to_string()
        }
        _ => "/console/inbox".to_string(),
    }
}

/// HttpOnly, SameSite=Strict, whole site; `Secure` when the console is served over HTTPS
/// (`BALADE_SECURE_COOKIES=1`).
fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(ConsoleConfig::from_env().secure_cookies)
        .build()
}

fn login_form(csrf: &str, next: &str, error: Option<&str>) -> Markup {
    layout::public_page(
        "Connexion",
        false,
        html! {
            div.card.login {
                h1 { "Connexion à la console" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                form method="post" action="/console/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    label { "Identifiant" input name="login" autocomplete="username" required autofocus; }
                    label { "Mot de passe" input name="password" type="password" autocomplete="current-password" required; }
                    button type="submit" { "Se connecter" }
                }
            }
        },
    )
}

pub async fn show(jar: CookieJar, Query(query): Query<NextQuery>) -> (CookieJar, Markup) {
    let csrf = auth::random_token();
    let page = login_form(&csrf, &safe_next(query.next.as_deref()), None);
    (jar.add(cookie(LOGIN_CSRF_COOKIE, csrf)), page)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    login: String,
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    extensions: Extensions,
    jar: CookieJar,
    axum_extra::extract::Form(form): axum_extra::extract::Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if expected.is_empty() || !auth::constant_time_eq(&expected, &form.csrf) {
        return Err(PageError::Forbidden);
    }
    let ip = client_ip(&extensions);
    let login = form.login.trim().to_string();
    let password = form.password;
    let outcome = db(&state, move |conn| {
        Ok(auth::login(
            conn,
            &login,
            &password,
            &ip,
            chrono::Utc::now(),
        )?)
    })
    .await?;
    let next = safe_next(form.next.as_deref());
    match outcome {
        Ok(token) => {
            let jar = jar
                .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"))
                .add(cookie(SESSION_COOKIE, token));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(refusal) => {
            let (status, message) = match refusal {
                LoginRefusal::WrongCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "Identifiant ou mot de passe incorrect.",
                ),
                LoginRefusal::Throttled => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Trop de tentatives échouées : réessayez dans quinze minutes.",
                ),
            };
            let csrf = auth::random_token();
            let page = login_form(&csrf, &next, Some(message));
            Ok((status, jar.add(cookie(LOGIN_CSRF_COOKIE, csrf)), page).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    _form: CsrfForm<Empty>,
) -> Result<Response, PageError> {
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        db(&state, move |conn| Ok(auth::logout(conn, &token)?)).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/console/login")).into_response())
}

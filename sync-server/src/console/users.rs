//! Account administration (admins only): list the console accounts with their role and
//! services, create one, change an operator's services, disable or enable an account.
//!
//! The checks are [`auth`]'s (the same as `balade-sync user add`); this module only renders
//! and routes. Each change is recorded in the administration audit trail through
//! [`audited`], in the same transaction as the change.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::audit::{AdminChange, audited};
use super::auth::{self, Account, ConsoleError, ConsoleUser, Role};
use super::layout::{self, Nav, csrf_field};
use super::web::{Authed, CsrfForm, PageError, db};
use crate::state::AppState;

fn require_admin(user: &ConsoleUser) -> Result<(), PageError> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Service and outside-body codes an operator may be scoped to.
fn known_services(state: &AppState) -> Vec<String> {
    let taxonomy = state.taxonomy();
    taxonomy
        .services
        .iter()
        .chain(&taxonomy.outside_bodies)
        .map(|r| r.code.clone())
        .collect()
}

fn console_error(error: ConsoleError) -> PageError {
    match error {
        ConsoleError::Db(_) | ConsoleError::Hash(_) => PageError::Internal(error.to_string()),
        ConsoleError::NoSuchUser => PageError::NotFound,
        other => PageError::BadRequest(other.message_fr()),
    }
}

/// An account as the audit trail keeps it (login, role, services, disabled), `None` if absent.
fn account_json(
    conn: &rusqlite::Connection,
    pick: impl Fn(&Account) -> bool,
) -> Result<Option<(String, serde_json::Value)>, PageError> {
    let accounts = auth::list_users(conn).map_err(console_error)?;
    Ok(accounts.into_iter().find(|a| pick(a)).map(|a| {
        let json = serde_json::json!({
            "login": a.login,
            "role": a.role.code(),
            "services": a.services,
            "disabled": a.disabled,
        });
        (a.login, json)
    }))
}

pub async fn show(
    State(state): State<AppState>,
    Authed(user): Authed,
) -> Result<Markup, PageError> {
    require_admin(&user)?;
    let accounts = db(&state, |conn| Ok(auth::list_users(conn)?)).await?;
    let taxonomy = state.taxonomy();
    let recipients: Vec<_> = taxonomy
        .services
        .iter()
        .chain(&taxonomy.outside_bodies)
        .collect();
    let service_boxes = |selected: &[String]| {
        html! {
            @for r in &recipients {
                label { input type="checkbox" name="service" value=(r.code) checked[selected.contains(&r.code)]; " " (r.name_fr) } " "
            }
        }
    };
    Ok(layout::page(
        &user,
        Nav::Admin,
        "Comptes",
        false,
        html! {
            h1 { "Comptes de la console" }
            p { a href="/console/admin" { "← Administration" } }
            section.card {
                div.table-wrap { table {
                    thead { tr { th { "Identifiant" } th { "Rôle" } th { "Services" } th { "État" } th {} } }
                    tbody { @for a in &accounts { (account_row(&user, a, &service_boxes(&a.services))) } }
                } }
            }
            section.card {
                h2 { "Créer un compte" }
                form method="post" action="/console/admin/users" {
                    (csrf_field(&user))
                    p { label { "Identifiant " input name="login" required autocomplete="off"; } }
                    p { label { "Mot de passe initial (8 caractères au moins) " input type="password" name="password" required minlength="8" autocomplete="new-password"; } }
                    p { label { "Rôle " select name="role" {
                        option value="operator" { "Opérateur (services choisis)" }
                        option value="admin" { "Administrateur (tout)" }
                    } } }
                    fieldset { legend { "Services (opérateur)" } (service_boxes(&[])) }
                    button type="submit" { "Créer le compte" }
                }
            }
        },
    ))
}

fn account_row(user: &ConsoleUser, account: &Account, boxes: &Markup) -> Markup {
    html! {
        tr data-testid="account-row" data-login=(account.login) {
            td { (account.login) }
            td { @match account.role { Role::Admin => "Administrateur", Role::Operator => "Opérateur" } }
            td {
                @if account.role == Role::Operator {
                    form method="post" action={ "/console/admin/users/" (account.id) "/services" } {
                        (csrf_field(user)) (boxes) " "
                        button.secondary type="submit" { "Enregistrer les services" }
                    }
                } @else { span.muted { "tous" } }
            }
            td { @if account.disabled { span.badge { "désactivé" } } @else { "actif" } }
            td {
                @if account.id != user.id {
                    form method="post" action={ "/console/admin/users/" (account.id) "/disabled" } {
                        (csrf_field(user))
                        input type="hidden" name="disabled" value=(if account.disabled { "0" } else { "1" });
                        button.secondary type="submit" { @if account.disabled { "Réactiver" } @else { "Désactiver" } }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewAccountForm {
    login: String,
    password: String,
    role: String,
    #[serde(default)]
    service: Vec<String>,
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let known = known_services(&state);
    // An admin sees everything: services chosen by mistake are dropped, not stored.
    let services = if form.role == "admin" {
        Vec::new()
    } else {
        form.service.clone()
    };
    let login = form.login.trim().to_string();
    db(&state, move |conn| {
        audited(conn, &user.login, |conn| {
            auth::create_user(conn, &login, &form.password, &form.role, &services, &known)
                .map_err(console_error)?;
            let after = account_json(conn, |a| a.login == login)?.map(|(_, json)| json);
            Ok((
                (),
                AdminChange {
                    action: "account_created",
                    subject: login.clone(),
                    before: None,
                    after,
                },
            ))
        })
    })
    .await?;
    Ok(Redirect::to("/console/admin/users").into_response())
}

#[derive(Debug, Deserialize)]
pub struct ServicesForm {
    #[serde(default)]
    service: Vec<String>,
}

pub async fn set_services(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { user, form }: CsrfForm<ServicesForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let known = known_services(&state);
    db(&state, move |conn| {
        audited(conn, &user.login, |conn| {
            let (login, before) = account_json(conn, |a| a.id == id)?.ok_or(PageError::NotFound)?;
            auth::set_user_services(conn, id, &form.service, &known).map_err(console_error)?;
            let after = account_json(conn, |a| a.id == id)?.map(|(_, json)| json);
            Ok((
                (),
                AdminChange {
                    action: "account_services_changed",
                    subject: login,
                    before: Some(before),
                    after,
                },
            ))
        })
    })
    .await?;
    Ok(Redirect::to("/console/admin/users").into_response())
}

#[derive(Debug, Deserialize)]
pub struct DisabledForm {
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { user, form }: CsrfForm<DisabledForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let disabled = form.disabled == "1";
    if disabled && id == user.id {
        return Err(PageError::BadRequest(
            "Vous ne pouvez pas désactiver votre propre compte".into(),
        ));
    }
    db(&state, move |conn| {
        audited(conn, &user.login, |conn| {
            let (login, before) = account_json(conn, |a| a.id == id)?.ok_or(PageError::NotFound)?;
            auth::set_user_disabled(conn, id, disabled).map_err(console_error)?;
            let after = account_json(conn, |a| a.id == id)?.map(|(_, json)| json);
            Ok((
                (),
                AdminChange {
                    action: if disabled {
                        "account_disabled"
                    } else {
                        "account_enabled"
                    },
                    subject: login,
                    before: Some(before),
                    after,
                },
            ))
        })
    })
    .await?;
    Ok(Redirect::to("/console/admin/users").into_response())
}

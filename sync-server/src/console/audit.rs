//! The global audit trail: every event (public and internal), newest first, with who, what,
//! when and the before/after change; scoped like the inbox. Admins also see a second section,
//! "Administration": the `admin_audit` rows (accounts, services, taxonomy, routing rules,
//! refusal templates).
//!
//! **Invariant**: every admin change goes through [`audited`], which runs the change and
//! appends its `admin_audit` row in one SQLite transaction, so both are kept or neither is.
//! The table is append-only (triggers refuse UPDATE and DELETE).

use axum::extract::{Query, State};
use maud::{Markup, html};
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::Value;

use super::layout::{self, Nav};
use super::queries::{self, Scope};
use super::request::diff;
use super::web::{Authed, PageError, db};
use crate::state::AppState;

const AUDIT_PAGE: usize = 100;

/// Admin entries shown on the audit page (newest first).
const ADMIN_PAGE: i64 = 100;

/// What one admin change did, as [`audited`] records it.
#[derive(Debug, Clone)]
pub struct AdminChange {
    /// Stable code, e.g. `account_created` (labelled by [`action_label`]).
    pub action: &'static str,
    /// What changed: a login, a category code, `règle n° 3`...
    pub subject: String,
    /// The thing before the change (`None`: it did not exist).
    pub before: Option<Value>,
    /// The thing after the change (`None`: it no longer exists).
    pub after: Option<Value>,
}

/// Runs `change` and appends its `admin_audit` row (actor = the admin's login) in one
/// transaction: an error from either rolls both back.
pub fn audited<R>(
    conn: &mut Connection,
    actor: &str,
    change: impl FnOnce(&Connection) -> Result<(R, AdminChange), PageError>,
) -> Result<R, PageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (result, record) = change(&tx)?;
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    tx.execute(
        "INSERT INTO admin_audit (at, actor, action, subject, before_json, after_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            crate::store::now_text(),
            actor,
            record.action,
            record.subject,
            json(&record.before),
            json(&record.after)
        ],
    )?;
    tx.commit()?;
    tracing::info!(%actor, action = record.action, subject = %record.subject, "admin change");
    Ok(result)
}

/// One `admin_audit` row.
#[derive(Debug, Clone)]
pub struct AdminEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// The newest admin entries, newest first.
pub fn admin_entries(conn: &Connection, limit: i64) -> rusqlite::Result<Vec<AdminEntry>> {
    conn.prepare_cached(
        "SELECT id, at, actor, action, subject, before_json, after_json
         FROM admin_audit ORDER BY at DESC, id DESC LIMIT ?1",
    )?
    .query_map([limit], |r| {
        Ok(AdminEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            before_json: r.get(5)?,
            after_json: r.get(6)?,
        })
    })?
    .collect()
}

/// French label of an admin action code.
pub fn action_label(action: &str) -> &str {
    match action {
        "account_created" => "Compte créé",
        "account_services_changed" => "Services du compte modifiés",
        "account_disabled" => "Compte désactivé",
        "account_enabled" => "Compte réactivé",
        "category_edited" => "Catégorie modifiée",
        "subcategory_added" => "Sous-catégorie ajoutée",
        "recipient_added" => "Destinataire ajouté",
        "recipient_renamed" => "Destinataire renommé",
        "rule_added" => "Règle d'aiguillage ajoutée",
        "rule_deleted" => "Règle d'aiguillage supprimée",
        "template_added" => "Motif de refus ajouté",
        "template_removed" => "Motif de refus retiré",
        other => other,
    }
}

/// Before → after as text: the changed fields, or the whole thing when created or removed.
fn change_text(before: Option<&str>, after: Option<&str>) -> String {
    match (before, after) {
        (Some(_), Some(_)) => diff(before, after),
        (None, Some(after)) => format!("∅ → {after}"),
        (Some(before), None) => format!("{before} → ∅"),
        (None, None) => String::new(),
    }
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    Authed(user): Authed,
    Query(query): Query<AuditQuery>,
) -> Result<Markup, PageError> {
    let scope = Scope::of(&user);
    let is_admin = user.is_admin();
    let first_page = query.before.is_none();
    let (events, admin) = db(&state, move |conn| {
        let events = queries::audit(conn, &scope, query.before, AUDIT_PAGE)?;
        // Operators never see administration entries (nor that the section exists).
        let admin = if is_admin && first_page {
            admin_entries(conn, ADMIN_PAGE)?
        } else {
            Vec::new()
        };
        Ok((events, admin))
    })
    .await?;
    let next = (events.len() == AUDIT_PAGE)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(layout::page(
        &user,
        Nav::Audit,
        "Journal",
        false,
        html! {
            h1 { "Journal des modifications" }
            div.table-wrap { table {
                thead { tr { th { "N°" } th { "Quand" } th { "Qui" } th { "Signalement" } th { "Quoi" } th { "Détail" } th { "Avant → après" } } }
                tbody { @for e in &events {
                    tr data-kind=(e.kind) {
                        td { (e.seq) }
                        td { (layout::when(&e.at)) }
                        td { (e.actor) }
                        td { a href={ "/console/requests/" (e.request_id) } { (e.reference) } }
                        td { (layout::kind_label(&e.kind)) @if !e.public { " " span.badge { "interne" } } }
                        td { @for part in [&e.note, &e.reason, &e.planned_date, &e.duplicate_of].into_iter().flatten() { (part) br; } }
                        td.muted { (diff(e.before_json.as_deref(), e.after_json.as_deref())) }
                    }
                } }
            } }
            @if let Some(seq) = next { nav.pager { a href={ "/console/audit?before=" (seq) } { "Plus anciens →" } } }
            @if is_admin && first_page {
                section #administration data-testid="admin-audit" {
                    h2 { "Administration" }
                    @if admin.is_empty() { p.muted { "Aucune modification d'administration." } }
                    @else { div.table-wrap { table {
                        thead { tr { th { "N°" } th { "Quand" } th { "Qui" } th { "Quoi" } th { "Objet" } th { "Avant → après" } } }
                        tbody { @for a in &admin {
                            tr data-action=(a.action) {
                                td { (a.id) }
                                td { (layout::when(&a.at)) }
                                td { (a.actor) }
                                td { (action_label(&a.action)) }
                                td { (a.subject) }
                                td.muted { (change_text(a.before_json.as_deref(), a.after_json.as_deref())) }
                            }
                        } }
                    } } }
                }
            }
        },
    ))
}

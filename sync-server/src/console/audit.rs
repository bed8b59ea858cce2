//! The global audit trail: every event (public and internal), newest first, with who, what,
//! when and the before/after change; scoped like the inbox.

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Nav};
use super::queries::{self, Scope};
use super::request::diff;
use super::web::{Authed, PageError, db};
use crate::state::AppState;

const AUDIT_PAGE: usize = 100;

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
    let events = db(&state, move |conn| {
        Ok(queries::audit(conn, &scope, query.before, AUDIT_PAGE)?)
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
        },
    ))
}

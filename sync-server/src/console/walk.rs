//! Printable walk report: the walk's map, its requests grouped by category with photos and
//! statuses (print CSS in console.css hides the chrome).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use chrono::Utc;
use maud::{Markup, html};
use rusqlite::OptionalExtension;

use super::ConsoleConfig;
use super::layout::{self, Marker, Nav};
use super::queries::{self, InboxFilter, RequestSummary, Scope};
use super::web::{Authed, PageError, db};
use crate::state::AppState;

struct WalkInfo {
    title: String,
    neighbourhood: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    participants: Vec<String>,
}

pub async fn show(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<ConsoleConfig>,
    Authed(user): Authed,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let scope = Scope::of(&user);
    let walk_id = id.clone();
    let (walk, rows) = db(&state, move |conn| {
        let walk = conn
            .query_row(
                "SELECT title, neighbourhood, started_at, ended_at, participants_json FROM walks WHERE id = ?1",
                [&walk_id],
                |r| {
                    let participants: String = r.get(4)?;
                    Ok(WalkInfo {
                        title: r.get(0)?,
                        neighbourhood: r.get(1)?,
                        started_at: r.get(2)?,
                        ended_at: r.get(3)?,
                        participants: serde_json::from_str(&participants).unwrap_or_default(),
                    })
                },
            )
            .optional()?
            .ok_or(PageError::NotFound)?;
        let filter = InboxFilter { walk: walk_id, view: "map".into(), ..Default::default() };
        let page = queries::inbox(conn, &scope, &filter).map_err(|e| PageError::Internal(e.to_string()))?;
        Ok((walk, page.rows))
    })
    .await?;
    let taxonomy = state.taxonomy();
    let now = Utc::now();
    let mut by_category: BTreeMap<String, Vec<&RequestSummary>> = BTreeMap::new();
    for row in &rows {
        by_category
            .entry(layout::category_label(&taxonomy, &row.category))
            .or_default()
            .push(row);
    }
    let markers: Vec<Marker> = rows
        .iter()
        .map(|r| Marker {
            lat: r.lat,
            lon: r.lon,
            label: r.reference.clone(),
            href: Some(format!("/console/requests/{}", r.id)),
            overdue: r.is_overdue(&taxonomy, now),
        })
        .collect();
    Ok(layout::page(
        &user,
        Nav::None,
        &walk.title,
        true,
        html! {
            h1 { "Compte rendu de balade : " (walk.title) }
            p {
                @if let Some(n) = &walk.neighbourhood { "Quartier : " (n) " — " }
                "du " (layout::when(&walk.started_at))
                @if let Some(end) = &walk.ended_at { " au " (layout::when(end)) }
                " — " (rows.len()) " signalement(s)"
            }
            @if !walk.participants.is_empty() { p { "Participants : " (walk.participants.join(", ")) } }
            p.no-print { button type="button" onclick="window.print()" { "Imprimer" } }
            (layout::map(&markers, config.tile_url.as_deref(), "", None))
            @for (category, requests) in &by_category {
                section.card {
                    h2 { (category) " (" (requests.len()) ")" }
                    table {
                        thead { tr { th { "Photo" } th { "Référence" } th { "Sous-catégorie" } th { "Adresse" } th { "Commentaire" } th { "État" } } }
                        tbody { @for r in requests {
                            tr data-testid="walk-row" {
                                td { @if let Some(p) = &r.photo { img.thumb src={ "/console/photos/" (p) "/thumb" } alt="" loading="lazy"; } }
                                td { a href={ "/console/requests/" (r.id) } { (r.reference) } }
                                td { (layout::subcategory_label(&taxonomy, &r.category, &r.subcategory)) }
                                td { (r.address.clone().unwrap_or_default()) }
                                td.comment { (r.comment) }
                                td { (layout::state_badge(r.state)) }
                            }
                        } }
                    }
                }
            }
        },
    ))
}

//! Citizen tracking pages: `/suivi` (type a code) and `/suivi/{CODE}` (public timeline).
//!
//! **Invariant**: only public events (`events.public = 1`, through
//! [`crate::actions::public_timeline`]) and photos an operator allowed are shown; no comment,
//! no device, no operator names. An unknown and a malformed code get the same 404 page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use balade_protocol::status::{EventKind, StatusEvent};
use balade_protocol::tracking::normalize_tracking_code;
use maud::{Markup, html};
use rusqlite::OptionalExtension;
use serde::Deserialize;

use super::layout;
use super::web::{PageError, db};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: Option<String>,
}

fn code_form(value: &str) -> Markup {
    html! {
        form method="get" action="/suivi" {
            label for="code" { "Code de suivi (8 caractères, par exemple « K7M4-QX2P »)" }
            p { input id="code" name="code" value=(value) autocomplete="off" autocapitalize="characters" inputmode="text" required; }
            button type="submit" { "Suivre mon signalement" }
        }
    }
}

pub async fn form(Query(query): Query<CodeQuery>) -> Response {
    if let Some(code) = query.code.as_deref().filter(|c| !c.trim().is_empty()) {
        let target = normalize_tracking_code(code).unwrap_or_else(|| "inconnu".to_string());
        return Redirect::to(&format!("/suivi/{target}")).into_response();
    }
    layout::public_page(
        "Suivre un signalement",
        false,
        html! { div.card.citizen { h1 { "Suivre un signalement" } (code_form("")) } },
    )
    .into_response()
}

fn not_found() -> Response {
    let page = layout::public_page(
        "Code inconnu",
        false,
        html! { div.card.citizen {
            h1 { "Aucun signalement à suivre avec ce code" }
            p { "Vérifiez le code indiqué sur votre accusé de réception, puis réessayez." }
            (code_form(""))
        } },
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

struct Tracked {
    id: String,
    reference: String,
    category: String,
    subcategory: String,
    address: Option<String>,
    state: String,
    timeline: Vec<StatusEvent>,
    kept: Option<(String, Vec<StatusEvent>)>,
    photos: Vec<String>,
}

fn load(
    conn: &rusqlite::Connection,
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
    code: &str,
) -> Result<Option<Tracked>, PageError> {
    let row = conn
        .query_row(
            "SELECT id, reference, category, subcategory, address, state, duplicate_of FROM requests WHERE tracking_code = ?1",
            [code],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((id, reference, category, subcategory, address, state, duplicate_of)) = row else {
        return Ok(None);
    };
    let uuid = |text: &str| {
        text.parse::<uuid::Uuid>()
            .map_err(|e| PageError::Internal(e.to_string()))
    };
    let timeline = crate::actions::public_timeline(conn, taxonomy, uuid(&id)?)?;
    let kept = match duplicate_of {
        Some(kept_id) => {
            let kept_reference: String = conn.query_row(
                "SELECT reference FROM requests WHERE id = ?1",
                [&kept_id],
                |r| r.get(0),
            )?;
            Some((
                kept_reference,
                crate::actions::public_timeline(conn, taxonomy, uuid(&kept_id)?)?,
            ))
        }
        None => None,
    };
    let photos = conn
        .prepare_cached(
            "SELECT c.sha256 FROM console_public_photos c JOIN photos p ON p.sha256 = c.sha256 WHERE c.incident_id = ?1",
        )?
        .query_map([&id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(Tracked {
        id,
        reference,
        category,
        subcategory,
        address,
        state,
        timeline,
        kept,
        photos,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let Some(code) = normalize_tracking_code(&code) else {
        return Ok(not_found());
    };
    let taxonomy = state.taxonomy();
    let tax = taxonomy.clone();
    let lookup = code.clone();
    let Some(t) = db(&state, move |conn| load(conn, &tax, &lookup)).await? else {
        return Ok(not_found());
    };
    let state_label = balade_protocol::status::State::from_code(&t.state)
        .map(|s| s.label_fr())
        .unwrap_or("");
    let _ = &t.id;
    let page = layout::public_page(
        &format!("Suivi {}", t.reference),
        false,
        html! { div.citizen {
            div.card {
                h1 { "Votre signalement " (t.reference) }
                p { strong { "État : " } span data-testid="state" { (state_label) } }
                p { (layout::category_label(&taxonomy, &t.category)) " — " (layout::subcategory_label(&taxonomy, &t.category, &t.subcategory)) }
                @if let Some(address) = &t.address { p { (address) } }
                @for sha in &t.photos { p.photos { img src={ "/suivi/" (code) "/photos/" (sha) } alt="Photo du signalement"; } }
            }
            section.card aria-labelledby="h-suivi" {
                h2 id="h-suivi" { "Historique" }
                (timeline(&t.timeline))
            }
            @if let Some((kept_reference, kept_timeline)) = &t.kept {
                section.card aria-labelledby="h-kept" {
                    h2 id="h-kept" { "Suivi du signalement regroupé " (kept_reference) }
                    p { "Le même problème avait déjà été signalé ; son traitement vaut pour le vôtre." }
                    (timeline(kept_timeline))
                }
            }
        } },
    );
    Ok(page.into_response())
}

/// A public timeline, oldest first.
pub fn timeline(events: &[StatusEvent]) -> Markup {
    html! {
        ol.timeline {
            @for e in events {
                li data-testid="timeline-event" data-kind=(crate::actions::kind_code(e.kind)) {
                    time datetime=(e.at.to_rfc3339()) { (e.at.format("%d/%m/%Y à %H:%M")) }
                    strong { (public_label(e)) }
                    @if let Some(service) = &e.service { @if matches!(e.kind, EventKind::Routed) { " — " (service) } }
                    @if let Some(body) = &e.outside_body { " — " (body) }
                    @if let Some(date) = &e.planned_date { p { "Intervention prévue le " (date.format("%d/%m/%Y")) } }
                    @if let Some(reason) = &e.reason { p { "Motif : " (reason) } }
                    @if let Some(note) = &e.note { p { (note) } }
                }
            }
        }
    }
}

fn public_label(e: &StatusEvent) -> &'static str {
    match e.kind {
        EventKind::Received => "Signalement reçu",
        EventKind::Routed => "Transmis au service",
        EventKind::Transferred => "Transmis à un organisme extérieur",
        EventKind::Scheduled => "Accepté, intervention programmée",
        EventKind::Started => "Intervention en cours",
        EventKind::Resolved => "Traité",
        EventKind::Refused => "Refusé",
        EventKind::Duplicate => "Regroupé avec un signalement identique",
        EventKind::CategoryCorrected => "Catégorie précisée",
        EventKind::LocationCorrected => "Localisation précisée",
        EventKind::Note => "Information",
    }
}

/// A photo an operator allowed on the citizen page.
pub async fn photo(
    State(state): State<AppState>,
    Path((code, sha256)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(code) = normalize_tracking_code(&code) else {
        return Err(PageError::NotFound);
    };
    if !balade_protocol::incident::is_sha256_hex(&sha256) {
        return Err(PageError::NotFound);
    }
    let hash = sha256.clone();
    let mime = db(&state, move |conn| {
        Ok(conn
            .query_row(
                "SELECT p.mime FROM requests r JOIN console_public_photos c ON c.incident_id = r.id
                 JOIN photos p ON p.sha256 = c.sha256 WHERE r.tracking_code = ?1 AND c.sha256 = ?2",
                [&code, &hash],
                |r| r.get::<_, String>(0),
            )
            .optional()?)
    })
    .await?
    .ok_or(PageError::NotFound)?;
    super::serve_photo(&state, &sha256, &mime).await
}

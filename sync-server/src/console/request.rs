//! The request page (photos, comment, map, walk, reporter, possible duplicates, history) and
//! the operator actions posted from it.
//!
//! **Boundary**: actions are turned into [`crate::actions::Action`] and applied with
//! [`crate::actions::apply_action`] in one transaction: this module never writes `requests`
//! or `events` itself.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use balade_protocol::incident::Position;
use balade_protocol::taxonomy::Taxonomy;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::ConsoleConfig;
use super::auth::ConsoleUser;
use super::layout::{self, Marker, Nav, csrf_field};
use super::queries::{self, RequestDetail, RequestSummary, Scope};
use super::web::{Authed, CsrfForm, PageError, db, urlencode};
use crate::actions::{Action, apply_action};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

struct Page {
    detail: RequestDetail,
    /// Photos an operator attached when resolving (not part of the report).
    resolution_photos: Vec<String>,
    duplicates: Vec<(RequestSummary, f64)>,
    templates: Vec<(i64, String, String)>,
}

fn load_page(
    conn: &rusqlite::Connection,
    scope: &Scope,
    reference: &str,
) -> Result<Page, PageError> {
    let id = queries::resolve_ref(conn, reference)?.ok_or(PageError::NotFound)?;
    let detail = queries::request_detail(conn, scope, &id)?.ok_or(PageError::NotFound)?;
    let duplicates = queries::possible_duplicates(conn, scope, &detail.summary)?;
    let templates = conn
        .prepare_cached("SELECT id, title, body_fr FROM console_refusal_templates WHERE active = 1 ORDER BY title")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let resolution_photos = conn
        .prepare_cached(
            "SELECT sha256 FROM console_public_photos WHERE incident_id = ?1
               AND sha256 NOT IN (SELECT sha256 FROM request_photos WHERE request_id = ?1)",
        )?
        .query_map([&id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Page {
        detail,
        duplicates,
        templates,
        resolution_photos,
    })
}

pub async fn show(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<ConsoleConfig>,
    Authed(user): Authed,
    Path(reference): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Markup, PageError> {
    let scope = Scope::of(&user);
    let page = db(&state, move |conn| load_page(conn, &scope, &reference)).await?;
    let taxonomy = state.taxonomy();
    let title = page.detail.summary.reference.clone();
    Ok(layout::page(
        &user,
        Nav::Inbox,
        &title,
        true,
        render(&user, &taxonomy, &config, &page, &flash),
    ))
}

fn render(
    user: &ConsoleUser,
    taxonomy: &Taxonomy,
    config: &ConsoleConfig,
    page: &Page,
    flash: &Flash,
) -> Markup {
    let d = &page.detail;
    let s = &d.summary;
    let now = Utc::now();
    let base = format!("/console/requests/{}", s.id);
    let marker = [Marker {
        lat: s.lat,
        lon: s.lon,
        label: s.reference.clone(),
        href: None,
        overdue: false,
    }];
    html! {
        p.no-print { a href="/console/inbox" { "← Signalements" } }
        h1 {
            (s.reference) " — " (layout::category_label(taxonomy, &s.category)) " / "
            (layout::subcategory_label(taxonomy, &s.category, &s.subcategory)) " "
            (layout::state_badge(s.state))
            @if s.is_overdue(taxonomy, now) { " " span.badge.overdue { "En retard" } }
        }
        @if let Some(ok) = &flash.ok { p.notice role="status" { "Action enregistrée : " (ok) } }
        @if let Some(error) = &flash.error { p.error role="alert" { (error) } }
        div.grid.two {
            div {
                section.card aria-labelledby="h-photos" {
                    h2 id="h-photos" { "Photos" }
                    @if d.photos.is_empty() { p.muted { "Aucune photo." } }
                    @for sha in &page.resolution_photos {
                        figure.photos data-testid="resolution-photo" {
                            a href={ "/console/photos/" (sha) } target="_blank" { img src={ "/console/photos/" (sha) } alt="Photo de l'intervention"; }
                            figcaption { "Photo de l'intervention (visible par les citoyens)" }
                        }
                    }
                    div.photos {
                        @for photo in &d.photos {
                            figure {
                                @if photo.present {
                                    a href={ "/console/photos/" (photo.sha256) } target="_blank" {
                                        img src={ "/console/photos/" (photo.sha256) } alt={ "Photo du signalement " (s.reference) } loading="lazy";
                                    }
                                } @else {
                                    p.muted { "Photo pas encore reçue (" (&photo.sha256[..12]) "…)" }
                                }
                                @if photo.present {
                                    form.action method="post" action={ (base) "/action" } data-action="photo_visibility" {
                                        (csrf_field(user))
                                        input type="hidden" name="action" value="photo_visibility";
                                        input type="hidden" name="photo" value=(photo.sha256);
                                        @if photo.public {
                                            input type="hidden" name="public" value="0";
                                            span.muted { "Visible sur la page citoyenne. " }
                                            button.secondary type="submit" { "Masquer aux citoyens" }
                                        } @else {
                                            input type="hidden" name="public" value="1";
                                            button.secondary type="submit" { "Montrer aux citoyens" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card {
                    h2 { "Signalement" }
                    p.comment data-testid="comment" { (s.comment) }
                    dl {
                        dt { "Adresse" } dd { (s.address.clone().unwrap_or_else(|| "—".into())) }
                        dt { "Position" } dd { (format!("{:.6}, {:.6}", s.lat, s.lon))
                            @if let Some(a) = d.accuracy_m { " (± " (format!("{a:.0}")) " m)" } }
                        dt { "Observé le" } dd { (layout::when(&d.observed_at)) }
                        dt { "Reçu le" } dd { (s.created_at.format("%d/%m/%Y %H:%M")) " (il y a " (layout::age(s.created_at, now)) ")" }
                        dt { "Service" } dd { (s.service.as_deref().map(|c| layout::recipient_name(taxonomy, c)).unwrap_or_else(|| "—".into())) }
                        @if let Some(body) = &s.outside_body { dt { "Organisme extérieur" } dd { (layout::recipient_name(taxonomy, body)) } }
                        @if let Some(date) = &d.planned_date { dt { "Intervention prévue" } dd { (date) } }
                        @if let Some((id, reference)) = &d.duplicate_of { dt { "Doublon de" } dd { a href={ "/console/requests/" (id) } { (reference) } } }
                        dt { "Balade" } dd { @match &d.walk {
                            Some((id, title, hood)) => { a href={ "/console/walks/" (id) } { (title) } @if let Some(h) = hood { " (" (h) ")" } },
                            None => { "—" } } }
                        dt { "Appareil" } dd { @match &d.device { Some((_, name)) => { (name) }, None => { "—" } } }
                        dt { "Code de suivi" } dd { code { (d.tracking_code) } }
                        @if let Some(extra) = d.extra.as_object() { @for (k, v) in extra { dt { (k) } dd { (v.to_string()) } } }
                    }
                    (layout::map(&marker, config.tile_url.as_deref(), "", Some("form-location")))
                }
            }
            div { (actions(user, taxonomy, page, &base)) }
        }
        (duplicates_section(user, taxonomy, page, &base))
        (history(taxonomy, &d.events))
    }
}

fn action_form(
    user: &ConsoleUser,
    base: &str,
    action: &str,
    label: &str,
    id: Option<&str>,
    fields: Markup,
    button: &str,
) -> Markup {
    html! {
        form.action method="post" action={ (base) "/action" } id=[id] data-action=(action) {
            (csrf_field(user))
            input type="hidden" name="action" value=(action);
            span.label { (label) }
            (fields)
            button type="submit" { (button) }
        }
    }
}

fn actions(user: &ConsoleUser, taxonomy: &Taxonomy, page: &Page, base: &str) -> Markup {
    let s = &page.detail.summary;
    html! {
        section.card aria-labelledby="h-actions" {
            h2 id="h-actions" { "Actions" }
            (action_form(user, base, "route", "Transmettre à un service", None, html! {
                select name="service" aria-label="Service" {
                    @for r in &taxonomy.services { option value=(r.code) selected[s.service.as_deref() == Some(r.code.as_str())] { (r.name_fr) } }
                }
            }, "Transmettre"))
            (action_form(user, base, "transfer", "Organisme extérieur", None, html! {
                select name="body" aria-label="Organisme" { @for r in &taxonomy.outside_bodies { option value=(r.code) { (r.name_fr) } } }
                input name="note" placeholder="Message au déclarant (facultatif)" aria-label="Message";
            }, "Transférer"))
            (action_form(user, base, "schedule", "Accepter et programmer", None, html! {
                input type="date" name="date" required aria-label="Date prévue";
                input name="note" placeholder="Message (facultatif)" aria-label="Message";
            }, "Programmer"))
            (action_form(user, base, "start", "Démarrer l'intervention", None, html! {}, "Démarrer"))
            form.action method="post" action={ (base) "/resolve" } enctype="multipart/form-data" data-action="resolve" {
                (csrf_field(user))
                span.label { "Clore : traité" }
                input name="note" placeholder="Message au déclarant (facultatif)" aria-label="Message";
                label { "Photo (facultative) " input type="file" name="photo" accept="image/jpeg,image/png"; }
                button type="submit" { "Traité" }
            }
            (action_form(user, base, "refuse", "Refuser", None, html! {
                select name="template" aria-label="Motif type" {
                    option value="" { "— motif type —" }
                    @for (id, title, _) in &page.templates { option value=(id) { (title) } }
                }
                input name="reason" placeholder="Précision (obligatoire)" required aria-label="Motif";
            }, "Refuser"))
            (action_form(user, base, "duplicate", "Doublon de", None, html! {
                input name="of" placeholder="LR-2026-000123" required aria-label="Référence conservée";
            }, "Marquer doublon"))
            (action_form(user, base, "category", "Corriger la catégorie", None, html! {
                select name="category_sub" aria-label="Catégorie" {
                    @for c in &taxonomy.categories {
                        optgroup label=(c.label_fr) {
                            @for sub in &c.subcategories {
                                @let value = format!("{}/{}", c.code, sub.code);
                                option value=(value) selected[c.code == s.category && sub.code == s.subcategory] { (c.label_fr) " — " (sub.label_fr) }
                            }
                        }
                    }
                }
            }, "Corriger"))
            (action_form(user, base, "location", "Corriger la localisation", Some("form-location"), html! {
                input name="lat" value=(format!("{:.6}", s.lat)) inputmode="decimal" aria-label="Latitude" size="10";
                input name="lon" value=(format!("{:.6}", s.lon)) inputmode="decimal" aria-label="Longitude" size="10";
                input name="address" value=(s.address.clone().unwrap_or_default()) placeholder="Adresse" aria-label="Adresse";
            }, "Corriger"))
            (action_form(user, base, "internal_note", "Note interne (jamais publique)", None, html! {
                textarea name="text" required aria-label="Note interne" {}
            }, "Ajouter la note"))
        }
    }
}

fn duplicates_section(user: &ConsoleUser, taxonomy: &Taxonomy, page: &Page, base: &str) -> Markup {
    let s = &page.detail.summary;
    html! {
        section.card aria-labelledby="h-dups" {
            h2 id="h-dups" { "Doublons possibles" }
            @if page.duplicates.is_empty() { p.muted { "Aucun signalement proche de même catégorie." } }
            @for (other, distance) in &page.duplicates {
                div.side-by-side data-testid="duplicate-candidate" {
                    (mini(taxonomy, s, None))
                    div {
                        (mini(taxonomy, other, Some(*distance)))
                        (action_form(user, base, "duplicate", "", None, html! {
                            input type="hidden" name="of" value=(other.reference);
                        }, &format!("Ce signalement est un doublon de {}", other.reference)))
                    }
                }
            }
        }
    }
}

fn mini(taxonomy: &Taxonomy, s: &RequestSummary, distance: Option<f64>) -> Markup {
    html! {
        div.card {
            @if let Some(photo) = &s.photo { img.thumb src={ "/console/photos/" (photo) "/thumb" } alt="" loading="lazy"; }
            p { a href={ "/console/requests/" (s.id) } { (s.reference) } " " (layout::state_badge(s.state)) }
            p { (layout::subcategory_label(taxonomy, &s.category, &s.subcategory)) " — " (s.address.clone().unwrap_or_default()) }
            p.comment { (s.comment) }
            @if let Some(d) = distance { p.muted { "à " (format!("{d:.0}")) " m" } }
        }
    }
}

/// The audit trail of one request (public and internal events).
pub fn history(_taxonomy: &Taxonomy, events: &[queries::EventRow]) -> Markup {
    html! {
        section.card aria-labelledby="h-history" {
            h2 id="h-history" { "Historique" }
            div.table-wrap { table {
                thead { tr { th { "Quand" } th { "Qui" } th { "Quoi" } th { "Détail" } th { "Avant → après" } } }
                tbody { @for e in events {
                    tr data-kind=(e.kind) {
                        td { (layout::when(&e.at)) }
                        td { (e.actor) }
                        td { (layout::kind_label(&e.kind)) @if !e.public { " " span.badge { "interne" } } }
                        td { @for part in [&e.note, &e.reason, &e.planned_date, &e.service, &e.outside_body].into_iter().flatten() { (part) br; } }
                        td.muted { (diff(e.before_json.as_deref(), e.after_json.as_deref())) }
                    }
                } }
            } }
        }
    }
}

/// The fields that changed between two snapshots, "key: before → after".
pub fn diff(before: Option<&str>, after: Option<&str>) -> String {
    let parse = |t: Option<&str>| t.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    let (Some(after), before) = (parse(after), parse(before)) else {
        return String::new();
    };
    let Some(after) = after.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (key, value) in after {
        let old = before
            .as_ref()
            .and_then(|b| b.get(key))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if &old != value {
            parts.push(format!("{key}: {old} → {value}"));
        }
    }
    parts.join(" ; ")
}

/// Fields of every action form; each action reads the ones it needs.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    of: String,
    #[serde(default)]
    category_sub: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    photo: String,
    #[serde(default)]
    public: String,
}

fn opt(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Turns the posted form into an action (the duplicate target given as a reference is looked up).
fn to_action(conn: &rusqlite::Connection, form: &ActionForm) -> Result<Action, String> {
    Ok(match form.action.as_str() {
        "route" => Action::Route {
            service: form.service.clone(),
        },
        "transfer" => Action::Transfer {
            body: form.body.clone(),
            note: opt(&form.note),
        },
        "schedule" => Action::Schedule {
            date: chrono::NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
                .map_err(|_| "Date prévue invalide (AAAA-MM-JJ)".to_string())?,
            note: opt(&form.note),
        },
        "start" => Action::Start,
        "resolve" => Action::Resolve {
            note: opt(&form.note),
            photo: None,
        },
        "refuse" => {
            let template = match form.template.trim().parse::<i64>() {
                Ok(id) => conn
                    .query_row(
                        "SELECT body_fr FROM console_refusal_templates WHERE id = ?1",
                        [id],
                        |r| r.get::<_, String>(0),
                    )
                    .map_err(|_| "Motif type inconnu".to_string())?,
                Err(_) => String::new(),
            };
            let free = form.reason.trim();
            if free.is_empty() {
                return Err("Le motif du refus est obligatoire.".into());
            }
            let reason = if template.is_empty() {
                free.to_string()
            } else {
                format!("{template} {free}")
            };
            Action::Refuse { reason }
        }
        "duplicate" => {
            let id = queries::resolve_ref(conn, &form.of)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("Signalement conservé introuvable : {}", form.of.trim()))?;
            Action::Duplicate {
                of: id.parse().map_err(|_| "identifiant invalide".to_string())?,
            }
        }
        "category" => {
            let (category, subcategory) = form
                .category_sub
                .split_once('/')
                .ok_or_else(|| "Catégorie invalide".to_string())?;
            Action::CorrectCategory {
                category: category.into(),
                subcategory: subcategory.into(),
            }
        }
        "location" => {
            let position = match (opt(&form.lat), opt(&form.lon)) {
                (Some(lat), Some(lon)) => {
                    let lat: f64 = lat
                        .replace(',', ".")
                        .parse()
                        .map_err(|_| "Latitude invalide".to_string())?;
                    let lon: f64 = lon
                        .replace(',', ".")
                        .parse()
                        .map_err(|_| "Longitude invalide".to_string())?;
                    Some(
                        Position::new(lat, lon, None)
                            .map_err(|e| format!("Position invalide : {e}"))?,
                    )
                }
                _ => None,
            };
            Action::CorrectLocation {
                position,
                address: opt(&form.address),
            }
        }
        "internal_note" => Action::InternalNote {
            text: form.text.clone(),
        },
        "public_note" => Action::PublicNote {
            text: form.text.clone(),
        },
        other => return Err(format!("Action inconnue : {other}")),
    })
}

pub async fn act(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    CsrfForm { user, form }: CsrfForm<ActionForm>,
) -> Result<Response, PageError> {
    let taxonomy = state.taxonomy();
    let scope = Scope::of(&user);
    let actor = user.actor();
    let label = form.action.clone();
    let outcome = db(&state, move |conn| {
        let id = queries::resolve_ref(conn, &reference)?.ok_or(PageError::NotFound)?;
        let Some(detail) = queries::request_detail(conn, &scope, &id)? else {
            return Err(PageError::NotFound);
        };
        if form.action == "photo_visibility" {
            if !detail.photos.iter().any(|p| p.sha256 == form.photo) {
                return Err(PageError::BadRequest("photo inconnue".into()));
            }
            let sql = if form.public == "1" {
                "INSERT OR IGNORE INTO console_public_photos (incident_id, sha256) VALUES (?1, ?2)"
            } else {
                "DELETE FROM console_public_photos WHERE incident_id = ?1 AND sha256 = ?2"
            };
            conn.execute(sql, [&id, &form.photo])?;
            return Ok((id, Ok(())));
        }
        let action = match to_action(conn, &form) {
            Ok(action) => action,
            Err(message) => return Ok((id, Err(message))),
        };
        let uuid: uuid::Uuid = id.parse().map_err(|_| PageError::NotFound)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Ok((id, commit_action(tx, &taxonomy, &actor, uuid, action)?))
    })
    .await?;
    let (id, result) = outcome;
    let target = match result {
        Ok(()) => format!("/console/requests/{id}?ok={}", urlencode(&label)),
        Err(message) => format!("/console/requests/{id}?error={}", urlencode(&message)),
    };
    Ok(Redirect::to(&target).into_response())
}

/// Applies one operator action inside `tx` and commits it. A refusal (unknown service, missing
/// reason, impossible transition…) is the French message shown on the page, and nothing is
/// committed; only an internal failure is an error page.
pub(super) fn commit_action(
    tx: rusqlite::Transaction<'_>,
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
    actor: &str,
    request_id: uuid::Uuid,
    action: crate::actions::Action,
) -> Result<Result<(), String>, PageError> {
    match apply_action(&tx, taxonomy, actor, request_id, action) {
        Ok(_) => {
            tx.commit()?;
            Ok(Ok(()))
        }
        Err(error) if error.code() == balade_protocol::error::ErrorCode::Internal => {
            Err(PageError::Internal(error.to_string()))
        }
        Err(error) => Ok(Err(error.message_fr())),
    }
}

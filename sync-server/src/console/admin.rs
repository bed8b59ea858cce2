//! Administration (admins only): routing rules (category + optional neighbourhood polygon →
//! default recipient) and refusal templates.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::ConsoleUser;
use super::layout::{self, Nav, csrf_field};
use super::routing::{self, Rule};
use super::web::{Authed, CsrfForm, PageError, db};
use crate::state::AppState;

fn require_admin(user: &ConsoleUser) -> Result<(), PageError> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

pub async fn show(
    State(state): State<AppState>,
    Authed(user): Authed,
) -> Result<Markup, PageError> {
    require_admin(&user)?;
    let (rules, templates) = db(&state, |conn| {
        let templates = conn
            .prepare("SELECT id, title, body_fr FROM console_refusal_templates WHERE active = 1 ORDER BY title")?
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((routing::list(conn)?, templates))
    })
    .await?;
    let taxonomy = state.taxonomy();
    Ok(layout::page(
        &user,
        Nav::Admin,
        "Administration",
        false,
        html! {
            h1 { "Administration" }
            section.card {
                h2 { "Règles d'aiguillage" }
                p.muted { "Appliquées à l'arrivée d'un signalement ; l'opérateur peut ensuite changer de service." }
                (rules_table(&user, &taxonomy, &rules))
                form method="post" action="/console/admin/rules" {
                    (csrf_field(&user))
                    p { label { "Catégorie " select name="category" { @for c in &taxonomy.categories { option value=(c.code) { (c.label_fr) } } } } }
                    p { label { "Destinataire " select name="recipient" {
                        @for r in taxonomy.services.iter().chain(&taxonomy.outside_bodies) { option value=(r.code) { (r.name_fr) } }
                    } } }
                    p { label { "Quartier (facultatif) " input name="neighbourhood"; } }
                    p { label { "Polygone GeoJSON du quartier (facultatif)" textarea name="polygon" {} } }
                    p { label { "Priorité " input name="priority" value="100" inputmode="numeric" size="4"; } }
                    button type="submit" { "Ajouter la règle" }
                }
            }
            section.card {
                h2 { "Motifs de refus" }
                ul { @for (id, title, body) in &templates {
                    li { strong { (title) } " — " (body)
                        form method="post" action={ "/console/admin/templates/" (id) "/delete" } style="display:inline" {
                            (csrf_field(&user)) button.secondary type="submit" { "Retirer" }
                        }
                    }
                } }
                form method="post" action="/console/admin/templates" {
                    (csrf_field(&user))
                    p { label { "Titre " input name="title" required; } }
                    p { label { "Texte montré au déclarant" textarea name="body" required {} } }
                    button type="submit" { "Ajouter le motif" }
                }
            }
        },
    ))
}

fn rules_table(
    user: &ConsoleUser,
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
    rules: &[Rule],
) -> Markup {
    html! {
        table {
            thead { tr { th { "Catégorie" } th { "Quartier" } th { "Destinataire" } th { "Priorité" } th {} } }
            tbody { @for rule in rules {
                tr {
                    td { (layout::category_label(taxonomy, &rule.category)) }
                    td { (rule.neighbourhood.clone().unwrap_or_default()) @if rule.polygon_json.is_some() { " (polygone)" } }
                    td { (layout::recipient_name(taxonomy, &rule.recipient_code)) }
                    td { (rule.priority) }
                    td { form method="post" action={ "/console/admin/rules/" (rule.id) "/delete" } {
                        (csrf_field(user)) button.secondary type="submit" { "Supprimer" }
                    } }
                }
            } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    category: String,
    recipient: String,
    #[serde(default)]
    neighbourhood: String,
    #[serde(default)]
    polygon: String,
    #[serde(default)]
    priority: String,
}

pub async fn add_rule(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let taxonomy = state.taxonomy();
    if taxonomy.category(&form.category).is_none() || taxonomy.recipient(&form.recipient).is_none()
    {
        return Err(PageError::BadRequest(
            "Catégorie ou destinataire inconnu".into(),
        ));
    }
    let polygon = Some(form.polygon.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(p) = &polygon
        && routing::parse_polygons(p).is_none()
    {
        return Err(PageError::BadRequest(
            "Le polygone doit être un Polygon ou MultiPolygon GeoJSON".into(),
        ));
    }
    let priority: i64 = form.priority.trim().parse().unwrap_or(100);
    let neighbourhood = Some(form.neighbourhood.trim().to_string()).filter(|n| !n.is_empty());
    db(&state, move |conn| {
        conn.execute(
            "INSERT INTO console_routing_rules (category, neighbourhood, polygon_json, recipient_code, priority, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![form.category, neighbourhood, polygon, form.recipient, priority, crate::store::now_text()],
        )?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    db(&state, move |conn| {
        Ok(conn
            .execute("DELETE FROM console_routing_rules WHERE id = ?1", [id])
            .map(|_| ())?)
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

#[derive(Debug, Deserialize)]
pub struct TemplateForm {
    title: String,
    body: String,
}

pub async fn add_template(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<TemplateForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if form.title.trim().is_empty() || form.body.trim().is_empty() {
        return Err(PageError::BadRequest("Titre et texte obligatoires".into()));
    }
    db(&state, move |conn| {
        conn.execute(
            "INSERT INTO console_refusal_templates (title, body_fr) VALUES (?1, ?2)",
            [form.title.trim(), form.body.trim()],
        )?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

pub async fn delete_template(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    db(&state, move |conn| {
        Ok(conn
            .execute(
                "UPDATE console_refusal_templates SET active = 0 WHERE id = ?1",
                [id],
            )
            .map(|_| ())?)
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

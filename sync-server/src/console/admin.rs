//! Administration (admins only): routing rules (category + optional neighbourhood polygon →
//! default recipient), refusal templates, and the city services and outside bodies.
//!
//! Services and outside bodies live in the taxonomy (the actions check codes against it), so
//! adding or renaming one writes `<data>/taxonomy.json` (temp file, fsync, rename) and swaps
//! the server's taxonomy in place ([`edit_taxonomy`], one edit at a time); devices see the new
//! version in their next feed page.
//!
//! Every change is recorded in the administration audit trail through [`audited`].

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::audit::{AdminChange, audited};
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
                h2 { "Comptes et catégories" }
                ul {
                    li { a href="/console/admin/users" { "Comptes de la console (rôles, services, désactivation)" } }
                    li { a href="/console/admin/categories" { "Catégories (libellés, mots-clés, délai annoncé, destinataire, sous-catégories)" } }
                    li { a href="/console/admin/import" { "Importer un export d'appareil (appareil sans réseau)" } }
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
        audited(conn, &user.login, |conn| {
            conn.execute(
                "INSERT INTO console_routing_rules (category, neighbourhood, polygon_json, recipient_code, priority, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![form.category, neighbourhood, polygon, form.recipient, priority, crate::store::now_text()],
            )?;
            let id = conn.last_insert_rowid();
            let after = rule_json(conn, id)?;
            Ok(((), AdminChange { action: "rule_added", subject: format!("règle n° {id}"), before: None, after }))
        })
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// A routing rule as the audit trail keeps it, `None` if absent.
fn rule_json(conn: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<serde_json::Value>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT category, neighbourhood, polygon_json, recipient_code, priority, active
         FROM console_routing_rules WHERE id = ?1",
        [id],
        |r| {
            Ok(serde_json::json!({
                "category": r.get::<_, String>(0)?,
                "neighbourhood": r.get::<_, Option<String>>(1)?,
                "polygon": r.get::<_, Option<String>>(2)?,
                "recipient": r.get::<_, String>(3)?,
                "priority": r.get::<_, i64>(4)?,
                "active": r.get::<_, bool>(5)?,
            }))
        },
    )
    .optional()
}

/// A refusal template as the audit trail keeps it, `None` if absent.
fn template_json(
    conn: &rusqlite::Connection,
    id: i64,
) -> rusqlite::Result<Option<(String, serde_json::Value)>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT title, body_fr, active FROM console_refusal_templates WHERE id = ?1",
        [id],
        |r| {
            let title: String = r.get(0)?;
            let json = serde_json::json!({
                "title": title,
                "body": r.get::<_, String>(1)?,
                "active": r.get::<_, bool>(2)?,
            });
            Ok((title, json))
        },
    )
    .optional()
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    CsrfForm { user, .. }: CsrfForm<Empty>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    db(&state, move |conn| {
        audited(conn, &user.login, |conn| {
            let before = rule_json(conn, id)?.ok_or(PageError::NotFound)?;
            conn.execute("DELETE FROM console_routing_rules WHERE id = ?1", [id])?;
            Ok((
                (),
                AdminChange {
                    action: "rule_deleted",
                    subject: format!("règle n° {id}"),
                    before: Some(before),
                    after: None,
                },
            ))
        })
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
        audited(conn, &user.login, |conn| {
            conn.execute(
                "INSERT INTO console_refusal_templates (title, body_fr) VALUES (?1, ?2)",
                [form.title.trim(), form.body.trim()],
            )?;
            let (title, after) =
                template_json(conn, conn.last_insert_rowid())?.ok_or(PageError::NotFound)?;
            Ok((
                (),
                AdminChange {
                    action: "template_added",
                    subject: title,
                    before: None,
                    after: Some(after),
                },
            ))
        })
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
        audited(conn, &user.login, |conn| {
            let (title, before) = template_json(conn, id)?.ok_or(PageError::NotFound)?;
            conn.execute(
                "UPDATE console_refusal_templates SET active = 0 WHERE id = ?1",
                [id],
            )?;
            let after = template_json(conn, id)?.map(|(_, json)| json);
            Ok((
                (),
                AdminChange {
                    action: "template_removed",
                    subject: title,
                    before: Some(before),
                    after,
                },
            ))
        })
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

#[derive(Debug, Deserialize)]
pub struct RecipientForm {
    kind: String,
    code: String,
    name_fr: String,
    #[serde(default)]
    name_en: String,
}

/// Adds a service or outside body to the taxonomy, or renames an existing one (same code and
/// kind). A code cannot change kind: requests and rules refer to it.
pub fn upsert_recipient(
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
    kind: &str,
    code: &str,
    name_fr: &str,
    name_en: &str,
) -> Result<balade_protocol::taxonomy::Taxonomy, String> {
    let code = code.trim();
    if !(2..=40).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err("Code invalide : 2 à 40 minuscules, chiffres ou _".into());
    }
    if name_fr.trim().is_empty() {
        return Err("Le nom en français est obligatoire".into());
    }
    let mut next = taxonomy.clone();
    let (list, other) = match kind {
        "service" => (&mut next.services, &taxonomy.outside_bodies),
        "outside_body" => (&mut next.outside_bodies, &taxonomy.services),
        _ => return Err("Type inconnu".into()),
    };
    if other.iter().any(|r| r.code == code) {
        return Err("Ce code existe déjà avec l'autre type".into());
    }
    let recipient = balade_protocol::taxonomy::Recipient {
        code: code.to_string(),
        name_fr: name_fr.trim().to_string(),
        name_en: name_en.trim().to_string(),
    };
    match list.iter_mut().find(|r| r.code == code) {
        Some(existing) => *existing = recipient,
        None => list.push(recipient),
    }
    let json = serde_json::to_string_pretty(&next).map_err(|e| e.to_string())?;
    balade_protocol::taxonomy::Taxonomy::from_json(&json).map_err(|e| e.to_string())
}

fn write_taxonomy(
    data_dir: &std::path::Path,
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
) -> std::io::Result<()> {
    use std::io::Write;
    let target = data_dir.join(crate::state::TAXONOMY_FILE);
    let temp = data_dir.join(format!(".{}.tmp", crate::state::TAXONOMY_FILE));
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(
        serde_json::to_string_pretty(taxonomy)
            .map_err(std::io::Error::other)?
            .as_bytes(),
    )?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, &target)?;
    std::fs::File::open(data_dir)?.sync_all()
}

pub async fn add_recipient(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<RecipientForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let code = form.code.trim().to_string();
    let exists = state.taxonomy().recipient(&code).is_some();
    let audit = TaxonomyAudit {
        actor: user.login.clone(),
        action: if exists {
            "recipient_renamed"
        } else {
            "recipient_added"
        },
        subject: code.clone(),
        item: Box::new(move |t| {
            t.recipient(&code)
                .and_then(|r| serde_json::to_value(r).ok())
        }),
    };
    edit_taxonomy(&state, audit, |taxonomy| {
        upsert_recipient(
            taxonomy,
            &form.kind,
            &form.code,
            &form.name_fr,
            &form.name_en,
        )
    })
    .await?;
    Ok(Redirect::to("/console/admin").into_response())
}

/// One taxonomy edit at a time: two admins saving together would otherwise each start from
/// the same taxonomy (one change lost) and share the temp file name.
static TAXONOMY_EDIT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How a taxonomy edit is recorded in the administration audit trail: `item` picks the
/// changed thing (a category, a recipient...) out of a taxonomy, applied before and after.
pub struct TaxonomyAudit {
    pub actor: String,
    pub action: &'static str,
    pub subject: String,
    #[allow(clippy::type_complexity)]
    pub item: Box<dyn Fn(&balade_protocol::taxonomy::Taxonomy) -> Option<serde_json::Value> + Send>,
}

/// Applies `change` to the current taxonomy (an `Err` is a French message: nothing changes),
/// then, inside the audit row's transaction ([`audited`]), writes the result to
/// `<data>/taxonomy.json` (temp file, fsync, rename); once both are done it swaps it into the
/// server state, so its new version reaches devices in their next feed page.
/// Returns the new version.
pub async fn edit_taxonomy(
    state: &AppState,
    audit: TaxonomyAudit,
    change: impl FnOnce(
        &balade_protocol::taxonomy::Taxonomy,
    ) -> Result<balade_protocol::taxonomy::Taxonomy, String>,
) -> Result<String, PageError> {
    let _one_at_a_time = TAXONOMY_EDIT.lock().await;
    let current = state.taxonomy();
    let next = change(&current).map_err(PageError::BadRequest)?;
    let version = next.version.clone();
    let data_dir = state.data_dir.clone();
    let written = next.clone();
    let record = AdminChange {
        action: audit.action,
        subject: audit.subject,
        before: (audit.item)(&current),
        after: (audit.item)(&next),
    };
    let actor = audit.actor;
    db(state, move |conn| {
        audited(conn, &actor, |_| {
            write_taxonomy(&data_dir, &written).map_err(|e| PageError::Internal(e.to_string()))?;
            Ok(((), record))
        })
    })
    .await?;
    *state.taxonomy.write().unwrap_or_else(|p| p.into_inner()) = next;
    Ok(version)
}

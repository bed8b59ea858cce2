//! Taxonomy editing (admins only): a category's French/English labels, keywords, announced
//! delay and default recipient, and new sub-categories.
//!
//! Same mechanism as services and outside bodies ([`super::admin::edit_taxonomy`]): the edited copy is
//! re-checked with `Taxonomy::from_json` (which also gives it its new version), then written to
//! `<data>/taxonomy.json` atomically and swapped in; bad input changes nothing and answers a
//! French message. Codes never change: requests, rules and devices refer to them.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use balade_protocol::taxonomy::{Subcategory, Taxonomy};
use maud::{Markup, html};
use serde::Deserialize;

use super::admin::{TaxonomyAudit, edit_taxonomy};
use super::layout::{self, Nav, csrf_field};
use super::web::{Authed, CsrfForm, PageError};
use crate::state::AppState;

/// Longest announced delay an admin may set, in days.
pub const MAX_DELAY_DAYS: u32 = 365;

fn require_admin(user: &super::auth::ConsoleUser) -> Result<(), PageError> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Comma-separated keywords → trimmed, non-empty, without repeats (order kept).
fn keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if !out.iter().any(|w| w == word) {
            out.push(word.to_string());
        }
    }
    out
}

/// Serialises and re-parses, so the saved taxonomy passes the same checks as a loaded one.
fn recheck(next: &Taxonomy) -> Result<Taxonomy, String> {
    let json = serde_json::to_string_pretty(next).map_err(|e| e.to_string())?;
    Taxonomy::from_json(&json).map_err(|e| format!("Taxonomie invalide : {e}"))
}

/// What the category form sends.
#[derive(Debug, Clone, Deserialize)]
pub struct CategoryForm {
    pub code: String,
    pub label_fr: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub keywords: String,
    pub delay_days: String,
    pub recipient: String,
}

/// The taxonomy with one category's labels, keywords, delay and recipient changed.
pub fn edit_category(taxonomy: &Taxonomy, form: &CategoryForm) -> Result<Taxonomy, String> {
    let label_fr = form.label_fr.trim();
    if label_fr.is_empty() {
        return Err("Le libellé en français est obligatoire".into());
    }
    let delay_days = form
        .delay_days
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=MAX_DELAY_DAYS).contains(d))
        .ok_or_else(|| {
            format!("Le délai annoncé doit être un nombre de jours entre 1 et {MAX_DELAY_DAYS}")
        })?;
    if taxonomy.recipient(form.recipient.trim()).is_none() {
        return Err("Destinataire inconnu".into());
    }
    let mut next = taxonomy.clone();
    let category = next
        .categories
        .iter_mut()
        .find(|c| c.code == form.code)
        .ok_or_else(|| "Catégorie inconnue".to_string())?;
    category.label_fr = label_fr.to_string();
    category.label_en = Some(form.label_en.trim())
        .filter(|l| !l.is_empty())
        .unwrap_or(label_fr)
        .to_string();
    category.keywords = keywords(&form.keywords);
    category.delay_days = delay_days;
    category.recipient = form.recipient.trim().to_string();
    recheck(&next)
}

/// What the sub-category form sends.
#[derive(Debug, Clone, Deserialize)]
pub struct SubcategoryForm {
    pub category: String,
    pub code: String,
    pub label_fr: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub keywords: String,
}

/// The taxonomy with one more sub-category in a category.
pub fn add_subcategory(taxonomy: &Taxonomy, form: &SubcategoryForm) -> Result<Taxonomy, String> {
    let code = form.code.trim();
    if !(2..=40).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err("Code invalide : 2 à 40 minuscules, chiffres ou _".into());
    }
    let label_fr = form.label_fr.trim();
    if label_fr.is_empty() {
        return Err("Le libellé en français est obligatoire".into());
    }
    let mut next = taxonomy.clone();
    let category = next
        .categories
        .iter_mut()
        .find(|c| c.code == form.category)
        .ok_or_else(|| "Catégorie inconnue".to_string())?;
    if category.subcategories.iter().any(|s| s.code == code) {
        return Err("Cette sous-catégorie existe déjà".into());
    }
    category.subcategories.push(Subcategory {
        code: code.to_string(),
        label_fr: label_fr.to_string(),
        label_en: Some(form.label_en.trim())
            .filter(|l| !l.is_empty())
            .unwrap_or(label_fr)
            .to_string(),
        keywords: keywords(&form.keywords),
    });
    recheck(&next)
}

pub async fn show(
    State(state): State<AppState>,
    Authed(user): Authed,
) -> Result<Markup, PageError> {
    require_admin(&user)?;
    let taxonomy = state.taxonomy();
    let recipients: Vec<_> = taxonomy
        .services
        .iter()
        .chain(&taxonomy.outside_bodies)
        .collect();
    Ok(layout::page(
        &user,
        Nav::Admin,
        "Catégories",
        false,
        html! {
            h1 { "Catégories" }
            p { a href="/console/admin" { "← Administration" } }
            p.muted { "Version de la taxonomie : " code data-testid="taxonomy-version" { (taxonomy.version) } ". Les appareils reçoivent la nouvelle version à leur prochaine synchronisation." }
            @for c in &taxonomy.categories {
                section.card id={ "categorie-" (c.code) } {
                    h2 { (c.emoji) " " (c.label_fr) " " span.muted { "(" (c.code) ")" } }
                    form method="post" action="/console/admin/categories" {
                        (csrf_field(&user))
                        input type="hidden" name="code" value=(c.code);
                        p { label { "Libellé (français) " input name="label_fr" value=(c.label_fr) required; } }
                        p { label { "Libellé (anglais) " input name="label_en" value=(c.label_en); } }
                        p { label { "Mots-clés (séparés par des virgules) " input name="keywords" value=(c.keywords.join(", ")) size="60"; } }
                        p { label { "Délai annoncé (jours) " input name="delay_days" value=(c.delay_days) inputmode="numeric" size="4" required; } }
                        p { label { "Destinataire par défaut " select name="recipient" {
                            @for r in &recipients { option value=(r.code) selected[r.code == c.recipient] { (r.name_fr) } }
                        } } }
                        button type="submit" { "Enregistrer la catégorie" }
                    }
                    h3 { "Sous-catégories" }
                    ul { @for s in &c.subcategories { li { (s.label_fr) " " span.muted { "(" (s.code) ")" } } } }
                    form method="post" action="/console/admin/subcategories" {
                        (csrf_field(&user))
                        input type="hidden" name="category" value=(c.code);
                        p { label { "Code " input name="code" required pattern="[a-z0-9_]{2,40}" size="20"; } }
                        p { label { "Libellé (français) " input name="label_fr" required; } }
                        p { label { "Libellé (anglais) " input name="label_en"; } }
                        p { label { "Mots-clés " input name="keywords" size="40"; } }
                        button.secondary type="submit" { "Ajouter la sous-catégorie" }
                    }
                }
            }
        },
    ))
}

pub async fn update(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<CategoryForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let code = form.code.clone();
    let audit = TaxonomyAudit {
        actor: user.login.clone(),
        action: "category_edited",
        subject: form.code.clone(),
        item: Box::new(move |t| {
            t.category(&code)
                .and_then(|c| serde_json::to_value(c).ok())
                .map(|mut c| {
                    // The sub-categories have their own entries; keep the row readable.
                    if let Some(object) = c.as_object_mut() {
                        object.remove("subcategories");
                    }
                    c
                })
        }),
    };
    edit_taxonomy(&state, audit, |taxonomy| edit_category(taxonomy, &form)).await?;
    Ok(Redirect::to(&format!(
        "/console/admin/categories#categorie-{}",
        form.code
    ))
    .into_response())
}

pub async fn add_sub(
    State(state): State<AppState>,
    CsrfForm { user, form }: CsrfForm<SubcategoryForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let (category, code) = (form.category.clone(), form.code.trim().to_string());
    let audit = TaxonomyAudit {
        actor: user.login.clone(),
        action: "subcategory_added",
        subject: format!("{}/{}", form.category, code),
        item: Box::new(move |t| {
            t.category(&category)
                .and_then(|c| c.subcategories.iter().find(|s| s.code == code))
                .and_then(|s| serde_json::to_value(s).ok())
        }),
    };
    edit_taxonomy(&state, audit, |taxonomy| add_subcategory(taxonomy, &form)).await?;
    Ok(Redirect::to(&format!(
        "/console/admin/categories#categorie-{}",
        form.category
    ))
    .into_response())
}

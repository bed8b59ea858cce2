//! Page chrome shared by every console and citizen page (maud templates, French first).
//!
//! maud escapes every interpolated value, so text from devices and citizens (comments,
//! addresses) is always shown as text, never as markup.

use maud::{DOCTYPE, Markup, html};

use super::auth::ConsoleUser;

/// Which navigation entry is highlighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Inbox,
    Map,
    Stats,
    Audit,
    Admin,
    None,
}

/// Base path of the console's static files (CSS, JS, vendored Leaflet).
pub const STATIC: &str = "/console/static";

fn head(title: &str, with_map: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — Balade" }
            link rel="stylesheet" href={ (STATIC) "/console.css" };
            @if with_map {
                link rel="stylesheet" href={ (STATIC) "/vendor/leaflet/leaflet.css" };
            }
        }
    }
}

fn scripts(with_map: bool) -> Markup {
    html! {
        @if with_map {
            script src={ (STATIC) "/vendor/leaflet/leaflet.js" } {}
            script src={ (STATIC) "/console.js" } {}
        }
    }
}

/// A console page for a logged-in user.
pub fn page(user: &ConsoleUser, nav: Nav, title: &str, with_map: bool, body: Markup) -> Markup {
    let current = |n: Nav| if n == nav { Some("page") } else { None };
    html! {
        (DOCTYPE)
        html lang="fr" {
            (head(title, with_map))
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header.top {
                    span.brand { "Balade — console" }
                    nav aria-label="Navigation principale" {
                        a href="/console/inbox" aria-current=[current(Nav::Inbox)] { "Signalements" }
                        a href="/console/inbox?view=map" aria-current=[current(Nav::Map)] { "Carte" }
                        a href="/console/stats" aria-current=[current(Nav::Stats)] { "Statistiques" }
                        a href="/console/audit" aria-current=[current(Nav::Audit)] { "Journal" }
                        @if user.is_admin() {
                            a href="/console/admin" aria-current=[current(Nav::Admin)] { "Administration" }
                        }
                    }
                    form method="post" action="/console/logout" {
                        (csrf_field(user))
                        span.muted { (user.login) " " }
                        button.secondary type="submit" { "Se déconnecter" }
                    }
                }
                main id="contenu" { (body) }
                (scripts(with_map))
            }
        }
    }
}

/// A page without a logged-in user (login, citizen tracking).
pub fn public_page(title: &str, with_map: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            (head(title, with_map))
            body {
                header.top { span.brand { "Balade — Ville de La Rochelle" } }
                main id="contenu" { (body) }
                (scripts(with_map))
            }
        }
    }
}

/// The hidden CSRF field every console form carries.
pub fn csrf_field(user: &ConsoleUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf_token); }
}

/// One map marker, serialised into the `data-markers` attribute read by console.js.
#[derive(Debug, serde::Serialize)]
pub struct Marker {
    pub lat: f64,
    pub lon: f64,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
}

/// A Leaflet map container. `drag_form` makes the single marker draggable into that form.
pub fn map(
    markers: &[Marker],
    tile_url: Option<&str>,
    class: &str,
    drag_form: Option<&str>,
) -> Markup {
    let json = serde_json::to_string(markers).unwrap_or_else(|_| "[]".into());
    html! {
        div class={ "map " (class) } data-markers=(json) data-tiles=[tile_url] data-drag=[drag_form]
            role="region" aria-label="Carte" {
            noscript { "Carte indisponible sans JavaScript ; les positions sont indiquées dans la liste." }
        }
    }
}

/// French label of a category code (the code itself when unknown).
pub fn category_label(taxonomy: &balade_protocol::taxonomy::Taxonomy, code: &str) -> String {
    taxonomy
        .category(code)
        .map(|c| c.label_fr.clone())
        .unwrap_or_else(|| code.to_string())
}

/// French label of a sub-category.
pub fn subcategory_label(
    taxonomy: &balade_protocol::taxonomy::Taxonomy,
    category: &str,
    code: &str,
) -> String {
    taxonomy
        .category(category)
        .and_then(|c| c.subcategory(code))
        .map(|s| s.label_fr.clone())
        .unwrap_or_else(|| code.to_string())
}

/// French name of a service or outside body.
pub fn recipient_name(taxonomy: &balade_protocol::taxonomy::Taxonomy, code: &str) -> String {
    taxonomy
        .recipient(code)
        .map(|r| r.name_fr.clone())
        .unwrap_or_else(|| code.to_string())
}

/// State badge.
pub fn state_badge(state: balade_protocol::status::State) -> Markup {
    let class = if state.is_closed() {
        "badge closed"
    } else {
        "badge"
    };
    html! { span class=(class) data-state=(state.code()) { (state.label_fr()) } }
}

/// "il y a 3 j" style age.
pub fn age(from: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let minutes = (now - from).num_minutes().max(0);
    match minutes {
        0..60 => format!("{minutes} min"),
        60..1440 => format!("{} h", minutes / 60),
        _ => format!("{} j", minutes / 1440),
    }
}

/// A stored RFC 3339 time shown as "04/12/2026 21:05" (UTC).
pub fn when(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| text.to_string())
}

/// French label of a stored event kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "received" => "Reçu",
        "routed" => "Transmis au service",
        "transferred" => "Transmis à un organisme extérieur",
        "scheduled" => "Programmé",
        "started" => "Intervention commencée",
        "resolved" => "Traité",
        "refused" => "Refusé",
        "duplicate" => "Doublon",
        "category_corrected" => "Catégorie corrigée",
        "location_corrected" => "Localisation corrigée",
        "note" => "Information",
        "internal_note" => "Note interne",
        _ => "Événement",
    }
}

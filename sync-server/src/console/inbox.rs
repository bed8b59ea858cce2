//! The inbox: newest requests first, filters, paging, overdue flags, and a map view of the
//! same selection (`?view=map`).

use axum::extract::State;
use axum_extra::extract::Query;
use balade_protocol::status::State as RequestState;
use balade_protocol::taxonomy::Taxonomy;
use chrono::Utc;
use maud::{Markup, html};

use super::ConsoleConfig;
use super::auth::ConsoleUser;
use super::layout::{self, Marker, Nav};
use super::queries::{self, InboxFilter, InboxPage, PAGE_SIZE, QueryError, Scope};
use super::web::{Authed, PageError, db};
use crate::state::AppState;

/// Data behind the filter drop-downs.
struct Choices {
    walks: Vec<(String, String)>,
    neighbourhoods: Vec<String>,
}

fn choices(conn: &rusqlite::Connection) -> rusqlite::Result<Choices> {
    let walks = conn
        .prepare_cached("SELECT id, title FROM walks ORDER BY started_at DESC LIMIT 200")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let neighbourhoods = conn
        .prepare_cached(
            "SELECT DISTINCT neighbourhood FROM walks WHERE neighbourhood IS NOT NULL ORDER BY 1",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Choices {
        walks,
        neighbourhoods,
    })
}

/// Loads one inbox page (used by the handler and the benchmark).
pub fn load(
    conn: &rusqlite::Connection,
    scope: &Scope,
    filter: &InboxFilter,
) -> Result<InboxPage, PageError> {
    queries::inbox(conn, scope, filter).map_err(|e| match e {
        QueryError::BadFilter(message) => PageError::BadRequest(message),
        QueryError::Db(e) => PageError::Internal(e.to_string()),
    })
}

pub async fn show(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<ConsoleConfig>,
    Authed(user): Authed,
    Query(filter): Query<InboxFilter>,
) -> Result<Markup, PageError> {
    let scope = Scope::of(&user);
    let query = filter.clone();
    let (page, choices) = db(&state, move |conn| {
        Ok((load(conn, &scope, &query)?, choices(conn)?))
    })
    .await?;
    let taxonomy = state.taxonomy();
    Ok(render(&user, &taxonomy, &config, &filter, &page, &choices))
}

/// Renders the inbox page (list or map).
fn render(
    user: &ConsoleUser,
    taxonomy: &Taxonomy,
    config: &ConsoleConfig,
    filter: &InboxFilter,
    page: &InboxPage,
    choices: &Choices,
) -> Markup {
    let map_view = filter.view == "map";
    let now = Utc::now();
    let body = html! {
        h1 { @if map_view { "Carte des signalements" } @else { "Signalements" } }
        (filters(user, taxonomy, filter, choices, map_view))
        p.muted data-testid="total" { @if page.total > queries::COUNT_LIMIT { "Plus de " (queries::COUNT_LIMIT) } @else { (page.total) } " signalement(s)" @if map_view && page.total as usize > queries::MAP_LIMIT { " (les " (queries::MAP_LIMIT) " plus récents sur la carte)" } }
        @if map_view {
            @let markers: Vec<Marker> = page.rows.iter().map(|r| Marker {
                lat: r.lat, lon: r.lon,
                label: format!("{} — {}", r.reference, layout::subcategory_label(taxonomy, &r.category, &r.subcategory)),
                href: Some(format!("/console/requests/{}", r.id)),
                overdue: r.is_overdue(taxonomy, now),
            }).collect();
            (layout::map(&markers, config.tile_url.as_deref(), "big", None))
            p { a href={ "/console/inbox?" (filter.query_string(None, "")) } { "Voir la liste" } }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Photo" } th { "Référence" } th { "Catégorie" } th { "Adresse" } th { "État" } th { "Âge" } th { "Service" } } }
                tbody {
                    @for r in &page.rows {
                        tr data-testid="inbox-row" {
                            td { @if let Some(photo) = &r.photo { img.thumb src={ "/console/photos/" (photo) "/thumb" } alt="" loading="lazy"; } }
                            td { a href={ "/console/requests/" (r.id) } { (r.reference) } }
                            td { (layout::category_label(taxonomy, &r.category)) br; span.muted { (layout::subcategory_label(taxonomy, &r.category, &r.subcategory)) } }
                            td { (r.address.clone().unwrap_or_default()) }
                            td { (layout::state_badge(r.state)) @if r.is_overdue(taxonomy, now) { " " span.badge.overdue { "En retard" } } }
                            td { (layout::age(r.created_at, now)) }
                            td { (r.service.as_deref().or(r.outside_body.as_deref()).map(|c| layout::recipient_name(taxonomy, c)).unwrap_or_default()) }
                        }
                    }
                }
            } }
            (pager(filter, page))
        }
    };
    layout::page(
        user,
        if map_view { Nav::Map } else { Nav::Inbox },
        "Signalements",
        map_view,
        body,
    )
}

fn filters(
    user: &ConsoleUser,
    taxonomy: &Taxonomy,
    f: &InboxFilter,
    choices: &Choices,
    map_view: bool,
) -> Markup {
    let recipients: Vec<_> = taxonomy
        .services
        .iter()
        .chain(&taxonomy.outside_bodies)
        .filter(|r| user.is_admin() || user.services.contains(&r.code))
        .collect();
    html! {
        form.filters method="get" action="/console/inbox" role="search" {
            @if map_view { input type="hidden" name="view" value="map"; }
            label { "État" select name="state" {
                option value="" { "Tous" }
                @for s in RequestState::ALL { option value=(s.code()) selected[f.state == s.code()] { (s.label_fr()) } }
            } }
            label { "Catégorie" select name="category" {
                option value="" { "Toutes" }
                @for c in &taxonomy.categories { option value=(c.code) selected[f.category == c.code] { (c.label_fr) } }
            } }
            label { "Service" select name="service" {
                option value="" { "Tous" }
                @for r in &recipients { option value=(r.code) selected[f.service == r.code] { (r.name_fr) } }
            } }
            label { "Balade" select name="walk" {
                option value="" { "Toutes" }
                @for (id, title) in &choices.walks { option value=(id) selected[&f.walk == id] { (title) } }
            } }
            label { "Quartier" select name="neighbourhood" {
                option value="" { "Tous" }
                @for n in &choices.neighbourhoods { option value=(n) selected[&f.neighbourhood == n] { (n) } }
            } }
            label { "Du" input type="date" name="from" value=(f.from); }
            label { "Au" input type="date" name="to" value=(f.to); }
            button type="submit" { "Filtrer" }
            a href={ "/console/inbox?" (f.query_string(None, if map_view { "" } else { "map" })) } {
                @if map_view { "Liste" } @else { "Carte" }
            }
        }
    }
}

fn pager(filter: &InboxFilter, page: &InboxPage) -> Markup {
    let pages = ((page.total.clamp(0, queries::COUNT_LIMIT) as usize).div_ceil(PAGE_SIZE)).max(1);
    html! {
        nav.pager aria-label="Pages" {
            @if page.page > 1 { a href={ "/console/inbox?" (filter.query_string(Some(page.page - 1), "")) } rel="prev" { "← Précédente" } }
            span { "Page " (page.page) @if page.total <= queries::COUNT_LIMIT { " sur " (pages) } }
            @if page.page < pages || (page.total > queries::COUNT_LIMIT && page.rows.len() == PAGE_SIZE) { a href={ "/console/inbox?" (filter.query_string(Some(page.page + 1), "")) } rel="next" { "Suivante →" } }
        }
    }
}

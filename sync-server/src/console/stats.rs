//! Statistics: requests by category, state, service and month; median time to first handling
//! and to resolution; share closed within the category's announced delay. Server-rendered SVG
//! bar charts with their tables, and the same figures as CSV.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use balade_protocol::status::State as RequestState;
use balade_protocol::taxonomy::Taxonomy;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::auth::ConsoleUser;
use super::layout::{self, Nav};
use super::queries::Scope;
use super::web::{Authed, PageError, db};
use crate::state::AppState;

/// The computed figures.
#[derive(Debug, Default)]
pub struct Stats {
    pub total: usize,
    pub by_category: BTreeMap<String, usize>,
    pub by_state: BTreeMap<String, usize>,
    pub by_service: BTreeMap<String, usize>,
    pub by_month: BTreeMap<String, usize>,
    pub median_first_handling_hours: Option<f64>,
    pub median_resolution_hours: Option<f64>,
    /// (closed within delay, closed)
    pub within_delay: (usize, usize),
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Computes the statistics over the requests in scope.
pub fn compute(
    conn: &rusqlite::Connection,
    scope: &Scope,
    taxonomy: &Taxonomy,
) -> rusqlite::Result<Stats> {
    let (scope_sql, args) = match scope {
        Scope::All => ("1".to_string(), vec![]),
        Scope::Services(services) => {
            let marks = vec!["?"; services.len().max(1)].join(",");
            let mut args: Vec<Value> = services.iter().map(|s| Value::Text(s.clone())).collect();
            args.extend(services.iter().map(|s| Value::Text(s.clone())));
            if services.is_empty() {
                args = vec![Value::Null, Value::Null];
            }
            (
                format!("(r.service IN ({marks}) OR r.outside_body IN ({marks}))"),
                args,
            )
        }
    };
    let mut statement = conn.prepare(&format!(
        "SELECT r.category, r.state, coalesce(r.service, r.outside_body, ''), r.created_at,
            (SELECT min(e.at) FROM events e WHERE e.request_id = r.id AND e.actor <> 'system'),
            (SELECT min(e.at) FROM events e WHERE e.request_id = r.id AND e.kind = 'resolved'),
            (SELECT min(e.at) FROM events e WHERE e.request_id = r.id
                AND e.kind IN ('resolved', 'refused', 'duplicate', 'transferred') AND e.actor <> 'system')
         FROM requests r WHERE {scope_sql}"
    ))?;
    let mut rows = statement.query(params_from_iter(args.iter()))?;
    let mut stats = Stats::default();
    let (mut first, mut resolution) = (Vec::new(), Vec::new());
    while let Some(row) = rows.next()? {
        let category: String = row.get(0)?;
        let state: String = row.get(1)?;
        let service: String = row.get(2)?;
        let created_text: String = row.get(3)?;
        stats.total += 1;
        *stats
            .by_month
            .entry(created_text.get(..7).unwrap_or("?").to_string())
            .or_default() += 1;
        *stats.by_state.entry(state).or_default() += 1;
        *stats.by_service.entry(service).or_default() += 1;
        let Some(created) = parse(&created_text) else {
            *stats.by_category.entry(category).or_default() += 1;
            continue;
        };
        let hours = |t: Option<String>| {
            t.as_deref()
                .and_then(parse)
                .map(|t| (t - created).num_seconds() as f64 / 3600.0)
        };
        if let Some(h) = hours(row.get(4)?) {
            first.push(h);
        }
        if let Some(h) = hours(row.get(5)?) {
            resolution.push(h);
        }
        if let Some(h) = hours(row.get(6)?) {
            let delay = taxonomy
                .category(&category)
                .map(|c| c.delay_days)
                .unwrap_or(15) as f64;
            stats.within_delay.1 += 1;
            if h <= delay * 24.0 {
                stats.within_delay.0 += 1;
            }
        }
        *stats.by_category.entry(category).or_default() += 1;
    }
    stats.median_first_handling_hours = median(first);
    stats.median_resolution_hours = median(resolution);
    Ok(stats)
}

/// A horizontal SVG bar chart with an accessible table beside it.
fn chart(title: &str, rows: &[(String, usize)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let height = rows.len() * 22 + 10;
    html! {
        section.card {
            h2 { (title) }
            svg.chart role="img" aria-label=(title) width="100%" height=(height) viewBox={ "0 0 600 " (height) } preserveAspectRatio="xMinYMin meet" {
                @for (i, (label, count)) in rows.iter().enumerate() {
                    @let y = i * 22 + 5;
                    @let width = (*count as f64 / max as f64 * 330.0).max(1.0);
                    text x="0" y=(y + 14) { (label.chars().take(34).collect::<String>()) }
                    rect x="220" y=(y) width=(format!("{width:.1}")) height="16" {}
                    text x=(format!("{:.1}", 225.0 + width)) y=(y + 14) { (count) }
                }
            }
            details { summary { "Tableau" }
                table { thead { tr { th { "Valeur" } th { "Nombre" } } } tbody { @for (label, count) in rows { tr { td { (label) } td { (count) } } } } }
            }
        }
    }
}

fn labelled(stats: &Stats, taxonomy: &Taxonomy) -> [(String, Vec<(String, usize)>); 4] {
    let category = stats
        .by_category
        .iter()
        .map(|(k, v)| (layout::category_label(taxonomy, k), *v))
        .collect();
    let state = stats
        .by_state
        .iter()
        .map(|(k, v)| {
            (
                RequestState::from_code(k)
                    .map(|s| s.label_fr().to_string())
                    .unwrap_or(k.clone()),
                *v,
            )
        })
        .collect();
    let service = stats
        .by_service
        .iter()
        .map(|(k, v)| {
            (
                if k.is_empty() {
                    "Non attribué".into()
                } else {
                    layout::recipient_name(taxonomy, k)
                },
                *v,
            )
        })
        .collect();
    let month = stats
        .by_month
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    [
        ("Par catégorie".into(), category),
        ("Par état".into(), state),
        ("Par service".into(), service),
        ("Par mois".into(), month),
    ]
}

fn hours_text(hours: Option<f64>) -> String {
    match hours {
        None => "—".into(),
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} j", h / 24.0),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Authed(user): Authed,
) -> Result<Markup, PageError> {
    let taxonomy = state.taxonomy();
    let scope = Scope::of(&user);
    let tax = taxonomy.clone();
    let stats = db(&state, move |conn| Ok(compute(conn, &scope, &tax)?)).await?;
    Ok(render(&user, &taxonomy, &stats))
}

fn render(user: &ConsoleUser, taxonomy: &Taxonomy, stats: &Stats) -> Markup {
    let (within, closed) = stats.within_delay;
    let share = if closed == 0 {
        "—".to_string()
    } else {
        format!("{:.0} %", within as f64 * 100.0 / closed as f64)
    };
    layout::page(
        user,
        Nav::Stats,
        "Statistiques",
        false,
        html! {
            h1 { "Statistiques" }
            p { a.button href="/console/stats.csv" download { "Télécharger en CSV" } }
            div.card { dl {
                dt { "Signalements" } dd data-testid="stat-total" { (stats.total) }
                dt { "Délai médian de première prise en charge" } dd { (hours_text(stats.median_first_handling_hours)) }
                dt { "Délai médian de résolution" } dd { (hours_text(stats.median_resolution_hours)) }
                dt { "Part close dans le délai annoncé" } dd { (share) " (" (within) " / " (closed) ")" }
            } }
            @for (title, rows) in labelled(stats, taxonomy) { (chart(&title, &rows)) }
        },
    )
}

pub async fn csv(
    State(state): State<AppState>,
    Authed(user): Authed,
) -> Result<Response, PageError> {
    let taxonomy = state.taxonomy();
    let scope = Scope::of(&user);
    let tax = taxonomy.clone();
    let stats = db(&state, move |conn| Ok(compute(conn, &scope, &tax)?)).await?;
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let io = |e: ::csv::Error| PageError::Internal(e.to_string());
    writer
        .write_record(["dimension", "valeur", "nombre"])
        .map_err(io)?;
    for (dimension, rows) in ["categorie", "etat", "service", "mois"]
        .iter()
        .zip(labelled(&stats, &taxonomy))
    {
        for (label, count) in rows.1 {
            writer
                .write_record([dimension.to_string(), label, count.to_string()])
                .map_err(io)?;
        }
    }
    let f = |h: Option<f64>| h.map(|h| format!("{h:.2}")).unwrap_or_default();
    writer
        .write_record(["total", "", &stats.total.to_string()])
        .map_err(io)?;
    writer
        .write_record([
            "median_premiere_prise_en_charge_heures",
            "",
            &f(stats.median_first_handling_hours),
        ])
        .map_err(io)?;
    writer
        .write_record([
            "median_resolution_heures",
            "",
            &f(stats.median_resolution_hours),
        ])
        .map_err(io)?;
    writer
        .write_record(["clos_dans_le_delai", "", &stats.within_delay.0.to_string()])
        .map_err(io)?;
    writer
        .write_record(["clos", "", &stats.within_delay.1.to_string()])
        .map_err(io)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"balade-statistiques.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

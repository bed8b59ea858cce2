//! Where a walk's incidents are. With a tile URL in the settings ("Fond de carte"), a Leaflet
//! map (the 1.9.4 copy vendored in assets/console/vendor/leaflet, compiled in and injected once
//! through `document::eval`) with numbered markers fitted in view. Without one (offline, CI), a
//! plain plan: the Lambert-93 x/y (metres, EPSG:2154) drawn as numbered points in an inline SVG
//! with a scale bar, no network and no JavaScript, labelled honestly as a "plan". The numbers
//! match the order of the walk's incident list just below.

use balade_protocol::incident::Lambert93;
use dioxus::prelude::*;

use crate::ui::i18n::tx;
use crate::ui::model::QueueRow;
use crate::ui::use_model;

/// Size of the SVG view box (the element itself scales with the page width).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 300.0;
/// Free border around the points, in view units.
const MARGIN: f64 = 30.0;
/// Smallest extent shown, in metres, so one incident (or a cluster) is not blown up.
const MIN_SPAN_M: f64 = 200.0;

/// One incident placed on the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanPoint {
    /// 1-based rank in the walk's incident list.
    pub number: usize,
    pub x: f64,
    pub y: f64,
}

/// Where the points go, and how many metres the scale bar stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub points: Vec<PlanPoint>,
    /// Length of the scale bar in view units, and what it measures in metres.
    pub scale_len: f64,
    pub scale_m: f64,
}

/// Projects the incidents (Lambert-93 stored at capture, else computed from lat/lon) and fits
/// them into the view box, north up, keeping the aspect ratio. Incidents outside metropolitan
/// France have no Lambert-93 x/y and are left out. `None` when no incident can be placed.
pub fn plan(rows: &[QueueRow]) -> Option<Plan> {
    let placed: Vec<(usize, Lambert93)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let xy = row
                .incident
                .lambert93
                .or_else(|| crate::engine::place::lambert93(&row.incident.position))?;
            Some((i + 1, xy))
        })
        .collect();
    if placed.is_empty() {
        return None;
    }
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, p) in &placed {
        min_x = min_x.min(p.x);
        max_x = max_x.max(p.x);
        min_y = min_y.min(p.y);
        max_y = max_y.max(p.y);
    }
    let inner_w = WIDTH - 2.0 * MARGIN;
    let inner_h = HEIGHT - 2.0 * MARGIN;
    // Metres per view unit: the larger of the two fits, never below the minimum span.
    let span_x = (max_x - min_x).max(MIN_SPAN_M * inner_w / inner_h);
    let span_y = (max_y - min_y).max(MIN_SPAN_M);
    let metres_per_unit = (span_x / inner_w).max(span_y / inner_h);
    let centre_x = (min_x + max_x) / 2.0;
    let centre_y = (min_y + max_y) / 2.0;
    let points = placed
        .into_iter()
        .map(|(number, p)| PlanPoint {
            number,
            x: WIDTH / 2.0 + (p.x - centre_x) / metres_per_unit,
            // Lambert-93 y grows northwards, SVG y downwards.
            y: HEIGHT / 2.0 - (p.y - centre_y) / metres_per_unit,
        })
        .collect();
    let scale_m = round_scale(metres_per_unit * WIDTH / 5.0);
    Some(Plan {
        points,
        scale_len: scale_m / metres_per_unit,
        scale_m,
    })
}

/// The largest 1, 2 or 5 × 10ⁿ metres not above `metres`.
fn round_scale(metres: f64) -> f64 {
    let magnitude = 10f64.powf(metres.max(1.0).log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|m| *m <= metres)
        .unwrap_or(magnitude)
}

/// Leaflet 1.9.4 (BSD-2-Clause, see assets/console/vendor/leaflet/LICENSE).
const LEAFLET_JS: &str = include_str!("../../../../assets/console/vendor/leaflet/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../../../../assets/console/vendor/leaflet/leaflet.css");

/// The script that loads Leaflet (once per page) and draws the map in `#walk-map`.
pub fn map_script(tile_url: &str, rows: &[QueueRow]) -> String {
    let points: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({"n": i + 1, "lat": r.incident.position.lat, "lon": r.incident.position.lon})
        })
        .collect();
    let js = serde_json::Value::from(LEAFLET_JS);
    let css = serde_json::Value::from(LEAFLET_CSS);
    let tiles = serde_json::Value::from(tile_url);
    let points = serde_json::Value::from(points);
    format!(
        r##"(() => {{
  if (!window.L) {{ (0, eval)({js}); }}
  if (!document.getElementById("balade-leaflet-css")) {{
    const style = document.createElement("style");
    style.id = "balade-leaflet-css";
    style.textContent = {css};
    document.head.appendChild(style);
  }}
  const el = document.getElementById("walk-map");
  const pts = {points};
  if (!el || !pts.length) return;
  if (el._baladeMap) el._baladeMap.remove();
  const map = L.map(el);
  L.tileLayer({tiles}, {{ maxZoom: 19 }}).addTo(map);
  for (const p of pts) {{
    L.circleMarker([p.lat, p.lon], {{ radius: 12, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 }})
      .bindTooltip(String(p.n), {{ permanent: true, direction: "center", className: "map-number" }})
      .addTo(map);
  }}
  map.fitBounds(L.latLngBounds(pts.map(p => [p.lat, p.lon])).pad(0.3), {{ maxZoom: 17 }});
  el._baladeMap = map;
  el.dataset.drawn = String(pts.length);
}})();"##
    )
}

/// The map (with a tile URL) or the plan of the given incidents; nothing when there is none.
#[component]
pub fn WalkPlan(rows: Vec<QueueRow>) -> Element {
    let m = use_model();
    let m = m.read();
    let lang = m.lang();
    let tile_url = m.settings.tile_url.trim().to_string();
    drop(m);
    if rows.is_empty() {
        return rsx! {};
    }
    if !tile_url.is_empty() {
        let n = rows.len();
        let script = map_script(&tile_url, &rows);
        return rsx! {
            figure { class: "walk-plan",
                div { id: "walk-map", class: "walk-map", "data-testid": "walk-map", "data-markers": "{n}",
                    onmounted: move |_| { document::eval(&script); },
                }
                figcaption { class: "muted",
                    "{n} "
                    {tx(lang, "signalement(s) sur la carte ; les numéros renvoient à la liste.", "report(s) on the map; numbers refer to the list.")}
                }
            }
        };
    }
    let Some(plan) = plan(&rows) else {
        return rsx! {};
    };
    let scale_label = if plan.scale_m >= 1000.0 {
        format!("{} km", plan.scale_m / 1000.0)
    } else {
        format!("{} m", plan.scale_m)
    };
    let scale_x2 = MARGIN / 2.0 + plan.scale_len;
    let n = plan.points.len();
    rsx! {
        figure { class: "walk-plan", "data-testid": "walk-plan",
            svg {
                view_box: "0 0 {WIDTH} {HEIGHT}",
                "preserveAspectRatio": "xMidYMid meet",
                role: "img",
                "aria-label": tx(lang, "Plan des signalements", "Plan of the reports"),
                rect { class: "plan-bg", x: "0", y: "0", width: "{WIDTH}", height: "{HEIGHT}" }
                for p in plan.points {
                    g { key: "{p.number}", class: "plan-point", "data-testid": "plan-point",
                        circle { cx: "{p.x:.1}", cy: "{p.y:.1}", r: "11" }
                        text { x: "{p.x:.1}", y: "{p.y + 4.5:.1}", "text-anchor": "middle", "{p.number}" }
                    }
                }
                line { class: "plan-scale", x1: "{MARGIN / 2.0}", y1: "{HEIGHT - 12.0}", x2: "{scale_x2:.1}", y2: "{HEIGHT - 12.0}" }
                text { class: "plan-scale-label", x: "{MARGIN / 2.0}", y: "{HEIGHT - 18.0}", "{scale_label}" }
                text { class: "plan-north", x: "{WIDTH - 16.0}", y: "20", "text-anchor": "middle", "N ↑" }
            }
            figcaption { class: "muted",
                {tx(lang, "Plan (sans fond de carte, Lambert-93) : ", "Plan (no background map, Lambert-93): ")}
                "{n} "
                {tx(lang, "signalement(s) ; les numéros renvoient à la liste.", "report(s); numbers refer to the list.")}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_bar_is_a_round_length() {
        assert_eq!(round_scale(73.0), 50.0);
        assert_eq!(round_scale(180.0), 100.0);
        assert_eq!(round_scale(260.0), 200.0);
        assert_eq!(round_scale(1234.0), 1000.0);
    }
}

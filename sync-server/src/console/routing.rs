//! Routing rules: category (+ optional neighbourhood polygon) → default service or outside body,
//! applied when a request arrives through [`crate::actions::set_routing_hook`].
//!
//! Order: active rules of the request's category, lowest `priority` first; among equal
//! priorities a rule with a polygon that contains the point beats a rule without one. A rule
//! whose polygon does not contain the point is skipped. No rule → the taxonomy's default.

use balade_protocol::taxonomy::Taxonomy;
use rusqlite::Connection;

use crate::store::requests::RequestRow;

/// A stored routing rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub category: String,
    pub neighbourhood: Option<String>,
    pub polygon_json: Option<String>,
    pub recipient_code: String,
    pub priority: i64,
    pub active: bool,
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Rule>> {
    conn.prepare_cached(
        "SELECT id, category, neighbourhood, polygon_json, recipient_code, priority, active
         FROM console_routing_rules ORDER BY category, priority, id",
    )?
    .query_map([], |r| {
        Ok(Rule {
            id: r.get(0)?,
            category: r.get(1)?,
            neighbourhood: r.get(2)?,
            polygon_json: r.get(3)?,
            recipient_code: r.get(4)?,
            priority: r.get(5)?,
            active: r.get(6)?,
        })
    })?
    .collect()
}

/// One polygon: its outer ring then its holes, each a list of (lon, lat).
pub type Polygon = Vec<Vec<(f64, f64)>>;

/// Rings of a GeoJSON Polygon or MultiPolygon geometry (or a Feature holding one), as
/// (lon, lat) lists. None when the JSON is not such a geometry.
pub fn parse_polygons(json: &str) -> Option<Vec<Polygon>> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let geometry = if value.get("type")?.as_str()? == "Feature" {
        value.get("geometry")?.clone()
    } else {
        value
    };
    let ring = |ring: &serde_json::Value| -> Option<Vec<(f64, f64)>> {
        ring.as_array()?
            .iter()
            .map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect::<Option<Vec<_>>>()
            .filter(|r| r.len() >= 3)
    };
    let polygon = |poly: &serde_json::Value| -> Option<Polygon> {
        poly.as_array()?
            .iter()
            .map(ring)
            .collect::<Option<Vec<_>>>()
            .filter(|p| !p.is_empty())
    };
    let coordinates = geometry.get("coordinates")?;
    match geometry.get("type")?.as_str()? {
        "Polygon" => Some(vec![polygon(coordinates)?]),
        "MultiPolygon" => coordinates.as_array()?.iter().map(polygon).collect(),
        _ => None,
    }
}

fn ring_contains(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// True when the point is inside one polygon's outer ring and outside its holes.
pub fn contains(polygons: &[Polygon], lon: f64, lat: f64) -> bool {
    polygons.iter().any(|rings| {
        ring_contains(&rings[0], lon, lat)
            && !rings[1..].iter().any(|hole| ring_contains(hole, lon, lat))
    })
}

/// The recipient the rules choose for a category at a point, if any.
pub fn choose(
    conn: &Connection,
    category: &str,
    lat: f64,
    lon: f64,
) -> rusqlite::Result<Option<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT polygon_json, recipient_code FROM console_routing_rules
         WHERE category = ?1 AND active = 1
         ORDER BY priority, polygon_json IS NULL, id",
    )?;
    let rules = statement
        .query_map([category], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (polygon, recipient) in rules {
        match polygon {
            None => return Ok(Some(recipient)),
            Some(json) => {
                if parse_polygons(&json).is_some_and(|p| contains(&p, lon, lat)) {
                    return Ok(Some(recipient));
                }
            }
        }
    }
    Ok(None)
}

/// The hook installed into the server's arrival path.
pub fn routing_hook(
    tx: &rusqlite::Transaction<'_>,
    _taxonomy: &Taxonomy,
    row: &RequestRow,
) -> Result<Option<String>, rusqlite::Error> {
    choose(tx, &row.category, row.lat, row.lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygons_contain_points_and_holes_do_not() {
        let square = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#;
        let polygons = parse_polygons(square).unwrap();
        for (lon, lat, inside) in [
            (1.0, 1.0, true),
            (5.0, 5.0, false),
            (11.0, 5.0, false),
            (9.9, 9.9, true),
        ] {
            assert_eq!(contains(&polygons, lon, lat), inside, "{lon} {lat}");
        }
        assert!(parse_polygons(r#"{"type":"Point","coordinates":[0,0]}"#).is_none());
        assert!(parse_polygons("not json").is_none());
        let feature = r#"{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}"#;
        assert!(parse_polygons(feature).is_some());
    }

    #[test]
    fn polygon_rules_beat_plain_rules_and_outside_points_fall_through() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations()
            .unwrap()
            .to_latest(&mut conn)
            .unwrap();
        let polygon = r#"{"type":"Polygon","coordinates":[[[-1.2,46.1],[-1.1,46.1],[-1.1,46.2],[-1.2,46.2],[-1.2,46.1]]]}"#;
        conn.execute_batch(&format!(
            "INSERT INTO console_routing_rules (category, recipient_code, created_at) VALUES ('voirie', 'signalisation', '');
             INSERT INTO console_routing_rules (category, polygon_json, recipient_code, created_at)
                 VALUES ('voirie', '{polygon}', 'police_municipale', '');"
        ))
        .unwrap();
        assert_eq!(
            choose(&conn, "voirie", 46.15, -1.15).unwrap().as_deref(),
            Some("police_municipale")
        );
        assert_eq!(
            choose(&conn, "voirie", 45.0, -1.15).unwrap().as_deref(),
            Some("signalisation")
        );
        assert_eq!(choose(&conn, "proprete", 46.15, -1.15).unwrap(), None);
    }
}

//! Street furniture against the city's real layers (../shared/data/larochelle/geojson): every
//! object is found at its own position with the right label, radius queries agree with a
//! brute-force search, and imports report bad rows by line.

use std::path::PathBuf;

use balade_protocol::geo::RowProblem;
use balade_protocol::geo::distance_m;
use balade_protocol::geo::furniture::{self, FurnitureIndex};
use balade_protocol::incident::Position;

/// (kind, GeoJSON layer, id property), as documented in assets/furniture/SOURCE.txt.
const LAYERS: [(&str, &str, &str); 5] = [
    ("banc", "mu_banc_wgs84", "banc_id"),
    ("corbeille", "mu_corbeille_wgs84", "corb_id"),
    ("abribus", "mu_abribus_wgs84", "id"),
    ("poteau_incendie", "eau_poteau_incendie_wgs84", "id"),
    ("avaloir", "ep_ouvrage_engouffrement", "oe_id"),
];

/// (kind, id, position, properties) of every object of the city's layers.
fn city_objects() -> Vec<(&'static str, String, Position, serde_json::Value)> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/larochelle/geojson");
    let mut objects = Vec::new();
    for (kind, layer, id_key) in LAYERS {
        let text = std::fs::read_to_string(dir.join(format!("{layer}.geojson"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        for feature in json["features"].as_array().unwrap() {
            let coordinates = &feature["geometry"]["coordinates"];
            let position = Position::new(
                coordinates[1].as_f64().unwrap(),
                coordinates[0].as_f64().unwrap(),
                None,
            )
            .unwrap();
            let properties = feature["properties"].clone();
            objects.push((
                kind,
                properties[id_key].as_str().unwrap().to_string(),
                position,
                properties,
            ));
        }
    }
    objects
}

fn at(lat: f64, lon: f64) -> Position {
    Position::new(lat, lon, None).unwrap()
}

#[test]
fn shipped_furniture_holds_every_object_of_the_five_layers() {
    let (index, problems) =
        FurnitureIndex::from_csv(furniture::LA_ROCHELLE_FURNITURE_CSV.as_bytes());
    assert_eq!(problems, Vec::<RowProblem>::new());
    let objects = city_objects();
    assert_eq!(index.assets().len(), objects.len());
    for (kind, expected) in [
        ("banc", 185),
        ("corbeille", 1379),
        ("abribus", 153),
        ("poteau_incendie", 855),
        ("avaloir", 7486),
    ] {
        assert_eq!(
            index.assets().iter().filter(|a| a.kind == kind).count(),
            expected,
            "{kind}"
        );
    }
    println!(
        "shipped furniture: {} objects, {} bytes",
        index.assets().len(),
        furniture::LA_ROCHELLE_FURNITURE_CSV.len()
    );
}

#[test]
fn every_real_object_is_found_at_its_own_position_with_its_label() {
    let index = furniture::la_rochelle();
    let mut worst_m = 0.0_f64;
    for (kind, id, position, properties) in city_objects() {
        let hits = index.within_of_kind(&position, 1.0, kind);
        let hit = hits
            .iter()
            .find(|hit| hit.asset.id == id)
            .unwrap_or_else(|| panic!("{kind} {id} not found at its position"));
        worst_m = worst_m.max(hit.distance_m);
        let label = &hit.asset.to_asset_ref().label;
        match kind {
            "banc" => assert_eq!(label, &format!("Banc n° {id}")),
            "corbeille" => assert_eq!(label, &format!("Corbeille n° {id}")),
            "avaloir" => assert_eq!(label, &format!("Avaloir n° {id}")),
            "abribus" => assert!(label.starts_with(&format!("Abribus n° {id}")), "{label}"),
            "poteau_incendie" => {
                let number = properties["pi_num"]
                    .as_str()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or(&id);
                assert!(
                    label.starts_with(&format!("Poteau incendie n° {}", number.trim())),
                    "{label}"
                );
            }
            _ => unreachable!(),
        }
    }
    // 6 decimals in the shipped file: about 0.1 m.
    assert!(worst_m < 0.1, "worst {worst_m} m");
    println!("furniture: worst distance to its own position {worst_m:.4} m");
}

#[test]
fn radius_queries_agree_with_a_brute_force_search() {
    let index = furniture::la_rochelle();
    let mut n_hits = 0;
    for lat_step in 0..20 {
        for lon_step in 0..20 {
            let position = at(
                46.140 + lat_step as f64 * 0.0024,
                -1.225 + lon_step as f64 * 0.0054,
            );
            let hits = index.within(&position, 50.0);
            let mut expected: Vec<(String, String)> = index
                .assets()
                .iter()
                .filter(|a| distance_m(&position, &a.position) <= 50.0)
                .map(|a| (a.kind.clone(), a.id.clone()))
                .collect();
            let mut found: Vec<(String, String)> = hits
                .iter()
                .map(|h| (h.asset.kind.clone(), h.asset.id.clone()))
                .collect();
            assert!(hits.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
            expected.sort();
            found.sort();
            assert_eq!(found, expected, "{position:?}");
            n_hits += hits.len();
        }
    }
    assert!(n_hits > 100, "the grid should meet objects: {n_hits}");
}

#[test]
fn known_objects_have_their_french_labels() {
    let index = furniture::la_rochelle();
    let shelter = index.get("abribus", "1").unwrap();
    assert_eq!(
        shelter.label,
        "Abribus n° 1 (105 AV DU 11 NOVEMBRE FACE – DIRECTION BANLIEUE)"
    );
    let hydrant = index.get("poteau_incendie", "1").unwrap().to_asset_ref();
    assert_eq!(hydrant.kind, "poteau_incendie");
    assert_eq!(
        hydrant.label,
        "Poteau incendie n° 300-001 (RN 237 Repentie (Avenue))"
    );
    assert_eq!(furniture::kind_label_fr("avaloir"), "Avaloir");
    assert_eq!(furniture::kind_label_fr("fontaine"), "fontaine");
}

#[test]
fn a_file_with_bad_rows_reports_them_by_line_and_loads_the_rest() {
    let file = "\
kind,id,label,lat,lon
banc,1,,45.0,1.0
banc,,,45.0,1.0
,2,,45.0,1.0
banc,3,,45.0,nord
# comment
banc,1,,45.1,1.1
fontaine,7,Fontaine Wallace,45.0001,1.0
banc,4,,45.0
corbeille,1,,45.0002,1.0
";
    let (index, problems) = FurnitureIndex::from_csv(file.as_bytes());
    let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 7, 9], "{problems:#?}");
    assert!(
        problems[3].message.contains("ligne 2"),
        "{}",
        problems[3].message
    );
    let hits = index.within(&at(45.0, 1.0), 50.0);
    let labels: Vec<&str> = hits.iter().map(|h| h.asset.label.as_str()).collect();
    assert_eq!(
        labels,
        vec!["Banc n° 1", "Fontaine Wallace", "Corbeille n° 1"]
    );
    assert!(index.within(&at(46.0, 1.0), 1000.0).is_empty());
}

//! The street referential against the city's real data (../shared/data/larochelle): the shipped
//! file, nearest-street answers checked against a brute-force search, name search, and imports
//! of files with bad rows.

use std::path::PathBuf;

use balade_protocol::geo::RowProblem;
use balade_protocol::geo::distance_m;
use balade_protocol::geo::streets::{self, NumberRanges, StreetIndex};
use balade_protocol::incident::Position;

fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/larochelle")
}

/// The city's street-name points: (voie_id, name, position), straight from the GeoJSON.
fn city_name_points() -> Vec<(Option<String>, String, Position)> {
    let path = shared_data().join("geojson/voirie_filaire_toponymie_wgs84.geojson");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| {
            let properties = &feature["properties"];
            let coordinates = &feature["geometry"]["coordinates"];
            (
                properties["voie_id"].as_str().map(str::to_string),
                properties["voie_lib"].as_str().unwrap().trim().to_string(),
                Position::new(
                    coordinates[1].as_f64().unwrap(),
                    coordinates[0].as_f64().unwrap(),
                    None,
                )
                .unwrap(),
            )
        })
        .collect()
}

fn at(lat: f64, lon: f64) -> Position {
    Position::new(lat, lon, None).unwrap()
}

#[test]
fn shipped_referential_loads_every_city_point_without_problems() {
    let (index, problems) = StreetIndex::from_csv(streets::LA_ROCHELLE_STREETS_CSV.as_bytes());
    assert_eq!(problems, Vec::<RowProblem>::new());
    assert_eq!(index.n_points(), city_name_points().len());
    assert_eq!(index.n_points(), 1746);
    assert!(
        index.streets().iter().any(|s| s.points.is_empty()),
        "name-only streets are kept"
    );
    println!(
        "shipped streets: {} streets, {} points, {} bytes",
        index.streets().len(),
        index.n_points(),
        streets::LA_ROCHELLE_STREETS_CSV.len()
    );
}

#[test]
fn each_city_name_point_finds_its_own_street_at_zero_metres() {
    let index = streets::la_rochelle();
    let mut worst_m = 0.0_f64;
    for (voie_id, name, position) in city_name_points() {
        let (street, distance) = index.nearest_street(&position).unwrap();
        // Two streets may share a label point (a square and the street around it): then the
        // nearest may be the other one, but at the same place.
        if street.name != name {
            let other = index
                .streets()
                .iter()
                .find(|s| s.name == name && s.voie_id == voie_id)
                .unwrap();
            let own = other
                .points
                .iter()
                .map(|p| distance_m(&position, p))
                .fold(f64::INFINITY, f64::min);
            assert!(
                own <= distance + 0.05,
                "{name}: found {} at {distance} m",
                street.name
            );
        }
        worst_m = worst_m.max(distance);
    }
    // Coordinates are stored with 7 decimals (about 1 cm).
    assert!(worst_m < 0.05, "worst distance {worst_m} m");
    println!("name points: worst distance to their own street {worst_m:.4} m");
}

#[test]
fn nearest_street_agrees_with_a_brute_force_search_across_the_city() {
    let index = streets::la_rochelle();
    let points = city_name_points();
    let mut n_checked = 0;
    for lat_step in 0..30 {
        for lon_step in 0..30 {
            let position = at(
                46.134 + lat_step as f64 * 0.0018,
                -1.233 + lon_step as f64 * 0.004,
            );
            let expected_m = points
                .iter()
                .map(|(_, _, p)| distance_m(&position, p))
                .fold(f64::INFINITY, f64::min);
            let address = index.nearest(&position).unwrap();
            let found_m = address.distance_m.unwrap();
            assert!(
                (found_m - expected_m).abs() < 0.01,
                "{position:?}: {found_m} vs {expected_m}"
            );
            n_checked += 1;
        }
    }
    assert_eq!(n_checked, 900);
}

#[test]
fn a_point_between_two_streets_gets_the_nearer_one() {
    let index = streets::la_rochelle();
    let hoche = index.search("rue hoche", 1)[0].street.points[0];
    // A point 30 m north of the Rue HOCHE label and far from any other label would be HOCHE;
    // find the nearest other street's label and walk from HOCHE towards it.
    let (other, _) = index
        .streets_within(&hoche, 500.0)
        .into_iter()
        .find(|(s, _)| s.name != "Rue HOCHE")
        .unwrap();
    let other_point = other.points[0];
    for (fraction, expected) in [(0.3, "Rue HOCHE"), (0.7, other.name.as_str())] {
        let position = at(
            hoche.lat + (other_point.lat - hoche.lat) * fraction,
            hoche.lon + (other_point.lon - hoche.lon) * fraction,
        );
        let address = index.nearest(&position).unwrap();
        assert_eq!(
            address.street.as_deref(),
            Some(expected),
            "fraction {fraction}"
        );
    }
    let address = index.nearest(&hoche).unwrap();
    assert_eq!(address.label, "Rue HOCHE, 17000 La Rochelle");
    assert_eq!(address.fantoir.as_deref(), Some("4140"));
    assert_eq!(address.postcode.as_deref(), Some("17000"));
    assert_eq!(address.city.as_deref(), Some("La Rochelle"));
    assert!(!address.edited);
    // Paris is 400 km away: nearest() still answers, nearest_within() does not.
    let paris = at(48.8566, 2.3522);
    assert!(index.nearest(&paris).unwrap().distance_m.unwrap() > 390_000.0);
    assert_eq!(index.nearest_within(&paris, 1_000.0), None);
    assert_eq!(
        index.nearest_within(&hoche, 1.0).unwrap().label,
        "Rue HOCHE, 17000 La Rochelle"
    );
}

#[test]
fn streets_within_a_radius_are_distinct_and_nearest_first() {
    let index = streets::la_rochelle();
    let centre = at(46.1591, -1.1520);
    let found = index.streets_within(&centre, 300.0);
    assert!(found.len() >= 3, "{}", found.len());
    assert!(found.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(found.iter().all(|(_, d)| *d <= 300.0));
    let labels: std::collections::HashSet<_> = found
        .iter()
        .map(|(s, _)| (s.voie_id.clone(), s.name.clone()))
        .collect();
    assert_eq!(labels.len(), found.len());
    assert_eq!(
        found[0].0.name,
        index.nearest_street(&centre).unwrap().0.name
    );
}

#[test]
fn search_ignores_accents_and_case_and_ranks_whole_names_first() {
    let index = streets::la_rochelle();
    for (query, expected_first) in [
        ("rue hoche", "Rue HOCHE"),
        ("RUE HOCHE", "Rue HOCHE"),
        ("hoche", "Rue HOCHE"),
        ("avenue des corsaires", "Avenue DES CORSAIRES"),
        ("corsaires", "Avenue DES CORSAIRES"),
        ("av pierre coub", "Avenue PIERRE DE COUBERTIN"),
        ("crapaudières", "Avenue DES CRAPAUDIERES"),
        ("avenue des crapaudieres", "Avenue DES CRAPAUDIERES"),
    ] {
        let hits = index.search(query, 10);
        assert_eq!(
            hits.first().map(|h| h.street.name.as_str()),
            Some(expected_first),
            "{query}"
        );
    }
    // The city lists this avenue twice ("Avenue des Crapaudières" has no position): shown once.
    let hits = index.search("crapaudieres", 10);
    assert_eq!(
        hits.iter()
            .filter(|h| h.street.name.to_lowercase().contains("avenue des crap"))
            .count(),
        1
    );
    let hits = index.search("coubertin", 10);
    assert!(hits.len() >= 2 && hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(index.search("zzzzqq", 10).is_empty());
    assert!(index.search("  ", 10).is_empty());
    assert_eq!(index.search("rue", 5).len(), 5);
}

#[test]
fn a_file_with_bad_rows_reports_them_by_line_and_loads_the_rest() {
    let file = "\
# another city's streets
voie_id,name,lat,lon,postcode,city,fantoir
10,Rue du Port,45.0000,1.0000,19100,Brive,0010
11,Rue sans position,,,19100,Brive,
12,Rue fausse,quarante,1.0,19100,Brive,
13,,45.1,1.1,19100,Brive,
14,Rue du Pôle,95.0,1.0,19100,Brive,
15,Rue courte,45.2
# a comment in the middle
16,Place Haute,45.0010,1.0010,19100,Brive,0016
17,Rue moitié,45.1,,19100,Brive,
10,Rue du Port,45.0020,1.0000,19100,Brive,0010
";
    let (index, problems) = StreetIndex::from_csv(file.as_bytes());
    let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![5, 6, 7, 8, 11], "{problems:#?}");
    assert!(problems[0].message.contains("quarante"));
    assert!(problems[3].message.contains("champs"));
    assert_eq!(index.streets().len(), 3);
    assert_eq!(index.n_points(), 3);
    let port = index.nearest(&at(45.0019, 1.0)).unwrap();
    assert_eq!(port.label, "Rue du Port, 19100 Brive");
    assert_eq!(
        index
            .streets()
            .iter()
            .find(|s| s.name == "Rue du Port")
            .unwrap()
            .points
            .len(),
        2
    );
    assert_eq!(
        index.search("sans position", 5)[0].street.name,
        "Rue sans position"
    );
}

#[test]
fn a_file_without_the_required_columns_is_one_problem() {
    let (index, problems) =
        StreetIndex::from_csv("street,latitude,longitude\nRue,45,1\n".as_bytes());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 1);
    assert!(problems[0].message.contains("name") && problems[0].message.contains("lat"));
    assert!(index.streets().is_empty());
    assert!(index.nearest(&at(45.0, 1.0)).is_none());
}

#[test]
fn house_number_ranges_load_and_answer() {
    let (ranges, problems) =
        NumberRanges::from_csv(streets::LA_ROCHELLE_NUMBER_RANGES_CSV.as_bytes());
    assert_eq!(problems, Vec::<RowProblem>::new());
    assert_eq!(ranges.len(), 2634);
    // Rue HOCHE (voie 1) has both sides.
    assert_eq!(ranges.has_number("1", 12), Some(true));
    assert_eq!(ranges.has_number("1", 13), Some(true));
    assert_eq!(ranges.has_number("no-such-street", 1), None);
    let file = "voie_id,fantoir,side,first,first_suffix,last,last_suffix\n\
                7,0007,even,2,,40,\n7,0007,left,1,,9,\n7,0007,odd,9,,1,\n7,0007,odd,1,,x,\n";
    let (ranges, problems) = NumberRanges::from_csv(file.as_bytes());
    assert_eq!(
        problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert_eq!(ranges.has_number("7", 40), Some(true));
    assert_eq!(ranges.has_number("7", 42), Some(false));
    assert_eq!(ranges.has_number("7", 3), Some(false));
}

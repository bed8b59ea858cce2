//! Lambert-93 accuracy against real published pairs: the 760 La Rochelle points the city
//! publishes in both systems, and the WGS84/RGF93 ↔ EPSG:2154 rows of the IGN, CTS and
//! yageek/lambert reference sets (../shared/data/lambert93, see its SOURCE.txt).

use std::path::PathBuf;

use balade_protocol::geo::lambert93::{from_lambert93, to_lambert93};
use balade_protocol::incident::{Lambert93, Position};

const TOLERANCE_M: f64 = 0.01;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/lambert93")
}

/// Ground distance between two close positions, in metres (local flat approximation on
/// GRS80 radii of curvature: exact to far below a millimetre at these separations).
fn ground_error_m(a: &Position, b: &Position) -> f64 {
    let a_axis = 6_378_137.0_f64;
    let e2 = 0.006_694_380_022_900_8_f64;
    let phi = a.lat.to_radians();
    let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
    let meridian = a_axis * (1.0 - e2) / w.powi(3);
    let normal = a_axis / w;
    let dn = (b.lat - a.lat).to_radians() * meridian;
    let de = (b.lon - a.lon).to_radians() * normal * phi.cos();
    dn.hypot(de)
}

struct Errors {
    forward_max_m: f64,
    inverse_max_m: f64,
}

fn check_pair(lat: f64, lon: f64, x: f64, y: f64, errors: &mut Errors, label: &str) {
    let position = Position::new(lat, lon, None).unwrap();
    let projected = to_lambert93(&position);
    let forward = (projected.x - x).hypot(projected.y - y);
    let back = from_lambert93(Lambert93 { x, y }).unwrap_or_else(|e| panic!("{label}: {e}"));
    let inverse = ground_error_m(&position, &back);
    assert!(forward <= TOLERANCE_M, "{label}: forward error {forward} m");
    assert!(inverse <= TOLERANCE_M, "{label}: inverse error {inverse} m");
    errors.forward_max_m = errors.forward_max_m.max(forward);
    errors.inverse_max_m = errors.inverse_max_m.max(inverse);
}

#[test]
fn all_760_la_rochelle_points_agree_within_a_centimetre_both_ways() {
    let path = data_dir().join("larochelle_city_lambert93_wgs84_pairs.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (lon_i, lat_i, x_i, y_i) = (
        column("lon_wgs84"),
        column("lat_wgs84"),
        column("x_lambert93"),
        column("y_lambert93"),
    );
    let mut errors = Errors {
        forward_max_m: 0.0,
        inverse_max_m: 0.0,
    };
    let mut n_points = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let number = |i: usize| record[i].parse::<f64>().unwrap();
        let label = format!("{} {}", &record[0], &record[1]);
        check_pair(
            number(lat_i),
            number(lon_i),
            number(x_i),
            number(y_i),
            &mut errors,
            &label,
        );
        n_points += 1;
    }
    assert_eq!(n_points, 760);
    println!(
        "La Rochelle, {n_points} points: max forward error {:.6} m, max inverse error {:.6} m",
        errors.forward_max_m, errors.inverse_max_m
    );
}

#[test]
fn published_reference_pairs_agree_within_a_centimetre() {
    let mut errors = Errors {
        forward_max_m: 0.0,
        inverse_max_m: 0.0,
    };
    // orbisgis/cts crstransform.csv rows 1 and 21 (EPSG:4326 <-> EPSG:2154, 0.01 m), read
    // from the file; the NTF rows need a datum grid and do not apply.
    let cts =
        std::fs::read_to_string(data_dir().join("cts_crstransform_lambert93_rows.csv")).unwrap();
    let mut n_cts = 0;
    for line in cts.lines().skip(1) {
        let fields: Vec<&str> = line.split(';').collect();
        let value = |i: usize| fields[i].parse::<f64>().unwrap();
        match (fields[1], fields[4]) {
            ("EPSG:4326", "EPSG:2154") => {
                check_pair(value(3), value(2), value(5), value(6), &mut errors, line)
            }
            ("EPSG:2154", "EPSG:4326") => {
                check_pair(value(6), value(5), value(2), value(3), &mut errors, line)
            }
            _ => continue,
        }
        n_cts += 1;
    }
    assert_eq!(n_cts, 2);
    // IGN constants: the false origin and the pole (Xs, Ys) of EPSG:2154.
    let origin = to_lambert93(&Position::new(46.5, 3.0, None).unwrap());
    assert!((origin.x - 700_000.0).abs() < 1e-6 && (origin.y - 6_600_000.0).abs() < 1e-6);
    let pole = to_lambert93(&Position::new(90.0, 3.0, None).unwrap());
    let pole_error = (pole.x - 700_000.0).hypot(pole.y - 12_655_612.049_9);
    assert!(pole_error < TOLERANCE_M, "pole error {pole_error} m");
    // yageek/lambert testBugLambert93: EPSG:2154 -> WGS84, published to 1e-5 degree.
    let back = from_lambert93(Lambert93 {
        x: 668_832.538_4,
        y: 6_950_138.728_5,
    })
    .unwrap();
    assert!(
        (back.lon - 2.56865).abs() < 1e-5 && (back.lat - 49.64961).abs() < 1e-5,
        "{back:?}"
    );
    println!(
        "reference pairs: max forward error {:.6} m, max inverse error {:.6} m, pole {:.6} m",
        errors.forward_max_m, errors.inverse_max_m, pole_error
    );
}

#[test]
fn round_trips_across_france_lose_less_than_a_millimetre() {
    let mut worst_m = 0.0_f64;
    for lat_step in 0..=20 {
        for lon_step in 0..=20 {
            let lat = 41.4 + lat_step as f64 * 0.48;
            let lon = -5.0 + lon_step as f64 * 0.72;
            let position = Position::new(lat, lon, None).unwrap();
            let back = from_lambert93(to_lambert93(&position)).unwrap();
            worst_m = worst_m.max(ground_error_m(&position, &back));
        }
    }
    assert!(worst_m < 0.001, "worst round trip {worst_m} m");
}

/// Parses "2", "-1.5" or PROJ's "83d10'W" / "43d19'N" notation into degrees.
fn parse_angle(text: &str) -> f64 {
    let Some((degrees, rest)) = text.split_once('d') else {
        return text.parse().unwrap();
    };
    let (minutes, hemisphere) = rest.split_once('\'').unwrap();
    let value = degrees.parse::<f64>().unwrap() + minutes.parse::<f64>().unwrap() / 60.0;
    if hemisphere == "W" || hemisphere == "S" {
        -value
    } else {
        value
    }
}

/// The library itself against PROJ's own Lambert conic conformal tests (GRS80, sphere,
/// Clarke 1866 in US feet): every `accept`/`expect` pair of the excerpt, both directions,
/// within the file's tolerance (inverse errors turned into metres on the ground).
#[test]
fn proj4rs_passes_the_proj_lcc_test_vectors() {
    let gie = std::fs::read_to_string(data_dir().join("proj_lcc_tests_excerpt.gie")).unwrap();
    let (mut operation, mut tolerance_m, mut inverse) = (String::new(), 0.0, false);
    let mut accepted: Option<(f64, f64)> = None;
    let (mut n_checked, mut worst_ratio) = (0, 0.0_f64);
    for line in gie.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("operation") => {
                operation = line["operation".len()..].trim().to_string();
                inverse = false;
            }
            Some("tolerance") => {
                let value: f64 = words.next().unwrap().parse().unwrap();
                tolerance_m = match words.next() {
                    Some("mm") => value / 1000.0,
                    Some("cm") => value / 100.0,
                    _ => value,
                };
            }
            Some("direction") => inverse = words.next() == Some("inverse"),
            Some("accept") => {
                let a = words.next().unwrap();
                let b = words.next().unwrap();
                accepted = Some(if inverse {
                    (a.parse().unwrap(), b.parse().unwrap())
                } else {
                    (parse_angle(a), parse_angle(b))
                });
            }
            Some("expect") => {
                let (a, b) = accepted.take().unwrap();
                let words: Vec<&str> = words.collect();
                let ellps = operation
                    .split_whitespace()
                    .find(|w| w.starts_with("+ellps="))
                    .unwrap();
                let geographic =
                    proj4rs::Proj::from_proj_string(&format!("+proj=longlat {ellps}")).unwrap();
                let projected = proj4rs::Proj::from_proj_string(&operation).unwrap();
                let error_m = if inverse {
                    let mut point = (a, b, 0.0);
                    proj4rs::transform::transform(&projected, &geographic, &mut point).unwrap();
                    let expected =
                        Position::new(parse_angle(words[1]), parse_angle(words[0]), None).unwrap();
                    let found =
                        Position::new(point.1.to_degrees(), point.0.to_degrees(), None).unwrap();
                    ground_error_m(&expected, &found)
                } else {
                    let mut point = (a.to_radians(), b.to_radians(), 0.0);
                    proj4rs::transform::transform(&geographic, &projected, &mut point).unwrap();
                    let to_m = if operation.contains("+units=us-ft") {
                        1200.0 / 3937.0
                    } else {
                        1.0
                    };
                    let (x, y): (f64, f64) = (words[0].parse().unwrap(), words[1].parse().unwrap());
                    (point.0 - x).hypot(point.1 - y) * to_m
                };
                // Expected angles are printed to 1e-9 degree (0.11 mm): allow that rounding.
                let allowed_m = if inverse {
                    tolerance_m + 0.000_12
                } else {
                    tolerance_m
                };
                assert!(
                    error_m <= allowed_m,
                    "{operation} {line}: {error_m} m > {allowed_m} m"
                );
                worst_ratio = worst_ratio.max(error_m / allowed_m);
                n_checked += 1;
            }
            _ => {}
        }
    }
    assert!(n_checked >= 30, "{n_checked} vectors");
    println!(
        "PROJ lcc vectors: {n_checked} checked, worst error {:.0} % of tolerance",
        worst_ratio * 100.0
    );
}

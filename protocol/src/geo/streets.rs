//! The city's street referential, offline: which street is nearest to a position (the
//! incident's default address) and which streets match what the user types (to correct it).
//!
//! The referential is a CSV of street-name points (see `assets/streets/la-rochelle-streets.csv`
//! for the documented format): columns `name`, `lat`, `lon` are required, `voie_id`, `fantoir`,
//! `postcode`, `city` optional, in any order; `#` lines are comments. A street may have several
//! points (long streets are labelled several times); a row with empty `lat` and `lon` is a
//! street known by name only (searchable, never "nearest").
//!
//! **Boundary:** no I/O. Callers hand over a reader or use the compiled-in La Rochelle data.
//! **Limit:** the city publishes label points, not street centre lines, so "nearest street"
//! means "nearest street-name point"; `distance_m` says how far that point is.
//!
//! ```
//! use balade_protocol::geo::streets;
//! use balade_protocol::incident::Position;
//! let index = streets::la_rochelle();
//! let address = index.nearest(&Position::new(46.169_108, -1.157_027, None).unwrap()).unwrap();
//! assert_eq!(address.label, "Rue HOCHE, 17000 La Rochelle");
//! assert_eq!(index.search("rue hoche", 5)[0].street.name, "Rue HOCHE");
//! ```

use std::collections::HashMap;
use std::io::Read;

use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::geo::table::for_each_row;
use crate::geo::{RowProblem, chord_for_distance, distance_m, parse_position, unit_vector};
use crate::incident::{Address, Position};
use crate::text::fold;

/// The shipped La Rochelle street referential (format above), compiled in for offline use.
pub const LA_ROCHELLE_STREETS_CSV: &str =
    include_str!("../../../assets/streets/la-rochelle-streets.csv");

/// The shipped La Rochelle house-number ranges (see [`NumberRanges`]).
pub const LA_ROCHELLE_NUMBER_RANGES_CSV: &str =
    include_str!("../../../assets/streets/la-rochelle-number-ranges.csv");

/// Loads the shipped La Rochelle referential.
pub fn la_rochelle() -> StreetIndex {
    let (index, problems) = StreetIndex::from_csv(LA_ROCHELLE_STREETS_CSV.as_bytes());
    debug_assert!(
        problems.is_empty(),
        "shipped streets have problems: {problems:?}"
    );
    index
}

/// Loads the shipped La Rochelle house-number ranges.
pub fn la_rochelle_number_ranges() -> NumberRanges {
    let (ranges, problems) = NumberRanges::from_csv(LA_ROCHELLE_NUMBER_RANGES_CSV.as_bytes());
    debug_assert!(
        problems.is_empty(),
        "shipped number ranges have problems: {problems:?}"
    );
    ranges
}

/// One street of the referential.
#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    /// The city's street id, when the file has one.
    pub voie_id: Option<String>,
    /// FANTOIR/RIVOLI code, when known.
    pub fantoir: Option<String>,
    /// As the city writes it, e.g. "Rue HOCHE".
    pub name: String,
    pub postcode: Option<String>,
    pub city: Option<String>,
    /// The street's name points (empty for a street known by name only).
    pub points: Vec<Position>,
    folded_name: String,
}

impl Street {
    /// "Rue HOCHE, 17000 La Rochelle" (parts that are unknown are left out).
    pub fn label(&self) -> String {
        let place = [self.postcode.as_deref(), self.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if place.is_empty() {
            self.name.clone()
        } else {
            format!("{}, {place}", self.name)
        }
    }

    /// The street as an incident address; `distance_m` when it was found from a position.
    pub fn to_address(&self, distance_m: Option<f64>) -> Address {
        Address {
            label: self.label(),
            street: Some(self.name.clone()),
            fantoir: self.fantoir.clone(),
            postcode: self.postcode.clone(),
            city: self.city.clone(),
            distance_m,
            edited: false,
        }
    }
}

/// A street found by name, with how well it matched (higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct StreetMatch<'a> {
    pub street: &'a Street,
    pub score: u32,
}

type PointEntry = GeomWithData<[f64; 3], usize>;

/// Streets with an R-tree over their name points.
#[derive(Debug, Clone)]
pub struct StreetIndex {
    streets: Vec<Street>,
    tree: RTree<PointEntry>,
}

impl StreetIndex {
    /// Reads a referential. Bad rows are skipped and reported with their line numbers; every
    /// good row loads. A header without `name`, `lat` or `lon` is one problem and an empty index.
    pub fn from_csv<R: Read>(reader: R) -> (StreetIndex, Vec<RowProblem>) {
        let mut streets: Vec<Street> = Vec::new();
        let mut street_idx_by_key: HashMap<(Option<String>, String, Option<String>), usize> =
            HashMap::new();
        let mut entries = Vec::new();
        let required = ["name", "lat", "lon"];
        let optional = ["voie_id", "fantoir", "postcode", "city"];
        let problems = for_each_row(reader, required, optional, |_, record, columns| {
            let [name_i, lat_i, lon_i] = columns.required;
            let [voie_id_i, fantoir_i, postcode_i, city_i] = columns.optional;
            let name = &record[name_i];
            if fold(name).is_empty() {
                return Err("nom de voie vide".to_string());
            }
            let position = match (&record[lat_i], &record[lon_i]) {
                ("", "") => None,
                (lat, lon) => Some(parse_position(lat, lon)?),
            };
            let field = |i: Option<usize>| {
                i.map(|i| &record[i])
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let (voie_id, postcode) = (field(voie_id_i), field(postcode_i));
            let key = (voie_id.clone(), name.to_string(), postcode.clone());
            let street_idx = *street_idx_by_key.entry(key).or_insert_with(|| {
                streets.push(Street {
                    voie_id,
                    fantoir: field(fantoir_i),
                    name: name.to_string(),
                    postcode,
                    city: field(city_i),
                    points: Vec::new(),
                    folded_name: fold(name),
                });
                streets.len() - 1
            });
            if let Some(position) = position {
                streets[street_idx].points.push(position);
                entries.push(PointEntry::new(unit_vector(&position), street_idx));
            }
            Ok(())
        });
        (
            StreetIndex {
                streets,
                tree: RTree::bulk_load(entries),
            },
            problems,
        )
    }

    pub fn streets(&self) -> &[Street] {
        &self.streets
    }

    /// Number of street-name points (what the R-tree holds).
    pub fn n_points(&self) -> usize {
        self.tree.size()
    }

    /// The street whose name point is nearest, with its distance.
    pub fn nearest_street(&self, position: &Position) -> Option<(&Street, f64)> {
        let entry = self.tree.nearest_neighbor(&unit_vector(position))?;
        let street = &self.streets[entry.data];
        let distance = street
            .points
            .iter()
            .map(|p| distance_m(position, p))
            .fold(f64::INFINITY, f64::min);
        Some((street, distance))
    }

    /// The default address for a position: the nearest street, `distance_m` filled in.
    pub fn nearest(&self, position: &Position) -> Option<Address> {
        self.nearest_street(position)
            .map(|(street, distance)| street.to_address(Some(distance)))
    }

    /// Like [`StreetIndex::nearest`], but `None` when the nearest street-name point is farther
    /// than `max_m` (a position outside the city must not get a city address).
    pub fn nearest_within(&self, position: &Position, max_m: f64) -> Option<Address> {
        self.nearest(position)
            .filter(|address| address.distance_m.is_some_and(|d| d <= max_m))
    }

    /// Distinct streets with a name point within `radius_m`, nearest first (for the user to
    /// pick another street close by).
    pub fn streets_within(&self, position: &Position, radius_m: f64) -> Vec<(&Street, f64)> {
        let chord = chord_for_distance(radius_m);
        let mut hits: Vec<(usize, f64)> = self
            .tree
            .locate_within_distance(unit_vector(position), chord * chord)
            .map(|entry| {
                let street = &self.streets[entry.data];
                let d = street
                    .points
                    .iter()
                    .map(|p| distance_m(position, p))
                    .fold(f64::INFINITY, f64::min);
                (entry.data, d)
            })
            .collect();
        hits.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        hits.dedup_by_key(|(street_idx, _)| *street_idx);
        hits.into_iter()
            .map(|(street_idx, d)| (&self.streets[street_idx], d))
            .collect()
    }

    /// Streets whose name matches the query, accents, case and punctuation ignored; best first
    /// (exact name, then name without its type — "hoche" for "Rue HOCHE" —, then prefix, then
    /// every query word starting a word of the name, then contained), at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<StreetMatch<'_>> {
        let query = fold(query);
        if query.is_empty() {
            return Vec::new();
        }
        let query_words: Vec<&str> = query.split(' ').collect();
        let mut seen_labels = std::collections::HashSet::new();
        let mut matches: Vec<StreetMatch<'_>> = self
            .streets
            .iter()
            .filter_map(|street| {
                let score = name_score(&street.folded_name, &query, &query_words);
                (score > 0).then_some(StreetMatch { street, score })
            })
            .collect();
        matches.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(a.street.points.is_empty().cmp(&b.street.points.is_empty()))
                .then(a.street.name.len().cmp(&b.street.name.len()))
                .then(a.street.name.cmp(&b.street.name))
        });
        // Several streets may share a label up to case and accents ("Avenue DES CRAPAUDIERES",
        // "Avenue des Crapaudières"): show it once, preferring a street that has a position.
        matches.retain(|m| seen_labels.insert(fold(&m.street.label())));
        matches.truncate(limit);
        matches
    }
}

/// 5 = the whole name, 4 = the name without its first word (the street type), 3 = the name
/// starts with the query, 2 = each query word starts a word of the name, 1 = contained.
fn name_score(name: &str, query: &str, query_words: &[&str]) -> u32 {
    if name == query {
        return 5;
    }
    if name.split_once(' ').is_some_and(|(_, rest)| rest == query) {
        return 4;
    }
    if name.starts_with(query) {
        return 3;
    }
    let words: Vec<&str> = name.split(' ').collect();
    if query_words
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q)))
    {
        return 2;
    }
    if name.contains(query) { 1 } else { 0 }
}

/// Which side of a street a house-number range is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Even,
    Odd,
}

/// One range of house numbers on one side of a street.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRange {
    pub voie_id: String,
    pub fantoir: Option<String>,
    pub side: Side,
    pub first: u32,
    /// Repetition index of the first number ("bis", "ter"…), empty when none.
    pub first_suffix: String,
    pub last: u32,
    pub last_suffix: String,
}

/// House-number ranges per street (`voie_id`), from the city's electoral street table:
/// columns `voie_id, fantoir, side (even|odd), first, first_suffix, last, last_suffix`.
#[derive(Debug, Clone, Default)]
pub struct NumberRanges {
    by_voie_id: HashMap<String, Vec<NumberRange>>,
}

impl NumberRanges {
    /// Reads a ranges file; bad rows are skipped and reported with their line numbers.
    pub fn from_csv<R: Read>(reader: R) -> (NumberRanges, Vec<RowProblem>) {
        let mut ranges = NumberRanges::default();
        let columns = [
            "voie_id",
            "fantoir",
            "side",
            "first",
            "first_suffix",
            "last",
            "last_suffix",
        ];
        let problems = for_each_row(reader, columns, [], |_, record, columns| {
            let range = parse_range(record, columns.required)?;
            ranges
                .by_voie_id
                .entry(range.voie_id.clone())
                .or_default()
                .push(range);
            Ok(())
        });
        (ranges, problems)
    }

    /// The ranges of one street.
    pub fn for_street(&self, voie_id: &str) -> &[NumberRange] {
        self.by_voie_id.get(voie_id).map_or(&[], Vec::as_slice)
    }

    /// Whether a house number exists on a street: `None` when the street has no ranges.
    pub fn has_number(&self, voie_id: &str, number: u32) -> Option<bool> {
        let ranges = self.for_street(voie_id);
        if ranges.is_empty() {
            return None;
        }
        let side = if number.is_multiple_of(2) {
            Side::Even
        } else {
            Side::Odd
        };
        Some(
            ranges
                .iter()
                .any(|r| r.side == side && (r.first..=r.last).contains(&number)),
        )
    }

    /// Number of ranges loaded.
    pub fn len(&self) -> usize {
        self.by_voie_id.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_voie_id.is_empty()
    }
}

fn parse_range(
    record: &csv::StringRecord,
    [
        voie_id_i,
        fantoir_i,
        side_i,
        first_i,
        first_suffix_i,
        last_i,
        last_suffix_i,
    ]: [usize; 7],
) -> Result<NumberRange, String> {
    let number = |i: usize, what: &str| {
        record[i]
            .parse::<u32>()
            .map_err(|_| format!("{what} « {} » n'est pas un numéro", &record[i]))
    };
    let side = match &record[side_i] {
        "even" => Side::Even,
        "odd" => Side::Odd,
        other => return Err(format!("côté « {other} » inconnu (even ou odd)")),
    };
    let (first, last) = (number(first_i, "début")?, number(last_i, "fin")?);
    if first > last {
        return Err(format!("début {first} après la fin {last}"));
    }
    if record[voie_id_i].is_empty() {
        return Err("voie_id vide".to_string());
    }
    Ok(NumberRange {
        voie_id: record[voie_id_i].to_string(),
        fantoir: Some(record[fantoir_i].to_string()).filter(|f| !f.is_empty()),
        side,
        first,
        first_suffix: record[first_suffix_i].to_string(),
        last,
        last_suffix: record[last_suffix_i].to_string(),
    })
}

//! Street furniture with known positions (benches, litter bins, bus shelters, fire hydrants,
//! storm drains), so an agent can attach "Banc n° 123" to a report by picking among the objects
//! around them instead of describing it.
//!
//! The data is a CSV `kind,id,label,lat,lon` (any column order, `#` comments; format documented in
//! `assets/furniture/la-rochelle-furniture.csv`). An empty label means the default French label
//! "<Kind> n° <id>". An R-tree over points on the unit sphere answers "objects within N metres,
//! nearest first".
//!
//! **Boundary:** no I/O. Callers hand over a reader or use the compiled-in La Rochelle data.
//!
//! ```
//! use balade_protocol::geo::furniture;
//! use balade_protocol::incident::Position;
//! let index = furniture::la_rochelle();
//! let bench_1 = Position::new(46.166_545, -1.151_334, None).unwrap();
//! let hits = index.within(&bench_1, 5.0);
//! let bench = hits.iter().find(|hit| hit.asset.kind == "banc").unwrap();
//! assert_eq!(bench.asset.to_asset_ref().label, "Banc n° 1");
//! ```

use std::collections::HashMap;
use std::io::Read;

use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::geo::table::for_each_row;
use crate::geo::{RowProblem, distance_m, parse_position, unit_vector};
use crate::incident::{AssetRef, Position};

/// The shipped La Rochelle furniture (10,058 objects), compiled in for offline use.
pub const LA_ROCHELLE_FURNITURE_CSV: &str =
    include_str!("../../../assets/furniture/la-rochelle-furniture.csv");

/// The kinds La Rochelle publishes, with their French names.
pub const KNOWN_KINDS: [(&str, &str); 5] = [
    ("banc", "Banc"),
    ("corbeille", "Corbeille"),
    ("abribus", "Abribus"),
    ("poteau_incendie", "Poteau incendie"),
    ("avaloir", "Avaloir"),
];

/// French name of a kind ("Poteau incendie"); an unknown kind is shown as written.
pub fn kind_label_fr(kind: &str) -> &str {
    KNOWN_KINDS
        .iter()
        .find(|(code, _)| *code == kind)
        .map_or(kind, |(_, label)| label)
}

/// Loads the shipped La Rochelle furniture.
pub fn la_rochelle() -> FurnitureIndex {
    let (index, problems) = FurnitureIndex::from_csv(LA_ROCHELLE_FURNITURE_CSV.as_bytes());
    debug_assert!(
        problems.is_empty(),
        "shipped furniture has problems: {problems:?}"
    );
    index
}

/// One object of street furniture.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub kind: String,
    pub id: String,
    /// French label, e.g. "Banc n° 123" or "Abribus n° 1 (105 AV DU 11 NOVEMBRE FACE)".
    pub label: String,
    pub position: Position,
}

impl Asset {
    /// What an incident stores about the object.
    pub fn to_asset_ref(&self) -> AssetRef {
        AssetRef {
            kind: self.kind.clone(),
            id: self.id.clone(),
            label: self.label.clone(),
        }
    }
}

/// An object found near a position.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetHit<'a> {
    pub asset: &'a Asset,
    pub distance_m: f64,
}

/// Street furniture with an R-tree over positions.
#[derive(Debug, Clone)]
pub struct FurnitureIndex {
    assets: Vec<Asset>,
    tree: RTree<GeomWithData<[f64; 3], usize>>,
}

impl FurnitureIndex {
    /// Reads a furniture file. Bad rows (missing kind or id, bad position, wrong number of
    /// fields, a kind and id seen before) are skipped and reported with their line numbers.
    pub fn from_csv<R: Read>(reader: R) -> (FurnitureIndex, Vec<RowProblem>) {
        let mut assets = Vec::new();
        let mut line_by_key: HashMap<(String, String), u64> = HashMap::new();
        let problems = for_each_row(
            reader,
            ["kind", "id", "lat", "lon"],
            ["label"],
            |line, record, columns| {
                let asset = parse_asset(record, columns.required, columns.optional[0])?;
                let key = (asset.kind.clone(), asset.id.clone());
                if let Some(first_line) = line_by_key.get(&key) {
                    return Err(format!(
                        "{} {} déjà vu ligne {first_line}",
                        asset.kind, asset.id
                    ));
                }
                line_by_key.insert(key, line);
                assets.push(asset);
                Ok(())
            },
        );
        (FurnitureIndex::from_assets(assets), problems)
    }

    fn from_assets(assets: Vec<Asset>) -> FurnitureIndex {
        let entries = assets
            .iter()
            .enumerate()
            .map(|(i, asset)| GeomWithData::new(unit_vector(&asset.position), i))
            .collect();
        FurnitureIndex {
            assets,
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// Objects within `radius_m` of the position, nearest first.
    pub fn within(&self, position: &Position, radius_m: f64) -> Vec<AssetHit<'_>> {
        let mut hits = Vec::new();
        for entry in self.tree.nearest_neighbor_iter(&unit_vector(position)) {
            let asset = &self.assets[entry.data];
            let distance = distance_m(position, &asset.position);
            if distance > radius_m {
                break;
            }
            hits.push(AssetHit {
                asset,
                distance_m: distance,
            });
        }
        hits
    }

    /// Objects of one kind within `radius_m`, nearest first.
    pub fn within_of_kind(
        &self,
        position: &Position,
        radius_m: f64,
        kind: &str,
    ) -> Vec<AssetHit<'_>> {
        let mut hits = self.within(position, radius_m);
        hits.retain(|hit| hit.asset.kind == kind);
        hits
    }

    /// An object by kind and id (to show a stored [`AssetRef`] on a map).
    pub fn get(&self, kind: &str, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.kind == kind && a.id == id)
    }
}

fn parse_asset(
    record: &csv::StringRecord,
    [kind_i, id_i, lat_i, lon_i]: [usize; 4],
    label_i: Option<usize>,
) -> Result<Asset, String> {
    let (kind, id) = (&record[kind_i], &record[id_i]);
    if kind.is_empty() {
        return Err("type d'objet vide".to_string());
    }
    if id.is_empty() {
        return Err("identifiant vide".to_string());
    }
    let position = parse_position(&record[lat_i], &record[lon_i])?;
    let label = match label_i.map(|i| &record[i]) {
        Some(label) if !label.is_empty() => label.to_string(),
        _ => format!("{} n° {id}", kind_label_fr(kind)),
    };
    Ok(Asset {
        kind: kind.to_string(),
        id: id.to_string(),
        label,
        position,
    })
}

//! The capture form's state and rules: search the taxonomy, pick a category and sub-category,
//! collect the comment, extra answers, photos and position, and turn it into an [`Incident`].
//! It is serialisable to a draft file so a half-filled form survives the app being killed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use balade_protocol::incident::{Address, AssetRef, Incident, PhotoRef, Position};
use balade_protocol::taxonomy::{FieldKind, Taxonomy};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::place::{self, NearbyAsset};
use crate::ui::i18n::{Lang, tx};

/// One photo chosen for the incident: where it is and what it hashes to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhotoPick {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    pub mime: String,
}

impl PhotoPick {
    /// Reads and hashes a photo file.
    pub fn from_path(path: PathBuf) -> Result<PhotoPick, std::io::Error> {
        let bytes = std::fs::read(&path)?;
        let mime = mime_for(&path).to_string();
        Ok(PhotoPick {
            sha256: balade_protocol::incident::sha256_hex(&bytes),
            size: bytes.len() as u64,
            mime,
            path,
        })
    }

    pub fn photo_ref(&self) -> PhotoRef {
        PhotoRef {
            sha256: self.sha256.clone(),
            size: self.size,
            mime: self.mime.clone(),
        }
    }
}

/// MIME type from a photo file's extension (JPEG when unknown: what cameras write).
pub fn mime_for(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("heic") => "image/heic",
        _ => "image/jpeg",
    }
}

/// Where the position came from, shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PositionOrigin {
    Typed,
    Device,
    PhotoExif,
    GpxReplay,
    /// A street chosen by name: the position of its name plate.
    Street,
}

impl PositionOrigin {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            PositionOrigin::Typed => tx(lang, "saisie", "typed"),
            PositionOrigin::Device => tx(lang, "appareil", "device"),
            PositionOrigin::PhotoExif => tx(lang, "photo (EXIF)", "photo (EXIF)"),
            PositionOrigin::GpxReplay => tx(lang, "trace GPX", "GPX track"),
            PositionOrigin::Street => tx(
                lang,
                "rue choisie, plaque de rue",
                "chosen street, name plate",
            ),
        }
    }
}

/// The form. `form_key` changes after each save so the uncontrolled inputs are re-created empty.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CaptureForm {
    /// Id kept from the first edit so a draft and the saved incident share it.
    pub id: Option<Uuid>,
    pub query: String,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub comment: String,
    pub extra: BTreeMap<String, serde_json::Value>,
    pub photos: Vec<PhotoPick>,
    pub position: Option<Position>,
    pub position_origin: Option<PositionOrigin>,
    pub address: String,
    pub address_edited: bool,
    #[serde(default)]
    pub form_key: u32,
    /// Problems shown under the form after a failed save.
    #[serde(default)]
    pub problems: Vec<String>,
    /// The nearest street found offline for the position (what `address` was filled from).
    #[serde(default)]
    pub found_address: Option<Address>,
    /// Street furniture near the position, nearest first (suggestions).
    #[serde(default)]
    pub nearby: Vec<NearbyAsset>,
    /// The piece of furniture the agent attached ("Banc n° 123").
    #[serde(default)]
    pub asset: Option<AssetRef>,
    /// Changes when the address was filled automatically, so its uncontrolled input is
    /// re-created with the new text.
    #[serde(default)]
    pub address_key: u32,
    /// The refused report this form redoes (the capture screen says so).
    #[serde(default)]
    pub redo_of: Option<Uuid>,
}

/// A search result the capture screen shows as a tile.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub category: String,
    pub subcategory: Option<String>,
    pub label: String,
    pub emoji: String,
}

/// Why the form cannot be saved yet (French message, English beside it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaptureError {
    #[error("choisissez une catégorie")]
    NoCategory,
    #[error("choisissez une sous-catégorie")]
    NoSubcategory,
    #[error(
        "position manquante : touchez « Ma position », saisissez « latitude, longitude » ou ajoutez une photo géolocalisée"
    )]
    NoPosition,
    #[error("{0}")]
    Invalid(String),
}

impl CaptureError {
    /// The message in the app's language (French is the `Display`).
    pub fn message(&self, lang: crate::ui::i18n::Lang) -> String {
        use crate::ui::i18n::Lang;
        match (self, lang) {
            (_, Lang::Fr) | (CaptureError::Invalid(_), _) => self.to_string(),
            (CaptureError::NoCategory, Lang::En) => "choose a category".into(),
            (CaptureError::NoSubcategory, Lang::En) => "choose a sub-category".into(),
            (CaptureError::NoPosition, Lang::En) => {
                "position missing: tap “My position”, type “latitude, longitude” or add a geotagged photo".into()
            }
        }
    }
}

impl CaptureForm {
    /// True when nothing was entered (no draft to keep).
    pub fn is_empty(&self) -> bool {
        self.category.is_none()
            && self.comment.is_empty()
            && self.photos.is_empty()
            && self.position.is_none()
    }

    /// Tiles for the current search; all categories when the search box is empty.
    pub fn tiles(&self, taxonomy: &Taxonomy, lang: Lang) -> Vec<Tile> {
        let label = |fr: &str, en: &str| match lang {
            Lang::Fr => fr.to_string(),
            Lang::En => en.to_string(),
        };
        if self.query.trim().is_empty() {
            return taxonomy
                .categories
                .iter()
                .map(|c| Tile {
                    category: c.code.clone(),
                    subcategory: None,
                    label: label(&c.label_fr, &c.label_en),
                    emoji: c.emoji.clone(),
                })
                .collect();
        }
        taxonomy
            .search(&self.query)
            .into_iter()
            .map(|hit| Tile {
                category: hit.category.code.clone(),
                subcategory: hit.subcategory.map(|s| s.code.clone()),
                label: match hit.subcategory {
                    Some(s) => label(&s.label_fr, &s.label_en),
                    None => label(&hit.category.label_fr, &hit.category.label_en),
                },
                emoji: hit.category.emoji.clone(),
            })
            .collect()
    }

    /// Picks a tile: the category, and the sub-category when the tile names one (or when the
    /// category has only one).
    pub fn pick(&mut self, taxonomy: &Taxonomy, category: &str, subcategory: Option<&str>) {
        self.category = Some(category.to_string());
        self.subcategory = subcategory.map(str::to_string);
        if self.subcategory.is_none()
            && let Some(c) = taxonomy.category(category)
            && c.subcategories.len() == 1
        {
            self.subcategory = Some(c.subcategories[0].code.clone());
        }
        self.extra.clear();
        self.problems.clear();
    }

    /// Back to the tiles.
    pub fn clear_category(&mut self) {
        self.category = None;
        self.subcategory = None;
        self.extra.clear();
    }

    /// Stores one extra answer typed as text, converted to the field's kind.
    pub fn set_extra(&mut self, taxonomy: &Taxonomy, field_code: &str, text: &str) {
        let Some(field) = self
            .category
            .as_deref()
            .and_then(|c| taxonomy.category(c))
            .and_then(|c| c.fields.iter().find(|f| f.code == field_code))
        else {
            return;
        };
        let text = text.trim();
        let value = match field.kind {
            _ if text.is_empty() => None,
            FieldKind::Text | FieldKind::Choice => {
                Some(serde_json::Value::String(text.to_string()))
            }
            FieldKind::Number => text
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number),
            FieldKind::Boolean => Some(serde_json::Value::Bool(matches!(
                text,
                "true" | "on" | "oui"
            ))),
        };
        match value {
            Some(v) => self.extra.insert(field_code.to_string(), v),
            None => self.extra.remove(field_code),
        };
    }

    /// Parses "46.1591, -1.1517" (comma or space separated; French decimal commas accepted
    /// when separated by a semicolon or spaces).
    pub fn set_typed_position(&mut self, text: &str) -> Result<(), CaptureError> {
        let position = parse_position(text).ok_or_else(|| {
            CaptureError::Invalid(
                "position illisible : écrivez « 46.1591, -1.1517 » / unreadable position".into(),
            )
        })?;
        self.set_position(position, PositionOrigin::Typed);
        Ok(())
    }

    /// Sets the position and looks it up offline: the nearest street fills the address
    /// (unless the agent typed one), nearby furniture is suggested, and an attached asset that
    /// is no longer close by is dropped.
    pub fn set_position(&mut self, position: Position, origin: PositionOrigin) {
        self.position = Some(position);
        self.position_origin = Some(origin);
        let found = place::describe(&position);
        if !self.address_edited {
            self.address = found
                .address
                .as_ref()
                .map(|a| a.label.clone())
                .unwrap_or_default();
            self.address_key = self.address_key.wrapping_add(1);
        }
        self.found_address = found.address;
        self.nearby = found.nearby;
        if let Some(asset) = &self.asset
            && !self.nearby.iter().any(|n| &n.asset == asset)
        {
            self.asset = None;
        }
    }

    /// A new form from a report the server refused (unknown category, an id already used):
    /// same comment, photos, position and address, a new id, the category to choose again.
    pub fn redo_of(incident: &Incident, photos: Vec<PhotoPick>) -> CaptureForm {
        let mut form = CaptureForm {
            comment: incident.comment.clone(),
            photos,
            redo_of: Some(incident.id),
            ..CaptureForm::default()
        };
        form.set_position(incident.position, PositionOrigin::Typed);
        if let Some(address) = &incident.address
            && form.address != address.label
        {
            form.set_typed_address(&address.label);
            form.address_key = form.address_key.wrapping_add(1);
        }
        form
    }

    /// Places the report on a street chosen by name (no fix, no geotagged photo). What the
    /// agent typed stays the address when it says more than the street (a house number).
    pub fn place_on_street(&mut self, street: &place::StreetSuggestion) {
        let typed_number = self.address.chars().any(|c| c.is_ascii_digit());
        if !typed_number {
            self.address_edited = false;
        }
        self.set_position(street.position, PositionOrigin::Street);
    }

    /// The agent typed or corrected the address.
    pub fn set_typed_address(&mut self, text: &str) {
        self.address = text.to_string();
        self.address_edited = true;
    }

    /// Attaches the nearby asset at `idx` (or detaches with `None` / an unknown index).
    pub fn choose_asset(&mut self, idx: Option<usize>) {
        self.asset = idx
            .and_then(|i| self.nearby.get(i))
            .map(|n| n.asset.clone());
    }

    /// The address the incident will carry: the street found offline as is, or what the
    /// agent typed (marked edited).
    pub fn address_to_save(&self) -> Option<Address> {
        let label = self.address.trim();
        if label.is_empty() {
            return None;
        }
        match &self.found_address {
            Some(found) if found.label == label => Some(found.clone()),
            _ => Some(Address {
                label: label.to_string(),
                edited: true,
                ..Address::default()
            }),
        }
    }

    /// Builds the incident to save. `now` is the device clock (information only).
    pub fn to_incident(
        &self,
        taxonomy: &Taxonomy,
        walk_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Incident, CaptureError> {
        let category = self.category.clone().ok_or(CaptureError::NoCategory)?;
        let subcategory = self
            .subcategory
            .clone()
            .ok_or(CaptureError::NoSubcategory)?;
        let position = self.position.ok_or(CaptureError::NoPosition)?;
        let address = self.address_to_save();
        let incident = Incident {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            walk_id,
            comment: self.comment.trim().to_string(),
            observed_at: now,
            category,
            subcategory,
            extra: self.extra.clone(),
            photos: self.photos.iter().map(PhotoPick::photo_ref).collect(),
            lambert93: Some(balade_protocol::geo::lambert93::to_lambert93(&position)),
            position,
            address,
            asset: self.asset.clone(),
        };
        taxonomy
            .validate_incident(&incident)
            .map_err(|e| CaptureError::Invalid(e.to_string()))?;
        Ok(incident)
    }

    /// Empties the form after a save; the new key re-creates the inputs.
    pub fn reset(&mut self) {
        let key = self.form_key.wrapping_add(1);
        let address_key = self.address_key.wrapping_add(1);
        *self = CaptureForm {
            form_key: key,
            address_key,
            ..CaptureForm::default()
        };
    }
}

/// "lat, lon" → position (None when unreadable or out of range).
pub fn parse_position(text: &str) -> Option<Position> {
    let text = text.trim();
    let parts: Vec<&str> = if text.contains(';') {
        text.split(';').collect()
    } else if text.matches(',').count() == 1 {
        text.split(',').collect()
    } else {
        text.split_whitespace().collect()
    };
    let [lat, lon] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str| s.trim().replace(',', ".").parse::<f64>().ok();
    Position::new(number(lat)?, number(lon)?, None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_parsed_in_the_forms_people_type() {
        for (text, expected) in [
            ("46.1591, -1.1517", Some((46.1591, -1.1517))),
            ("46.1591 -1.1517", Some((46.1591, -1.1517))),
            ("46,1591; -1,1517", Some((46.1591, -1.1517))),
            ("91, 0", None),
            ("rue Hoche", None),
            ("", None),
        ] {
            let got = parse_position(text).map(|p| (p.lat, p.lon));
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn searching_trou_offers_the_pothole_tile() {
        let taxonomy = balade_protocol::taxonomy::la_rochelle();
        let form = CaptureForm {
            query: "trou".into(),
            ..CaptureForm::default()
        };
        let tiles = form.tiles(&taxonomy, Lang::Fr);
        assert_eq!(tiles[0].label, "Nid-de-poule");
        assert_eq!(tiles[0].subcategory.as_deref(), Some("nid_de_poule"));
    }

    #[test]
    fn an_incomplete_form_says_what_is_missing() {
        let taxonomy = balade_protocol::taxonomy::la_rochelle();
        let mut form = CaptureForm::default();
        let now = Utc::now();
        assert_eq!(
            form.to_incident(&taxonomy, None, now),
            Err(CaptureError::NoCategory)
        );
        form.pick(&taxonomy, "voirie", Some("nid_de_poule"));
        assert_eq!(
            form.to_incident(&taxonomy, None, now),
            Err(CaptureError::NoPosition)
        );
        form.set_typed_position("46.16, -1.15").unwrap();
        let incident = form.to_incident(&taxonomy, None, now).unwrap();
        assert_eq!(incident.subcategory, "nid_de_poule");
        assert!(incident.lambert93.is_some());
    }

    #[test]
    fn a_position_fills_the_address_and_offers_nearby_furniture_to_attach() {
        let taxonomy = balade_protocol::taxonomy::la_rochelle();
        let bench = balade_protocol::geo::furniture::la_rochelle()
            .assets()
            .iter()
            .find(|a| a.kind == "banc")
            .unwrap()
            .clone();
        let mut form = CaptureForm::default();
        form.pick(&taxonomy, "voirie", Some("nid_de_poule"));
        form.set_position(bench.position, PositionOrigin::Typed);
        let found = form
            .found_address
            .clone()
            .expect("a street near a city bench");
        assert_eq!(form.address, found.label);
        assert_eq!(form.nearby[0].asset.id, bench.id);
        form.choose_asset(Some(0));
        let incident = form.to_incident(&taxonomy, None, Utc::now()).unwrap();
        assert_eq!(
            incident.address,
            Some(found.clone()),
            "the street found offline is kept whole"
        );
        assert_eq!(incident.asset, Some(bench.to_asset_ref()));

        // A typed address wins, is marked edited, and a later position does not overwrite it.
        form.set_typed_address("12 rue Hoche");
        form.set_position(bench.position, PositionOrigin::Typed);
        assert_eq!(form.address, "12 rue Hoche");
        let address = form
            .to_incident(&taxonomy, None, Utc::now())
            .unwrap()
            .address
            .unwrap();
        assert_eq!(
            (address.label.as_str(), address.edited),
            ("12 rue Hoche", true)
        );

        // Far away: no street, no furniture, the attached bench is dropped.
        let mut far = form.clone();
        far.address_edited = false;
        far.set_position(
            Position::new(48.8566, 2.3522, None).unwrap(),
            PositionOrigin::Typed,
        );
        assert_eq!(
            (far.address.as_str(), far.nearby.len(), far.asset.clone()),
            ("", 0, None)
        );
    }
}

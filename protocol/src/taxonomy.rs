//! The city's taxonomy: categories, sub-categories, keywords agents type, default recipient,
//! announced delay and per-category extra fields. The server loads it from
//! `assets/taxonomy/*.json`, refuses unknown codes with it, and sends it to devices with its
//! version so a device keeps working offline with the last one it received.

use serde::{Deserialize, Serialize};

use crate::incident::Incident;
use crate::text::fold;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Content version: the SHA-256 (first 16 hex) of the canonical JSON without this field.
    /// Filled by [`Taxonomy::from_json`]; whatever the file says is ignored.
    #[serde(default)]
    pub version: String,
    pub city: String,
    pub services: Vec<Recipient>,
    pub outside_bodies: Vec<Recipient>,
    pub categories: Vec<Category>,
}

/// A city service or an outside body (CDA, OPH…) a request can be routed to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub code: String,
    pub name_fr: String,
    #[serde(default)]
    pub name_en: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub label_fr: String,
    pub label_en: String,
    /// Icon name in assets/icons (an emoji fallback is in `emoji`).
    #[serde(default)]
    pub icon: String,
    #[serde(default)]
    pub emoji: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub subcategories: Vec<Subcategory>,
    /// Code of the default recipient: a service or an outside body.
    pub recipient: String,
    /// Announced delay, in days, used for the overdue flag.
    pub delay_days: u32,
    #[serde(default)]
    pub fields: Vec<ExtraField>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subcategory {
    pub code: String,
    pub label_fr: String,
    pub label_en: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Boolean,
    Choice,
}

/// A per-category question (Open311 service-definition attribute).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtraField {
    pub code: String,
    pub label_fr: String,
    pub label_en: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub choices: Vec<Choice>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub label_fr: String,
    pub label_en: String,
}

/// Why a taxonomy file or an incident does not fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid JSON: {0}")]
    Json(String),
    #[error("duplicate code {0}")]
    DuplicateCode(String),
    #[error("category {category} names unknown recipient {recipient}")]
    UnknownRecipient { category: String, recipient: String },
    #[error("unknown category {0}")]
    UnknownCategory(String),
    #[error("unknown sub-category {subcategory} in category {category}")]
    UnknownSubcategory {
        category: String,
        subcategory: String,
    },
    #[error("field {field}: {problem}")]
    Field { field: String, problem: String },
}

/// One search hit: a category, and a sub-category when the match was on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit<'a> {
    pub category: &'a Category,
    pub subcategory: Option<&'a Subcategory>,
    pub score: u32,
}

impl Taxonomy {
    /// Parses and checks a taxonomy, and computes its version.
    pub fn from_json(json: &str) -> Result<Taxonomy, TaxonomyError> {
        let mut taxonomy: Taxonomy =
            serde_json::from_str(json).map_err(|e| TaxonomyError::Json(e.to_string()))?;
        taxonomy.check()?;
        taxonomy.version = taxonomy.compute_version();
        Ok(taxonomy)
    }

    fn compute_version(&self) -> String {
        let mut copy = self.clone();
        copy.version.clear();
        let bytes = serde_json::to_vec(&copy).expect("taxonomy serialises");
        crate::incident::sha256_hex(&bytes)[..16].to_string()
    }

    fn check(&self) -> Result<(), TaxonomyError> {
        let mut seen = std::collections::HashSet::new();
        for code in self
            .services
            .iter()
            .chain(&self.outside_bodies)
            .map(|r| &r.code)
        {
            if !seen.insert(format!("r:{code}")) {
                return Err(TaxonomyError::DuplicateCode(code.clone()));
            }
        }
        for category in &self.categories {
            if !seen.insert(format!("c:{}", category.code)) {
                return Err(TaxonomyError::DuplicateCode(category.code.clone()));
            }
            if self.recipient(&category.recipient).is_none() {
                return Err(TaxonomyError::UnknownRecipient {
                    category: category.code.clone(),
                    recipient: category.recipient.clone(),
                });
            }
            let mut subs = std::collections::HashSet::new();
            for sub in &category.subcategories {
                if !subs.insert(&sub.code) {
                    return Err(TaxonomyError::DuplicateCode(format!(
                        "{}/{}",
                        category.code, sub.code
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// A service or an outside body by code.
    pub fn recipient(&self, code: &str) -> Option<&Recipient> {
        self.services
            .iter()
            .chain(&self.outside_bodies)
            .find(|r| r.code == code)
    }

    pub fn is_outside_body(&self, code: &str) -> bool {
        self.outside_bodies.iter().any(|r| r.code == code)
    }

    /// Checks an incident's category, sub-category and extra answers.
    pub fn validate_incident(&self, incident: &Incident) -> Result<(), TaxonomyError> {
        let category = self
            .category(&incident.category)
            .ok_or_else(|| TaxonomyError::UnknownCategory(incident.category.clone()))?;
        if category.subcategory(&incident.subcategory).is_none() {
            return Err(TaxonomyError::UnknownSubcategory {
                category: incident.category.clone(),
                subcategory: incident.subcategory.clone(),
            });
        }
        category.validate_answers(&incident.extra)
    }

    /// Keyword search, accents and case ignored; best hits first.
    pub fn search(&self, query: &str) -> Vec<SearchHit<'_>> {
        let query = fold(query);
        if query.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for category in &self.categories {
            let category_score = score(
                &query,
                &category.label_fr,
                &category.label_en,
                &category.keywords,
            );
            let mut best_sub = None;
            for sub in &category.subcategories {
                let s = score(&query, &sub.label_fr, &sub.label_en, &sub.keywords);
                if s > 0 && best_sub.is_none_or(|(_, best)| s > best) {
                    best_sub = Some((sub, s));
                }
            }
            match best_sub {
                Some((sub, s)) if s >= category_score => hits.push(SearchHit {
                    category,
                    subcategory: Some(sub),
                    score: s,
                }),
                _ if category_score > 0 => hits.push(SearchHit {
                    category,
                    subcategory: None,
                    score: category_score,
                }),
                _ => {}
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then(a.category.code.cmp(&b.category.code))
        });
        hits
    }
}

/// 3 = a label or keyword equals the query, 2 = starts with it, 1 = contains it as a word part.
fn score(query: &str, label_fr: &str, label_en: &str, keywords: &[String]) -> u32 {
    std::iter::once(label_fr)
        .chain(std::iter::once(label_en))
        .chain(keywords.iter().map(String::as_str))
        .map(|text| {
            let text = fold(text);
            if text == query {
                3
            } else if text.starts_with(query) || text.split(' ').any(|w| w.starts_with(query)) {
                2
            } else if text.contains(query) {
                1
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

impl Category {
    pub fn subcategory(&self, code: &str) -> Option<&Subcategory> {
        self.subcategories.iter().find(|s| s.code == code)
    }

    /// Checks answers against the declared fields: required present, types right, choices known,
    /// no answer to an undeclared field.
    pub fn validate_answers(
        &self,
        answers: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Result<(), TaxonomyError> {
        let problem = |field: &str, problem: &str| TaxonomyError::Field {
            field: field.to_string(),
            problem: problem.to_string(),
        };
        for code in answers.keys() {
            if !self.fields.iter().any(|f| &f.code == code) {
                return Err(problem(code, "not a field of this category"));
            }
        }
        for field in &self.fields {
            let Some(value) = answers.get(&field.code).filter(|v| !v.is_null()) else {
                if field.required {
                    return Err(problem(&field.code, "required"));
                }
                continue;
            };
            let ok = match field.kind {
                FieldKind::Text => value.is_string(),
                FieldKind::Number => value.is_number(),
                FieldKind::Boolean => value.is_boolean(),
                FieldKind::Choice => value
                    .as_str()
                    .is_some_and(|v| field.choices.iter().any(|c| c.code == v)),
            };
            if !ok {
                return Err(problem(&field.code, "wrong type or unknown choice"));
            }
        }
        Ok(())
    }
}

/// The La Rochelle taxonomy shipped in assets/, compiled in so a fresh device works offline.
pub const LA_ROCHELLE_TAXONOMY_JSON: &str = include_str!("../../assets/taxonomy/la-rochelle.json");

/// Parses the shipped La Rochelle taxonomy.
pub fn la_rochelle() -> Taxonomy {
    Taxonomy::from_json(LA_ROCHELLE_TAXONOMY_JSON).expect("the shipped taxonomy is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_taxonomy_loads_and_has_a_version() {
        let taxonomy = la_rochelle();
        assert_eq!(taxonomy.version.len(), 16);
        assert!(taxonomy.categories.len() >= 10);
        assert!(taxonomy.is_outside_body("cda") && taxonomy.is_outside_body("oph"));
    }

    #[test]
    fn search_matches_keywords_without_accents() {
        let taxonomy = la_rochelle();
        for (query, category, subcategory) in [
            ("trou", "voirie", Some("nid_de_poule")),
            ("ECLAIRAGE", "eclairage", None),
            ("depot", "proprete", Some("depot_sauvage")),
            ("tag", "proprete", Some("tags")),
        ] {
            let hits = taxonomy.search(query);
            let first = hits.first().unwrap_or_else(|| panic!("no hit for {query}"));
            assert_eq!(first.category.code, category, "{query}");
            assert_eq!(
                first.subcategory.map(|s| s.code.as_str()),
                subcategory,
                "{query}"
            );
        }
        assert!(taxonomy.search("zzzz").is_empty());
    }

    #[test]
    fn bad_taxonomies_are_refused() {
        let mut value: serde_json::Value = serde_json::from_str(LA_ROCHELLE_TAXONOMY_JSON).unwrap();
        value["categories"][0]["recipient"] = "nobody".into();
        assert!(matches!(
            Taxonomy::from_json(&value.to_string()),
            Err(TaxonomyError::UnknownRecipient { .. })
        ));
        assert!(matches!(
            Taxonomy::from_json("{"),
            Err(TaxonomyError::Json(_))
        ));
    }
}

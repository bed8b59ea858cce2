//! GeoReport v2 service list and service definitions, from the taxonomy.
//!
//! Decision: one Open311 service per taxonomy **category** (`service_code` = category code, e.g.
//! `voirie`); the sub-category is the first attribute of every service definition (code
//! `subcategory`, a required `singlevaluelist`), followed by the category's extra fields. So
//! `metadata` is always true. Codes stay free of `/`, which keeps `services/{code}.json` a plain path.

use balade_protocol::taxonomy::{Category, FieldKind, Taxonomy};
use serde_json::{Value, json};

/// Code of the attribute carrying the sub-category.
pub const SUBCATEGORY_ATTRIBUTE: &str = "subcategory";

/// The `services` list.
pub fn services(taxonomy: &Taxonomy) -> Value {
    Value::Array(
        taxonomy
            .categories
            .iter()
            .map(|c| {
                let keywords: Vec<&str> = c
                    .keywords
                    .iter()
                    .map(String::as_str)
                    .chain(c.subcategories.iter().map(|s| s.label_fr.as_str()))
                    .collect();
                let group = taxonomy
                    .recipient(&c.recipient)
                    .map(|r| r.name_fr.clone())
                    .unwrap_or_default();
                json!({
                    "service_code": c.code,
                    "service_name": c.label_fr,
                    "description": description(c),
                    "metadata": true,
                    "type": "realtime",
                    "keywords": keywords.join(", "),
                    "group": group,
                })
            })
            .collect(),
    )
}

fn description(c: &Category) -> String {
    let subs: Vec<&str> = c
        .subcategories
        .iter()
        .map(|s| s.label_fr.as_str())
        .collect();
    format!(
        "{} ({}) — délai annoncé : {} jours",
        c.label_fr,
        subs.join(", "),
        c.delay_days
    )
}

/// The service definition of one category, `None` when unknown.
pub fn definition(taxonomy: &Taxonomy, code: &str) -> Option<Value> {
    let c = taxonomy.category(code)?;
    let mut attributes = vec![json!({
        "variable": true,
        "code": SUBCATEGORY_ATTRIBUTE,
        "datatype": "singlevaluelist",
        "required": true,
        "datatype_description": "Sous-catégorie",
        "order": 1,
        "description": "Sous-catégorie du signalement",
        "values": c.subcategories.iter().map(|s| json!({"key": s.code, "name": s.label_fr})).collect::<Vec<_>>(),
    })];
    for (idx, field) in c.fields.iter().enumerate() {
        let (datatype, values, datatype_description) = match field.kind {
            FieldKind::Text => ("string", vec![], "Texte libre"),
            FieldKind::Number => ("number", vec![], "Nombre"),
            FieldKind::Boolean => (
                "singlevaluelist",
                vec![
                    json!({"key": "true", "name": "Oui"}),
                    json!({"key": "false", "name": "Non"}),
                ],
                "Oui ou non",
            ),
            FieldKind::Choice => (
                "singlevaluelist",
                field
                    .choices
                    .iter()
                    .map(|ch| json!({"key": ch.code, "name": ch.label_fr}))
                    .collect(),
                "Une valeur de la liste",
            ),
        };
        attributes.push(json!({
            "variable": true,
            "code": field.code,
            "datatype": datatype,
            "required": field.required,
            "datatype_description": datatype_description,
            "order": idx + 2,
            "description": field.label_fr,
            "values": values,
        }));
    }
    Some(json!({ "service_code": c.code, "attributes": attributes }))
}

/// Why posted attributes do not fit a service definition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttributeError {
    #[error("attribut obligatoire manquant : {0}")]
    Missing(String),
    #[error("attribut inconnu : {0}")]
    Unknown(String),
    #[error("valeur invalide pour l'attribut {0} : {1}")]
    Invalid(String, String),
}

/// Turns posted `attribute[code]` values into (sub-category, extra answers).
pub fn parse_attributes(
    category: &Category,
    attributes: &[(String, Vec<String>)],
) -> Result<(String, std::collections::BTreeMap<String, Value>), AttributeError> {
    let mut subcategory = None;
    let mut extra = std::collections::BTreeMap::new();
    for (code, values) in attributes {
        let single = || -> Result<&str, AttributeError> {
            match values.as_slice() {
                [one] => Ok(one.as_str()),
                _ => Err(AttributeError::Invalid(
                    code.clone(),
                    "une seule valeur attendue".into(),
                )),
            }
        };
        if code == SUBCATEGORY_ATTRIBUTE {
            let v = single()?;
            if category.subcategory(v).is_none() {
                return Err(AttributeError::Invalid(code.clone(), v.into()));
            }
            subcategory = Some(v.to_string());
            continue;
        }
        let field = category
            .fields
            .iter()
            .find(|f| &f.code == code)
            .ok_or_else(|| AttributeError::Unknown(code.clone()))?;
        let v = single()?;
        let invalid = || AttributeError::Invalid(code.clone(), v.to_string());
        let value = match field.kind {
            FieldKind::Text => Value::String(v.to_string()),
            FieldKind::Number => {
                let n: f64 = v.trim().parse().map_err(|_| invalid())?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(invalid)?
            }
            FieldKind::Boolean => match v {
                "true" | "1" | "oui" => Value::Bool(true),
                "false" | "0" | "non" => Value::Bool(false),
                _ => return Err(invalid()),
            },
            FieldKind::Choice => {
                if !field.choices.iter().any(|c| c.code == v) {
                    return Err(invalid());
                }
                Value::String(v.to_string())
            }
        };
        extra.insert(code.clone(), value);
    }
    let subcategory = match subcategory {
        Some(s) => s,
        // A category with a single sub-category needs no choice.
        None if category.subcategories.len() == 1 => category.subcategories[0].code.clone(),
        None => return Err(AttributeError::Missing(SUBCATEGORY_ATTRIBUTE.into())),
    };
    if let Some(f) = category
        .fields
        .iter()
        .find(|f| f.required && !extra.contains_key(&f.code))
    {
        return Err(AttributeError::Missing(f.code.clone()));
    }
    Ok((subcategory, extra))
}

//! Open311 response formats: JSON or XML, chosen by the path suffix (`services.xml`) or the
//! `format` query parameter, and the Open311 error list (`[{"code","description"}]`).
//!
//! Why it exists: every GeoReport v2 answer is built once as a `serde_json::Value` and rendered
//! in the asked format here, so JSON and XML can never disagree. XML element names for array
//! items follow the spec (`services/service`, `service_requests/request`, `errors/error`…).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The two formats of GeoReport v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// Splits `services.json` into (`services`, Json). No suffix → `format` query value, else JSON.
/// An unknown suffix or format value is an error (answered in JSON).
pub fn split_format(
    file: &str,
    format_param: Option<&str>,
) -> Result<(String, Format), Open311Error> {
    let (stem, suffix) = match file.rsplit_once('.') {
        Some((stem, suffix)) => (stem, Some(suffix)),
        None => (file, None),
    };
    let asked = suffix.or(format_param);
    let format = match asked.map(|s| s.to_ascii_lowercase()).as_deref() {
        None | Some("json") => Format::Json,
        Some("xml") => Format::Xml,
        Some(other) => {
            return Err(Open311Error::new(
                StatusCode::BAD_REQUEST,
                format!("Format inconnu : {other} (json ou xml)"),
                Format::Json,
            ));
        }
    };
    Ok((stem.to_string(), format))
}

/// An Open311 error, rendered as `[{"code": 400, "description": "..."}]` or its XML form.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
    pub format: Format,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>, format: Format) -> Self {
        Open311Error {
            status,
            description: description.into(),
            format,
        }
    }
    pub fn bad_request(description: impl Into<String>, format: Format) -> Self {
        Open311Error::new(StatusCode::BAD_REQUEST, description, format)
    }
    pub fn forbidden(description: impl Into<String>, format: Format) -> Self {
        Open311Error::new(StatusCode::FORBIDDEN, description, format)
    }
    pub fn not_found(description: impl Into<String>, format: Format) -> Self {
        Open311Error::new(StatusCode::NOT_FOUND, description, format)
    }
    /// A 500: the detail is logged, the client gets a generic description.
    pub fn internal(detail: impl std::fmt::Display, format: Format) -> Self {
        tracing::error!("open311 internal error: {detail}");
        Open311Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Erreur interne du serveur",
            format,
        )
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!([{ "code": self.status.as_u16(), "description": self.description }]);
        render(self.status, self.format, "errors", &body)
    }
}

/// Renders `value` with `status`; `root` is the XML root element (e.g. `services`).
pub fn render(status: StatusCode, format: Format, root: &str, value: &Value) -> Response {
    let (content_type, body) = match format {
        Format::Json => ("application/json; charset=utf-8", value.to_string()),
        Format::Xml => ("text/xml; charset=utf-8", to_xml(root, value)),
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Element name of the items of an array element, as the GeoReport v2 XML examples write it.
fn item_name(parent: &str) -> &str {
    match parent {
        "services" => "service",
        "attributes" => "attribute",
        "values" => "value",
        "service_requests" => "request",
        "errors" => "error",
        "service_request_updates" => "request_update",
        "keywords" => "keyword",
        other => other.strip_suffix('s').unwrap_or("item"),
    }
}

/// `<?xml ...?><root>...</root>` for a JSON value (objects → child elements, arrays → repeated
/// item elements, null → empty element).
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    write_element(&mut out, root, value);
    out
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape_into(out, s),
        Value::Array(items) => {
            let item = item_name(name).to_string();
            for v in items {
                write_element(out, &item, v);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                write_element(out, k, v);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all are dropped rather than breaking the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_and_format_parameter_choose_the_format() {
        for (file, param, stem, format) in [
            ("services.json", None, "services", Some(Format::Json)),
            ("services.xml", None, "services", Some(Format::Xml)),
            ("services.XML", Some("json"), "services", Some(Format::Xml)),
            ("services", Some("xml"), "services", Some(Format::Xml)),
            ("services", None, "services", Some(Format::Json)),
            ("services.csv", None, "", None),
            ("services", Some("yaml"), "", None),
        ] {
            let got = split_format(file, param);
            match format {
                Some(format) => assert_eq!(got.unwrap(), (stem.to_string(), format), "{file}"),
                None => assert!(got.is_err(), "{file}"),
            }
        }
    }

    #[test]
    fn xml_uses_spec_item_names_and_escapes_text() {
        let value =
            serde_json::json!([{"service_code": "voirie", "keywords": "a<b&c", "metadata": true}]);
        let xml = to_xml("services", &value);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service>"),
            "{xml}"
        );
        assert!(xml.ends_with("</service></services>"), "{xml}");
        for part in [
            "<service_code>voirie</service_code>",
            "<keywords>a&lt;b&amp;c</keywords>",
            "<metadata>true</metadata>",
        ] {
            assert!(xml.contains(part), "{part} in {xml}");
        }
        let errors = to_xml(
            "errors",
            &serde_json::json!([{"code": 400, "description": "x\u{1}"}]),
        );
        assert!(errors.contains(
            "<errors><error><code>400</code><description>x</description></error></errors>"
        ));
    }
}

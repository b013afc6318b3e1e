//! Message templates as the WhatsApp Business Management API lists them:
//! `GET /{version}/{WABA-ID}/message_templates` answers
//! `{"data": [{name, language, status, category, id, parameter_format, components}],
//! "paging": {"cursors": {"before", "after"}, "next"}}`. Components are `HEADER`, `BODY`,
//! `FOOTER` and `BUTTONS`; text carries positional `{{1}}` or named `{{first_name}}`
//! placeholders, with examples under `example` (`body_text: [["..."]]`,
//! `header_text: ["..."]`, `body_text_named_params: [{param_name, example}]`).
//!
//! Fields Teamline does not use are kept in `extra` so nothing Meta adds is lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One page of `GET /{WABA-ID}/message_templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePage {
    #[serde(default)]
    pub data: Vec<MessageTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// Graph cursor paging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<Cursors>,
    /// The next page's full URL; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One template in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub name: String,
    /// e.g. `en_US`, `ru`, `zh_CN`.
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, ...
    pub status: String,
    /// `UTILITY`, `MARKETING` or `AUTHENTICATION`.
    #[serde(default)]
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `POSITIONAL` (default) or `NAMED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    #[serde(default)]
    pub components: Vec<TemplateComponent>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A component definition (not the send-time `components` with parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateComponent {
    /// `HEADER`, `BODY`, `FOOTER` or `BUTTONS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Header format: `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT`, `LOCATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<Value>>,
}

impl MessageTemplate {
    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("APPROVED")
    }

    fn component(&self, kind: &str) -> Option<&TemplateComponent> {
        self.components
            .iter()
            .find(|c| c.kind.eq_ignore_ascii_case(kind))
    }

    /// The body text with its placeholders.
    pub fn body_text(&self) -> Option<&str> {
        self.component("BODY").and_then(|c| c.text.as_deref())
    }

    /// A text header's text (with placeholders).
    pub fn header_text(&self) -> Option<&str> {
        self.component("HEADER")
            .filter(|c| {
                c.format
                    .as_deref()
                    .is_none_or(|f| f.eq_ignore_ascii_case("TEXT"))
            })
            .and_then(|c| c.text.as_deref())
    }

    /// Distinct placeholders of the body, in order of first use (`1`, `2` or names).
    pub fn body_params(&self) -> Vec<String> {
        self.body_text().map(placeholders).unwrap_or_default()
    }

    /// Distinct placeholders of a text header.
    pub fn header_params(&self) -> Vec<String> {
        self.header_text().map(placeholders).unwrap_or_default()
    }

    /// Example values Meta approved for the body, one per placeholder when present.
    pub fn body_examples(&self) -> Vec<String> {
        let Some(example) = self.component("BODY").and_then(|c| c.example.as_ref()) else {
            return Vec::new();
        };
        if let Some(rows) = example.get("body_text").and_then(Value::as_array)
            && let Some(first) = rows.first().and_then(Value::as_array)
        {
            return first
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
        }
        if let Some(named) = example
            .get("body_text_named_params")
            .and_then(Value::as_array)
        {
            return named
                .iter()
                .filter_map(|p| p.get("example").and_then(Value::as_str).map(str::to_owned))
                .collect();
        }
        Vec::new()
    }
}

/// The distinct `{{...}}` placeholders of `text`, in order of first use.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let name = after[..end].trim();
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    out
}

/// `text` with each `{{name}}` replaced by its value (`values[i]` for `params[i]`); a
/// placeholder without a value stays as it is.
pub fn fill(text: &str, params: &[String], values: &[String]) -> String {
    let mut out = text.to_owned();
    for (name, value) in params.iter().zip(values) {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example's shape (positional and named parameters, paging).
    const PAGE: &str = r#"{
      "data": [
        {"name": "order_update", "parameter_format": "POSITIONAL", "language": "en_US",
         "status": "APPROVED", "category": "UTILITY", "id": "1234",
         "components": [
           {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
            "example": {"header_text": ["A-1"]}},
           {"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped. Thanks {{1}}!",
            "example": {"body_text": [["Ana", "A-1"]]}},
           {"type": "FOOTER", "text": "Corner Shop"},
           {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://x/{{1}}"}]}
         ]},
        {"name": "reservation", "parameter_format": "NAMED", "language": "en_US",
         "status": "PENDING", "category": "MARKETING", "id": "99",
         "components": [{"type": "BODY", "text": "For {{guests}} on {{day}}",
           "example": {"body_text_named_params": [
             {"param_name": "guests", "example": "4"}, {"param_name": "day", "example": "Sat"}]}}],
         "quality_score": {"score": "GREEN"}}
      ],
      "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"},
                 "next": "https://graph.facebook.com/v26.0/1/message_templates?after=QVFJ"}
    }"#;

    #[test]
    fn parses_the_documented_list() {
        let page: TemplatePage = serde_json::from_str(PAGE).unwrap();
        assert_eq!(page.data.len(), 2);
        let t = &page.data[0];
        assert!(t.is_approved());
        assert_eq!(t.body_params(), vec!["1", "2"]);
        assert_eq!(t.header_params(), vec!["1"]);
        assert_eq!(t.body_examples(), vec!["Ana", "A-1"]);
        let named = &page.data[1];
        assert!(!named.is_approved());
        assert_eq!(named.body_params(), vec!["guests", "day"]);
        assert_eq!(named.body_examples(), vec!["4", "Sat"]);
        assert!(named.extra.contains_key("quality_score"));
        let paging = page.paging.unwrap();
        assert_eq!(paging.cursors.unwrap().after.as_deref(), Some("QVFJ"));
        assert!(paging.next.is_some());
    }

    #[test]
    fn fills_every_occurrence_and_leaves_missing_ones() {
        let params = placeholders("Hi {{1}}, order {{2}}. Bye {{1}}. {{ bad-name }}");
        assert_eq!(params, vec!["1", "2"]);
        let filled = fill(
            "Hi {{1}}, order {{2}}. Bye {{1}}.",
            &params,
            &["Ana".into()],
        );
        assert_eq!(filled, "Hi Ana, order {{2}}. Bye Ana.");
    }
}

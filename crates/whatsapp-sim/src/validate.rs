//! Checks a `POST /{phone-number-id}/messages` body the way the Cloud API does, from raw
//! JSON. It deliberately shares no types with `teamline-whatsapp`'s client, so a mistake
//! in one is caught by the other.

use serde_json::Value;

use crate::error::{AsyncError, GraphError};
use crate::state::{State, Template};

pub const TEXT_MAX: usize = 4096;
pub const CAPTION_MAX: usize = 1024;

const MB: usize = 1024 * 1024;
const KB: usize = 1024;

const MEDIA_KINDS: [&str; 5] = ["audio", "document", "image", "sticker", "video"];
const MESSAGE_TYPES: [&str; 11] = [
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
];

/// Which message type may carry a file of this MIME type (Meta's supported-media table).
pub fn kind_for_mime(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => "audio",
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "document",
        "image/jpeg" | "image/png" => "image",
        "image/webp" => "sticker",
        "video/mp4" | "video/3gp" | "video/3gpp" => "video",
        _ => return None,
    })
}

/// An animated WebP has a `VP8X` chunk with the animation flag set.
pub fn is_animated_webp(bytes: &[u8]) -> bool {
    bytes.len() > 20
        && &bytes[0..4] == b"RIFF"
        && &bytes[8..12] == b"WEBP"
        && &bytes[12..16] == b"VP8X"
        && bytes[20] & 0x02 != 0
}

/// Meta's size limit for a file sent as `kind`: audio 16 MB, document 100 MB, image 5 MB,
/// video 16 MB, sticker 500 KB animated / 100 KB static.
pub fn size_limit(kind: &str, bytes: &[u8]) -> usize {
    match kind {
        "audio" | "video" => 16 * MB,
        "document" => 100 * MB,
        "image" => 5 * MB,
        "sticker" if is_animated_webp(bytes) => 500 * KB,
        "sticker" => 100 * KB,
        _ => 0,
    }
}

/// What a valid request asks for.
#[derive(Debug)]
pub enum Outbound {
    Message(MessageSend),
    /// Mark an inbound message as read, optionally showing a typing indicator.
    Read {
        message_id: String,
        typing: bool,
    },
}

#[derive(Debug)]
pub struct MessageSend {
    /// `to` as given, echoed in `contacts[].input`.
    pub input: String,
    pub wa_id: String,
    pub kind: String,
    /// `Some(category)` for templates, which may open a conversation outside the window.
    pub template_category: Option<String>,
    /// Problems Meta only finds after accepting (e.g. a media id of the wrong type).
    pub async_error: Option<AsyncError>,
    pub biz_opaque_callback_data: Option<String>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn obj<'a>(body: &'a Value, key: &str, path: &str) -> Result<&'a Value, GraphError> {
    match body.get(key) {
        Some(v) if v.is_object() => Ok(v),
        Some(_) => Err(GraphError::param(format!(
            "Param {path} must be an object."
        ))),
        None => Err(GraphError::param(format!(
            "The parameter {path} is required."
        ))),
    }
}

fn string<'a>(body: &'a Value, key: &str, path: &str) -> Result<&'a str, GraphError> {
    match body.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(GraphError::param(format!("Param {path} must be a string."))),
        None => Err(GraphError::param(format!(
            "The parameter {path} is required."
        ))),
    }
}

fn opt_string<'a>(body: &'a Value, key: &str, path: &str) -> Result<Option<&'a str>, GraphError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(GraphError::param(format!("Param {path} must be a string."))),
    }
}

fn max_len(value: &str, max: usize, path: &str) -> Result<(), GraphError> {
    if chars(value) > max {
        return Err(GraphError::invalid(format!(
            "Param {path} must be at most {max} characters long."
        )));
    }
    Ok(())
}

/// Digits of a phone number given as `+1 (555) 010-0000` or `15550100000`.
pub fn wa_id_of(to: &str) -> Option<String> {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    let allowed = to
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    (allowed && (7..=15).contains(&digits.len())).then_some(digits)
}

pub fn validate(body: &Value, state: &State) -> Result<Outbound, GraphError> {
    if !body.is_object() {
        return Err(GraphError::param("Invalid parameter"));
    }
    match body.get("messaging_product") {
        Some(Value::String(p)) if p == "whatsapp" => {}
        Some(other) => {
            return Err(GraphError::param(format!(
                "Param messaging_product must be one of {{WHATSAPP}} - got {other}."
            )));
        }
        None => {
            return Err(GraphError::param(
                "The parameter messaging_product is required.",
            ));
        }
    }

    if let Some(status) = body.get("status") {
        if status != "read" {
            return Err(GraphError::param(format!(
                "Param status must be one of {{READ}} - got {status}."
            )));
        }
        let message_id = string(body, "message_id", "message_id")?;
        if !state.inbound.iter().any(|m| m.id == message_id) {
            return Err(GraphError::invalid(format!(
                "Invalid message_id: {message_id} is not a message this number received."
            )));
        }
        let typing = match body.get("typing_indicator") {
            None => false,
            Some(t) if t.get("type").and_then(Value::as_str) == Some("text") => true,
            Some(_) => {
                return Err(GraphError::param(
                    "Param typing_indicator['type'] must be one of {TEXT}.",
                ));
            }
        };
        return Ok(Outbound::Read {
            message_id: message_id.to_string(),
            typing,
        });
    }

    if let Some(rt) = body.get("recipient_type")
        && rt != "individual"
    {
        return Err(GraphError::param(format!(
            "Param recipient_type must be one of {{INDIVIDUAL}} - got {rt}."
        )));
    }
    let to = string(body, "to", "to")?;
    let wa_id = wa_id_of(to).ok_or_else(|| {
        GraphError::value_not_valid(format!("Invalid WhatsApp user phone number in to: {to}"))
    })?;

    let kind = match body.get("type") {
        None => "text",
        Some(Value::String(t)) if MESSAGE_TYPES.contains(&t.as_str()) => t.as_str(),
        Some(other) => {
            return Err(GraphError::param(format!(
                "Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, \
                 LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}} - got {other}."
            )));
        }
    };

    if let Some(context) = body.get("context") {
        string(context, "message_id", "context['message_id']")?;
    }
    let biz_opaque_callback_data =
        opt_string(body, "biz_opaque_callback_data", "biz_opaque_callback_data")?
            .map(str::to_string);

    let mut send = MessageSend {
        input: to.to_string(),
        wa_id,
        kind: kind.to_string(),
        template_category: None,
        async_error: None,
        biz_opaque_callback_data,
    };

    match kind {
        "text" => {
            let text = obj(body, "text", "text")?;
            let text_body = string(text, "body", "text['body']")?;
            if text_body.trim().is_empty() {
                return Err(GraphError::param(
                    "Param text['body'] must be a non-empty string.",
                ));
            }
            max_len(text_body, TEXT_MAX, "text['body']")?;
            if let Some(p) = text.get("preview_url")
                && !p.is_boolean()
            {
                return Err(GraphError::param(
                    "Param text['preview_url'] must be a boolean.",
                ));
            }
        }
        k if MEDIA_KINDS.contains(&k) => {
            send.async_error = validate_media(body, k, state)?;
        }
        "template" => {
            let template = obj(body, "template", "template")?;
            send.template_category = Some(validate_template(template, &state.templates)?);
        }
        "reaction" => {
            let reaction = obj(body, "reaction", "reaction")?;
            string(reaction, "message_id", "reaction['message_id']")?;
            // An empty emoji removes the reaction, so only the type is checked.
            string(reaction, "emoji", "reaction['emoji']")?;
        }
        "interactive" => validate_interactive(obj(body, "interactive", "interactive")?)?,
        "location" => {
            let location = obj(body, "location", "location")?;
            for key in ["latitude", "longitude"] {
                let path = format!("location['{key}']");
                match location.get(key) {
                    Some(v)
                        if v.is_number()
                            || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()) => {}
                    Some(_) => {
                        return Err(GraphError::param(format!("Param {path} must be a number.")));
                    }
                    None => {
                        return Err(GraphError::param(format!(
                            "The parameter {path} is required."
                        )));
                    }
                }
            }
        }
        "contacts" => {
            let contacts = body
                .get("contacts")
                .and_then(Value::as_array)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| GraphError::param("The parameter contacts is required."))?;
            for contact in contacts {
                let name = obj(contact, "name", "contacts['name']")?;
                string(name, "formatted_name", "contacts['name']['formatted_name']")?;
            }
        }
        _ => unreachable!("type was checked against MESSAGE_TYPES"),
    }
    Ok(Outbound::Message(send))
}

fn validate_media(
    body: &Value,
    kind: &str,
    state: &State,
) -> Result<Option<AsyncError>, GraphError> {
    let media = obj(body, kind, kind)?;
    let id = opt_string(media, "id", &format!("{kind}['id']"))?;
    let link = opt_string(media, "link", &format!("{kind}['link']"))?;
    let caption = opt_string(media, "caption", &format!("{kind}['caption']"))?;
    if let Some(caption) = caption {
        if matches!(kind, "audio" | "sticker") {
            return Err(GraphError::param(format!(
                "Param {kind}['caption'] is not a valid parameter for type {kind}."
            )));
        }
        max_len(caption, CAPTION_MAX, &format!("{kind}['caption']"))?;
    }
    if media.get("filename").is_some() && kind != "document" {
        return Err(GraphError::param(format!(
            "Param {kind}['filename'] is not a valid parameter for type {kind}."
        )));
    }
    match (id, link) {
        (Some(_), Some(_)) | (None, None) => Err(GraphError::invalid(format!(
            "Exactly one of {kind}['id'] or {kind}['link'] must be given."
        ))),
        (None, Some(link)) => {
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                return Err(GraphError::value_not_valid(format!(
                    "Param {kind}['link'] must be an http or https URL."
                )));
            }
            Ok(None)
        }
        (Some(id), None) => {
            let Some(file) = state.media.get(id) else {
                return Err(GraphError::value_not_valid(format!(
                    "Param {kind}['id'] is not a valid media id: {id}"
                )));
            };
            // Meta accepts the request and reports a mismatched file in a failed status.
            if kind_for_mime(&file.mime_type) != Some(kind)
                && !(kind == "document" && kind_for_mime(&file.mime_type).is_some())
            {
                return Ok(Some(AsyncError::media(format!(
                    "Media of type {} cannot be sent as {kind}.",
                    file.mime_type
                ))));
            }
            let limit = size_limit(kind, &file.bytes);
            if file.bytes.len() > limit {
                return Ok(Some(AsyncError::media(format!(
                    "Media file size {} bytes exceeds the {kind} limit of {limit} bytes.",
                    file.bytes.len()
                ))));
            }
            Ok(None)
        }
    }
}

/// Returns the template's pricing category. 132001 when the name/language is unknown or
/// not approved, 132000 when a component's parameter count differs from the template's.
fn validate_template(template: &Value, known: &[Template]) -> Result<String, GraphError> {
    let name = string(template, "name", "template['name']")?;
    let language = obj(template, "language", "template['language']")?;
    let code = string(language, "code", "template['language']['code']")?;
    let Some(found) = known.iter().find(|t| t.name == name && t.language == code) else {
        return Err(GraphError::template_missing(name, code));
    };
    match found.status.as_str() {
        "APPROVED" => {}
        "PAUSED" => return Err(GraphError::template_paused(name)),
        "DISABLED" => return Err(GraphError::template_disabled(name)),
        _ => return Err(GraphError::template_missing(name, code)),
    }

    let mut header = 0;
    let mut body = 0;
    let mut buttons = vec![0usize; found.button_params.len()];
    let empty = Vec::new();
    let components = match template.get("components") {
        None => &empty,
        Some(Value::Array(c)) => c,
        Some(_) => {
            return Err(GraphError::param(
                "Param template['components'] must be an array.",
            ));
        }
    };
    for component in components {
        let ctype = string(component, "type", "template['components'][]['type']")?;
        let params = match component.get("parameters") {
            None => &empty,
            Some(Value::Array(p)) => p,
            Some(_) => {
                return Err(GraphError::param(
                    "Param template['components'][]['parameters'] must be an array.",
                ));
            }
        };
        for param in params {
            let ptype = string(
                param,
                "type",
                "template['components'][]['parameters'][]['type']",
            )?;
            if ptype == "text" && !param.get("text").is_some_and(Value::is_string) {
                return Err(GraphError::value_not_valid(
                    "Param template['components'][]['parameters'][]['text'] is required for text parameters.",
                ));
            }
        }
        match ctype.to_ascii_lowercase().as_str() {
            "header" => header += params.len(),
            "body" => body += params.len(),
            "button" => {
                let index = component
                    .get("index")
                    .and_then(|i| {
                        i.as_u64()
                            .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
                    })
                    .unwrap_or(0) as usize;
                if index >= buttons.len() {
                    return Err(GraphError::template_param_count(format!(
                        "template {name} has no button at index {index}"
                    )));
                }
                buttons[index] += params.len();
            }
            _ => {}
        }
    }
    let check = |part: &str, expected: usize, got: usize| {
        if expected == got {
            Ok(())
        } else {
            Err(GraphError::template_param_count(format!(
                "{part}: number of localizable_params ({got}) does not match the expected number \
                 of params ({expected})"
            )))
        }
    };
    check("header", found.header_params, header)?;
    check("body", found.body_params, body)?;
    for (i, (&want, &got)) in found.button_params.iter().zip(&buttons).enumerate() {
        check(&format!("button {i}"), want, got)?;
    }
    Ok(found.category.to_ascii_lowercase())
}

fn validate_interactive(interactive: &Value) -> Result<(), GraphError> {
    let itype = string(interactive, "type", "interactive['type']")?;
    let body_max = match itype {
        "button" => 1024,
        "list" => 4096,
        "cta_url"
        | "flow"
        | "location_request_message"
        | "product"
        | "product_list"
        | "catalog_message"
        | "address_message"
        | "call_permission_request" => 1024,
        other => {
            return Err(GraphError::param(format!(
                "Param interactive['type'] must be one of {{BUTTON, LIST, CTA_URL, FLOW, \
                 LOCATION_REQUEST_MESSAGE, PRODUCT, PRODUCT_LIST, CATALOG_MESSAGE}} - got \"{other}\"."
            )));
        }
    };
    if let Some(body) = interactive.get("body") {
        max_len(
            string(body, "text", "interactive['body']['text']")?,
            body_max,
            "interactive['body']['text']",
        )?;
    } else if itype != "product" {
        return Err(GraphError::param(
            "The parameter interactive['body'] is required.",
        ));
    }
    if let Some(footer) = interactive.get("footer") {
        max_len(
            string(footer, "text", "interactive['footer']['text']")?,
            60,
            "interactive['footer']['text']",
        )?;
    }
    if let Some(header) = interactive.get("header")
        && header.get("type").and_then(Value::as_str) == Some("text")
    {
        max_len(
            string(header, "text", "interactive['header']['text']")?,
            60,
            "interactive['header']['text']",
        )?;
    }
    let action = obj(interactive, "action", "interactive['action']")?;
    match itype {
        "button" => {
            let buttons = action
                .get("buttons")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    GraphError::param("The parameter interactive['action']['buttons'] is required.")
                })?;
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(GraphError::invalid(
                    "interactive['action']['buttons'] must hold 1 to 3 buttons.",
                ));
            }
            let mut ids = Vec::new();
            for button in buttons {
                if button.get("type").and_then(Value::as_str) != Some("reply") {
                    return Err(GraphError::param(
                        "Param interactive['action']['buttons'][]['type'] must be one of {REPLY}.",
                    ));
                }
                let reply = obj(
                    button,
                    "reply",
                    "interactive['action']['buttons'][]['reply']",
                )?;
                let id = string(
                    reply,
                    "id",
                    "interactive['action']['buttons'][]['reply']['id']",
                )?;
                max_len(id, 256, "interactive['action']['buttons'][]['reply']['id']")?;
                let title = string(
                    reply,
                    "title",
                    "interactive['action']['buttons'][]['reply']['title']",
                )?;
                max_len(
                    title,
                    20,
                    "interactive['action']['buttons'][]['reply']['title']",
                )?;
                if ids.contains(&id) {
                    return Err(GraphError::invalid("Buttons must have unique ids."));
                }
                ids.push(id);
            }
        }
        "list" => {
            max_len(
                string(action, "button", "interactive['action']['button']")?,
                20,
                "interactive['action']['button']",
            )?;
            let sections = action
                .get("sections")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    GraphError::param(
                        "The parameter interactive['action']['sections'] is required.",
                    )
                })?;
            if sections.is_empty() || sections.len() > 10 {
                return Err(GraphError::invalid(
                    "interactive['action']['sections'] must hold 1 to 10 sections.",
                ));
            }
            let mut rows_total = 0;
            for section in sections {
                if let Some(title) = opt_string(
                    section,
                    "title",
                    "interactive['action']['sections'][]['title']",
                )? {
                    max_len(title, 24, "interactive['action']['sections'][]['title']")?;
                } else if sections.len() > 1 {
                    return Err(GraphError::param(
                        "The parameter interactive['action']['sections'][]['title'] is required when there are several sections.",
                    ));
                }
                let rows = section
                    .get("rows")
                    .and_then(Value::as_array)
                    .ok_or_else(|| GraphError::param("The parameter interactive['action']['sections'][]['rows'] is required."))?;
                rows_total += rows.len();
                for row in rows {
                    max_len(string(row, "id", "rows[]['id']")?, 200, "rows[]['id']")?;
                    max_len(
                        string(row, "title", "rows[]['title']")?,
                        24,
                        "rows[]['title']",
                    )?;
                    if let Some(d) = opt_string(row, "description", "rows[]['description']")? {
                        max_len(d, 72, "rows[]['description']")?;
                    }
                }
            }
            if rows_total == 0 || rows_total > 10 {
                return Err(GraphError::invalid(
                    "A list message must hold 1 to 10 rows in total.",
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_normalise_to_digits() {
        assert_eq!(
            wa_id_of("+1 (555) 010-0000").as_deref(),
            Some("15550100000")
        );
        assert_eq!(wa_id_of("abc"), None);
        assert_eq!(wa_id_of("123"), None);
    }

    #[test]
    fn limits_per_media_type_match_meta() {
        assert_eq!(size_limit("audio", b""), 16 * MB);
        assert_eq!(size_limit("video", b""), 16 * MB);
        assert_eq!(size_limit("document", b""), 100 * MB);
        assert_eq!(size_limit("image", b""), 5 * MB);
        assert_eq!(
            size_limit("sticker", b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0"),
            100 * KB
        );
        let animated = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0";
        assert!(is_animated_webp(animated));
        assert_eq!(size_limit("sticker", animated), 500 * KB);
        assert_eq!(kind_for_mime("application/pdf"), Some("document"));
        assert_eq!(kind_for_mime("image/gif"), None);
    }
}

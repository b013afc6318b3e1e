//! Typed message content: what each WhatsApp message type shows, parsed from the relay's
//! message body (Meta's webhook message object for inbound messages, our Graph request for
//! outbound ones) with teamline-whatsapp's wire types, and stored as JSON in the local store.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use teamline_whatsapp::outgoing::{
    InteractiveHeader, OutgoingContent, OutgoingMessage, TemplateParameter,
};
use teamline_whatsapp::webhook::{self, InteractiveReply, MessageKind};
use ts_rs::TS;

/// Media a message carries. `id` is what [`crate::Client::media`] fetches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "MediaInfo.ts")]
pub struct MediaInfo {
    /// Meta's media id; `None` for media we sent by public link.
    pub id: Option<String>,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    /// Documents: the file name the customer sees.
    pub filename: Option<String>,
    /// Bytes, once the relay announced them (`message.media_ready`).
    #[ts(type = "number | null")]
    pub size: Option<u64>,
    /// The relay has downloaded the bytes (or this device cached them): fetching works.
    pub ready: bool,
    /// Media we sent by public link.
    pub link: Option<String>,
}

/// A shared contact card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactCard.ts")]
pub struct ContactCard {
    pub name: String,
    pub phones: Vec<ContactCardPhone>,
    pub emails: Vec<String>,
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactCardPhone.ts")]
pub struct ContactCardPhone {
    pub phone: String,
    /// `CELL`, `HOME`, `WORK`... as WhatsApp sent it.
    pub label: Option<String>,
    /// Set when the number is on WhatsApp.
    pub wa_id: Option<String>,
}

/// What a message shows, by kind (Meta's `type`, with `interactive` split into the
/// customer's reply and the buttons we sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export_to = "MessageContent.ts")]
pub enum MessageContent {
    Text {
        body: String,
    },
    Image {
        media: MediaInfo,
        caption: Option<String>,
    },
    Video {
        media: MediaInfo,
        caption: Option<String>,
    },
    Audio {
        media: MediaInfo,
        /// A voice note recorded in WhatsApp.
        voice: bool,
    },
    Document {
        media: MediaInfo,
        caption: Option<String>,
    },
    Sticker {
        media: MediaInfo,
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
        url: Option<String>,
    },
    Contacts {
        contacts: Vec<ContactCard>,
    },
    /// Drawn as a badge on the reacted message, never as a bubble of its own.
    Reaction {
        /// The wamid of the message reacted to.
        target: String,
        /// `None` when the reaction was removed.
        emoji: Option<String>,
    },
    /// The customer tapped a reply button or list row of an interactive message (or sent a
    /// WhatsApp Flow's answer, `reply_kind` = `flow`).
    InteractiveReply {
        /// `button_reply`, `list_reply` or `flow`.
        reply_kind: String,
        id: Option<String>,
        title: String,
        description: Option<String>,
    },
    /// Reply buttons or a list we sent.
    Interactive {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        /// Button titles or list row titles.
        options: Vec<String>,
    },
    /// The customer tapped a template's quick-reply button.
    Button {
        text: Option<String>,
        payload: Option<String>,
    },
    /// A template we sent: its name, language and the values filled in.
    Template {
        name: String,
        language: String,
        parameters: Vec<String>,
    },
    /// A cart from the business's catalog.
    Order {
        text: Option<String>,
        #[ts(type = "number")]
        items: u32,
    },
    /// A notice from WhatsApp (e.g. the customer changed number).
    System {
        body: Option<String>,
    },
    /// A type WhatsApp (or this app) cannot show.
    Unsupported {
        type_name: String,
    },
}

/// What the store keeps for a message: its content, what it quotes, and whether it was
/// forwarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredContent {
    pub content: MessageContent,
    /// The wamid of the message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
}

impl StoredContent {
    /// Whether the store needs it at all: plain text that quotes nothing is fully said by
    /// the message's kind and text.
    pub fn worth_storing(&self) -> bool {
        !matches!(self.content, MessageContent::Text { .. })
            || self.reply_to.is_some()
            || self.forwarded
    }

    /// The wamid a reaction reacts to.
    pub fn reacts_to(&self) -> Option<&str> {
        match &self.content {
            MessageContent::Reaction { target, .. } => Some(target),
            _ => None,
        }
    }
}

fn media_of(m: &webhook::Media) -> MediaInfo {
    MediaInfo {
        id: Some(m.id.clone()),
        mime_type: m.mime_type.clone(),
        sha256: m.sha256.clone(),
        filename: m.filename.clone(),
        size: None,
        ready: false,
        link: None,
    }
}

fn outgoing_media_of(m: &teamline_whatsapp::outgoing::MediaObject) -> MediaInfo {
    MediaInfo {
        id: m.id.clone(),
        filename: m.filename.clone(),
        link: m.link.clone(),
        ..MediaInfo::default()
    }
}

fn contact_card(c: &webhook::SharedContact) -> ContactCard {
    let n = &c.name;
    let name = n.formatted_name.clone().unwrap_or_else(|| {
        [
            &n.prefix,
            &n.first_name,
            &n.middle_name,
            &n.last_name,
            &n.suffix,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
    });
    ContactCard {
        name,
        phones: c
            .phones
            .iter()
            .filter_map(|p| {
                Some(ContactCardPhone {
                    phone: p.phone.clone().or_else(|| p.wa_id.clone())?,
                    label: p.kind.clone(),
                    wa_id: p.wa_id.clone(),
                })
            })
            .collect(),
        emails: c.emails.iter().filter_map(|e| e.email.clone()).collect(),
        organization: c.org.as_ref().and_then(|o| o.company.clone()),
    }
}

fn inbound(msg: webhook::Message) -> StoredContent {
    let content = match msg.kind {
        MessageKind::Text(t) => MessageContent::Text { body: t.body },
        MessageKind::Image(m) => MessageContent::Image {
            media: media_of(&m),
            caption: m.caption,
        },
        MessageKind::Video(m) => MessageContent::Video {
            media: media_of(&m),
            caption: m.caption,
        },
        MessageKind::Audio(m) => MessageContent::Audio {
            media: media_of(&m),
            voice: m.voice.unwrap_or(false),
        },
        MessageKind::Document(m) => MessageContent::Document {
            media: media_of(&m),
            caption: m.caption,
        },
        MessageKind::Sticker(m) => MessageContent::Sticker {
            media: media_of(&m),
            animated: m.animated.unwrap_or(false),
        },
        MessageKind::Location(l) => MessageContent::Location {
            latitude: l.latitude,
            longitude: l.longitude,
            name: l.name,
            address: l.address,
            url: l.url,
        },
        MessageKind::Contacts(cs) => MessageContent::Contacts {
            contacts: cs.iter().map(contact_card).collect(),
        },
        MessageKind::Interactive(reply) => match reply {
            InteractiveReply::ButtonReply { button_reply: o } => MessageContent::InteractiveReply {
                reply_kind: "button_reply".into(),
                id: Some(o.id),
                title: o.title,
                description: o.description,
            },
            InteractiveReply::ListReply { list_reply: o } => MessageContent::InteractiveReply {
                reply_kind: "list_reply".into(),
                id: Some(o.id),
                title: o.title,
                description: o.description,
            },
            InteractiveReply::NfmReply { nfm_reply: f } => MessageContent::InteractiveReply {
                reply_kind: "flow".into(),
                id: None,
                title: f.body.or(f.name).unwrap_or_default(),
                description: None,
            },
        },
        MessageKind::Button(b) => MessageContent::Button {
            text: b.text,
            payload: b.payload,
        },
        MessageKind::Reaction(r) => MessageContent::Reaction {
            emoji: r.emoji.filter(|e| !e.is_empty()),
            target: r.message_id,
        },
        MessageKind::Order(o) => MessageContent::Order {
            text: o.text,
            items: u32::try_from(o.product_items.len()).unwrap_or(u32::MAX),
        },
        MessageKind::System(s) => MessageContent::System { body: s.body },
        MessageKind::Unsupported(u) => MessageContent::Unsupported {
            type_name: u.original_type.unwrap_or(u.type_name),
        },
    };
    let context = msg.context.unwrap_or_default();
    StoredContent {
        content,
        reply_to: context.id,
        forwarded: context.forwarded.unwrap_or(false)
            || context.frequently_forwarded.unwrap_or(false),
    }
}

fn parameter_text(p: &TemplateParameter) -> Option<String> {
    match p {
        TemplateParameter::Text { text, .. } => Some(text.clone()),
        TemplateParameter::Currency { currency } => Some(currency.fallback_value.clone()),
        TemplateParameter::DateTime { date_time } => Some(date_time.fallback_value.clone()),
        TemplateParameter::Image { image }
        | TemplateParameter::Video { video: image }
        | TemplateParameter::Document { document: image } => {
            image.filename.clone().or_else(|| image.link.clone())
        }
        TemplateParameter::Payload { .. } => None,
    }
}

fn outbound(msg: OutgoingMessage) -> StoredContent {
    let content = match msg.content {
        OutgoingContent::Text { text } => MessageContent::Text { body: text.body },
        OutgoingContent::Image { image } => MessageContent::Image {
            media: outgoing_media_of(&image),
            caption: image.caption,
        },
        OutgoingContent::Video { video } => MessageContent::Video {
            media: outgoing_media_of(&video),
            caption: video.caption,
        },
        OutgoingContent::Audio { audio } => MessageContent::Audio {
            media: outgoing_media_of(&audio),
            voice: false,
        },
        OutgoingContent::Document { document } => MessageContent::Document {
            media: outgoing_media_of(&document),
            caption: document.caption,
        },
        OutgoingContent::Sticker { sticker } => MessageContent::Sticker {
            media: outgoing_media_of(&sticker),
            animated: false,
        },
        OutgoingContent::Location { location } => MessageContent::Location {
            latitude: location.latitude,
            longitude: location.longitude,
            name: location.name,
            address: location.address,
            url: None,
        },
        OutgoingContent::Template { template } => MessageContent::Template {
            parameters: template
                .components
                .iter()
                .flat_map(|c| c.parameters.iter())
                .filter_map(parameter_text)
                .collect(),
            name: template.name,
            language: template.language.code,
        },
        OutgoingContent::Reaction { reaction } => MessageContent::Reaction {
            target: reaction.message_id,
            emoji: Some(reaction.emoji).filter(|e| !e.is_empty()),
        },
        OutgoingContent::Interactive { interactive } => MessageContent::Interactive {
            header: match interactive.header {
                Some(InteractiveHeader::Text { text }) => Some(text),
                _ => None,
            },
            body: interactive.body.text,
            footer: interactive.footer.map(|f| f.text),
            options: if interactive.action.buttons.is_empty() {
                interactive
                    .action
                    .sections
                    .iter()
                    .flat_map(|s| s.rows.iter().map(|r| r.title.clone()))
                    .collect()
            } else {
                interactive
                    .action
                    .buttons
                    .iter()
                    .map(|b| b.reply.title.clone())
                    .collect()
            },
        },
    };
    StoredContent {
        content,
        reply_to: msg.context.map(|c| c.message_id),
        forwarded: false,
    }
}

/// The content of a relay message row's body. A body that does not parse (an older relay,
/// a type this build does not know) still gives something to draw: its text, or an
/// "unsupported" placeholder naming the type.
pub(crate) fn parse(
    outbound_row: bool,
    kind: &str,
    body: &Value,
    text: Option<&str>,
) -> StoredContent {
    if let Some(plain) = plain_inbound_text(outbound_row, body) {
        return plain;
    }
    let parsed = if outbound_row {
        serde_json::from_value::<OutgoingMessage>(body.clone())
            .ok()
            .map(outbound)
    } else {
        webhook::Message::from_json(&body.to_string())
            .ok()
            .map(inbound)
    };
    parsed.unwrap_or_else(|| StoredContent {
        content: match text {
            Some(t) if kind == "text" => MessageContent::Text { body: t.to_owned() },
            _ => MessageContent::Unsupported {
                type_name: kind.to_owned(),
            },
        },
        reply_to: None,
        forwarded: false,
    })
}

/// An inbound text message that replies to nothing and was not forwarded (no `context`):
/// its content is its text, with no need to re-read Meta's whole object (most of a bulk
/// sync; [`parse`] otherwise serialises the body again to parse it as a webhook message).
fn plain_inbound_text(outbound_row: bool, body: &Value) -> Option<StoredContent> {
    let obj = body.as_object().filter(|_| !outbound_row)?;
    if obj.get("type").and_then(Value::as_str) != Some("text") || obj.contains_key("context") {
        return None;
    }
    let text = obj.get("text")?.get("body")?.as_str()?;
    Some(StoredContent {
        content: MessageContent::Text {
            body: text.to_owned(),
        },
        reply_to: None,
        forwarded: false,
    })
}

/// The content the store keeps for a message (`None` for plain text), read back; plain
/// text, or JSON this build cannot read, falls back to the message's text and kind.
pub(crate) fn stored(content: Option<&Value>, kind: &str, text: Option<&str>) -> StoredContent {
    content
        .and_then(|v| serde_json::from_value::<StoredContent>(v.clone()).ok())
        .unwrap_or_else(|| StoredContent {
            content: match kind {
                "text" => MessageContent::Text {
                    body: text.unwrap_or_default().to_owned(),
                },
                other => MessageContent::Unsupported {
                    type_name: other.to_owned(),
                },
            },
            reply_to: None,
            forwarded: false,
        })
}

impl MessageContent {
    /// The media part, if the message has one.
    pub fn media(&self) -> Option<&MediaInfo> {
        match self {
            MessageContent::Image { media, .. }
            | MessageContent::Video { media, .. }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media, .. }
            | MessageContent::Sticker { media, .. } => Some(media),
            _ => None,
        }
    }

    pub(crate) fn media_mut(&mut self) -> Option<&mut MediaInfo> {
        match self {
            MessageContent::Image { media, .. }
            | MessageContent::Video { media, .. }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media, .. }
            | MessageContent::Sticker { media, .. } => Some(media),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inbound_body(kind: &str, part: Value) -> Value {
        let mut m = json!({"from": "34611222333", "id": "wamid.A", "timestamp": "1750000000", "type": kind});
        m[kind] = part;
        m
    }

    #[test]
    fn every_inbound_type_keeps_its_fields() {
        let loc = parse(
            false,
            "location",
            &inbound_body(
                "location",
                json!({"latitude": 41.3874, "longitude": "2.1686", "name": "Shop", "address": "Carrer 1"}),
            ),
            None,
        );
        assert_eq!(
            loc.content,
            MessageContent::Location {
                latitude: 41.3874,
                longitude: 2.1686,
                name: Some("Shop".into()),
                address: Some("Carrer 1".into()),
                url: None
            }
        );
        let mut doc = inbound_body(
            "document",
            json!({"id": "m1", "mime_type": "application/pdf", "sha256": "ab", "filename": "invoice.pdf", "caption": "the invoice"}),
        );
        doc["context"] = json!({"from": "1555", "id": "wamid.Q"});
        let doc = parse(false, "document", &doc, Some("the invoice"));
        assert_eq!(doc.reply_to.as_deref(), Some("wamid.Q"));
        let MessageContent::Document { media, caption } = &doc.content else {
            panic!("{doc:?}")
        };
        assert_eq!(media.id.as_deref(), Some("m1"));
        assert_eq!(media.filename.as_deref(), Some("invoice.pdf"));
        assert_eq!(caption.as_deref(), Some("the invoice"));

        let contacts = parse(
            false,
            "contacts",
            &inbound_body(
                "contacts",
                json!([{"name": {"first_name": "Li", "last_name": "Wei"}, "phones": [{"phone": "+86 10 1234", "type": "WORK", "wa_id": "86101234"}]}]),
            ),
            None,
        );
        let MessageContent::Contacts { contacts } = contacts.content else {
            panic!()
        };
        assert_eq!(contacts[0].name, "Li Wei");
        assert_eq!(contacts[0].phones[0].phone, "+86 10 1234");
        assert_eq!(contacts[0].phones[0].label.as_deref(), Some("WORK"));

        let removed = parse(
            false,
            "reaction",
            &inbound_body("reaction", json!({"message_id": "wamid.T"})),
            None,
        );
        assert_eq!(removed.reacts_to(), Some("wamid.T"));
        assert_eq!(
            removed.content,
            MessageContent::Reaction {
                target: "wamid.T".into(),
                emoji: None
            }
        );
        let reply = parse(
            false,
            "interactive",
            &inbound_body(
                "interactive",
                json!({"type": "list_reply", "list_reply": {"id": "size-m", "title": "Medium", "description": "38-40"}}),
            ),
            None,
        );
        assert_eq!(
            reply.content,
            MessageContent::InteractiveReply {
                reply_kind: "list_reply".into(),
                id: Some("size-m".into()),
                title: "Medium".into(),
                description: Some("38-40".into())
            }
        );
        let poll = parse(false, "poll", &inbound_body("poll", json!({})), None);
        assert_eq!(
            poll.content,
            MessageContent::Unsupported {
                type_name: "poll".into()
            }
        );
        // Plain text is not stored; a quoted text is.
        let text = parse(
            false,
            "text",
            &inbound_body("text", json!({"body": "hi"})),
            Some("hi"),
        );
        assert!(!text.worth_storing());
        let mut quoted = inbound_body("text", json!({"body": "hi"}));
        quoted["context"] = json!({"id": "wamid.Q"});
        assert!(parse(false, "text", &quoted, Some("hi")).worth_storing());
    }

    #[test]
    fn outbound_templates_and_buttons_are_read_from_our_request() {
        let body = json!({
            "messaging_product": "whatsapp", "to": "34611222333", "type": "template",
            "template": {"name": "order_ready", "language": {"code": "en_US"}, "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#1042"}]}
            ]}
        });
        assert_eq!(
            parse(true, "template", &body, None).content,
            MessageContent::Template {
                name: "order_ready".into(),
                language: "en_US".into(),
                parameters: vec!["Ana".into(), "#1042".into()]
            }
        );
        let body = json!({
            "messaging_product": "whatsapp", "to": "1", "type": "interactive",
            "context": {"message_id": "wamid.Q"},
            "interactive": {"type": "button", "body": {"text": "Pick up or delivery?"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "p", "title": "Pick up"}},
                {"type": "reply", "reply": {"id": "d", "title": "Delivery"}}
            ]}}
        });
        let parsed = parse(true, "interactive", &body, None);
        assert_eq!(parsed.reply_to.as_deref(), Some("wamid.Q"));
        assert_eq!(
            parsed.content,
            MessageContent::Interactive {
                header: None,
                body: "Pick up or delivery?".into(),
                footer: None,
                options: vec!["Pick up".into(), "Delivery".into()]
            }
        );
        // An unreadable body keeps the text.
        assert_eq!(
            parse(true, "text", &json!({}), Some("hello")).content,
            MessageContent::Text {
                body: "hello".into()
            }
        );
    }

    #[test]
    fn stored_content_round_trips() {
        let c = parse(
            false,
            "image",
            &inbound_body(
                "image",
                json!({"id": "m9", "mime_type": "image/jpeg", "caption": "look"}),
            ),
            Some("look"),
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["content"]["kind"], "image");
        assert_eq!(stored(Some(&v), "image", Some("look")), c);
        assert_eq!(
            stored(None, "text", Some("hi")).content,
            MessageContent::Text { body: "hi".into() }
        );
    }
}

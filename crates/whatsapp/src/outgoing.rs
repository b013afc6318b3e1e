//! Request bodies of `POST /{phone-number-id}/messages`, exactly as Meta documents them:
//! sending a message, and marking one read (with or without a typing indicator).
//!
//! They deserialize too, so the emulator validates what the client sends with the same types.

use serde::{Deserialize, Serialize};

use crate::lenient;

/// The only `messaging_product` WhatsApp accepts.
pub const MESSAGING_PRODUCT: &str = "whatsapp";
/// Limits Meta documents for message content (in characters).
pub const MAX_TEXT_BODY_CHARS: usize = 4096;
pub const MAX_CAPTION_CHARS: usize = 1024;
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;
pub const MAX_REPLY_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_LIST_ROW_TITLE_CHARS: usize = 24;
pub const MAX_LIST_ROW_DESCRIPTION_CHARS: usize = 72;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    pub messaging_product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    /// Phone number (or business-scoped user id) of the customer.
    pub to: String,
    /// Makes the message a reply to `context.message_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Echoed back in this message's status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(flatten)]
    pub content: OutgoingContent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyContext {
    pub message_id: String,
}

/// `type` and the object named after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutgoingContent {
    Text { text: TextBody },
    Image { image: MediaObject },
    Video { video: MediaObject },
    Audio { audio: MediaObject },
    Document { document: MediaObject },
    Sticker { sticker: MediaObject },
    Location { location: LocationBody },
    Template { template: Template },
    Reaction { reaction: ReactionBody },
    Interactive { interactive: Interactive },
}

impl OutgoingContent {
    pub fn type_name(&self) -> &'static str {
        match self {
            OutgoingContent::Text { .. } => "text",
            OutgoingContent::Image { .. } => "image",
            OutgoingContent::Video { .. } => "video",
            OutgoingContent::Audio { .. } => "audio",
            OutgoingContent::Document { .. } => "document",
            OutgoingContent::Sticker { .. } => "sticker",
            OutgoingContent::Location { .. } => "location",
            OutgoingContent::Template { .. } => "template",
            OutgoingContent::Reaction { .. } => "reaction",
            OutgoingContent::Interactive { .. } => "interactive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<bool>,
    pub body: String,
}

/// A media object: an uploaded media `id` or a public `link`, plus caption/filename.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Image, video and document only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Document only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// Where the media to send lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// Returned by `upload_media`.
    Id(String),
    /// A public HTTPS URL Meta fetches.
    Link(String),
}

impl MediaObject {
    pub fn new(source: MediaSource) -> Self {
        match source {
            MediaSource::Id(id) => MediaObject {
                id: Some(id),
                ..Default::default()
            },
            MediaSource::Link(link) => MediaObject {
                link: Some(link),
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationBody {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// An emoji reaction; an empty `emoji` removes the business's reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionBody {
    pub message_id: String,
    pub emoji: String,
}

/// A template message (the only kind allowed outside the 24-hour window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: TemplateLanguage,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TemplateComponent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLanguage {
    /// e.g. `en_US`, `ru`, `zh_CN`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Template {
    pub fn new(name: impl Into<String>, language_code: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            language: TemplateLanguage {
                code: language_code.into(),
                policy: None,
            },
            components: Vec::new(),
        }
    }

    pub fn with_component(mut self, component: TemplateComponent) -> Self {
        self.components.push(component);
        self
    }

    /// How many parameters the request fills in, for checking against the template.
    pub fn parameter_count(&self) -> usize {
        self.components.iter().map(|c| c.parameters.len()).sum()
    }
}

/// A component of a template with the values for its placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateComponent {
    /// `header`, `body` or `button`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Buttons only: `quick_reply`, `url`, `copy_code`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// Buttons only: position of the button, as a string (`"0"`).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub index: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<TemplateParameter>,
}

impl TemplateComponent {
    pub fn header(parameters: Vec<TemplateParameter>) -> Self {
        Self::plain("header", parameters)
    }

    pub fn body(parameters: Vec<TemplateParameter>) -> Self {
        Self::plain("body", parameters)
    }

    /// A quick-reply button: its `payload` comes back in the customer's `button` message.
    pub fn quick_reply_button(index: u32, payload: impl Into<String>) -> Self {
        TemplateComponent {
            kind: "button".to_owned(),
            sub_type: Some("quick_reply".to_owned()),
            index: Some(index.to_string()),
            parameters: vec![TemplateParameter::Payload {
                payload: payload.into(),
            }],
        }
    }

    /// A URL button: `url_suffix` fills the template's dynamic URL placeholder.
    pub fn url_button(index: u32, url_suffix: impl Into<String>) -> Self {
        TemplateComponent {
            kind: "button".to_owned(),
            sub_type: Some("url".to_owned()),
            index: Some(index.to_string()),
            parameters: vec![TemplateParameter::text(url_suffix)],
        }
    }

    fn plain(kind: &str, parameters: Vec<TemplateParameter>) -> Self {
        TemplateComponent {
            kind: kind.to_owned(),
            sub_type: None,
            index: None,
            parameters,
        }
    }
}

/// A value for one template placeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TemplateParameter {
    Text {
        text: String,
        /// For templates with named parameters (`{{order_id}}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parameter_name: Option<String>,
    },
    Currency {
        currency: CurrencyParameter,
    },
    DateTime {
        date_time: DateTimeParameter,
    },
    Image {
        image: MediaObject,
    },
    Video {
        video: MediaObject,
    },
    Document {
        document: MediaObject,
    },
    Payload {
        payload: String,
    },
}

impl TemplateParameter {
    pub fn text(text: impl Into<String>) -> Self {
        TemplateParameter::Text {
            text: text.into(),
            parameter_name: None,
        }
    }

    pub fn named_text(name: impl Into<String>, text: impl Into<String>) -> Self {
        TemplateParameter::Text {
            text: text.into(),
            parameter_name: Some(name.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyParameter {
    pub fallback_value: String,
    /// ISO 4217 code.
    pub code: String,
    /// Amount multiplied by 1000.
    pub amount_1000: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTimeParameter {
    pub fallback_value: String,
}

/// An interactive message: reply buttons or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactive {
    /// `button` or `list`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<InteractiveHeader>,
    pub body: InteractiveText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<InteractiveText>,
    pub action: InteractiveAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveText {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveHeader {
    Text { text: String },
    Image { image: MediaObject },
    Video { video: MediaObject },
    Document { document: MediaObject },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractiveAction {
    /// Reply buttons (type `button`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ReplyButton>,
    /// The label of the button that opens a list (type `list`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<ListSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// Always `reply`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reply: ReplyButtonBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButtonBody {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl OutgoingMessage {
    /// Any content to an individual; the constructors below are shorthands.
    pub fn new(to: impl Into<String>, content: OutgoingContent) -> Self {
        OutgoingMessage {
            messaging_product: MESSAGING_PRODUCT.to_owned(),
            recipient_type: Some("individual".to_owned()),
            to: to.into(),
            context: None,
            biz_opaque_callback_data: None,
            content,
        }
    }

    pub fn text(to: impl Into<String>, body: impl Into<String>, preview_url: bool) -> Self {
        Self::new(
            to,
            OutgoingContent::Text {
                text: TextBody {
                    preview_url: Some(preview_url),
                    body: body.into(),
                },
            },
        )
    }

    pub fn image(to: impl Into<String>, source: MediaSource, caption: Option<String>) -> Self {
        let image = MediaObject {
            caption,
            ..MediaObject::new(source)
        };
        Self::new(to, OutgoingContent::Image { image })
    }

    pub fn video(to: impl Into<String>, source: MediaSource, caption: Option<String>) -> Self {
        let video = MediaObject {
            caption,
            ..MediaObject::new(source)
        };
        Self::new(to, OutgoingContent::Video { video })
    }

    /// Audio takes no caption.
    pub fn audio(to: impl Into<String>, source: MediaSource) -> Self {
        let audio = MediaObject::new(source);
        Self::new(to, OutgoingContent::Audio { audio })
    }

    pub fn document(
        to: impl Into<String>,
        source: MediaSource,
        caption: Option<String>,
        filename: Option<String>,
    ) -> Self {
        let document = MediaObject {
            caption,
            filename,
            ..MediaObject::new(source)
        };
        Self::new(to, OutgoingContent::Document { document })
    }

    /// Stickers take no caption.
    pub fn sticker(to: impl Into<String>, source: MediaSource) -> Self {
        let sticker = MediaObject::new(source);
        Self::new(to, OutgoingContent::Sticker { sticker })
    }

    pub fn template(to: impl Into<String>, template: Template) -> Self {
        Self::new(to, OutgoingContent::Template { template })
    }

    /// React to `message_id`; an empty `emoji` removes the reaction.
    pub fn reaction(
        to: impl Into<String>,
        message_id: impl Into<String>,
        emoji: impl Into<String>,
    ) -> Self {
        let reaction = ReactionBody {
            message_id: message_id.into(),
            emoji: emoji.into(),
        };
        Self::new(to, OutgoingContent::Reaction { reaction })
    }

    /// Up to three reply buttons, given as `(id, title)`.
    pub fn buttons(
        to: impl Into<String>,
        body: impl Into<String>,
        buttons: &[(&str, &str)],
    ) -> Self {
        let interactive = Interactive {
            kind: "button".to_owned(),
            header: None,
            body: InteractiveText { text: body.into() },
            footer: None,
            action: InteractiveAction {
                buttons: buttons
                    .iter()
                    .map(|(id, title)| ReplyButton {
                        kind: "reply".to_owned(),
                        reply: ReplyButtonBody {
                            id: (*id).to_owned(),
                            title: (*title).to_owned(),
                        },
                    })
                    .collect(),
                ..Default::default()
            },
        };
        Self::new(to, OutgoingContent::Interactive { interactive })
    }

    /// A list opened by a button labelled `button_label`.
    pub fn list(
        to: impl Into<String>,
        body: impl Into<String>,
        button_label: impl Into<String>,
        sections: Vec<ListSection>,
    ) -> Self {
        let interactive = Interactive {
            kind: "list".to_owned(),
            header: None,
            body: InteractiveText { text: body.into() },
            footer: None,
            action: InteractiveAction {
                button: Some(button_label.into()),
                sections,
                ..Default::default()
            },
        };
        Self::new(to, OutgoingContent::Interactive { interactive })
    }

    /// Sends this message as a reply to `message_id` (quoted in the customer's app).
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.context = Some(ReplyContext {
            message_id: message_id.into(),
        });
        self
    }

    /// Data Meta echoes back in this message's status webhooks.
    pub fn with_callback_data(mut self, data: impl Into<String>) -> Self {
        self.biz_opaque_callback_data = Some(data.into());
        self
    }

    pub fn type_name(&self) -> &'static str {
        self.content.type_name()
    }

    /// Checks the limits Meta documents, so an invalid message fails before it is queued.
    /// Returns a description of the first problem (no content).
    pub fn validate(&self) -> Result<(), String> {
        if self.messaging_product != MESSAGING_PRODUCT {
            return Err("messaging_product must be \"whatsapp\"".to_owned());
        }
        if self.to.trim().is_empty() {
            return Err("`to` is empty".to_owned());
        }
        let chars = |s: &str| s.chars().count();
        let media_ok = |m: &MediaObject, caption_allowed: bool| -> Result<(), String> {
            match (&m.id, &m.link) {
                (Some(_), Some(_)) => return Err("media has both id and link".to_owned()),
                (None, None) => return Err("media needs an id or a link".to_owned()),
                _ => {}
            }
            match &m.caption {
                Some(_) if !caption_allowed => Err("this media type takes no caption".to_owned()),
                Some(c) if chars(c) > MAX_CAPTION_CHARS => Err(format!(
                    "caption longer than {MAX_CAPTION_CHARS} characters"
                )),
                _ => Ok(()),
            }
        };
        match &self.content {
            OutgoingContent::Text { text } => {
                if text.body.is_empty() {
                    return Err("text body is empty".to_owned());
                }
                if chars(&text.body) > MAX_TEXT_BODY_CHARS {
                    return Err(format!(
                        "text body longer than {MAX_TEXT_BODY_CHARS} characters"
                    ));
                }
                Ok(())
            }
            OutgoingContent::Image { image: m }
            | OutgoingContent::Video { video: m }
            | OutgoingContent::Document { document: m } => media_ok(m, true),
            OutgoingContent::Audio { audio: m } | OutgoingContent::Sticker { sticker: m } => {
                media_ok(m, false)
            }
            OutgoingContent::Location { .. } => Ok(()),
            OutgoingContent::Template { template } => {
                if template.name.is_empty() || template.language.code.is_empty() {
                    Err("template needs a name and a language code".to_owned())
                } else {
                    Ok(())
                }
            }
            OutgoingContent::Reaction { reaction } => {
                if reaction.message_id.is_empty() {
                    Err("reaction needs a message_id".to_owned())
                } else {
                    Ok(())
                }
            }
            OutgoingContent::Interactive { interactive } => validate_interactive(interactive),
        }
    }
}

fn validate_interactive(i: &Interactive) -> Result<(), String> {
    let chars = |s: &str| s.chars().count();
    if i.body.text.is_empty() || chars(&i.body.text) > MAX_INTERACTIVE_BODY_CHARS {
        return Err(format!(
            "interactive body must be 1..={MAX_INTERACTIVE_BODY_CHARS} characters"
        ));
    }
    match i.kind.as_str() {
        "button" => {
            let n = i.action.buttons.len();
            if n == 0 || n > MAX_REPLY_BUTTONS {
                return Err(format!("reply buttons must number 1..={MAX_REPLY_BUTTONS}"));
            }
            if i.action
                .buttons
                .iter()
                .any(|b| b.reply.title.is_empty() || chars(&b.reply.title) > MAX_BUTTON_TITLE_CHARS)
            {
                return Err(format!(
                    "button titles must be 1..={MAX_BUTTON_TITLE_CHARS} characters"
                ));
            }
            Ok(())
        }
        "list" => {
            let rows: Vec<&ListRow> = i.action.sections.iter().flat_map(|s| &s.rows).collect();
            if rows.is_empty() || rows.len() > MAX_LIST_ROWS {
                return Err(format!("list rows must number 1..={MAX_LIST_ROWS}"));
            }
            if i.action.button.as_deref().is_none_or(str::is_empty) {
                return Err("list needs a button label".to_owned());
            }
            if rows.iter().any(|r| {
                chars(&r.title) > MAX_LIST_ROW_TITLE_CHARS
                    || r.description
                        .as_deref()
                        .is_some_and(|d| chars(d) > MAX_LIST_ROW_DESCRIPTION_CHARS)
            }) {
                return Err("a list row's title or description is too long".to_owned());
            }
            Ok(())
        }
        other => Err(format!("unknown interactive type {other:?}")),
    }
}

/// `{"messaging_product":"whatsapp","status":"read","message_id":...}`: marks a received
/// message read (blue ticks) and, with `typing_indicator`, shows "typing…" for up to 25 s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    pub messaging_product: String,
    pub status: String,
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_indicator: Option<TypingIndicator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingIndicator {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl ReadReceipt {
    pub fn read(message_id: impl Into<String>) -> Self {
        ReadReceipt {
            messaging_product: MESSAGING_PRODUCT.to_owned(),
            status: "read".to_owned(),
            message_id: message_id.into(),
            typing_indicator: None,
        }
    }

    pub fn typing(message_id: impl Into<String>) -> Self {
        ReadReceipt {
            typing_indicator: Some(TypingIndicator {
                kind: "text".to_owned(),
            }),
            ..Self::read(message_id)
        }
    }
}

/// Either body the `/messages` endpoint accepts; lets the emulator route one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum MessagesRequest {
    Send(Box<OutgoingMessage>),
    Read(ReadReceipt),
}

impl MessagesRequest {
    /// A body with a `status` key is a read receipt; anything else must be a message.
    pub fn from_slice(body: &[u8]) -> Result<Self, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_slice(body)?;
        if value.get("status").is_some() {
            serde_json::from_value(value).map(MessagesRequest::Read)
        } else {
            serde_json::from_value(value).map(|m| MessagesRequest::Send(Box::new(m)))
        }
    }
}

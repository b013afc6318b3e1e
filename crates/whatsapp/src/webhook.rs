//! Webhook payloads of the WhatsApp Business Account object, normalized into items.
//!
//! Meta adds message types and fields without notice, and a relay that rejects a payload
//! makes Meta retry it for days. So parsing is layered: only a body that is not a JSON
//! object fails; every entry, change, message and status is parsed on its own, and anything
//! that does not fit is kept as raw JSON in an "unsupported" item next to the others.
//!
//! ```
//! use teamline_whatsapp::webhook::{WebhookItem, WebhookPayload};
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"222"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"34600111222"}],"messages":[{"from":"34600111222","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"hola"}}]}}]}]}"#;
//! let payload = WebhookPayload::from_slice(body).unwrap();
//! let WebhookItem::Message(m) = &payload.items[0] else { panic!() };
//! assert_eq!(m.message.kind.preview_text(), "hola");
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{self, ErrorClass};
use crate::lenient;

/// The `object` of WhatsApp Business Account webhooks.
pub const OBJECT_WHATSAPP: &str = "whatsapp_business_account";
/// The change field carrying messages, statuses and value-level errors.
pub const FIELD_MESSAGES: &str = "messages";
/// The change field carrying template review outcomes.
pub const FIELD_TEMPLATE_STATUS: &str = "message_template_status_update";

/// Why a body was refused as a whole. Deliberately carries no content from the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("webhook body is not valid JSON ({0})")]
    NotJson(String),
    #[error("webhook body is not a JSON object with an `entry` array")]
    NotEnvelope,
}

/// A parsed webhook POST: its `object` and every item of every entry and change, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookPayload {
    pub object: String,
    pub items: Vec<WebhookItem>,
}

/// One thing that happened, with the entry (WABA id) it came in.
// Most items are messages, the largest variant; boxing would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookItem {
    /// A customer's message (its kind may itself be `Unsupported`).
    Message(InboundMessage),
    /// A status of a message the business sent.
    Status(StatusUpdate),
    /// A template was approved, rejected, paused...
    TemplateStatus(TemplateStatusUpdate),
    /// A value-level `errors[]` entry: a problem not tied to one message.
    Error(ValueError),
    /// Something that could not be understood, kept raw so nothing is lost.
    Unsupported(UnsupportedItem),
}

impl WebhookItem {
    /// A stable name for logs and metrics (never content).
    pub fn kind_name(&self) -> &'static str {
        match self {
            WebhookItem::Message(_) => "message",
            WebhookItem::Status(_) => "status",
            WebhookItem::TemplateStatus(_) => "template_status",
            WebhookItem::Error(_) => "error",
            WebhookItem::Unsupported(_) => "unsupported",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub entry_id: String,
    pub metadata: Option<Metadata>,
    /// The sender's contact card from `value.contacts`, matched by `wa_id`/`user_id`.
    pub contact: Option<Contact>,
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub entry_id: String,
    pub metadata: Option<Metadata>,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStatusUpdate {
    pub entry_id: String,
    pub update: TemplateStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    pub entry_id: String,
    pub metadata: Option<Metadata>,
    pub error: WaError,
}

/// Which level of the payload an unsupported item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedLevel {
    Entry,
    /// A change whose `field` is not one we handle, or whose `value` has the wrong shape.
    Change,
    /// A message without the fields every message has (`id`, `type`...).
    Message,
    Status,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedItem {
    pub entry_id: Option<String>,
    pub field: Option<String>,
    pub level: UnsupportedLevel,
    /// Why it was not understood: a JSON path/position and the kind of problem, no content.
    pub reason: String,
    pub raw: Value,
}

/// `value.metadata`: which business number the change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub display_phone_number: String,
    pub phone_number_id: String,
}

/// `value.contacts[]`: who sent the messages of this change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The customer's WhatsApp id (phone number); may be withheld for username users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// Business-scoped user id (BSUID), e.g. `US.13491208655302741918`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_key_hash: Option<String>,
}

impl Contact {
    /// The best name to show: profile name, then username.
    pub fn display_name(&self) -> Option<&str> {
        self.profile
            .as_ref()
            .and_then(|p| p.name.as_deref().or(p.username.as_deref()))
            .or(self.username.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// An error object inside a webhook (`value.errors[]`, `messages[].errors[]`,
/// `statuses[].errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaError {
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<WaErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl WaError {
    /// Webhook errors have no HTTP status; classification is by code alone.
    pub fn class(&self) -> ErrorClass {
        error::classify(self.code, None)
    }

    /// Plain words for the team: known description, else Meta's details, title or message.
    pub fn describe(&self) -> String {
        error::describe(self.code)
            .map(str::to_owned)
            .or_else(|| self.error_data.as_ref().and_then(|d| d.details.clone()))
            .or_else(|| self.title.clone())
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| format!("WhatsApp error {}", self.code))
    }
}

/// A customer's message: the fields every type shares, and the type-specific kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The sender's phone number; absent for username-only users (then use `from_user_id`).
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    pub from_parent_user_id: Option<String>,
    /// The `wamid.` id.
    pub id: String,
    /// Unix seconds, as Meta sends it (a string).
    pub timestamp: String,
    pub context: Option<Context>,
    pub referral: Option<Referral>,
    pub errors: Vec<WaError>,
    pub kind: MessageKind,
}

impl Message {
    pub fn timestamp_secs(&self) -> Option<i64> {
        self.timestamp.trim().parse().ok()
    }

    /// The sender's id for threading: phone number, else business-scoped user id.
    pub fn sender(&self) -> Option<&str> {
        self.from.as_deref().or(self.from_user_id.as_deref())
    }

    /// Parses one message object. Fails only when the fields every message has are
    /// missing; an unknown or malformed type yields [`MessageKind::Unsupported`].
    pub fn from_json(raw: &str) -> Result<Message, String> {
        parse_message(raw)
    }
}

/// `context`: what the message replies to, or that it was forwarded, or the product asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The business number the replied-to message came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The `wamid` of the message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequently_forwarded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_product: Option<ReferredProduct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferredProduct {
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub catalog_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_retailer_id: Option<String>,
}

/// `referral`: the click-to-WhatsApp ad or post the customer came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctwa_clid: Option<String>,
}

/// The type-specific part of a message; the variant names follow Meta's `type` values.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageKind {
    Text(Text),
    Image(Media),
    Video(Media),
    /// `voice: true` for a voice note recorded in the app.
    Audio(Media),
    Document(Media),
    Sticker(Media),
    Location(Location),
    Contacts(Vec<SharedContact>),
    Interactive(InteractiveReply),
    /// A quick-reply button of a template.
    Button(ButtonReply),
    Reaction(Reaction),
    Order(Order),
    System(System),
    /// Meta's `unsupported` type, any type we do not know, or a known type whose content
    /// did not parse. `raw` is the whole message object.
    Unsupported(UnsupportedMessage),
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedMessage {
    /// The wire `type` (`unsupported`, or e.g. `poll` when Meta adds one).
    pub type_name: String,
    /// For Meta's `unsupported` type: `unsupported.type` (e.g. `edit`) when given.
    pub original_type: Option<String>,
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
}

/// Image, video, audio, document and sticker objects share this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Media id for `GET /{media-id}`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Documents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Audio only: a voice note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<bool>,
    /// Stickers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
    /// Newer webhooks include a download URL (still needs the bearer token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(deserialize_with = "lenient::f64")]
    pub latitude: f64,
    #[serde(deserialize_with = "lenient::f64")]
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A contact card the customer shared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    #[serde(default)]
    pub name: ContactName,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ContactAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<ContactUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<ContactOrg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPhone {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEmail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactUrl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactOrg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The customer's answer to an interactive message the business sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveReply {
    ButtonReply {
        button_reply: ReplyOption,
    },
    ListReply {
        list_reply: ReplyOption,
    },
    /// A WhatsApp Flow's response; `response_json` is a JSON string.
    NfmReply {
        nfm_reply: FlowReply,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyOption {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_json: Option<String>,
}

/// `button`: the customer tapped a template's quick-reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A reaction to a business message; `emoji` is absent when the reaction was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

impl Reaction {
    pub fn is_removal(&self) -> bool {
        self.emoji.as_deref().is_none_or(str::is_empty)
    }
}

/// A cart sent from the business's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub catalog_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub product_items: Vec<ProductItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductItem {
    #[serde(deserialize_with = "lenient::string")]
    pub product_retailer_id: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<u64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub item_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A system notice: the customer changed number or business-scoped user id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `user_changed_number`, `user_changed_user_id`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The new WhatsApp id after a number change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_wa_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_user_id: Option<String>,
}

impl System {
    /// The id the customer now has, whichever field Meta used.
    pub fn new_id(&self) -> Option<&str> {
        self.new_wa_id
            .as_deref()
            .or(self.wa_id.as_deref())
            .or(self.user_id.as_deref())
    }
}

const PREVIEW_MAX_CHARS: usize = 120;

impl MessageKind {
    /// Meta's `type` value for this kind (for `Unsupported`, the type as received).
    pub fn type_name(&self) -> &str {
        match self {
            MessageKind::Text(_) => "text",
            MessageKind::Image(_) => "image",
            MessageKind::Video(_) => "video",
            MessageKind::Audio(_) => "audio",
            MessageKind::Document(_) => "document",
            MessageKind::Sticker(_) => "sticker",
            MessageKind::Location(_) => "location",
            MessageKind::Contacts(_) => "contacts",
            MessageKind::Interactive(_) => "interactive",
            MessageKind::Button(_) => "button",
            MessageKind::Reaction(_) => "reaction",
            MessageKind::Order(_) => "order",
            MessageKind::System(_) => "system",
            MessageKind::Unsupported(u) => &u.type_name,
        }
    }

    pub fn is_supported(&self) -> bool {
        !matches!(self, MessageKind::Unsupported(_))
    }

    /// The media object, for the kinds that carry one.
    pub fn media(&self) -> Option<&Media> {
        match self {
            MessageKind::Image(m)
            | MessageKind::Video(m)
            | MessageKind::Audio(m)
            | MessageKind::Document(m)
            | MessageKind::Sticker(m) => Some(m),
            _ => None,
        }
    }

    /// A short one-line preview for notifications and the conversation list (at most
    /// 120 characters, newlines flattened). English labels; the UI may localise by kind.
    pub fn preview_text(&self) -> String {
        let with_caption = |label: &str, m: &Media| match m.caption.as_deref() {
            Some(c) if !c.trim().is_empty() => format!("{label}: {c}"),
            _ => label.to_owned(),
        };
        let text = match self {
            MessageKind::Text(t) => t.body.clone(),
            MessageKind::Image(m) => with_caption("Photo", m),
            MessageKind::Video(m) => with_caption("Video", m),
            MessageKind::Audio(m) if m.voice == Some(true) => "Voice message".to_owned(),
            MessageKind::Audio(_) => "Audio".to_owned(),
            MessageKind::Document(m) => match (&m.filename, &m.caption) {
                (Some(f), _) => format!("Document: {f}"),
                (None, _) => with_caption("Document", m),
            },
            MessageKind::Sticker(_) => "Sticker".to_owned(),
            MessageKind::Location(l) => match l.name.as_deref().or(l.address.as_deref()) {
                Some(n) => format!("Location: {n}"),
                None => "Location".to_owned(),
            },
            MessageKind::Contacts(c) => {
                let names: Vec<&str> = c
                    .iter()
                    .filter_map(|c| c.name.formatted_name.as_deref())
                    .collect();
                if names.is_empty() {
                    "Contact".to_owned()
                } else {
                    format!("Contact: {}", names.join(", "))
                }
            }
            MessageKind::Interactive(InteractiveReply::ButtonReply { button_reply: r })
            | MessageKind::Interactive(InteractiveReply::ListReply { list_reply: r }) => {
                r.title.clone()
            }
            MessageKind::Interactive(InteractiveReply::NfmReply { nfm_reply }) => nfm_reply
                .body
                .clone()
                .unwrap_or_else(|| "Form response".to_owned()),
            MessageKind::Button(b) => b
                .text
                .clone()
                .or_else(|| b.payload.clone())
                .unwrap_or_else(|| "Button".to_owned()),
            MessageKind::Reaction(r) => match r.emoji.as_deref() {
                Some(e) if !e.is_empty() => format!("Reacted {e}"),
                _ => "Removed a reaction".to_owned(),
            },
            MessageKind::Order(o) => {
                let n: u64 = o
                    .product_items
                    .iter()
                    .map(|i| i.quantity.unwrap_or(1))
                    .sum();
                format!("Order: {n} item{}", if n == 1 { "" } else { "s" })
            }
            MessageKind::System(s) => s.body.clone().unwrap_or_else(|| "System notice".to_owned()),
            MessageKind::Unsupported(u) => {
                let t = u.original_type.as_deref().unwrap_or(&u.type_name);
                format!("Unsupported message ({t})")
            }
        };
        shorten(&text, PREVIEW_MAX_CHARS)
    }
}

fn shorten(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        return flat.to_owned();
    }
    let mut out: String = flat.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A status of a message the business sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The `wamid` of the business's message.
    pub id: String,
    pub status: StatusKind,
    #[serde(deserialize_with = "lenient::string")]
    pub timestamp: String,
    /// The customer's phone number; may be absent for username-only users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_parent_user_id: Option<String>,
    /// `individual` or `group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WaError>,
}

impl Status {
    pub fn timestamp_secs(&self) -> Option<i64> {
        self.timestamp.trim().parse().ok()
    }

    /// The first error's class, for `failed` statuses.
    pub fn error_class(&self) -> Option<ErrorClass> {
        self.errors.first().map(WaError::class)
    }
}

/// `sent` → `delivered` → `read` (→ `played` for voice), or `failed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    /// A status Meta added later (kept, never a parse failure).
    Other(String),
}

impl StatusKind {
    pub fn as_str(&self) -> &str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Played => "played",
            StatusKind::Failed => "failed",
            StatusKind::Other(s) => s,
        }
    }

    /// Order for "statuses only move forward": failed is final, unknown ranks lowest.
    pub fn rank(&self) -> u8 {
        match self {
            StatusKind::Other(_) => 0,
            StatusKind::Sent => 1,
            StatusKind::Delivered => 2,
            StatusKind::Read => 3,
            StatusKind::Played => 4,
            StatusKind::Failed => 5,
        }
    }
}

impl Serialize for StatusKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StatusKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "sent" => StatusKind::Sent,
            "delivered" => StatusKind::Delivered,
            "read" => StatusKind::Read,
            "played" => StatusKind::Played,
            "failed" => StatusKind::Failed,
            _ => StatusKind::Other(s),
        })
    }
}

/// `statuses[].conversation` (per-conversation billing; older webhooks and some categories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<ConversationOrigin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationOrigin {
    #[serde(rename = "type")]
    pub kind: String,
}

/// `statuses[].pricing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    /// `CBP` (old) or `PMP` (per-message pricing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    /// `regular` or `free_customer_service` / `free_entry_point` under PMP.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `marketing`, `utility`, `authentication`, `service`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// The value of a `message_template_status_update` change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateStatus {
    /// `APPROVED`, `REJECTED`, `PENDING`, `PAUSED`, `DISABLED`, ...
    pub event: String,
    #[serde(deserialize_with = "lenient::string")]
    pub message_template_id: String,
    pub message_template_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_info: Option<TemplateOtherInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateOtherInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(default)]
    object: Option<String>,
    #[serde(borrow)]
    entry: &'a RawValue,
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    id: Option<String>,
    #[serde(borrow, default)]
    changes: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawChange<'a> {
    field: String,
    #[serde(borrow)]
    value: &'a RawValue,
}

#[derive(Deserialize)]
struct RawMessagesValue<'a> {
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    contacts: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    messages: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    statuses: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    errors: Option<Vec<&'a RawValue>>,
}

/// The fields every message shares; the type-specific object stays raw until `type` says
/// which one to parse.
#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_user_id: Option<String>,
    #[serde(default)]
    from_parent_user_id: Option<String>,
    id: String,
    #[serde(deserialize_with = "lenient::string")]
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow, default)]
    context: Option<&'a RawValue>,
    #[serde(borrow, default)]
    referral: Option<&'a RawValue>,
    #[serde(borrow, default)]
    errors: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    image: Option<&'a RawValue>,
    #[serde(borrow, default)]
    video: Option<&'a RawValue>,
    #[serde(borrow, default)]
    audio: Option<&'a RawValue>,
    #[serde(borrow, default)]
    document: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sticker: Option<&'a RawValue>,
    #[serde(borrow, default)]
    location: Option<&'a RawValue>,
    #[serde(borrow, default)]
    contacts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    interactive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    button: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reaction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    order: Option<&'a RawValue>,
    #[serde(borrow, default)]
    system: Option<&'a RawValue>,
    #[serde(borrow, default)]
    unsupported: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawUnsupportedInner {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// A serde error described without any of the input: category and position only.
fn describe_json_error(e: &serde_json::Error) -> String {
    let category = match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "shape",
        serde_json::error::Category::Eof => "truncated",
    };
    format!(
        "{category} error at line {} column {}",
        e.line(),
        e.column()
    )
}

fn raw_to_value(raw: &RawValue) -> Value {
    // A RawValue is already valid JSON, so this only fails on absurd nesting.
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

fn parse_opt<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<T> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

fn parse_message(raw: &str) -> Result<Message, String> {
    let m: RawMessage<'_> = serde_json::from_str(raw).map_err(|e| describe_json_error(&e))?;

    fn content<'a, T: Deserialize<'a>>(field: Option<&'a RawValue>) -> Option<T> {
        field.and_then(|r| serde_json::from_str(r.get()).ok())
    }
    let kind = match m.kind.as_str() {
        "text" => content(m.text).map(MessageKind::Text),
        "image" => content(m.image).map(MessageKind::Image),
        "video" => content(m.video).map(MessageKind::Video),
        "audio" => content(m.audio).map(MessageKind::Audio),
        "document" => content(m.document).map(MessageKind::Document),
        "sticker" => content(m.sticker).map(MessageKind::Sticker),
        "location" => content(m.location).map(MessageKind::Location),
        "contacts" => content(m.contacts).map(MessageKind::Contacts),
        "interactive" => content(m.interactive).map(MessageKind::Interactive),
        "button" => content(m.button).map(MessageKind::Button),
        "reaction" => content(m.reaction).map(MessageKind::Reaction),
        "order" => content(m.order).map(MessageKind::Order),
        "system" => content(m.system).map(MessageKind::System),
        _ => None,
    };
    let kind = kind.unwrap_or_else(|| {
        let original_type = parse_opt::<RawUnsupportedInner>(m.unsupported).and_then(|u| u.kind);
        MessageKind::Unsupported(UnsupportedMessage {
            type_name: m.kind.clone(),
            original_type,
            raw: serde_json::from_str(raw).unwrap_or(Value::Null),
        })
    });

    Ok(Message {
        from: m.from,
        from_user_id: m.from_user_id,
        from_parent_user_id: m.from_parent_user_id,
        id: m.id,
        timestamp: m.timestamp,
        context: parse_opt(m.context),
        referral: parse_opt(m.referral),
        errors: parse_opt(m.errors).unwrap_or_default(),
        kind,
    })
}

impl WebhookPayload {
    /// Parses a webhook body. Verify the signature over these same bytes first.
    ///
    /// Fails only when the body is not JSON or not an object with an `entry` array;
    /// everything inside is parsed item by item.
    pub fn from_slice(body: &[u8]) -> Result<WebhookPayload, ParseError> {
        let text = std::str::from_utf8(body)
            .map_err(|e| ParseError::NotJson(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
        let envelope: RawEnvelope<'_> = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                ParseError::NotEnvelope
            } else {
                ParseError::NotJson(describe_json_error(&e))
            }
        })?;
        let entries: Vec<&RawValue> =
            serde_json::from_str(envelope.entry.get()).map_err(|_| ParseError::NotEnvelope)?;

        let mut items = Vec::new();
        for entry in entries {
            parse_entry(entry, &mut items);
        }
        Ok(WebhookPayload {
            object: envelope.object.unwrap_or_default(),
            items,
        })
    }

    /// Whether this is a WhatsApp Business Account webhook (Meta also uses the same
    /// endpoint shape for other products).
    pub fn is_whatsapp(&self) -> bool {
        self.object == OBJECT_WHATSAPP
    }

    pub fn messages(&self) -> impl Iterator<Item = &InboundMessage> {
        self.items.iter().filter_map(|i| match i {
            WebhookItem::Message(m) => Some(m),
            _ => None,
        })
    }

    pub fn statuses(&self) -> impl Iterator<Item = &StatusUpdate> {
        self.items.iter().filter_map(|i| match i {
            WebhookItem::Status(s) => Some(s),
            _ => None,
        })
    }

    pub fn unsupported(&self) -> impl Iterator<Item = &UnsupportedItem> {
        self.items.iter().filter_map(|i| match i {
            WebhookItem::Unsupported(u) => Some(u),
            _ => None,
        })
    }
}

fn parse_entry(raw: &RawValue, items: &mut Vec<WebhookItem>) {
    let entry: RawEntry<'_> = match serde_json::from_str(raw.get()) {
        Ok(e) => e,
        Err(e) => {
            items.push(WebhookItem::Unsupported(UnsupportedItem {
                entry_id: None,
                field: None,
                level: UnsupportedLevel::Entry,
                reason: describe_json_error(&e),
                raw: raw_to_value(raw),
            }));
            return;
        }
    };
    let entry_id = entry.id.unwrap_or_default();
    for change in entry.changes {
        parse_change(&entry_id, change, items);
    }
}

fn unsupported_change(
    entry_id: &str,
    field: Option<String>,
    reason: String,
    raw: &RawValue,
) -> WebhookItem {
    WebhookItem::Unsupported(UnsupportedItem {
        entry_id: Some(entry_id.to_owned()),
        field,
        level: UnsupportedLevel::Change,
        reason,
        raw: raw_to_value(raw),
    })
}

fn parse_change(entry_id: &str, raw: &RawValue, items: &mut Vec<WebhookItem>) {
    let change: RawChange<'_> = match serde_json::from_str(raw.get()) {
        Ok(c) => c,
        Err(e) => {
            items.push(unsupported_change(
                entry_id,
                None,
                describe_json_error(&e),
                raw,
            ));
            return;
        }
    };
    match change.field.as_str() {
        FIELD_MESSAGES => parse_messages_value(entry_id, change.value, items),
        FIELD_TEMPLATE_STATUS => match serde_json::from_str::<TemplateStatus>(change.value.get()) {
            Ok(update) => items.push(WebhookItem::TemplateStatus(TemplateStatusUpdate {
                entry_id: entry_id.to_owned(),
                update,
            })),
            Err(e) => items.push(unsupported_change(
                entry_id,
                Some(change.field),
                describe_json_error(&e),
                change.value,
            )),
        },
        _ => items.push(unsupported_change(
            entry_id,
            Some(change.field),
            "change field not handled".to_owned(),
            change.value,
        )),
    }
}

fn parse_messages_value(entry_id: &str, raw: &RawValue, items: &mut Vec<WebhookItem>) {
    let value: RawMessagesValue<'_> = match serde_json::from_str(raw.get()) {
        Ok(v) => v,
        Err(e) => {
            items.push(unsupported_change(
                entry_id,
                Some(FIELD_MESSAGES.to_owned()),
                describe_json_error(&e),
                raw,
            ));
            return;
        }
    };
    let metadata: Option<Metadata> = parse_opt(value.metadata);
    let contacts: Vec<Contact> = value
        .contacts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| serde_json::from_str(c.get()).ok())
        .collect();

    for raw_msg in value.messages.unwrap_or_default() {
        match parse_message(raw_msg.get()) {
            Ok(message) => {
                let contact = match_contact(&contacts, &message);
                items.push(WebhookItem::Message(InboundMessage {
                    entry_id: entry_id.to_owned(),
                    metadata: metadata.clone(),
                    contact,
                    message,
                }));
            }
            Err(reason) => items.push(WebhookItem::Unsupported(UnsupportedItem {
                entry_id: Some(entry_id.to_owned()),
                field: Some(FIELD_MESSAGES.to_owned()),
                level: UnsupportedLevel::Message,
                reason,
                raw: raw_to_value(raw_msg),
            })),
        }
    }
    for raw_status in value.statuses.unwrap_or_default() {
        match serde_json::from_str::<Status>(raw_status.get()) {
            Ok(status) => items.push(WebhookItem::Status(StatusUpdate {
                entry_id: entry_id.to_owned(),
                metadata: metadata.clone(),
                status,
            })),
            Err(e) => items.push(WebhookItem::Unsupported(UnsupportedItem {
                entry_id: Some(entry_id.to_owned()),
                field: Some(FIELD_MESSAGES.to_owned()),
                level: UnsupportedLevel::Status,
                reason: describe_json_error(&e),
                raw: raw_to_value(raw_status),
            })),
        }
    }
    for raw_error in value.errors.unwrap_or_default() {
        match serde_json::from_str::<WaError>(raw_error.get()) {
            Ok(error) => items.push(WebhookItem::Error(ValueError {
                entry_id: entry_id.to_owned(),
                metadata: metadata.clone(),
                error,
            })),
            Err(e) => items.push(unsupported_change(
                entry_id,
                Some(FIELD_MESSAGES.to_owned()),
                describe_json_error(&e),
                raw_error,
            )),
        }
    }
}

fn match_contact(contacts: &[Contact], message: &Message) -> Option<Contact> {
    let by_id = contacts.iter().find(|c| {
        (c.wa_id.is_some() && c.wa_id == message.from)
            || (c.user_id.is_some() && c.user_id == message.from_user_id)
    });
    match (by_id, contacts) {
        (Some(c), _) => Some(c.clone()),
        // One contact and no ids to compare: it is the sender.
        (None, [only]) if message.from.is_none() && message.from_user_id.is_none() => {
            Some(only.clone())
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Serialization back to Meta's shape, so the emulator can build webhooks from these types.

#[derive(Serialize)]
struct MessageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_parent_user_id: Option<&'a str>,
    id: &'a str,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a Context>,
    #[serde(skip_serializing_if = "Option::is_none")]
    referral: Option<&'a Referral>,
    #[serde(skip_serializing_if = "<[WaError]>::is_empty")]
    errors: &'a [WaError],
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<&'a Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio: Option<&'a Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<&'a Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sticker: Option<&'a Media>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<&'a [SharedContact]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interactive: Option<&'a InteractiveReply>,
    #[serde(skip_serializing_if = "Option::is_none")]
    button: Option<&'a ButtonReply>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reaction: Option<&'a Reaction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<&'a Order>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a System>,
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let MessageKind::Unsupported(u) = &self.kind {
            // The raw object is the message as received; send it back unchanged.
            if !u.raw.is_null() {
                return u.raw.serialize(s);
            }
        }
        let mut out = MessageOut {
            from: self.from.as_deref(),
            from_user_id: self.from_user_id.as_deref(),
            from_parent_user_id: self.from_parent_user_id.as_deref(),
            id: &self.id,
            timestamp: &self.timestamp,
            context: self.context.as_ref(),
            referral: self.referral.as_ref(),
            errors: &self.errors,
            kind: self.kind.type_name(),
            text: None,
            image: None,
            video: None,
            audio: None,
            document: None,
            sticker: None,
            location: None,
            contacts: None,
            interactive: None,
            button: None,
            reaction: None,
            order: None,
            system: None,
        };
        match &self.kind {
            MessageKind::Text(t) => out.text = Some(t),
            MessageKind::Image(m) => out.image = Some(m),
            MessageKind::Video(m) => out.video = Some(m),
            MessageKind::Audio(m) => out.audio = Some(m),
            MessageKind::Document(m) => out.document = Some(m),
            MessageKind::Sticker(m) => out.sticker = Some(m),
            MessageKind::Location(l) => out.location = Some(l),
            MessageKind::Contacts(c) => out.contacts = Some(c),
            MessageKind::Interactive(i) => out.interactive = Some(i),
            MessageKind::Button(b) => out.button = Some(b),
            MessageKind::Reaction(r) => out.reaction = Some(r),
            MessageKind::Order(o) => out.order = Some(o),
            MessageKind::System(sy) => out.system = Some(sy),
            MessageKind::Unsupported(_) => {}
        }
        out.serialize(s)
    }
}

/// Same lenient path as [`Message::from_json`]; needs a serde_json text deserializer
/// (`from_str`/`from_slice`), since it captures the raw object.
impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        parse_message(raw.get()).map_err(serde::de::Error::custom)
    }
}

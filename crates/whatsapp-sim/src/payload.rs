//! Webhook payload shapes as Meta documents them for the `messages` field:
//! `{"object":"whatsapp_business_account","entry":[{"id":WABA,"changes":[{"value":{
//! "messaging_product":"whatsapp","metadata":{..},"contacts":[..],"messages":[..]},
//! "field":"messages"}]}]}`. Structs (not `Value`) keep Meta's key order on the wire.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::AsyncError;

#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub object: &'static str,
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub value: ChangeValue,
    pub field: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub display_phone_number: String,
    pub phone_number_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeValue {
    pub messaging_product: &'static str,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<InboundMessage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<StatusObject>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub profile: Profile,
    pub wa_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub name: String,
}

/// A customer's message: the common header, then the type's own object (`text`, `image`...).
#[derive(Debug, Clone, Serialize)]
pub struct InboundMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub from: String,
    pub id: String,
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub content: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusObject {
    pub id: String,
    pub status: String,
    pub timestamp: String,
    pub recipient_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<StatusError>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pricing {
    pub billable: bool,
    pub pricing_model: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub category: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusError {
    pub code: u32,
    pub title: String,
    pub message: String,
    pub error_data: ErrorData,
    pub href: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorData {
    pub details: String,
}

impl From<&AsyncError> for StatusError {
    fn from(e: &AsyncError) -> Self {
        Self {
            code: e.code,
            title: e.title.to_string(),
            message: e.title.to_string(),
            error_data: ErrorData {
                details: e.details.clone(),
            },
            href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    }
}

/// Pricing as Meta reports it under per-message pricing: service replies inside the
/// window are free, templates are billed in their category.
pub fn pricing(category: &str) -> Pricing {
    if category == "service" {
        Pricing {
            billable: false,
            pricing_model: "PMP",
            kind: "free_customer_service",
            category: "service".into(),
        }
    } else {
        Pricing {
            billable: true,
            pricing_model: "PMP",
            kind: "regular",
            category: category.into(),
        }
    }
}

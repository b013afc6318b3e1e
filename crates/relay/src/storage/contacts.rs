//! Contact records as the team edits them (issue 7): a display name that overrides the
//! WhatsApp profile name, and typed attributes (`monthly_spend_usd` number, `vip` boolean,
//! `email` text...) that lists, the customer panel and automation rules read. Separate
//! traits that `ReadTx`/`WriteTx` extend, like [`super::team`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::StorageResult;

/// The type of an attribute's values (stored as JSON string, number or boolean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    Text,
    Number,
    Boolean,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::Text => "text",
            AttributeType::Number => "number",
            AttributeType::Boolean => "boolean",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(AttributeType::Text),
            "number" => Some(AttributeType::Number),
            "boolean" => Some(AttributeType::Boolean),
            _ => None,
        }
    }
}

/// One attribute the team keeps on contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDef {
    /// `[a-z0-9_]`, 1 to 40 characters (also the CSV column name).
    pub key: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    pub created_at: Timestamp,
}

/// A contact with the team's edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub wa_id: String,
    /// The WhatsApp profile name (from webhooks).
    pub profile_name: Option<String>,
    /// The name the team gave the contact (edited or imported); wins over the profile name.
    pub display_name: Option<String>,
    /// Typed attribute values by key (a JSON object).
    pub attributes: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ContactRecord {
    /// The name people see: the team's, else the profile's.
    pub fn name(&self) -> Option<&str> {
        self.display_name
            .as_deref()
            .or(self.profile_name.as_deref())
    }
}

/// How an attribute filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A page of the contact list, ordered by name (contacts without one last, by number).
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// Substring of the name (case-insensitive) or of the number.
    pub text: Option<String>,
    /// `(key, op, value)`: the key must be a defined attribute (checked by the caller).
    pub attribute: Option<(String, AttributeOp, Value)>,
    pub offset: usize,
    pub limit: usize,
}

pub trait ContactsRead {
    fn contact_record(&self, wa_id: &str) -> StorageResult<Option<ContactRecord>>;
    fn contact_records(&self, q: &ContactQuery) -> StorageResult<Vec<ContactRecord>>;
    fn attribute_defs(&self) -> StorageResult<Vec<AttributeDef>>;
}

pub trait ContactsWrite {
    /// Writes the team's name and attributes of `c` (inserting the contact when new; the
    /// profile name and profile are left to webhooks).
    fn put_contact_record(&mut self, c: &ContactRecord) -> StorageResult<()>;
    /// `false` when the key exists already.
    fn insert_attribute_def(&mut self, d: &AttributeDef) -> StorageResult<bool>;
}

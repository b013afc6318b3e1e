//! The rows the store keeps, mirroring what the relay's events carry. Ids are UUIDv7,
//! times are UTC. `seq` is the relay event that last wrote the row.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub(crate) fn parse(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Corrupt(format!(
                        concat!("unknown ", stringify!($name), " {:?}"), other
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// Where a conversation stands in the team's workflow.
    ConversationStatus {
        Open => "open",
        Pending => "pending",
        Snoozed => "snoozed",
        Resolved => "resolved",
    }
);

text_enum!(
    /// Customer → us (`In`) or us → customer (`Out`).
    Direction {
        In => "in",
        Out => "out",
    }
);

text_enum!(
    /// Delivery state. Inbound messages are `Received`; outbound ones only move forward
    /// (queued → sent → delivered → read, or failed before delivery).
    MessageStatus {
        Received => "received",
        Queued => "queued",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
    }
);

text_enum!(
    /// Where an outbox command stands.
    OutboxState {
        Pending => "pending",
        Sent => "sent",
        Failed => "failed",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// The customer's WhatsApp id (phone number digits).
    pub wa_id: String,
    pub name: Option<String>,
    /// Free-form attributes (e-mail, city, order ids...) as a JSON object.
    pub attributes: serde_json::Value,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    /// Role preset name (admin, supervisor, standard, restricted, or a custom one).
    pub role: String,
    pub active: bool,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Uuid,
    pub name: String,
    pub os: String,
    /// The device's permission ceiling (a role preset name).
    pub ceiling: String,
    pub member_id: Option<Uuid>,
    pub last_seen_at: Option<Timestamp>,
    pub revoked: bool,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: Uuid,
    /// As shown, e.g. `#urgent`.
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    /// Conversations with an urgent label notify supervisors and admins.
    pub urgent: bool,
    pub seq: u64,
}

/// A team quick reply (`/shortcut` in the composer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub id: Uuid,
    /// Without the `/`.
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub language: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: Uuid,
    pub contact_wa_id: String,
    pub name: Option<String>,
    /// The member it is assigned to; `None` while it waits in the team queue.
    pub assignee: Option<Uuid>,
    pub team: Option<String>,
    pub status: ConversationStatus,
    pub snoozed_until: Option<Timestamp>,
    pub last_message_preview: Option<String>,
    pub last_message_at: Option<Timestamp>,
    pub unread_count: u32,
    /// When WhatsApp's 24-hour customer service window closes (free-form replies end).
    pub window_expires_at: Option<Timestamp>,
    /// Label ids, sorted.
    pub labels: Vec<Uuid>,
    pub seq: u64,
}

/// What the team's automation says of a conversation (issue 8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMarks {
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    /// The relay's last `conversation.sla` announcement: `{target, state}`.
    pub sla: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    /// Meta's message id, once known.
    pub wamid: Option<String>,
    pub conversation_id: Uuid,
    pub direction: Direction,
    /// WhatsApp message type: text, image, document, audio, video, sticker, location,
    /// contacts, reaction, interactive, template, unsupported... (kept open-ended).
    pub kind: String,
    /// Body or caption; what full-text search indexes.
    pub text: Option<String>,
    /// Media metadata (id, mime type, sha256, filename, size) as JSON.
    pub media: Option<serde_json::Value>,
    pub status: MessageStatus,
    /// Meta's error for a failed message.
    pub error: Option<String>,
    /// The member who sent an outbound message.
    pub author_member_id: Option<Uuid>,
    pub sent_at: Timestamp,
    pub updated_at: Timestamp,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author_member_id: Option<Uuid>,
    pub text: String,
    pub created_at: Timestamp,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Sent with every attempt; the relay never executes the same key twice.
    pub idempotency_key: Uuid,
    pub command: serde_json::Value,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Start and end of a highlighted match inside [`SearchHit::snippet`].
pub const MARK_START: char = '\u{2}';
pub const MARK_END: char = '\u{3}';

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    /// An excerpt with matches between [`MARK_START`] and [`MARK_END`] (control
    /// characters, so the UI escapes the text and never has to parse HTML).
    pub snippet: String,
    /// bm25 score: lower is better. Short (1–2 character) queries are matched by
    /// substring without a score; their hits all have rank 0 and come newest first.
    pub rank: f64,
    pub sent_at: Timestamp,
}

impl SearchHit {
    /// The snippet as `(text, highlighted)` pieces, in order.
    pub fn snippet_parts(&self) -> Vec<(&str, bool)> {
        let mut parts = Vec::new();
        let mut rest = self.snippet.as_str();
        while let Some(start) = rest.find(MARK_START) {
            if start > 0 {
                parts.push((&rest[..start], false));
            }
            let after = &rest[start + MARK_START.len_utf8()..];
            let end = after.find(MARK_END).unwrap_or(after.len());
            if end > 0 {
                parts.push((&after[..end], true));
            }
            rest = after.get(end + MARK_END.len_utf8()..).unwrap_or("");
        }
        if !rest.is_empty() {
            parts.push((rest, false));
        }
        parts
    }

    /// The highlighted pieces only.
    pub fn highlights(&self) -> Vec<&str> {
        self.snippet_parts()
            .into_iter()
            .filter_map(|(t, h)| h.then_some(t))
            .collect()
    }
}

/// What one `apply_batch` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub applied: usize,
    /// Events at or below the cursor (already applied before), skipped.
    pub skipped: usize,
    pub cursor: u64,
}

pub(crate) fn ts_to_sql(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

pub(crate) fn ts_from_sql(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn seq_to_sql(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Invalid(format!("seq {seq} out of range")))
}

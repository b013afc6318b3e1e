//! Tables of the command side: stored command results (idempotency), the persistent send
//! queue, inbound media still to fetch and media already stored, notes, labels, snoozes.
//!
//! Kept as separate traits ([`WorkRead`], [`WorkWrite`]) that `ReadTx`/`WriteTx` extend, so
//! domain code reaches them through the same transaction objects and a future PostgreSQL
//! backend implements them next to the rest.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::StorageResult;

/// The first answer given to a command id, returned again for every retry of that id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandResultRow {
    pub id: Uuid,
    pub device_id: Uuid,
    /// sha256 of the command's canonical JSON: the same id with another command is refused.
    pub fingerprint: [u8; 32],
    pub http_status: u16,
    pub body: Value,
    pub created_at: Timestamp,
}

/// Send-queue states.
pub mod send_state {
    /// Waiting for its turn (`next_attempt_at`).
    pub const QUEUED: &str = "queued";
    /// Committed just before the Graph call; found like this after a restart, the call may
    /// or may not have reached Meta.
    pub const SENDING: &str = "sending";
    /// The call's outcome is unknown (timeout, cut connection, restart): never resent,
    /// waiting for a status webhook carrying our `biz_opaque_callback_data` until
    /// `next_attempt_at` (the reconciliation deadline).
    pub const UNCONFIRMED: &str = "unconfirmed";
    /// Accepted by Meta (wamid known) or failed for good.
    pub const DONE: &str = "done";
}

/// One outbound message in the persistent send queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendItem {
    /// Queue order (assigned on insert; 0 before).
    pub seq: i64,
    pub message_id: Uuid,
    pub command_id: Uuid,
    pub conversation_id: Uuid,
    /// The customer's wa_id (per-recipient ordering and backoff).
    pub recipient: String,
    /// The `OutgoingMessage` JSON sent to the Graph API.
    pub request: Value,
    /// One of [`send_state`].
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// `{class, code, message}` of the last failed attempt.
    pub last_error: Option<Value>,
    pub wamid: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Inbound media not yet stored; retried until it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaFetchRow {
    pub media_id: String,
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub mime_type: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// Media stored in the media directory (file name = `sha256`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaRow {
    pub media_id: String,
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
    pub mime_type: String,
    pub size: u64,
    pub stored_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author: Uuid,
    pub text: String,
    pub mentions: Vec<Uuid>,
    pub created_at: Timestamp,
}

pub trait WorkRead {
    fn command_result(&self, id: Uuid) -> StorageResult<Option<CommandResultRow>>;
    fn send_item(&self, message_id: Uuid) -> StorageResult<Option<SendItem>>;
    /// Queued items due at `now` that are first in line for their recipient (older items
    /// to the same customer, in any state but done, go first), oldest first.
    fn send_due(&self, now: Timestamp, limit: usize) -> StorageResult<Vec<SendItem>>;
    fn send_in_state(&self, state: &str) -> StorageResult<Vec<SendItem>>;
    /// Earliest `next_attempt_at` of queued or unconfirmed items.
    fn send_next_wake(&self) -> StorageResult<Option<Timestamp>>;
    /// Items not done.
    fn send_depth(&self) -> StorageResult<u64>;
    /// The wamid of a recorded status carrying this `biz_opaque_callback_data`.
    fn wamid_by_callback(&self, data: &str) -> StorageResult<Option<String>>;
    fn media_fetch(&self, media_id: &str) -> StorageResult<Option<MediaFetchRow>>;
    fn media_fetch_due(&self, now: Timestamp, limit: usize) -> StorageResult<Vec<MediaFetchRow>>;
    fn media_fetch_next_wake(&self) -> StorageResult<Option<Timestamp>>;
    fn media(&self, media_id: &str) -> StorageResult<Option<MediaRow>>;
    /// Sorted.
    fn labels_of(&self, conversation_id: Uuid) -> StorageResult<Vec<String>>;
    /// The team's labels, by name.
    fn team_labels(&self) -> StorageResult<Vec<TeamLabelRow>>;
    /// The team's label whose lower-cased name is `key`.
    fn team_label(&self, key: &str) -> StorageResult<Option<TeamLabelRow>>;
    /// Oldest first.
    fn notes_of(&self, conversation_id: Uuid) -> StorageResult<Vec<NoteRow>>;
    fn snoozed_until(&self, conversation_id: Uuid) -> StorageResult<Option<Timestamp>>;
}

pub trait WorkWrite {
    fn insert_command_result(&mut self, r: &CommandResultRow) -> StorageResult<()>;
    /// Returns the item's seq.
    fn insert_send_item(&mut self, s: &SendItem) -> StorageResult<i64>;
    /// Overwrites state, attempts, next attempt, last error, wamid and updated_at.
    fn update_send_item(&mut self, s: &SendItem) -> StorageResult<()>;
    /// `false` when this media id is already queued.
    fn insert_media_fetch(&mut self, m: &MediaFetchRow) -> StorageResult<bool>;
    fn update_media_fetch(&mut self, m: &MediaFetchRow) -> StorageResult<()>;
    fn delete_media_fetch(&mut self, media_id: &str) -> StorageResult<()>;
    /// `false` when the media id was stored before.
    fn insert_media(&mut self, m: &MediaRow) -> StorageResult<bool>;
    fn insert_note(&mut self, n: &NoteRow) -> StorageResult<()>;
    /// `false` when the conversation already had it.
    fn add_label(
        &mut self,
        conversation_id: Uuid,
        label: &str,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// `false` when the conversation did not have it.
    fn remove_label(&mut self, conversation_id: Uuid, label: &str) -> StorageResult<bool>;
    fn set_snooze(&mut self, conversation_id: Uuid, until: Option<Timestamp>) -> StorageResult<()>;
    /// Inserts or replaces (by key) a team label.
    fn put_team_label(&mut self, l: &TeamLabelRow) -> StorageResult<()>;
    /// Deletes a team label and takes it off every conversation; returns those
    /// conversations.
    fn delete_team_label(&mut self, l: &TeamLabelRow) -> StorageResult<Vec<Uuid>>;
}

/// One of the team's labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamLabelRow {
    /// The lower-cased name.
    pub key: String,
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    pub created_at: Timestamp,
}

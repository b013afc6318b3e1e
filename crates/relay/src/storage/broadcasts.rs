//! Tables of broadcasts (issue 8): the broadcasts, one row per recipient (its attempt is
//! recorded in the transaction that queues its message, so it is attempted at most once),
//! and the customers who opted out. Separate traits that `ReadTx`/`WriteTx` extend, like
//! [`super::automation`].
//!
//! A recipient's stored state is `pending`, `queued` (attempted: its message exists),
//! `opted_out` or `cancelled`; what happened to a queued recipient's message (sent,
//! delivered, read, failed) is read from the message row itself, so status webhooks and
//! the send queue need no broadcast hook.

use jiff::Timestamp;
use serde_json::Value;
use uuid::Uuid;

use super::StorageResult;

/// Stored recipient states (see the module doc).
pub mod recipient_state {
    pub const PENDING: &str = "pending";
    pub const QUEUED: &str = "queued";
    pub const OPTED_OUT: &str = "opted_out";
    pub const CANCELLED: &str = "cancelled";
}

/// One broadcast as stored. `audience` and `template` are core's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastRow {
    pub id: Uuid,
    pub name: String,
    pub audience: Value,
    pub template: Value,
    /// Core's `BroadcastState` serde name.
    pub state: String,
    pub scheduled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub created_by: Uuid,
    pub created_by_name: String,
    /// The device that created it and sha256 of its draft: a reused id with another
    /// draft (or from another device) is refused.
    pub device_id: Uuid,
    pub fingerprint: [u8; 32],
    pub note: Option<String>,
    /// No sends before this (waiting for tomorrow, paused by Meta).
    pub hold_until: Option<Timestamp>,
    /// The summary last announced in `broadcast.changed` (JSON), to announce only changes.
    pub announced: Option<Value>,
    pub updated_at: Timestamp,
}

/// One recipient as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientRow {
    pub broadcast_id: Uuid,
    pub wa_id: String,
    /// Audience order.
    pub position: i64,
    pub name: String,
    /// One of [`recipient_state`].
    pub state: String,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub attempted_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// A recipient joined with its message: the row, its state as devices see it (core's
/// `RecipientState` name: a queued recipient's message status decides), the message's
/// error (Meta's, when failed) and the time of its last status.
pub type RecipientView = (RecipientRow, String, Option<Value>, Option<Timestamp>);

/// One attempt for the daily statistics: `(attempted at, message status, message error
/// when failed)`.
pub type AttemptRow = (Timestamp, Option<String>, Option<Value>);

pub trait BroadcastsRead {
    fn broadcast(&self, id: Uuid) -> StorageResult<Option<BroadcastRow>>;
    /// Newest first.
    fn broadcasts(&self, limit: usize) -> StorageResult<Vec<BroadcastRow>>;
    /// Broadcasts in one of `states`, oldest first.
    fn broadcasts_in(&self, states: &[&str]) -> StorageResult<Vec<BroadcastRow>>;
    /// `(state as devices see it, count)` of a broadcast's recipients.
    fn broadcast_tally(&self, id: Uuid) -> StorageResult<Vec<(String, u32)>>;
    /// Recipients in `wa_id` order after `after`, only those in `state` (as devices see
    /// it) when given.
    fn broadcast_recipients(
        &self,
        id: Uuid,
        after: Option<&str>,
        state: Option<&str>,
        limit: usize,
    ) -> StorageResult<Vec<RecipientView>>;
    /// The next pending recipients in audience order.
    fn pending_recipients(&self, id: Uuid, limit: usize) -> StorageResult<Vec<RecipientRow>>;
    fn recipient(&self, id: Uuid, wa_id: &str) -> StorageResult<Option<RecipientRow>>;
    /// Attempts of every broadcast made at or after `since`.
    fn broadcast_attempts_since(&self, since: Timestamp) -> StorageResult<Vec<AttemptRow>>;
    /// Attempts made in `[from, to)`.
    fn broadcast_attempts_between(&self, from: Timestamp, to: Timestamp) -> StorageResult<u32>;
    /// The latest attempt of any broadcast (pacing between sends).
    fn last_broadcast_attempt(&self) -> StorageResult<Option<Timestamp>>;
    fn opted_out(&self, wa_id: &str) -> StorageResult<Option<Timestamp>>;
    /// Customers who may receive a broadcast picked by contact attributes: everyone the
    /// relay knows (conversations, contacts, customers with attributes).
    fn broadcast_candidates(&self) -> StorageResult<Vec<String>>;
    /// `(customer, label)` of every labelled conversation.
    fn labelled_customers(&self) -> StorageResult<Vec<(String, String)>>;
}

pub trait BroadcastsWrite {
    fn insert_broadcast(&mut self, b: &BroadcastRow) -> StorageResult<()>;
    /// Overwrites state, note, hold, announced summary and updated_at.
    fn update_broadcast(&mut self, b: &BroadcastRow) -> StorageResult<()>;
    fn insert_recipient(&mut self, r: &RecipientRow) -> StorageResult<()>;
    /// Overwrites state, conversation, message, attempt time and updated_at.
    fn update_recipient(&mut self, r: &RecipientRow) -> StorageResult<()>;
    /// Every pending recipient of the broadcast becomes cancelled; returns how many.
    fn cancel_pending(&mut self, id: Uuid, at: Timestamp) -> StorageResult<u32>;
    /// `false` when the customer had already opted out (the first time is kept).
    fn put_opt_out(
        &mut self,
        wa_id: &str,
        at: Timestamp,
        message_id: Option<Uuid>,
    ) -> StorageResult<bool>;
    /// `false` when the customer had not opted out.
    fn delete_opt_out(&mut self, wa_id: &str) -> StorageResult<bool>;
}

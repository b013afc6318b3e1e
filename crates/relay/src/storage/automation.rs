//! Tables of the automation runner (issue 8): the durable job queue the webhook fills in
//! its own transaction, auto-replies already sent (cooldowns survive a restart), per
//! conversation automation state (priority, SLA target, timer bookkeeping), and the
//! automation's view of contact attributes. The attributes live in ONE place, the contact
//! record ([`super::contacts`], typed by the team's attribute definitions); the two
//! functions here read and replace that same JSON object. Separate traits that
//! `ReadTx`/`WriteTx` extend, like [`super::work`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::StorageResult;

/// Job kinds of [`AutomationJob`].
pub mod job_kind {
    pub const MESSAGE_RECEIVED: &str = "message_received";
    pub const CONVERSATION_OPENED: &str = "conversation_opened";
    pub const LABEL_ADDED: &str = "label_added";
}

/// One event the rules still have to see. Written in the transaction that made the event,
/// deleted in the transaction that carried out its plan: a crash in between runs it again,
/// and it can never run twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationJob {
    /// Queue order (assigned on insert; 0 before).
    pub id: i64,
    /// One of [`job_kind`].
    pub kind: String,
    pub conversation_id: Uuid,
    pub message_id: Option<Uuid>,
    pub label: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// The last failure (a storage error: never message content).
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// What the automation keeps per conversation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConversationAutomation {
    pub conversation_id: Uuid,
    /// `low`, `normal`, `high`, `urgent` (core's `Priority`, serde form).
    pub priority: Option<String>,
    /// The SLA target set by rules (core's `SlaTarget` JSON).
    pub sla: Option<Value>,
    /// The last timer pass that evaluated `no_reply` rules (their "fires once" cursor).
    pub last_tick: Option<Timestamp>,
    /// The due time of the last SLA breach already acted on (each breach fires once).
    pub sla_fired_due: Option<Timestamp>,
    /// `{target, state}` last announced in `conversation.sla` (announced again only when
    /// it changes).
    pub sla_shown: Option<Value>,
}

/// A conversation's timeline reduced to what rules, labels and SLAs read. Automated
/// outbound messages (no `sent_by`) do not count as our reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeline {
    pub first_inbound_at: Option<Timestamp>,
    pub last_inbound_at: Option<Timestamp>,
    pub inbound_count: u32,
    pub first_human_reply_at: Option<Timestamp>,
    pub last_human_reply_at: Option<Timestamp>,
    /// The earliest customer message after our last human reply.
    pub unanswered_since: Option<Timestamp>,
}

/// `(member, open conversations assigned, of those waiting for the member's reply)`.
pub type MemberLoadRow = (Uuid, u32, u32);

pub trait AutomationRead {
    /// Jobs due at `now`, oldest first.
    fn automation_jobs_due(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> StorageResult<Vec<AutomationJob>>;
    /// Earliest `next_attempt_at` of any job.
    fn automation_next_job_at(&self) -> StorageResult<Option<Timestamp>>;
    /// `(key, last sent at)` of the auto-replies this customer received.
    fn auto_replies_sent(&self, customer: &str) -> StorageResult<Vec<(String, Timestamp)>>;
    fn conversation_automation(&self, id: Uuid) -> StorageResult<Option<ConversationAutomation>>;
    fn timeline(&self, conversation_id: Uuid) -> StorageResult<Timeline>;
    /// Loads of every member holding open conversations.
    fn member_loads(&self) -> StorageResult<Vec<MemberLoadRow>>;
    /// Open conversations, for the timer pass.
    fn open_conversation_ids(&self) -> StorageResult<Vec<Uuid>>;
    /// The contact's attributes (the contact record's; empty for an unknown number).
    fn contact_attributes(&self, wa_id: &str) -> StorageResult<BTreeMap<String, Value>>;
}

pub trait AutomationWrite {
    fn insert_automation_job(&mut self, job: &AutomationJob) -> StorageResult<i64>;
    fn delete_automation_job(&mut self, id: i64) -> StorageResult<()>;
    /// Overwrites attempts, next attempt and last error.
    fn update_automation_job(&mut self, job: &AutomationJob) -> StorageResult<()>;
    /// Records that `key` reached `customer` at `at` (replaces the previous time).
    fn record_auto_reply(&mut self, customer: &str, key: &str, at: Timestamp) -> StorageResult<()>;
    fn put_conversation_automation(&mut self, row: &ConversationAutomation) -> StorageResult<()>;
    /// Replaces the customer's attributes on the contact record (creating the contact when
    /// the number is new). No type check here: callers validate against the definitions.
    fn put_contact_attributes(
        &mut self,
        wa_id: &str,
        attributes: &BTreeMap<String, Value>,
        at: Timestamp,
    ) -> StorageResult<()>;
}

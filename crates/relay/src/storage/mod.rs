//! The relay's storage, behind traits so a PostgreSQL backend can sit next to SQLite.
//!
//! Shape of the abstraction:
//! - [`ReadTx`] and [`WriteTx`] are *synchronous* views of one consistent snapshot / one
//!   open transaction. All domain logic (webhook ingest, pairing, assignment, and later
//!   commands and the send queue) is written once against them, in plain Rust, so every
//!   backend shares the same rules.
//! - [`Storage`] is the async front: it runs a read job on a pooled connection, queues a
//!   write job for the single writer (SQLite groups many jobs into one commit), and exposes
//!   the committed head of the event log as a `watch` so streams wake without polling.
//!
//! A write job that returns `Err` is rolled back on its own (a savepoint) without affecting
//! the other jobs committed in the same group; outcomes that must persist while the caller
//! still sees a refusal (a failed pairing attempt) are returned as `Ok` values.

pub mod alerts;
pub mod automation;
pub mod broadcasts;
pub mod contacts;
pub mod quick_replies;
pub mod sqlite;
pub mod team;
pub mod work;

use std::any::Any;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

/// Why storage could not do what was asked. Never carries message content or secrets.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Backend(String),
    #[error(
        "the database was written by a newer relay (schema version {found}, this binary knows up to {known}); upgrade the relay"
    )]
    TooNew { found: i64, known: i64 },
    #[error("storage is shutting down")]
    Closed,
    #[error(
        "the event cursor {after} cannot be resumed: it is older than the retained history or ahead of the log (retention floor: {floor})"
    )]
    CursorExpired { after: u64, floor: u64 },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// Who may receive an event, besides the conversation-visibility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Whoever may see `conversation_id` (core's `can_view`).
    Conversation,
    /// Every linked device (team-wide notices such as template reviews).
    Everyone,
    /// Devices whose effective permissions include ManageTeam (devices, members, operator
    /// notices such as webhook errors).
    ManageTeam,
    /// Devices whose effective permissions include ViewAuditLog (`audit.*`).
    AuditLog,
    /// Only the event's `also_member` (e.g. `me.changed`).
    Member,
    /// Devices whose effective permissions include ViewContacts (contact edits, imports).
    Contacts,
    /// Devices whose effective permissions include Reply (quick replies: what repliers use).
    Reply,
    /// Devices whose effective permissions include SendBroadcasts (`broadcast.changed`).
    Broadcasts,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Conversation => "conversation",
            Audience::Everyone => "everyone",
            Audience::ManageTeam => "manage_team",
            Audience::AuditLog => "audit_log",
            Audience::Member => "member",
            Audience::Contacts => "contacts",
            Audience::Reply => "reply",
            Audience::Broadcasts => "broadcasts",
        }
    }

    pub fn parse(s: &str) -> StorageResult<Self> {
        match s {
            "conversation" => Ok(Audience::Conversation),
            "everyone" => Ok(Audience::Everyone),
            "manage_team" => Ok(Audience::ManageTeam),
            "audit_log" => Ok(Audience::AuditLog),
            "member" => Ok(Audience::Member),
            "contacts" => Ok(Audience::Contacts),
            "reply" => Ok(Audience::Reply),
            "broadcasts" => Ok(Audience::Broadcasts),
            other => Err(StorageError::Corrupt(format!("unknown audience {other:?}"))),
        }
    }
}

/// An event to append. `kind` is one of [`crate::events::kind`]'s names.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: &'static str,
    pub conversation_id: Option<Uuid>,
    pub audience: Audience,
    /// One more member who receives it regardless of visibility (e.g. the previous
    /// assignee of a conversation that was transferred away from them).
    pub also_member: Option<Uuid>,
    pub payload: Value,
    pub created_at: Timestamp,
}

/// A [`NewEvent`] whose payload is already serialized (one compact JSON object), so the
/// caller can build it off the single writer.
#[derive(Debug, Clone)]
pub struct NewEventJson {
    pub kind: &'static str,
    pub conversation_id: Option<Uuid>,
    pub audience: Audience,
    pub also_member: Option<Uuid>,
    pub payload_json: String,
    pub created_at: Timestamp,
}

/// A committed event. `json` is the wire form (built once, shared by every stream).
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub kind: String,
    pub conversation_id: Option<Uuid>,
    pub audience: Audience,
    pub also_member: Option<Uuid>,
    pub created_at: Timestamp,
    pub json: Arc<str>,
}

/// The wire object of an event: `{seq, kind, conversation_id, created_at, payload}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventWire {
    pub seq: u64,
    pub kind: String,
    pub conversation_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub payload: Value,
}

impl Event {
    pub fn build(
        seq: u64,
        kind: String,
        conversation_id: Option<Uuid>,
        audience: Audience,
        also_member: Option<Uuid>,
        created_at: Timestamp,
        payload: Value,
    ) -> Event {
        Event::build_with_payload_json(
            seq,
            kind,
            conversation_id,
            audience,
            also_member,
            created_at,
            &payload.to_string(),
        )
    }

    /// Like [`Event::build`], with the payload already serialized (compact JSON, as stored
    /// in the log), so the hot path serializes each payload once: the wire form is the
    /// same bytes `serde_json::to_string(&EventWire { .. })` would give.
    pub fn build_with_payload_json(
        seq: u64,
        kind: String,
        conversation_id: Option<Uuid>,
        audience: Audience,
        also_member: Option<Uuid>,
        created_at: Timestamp,
        payload_json: &str,
    ) -> Event {
        /// [`EventWire`] without its last field; the payload is spliced in after it.
        #[derive(Serialize)]
        struct WireHead<'a> {
            seq: u64,
            kind: &'a str,
            conversation_id: Option<Uuid>,
            created_at: Timestamp,
        }
        let head = WireHead {
            seq,
            kind: &kind,
            conversation_id,
            created_at,
        };
        // Numbers, strings, a UUID and a timestamp: serializing cannot fail.
        let head = serde_json::to_string(&head).expect("an event head serializes");
        let mut json = String::with_capacity(head.len() + 12 + payload_json.len());
        json.push_str(&head[..head.len() - 1]);
        json.push_str(",\"payload\":");
        json.push_str(payload_json);
        json.push('}');
        Event {
            seq,
            kind,
            conversation_id,
            audience,
            also_member,
            created_at,
            json: json.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRow {
    pub id: Uuid,
    pub team_id: Option<Uuid>,
    pub customer_wa_id: String,
    pub name: Option<String>,
    pub assignee: Option<Uuid>,
    /// `open` or `closed`.
    pub status: String,
    /// The 24-hour customer-service window: last inbound + 24 h.
    pub window_expires_at: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    pub last_preview: Option<String>,
    pub created_at: Timestamp,
}

pub const DIRECTION_IN: &str = "in";
pub const DIRECTION_OUT: &str = "out";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// Meta's id; `None` for an outbound message not yet accepted by the Graph API.
    pub wamid: Option<String>,
    /// [`DIRECTION_IN`] or [`DIRECTION_OUT`].
    pub direction: String,
    /// Meta's `type` (`text`, `image`, ..., or the unknown type name for unsupported ones).
    #[serde(rename = "type")]
    pub kind: String,
    /// The message object in Meta's shape (inbound) or the outgoing request (outbound).
    pub body: Value,
    /// Delivery status of outbound messages (`queued`, `sent`, `delivered`, `read`,
    /// `played`, `failed`); inbound messages have none.
    pub status: Option<String>,
    /// `StatusKind::rank()` of `status`, so updates only move forward.
    pub status_rank: u8,
    /// Meta's error for a failed message (JSON), if any.
    pub error: Option<Value>,
    /// The member who sent an outbound message.
    pub sent_by: Option<Uuid>,
    /// Meta's timestamp (unix seconds) of an inbound message.
    pub wa_timestamp: Option<i64>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRow {
    pub wa_id: String,
    pub name: Option<String>,
    /// The last contact card Meta sent (profile, user ids).
    pub profile: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: Uuid,
    pub name: String,
    /// Preset name the toggles started from (`admin`, `supervisor`, ...).
    pub preset: String,
    /// The member's permission toggles, as core's `PermissionSet` JSON (array of names).
    pub toggles: Value,
    pub teams: Vec<Uuid>,
    pub active: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: Uuid,
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub app_version: String,
    /// The device's ceiling, as core's `DeviceLevel` JSON (`{"preset":"standard"}`).
    pub level: Value,
    pub member_id: Uuid,
    #[serde(skip)]
    pub token_hash: [u8; 32],
    pub linked_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub last_address: Option<String>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PairingCodeRow {
    pub code_hash: [u8; 32],
    /// Core's `DeviceLevel` JSON of the device that claims it.
    pub level: Value,
    /// Link the device to this existing member...
    pub member_id: Option<Uuid>,
    /// ...or to the active member of this name (created when missing).
    pub member_name: Option<String>,
    /// The one-time code printed by `init`, which creates the first Admin.
    pub owner: bool,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingFailures {
    pub address: String,
    pub failures: u32,
    pub last_failure_at: Timestamp,
    pub locked_until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub received_at: Timestamp,
    pub reason: String,
    /// The raw body, lossily decoded for display (it was not valid JSON or not UTF-8).
    pub body: String,
    pub size: usize,
}

/// Filters for the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationQuery {
    /// Only conversations whose last activity is strictly before this (paging).
    pub before_activity: Option<Timestamp>,
    pub status: Option<String>,
    pub assignee: Option<Uuid>,
    pub limit: usize,
}

/// Row counts, for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub raw_webhooks: u64,
    pub quarantine: u64,
    pub events: u64,
    pub conversations: u64,
    pub messages: u64,
    pub message_statuses: u64,
    pub contacts: u64,
    pub members: u64,
    pub devices: u64,
}

/// `(conversation id, assignee, team)`: what visibility checks need.
pub type AccessRow = (Uuid, Option<Uuid>, Option<Uuid>);

/// Reads inside one consistent snapshot. Implemented by every backend; used by domain code.
pub trait ReadTx:
    work::WorkRead
    + team::TeamRead
    + alerts::AlertsRead
    + automation::AutomationRead
    + quick_replies::QuickRepliesRead
    + broadcasts::BroadcastsRead
    + contacts::ContactsRead
{
    fn team(&self) -> StorageResult<Option<TeamRow>>;
    fn conversation(&self, id: Uuid) -> StorageResult<Option<ConversationRow>>;
    fn conversation_by_customer(&self, wa_id: &str) -> StorageResult<Option<ConversationRow>>;
    /// Most recent activity first.
    fn conversations(&self, q: &ConversationQuery) -> StorageResult<Vec<ConversationRow>>;
    /// `(assignee, team)` of each id that exists, for visibility checks on a batch of events.
    fn conversation_access(&self, ids: &[Uuid]) -> StorageResult<Vec<AccessRow>>;
    fn message(&self, id: Uuid) -> StorageResult<Option<MessageRow>>;
    fn message_by_wamid(&self, wamid: &str) -> StorageResult<Option<MessageRow>>;
    /// Newest first, strictly older than `before` (a message id) when given.
    fn messages_page(
        &self,
        conversation_id: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StorageResult<Vec<MessageRow>>;
    /// Statuses recorded for a wamid, in the order they arrived.
    fn statuses_of(&self, wamid: &str) -> StorageResult<Vec<(String, Value)>>;
    fn contact(&self, wa_id: &str) -> StorageResult<Option<ContactRow>>;
    fn member(&self, id: Uuid) -> StorageResult<Option<MemberRow>>;
    fn member_by_name(&self, name: &str) -> StorageResult<Option<MemberRow>>;
    fn members(&self) -> StorageResult<Vec<MemberRow>>;
    fn device(&self, id: Uuid) -> StorageResult<Option<DeviceRow>>;
    fn device_by_token_hash(&self, hash: &[u8; 32]) -> StorageResult<Option<DeviceRow>>;
    fn devices(&self) -> StorageResult<Vec<DeviceRow>>;
    fn pairing_code(&self, hash: &[u8; 32]) -> StorageResult<Option<PairingCodeRow>>;
    fn pairing_failures(&self, address: &str) -> StorageResult<Option<PairingFailures>>;
    fn quarantine(&self, limit: usize) -> StorageResult<Vec<QuarantineRow>>;
    /// Events with `seq > after`, oldest first (no retention check: see [`Storage`]).
    fn events_after(&self, after: u64, limit: usize) -> StorageResult<Vec<Event>>;
    fn counts(&self) -> StorageResult<Counts>;
}

/// Writes inside the single writer's transaction. Every method sees the writes before it.
pub trait WriteTx:
    ReadTx
    + work::WorkWrite
    + team::TeamWrite
    + alerts::AlertsWrite
    + automation::AutomationWrite
    + quick_replies::QuickRepliesWrite
    + broadcasts::BroadcastsWrite
    + contacts::ContactsWrite
{
    /// Appends an event and returns its seq (gap-free: one writer, rolled-back jobs give
    /// their numbers back).
    fn append_event(&mut self, event: NewEvent) -> StorageResult<u64> {
        self.append_event_json(NewEventJson {
            kind: event.kind,
            conversation_id: event.conversation_id,
            audience: event.audience,
            also_member: event.also_member,
            payload_json: event.payload.to_string(),
            created_at: event.created_at,
        })
    }
    /// [`WriteTx::append_event`] with the payload serialized by the caller.
    fn append_event_json(&mut self, event: NewEventJson) -> StorageResult<u64>;
    /// Keeps a verified webhook body. `false` when the identical body was stored before
    /// (Meta retried the same delivery).
    fn insert_raw_webhook(
        &mut self,
        sha256: &[u8; 32],
        body: &[u8],
        received_at: Timestamp,
    ) -> StorageResult<bool>;
    fn insert_quarantine(
        &mut self,
        body: &[u8],
        reason: &str,
        received_at: Timestamp,
    ) -> StorageResult<i64>;
    fn insert_team(&mut self, team: &TeamRow) -> StorageResult<()>;
    fn insert_conversation(&mut self, c: &ConversationRow) -> StorageResult<()>;
    /// Overwrites every mutable column of the conversation with `c`'s.
    fn update_conversation(&mut self, c: &ConversationRow) -> StorageResult<()>;
    /// `false` when the wamid already exists (nothing written).
    fn insert_message(&mut self, m: &MessageRow) -> StorageResult<bool> {
        self.insert_message_json(m, &m.body.to_string())
    }
    /// [`WriteTx::insert_message`] with `m.body` already serialized (`body_json`, which is
    /// what gets stored; `m.body` itself is not read).
    fn insert_message_json(&mut self, m: &MessageRow, body_json: &str) -> StorageResult<bool>;
    /// Overwrites status, rank, error and wamid of a message.
    fn update_message_delivery(&mut self, m: &MessageRow) -> StorageResult<()>;
    /// `false` when this (wamid, status) pair was seen before.
    fn insert_status(
        &mut self,
        wamid: &str,
        status: &str,
        wa_timestamp: Option<i64>,
        payload: &Value,
        received_at: Timestamp,
    ) -> StorageResult<bool>;
    fn upsert_contact(&mut self, c: &ContactRow) -> StorageResult<()>;
    fn insert_member(&mut self, m: &MemberRow) -> StorageResult<()>;
    fn update_member(&mut self, m: &MemberRow) -> StorageResult<()>;
    fn insert_device(&mut self, d: &DeviceRow) -> StorageResult<()>;
    fn set_device_revoked(&mut self, id: Uuid, at: Timestamp) -> StorageResult<bool>;
    fn touch_device(&mut self, id: Uuid, at: Timestamp, address: &str) -> StorageResult<()>;
    fn insert_pairing_code(&mut self, p: &PairingCodeRow) -> StorageResult<()>;
    fn mark_pairing_code_used(&mut self, hash: &[u8; 32], at: Timestamp) -> StorageResult<bool>;
    fn put_pairing_failures(&mut self, f: &PairingFailures) -> StorageResult<()>;
    fn clear_pairing_failures(&mut self, address: &str) -> StorageResult<()>;
    /// Deletes events created before `before` (and raw webhooks and statuses of that age).
    /// Returns the highest seq deleted so far (the retention floor).
    fn prune_before(&mut self, before: Timestamp) -> StorageResult<u64>;
}

pub type AnyBox = Box<dyn Any + Send>;
pub type ReadJob = Box<dyn FnOnce(&dyn ReadTx) -> StorageResult<AnyBox> + Send>;
pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTx) -> StorageResult<AnyBox> + Send>;

/// The async storage front shared by the HTTP handlers.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Runs `job` on a read connection (a consistent snapshot of committed data).
    async fn read_boxed(&self, job: ReadJob) -> StorageResult<AnyBox>;
    /// Queues `job` for the writer; resolves once its transaction has COMMITTED (or with
    /// the job's error after its savepoint was rolled back, or the commit's error).
    async fn write_boxed(&self, job: WriteJob) -> StorageResult<AnyBox>;
    /// The seq of the newest committed event; changes after each commit that added events.
    fn head(&self) -> watch::Receiver<u64>;
    /// Highest seq removed by retention (0 when nothing was pruned).
    fn retention_floor(&self) -> u64;
    /// Committed events after `after`, oldest first. `CursorExpired` when events after the
    /// cursor were already pruned, so a device never gets a silent partial replay.
    async fn events_after(&self, after: u64, limit: usize) -> StorageResult<Vec<Arc<Event>>>;
    /// A short name for `/healthz` and logs (`sqlite`).
    fn backend(&self) -> &'static str;
}

impl dyn Storage {
    /// Typed wrapper around [`Storage::read_boxed`].
    pub async fn read<R, F>(&self, f: F) -> StorageResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&dyn ReadTx) -> StorageResult<R> + Send + 'static,
    {
        let out = self
            .read_boxed(Box::new(move |tx| f(tx).map(|r| Box::new(r) as AnyBox)))
            .await?;
        Ok(*out
            .downcast::<R>()
            .map_err(|_| StorageError::Backend("read job returned the wrong type".into()))?)
    }

    /// Typed wrapper around [`Storage::write_boxed`].
    pub async fn write<R, F>(&self, f: F) -> StorageResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn WriteTx) -> StorageResult<R> + Send + 'static,
    {
        let out = self
            .write_boxed(Box::new(move |tx| f(tx).map(|r| Box::new(r) as AnyBox)))
            .await?;
        Ok(*out
            .downcast::<R>()
            .map_err(|_| StorageError::Backend("write job returned the wrong type".into()))?)
    }
}

/// Opens the backend a `database` setting names.
pub fn open(database: &str, options: sqlite::Options) -> Result<Arc<dyn Storage>, StorageError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        return Err(StorageError::Backend(
            "PostgreSQL support is not built yet; use a SQLite file path for `database`".into(),
        ));
    }
    Ok(Arc::new(sqlite::SqliteStorage::open(database, options)?))
}

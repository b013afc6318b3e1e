//! Everything the client reads from or sends to the relay, in one place, so a change of
//! the relay's JSON is adapted here only. Shapes follow `teamline-relay` (`app.rs`,
//! `delivery.rs`, `events.rs`, `storage::EventWire`, row types) and the command contract
//! in `notes/commands-api.md`. Fields the client does not need are not declared; fields
//! the relay may add later are tolerated (serde ignores unknown fields).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use teamline_core::{Permission, PermissionSet};
use ts_rs::TS;
use uuid::Uuid;

/// Event kinds the client understands (the relay's `events::kind` names plus the
/// command-produced ones from the command contract). Unknown kinds are skipped, but
/// the cursor still moves past them.
pub mod kind {
    pub const MESSAGE_RECEIVED: &str = "message.received";
    pub const MESSAGE_STATUS: &str = "message.status";
    pub const MESSAGE_QUEUED: &str = "message.queued";
    pub const MESSAGE_SENT: &str = "message.sent";
    pub const MESSAGE_FAILED: &str = "message.failed";
    pub const CONVERSATION_OPENED: &str = "conversation.opened";
    pub const CONVERSATION_STATUS: &str = "conversation.status";
    pub const CONVERSATION_RENAMED: &str = "conversation.renamed";
    pub const CONVERSATION_ASSIGNED: &str = "conversation.assigned";
    pub const CONTACT_UPDATED: &str = "contact.updated";
    pub const MEMBER_CREATED: &str = "member.created";
    pub const MEMBER_DIRECTORY: &str = "member.directory";
    pub const DEVICE_LINKED: &str = "device.linked";
    pub const DEVICE_REVOKED: &str = "device.revoked";
    pub const NOTE_ADDED: &str = "note.added";
    pub const LABELS_CHANGED: &str = "labels.changed";
    pub const LABEL_SAVED: &str = "label.saved";
    pub const LABEL_DELETED: &str = "label.deleted";
    pub const CONVERSATION_PRIORITY: &str = "conversation.priority";
    pub const CONVERSATION_SLA: &str = "conversation.sla";
    /// A rule's "notify" action, addressed to one member (issue 8).
    pub const AUTOMATION_NOTIFY: &str = "automation.notify";
    pub const SECURITY_ALERT: &str = "security.alert";
    /// An anomaly alert raised for admins (issue 9).
    pub const ALERT_RAISED: &str = "alert.raised";
    pub const PRESENCE_TYPING: &str = "presence.typing";
    pub const PRESENCE_VIEWING: &str = "presence.viewing";
    pub const QUICK_REPLY_SAVED: &str = "quick_reply.saved";
    pub const QUICK_REPLY_DELETED: &str = "quick_reply.deleted";
    pub const MESSAGE_MEDIA_READY: &str = "message.media_ready";
    /// A broadcast's summary after a change (issue 8); nothing is stored, the UI is told.
    pub const BROADCAST_CHANGED: &str = "broadcast.changed";
}

/// One event of the relay's log (`storage::EventWire`). The payload stays raw until the
/// applier knows its kind, so each event is parsed once, straight into its typed shape.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub kind: String,
    #[serde(default)]
    pub conversation_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub payload: Box<RawValue>,
}

impl Event {
    /// The payload in the shape `T` of this kind.
    pub fn payload<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.payload.get())
    }
}

/// An event streamed without a seq (`presence.typing`): never stored, never replayed.
#[derive(Debug, Clone, Deserialize)]
pub struct EphemeralEvent {
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
}

/// `GET /v1/events` answer.
#[derive(Debug, Deserialize)]
pub struct EventsPage {
    pub events: Vec<Event>,
    /// The cursor to ask from next time (moves past events this device may not see).
    pub next: u64,
}

/// The relay's `{code, message, ...}` error body.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// Stable error codes the client branches on.
pub mod code {
    pub const DEVICE_UNLINKED: &str = "device_unlinked";
    pub const RESYNC_REQUIRED: &str = "resync_required";
    pub const IDEMPOTENCY_CONFLICT: &str = "idempotency_conflict";
}

/// `POST /v1/pairing/claim` body.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimRequest<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub os: &'a str,
    pub os_version: &'a str,
    pub app_version: &'a str,
}

/// `POST /v1/pairing/claim` answer. `token` is a secret: never logged, only kept in the
/// OS keyring.
#[derive(Deserialize)]
pub struct ClaimResponse {
    pub token: String,
    pub device_id: Uuid,
    /// `None` for a shared device: nobody is signed in yet.
    #[serde(default)]
    pub member_id: Option<Uuid>,
    /// core's `DeviceLevel` JSON.
    pub level: Value,
}

/// A member as the relay sends it (`MemberRow`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MemberRow {
    pub id: Uuid,
    pub name: String,
    /// Preset the toggles started from (`admin`, `supervisor`, ..., `custom`).
    #[serde(default)]
    pub preset: String,
    #[serde(default)]
    pub teams: Vec<Uuid>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A device as the relay sends it (`DeviceRow`, no token hash).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeviceRow {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub level: Value,
    pub member_id: Uuid,
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

impl DeviceRow {
    /// The ceiling's preset name (`custom` for a custom set).
    pub fn ceiling_name(&self) -> String {
        self.level
            .get("preset")
            .and_then(Value::as_str)
            .map_or_else(|| "custom".to_owned(), str::to_owned)
    }
}

/// `GET /v1/me` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub device: DeviceRow,
    pub member: MemberRow,
    /// Effective permission names (unknown names from a newer relay are dropped, which
    /// can only narrow what the UI offers; the relay stays authoritative).
    #[serde(deserialize_with = "lenient_permissions")]
    pub permissions: PermissionSet,
    #[serde(default)]
    pub head_seq: u64,
    #[serde(default)]
    pub retention_floor: u64,
    /// Present on a shared device: who is signed in and who may sign in.
    #[serde(default)]
    pub shared: Option<SharedDevice>,
}

/// A shared device's sign-in choices (the shift laptop).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
#[ts(export_to = "SharedDevice.ts")]
pub struct SharedDevice {
    pub signed_in: Option<Uuid>,
    pub members: Vec<MemberName>,
}

/// A member's id and name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
#[ts(export_to = "MemberName.ts")]
pub struct MemberName {
    pub id: Uuid,
    pub name: String,
}

fn lenient_permissions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PermissionSet, D::Error> {
    let names: Vec<String> = Vec::deserialize(d)?;
    Ok(names
        .iter()
        .filter_map(|n| n.parse::<Permission>().ok())
        .collect())
}

/// A conversation as the relay sends it (`ConversationRow`).
#[derive(Debug, Clone, Deserialize)]
pub struct ConversationRow {
    pub id: Uuid,
    #[serde(default)]
    pub team_id: Option<Uuid>,
    pub customer_wa_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    /// `open`, `closed`, `snoozed`, `pending`.
    pub status: String,
    #[serde(default)]
    pub snoozed_until: Option<Timestamp>,
    #[serde(default)]
    pub window_expires_at: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    #[serde(default)]
    pub last_preview: Option<String>,
    /// Labels, when the relay includes them (names or label objects).
    #[serde(default)]
    pub labels: Option<Vec<LabelRef>>,
}

/// A message as the relay sends it (`MessageRow`).
#[derive(Debug, Clone, Deserialize)]
pub struct MessageRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    #[serde(default)]
    pub wamid: Option<String>,
    /// `in` or `out`.
    pub direction: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Meta's message object (inbound) or the outgoing request (outbound), kept whole so
    /// every type's content can be read from it ([`MessageRow::parts`] for text and media).
    #[serde(default)]
    pub body: Value,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub sent_by: Option<Uuid>,
    #[serde(default)]
    pub wa_timestamp: Option<i64>,
    pub created_at: Timestamp,
}

impl MessageRow {
    /// The body's text and media parts (an unreadable body has none).
    pub fn parts(&self) -> MessageBody {
        MessageBody::deserialize(&self.body).unwrap_or_default()
    }
}

/// The parts of a message body the store keeps: its text (body or caption) and media
/// metadata. Everything else in Meta's object is skipped while parsing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageBody {
    #[serde(default)]
    pub text: Option<TextPart>,
    #[serde(default)]
    pub image: Option<Value>,
    #[serde(default)]
    pub video: Option<Value>,
    #[serde(default)]
    pub audio: Option<Value>,
    #[serde(default)]
    pub document: Option<Value>,
    #[serde(default)]
    pub sticker: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TextPart {
    #[serde(default)]
    pub body: Option<String>,
}

impl MessageBody {
    pub fn media(&self) -> Option<&Value> {
        [
            &self.image,
            &self.video,
            &self.audio,
            &self.document,
            &self.sticker,
        ]
        .into_iter()
        .find_map(Option::as_ref)
    }

    /// The text a person reads: the body of a text message, or a media caption.
    pub fn text(&self) -> Option<String> {
        if let Some(t) = self.text.as_ref().and_then(|t| t.body.clone()) {
            return Some(t);
        }
        self.media()
            .and_then(|m| m.get("caption"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// A label in an event: a bare name (`"#urgent"`) or an object.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum LabelRef {
    Name(String),
    Object {
        #[serde(default)]
        id: Option<Uuid>,
        name: String,
        #[serde(default)]
        colour: Option<String>,
        #[serde(default)]
        urgent: Option<bool>,
    },
}

impl LabelRef {
    pub fn name(&self) -> &str {
        match self {
            LabelRef::Name(n) => n,
            LabelRef::Object { name, .. } => name,
        }
    }
}

// ---- event payloads ----

/// `message.media_ready`: the relay downloaded an inbound message's media.
#[derive(Debug, Deserialize)]
pub struct MediaReady {
    pub message_id: Uuid,
    #[serde(default)]
    pub size: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct MessageReceived {
    pub message: MessageRow,
    #[serde(default)]
    pub conversation: Option<ConversationRow>,
    #[serde(default)]
    pub preview: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MessageQueued {
    pub message: MessageRow,
}

#[derive(Debug, Deserialize)]
pub struct MessageStatus {
    pub message_id: Uuid,
    pub status: String,
    #[serde(default)]
    pub errors: Value,
}

#[derive(Debug, Deserialize)]
pub struct MessageSent {
    pub message_id: Uuid,
    #[serde(default)]
    pub wamid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MessageFailed {
    pub message_id: Uuid,
    #[serde(default)]
    pub code: Value,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConversationOpened {
    pub conversation: ConversationRow,
}

/// The team renamed the conversation's customer (a contact edit or import).
#[derive(Debug, Deserialize)]
pub struct ConversationRenamed {
    pub conversation_id: Uuid,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConversationStatus {
    pub conversation_id: Uuid,
    pub status: String,
    #[serde(default)]
    pub until: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
pub struct ConversationAssigned {
    pub conversation_id: Uuid,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default)]
    pub by: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
pub struct ContactUpdated {
    pub wa_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<Uuid>,
    /// The whole contact, when a member edited it (sent to devices that view contacts);
    /// absent when only the WhatsApp profile name changed.
    #[serde(default)]
    pub contact: Option<crate::contacts::WireContact>,
}

#[derive(Debug, Deserialize)]
pub struct MemberCreated {
    pub member: MemberRow,
}

/// `member.directory`: a member's name and state, sent to every device.
#[derive(Debug, Deserialize)]
pub struct MemberDirectory {
    pub member: DirectoryEntry,
}

#[derive(Debug, Deserialize)]
pub struct DirectoryEntry {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
}

#[derive(Debug, Deserialize)]
pub struct DeviceLinked {
    pub device: DeviceRow,
}

#[derive(Debug, Deserialize)]
pub struct DeviceRevoked {
    pub device_id: Uuid,
}

/// `quick_reply.saved`: `{quick_reply: {id, shortcut, title, text, language, ...}}`.
#[derive(Debug, Deserialize)]
pub struct QuickReplySaved {
    pub quick_reply: QuickReplyRow,
}

#[derive(Debug, Deserialize)]
pub struct QuickReplyRow {
    pub id: Uuid,
    pub shortcut: String,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub language: Option<String>,
}

/// `quick_reply.deleted`: `{id, shortcut}`.
#[derive(Debug, Deserialize)]
pub struct QuickReplyDeleted {
    pub id: Uuid,
}

#[derive(Debug, Deserialize)]
pub struct NoteAdded {
    pub note: NoteRow,
}

#[derive(Debug, Deserialize)]
pub struct NoteRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// The author's member id (the contract calls it `author`).
    #[serde(default, alias = "author_member_id")]
    pub author: Option<Uuid>,
    pub text: String,
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    pub created_at: Timestamp,
}

#[derive(Debug, Deserialize)]
pub struct LabelsChanged {
    pub conversation_id: Uuid,
    #[serde(default)]
    pub labels: Vec<LabelRef>,
    #[serde(default)]
    pub added: Option<OneOrMany<LabelRef>>,
}

/// `added` may be one label or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `label.saved`: one of the team's labels was created or recoloured.
#[derive(Debug, Deserialize)]
pub struct LabelSaved {
    pub label: LabelRef,
}

/// `label.deleted`: the team no longer has this label (conversations lost it too).
#[derive(Debug, Deserialize)]
pub struct LabelDeleted {
    pub name: String,
}

/// `conversation.priority`: automation set (or cleared) a conversation's priority.
#[derive(Debug, Deserialize)]
pub struct ConversationPriority {
    pub conversation_id: Uuid,
    #[serde(default)]
    pub priority: Option<String>,
}

/// `conversation.sla`: the relay's SLA target and state for a conversation, announced
/// whenever either changes (the inbox runs the timer from `state.due_at`).
#[derive(Debug, Deserialize)]
pub struct ConversationSla {
    pub conversation_id: Uuid,
    pub target: teamline_core::automation::SlaTarget,
    pub state: teamline_core::automation::SlaState,
}

/// `automation.notify`: a rule asks one member to look at a conversation. `text` is the
/// rule's own wording (set by the business), never the customer's message.
#[derive(Debug, Deserialize)]
pub struct AutomationNotify {
    pub conversation_id: Uuid,
    pub member_id: Uuid,
    #[serde(default)]
    pub text: String,
    /// The rule's name.
    #[serde(default)]
    pub source_name: String,
}

/// `security.alert` (shape not fixed yet: a title and a message are read when present).
#[derive(Debug, Deserialize)]
pub struct SecurityAlert {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `alert.raised`: `{alert: {id, rule, summary, ...}}` (the Audit page reads the rest).
#[derive(Debug, Deserialize)]
pub struct AlertRaised {
    pub alert: RaisedAlert,
}

#[derive(Debug, Deserialize)]
pub struct RaisedAlert {
    #[serde(default)]
    pub summary: String,
}

/// `presence.typing` and `presence.viewing` payload: who, where.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, TS)]
#[ts(export_to = "Presence.ts")]
pub struct Presence {
    pub conversation_id: Uuid,
    pub member_id: Uuid,
    #[serde(default)]
    pub member_name: Option<String>,
}

// ---- read API ----

/// `GET /v1/conversations` answer.
#[derive(Debug, Deserialize)]
pub struct ConversationsPage {
    pub conversations: Vec<ConversationRow>,
    #[serde(default)]
    pub next_before: Option<Timestamp>,
}

/// `GET /v1/conversations/{id}` answer.
#[derive(Debug, Deserialize)]
pub struct ConversationOne {
    pub conversation: ConversationRow,
}

/// `GET /v1/conversations/{id}/messages` answer.
#[derive(Debug, Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<MessageRow>,
    #[serde(default)]
    pub next_before: Option<Uuid>,
}

// ---- commands ----

/// `POST /v1/commands` body.
#[derive(Debug, Serialize)]
pub struct CommandRequest<'a> {
    pub id: Uuid,
    pub command: &'a Value,
}

/// `POST /v1/commands` success.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CommandResponse {
    pub id: Uuid,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub result: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_event_wire_parses_with_raw_payload() {
        let json = r#"{"seq":7,"kind":"message.received","conversation_id":"01900000-0000-7000-8000-000000000001","created_at":"2025-01-01T00:00:00Z","payload":{"message":{"id":"01900000-0000-7000-8000-000000000002","conversation_id":"01900000-0000-7000-8000-000000000001","wamid":"wamid.X","direction":"in","type":"image","body":{"from":"1","id":"wamid.X","type":"image","image":{"id":"m1","caption":"a photo","mime_type":"image/jpeg"}},"status":null,"status_rank":0,"error":null,"sent_by":null,"wa_timestamp":1735689600,"created_at":"2025-01-01T00:00:00Z"},"supported":true,"preview":"a photo","conversation":{"id":"01900000-0000-7000-8000-000000000001","team_id":null,"customer_wa_id":"15551234567","name":"Ana","assignee":null,"status":"open","window_expires_at":"2025-01-02T00:00:00Z","last_activity_at":"2025-01-01T00:00:00Z","last_preview":"a photo","created_at":"2025-01-01T00:00:00Z"}}}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!(e.seq, 7);
        let p: MessageReceived = e.payload().unwrap();
        assert_eq!(p.message.parts().text().as_deref(), Some("a photo"));
        assert_eq!(
            p.message.parts().media().unwrap()["mime_type"],
            "image/jpeg"
        );
        assert_eq!(p.conversation.unwrap().customer_wa_id, "15551234567");
    }

    #[test]
    fn unknown_permission_names_narrow_instead_of_failing() {
        let me: Me = serde_json::from_value(serde_json::json!({
            "device": {"id": Uuid::nil(), "name": "d", "member_id": Uuid::nil(), "level": {"preset": "standard"}},
            "member": {"id": Uuid::nil(), "name": "m", "preset": "standard"},
            "permissions": ["reply", "teleport"],
            "head_seq": 3
        }))
        .unwrap();
        assert_eq!(me.permissions, PermissionSet::from(Permission::Reply));
        assert_eq!(me.device.ceiling_name(), "standard");
    }

    #[test]
    fn labels_are_names_or_objects() {
        let p: LabelsChanged = serde_json::from_value(serde_json::json!({
            "conversation_id": Uuid::nil(),
            "labels": ["#vip", {"name": "#urgent", "urgent": true}],
            "added": "#urgent"
        }))
        .unwrap();
        assert_eq!(p.labels[1].name(), "#urgent");
        assert_eq!(p.added.unwrap().into_vec()[0].name(), "#urgent");
    }
}

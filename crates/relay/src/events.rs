//! Event kinds: the stable names stored in the log and sent to devices.
//!
//! Payload shapes (all JSON objects; ids are UUIDv7 strings, times RFC 3339 UTC):
//! - `message.received`: `{message: MessageRow, conversation: ConversationRow}`
//! - `message.status`: `{message_id, conversation_id, wamid, status, timestamp, errors}`
//! - `conversation.opened`: `{conversation: ConversationRow}` (first message of a customer)
//! - `conversation.status`: `{conversation_id, status, previous, reason}` (reopened by a
//!   customer message; closing comes with commands)
//! - `conversation.assigned`: `{conversation_id, assignee, previous_assignee, by, reason,
//!   backfill}`; `backfill: true` tells a device that gains the conversation to fetch its
//!   history from `GET /v1/conversations/{id}/messages` (it saw none of it before)
//! - `audit.*`, `me.changed`: see [`crate::audit`]; `security.alert`: see [`crate::pin`]
//! - `contact.updated`: `{wa_id, name, conversation_id}` (the customer's profile name changed)
//! - `conversation.renamed`: `{conversation_id, name}`, to whoever sees the conversation,
//!   when the team renames its customer (a contact edit or import: see [`crate::contacts`])
//! - `template.status`: `{template_id, name, language, category, event, reason}`
//! - `webhook.error`: `{code, title, message, details}` (Meta reported a problem not tied
//!   to one message)
//! - `webhook.unsupported`: `{level, field, reason, raw}` (kept raw so nothing is lost)
//! - `member.created`: `{member: MemberRow}`
//! - `member.directory`: `{member: {id, name, active}}`, to every device, whenever a member
//!   is created, renamed or deactivated: every device shows who handles a conversation and
//!   offers @mentions, but only team managers see presets and toggles (`member.created`)
//! - `device.linked`: `{device: DeviceRow}` (no token hash)
//! - `device.revoked`: `{device_id, member_id, by}`

pub mod kind {
    pub const MESSAGE_RECEIVED: &str = "message.received";
    pub const MESSAGE_STATUS: &str = "message.status";
    pub const CONVERSATION_OPENED: &str = "conversation.opened";
    pub const CONVERSATION_STATUS: &str = "conversation.status";
    pub const CONVERSATION_ASSIGNED: &str = "conversation.assigned";
    pub const CONTACT_UPDATED: &str = "contact.updated";
    pub const CONVERSATION_RENAMED: &str = "conversation.renamed";
    pub const TEMPLATE_STATUS: &str = "template.status";
    pub const WEBHOOK_ERROR: &str = "webhook.error";
    pub const WEBHOOK_UNSUPPORTED: &str = "webhook.unsupported";
    pub const MEMBER_CREATED: &str = "member.created";
    pub const MEMBER_DIRECTORY: &str = "member.directory";
    pub const DEVICE_LINKED: &str = "device.linked";
    pub const DEVICE_REVOKED: &str = "device.revoked";
}

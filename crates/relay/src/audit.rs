//! Audit events: every change to members, devices, permissions and templates is appended
//! to the event log as `audit.*` (delivered to devices with ViewAuditLog) and kept in the
//! `audit_log` table, queryable after event retention. Issue 9 chains them with an HMAC.
//!
//! Payload of every `audit.*` event: `{actor_member_id, device_id, address, target, before,
//! after}` (`before`/`after` are the changed object's JSON, `null` when created/removed).
//! Changes that may alter what a member can do also send `me.changed` to that member's
//! devices: `{member_id, device_id, reason}`.

use jiff::Timestamp;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::storage::team::AuditRow;
use crate::storage::{Audience, NewEvent, StorageResult, WriteTx};

pub mod kind {
    pub const MEMBER_CREATED: &str = "audit.member_created";
    pub const MEMBER_UPDATED: &str = "audit.member_updated";
    pub const MEMBER_DEACTIVATED: &str = "audit.member_deactivated";
    pub const MEMBER_PIN_RESET: &str = "audit.member_pin_reset";
    pub const PIN_CHANGED: &str = "audit.pin_changed";
    pub const GROUP_CREATED: &str = "audit.group_created";
    pub const GROUP_UPDATED: &str = "audit.group_updated";
    pub const GROUP_MEMBER_ADDED: &str = "audit.group_member_added";
    pub const GROUP_MEMBER_REMOVED: &str = "audit.group_member_removed";
    pub const DEVICE_LINKED: &str = "audit.device_linked";
    pub const DEVICE_UPDATED: &str = "audit.device_updated";
    pub const DEVICE_UNLINKED: &str = "audit.device_unlinked";
    pub const SETTINGS_UPDATED: &str = "audit.settings_updated";
    pub const TEMPLATE_CREATED: &str = "audit.template_created";
    pub const TEMPLATE_UPDATED: &str = "audit.template_updated";
    pub const TEMPLATE_DELETED: &str = "audit.template_deleted";
    pub const SESSION_SIGNED_IN: &str = "audit.session_signed_in";
    pub const SESSION_SIGNED_OUT: &str = "audit.session_signed_out";
    /// Sent to a member's devices when what they may do may have changed.
    pub const ME_CHANGED: &str = "me.changed";
}

/// Who made a change, from where. `actor_member_id` is `None` for the relay itself
/// (auto-unlink) and for pairing claims.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor_member_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub address: Option<String>,
    pub now: Timestamp,
}

/// Appends one `audit.*` event and its audit row; returns the seq.
pub fn record(
    tx: &mut dyn WriteTx,
    ctx: &Ctx,
    kind: &'static str,
    target: Value,
    before: Value,
    after: Value,
) -> StorageResult<u64> {
    crate::alerts::on_audit(tx, ctx, kind, &target, &before, &after)?;
    let seq = tx.append_event(NewEvent {
        kind,
        conversation_id: None,
        audience: Audience::AuditLog,
        also_member: None,
        payload: json!({
            "actor_member_id": ctx.actor_member_id,
            "device_id": ctx.device_id,
            "address": ctx.address,
            "target": target,
            "before": before,
            "after": after,
        }),
        created_at: ctx.now,
    })?;
    tx.insert_audit(&AuditRow {
        seq,
        kind: kind.to_owned(),
        actor_member_id: ctx.actor_member_id,
        device_id: ctx.device_id,
        address: ctx.address.clone(),
        target,
        before,
        after,
        created_at: ctx.now,
    })?;
    Ok(seq)
}

/// Tells a member's devices to reload `/v1/me` (their streams reload by themselves).
pub fn me_changed(
    tx: &mut dyn WriteTx,
    member_id: Uuid,
    device_id: Option<Uuid>,
    reason: &str,
    now: Timestamp,
) -> StorageResult<u64> {
    tx.append_event(NewEvent {
        kind: kind::ME_CHANGED,
        conversation_id: None,
        audience: Audience::Member,
        also_member: Some(member_id),
        payload: json!({ "member_id": member_id, "device_id": device_id, "reason": reason }),
        created_at: now,
    })
}

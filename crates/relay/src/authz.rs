//! The relay's only door to permissions: every /v1 route and every streamed event goes
//! through these helpers, which call `teamline-core` (effective permissions and access
//! rules) and nothing else.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use teamline_core::access::{self, Actor, ConversationAccess, Denied};
use teamline_core::{DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset};
use uuid::Uuid;

use crate::storage::{Audience, ConversationRow, DeviceRow, Event, MemberRow};

/// A member's toggles and a device's level could not be read (corrupt rows).
#[derive(Debug, thiserror::Error)]
#[error("stored permissions are invalid: {0}")]
pub struct InvalidPermissions(String);

/// The stored JSON of a preset's toggles.
pub fn preset_toggles(preset: Preset) -> serde_json::Value {
    serde_json::to_value(preset.permissions()).unwrap_or_default()
}

pub fn level_json(level: &DeviceLevel) -> serde_json::Value {
    serde_json::to_value(level).unwrap_or_default()
}

pub fn parse_level(v: &serde_json::Value) -> Result<DeviceLevel, InvalidPermissions> {
    serde_json::from_value(v.clone()).map_err(|e| InvalidPermissions(e.to_string()))
}

/// Who is acting through `device`: the member's toggles ∩ the device's ceiling ∩ the
/// member's templates, evaluated at `now` in the team's time zone (so a template's window
/// opens and closes by itself). A deactivated (or signed-out) member has no permissions.
pub fn actor(
    member: &MemberRow,
    device: &DeviceRow,
    templates: &[PermissionTemplate],
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Actor, InvalidPermissions> {
    let toggles: PermissionSet = serde_json::from_value(member.toggles.clone())
        .map_err(|e| InvalidPermissions(e.to_string()))?;
    let level = parse_level(&device.level)?;
    let permissions = if member.active {
        teamline_core::effective_permissions(toggles, &level, templates, now, tz)
    } else {
        PermissionSet::EMPTY
    };
    Ok(Actor {
        member_id: member.id,
        teams: member.teams.clone(),
        permissions,
    })
}

pub fn access_of(c: &ConversationRow) -> ConversationAccess {
    ConversationAccess {
        assignee: c.assignee,
        team: c.team_id,
    }
}

pub fn require(actor: &Actor, p: Permission) -> Result<(), Denied> {
    access::require(actor, p)
}

pub fn can_view(actor: &Actor, c: &ConversationAccess) -> bool {
    access::can_view(actor, c)
}

/// Whether `actor` receives `event`. `conversation` is the conversation's current access
/// (None when the event has none or the conversation is gone).
pub fn can_see_event(
    actor: &Actor,
    event: &Event,
    conversation: Option<&ConversationAccess>,
) -> bool {
    if event.also_member == Some(actor.member_id) {
        return true;
    }
    match event.audience {
        Audience::Everyone => true,
        Audience::ManageTeam => require(actor, Permission::ManageTeam).is_ok(),
        Audience::AuditLog => require(actor, Permission::ViewAuditLog).is_ok(),
        Audience::Member => false,
        Audience::Contacts => require(actor, Permission::ViewContacts).is_ok(),
        Audience::Reply => require(actor, Permission::Reply).is_ok(),
        Audience::Broadcasts => require(actor, Permission::SendBroadcasts).is_ok(),
        Audience::Conversation => conversation.is_some_and(|c| can_view(actor, c)),
    }
}

/// Events that need a conversation's access to be judged.
pub fn needs_conversation(event: &Event) -> Option<Uuid> {
    match event.audience {
        Audience::Conversation => event.conversation_id,
        _ => None,
    }
}

/// Whether visibility does not depend on the conversation (view-all), so a stream can skip
/// looking conversations up. Core's `can_view` still makes each decision.
pub fn sees_every_conversation(actor: &Actor) -> bool {
    require(actor, Permission::ViewAllConversations).is_ok()
}

/// Parses a member's stored toggles.
pub fn toggles_of(member: &MemberRow) -> Result<PermissionSet, InvalidPermissions> {
    serde_json::from_value(member.toggles.clone()).map_err(|e| InvalidPermissions(e.to_string()))
}

/// Whether an event may change what a device may do or whether it may act at all, so open
/// streams reload their principal before filtering the batch.
pub fn changes_principal(event: &Event) -> bool {
    ["device.", "member.", "audit.", "me."]
        .iter()
        .any(|p| event.kind.starts_with(p))
}

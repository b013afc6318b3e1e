//! Who may see, claim, assign and send in a conversation.
//!
//! The relay enforces these on every route (authoritative); the client calls the same
//! functions to hide or disable what cannot be done, with the refusal's words as the reason.
//! Checks run in a fixed order and visibility always comes first, so a refusal never reveals
//! anything about a conversation the actor may not see.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::{Permission, PermissionSet};

/// Who is acting: the signed-in member on a device, with their effective permissions
/// (from [`crate::effective_permissions`]).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Actor {
    pub member_id: Uuid,
    pub teams: Vec<Uuid>,
    pub permissions: PermissionSet,
}

/// What the access rules need to know about a conversation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ConversationAccess {
    pub assignee: Option<Uuid>,
    pub team: Option<Uuid>,
}

/// Why an action is refused, with a stable [`code`](Denied::code) for the UI to branch on
/// and an English sentence (`Display`) for a person.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum Denied {
    /// The actor's effective permissions lack this one.
    Missing(Permission),
    /// The actor may not see the conversation (also what the relay answers when it does not
    /// exist, so nothing leaks).
    NotVisible,
    /// Sending in a conversation assigned to someone else without the take-over permission.
    AssignedToOther { assignee: Uuid },
    /// A take-over needs a reason (non-empty once trimmed).
    ReasonRequired,
    /// Claiming a conversation that already has an assignee (including the actor).
    AlreadyAssigned { assignee: Uuid },
    /// Sending in an unassigned conversation: it must be claimed (or assigned) first, so two
    /// people never answer the same customer unknowingly.
    NotAssigned,
}

impl Denied {
    /// Stable machine code, part of the IPC/HTTP contract (`{ code, message }`).
    pub fn code(&self) -> &'static str {
        match self {
            Denied::Missing(_) => "permission_denied",
            Denied::NotVisible => "not_visible",
            Denied::AssignedToOther { .. } => "assigned_to_other",
            Denied::ReasonRequired => "reason_required",
            Denied::AlreadyAssigned { .. } => "already_assigned",
            Denied::NotAssigned => "not_assigned",
        }
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::Missing(p) => write!(f, "You are not allowed to {}.", p.action()),
            Denied::NotVisible => f.write_str("You cannot see this conversation."),
            Denied::AssignedToOther { assignee } => write!(
                f,
                "This conversation is assigned to another member ({assignee}), and you are not allowed to take over conversations."
            ),
            Denied::ReasonRequired => {
                f.write_str("Give a reason to take over a conversation assigned to another member.")
            }
            Denied::AlreadyAssigned { assignee } => write!(
                f,
                "This conversation is already assigned (to member {assignee}); only an unassigned conversation can be claimed."
            ),
            Denied::NotAssigned => f.write_str(
                "This conversation is not assigned to anyone; claim it before replying.",
            ),
        }
    }
}

/// Visible if the actor sees everything, is the assignee, or it sits unassigned in one of
/// the actor's teams' queues and the actor may see the team queue.
pub fn can_view(actor: &Actor, c: &ConversationAccess) -> bool {
    let p = actor.permissions;
    p.contains(Permission::ViewAllConversations)
        || c.assignee == Some(actor.member_id)
        || (c.assignee.is_none()
            && p.contains(Permission::ViewTeamQueue)
            && c.team.is_some_and(|t| actor.teams.contains(&t)))
}

/// Claiming = assigning an unassigned conversation to oneself. Order: visible, Reply
/// (claiming is for answering), unassigned.
pub fn can_claim(actor: &Actor, c: &ConversationAccess) -> Result<(), Denied> {
    visible(actor, c)?;
    require(actor, Permission::Reply)?;
    match c.assignee {
        Some(assignee) => Err(Denied::AlreadyAssigned { assignee }),
        None => Ok(()),
    }
}

/// Assigning, transferring or unassigning a visible conversation. Which members may be
/// chosen as the new assignee is the caller's business (they must exist and be active).
pub fn can_assign(actor: &Actor, c: &ConversationAccess) -> Result<(), Denied> {
    visible(actor, c)?;
    require(actor, Permission::AssignTransfer)
}

/// Sending in a conversation: the assignee with Reply; anybody else needs Reply, TakeOver
/// and a reason that is non-empty once trimmed. Unassigned conversations must be claimed
/// first. Order: visible, assigned, Reply, take-over, reason.
///
/// Reply is required for take-overs too: otherwise a template that allows replies only at
/// night would not stop a supervisor from "taking over" in the daytime.
pub fn can_send(
    actor: &Actor,
    c: &ConversationAccess,
    takeover_reason: Option<&str>,
) -> Result<(), Denied> {
    visible(actor, c)?;
    let Some(assignee) = c.assignee else {
        return Err(Denied::NotAssigned);
    };
    require(actor, Permission::Reply)?;
    if assignee == actor.member_id {
        return Ok(());
    }
    if !actor.permissions.contains(Permission::TakeOver) {
        return Err(Denied::AssignedToOther { assignee });
    }
    match takeover_reason {
        Some(reason) if !reason.trim().is_empty() => Ok(()),
        _ => Err(Denied::ReasonRequired),
    }
}

/// A plain permission check for actions not tied to one conversation (export, labels, …).
pub fn require(actor: &Actor, p: Permission) -> Result<(), Denied> {
    require_in(actor.permissions, p)
}

/// [`require`] on a bare permission set.
pub fn require_in(set: PermissionSet, p: Permission) -> Result<(), Denied> {
    if set.contains(p) {
        Ok(())
    } else {
        Err(Denied::Missing(p))
    }
}

fn visible(actor: &Actor, c: &ConversationAccess) -> Result<(), Denied> {
    if can_view(actor, c) {
        Ok(())
    } else {
        Err(Denied::NotVisible)
    }
}

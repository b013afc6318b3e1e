//! The commands a device sends (`POST /v1/commands`), typed, in the contract's JSON shape
//! (`{"type": "<kind>", ...fields}`), plus the local permission check done before one is
//! queued (the relay re-checks; this only spares the user a doomed attempt).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use teamline_core::Permission;
use teamline_core::access::{self, Actor, ConversationAccess, Denied};
use ts_rs::TS;
use uuid::Uuid;

/// Media to send: an uploaded `media_id` or a public `link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "MediaRef.ts")]
pub struct MediaRef {
    /// `image`, `video`, `audio`, `document` or `sticker`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// A command for the relay. `Typing` is ephemeral and never goes through the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "Command.ts")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    SendText {
        conversation_id: Uuid,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview_url: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        takeover_reason: Option<String>,
    },
    SendMedia {
        conversation_id: Uuid,
        media: MediaRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        takeover_reason: Option<String>,
    },
    SendTemplate {
        conversation_id: Uuid,
        /// `{name, language, components}` as Meta's.
        #[ts(type = "unknown")]
        template: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        takeover_reason: Option<String>,
    },
    SendReaction {
        conversation_id: Uuid,
        message_id: Uuid,
        /// Empty removes the reaction.
        emoji: String,
    },
    Claim {
        conversation_id: Uuid,
    },
    /// Also a transfer when the conversation is already assigned.
    Assign {
        conversation_id: Uuid,
        member_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Unassign {
        conversation_id: Uuid,
    },
    Close {
        conversation_id: Uuid,
    },
    Reopen {
        conversation_id: Uuid,
    },
    Snooze {
        conversation_id: Uuid,
        #[ts(type = "string")]
        until: Timestamp,
    },
    AddNote {
        conversation_id: Uuid,
        text: String,
        /// At most 2 members.
        #[serde(default)]
        mentions: Vec<Uuid>,
    },
    AddLabel {
        conversation_id: Uuid,
        label: String,
    },
    RemoveLabel {
        conversation_id: Uuid,
        label: String,
    },
    /// Presence: sent at once, best effort, never queued.
    Typing {
        conversation_id: Uuid,
    },
    /// Presence: "I have this conversation open", repeated while it stays open.
    Viewing {
        conversation_id: Uuid,
    },
}

impl Command {
    pub fn conversation_id(&self) -> Uuid {
        match self {
            Command::SendText {
                conversation_id, ..
            }
            | Command::SendMedia {
                conversation_id, ..
            }
            | Command::SendTemplate {
                conversation_id, ..
            }
            | Command::SendReaction {
                conversation_id, ..
            }
            | Command::Claim { conversation_id }
            | Command::Assign {
                conversation_id, ..
            }
            | Command::Unassign { conversation_id }
            | Command::Close { conversation_id }
            | Command::Reopen { conversation_id }
            | Command::Snooze {
                conversation_id, ..
            }
            | Command::AddNote {
                conversation_id, ..
            }
            | Command::AddLabel {
                conversation_id, ..
            }
            | Command::RemoveLabel {
                conversation_id, ..
            }
            | Command::Typing { conversation_id }
            | Command::Viewing { conversation_id } => *conversation_id,
        }
    }

    /// The wire kind (`send_text`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Command::SendText { .. } => "send_text",
            Command::SendMedia { .. } => "send_media",
            Command::SendTemplate { .. } => "send_template",
            Command::SendReaction { .. } => "send_reaction",
            Command::Claim { .. } => "claim",
            Command::Assign { .. } => "assign",
            Command::Unassign { .. } => "unassign",
            Command::Close { .. } => "close",
            Command::Reopen { .. } => "reopen",
            Command::Snooze { .. } => "snooze",
            Command::AddNote { .. } => "add_note",
            Command::AddLabel { .. } => "add_label",
            Command::RemoveLabel { .. } => "remove_label",
            Command::Typing { .. } => "typing",
            Command::Viewing { .. } => "viewing",
        }
    }

    /// Whether it goes through the outbox (everything but presence).
    pub fn is_durable(&self) -> bool {
        !matches!(self, Command::Typing { .. } | Command::Viewing { .. })
    }

    /// Checks a command against this device's local view with teamline-core's rules, the
    /// same the relay applies. `c` is the conversation's current access as stored here.
    ///
    /// The view may be slightly stale; the relay's answer wins. Closing, reopening and
    /// snoozing are allowed to whoever may reply or assign (the contract leaves the exact
    /// rule to the relay).
    pub fn check(&self, actor: &Actor, c: &ConversationAccess) -> Result<(), Denied> {
        match self {
            Command::SendText {
                takeover_reason, ..
            }
            | Command::SendMedia {
                takeover_reason, ..
            }
            | Command::SendTemplate {
                takeover_reason, ..
            } => access::can_send(actor, c, takeover_reason.as_deref()),
            Command::SendReaction { .. } => access::can_send(actor, c, None),
            Command::Claim { .. } => access::can_claim(actor, c),
            Command::Assign { .. } | Command::Unassign { .. } => access::can_assign(actor, c),
            Command::Close { .. } | Command::Reopen { .. } | Command::Snooze { .. } => {
                if !access::can_view(actor, c) {
                    return Err(Denied::NotVisible);
                }
                if access::require(actor, Permission::AssignTransfer).is_ok() {
                    return Ok(());
                }
                access::require(actor, Permission::Reply)
            }
            Command::AddNote { .. } | Command::Typing { .. } | Command::Viewing { .. } => {
                if access::can_view(actor, c) {
                    Ok(())
                } else {
                    Err(Denied::NotVisible)
                }
            }
            Command::AddLabel { .. } | Command::RemoveLabel { .. } => {
                if !access::can_view(actor, c) {
                    return Err(Denied::NotVisible);
                }
                access::require(actor, Permission::ApplyLabels)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teamline_core::{PermissionSet, Preset};

    #[test]
    fn commands_serialize_in_the_contract_shape() {
        let id = Uuid::nil();
        let v = serde_json::to_value(Command::SendText {
            conversation_id: id,
            text: "hi".into(),
            preview_url: None,
            reply_to: None,
            takeover_reason: None,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "send_text", "conversation_id": id, "text": "hi"})
        );
        let v = serde_json::to_value(Command::AddNote {
            conversation_id: id,
            text: "see".into(),
            mentions: vec![id],
        })
        .unwrap();
        assert_eq!(v["type"], "add_note");
        assert_eq!(v["mentions"][0], id.to_string());
    }

    #[test]
    fn local_check_follows_core_rules() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let actor = |p: Preset| Actor {
            member_id: me,
            teams: vec![],
            permissions: p.permissions(),
        };
        let send = Command::SendText {
            conversation_id: Uuid::nil(),
            text: "x".into(),
            preview_url: None,
            reply_to: None,
            takeover_reason: None,
        };
        let mine = ConversationAccess {
            assignee: Some(me),
            team: None,
        };
        let theirs = ConversationAccess {
            assignee: Some(other),
            team: None,
        };
        assert_eq!(send.check(&actor(Preset::Restricted), &mine), Ok(()));
        assert_eq!(
            send.check(&actor(Preset::Restricted), &theirs),
            Err(Denied::NotVisible)
        );
        assert_eq!(
            send.check(&actor(Preset::Admin), &theirs),
            Err(Denied::ReasonRequired)
        );
        let label = Command::AddLabel {
            conversation_id: Uuid::nil(),
            label: "#urgent".into(),
        };
        let no_labels = Actor {
            member_id: me,
            teams: vec![],
            permissions: PermissionSet::from([Permission::Reply]),
        };
        assert_eq!(
            label.check(&no_labels, &mine),
            Err(Denied::Missing(Permission::ApplyLabels))
        );
    }
}

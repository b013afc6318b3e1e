//! `POST /v1/commands` (contract: notes/commands-api.md).
//!
//! Every command runs as ONE write job of the single writer: the stored result of its id
//! is looked up, permissions are decided by [`authorize`] (core's access rules) against the
//! conversation as it is inside that transaction, the effects are written, and the answer
//! (status + body) is stored in the same transaction. So a retried id returns the first
//! answer even after a restart, and of two simultaneous claims the writer's order decides
//! and the second sees the first's assignee.
//!
//! `typing` and `viewing` are the exception: presence is ephemeral, never stored and not
//! idempotent.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use teamline_core::Permission;
use teamline_core::access::{
    Actor, ConversationAccess, Denied, can_assign, can_claim, can_send, can_view, require,
};
use teamline_whatsapp::outgoing::{
    MediaObject, OutgoingContent, OutgoingMessage, ReactionBody, Template, TemplateLanguage,
    TextBody,
};
use uuid::Uuid;

use crate::app::{AppState, Principal};
use crate::command_error::CommandError;
use crate::events::kind;
use crate::presence::{PRESENCE_TYPING, PRESENCE_VIEWING, Presence};
use crate::storage::work::{CommandResultRow, NoteRow, SendItem, send_state};
use crate::storage::{
    Audience, ConversationRow, DIRECTION_OUT, MessageRow, NewEvent, StorageResult, WriteTx,
};

/// Event kinds produced by commands (next to [`crate::events::kind`]).
pub mod command_kind {
    pub const MESSAGE_QUEUED: &str = "message.queued";
    pub const MESSAGE_SENT: &str = "message.sent";
    pub const MESSAGE_FAILED: &str = "message.failed";
    pub const MESSAGE_MEDIA_READY: &str = "message.media_ready";
    pub const NOTE_ADDED: &str = "note.added";
    pub const LABELS_CHANGED: &str = "labels.changed";
}

/// Most mentions one note may carry.
pub const MAX_NOTE_MENTIONS: usize = 2;
pub const MAX_NOTE_CHARS: usize = 4096;
pub const MAX_LABEL_CHARS: usize = 64;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSpec {
    pub kind: MediaKind,
    #[serde(default)]
    pub media_id: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
}

/// `{name, language, components}`; `language` as `"en_US"` or Meta's `{"code": "en_US"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateSpec {
    pub name: String,
    pub language: Value,
    #[serde(default)]
    pub components: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    SendText {
        conversation_id: Uuid,
        text: String,
        #[serde(default)]
        preview_url: Option<bool>,
        #[serde(default)]
        reply_to: Option<Uuid>,
        #[serde(default)]
        takeover_reason: Option<String>,
    },
    SendMedia {
        conversation_id: Uuid,
        media: MediaSpec,
        #[serde(default)]
        reply_to: Option<Uuid>,
        #[serde(default)]
        takeover_reason: Option<String>,
    },
    SendTemplate {
        conversation_id: Uuid,
        template: TemplateSpec,
        #[serde(default)]
        takeover_reason: Option<String>,
    },
    SendReaction {
        conversation_id: Uuid,
        message_id: Uuid,
        emoji: String,
        #[serde(default)]
        takeover_reason: Option<String>,
    },
    Claim {
        conversation_id: Uuid,
    },
    Assign {
        conversation_id: Uuid,
        member_id: Uuid,
        #[serde(default)]
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
        until: Timestamp,
    },
    AddNote {
        conversation_id: Uuid,
        text: String,
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
    Typing {
        conversation_id: Uuid,
    },
    /// "I have this conversation open" (presence, repeated while it stays open).
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

    fn takeover_reason(&self) -> Option<&str> {
        match self {
            Command::SendText {
                takeover_reason, ..
            }
            | Command::SendMedia {
                takeover_reason, ..
            }
            | Command::SendTemplate {
                takeover_reason, ..
            }
            | Command::SendReaction {
                takeover_reason, ..
            } => takeover_reason.as_deref(),
            _ => None,
        }
    }
}

/// THE permission decision for every command, through core's access rules. Visibility is
/// always checked first (core's functions do), so a refusal reveals nothing about a
/// conversation the actor may not see.
pub fn authorize(actor: &Actor, cmd: &Command, c: &ConversationAccess) -> Result<(), Denied> {
    match cmd {
        Command::SendText { .. }
        | Command::SendMedia { .. }
        | Command::SendTemplate { .. }
        | Command::SendReaction { .. } => can_send(actor, c, cmd.takeover_reason()),
        Command::Claim { .. } => can_claim(actor, c),
        Command::Assign { .. } | Command::Unassign { .. } => can_assign(actor, c),
        // Closing, reopening and snoozing: the assignee (who can reply), or whoever may
        // assign (a supervisor tidying the queue).
        Command::Close { .. } | Command::Reopen { .. } | Command::Snooze { .. } => {
            visible(actor, c)?;
            if c.assignee == Some(actor.member_id) {
                require(actor, Permission::Reply)
            } else {
                require(actor, Permission::AssignTransfer)
            }
        }
        Command::AddNote { .. } | Command::Typing { .. } => {
            visible(actor, c)?;
            require(actor, Permission::Reply)
        }
        // Whoever may see the conversation may be seen looking at it.
        Command::Viewing { .. } => visible(actor, c),
        Command::AddLabel { .. } | Command::RemoveLabel { .. } => {
            visible(actor, c)?;
            require(actor, Permission::ApplyLabels)
        }
    }
}

fn visible(actor: &Actor, c: &ConversationAccess) -> Result<(), Denied> {
    if can_view(actor, c) {
        Ok(())
    } else {
        Err(Denied::NotVisible)
    }
}

pub fn access_of(c: &ConversationRow) -> ConversationAccess {
    ConversationAccess {
        assignee: c.assignee,
        team: c.team_id,
    }
}

/// What a command answered (also what a retry of its id answers).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: u16,
    pub body: Value,
    /// A message was queued: wake the send worker.
    pub queued: bool,
    /// Answered from the stored result of an earlier attempt.
    pub replayed: bool,
}

struct Applied {
    seq: Option<u64>,
    result: Value,
    queued: bool,
}

fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> CommandError {
    CommandError::new(status, code, message)
}

fn validation(message: impl Into<String>) -> CommandError {
    refuse(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
}

/// sha256 of the command's JSON (serde_json sorts object keys), to tell a retry of the
/// same command from a reused id.
pub fn fingerprint(command: &Value) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(command).unwrap_or_default()).into()
}

/// Applies one command inside the writer's transaction and stores its answer.
pub fn apply(
    tx: &mut dyn WriteTx,
    caller: &Caller,
    id: Uuid,
    fp: [u8; 32],
    cmd: &Command,
    now: Timestamp,
) -> StorageResult<Outcome> {
    if let Some(prev) = tx.command_result(id)? {
        if prev.fingerprint != fp || prev.device_id != caller.device_id {
            let e = refuse(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "This command id was already used for a different command.",
            );
            return Ok(Outcome {
                status: e.status.as_u16(),
                body: e.body,
                queued: false,
                replayed: true,
            });
        }
        return Ok(Outcome {
            status: prev.http_status,
            body: prev.body,
            queued: false,
            replayed: true,
        });
    }
    // Refusals are decided before anything is written, so only the answer is stored.
    let (status, body, queued) = match execute(tx, caller, id, cmd, now)? {
        Ok(a) => (
            200,
            json!({ "id": id, "status": "applied", "seq": a.seq, "result": a.result }),
            a.queued,
        ),
        Err(e) => (e.status.as_u16(), e.body, false),
    };
    tx.insert_command_result(&CommandResultRow {
        id,
        device_id: caller.device_id,
        fingerprint: fp,
        http_status: status,
        body: body.clone(),
        created_at: now,
    })?;
    Ok(Outcome {
        status,
        body,
        queued,
        replayed: false,
    })
}

fn execute(
    tx: &mut dyn WriteTx,
    caller: &Caller,
    command_id: Uuid,
    cmd: &Command,
    now: Timestamp,
) -> StorageResult<Result<Applied, CommandError>> {
    let actor = &caller.actor;
    let Some(mut conv) = tx.conversation(cmd.conversation_id())? else {
        return Ok(Err(CommandError::denied(Denied::NotVisible)));
    };
    let access = access_of(&conv);
    if let Err(d) = authorize(actor, cmd, &access) {
        return Ok(Err(match d {
            Denied::AlreadyAssigned { assignee } if assignee == actor.member_id => {
                // Claiming what one already holds changes nothing; not an error.
                return Ok(Ok(Applied {
                    seq: None,
                    result: json!({ "assignee": assignee, "changed": false }),
                    queued: false,
                }));
            }
            Denied::AlreadyAssigned { assignee } | Denied::AssignedToOther { assignee } => {
                assigned_to_other(tx, d, assignee)?
            }
            other => CommandError::denied(other),
        }));
    }
    match cmd {
        Command::SendText {
            text,
            preview_url,
            reply_to,
            ..
        } => {
            let msg = OutgoingMessage::new(
                conv.customer_wa_id.clone(),
                OutgoingContent::Text {
                    text: TextBody {
                        preview_url: *preview_url,
                        body: text.clone(),
                    },
                },
            );
            queue_send(tx, caller, command_id, &mut conv, msg, *reply_to, cmd, now)
        }
        Command::SendMedia {
            media, reply_to, ..
        } => {
            let mut obj = MediaObject {
                id: media.media_id.clone(),
                link: media.link.clone(),
                caption: media.caption.clone(),
                filename: media.filename.clone(),
            };
            if obj.id.is_some() == obj.link.is_some() {
                return Ok(Err(validation("Give exactly one of media_id or link.")));
            }
            let content = match media.kind {
                MediaKind::Image => OutgoingContent::Image { image: obj },
                MediaKind::Video => OutgoingContent::Video { video: obj },
                MediaKind::Audio => {
                    obj.caption = None;
                    OutgoingContent::Audio { audio: obj }
                }
                MediaKind::Document => OutgoingContent::Document { document: obj },
                MediaKind::Sticker => {
                    obj.caption = None;
                    OutgoingContent::Sticker { sticker: obj }
                }
            };
            let msg = OutgoingMessage::new(conv.customer_wa_id.clone(), content);
            queue_send(tx, caller, command_id, &mut conv, msg, *reply_to, cmd, now)
        }
        Command::SendTemplate { template, .. } => {
            let language = match &template.language {
                Value::String(code) => TemplateLanguage {
                    code: code.clone(),
                    policy: None,
                },
                other => match serde_json::from_value::<TemplateLanguage>(other.clone()) {
                    Ok(l) => l,
                    Err(_) => {
                        return Ok(Err(validation(
                            "template.language must be a code like \"en_US\" or {\"code\": \"en_US\"}.",
                        )));
                    }
                },
            };
            let components = match template
                .components
                .iter()
                .map(|c| serde_json::from_value(c.clone()))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(c) => c,
                Err(e) => {
                    return Ok(Err(validation(format!(
                        "template.components are not in Meta's shape: {e}"
                    ))));
                }
            };
            let t = Template {
                name: template.name.clone(),
                language,
                components,
            };
            let msg = OutgoingMessage::template(conv.customer_wa_id.clone(), t);
            queue_send(tx, caller, command_id, &mut conv, msg, None, cmd, now)
        }
        Command::SendReaction {
            message_id, emoji, ..
        } => {
            let target = tx
                .message(*message_id)?
                .filter(|m| m.conversation_id == conv.id)
                .and_then(|m| m.wamid);
            let Some(wamid) = target else {
                return Ok(Err(validation(
                    "The message to react to is not in this conversation or has no WhatsApp id yet.",
                )));
            };
            let msg = OutgoingMessage::new(
                conv.customer_wa_id.clone(),
                OutgoingContent::Reaction {
                    reaction: ReactionBody {
                        message_id: wamid,
                        emoji: emoji.clone(),
                    },
                },
            );
            queue_send(tx, caller, command_id, &mut conv, msg, None, cmd, now)
        }
        Command::Claim { .. } => set_assignee(tx, conv, Some(actor.member_id), actor, None, now),
        Command::Assign {
            member_id, reason, ..
        } => {
            match tx.member(*member_id)? {
                Some(m) if m.active => {}
                _ => {
                    return Ok(Err(refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_member",
                        "There is no active team member with that id.",
                    )));
                }
            }
            set_assignee(tx, conv, Some(*member_id), actor, reason.clone(), now)
        }
        Command::Unassign { .. } => set_assignee(tx, conv, None, actor, None, now),
        Command::Close { .. } => set_status(tx, conv, "closed", None, actor, now),
        Command::Reopen { .. } => set_status(tx, conv, "open", None, actor, now),
        Command::Snooze { until, .. } => {
            if *until <= now {
                return Ok(Err(validation("Snooze until a time in the future.")));
            }
            set_status(tx, conv, "snoozed", Some(*until), actor, now)
        }
        Command::AddNote { text, mentions, .. } => {
            let text = text.trim();
            if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
                return Ok(Err(validation(format!(
                    "A note needs between 1 and {MAX_NOTE_CHARS} characters."
                ))));
            }
            let mut unique = mentions.clone();
            unique.sort();
            unique.dedup();
            if unique.len() > MAX_NOTE_MENTIONS {
                return Ok(Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "too_many_mentions",
                    format!("A note can mention at most {MAX_NOTE_MENTIONS} members."),
                )));
            }
            for m in &unique {
                if !tx.member(*m)?.is_some_and(|m| m.active) {
                    return Ok(Err(refuse(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_member",
                        "A mentioned member is not an active team member.",
                    )));
                }
            }
            let note = NoteRow {
                id: Uuid::now_v7(),
                conversation_id: conv.id,
                author: actor.member_id,
                text: text.to_owned(),
                mentions: mentions.iter().copied().fold(Vec::new(), |mut acc, m| {
                    if !acc.contains(&m) {
                        acc.push(m);
                    }
                    acc
                }),
                created_at: now,
            };
            tx.insert_note(&note)?;
            let seq = tx.append_event(NewEvent {
                kind: command_kind::NOTE_ADDED,
                conversation_id: Some(conv.id),
                audience: Audience::Conversation,
                also_member: None,
                payload: json!({ "note": note }),
                created_at: now,
            })?;
            Ok(Ok(Applied {
                seq: Some(seq),
                result: json!({ "note_id": note.id }),
                queued: false,
            }))
        }
        Command::AddLabel { label, .. } | Command::RemoveLabel { label, .. } => {
            let label = label.trim();
            if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
                return Ok(Err(validation(format!(
                    "A label needs between 1 and {MAX_LABEL_CHARS} characters."
                ))));
            }
            let adding = matches!(cmd, Command::AddLabel { .. });
            let changed = if adding {
                tx.add_label(conv.id, label, now)?
            } else {
                tx.remove_label(conv.id, label)?
            };
            let labels = tx.labels_of(conv.id)?;
            if changed && adding {
                crate::automation::enqueue(
                    tx,
                    crate::storage::automation::job_kind::LABEL_ADDED,
                    conv.id,
                    None,
                    Some(label.to_owned()),
                    now,
                )?;
            }
            let seq = if changed {
                let mut payload = json!({ "conversation_id": conv.id, "labels": labels });
                payload[if adding { "added" } else { "removed" }] = json!(label);
                Some(tx.append_event(NewEvent {
                    kind: command_kind::LABELS_CHANGED,
                    conversation_id: Some(conv.id),
                    audience: Audience::Conversation,
                    also_member: None,
                    payload,
                    created_at: now,
                })?)
            } else {
                None
            };
            Ok(Ok(Applied {
                seq,
                result: json!({ "labels": labels, "changed": changed }),
                queued: false,
            }))
        }
        Command::Typing { .. } | Command::Viewing { .. } => Ok(Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_command",
            "presence is not applied through the log.",
        ))),
    }
}

/// 409 `assigned_to_other` naming the owner (the contract's claim conflict).
fn assigned_to_other(tx: &dyn WriteTx, d: Denied, assignee: Uuid) -> StorageResult<CommandError> {
    let name = tx
        .member(assignee)?
        .map(|m| m.name)
        .unwrap_or_else(|| "Another member".to_owned());
    let message = match d {
        Denied::AlreadyAssigned { .. } => format!("{name} is handling this conversation"),
        other => format!("{name} is handling this conversation. {other}"),
    };
    Ok(
        CommandError::new(StatusCode::CONFLICT, "assigned_to_other", message)
            .with("assignee", json!({ "id": assignee, "name": name }))
            .with("reason", json!(d.code())),
    )
}

/// Records an outbound message as queued and puts it in the send queue.
#[allow(clippy::too_many_arguments)]
fn queue_send(
    tx: &mut dyn WriteTx,
    caller: &Caller,
    command_id: Uuid,
    conv: &mut ConversationRow,
    mut msg: OutgoingMessage,
    reply_to: Option<Uuid>,
    cmd: &Command,
    now: Timestamp,
) -> StorageResult<Result<Applied, CommandError>> {
    if let Some(reply_to) = reply_to {
        let target = tx
            .message(reply_to)?
            .filter(|m| m.conversation_id == conv.id)
            .and_then(|m| m.wamid);
        let Some(wamid) = target else {
            return Ok(Err(validation(
                "The message to reply to is not in this conversation or has no WhatsApp id yet.",
            )));
        };
        msg = msg.reply_to(wamid);
    }
    let message_id = Uuid::now_v7();
    msg = msg.with_callback_data(crate::outbound::callback_data(message_id));
    if let Err(why) = msg.validate() {
        return Ok(Err(validation(why)));
    }
    let row = queue_message(
        tx,
        conv,
        message_id,
        &msg,
        Some(caller.actor.member_id),
        command_id,
        now,
    )?;
    let takeover = (conv.assignee != Some(caller.actor.member_id))
        .then(|| json!({ "reason": cmd.takeover_reason(), "from": conv.assignee }));
    let window_open = conv.window_expires_at.is_some_and(|w| w > now);
    let seq = tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_QUEUED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({ "message": row, "takeover": takeover }),
        created_at: now,
    })?;
    Ok(Ok(Applied {
        seq: Some(seq),
        result: json!({ "message_id": message_id, "state": "queued", "window_open": window_open }),
        queued: true,
    }))
}

fn set_assignee(
    tx: &mut dyn WriteTx,
    mut conv: ConversationRow,
    assignee: Option<Uuid>,
    actor: &Actor,
    reason: Option<String>,
    now: Timestamp,
) -> StorageResult<Result<Applied, CommandError>> {
    let previous = conv.assignee;
    if previous == assignee {
        return Ok(Ok(Applied {
            seq: None,
            result: json!({ "assignee": assignee, "changed": false }),
            queued: false,
        }));
    }
    conv.assignee = assignee;
    tx.update_conversation(&conv)?;
    let seq = tx.append_event(NewEvent {
        kind: kind::CONVERSATION_ASSIGNED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        // The previous assignee learns the conversation left them.
        also_member: previous,
        payload: json!({
            "conversation_id": conv.id,
            "assignee": assignee,
            "previous_assignee": previous,
            "by": actor.member_id,
            "reason": reason,
            // The new assignee's devices may never have held this conversation (a
            // restricted member): they fetch its history via the messages route.
            "backfill": assignee.is_some(),
        }),
        created_at: now,
    })?;
    Ok(Ok(Applied {
        seq: Some(seq),
        result: json!({ "assignee": assignee, "previous_assignee": previous, "changed": true }),
        queued: false,
    }))
}

fn set_status(
    tx: &mut dyn WriteTx,
    mut conv: ConversationRow,
    status: &str,
    until: Option<Timestamp>,
    actor: &Actor,
    now: Timestamp,
) -> StorageResult<Result<Applied, CommandError>> {
    let previous = conv.status.clone();
    let same_snooze = status != "snoozed" || tx.snoozed_until(conv.id)? == until;
    if previous == status && same_snooze {
        return Ok(Ok(Applied {
            seq: None,
            result: json!({ "status": status, "changed": false }),
            queued: false,
        }));
    }
    conv.status = status.to_owned();
    tx.update_conversation(&conv)?;
    tx.set_snooze(conv.id, until)?;
    let reason = match status {
        "closed" => "closed_by_member",
        "snoozed" => "snoozed_by_member",
        _ => "reopened_by_member",
    };
    let seq = tx.append_event(NewEvent {
        kind: kind::CONVERSATION_STATUS,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "conversation_id": conv.id,
            "status": status,
            "previous": previous,
            "reason": reason,
            "by": actor.member_id,
            "until": until,
        }),
        created_at: now,
    })?;
    Ok(Ok(Applied {
        seq: Some(seq),
        result: json!({ "status": status, "changed": true }),
        queued: false,
    }))
}

#[derive(Deserialize)]
struct Envelope {
    id: Uuid,
    command: Value,
}

/// The authenticated caller, as the command layer needs it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub device_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub actor: Actor,
}

impl From<&Principal> for Caller {
    fn from(p: &Principal) -> Self {
        Caller {
            device_id: p.device.id,
            member_id: p.member.id,
            member_name: p.member.name.clone(),
            actor: p.actor.clone(),
        }
    }
}

/// Routes of the command side, merged into the relay's authenticated `/v1` router:
/// `POST /v1/commands` and `GET /v1/media/{id}`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/commands", post(post_command))
        .route(
            "/v1/media/{id}",
            axum::routing::get(crate::media::get_media),
        )
}

async fn post_command(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> Response {
    match handle(&st, Caller::from(&p), &body).await {
        Ok(out) => (
            StatusCode::from_u16(out.status).unwrap_or(StatusCode::OK),
            axum::Json(out.body),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Parses and applies one command of an authenticated caller.
pub async fn handle(st: &AppState, caller: Caller, body: &[u8]) -> Result<Outcome, CommandError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("The body must be {{\"id\": <UUID>, \"command\": {{...}}}}: {e}"),
        )
    })?;
    let cmd: Command = serde_json::from_value(env.command.clone()).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "invalid_command",
            format!("The command is not valid: {e}"),
        )
    })?;
    match cmd {
        Command::Typing { conversation_id } => {
            return presence(st, &caller, env.id, cmd, conversation_id, PRESENCE_TYPING).await;
        }
        Command::Viewing { conversation_id } => {
            return presence(st, &caller, env.id, cmd, conversation_id, PRESENCE_VIEWING).await;
        }
        _ => {}
    }
    if matches!(cmd, Command::SendTemplate { .. })
        && let Some(services) = st.commands.get()
    {
        // Known, approved, right parameter count: refused before queueing (Meta would
        // refuse it after), before a stored answer of a retried id is looked up.
        services
            .templates
            .validate(&env.command["template"])
            .await?;
    }
    let fp = fingerprint(&env.command);
    let now = st.clock.now();
    let id = env.id;
    let out = st
        .storage
        .write(move |tx| apply(tx, &caller, id, fp, &cmd, now))
        .await
        .map_err(CommandError::storage)?;
    if out.queued
        && let Some(services) = st.commands.get()
    {
        services.outbound.wake();
    }
    // A label added by a member may have queued an automation job.
    st.automation.wake();
    Ok(out)
}

/// Typing and viewing: checked like any command, published to the streams that may see
/// the conversation, never stored.
async fn presence(
    s: &AppState,
    caller: &Caller,
    id: Uuid,
    cmd: Command,
    conversation_id: Uuid,
    kind: &'static str,
) -> Result<Outcome, CommandError> {
    let conv = s
        .storage
        .read(move |tx| tx.conversation(conversation_id))
        .await
        .map_err(CommandError::storage)?;
    let Some(conv) = conv else {
        return Err(CommandError::denied(Denied::NotVisible));
    };
    let access = access_of(&conv);
    authorize(&caller.actor, &cmd, &access).map_err(CommandError::denied)?;
    s.presence.publish(Presence {
        kind,
        conversation_id,
        access,
        member_id: caller.member_id,
        member_name: caller.member_name.clone(),
        at: s.clock.now(),
    });
    Ok(Outcome {
        status: 200,
        body: json!({ "id": id, "status": "applied", "seq": null, "result": {} }),
        queued: false,
        replayed: false,
    })
}

/// Writes a validated outgoing message as a queued message row plus its send-queue item
/// (the send worker makes the Graph call) and moves the conversation's last activity: the
/// one way replies, templates and auto-replies are queued. `sent_by` is `None` for
/// automation. The caller announces it (`message.queued`) with its own payload.
pub(crate) fn queue_message(
    tx: &mut dyn WriteTx,
    conv: &mut ConversationRow,
    message_id: Uuid,
    msg: &OutgoingMessage,
    sent_by: Option<Uuid>,
    command_id: Uuid,
    now: Timestamp,
) -> StorageResult<MessageRow> {
    let request = serde_json::to_value(msg).unwrap_or(Value::Null);
    let row = MessageRow {
        id: message_id,
        conversation_id: conv.id,
        wamid: None,
        direction: DIRECTION_OUT.into(),
        kind: msg.type_name().to_owned(),
        body: request.clone(),
        status: Some(send_state::QUEUED.into()),
        status_rank: 0,
        error: None,
        sent_by,
        wa_timestamp: None,
        created_at: now,
    };
    tx.insert_message(&row)?;
    tx.insert_send_item(&SendItem {
        seq: 0,
        message_id,
        command_id,
        conversation_id: conv.id,
        recipient: conv.customer_wa_id.clone(),
        request,
        state: send_state::QUEUED.into(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        wamid: None,
        created_at: now,
        updated_at: now,
    })?;
    conv.last_activity_at = now;
    tx.update_conversation(conv)?;
    if sent_by.is_some() {
        crate::automation::sla_after_reply(tx, conv, now)?;
    }
    Ok(row)
}

//! Relay events → store rows, one store transaction per batch.
//!
//! The store's `apply_batch` skips every event at or below the cursor and moves the cursor
//! in the same transaction, so a batch replayed after a crash or a reconnect applies
//! nothing twice. Rows an event only partly describes (a status change, an assignment)
//! are read once per batch before the transaction and kept in a cache; each touched
//! conversation is written once, at the end of the batch.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use teamline_core::access::{Actor, ConversationAccess, can_view};
use teamline_store::{
    Batch, Conversation, ConversationStatus, Device, Direction, Label, Member, Message,
    MessageStatus, Note, Store, StoreError,
};
use uuid::Uuid;

use crate::core::automation::BroadcastSummary;
use crate::notify::{Candidate, Trigger};
use crate::wire::{self, Event, kind};

/// Namespace of label ids made from label names (the relay names labels; the store keys
/// them by id).
const LABEL_NAMESPACE: Uuid = Uuid::from_u128(0x6c1b_7e9a_4f0d_4c1e_9a55_2f3e_8d71_b0a4);

pub(crate) fn label_id(name: &str) -> Uuid {
    Uuid::new_v5(&LABEL_NAMESPACE, name.to_lowercase().as_bytes())
}

/// What one batch did.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub applied: usize,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub cursor: u64,
    pub conversations: BTreeSet<Uuid>,
    /// Rows of conversations not in `conversations` may show differently too: a member
    /// or a label was renamed, recoloured or deleted.
    pub whole_inbox: bool,
    /// Conversations an event referred to that the store does not have (e.g. one that
    /// became visible by being assigned to this member): fetch them.
    pub missing: BTreeSet<Uuid>,
    /// Events that may deserve a notification (decided later, in `notify`).
    pub candidates: Vec<Candidate>,
    /// Broadcasts that changed in this batch, each once with its latest summary.
    pub broadcasts: Vec<BroadcastSummary>,
}

struct Ctx<'a> {
    actor: Option<&'a Actor>,
    convs: HashMap<Uuid, Option<Conversation>>,
    dirty: BTreeSet<Uuid>,
    messages: HashMap<Uuid, Message>,
    labels: HashMap<String, Label>,
    devices: HashMap<Uuid, Device>,
    members: HashMap<Uuid, String>,
    /// Automation's marks (priority, SLA) by conversation, written after the batch's
    /// conversation rows so a conversation opened in the same batch keeps them.
    marks: HashMap<Uuid, Marks>,
    out: Outcome,
}

#[derive(Default)]
struct Marks {
    /// `Some(None)` clears the priority.
    priority: Option<Option<String>>,
    sla: Option<serde_json::Value>,
}

pub(crate) fn conversation_status(s: &str) -> ConversationStatus {
    match s {
        "closed" | "resolved" => ConversationStatus::Resolved,
        "snoozed" => ConversationStatus::Snoozed,
        "pending" => ConversationStatus::Pending,
        _ => ConversationStatus::Open,
    }
}

fn message_status(s: &str) -> Option<MessageStatus> {
    Some(match s {
        "queued" => MessageStatus::Queued,
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" | "played" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        "received" => MessageStatus::Received,
        _ => return None,
    })
}

/// A store message from the relay's row.
pub(crate) fn message_of(row: &wire::MessageRow, seq: u64) -> Message {
    let direction = if row.direction == "out" {
        Direction::Out
    } else {
        Direction::In
    };
    let status = match (&direction, row.status.as_deref()) {
        (Direction::In, _) => MessageStatus::Received,
        (Direction::Out, Some(s)) => message_status(s).unwrap_or(MessageStatus::Queued),
        (Direction::Out, None) => MessageStatus::Queued,
    };
    let parts = row.parts();
    let sent_at = row
        .wa_timestamp
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(row.created_at);
    Message {
        id: row.id,
        wamid: row.wamid.clone(),
        conversation_id: row.conversation_id,
        direction,
        kind: row.kind.clone(),
        text: parts.text(),
        media: parts.media().cloned(),
        status,
        error: row.error.as_ref().map(|e| e.to_string()),
        author_member_id: row.sent_by,
        sent_at,
        updated_at: row.created_at,
        seq,
    }
}

/// Writes a relay message row: the message, then its typed content when plain text does
/// not say it all (see [`crate::content`]).
pub(crate) fn write_message(
    b: &Batch<'_>,
    row: &wire::MessageRow,
    seq: u64,
) -> Result<Message, StoreError> {
    let m = message_of(row, seq);
    b.upsert_message(&m)?;
    let content = crate::content::parse(
        m.direction == Direction::Out,
        &m.kind,
        &row.body,
        m.text.as_deref(),
    );
    if content.worth_storing() {
        let json = serde_json::to_value(&content)?;
        b.set_message_content(m.id, &json, content.reacts_to())?;
    }
    Ok(m)
}

/// A store conversation from the relay's row, keeping what only this device tracks
/// (unread count, labels when the row has none, snooze time).
pub(crate) fn conversation_of(
    existing: Option<&Conversation>,
    row: &wire::ConversationRow,
    labels: Option<Vec<Uuid>>,
    seq: u64,
) -> Conversation {
    let mut label_ids = labels
        .or_else(|| existing.map(|c| c.labels.clone()))
        .unwrap_or_default();
    label_ids.sort();
    label_ids.dedup();
    Conversation {
        id: row.id,
        contact_wa_id: row.customer_wa_id.clone(),
        name: row.name.clone(),
        assignee: row.assignee,
        team: row.team_id.map(|t| t.to_string()),
        status: conversation_status(&row.status),
        snoozed_until: row
            .snoozed_until
            .or_else(|| existing.and_then(|c| c.snoozed_until)),
        last_message_preview: row
            .last_preview
            .clone()
            .or_else(|| existing.and_then(|c| c.last_message_preview.clone())),
        last_message_at: Some(row.last_activity_at),
        unread_count: existing.map_or(0, |c| c.unread_count),
        window_expires_at: row.window_expires_at,
        labels: label_ids,
        seq: seq.max(existing.map_or(0, |c| c.seq)),
    }
}

pub(crate) fn access_of(c: &Conversation) -> ConversationAccess {
    ConversationAccess {
        assignee: c.assignee,
        team: c.team.as_deref().and_then(|t| t.parse().ok()),
    }
}

fn display_name(c: &Conversation) -> String {
    c.name.clone().unwrap_or_else(|| c.contact_wa_id.clone())
}

/// Applies `events` (increasing seqs) in one transaction. `actor` (this device's member
/// and effective permissions) decides when a conversation has left this device's view.
pub(crate) fn apply_events(
    store: &mut Store,
    events: &[Event],
    actor: Option<&Actor>,
) -> Result<Outcome, StoreError> {
    let cursor = store.cursor()?;
    let fresh: Vec<&Event> = events.iter().filter(|e| e.seq > cursor).collect();
    let mut ctx = Ctx {
        actor,
        convs: HashMap::new(),
        dirty: BTreeSet::new(),
        messages: HashMap::new(),
        labels: HashMap::new(),
        devices: HashMap::new(),
        members: HashMap::new(),
        marks: HashMap::new(),
        out: Outcome {
            cursor,
            ..Outcome::default()
        },
    };
    if fresh.is_empty() {
        return Ok(ctx.out);
    }
    preload(store, &fresh, &mut ctx)?;
    let total = fresh.len();
    let mut n = 0;
    let outcome = store.apply_batch(
        &fresh,
        |e| e.seq,
        |b, e| {
            n += 1;
            apply_one(b, e, &mut ctx)?;
            if n == total {
                flush(b, &mut ctx)?;
            }
            Ok(())
        },
    )?;
    ctx.out.applied = outcome.applied;
    ctx.out.cursor = outcome.cursor;
    ctx.out.first_seq = fresh.first().map(|e| e.seq);
    ctx.out.last_seq = fresh.last().map(|e| e.seq);
    ctx.out.conversations.extend(ctx.dirty.iter().copied());
    Ok(ctx.out)
}

fn preload(store: &Store, fresh: &[&Event], ctx: &mut Ctx<'_>) -> Result<(), StoreError> {
    let mut want_labels = false;
    let mut want_devices = false;
    let mut want_members = false;
    for e in fresh {
        if let Some(id) = e.conversation_id
            && !ctx.convs.contains_key(&id)
        {
            ctx.convs.insert(id, store.conversation(id)?);
        }
        match e.kind.as_str() {
            kind::MESSAGE_SENT => {
                if let Ok(p) = e.payload::<wire::MessageSent>()
                    && let Some(m) = store.message(p.message_id)?
                {
                    ctx.messages.insert(m.id, m);
                }
            }
            kind::LABELS_CHANGED | kind::LABEL_SAVED | kind::LABEL_DELETED => want_labels = true,
            kind::DEVICE_REVOKED => want_devices = true,
            kind::NOTE_ADDED => want_members = true,
            _ => {}
        }
    }
    if want_labels {
        ctx.labels = store
            .labels()?
            .into_iter()
            .map(|l| (l.name.to_lowercase(), l))
            .collect();
    }
    if want_devices {
        ctx.devices = store.devices()?.into_iter().map(|d| (d.id, d)).collect();
    }
    if want_members {
        ctx.members = store
            .members()?
            .into_iter()
            .map(|m| (m.id, m.name))
            .collect();
    }
    Ok(())
}

fn flush(b: &Batch<'_>, ctx: &mut Ctx<'_>) -> Result<(), StoreError> {
    for id in &ctx.dirty {
        if let Some(Some(c)) = ctx.convs.get(id) {
            b.upsert_conversation(c)?;
        }
    }
    for (id, m) in ctx.marks.drain() {
        if let Some(p) = &m.priority {
            b.set_conversation_priority(id, p.as_deref())?;
        }
        if let Some(sla) = &m.sla {
            b.set_conversation_sla(id, sla)?;
        }
    }
    Ok(())
}

/// Keeps conversations cached by this batch in step with a contact's new name (the batch
/// writes its cached conversations last, which would otherwise undo the rename).
fn rename_cached(ctx: &mut Ctx<'_>, wa_id: &str, name: Option<&str>, seq: u64) {
    if name.is_none() {
        return;
    }
    for c in ctx.convs.values_mut().flatten() {
        if c.contact_wa_id == wa_id {
            c.name = name.map(str::to_owned);
            c.seq = c.seq.max(seq);
        }
    }
}

/// The conversation as this batch knows it, or `None` (and it is recorded as missing).
fn conv<'c>(ctx: &'c mut Ctx<'_>, id: Uuid) -> Option<&'c mut Conversation> {
    let known = matches!(ctx.convs.get(&id), Some(Some(_)));
    if !known {
        ctx.out.missing.insert(id);
        return None;
    }
    ctx.dirty.insert(id);
    ctx.convs.get_mut(&id).and_then(Option::as_mut)
}

fn candidate(
    ctx: &Ctx<'_>,
    e: &Event,
    conversation_id: Option<Uuid>,
    trigger: Trigger,
) -> Candidate {
    let conversation_name = conversation_id
        .and_then(|id| ctx.convs.get(&id))
        .and_then(Option::as_ref)
        .map(display_name);
    Candidate {
        at: e.created_at,
        conversation_id,
        conversation_name,
        trigger,
    }
}

/// Resolves label refs to ids, creating labels the store does not know yet.
fn label_ids(
    b: &Batch<'_>,
    ctx: &mut Ctx<'_>,
    refs: &[wire::LabelRef],
    seq: u64,
) -> Result<Vec<(Uuid, String, bool)>, StoreError> {
    let mut out = Vec::new();
    for r in refs {
        let key = r.name().to_lowercase();
        let (given_id, colour, urgent) = match r {
            wire::LabelRef::Name(_) => (None, None, None),
            wire::LabelRef::Object {
                id, colour, urgent, ..
            } => (*id, colour.clone(), *urgent),
        };
        let existing = ctx.labels.get(&key).cloned();
        let label = match existing {
            Some(l) if colour.is_none() && urgent.is_none() => l,
            other => {
                let l = Label {
                    id: given_id
                        .or(other.as_ref().map(|l| l.id))
                        .unwrap_or_else(|| label_id(r.name())),
                    name: r.name().to_owned(),
                    colour: colour
                        .or(other.as_ref().map(|l| l.colour.clone()))
                        .unwrap_or_else(|| "#8a8a8a".to_owned()),
                    urgent: urgent.or(other.as_ref().map(|l| l.urgent)).unwrap_or(false),
                    seq,
                };
                b.upsert_label(&l)?;
                if other.as_ref().is_some_and(|o| {
                    (&o.name, &o.colour, o.urgent) != (&l.name, &l.colour, l.urgent)
                }) {
                    // Every conversation wearing it shows the change.
                    ctx.out.whole_inbox = true;
                }
                ctx.labels.insert(key, l.clone());
                l
            }
        };
        out.push((label.id, label.name.clone(), label.urgent));
    }
    Ok(out)
}

/// Logs an unreadable event and moves on (one bad event must not stall sync forever).
fn skip(e: &Event, err: serde_json::Error) -> Result<(), StoreError> {
    // Never the payload itself: it may carry message text.
    tracing::warn!(seq = e.seq, kind = %e.kind, error = %err, "skipping an event the client cannot read");
    Ok(())
}

fn apply_one(b: &Batch<'_>, e: &Event, ctx: &mut Ctx<'_>) -> Result<(), StoreError> {
    let seq = e.seq;
    match e.kind.as_str() {
        kind::MESSAGE_RECEIVED => {
            let p: wire::MessageReceived = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let m = write_message(b, &p.message, seq)?;
            let inbound = m.direction == Direction::In;
            let preview = p.preview.clone().or_else(|| m.text.clone());
            let id = p.message.conversation_id;
            let existing = ctx.convs.get(&id).cloned().flatten();
            let updated = match (&p.conversation, existing) {
                (Some(row), existing) => {
                    let mut c = conversation_of(existing.as_ref(), row, None, seq);
                    c.seq = seq;
                    Some(c)
                }
                (None, Some(mut c)) => {
                    c.last_message_at = Some(m.sent_at);
                    c.seq = seq;
                    Some(c)
                }
                (None, None) => None,
            };
            match updated {
                Some(mut c) => {
                    if inbound {
                        c.unread_count = c.unread_count.saturating_add(1);
                    }
                    if preview.is_some() {
                        c.last_message_preview = preview;
                    }
                    ctx.convs.insert(id, Some(c));
                    ctx.dirty.insert(id);
                }
                None => {
                    ctx.out.missing.insert(id);
                }
            }
        }
        kind::MESSAGE_QUEUED => {
            let p: wire::MessageQueued = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let m = write_message(b, &p.message, seq)?;
            if let Some(c) = conv(ctx, m.conversation_id) {
                c.last_message_at = Some(m.sent_at);
                if m.text.is_some() {
                    c.last_message_preview = m.text.clone();
                }
                c.seq = seq;
            }
        }
        kind::MESSAGE_STATUS => {
            let p: wire::MessageStatus = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(status) = message_status(&p.status) {
                let error = match &p.errors {
                    serde_json::Value::Array(a) if !a.is_empty() => Some(p.errors.to_string()),
                    _ => None,
                };
                b.update_message_status(p.message_id, status, error.as_deref(), e.created_at, seq)?;
            }
        }
        kind::MESSAGE_SENT => {
            let p: wire::MessageSent = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(mut m) = ctx.messages.remove(&p.message_id) {
                m.wamid = p.wamid.or(m.wamid);
                if m.status == MessageStatus::Queued {
                    m.status = MessageStatus::Sent;
                }
                m.updated_at = e.created_at;
                m.seq = seq;
                b.upsert_message(&m)?;
                ctx.messages.insert(m.id, m);
            } else {
                b.update_message_status(
                    p.message_id,
                    MessageStatus::Sent,
                    None,
                    e.created_at,
                    seq,
                )?;
            }
        }
        kind::MESSAGE_FAILED => {
            let p: wire::MessageFailed = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let why = p.title.unwrap_or_else(|| p.code.to_string());
            b.update_message_status(
                p.message_id,
                MessageStatus::Failed,
                Some(&why),
                e.created_at,
                seq,
            )?;
        }
        kind::MESSAGE_MEDIA_READY => {
            let p: wire::MediaReady = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if b.mark_media_ready(p.message_id, p.size, seq)?
                && let Some(id) = e.conversation_id
            {
                // The timeline redraws: the image can load now.
                ctx.out.conversations.insert(id);
            }
        }
        kind::CONVERSATION_OPENED => {
            let p: wire::ConversationOpened = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let id = p.conversation.id;
            let existing = ctx.convs.get(&id).cloned().flatten();
            let labels = match &p.conversation.labels {
                Some(refs) => Some(
                    label_ids(b, ctx, refs, seq)?
                        .into_iter()
                        .map(|(id, _, _)| id)
                        .collect(),
                ),
                None => None,
            };
            let mut c = conversation_of(existing.as_ref(), &p.conversation, labels, seq);
            c.seq = seq;
            ctx.convs.insert(id, Some(c));
            ctx.dirty.insert(id);
        }
        kind::CONVERSATION_RENAMED => {
            let p: wire::ConversationRenamed = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(c) = conv(ctx, p.conversation_id)
                && p.name.is_some()
            {
                c.name = p.name;
                c.seq = seq;
            }
        }
        kind::CONVERSATION_STATUS => {
            let p: wire::ConversationStatus = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(c) = conv(ctx, p.conversation_id) {
                c.status = conversation_status(&p.status);
                c.snoozed_until = if c.status == ConversationStatus::Snoozed {
                    p.until
                } else {
                    None
                };
                c.seq = seq;
            }
        }
        kind::CONVERSATION_ASSIGNED => {
            let p: wire::ConversationAssigned = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let actor = ctx.actor;
            let mut lost = false;
            if let Some(c) = conv(ctx, p.conversation_id) {
                c.assignee = p.assignee;
                c.seq = seq;
                lost = actor.is_some_and(|a| !can_view(a, &access_of(c)));
            }
            let cand = candidate(
                ctx,
                e,
                Some(p.conversation_id),
                Trigger::Assigned {
                    assignee: p.assignee,
                    by: p.by,
                },
            );
            ctx.out.candidates.push(cand);
            if lost {
                // Transferred away from this member, who may not see it any more.
                b.delete_conversation(p.conversation_id)?;
                ctx.convs.insert(p.conversation_id, None);
                ctx.dirty.remove(&p.conversation_id);
                ctx.out.conversations.insert(p.conversation_id);
            }
        }
        kind::CONTACT_UPDATED => {
            let p: wire::ContactUpdated = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            // A member's edit carries the whole contact; a profile change only the
            // profile name, which never replaces the team's name or attributes.
            let name = match &p.contact {
                Some(c) => {
                    let record = c.record(seq);
                    b.put_contact_record(&record)?;
                    record.name
                }
                None => b.set_contact_profile_name(&p.wa_id, p.name.as_deref(), seq)?,
            };
            let shown = b.rename_conversations_of(&p.wa_id, name.as_deref(), seq)?;
            ctx.out.conversations.extend(shown);
            rename_cached(ctx, &p.wa_id, name.as_deref(), seq);
            if let Some(id) = p.conversation_id.or(e.conversation_id)
                && let Some(c) = conv(ctx, id)
            {
                if name.is_some() {
                    c.name = name;
                }
                c.seq = seq;
            }
        }
        crate::contacts::kind::CONTACTS_IMPORTED => {
            let p: crate::contacts::ContactsImported = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            for c in &p.contacts {
                let record = c.record(seq);
                b.put_contact_record(&record)?;
                let shown =
                    b.rename_conversations_of(&record.wa_id, record.name.as_deref(), seq)?;
                ctx.out.conversations.extend(shown);
                rename_cached(ctx, &record.wa_id, record.name.as_deref(), seq);
            }
        }
        crate::contacts::kind::ATTRIBUTE_CREATED => {
            let p: crate::contacts::AttributeCreated = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            b.put_contact_attribute_def(&teamline_store::ContactAttributeDef {
                key: p.attribute.key,
                kind: p.attribute.kind,
                seq,
            })?;
        }
        kind::MEMBER_CREATED => {
            let p: wire::MemberCreated = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            b.upsert_member(&Member {
                id: p.member.id,
                name: p.member.name.clone(),
                role: p.member.preset.clone(),
                active: p.member.active,
                seq,
            })?;
            ctx.members.insert(p.member.id, p.member.name);
            ctx.out.whole_inbox = true;
        }
        kind::MEMBER_DIRECTORY => {
            let p: wire::MemberDirectory = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let m = p.member;
            b.upsert_member_directory(m.id, &m.name, m.active, seq)?;
            ctx.members.insert(m.id, m.name);
            ctx.out.whole_inbox = true;
        }
        kind::DEVICE_LINKED => {
            let p: wire::DeviceLinked = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let d = Device {
                id: p.device.id,
                name: p.device.name.clone(),
                os: p.device.os.clone(),
                ceiling: p.device.ceiling_name(),
                member_id: Some(p.device.member_id),
                last_seen_at: p.device.last_seen,
                revoked: p.device.revoked_at.is_some(),
                seq,
            };
            b.upsert_device(&d)?;
            ctx.devices.insert(d.id, d);
        }
        kind::DEVICE_REVOKED => {
            let p: wire::DeviceRevoked = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(d) = ctx.devices.get_mut(&p.device_id) {
                d.revoked = true;
                d.seq = seq;
                b.upsert_device(d)?;
            }
        }
        kind::QUICK_REPLY_SAVED => {
            let p: wire::QuickReplySaved = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let q = p.quick_reply;
            b.upsert_quick_reply(&teamline_store::QuickReply {
                id: q.id,
                shortcut: q.shortcut,
                title: q.title,
                text: q.text,
                language: q.language,
                seq,
            })?;
        }
        kind::QUICK_REPLY_DELETED => {
            let p: wire::QuickReplyDeleted = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            b.delete_quick_reply(p.id)?;
        }
        kind::NOTE_ADDED => {
            let p: wire::NoteAdded = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let n = p.note;
            b.upsert_note(&Note {
                id: n.id,
                conversation_id: n.conversation_id,
                author_member_id: n.author,
                text: n.text,
                created_at: n.created_at,
                seq,
            })?;
            let author_name = n.author.and_then(|a| ctx.members.get(&a).cloned());
            let cand = candidate(
                ctx,
                e,
                Some(n.conversation_id),
                Trigger::Mentioned {
                    mentions: n.mentions,
                    author: n.author,
                    author_name,
                },
            );
            ctx.out.candidates.push(cand);
        }
        kind::LABELS_CHANGED => {
            let p: wire::LabelsChanged = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let now = label_ids(b, ctx, &p.labels, seq)?;
            let before: Vec<Uuid> = ctx
                .convs
                .get(&p.conversation_id)
                .and_then(Option::as_ref)
                .map(|c| c.labels.clone())
                .unwrap_or_default();
            let added: Vec<(String, bool)> = match p.added {
                Some(a) => {
                    let refs = a.into_vec();
                    label_ids(b, ctx, &refs, seq)?
                        .into_iter()
                        .map(|(_, name, urgent)| (name, urgent))
                        .collect()
                }
                None => now
                    .iter()
                    .filter(|(id, _, _)| !before.contains(id))
                    .map(|(_, name, urgent)| (name.clone(), *urgent))
                    .collect(),
            };
            if let Some(c) = conv(ctx, p.conversation_id) {
                let mut ids: Vec<Uuid> = now.iter().map(|(id, _, _)| *id).collect();
                ids.sort();
                ids.dedup();
                c.labels = ids;
                c.seq = seq;
            }
            if !added.is_empty() {
                let cand = candidate(
                    ctx,
                    e,
                    Some(p.conversation_id),
                    Trigger::LabelsAdded { labels: added },
                );
                ctx.out.candidates.push(cand);
            }
        }
        kind::LABEL_SAVED => {
            let p: wire::LabelSaved = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            label_ids(b, ctx, std::slice::from_ref(&p.label), seq)?;
        }
        kind::LABEL_DELETED => {
            let p: wire::LabelDeleted = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if let Some(l) = ctx.labels.remove(&p.name.to_lowercase()) {
                b.delete_label(l.id)?;
                ctx.out.whole_inbox = true;
                for c in ctx.convs.values_mut().flatten() {
                    c.labels.retain(|id| *id != l.id);
                }
            }
        }
        kind::CONVERSATION_PRIORITY => {
            let p: wire::ConversationPriority = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if conv(ctx, p.conversation_id).is_some() {
                ctx.marks.entry(p.conversation_id).or_default().priority = Some(p.priority);
                ctx.out.conversations.insert(p.conversation_id);
            }
        }
        kind::CONVERSATION_SLA => {
            let p: wire::ConversationSla = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            if conv(ctx, p.conversation_id).is_some() {
                ctx.marks.entry(p.conversation_id).or_default().sla =
                    Some(serde_json::json!({ "target": p.target, "state": p.state }));
                ctx.out.conversations.insert(p.conversation_id);
            }
        }
        kind::AUTOMATION_NOTIFY => {
            let p: wire::AutomationNotify = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let cand = candidate(
                ctx,
                e,
                Some(p.conversation_id),
                Trigger::RuleNotified {
                    member_id: p.member_id,
                    text: p.text,
                    rule: p.source_name,
                },
            );
            ctx.out.candidates.push(cand);
        }
        kind::SECURITY_ALERT => {
            let p: wire::SecurityAlert = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let cand = candidate(
                ctx,
                e,
                None,
                Trigger::SecurityAlert {
                    title: p.title,
                    message: p.message,
                },
            );
            ctx.out.candidates.push(cand);
        }
        kind::ALERT_RAISED => {
            let p: wire::AlertRaised = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            let message = (!p.alert.summary.is_empty()).then_some(p.alert.summary);
            let cand = candidate(
                ctx,
                e,
                None,
                Trigger::SecurityAlert {
                    title: Some("Teamline security alert".to_owned()),
                    message,
                },
            );
            ctx.out.candidates.push(cand);
        }
        kind::BROADCAST_CHANGED => {
            let p: BroadcastSummary = match e.payload() {
                Ok(p) => p,
                Err(err) => return skip(e, err),
            };
            // Only the newest summary of a broadcast matters to the window.
            ctx.out.broadcasts.retain(|b| b.id != p.id);
            ctx.out.broadcasts.push(p);
        }
        // Template reviews, webhook errors and kinds newer than this client: nothing to
        // store; the cursor still moves past them.
        _ => {}
    }
    Ok(())
}

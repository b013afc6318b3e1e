//! Webhook → stored rows and events, inside the writer's transaction.
//!
//! Written against [`WriteTx`] only, so every storage backend applies the same rules:
//! duplicates (identical body, same wamid, same wamid+status) create nothing, statuses
//! only move forward, inbound messages open or refresh the conversation and its 24-hour
//! window and keep the contact's card.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use teamline_whatsapp::webhook::{
    InboundMessage, Status, StatusKind, UnsupportedLevel, WebhookItem, WebhookPayload,
};
use uuid::Uuid;

use crate::events::kind;
use crate::storage::automation::job_kind;
use crate::storage::{
    Audience, ContactRow, ConversationRow, DIRECTION_IN, MessageRow, NewEvent, NewEventJson,
    StorageResult, WriteTx,
};

/// The customer-service window Meta gives after each customer message.
pub const SERVICE_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// What one webhook delivery changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The identical body had been stored before (a retry of the same delivery).
    pub duplicate_body: bool,
    /// Events appended.
    pub events: u32,
    /// Items that were already known (same wamid, or same wamid+status).
    pub duplicates: u32,
    /// Outbound messages queued (a broadcast opt-out's acknowledgement): wake the sender.
    pub queued: u32,
}

/// What a webhook's inbound messages serialize to, whatever the database holds: computed
/// by [`prepare`] in the HTTP handler (many run in parallel) so the single writer thread
/// only runs statements. One entry per payload item (`None` for items that are not
/// inbound messages).
#[derive(Debug)]
pub struct Prepared {
    items: Vec<Option<PreparedInbound>>,
}

#[derive(Debug)]
struct PreparedInbound {
    /// The message in Meta's shape: the row's `body`, as a value and as stored JSON.
    body: Value,
    body_json: Box<RawValue>,
    /// The contact card, when the webhook carried one.
    profile: Option<Value>,
    preview: String,
    supported: bool,
}

/// Serializes what [`apply_prepared`] would otherwise serialize inside the transaction.
pub fn prepare(payload: &WebhookPayload) -> Prepared {
    let items = payload
        .items
        .iter()
        .map(|item| match item {
            WebhookItem::Message(m) => Some(prepare_inbound(m)),
            _ => None,
        })
        .collect();
    Prepared { items }
}

/// Stores a verified, parsed webhook and derives its events.
pub fn apply_webhook(
    tx: &mut dyn WriteTx,
    body: &[u8],
    sha256: &[u8; 32],
    payload: &WebhookPayload,
    now: Timestamp,
) -> StorageResult<IngestOutcome> {
    apply_prepared(tx, body, sha256, payload, prepare(payload), now)
}

/// [`apply_webhook`] with the payload's serialization done beforehand by [`prepare`].
pub fn apply_prepared(
    tx: &mut dyn WriteTx,
    body: &[u8],
    sha256: &[u8; 32],
    payload: &WebhookPayload,
    prepared: Prepared,
    now: Timestamp,
) -> StorageResult<IngestOutcome> {
    let mut out = IngestOutcome::default();
    if !tx.insert_raw_webhook(sha256, body, now)? {
        out.duplicate_body = true;
        return Ok(out);
    }
    let mut prepared = prepared.items.into_iter();
    for item in &payload.items {
        let prep = prepared.next().flatten();
        let appended = match item {
            WebhookItem::Message(m) => {
                let prep = match prep {
                    Some(p) => p,
                    // Only when `prepared` came from another payload: redo it here.
                    None => prepare_inbound(m),
                };
                apply_inbound(tx, m, prep, now, &mut out.queued)?
            }
            WebhookItem::Status(s) => apply_status(tx, &s.status, now)?,
            WebhookItem::TemplateStatus(t) => {
                let u = &t.update;
                tx.append_event(NewEvent {
                    kind: kind::TEMPLATE_STATUS,
                    conversation_id: None,
                    audience: Audience::Everyone,
                    also_member: None,
                    payload: json!({
                        "template_id": u.message_template_id,
                        "name": u.message_template_name,
                        "language": u.message_template_language,
                        "category": u.message_template_category,
                        "event": u.event,
                        "reason": u.reason,
                    }),
                    created_at: now,
                })?;
                1
            }
            WebhookItem::Error(e) => {
                tx.append_event(NewEvent {
                    kind: kind::WEBHOOK_ERROR,
                    conversation_id: None,
                    audience: Audience::ManageTeam,
                    also_member: None,
                    payload: json!({
                        "code": e.error.code,
                        "title": e.error.title,
                        "message": e.error.describe(),
                        "details": e.error.error_data.as_ref().and_then(|d| d.details.clone()),
                    }),
                    created_at: now,
                })?;
                1
            }
            WebhookItem::Unsupported(u) => {
                let level = match u.level {
                    UnsupportedLevel::Entry => "entry",
                    UnsupportedLevel::Change => "change",
                    UnsupportedLevel::Message => "message",
                    UnsupportedLevel::Status => "status",
                };
                tx.append_event(NewEvent {
                    kind: kind::WEBHOOK_UNSUPPORTED,
                    conversation_id: None,
                    audience: Audience::ManageTeam,
                    also_member: None,
                    payload: json!({
                        "level": level,
                        "field": u.field,
                        "reason": u.reason,
                        "raw": u.raw,
                    }),
                    created_at: now,
                })?;
                1
            }
        };
        if appended == 0 {
            out.duplicates += 1;
        }
        out.events += appended;
    }
    Ok(out)
}

fn prepare_inbound(m: &InboundMessage) -> PreparedInbound {
    let body = serde_json::to_value(&m.message).unwrap_or(Value::Null);
    // A Value always serializes, and its text is valid JSON.
    let body_json = serde_json::value::to_raw_value(&body).expect("a JSON value serializes");
    PreparedInbound {
        body,
        body_json,
        profile: m
            .contact
            .as_ref()
            .map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
        preview: m.message.kind.preview_text(),
        supported: m.message.kind.is_supported(),
    }
}

fn wa_time(secs: Option<i64>, now: Timestamp) -> Timestamp {
    // A sender clock in the future must not stretch the window beyond Meta's.
    secs.and_then(|s| Timestamp::from_second(s).ok())
        .map(|t| t.min(now))
        .unwrap_or(now)
}

/// A customer's message: contact, conversation (opened, reopened, window refreshed),
/// message row, events. Returns the number of events appended (0 for a duplicate).
fn apply_inbound(
    tx: &mut dyn WriteTx,
    m: &InboundMessage,
    prep: PreparedInbound,
    now: Timestamp,
    queued: &mut u32,
) -> StorageResult<u32> {
    let msg = &m.message;
    if tx.message_by_wamid(&msg.id)?.is_some() {
        return Ok(0);
    }
    let mut appended = 0;
    let customer = msg.sender().unwrap_or("unknown").to_owned();
    let sent_at = wa_time(msg.timestamp_secs(), now);
    let name = m
        .contact
        .as_ref()
        .and_then(|c| c.display_name())
        .map(str::to_owned);

    let existing_contact = tx.contact(&customer)?;
    // The conversation shows the team's name for the customer when it has one (a contact
    // edit or import), else the WhatsApp profile name.
    let team_name = tx.contact_record(&customer)?.and_then(|c| c.display_name);
    let shown_name = team_name.or_else(|| name.clone());
    let name_changed = existing_contact
        .as_ref()
        .is_some_and(|c| name.is_some() && c.name != name);
    if let Some(profile) = prep.profile {
        tx.upsert_contact(&ContactRow {
            wa_id: customer.clone(),
            name: name
                .clone()
                .or_else(|| existing_contact.as_ref().and_then(|c| c.name.clone())),
            profile,
            created_at: existing_contact.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        })?;
    } else if existing_contact.is_none() {
        tx.upsert_contact(&ContactRow {
            wa_id: customer.clone(),
            name: None,
            profile: json!({}),
            created_at: now,
            updated_at: now,
        })?;
    }

    let window = sent_at.checked_add(SERVICE_WINDOW).unwrap_or(sent_at);
    let preview = prep.preview.clone();
    let conversation = match tx.conversation_by_customer(&customer)? {
        None => {
            let c = ConversationRow {
                id: Uuid::now_v7(),
                team_id: tx.team()?.map(|t| t.id),
                customer_wa_id: customer.clone(),
                name: shown_name.clone(),
                assignee: None,
                status: "open".into(),
                window_expires_at: Some(window),
                last_activity_at: now,
                last_preview: Some(preview),
                created_at: now,
            };
            tx.insert_conversation(&c)?;
            tx.append_event(NewEvent {
                kind: kind::CONVERSATION_OPENED,
                conversation_id: Some(c.id),
                audience: Audience::Conversation,
                also_member: None,
                payload: json!({ "conversation": c }),
                created_at: now,
            })?;
            crate::automation::enqueue(tx, job_kind::CONVERSATION_OPENED, c.id, None, None, now)?;
            appended += 1;
            c
        }
        Some(mut c) => {
            let previous = c.status.clone();
            c.window_expires_at = Some(c.window_expires_at.map_or(window, |w| w.max(window)));
            c.last_activity_at = now;
            c.last_preview = Some(preview);
            if shown_name.is_some() {
                c.name = shown_name.clone();
            }
            let reopened = previous != "open";
            if reopened {
                c.status = "open".into();
            }
            tx.update_conversation(&c)?;
            if reopened {
                tx.append_event(NewEvent {
                    kind: kind::CONVERSATION_STATUS,
                    conversation_id: Some(c.id),
                    audience: Audience::Conversation,
                    also_member: None,
                    payload: json!({
                        "conversation_id": c.id,
                        "status": "open",
                        "previous": previous,
                        "reason": "customer_message",
                    }),
                    created_at: now,
                })?;
                appended += 1;
            }
            c
        }
    };
    if name_changed {
        tx.append_event(NewEvent {
            kind: kind::CONTACT_UPDATED,
            conversation_id: Some(conversation.id),
            audience: Audience::Conversation,
            also_member: None,
            payload: json!({
                "wa_id": customer,
                "name": name,
                "conversation_id": conversation.id,
            }),
            created_at: now,
        })?;
        appended += 1;
    }

    let row = MessageRow {
        id: Uuid::now_v7(),
        conversation_id: conversation.id,
        wamid: Some(msg.id.clone()),
        direction: DIRECTION_IN.into(),
        kind: msg.kind.type_name().to_owned(),
        body: prep.body,
        status: None,
        status_rank: 0,
        error: None,
        sent_by: None,
        wa_timestamp: msg.timestamp_secs(),
        created_at: now,
    };
    if !tx.insert_message_json(&row, prep.body_json.get())? {
        return Ok(appended);
    }
    crate::media::enqueue_inbound(tx, &row, msg, now)?;
    tx.append_event_json(NewEventJson {
        kind: kind::MESSAGE_RECEIVED,
        conversation_id: Some(conversation.id),
        audience: Audience::Conversation,
        also_member: None,
        payload_json: received_payload(
            &row,
            &prep.body_json,
            &conversation,
            &prep.preview,
            prep.supported,
        ),
        created_at: now,
    })?;
    crate::automation::enqueue(
        tx,
        job_kind::MESSAGE_RECEIVED,
        conversation.id,
        Some(row.id),
        None,
        now,
    )?;
    // Broadcast opt-outs are recorded whatever the automation's switch.
    let acks = crate::broadcasts::on_inbound(tx, &conversation, &row, now)?;
    *queued += acks;
    Ok(appended + 1 + acks)
}

/// The `message.received` payload, `{conversation, message, preview, supported}`, with the
/// message body spliced in as the JSON [`prepare`] made instead of serialized again (the
/// same object as `json!` of the rows would give).
fn received_payload(
    row: &MessageRow,
    body_json: &RawValue,
    conversation: &ConversationRow,
    preview: &str,
    supported: bool,
) -> String {
    /// [`MessageRow`]'s serialized fields, in its order, with the body pre-serialized.
    #[derive(Serialize)]
    struct Message<'a> {
        id: Uuid,
        conversation_id: Uuid,
        wamid: &'a Option<String>,
        direction: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        body: &'a RawValue,
        status: &'a Option<String>,
        status_rank: u8,
        error: &'a Option<Value>,
        sent_by: Option<Uuid>,
        wa_timestamp: Option<i64>,
        created_at: Timestamp,
    }
    #[derive(Serialize)]
    struct Payload<'a> {
        conversation: &'a ConversationRow,
        message: Message<'a>,
        preview: &'a str,
        supported: bool,
    }
    let payload = Payload {
        conversation,
        message: Message {
            id: row.id,
            conversation_id: row.conversation_id,
            wamid: &row.wamid,
            direction: &row.direction,
            kind: &row.kind,
            body: body_json,
            status: &row.status,
            status_rank: row.status_rank,
            error: &row.error,
            sent_by: row.sent_by,
            wa_timestamp: row.wa_timestamp,
            created_at: row.created_at,
        },
        preview,
        supported,
    };
    // Rows of ids, strings, numbers and JSON values: serializing cannot fail.
    serde_json::to_string(&payload).expect("a message.received payload serializes")
}

/// Records a status (deduplicated by wamid+status) and moves the message forward when it
/// is known. A status for a wamid no message carries yet is kept: the send worker calls
/// [`apply_recorded_statuses`] once it learns the wamid. Returns events appended.
pub fn apply_status(tx: &mut dyn WriteTx, status: &Status, now: Timestamp) -> StorageResult<u32> {
    let payload = serde_json::to_value(status).unwrap_or(Value::Null);
    if !tx.insert_status(
        &status.id,
        status.status.as_str(),
        status.timestamp_secs(),
        &payload,
        now,
    )? {
        return Ok(0);
    }
    let Some(mut message) = tx.message_by_wamid(&status.id)? else {
        return crate::outbound::reconcile_from_status(tx, status, now);
    };
    Ok(u32::from(advance_status(tx, &mut message, status, now)?))
}

/// Moves `message` to `status` if that is forward (rank strictly higher, never out of
/// `failed`), writing the row and a `message.status` event. Returns whether it moved.
pub fn advance_status(
    tx: &mut dyn WriteTx,
    message: &mut MessageRow,
    status: &Status,
    now: Timestamp,
) -> StorageResult<bool> {
    let rank = status.status.rank();
    let current_failed = message.status.as_deref() == Some(StatusKind::Failed.as_str());
    if current_failed || rank <= message.status_rank {
        return Ok(false);
    }
    message.status = Some(status.status.as_str().to_owned());
    message.status_rank = rank;
    if !status.errors.is_empty() {
        message.error = serde_json::to_value(&status.errors).ok();
    }
    tx.update_message_delivery(message)?;
    tx.append_event(NewEvent {
        kind: kind::MESSAGE_STATUS,
        conversation_id: Some(message.conversation_id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "wamid": status.id,
            "status": status.status.as_str(),
            "timestamp": status.timestamp_secs(),
            "errors": status.errors,
        }),
        created_at: now,
    })?;
    crate::outbound::failed_status_event(tx, message, status, now)?;
    Ok(true)
}

/// For the send worker: once a queued message has its wamid (written with
/// `update_message_delivery`), applies statuses that arrived before that, highest rank
/// last, so the message ends at its true status with events in forward order.
pub fn apply_recorded_statuses(
    tx: &mut dyn WriteTx,
    message: &mut MessageRow,
    now: Timestamp,
) -> StorageResult<u32> {
    let Some(wamid) = message.wamid.clone() else {
        return Ok(0);
    };
    let mut statuses: Vec<Status> = tx
        .statuses_of(&wamid)?
        .into_iter()
        .filter_map(|(_, payload)| serde_json::from_value(payload).ok())
        .collect();
    statuses.sort_by_key(|s| s.status.rank());
    let mut moved = 0;
    for s in &statuses {
        moved += u32::from(advance_status(tx, message, s, now)?);
    }
    Ok(moved)
}

/// Sets a conversation's assignee and appends `conversation.assigned` (the previous
/// assignee also receives it, so their device learns the conversation left them). The
/// command layer checks permissions (core's `can_claim`/`can_assign`) before calling this.
pub fn assign_conversation(
    tx: &mut dyn WriteTx,
    conversation_id: Uuid,
    assignee: Option<Uuid>,
    by: Option<Uuid>,
    now: Timestamp,
) -> StorageResult<Option<ConversationRow>> {
    let Some(mut c) = tx.conversation(conversation_id)? else {
        return Ok(None);
    };
    let previous = c.assignee;
    if previous == assignee {
        return Ok(Some(c));
    }
    c.assignee = assignee;
    tx.update_conversation(&c)?;
    tx.append_event(NewEvent {
        kind: kind::CONVERSATION_ASSIGNED,
        conversation_id: Some(c.id),
        audience: Audience::Conversation,
        also_member: previous,
        payload: json!({
            "conversation_id": c.id,
            "assignee": assignee,
            "previous_assignee": previous,
            "by": by,
        }),
        created_at: now,
    })?;
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spliced payload is the same JSON object the rows give through `json!`, so
    /// devices see the same `message.received` as before.
    #[test]
    fn received_payload_matches_the_rows_serialized_whole() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let body = json!({"from": "34600000001", "id": "wamid.X", "timestamp": "1700000000",
            "type": "text", "text": {"body": "Hola \"quoted\" ñ"}});
        let conversation = ConversationRow {
            id: Uuid::now_v7(),
            team_id: Some(Uuid::now_v7()),
            customer_wa_id: "34600000001".into(),
            name: Some("Cliente".into()),
            assignee: None,
            status: "open".into(),
            window_expires_at: Some(now),
            last_activity_at: now,
            last_preview: Some("Hola".into()),
            created_at: now,
        };
        let row = MessageRow {
            id: Uuid::now_v7(),
            conversation_id: conversation.id,
            wamid: Some("wamid.X".into()),
            direction: DIRECTION_IN.into(),
            kind: "text".into(),
            body: body.clone(),
            status: None,
            status_rank: 0,
            error: Some(json!({"code": 1})),
            sent_by: None,
            wa_timestamp: Some(1_700_000_000),
            created_at: now,
        };
        let raw = serde_json::value::to_raw_value(&body).unwrap();
        let spliced: Value =
            serde_json::from_str(&received_payload(&row, &raw, &conversation, "Hola", true))
                .unwrap();
        let whole = json!({
            "message": row,
            "supported": true,
            "preview": "Hola",
            "conversation": conversation,
        });
        assert_eq!(spliced, whole);
    }
}

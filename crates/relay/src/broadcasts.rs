//! Broadcasts (issue 8): one approved template to an audience picked by label or contact
//! attribute, with per-recipient parameters, a schedule, a daily cap that halves after a
//! bad day, and opt-outs.
//!
//! ```text
//! POST /v1/broadcasts ─▶ broadcast row + one pending row per recipient (one commit)
//! worker ─▶ ONE write job per batch: for each next pending recipient:
//!             opted out? → opted_out
//!             else conversation (created closed when missing) + message row + send-queue
//!                  item (commands::queue_message) + message.queued + recipient `queued`
//! send worker (outbound.rs) ─▶ the Graph call, exactly once per queued message
//! status webhooks ─▶ the message row; a recipient's sent/delivered/read/failed is read
//!                    from it (no hook in the send path)
//! ```
//!
//! - Exactly once per recipient: a recipient leaves `pending` in the transaction that
//!   queues its message, and the send queue never sends a message twice. A crash before
//!   that commit leaves it pending (sent later, once); after it, the message is queued.
//! - The day's cap is [`Pacing::cap_on`] over [`DayStats`] computed from the recorded
//!   attempts and their messages' outcomes, per day in the team's time zone (attempts of
//!   every broadcast count: the limit is the number's). Failures with a code in
//!   [`BLOCKED_CODES`] count as blocked, other failures as failed.
//! - Meta's throughput (130429) and pair-rate (131056) errors are retried by the send
//!   queue; a number-wide limit ([`PAUSE_CODES`], e.g. 131048 spam rate limit) recorded
//!   today pauses every broadcast until tomorrow with a note in plain words.
//! - Opt-outs: a customer's whole message that is an opt-out keyword (STOP, СТОП, 退订,
//!   settable) is recorded by webhook ingest in its own transaction, whatever the
//!   automation's switch, and acknowledged once in the customer's language; START, СТАРТ
//!   or 订阅 undoes it (also acknowledged). Opted-out customers are skipped at send time.
//! - A recipient without a conversation gets one created `closed` and unassigned, so it
//!   does not sit in the queue as a customer waiting; a reply reopens it as usual.
//! - `broadcast.changed` (audience: SendBroadcasts) carries the summary on create, on
//!   every state change, and at most every [`ANNOUNCE_EVERY`] while counts change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use teamline_core::Permission;
use teamline_core::automation::text::{fold, is_cjk};
use teamline_core::automation::{
    BroadcastAudience, BroadcastCounts, BroadcastDraft, BroadcastPreview, BroadcastRecipient,
    BroadcastSettings, BroadcastState, BroadcastSummary, BroadcastTemplate, DayStats, Pacing,
    PreviewSample, RecipientState, RenderedParams, days_needed,
};
use teamline_whatsapp::outgoing::{
    OutgoingContent, OutgoingMessage, Template, TemplateComponent, TemplateLanguage,
    TemplateParameter, TextBody,
};
use teamline_whatsapp::templates::fill;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::app::{AppState, Principal};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::command_error::CommandError;
use crate::commands::command_kind;
use crate::composer::TemplateView;
use crate::events;
use crate::storage::broadcasts::{AttemptRow, BroadcastRow, RecipientRow, recipient_state};
use crate::storage::{
    Audience, ConversationRow, MessageRow, NewEvent, ReadTx, StorageError, StorageResult, WriteTx,
};

/// `team_settings` key of the stored [`Pacing`].
pub const SETTING_KEY: &str = "broadcasts";
/// Recipients queued per write job when sends are not spaced.
pub const BATCH: usize = 50;
/// Days of history the cap looks back on (and the settings answer shows).
pub const HISTORY_DAYS: i64 = 14;
/// Progress (`broadcast.changed` for count changes) at most this often.
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(1);
/// Finished broadcasts still announce late statuses (delivered, read) this long.
pub const SETTLE_DAYS: i64 = 3;
/// Meta errors that limit the whole number (spam rate limit / messaging limit, policy
/// block, locked account, payment problem, template paused or disabled): sending pauses
/// until tomorrow.
pub const PAUSE_CODES: [i64; 6] = [131048, 368, 131031, 131042, 132015, 132016];
/// Failures that mean the customer cannot or will not receive it (undeliverable or
/// blocked, healthy-ecosystem limit, stopped marketing messages, experiment): "blocked"
/// in the day's statistics.
pub const BLOCKED_CODES: [i64; 4] = [131026, 131049, 131050, 130472];
/// Longest customer message checked for an opt-out or opt-in word.
const KEYWORD_MESSAGE_CHARS: usize = 40;

pub mod kind {
    pub const BROADCAST_CHANGED: &str = "broadcast.changed";
    pub const AUDIT_SETTINGS_UPDATED: &str = "audit.broadcast_settings_updated";
    pub const AUDIT_CREATED: &str = "audit.broadcast_created";
    pub const AUDIT_CANCELLED: &str = "audit.broadcast_cancelled";
}

/// Who did it, for the audit log.
fn audit_ctx(p: &Principal, peer: std::net::SocketAddr, now: Timestamp) -> Ctx {
    Ctx {
        actor_member_id: (!p.member.id.is_nil()).then_some(p.member.id),
        device_id: Some(p.device.id),
        address: Some(peer.ip().to_string()),
        now,
    }
}

const ACTIVE: [&str; 4] = ["scheduled", "sending", "waiting_for_tomorrow", "paused"];

/// The worker's wake-ups and counters.
#[derive(Default)]
pub struct Hub {
    wake: Notify,
    /// Recipients attempted (messages queued) by this process.
    pub attempted: AtomicU64,
    /// `broadcast.changed` events appended by this process.
    pub announced: AtomicU64,
}

impl Hub {
    /// A broadcast was created or cancelled, settings changed, or the clock moved (tests).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Prometheus lines.
    pub fn metrics_text(&self) -> String {
        format!(
            "# TYPE teamline_broadcast_recipients_attempted_total counter\nteamline_broadcast_recipients_attempted_total {}\n",
            self.attempted.load(Ordering::Relaxed)
        )
    }
}

// ---------------------------------------------------------------------------------------
// Pure helpers over stored rows

/// The stored pacing (the defaults when none was saved or it cannot be read).
pub fn load_pacing(tx: &dyn ReadTx) -> StorageResult<Pacing> {
    Ok(tx
        .setting(SETTING_KEY)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

fn day_of(t: Timestamp, tz: &TimeZone) -> Date {
    t.to_zoned(tz.clone()).date()
}

/// The first instant of `d` in `tz`.
fn day_start(d: Date, tz: &TimeZone) -> Timestamp {
    d.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The next midnight after `now` in `tz`.
pub fn next_day_start(now: Timestamp, tz: &TimeZone) -> Timestamp {
    let today = day_of(now, tz);
    today
        .tomorrow()
        .map(|d| day_start(d, tz))
        .unwrap_or_else(|_| {
            now.checked_add(SignedDuration::from_hours(24))
                .unwrap_or(now)
        })
}

/// Meta's error code in a message's stored error: `{code, ...}` (the send queue's) or
/// `[{code, ...}]` (a failed status webhook's).
pub fn error_code(error: &Value) -> Option<i64> {
    let e = error.as_array().and_then(|a| a.first()).unwrap_or(error);
    e.get("code").and_then(Value::as_i64)
}

/// A failed message's reason in plain words.
pub fn error_text(error: &Value) -> String {
    let e = error.as_array().and_then(|a| a.first()).unwrap_or(error);
    let known = error_code(error).and_then(teamline_whatsapp::error::describe);
    let text = known
        .map(str::to_owned)
        .or_else(|| e["details"].as_str().map(str::to_owned))
        .or_else(|| e["error_data"]["details"].as_str().map(str::to_owned))
        .or_else(|| e["message"].as_str().map(str::to_owned))
        .or_else(|| e["title"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "WhatsApp reported the message as failed.".to_owned());
    match error_code(error) {
        Some(code) => format!("{text} (error {code})"),
        None => text,
    }
}

/// Attempts per day in `tz`, oldest first: failed, and of the failures those blocked.
pub fn day_stats(rows: &[AttemptRow], tz: &TimeZone) -> Vec<DayStats> {
    let mut days: BTreeMap<Date, DayStats> = BTreeMap::new();
    for (at, status, error) in rows {
        let date = day_of(*at, tz);
        let d = days.entry(date).or_insert(DayStats {
            date,
            attempted: 0,
            failed: 0,
            blocked: 0,
        });
        d.attempted += 1;
        if status.as_deref() == Some("failed") {
            let blocked = error
                .as_ref()
                .and_then(error_code)
                .is_some_and(|c| BLOCKED_CODES.contains(&c));
            if blocked {
                d.blocked += 1;
            } else {
                d.failed += 1;
            }
        }
    }
    days.into_values().collect()
}

/// Today as the cap sees it.
#[derive(Debug, Clone)]
pub struct Today {
    pub date: Date,
    pub cap: u32,
    pub sent: u32,
    /// Days with attempts in the last [`HISTORY_DAYS`], today included.
    pub history: Vec<DayStats>,
    /// Why sending is paused today (a number-wide limit Meta reported today).
    pub pause: Option<String>,
}

pub fn today(
    tx: &dyn ReadTx,
    pacing: &Pacing,
    now: Timestamp,
    tz: &TimeZone,
) -> StorageResult<Today> {
    let date = day_of(now, tz);
    let first = date
        .checked_sub(jiff::Span::new().days(HISTORY_DAYS))
        .unwrap_or(date);
    let rows = tx.broadcast_attempts_since(day_start(first, tz))?;
    let history = day_stats(&rows, tz);
    let cap = pacing.cap_on(date, &history);
    let sent = history
        .iter()
        .find(|d| d.date == date)
        .map_or(0, |d| d.attempted);
    let pause = rows
        .iter()
        .filter(|(at, status, _)| day_of(*at, tz) == date && status.as_deref() == Some("failed"))
        .filter_map(|(_, _, e)| e.as_ref())
        .find(|e| error_code(e).is_some_and(|c| PAUSE_CODES.contains(&c)))
        .map(|e| {
            format!(
                "WhatsApp limited sending from this number: {} Sending continues tomorrow.",
                error_text(e)
            )
        });
    Ok(Today {
        date,
        cap,
        sent,
        history,
        pause,
    })
}

fn corrupt(e: serde_json::Error) -> StorageError {
    StorageError::Corrupt(format!("stored broadcast is unreadable: {e}"))
}

/// The summary devices see, counts read now.
pub fn summary(tx: &dyn ReadTx, b: &BroadcastRow) -> StorageResult<BroadcastSummary> {
    let mut counts = BroadcastCounts::default();
    for (seen, n) in tx.broadcast_tally(b.id)? {
        if let Some(state) = RecipientState::parse(&seen) {
            counts.add(state, n);
        }
        counts.total = counts.total.saturating_add(n);
    }
    Ok(BroadcastSummary {
        id: b.id,
        name: b.name.clone(),
        audience: serde_json::from_value(b.audience.clone()).map_err(corrupt)?,
        template: serde_json::from_value(b.template.clone()).map_err(corrupt)?,
        state: BroadcastState::parse(&b.state)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown state {:?}", b.state)))?,
        scheduled_at: b.scheduled_at,
        created_at: b.created_at,
        created_by: b.created_by,
        created_by_name: b.created_by_name.clone(),
        counts,
        note: b.note.clone(),
    })
}

/// Appends `broadcast.changed` when the summary differs from the last one announced.
pub fn announce(tx: &mut dyn WriteTx, b: &mut BroadcastRow, now: Timestamp) -> StorageResult<bool> {
    let s = serde_json::to_value(summary(tx, b)?).unwrap_or(Value::Null);
    if b.announced.as_ref() == Some(&s) {
        return Ok(false);
    }
    tx.append_event(NewEvent {
        kind: kind::BROADCAST_CHANGED,
        conversation_id: None,
        audience: Audience::Broadcasts,
        also_member: None,
        payload: s.clone(),
        created_at: now,
    })?;
    b.announced = Some(s);
    tx.update_broadcast(b)?;
    Ok(true)
}

/// The customer's name as the team sees it: the team's edit, else the WhatsApp profile
/// name (contact, else conversation), else the number.
pub fn display_name(tx: &dyn ReadTx, wa_id: &str) -> StorageResult<String> {
    let from_contact = tx
        .contact_record(wa_id)?
        .and_then(|c| c.name().map(str::to_owned));
    let name = match from_contact.filter(|n| !n.trim().is_empty()) {
        Some(n) => Some(n),
        None => tx
            .conversation_by_customer(wa_id)?
            .and_then(|c| c.name)
            .filter(|n| !n.trim().is_empty()),
    };
    Ok(name.unwrap_or_else(|| format!("+{wa_id}")))
}

/// The audience's customers (sorted by number, each once) with their names.
pub fn resolve(
    tx: &dyn ReadTx,
    audience: &BroadcastAudience,
) -> StorageResult<Vec<(String, String)>> {
    let mut ids: Vec<String> = match &audience.label {
        Some(label) => {
            let want = fold(label.trim());
            tx.labelled_customers()?
                .into_iter()
                .filter(|(_, l)| fold(l.trim()) == want)
                .map(|(w, _)| w)
                .collect()
        }
        None => tx.broadcast_candidates()?,
    };
    ids.sort();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for wa_id in ids {
        if let Some(f) = &audience.attribute {
            let attrs = tx.contact_attributes(&wa_id)?;
            if !f.matches(attrs.get(&f.key)) {
                continue;
            }
        }
        let name = display_name(tx, &wa_id)?;
        out.push((wa_id, name));
    }
    Ok(out)
}

/// The approved template's placeholder names (header, body) and body text.
#[derive(Debug, Clone, Default)]
pub struct TemplateShape {
    pub header: Vec<String>,
    pub body: Vec<String>,
    pub header_text: Option<String>,
    pub body_text: String,
}

impl TemplateShape {
    fn of(v: &TemplateView) -> TemplateShape {
        TemplateShape {
            header: v.header_params.clone(),
            body: v.body_params.clone(),
            header_text: v.header.clone(),
            body_text: v.body.clone(),
        }
    }

    /// The body with this recipient's values (the parameters alone when the template's
    /// text is not known).
    fn text(&self, p: &RenderedParams) -> String {
        if self.body_text.is_empty() {
            return p.body.join(" · ");
        }
        let names: Vec<String> = if self.body.is_empty() {
            (1..=p.body.len()).map(|i| i.to_string()).collect()
        } else {
            self.body.clone()
        };
        fill(&self.body_text, &names, &p.body)
    }
}

/// The Graph API template object for one recipient. Named placeholders (`{{first_name}}`)
/// get `parameter_name`; positional ones (`{{1}}`) do not.
pub fn graph_template(
    t: &BroadcastTemplate,
    shape: &TemplateShape,
    p: &RenderedParams,
) -> Template {
    let params = |values: &[String], names: &[String]| -> Vec<TemplateParameter> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| TemplateParameter::Text {
                text: v.clone(),
                parameter_name: names
                    .get(i)
                    .filter(|n| !n.chars().all(|c| c.is_ascii_digit()))
                    .cloned(),
            })
            .collect()
    };
    let mut components = Vec::new();
    if !p.header.is_empty() {
        components.push(TemplateComponent::header(params(&p.header, &shape.header)));
    }
    if !p.body.is_empty() {
        components.push(TemplateComponent::body(params(&p.body, &shape.body)));
    }
    Template {
        name: t.name.clone(),
        language: TemplateLanguage {
            code: t.language.clone(),
            policy: None,
        },
        components,
    }
}

// ---------------------------------------------------------------------------------------
// Sending

/// What one step of a broadcast did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Step {
    /// Messages queued.
    pub queued: u32,
    /// When this broadcast has something to do again (`None`: nothing until woken).
    pub next: Option<Timestamp>,
}

fn set_state(
    b: &mut BroadcastRow,
    state: BroadcastState,
    note: Option<String>,
    hold: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let changed = b.state != state.as_str() || b.note != note || b.hold_until != hold;
    if changed {
        b.state = state.as_str().to_owned();
        b.note = note;
        b.hold_until = hold;
        b.updated_at = now;
    }
    changed
}

/// One step of broadcast `id` inside the writer's transaction: decides its state and
/// queues the next recipients the cap and the pacing allow.
pub fn step(
    tx: &mut dyn WriteTx,
    id: Uuid,
    shape: &TemplateShape,
    now: Timestamp,
    tz: &TimeZone,
) -> StorageResult<Step> {
    let Some(mut b) = tx.broadcast(id)? else {
        return Ok(Step::default());
    };
    let state = BroadcastState::parse(&b.state);
    if state.is_none_or(BroadcastState::is_finished) {
        return Ok(Step::default());
    }
    if let Some(at) = b.scheduled_at.filter(|at| *at > now) {
        if set_state(&mut b, BroadcastState::Scheduled, None, None, now) {
            tx.update_broadcast(&b)?;
            announce(tx, &mut b, now)?;
        }
        return Ok(Step {
            queued: 0,
            next: Some(at),
        });
    }
    let pacing = load_pacing(tx)?;
    let day = today(tx, &pacing, now, tz)?;
    let tomorrow = next_day_start(now, tz);
    if let Some(why) = day.pause {
        if set_state(
            &mut b,
            BroadcastState::Paused,
            Some(why),
            Some(tomorrow),
            now,
        ) {
            tx.update_broadcast(&b)?;
            announce(tx, &mut b, now)?;
        }
        return Ok(Step {
            queued: 0,
            next: Some(tomorrow),
        });
    }
    let room = day.cap.saturating_sub(day.sent);
    if room == 0 {
        let note = format!(
            "Today's limit of {} messages is used; sending continues tomorrow.",
            day.cap
        );
        if set_state(
            &mut b,
            BroadcastState::WaitingForTomorrow,
            Some(note),
            Some(tomorrow),
            now,
        ) {
            tx.update_broadcast(&b)?;
            announce(tx, &mut b, now)?;
        }
        return Ok(Step {
            queued: 0,
            next: Some(tomorrow),
        });
    }
    let interval = SignedDuration::from_secs(i64::from(pacing.interval_secs));
    if pacing.interval_secs > 0
        && let Some(last) = tx.last_broadcast_attempt()?
        && let Some(due) = last.checked_add(interval).ok().filter(|due| *due > now)
    {
        if set_state(&mut b, BroadcastState::Sending, None, None, now) {
            tx.update_broadcast(&b)?;
            announce(tx, &mut b, now)?;
        }
        return Ok(Step {
            queued: 0,
            next: Some(due),
        });
    }
    let n = if pacing.interval_secs > 0 {
        1
    } else {
        (room as usize).min(BATCH)
    };
    let pending = tx.pending_recipients(id, n)?;
    let template: BroadcastTemplate =
        serde_json::from_value(b.template.clone()).map_err(corrupt)?;
    let changed = set_state(&mut b, BroadcastState::Sending, None, None, now);
    let mut queued = 0;
    for r in pending {
        if send_to(tx, &b, &template, shape, r, now)? {
            queued += 1;
        }
    }
    let done = tx.pending_recipients(id, 1)?.is_empty();
    if done {
        set_state(&mut b, BroadcastState::Completed, None, None, now);
    }
    if changed || done {
        tx.update_broadcast(&b)?;
        announce(tx, &mut b, now)?;
    }
    let next = if done {
        None
    } else if pacing.interval_secs > 0 {
        now.checked_add(interval).ok()
    } else {
        Some(now)
    };
    Ok(Step { queued, next })
}

/// Queues one recipient's message (or records the opt-out). Returns whether a message
/// was queued.
fn send_to(
    tx: &mut dyn WriteTx,
    b: &BroadcastRow,
    template: &BroadcastTemplate,
    shape: &TemplateShape,
    mut r: RecipientRow,
    now: Timestamp,
) -> StorageResult<bool> {
    r.updated_at = now;
    if tx.opted_out(&r.wa_id)?.is_some() {
        r.state = recipient_state::OPTED_OUT.into();
        tx.update_recipient(&r)?;
        return Ok(false);
    }
    let attributes = tx.contact_attributes(&r.wa_id)?;
    let params = template.render(&r.name, &attributes);
    let text = shape.text(&params);
    let mut conv = match tx.conversation_by_customer(&r.wa_id)? {
        Some(c) => c,
        None => open_quiet_conversation(tx, b, &r, &text, now)?,
    };
    let message_id = Uuid::now_v7();
    let msg = OutgoingMessage::template(r.wa_id.clone(), graph_template(template, shape, &params))
        .with_callback_data(crate::outbound::callback_data(message_id));
    // Recorded before queueing: the SLA clock that queueing updates must see this message
    // as the broadcast's, not as a person's reply to a waiting customer.
    r.conversation_id = Some(conv.id);
    r.message_id = Some(message_id);
    tx.update_recipient(&r)?;
    let row = crate::commands::queue_message(
        tx,
        &mut conv,
        message_id,
        &msg,
        Some(b.created_by),
        Uuid::now_v7(),
        now,
    )?;
    tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_QUEUED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "message": row,
            "takeover": null,
            "broadcast": { "id": b.id, "name": b.name },
        }),
        created_at: now,
    })?;
    r.state = recipient_state::QUEUED.into();
    r.conversation_id = Some(conv.id);
    r.message_id = Some(message_id);
    r.attempted_at = Some(now);
    tx.update_recipient(&r)?;
    Ok(true)
}

/// A conversation for a customer the team never talked to: closed and unassigned, so it
/// does not wait in anyone's queue; the customer's reply reopens it like any other.
fn open_quiet_conversation(
    tx: &mut dyn WriteTx,
    b: &BroadcastRow,
    r: &RecipientRow,
    preview: &str,
    now: Timestamp,
) -> StorageResult<ConversationRow> {
    let named = !r.name.starts_with('+');
    let c = ConversationRow {
        id: Uuid::now_v7(),
        team_id: tx.team()?.map(|t| t.id),
        customer_wa_id: r.wa_id.clone(),
        name: named.then(|| r.name.clone()),
        assignee: None,
        status: "closed".into(),
        window_expires_at: None,
        last_activity_at: now,
        last_preview: Some(preview.chars().take(200).collect()),
        created_at: now,
    };
    tx.insert_conversation(&c)?;
    tx.append_event(NewEvent {
        kind: events::kind::CONVERSATION_OPENED,
        conversation_id: Some(c.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({ "conversation": c, "broadcast": { "id": b.id, "name": b.name } }),
        created_at: now,
    })?;
    Ok(c)
}

/// The template's shape from the cached list (empty when the relay has none: positional
/// parameters, text unknown).
async fn shape_of(st: &AppState, t: &BroadcastTemplate) -> TemplateShape {
    match template_view(st, t).await {
        Ok(Some(v)) => TemplateShape::of(&v),
        _ => TemplateShape::default(),
    }
}

/// Steps every active broadcast until none has anything due now; returns the earliest
/// time one has something to do.
pub async fn run_due(st: &AppState) -> Option<Timestamp> {
    run_pass(st, true).await
}

/// [`run_due`]; without `all`, paused and scheduled broadcasts held until a later time
/// are skipped: a pass made only because something was committed (status webhooks)
/// cannot change them, while a wake-up (new settings, a moved clock) or their due time
/// can. A broadcast waiting for tomorrow is still looked at: a number-wide limit Meta
/// reports today turns it paused.
async fn run_pass(st: &AppState, all: bool) -> Option<Timestamp> {
    let mut shapes: BTreeMap<Uuid, TemplateShape> = BTreeMap::new();
    loop {
        let active = match st.storage.read(|tx| tx.broadcasts_in(&ACTIVE)).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "broadcasts: cannot read active broadcasts");
                let now = st.clock.now();
                return now.checked_add(SignedDuration::from_secs(5)).ok();
            }
        };
        if active.is_empty() {
            return None;
        }
        let mut next: Option<Timestamp> = None;
        let mut again = false;
        for b in active {
            let held = [b.hold_until, b.scheduled_at]
                .into_iter()
                .flatten()
                .filter(|t| *t > st.clock.now())
                .max();
            let holdable = b.state == "paused" || b.state == "scheduled";
            if !all
                && holdable
                && let Some(until) = held
            {
                next = Some(next.map_or(until, |n| n.min(until)));
                continue;
            }
            let shape = match shapes.get(&b.id) {
                Some(s) => s.clone(),
                None => {
                    let s = match serde_json::from_value::<BroadcastTemplate>(b.template.clone()) {
                        Ok(t) => shape_of(st, &t).await,
                        Err(_) => TemplateShape::default(),
                    };
                    shapes.insert(b.id, s.clone());
                    s
                }
            };
            let now = st.clock.now();
            let tz = st.settings.timezone.clone();
            let id = b.id;
            let out = st
                .storage
                .write(move |tx| step(tx, id, &shape, now, &tz))
                .await;
            match out {
                Ok(s) => {
                    if s.queued > 0 {
                        st.broadcasts
                            .attempted
                            .fetch_add(u64::from(s.queued), Ordering::Relaxed);
                        tracing::debug!(broadcast = %id, queued = s.queued, "broadcast recipients queued");
                        if let Some(services) = st.commands.get() {
                            services.outbound.wake();
                        }
                    }
                    if let Some(at) = s.next {
                        if at <= now {
                            again = true;
                        }
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                }
                Err(e) => {
                    tracing::error!(broadcast = %id, error = %e, "broadcast step failed; retried");
                    let retry = now.checked_add(SignedDuration::from_secs(5)).ok();
                    next = retry.map(|r| next.map_or(r, |n| n.min(r))).or(next);
                }
            }
        }
        if !again {
            return next;
        }
        tokio::task::yield_now().await;
    }
}

/// Announces count changes of live broadcasts (active, or finished in the last
/// [`SETTLE_DAYS`]); returns whether any is live.
pub async fn announce_live(st: &AppState) -> bool {
    let now = st.clock.now();
    let since = now
        .checked_sub(SignedDuration::from_hours(24 * SETTLE_DAYS))
        .unwrap_or(now);
    let stale = st
        .storage
        .read(move |tx| {
            let mut out = Vec::new();
            let mut live = false;
            for b in tx.broadcasts_in(&[
                "scheduled",
                "sending",
                "waiting_for_tomorrow",
                "paused",
                "completed",
                "cancelled",
            ])? {
                let finished =
                    BroadcastState::parse(&b.state).is_none_or(BroadcastState::is_finished);
                if finished && b.updated_at < since {
                    continue;
                }
                live = true;
                let s = serde_json::to_value(summary(tx, &b)?).unwrap_or(Value::Null);
                if b.announced.as_ref() != Some(&s) {
                    out.push(b.id);
                }
            }
            Ok((live, out))
        })
        .await;
    let (live, ids) = match stale {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "broadcasts: cannot read progress");
            return true;
        }
    };
    for id in ids {
        let r = st
            .storage
            .write(move |tx| {
                let Some(mut b) = tx.broadcast(id)? else {
                    return Ok(false);
                };
                announce(tx, &mut b, now)
            })
            .await;
        match r {
            Ok(true) => {
                st.broadcasts.announced.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(broadcast = %id, error = %e, "broadcast progress not announced")
            }
        }
    }
    live
}

/// The broadcast worker: sends what is due, announces progress at most every
/// [`ANNOUNCE_EVERY`] while live broadcasts change, sleeps until the next due time (a
/// schedule, tomorrow's cap, the pacing interval) or a wake-up.
pub async fn worker(st: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut head = st.storage.head();
    let mut all = true;
    loop {
        let next = run_pass(&st, all).await;
        head.borrow_and_update();
        let live = announce_live(&st).await;
        let wait = next
            .map(|at| {
                Duration::try_from(at.duration_since(st.clock.now())).unwrap_or(Duration::ZERO)
            })
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        let committed = tokio::select! {
            _ = st.broadcasts.wake.notified() => false,
            _ = tokio::time::sleep(wait) => false,
            changed = head.changed(), if live => {
                if changed.is_err() {
                    return;
                }
                true
            }
            _ = stop.wait_for(|s| *s) => return,
        };
        all = !committed;
        if committed {
            // Gather a second of changes (status webhooks) into one announcement.
            tokio::select! {
                _ = tokio::time::sleep(ANNOUNCE_EVERY.min(wait)) => {}
                _ = st.broadcasts.wake.notified() => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Opt-outs (called by webhook ingest, inside its transaction)

const ACK_OUT: [&str; 3] = [
    "You will not receive our broadcast messages any more. Reply START to receive them again.",
    "Вы больше не будете получать наши рассылки. Напишите СТАРТ, чтобы снова их получать.",
    "您将不再收到我们的群发消息。回复“订阅”即可重新接收。",
];
const ACK_IN: [&str; 3] = [
    "You will receive our broadcast messages again. Reply STOP to stop them.",
    "Вы снова будете получать наши рассылки. Напишите СТОП, чтобы отказаться.",
    "您将重新收到我们的群发消息。回复“退订”即可退订。",
];

/// 0 English, 1 Russian, 2 Chinese: the script of the customer's own word.
fn language_of(text: &str) -> usize {
    if text.chars().any(is_cjk) {
        2
    } else if text.chars().any(|c| matches!(c as u32, 0x0400..=0x04FF)) {
        1
    } else {
        0
    }
}

/// A customer's message: records an opt-out (STOP, СТОП, 退订, ...) or an opt-in (START,
/// СТАРТ, 订阅) and acknowledges the change once, in the customer's language, as an
/// automated reply (the customer just wrote, so the 24-hour window is open). Returns how
/// many messages were queued (0 or 1).
pub fn on_inbound(
    tx: &mut dyn WriteTx,
    conversation: &ConversationRow,
    message: &MessageRow,
    now: Timestamp,
) -> StorageResult<u32> {
    let text = crate::automation::message_text(&message.body);
    if text.trim().is_empty() || text.chars().count() > KEYWORD_MESSAGE_CHARS {
        return Ok(0);
    }
    let customer = &conversation.customer_wa_id;
    let ack = if load_pacing(tx)?.is_opt_out(&text) {
        if !tx.put_opt_out(customer, now, Some(message.id))? {
            return Ok(0);
        }
        tracing::info!(conversation = %conversation.id, "customer opted out of broadcasts");
        (
            "broadcast_opt_out",
            "Broadcast opt-out",
            ACK_OUT[language_of(&text)],
        )
    } else if Pacing::is_opt_in(&text) {
        if !tx.delete_opt_out(customer)? {
            return Ok(0);
        }
        tracing::info!(conversation = %conversation.id, "customer opted in to broadcasts again");
        (
            "broadcast_opt_in",
            "Broadcast opt-in",
            ACK_IN[language_of(&text)],
        )
    } else {
        return Ok(0);
    };
    let (key, name, body) = ack;
    let mut conv = tx
        .conversation(conversation.id)?
        .unwrap_or_else(|| conversation.clone());
    let message_id = Uuid::now_v7();
    let msg = OutgoingMessage::new(
        customer.clone(),
        OutgoingContent::Text {
            text: TextBody {
                preview_url: None,
                body: body.to_owned(),
            },
        },
    )
    .with_callback_data(crate::outbound::callback_data(message_id));
    let row =
        crate::commands::queue_message(tx, &mut conv, message_id, &msg, None, Uuid::now_v7(), now)?;
    tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_QUEUED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "message": row,
            "takeover": null,
            "automation": { "key": key, "source": "broadcasts", "name": name },
        }),
        created_at: now,
    })?;
    Ok(1)
}

// ---------------------------------------------------------------------------------------
// Routes

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/broadcasts", get(list).post(create))
        .route("/v1/broadcasts/preview", post(preview))
        .route(
            "/v1/broadcasts/settings",
            get(get_settings).put(put_settings),
        )
        .route("/v1/broadcasts/{id}", get(one))
        .route("/v1/broadcasts/{id}/recipients", get(recipients))
        .route("/v1/broadcasts/{id}/cancel", post(cancel))
}

/// Every route's door: SendBroadcasts, through core (via authz), before anything else.
fn require(p: &Principal) -> Result<(), CommandError> {
    authz::require(&p.actor, Permission::SendBroadcasts).map_err(CommandError::denied)
}

fn bad_request(message: impl Into<String>) -> CommandError {
    CommandError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn not_found() -> CommandError {
    CommandError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no broadcast with this id.",
    )
}

fn storage_err(e: StorageError) -> CommandError {
    CommandError::storage(e)
}

/// The approved template the draft names: `Ok(None)` when no list can be had (Meta
/// checks again on send, like `send_template`), `Err` with a problem when the list does
/// not have it or it cannot be filled here.
async fn template_view(
    st: &AppState,
    t: &BroadcastTemplate,
) -> Result<Option<TemplateView>, String> {
    let Some(services) = st.commands.get() else {
        return Ok(None);
    };
    if !services.templates.configured() {
        return Ok(None);
    }
    let Ok(list) = services.templates.get(false).await else {
        return Ok(None);
    };
    match list
        .templates
        .iter()
        .find(|v| v.name == t.name && v.language == t.language)
    {
        None => Err(format!(
            "There is no approved template {:?} in {:?}.",
            t.name, t.language
        )),
        Some(v) if !v.sendable => Err(format!(
            "Template {:?} has a media header or button variables, which broadcasts cannot fill.",
            t.name
        )),
        Some(v) => Ok(Some(v.clone())),
    }
}

/// Problems of a draft: its own, and against the approved template list.
async fn check(st: &AppState, draft: &BroadcastDraft) -> (Vec<String>, TemplateShape) {
    match template_view(st, &draft.template).await {
        Ok(Some(v)) => (
            draft.problems(Some((v.header_params.len(), v.body_params.len()))),
            TemplateShape::of(&v),
        ),
        Ok(None) => (draft.problems(None), TemplateShape::default()),
        Err(problem) => {
            let mut p = draft.problems(None);
            p.push(problem);
            (p, TemplateShape::default())
        }
    }
}

async fn list(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<BroadcastSummary>>, CommandError> {
    require(&p)?;
    let out = st
        .storage
        .read(|tx| {
            tx.broadcasts(200)?
                .iter()
                .map(|b| summary(tx, b))
                .collect::<StorageResult<Vec<_>>>()
        })
        .await
        .map_err(storage_err)?;
    Ok(Json(out))
}

async fn one(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<BroadcastSummary>, CommandError> {
    require(&p)?;
    let s = st
        .storage
        .read(move |tx| tx.broadcast(id)?.map(|b| summary(tx, &b)).transpose())
        .await
        .map_err(storage_err)?;
    s.map(Json).ok_or_else(not_found)
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, CommandError> {
    serde_json::from_slice(body).map_err(|e| bad_request(format!("The {what} is not valid: {e}")))
}

async fn preview(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<Json<BroadcastPreview>, CommandError> {
    require(&p)?;
    let draft: BroadcastDraft = parse(&body, "broadcast")?;
    let (mut problems, shape) = check(&st, &draft).await;
    let now = st.clock.now();
    let tz = st.settings.timezone.clone();
    let audience_ok = draft.audience.problems().is_empty();
    let d = draft.clone();
    let (total, opted_out, samples, day, daily_cap) = st
        .storage
        .read(move |tx| {
            let pacing = load_pacing(tx)?;
            let day = today(tx, &pacing, now, &tz)?;
            let recipients = if audience_ok {
                resolve(tx, &d.audience)?
            } else {
                Vec::new()
            };
            let mut opted_out = 0u32;
            let mut samples = Vec::new();
            for (wa_id, name) in &recipients {
                if tx.opted_out(wa_id)?.is_some() {
                    opted_out += 1;
                    continue;
                }
                if samples.len() < 5 {
                    let attrs = tx.contact_attributes(wa_id)?;
                    let params = d.template.render(name, &attrs);
                    samples.push(PreviewSample {
                        wa_id: wa_id.clone(),
                        name: name.clone(),
                        text: shape.text(&params),
                        header: params.header,
                        body: params.body,
                    });
                }
            }
            Ok((
                recipients.len() as u32,
                opted_out,
                samples,
                day,
                pacing.daily_cap,
            ))
        })
        .await
        .map_err(storage_err)?;
    if audience_ok && total == 0 {
        problems.push("Nobody matches this audience.".to_owned());
    } else if audience_ok && total == opted_out && total > 0 {
        problems.push("Everyone in this audience has opted out of broadcasts.".to_owned());
    }
    Ok(Json(BroadcastPreview {
        total,
        opted_out,
        samples,
        cap_today: day.cap,
        sent_today: day.sent,
        days_needed: days_needed(total - opted_out, day.cap, day.sent, daily_cap),
        problems,
    }))
}

#[derive(Deserialize)]
struct CreateReq {
    id: Uuid,
    #[serde(flatten)]
    draft: BroadcastDraft,
}

fn fingerprint(draft: &BroadcastDraft) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(draft).unwrap_or_default()).into()
}

enum Created {
    New(Box<BroadcastRow>),
    Existing(Box<BroadcastRow>),
    Empty,
}

fn replay(st_row: &BroadcastRow, fp: &[u8; 32], device: Uuid) -> Result<(), CommandError> {
    if st_row.fingerprint != *fp || st_row.device_id != device {
        return Err(CommandError::new(
            StatusCode::CONFLICT,
            "idempotency_conflict",
            "This broadcast id was already used for a different broadcast.",
        ));
    }
    Ok(())
}

async fn summary_of(st: &AppState, row: BroadcastRow) -> Result<BroadcastSummary, CommandError> {
    st.storage
        .read(move |tx| summary(tx, &row))
        .await
        .map_err(storage_err)
}

async fn create(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, CommandError> {
    require(&p)?;
    let req: CreateReq = parse(&body, "broadcast")?;
    let fp = fingerprint(&req.draft);
    let id = req.id;
    // A retry of the same id answers what the first call made, whatever changed since.
    if let Some(existing) = st
        .storage
        .read(move |tx| tx.broadcast(id))
        .await
        .map_err(storage_err)?
    {
        replay(&existing, &fp, p.device.id)?;
        let s = summary_of(&st, existing).await?;
        return Ok((StatusCode::CREATED, Json(s)).into_response());
    }
    let (problems, _) = check(&st, &req.draft).await;
    if !problems.is_empty() {
        return Err(CommandError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_broadcast",
            problems.join(" "),
        )
        .with("problems", json!(problems)));
    }
    // Stored to the millisecond: the first answer and every replay show the same time.
    let now = st.clock.now();
    let now = Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
    let draft = req.draft;
    let (member, member_name, device) = (p.member.id, p.member.name.clone(), p.device.id);
    let ctx = audit_ctx(&p, peer, now);
    let out = st
        .storage
        .write(move |tx| {
            if let Some(existing) = tx.broadcast(id)? {
                return Ok(Created::Existing(Box::new(existing)));
            }
            let recipients = resolve(tx, &draft.audience)?;
            if recipients.is_empty() {
                return Ok(Created::Empty);
            }
            let scheduled = draft.scheduled_at.is_some_and(|at| at > now);
            let mut row = BroadcastRow {
                id,
                name: draft.name.trim().to_owned(),
                audience: json!(draft.audience),
                template: json!(draft.template),
                state: if scheduled {
                    BroadcastState::Scheduled
                } else {
                    BroadcastState::Sending
                }
                .as_str()
                .to_owned(),
                scheduled_at: draft.scheduled_at,
                created_at: now,
                created_by: member,
                created_by_name: member_name,
                device_id: device,
                fingerprint: fp,
                note: None,
                hold_until: None,
                announced: None,
                updated_at: now,
            };
            tx.insert_broadcast(&row)?;
            for (i, (wa_id, name)) in recipients.into_iter().enumerate() {
                let state = if tx.opted_out(&wa_id)?.is_some() {
                    recipient_state::OPTED_OUT
                } else {
                    recipient_state::PENDING
                };
                tx.insert_recipient(&RecipientRow {
                    broadcast_id: id,
                    wa_id,
                    position: i as i64,
                    name,
                    state: state.into(),
                    conversation_id: None,
                    message_id: None,
                    attempted_at: None,
                    updated_at: now,
                })?;
            }
            announce(tx, &mut row, now)?;
            // Who reached how many customers with which template; never parameter texts.
            let c = summary(tx, &row)?.counts;
            audit::record(
                tx,
                &ctx,
                kind::AUDIT_CREATED,
                json!({ "broadcast_id": id, "name": row.name }),
                Value::Null,
                json!({
                    "template": draft.template.name,
                    "language": draft.template.language,
                    "audience": draft.audience,
                    "recipients": c.total,
                    "opted_out": c.opted_out,
                    "scheduled_at": draft.scheduled_at,
                }),
            )?;
            Ok(Created::New(Box::new(row)))
        })
        .await
        .map_err(storage_err)?;
    let row = match out {
        Created::New(row) => {
            tracing::info!(broadcast = %id, "broadcast created");
            st.broadcasts.wake();
            *row
        }
        Created::Existing(row) => {
            replay(&row, &fp, p.device.id)?;
            *row
        }
        Created::Empty => {
            return Err(CommandError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty_audience",
                "Nobody matches this audience.",
            )
            .with("problems", json!(["Nobody matches this audience."])));
        }
    };
    let s = summary_of(&st, row).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

async fn cancel(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<Uuid>,
) -> Result<Json<BroadcastSummary>, CommandError> {
    require(&p)?;
    let now = st.clock.now();
    let ctx = audit_ctx(&p, peer, now);
    let name = p.member.name.clone();
    let out = st
        .storage
        .write(move |tx| {
            let Some(mut b) = tx.broadcast(id)? else {
                return Ok(None);
            };
            let finished = BroadcastState::parse(&b.state).is_none_or(BroadcastState::is_finished);
            if !finished {
                let n = tx.cancel_pending(id, now)?;
                set_state(
                    &mut b,
                    BroadcastState::Cancelled,
                    Some(format!(
                        "Cancelled by {name}; {n} recipients were not sent to."
                    )),
                    None,
                    now,
                );
                tx.update_broadcast(&b)?;
                announce(tx, &mut b, now)?;
                audit::record(
                    tx,
                    &ctx,
                    kind::AUDIT_CANCELLED,
                    json!({ "broadcast_id": id, "name": b.name }),
                    Value::Null,
                    json!({ "not_sent": n }),
                )?;
            }
            summary(tx, &b).map(Some)
        })
        .await
        .map_err(storage_err)?;
    st.broadcasts.wake();
    out.map(Json).ok_or_else(not_found)
}

#[derive(Deserialize)]
struct RecipientsQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    state: Option<String>,
}

async fn recipients(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Query(q): Query<RecipientsQuery>,
) -> Result<Json<Value>, CommandError> {
    require(&p)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            RecipientState::parse(s)
                .ok_or_else(|| bad_request(format!("Unknown recipient state {s:?}.")))?,
        ),
    };
    let rows = st
        .storage
        .read(move |tx| {
            if tx.broadcast(id)?.is_none() {
                return Ok(None);
            }
            tx.broadcast_recipients(
                id,
                q.after.as_deref(),
                state.map(RecipientState::as_str),
                limit,
            )
            .map(Some)
        })
        .await
        .map_err(storage_err)?
        .ok_or_else(not_found)?;
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.0.wa_id.clone()))
        .flatten();
    let recipients: Vec<BroadcastRecipient> =
        rows.into_iter()
            .map(|(r, seen, error, status_at)| {
                let state = RecipientState::parse(&seen).unwrap_or(RecipientState::Queued);
                BroadcastRecipient {
                    wa_id: r.wa_id,
                    name: r.name,
                    state,
                    conversation_id: r.conversation_id,
                    error: (state == RecipientState::Failed).then(|| {
                        error.as_ref().map(error_text).unwrap_or_else(|| {
                            "WhatsApp reported the message as failed.".to_owned()
                        })
                    }),
                    updated_at: status_at.map_or(r.updated_at, |t| t.max(r.updated_at)),
                }
            })
            .collect();
    Ok(Json(json!({ "recipients": recipients, "next": next })))
}

async fn settings_view(st: &AppState) -> Result<BroadcastSettings, CommandError> {
    let now = st.clock.now();
    let tz = st.settings.timezone.clone();
    st.storage
        .read(move |tx| {
            let pacing = load_pacing(tx)?;
            let day = today(tx, &pacing, now, &tz)?;
            Ok(BroadcastSettings {
                pacing,
                cap_today: day.cap,
                sent_today: day.sent,
                history: day.history,
            })
        })
        .await
        .map_err(storage_err)
}

async fn get_settings(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
) -> Result<Json<BroadcastSettings>, CommandError> {
    require(&p)?;
    settings_view(&st).await.map(Json)
}

#[derive(Deserialize)]
struct PutSettings {
    pacing: Pacing,
}

/// Limits a business can set (what a sane number needs, not Meta's ceilings).
fn pacing_problem(p: &Pacing) -> Option<String> {
    if p.daily_cap == 0 || p.daily_cap > 100_000 {
        return Some("The daily cap must be between 1 and 100000.".into());
    }
    if !p.max_failure_percent.is_finite() || !(0.0..=100.0).contains(&p.max_failure_percent) {
        return Some("The failure limit must be a percentage between 0 and 100.".into());
    }
    if p.interval_secs > 3600 {
        return Some("The pause between sends can be at most 3600 seconds.".into());
    }
    if p.opt_out_keywords.is_empty() || p.opt_out_keywords.len() > 20 {
        return Some("Give between 1 and 20 opt-out words.".into());
    }
    if p.opt_out_keywords
        .iter()
        .any(|k| k.trim().is_empty() || k.chars().count() > 32)
    {
        return Some("Each opt-out word needs between 1 and 32 characters.".into());
    }
    None
}

async fn put_settings(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Json<BroadcastSettings>, CommandError> {
    require(&p)?;
    let req: PutSettings = parse(&body, "broadcast settings")?;
    if let Some(problem) = pacing_problem(&req.pacing) {
        return Err(bad_request(problem));
    }
    let now = st.clock.now();
    let ctx = audit_ctx(&p, peer, now);
    let pacing = req.pacing;
    st.storage
        .write(move |tx| {
            let before = load_pacing(tx)?;
            tx.put_setting(SETTING_KEY, &json!(pacing))?;
            audit::record(
                tx,
                &ctx,
                kind::AUDIT_SETTINGS_UPDATED,
                json!({ "settings": "broadcasts" }),
                json!(before),
                json!(pacing),
            )?;
            Ok(())
        })
        .await
        .map_err(storage_err)?;
    tracing::info!("broadcast settings updated");
    st.broadcasts.wake();
    settings_view(&st).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_follow_the_team_time_zone_and_failures_split_into_blocked() {
        let tz = TimeZone::get("Europe/Madrid").unwrap();
        let rows: Vec<AttemptRow> = vec![
            // 23:30 in Madrid on the 21st (UTC 22:30).
            (at("2026-11-21T22:30:00Z"), Some("read".into()), None),
            // 00:30 in Madrid on the 22nd.
            (
                at("2026-11-21T23:30:00Z"),
                Some("failed".into()),
                Some(json!([{"code": 131026}])),
            ),
            (
                at("2026-11-22T10:00:00Z"),
                Some("failed".into()),
                Some(json!({"code": 131048, "title": "Spam rate limit hit"})),
            ),
            (at("2026-11-22T11:00:00Z"), Some("queued".into()), None),
        ];
        let days = day_stats(&rows, &tz);
        assert_eq!(days.len(), 2);
        assert_eq!(
            (
                days[0].date.day(),
                days[0].attempted,
                days[0].failed,
                days[0].blocked
            ),
            (21, 1, 0, 0)
        );
        assert_eq!(
            (
                days[1].date.day(),
                days[1].attempted,
                days[1].failed,
                days[1].blocked
            ),
            (22, 3, 1, 1)
        );
        assert_eq!(
            next_day_start(at("2026-11-21T22:30:00Z"), &tz),
            at("2026-11-21T23:00:00Z")
        );
    }

    #[test]
    fn errors_read_in_plain_words_from_both_stored_shapes() {
        let from_webhook = json!([{"code": 131026, "title": "Message Undeliverable"}]);
        assert_eq!(error_code(&from_webhook), Some(131026));
        assert!(error_text(&from_webhook).ends_with("(error 131026)"));
        let from_queue = json!({"code": 131048, "title": "Spam rate limit hit", "details": "x"});
        assert_eq!(error_code(&from_queue), Some(131048));
        let unknown = json!({"code": "send_unconfirmed", "details": "Check the phone."});
        assert_eq!(error_code(&unknown), None);
        assert_eq!(error_text(&unknown), "Check the phone.");
    }

    #[test]
    fn acknowledgements_answer_in_the_customers_script() {
        assert_eq!(language_of("STOP"), 0);
        assert_eq!(language_of("стоп"), 1);
        assert_eq!(language_of("退订"), 2);
    }

    #[test]
    fn named_placeholders_get_parameter_names() {
        let t = BroadcastTemplate {
            name: "hello".into(),
            language: "en_US".into(),
            header_params: vec![],
            body_params: vec![],
        };
        let p = RenderedParams {
            header: vec![],
            body: vec!["Ana".into(), "7".into()],
        };
        let named = TemplateShape {
            body: vec!["first_name".into(), "2".into()],
            ..Default::default()
        };
        let v = serde_json::to_value(graph_template(&t, &named, &p)).unwrap();
        assert_eq!(v["components"][0]["type"], "body");
        assert_eq!(
            v["components"][0]["parameters"][0]["parameter_name"],
            "first_name"
        );
        assert!(
            v["components"][0]["parameters"][1]
                .get("parameter_name")
                .is_none()
        );
        let shape = TemplateShape {
            body: vec!["1".into(), "2".into()],
            body_text: "Hi {{1}}, {{2}}% off".into(),
            ..Default::default()
        };
        assert_eq!(shape.text(&p), "Hi Ana, 7% off");
    }
}

//! The automation runner (issue 8): carries out what `teamline_core::automation` plans.
//!
//! ```text
//! webhook tx ─┬─ message + events
//!             └─ automation_jobs row ──▶ worker: ONE write job per event =
//!                  read facts → evaluate (cached CompiledRules) → carry out → delete job
//! timer task (every 15 s, or `Hub::wake_timers`) ─▶ no_reply / SLA-due evaluations
//! ```
//!
//! - The webhook only inserts a job row in its own transaction and wakes the worker, so
//!   rules never delay or fail the 200 to Meta, and a crash before the rules ran runs them
//!   after the restart (the row is still there). Evaluating and carrying out happen in ONE
//!   transaction with the job's deletion: a plan is carried out exactly once, and two
//!   messages of one customer can never both pass the auto-reply cooldown.
//! - Actions go through the same rows and events as commands: `conversation.assigned`,
//!   `labels.changed`, `message.queued` + the persistent send queue (a real Graph send),
//!   plus `conversation.priority`, `conversation.sla` and `automation.notify` (to one
//!   member, which the app turns into a notification).
//! - Failures retry with backoff ([`MAX_ATTEMPTS`]), then become an `automation.failed`
//!   event for team managers. Logs carry ids and counts, never message text.
//!
//! Teams in rules are the relay's member groups, named by the group's name in lower case
//! with spaces as `-` ("After sales" → `after-sales`) or by the group's id.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teamline_core::Permission;
use teamline_core::PermissionSet;
use teamline_core::automation::text::fold;
use teamline_core::automation::{
    AttributeValue, AutomationSettings, CompiledRules, ContactFacts, Context, ConversationFacts,
    Evaluation, Event, InboundMessage, LiveState, MemberLoad, Planned, RoundRobinState,
    SentAutoReply, SlaFacts, SlaState, SlaTarget, Team, Trigger, default_settings, sla_state,
};
use teamline_whatsapp::outgoing::{OutgoingContent, OutgoingMessage, TextBody};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::app::{ApiError, AppState, Principal, St};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::commands::command_kind;
use crate::events::kind;
use crate::storage::automation::{AutomationJob, ConversationAutomation, job_kind};
use crate::storage::{Audience, ConversationRow, NewEvent, ReadTx, StorageResult, WriteTx};

/// `team_settings` key of the stored [`AutomationDoc`].
pub const SETTING_KEY: &str = "automation";
/// `team_settings` key of the round-robin cursors.
pub const ROUND_ROBIN_KEY: &str = "automation_round_robin";
/// A member counts as online while one of their devices holds an event stream open, or
/// when one talked to the relay (or was linked) this recently (long-poll clients).
pub const ONLINE_WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// Open conversations a member takes when the business has not set their capacity.
pub const DEFAULT_CAPACITY: u32 = 30;
/// Attempts of one job before it is given up (and reported).
pub const MAX_ATTEMPTS: u32 = 5;
/// How often the timer pass runs (no-reply and SLA-due triggers).
pub const TIMER_INTERVAL: Duration = Duration::from_secs(15);
/// Jobs one write job handles at most per round.
const BATCH: usize = 64;

/// Event kinds of the automation.
///
/// - `automation.settings_changed`: `{revision, updated_by}` to every device (apps that
///   show the Automation section fetch `GET /v1/automation` again)
/// - `automation.notify`: `{conversation_id, member_id, text, source, source_name, reason}`
///   to that member only
/// - `automation.applied`: `{conversation_id, trigger, fired, actions, skipped,
///   automated_inbound}` to whoever sees the conversation (what ran and why)
/// - `automation.failed`: `{job, conversation_id, attempts, error}` to team managers
/// - `conversation.priority`: `{conversation_id, priority, source}`
/// - `conversation.sla`: `{conversation_id, target, state}` (core's `SlaState`), announced
///   whenever target or state changes — after rules ran, a timer pass, a person's reply —
///   so devices run live timers
pub mod automation_kind {
    pub const SETTINGS_CHANGED: &str = "automation.settings_changed";
    pub const NOTIFY: &str = "automation.notify";
    pub const APPLIED: &str = "automation.applied";
    pub const FAILED: &str = "automation.failed";
    pub const CONVERSATION_PRIORITY: &str = "conversation.priority";
    pub const CONVERSATION_SLA: &str = "conversation.sla";
    /// Audit entry of a settings change.
    pub const AUDIT_UPDATED: &str = "audit.automation_updated";
}

/// How assignment sees one member (set per member by the business).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSettings {
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default)]
    pub senior: bool,
}

fn enabled_default() -> bool {
    true
}

fn default_capacity() -> u32 {
    DEFAULT_CAPACITY
}

/// What `GET /v1/automation` returns and the relay stores: core's settings plus the
/// per-member capacity and seniority assignment needs (team membership is the groups').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomationDoc {
    /// The master switch: paused, events are dropped unevaluated and timers idle.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    pub settings: AutomationSettings,
    #[serde(default)]
    pub agents: BTreeMap<Uuid, AgentSettings>,
    /// Bumped by every `PUT`; a `PUT` naming an older revision is refused (409).
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_by: Option<Uuid>,
}

impl AutomationDoc {
    pub fn default_for(tz: &jiff::tz::TimeZone) -> AutomationDoc {
        AutomationDoc {
            enabled: true,
            settings: default_settings(tz.iana_name().unwrap_or("UTC")),
            agents: BTreeMap::new(),
            revision: 0,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// Settings compiled once (and again after each `PUT`).
pub struct Engine {
    pub doc: AutomationDoc,
    pub rules: CompiledRules,
    /// Whether an enabled rule has a `no_reply` trigger (the timer keeps a cursor then).
    pub has_no_reply_rules: bool,
}

impl Engine {
    pub fn new(doc: AutomationDoc, rules: CompiledRules) -> Engine {
        let has_no_reply_rules = doc
            .settings
            .rules
            .iter()
            .any(|r| r.enabled && matches!(r.trigger, Trigger::NoReply { .. }));
        Engine {
            doc,
            rules,
            has_no_reply_rules,
        }
    }
}

/// The runner's shared state: wake-ups, the compiled-rules cache, counters.
#[derive(Default)]
pub struct Hub {
    wake: Notify,
    timers: Notify,
    engine: RwLock<Option<Arc<Engine>>>,
    /// Jobs carried out.
    pub runs: AtomicU64,
    /// Failed attempts (each retried until [`MAX_ATTEMPTS`]).
    pub failures: AtomicU64,
    /// Timer passes completed.
    pub timer_passes: AtomicU64,
    /// Open event streams per member: a member with one is online.
    streams: Mutex<HashMap<Uuid, usize>>,
    /// Bumped by [`Hub::forget`]: rules compiled from a read older than that are not cached.
    generation: AtomicU64,
}

/// Marks a member online while an event stream of theirs is open.
pub struct StreamGuard {
    hub: Arc<Hub>,
    member: Uuid,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Ok(mut m) = self.hub.streams.lock()
            && let Some(n) = m.get_mut(&self.member)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.member);
            }
        }
    }
}

impl Hub {
    /// Registers an open event stream of `member` until the guard drops.
    pub fn stream_opened(self: &Arc<Self>, member: Uuid) -> StreamGuard {
        if let Ok(mut m) = self.streams.lock() {
            *m.entry(member).or_default() += 1;
        }
        StreamGuard {
            hub: Arc::clone(self),
            member,
        }
    }

    /// Members with an open event stream now.
    pub fn streaming(&self) -> HashSet<Uuid> {
        self.streams
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Something was queued: run the jobs now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs a timer pass now (tests call it after moving the clock).
    pub fn wake_timers(&self) {
        self.timers.notify_one();
    }

    fn cached(&self) -> Option<Arc<Engine>> {
        self.engine.read().ok().and_then(|g| g.clone())
    }

    /// Drops the cached rules: the next job compiles what is stored (for settings written
    /// other than by `PUT /v1/automation`, e.g. a restore or a test harness).
    pub fn forget(&self) {
        if let Ok(mut g) = self.engine.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            *g = None;
        }
    }

    /// Caches rules compiled from a read made at `generation`, unless forgotten since.
    fn set_if(&self, generation: u64, e: Arc<Engine>) {
        if let Ok(mut g) = self.engine.write()
            && self.generation.load(Ordering::SeqCst) == generation
        {
            *g = Some(e);
        }
    }

    /// Caches freshly saved rules; reads that started before cannot replace them.
    fn set(&self, e: Arc<Engine>) {
        if let Ok(mut g) = self.engine.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            *g = Some(e);
        }
    }

    /// Prometheus lines.
    pub fn metrics_text(&self) -> String {
        format!(
            "# TYPE teamline_automation_runs_total counter\nteamline_automation_runs_total {}\n# TYPE teamline_automation_failures_total counter\nteamline_automation_failures_total {}\n",
            self.runs.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed)
        )
    }
}

/// Reads the stored document (the defaults when none was saved yet).
pub fn load_doc(tx: &dyn ReadTx, tz: &jiff::tz::TimeZone) -> StorageResult<AutomationDoc> {
    match tx.setting(SETTING_KEY)? {
        None => Ok(AutomationDoc::default_for(tz)),
        // The error names the category only: serde's message may quote a reply text.
        Some(v) => serde_json::from_value(v).map_err(|e| {
            crate::storage::StorageError::Corrupt(format!(
                "automation settings are not readable ({:?} error)",
                e.classify()
            ))
        }),
    }
}

/// The compiled rules, from the cache or the database.
pub async fn engine(st: &AppState) -> Result<Arc<Engine>, String> {
    if let Some(e) = st.automation.cached() {
        return Ok(e);
    }
    let generation = st.automation.generation.load(Ordering::SeqCst);
    let tz = st.settings.timezone.clone();
    let doc = st
        .storage
        .read(move |tx| load_doc(tx, &tz))
        .await
        .map_err(|e| e.to_string())?;
    let rules = CompiledRules::compile(&doc.settings).map_err(|e| e.to_string())?;
    let e = Arc::new(Engine::new(doc, rules));
    st.automation.set_if(generation, Arc::clone(&e));
    Ok(e)
}

/// Writes the defaults when the team has no automation settings yet, so what runs is
/// what `GET` shows and what the business edits.
async fn seed(st: &AppState) {
    let tz = st.settings.timezone.clone();
    let res = st
        .storage
        .write(move |tx| {
            if tx.setting(SETTING_KEY)?.is_none() {
                let doc = AutomationDoc::default_for(&tz);
                tx.put_setting(SETTING_KEY, &json!(doc))?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "could not seed the automation settings");
    }
}

// ---------------------------------------------------------------------------------------
// Facts

/// `After sales` → `after-sales`: how rules name a group.
pub fn team_slug(name: &str) -> String {
    fold(name.trim())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

fn resolve_group(
    groups: &[crate::storage::team::GroupRow],
    team: &str,
) -> Option<crate::storage::team::GroupRow> {
    let slug = team_slug(team);
    groups
        .iter()
        .find(|g| g.id.to_string() == team || team_slug(&g.name) == slug)
        .cloned()
}

/// The customer's text for keyword rules: text, caption, button or list reply.
pub fn message_text(body: &Value) -> String {
    let kind = body["type"].as_str().unwrap_or_default();
    let candidates = [
        &body["text"]["body"],
        &body[kind]["caption"],
        &body["button"]["text"],
        &body["interactive"]["button_reply"]["title"],
        &body["interactive"]["list_reply"]["title"],
    ];
    candidates
        .iter()
        .find_map(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The team as assignment sees it now: groups with their members' presence and loads,
/// supervisors (members who may assign: AssignTransfer) and the round-robin cursors.
pub fn live_state(
    tx: &dyn ReadTx,
    doc: &AutomationDoc,
    now: Timestamp,
    streaming: &HashSet<Uuid>,
) -> StorageResult<LiveState> {
    let members: Vec<_> = tx.members()?.into_iter().filter(|m| m.active).collect();
    let devices = tx.devices()?;
    let loads: BTreeMap<Uuid, (u32, u32)> = tx
        .member_loads()?
        .into_iter()
        .map(|(m, a, w)| (m, (a, w)))
        .collect();
    let since = now.checked_sub(ONLINE_WINDOW).unwrap_or(now);
    let online = |id: Uuid| {
        streaming.contains(&id)
            || devices.iter().any(|d| {
                d.member_id == id
                    && d.revoked_at.is_none()
                    && d.last_seen.unwrap_or(d.linked_at).max(d.linked_at) >= since
            })
    };
    let load = |id: Uuid| {
        let agent = doc.agents.get(&id);
        let (assigned, waiting) = loads.get(&id).copied().unwrap_or_default();
        MemberLoad {
            id: id.to_string(),
            online: online(id),
            capacity: agent.map_or(DEFAULT_CAPACITY, |a| a.capacity),
            assigned,
            waiting,
            senior: agent.is_some_and(|a| a.senior),
        }
    };
    let teams = tx
        .groups()?
        .into_iter()
        .map(|g| Team {
            id: team_slug(&g.name),
            name: g.name.clone(),
            members: members
                .iter()
                .filter(|m| m.teams.contains(&g.id))
                .map(|m| load(m.id))
                .collect(),
        })
        .collect();
    let supervisors = members
        .iter()
        .filter(|m| {
            serde_json::from_value::<PermissionSet>(m.toggles.clone())
                .is_ok_and(|p| p.contains(Permission::AssignTransfer))
        })
        .map(|m| m.id.to_string())
        .collect();
    let round_robin = tx
        .setting(ROUND_ROBIN_KEY)?
        .and_then(|v| serde_json::from_value::<RoundRobinState>(v).ok())
        .unwrap_or_default();
    Ok(LiveState {
        teams,
        supervisors,
        round_robin,
    })
}

/// The facts of one evaluation, from the relay's rows.
pub fn context(
    tx: &dyn ReadTx,
    conv: &ConversationRow,
    event: Event,
    message: Option<InboundMessage>,
    now: Timestamp,
) -> StorageResult<Context> {
    let timeline = tx.timeline(conv.id)?;
    let groups = tx.groups()?;
    let attributes = tx
        .contact_attributes(&conv.customer_wa_id)?
        .into_iter()
        .filter_map(|(k, v)| {
            serde_json::from_value::<AttributeValue>(v)
                .ok()
                .map(|v| (k, v))
        })
        .collect();
    let auto_replies_sent = tx
        .auto_replies_sent(&conv.customer_wa_id)?
        .into_iter()
        .map(|(key, at)| SentAutoReply { key, at })
        .collect();
    Ok(Context {
        now,
        event,
        message,
        conversation: ConversationFacts {
            id: conv.id.to_string(),
            assignee: conv.assignee.map(|a| a.to_string()),
            team: conv
                .team_id
                .and_then(|t| groups.iter().find(|g| g.id == t))
                .map(|g| team_slug(&g.name)),
            labels: tx.labels_of(conv.id)?,
            last_customer_message_at: timeline.last_inbound_at,
            last_agent_reply_at: timeline.last_human_reply_at,
            unanswered_since: timeline.unanswered_since,
        },
        contact: ContactFacts {
            id: conv.customer_wa_id.clone(),
            first_contact_at: timeline.first_inbound_at,
            interactions: timeline.inbound_count,
            attributes,
            auto_replies_sent,
        },
    })
}

// ---------------------------------------------------------------------------------------
// Carrying a plan out

/// What a carried-out plan asks of the caller after the commit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Done {
    /// An auto-reply was queued: wake the send worker.
    pub queued: bool,
    pub fired: usize,
    pub actions: usize,
}

fn sla_facts(tx: &dyn ReadTx, conv: &ConversationRow) -> StorageResult<Option<SlaFacts>> {
    let t = tx.timeline(conv.id)?;
    Ok(t.first_inbound_at.map(|first| SlaFacts {
        first_customer_message_at: first,
        first_response_at: t.first_human_reply_at,
        unanswered_since: t.unanswered_since,
    }))
}

/// The conversation's SLA target: the rules' target combined with its labels' targets.
fn sla_target(doc: &AutomationDoc, labels: &[String], row: &ConversationAutomation) -> SlaTarget {
    let from_rules = row
        .sla
        .as_ref()
        .and_then(|v| serde_json::from_value::<SlaTarget>(v.clone()).ok());
    let folded: BTreeMap<String, SlaTarget> = doc
        .settings
        .sla
        .by_label
        .iter()
        .map(|(k, v)| (fold(k), *v))
        .collect();
    labels
        .iter()
        .filter_map(|l| folded.get(&fold(l)).copied())
        .fold(from_rules.unwrap_or_default(), SlaTarget::strictest)
}

/// Announces a conversation's SLA target and state (`conversation.sla`) when they differ
/// from what devices were last told, so inbox timers stay live without anything being
/// written while nothing changes. Returns whether it announced.
fn announce_sla(
    tx: &mut dyn WriteTx,
    engine: &Engine,
    id: Uuid,
    now: Timestamp,
) -> StorageResult<bool> {
    let mut row = tx
        .conversation_automation(id)?
        .unwrap_or(ConversationAutomation {
            conversation_id: id,
            ..ConversationAutomation::default()
        });
    let target = sla_target(&engine.doc, &tx.labels_of(id)?, &row);
    if target.is_empty() && row.sla_shown.is_none() {
        return Ok(false);
    }
    let Some(conv) = tx.conversation(id)? else {
        return Ok(false);
    };
    show_sla(tx, &conv, &mut row, target, now)
}

/// After a person's reply: the clock the devices show stops (or moves to the next
/// response) at once instead of at the next timer pass. Only for conversations whose SLA
/// was announced; the target shown is kept.
pub(crate) fn sla_after_reply(
    tx: &mut dyn WriteTx,
    conv: &ConversationRow,
    now: Timestamp,
) -> StorageResult<bool> {
    let Some(mut row) = tx.conversation_automation(conv.id)? else {
        return Ok(false);
    };
    let Some(target) = row
        .sla_shown
        .as_ref()
        .and_then(|s| serde_json::from_value::<SlaTarget>(s["target"].clone()).ok())
    else {
        return Ok(false);
    };
    show_sla(tx, conv, &mut row, target, now)
}

fn show_sla(
    tx: &mut dyn WriteTx,
    conv: &ConversationRow,
    row: &mut ConversationAutomation,
    target: SlaTarget,
    now: Timestamp,
) -> StorageResult<bool> {
    let state = match sla_facts(tx, conv)? {
        Some(f) if !target.is_empty() => sla_state(&f, &target, now),
        _ => SlaState::Idle,
    };
    let shown = json!({ "target": target, "state": state });
    if row.sla_shown.as_ref() == Some(&shown) {
        return Ok(false);
    }
    row.sla_shown = Some(shown);
    tx.put_conversation_automation(row)?;
    tx.append_event(NewEvent {
        kind: automation_kind::CONVERSATION_SLA,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({ "conversation_id": conv.id, "target": target, "state": state }),
        created_at: now,
    })?;
    Ok(true)
}

/// Carries out `eval` for `conv` inside the writer's transaction.
pub fn carry_out(
    tx: &mut dyn WriteTx,
    conv: &ConversationRow,
    ctx: &Context,
    live: &LiveState,
    eval: &Evaluation,
    now: Timestamp,
) -> StorageResult<Done> {
    if eval.actions.is_empty()
        && eval.fired.is_empty()
        && eval.skipped.is_empty()
        && eval.round_robin == live.round_robin
    {
        // Nothing fired (the common case for an inbound message): nothing to write, so
        // none of the reads below.
        return Ok(Done::default());
    }
    let mut done = Done {
        fired: eval.fired.len(),
        actions: eval.actions.len(),
        ..Done::default()
    };
    let mut conv = tx.conversation(conv.id)?.unwrap_or_else(|| conv.clone());
    let mut row = tx
        .conversation_automation(conv.id)?
        .unwrap_or(ConversationAutomation {
            conversation_id: conv.id,
            ..ConversationAutomation::default()
        });
    let mut row_changed = false;
    let mut not_done: Vec<Value> = Vec::new();
    let groups = tx.groups()?;
    for step in &eval.actions {
        let source = json!({ "source": step.source, "name": step.source_name });
        match &step.action {
            Planned::AddLabel { label } | Planned::RemoveLabel { label } => {
                let adding = matches!(step.action, Planned::AddLabel { .. });
                let label = label.trim();
                // Under the team's spelling; a new label must fit the team's limit.
                let team_label = if adding {
                    match crate::labels::ensure(tx, label, None, now)? {
                        Ok(row) => Some(row.name),
                        Err(e) => {
                            not_done.push(json!({
                                "source": step.source,
                                "action": format!("add label {label}"),
                                "why": e.body["message"],
                            }));
                            continue;
                        }
                    }
                } else {
                    tx.team_label(&crate::labels::key(label))?
                        .map(|row| row.name)
                };
                let label = team_label.as_deref().unwrap_or(label);
                let changed = if adding {
                    tx.add_label(conv.id, label, now)?
                } else {
                    tx.remove_label(conv.id, label)?
                };
                if changed {
                    let labels = tx.labels_of(conv.id)?;
                    let mut payload = json!({
                        "conversation_id": conv.id,
                        "labels": labels,
                        "by": null,
                        "automation": source,
                    });
                    payload[if adding { "added" } else { "removed" }] = json!(label);
                    tx.append_event(NewEvent {
                        kind: command_kind::LABELS_CHANGED,
                        conversation_id: Some(conv.id),
                        audience: Audience::Conversation,
                        also_member: None,
                        payload,
                        created_at: now,
                    })?;
                }
            }
            Planned::Assign { team, member } => {
                let group = team.as_deref().and_then(|t| resolve_group(&groups, t));
                let assignee = member.as_deref().and_then(|m| m.parse::<Uuid>().ok());
                let previous = conv.assignee;
                let previous_team = conv.team_id;
                if let Some(g) = &group {
                    conv.team_id = Some(g.id);
                }
                if assignee.is_some() {
                    conv.assignee = assignee;
                }
                if conv.assignee == previous && conv.team_id == previous_team {
                    continue;
                }
                tx.update_conversation(&conv)?;
                tx.append_event(NewEvent {
                    kind: kind::CONVERSATION_ASSIGNED,
                    conversation_id: Some(conv.id),
                    audience: Audience::Conversation,
                    also_member: previous.filter(|p| Some(*p) != conv.assignee),
                    payload: json!({
                        "conversation_id": conv.id,
                        "assignee": conv.assignee,
                        "previous_assignee": previous,
                        "team_id": conv.team_id,
                        "team": team,
                        "by": null,
                        "reason": format!("Automation: {}", step.source_name),
                        "backfill": conv.assignee.is_some(),
                        "automation": source,
                    }),
                    created_at: now,
                })?;
            }
            Planned::SetPriority { priority } => {
                let p = serde_json::to_value(priority)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned));
                if row.priority != p {
                    row.priority = p;
                    row_changed = true;
                    tx.append_event(NewEvent {
                        kind: automation_kind::CONVERSATION_PRIORITY,
                        conversation_id: Some(conv.id),
                        audience: Audience::Conversation,
                        also_member: None,
                        payload: json!({
                            "conversation_id": conv.id,
                            "priority": priority,
                            "automation": source,
                        }),
                        created_at: now,
                    })?;
                }
            }
            Planned::SendAutoReply { key, text } => {
                if conv.window_expires_at.is_none_or(|w| w <= now) {
                    not_done.push(json!({
                        "source": step.source,
                        "action": format!("auto-reply {key}"),
                        "why": "the 24-hour customer-service window is closed",
                    }));
                    continue;
                }
                match queue_auto_reply(tx, &mut conv, key, text, &source, now)? {
                    Ok(()) => {
                        tx.record_auto_reply(&conv.customer_wa_id, key, now)?;
                        done.queued = true;
                    }
                    Err(why) => not_done.push(json!({
                        "source": step.source,
                        "action": format!("auto-reply {key}"),
                        "why": why,
                    })),
                }
            }
            Planned::Notify { members, text } => {
                for m in members.iter().filter_map(|m| m.parse::<Uuid>().ok()) {
                    tx.append_event(NewEvent {
                        kind: automation_kind::NOTIFY,
                        conversation_id: Some(conv.id),
                        audience: Audience::Member,
                        also_member: Some(m),
                        payload: json!({
                            "conversation_id": conv.id,
                            "member_id": m,
                            "customer_name": conv.name,
                            "text": text,
                            "source": step.source,
                            "source_name": step.source_name,
                            "reason": step.reason,
                        }),
                        created_at: now,
                    })?;
                }
            }
            Planned::SetSla { target } => {
                // Announced by `announce_sla` once the whole plan is carried out.
                row.sla = Some(json!(target));
                row_changed = true;
            }
        }
    }
    if row_changed {
        tx.put_conversation_automation(&row)?;
    }
    if eval.round_robin != live.round_robin {
        tx.put_setting(ROUND_ROBIN_KEY, &json!(eval.round_robin))?;
    }
    if !eval.fired.is_empty() || !eval.actions.is_empty() || !eval.skipped.is_empty() {
        let fired: Vec<Value> = eval
            .fired
            .iter()
            .map(|f| json!({"rule_id": f.rule_id, "rule_name": f.rule_name, "reason": f.reason}))
            .collect();
        let mut skipped = json!(eval.skipped);
        if let Some(list) = skipped.as_array_mut() {
            list.extend(not_done);
        }
        tx.append_event(NewEvent {
            kind: automation_kind::APPLIED,
            conversation_id: Some(conv.id),
            audience: Audience::Conversation,
            also_member: None,
            payload: json!({
                "conversation_id": conv.id,
                "trigger": ctx.event,
                "fired": fired,
                "actions": eval.actions,
                "skipped": skipped,
                "automated_inbound": eval.automated_inbound,
            }),
            created_at: now,
        })?;
    }
    Ok(done)
}

/// Queues an auto-reply as a text message through the send queue (the path of
/// `send_text`, with no member as sender): the send worker makes the Graph call.
fn queue_auto_reply(
    tx: &mut dyn WriteTx,
    conv: &mut ConversationRow,
    key: &str,
    text: &str,
    source: &Value,
    now: Timestamp,
) -> StorageResult<Result<(), String>> {
    let message_id = Uuid::now_v7();
    let msg = OutgoingMessage::new(
        conv.customer_wa_id.clone(),
        OutgoingContent::Text {
            text: TextBody {
                preview_url: None,
                body: text.to_owned(),
            },
        },
    )
    .with_callback_data(crate::outbound::callback_data(message_id));
    if let Err(why) = msg.validate() {
        return Ok(Err(why));
    }
    let row =
        crate::commands::queue_message(tx, conv, message_id, &msg, None, Uuid::now_v7(), now)?;
    tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_QUEUED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "message": row,
            "takeover": null,
            "automation": { "key": key, "source": source["source"], "name": source["name"] },
        }),
        created_at: now,
    })?;
    Ok(Ok(()))
}

/// Runs one job: facts, evaluation, plan, and the job's deletion, in one transaction.
///
/// `live` carries the [`LiveState`] from one job of a batch to the next (see
/// [`evaluate_and_carry_out`]); `&mut None` computes it afresh.
pub fn run_job(
    tx: &mut dyn WriteTx,
    engine: &Engine,
    job: &AutomationJob,
    now: Timestamp,
    streaming: &HashSet<Uuid>,
    live: &mut Option<LiveState>,
) -> StorageResult<Done> {
    tx.delete_automation_job(job.id)?;
    if !engine.doc.enabled {
        return Ok(Done::default());
    }
    let Some(conv) = tx.conversation(job.conversation_id)? else {
        return Ok(Done::default());
    };
    let (event, message) = match job.kind.as_str() {
        job_kind::MESSAGE_RECEIVED => {
            let m = match job.message_id {
                Some(id) => tx.message(id)?,
                None => None,
            };
            let Some(m) = m else {
                return Ok(Done::default());
            };
            (
                Event::MessageReceived,
                Some(InboundMessage {
                    text: message_text(&m.body),
                    automated: false,
                }),
            )
        }
        job_kind::CONVERSATION_OPENED => (Event::ConversationOpened, None),
        job_kind::LABEL_ADDED => (
            Event::LabelAdded {
                label: job.label.clone().unwrap_or_default(),
            },
            None,
        ),
        other => {
            tracing::warn!(kind = other, "unknown automation job dropped");
            return Ok(Done::default());
        }
    };
    let done = evaluate_and_carry_out(tx, engine, &conv, event, message, now, streaming, live)?;
    announce_sla(tx, engine, conv.id, now)?;
    Ok(done)
}

/// Evaluates the rules for one event and carries the plan out.
///
/// The team-wide [`LiveState`] (members, devices, loads, groups, round-robin cursor) costs
/// a scan of the open conversations, and every inbound message runs a job: within one batch
/// (same `now`, same `streaming`), a plan with no action and the same round-robin cursor
/// writes nothing that state is read from, so the next job reuses it instead of reading it
/// again. Any action (an assignment, a label, a notification...) drops it.
#[allow(clippy::too_many_arguments)]
fn evaluate_and_carry_out(
    tx: &mut dyn WriteTx,
    engine: &Engine,
    conv: &ConversationRow,
    event: Event,
    message: Option<InboundMessage>,
    now: Timestamp,
    streaming: &HashSet<Uuid>,
    cached: &mut Option<LiveState>,
) -> StorageResult<Done> {
    let ctx = context(tx, conv, event, message, now)?;
    let live = match cached.take() {
        Some(live) => live,
        None => live_state(tx, &engine.doc, now, streaming)?,
    };
    let eval = engine.rules.evaluate(&ctx, &live);
    let done = carry_out(tx, conv, &ctx, &live, &eval, now)?;
    if eval.actions.is_empty() && eval.round_robin == live.round_robin {
        *cached = Some(live);
    }
    Ok(done)
}

/// Queues a job (called inside the transaction that made the event).
pub fn enqueue(
    tx: &mut dyn WriteTx,
    kind: &str,
    conversation_id: Uuid,
    message_id: Option<Uuid>,
    label: Option<String>,
    now: Timestamp,
) -> StorageResult<()> {
    tx.insert_automation_job(&AutomationJob {
        id: 0,
        kind: kind.to_owned(),
        conversation_id,
        message_id,
        label,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Background tasks

/// The job worker: runs due jobs whenever woken (webhooks, commands) and at the next
/// retry time.
pub async fn worker(st: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    seed(&st).await;
    loop {
        let next = run_due(&st).await;
        let wait = next
            .map(|at| {
                let d = at.duration_since(st.clock.now());
                Duration::try_from(d).unwrap_or(Duration::ZERO)
            })
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        tokio::select! {
            _ = st.automation.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Runs every due job; returns when the next retry is due.
pub async fn run_due(st: &AppState) -> Option<Timestamp> {
    loop {
        let now = st.clock.now();
        let jobs = match st
            .storage
            .read(move |tx| tx.automation_jobs_due(now, BATCH))
            .await
        {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "automation: cannot read the job queue");
                return Some(now.checked_add(SignedDuration::from_secs(5)).unwrap_or(now));
            }
        };
        if jobs.is_empty() {
            return st
                .storage
                .read(|tx| tx.automation_next_job_at())
                .await
                .ok()
                .flatten();
        }
        let engine = match engine(st).await {
            Ok(e) => e,
            Err(e) => {
                st.automation.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "automation settings cannot be compiled; jobs wait");
                return Some(
                    now.checked_add(SignedDuration::from_secs(30))
                        .unwrap_or(now),
                );
            }
        };
        let streaming = Arc::new(st.automation.streaming());
        // A batch in one write job (one commit for a burst of webhooks); if any job of it
        // fails, the batch rolls back and each job runs alone so one bad job cannot hold
        // the others.
        let now = st.clock.now();
        let (e, batch, on) = (Arc::clone(&engine), jobs.clone(), Arc::clone(&streaming));
        let together = st
            .storage
            .write(move |tx| {
                let mut out = Vec::with_capacity(batch.len());
                let mut live = None;
                for job in &batch {
                    out.push(run_job(tx, &e, job, now, &on, &mut live)?);
                }
                Ok(out)
            })
            .await;
        match together {
            Ok(done) => {
                st.automation
                    .runs
                    .fetch_add(done.len() as u64, Ordering::Relaxed);
                if done.iter().any(|d| d.queued)
                    && let Some(services) = st.commands.get()
                {
                    services.outbound.wake();
                }
            }
            Err(_) => {
                for job in jobs {
                    run_one(st, &engine, job, &streaming).await;
                }
            }
        }
    }
}

async fn run_one(
    st: &AppState,
    engine: &Arc<Engine>,
    job: AutomationJob,
    streaming: &Arc<HashSet<Uuid>>,
) {
    let now = st.clock.now();
    let e = Arc::clone(engine);
    let j = job.clone();
    let on = Arc::clone(streaming);
    match st
        .storage
        .write(move |tx| run_job(tx, &e, &j, now, &on, &mut None))
        .await
    {
        Ok(done) => {
            st.automation.runs.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                conversation_id = %job.conversation_id,
                kind = %job.kind,
                fired = done.fired,
                actions = done.actions,
                "automation ran"
            );
            if done.queued
                && let Some(services) = st.commands.get()
            {
                services.outbound.wake();
            }
        }
        Err(err) => {
            st.automation.failures.fetch_add(1, Ordering::Relaxed);
            let error = err.to_string();
            tracing::warn!(
                conversation_id = %job.conversation_id,
                kind = %job.kind,
                attempt = job.attempts + 1,
                error = %error,
                "automation job failed"
            );
            let res = st
                .storage
                .write(move |tx| {
                    let mut job = job;
                    job.attempts += 1;
                    if job.attempts >= MAX_ATTEMPTS {
                        tx.delete_automation_job(job.id)?;
                        tx.append_event(NewEvent {
                            kind: automation_kind::FAILED,
                            conversation_id: Some(job.conversation_id),
                            audience: Audience::ManageTeam,
                            also_member: None,
                            payload: json!({
                                "job": job.kind,
                                "conversation_id": job.conversation_id,
                                "attempts": job.attempts,
                                "error": error,
                            }),
                            created_at: now,
                        })?;
                    } else {
                        let backoff = SignedDuration::from_secs(1 << job.attempts.min(6));
                        job.next_attempt_at = now.checked_add(backoff).unwrap_or(now);
                        job.last_error = Some(error);
                        tx.update_automation_job(&job)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = res {
                tracing::error!(error = %e, "automation: cannot record a failed job");
            }
        }
    }
}

/// The timer task: a pass now, then every [`TIMER_INTERVAL`] or when woken.
pub async fn timers(st: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = timer_pass(&st).await {
            tracing::warn!(error = %e, "automation timer pass failed");
        }
        st.automation.timer_passes.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = st.automation.timers.notified() => {}
            _ = tokio::time::sleep(TIMER_INTERVAL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One timer pass over open conversations: `no_reply` rules (each threshold fires once,
/// when crossed), SLA breaches (each breach once), and automatic labels that change with
/// time ("Needs follow-up", "New customer" expiring). One transaction per conversation.
pub async fn timer_pass(st: &AppState) -> Result<(), String> {
    let engine = engine(st).await?;
    if !engine.doc.enabled {
        return Ok(());
    }
    let ids = st
        .storage
        .read(|tx| tx.open_conversation_ids())
        .await
        .map_err(|e| e.to_string())?;
    let streaming = Arc::new(st.automation.streaming());
    for id in ids {
        let now = st.clock.now();
        let e = Arc::clone(&engine);
        let on = Arc::clone(&streaming);
        let done = st
            .storage
            .write(move |tx| tick_conversation(tx, &e, id, now, &on))
            .await
            .map_err(|e| e.to_string())?;
        if done.queued
            && let Some(services) = st.commands.get()
        {
            services.outbound.wake();
        }
    }
    Ok(())
}

fn tick_conversation(
    tx: &mut dyn WriteTx,
    engine: &Engine,
    id: Uuid,
    now: Timestamp,
    streaming: &HashSet<Uuid>,
) -> StorageResult<Done> {
    let Some(conv) = tx.conversation(id)? else {
        return Ok(Done::default());
    };
    if conv.status != "open" {
        return Ok(Done::default());
    }
    let before = tx.conversation_automation(id)?;
    let previous_tick = before.as_ref().and_then(|r| r.last_tick);
    let mut total = engine_tick(
        tx,
        engine,
        &conv,
        Event::NoReplyTick { previous_tick },
        now,
        streaming,
    )?;
    // The evaluation may have written the row (priority, SLA): start from what is stored.
    let stored = tx.conversation_automation(id)?;
    let mut row = stored.clone().unwrap_or(ConversationAutomation {
        conversation_id: id,
        ..ConversationAutomation::default()
    });
    // The no-reply cursor matters only while the customer waits and a rule watches it;
    // otherwise a quiet inbox stays unwritten.
    if engine.has_no_reply_rules && tx.timeline(id)?.unanswered_since.is_some() {
        row.last_tick = Some(now);
    }
    let labels = tx.labels_of(id)?;
    let target = sla_target(&engine.doc, &labels, &row);
    if !target.is_empty()
        && let Some(facts) = sla_facts(tx, &conv)?
        && let SlaState::Breached { kind, due_at } = sla_state(&facts, &target, now)
        && row.sla_fired_due != Some(due_at)
    {
        row.sla_fired_due = Some(due_at);
        tx.put_conversation_automation(&row)?;
        let d = engine_tick(tx, engine, &conv, Event::SlaDue { kind }, now, streaming)?;
        total.queued |= d.queued;
        total.fired += d.fired;
        total.actions += d.actions;
        // Keep what that evaluation stored, with this pass's cursors.
        let mut latest = tx.conversation_automation(id)?.unwrap_or(row.clone());
        latest.last_tick = row.last_tick;
        latest.sla_fired_due = row.sla_fired_due;
        row = latest;
    }
    if stored.as_ref() != Some(&row)
        && (stored.is_some()
            || row
                != ConversationAutomation {
                    conversation_id: id,
                    ..ConversationAutomation::default()
                })
    {
        tx.put_conversation_automation(&row)?;
    }
    // Last, after every write of `row`: the breach (or the clock of a new target) reaches
    // the devices' live timers.
    announce_sla(tx, engine, id, now)?;
    Ok(total)
}

fn engine_tick(
    tx: &mut dyn WriteTx,
    engine: &Engine,
    conv: &ConversationRow,
    event: Event,
    now: Timestamp,
    streaming: &HashSet<Uuid>,
) -> StorageResult<Done> {
    let conv = tx.conversation(conv.id)?.unwrap_or_else(|| conv.clone());
    evaluate_and_carry_out(tx, engine, &conv, event, None, now, streaming, &mut None)
}

// ---------------------------------------------------------------------------------------
// Routes

/// `GET|PUT /v1/automation`, `POST /v1/automation/dry-run`. A contact's attributes, which
/// rules read, are served by [`crate::contacts`] (`GET|PUT /v1/contacts/{wa_id}/attributes`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/automation", get(get_automation).put(put_automation))
        .route("/v1/automation/dry-run", post(dry_run))
}

fn teams_view(tx: &dyn ReadTx) -> StorageResult<Vec<Value>> {
    let members = tx.members()?;
    Ok(tx
        .groups()?
        .into_iter()
        .map(|g| {
            let ids: Vec<Uuid> = members
                .iter()
                .filter(|m| m.active && m.teams.contains(&g.id))
                .map(|m| m.id)
                .collect();
            json!({ "id": team_slug(&g.name), "group_id": g.id, "name": g.name, "members": ids })
        })
        .collect())
}

async fn get_automation(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ConfigureAutomation)?;
    let tz = st.settings.timezone.clone();
    let (doc, teams) = st
        .storage
        .read(move |tx| Ok((load_doc(tx, &tz)?, teams_view(tx)?)))
        .await?;
    let mut v = json!(doc);
    v["teams"] = json!(teams);
    Ok(Json(v))
}

#[derive(Deserialize)]
struct PutReq {
    settings: AutomationSettings,
    #[serde(default)]
    agents: BTreeMap<Uuid, AgentSettings>,
    /// The master switch; absent keeps the stored one.
    #[serde(default)]
    enabled: Option<bool>,
    /// The revision the editor started from; a newer stored one is a conflict.
    #[serde(default)]
    revision: Option<u64>,
}

/// What the audit entry keeps of the settings: shape and switches, never texts a customer
/// would receive (auto-replies, FAQ answers).
fn audit_summary(doc: &AutomationDoc) -> Value {
    let s = &doc.settings;
    json!({
        "enabled": doc.enabled,
        "revision": doc.revision,
        "rules": s.rules.iter().map(|r| json!({"id": r.id, "enabled": r.enabled, "order": r.order})).collect::<Vec<_>>(),
        "time_zone": s.business_hours.time_zone,
        "open_ranges": s.business_hours.ranges.len(),
        "holidays": s.business_hours.holidays.len(),
        "faq_enabled": s.faq.enabled,
        "faq_entries": s.faq.entries.len(),
        "sla_labels": s.sla.by_label.keys().collect::<Vec<_>>(),
        "agents": doc.agents.len(),
    })
}

enum PutError {
    Conflict(u64),
}

async fn put_automation(
    State(st): St,
    Extension(p): Extension<Principal>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ConfigureAutomation)?;
    let req: PutReq = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("The automation settings are not valid: {e}"))
    })?;
    let rules = CompiledRules::compile(&req.settings).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_automation",
            format!("The automation settings cannot be used: {e}"),
        )
    })?;
    let now = st.clock.now();
    let ctx = Ctx {
        actor_member_id: (!p.member.id.is_nil()).then_some(p.member.id),
        device_id: Some(p.device.id),
        address: Some(peer.ip().to_string()),
        now,
    };
    let tz = st.settings.timezone.clone();
    let member = ctx.actor_member_id;
    let out = st
        .storage
        .write(
            move |tx| -> StorageResult<Result<AutomationDoc, PutError>> {
                // A stored document this binary cannot read is replaced, not a dead end.
                let before = load_doc(tx, &tz).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "stored automation settings unreadable; replacing");
                    AutomationDoc::default_for(&tz)
                });
                if let Some(r) = req.revision
                    && r != before.revision
                {
                    return Ok(Err(PutError::Conflict(before.revision)));
                }
                let after = AutomationDoc {
                    enabled: req.enabled.unwrap_or(before.enabled),
                    settings: req.settings,
                    agents: req.agents,
                    revision: before.revision + 1,
                    updated_at: Some(now),
                    updated_by: member,
                };
                tx.put_setting(SETTING_KEY, &json!(after))?;
                audit::record(
                    tx,
                    &ctx,
                    automation_kind::AUDIT_UPDATED,
                    json!({ "settings": "automation" }),
                    audit_summary(&before),
                    audit_summary(&after),
                )?;
                tx.append_event(NewEvent {
                    kind: automation_kind::SETTINGS_CHANGED,
                    conversation_id: None,
                    audience: Audience::Everyone,
                    also_member: None,
                    payload: json!({ "revision": after.revision, "updated_by": member }),
                    created_at: now,
                })?;
                Ok(Ok(after))
            },
        )
        .await?;
    let doc = match out {
        Ok(doc) => doc,
        Err(PutError::Conflict(current)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "revision_conflict",
                format!(
                    "Someone saved the automation settings meanwhile (revision {current}); reload them and apply your change again."
                ),
            ));
        }
    };
    tracing::info!(
        revision = doc.revision,
        rules = doc.settings.rules.len(),
        "automation settings updated"
    );
    st.automation.set(Arc::new(Engine::new(doc.clone(), rules)));
    // Jobs that waited for valid settings run now.
    st.automation.wake();
    let teams = st.storage.read(|tx| teams_view(tx)).await?;
    let mut v = json!(doc);
    v["teams"] = json!(teams);
    Ok(Json(v))
}

/// The dry run: a message and a customer in, the plan out. Nothing is written.
#[derive(Deserialize)]
struct DryRunReq {
    /// The pasted message.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    automated: bool,
    /// Default: `message_received`.
    #[serde(default)]
    event: Option<Event>,
    #[serde(default)]
    contact: Option<ContactFacts>,
    #[serde(default)]
    conversation: Option<ConversationFacts>,
    /// Default: the relay's clock.
    #[serde(default)]
    now: Option<Timestamp>,
    /// Unsaved settings to try; default: the saved ones.
    #[serde(default)]
    settings: Option<AutomationSettings>,
    /// Default: the team as it is now (groups, presence, loads).
    #[serde(default)]
    live: Option<LiveState>,
}

async fn dry_run(
    State(st): St,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ConfigureAutomation)?;
    let req: DryRunReq = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The dry run request is not valid: {e}")))?;
    let now = req.now.unwrap_or_else(|| st.clock.now());
    let tz = st.settings.timezone.clone();
    let streaming = st.automation.streaming();
    let (doc, live) = st
        .storage
        .read(move |tx| {
            let doc = load_doc(tx, &tz)?;
            let live = live_state(tx, &doc, now, &streaming)?;
            Ok((doc, live))
        })
        .await?;
    let settings = req.settings.unwrap_or(doc.settings);
    let live = req.live.unwrap_or(live);
    let event = req.event.unwrap_or(Event::MessageReceived);
    let message = req.message.map(|text| InboundMessage {
        text,
        automated: req.automated,
    });
    let mut contact = req.contact.unwrap_or_default();
    if contact.id.is_empty() {
        contact.id = "dry-run".into();
    }
    if contact.interactions == 0 && message.is_some() {
        contact.interactions = 1;
    }
    let mut conversation = req.conversation.unwrap_or_default();
    if conversation.id.is_empty() {
        conversation.id = "dry-run".into();
    }
    let ctx = Context {
        now,
        event,
        message,
        conversation,
        contact,
    };
    let eval = teamline_core::automation::dry_run(&settings, &ctx, &live).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_automation",
            format!("The automation settings cannot be used: {e}"),
        )
    })?;
    Ok(Json(
        json!({ "evaluation": eval, "context": ctx, "live": live }),
    ))
}

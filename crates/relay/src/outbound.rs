//! The send worker: drains the persistent send queue into the Graph API.
//!
//! Exactly once per command id, also across restarts:
//! - Each item is committed as `sending` immediately before its one Graph call, and every
//!   request carries `biz_opaque_callback_data = "tl:<message id>"`, which Meta echoes in
//!   that message's status webhooks.
//! - An answer from Meta that is an error (an error body, an HTTP error status) or a
//!   connection that never opened proves the message was NOT accepted: only then is it
//!   sent again (backoff with jitter; 131056 backs off this recipient, and the queue keeps
//!   later messages to the same customer behind it, so order is kept).
//! - Any other failure (timeout, connection cut after the request went out, unreadable
//!   success body) and any item found `sending` at start-up is `unconfirmed`: it is never
//!   resent. A status webhook carrying its callback data (already recorded, or arriving
//!   later: Meta retries webhooks for days) attaches the wamid and completes it. If none
//!   arrives within the reconciliation window it becomes a visible failed message saying
//!   the outcome is unknown, so a person checks before anything goes out twice.
//! - A global pace (token spacing) keeps sends under the number's throughput limit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use teamline_whatsapp::error::{ErrorClass, GraphError, TransportKind};
use teamline_whatsapp::graph::GraphClient;
use teamline_whatsapp::outgoing::OutgoingMessage;
use teamline_whatsapp::webhook::{Status, StatusKind};
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use crate::clock::Clock;
use crate::commands::command_kind;
use crate::ingest::apply_recorded_statuses;
use crate::storage::work::{SendItem, send_state};
use crate::storage::{Audience, MessageRow, NewEvent, Storage, StorageResult, WriteTx};

/// Plain words for a closed customer-service window.
pub const WINDOW_CLOSED_TEXT: &str = "The 24-hour window is closed; send an approved template";
const UNCONFIRMED_TEXT: &str = "WhatsApp's answer to this message was lost, so Teamline cannot tell whether it was sent. Check the chat on the phone before sending it again.";
const CALLBACK_PREFIX: &str = "tl:";

/// The `biz_opaque_callback_data` that ties Meta's status webhooks to our message.
pub fn callback_data(message_id: Uuid) -> String {
    format!("{CALLBACK_PREFIX}{message_id}")
}

fn parse_callback(data: &str) -> Option<Uuid> {
    data.strip_prefix(CALLBACK_PREFIX)
        .and_then(|s| Uuid::parse_str(s).ok())
}

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Global pace, messages per second (Meta's default throughput is 80/s).
    pub rate_per_sec: f64,
    pub max_in_flight: usize,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// First wait after 131056 (Meta: one message per 6 s to the same user); doubles.
    pub pair_backoff: Duration,
    /// How long an unconfirmed send waits for a status webhook before it is shown failed.
    pub reconcile_window: Duration,
    /// Retryable failures before the message is shown failed.
    pub max_attempts: u32,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            rate_per_sec: 60.0,
            max_in_flight: 8,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            pair_backoff: Duration::from_secs(6),
            reconcile_window: Duration::from_secs(600),
            max_attempts: 15,
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct OutboundMetrics {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub unconfirmed: AtomicU64,
    /// Failed Graph calls by Meta code (or `http_<status>`, `transport`, ...).
    pub errors: Mutex<BTreeMap<String, u64>>,
}

impl OutboundMetrics {
    fn error(&self, code: String) {
        *self
            .errors
            .lock()
            .expect("metrics lock")
            .entry(code)
            .or_default() += 1;
    }

    /// Prometheus text lines (queue depth is read by the caller from storage).
    pub fn render(&self, depth: u64) -> String {
        let mut out = String::new();
        out.push_str("# HELP teamline_send_queue_depth Outbound messages not yet accepted or failed.\n# TYPE teamline_send_queue_depth gauge\n");
        out.push_str(&format!("teamline_send_queue_depth {depth}\n"));
        out.push_str("# HELP teamline_send_errors_total Failed Graph API send attempts by error code.\n# TYPE teamline_send_errors_total counter\n");
        for (code, n) in self.errors.lock().expect("metrics lock").iter() {
            out.push_str(&format!(
                "teamline_send_errors_total{{code=\"{code}\"}} {n}\n"
            ));
        }
        out.push_str("# TYPE teamline_messages_sent_total counter\n");
        out.push_str(&format!(
            "teamline_messages_sent_total {}\n",
            self.sent.load(Ordering::Relaxed)
        ));
        out.push_str("# TYPE teamline_messages_failed_total counter\n");
        out.push_str(&format!(
            "teamline_messages_failed_total {}\n",
            self.failed.load(Ordering::Relaxed)
        ));
        out
    }
}

/// The send side shared by the command route (wakes it) and the worker.
pub struct Outbound {
    pub config: OutboundConfig,
    pub metrics: OutboundMetrics,
    wake: Notify,
}

impl Outbound {
    pub fn new(config: OutboundConfig) -> Arc<Self> {
        Arc::new(Outbound {
            config,
            metrics: OutboundMetrics::default(),
            wake: Notify::new(),
        })
    }

    /// Something was queued or finished: look at the queue again now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Spaces sends `1/rate` apart.
struct Pacer {
    gap: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            60.0
        };
        Pacer {
            gap: Duration::from_secs_f64(1.0 / rate),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.gap;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

fn jitter_fraction() -> f64 {
    // 0.5..1.0: "equal jitter", so retries of many items spread out but never hurry.
    let r = getrandom::u32().unwrap_or(u32::MAX / 2);
    0.5 + (r as f64 / u32::MAX as f64) * 0.5
}

fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    exp.min(max).mul_f64(jitter_fraction())
}

fn after(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(now)
}

/// Marks the item accepted by Meta under `wamid`: message row, `message.sent`, then any
/// statuses that arrived before the wamid was known. Returns events appended.
pub fn finalize_sent(
    tx: &mut dyn WriteTx,
    mut item: SendItem,
    wamid: &str,
    now: Timestamp,
) -> StorageResult<u32> {
    item.state = send_state::DONE.into();
    item.wamid = Some(wamid.to_owned());
    item.updated_at = now;
    tx.update_send_item(&item)?;
    let Some(mut message) = tx.message(item.message_id)? else {
        return Ok(0);
    };
    message.wamid = Some(wamid.to_owned());
    message.status = Some("accepted".into());
    tx.update_message_delivery(&message)?;
    tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_SENT,
        conversation_id: Some(message.conversation_id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "wamid": wamid,
        }),
        created_at: now,
    })?;
    Ok(1 + apply_recorded_statuses(tx, &mut message, now)?)
}

/// Marks the item failed for good: row, `message.failed`.
pub fn fail_item(
    tx: &mut dyn WriteTx,
    mut item: SendItem,
    error: Value,
    now: Timestamp,
) -> StorageResult<()> {
    item.state = send_state::DONE.into();
    item.last_error = Some(error.clone());
    item.updated_at = now;
    tx.update_send_item(&item)?;
    if let Some(mut message) = tx.message(item.message_id)? {
        message.status = Some(StatusKind::Failed.as_str().into());
        message.status_rank = StatusKind::Failed.rank();
        message.error = Some(error.clone());
        tx.update_message_delivery(&message)?;
        failed_event(tx, &message, &error, now)?;
    }
    Ok(())
}

fn failed_event(
    tx: &mut dyn WriteTx,
    message: &MessageRow,
    error: &Value,
    now: Timestamp,
) -> StorageResult<u64> {
    tx.append_event(NewEvent {
        kind: command_kind::MESSAGE_FAILED,
        conversation_id: Some(message.conversation_id),
        audience: Audience::Conversation,
        also_member: message.sent_by,
        payload: json!({
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "code": error["code"],
            "title": error["title"],
            "details": error["details"],
            "needs_template": error["needs_template"].as_bool().unwrap_or(false),
        }),
        created_at: now,
    })
}

fn error_json(code: Value, title: &str, details: String, needs_template: bool) -> Value {
    json!({ "code": code, "title": title, "details": details, "needs_template": needs_template })
}

/// Hook for webhook ingest: a status for a wamid no message carries yet. If it carries
/// our callback data, the send it belongs to was accepted (even if we never saw the
/// answer): attach the wamid instead of ever sending again. Returns events appended.
pub fn reconcile_from_status(
    tx: &mut dyn WriteTx,
    status: &Status,
    now: Timestamp,
) -> StorageResult<u32> {
    let Some(message_id) = status
        .biz_opaque_callback_data
        .as_deref()
        .and_then(parse_callback)
    else {
        return Ok(0);
    };
    match tx.send_item(message_id)? {
        Some(item) if item.state != send_state::DONE => {
            tracing::info!(%message_id, "send reconciled from a status webhook");
            finalize_sent(tx, item, &status.id, now)
        }
        _ => Ok(0),
    }
}

/// Hook for webhook ingest: after a message moved to `failed`, tell the team why in plain
/// words, flagging a closed 24-hour window (131047) as needing a template.
pub fn failed_status_event(
    tx: &mut dyn WriteTx,
    message: &MessageRow,
    status: &Status,
    now: Timestamp,
) -> StorageResult<u32> {
    if status.status != StatusKind::Failed || message.direction != crate::storage::DIRECTION_OUT {
        return Ok(0);
    }
    let first = status.errors.first();
    let needs_template = status.error_class() == Some(ErrorClass::WindowClosed);
    let details = if needs_template {
        WINDOW_CLOSED_TEXT.to_owned()
    } else {
        first
            .map(|e| e.describe())
            .unwrap_or_else(|| "WhatsApp reported the message as failed.".into())
    };
    let error = error_json(
        first.map_or(Value::Null, |e| json!(e.code)),
        first
            .and_then(|e| e.title.as_deref())
            .unwrap_or("Message failed"),
        details,
        needs_template,
    );
    failed_event(tx, message, &error, now)?;
    Ok(1)
}

/// What to do with an item after its Graph call.
enum Next {
    Sent(String),
    Retry { at: Timestamp, error: Value },
    Unconfirmed(Value),
    Fail(Value),
}

fn classify(
    config: &OutboundConfig,
    item: &SendItem,
    result: Result<String, GraphError>,
    now: Timestamp,
) -> Next {
    let e = match result {
        Ok(wamid) => return Next::Sent(wamid),
        Err(e) => e,
    };
    let code = e.code().map_or(Value::Null, |c| json!(c));
    let title = e
        .api()
        .map(|a| {
            teamline_whatsapp::error::title(a.code)
                .map(str::to_owned)
                .unwrap_or_else(|| a.message.clone())
        })
        .unwrap_or_else(|| "Could not send".into());
    let details = e
        .api()
        .map(|a| a.describe())
        .unwrap_or_else(|| e.to_string());
    // Did Meta certainly NOT accept it? An answer with an error status, or no connection.
    let refused = match &e {
        GraphError::Api(_) | GraphError::Http { .. } | GraphError::Config(_) => true,
        GraphError::Transport { kind, .. } => *kind == TransportKind::Connect,
        GraphError::UnexpectedResponse { .. } => false,
    };
    if !refused {
        return Next::Unconfirmed(error_json(code, "Outcome unknown", e.to_string(), false));
    }
    let class = e.class();
    let err = error_json(code.clone(), &title, details.clone(), false);
    match class {
        ErrorClass::RetryLater | ErrorClass::PairRate if item.attempts < config.max_attempts => {
            let wait = if class == ErrorClass::PairRate {
                backoff(
                    config.pair_backoff,
                    config.backoff_max.max(config.pair_backoff),
                    item.attempts,
                )
            } else {
                backoff(config.backoff_base, config.backoff_max, item.attempts)
            };
            Next::Retry {
                at: after(now, wait),
                error: json!({ "class": class, "code": code, "title": title }),
            }
        }
        ErrorClass::WindowClosed => Next::Fail(error_json(
            code,
            &title,
            WINDOW_CLOSED_TEXT.to_owned(),
            true,
        )),
        _ => Next::Fail(err),
    }
}

fn metric_code(e: &GraphError) -> String {
    match e {
        GraphError::Api(a) => a.code.to_string(),
        GraphError::Http { status } => format!("http_{status}"),
        GraphError::Transport { kind, .. } => format!("transport_{kind:?}").to_lowercase(),
        GraphError::UnexpectedResponse { .. } => "unexpected_response".into(),
        GraphError::Config(_) => "config".into(),
    }
}

/// The worker. Runs until the task is dropped.
pub struct SendWorker {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub graph: GraphClient,
    pub outbound: Arc<Outbound>,
}

impl SendWorker {
    /// Start-up recovery: an item left `sending` may have reached Meta; it is never sent
    /// again blindly but waits for its status webhook (or a recorded one).
    pub async fn recover(&self) -> StorageResult<usize> {
        let now = self.clock.now();
        let window = self.outbound.config.reconcile_window;
        let n = self
            .storage
            .write(move |tx| {
                let stuck = tx.send_in_state(send_state::SENDING)?;
                let n = stuck.len();
                for mut item in stuck {
                    item.state = send_state::UNCONFIRMED.into();
                    item.next_attempt_at = after(now, window);
                    item.updated_at = now;
                    tx.update_send_item(&item)?;
                }
                Ok(n)
            })
            .await?;
        if n > 0 {
            tracing::warn!(
                items = n,
                "sends interrupted by a restart are waiting for Meta's status webhooks"
            );
        }
        Ok(n)
    }

    /// Completes unconfirmed items from recorded statuses; fails those past the deadline.
    /// Returns how many are still waiting.
    async fn settle_unconfirmed(&self) -> StorageResult<usize> {
        let now = self.clock.now();
        let waiting = self
            .storage
            .read(|tx| tx.send_in_state(send_state::UNCONFIRMED))
            .await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let (failed, left) = self
            .storage
            .write(move |tx| {
                let mut failed = 0u64;
                let mut left = 0usize;
                for item in tx.send_in_state(send_state::UNCONFIRMED)? {
                    if let Some(wamid) = tx.wamid_by_callback(&callback_data(item.message_id))? {
                        finalize_sent(tx, item, &wamid, now)?;
                    } else if item.next_attempt_at <= now {
                        let error = error_json(
                            json!("send_unconfirmed"),
                            "Sending could not be confirmed",
                            UNCONFIRMED_TEXT.to_owned(),
                            false,
                        );
                        fail_item(tx, item, error, now)?;
                        failed += 1;
                    } else {
                        left += 1;
                    }
                }
                Ok((failed, left))
            })
            .await?;
        self.outbound
            .metrics
            .failed
            .fetch_add(failed, Ordering::Relaxed);
        Ok(left)
    }

    pub async fn run(self: Arc<Self>) {
        if let Err(e) = self.recover().await {
            tracing::error!(error = %e, "send queue recovery failed");
        }
        let pacer = Arc::new(Pacer::new(self.outbound.config.rate_per_sec));
        let slots = Arc::new(Semaphore::new(self.outbound.config.max_in_flight.max(1)));
        // Status webhooks can complete an unconfirmed send (and unblock the messages
        // queued behind it): while any wait, every commit is a reason to look again.
        let mut head = self.storage.head();
        loop {
            let unconfirmed = match self.settle_unconfirmed().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "send queue: settling unconfirmed sends failed");
                    0
                }
            };
            let now = self.clock.now();
            let due = match self.storage.read(move |tx| tx.send_due(now, 64)).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "send queue read failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let had_work = !due.is_empty();
            for item in due {
                let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                pacer.wait().await;
                let Some(item) = self.claim(item).await else {
                    continue;
                };
                let me = Arc::clone(&self);
                tokio::spawn(async move {
                    me.send_one(item).await;
                    drop(permit);
                    me.outbound.wake();
                });
            }
            if had_work {
                continue;
            }
            let wake_at = self
                .storage
                .read(|tx| tx.send_next_wake())
                .await
                .ok()
                .flatten();
            let wait = wake_at
                .map(|t| {
                    let ms = t.as_millisecond() - self.clock.now().as_millisecond();
                    Duration::from_millis(ms.clamp(0, 30_000) as u64)
                })
                .unwrap_or(Duration::from_secs(30));
            head.borrow_and_update();
            tokio::select! {
                _ = self.outbound.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                changed = head.changed(), if unconfirmed > 0 => {
                    if changed.is_err() {
                        return;
                    }
                    // Let a burst of commits settle before looking.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Commits `sending` (with the attempt counted) right before the call.
    async fn claim(&self, item: SendItem) -> Option<SendItem> {
        let now = self.clock.now();
        let id = item.message_id;
        self.storage
            .write(move |tx| {
                let Some(mut item) = tx.send_item(id)? else {
                    return Ok(None);
                };
                if item.state != send_state::QUEUED {
                    return Ok(None);
                }
                item.state = send_state::SENDING.into();
                item.attempts += 1;
                item.updated_at = now;
                tx.update_send_item(&item)?;
                Ok(Some(item))
            })
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "send queue claim failed");
                None
            })
    }

    async fn send_one(&self, item: SendItem) {
        let result = match serde_json::from_value::<OutgoingMessage>(item.request.clone()) {
            Ok(msg) => self.graph.send(&msg).await.and_then(|r| {
                r.message_id()
                    .map(str::to_owned)
                    .ok_or(GraphError::UnexpectedResponse {
                        status: 200,
                        reason: "no message id in the answer".into(),
                    })
            }),
            Err(e) => Err(GraphError::Config(format!(
                "stored request unreadable: {e}"
            ))),
        };
        let metrics = &self.outbound.metrics;
        match &result {
            Ok(_) => {}
            Err(e) => {
                metrics.error(metric_code(e));
                tracing::warn!(message_id = %item.message_id, code = ?e.code(), class = ?e.class(), attempt = item.attempts, "send attempt failed");
            }
        }
        let now = self.clock.now();
        let next = classify(&self.outbound.config, &item, result, now);
        let window = self.outbound.config.reconcile_window;
        let id = item.message_id;
        let outcome = self
            .storage
            .write(move |tx| {
                let Some(mut current) = tx.send_item(id)? else {
                    return Ok("gone");
                };
                if current.state != send_state::SENDING {
                    // A status webhook completed it while the call was in flight.
                    return Ok("settled");
                }
                current.updated_at = now;
                Ok(match next {
                    Next::Sent(wamid) => {
                        finalize_sent(tx, current, &wamid, now)?;
                        "sent"
                    }
                    Next::Retry { at, error } => {
                        current.state = send_state::QUEUED.into();
                        current.next_attempt_at = at;
                        current.last_error = Some(error);
                        tx.update_send_item(&current)?;
                        "retry"
                    }
                    Next::Unconfirmed(error) => {
                        if let Some(wamid) = tx.wamid_by_callback(&callback_data(id))? {
                            finalize_sent(tx, current, &wamid, now)?;
                            "sent"
                        } else {
                            current.state = send_state::UNCONFIRMED.into();
                            current.next_attempt_at = after(now, window);
                            current.last_error = Some(error);
                            tx.update_send_item(&current)?;
                            "unconfirmed"
                        }
                    }
                    Next::Fail(error) => {
                        fail_item(tx, current, error, now)?;
                        "failed"
                    }
                })
            })
            .await;
        match outcome {
            Ok("sent") => {
                metrics.sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok("failed") => {
                metrics.failed.fetch_add(1, Ordering::Relaxed);
            }
            Ok("unconfirmed") => {
                metrics.unconfirmed.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            // The item stays `sending`; the next start-up treats it as unconfirmed.
            Err(e) => tracing::error!(error = %e, "recording a send result failed"),
        }
    }
}

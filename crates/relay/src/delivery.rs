//! Event delivery to devices: long-poll (`GET /v1/events`) and Server-Sent Events
//! (`GET /v1/stream`). Both read the log after a cursor, filter each event through
//! [`crate::authz`], and wait on the storage's committed-head `watch` (no timer polling).
//!
//! The cursor a device gets back always moves past events it may not see, so a restricted
//! device never re-reads the same invisible run. A device whose token is revoked while a
//! stream is open gets a final `device_unlinked` event and the stream ends.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use teamline_core::access::ConversationAccess;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::{ApiError, AppState, Principal, St, load_principal};
use crate::authz;
use crate::metrics::ConnectedGuard;
use crate::storage::{Event, StorageError};

/// Longest a long-poll waits.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Events read from the log per step.
pub const BATCH: usize = 500;
/// SSE keep-alive comment interval.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What the device may see of `events`. The actor is re-evaluated at this instant (template
/// windows open and close without anybody acting), and the principal is reloaded FIRST when
/// the batch holds a change of devices, members, templates or sessions, so the new rights
/// already filter the rest of the batch. `None`: the device was unlinked (or its member
/// deactivated) meanwhile.
async fn visible(
    st: &AppState,
    p: &mut Principal,
    events: &[Arc<Event>],
) -> Result<Option<Vec<Arc<Event>>>, StorageError> {
    if events.iter().any(|e| authz::changes_principal(e)) {
        match refresh(st, p).await? {
            Some(fresh) => *p = fresh,
            None => return Ok(None),
        }
    }
    p.actor = p.actor_at(st.clock.now(), &st.settings.timezone);
    let mut ids: Vec<Uuid> = events
        .iter()
        .filter_map(|e| authz::needs_conversation(e))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let access: HashMap<Uuid, ConversationAccess> =
        if ids.is_empty() || authz::sees_every_conversation(&p.actor) {
            HashMap::new()
        } else {
            st.storage
                .read(move |tx| tx.conversation_access(&ids))
                .await?
                .into_iter()
                .map(|(id, assignee, team)| (id, ConversationAccess { assignee, team }))
                .collect()
        };
    let out = events
        .iter()
        .filter(|e| {
            let conv = authz::needs_conversation(e).map(|id| {
                access.get(&id).copied().unwrap_or(ConversationAccess {
                    assignee: None,
                    team: None,
                })
            });
            authz::can_see_event(&p.actor, e, conv.as_ref())
        })
        .cloned()
        .collect();
    Ok(Some(out))
}

/// Reloads the principal; `None` when the device was unlinked meanwhile.
async fn refresh(st: &AppState, p: &Principal) -> Result<Option<Principal>, StorageError> {
    Ok(load_principal(st, p.token_hash).await?.ok())
}

#[derive(Deserialize)]
pub struct PollQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

fn unlinked() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "device_unlinked",
        "This device was unlinked from the team.",
    )
}

/// `GET /v1/events?after=SEQ&wait=SECONDS`: `{events, next}` as soon as at least one
/// visible event follows the cursor, or when the wait ends (`events` empty, `next` still
/// advanced past what the device may not see).
pub async fn long_poll(
    State(st): St,
    Extension(mut p): Extension<Principal>,
    Query(q): Query<PollQuery>,
) -> Result<Response, ApiError> {
    let _connected = ConnectedGuard::new(Arc::clone(&st.metrics));
    let limit = q.limit.unwrap_or(BATCH).clamp(1, BATCH);
    let wait = Duration::from_secs(q.wait.unwrap_or(0)).min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut head = st.storage.head();
    let mut shutdown = st.shutdown.clone();
    let mut cursor = q.after;
    loop {
        head.borrow_and_update();
        let batch = st.storage.events_after(cursor, limit).await?;
        if let Some(last) = batch.last() {
            cursor = last.seq;
            let events = visible(&st, &mut p, &batch).await?.ok_or_else(unlinked)?;
            if !events.is_empty() {
                return Ok(events_body(&events, cursor));
            }
            continue;
        }
        if *shutdown.borrow() {
            return Ok(events_body(&[], cursor));
        }
        tokio::select! {
            changed = head.changed() => { if changed.is_err() { return Ok(events_body(&[], cursor)); } }
            _ = tokio::time::sleep_until(deadline) => return Ok(events_body(&[], cursor)),
            _ = shutdown.changed() => return Ok(events_body(&[], cursor)),
        }
    }
}

fn events_body(events: &[Arc<Event>], next: u64) -> Response {
    let mut body =
        String::with_capacity(64 + events.iter().map(|e| e.json.len() + 1).sum::<usize>());
    body.push_str("{\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&e.json);
    }
    body.push_str("],\"next\":");
    body.push_str(&next.to_string());
    body.push('}');
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    after: Option<u64>,
}

/// `GET /v1/stream?after=SEQ` (or `Last-Event-ID`, which wins: it is what the browser or
/// client last applied).
pub async fn stream(
    State(st): St,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = last_id.or(q.after).unwrap_or(0);
    // Refuse an expired cursor up front, as a plain 410, never a partial replay.
    st.storage.events_after(after, 1).await?;

    let (tx, rx) = mpsc::channel::<SseEvent>(256);
    let task_state = Arc::clone(&st);
    tokio::spawn(async move {
        let _connected = ConnectedGuard::new(Arc::clone(&task_state.metrics));
        // The member counts as online for assignment while the stream is open.
        let _online =
            (!p.member.id.is_nil()).then(|| task_state.automation.stream_opened(p.member.id));
        if let Err(e) = pump(task_state, p, after, tx).await {
            tracing::debug!(error = %e, "event stream ended with an error");
        }
    });
    let body = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Feeds one SSE client until it disconnects, is unlinked, or the relay shuts down.
async fn pump(
    st: Arc<AppState>,
    mut p: Principal,
    mut cursor: u64,
    tx: mpsc::Sender<SseEvent>,
) -> Result<(), StorageError> {
    let mut head = st.storage.head();
    let mut shutdown = st.shutdown.clone();
    let mut presence = st.presence.subscribe();
    loop {
        head.borrow_and_update();
        let batch = match st.storage.events_after(cursor, BATCH).await {
            Ok(b) => b,
            Err(StorageError::CursorExpired { .. }) => {
                let _ = tx
                    .send(
                        SseEvent::default()
                            .event("resync_required")
                            .data("{\"code\":\"resync_required\"}"),
                    )
                    .await;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if let Some(last) = batch.last() {
            cursor = last.seq;
            let Some(events) = visible(&st, &mut p, &batch).await? else {
                let _ = tx
                    .send(
                        SseEvent::default()
                            .event("device_unlinked")
                            .data("{\"code\":\"device_unlinked\"}"),
                    )
                    .await;
                return Ok(());
            };
            for e in events {
                let ev = SseEvent::default().id(e.seq.to_string()).data(&*e.json);
                if tx.send(ev).await.is_err() {
                    return Ok(());
                }
            }
            continue;
        }
        tokio::select! {
            changed = head.changed() => { if changed.is_err() { return Ok(()); } }
            _ = shutdown.wait_for(|s| *s) => return Ok(()),
            _ = tx.closed() => return Ok(()),
            notice = presence.recv() => {
                // Ephemeral: no `id:`, so it never moves the device's cursor.
                if let Ok(n) = notice
                    && n.visible_to(&p.actor)
                    && tx.try_send(SseEvent::default().data(n.json())).is_err()
                    && tx.is_closed()
                {
                    return Ok(());
                }
            }
        }
    }
}

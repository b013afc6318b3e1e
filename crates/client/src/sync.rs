//! The sync engine: one task per linked profile.
//!
//! Each session refreshes `/v1/me`, then follows the event log from the store's cursor:
//! SSE by default, long-poll after the stream broke repeatedly (a proxy that cuts or
//! buffers streams), SSE again later. Events are applied in batches, one store transaction
//! each, with the cursor saved in the same transaction. Between sessions it waits with
//! jittered exponential backoff and says so in the connection state. `410
//! resync_required` runs a full resync with progress; `401 device_unlinked` wipes.
//!
//! A device far behind the relay's head (a cold sync of a new device, or one back after
//! a long time offline) first catches up through pages of `GET /v1/events` fetched back to
//! back while the previous ones are applied ([`catch_up`]): an SSE stream carries one
//! network write and one frame per event, several times slower than 500-event pages. A
//! large catch-up also defers search-index maintenance to one rebuild at its end.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::api::{ApiError, RelayApi};
use crate::apply;
use crate::backoff::Backoff;
use crate::client::Inner;
use crate::error::ClientError;
use crate::sse;
use crate::types::{ClientEvent, ConnectionState, SyncProgress, Transport};
use crate::wire;

/// How a session ended.
enum End {
    Stop,
    Unlinked,
    Resync,
    /// Try the stream again now (long-poll period over).
    RetrySse,
    /// Something failed; `connect` when the relay could not be reached at all.
    Failed {
        error: String,
        connect: bool,
    },
}

impl From<ApiError> for End {
    fn from(e: ApiError) -> End {
        match e {
            ApiError::Unlinked => End::Unlinked,
            ApiError::ResyncRequired => End::Resync,
            ApiError::Connect(error) => End::Failed {
                error,
                connect: true,
            },
            other => End::Failed {
                error: other.to_string(),
                connect: false,
            },
        }
    }
}

impl From<ClientError> for End {
    fn from(e: ClientError) -> End {
        match e {
            ClientError::Unlinked => End::Stop,
            other => End::Failed {
                error: other.to_string(),
                connect: false,
            },
        }
    }
}

struct Sync {
    inner: Arc<Inner>,
    backoff: Backoff,
    /// Consecutive broken streams.
    sse_failures: u32,
    long_poll_until: Option<Instant>,
}

/// The sync task.
pub(crate) async fn run(inner: Arc<Inner>) {
    let t = inner.tuning().clone();
    let mut s = Sync {
        inner,
        backoff: Backoff::new(t.backoff_base, t.backoff_max),
        sse_failures: 0,
        long_poll_until: None,
    };
    let mut stop = s.inner.stop_rx();
    loop {
        if s.inner.stopped() {
            return;
        }
        let Some(api) = s.inner.api() else { return };
        let end = tokio::select! {
            end = s.session(&api) => end,
            _ = stop.wait_for(|v| *v) => End::Stop,
        };
        match end {
            End::Stop => return,
            End::Unlinked => {
                s.inner.wipe_unlinked().await;
                return;
            }
            End::RetrySse => continue,
            End::Resync => {
                let done = tokio::select! {
                    r = resync(&s.inner, &api) => r,
                    _ = stop.wait_for(|v| *v) => return,
                };
                match done {
                    Ok(()) => {
                        s.backoff.reset();
                        continue;
                    }
                    Err(End::Unlinked) => {
                        s.inner.wipe_unlinked().await;
                        return;
                    }
                    Err(End::Stop) => return,
                    Err(other) => s.wait(other).await,
                }
            }
            failed @ End::Failed { .. } => s.wait(failed).await,
        }
    }
}

impl Sync {
    /// Waits before the next attempt, showing `Reconnecting { n }` (or `Offline` once the
    /// relay has been unreachable a few times in a row). "Retry now" cuts the wait short.
    async fn wait(&mut self, end: End) {
        let (error, connect) = match end {
            End::Failed { error, connect } => (error, connect),
            _ => (String::new(), false),
        };
        let delay = self.backoff.next_delay();
        let attempts = self.backoff.attempts();
        tracing::info!(error = %error, attempts, retry_in_ms = delay.as_millis() as u64, "relay connection lost; retrying");
        let offline = connect && attempts >= self.inner.tuning().offline_after_failures;
        self.inner.set_state(if offline {
            ConnectionState::Offline
        } else {
            ConnectionState::Reconnecting {
                retry_in_secs: delay.as_secs_f64().ceil() as u32,
            }
        });
        let mut stop = self.inner.stop_rx();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = self.inner.reconnect_notify().notified() => {}
            _ = stop.wait_for(|v| *v) => {}
        }
    }

    async fn session(&mut self, api: &RelayApi) -> End {
        let head = match api.me().await {
            Ok(me) => {
                if let Err(e) = self.inner.remember_me(&me).await {
                    return e.into();
                }
                me.head_seq
            }
            Err(e) => return e.into(),
        };
        if let Err(end) = catch_up(&self.inner, api, head).await {
            return end;
        }
        self.backoff.reset();
        let use_long_poll = self.long_poll_until.is_some_and(|t| Instant::now() < t);
        if use_long_poll {
            self.long_poll(api).await
        } else {
            self.long_poll_until = None;
            self.stream(api).await
        }
    }

    fn stream_broke(&mut self) -> bool {
        self.sse_failures += 1;
        if self.sse_failures >= self.inner.tuning().sse_failures_before_long_poll {
            tracing::warn!(
                failures = self.sse_failures,
                "the event stream keeps breaking (a proxy?); falling back to long-poll"
            );
            self.sse_failures = 0;
            self.long_poll_until = Some(Instant::now() + self.inner.tuning().retry_sse_after);
            self.inner.set_transport(Transport::LongPoll);
            return true;
        }
        false
    }

    async fn stream(&mut self, api: &RelayApi) -> End {
        let cursor = match self.inner.with_store(|s| Ok(s.cursor()?)).await {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let resp = match api.open_stream(cursor).await {
            Ok(r) => r,
            Err(e @ (ApiError::Unlinked | ApiError::ResyncRequired | ApiError::Connect(_))) => {
                return e.into();
            }
            Err(e) => {
                // Opened a connection but got no stream: likely something in the way.
                if self.stream_broke() {
                    return self.long_poll(api).await;
                }
                return e.into();
            }
        };
        self.inner.set_transport(Transport::Sse);
        self.inner.set_state(ConnectionState::Connected);
        let opened = Instant::now();
        let (tx, mut rx) = mpsc::channel::<Item>(4096);
        let stall = self.inner.tuning().stall_timeout;
        let reader = tokio::spawn(read_stream(resp, tx, stall));
        let mut delivered = 0usize;
        let max_batch = self.inner.tuning().max_batch;
        let end = loop {
            let Some(first) = rx.recv().await else {
                break End::Failed {
                    error: "stream reader stopped".into(),
                    connect: false,
                };
            };
            let mut batch = Vec::new();
            let mut after = None;
            match first {
                Item::Event(e) => batch.push(e),
                Item::Control(c) => after = Some(c),
            }
            while after.is_none() && batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(Item::Event(e)) => batch.push(e),
                    Ok(Item::Control(c)) => after = Some(c),
                    Err(_) => break,
                }
            }
            if !batch.is_empty() {
                delivered += batch.len();
                if let Err(e) = self.inner.apply(batch).await {
                    tracing::error!(error = %e, "could not apply events");
                    break e.into();
                }
                self.backoff.reset();
                self.sse_failures = 0;
            }
            match after {
                None => {}
                Some(Control::Typing(t)) => self.inner.emit(ClientEvent::Typing(t)),
                Some(Control::Viewing(v)) => self.inner.emit(ClientEvent::Viewing(v)),
                Some(Control::Resync) => break End::Resync,
                Some(Control::Unlinked) => {
                    // Confirm with the relay before wiping anything.
                    match api.me().await {
                        Err(ApiError::Unlinked) => break End::Unlinked,
                        Err(e) => break e.into(),
                        Ok(_) => {
                            break End::Failed {
                                error: "stream said unlinked but the relay disagrees".into(),
                                connect: false,
                            };
                        }
                    }
                }
                Some(Control::End(error)) => {
                    let short = opened.elapsed() < self.inner.tuning().short_session;
                    if short && delivered == 0 && self.stream_broke() {
                        break End::RetrySse;
                    }
                    break End::Failed {
                        error: error.unwrap_or_else(|| "the relay closed the stream".into()),
                        connect: false,
                    };
                }
            }
        };
        reader.abort();
        end
    }

    async fn long_poll(&mut self, api: &RelayApi) -> End {
        self.inner.set_transport(Transport::LongPoll);
        let wait = self.inner.tuning().long_poll_wait_secs;
        loop {
            if self.long_poll_until.is_some_and(|t| Instant::now() >= t) {
                return End::RetrySse;
            }
            let cursor = match self.inner.with_store(|s| Ok(s.cursor()?)).await {
                Ok(c) => c,
                Err(e) => return e.into(),
            };
            let page = match api.events(cursor, wait).await {
                Ok(p) => p,
                Err(e) => return e.into(),
            };
            self.inner.set_state(ConnectionState::Connected);
            self.backoff.reset();
            let next = page.next;
            if !page.events.is_empty()
                && let Err(e) = self.inner.apply(page.events).await
            {
                return e.into();
            }
            // The relay's cursor also moves past events this device may not see.
            if next > cursor
                && let Err(e) = self
                    .inner
                    .with_store(move |s| {
                        if s.cursor()? < next {
                            s.set_cursor(next)?;
                        }
                        Ok(())
                    })
                    .await
            {
                return e.into();
            }
        }
    }
}

/// Behind by at least this many events, a session catches up through pages first.
const CATCH_UP_MIN_EVENTS: u64 = 2_000;
/// Behind by at least this many events, and by more than the store holds messages, the
/// catch-up defers search indexing (and the messages-by-conversation index and waiting
/// times, see `Store::defer_search_index`) to one rebuild at its end (the rebuild reads
/// every message, so it only pays when most of them are new).
const DEFER_INDEX_MIN_EVENTS: u64 = 10_000;
/// Events per page: the relay's cap (`teamline_relay::delivery::BATCH`); it clamps a
/// larger `limit` to it anyway.
const PAGE_EVENTS: usize = 500;
/// Most events applied in one store transaction during a catch-up (fewer, larger
/// transactions: fewer commits and fewer conversation reads per event).
const CATCH_UP_BATCH: usize = 10_000;
/// Pages fetched ahead of the applier (bounded memory: about 0.5 MB per page).
const PAGES_AHEAD: usize = 32;

/// Catches up from the store's cursor to `head` (the relay's head when the session
/// started) through pages of the event log: a task fetches page after page while the
/// previous ones are applied, in transactions of up to [`CATCH_UP_BATCH`] events. Does
/// nothing when the store is less than [`CATCH_UP_MIN_EVENTS`] behind; the stream or
/// long-poll then takes over from wherever this stopped.
async fn catch_up(inner: &Arc<Inner>, api: &RelayApi, head: u64) -> Result<(), End> {
    let cursor = inner.with_store(|s| Ok(s.cursor()?)).await?;
    let behind = head.saturating_sub(cursor);
    if behind < CATCH_UP_MIN_EVENTS {
        return Ok(());
    }
    let deferred = inner
        .with_store(move |s| {
            let defer = behind >= DEFER_INDEX_MIN_EVENTS && s.message_count()? < behind;
            if defer {
                s.defer_search_index(head)?;
            }
            Ok(defer)
        })
        .await?;
    tracing::info!(
        cursor,
        head,
        deferred_index = deferred,
        "catching up through event pages"
    );
    inner.set_state(ConnectionState::Connected);
    let (tx, mut rx) = mpsc::channel::<wire::EventsPage>(PAGES_AHEAD);
    let fetch_api = api.clone();
    let fetcher = tokio::spawn(async move {
        let mut after = cursor;
        while after < head {
            let page = fetch_api.events_page(after, PAGE_EVENTS).await?;
            if page.next <= after {
                // Nothing beyond `after` after all (the log moved under us): stop here.
                break;
            }
            after = page.next;
            if tx.send(page).await.is_err() {
                break;
            }
        }
        Ok::<(), ApiError>(())
    });
    let applied = apply_pages(inner, &mut rx).await;
    // The fetcher ends on its own once its pages are taken; it may still be waiting on
    // the relay if applying failed.
    fetcher.abort();
    let fetched = fetcher.await;
    applied?;
    match fetched {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(End::Failed {
            error: format!("event page fetcher failed: {e}"),
            connect: false,
        }),
    }
}

/// Applies the pages `rx` yields until it closes: each transaction takes every page
/// already fetched, up to [`CATCH_UP_BATCH`] events, then the cursor moves on to the last
/// page's `next` (past events this device may not see).
async fn apply_pages(
    inner: &Arc<Inner>,
    rx: &mut mpsc::Receiver<wire::EventsPage>,
) -> Result<(), End> {
    while let Some(first) = rx.recv().await {
        let mut next = first.next;
        let mut events = first.events;
        while events.len() < CATCH_UP_BATCH {
            match rx.try_recv() {
                Ok(page) => {
                    next = page.next;
                    events.extend(page.events);
                }
                Err(_) => break,
            }
        }
        let cursor = if events.is_empty() {
            inner.with_store(|s| Ok(s.cursor()?)).await?
        } else {
            inner.apply(events).await?.cursor
        };
        if next > cursor {
            inner
                .with_store(move |s| {
                    if s.cursor()? < next {
                        s.set_cursor(next)?;
                    }
                    Ok(())
                })
                .await?;
        }
    }
    Ok(())
}

/// What the stream reader hands to the applier.
enum Item {
    Event(wire::Event),
    Control(Control),
}

enum Control {
    Typing(wire::Presence),
    Viewing(wire::Presence),
    Resync,
    Unlinked,
    /// The stream ended (`None`: cleanly).
    End(Option<String>),
}

/// Reads the SSE body, parses frames and forwards them. Ends the stream when nothing at
/// all (not even a keep-alive) arrived for `stall`.
async fn read_stream(resp: reqwest::Response, tx: mpsc::Sender<Item>, stall: Duration) {
    let mut body = resp.bytes_stream();
    let mut parser = sse::Parser::default();
    loop {
        let chunk = match tokio::time::timeout(stall, body.next()).await {
            Err(_) => {
                let _ = tx
                    .send(Item::Control(Control::End(Some(
                        "the stream went silent".into(),
                    ))))
                    .await;
                return;
            }
            Ok(None) => {
                let _ = tx.send(Item::Control(Control::End(None))).await;
                return;
            }
            Ok(Some(Err(e))) => {
                let _ = tx
                    .send(Item::Control(Control::End(Some(
                        e.without_url().to_string(),
                    ))))
                    .await;
                return;
            }
            Ok(Some(Ok(c))) => c,
        };
        for frame in parser.push(&chunk) {
            let item = match frame.event.as_str() {
                "resync_required" => Item::Control(Control::Resync),
                "device_unlinked" => Item::Control(Control::Unlinked),
                _ if frame.id.is_some() => match serde_json::from_str::<wire::Event>(&frame.data) {
                    Ok(e) => Item::Event(e),
                    Err(err) => {
                        tracing::warn!(id = ?frame.id, error = %err, "unreadable event skipped");
                        continue;
                    }
                },
                _ => match serde_json::from_str::<wire::EphemeralEvent>(&frame.data) {
                    Ok(e) if e.kind == wire::kind::PRESENCE_TYPING => {
                        match serde_json::from_value(e.payload) {
                            Ok(t) => Item::Control(Control::Typing(t)),
                            Err(_) => continue,
                        }
                    }
                    Ok(e) if e.kind == wire::kind::PRESENCE_VIEWING => {
                        match serde_json::from_value(e.payload) {
                            Ok(v) => Item::Control(Control::Viewing(v)),
                            Err(_) => continue,
                        }
                    }
                    _ => continue,
                },
            };
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// Full resync after `410`: forget the replica (the outbox stays), list every visible
/// conversation, fetch each one's latest messages (progress: done/total conversations),
/// then continue from the relay's head as it was before listing (later events replay
/// harmlessly: rows are guarded by seq).
async fn resync(inner: &Arc<Inner>, api: &RelayApi) -> Result<(), End> {
    tracing::info!("the relay asks for a full resync");
    inner.set_progress(Some(SyncProgress { done: 0, total: 0 }));
    let result = resync_inner(inner, api).await;
    inner.set_progress(None);
    result
}

/// Messages fetched per conversation during a resync (older ones load on demand).
const RESYNC_MESSAGES: u32 = 50;

async fn resync_inner(inner: &Arc<Inner>, api: &RelayApi) -> Result<(), End> {
    let me = api.me().await?;
    let head = me.head_seq;
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let page = api.conversations(before, 200).await?;
        let n = page.conversations.len();
        rows.extend(page.conversations);
        match page.next_before {
            Some(b) if n > 0 => before = Some(b),
            _ => break,
        }
    }
    let total = rows.len() as u32;
    inner.set_progress(Some(SyncProgress { done: 0, total }));
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    inner
        .with_store(move |s| {
            s.reset_replica()?;
            s.write(|b| {
                for r in &rows {
                    b.upsert_conversation(&apply::conversation_of(None, r, None, head))?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await?;
    inner.remember_me(&me).await?;
    for (i, id) in ids.into_iter().enumerate() {
        let page = api.messages(id, None, RESYNC_MESSAGES).await?;
        inner
            .with_store(move |s| {
                s.write(|b| {
                    for m in &page.messages {
                        apply::write_message(b, m, head)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })
            .await?;
        inner.set_progress(Some(SyncProgress {
            done: i as u32 + 1,
            total,
        }));
    }
    inner
        .with_store(move |s| {
            if s.cursor()? < head {
                s.set_cursor(head)?;
            }
            Ok(())
        })
        .await?;
    inner.emit(ClientEvent::ResyncDone { cursor: head });
    tracing::info!(conversations = total, cursor = head, "full resync done");
    Ok(())
}

//! The outbox sender: one task per linked profile.
//!
//! Commands are in the store before this task sees them. Each is posted with its own
//! idempotency key, in the order queued; the relay applies a key once and answers a
//! repeat with the first result, so a command whose answer was lost (network cut, app
//! killed) is simply posted again. A retryable failure (network, 429, 5xx) stops the
//! round — later commands may depend on it — and waits with jittered backoff, or until
//! the connection comes back or a new command is queued. A refusal (403, 409, 422...) is
//! final: the item is marked failed, shown, and the next one goes.

use std::sync::Arc;
use std::time::Duration;

use crate::api::ApiError;
use crate::backoff::Backoff;
use crate::client::Inner;
use crate::types::{ClientEvent, ConnectionState};

pub(crate) async fn run(inner: Arc<Inner>) {
    let t = inner.tuning().clone();
    let mut backoff = Backoff::new(t.backoff_base, t.backoff_max);
    let mut state = inner.state_rx();
    let mut stop = inner.stop_rx();
    loop {
        if inner.stopped() {
            return;
        }
        let retry_in = match round(&inner, &mut backoff).await {
            Round::Done => None,
            Round::Retry(d) => Some(d),
            Round::Stop => return,
        };
        let sleep = async {
            match retry_in {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        // Wake on the next transition into Connected (a reconnect), not on being connected.
        let connected_now = *state.borrow_and_update() == ConnectionState::Connected;
        let reconnected = async {
            if connected_now {
                let _ = state.wait_for(|s| *s != ConnectionState::Connected).await;
            }
            let _ = state.wait_for(|s| *s == ConnectionState::Connected).await;
        };
        tokio::select! {
            _ = sleep => {}
            _ = inner.outbox_notify().notified() => {}
            _ = reconnected => {}
            _ = stop.wait_for(|v| *v) => return,
        }
    }
}

enum Round {
    Done,
    Retry(Duration),
    Stop,
}

async fn round(inner: &Arc<Inner>, backoff: &mut Backoff) -> Round {
    let Some(api) = inner.api() else {
        return Round::Stop;
    };
    let pending = match inner.with_store(|s| Ok(s.outbox_pending()?)).await {
        Ok(p) => p,
        Err(crate::error::ClientError::Unlinked) => return Round::Stop,
        Err(e) => {
            tracing::error!(error = %e, "could not read the outbox");
            return Round::Retry(backoff.next_delay());
        }
    };
    for item in pending {
        let key = item.idempotency_key;
        let kind = item
            .command
            .get("type")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_owned();
        match api.command(key, &item.command).await {
            Ok(resp) => {
                tracing::info!(id = %key, kind = %kind, seq = ?resp.seq, "command accepted by the relay");
                if let Err(e) = inner
                    .with_store(move |s| Ok(s.outbox_mark_sent(key)?))
                    .await
                {
                    tracing::error!(error = %e, "could not mark a command sent");
                    return Round::Retry(backoff.next_delay());
                }
                backoff.reset();
                inner.emit(ClientEvent::OutboxChanged);
            }
            Err(ApiError::Unlinked) => {
                inner.wipe_unlinked().await;
                return Round::Stop;
            }
            Err(e) if e.is_retryable() || matches!(e, ApiError::ResyncRequired) => {
                let why = e.to_string();
                tracing::info!(id = %key, kind = %kind, error = %why, "command not sent yet; will retry");
                let _ = inner
                    .with_store(move |s| Ok(s.outbox_record_attempt(key, &why)?))
                    .await;
                inner.emit(ClientEvent::OutboxChanged);
                return Round::Retry(backoff.next_delay());
            }
            Err(e) => {
                let why = match &e {
                    ApiError::Status { code, message, .. } => format!("{code}: {message}"),
                    other => other.to_string(),
                };
                tracing::warn!(id = %key, kind = %kind, error = %why, "the relay refused a command");
                let _ = inner
                    .with_store(move |s| Ok(s.outbox_mark_failed(key, &why)?))
                    .await;
                inner.emit(ClientEvent::OutboxChanged);
            }
        }
    }
    Round::Done
}

//! Delivering webhooks to the receiver like Meta: signed over the exact bytes, retried with
//! growing pauses while the receiver does not answer 200, with fault switches for
//! duplicates, batching and cut connections. First attempts go out in order; a failed one
//! retries on its own task so it does not hold back the rest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::Shared;
use crate::payload::{Change, ChangeValue, Entry, Envelope};
use crate::state::{Attempt, DeliveryRecord};
use crate::{ids, meta_json};

pub enum Command {
    Send {
        kind: &'static str,
        value: ChangeValue,
    },
    /// Send whatever a batch fault is holding back.
    Flush,
}

pub type Sender = mpsc::UnboundedSender<Command>;

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The single task that takes webhooks in order and posts them.
pub async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
    let mut pending: Vec<(&'static str, ChangeValue)> = Vec::new();
    while let Some(cmd) = rx.recv().await {
        let batch = shared.state.lock().expect("state lock").faults.batch.max(1);
        match cmd {
            Command::Send { kind, value } => {
                pending.push((kind, value));
                if pending.len() >= batch {
                    deliver(&shared, std::mem::take(&mut pending)).await;
                }
            }
            Command::Flush => {
                if !pending.is_empty() {
                    deliver(&shared, std::mem::take(&mut pending)).await;
                }
            }
        }
    }
}

async fn deliver(shared: &Arc<Shared>, items: Vec<(&'static str, ChangeValue)>) {
    let kind = if items.len() == 1 {
        items[0].0
    } else {
        "batch"
    };
    let envelope = Envelope {
        object: "whatsapp_business_account",
        entry: items
            .into_iter()
            .map(|(_, value)| Entry {
                id: shared.config.waba_id.clone(),
                changes: vec![Change {
                    value,
                    field: "messages",
                }],
            })
            .collect(),
    };
    let body = meta_json::to_vec(&envelope);
    let duplicate = shared.state.lock().expect("state lock").faults.duplicate;
    let first = record(shared, kind, &body, None);
    attempt_then_retry(shared, first, body.clone()).await;
    if duplicate {
        let copy = record(shared, kind, &body, Some(first));
        attempt_then_retry(shared, copy, body).await;
    }
}

fn record(shared: &Shared, kind: &str, body: &[u8], duplicate_of: Option<u64>) -> u64 {
    let signature = teamline_whatsapp::signature::sign(shared.config.app_secret.as_bytes(), body);
    let mut state = shared.state.lock().expect("state lock");
    state.next_delivery += 1;
    let id = state.next_delivery;
    state.deliveries.push(DeliveryRecord {
        id,
        kind: kind.to_string(),
        body: String::from_utf8_lossy(body).into_owned(),
        signature,
        attempts: Vec::new(),
        delivered: false,
        gave_up: false,
        duplicate_of,
    });
    id
}

async fn attempt_then_retry(shared: &Arc<Shared>, id: u64, body: Vec<u8>) {
    let Some(url) = shared.config.webhook_url.clone() else {
        return;
    };
    if attempt(shared, id, &url, &body).await {
        return;
    }
    let shared2 = Arc::clone(shared);
    shared.spawn(async move {
        let retry = shared2.config.retry.clone();
        let started = Instant::now();
        let mut delay = retry.base;
        loop {
            tokio::time::sleep(delay).await;
            if started.elapsed() > retry.window {
                if let Some(d) = find(&shared2, id, |d| d.gave_up = true) {
                    tracing::warn!(
                        delivery = d,
                        "webhook delivery gave up after the retry window"
                    );
                }
                return;
            }
            if attempt(&shared2, id, &url, &body).await {
                return;
            }
            delay = (delay * 2).min(retry.max);
        }
    });
}

fn find(shared: &Shared, id: u64, f: impl FnOnce(&mut DeliveryRecord)) -> Option<u64> {
    let mut state = shared.state.lock().expect("state lock");
    let d = state.deliveries.iter_mut().find(|d| d.id == id)?;
    f(d);
    Some(id)
}

/// One POST. Returns whether the receiver answered 200.
async fn attempt(shared: &Shared, id: u64, url: &str, body: &[u8]) -> bool {
    let (signature, drop) = {
        let mut state = shared.state.lock().expect("state lock");
        let drop = state.faults.drop_webhooks > 0;
        if drop {
            state.faults.drop_webhooks -= 1;
        }
        let sig = state
            .deliveries
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.signature.clone())
            .unwrap_or_default();
        (sig, drop)
    };
    let at_ms = unix_ms();
    let timeout = shared.config.retry.timeout;
    let (status, outcome) = if drop {
        match post_then_cut(url, body, &signature, timeout).await {
            Ok(()) => (None, "dropped_connection".to_string()),
            Err(e) => {
                tracing::debug!(error = %e, "raw webhook post failed");
                (None, "network_error".to_string())
            }
        }
    } else {
        let sent = shared
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(teamline_whatsapp::signature::HEADER, &signature)
            .header("user-agent", "facebookexternalua")
            .timeout(timeout)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 200 => (Some(200), "ok".to_string()),
            Ok(r) => (Some(r.status().as_u16()), "http_error".to_string()),
            Err(e) if e.is_timeout() => (None, "timeout".to_string()),
            Err(_) => (None, "network_error".to_string()),
        }
    };
    let ok = outcome == "ok";
    find(shared, id, |d| {
        d.attempts.push(Attempt {
            at_ms,
            status,
            outcome,
        });
        d.delivered |= ok;
    });
    ok
}

/// Writes the whole request, waits until the receiver starts answering (so it has handled
/// the webhook), then closes without reading the answer: the "sent but lost" case.
async fn post_then_cut(
    url: &str,
    body: &[u8],
    signature: &str,
    timeout: Duration,
) -> std::io::Result<()> {
    let parsed = reqwest::Url::parse(url).map_err(std::io::Error::other)?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path = format!("{path}?{q}");
    }
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{}: {signature}\r\nUser-Agent: facebookexternalua\r\n\r\n",
        body.len(),
        teamline_whatsapp::signature::HEADER
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    let mut first = [0u8; 1];
    let _ = tokio::time::timeout(timeout, stream.read(&mut first)).await;
    drop(stream);
    Ok(())
}

/// The outcome of Meta's `GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`.
#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    /// The receiver answered 200 with exactly the challenge.
    pub ok: bool,
    pub status: Option<u16>,
    pub challenge: String,
    pub body: Option<String>,
    pub error: Option<String>,
}

pub async fn handshake(shared: &Shared, verify_token: &str) -> Handshake {
    let challenge = ids::numeric_id();
    let Some(url) = shared.config.webhook_url.as_deref() else {
        return Handshake {
            ok: false,
            status: None,
            challenge,
            body: None,
            error: Some("no webhook URL configured".into()),
        };
    };
    let mut target = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            return Handshake {
                ok: false,
                status: None,
                challenge,
                body: None,
                error: Some(format!("bad webhook URL: {e}")),
            };
        }
    };
    target
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.verify_token", verify_token);
    let sent = shared
        .http
        .get(target)
        .timeout(shared.config.retry.timeout)
        .send()
        .await;
    match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            Handshake {
                ok: status == 200 && body == challenge,
                status: Some(status),
                challenge,
                body: Some(body),
                error: None,
            }
        }
        Err(e) => Handshake {
            ok: false,
            status: None,
            challenge,
            body: None,
            error: Some(e.to_string()),
        },
    }
}

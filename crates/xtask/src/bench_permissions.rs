//! Permission-change benchmark for `cargo xtask bench` (issue 6): time from a permission
//! change made through the API (an admin revokes or grants "view all conversations" for a
//! member, with PIN re-verification at the real Argon2id cost) to `me.changed` arriving on
//! each of the member's 20 connected SSE streams, p50/p99 over repeated changes.
//!
//! Enforcement is checked too: after every revocation a customer writes in an unassigned
//! conversation, and any of its events reaching a device before the next grant is a leak
//! (the run fails).
//!
//! Target: p99 ≤ 1 s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const SECRET: &str = "bench-app-secret";
const PIN: &str = "246810";
const SUPERVISOR: [&str; 10] = [
    "view_all_conversations",
    "view_team_queue",
    "reply",
    "assign_transfer",
    "take_over",
    "configure_automation",
    "apply_labels",
    "manage_labels",
    "view_contacts",
    "view_audit_log",
];

#[derive(Debug, Clone)]
pub struct Params {
    pub devices: usize,
    /// Changes made (alternately revoke, grant).
    pub changes: usize,
    /// Minimum Argon2 cost instead of the production one (debug-build smoke tests only).
    pub cheap_pins: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            devices: 20,
            changes: 40,
            cheap_pins: false,
        }
    }
}

pub fn run() -> Result<Value> {
    run_with(Params::default())
}

struct Seen {
    device: usize,
    kind: String,
    conversation: Option<String>,
    seq: u64,
    at: Instant,
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Result<Value> {
    let resp = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .header("x-teamline-pin", PIN)
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {v}");
    }
    Ok(v)
}

async fn claim(http: &reqwest::Client, base: &str, code: &str, n: usize) -> Result<String> {
    let v: Value = http
        .post(format!("{base}/v1/pairing/claim"))
        .json(&json!({"code": code, "name": format!("bench {n}"), "os": "linux", "os_version": "1", "app_version": "1"}))
        .send()
        .await?
        .json()
        .await?;
    v["token"]
        .as_str()
        .map(str::to_owned)
        .context("claim returned no token")
}

fn webhook(from: &str, wamid: &str) -> (Vec<u8>, String) {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Customer"}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": "1700000000", "type": "text",
                "text": {"body": "hello"}}]
        }}]}]
    });
    let body = serde_json::to_vec(&body).expect("serialisable");
    let sig = teamline_whatsapp::signature::sign(SECRET.as_bytes(), &body);
    (body, sig)
}

async fn post_webhook(http: &reqwest::Client, base: &str, wamid: &str) -> Result<()> {
    let (body, sig) = webhook("34600000001", wamid);
    let s = http
        .post(format!("{base}/webhooks/whatsapp"))
        .header(teamline_whatsapp::signature::HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?
        .status();
    if !s.is_success() {
        bail!("webhook answered {s}");
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run_with(params: Params) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(bench(params))
}

async fn bench(params: Params) -> Result<Value> {
    use teamline_relay::pairing;
    use teamline_relay::storage::sqlite::{Options, SqliteStorage};
    let dir = tempfile::tempdir()?;
    let storage: Arc<dyn teamline_relay::Storage> = Arc::new(
        SqliteStorage::open(dir.path().join("bench.db"), Options::default())
            .context("opening the bench database")?,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay = teamline_relay::Relay::start(
        listener,
        Arc::clone(&storage),
        teamline_relay::Clock::system(),
        teamline_relay::AppSettings {
            app_secret: SECRET.into(),
            verify_token: "bench".into(),
            timezone: jiff::tz::TimeZone::UTC,
            retention: jiff::SignedDuration::from_hours(24 * 30),
        },
    )
    .await?;
    if params.cheap_pins {
        relay.state().pin_cost.set(8, 1);
    }
    let base = relay.base_url();
    let http = reqwest::Client::new();

    // The admin, through an owner code as `init` makes it.
    let (code, hash) = pairing::new_code();
    let now = jiff::Timestamp::now();
    storage
        .write(move |tx| {
            pairing::init_team(tx, "Bench", now)?;
            pairing::store_code(
                tx,
                hash,
                pairing::level_from_preset("admin").expect("preset"),
                None,
                None,
                true,
                now,
            )
        })
        .await?;
    let root = claim(&http, &base, &code, 0).await?;
    call(
        &http,
        &base,
        &root,
        reqwest::Method::PUT,
        "/v1/me/pin",
        json!({"new_pin": PIN}),
    )
    .await?;
    call(
        &http,
        &base,
        &root,
        reqwest::Method::PUT,
        "/v1/team/settings",
        json!({"device_cap": 1000}),
    )
    .await?;
    let m = call(
        &http,
        &base,
        &root,
        reqwest::Method::POST,
        "/v1/team/members",
        json!({"name": "Sam", "preset": "supervisor"}),
    )
    .await?;
    let member = m["member"]["id"].as_str().context("member id")?.to_owned();

    // The conversation whose events must stop after a revocation.
    post_webhook(&http, &base, "wamid.bench.open").await?;
    let list = call(
        &http,
        &base,
        &root,
        reqwest::Method::GET,
        "/v1/conversations",
        Value::Null,
    )
    .await?;
    let conversation = list["conversations"][0]["id"]
        .as_str()
        .context("the conversation")?
        .to_owned();

    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let mut readers = Vec::new();
    for n in 0..params.devices {
        let c = call(
            &http,
            &base,
            &root,
            reqwest::Method::POST,
            "/v1/pairing/codes",
            json!({"level": {"preset": "supervisor"}, "member_id": member}),
        )
        .await?;
        let token = claim(&http, &base, c["code"].as_str().context("code")?, n + 1).await?;
        let after = *storage.head().borrow();
        let mut resp = http
            .get(format!("{base}/v1/stream?after={after}"))
            .bearer_auth(token)
            .send()
            .await?;
        if resp.status() != 200 {
            bail!("stream answered {}", resp.status());
        }
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = String::new();
            while let Ok(Some(chunk)) = resp.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let at = Instant::now();
                    let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) else {
                        continue;
                    };
                    let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
                        continue;
                    };
                    let Some(seq) = v["seq"].as_u64() else {
                        continue;
                    };
                    let _ = tx.send(Seen {
                        device: n,
                        kind: v["kind"].as_str().unwrap_or_default().to_owned(),
                        conversation: v["conversation_id"].as_str().map(str::to_owned),
                        seq,
                        at,
                    });
                }
            }
        }));
    }
    drop(tx);

    let revoked: Vec<&str> = SUPERVISOR
        .iter()
        .copied()
        .filter(|p| !p.starts_with("view_all") && *p != "view_team_queue")
        .collect();
    let mut samples = Vec::new();
    let mut leaks = 0usize;
    let mut last_seq = *storage.head().borrow();
    for i in 0..params.changes {
        let revoke = i % 2 == 0;
        let toggles: Vec<&str> = if revoke {
            revoked.clone()
        } else {
            SUPERVISOR.to_vec()
        };
        let started = Instant::now();
        call(
            &http,
            &base,
            &root,
            reqwest::Method::PATCH,
            &format!("/v1/team/members/{member}"),
            json!({"toggles": toggles}),
        )
        .await?;
        let mut pending = vec![true; params.devices];
        let deadline = Instant::now() + Duration::from_secs(30);
        while pending.iter().any(|p| *p) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(Some(seen)) = tokio::time::timeout(left, rx.recv()).await else {
                bail!("me.changed did not reach every device within 30 s (change {i})");
            };
            if seen.conversation.as_deref() == Some(conversation.as_str()) && seen.seq > last_seq {
                leaks += 1;
            }
            if seen.kind == "me.changed" && seen.seq > last_seq && pending[seen.device] {
                pending[seen.device] = false;
                samples.push(seen.at.duration_since(started).as_secs_f64() * 1000.0);
            }
        }
        last_seq = *storage.head().borrow();
        if revoke {
            // Enforced: this message must reach no device before the next grant.
            post_webhook(&http, &base, &format!("wamid.bench.{i}")).await?;
        }
    }
    for r in readers {
        r.abort();
    }
    relay.shutdown().await?;
    if leaks > 0 {
        bail!(
            "{leaks} events of a conversation reached devices after their view right was revoked"
        );
    }
    samples.sort_by(f64::total_cmp);
    Ok(json!({
        "permission_devices": params.devices,
        "permission_changes": params.changes,
        "permission_samples": samples.len(),
        "permission_p50_ms": percentile(&samples, 0.5),
        "permission_p99_ms": percentile(&samples, 0.99),
        "permission_max_ms": samples.last().copied().unwrap_or(0.0),
        "permission_leaks": leaks,
        "targets": {"permission_p99_ms": 1000},
    }))
}

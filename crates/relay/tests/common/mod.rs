//! A relay on 127.0.0.1:0 with a real SQLite file, and small HTTP helpers.
#![allow(dead_code)]

pub mod payloads;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use teamline_relay::storage::Storage;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::{AppSettings, Clock, Relay, pairing};
use tokio::sync::mpsc;
use uuid::Uuid;

pub const SECRET: &str = "test-app-secret";
pub const VERIFY: &str = "test-verify-token";

pub struct TestRelay {
    pub relay: Relay,
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub url: String,
    pub dir: tempfile::TempDir,
}

pub struct Device {
    pub token: String,
    pub device_id: Uuid,
    pub member_id: Uuid,
}

impl TestRelay {
    /// Waits until the automation worker has run every queued job (each job's effects
    /// commit with its deletion), so the database is quiet.
    pub async fn automation_idle(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let next = self
                .storage
                .read(|tx| tx.automation_next_job_at())
                .await
                .unwrap();
            if next.is_none() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "automation jobs still queued after 20 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn start() -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> =
            Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap());
        let clock = Clock::system();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay::start(
            listener,
            Arc::clone(&storage),
            clock.clone(),
            AppSettings {
                app_secret: SECRET.into(),
                verify_token: VERIFY.into(),
                timezone: jiff::tz::TimeZone::UTC,
                retention: SignedDuration::from_hours(24 * 30),
            },
        )
        .await
        .unwrap();
        let url = relay.base_url();
        let now = clock.now();
        storage
            .write(move |tx| pairing::init_team(tx, "Shop", now))
            .await
            .unwrap();
        // These tests count and order events exactly: the automation (its own tests run
        // it on `commands_env`) is paused so it adds none.
        let mut doc =
            teamline_relay::automation::AutomationDoc::default_for(&jiff::tz::TimeZone::UTC);
        doc.enabled = false;
        storage
            .write(move |tx| tx.put_setting(teamline_relay::automation::SETTING_KEY, &json!(doc)))
            .await
            .unwrap();
        relay.state().automation.forget();
        TestRelay {
            relay,
            storage,
            clock,
            http: reqwest::Client::new(),
            url,
            dir,
        }
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/whatsapp", self.url)
    }

    pub async fn post_webhook(&self, body: Vec<u8>) -> StatusCode {
        let sig = teamline_whatsapp::signature::sign(SECRET.as_bytes(), &body);
        self.http
            .post(self.webhook_url())
            .header(teamline_whatsapp::signature::HEADER, sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Stores a fresh code (as `pair` would) and returns it for display.
    pub async fn code(&self, level: &str, member: Option<&str>) -> String {
        let (code, hash) = pairing::new_code();
        let level = pairing::level_from_preset(level).unwrap();
        let member = member.map(str::to_owned);
        let now = self.clock.now();
        self.storage
            .write(move |tx| pairing::store_code(tx, hash, level, None, member, false, now))
            .await
            .unwrap();
        code
    }

    pub async fn claim(&self, code: &str, name: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/pairing/claim", self.url))
            .json(&json!({
                "code": code, "name": name, "os": "linux", "os_version": "6.1", "app_version": "0.1.0"
            }))
            .send()
            .await
            .unwrap()
    }

    pub async fn device(&self, level: &str, member: Option<&str>) -> Device {
        let code = self.code(level, member).await;
        let resp = self.claim(&code, &format!("{level} laptop")).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        Device {
            token: v["token"].as_str().unwrap().to_owned(),
            device_id: v["device_id"].as_str().unwrap().parse().unwrap(),
            member_id: v["member_id"].as_str().unwrap().parse().unwrap(),
        }
    }

    pub async fn get(&self, d: &Device, path: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}{}", self.url, path))
            .bearer_auth(&d.token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Long-polls until `count` events after `after` arrived (or panics after 20 s).
    pub async fn collect(&self, d: &Device, mut after: u64, count: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while out.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {count} events",
                out.len()
            );
            let (status, v) = self
                .get(d, &format!("/v1/events?after={after}&wait=5"))
                .await;
            assert_eq!(status, 200, "{v}");
            out.extend(v["events"].as_array().unwrap().iter().cloned());
            after = v["next"].as_u64().unwrap();
        }
        out
    }

    pub async fn head(&self) -> u64 {
        *self.storage.head().borrow()
    }
}

/// One SSE connection, parsed into `(id, data)` pairs; `None` id for named control events.
pub struct Sse {
    pub rx: mpsc::UnboundedReceiver<SseMsg>,
}

#[derive(Debug, Clone)]
pub struct SseMsg {
    pub id: Option<u64>,
    pub event: Option<String>,
    pub data: String,
}

impl Sse {
    pub async fn connect(
        http: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<u64>,
    ) -> Result<Sse, (StatusCode, Value)> {
        let mut req = http.get(format!("{url}/v1/stream")).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        if resp.status() != 200 {
            let status = resp.status();
            return Err((status, resp.json().await.unwrap_or(Value::Null)));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut body = resp.bytes_stream();
        tokio::spawn(async move {
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let mut msg = SseMsg {
                        id: None,
                        event: None,
                        data: String::new(),
                    };
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            msg.id = v.trim().parse().ok();
                        } else if let Some(v) = line.strip_prefix("event:") {
                            msg.event = Some(v.trim().to_owned());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            msg.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if (msg.id.is_some() || msg.event.is_some()) && tx.send(msg).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Sse { rx })
    }

    /// The next message, or `None` when the stream ended; panics after 20 s.
    pub async fn next(&mut self) -> Option<SseMsg> {
        tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("SSE message within 20 s")
    }
}

pub fn kind(v: &Value) -> &str {
    v["kind"].as_str().unwrap()
}

//! Test helpers: a recording webhook receiver and a sim wired to it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use whatsapp_sim::{RetryPolicy, Sim, SimConfig, SimHandle, StatusSchedule};

pub const TOKEN: &str = "test-token";
pub const SECRET: &str = "test-app-secret";
pub const PHONE_ID: &str = "106540352242922";
pub const VERSION: &str = "v23.0";
pub const VERIFY: &str = "verify-me";

/// One request the receiver got, raw.
#[derive(Debug, Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
    pub fn signature(&self) -> Option<&str> {
        self.headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct Recv {
    tx: mpsc::UnboundedSender<Hit>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

pub struct Receiver {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Hit>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let state = Recv {
            tx,
            answers: Arc::clone(&answers),
        };
        let app = Router::new()
            .route("/webhook", get(verify).post(record))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/webhook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, rx, answers }
    }

    /// The next answers to give, in order; afterwards 200.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    pub async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("receiver alive")
    }

    /// The next webhook if one comes within `ms`.
    pub async fn within(&mut self, ms: u64) -> Option<Hit> {
        tokio::time::timeout(Duration::from_millis(ms), self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Asserts nothing else arrives for a short while.
    pub async fn quiet(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(150), self.rx.recv()).await;
        assert!(
            got.is_err(),
            "unexpected webhook: {:?}",
            got.ok().flatten().map(|h| h.json())
        );
    }
}

async fn record(State(s): State<Recv>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = s.answers.lock().unwrap().pop_front().unwrap_or(200);
    let _ = s.tx.send(Hit { headers, body });
    StatusCode::from_u16(status).expect("valid status")
}

async fn verify(Query(q): Query<HashMap<String, String>>) -> (StatusCode, String) {
    if q.get("hub.mode").map(String::as_str) == Some("subscribe")
        && q.get("hub.verify_token").map(String::as_str) == Some(VERIFY)
    {
        (
            StatusCode::OK,
            q.get("hub.challenge").cloned().unwrap_or_default(),
        )
    } else {
        (StatusCode::FORBIDDEN, String::new())
    }
}

/// A sim on a frozen clock: sent at +0 s, delivered at +1 s, read at +2 s of sim time.
pub fn config(webhook_url: &str) -> SimConfig {
    SimConfig {
        webhook_url: Some(webhook_url.to_string()),
        app_secret: SECRET.into(),
        access_token: TOKEN.into(),
        phone_number_id: PHONE_ID.into(),
        verify_token: Some(VERIFY.into()),
        frozen_clock: true,
        statuses: StatusSchedule {
            sent: Duration::ZERO,
            delivered: Duration::from_secs(1),
            read: Some(Duration::from_secs(2)),
        },
        retry: RetryPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(40),
            window: Duration::from_secs(3),
            timeout: Duration::from_secs(3),
        },
        ..SimConfig::default()
    }
}

pub struct Env {
    pub sim: SimHandle,
    pub hooks: Receiver,
    pub http: reqwest::Client,
}

pub async fn start_with(f: impl FnOnce(&mut SimConfig)) -> Env {
    let hooks = Receiver::start().await;
    let mut cfg = config(&hooks.url);
    f(&mut cfg);
    let sim = Sim::start(cfg).await.expect("sim starts");
    Env {
        sim,
        hooks,
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn send_as(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(&format!("/{VERSION}/{PHONE_ID}/messages")))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("graph request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON answer"))
    }

    pub async fn send(&self, body: Value) -> (u16, Value) {
        self.send_as(Some(TOKEN), body).await
    }

    pub async fn send_text(&self, to: &str, text: &str) -> (u16, Value) {
        self.send(json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}}))
            .await
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("JSON")
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("JSON")
    }

    /// A customer writes, opening the service window; returns the inbound webhook.
    pub async fn customer_says(&mut self, from: &str, text: &str) -> Hit {
        self.control(
            "/_sim/inbound",
            json!({"from": from, "name": "Test Customer", "text": text}),
        )
        .await;
        self.hooks.next().await
    }

    pub async fn advance(&self, secs: f64) {
        self.control("/_sim/clock", json!({"advance_secs": secs}))
            .await;
    }
}

/// Asserts a Graph error in Meta's shape and returns it.
pub fn assert_error(got: &(u16, Value), http: u16, code: u64) -> Value {
    let (status, body) = got;
    assert_eq!(*status, http, "HTTP status for {body}");
    let e = &body["error"];
    assert_eq!(e["code"], code, "{body}");
    assert_eq!(e["type"], "OAuthException");
    assert!(e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()));
    let message = e["message"].as_str().expect("message");
    if code != 190 {
        assert!(message.starts_with(&format!("(#{code}) ")), "{message}");
    }
    e.clone()
}

/// The statuses in one webhook as `(id, status)`.
pub fn statuses(hit: &Hit) -> Vec<(String, String)> {
    let v = hit.json();
    let mut out = Vec::new();
    for entry in v["entry"].as_array().expect("entry") {
        for change in entry["changes"].as_array().expect("changes") {
            for s in change["value"]["statuses"].as_array().into_iter().flatten() {
                out.push((
                    s["id"].as_str().unwrap_or_default().to_string(),
                    s["status"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    out
}

pub fn wamid_of(resp: &Value) -> String {
    resp["messages"][0]["id"]
        .as_str()
        .expect("message id")
        .to_string()
}

//! A relay (real HTTP on 127.0.0.1, real SQLite file) wired to whatsapp-sim both ways:
//! the relay's Graph client talks to the sim (optionally through a fault proxy), and the
//! sim's signed webhooks go to the relay. The relay can be killed and started again on
//! the same database and port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use jiff::SignedDuration;
use serde_json::{Value, json};
use teamline_relay::media::MediaConfig;
use teamline_relay::outbound::OutboundConfig;
use teamline_relay::relay_services::{self, Services};
use teamline_relay::storage::Storage;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::{AppSettings, Clock, Relay, pairing};
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;
use whatsapp_sim::{RetryPolicy, Sim, SimConfig, SimHandle, StatusSchedule};

pub const SECRET: &str = "sim-app-secret";
pub const TOKEN: &str = "sim-access-token";
pub const PHONE_ID: &str = "106540352242922";
pub const CUSTOMER: &str = "34600111222";

/// Faults the proxy between the relay and the sim injects.
#[derive(Default)]
pub struct Faults {
    /// Answer the next N `POST .../messages` with a bare 502 (never forwarded).
    pub fail_sends: AtomicU32,
    /// Forward the next N `POST .../messages`, then never answer (the call hangs).
    pub hold_sends: AtomicU32,
    /// Answer the next N media lookups (`GET /{version}/{media-id}`) with Meta's 500.
    pub fail_media: AtomicU32,
    /// Sends that reached the proxy.
    pub sends_seen: AtomicU32,
}

struct ProxyState {
    sim: String,
    http: reqwest::Client,
    faults: Arc<Faults>,
}

async fn proxy(State(p): State<Arc<ProxyState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path_q = req
        .uri()
        .path_and_query()
        .map(|x| x.as_str().to_owned())
        .unwrap_or_default();
    let is_send = method == "POST" && req.uri().path().ends_with("/messages");
    let is_media_info = method == "GET"
        && req
            .uri()
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .count()
            == 2
        && !req.uri().path().ends_with(PHONE_ID);
    let take = |c: &AtomicU32| {
        c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    };
    if is_send {
        p.faults.sends_seen.fetch_add(1, Ordering::SeqCst);
        if take(&p.faults.fail_sends) {
            return StatusCode::BAD_GATEWAY.into_response();
        }
    }
    if is_media_info && take(&p.faults.fail_media) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": {"message": "(#131000) Something went wrong", "type": "OAuthException", "code": 131000, "fbtrace_id": "x"}})),
        )
            .into_response();
    }
    let hold = is_send && take(&p.faults.hold_sends);
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 10 << 20)
        .await
        .unwrap_or_default();
    let mut out = p.http.request(method, format!("{}{}", p.sim, path_q));
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            out = out.header(k, v);
        }
    }
    let resp = match out.body(body).send().await {
        Ok(r) => r,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = resp.status();
    let ctype = resp.headers().get("content-type").cloned();
    let bytes = resp.bytes().await.unwrap_or_default();
    if hold {
        // The sim accepted it; the relay never hears back.
        std::future::pending::<()>().await;
    }
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    if let Some(c) = ctype {
        r.headers_mut().insert("content-type", c);
    }
    r
}

pub struct Proxy {
    pub url: String,
    pub faults: Arc<Faults>,
}

impl Proxy {
    pub async fn start(sim: &SimHandle) -> Proxy {
        let faults = Arc::new(Faults::default());
        let state = Arc::new(ProxyState {
            sim: sim.base_url().to_owned(),
            http: reqwest::Client::new(),
            faults: Arc::clone(&faults),
        });
        let app = axum::Router::new().fallback(proxy).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { url, faults }
    }
}

pub fn sim_config(webhook_url: String) -> SimConfig {
    SimConfig {
        webhook_url: Some(webhook_url),
        app_secret: SECRET.into(),
        access_token: TOKEN.into(),
        statuses: StatusSchedule {
            sent: Duration::from_millis(20),
            delivered: Duration::from_millis(40),
            read: Some(Duration::from_millis(60)),
        },
        retry: RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
            window: Duration::from_secs(120),
            timeout: Duration::from_secs(5),
        },
        ..SimConfig::default()
    }
}

pub fn fast_outbound() -> OutboundConfig {
    OutboundConfig {
        rate_per_sec: 200.0,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
        pair_backoff: Duration::from_millis(200),
        ..OutboundConfig::default()
    }
}

pub struct Device {
    pub token: String,
    pub device_id: Uuid,
    pub member_id: Uuid,
    pub name: String,
}

/// One running relay process-equivalent: HTTP server plus workers.
pub struct Running {
    pub relay: Relay,
    pub services: Arc<Services>,
    pub workers: Vec<JoinHandle<()>>,
    pub storage: Arc<dyn Storage>,
}

pub struct Env {
    pub sim: SimHandle,
    pub proxy: Proxy,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub url: String,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub run: Option<Running>,
    pub outbound: OutboundConfig,
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(|c| c, fast_outbound()).await
    }

    pub async fn start_with(
        tune: impl FnOnce(SimConfig) -> SimConfig,
        outbound: OutboundConfig,
    ) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let sim = Sim::start(tune(sim_config(format!("{url}/webhooks/whatsapp"))))
            .await
            .unwrap();
        let proxy = Proxy::start(&sim).await;
        let mut env = Env {
            sim,
            proxy,
            dir,
            addr,
            url,
            clock: Clock::system(),
            http: reqwest::Client::new(),
            run: None,
            outbound,
        };
        env.boot(listener).await;
        let now = env.clock.now();
        env.storage()
            .write(move |tx| pairing::init_team(tx, "Shop", now))
            .await
            .unwrap();
        env
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("relay.db")
    }

    async fn boot(&mut self, listener: tokio::net::TcpListener) {
        let storage: Arc<dyn Storage> =
            Arc::new(SqliteStorage::open(self.db_path(), Options::default()).unwrap());
        let relay = Relay::start(
            listener,
            Arc::clone(&storage),
            self.clock.clone(),
            AppSettings {
                app_secret: SECRET.into(),
                verify_token: "verify".into(),
                timezone: jiff::tz::TimeZone::UTC,
                retention: SignedDuration::from_hours(24 * 30),
            },
        )
        .await
        .unwrap();
        let graph = GraphClient::new(
            GraphConfig::new(TOKEN, PHONE_ID)
                .with_business_account_id(SimConfig::default().waba_id)
                .with_base_url(self.proxy.url.clone())
                .with_timeout(Duration::from_secs(10)),
        )
        .unwrap();
        let mut media = MediaConfig::next_to(&self.db_path());
        media.backoff_base = Duration::from_millis(50);
        media.backoff_max = Duration::from_millis(400);
        let (services, workers) =
            relay_services::attach(relay.state(), graph, self.outbound.clone(), media).unwrap();
        self.run = Some(Running {
            relay,
            services,
            workers,
            storage,
        });
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.run.as_ref().unwrap().storage)
    }

    pub fn services(&self) -> Arc<Services> {
        Arc::clone(&self.run.as_ref().unwrap().services)
    }

    /// Stops the relay abruptly: workers are dropped mid-call (an in-flight Graph request
    /// is abandoned), the server stops, and the database is closed.
    pub async fn kill(&mut self) {
        let run = self.run.take().unwrap();
        for w in &run.workers {
            w.abort();
        }
        for w in run.workers {
            let _ = w.await;
        }
        let _ = run.relay.shutdown().await;
        drop(run.services);
        drop(run.storage);
    }

    /// Starts a fresh relay on the same database file and port.
    pub async fn restart(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                // The old socket may take a moment to be released.
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.boot(listener).await;
    }

    /// Links a device through a pairing code, as the app does.
    pub async fn device(&self, level: &str, member: &str) -> Device {
        let (code, hash) = pairing::new_code();
        let lvl = pairing::level_from_preset(level).unwrap();
        let name = member.to_owned();
        let now = self.clock.now();
        self.storage()
            .write(move |tx| pairing::store_code(tx, hash, lvl, None, Some(name), false, now))
            .await
            .unwrap();
        let v: Value = self
            .http
            .post(format!("{}/v1/pairing/claim", self.url))
            .json(&json!({"code": code, "name": format!("{member}'s laptop"), "os": "linux", "os_version": "6.1", "app_version": "0.1.0"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Device {
            token: v["token"].as_str().expect("token").to_owned(),
            device_id: v["device_id"].as_str().unwrap().parse().unwrap(),
            member_id: v["member_id"].as_str().unwrap().parse().unwrap(),
            name: member.to_owned(),
        }
    }

    /// POST /v1/commands with an explicit id.
    pub async fn command_id(&self, d: &Device, id: Uuid, command: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/commands", self.url))
            .bearer_auth(&d.token)
            .json(&json!({"id": id, "command": command}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn command(&self, d: &Device, command: Value) -> (u16, Value) {
        self.command_id(d, Uuid::now_v7(), command).await
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// What the sim accepted carrying our callback data for `message_id`.
    pub async fn sim_sent_for(&self, message_id: &str) -> Vec<Value> {
        let cb = format!("tl:{message_id}");
        self.sim_get("/_sim/sent").await["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["request"]["biz_opaque_callback_data"] == json!(cb))
            .cloned()
            .collect()
    }

    /// A customer writes; returns (wamid, conversation id) once the relay stored it.
    pub async fn customer_writes(&self, admin: &mut Stream, body: Value) -> (String, Uuid) {
        let v = self.sim_post("/_sim/inbound", body).await;
        let wamid = v["id"].as_str().unwrap().to_owned();
        let ev = admin
            .until(|e| {
                e["kind"] == "message.received" && e["payload"]["message"]["wamid"] == json!(wamid)
            })
            .await;
        let conv = ev["payload"]["message"]["conversation_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        (wamid, conv)
    }

    pub async fn get(&self, d: &Device, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&d.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// One SSE connection: `(id, json)` per message; presence has no id.
pub struct Stream {
    rx: mpsc::UnboundedReceiver<(Option<u64>, Value)>,
    pub seen: Vec<(Option<u64>, Value)>,
}

impl Stream {
    pub async fn open(env: &Env, d: &Device, after: u64) -> Stream {
        let resp = env
            .http
            .get(format!("{}/v1/stream?after={after}", env.url))
            .bearer_auth(&d.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut body = resp.bytes_stream();
        tokio::spawn(async move {
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let mut id = None;
                    let mut data = String::new();
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().parse().ok();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        }
                    }
                    if data.is_empty() {
                        continue;
                    }
                    let Ok(v) = serde_json::from_str::<Value>(&data) else {
                        continue;
                    };
                    if tx.send((id, v)).is_err() {
                        return;
                    }
                }
            }
        });
        Stream {
            rx,
            seen: Vec::new(),
        }
    }

    /// Reads until an event matches (keeping everything read in `seen`); panics after 20 s.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some((_, v)) = self.seen.iter().find(|(_, v)| pred(v)) {
            return v.clone();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .expect("event within 20 s")
                .expect("stream open");
            self.seen.push(msg.clone());
            if pred(&msg.1) {
                return msg.1;
            }
        }
    }

    /// Kinds seen so far for `message_id`, in arrival order.
    pub fn statuses_of(&self, message_id: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(_, v)| {
                v["kind"] == "message.status" && v["payload"]["message_id"] == json!(message_id)
            })
            .map(|(_, v)| {
                v["payload"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    pub fn count(&self, pred: impl Fn(&Value) -> bool) -> usize {
        self.seen.iter().filter(|(_, v)| pred(v)).count()
    }
}

/// A JSON request to the relay as `d` (`method` like "GET" or "PATCH"): the status and the
/// answer's JSON (null when it has none).
pub async fn call(
    env: &Env,
    d: &Device,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut req = env
        .http
        .request(method, format!("{}{path}", env.url))
        .bearer_auth(&d.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

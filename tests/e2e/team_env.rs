//! A team for the app to join: a real relay (SQLite file) and whatsapp-sim sending it
//! signed webhooks, both on 127.0.0.1:0 on their own tokio runtime, plus a second device
//! ("the colleague") that acts through the relay's HTTP API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use teamline_core::{DeviceLevel, Preset};
use teamline_relay::media::MediaConfig;
use teamline_relay::outbound::OutboundConfig;
use teamline_relay::storage::Storage;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::{AppSettings, Clock, Relay, pairing, relay_services};
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use uuid::Uuid;
use whatsapp_sim::{Sim, SimConfig, SimHandle};

const SECRET: &str = "e2e-app-secret";
const ACCESS_TOKEN: &str = "e2e-access-token";
const PHONE_NUMBER_ID: &str = "106540352242922";

pub struct TeamEnv {
    rt: tokio::runtime::Runtime,
    relay: Option<Relay>,
    sim: Option<SimHandle>,
    /// The send queue and media fetcher (kept alive with the relay).
    _services: Arc<relay_services::Services>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    storage: Arc<dyn Storage>,
    pub relay_url: String,
    sim_url: String,
    http: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
}

impl TeamEnv {
    pub fn start() -> TeamEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = tempfile::tempdir().expect("relay directory");
        let storage: Arc<dyn Storage> = Arc::new(
            SqliteStorage::open(dir.path().join("relay.db"), Options::default())
                .expect("relay database"),
        );
        let (relay, sim, services, workers) = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("relay port");
            let settings = AppSettings {
                app_secret: SECRET.into(),
                verify_token: "verify".into(),
                timezone: jiff::tz::TimeZone::UTC,
                retention: SignedDuration::from_hours(24 * 30),
            };
            let relay = Relay::start(listener, Arc::clone(&storage), Clock::system(), settings)
                .await
                .expect("relay starts");
            let sim = Sim::start(SimConfig {
                webhook_url: Some(format!("{}/webhooks/whatsapp", relay.base_url())),
                app_secret: SECRET.into(),
                access_token: ACCESS_TOKEN.into(),
                phone_number_id: PHONE_NUMBER_ID.into(),
                ..SimConfig::default()
            })
            .await
            .expect("whatsapp-sim starts");
            // Replies go out through the Graph API — here, the emulator's.
            let graph = GraphClient::new(
                GraphConfig::new(ACCESS_TOKEN, PHONE_NUMBER_ID)
                    .with_business_account_id(SimConfig::default().waba_id)
                    .with_base_url(sim.base_url().to_owned())
                    .with_timeout(Duration::from_secs(10)),
            )
            .expect("Graph client");
            let media = MediaConfig::next_to(&dir.path().join("relay.db"));
            let (services, workers) =
                relay_services::attach(relay.state(), graph, OutboundConfig::default(), media)
                    .expect("send workers attach once");
            let now = Timestamp::now();
            storage
                .write(move |tx| pairing::init_team(tx, "Corner Shop", now))
                .await
                .expect("team created");
            (relay, sim, services, workers)
        });
        TeamEnv {
            relay_url: relay.base_url(),
            sim_url: sim.base_url().to_owned(),
            rt,
            relay: Some(relay),
            sim: Some(sim),
            _services: services,
            workers,
            storage,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            _dir: dir,
        }
    }

    /// A fresh pairing code for a new member `name` on a device of `level` (`owner`: the
    /// 24-hour code `teamline-relay init` prints).
    pub fn code(&self, level: Preset, name: &str, owner: bool) -> String {
        let (code, hash) = pairing::new_code();
        let name = name.to_owned();
        let now = Timestamp::now();
        self.rt
            .block_on(self.storage.write(move |tx| {
                pairing::store_code(
                    tx,
                    hash,
                    DeviceLevel::Preset(level),
                    None,
                    Some(name),
                    owner,
                    now,
                )
            }))
            .expect("code stored");
        code
    }

    /// Links a headless colleague device with `code`; returns its bearer token.
    pub fn colleague(&self, code: &str, name: &str) -> String {
        let reply: Value = self
            .http
            .post(format!("{}/v1/pairing/claim", self.relay_url))
            .json(&json!({
                "code": code, "name": name, "os": "linux", "os_version": "6", "app_version": "e2e"
            }))
            .send()
            .expect("relay answers")
            .json()
            .expect("JSON answer");
        reply["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {reply}"))
            .to_owned()
    }

    /// A customer writes to the shared number (a signed webhook from whatsapp-sim).
    pub fn customer_says(&self, from: &str, name: &str, text: &str) {
        let resp = self
            .http
            .post(format!("{}/_sim/inbound", self.sim_url))
            .json(&json!({"from": from, "name": name, "text": text}))
            .send()
            .expect("sim answers");
        assert!(resp.status().is_success(), "sim inbound: {}", resp.status());
    }

    /// A customer sends any message type (whatsapp-sim's `/_sim/inbound` body: e.g.
    /// `{"from", "name", "type": "image", "image": {"caption"}}`).
    pub fn customer_sends(&self, body: Value) {
        let resp = self
            .http
            .post(format!("{}/_sim/inbound", self.sim_url))
            .json(&body)
            .send()
            .expect("sim answers");
        assert!(resp.status().is_success(), "sim inbound: {}", resp.status());
    }

    /// The texts whatsapp-sim accepted through the Graph API for customer `wa_id`, oldest
    /// first (what the customer receives).
    pub fn sim_sent_texts(&self, wa_id: &str) -> Vec<String> {
        let sent: Value = self
            .http
            .get(format!("{}/_sim/sent", self.sim_url))
            .send()
            .expect("sim answers")
            .json()
            .expect("JSON answer");
        sent["messages"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|m| m["to"] == wa_id && m["type"] == "text")
                    .filter_map(|m| m["request"]["text"]["body"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The conversation with customer `wa_id`, once the relay has stored it.
    pub fn conversation_of(&self, wa_id: &str) -> Uuid {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let wa = wa_id.to_owned();
            let found = self
                .rt
                .block_on(
                    self.storage
                        .read(move |tx| tx.conversation_by_customer(&wa)),
                )
                .expect("relay read");
            if let Some(c) = found {
                return c.id;
            }
            assert!(Instant::now() < deadline, "no conversation with {wa_id}");
            let mut head = self.storage.head();
            let _ = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(500), head.changed()).await
            });
        }
    }

    /// Calls the relay's API as the device holding `token` (with `pin` as the member's
    /// PIN when given); returns the HTTP status and body.
    pub fn request(
        &self,
        token: &str,
        method: &str,
        path: &str,
        pin: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.relay_url))
            .bearer_auth(token);
        if let Some(pin) = pin {
            req = req.header("x-teamline-pin", pin);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().expect("relay answers");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// Sends a command as the device holding `token`; returns the HTTP status and body.
    pub fn command(&self, token: &str, command: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/commands", self.relay_url))
            .bearer_auth(token)
            .json(&json!({ "id": Uuid::now_v7(), "command": command }))
            .send()
            .expect("relay answers");
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }
}

impl Drop for TeamEnv {
    fn drop(&mut self) {
        let relay = self.relay.take();
        let sim = self.sim.take();
        for worker in self.workers.drain(..) {
            worker.abort();
        }
        self.rt.block_on(async {
            if let Some(sim) = sim {
                sim.shutdown().await;
            }
            if let Some(relay) = relay {
                let _ = relay.shutdown().await;
            }
        });
    }
}

/// What the notification daemon (dunst, started by the test session) has shown: what is
/// on screen is closed first, because dunst lists a notification in its history only
/// once it is closed.
pub fn dunst_history() -> String {
    let dunstctl = |args: &[&str]| {
        let out = std::process::Command::new("dunstctl")
            .args(args)
            .output()
            .expect("dunstctl runs (dunst is the e2e session's notification daemon)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    dunstctl(&["close-all"]);
    dunstctl(&["history"])
}

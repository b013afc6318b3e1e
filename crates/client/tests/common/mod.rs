//! Test set-up: a real relay (SQLite file) on 127.0.0.1:0 fed by a real whatsapp-sim,
//! a gate in front of the relay that can cut the network or break streams like a bad
//! proxy, and helpers to pair devices and wait for state without sleeping.
#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use teamline_client::{
    Client, ClientEvent, ClientOptions, ConnectionState, DeviceInfo, Notification, Notifier,
    NotifyError, StoreKeyChoice, SyncTuning, TokenVault,
};
use teamline_core::{DeviceLevel, Preset};
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::storage::{Audience, NewEvent, Storage};
use teamline_relay::{AppSettings, Clock, Relay, pairing};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;
use whatsapp_sim::{Sim, SimConfig, SimHandle};

pub const SECRET: &str = "client-test-app-secret";
pub const WAIT: Duration = Duration::from_secs(30);

/// Awaits `f` or fails the test after [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub storage: Arc<dyn Storage>,
    pub relay: Option<Relay>,
    pub relay_url: String,
    pub sim: SimHandle,
    pub gate: Gate,
    http: reqwest::Client,
}

pub fn settings() -> AppSettings {
    AppSettings {
        app_secret: SECRET.into(),
        verify_token: "verify".into(),
        timezone: jiff::tz::TimeZone::UTC,
        retention: SignedDuration::from_hours(24 * 30),
    }
}

impl Env {
    pub async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> =
            Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay::start(listener, Arc::clone(&storage), Clock::system(), settings())
            .await
            .unwrap();
        let relay_url = relay.base_url();
        let sim = Sim::start(SimConfig {
            webhook_url: Some(format!("{relay_url}/webhooks/whatsapp")),
            app_secret: SECRET.into(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let now = Timestamp::now();
        storage
            .write(move |tx| pairing::init_team(tx, "Shop", now))
            .await
            .unwrap();
        let gate = Gate::start(relay_url.clone()).await;
        Env {
            dir,
            storage,
            relay: Some(relay),
            relay_url,
            sim,
            gate,
            http: reqwest::Client::new(),
        }
    }

    /// A fresh pairing code for a device of `level` linked to member `member` (created
    /// with that level's preset when new).
    pub async fn code(&self, level: Preset, member: &str) -> String {
        let (code, hash) = pairing::new_code();
        let now = Timestamp::now();
        let name = member.to_owned();
        self.storage
            .write(move |tx| {
                pairing::store_code(
                    tx,
                    hash,
                    DeviceLevel::Preset(level),
                    None,
                    Some(name),
                    false,
                    now,
                )
            })
            .await
            .unwrap();
        code
    }

    /// A customer writes (through whatsapp-sim's signed webhook to the relay).
    pub async fn customer_says(&self, from: &str, name: &str, text: &str) {
        let resp = self
            .http
            .post(format!("{}/_sim/inbound", self.sim.base_url()))
            .json(&serde_json::json!({"from": from, "name": name, "text": text}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "sim inbound: {}", resp.status());
    }

    pub fn head(&self) -> u64 {
        *self.storage.head().borrow()
    }

    pub async fn wait_head(&self, at_least: u64) {
        let mut head = self.storage.head();
        within("the relay's head", head.wait_for(|h| *h >= at_least))
            .await
            .unwrap();
    }

    /// Waits until the relay stored `n` messages and published their events (the head
    /// moves only after the events' fsync, a little after the rows are committed).
    pub async fn wait_messages(&self, n: u64) {
        let mut head = self.storage.head();
        let events = within("relay messages", async {
            loop {
                let counts = self.storage.read(|tx| tx.counts()).await.unwrap();
                if counts.messages >= n {
                    return counts.events;
                }
                head.changed().await.unwrap();
            }
        })
        .await;
        // The log is gap-free from seq 1, so its length is its newest seq.
        self.wait_head(events).await;
    }

    pub async fn conversation_of(&self, wa_id: &str) -> Uuid {
        let wa = wa_id.to_owned();
        self.storage
            .read(move |tx| tx.conversation_by_customer(&wa))
            .await
            .unwrap()
            .expect("conversation exists")
            .id
    }

    /// Assigns a conversation on the relay (a real `conversation.assigned` event).
    pub async fn assign(&self, conversation: Uuid, member: Uuid) {
        let now = Timestamp::now();
        self.storage
            .write(move |tx| {
                teamline_relay::ingest::assign_conversation(
                    tx,
                    conversation,
                    Some(member),
                    None,
                    now,
                )
            })
            .await
            .unwrap()
            .expect("conversation exists");
    }

    pub async fn append(
        &self,
        kind: &'static str,
        conversation: Option<Uuid>,
        payload: serde_json::Value,
    ) -> u64 {
        let now = Timestamp::now();
        self.storage
            .write(move |tx| {
                tx.append_event(NewEvent {
                    kind,
                    conversation_id: conversation,
                    audience: if conversation.is_some() {
                        Audience::Conversation
                    } else {
                        Audience::Everyone
                    },
                    also_member: None,
                    payload,
                    created_at: now,
                })
            })
            .await
            .unwrap()
    }

    /// Outbound messages the relay recorded in a conversation.
    pub async fn outbound(&self, conversation: Uuid) -> Vec<serde_json::Value> {
        let rows = self
            .storage
            .read(move |tx| tx.messages_page(conversation, None, 500))
            .await
            .unwrap();
        rows.into_iter()
            .filter(|m| m.direction == "out")
            .map(|m| m.body)
            .collect()
    }

    pub async fn revoke(&self, device: Uuid) {
        let now = Timestamp::now();
        assert!(
            self.storage
                .write(move |tx| pairing::revoke_device(tx, device, None, now))
                .await
                .unwrap()
        );
    }
}

/// Notifications kept in memory (tests other than the desktop one).
#[derive(Default, Clone)]
pub struct Recorded(pub Arc<Mutex<Vec<Notification>>>, Arc<tokio::sync::Notify>);

impl Recorded {
    /// Waits until a notification matching `f` has been shown. (Notifications are shown
    /// off the sync task, after the client event that caused them.)
    #[allow(dead_code, reason = "not every test binary waits for a notification")]
    pub async fn wait_for(&self, what: &str, f: impl Fn(&Notification) -> bool) {
        within(what, async {
            loop {
                let shown = self.1.notified();
                tokio::pin!(shown);
                shown.as_mut().enable();
                if self.0.lock().unwrap().iter().any(&f) {
                    return;
                }
                shown.await;
            }
        })
        .await;
    }
}

impl Notifier for Recorded {
    fn show(&self, n: &Notification, _: mpsc::UnboundedSender<Uuid>) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(n.clone());
        self.1.notify_waiters();
        Ok(())
    }
}

pub fn fast_tuning() -> SyncTuning {
    SyncTuning {
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        long_poll_wait_secs: 5,
        sse_failures_before_long_poll: 2,
        short_session: Duration::from_secs(2),
        ..SyncTuning::default()
    }
}

/// Options for a profile in `dir`: raw store key (not a keyring test), keyring token.
pub fn options(dir: &Path) -> ClientOptions {
    ClientOptions {
        data_dir: dir.to_owned(),
        store_key: StoreKeyChoice::RawForTestsAndBenches([7; 32]),
        token_vault: TokenVault::OsKeyring,
        notifier: Some(Arc::new(Recorded::default())),
        tuning: fast_tuning(),
    }
}

/// The owner's PIN in tests that make team changes.
pub const OWNER_PIN: &str = "246810";

/// The owner's linked client (opened with `opts`), with a PIN set, and the relay's cheap
/// test PIN cost.
pub async fn owner_with(env: &Env, opts: ClientOptions) -> Client {
    env.relay
        .as_ref()
        .expect("relay running")
        .state()
        .pin_cost
        .set(8, 1);
    let client = Client::open(opts).await.unwrap();
    let code = env.code(Preset::Admin, "Olga").await;
    client
        .link(&env.relay_url, &code, &device("Owner desk"))
        .await
        .unwrap();
    client.set_own_pin(OWNER_PIN, None).await.unwrap();
    client
}

/// [`owner_with`] in the `owner` profile with the usual test options.
pub async fn owner(env: &Env) -> Client {
    owner_with(env, options(&env.dir.path().join("owner"))).await
}

pub fn device(name: &str) -> DeviceInfo {
    DeviceInfo::this_machine(name, "0.1.0-test")
}

pub async fn wait_state(client: &Client, want: ConnectionState) {
    let mut rx = client.connection_state();
    within(&format!("state {want:?}"), rx.wait_for(|s| *s == want))
        .await
        .unwrap();
}

pub async fn wait_cursor(client: &Client, at_least: u64) {
    let mut events = client.subscribe();
    within("the client's cursor", async {
        loop {
            if client.cursor().await.unwrap() >= at_least {
                return;
            }
            match events.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await;
}

/// Waits for the first event matching `f`.
pub async fn wait_event(
    rx: &mut broadcast::Receiver<ClientEvent>,
    what: &str,
    f: impl Fn(&ClientEvent) -> bool,
) -> ClientEvent {
    within(what, async {
        loop {
            match rx.recv().await {
                Ok(e) if f(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
}

pub fn store_files(dir: &Path) -> Vec<PathBuf> {
    ["teamline.db", "teamline.db-wal", "teamline.db-shm"]
        .iter()
        .map(|f| dir.join(f))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The gate: a real HTTP hop between client and relay that can drop every connection
// ("network down") or refuse streams like a proxy that breaks SSE.

#[derive(Clone)]
pub struct Gate {
    pub url: String,
    down: Arc<AtomicBool>,
    break_sse: Arc<AtomicBool>,
    /// Flips to true when the gate goes down, ending open streams.
    cut: watch::Sender<u64>,
}

#[derive(Clone)]
struct GateState {
    upstream: String,
    http: reqwest::Client,
    down: Arc<AtomicBool>,
    break_sse: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Gate {
    async fn start(upstream: String) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let down = Arc::new(AtomicBool::new(false));
        let break_sse = Arc::new(AtomicBool::new(false));
        let cut = watch::channel(0u64).0;
        let st = GateState {
            upstream,
            http: reqwest::Client::new(),
            down: Arc::clone(&down),
            break_sse: Arc::clone(&break_sse),
            cut: cut.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(st);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Gate {
            url,
            down,
            break_sse,
            cut,
        }
    }

    /// Network down: requests fail, open streams end.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.cut.send_modify(|n| *n += 1);
        }
    }

    /// Answer `/v1/stream` with 502, as a proxy that cannot pass streams.
    pub fn set_break_sse(&self, on: bool) {
        self.break_sse.store(on, Ordering::SeqCst);
    }
}

async fn forward(State(st): State<GateState>, req: Request) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return (StatusCode::BAD_GATEWAY, "network down").into_response();
    }
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if path.starts_with("/v1/stream") && st.break_sse.load(Ordering::SeqCst) {
        return (StatusCode::BAD_GATEWAY, "streams not supported here").into_response();
    }
    let method = req.method().clone();
    let mut headers = HeaderMap::new();
    for (k, v) in req.headers() {
        if k != "host" && k != "content-length" {
            headers.insert(k.clone(), v.clone());
        }
    }
    let body = axum::body::to_bytes(req.into_body(), 16 << 20)
        .await
        .unwrap_or_default();
    let resp = match st
        .http
        .request(method, format!("{}{path}", st.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream unreachable").into_response(),
    };
    let status = resp.status();
    let mut out_headers = HeaderMap::new();
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            out_headers.insert(k.clone(), v.clone());
        }
    }
    let mut cut = st.cut.subscribe();
    cut.borrow_and_update();
    let down = Arc::clone(&st.down);
    let stream =
        futures_util::stream::unfold((resp, cut, down), |(mut resp, mut cut, down)| async move {
            if down.load(Ordering::SeqCst) {
                return None;
            }
            tokio::select! {
                chunk = resp.chunk() => match chunk {
                    Ok(Some(c)) => Some((Ok::<_, std::io::Error>(c), (resp, cut, down))),
                    Ok(None) => None,
                    Err(e) => Some((Err(std::io::Error::other(e)), (resp, cut, down))),
                },
                _ = cut.changed() => None,
            }
        });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    *r.headers_mut() = out_headers;
    r
}

/// The relay's refusal code of a failed call (panics on any other failure).
#[allow(dead_code, reason = "not every test binary checks refusals")]
pub fn relay_code(e: &teamline_client::ClientError) -> String {
    match e {
        teamline_client::ClientError::Relay { code, .. } => code.clone(),
        other => panic!("expected a relay refusal, got {other:?}"),
    }
}

//! [`Client`]: one linked profile — its store, its relay connection, its outbox and its
//! notifications. Everything the Tauri shell calls.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use teamline_core::PermissionSet;
use teamline_core::access::Actor;
use teamline_store::{KeySource, OsKeyring, Store, keyring_account};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::api::{self, ApiError, RelayApi};
use crate::apply::{self, Outcome};
use crate::commands::Command;
use crate::error::{ClientError, Result};
use crate::notify::{Candidate, DesktopNotifier, Dispatcher, Notifier, Recipient, decide};
use crate::profile::{
    self, DeviceToken, NotificationSettings, ProfileDir, ProfileFile, StoreKeyMode,
};
use crate::types::{
    ClientEvent, ConnectionState, DeviceInfo, OutboxEntry, SyncProgress, Transport,
};
use crate::wire;

/// Where the store's key comes from.
#[derive(Clone)]
pub enum StoreKeyChoice {
    /// The OS keyring (the app's normal path; the key is made on first link).
    OsKeyring,
    /// A passphrase the user chose explicitly (headless Linux without a keyring).
    Passphrase(String),
    /// A key the caller keeps itself: tests and benchmarks only.
    RawForTestsAndBenches([u8; 32]),
}

impl std::fmt::Debug for StoreKeyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreKeyChoice::OsKeyring => "OsKeyring",
            StoreKeyChoice::Passphrase(_) => "Passphrase(<redacted>)",
            StoreKeyChoice::RawForTestsAndBenches(_) => "Raw(<redacted>)",
        })
    }
}

impl StoreKeyChoice {
    /// The store key of a profile, as [`Client::open`] obtains it.
    pub(crate) fn source(&self, profile_id: &str) -> KeySource {
        match self {
            StoreKeyChoice::OsKeyring => KeySource::os_keyring(profile_id),
            StoreKeyChoice::Passphrase(p) => KeySource::passphrase(p),
            StoreKeyChoice::RawForTestsAndBenches(k) => {
                KeySource::raw_key_for_tests_and_benches(*k)
            }
        }
    }
}

/// Where the device token is kept.
#[derive(Clone, Default)]
pub enum TokenVault {
    /// The OS keyring (the app's only path).
    #[default]
    OsKeyring,
    /// Memory shared by the clones of this value, gone with the process: for benchmarks
    /// and tests that run without a Secret Service. Never used by the app.
    MemoryForTestsAndBenches(Arc<Mutex<Option<DeviceToken>>>),
}

impl TokenVault {
    /// A fresh, empty in-memory vault (tests and benchmarks only).
    pub fn memory_for_tests_and_benches() -> TokenVault {
        TokenVault::MemoryForTestsAndBenches(Arc::new(Mutex::new(None)))
    }

    fn save(&self, profile_id: &str, token: &DeviceToken) -> Result<()> {
        match self {
            TokenVault::OsKeyring => profile::save_token(profile_id, token),
            TokenVault::MemoryForTestsAndBenches(m) => {
                *lock(m) = Some(token.clone());
                Ok(())
            }
        }
    }

    fn load(&self, profile_id: &str) -> Result<Option<DeviceToken>> {
        match self {
            TokenVault::OsKeyring => profile::load_token(profile_id),
            TokenVault::MemoryForTestsAndBenches(m) => Ok(lock(m).clone()),
        }
    }

    fn delete(&self, profile_id: &str) -> Result<()> {
        match self {
            TokenVault::OsKeyring => profile::delete_token(profile_id),
            TokenVault::MemoryForTestsAndBenches(m) => {
                *lock(m) = None;
                Ok(())
            }
        }
    }
}

/// Timings of the sync engine. The defaults are the app's; tests shorten them.
#[derive(Debug, Clone)]
pub struct SyncTuning {
    /// First reconnect delay (then doubled, jittered, up to `backoff_max`).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long one long-poll waits on the relay.
    pub long_poll_wait_secs: u64,
    /// Consecutive broken streams (failed to open, or closed within `short_session`
    /// without delivering anything) before switching to long-poll.
    pub sse_failures_before_long_poll: u32,
    /// How long to stay on long-poll before trying the stream again.
    pub retry_sse_after: Duration,
    /// A stream silent for this long (the relay sends keep-alives every 15 s) is dead.
    pub stall_timeout: Duration,
    /// A stream that ends sooner than this without events counts as broken.
    pub short_session: Duration,
    /// Consecutive connection failures after which the state says `Offline`.
    pub offline_after_failures: u32,
    /// Most events applied in one store transaction.
    pub max_batch: usize,
}

impl Default for SyncTuning {
    fn default() -> Self {
        SyncTuning {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            long_poll_wait_secs: 25,
            sse_failures_before_long_poll: 3,
            retry_sse_after: Duration::from_secs(600),
            stall_timeout: Duration::from_secs(45),
            short_session: Duration::from_secs(10),
            offline_after_failures: 3,
            max_batch: 2000,
        }
    }
}

/// How to open a profile.
pub struct ClientOptions {
    /// The profile's data directory (`--data-dir`).
    pub data_dir: PathBuf,
    pub store_key: StoreKeyChoice,
    pub token_vault: TokenVault,
    /// `None`: the desktop notifier (notify-rust).
    pub notifier: Option<Arc<dyn Notifier>>,
    pub tuning: SyncTuning,
}

impl ClientOptions {
    /// The app's options for a data directory: OS keyring, desktop notifications.
    pub fn new(data_dir: impl Into<PathBuf>) -> ClientOptions {
        ClientOptions {
            data_dir: data_dir.into(),
            store_key: StoreKeyChoice::OsKeyring,
            token_vault: TokenVault::OsKeyring,
            notifier: None,
            tuning: SyncTuning::default(),
        }
    }
}

/// Who this device acts as, from the relay's `/v1/me` (kept in the store so the UI can
/// hide what is not allowed while offline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "Me.ts")]
pub struct MeView {
    pub device_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    /// The member's preset (`admin`, `supervisor`, ..., `custom`).
    pub role: String,
    pub teams: Vec<Uuid>,
    pub permissions: PermissionSet,
    /// On a shared device: who is signed in and who may sign in.
    #[serde(default)]
    pub shared: Option<wire::SharedDevice>,
}

impl MeView {
    pub fn actor(&self) -> Actor {
        Actor {
            member_id: self.member_id,
            teams: self.teams.clone(),
            permissions: self.permissions,
        }
    }

    fn recipient(&self) -> Recipient {
        Recipient {
            member_id: self.member_id,
            role: self.role.clone(),
            permissions: self.permissions,
        }
    }

    fn of(me: &wire::Me) -> MeView {
        MeView {
            device_id: me.device.id,
            member_id: me.member.id,
            member_name: me.member.name.clone(),
            role: me.member.preset.clone(),
            teams: me.member.teams.clone(),
            permissions: me.permissions,
            shared: me.shared.clone(),
        }
    }
}

/// What [`Client::link`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "LinkInfo.ts")]
pub struct LinkInfo {
    pub device_id: Uuid,
    /// `None` for a shared device (members sign in on it).
    pub member_id: Option<Uuid>,
    pub relay_url: String,
}

/// A page of history fetched on demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "HistoryPage.ts")]
pub struct HistoryPage {
    pub messages: u32,
    /// Pass as `before` for the next older page; `None` at the beginning.
    pub next_before: Option<Uuid>,
}

/// The desktop engine of one profile. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    dir: ProfileDir,
    /// Replaced when the user links with, or unlocks with, a passphrase.
    key: Mutex<StoreKeyChoice>,
    /// A passphrase profile whose passphrase has not been entered yet (no store open).
    locked: AtomicBool,
    vault: TokenVault,
    tuning: SyncTuning,
    http: reqwest::Client,
    profile: Mutex<ProfileFile>,
    store: Arc<Mutex<Option<Store>>>,
    api: RwLock<Option<RelayApi>>,
    me: RwLock<Option<MeView>>,
    state: watch::Sender<ConnectionState>,
    transport: watch::Sender<Transport>,
    progress: watch::Sender<Option<SyncProgress>>,
    events: broadcast::Sender<ClientEvent>,
    open_rx: Mutex<Option<mpsc::UnboundedReceiver<Uuid>>>,
    dispatcher: Arc<Dispatcher>,
    outbox_wake: Notify,
    reconnect: Notify,
    stop: watch::Sender<bool>,
    started: AtomicBool,
    unlinked: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Most bytes the encrypted media cache may hold ([`Client::set_media_cache_limit`]).
    media_cache_cap: AtomicU64,
}

/// The store's device value holding a passphrase profile's device token.
const TOKEN_VALUE: &str = "device_token";

/// Shortest passphrase accepted for a new store: it is the only thing between a stolen
/// laptop and the customers' chats (Argon2id slows guessing, it cannot save a short one).
pub const MIN_PASSPHRASE_CHARS: usize = 10;

fn check_new_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(ClientError::Invalid(format!(
            "the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    /// Opens the profile in `opts.data_dir` (creating the directory). An unlinked profile
    /// opens in state `NotLinked` (or `Unlinked` after an admin unlinked it); a linked one
    /// opens its store (key from `opts.store_key`: a missing or wrong key fails closed with
    /// the store's error) and reads its device token from the OS keyring.
    pub async fn open(opts: ClientOptions) -> Result<Client> {
        let dir = ProfileDir::new(opts.data_dir);
        std::fs::create_dir_all(dir.dir())
            .map_err(|e| ClientError::Profile(format!("{}: {e}", dir.dir().display())))?;
        let profile = dir.load()?;
        let (open_tx, open_rx) = mpsc::unbounded_channel();
        let notifier = opts
            .notifier
            .unwrap_or_else(|| Arc::new(DesktopNotifier::default()));
        let initial = if profile.is_linked() {
            ConnectionState::Reconnecting { retry_in_secs: 0 }
        } else if profile.unlinked_at.is_some() {
            ConnectionState::Unlinked
        } else {
            ConnectionState::NotLinked
        };
        let inner = Arc::new(Inner {
            dir,
            key: Mutex::new(opts.store_key),
            locked: AtomicBool::new(false),
            vault: opts.token_vault,
            tuning: opts.tuning,
            http: api::http_client(),
            profile: Mutex::new(profile.clone()),
            store: Arc::new(Mutex::new(None)),
            api: RwLock::new(None),
            me: RwLock::new(None),
            state: watch::channel(initial).0,
            transport: watch::channel(Transport::Sse).0,
            progress: watch::channel(None).0,
            events: broadcast::channel(1024).0,
            open_rx: Mutex::new(Some(open_rx)),
            dispatcher: Arc::new(Dispatcher::new(notifier, open_tx)),
            outbox_wake: Notify::new(),
            reconnect: Notify::new(),
            stop: watch::channel(false).0,
            started: AtomicBool::new(false),
            unlinked: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
            media_cache_cap: AtomicU64::new(crate::media::DEFAULT_MEDIA_CACHE_BYTES),
        });
        if profile.is_linked() {
            let key = lock(&inner.key).clone();
            if profile.store_key == StoreKeyMode::Passphrase
                && !matches!(key, StoreKeyChoice::Passphrase(_))
            {
                // Nothing is opened until the user enters the passphrase (`unlock`).
                inner.locked.store(true, Ordering::SeqCst);
                inner.state.send_replace(ConnectionState::Locked);
            } else {
                inner.open_store(key).await?;
            }
        }
        Ok(Client { inner })
    }

    /// Opens the profile and, when it is not linked yet, links it with `code` (the
    /// shell's `--data-dir DIR --relay URL --pair CODE`). A linked profile ignores the code.
    pub async fn provision(
        opts: ClientOptions,
        relay_url: &str,
        code: &str,
        device: &DeviceInfo,
    ) -> Result<Client> {
        let client = Client::open(opts).await?;
        if client.is_linked() {
            tracing::info!("profile already linked; pairing code not used");
        } else {
            client.link(relay_url, code, device).await?;
        }
        Ok(client)
    }

    /// Links this profile: claims `code` on the relay, keeps the device token in the OS
    /// keyring, creates the encrypted store (and its key), and records relay URL and ids
    /// in `profile.json`. Starts syncing at once if [`Client::start`] was called.
    pub async fn link(&self, relay_url: &str, code: &str, device: &DeviceInfo) -> Result<LinkInfo> {
        let key = lock(&self.inner.key).clone();
        self.link_with(relay_url, code, device, key, StoreKeyMode::Keyring)
            .await
    }

    /// Links this profile like [`Client::link`], for a computer without an OS keyring: the
    /// store is encrypted with a key derived from `passphrase` (Argon2id) and the device
    /// token is kept inside it. Every start then asks for the passphrase ([`Client::unlock`]).
    pub async fn link_with_passphrase(
        &self,
        relay_url: &str,
        code: &str,
        device: &DeviceInfo,
        passphrase: &str,
    ) -> Result<LinkInfo> {
        check_new_passphrase(passphrase)?;
        let key = StoreKeyChoice::Passphrase(passphrase.to_owned());
        self.link_with(relay_url, code, device, key, StoreKeyMode::Passphrase)
            .await
    }

    async fn link_with(
        &self,
        relay_url: &str,
        code: &str,
        device: &DeviceInfo,
        key: StoreKeyChoice,
        mode: StoreKeyMode,
    ) -> Result<LinkInfo> {
        let inner = &self.inner;
        if self.is_linked() {
            return Err(ClientError::AlreadyLinked);
        }
        let relay_url = relay_url.trim_end_matches('/').to_owned();
        if !(relay_url.starts_with("http://") || relay_url.starts_with("https://")) {
            return Err(ClientError::Invalid(
                "the relay address must start with https:// (or http:// on a local network)".into(),
            ));
        }
        // A pairing code works once: make sure the secrets can be kept before using it.
        let needs_keyring = matches!(key, StoreKeyChoice::OsKeyring)
            || (mode == StoreKeyMode::Keyring && matches!(inner.vault, TokenVault::OsKeyring));
        if needs_keyring {
            tokio::task::spawn_blocking(|| {
                OsKeyring::connect().and_then(|k| k.load(&keyring_account("reachability-probe")))
            })
            .await
            .map_err(|e| ClientError::Profile(e.to_string()))?
            .map_err(|reason| ClientError::Keyring(reason.to_string()))?;
        }
        let claim = api::claim(
            &inner.http,
            &relay_url,
            &wire::ClaimRequest {
                code,
                name: &device.name,
                os: &device.os,
                os_version: &device.os_version,
                app_version: &device.app_version,
            },
        )
        .await?;
        let token = DeviceToken(claim.token);
        let profile_id = Uuid::now_v7().simple().to_string();
        let vault = inner.vault.clone();
        let path = inner.dir.store_path();
        let pid = profile_id.clone();
        let tok = token.clone();
        let source = key.source(&pid);
        let store = tokio::task::spawn_blocking(move || -> Result<Store> {
            // Leftovers of an earlier, never-finished link hold nothing of value.
            Store::destroy(&path)?;
            match mode {
                StoreKeyMode::Keyring => {
                    vault.save(&pid, &tok)?;
                    Ok(Store::open(&path, source)?)
                }
                StoreKeyMode::Passphrase => {
                    let mut store = Store::open(&path, source)?;
                    store.set_device_value(TOKEN_VALUE, Some(&tok.0))?;
                    Ok(store)
                }
            }
        })
        .await
        .map_err(|e| ClientError::Profile(e.to_string()))??;
        let mut p = lock(&inner.profile).clone();
        p.profile_id = Some(profile_id);
        p.relay_url = Some(relay_url.clone());
        p.device_id = Some(claim.device_id);
        p.member_id = claim.member_id;
        p.linked_at = Some(Timestamp::now());
        p.unlinked_at = None;
        p.store_key = mode;
        inner.dir.save(&p)?;
        *lock(&inner.key) = key;
        inner.locked.store(false, Ordering::SeqCst);
        *lock(&inner.profile) = p;
        *lock(&inner.store) = Some(store);
        let api = RelayApi::new(inner.http.clone(), &relay_url, &token);
        *inner.api.write().unwrap_or_else(|e| e.into_inner()) = Some(api.clone());
        inner.unlinked.store(false, Ordering::SeqCst);
        inner
            .state
            .send_replace(ConnectionState::Reconnecting { retry_in_secs: 0 });
        // Best effort: the sync loop refreshes this on every connect anyway.
        if let Ok(me) = api.me().await {
            let _ = inner.remember_me(&me).await;
        }
        tracing::info!(device_id = %claim.device_id, "device linked");
        if inner.started.load(Ordering::SeqCst) {
            self.spawn_tasks();
        }
        Ok(LinkInfo {
            device_id: claim.device_id,
            member_id: claim.member_id,
            relay_url,
        })
    }

    /// Starts syncing and sending the outbox in the background (on the current tokio
    /// runtime). Does nothing more when called twice; a profile linked later starts then.
    pub fn start(&self) {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        if self.is_linked() && !self.inner.locked.load(Ordering::SeqCst) {
            self.spawn_tasks();
        }
    }

    /// Opens a passphrase-protected profile (state [`ConnectionState::Locked`]) and starts
    /// syncing if [`Client::start`] was called. A wrong passphrase fails with the store's
    /// `store_wrong_key` and leaves the profile locked and its files untouched.
    pub async fn unlock(&self, passphrase: &str) -> Result<()> {
        let inner = &self.inner;
        if !inner.locked.load(Ordering::SeqCst) {
            return Err(ClientError::Invalid(
                "this device's data is not locked".into(),
            ));
        }
        let key = StoreKeyChoice::Passphrase(passphrase.to_owned());
        inner.open_store(key.clone()).await?;
        *lock(&inner.key) = key;
        inner.locked.store(false, Ordering::SeqCst);
        inner
            .state
            .send_replace(ConnectionState::Reconnecting { retry_in_secs: 0 });
        if inner.started.load(Ordering::SeqCst) {
            self.spawn_tasks();
        }
        Ok(())
    }

    /// Whether the profile waits for its passphrase.
    pub fn is_locked(&self) -> bool {
        self.inner.locked.load(Ordering::SeqCst)
    }

    fn spawn_tasks(&self) {
        let mut tasks = lock(&self.inner.tasks);
        tasks.push(tokio::spawn(crate::sync::run(Arc::clone(&self.inner))));
        tasks.push(tokio::spawn(crate::outbox::run(Arc::clone(&self.inner))));
    }

    /// Stops the background tasks and waits for them (the store stays open for reads).
    pub async fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        for t in tasks {
            let _ = t.await;
        }
    }

    /// Stops the engine and deletes this profile's local data: the store with its files
    /// and the keyring entries (leaving the demo). The relay is not told.
    pub async fn forget(self) {
        self.shutdown().await;
        self.inner.wipe_local_data().await;
    }

    // ---- what the shell observes ----

    /// The connection state; `changed().await` on it for the status bar.
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.state.subscribe()
    }

    /// SSE or long-poll.
    pub fn transport(&self) -> watch::Receiver<Transport> {
        self.inner.transport.subscribe()
    }

    /// Progress of a running full resync (`None` when none runs).
    pub fn resync_progress(&self) -> watch::Receiver<Option<SyncProgress>> {
        self.inner.progress.subscribe()
    }

    /// Applied batches, outbox changes, typing, unlinking... (see [`ClientEvent`]).
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    /// "Open conversation X" requests from clicked notifications. There is one receiver;
    /// the first call takes it.
    pub fn take_open_requests(&self) -> Option<mpsc::UnboundedReceiver<Uuid>> {
        lock(&self.inner.open_rx).take()
    }

    // ---- profile ----

    pub fn is_linked(&self) -> bool {
        lock(&self.inner.profile).is_linked()
    }

    pub fn profile(&self) -> ProfileFile {
        lock(&self.inner.profile).clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.inner.dir.dir().to_owned()
    }

    /// This device's member and effective permissions, as last told by the relay.
    pub fn me(&self) -> Option<MeView> {
        self.inner
            .me
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The actor for teamline-core's access rules (to hide what cannot be done).
    pub fn actor(&self) -> Option<Actor> {
        self.me().map(|m| m.actor())
    }

    pub fn notification_settings(&self) -> NotificationSettings {
        lock(&self.inner.profile).notifications.clone()
    }

    /// Saves per-device notification settings (do-not-disturb hours...).
    pub fn set_notification_settings(&self, s: NotificationSettings) -> Result<()> {
        if let Some(tz) = &s.time_zone {
            teamline_core::schedule::time_zone(tz)
                .map_err(|e| ClientError::Invalid(e.to_string()))?;
        }
        let mut p = lock(&self.inner.profile);
        let mut next = p.clone();
        next.notifications = s;
        self.inner.dir.save(&next)?;
        *p = next;
        Ok(())
    }

    /// Interrupts a reconnect wait and tries now (the "Retry now" button).
    pub fn reconnect_now(&self) {
        self.inner.reconnect.notify_one();
        self.inner.outbox_wake.notify_one();
    }

    /// Asks the relay again who this device acts as (after a sign-in or switch).
    pub async fn refresh_me(&self) -> Result<()> {
        let api = self.inner_api()?;
        let me = api.me().await?;
        self.inner.remember_me(&me).await
    }

    /// Most bytes the encrypted media cache may hold.
    pub(crate) fn media_cache_cap(&self) -> u64 {
        self.inner.media_cache_cap.load(Ordering::Relaxed)
    }

    /// Sets the media cache's size cap (default 200 MB); the least recently used media
    /// goes first once it is full.
    pub fn set_media_cache_limit(&self, bytes: u64) {
        self.inner.media_cache_cap.store(bytes, Ordering::Relaxed);
    }

    pub(crate) fn inner_api(&self) -> Result<RelayApi> {
        if self.inner.unlinked.load(Ordering::SeqCst) {
            return Err(ClientError::Unlinked);
        }
        self.inner.api().ok_or(ClientError::NotLinked)
    }

    // ---- reads ----

    /// Runs `f` on the store (on a blocking thread). The store's read API is the read API:
    /// `conversations()`, `messages(..)`, `search(..)`, `notes(..)`, `labels()`...
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> teamline_store::Result<T> + Send + 'static,
    ) -> Result<T> {
        self.inner.with_store(move |s| Ok(f(s)?)).await
    }

    /// Runs `f` on the store, for the crate's own small writes (e.g. the audit head the
    /// team calls remember).
    pub(crate) async fn with_store_mut<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.inner.with_store(f).await
    }

    /// The last applied relay seq.
    pub async fn cursor(&self) -> Result<u64> {
        self.read(|s| s.cursor()).await
    }

    /// Whether `command` is allowed by the local view (same rules as the relay).
    pub async fn check(&self, command: &Command) -> Result<()> {
        let id = command.conversation_id();
        let conv = self.read(move |s| s.conversation(id)).await?;
        let conv = conv.ok_or(ClientError::UnknownConversation)?;
        if let Some(actor) = self.actor() {
            command
                .check(&actor, &apply::access_of(&conv))
                .map_err(ClientError::Denied)?;
        }
        Ok(())
    }

    // ---- commands and outbox ----

    /// Queues `command` in the outbox (written to the store before anything is sent) and
    /// wakes the sender. Returns the queued entry; `Typing` is sent at once, best effort,
    /// and returns `None`.
    pub async fn send(&self, command: Command) -> Result<Option<OutboxEntry>> {
        self.send_with_id(Uuid::now_v7(), command).await
    }

    /// As [`Client::send`] with a caller-chosen idempotency key (queuing the same key
    /// twice queues once).
    pub async fn send_with_id(&self, id: Uuid, command: Command) -> Result<Option<OutboxEntry>> {
        if self.inner.unlinked.load(Ordering::SeqCst) {
            return Err(ClientError::Unlinked);
        }
        if !self.is_linked() {
            return Err(ClientError::NotLinked);
        }
        self.check(&command).await?;
        let json =
            serde_json::to_value(&command).map_err(|e| ClientError::Invalid(e.to_string()))?;
        if !command.is_durable() {
            if let Some(api) = self.inner.api() {
                tokio::spawn(async move {
                    if let Err(e) = api.command(id, &json).await {
                        tracing::debug!(error = %e, "presence not sent");
                    }
                });
            }
            return Ok(None);
        }
        let item = self
            .inner
            .with_store(move |s| Ok(s.outbox_enqueue(id, &json)?))
            .await?;
        self.inner.outbox_wake.notify_one();
        let _ = self.inner.events.send(ClientEvent::OutboxChanged);
        Ok(Some(OutboxEntry::from_item(&item)))
    }

    /// What the UI shows as queued: pending and failed commands, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let items = self.read(|s| s.outbox_unsent()).await?;
        Ok(items.iter().map(OutboxEntry::from_item).collect())
    }

    /// Drops a pending or failed command the user chose to discard.
    pub async fn discard(&self, id: Uuid) -> Result<bool> {
        let gone = self
            .inner
            .with_store(move |s| Ok(s.outbox_discard(id)?))
            .await?;
        let _ = self.inner.events.send(ClientEvent::OutboxChanged);
        Ok(gone)
    }

    /// Marks a conversation read on this device (opened in the window).
    pub async fn mark_read(&self, conversation_id: Uuid) -> Result<bool> {
        let changed = self
            .inner
            .with_store(move |s| Ok(s.mark_read(conversation_id)?))
            .await?;
        if changed {
            let _ = self
                .inner
                .events
                .send(ClientEvent::Read { conversation_id });
        }
        Ok(changed)
    }

    // ---- history ----

    /// Fetches a page of a conversation's history from the relay (newest first, older
    /// than the message `before`) into the store.
    pub async fn load_history(
        &self,
        conversation_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<HistoryPage> {
        let api = self.inner.api().ok_or(ClientError::NotLinked)?;
        let page = match api
            .messages(conversation_id, before, limit.clamp(1, 200))
            .await
        {
            Ok(p) => p,
            Err(ApiError::Unlinked) => {
                self.inner.wipe_unlinked().await;
                return Err(ClientError::Unlinked);
            }
            Err(e) => return Err(e.into()),
        };
        let n = page.messages.len() as u32;
        self.inner
            .with_store(move |s| {
                let seq = s.cursor()?;
                s.write(|b| {
                    for m in &page.messages {
                        apply::write_message(b, m, seq)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })
            .await?;
        let _ = self.inner.events.send(ClientEvent::Backfilled {
            conversation_id,
            messages: n,
        });
        Ok(HistoryPage {
            messages: n,
            next_before: page.next_before,
        })
    }
}

// ---- engine internals shared by the sync and outbox tasks ----

impl Inner {
    pub(crate) fn api(&self) -> Option<RelayApi> {
        self.api.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn tuning(&self) -> &SyncTuning {
        &self.tuning
    }

    pub(crate) fn stop_rx(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub(crate) fn stopped(&self) -> bool {
        *self.stop.borrow() || self.unlinked.load(Ordering::SeqCst)
    }

    pub(crate) fn set_state(&self, s: ConnectionState) {
        if self.unlinked.load(Ordering::SeqCst) && s != ConnectionState::Unlinked {
            return;
        }
        self.state.send_if_modified(|cur| {
            if *cur == s {
                false
            } else {
                *cur = s;
                true
            }
        });
    }

    pub(crate) fn state_rx(&self) -> watch::Receiver<ConnectionState> {
        self.state.subscribe()
    }

    pub(crate) fn set_transport(&self, t: Transport) {
        let changed = self.transport.send_if_modified(|cur| {
            if *cur == t {
                false
            } else {
                *cur = t;
                true
            }
        });
        if changed {
            tracing::info!(transport = ?t, "sync transport changed");
            let _ = self.events.send(ClientEvent::Transport { transport: t });
        }
    }

    pub(crate) fn emit(&self, e: ClientEvent) {
        let _ = self.events.send(e);
    }

    pub(crate) fn set_progress(&self, p: Option<SyncProgress>) {
        self.progress.send_replace(p);
        if let Some(p) = p {
            self.emit(ClientEvent::ResyncProgress(p));
        }
    }

    pub(crate) fn reconnect_notify(&self) -> &Notify {
        &self.reconnect
    }

    pub(crate) fn outbox_notify(&self) -> &Notify {
        &self.outbox_wake
    }

    /// Opens the linked profile's store with `key` and reads its device token (from the
    /// keyring, or from inside the store for a passphrase profile); then the relay API and
    /// the last known permissions are ready.
    async fn open_store(&self, key: StoreKeyChoice) -> Result<()> {
        let profile = lock(&self.profile).clone();
        let (Some(profile_id), Some(relay)) = (profile.profile_id, profile.relay_url) else {
            return Err(ClientError::NotLinked);
        };
        let vault = self.vault.clone();
        let path = self.dir.store_path();
        let mode = profile.store_key;
        let (store, token) = tokio::task::spawn_blocking(move || -> Result<_> {
            let no_token = || {
                ClientError::Keyring(
                    "no device token is kept for this profile; link the device again".into(),
                )
            };
            match mode {
                StoreKeyMode::Keyring => {
                    let token = vault.load(&profile_id)?.ok_or_else(no_token)?;
                    let store = Store::open(&path, key.source(&profile_id))?;
                    Ok((store, token))
                }
                StoreKeyMode::Passphrase => {
                    let store = Store::open(&path, key.source(&profile_id))?;
                    let token = store.device_value(TOKEN_VALUE)?.ok_or_else(no_token)?;
                    Ok((store, DeviceToken(token)))
                }
            }
        })
        .await
        .map_err(|e| ClientError::Profile(e.to_string()))??;
        let me: Option<MeView> = store
            .my_permissions()?
            .and_then(|v| serde_json::from_value(v).ok());
        *lock(&self.store) = Some(store);
        *self.api.write().unwrap_or_else(|p| p.into_inner()) =
            Some(RelayApi::new(self.http.clone(), &relay, &token));
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        Ok(())
    }

    /// Runs `f` with the store on a blocking thread. `Unlinked` once the store was wiped.
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(&self.store);
        let locked = self.locked.load(Ordering::SeqCst);
        tokio::task::spawn_blocking(move || {
            let mut guard = lock(&store);
            match guard.as_mut() {
                Some(s) => f(s),
                None if locked => Err(ClientError::Locked),
                None => Err(ClientError::Unlinked),
            }
        })
        .await
        .map_err(|e| ClientError::Profile(format!("store task failed: {e}")))?
    }

    /// Records `/v1/me`: member, permissions (in the store, for offline use) and memory.
    pub(crate) async fn remember_me(&self, me: &wire::Me) -> Result<()> {
        let view = MeView::of(me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = Some(view.clone());
        let member = teamline_store::Member {
            id: me.member.id,
            name: me.member.name.clone(),
            role: me.member.preset.clone(),
            active: me.member.active,
            seq: 0,
        };
        let json = serde_json::to_value(&view).map_err(|e| ClientError::Invalid(e.to_string()))?;
        self.with_store(move |s| {
            let seq = s.cursor()?;
            s.write(|b| {
                b.set_my_permissions(&json, seq)?;
                b.upsert_member(&teamline_store::Member { seq, ..member })?;
                Ok(())
            })?;
            Ok(())
        })
        .await
    }

    /// Applies a batch of events in one transaction, then tells the shell, decides
    /// notifications, and fetches conversations the batch referred to but the store lacks.
    pub(crate) async fn apply(self: &Arc<Self>, events: Vec<wire::Event>) -> Result<Outcome> {
        let actor = self
            .me
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .map(|m| m.actor());
        let outcome = self
            .with_store(move |s| Ok(apply::apply_events(s, &events, actor.as_ref())?))
            .await?;
        if outcome.applied > 0 {
            self.emit(ClientEvent::Applied {
                first_seq: outcome.first_seq.unwrap_or(0),
                last_seq: outcome.last_seq.unwrap_or(0),
                count: outcome.applied as u32,
                conversations: outcome.conversations.iter().copied().collect(),
                whole_inbox: outcome.whole_inbox,
            });
        }
        for summary in &outcome.broadcasts {
            self.emit(ClientEvent::BroadcastChanged(Box::new(summary.clone())));
        }
        if !outcome.candidates.is_empty() {
            self.notify(outcome.candidates.clone());
        }
        if !outcome.missing.is_empty() {
            let me = Arc::clone(self);
            let missing: Vec<Uuid> = outcome.missing.iter().copied().collect();
            tokio::spawn(async move {
                for id in missing {
                    if let Err(e) = me.fetch_conversation(id).await {
                        tracing::debug!(conversation_id = %id, error = %e, "could not fetch a conversation");
                    }
                }
            });
        }
        Ok(outcome)
    }

    fn notify(&self, candidates: Vec<Candidate>) {
        let Some(me) = self.me.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let settings = lock(&self.profile).notifications.clone();
        let tz = settings
            .time_zone
            .as_deref()
            .and_then(|z| teamline_core::schedule::time_zone(z).ok())
            .unwrap_or_else(TimeZone::system);
        let now = Timestamp::now();
        let recipient = me.recipient();
        let decided: Vec<_> = candidates
            .iter()
            .filter_map(|c| decide(c, &recipient, &settings, now, &tz))
            .collect();
        if decided.is_empty() {
            return;
        }
        let dispatcher = Arc::clone(&self.dispatcher);
        // Showing talks to D-Bus (or the OS) and may block.
        tokio::task::spawn_blocking(move || {
            for n in &decided {
                dispatcher.dispatch(n);
            }
        });
    }

    /// Fetches one conversation (and its latest messages) the store does not have.
    pub(crate) async fn fetch_conversation(&self, id: Uuid) -> Result<()> {
        let Some(api) = self.api() else {
            return Ok(());
        };
        let row = match api.conversation(id).await {
            Ok(r) => r,
            Err(ApiError::Status { status: 404, .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let page = api.messages(id, None, 50).await?;
        self.with_store(move |s| {
            let seq = s.cursor()?;
            let existing = s.conversation(id)?;
            s.write(|b| {
                b.upsert_conversation(&apply::conversation_of(existing.as_ref(), &row, None, seq))?;
                for m in &page.messages {
                    apply::write_message(b, m, seq)?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await?;
        self.emit(ClientEvent::Applied {
            first_seq: 0,
            last_seq: 0,
            count: 0,
            conversations: vec![id],
            whole_inbox: false,
        });
        Ok(())
    }

    /// The relay unlinked this device: close and delete the store with its WAL,
    /// shared-memory and sidecar files, delete the keyring entries (store key and device
    /// token), keep only "unlinked" in the profile, and say so.
    pub(crate) async fn wipe_unlinked(&self) {
        if self.unlinked.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::warn!("this device was unlinked by an admin; wiping local data");
        self.wipe_local_data().await;
        let mut p = lock(&self.profile).clone();
        p.profile_id = None;
        p.device_id = None;
        p.member_id = None;
        p.linked_at = None;
        p.unlinked_at = Some(Timestamp::now());
        p.store_key = StoreKeyMode::default();
        if let Err(e) = self.dir.save(&p) {
            tracing::error!(error = %e, "could not record the unlinking in the profile");
        }
        *lock(&self.profile) = p;
        self.state.send_replace(ConnectionState::Unlinked);
        self.emit(ClientEvent::Unlinked);
        self.outbox_wake.notify_one();
    }

    /// Closes and deletes the store with its WAL, shared-memory and sidecar files, and
    /// deletes the keyring entries (store key and device token).
    async fn wipe_local_data(&self) {
        *self.api.write().unwrap_or_else(|p| p.into_inner()) = None;
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = None;
        let store = Arc::clone(&self.store);
        let path = self.dir.store_path();
        let profile_id = lock(&self.profile).profile_id.clone();
        let vault = self.vault.clone();
        let keyring_profile = lock(&self.profile).store_key == StoreKeyMode::Keyring;
        let wipe_key = keyring_profile && matches!(*lock(&self.key), StoreKeyChoice::OsKeyring);
        let wiped = tokio::task::spawn_blocking(move || {
            // Dropping the store closes its connection (and checkpoints nothing on purpose).
            drop(lock(&store).take());
            if let Err(e) = Store::destroy(&path) {
                tracing::error!(error = %e, "could not delete the local store");
            }
            if let Some(pid) = profile_id {
                if wipe_key {
                    match OsKeyring::connect() {
                        Ok(k) => {
                            if let Err(e) = k.delete(&keyring_account(&pid)) {
                                tracing::error!(error = %e, "could not delete the store key");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "keyring unreachable while wiping"),
                    }
                }
                if keyring_profile
                    && let Err(e) = vault.delete(&pid)
                {
                    tracing::error!(error = %e, "could not delete the device credential from the keyring");
                }
            }
        })
        .await;
        if wiped.is_err() {
            tracing::error!("the wipe task failed");
        }
    }
}

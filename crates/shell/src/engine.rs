//! The profile's engine (`teamline_client::Client`) as the commands reach it: opened when
//! the app starts, replaced on "Try the demo", a retry or a restore from a backup, and
//! forwarding what it reports to the UI through the [`Host`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use teamline_client::{Client, ClientEvent, ClientOptions, DeviceInfo};
use teamline_demo::{DemoShop, shop_dirs};

use crate::host::{Host, ShellEvent};
use crate::ipc::{ErrorCode, IpcError};

/// How the app was asked to start (its command line).
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// The profile's data directory.
    pub data_dir: PathBuf,
    /// With `pair`: link an unlinked profile to this relay on first start.
    pub relay: Option<String>,
    pub pair: Option<String>,
    pub device_name: Option<String>,
}

pub struct Engine {
    /// `None` while the profile cannot be opened (see `startup_error`); `retry` may fill it.
    client: RwLock<Option<Client>>,
    pub startup_error: Mutex<Option<IpcError>>,
    /// Where the profile lives (`None` when not even that could be found).
    data_dir: Option<PathBuf>,
    /// The demo shop this window is linked to, when the user chose "Try the demo".
    demo: tokio::sync::Mutex<Option<DemoShop>>,
    /// Whether `demo` holds a shop, readable without waiting for its lock.
    in_demo: AtomicBool,
    /// Set once [`Engine::start`] has run.
    started: tokio::sync::watch::Sender<bool>,
    host: Arc<dyn Host>,
}

impl Engine {
    /// An engine whose profile in `data_dir` is not open yet: commands wait in
    /// [`Engine::ready`] until [`Engine::start`] has run, so a window can load its page
    /// while the store opens.
    pub fn new(host: Arc<dyn Host>, data_dir: PathBuf) -> Engine {
        Engine {
            client: RwLock::new(None),
            startup_error: Mutex::new(None),
            data_dir: Some(data_dir),
            demo: tokio::sync::Mutex::new(None),
            in_demo: AtomicBool::new(false),
            started: tokio::sync::watch::channel(false).0,
            host,
        }
    }

    /// Opens the profile at once: [`Engine::new`] then [`Engine::start`].
    pub async fn open(host: Arc<dyn Host>, startup: &Startup) -> Engine {
        let engine = Engine::new(host, startup.data_dir.clone());
        engine.start(startup).await;
        engine
    }

    /// Opens (and, with `relay` and `pair`, links) the profile. Never fails: a profile that
    /// cannot be opened leaves the reason for the UI to show. Call it inside the runtime
    /// the engine's tasks should run on.
    pub async fn start(&self, startup: &Startup) {
        let data_dir = startup.data_dir.clone();
        match open_client(self.host.as_ref(), startup).await {
            Err(e) => {
                tracing::error!(code = %e.code, "the engine could not start: {}", e.message);
                self.set_startup_error(Some(e));
            }
            Ok((client, provision_error)) => {
                // An unlinked profile that chose the demo before opens the demo shop again.
                let mut startup_error = provision_error;
                let mut client = client;
                if !client.is_linked() && startup.pair.is_none() && demo_marker(&data_dir).exists()
                {
                    match open_demo(self.host.as_ref(), &data_dir).await {
                        Ok((shop, demo_client)) => {
                            client.shutdown().await;
                            demo_client.start();
                            client = demo_client;
                            *self.demo.lock().await = Some(shop);
                            self.in_demo.store(true, Ordering::SeqCst);
                        }
                        Err(e) => startup_error = Some(e),
                    }
                }
                forward(&self.host, &client);
                *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
                self.set_startup_error(startup_error);
            }
        }
        self.started.send_replace(true);
    }

    /// An engine with no profile, for when even the data directory is missing.
    pub fn failed(host: Arc<dyn Host>, e: IpcError) -> Engine {
        tracing::error!(code = %e.code, "the engine could not start: {}", e.message);
        Engine {
            client: RwLock::new(None),
            startup_error: Mutex::new(Some(e)),
            data_dir: None,
            demo: tokio::sync::Mutex::new(None),
            in_demo: AtomicBool::new(false),
            started: tokio::sync::watch::channel(true).0,
            host,
        }
    }

    /// Waits until [`Engine::start`] has run (at once for an engine that has).
    pub async fn ready(&self) {
        let mut started = self.started.subscribe();
        // The sender lives in `self`, so the wait ends only by `start` finishing.
        let _ = started.wait_for(|done| *done).await;
    }

    fn set_startup_error(&self, e: Option<IpcError>) {
        if let Ok(mut slot) = self.startup_error.lock() {
            *slot = e;
        }
    }

    pub fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    /// The profile's data directory, if one could be found.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.clone()
    }

    /// The client, or why there is none.
    pub fn client(&self) -> Result<Client, IpcError> {
        self.current().ok_or_else(|| {
            self.startup_error().unwrap_or_else(|| {
                IpcError::new(ErrorCode::EngineUnavailable, "the engine is not running")
            })
        })
    }

    /// The client if the profile is open.
    pub fn current(&self) -> Option<Client> {
        self.client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Takes the client out (the caller shuts it down or forgets it).
    fn take_client(&self) -> Option<Client> {
        self.client
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    pub fn startup_error(&self) -> Option<IpcError> {
        self.startup_error.lock().ok().and_then(|e| e.clone())
    }

    pub fn clear_startup_error(&self) {
        self.set_startup_error(None);
    }

    /// Runs `client` in place of the current engine (already shut down by the caller).
    fn replace(&self, client: Client) {
        client.start();
        forward(&self.host, &client);
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        self.clear_startup_error();
    }

    /// Sets this (unlinked) device up from an encrypted backup of another device: links it
    /// with `code`, fills its new store from the backup, and runs the restored engine in
    /// place of the empty one. A wrong passphrase or a bad file changes nothing and leaves
    /// the code unused.
    pub async fn restore(
        &self,
        backup: &Path,
        passphrase: &str,
        relay_url: &str,
        code: &str,
        device: &DeviceInfo,
    ) -> Result<teamline_client::backup::RestoredBackup, IpcError> {
        let current = self.client()?;
        if current.is_linked() {
            return Err(teamline_client::ClientError::AlreadyLinked.into());
        }
        tracing::info!("restoring this device from a backup");
        let dir = current.data_dir();
        current.shutdown().await;
        drop(current);
        let (client, restored) = Client::restore_backup(
            ClientOptions::new(dir),
            backup,
            passphrase,
            relay_url,
            code,
            device,
        )
        .await?;
        self.replace(client);
        Ok(restored)
    }

    /// "Try the demo": opens the demo shop (a relay and the WhatsApp emulator inside the
    /// app) and runs its owner's profile in place of this unlinked one. Remembered, so the
    /// app opens the shop again at its next start until a real team is joined.
    pub async fn start_demo(&self) -> Result<(), IpcError> {
        let current = self.client()?;
        if current.is_linked() {
            return Err(teamline_client::ClientError::AlreadyLinked.into());
        }
        let data_dir = self
            .data_dir
            .clone()
            .ok_or_else(|| IpcError::new(ErrorCode::DataDirUnavailable, "no data directory"))?;
        let mut demo = self.demo.lock().await;
        let (shop, client) = open_demo(self.host.as_ref(), &data_dir).await?;
        std::fs::write(demo_marker(&data_dir), b"").map_err(|e| {
            IpcError::new(
                ErrorCode::DemoUnavailable,
                format!("cannot remember the demo: {e}"),
            )
        })?;
        current.shutdown().await;
        drop(current);
        self.replace(client);
        *demo = Some(shop);
        self.in_demo.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Whether this window runs the demo shop.
    pub fn in_demo(&self) -> bool {
        self.in_demo.load(Ordering::SeqCst)
    }

    /// Leaves the demo: stops the shop, deletes its data and its owner's profile (store and
    /// keyring entries), and opens this window's own unlinked profile again, so "Join my
    /// team" and "Try the demo" show as on the first run.
    pub async fn leave_demo(&self) -> Result<(), IpcError> {
        let mut demo = self.demo.lock().await;
        let Some(shop) = demo.take() else {
            return Err(IpcError::new(
                ErrorCode::NotInDemo,
                "This window is not running the demo.",
            ));
        };
        self.in_demo.store(false, Ordering::SeqCst);
        let data_dir = self
            .data_dir
            .clone()
            .ok_or_else(|| IpcError::new(ErrorCode::DataDirUnavailable, "no data directory"))?;
        // The marker goes first: if anything below is cut short, the next start opens this
        // window's own profile, not the half-removed shop.
        if let Err(e) = std::fs::remove_file(demo_marker(&data_dir))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not remove the demo marker: {e}");
        }
        if let Some(owner) = self.take_client() {
            owner.forget().await;
        }
        if let Err(e) = shop.shutdown().await {
            tracing::warn!("the demo shop did not stop cleanly: {e:#}");
        }
        if let Err(e) = std::fs::remove_dir_all(data_dir.join("demo")) {
            tracing::warn!("could not delete the demo shop's data: {e}");
        }
        let client = Client::open(ClientOptions::new(data_dir)).await?;
        self.replace(client);
        Ok(())
    }

    /// Tries again to open a profile that could not be opened at start (e.g. the keyring
    /// was locked and has been unlocked since). A running engine is left as it is.
    pub async fn retry(&self) -> Result<(), IpcError> {
        if self.current().is_some() {
            return Ok(());
        }
        let Some(dir) = self.data_dir.clone() else {
            return Err(self.client().err().unwrap_or_else(|| {
                IpcError::new(ErrorCode::DataDirUnavailable, "no data directory")
            }));
        };
        let client = Client::open(ClientOptions::new(dir)).await?;
        self.replace(client);
        Ok(())
    }

    /// Stops the engine's tasks and the demo shop (the web shell's Ctrl-C).
    pub async fn shutdown(&self) {
        if let Some(client) = self.take_client() {
            client.shutdown().await;
        }
        if let Some(shop) = self.demo.lock().await.take()
            && let Err(e) = shop.shutdown().await
        {
            tracing::warn!("the demo shop did not stop cleanly: {e:#}");
        }
    }
}

/// Where an unlinked profile remembers that it chose the demo.
fn demo_marker(data_dir: &Path) -> PathBuf {
    data_dir.join("demo").join("active")
}

/// Opens the demo shop kept in the profile's data directory and its owner's profile.
async fn open_demo(host: &dyn Host, data_dir: &Path) -> Result<(DemoShop, Client), IpcError> {
    let (shop_dir, owner_dir) = shop_dirs(data_dir);
    let unavailable = |e: anyhow::Error| {
        IpcError::new(
            ErrorCode::DemoUnavailable,
            format!("The demo shop could not open: {e:#}"),
        )
    };
    let shop = DemoShop::start(&shop_dir).await.map_err(unavailable)?;
    let device = host.device_info(Some("Demo desk"));
    match shop
        .open_owner(ClientOptions::new(owner_dir), &device)
        .await
    {
        Ok(client) => Ok((shop, client)),
        Err(e) => {
            let _ = shop.shutdown().await;
            Err(unavailable(e))
        }
    }
}

/// The client, plus the provisioning error if `pair` failed (the app still opens, so the
/// user can see why and link by hand).
async fn open_client(
    host: &dyn Host,
    startup: &Startup,
) -> Result<(Client, Option<IpcError>), IpcError> {
    let client = Client::open(ClientOptions::new(startup.data_dir.clone())).await?;
    let mut provision_error = None;
    if let (Some(relay), Some(code)) = (&startup.relay, &startup.pair) {
        if client.is_linked() {
            tracing::info!("profile already linked; --pair ignored");
        } else {
            let device = host.device_info(startup.device_name.as_deref());
            match client.link(relay, code, &device).await {
                Ok(info) => tracing::info!(device_id = %info.device_id, "device linked"),
                Err(e) => {
                    tracing::warn!(code = %e.code(), "linking with --pair failed");
                    provision_error = Some(e.into());
                }
            }
        }
    }
    client.start();
    Ok((client, provision_error))
}

/// Spawns the tasks that turn engine reports into UI events.
fn forward(host: &Arc<dyn Host>, client: &Client) {
    let mut state = client.connection_state();
    let to = Arc::clone(host);
    tokio::spawn(async move {
        loop {
            let current = state.borrow_and_update().clone();
            to.emit(ShellEvent::ConnectionState(current));
            if state.changed().await.is_err() {
                break;
            }
        }
    });

    let mut events = client.subscribe();
    let to = Arc::clone(host);
    let engine_client = client.clone();
    tokio::spawn(async move {
        publish_unread(to.as_ref(), &engine_client).await;
        loop {
            match events.recv().await {
                Ok(ClientEvent::BroadcastChanged(summary)) => {
                    to.emit(ShellEvent::BroadcastChanged(summary));
                }
                Ok(event) => {
                    let refresh = matches!(
                        event,
                        ClientEvent::Applied { .. }
                            | ClientEvent::ResyncDone { .. }
                            | ClientEvent::Read { .. }
                            | ClientEvent::Unlinked
                    );
                    to.emit(ShellEvent::Client(event));
                    if refresh {
                        publish_unread(to.as_ref(), &engine_client).await;
                    }
                }
                // A slow UI missed events: tell it to re-read everything.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    to.emit(ShellEvent::Client(ClientEvent::OutboxChanged));
                    publish_unread(to.as_ref(), &engine_client).await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });

    if let Some(mut opens) = client.take_open_requests() {
        let to = Arc::clone(host);
        tokio::spawn(async move {
            while let Some(id) = opens.recv().await {
                to.emit(ShellEvent::OpenConversation(id));
            }
        });
    }
}

async fn publish_unread(host: &dyn Host, client: &Client) {
    let unread = client.unread_total().await.unwrap_or(0);
    host.emit(ShellEvent::Unread(unread));
}

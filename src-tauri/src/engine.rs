//! Opens the profile's engine (`teamline_client::Client`) when the app starts and forwards
//! what it reports to the window as events:
//!
//! - `connection-state` — [`teamline_client::ConnectionState`], on every change;
//! - `client-event` — [`teamline_client::ClientEvent`] (applied events, outbox, resync...);
//! - `broadcast-changed` — a broadcast's summary, when it is created, changes state or
//!   makes progress (from [`ClientEvent::BroadcastChanged`], which is not repeated as a
//!   `client-event`);
//! - `unread` — the unread total after each applied batch (also shown on the tray icon);
//! - `open-conversation` — a conversation id, when a notification was clicked.

use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager};
use teamline_client::{Client, ClientEvent, ClientOptions, DeviceInfo};
use teamline_demo::{DemoShop, shop_dirs};

use crate::cli::Args;
use crate::ipc::{ErrorCode, IpcError};

/// The engine as the commands reach it.
pub struct Engine {
    /// `None` while the profile cannot be opened (see `startup_error`); `retry` may fill it.
    client: RwLock<Option<Client>>,
    pub startup_error: Mutex<Option<IpcError>>,
    /// Where the profile lives (`None` when not even that could be found).
    data_dir: Option<PathBuf>,
    /// The demo shop this window is linked to, when the user chose "Try the demo".
    demo: tokio::sync::Mutex<Option<DemoShop>>,
}

impl Engine {
    /// The client, or why there is none.
    pub fn client(&self) -> Result<Client, IpcError> {
        self.current().ok_or_else(|| {
            self.startup_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_else(|| {
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

    /// Sets this (unlinked) device up from an encrypted backup of another device: links it
    /// with `code`, fills its new store from the backup, and runs the restored engine in
    /// place of the empty one. A wrong passphrase or a bad file changes nothing and leaves
    /// the code unused.
    pub async fn restore(
        &self,
        app: &AppHandle,
        backup: &std::path::Path,
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
        client.start();
        forward(app, &client);
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        if let Ok(mut e) = self.startup_error.lock() {
            *e = None;
        }
        Ok(restored)
    }

    /// "Try the demo": opens the demo shop (a relay and the WhatsApp emulator inside the
    /// app) and runs its owner's profile in place of this unlinked one. Remembered, so the
    /// app opens the shop again at its next start until a real team is joined.
    pub async fn start_demo(&self, app: &AppHandle) -> Result<(), IpcError> {
        let current = self.client()?;
        if current.is_linked() {
            return Err(teamline_client::ClientError::AlreadyLinked.into());
        }
        let data_dir = self
            .data_dir
            .clone()
            .ok_or_else(|| IpcError::new(ErrorCode::DataDirUnavailable, "no data directory"))?;
        let mut demo = self.demo.lock().await;
        let (shop, client) = open_demo(app, &data_dir).await?;
        std::fs::write(demo_marker(&data_dir), b"").map_err(|e| {
            IpcError::new(
                ErrorCode::DemoUnavailable,
                format!("cannot remember the demo: {e}"),
            )
        })?;
        current.shutdown().await;
        drop(current);
        client.start();
        forward(app, &client);
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        *demo = Some(shop);
        Ok(())
    }

    /// Tries again to open a profile that could not be opened at start (e.g. the keyring
    /// was locked and has been unlocked since). A running engine is left as it is.
    pub async fn retry(&self, app: &AppHandle) -> Result<(), IpcError> {
        if self.current().is_some() {
            return Ok(());
        }
        let Some(dir) = self.data_dir.clone() else {
            return Err(self.client().err().unwrap_or_else(|| {
                IpcError::new(ErrorCode::DataDirUnavailable, "no data directory")
            }));
        };
        let client = Client::open(ClientOptions::new(dir)).await?;
        client.start();
        forward(app, &client);
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        if let Ok(mut e) = self.startup_error.lock() {
            *e = None;
        }
        Ok(())
    }
}

pub fn device_info(app: &AppHandle, name: Option<&str>) -> DeviceInfo {
    let name = name.map_or_else(DeviceInfo::default_name, str::to_owned);
    DeviceInfo::this_machine(&name, &app.package_info().version.to_string())
}

/// Opens (and, with `--relay` and `--pair`, links) the profile. Never fails the app: a
/// profile that cannot be opened leaves the reason for the UI to show.
pub fn open(app: &AppHandle, args: &Args) -> Engine {
    let data_dir = match args.data_dir.clone().map(Ok).unwrap_or_else(|| {
        app.path().app_data_dir().map_err(|e| {
            IpcError::new(
                ErrorCode::DataDirUnavailable,
                format!("no data directory: {e}"),
            )
        })
    }) {
        Ok(dir) => dir,
        Err(e) => return failed(e),
    };
    let opened = tauri::async_runtime::block_on(open_client(app, args, data_dir.clone()));
    match opened {
        Ok((client, provision_error)) => {
            // An unlinked profile that chose the demo before opens the demo shop again.
            let (client, shop, startup_error) =
                if !client.is_linked() && args.pair.is_none() && demo_marker(&data_dir).exists() {
                    match tauri::async_runtime::block_on(open_demo(app, &data_dir)) {
                        Ok((shop, demo_client)) => {
                            // Inside the runtime: the engine's tasks are spawned on it.
                            tauri::async_runtime::block_on(async {
                                client.shutdown().await;
                                demo_client.start();
                            });
                            (demo_client, Some(shop), provision_error)
                        }
                        Err(e) => (client, None, Some(e)),
                    }
                } else {
                    (client, None, provision_error)
                };
            forward(app, &client);
            Engine {
                client: RwLock::new(Some(client)),
                startup_error: Mutex::new(startup_error),
                data_dir: Some(data_dir),
                demo: tokio::sync::Mutex::new(shop),
            }
        }
        Err(e) => {
            let mut engine = failed(e);
            engine.data_dir = Some(data_dir);
            engine
        }
    }
}

fn failed(e: IpcError) -> Engine {
    tracing::error!(code = %e.code, "the engine could not start: {}", e.message);
    Engine {
        client: RwLock::new(None),
        startup_error: Mutex::new(Some(e)),
        data_dir: None,
        demo: tokio::sync::Mutex::new(None),
    }
}

/// Where an unlinked profile remembers that it chose the demo.
fn demo_marker(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("demo").join("active")
}

/// Opens the demo shop kept in the profile's data directory and its owner's profile.
async fn open_demo(
    app: &AppHandle,
    data_dir: &std::path::Path,
) -> Result<(DemoShop, Client), IpcError> {
    let (shop_dir, owner_dir) = shop_dirs(data_dir);
    let unavailable = |e: anyhow::Error| {
        IpcError::new(
            ErrorCode::DemoUnavailable,
            format!("The demo shop could not open: {e:#}"),
        )
    };
    let shop = DemoShop::start(&shop_dir).await.map_err(unavailable)?;
    let device = device_info(app, Some("Demo desk"));
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

/// The client, plus the provisioning error if `--pair` failed (the app still opens, so
/// the user can see why and link by hand).
async fn open_client(
    app: &AppHandle,
    args: &Args,
    data_dir: PathBuf,
) -> Result<(Client, Option<IpcError>), IpcError> {
    let client = Client::open(ClientOptions::new(data_dir)).await?;
    let mut provision_error = None;
    if let (Some(relay), Some(code)) = (&args.relay, &args.pair) {
        if client.is_linked() {
            tracing::info!("profile already linked; --pair ignored");
        } else {
            let device = device_info(app, args.device_name.as_deref());
            match client.link(relay, code, &device).await {
                Ok(info) => tracing::info!(device_id = %info.device_id, "device linked"),
                Err(e) => {
                    tracing::warn!(code = %e.code(), "linking with --pair failed");
                    provision_error = Some(e.into());
                }
            }
        }
    }
    // Inside the runtime: the engine's tasks are spawned on it.
    client.start();
    Ok((client, provision_error))
}

/// Spawns the tasks that turn engine reports into window events and the tray badge.
fn forward(app: &AppHandle, client: &Client) {
    let tray = build_tray(app);

    let mut state = client.connection_state();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let current = state.borrow_and_update().clone();
            let _ = handle.emit("connection-state", current);
            if state.changed().await.is_err() {
                break;
            }
        }
    });

    let mut events = client.subscribe();
    let handle = app.clone();
    let engine_client = client.clone();
    tauri::async_runtime::spawn(async move {
        publish_unread(&handle, &engine_client, tray.as_ref()).await;
        loop {
            match events.recv().await {
                Ok(ClientEvent::BroadcastChanged(summary)) => {
                    let _ = handle.emit("broadcast-changed", &summary);
                }
                Ok(event) => {
                    let refresh = matches!(
                        event,
                        ClientEvent::Applied { .. }
                            | ClientEvent::ResyncDone { .. }
                            | ClientEvent::Read { .. }
                            | ClientEvent::Unlinked
                    );
                    let _ = handle.emit("client-event", &event);
                    if refresh {
                        publish_unread(&handle, &engine_client, tray.as_ref()).await;
                    }
                }
                // A slow window missed events: tell it to re-read everything.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let _ = handle.emit("client-event", ClientEvent::OutboxChanged);
                    publish_unread(&handle, &engine_client, tray.as_ref()).await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });

    if let Some(mut opens) = client.take_open_requests() {
        let handle = app.clone();
        tauri::async_runtime::spawn(async move {
            while let Some(id) = opens.recv().await {
                show_main(&handle);
                let _ = handle.emit("open-conversation", id);
            }
        });
    }
}

fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

async fn publish_unread(app: &AppHandle, client: &Client, tray: Option<&TrayIcon>) {
    let unread = client.unread_total().await.unwrap_or(0);
    let _ = app.emit("unread", unread);
    if let Some(tray) = tray {
        let title = (unread > 0).then(|| unread.to_string());
        if let Err(e) = tray.set_title(title.as_deref()) {
            tracing::debug!("tray title not updated: {e}");
        }
        let tip = if unread == 0 {
            "Teamline".to_owned()
        } else {
            format!("Teamline — {unread} unread")
        };
        let _ = tray.set_tooltip(Some(tip));
    }
}

/// The tray icon: shows the unread count and brings the window back on click. Desktops
/// without a tray (or without libayatana-appindicator) just go without it.
fn build_tray(app: &AppHandle) -> Option<TrayIcon> {
    // An engine replaced later (retry, restore from a backup) keeps the one tray icon.
    if let Some(tray) = app.tray_by_id("main") {
        return Some(tray);
    }
    // Linux trays (appindicator) only open menus, so the menu is how the window comes back.
    let menu = Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, "open", "Open Teamline", true, None::<&str>).ok()?,
            &MenuItem::with_id(app, "quit", "Quit", true, None::<&str>).ok()?,
        ],
    )
    .ok()?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Teamline")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show_main(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let built = builder
        .on_tray_icon_event(|tray, event| {
            if let tauri::tray::TrayIconEvent::Click { .. } = event {
                show_main(tray.app_handle());
            }
        })
        .build(app);
    match built {
        Ok(tray) => Some(tray),
        Err(e) => {
            tracing::info!("no tray icon on this desktop: {e}");
            None
        }
    }
}

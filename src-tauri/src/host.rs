//! The desktop window as the engine's [`Host`]: events go to the window, the unread count
//! to the tray icon, a clicked notification brings the window forward, and files go to
//! the user's Downloads folder.

use std::path::PathBuf;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager};
use teamline_shell::{ErrorCode, Host, IpcError, ShellEvent};

pub struct WindowHost {
    app: AppHandle,
    tray: Option<TrayIcon>,
}

impl WindowHost {
    /// Call from the app's setup (the tray is made on the main thread).
    pub fn new(app: &AppHandle) -> WindowHost {
        WindowHost {
            app: app.clone(),
            tray: build_tray(app),
        }
    }
}

impl Host for WindowHost {
    fn emit(&self, event: ShellEvent) {
        match &event {
            ShellEvent::Unread(unread) => self.show_unread(*unread),
            ShellEvent::OpenConversation(_) => show_main(&self.app),
            _ => {}
        }
        let _ = self.app.emit(event.name(), event.payload());
    }

    fn app_version(&self) -> String {
        self.app.package_info().version.to_string()
    }

    /// The user's Downloads folder (the app's data folder when the OS has none).
    fn save_dir(&self) -> Result<PathBuf, IpcError> {
        let path = self.app.path();
        path.download_dir()
            .or_else(|_| path.app_data_dir())
            .map_err(|e| {
                IpcError::new(
                    ErrorCode::DataDirUnavailable,
                    format!("no folder to save to: {e}"),
                )
            })
    }
}

impl WindowHost {
    fn show_unread(&self, unread: u32) {
        let Some(tray) = &self.tray else { return };
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

fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// The tray icon: shows the unread count and brings the window back on click. Desktops
/// without a tray (or without libayatana-appindicator) just go without it.
fn build_tray(app: &AppHandle) -> Option<TrayIcon> {
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

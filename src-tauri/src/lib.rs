//! The Tauri shell of Teamline: window, commands and events. It stays thin — the engine
//! lives in `crates/` — so everything here is wiring.

mod bindings;
mod commands;
pub mod ipc;

use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::commands::Connection;
use crate::ipc::ConnectionState;

/// Starts the desktop app and blocks until its last window closes.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TEAMLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    tauri::Builder::default()
        .manage(Connection(Mutex::new(ConnectionState::NotLinked)))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::connection_state
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!("Teamline could not start: {e}");
            std::process::exit(1);
        });
}

//! The Tauri shell of Teamline: window, commands and events. It stays thin — the engine
//! lives in `crates/` — so everything here is wiring.

mod bindings;
pub mod cli;
mod command_list;
mod commands;
mod host;

use std::sync::Arc;

use tauri::Manager;
use teamline_shell::{Engine, ErrorCode, IpcError, Startup};
use tracing_subscriber::EnvFilter;

use crate::cli::Args;
use crate::host::WindowHost;

/// Starts the desktop app and blocks until its last window closes.
pub fn run() {
    let logs = tracing_subscriber::fmt().with_env_filter(
        EnvFilter::try_from_env("TEAMLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
    );
    // TEAMLINE_LOG_FILE: logs go to that file (appended) instead of stdout, e.g. when the
    // app is started by WebKitWebDriver, which swallows its output.
    let file = std::env::var_os("TEAMLINE_LOG_FILE").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    match file {
        Some(f) => logs
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .init(),
        None => logs.init(),
    }

    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    tauri::Builder::default()
        .setup(move |app| {
            let engine = start_engine(app.handle(), &args);
            app.manage(engine);
            Ok(())
        })
        // The same name is listed in build.rs and the capability (a test compares them).
        .invoke_handler(tauri::generate_handler![commands::call])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!("Teamline could not start: {e}");
            std::process::exit(1);
        });
}

/// The engine for the profile in `--data-dir` (else the app's data folder). The store
/// opens (keyring, SQLCipher) in the background while the window loads its page; commands
/// wait for it. The engine's tasks run on Tauri's runtime.
fn start_engine(app: &tauri::AppHandle, args: &Args) -> Arc<Engine> {
    let host = Arc::new(WindowHost::new(app));
    let data_dir = args.data_dir.clone().map(Ok).unwrap_or_else(|| {
        app.path().app_data_dir().map_err(|e| {
            IpcError::new(
                ErrorCode::DataDirUnavailable,
                format!("no data directory: {e}"),
            )
        })
    });
    let data_dir = match data_dir {
        Ok(dir) => dir,
        Err(e) => return Arc::new(Engine::failed(host, e)),
    };
    let startup = Startup {
        data_dir: data_dir.clone(),
        relay: args.relay.clone(),
        pair: args.pair.clone(),
        device_name: args.device_name.clone(),
    };
    let engine = Arc::new(Engine::new(host, data_dir));
    let starting = Arc::clone(&engine);
    tauri::async_runtime::spawn(async move { starting.start(&startup).await });
    engine
}

//! Tauri commands: parse, call into the engine, map errors. Nothing else lives here.

use std::sync::Mutex;

use tauri::{AppHandle, Manager, State};

use crate::ipc::{AppInfo, BuildProfile, ConnectionState, ErrorCode, IpcError};

/// The connection state the sync engine last reported. Until a device is linked there is
/// no engine, and the state stays `NotLinked`.
pub struct Connection(pub Mutex<ConnectionState>);

#[tauri::command]
pub fn app_info(app: AppHandle) -> Result<AppInfo, IpcError> {
    let data_dir = app.path().app_data_dir().map_err(|e| {
        IpcError::new(
            ErrorCode::DataDirUnavailable,
            format!("no data directory: {e}"),
        )
    })?;
    Ok(AppInfo {
        version: app.package_info().version.to_string(),
        data_dir: data_dir.display().to_string(),
        build_profile: BuildProfile::current(),
        os: std::env::consts::OS.to_owned(),
        os_locale: sys_locale::get_locale(),
    })
}

#[tauri::command]
pub fn connection_state(connection: State<'_, Connection>) -> Result<ConnectionState, IpcError> {
    connection
        .0
        .lock()
        .map(|state| state.clone())
        .map_err(|_| IpcError::new(ErrorCode::Internal, "connection state is unavailable"))
}

//! What a shell (the Tauri window, the HTTP web shell) provides to the engine: a way to
//! push events to the UI, where user-requested files go, and the app's version.

use std::path::PathBuf;

use serde_json::Value;
use teamline_client::core::automation::BroadcastSummary;
use teamline_client::{ClientEvent, ConnectionState, DeviceInfo};
use uuid::Uuid;

use crate::ipc::IpcError;

/// What the engine pushes to the UI. The names are the UI's event names
/// (`ui/src/lib/backend/commands.ts`).
#[derive(Debug, Clone)]
pub enum ShellEvent {
    /// On every change of the connection to the relay.
    ConnectionState(ConnectionState),
    /// Applied events, outbox changes, resync progress...
    Client(ClientEvent),
    /// The unread total after each applied batch.
    Unread(u32),
    /// A clicked notification asks to open this conversation.
    OpenConversation(Uuid),
    /// A broadcast was created, changed state or made progress (at most about once a second).
    BroadcastChanged(Box<BroadcastSummary>),
}

impl ShellEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ShellEvent::ConnectionState(_) => "connection-state",
            ShellEvent::Client(_) => "client-event",
            ShellEvent::Unread(_) => "unread",
            ShellEvent::OpenConversation(_) => "open-conversation",
            ShellEvent::BroadcastChanged(_) => "broadcast-changed",
        }
    }

    /// The event's JSON payload, as the UI's handler receives it.
    pub fn payload(&self) -> Value {
        let value = match self {
            ShellEvent::ConnectionState(s) => serde_json::to_value(s),
            ShellEvent::Client(e) => serde_json::to_value(e),
            ShellEvent::Unread(n) => Ok(Value::from(*n)),
            ShellEvent::OpenConversation(id) => Ok(Value::from(id.to_string())),
            ShellEvent::BroadcastChanged(s) => serde_json::to_value(s),
        };
        // The engine's types serialise infallibly (plain structs and enums).
        value.unwrap_or(Value::Null)
    }
}

pub trait Host: Send + Sync + 'static {
    /// Pushes an event to the UI (and to the tray, for `Unread`).
    fn emit(&self, event: ShellEvent);
    /// The app's version, shown in About and sent to the relay when linking.
    fn app_version(&self) -> String;
    /// Where exports and saved media go (the user's Downloads folder on a desktop).
    fn save_dir(&self) -> Result<PathBuf, IpcError>;

    /// This computer as the relay's device list shows it.
    fn device_info(&self, name: Option<&str>) -> DeviceInfo {
        let name = name.map_or_else(DeviceInfo::default_name, str::to_owned);
        DeviceInfo::this_machine(&name, &self.app_version())
    }
}

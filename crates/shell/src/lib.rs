//! The app's command surface, independent of the window technology: the engine holder
//! ([`engine::Engine`]), the commands by name ([`dispatch::call`]) and what a shell must
//! provide ([`host::Host`]). The Tauri window and the HTTP web shell ([`web`], used to test
//! the same UI in headless Chromium) are two thin transports over it.

pub mod dispatch;
pub mod engine;
pub mod host;
pub mod ipc;
pub mod web;

pub use dispatch::{Answer, Body, COMMANDS, call};
pub use engine::{Engine, Startup};
pub use host::{Host, ShellEvent};
pub use ipc::{ErrorCode, IpcError};

//! The values the shell observes: connection state, sync progress, client events, and the
//! outbox entries it lists. Everything that crosses IPC derives `ts_rs::TS`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::core::automation::BroadcastSummary;
use crate::wire::Presence;

/// The link between this device and the team's relay, as the status bar shows it.
/// Same variants, fields and serde shape as the shell's `ipc::ConnectionState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ConnectionState.ts")]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// This device has never been linked to a team.
    NotLinked,
    /// Streaming events from the relay.
    Connected,
    /// The connection dropped; the next attempt is in `retry_in_secs` seconds.
    Reconnecting { retry_in_secs: u32 },
    /// No network; replies wait in the outbox.
    Offline,
    /// An admin unlinked this device; its local data has been wiped.
    Unlinked,
    /// Linked, but the store is protected by a passphrase that has not been entered yet.
    Locked,
}

impl ConnectionState {
    /// The sentence the shell shows for an unlinked device.
    pub const UNLINKED_MESSAGE: &'static str = "This device was unlinked by an admin";
}

/// How events currently arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "SyncTransport.ts")]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Server-Sent Events (`GET /v1/stream`), the default.
    Sse,
    /// Long-poll (`GET /v1/events?wait=`), after the stream failed repeatedly (a proxy
    /// that buffers or cuts streams); SSE is tried again later.
    LongPoll,
}

/// Progress of a full resync (after `410 resync_required`): conversations fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "SyncProgress.ts")]
pub struct SyncProgress {
    pub done: u32,
    pub total: u32,
}

/// Something the shell may want to react to (refresh a list, show a toast...). Sent on a
/// `tokio::sync::broadcast` channel; a slow receiver that lags just re-reads the store.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "ClientEvent.ts")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    /// Events `first_seq..=last_seq` (the ones above the old cursor) were applied in one
    /// store transaction; the inbox rows of `conversations` changed, and with
    /// `whole_inbox` possibly every row (a member or label renamed or deleted).
    Applied {
        #[ts(type = "number")]
        first_seq: u64,
        #[ts(type = "number")]
        last_seq: u64,
        count: u32,
        conversations: Vec<Uuid>,
        whole_inbox: bool,
    },
    /// A full resync is running (`done` of `total` conversations fetched).
    ResyncProgress(SyncProgress),
    /// A full resync finished at `cursor`.
    ResyncDone {
        #[ts(type = "number")]
        cursor: u64,
    },
    /// History of a conversation was fetched on demand.
    Backfilled {
        conversation_id: Uuid,
        messages: u32,
    },
    /// A conversation was marked read on this device.
    Read { conversation_id: Uuid },
    /// The outbox changed (queued, sent, failed or discarded).
    OutboxChanged,
    /// The transport changed (SSE ↔ long-poll).
    Transport { transport: Transport },
    /// Someone is typing (ephemeral, never stored).
    Typing(Presence),
    /// Someone has the conversation open (ephemeral, repeated while it stays open).
    Viewing(Presence),
    /// The device was unlinked and its local data wiped.
    Unlinked,
    /// A broadcast was created, changed state or made progress (`broadcast.changed`; the
    /// relay sends at most about one per second per broadcast while counts move). The
    /// shell forwards it to the window as `broadcast-changed` with the summary.
    BroadcastChanged(Box<BroadcastSummary>),
}

/// What the relay is told about this device when it is linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "DeviceInfo.ts")]
pub struct DeviceInfo {
    /// Shown in the admin's device list, e.g. "Shift laptop".
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub app_version: String,
}

impl DeviceInfo {
    /// The name a device gets in the admin's list unless someone chose one: the host name,
    /// else "Teamline on <os>".
    pub fn default_name() -> String {
        #[cfg(target_os = "linux")]
        if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
            let h = h.trim();
            if !h.is_empty() {
                return h.chars().take(60).collect();
            }
        }
        for var in ["COMPUTERNAME", "HOSTNAME"] {
            if let Ok(h) = std::env::var(var)
                && !h.trim().is_empty()
            {
                return h.trim().chars().take(60).collect();
            }
        }
        format!("Teamline on {}", std::env::consts::OS)
    }

    /// This machine's OS and kernel/OS version, with the given device name and app version.
    pub fn this_machine(name: &str, app_version: &str) -> DeviceInfo {
        DeviceInfo {
            name: name.to_owned(),
            os: std::env::consts::OS.to_owned(),
            os_version: os_version(),
            app_version: app_version.to_owned(),
        }
    }
}

fn os_version() -> String {
    #[cfg(target_os = "linux")]
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        let v = v.trim();
        if !v.is_empty() {
            return v.chars().take(50).collect();
        }
    }
    "unknown".to_owned()
}

/// Where an outbox command stands, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "OutboxState.ts")]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent, or being retried.
    Pending,
    /// Accepted by the relay.
    Sent,
    /// Refused for good (e.g. no permission); kept until discarded.
    Failed,
}

/// One outbox command as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "OutboxEntry.ts")]
pub struct OutboxEntry {
    /// The idempotency key sent with every attempt.
    pub id: Uuid,
    /// The command kind (`send_text`, `claim`, ...).
    pub kind: String,
    pub conversation_id: Option<Uuid>,
    /// The reply text for `send_text`/`add_note` (shown in the queued bubble).
    pub text: Option<String>,
    pub state: OutboxState,
    pub attempts: u32,
    /// The relay's refusal (`code: message`) or the last transport error.
    pub last_error: Option<String>,
    #[ts(type = "string")]
    pub created_at: Timestamp,
}

impl OutboxEntry {
    pub(crate) fn from_item(item: &teamline_store::OutboxItem) -> OutboxEntry {
        let c = &item.command;
        OutboxEntry {
            id: item.idempotency_key,
            kind: c
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown")
                .to_owned(),
            conversation_id: c
                .get("conversation_id")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok()),
            text: c.get("text").and_then(|v| v.as_str()).map(str::to_owned),
            state: match item.state {
                teamline_store::OutboxState::Pending => OutboxState::Pending,
                teamline_store::OutboxState::Sent => OutboxState::Sent,
                teamline_store::OutboxState::Failed => OutboxState::Failed,
            },
            attempts: item.attempts,
            last_error: item.last_error.clone(),
            created_at: item.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_state_matches_the_shells_wire_shape() {
        let j = |s: &ConnectionState| serde_json::to_value(s).unwrap();
        assert_eq!(
            j(&ConnectionState::NotLinked),
            serde_json::json!({"state": "not_linked"})
        );
        assert_eq!(
            j(&ConnectionState::Reconnecting { retry_in_secs: 4 }),
            serde_json::json!({"state": "reconnecting", "retry_in_secs": 4})
        );
        assert_eq!(
            j(&ConnectionState::Unlinked),
            serde_json::json!({"state": "unlinked"})
        );
        assert_eq!(
            j(&ConnectionState::Locked),
            serde_json::json!({"state": "locked"})
        );
    }
}

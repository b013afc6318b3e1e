//! Ephemeral presence ("Ana is typing", "Wei is viewing"): never stored, no seq, fanned out to every stream
//! whose device may see the conversation.
//!
//! Each notice carries the conversation's access facts as they were when it was published,
//! so a stream filters it with core's `can_view` without a database read.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use teamline_core::access::{Actor, ConversationAccess, can_view};
use tokio::sync::broadcast;
use uuid::Uuid;

pub const PRESENCE_TYPING: &str = "presence.typing";
pub const PRESENCE_VIEWING: &str = "presence.viewing";

#[derive(Debug, Clone)]
pub struct Presence {
    pub kind: &'static str,
    pub conversation_id: Uuid,
    pub access: ConversationAccess,
    pub member_id: Uuid,
    pub member_name: String,
    pub at: Timestamp,
}

impl Presence {
    /// Whether a device acting as `actor` may receive it.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        can_view(actor, &self.access)
    }

    /// The wire object (like an event, without `seq`): send it as an SSE event with no `id:`.
    pub fn json(&self) -> String {
        json!({
            "kind": self.kind,
            "conversation_id": self.conversation_id,
            "created_at": self.at,
            "payload": {
                "conversation_id": self.conversation_id,
                "member_id": self.member_id,
                "member_name": self.member_name,
            },
        })
        .to_string()
    }
}

/// The presence broadcast every stream subscribes to. Slow streams lose old notices
/// (`Lagged`), which is right for something that is stale after a few seconds anyway.
#[derive(Debug, Clone)]
pub struct PresenceHub {
    tx: broadcast::Sender<Arc<Presence>>,
}

impl Default for PresenceHub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(256);
        PresenceHub { tx }
    }
}

impl PresenceHub {
    pub fn publish(&self, p: Presence) {
        // No subscriber is fine: nobody is watching.
        let _ = self.tx.send(Arc::new(p));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Presence>> {
        self.tx.subscribe()
    }
}

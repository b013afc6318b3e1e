//! Broadcasts on the relay (`/v1/broadcasts`): list, preview, create, follow, cancel, and
//! the daily cap settings. The relay runs the sending (pacing, cap, opt-outs, exactly once
//! per recipient); the app shows its progress from `broadcast.changed` events, which the
//! sync loop hands out as [`crate::ClientEvent::BroadcastChanged`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::api::urlencode;
use crate::core::automation::{
    BroadcastDraft, BroadcastPreview, BroadcastRecipient, BroadcastSettings, BroadcastSummary,
    Pacing, RecipientState,
};
use crate::error::ClientError;
use crate::team::body;
use crate::{Client, Result};

/// The most recipients one page may ask for (the relay's limit).
pub const MAX_RECIPIENT_PAGE: u32 = 500;

/// One page of a broadcast's recipients, in number order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "RecipientPage.ts")]
pub struct RecipientPage {
    pub recipients: Vec<BroadcastRecipient>,
    /// The `after` of the next page; `None` on the last one.
    pub next: Option<String>,
}

impl Client {
    /// The team's broadcasts, newest first (needs the broadcast permission).
    pub async fn broadcasts(&self) -> Result<Vec<BroadcastSummary>> {
        self.team_call(Method::GET, "/v1/broadcasts", None, None)
            .await
    }

    pub async fn broadcast(&self, id: Uuid) -> Result<BroadcastSummary> {
        self.team_call(Method::GET, &format!("/v1/broadcasts/{id}"), None, None)
            .await
    }

    /// Recipients after `after` (a wa_id), at most `limit` (1..=500), only in `state` when
    /// given.
    pub async fn broadcast_recipients(
        &self,
        id: Uuid,
        after: Option<&str>,
        limit: u32,
        state: Option<RecipientState>,
    ) -> Result<RecipientPage> {
        let mut path = format!(
            "/v1/broadcasts/{id}/recipients?limit={}",
            limit.clamp(1, MAX_RECIPIENT_PAGE)
        );
        if let Some(after) = after {
            path.push_str(&format!("&after={}", urlencode(after)));
        }
        if let Some(state) = state {
            path.push_str(&format!("&state={}", state.as_str()));
        }
        self.team_call(Method::GET, &path, None, None).await
    }

    /// Who the draft reaches, what the first five read, how many days it takes and what
    /// stops it. Nothing is stored.
    pub async fn preview_broadcast(&self, draft: &BroadcastDraft) -> Result<BroadcastPreview> {
        self.team_call(
            Method::POST,
            "/v1/broadcasts/preview",
            Some(body(draft)?),
            None,
        )
        .await
    }

    /// Creates the broadcast; `id` is the idempotency key (the same id again answers the
    /// same broadcast, so a retry after a lost answer never makes a second one).
    pub async fn create_broadcast(
        &self,
        id: Uuid,
        draft: &BroadcastDraft,
    ) -> Result<BroadcastSummary> {
        let mut b = body(draft)?;
        match b.as_object_mut() {
            Some(map) => {
                map.insert("id".into(), serde_json::Value::String(id.to_string()));
            }
            None => return Err(ClientError::Invalid("a draft is a JSON object".into())),
        }
        self.team_call(Method::POST, "/v1/broadcasts", Some(b), None)
            .await
    }

    /// Stops a broadcast: recipients not yet attempted are cancelled.
    pub async fn cancel_broadcast(&self, id: Uuid) -> Result<BroadcastSummary> {
        self.team_call(
            Method::POST,
            &format!("/v1/broadcasts/{id}/cancel"),
            None,
            None,
        )
        .await
    }

    /// The daily cap and pacing, today's cap after halvings, and the last 14 days.
    pub async fn broadcast_settings(&self) -> Result<BroadcastSettings> {
        self.team_call(Method::GET, "/v1/broadcasts/settings", None, None)
            .await
    }

    pub async fn save_broadcast_settings(&self, pacing: &Pacing) -> Result<BroadcastSettings> {
        let change = serde_json::json!({ "pacing": pacing });
        self.team_call(Method::PUT, "/v1/broadcasts/settings", Some(change), None)
            .await
    }
}

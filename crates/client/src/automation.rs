//! The Automation section's calls (issue 8): typed wrappers of the relay's
//! `GET|PUT /v1/automation` and `POST /v1/automation/dry-run` (all need the
//! ConfigureAutomation permission, decided on the relay). The rules themselves are core's
//! types, so the UI edits exactly what the relay compiles.

use std::collections::BTreeMap;

use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use teamline_core::automation::{
    AutomationSettings, ContactFacts, Context, ConversationFacts, Evaluation, Event, LiveState,
};
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::error::{ClientError, Result};

/// How assignment sees one member: how many open conversations they take and whether
/// VIP customers go to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AgentSettings.ts")]
pub struct AgentSettings {
    pub capacity: u32,
    pub senior: bool,
}

/// A member group as rules name it (`id`, e.g. `after-sales`) with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AutomationTeamView.ts")]
pub struct AutomationTeamView {
    pub id: String,
    pub group_id: Uuid,
    pub name: String,
    pub members: Vec<Uuid>,
}

/// The team's automation as stored on the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AutomationConfig.ts")]
pub struct AutomationConfig {
    /// The master switch (paused: nothing runs).
    pub enabled: bool,
    pub settings: AutomationSettings,
    #[serde(default)]
    pub agents: BTreeMap<Uuid, AgentSettings>,
    /// Pass back in [`AutomationUpdate::revision`] so a concurrent edit is not overwritten.
    pub revision: u64,
    #[ts(type = "string | null")]
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<Uuid>,
    /// The groups rules can name (read-only here; groups are edited on the Team page).
    #[serde(default)]
    pub teams: Vec<AutomationTeamView>,
}

/// What `PUT /v1/automation` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AutomationUpdate.ts")]
pub struct AutomationUpdate {
    pub settings: AutomationSettings,
    #[serde(default)]
    pub agents: BTreeMap<Uuid, AgentSettings>,
    /// `None` keeps the stored switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enabled: Option<bool>,
    /// The revision the edit started from; the relay answers `revision_conflict` (409)
    /// when someone saved in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revision: Option<u64>,
}

impl From<&AutomationConfig> for AutomationUpdate {
    fn from(c: &AutomationConfig) -> Self {
        AutomationUpdate {
            settings: c.settings.clone(),
            agents: c.agents.clone(),
            enabled: Some(c.enabled),
            revision: Some(c.revision),
        }
    }
}

/// The dry run: a pasted message and a customer; everything else defaults to the saved
/// settings, the team as it is now and the relay's clock.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export_to = "DryRunRequest.ts")]
pub struct DryRunRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub message: Option<String>,
    /// Treat the message as sent by a machine (auto-replies are then withheld).
    #[serde(default)]
    pub automated: bool,
    /// Default: a received message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub event: Option<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub contact: Option<ContactFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub conversation: Option<ConversationFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub now: Option<Timestamp>,
    /// Unsaved settings to try (the editor's draft).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub settings: Option<AutomationSettings>,
}

/// Which rules fired and what they would do, with the facts used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "DryRunResult.ts")]
pub struct DryRunResult {
    pub evaluation: Evaluation,
    pub context: Context,
    pub live: LiveState,
}

impl Client {
    /// `GET /v1/automation`.
    pub async fn automation(&self) -> Result<AutomationConfig> {
        self.team_call(Method::GET, "/v1/automation", None, None)
            .await
    }

    /// `PUT /v1/automation`: the relay compiles the settings first; invalid ones come back
    /// as `invalid_automation` with the reason.
    pub async fn save_automation(&self, update: &AutomationUpdate) -> Result<AutomationConfig> {
        let body = serde_json::to_value(update).map_err(|e| ClientError::Invalid(e.to_string()))?;
        let saved: AutomationConfig = self
            .team_call(Method::PUT, "/v1/automation", Some(body), None)
            .await?;
        Ok(saved)
    }

    /// `POST /v1/automation/dry-run`: nothing is written or sent.
    pub async fn automation_dry_run(&self, request: &DryRunRequest) -> Result<DryRunResult> {
        let body = serde_json::to_value(request).unwrap_or_else(|_| json!({}));
        self.team_call(Method::POST, "/v1/automation/dry-run", Some(body), None)
            .await
    }
}

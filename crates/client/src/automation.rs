//! The team's automation settings on the relay (`/v1/automation`): read, save, and the
//! dry run the Automation section offers ("paste a message, see which rules fire").
//! The engine itself is `teamline_core::automation`; the relay runs it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;
use uuid::Uuid;

use crate::core::automation::{
    AutomationSettings, ContactFacts, Context, ConversationFacts, Evaluation, Event, LiveState,
};
use crate::team::body;
use crate::{Client, Result};

/// A member's assignment settings: how many waiting conversations they take, and whether
/// VIP customers may go to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AgentSettings.ts")]
pub struct AgentSettings {
    pub capacity: u32,
    pub senior: bool,
}

/// A team (the relay's member group) as routing rules name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AutomationTeamView.ts")]
pub struct AutomationTeamView {
    /// What rules write (`assign_team`), e.g. `logistics`.
    pub id: String,
    pub group_id: Uuid,
    pub name: String,
    /// Active members.
    pub members: Vec<Uuid>,
}

/// What the Automation section edits: the engine's settings, the master switch, the
/// members' capacity, and the teams rules can route to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AutomationView.ts")]
pub struct AutomationView {
    /// Off: events are not evaluated and timers idle.
    pub enabled: bool,
    pub settings: AutomationSettings,
    /// By member id; members absent use the relay's default capacity.
    #[serde(default)]
    pub agents: BTreeMap<Uuid, AgentSettings>,
    /// Bumped by every save; saving over a newer revision is refused (`conflict`).
    #[ts(type = "number")]
    pub revision: u64,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_by: Option<Uuid>,
    #[serde(default)]
    pub teams: Vec<AutomationTeamView>,
}

/// A dry run: a pasted message and customer, optionally with unsaved settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "DryRunRequest.ts")]
pub struct DryRunRequest {
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Treat the message as sent by a machine (auto-replies are then withheld); default no.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automated: Option<bool>,
    /// Default `message_received`.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactFacts>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationFacts>,
    /// The time to evaluate at (RFC 3339); default: now.
    #[ts(optional, type = "string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<Timestamp>,
    /// Settings being edited; default: the saved ones.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<AutomationSettings>,
}

/// A dry run's answer: the plan, and the facts the relay evaluated it with (the team's
/// loads and presence as they are now, the time, the business hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "DryRunResult.ts")]
pub struct DryRunResult {
    pub evaluation: Evaluation,
    pub context: Context,
    pub live: LiveState,
}

impl Client {
    /// The team's automation settings (needs the automation permission).
    pub async fn automation(&self) -> Result<AutomationView> {
        self.team_call(Method::GET, "/v1/automation", None, None)
            .await
    }

    /// Saves the settings edited from `revision`; the relay checks they compile and that
    /// nobody saved in between. Returns what is stored now.
    pub async fn save_automation(
        &self,
        enabled: bool,
        settings: &AutomationSettings,
        agents: &BTreeMap<Uuid, AgentSettings>,
        revision: u64,
    ) -> Result<AutomationView> {
        let change = json!({
            "enabled": enabled,
            "settings": settings,
            "agents": agents,
            "revision": revision,
        });
        self.team_call(Method::PUT, "/v1/automation", Some(change), None)
            .await
    }

    /// Which rules would fire for a message and customer, and what they would do.
    pub async fn automation_dry_run(&self, req: &DryRunRequest) -> Result<DryRunResult> {
        self.team_call(
            Method::POST,
            "/v1/automation/dry-run",
            Some(body(req)?),
            None,
        )
        .await
    }
}

//! Anomaly alerts and the permission advisor (issue 9), as the Audit page shows them:
//! typed calls over the relay's `/v1/team/alerts*` and `/v1/team/advisor` (ManageTeam;
//! acknowledging and changing thresholds also take the PIN).

use std::collections::BTreeMap;

use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teamline_core::PermissionSet;
use teamline_core::anomaly::Thresholds;
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::error::Result;

/// Who acknowledged an alert, when, and why it was fine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AlertAck.ts")]
pub struct AlertAck {
    pub by: Uuid,
    #[ts(type = "string")]
    pub at: Timestamp,
    pub comment: String,
}

/// One raised alert. `rule` is a stable code the UI translates with `params`; `summary`
/// is the relay's English sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AlertView.ts")]
pub struct AlertView {
    pub id: Uuid,
    /// `permission_change_off_hours`, `permission_change_burst`, `night_sign_in`,
    /// `new_device_os`, `pairing_failure_burst`, `device_idle`.
    pub rule: String,
    #[ts(type = "string")]
    pub raised_at: Timestamp,
    /// What happened (`{event, related_at}`), for the details view.
    #[ts(type = "unknown")]
    pub facts: Value,
    pub params: BTreeMap<String, String>,
    pub summary: String,
    pub acknowledged: Option<AlertAck>,
}

/// A page of alerts, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AlertPage.ts")]
pub struct AlertPage {
    pub alerts: Vec<AlertView>,
    /// Pass as `before` for the next page.
    pub next_before: Option<Uuid>,
}

/// The toggles a one-click fix switches off for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "RemoveToggles.ts")]
pub struct RemoveToggles {
    pub member_id: Uuid,
    pub permissions: PermissionSet,
}

/// A one-click fix: the relay also says the member's toggles once it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export_to = "AdviceFix.ts")]
pub struct AdviceFix {
    pub remove_toggles: RemoveToggles,
    /// The member's toggles after the fix (what [`Client::apply_advice_fix`] sends).
    pub toggles_after: Option<PermissionSet>,
}

/// The relay's shape: `{remove_toggles, request: {method, path, body: {toggles}}}` (the UI
/// gets the toggles only; the client sends the request itself).
#[derive(Deserialize)]
struct AdviceFixWire {
    remove_toggles: RemoveToggles,
    #[serde(default)]
    request: Option<Value>,
    /// What this type serialises to, read back (the UI hands a fix back to the app).
    #[serde(default)]
    toggles_after: Option<PermissionSet>,
}

impl<'de> Deserialize<'de> for AdviceFix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        AdviceFixWire::deserialize(d).map(Into::into)
    }
}

impl From<AdviceFixWire> for AdviceFix {
    fn from(w: AdviceFixWire) -> Self {
        let from_request = w
            .request
            .and_then(|r| serde_json::from_value(r["body"]["toggles"].clone()).ok());
        AdviceFix {
            remove_toggles: w.remove_toggles,
            toggles_after: w.toggles_after.or(from_request),
        }
    }
}

/// One piece of advice. `code` is stable (`too_many_broadcasters`, `too_many_data_editors`,
/// `too_many_deleters`, `delete_and_broadcast`, `too_few_admins`, `template_conflict`);
/// `severity` is `info`, `warning` or `critical`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AdviceView.ts")]
pub struct AdviceView {
    pub code: String,
    pub severity: String,
    pub member_ids: Vec<Uuid>,
    pub template_ids: Vec<Uuid>,
    pub permissions: PermissionSet,
    pub params: BTreeMap<String, String>,
    pub summary: String,
    pub fixes: Vec<AdviceFix>,
}

/// The advisor's current advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AdvisorReport.ts")]
pub struct AdvisorReport {
    pub advice: Vec<AdviceView>,
    #[ts(type = "string")]
    pub checked_at: Timestamp,
}

#[derive(Deserialize)]
struct OneAlert {
    alert: AlertView,
}

#[derive(Deserialize)]
struct ThresholdsBody {
    thresholds: Thresholds,
}

impl Client {
    /// `GET /v1/team/alerts`: open ones only with `open_only`; paged by `before` (an id).
    pub async fn alerts(&self, open_only: bool, before: Option<Uuid>) -> Result<AlertPage> {
        let mut path = format!("/v1/team/alerts?open={open_only}");
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        self.team_call(Method::GET, &path, None, None).await
    }

    /// Acknowledges an alert with a comment (required) and the PIN.
    pub async fn acknowledge_alert(&self, id: Uuid, comment: &str, pin: &str) -> Result<AlertView> {
        let one: OneAlert = self
            .team_call(
                Method::POST,
                &format!("/v1/team/alerts/{id}/ack"),
                Some(json!({ "comment": comment })),
                Some(pin),
            )
            .await?;
        Ok(one.alert)
    }

    pub async fn alert_thresholds(&self) -> Result<Thresholds> {
        let t: ThresholdsBody = self
            .team_call(Method::GET, "/v1/team/alerts/thresholds", None, None)
            .await?;
        Ok(t.thresholds)
    }

    /// Replaces the thresholds (the relay checks their ranges) with the PIN.
    pub async fn set_alert_thresholds(
        &self,
        thresholds: &Thresholds,
        pin: &str,
    ) -> Result<Thresholds> {
        let t: ThresholdsBody = self
            .team_call(
                Method::PUT,
                "/v1/team/alerts/thresholds",
                Some(json!({ "thresholds": thresholds })),
                Some(pin),
            )
            .await?;
        Ok(t.thresholds)
    }

    /// `GET /v1/team/advisor`: the advice as of now.
    pub async fn advisor(&self) -> Result<AdvisorReport> {
        self.team_call(Method::GET, "/v1/team/advisor", None, None)
            .await
    }

    /// Applies a one-click fix: the member's toggles without the ones it names.
    pub async fn apply_advice_fix(&self, fix: &AdviceFix, pin: &str) -> Result<crate::TeamMember> {
        let toggles = match fix.toggles_after {
            Some(t) => t,
            None => {
                let member = self
                    .team_members()
                    .await?
                    .into_iter()
                    .find(|m| m.id == fix.remove_toggles.member_id)
                    .ok_or_else(|| crate::ClientError::Invalid("the member is gone".into()))?;
                member
                    .permissions
                    .difference(fix.remove_toggles.permissions)
            }
        };
        let change = crate::MemberChange {
            toggles: Some(toggles),
            ..crate::MemberChange::default()
        };
        self.update_member(fix.remove_toggles.member_id, &change, pin)
            .await
    }
}

//! The Team page's relay calls (issue 6): members, devices, permission templates, team
//! settings, pairing codes and shared-device sign-in. The relay decides (it checks
//! `ManageTeam` and the PIN on every route); these types only carry its answers to the UI.
//!
//! Changes take the signed-in member's PIN (`pin`), which the relay re-verifies; the PIN
//! is sent in a header and never stored or logged here.

use jiff::Timestamp;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teamline_core::{DeviceLevel, PermissionSet, PermissionTemplate, Preset, WindowRule};
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::error::{ClientError, Result};

/// A member as the Team page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TeamMember.ts")]
pub struct TeamMember {
    pub id: Uuid,
    pub name: String,
    /// The preset chosen last (`admin`, `supervisor`, `standard`, `restricted`, `custom`).
    pub preset: String,
    /// The preset the toggles equal now, if any.
    pub matches_preset: Option<Preset>,
    pub permissions: PermissionSet,
    /// What the member can do, in plain words (English, from the relay).
    pub summary: String,
    pub teams: Vec<Uuid>,
    pub templates: Vec<Uuid>,
    pub active: bool,
    pub has_pin: bool,
    #[ts(type = "string")]
    pub created_at: Timestamp,
}

/// A linked (or unlinked) device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TeamDevice.ts")]
pub struct TeamDevice {
    pub id: Uuid,
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub app_version: String,
    #[ts(type = "string")]
    pub linked_at: Timestamp,
    #[ts(type = "string | null")]
    pub last_seen: Option<Timestamp>,
    pub last_address: Option<String>,
    pub level: DeviceLevel,
    pub member_id: Uuid,
    /// Who acts on the device now (`None` on a shared device nobody is signed in on).
    pub signed_in_member_id: Option<Uuid>,
    /// A shared device (the shift laptop) where members sign in with their PIN.
    pub shared: bool,
    pub allowed_members: Option<Vec<Uuid>>,
    /// Not seen for more than 72 hours.
    pub idle: bool,
    #[ts(type = "string | null")]
    pub revoked_at: Option<Timestamp>,
}

/// The device list with the team's cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TeamDevices.ts")]
pub struct TeamDevices {
    pub devices: Vec<TeamDevice>,
    #[ts(type = "number")]
    pub device_cap: u64,
}

/// A permission template with its plain-words summary and the members it applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TeamTemplate.ts")]
pub struct TeamTemplate {
    pub template: PermissionTemplate,
    pub summary: String,
    pub members: Vec<Uuid>,
}

/// Team-wide settings the Team page edits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TeamSettings.ts")]
pub struct TeamSettings {
    #[ts(type = "number")]
    pub device_cap: u64,
    /// Unlink devices idle for 7 days.
    pub auto_unlink_idle: bool,
    /// The team's IANA time zone (template windows are read in it).
    pub timezone: String,
}

/// A fresh pairing code ("Link a device").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "PairingCode.ts")]
pub struct PairingCode {
    pub code: String,
    #[ts(type = "string")]
    pub expires_at: Timestamp,
}

/// What "Link a device" asks the relay for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "NewPairingCode.ts")]
pub struct NewPairingCode {
    /// The new device's ceiling.
    pub level: DeviceLevel,
    /// Link it for an existing member, or create `member_name`.
    #[ts(optional)]
    pub member_id: Option<Uuid>,
    #[ts(optional)]
    pub member_name: Option<String>,
    /// A shared device (members sign in on it with their PIN).
    #[serde(default)]
    pub shared: bool,
    /// Who may sign in on a shared device (`None`: every active member).
    #[ts(optional)]
    pub members: Option<Vec<Uuid>>,
}

/// A change to a member; absent fields stay as they are. `toggles` wins over `preset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "MemberChange.ts")]
pub struct MemberChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub preset: Option<Preset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub toggles: Option<PermissionSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub templates: Option<Vec<Uuid>>,
}

/// A change to a device; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "DeviceChange.ts")]
pub struct DeviceChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub level: Option<DeviceLevel>,
}

/// A template as the editor submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TemplateDraft.ts")]
pub struct TemplateDraft {
    pub name: String,
    pub deny: PermissionSet,
    pub windows: Vec<WindowRule>,
}

/// The result of a shared-device sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "SignedIn.ts")]
pub struct SignedIn {
    pub member_id: Uuid,
    pub name: String,
}

#[derive(Deserialize)]
struct Members {
    members: Vec<TeamMember>,
}

#[derive(Deserialize)]
struct OneMember {
    member: TeamMember,
}

#[derive(Deserialize)]
struct OneDevice {
    device: TeamDevice,
}

#[derive(Deserialize)]
struct Templates {
    templates: Vec<TeamTemplate>,
}

fn decode<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        ClientError::Network(format!("the relay answered in an unexpected shape: {e}"))
    })
}

fn body<T: Serialize>(t: &T) -> Result<Value> {
    serde_json::to_value(t).map_err(|e| ClientError::Invalid(e.to_string()))
}

impl Client {
    async fn team_call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        pin: Option<&str>,
    ) -> Result<T> {
        let api = self.inner_api()?;
        let v = api.request(method, path, body.as_ref(), pin).await?;
        decode(v)
    }

    pub async fn team_members(&self) -> Result<Vec<TeamMember>> {
        let m: Members = self
            .team_call(Method::GET, "/v1/team/members", None, None)
            .await?;
        Ok(m.members)
    }

    /// Creates a member (defaults: the Restricted preset).
    pub async fn create_member(
        &self,
        name: &str,
        change: &MemberChange,
        pin: &str,
    ) -> Result<TeamMember> {
        let mut b = body(change)?;
        b["name"] = json!(name);
        let m: OneMember = self
            .team_call(Method::POST, "/v1/team/members", Some(b), Some(pin))
            .await?;
        Ok(m.member)
    }

    pub async fn update_member(
        &self,
        id: Uuid,
        change: &MemberChange,
        pin: &str,
    ) -> Result<TeamMember> {
        let m: OneMember = self
            .team_call(
                Method::PATCH,
                &format!("/v1/team/members/{id}"),
                Some(body(change)?),
                Some(pin),
            )
            .await?;
        Ok(m.member)
    }

    /// Deactivates a member (never deleted: history keeps the author).
    pub async fn deactivate_member(&self, id: Uuid, pin: &str) -> Result<TeamMember> {
        let m: OneMember = self
            .team_call(
                Method::POST,
                &format!("/v1/team/members/{id}/deactivate"),
                None,
                Some(pin),
            )
            .await?;
        Ok(m.member)
    }

    /// Sets another member's PIN (an admin's reset).
    pub async fn reset_member_pin(&self, id: Uuid, new_pin: &str, pin: &str) -> Result<()> {
        let _: Value = self
            .team_call(
                Method::PUT,
                &format!("/v1/team/members/{id}/pin"),
                Some(json!({ "new_pin": new_pin })),
                Some(pin),
            )
            .await?;
        Ok(())
    }

    /// Sets the signed-in member's own PIN (`current` is required once one is set).
    pub async fn set_own_pin(&self, new_pin: &str, current: Option<&str>) -> Result<()> {
        let _: Value = self
            .team_call(
                Method::PUT,
                "/v1/me/pin",
                Some(json!({ "new_pin": new_pin, "current_pin": current })),
                None,
            )
            .await?;
        Ok(())
    }

    pub async fn team_devices(&self) -> Result<TeamDevices> {
        self.team_call(Method::GET, "/v1/devices", None, None).await
    }

    pub async fn update_device(
        &self,
        id: Uuid,
        change: &DeviceChange,
        pin: &str,
    ) -> Result<TeamDevice> {
        let d: OneDevice = self
            .team_call(
                Method::PATCH,
                &format!("/v1/team/devices/{id}"),
                Some(body(change)?),
                Some(pin),
            )
            .await?;
        Ok(d.device)
    }

    /// Unlinks a device: its token stops working and it wipes itself on its next request.
    pub async fn unlink_device(&self, id: Uuid, pin: &str) -> Result<()> {
        let _: Value = self
            .team_call(
                Method::POST,
                &format!("/v1/devices/{id}/revoke"),
                None,
                Some(pin),
            )
            .await?;
        Ok(())
    }

    pub async fn team_templates(&self) -> Result<Vec<TeamTemplate>> {
        let t: Templates = self
            .team_call(Method::GET, "/v1/team/templates", None, None)
            .await?;
        Ok(t.templates)
    }

    /// Creates a template (`id = None`) or replaces one.
    pub async fn save_template(
        &self,
        id: Option<Uuid>,
        draft: &TemplateDraft,
        pin: &str,
    ) -> Result<TeamTemplate> {
        let (method, path) = match id {
            None => (Method::POST, "/v1/team/templates".to_owned()),
            Some(id) => (Method::PUT, format!("/v1/team/templates/{id}")),
        };
        self.team_call(method, &path, Some(body(draft)?), Some(pin))
            .await
    }

    pub async fn delete_template(&self, id: Uuid, pin: &str) -> Result<()> {
        let _: Value = self
            .team_call(
                Method::DELETE,
                &format!("/v1/team/templates/{id}"),
                None,
                Some(pin),
            )
            .await?;
        Ok(())
    }

    pub async fn team_settings(&self) -> Result<TeamSettings> {
        self.team_call(Method::GET, "/v1/team/settings", None, None)
            .await
    }

    /// Changes the device cap and/or auto-unlink; absent values stay.
    pub async fn update_team_settings(
        &self,
        device_cap: Option<u64>,
        auto_unlink_idle: Option<bool>,
        pin: &str,
    ) -> Result<TeamSettings> {
        let _: Value = self
            .team_call(
                Method::PUT,
                "/v1/team/settings",
                Some(json!({ "device_cap": device_cap, "auto_unlink_idle": auto_unlink_idle })),
                Some(pin),
            )
            .await?;
        self.team_settings().await
    }

    /// A fresh single-use pairing code (valid 90 s) for "Link a device".
    pub async fn create_pairing_code(&self, req: &NewPairingCode) -> Result<PairingCode> {
        self.team_call(Method::POST, "/v1/pairing/codes", Some(body(req)?), None)
            .await
    }

    /// Signs `member_id` in on this shared device (or switches to them) with their PIN,
    /// then refreshes who this device acts as.
    pub async fn sign_in(&self, member_id: Uuid, pin: &str) -> Result<SignedIn> {
        let v: Value = self
            .team_call(
                Method::POST,
                "/v1/session/sign-in",
                Some(json!({ "member_id": member_id, "pin": pin })),
                None,
            )
            .await?;
        self.refresh_me().await?;
        Ok(SignedIn {
            member_id,
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Signs the current member out of this shared device.
    pub async fn sign_out(&self) -> Result<()> {
        let _: Value = self
            .team_call(Method::POST, "/v1/session/sign-out", None, None)
            .await?;
        self.refresh_me().await
    }
}

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

pub(crate) fn body<T: Serialize>(t: &T) -> Result<Value> {
    serde_json::to_value(t).map_err(|e| ClientError::Invalid(e.to_string()))
}

impl Client {
    pub(crate) async fn team_call<T: DeserializeOwned>(
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

// ---------------------------------------------------------------------------------------
// Audit log (issue 9)

/// The store setting holding the last audit-chain head this device verified.
const AUDIT_HEAD_VALUE: &str = "audit_head";

/// What the Audit page filters by; absent fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditFilter.ts")]
pub struct AuditFilter {
    /// The acting member.
    #[ts(optional)]
    pub member: Option<Uuid>,
    /// The device the change came from.
    #[ts(optional)]
    pub device: Option<Uuid>,
    /// A kind prefix: `member` matches every `audit.member_*`.
    #[ts(optional)]
    pub action: Option<String>,
    #[ts(optional, type = "string")]
    pub from: Option<Timestamp>,
    /// Exclusive.
    #[ts(optional, type = "string")]
    pub to: Option<Timestamp>,
    /// Paging: entries with a smaller seq (the page's `next_before`).
    #[ts(optional, type = "number")]
    pub before: Option<u64>,
    /// 1 to 500 (default 100).
    #[ts(optional)]
    pub limit: Option<u32>,
}

impl AuditFilter {
    /// The query string (`?member=...&from=...`), empty when nothing filters.
    fn query(&self, extra: &[(&str, String)]) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(m) = self.member {
            parts.push(("member", m.to_string()));
        }
        if let Some(d) = self.device {
            parts.push(("device", d.to_string()));
        }
        if let Some(a) = self.action.as_deref().filter(|a| !a.is_empty()) {
            parts.push(("action", a.to_owned()));
        }
        if let Some(t) = self.from {
            parts.push(("from", t.to_string()));
        }
        if let Some(t) = self.to {
            parts.push(("to", t.to_string()));
        }
        if let Some(b) = self.before {
            parts.push(("before", b.to_string()));
        }
        if let Some(l) = self.limit {
            parts.push(("limit", l.to_string()));
        }
        parts.extend(extra.iter().cloned());
        let q: Vec<String> = parts
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::api::urlencode(v)))
            .collect();
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }
}

/// One audit entry: who changed what, from where, when, with the object before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditEntry.ts")]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: u64,
    /// `audit.member_updated`, `audit.pairing_failed`, ...
    pub kind: String,
    /// `None`: the relay itself, or a pairing claim.
    pub actor_member_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub address: Option<String>,
    #[ts(type = "unknown")]
    pub target: Value,
    #[ts(type = "unknown")]
    pub before: Value,
    #[ts(type = "unknown")]
    pub after: Value,
    #[ts(type = "string")]
    pub created_at: Timestamp,
    /// Position in the chain.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub index: Option<u64>,
    /// The entry's chain MAC (hex).
    #[serde(default)]
    pub mac: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditPage.ts")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; `None` on the last one.
    #[ts(type = "number | null")]
    pub next_before: Option<u64>,
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditBreak.ts")]
pub struct AuditBreak {
    #[ts(type = "number")]
    pub seq: u64,
    /// Plain words (English, from the relay).
    pub reason: String,
    /// `mac_mismatch`, `seq_gap`, `out_of_order`, `not_sealed`, `prev_mismatch`,
    /// `chain_shorter_than_checkpoint`, `head_differs_from_checkpoint`,
    /// `checkpoint_signature_invalid`, `checkpoint_missing`.
    pub code: String,
}

/// The relay's newest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditCheckpoint.ts")]
pub struct AuditCheckpoint {
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub count: u64,
    pub head_mac: String,
    /// Entries up to this chain position were removed by retention.
    #[serde(default)]
    #[ts(type = "number")]
    pub cut_count: u64,
    #[serde(default)]
    #[ts(type = "number")]
    pub cut_seq: u64,
}

/// A chain head: the newest entry's seq, position and MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditHead.ts")]
pub struct AuditHead {
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub count: u64,
    pub mac: String,
}

/// The relay's audit log is behind what this device verified before: it was rolled back
/// (restored from an old copy) or replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditRollback.ts")]
pub struct AuditRollback {
    /// `head_behind` (fewer entries or an older head than seen before) or
    /// `head_replaced` (the entry seen before is gone or differs).
    pub code: String,
    pub message: String,
    /// The head this device verified before.
    pub remembered: AuditHead,
}

/// "Verify" on the Audit page: the relay's check of its chain, and this device's check
/// that the chain did not go back since it last looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditVerification.ts")]
pub struct AuditVerification {
    /// The chain verifies on the relay.
    pub ok: bool,
    /// Entries checked.
    #[ts(type = "number")]
    pub checked: u64,
    #[ts(type = "number")]
    pub head_seq: u64,
    #[ts(type = "number")]
    pub head_count: u64,
    pub head_mac: String,
    pub first_broken: Option<AuditBreak>,
    pub checkpoint: Option<AuditCheckpoint>,
    /// Set when the relay's chain went back since this device last verified it. Only
    /// checked while the chain verifies (a broken chain is already the alarm).
    #[serde(default)]
    pub rolled_back: Option<AuditRollback>,
}

impl AuditVerification {
    fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.head_seq,
            count: self.head_count,
            mac: self.head_mac.clone(),
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export_to = "AuditFormat.ts")]
pub enum AuditFormat {
    Csv,
    Json,
}

impl AuditFormat {
    fn as_str(self) -> &'static str {
        match self {
            AuditFormat::Csv => "csv",
            AuditFormat::Json => "json",
        }
    }
}

/// An exported audit log, ready to save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "AuditExport.ts")]
pub struct AuditExport {
    pub format: AuditFormat,
    pub content_type: String,
    /// A file name to suggest (`teamline-audit-<time>.csv`).
    pub file_name: String,
    pub body: String,
}

/// Compares the relay's (verified) head with the one this device saw before. `at_seen` is
/// the relay's entry at the remembered seq when the head moved on (`None`: gone).
fn rollback(
    v: &AuditVerification,
    seen: &AuditHead,
    at_seen: Option<&AuditEntry>,
) -> Option<AuditRollback> {
    let found = |code: &str, message: String| {
        Some(AuditRollback {
            code: code.to_owned(),
            message,
            remembered: seen.clone(),
        })
    };
    if v.head_count < seen.count || v.head_seq < seen.seq {
        return found(
            "head_behind",
            format!(
                "The relay's audit log went back: it ends at entry #{} (seq {}), but this device saw entry #{} (seq {}) before. It may have been restored from an old copy or truncated.",
                v.head_count, v.head_seq, seen.count, seen.seq
            ),
        );
    }
    let replaced = |what: &str| {
        found(
            "head_replaced",
            format!(
                "The relay's audit log was replaced: the entry this device saw last (seq {}) {what}.",
                seen.seq
            ),
        )
    };
    if v.head_seq == seen.seq {
        return (v.head_mac != seen.mac)
            .then(|| replaced("has a different MAC"))
            .flatten();
    }
    let cut = v.checkpoint.as_ref().is_some_and(|c| c.cut_seq >= seen.seq);
    match at_seen {
        Some(e) if e.mac.as_deref() != Some(seen.mac.as_str()) => replaced("has a different MAC"),
        Some(_) => None,
        // Removed by retention: nothing left to compare, and nothing wrong.
        None if cut => None,
        None => replaced("is gone"),
    }
}

impl Client {
    /// `GET /v1/team/audit`: a page of the audit log, newest first (needs ViewAuditLog).
    pub async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        self.team_call(
            Method::GET,
            &format!("/v1/team/audit{}", filter.query(&[])),
            None,
            None,
        )
        .await
    }

    /// Verifies the relay's audit chain, then checks it did not go back since this device
    /// last verified it; a verified head that moved forward is remembered in the store.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut v: AuditVerification = self
            .team_call(Method::GET, "/v1/team/audit/verify", None, None)
            .await?;
        let seen: Option<AuditHead> = self
            .with_store_mut(|s| Ok(s.device_value(AUDIT_HEAD_VALUE)?))
            .await?
            .and_then(|text| serde_json::from_str(&text).ok());
        if !v.ok {
            return Ok(v);
        }
        if let Some(seen) = &seen {
            let at_seen = if v.head_seq > seen.seq {
                let page = self
                    .audit(&AuditFilter {
                        before: Some(seen.seq + 1),
                        limit: Some(1),
                        ..AuditFilter::default()
                    })
                    .await?;
                page.entries.into_iter().find(|e| e.seq == seen.seq)
            } else {
                None
            };
            v.rolled_back = rollback(&v, seen, at_seen.as_ref());
        }
        if let Some(r) = &v.rolled_back {
            tracing::warn!(code = %r.code, remembered_seq = r.remembered.seq, relay_seq = v.head_seq, "the relay's audit log went back");
        } else if seen.as_ref() != Some(&v.head()) {
            let head = serde_json::to_string(&v.head())
                .map_err(|e| ClientError::Invalid(e.to_string()))?;
            self.with_store_mut(move |s| Ok(s.set_device_value(AUDIT_HEAD_VALUE, Some(&head))?))
                .await?;
        }
        Ok(v)
    }

    /// Exports the audit log (all entries matching `filter`, oldest first; needs
    /// ViewAuditLog and ExportHistory, and the PIN). The relay logs the export.
    pub async fn export_audit(
        &self,
        format: AuditFormat,
        filter: &AuditFilter,
        pin: &str,
    ) -> Result<AuditExport> {
        let api = self.inner_api()?;
        let path = format!(
            "/v1/team/audit/export{}",
            AuditFilter {
                before: None,
                limit: None,
                ..filter.clone()
            }
            .query(&[("format", format.as_str().to_owned())])
        );
        let (content_type, body) = api.download(&path, Some(pin)).await?;
        Ok(AuditExport {
            format,
            content_type,
            file_name: format!(
                "teamline-audit-{}.{}",
                jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S"),
                format.as_str()
            ),
            body,
        })
    }
}

#[cfg(test)]
mod audit_tests {
    use super::*;

    fn verification(seq: u64, count: u64, mac: &str) -> AuditVerification {
        AuditVerification {
            ok: true,
            checked: count,
            head_seq: seq,
            head_count: count,
            head_mac: mac.into(),
            first_broken: None,
            checkpoint: None,
            rolled_back: None,
        }
    }

    fn head(seq: u64, count: u64, mac: &str) -> AuditHead {
        AuditHead {
            seq,
            count,
            mac: mac.into(),
        }
    }

    fn entry(seq: u64, mac: &str) -> AuditEntry {
        AuditEntry {
            seq,
            kind: "audit.member_created".into(),
            actor_member_id: None,
            device_id: None,
            address: None,
            target: Value::Null,
            before: Value::Null,
            after: Value::Null,
            created_at: Timestamp::UNIX_EPOCH,
            index: Some(1),
            mac: Some(mac.into()),
        }
    }

    #[test]
    fn a_head_that_went_back_or_changed_is_a_rollback() {
        let seen = head(50, 5, "aa");
        // Same head, or moved forward over the same entry: fine.
        assert_eq!(rollback(&verification(50, 5, "aa"), &seen, None), None);
        let e = entry(50, "aa");
        assert_eq!(rollback(&verification(90, 8, "bb"), &seen, Some(&e)), None);
        // Fewer entries or an older head.
        let r = rollback(&verification(40, 4, "cc"), &seen, None).unwrap();
        assert_eq!(r.code, "head_behind");
        assert_eq!(r.remembered, seen);
        let r = rollback(&verification(60, 4, "cc"), &seen, None).unwrap();
        assert_eq!(r.code, "head_behind");
        // Same seq, other MAC; or the seen entry differs or vanished.
        assert_eq!(
            rollback(&verification(50, 5, "dd"), &seen, None)
                .unwrap()
                .code,
            "head_replaced"
        );
        let other = entry(50, "ee");
        assert_eq!(
            rollback(&verification(90, 8, "bb"), &seen, Some(&other))
                .unwrap()
                .code,
            "head_replaced"
        );
        assert_eq!(
            rollback(&verification(90, 8, "bb"), &seen, None)
                .unwrap()
                .code,
            "head_replaced"
        );
        // Gone because retention cut it: nothing to compare, no warning.
        let mut cut = verification(90, 8, "bb");
        cut.checkpoint = Some(AuditCheckpoint {
            seq: 90,
            count: 8,
            head_mac: "bb".into(),
            cut_count: 6,
            cut_seq: 70,
        });
        assert_eq!(rollback(&cut, &seen, None), None);
    }

    #[test]
    fn filters_become_an_encoded_query() {
        assert_eq!(AuditFilter::default().query(&[]), "");
        let f = AuditFilter {
            action: Some("member".into()),
            from: Some("2025-01-31T08:00:00Z".parse().unwrap()),
            limit: Some(50),
            ..AuditFilter::default()
        };
        assert_eq!(
            f.query(&[("format", "csv".into())]),
            "?action=member&from=2025-01-31T08%3A00%3A00Z&limit=50&format=csv"
        );
    }
}

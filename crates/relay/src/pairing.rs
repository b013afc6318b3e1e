//! Linking devices: pairing codes, device tokens, claim rules and revocation.
//!
//! Codes are 10 Crockford base32 characters (50 bits), shown as `XXXXX-XXXXX`, stored only
//! as a SHA-256 hash, single use, 90 s (the owner's code from `init`: 24 h). After 3 failed
//! claims an address waits 5 minutes. Tokens are 256 random bits (base64url), stored as a
//! SHA-256 hash and found by that hash, so no stored secret is ever compared byte by byte.

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use teamline_core::{DeviceLevel, Preset};
use uuid::Uuid;

use crate::authz;
use crate::events::kind;
use crate::storage::{
    Audience, DeviceRow, MemberRow, NewEvent, PairingCodeRow, PairingFailures, StorageResult,
    TeamRow, WriteTx,
};

pub const CODE_TTL: SignedDuration = SignedDuration::from_secs(90);
pub const OWNER_CODE_TTL: SignedDuration = SignedDuration::from_hours(24);
pub const MAX_FAILURES: u32 = 3;
pub const COOLDOWN: SignedDuration = SignedDuration::from_mins(5);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 10;

fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

/// A fresh code for display (`XXXXX-XXXXX`) and its stored hash.
pub fn new_code() -> (String, [u8; 32]) {
    let bytes = random::<8>();
    let mut bits = u64::from_le_bytes(bytes);
    let mut raw = String::with_capacity(CODE_LEN);
    for _ in 0..CODE_LEN {
        raw.push(CROCKFORD[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    let hash = Sha256::digest(raw.as_bytes()).into();
    (format!("{}-{}", &raw[..5], &raw[5..]), hash)
}

/// The hash of what a person typed: case, dashes and spaces do not matter, and the
/// look-alikes Crockford allows (I, L → 1; O → 0) are folded. `None` if it cannot be a code.
pub fn hash_code(input: &str) -> Option<[u8; 32]> {
    let mut raw = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !CROCKFORD.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        raw.push(c);
    }
    (raw.len() == CODE_LEN).then(|| Sha256::digest(raw.as_bytes()).into())
}

/// A fresh device token and its stored hash.
pub fn new_token() -> (String, [u8; 32]) {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>());
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `POST /v1/pairing/claim` body.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimRequest {
    pub code: String,
    pub name: String,
    pub os: String,
    pub os_version: String,
    pub app_version: String,
}

impl ClaimRequest {
    /// A problem with the fields themselves (not the code), in words.
    pub fn invalid_field(&self) -> Option<&'static str> {
        let ok = |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max;
        if !ok(&self.name, 100) {
            return Some("`name` must be 1 to 100 characters");
        }
        if !ok(&self.os, 50) || !ok(&self.os_version, 50) || !ok(&self.app_version, 50) {
            return Some("`os`, `os_version` and `app_version` must be 1 to 50 characters");
        }
        None
    }
}

#[derive(Debug, Clone)]
pub enum ClaimOutcome {
    Linked {
        device: Box<DeviceRow>,
        member: Box<MemberRow>,
        /// A shared device: it starts signed out; `member` only owns its row.
        shared: bool,
    },
    /// The admin's device cap is reached; the code stays usable.
    CapReached { cap: u64 },
    /// Unknown, expired, used, or the address is cooling down: deliberately one case.
    Rejected,
}

/// Creates the team (once). `None` when it already exists.
pub fn init_team(
    tx: &mut dyn WriteTx,
    name: &str,
    now: Timestamp,
) -> StorageResult<Option<TeamRow>> {
    if tx.team()?.is_some() {
        return Ok(None);
    }
    let team = TeamRow {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        created_at: now,
    };
    tx.insert_team(&team)?;
    Ok(Some(team))
}

/// Stores a code's hash for a level, optionally for an existing member or a member name.
pub fn store_code(
    tx: &mut dyn WriteTx,
    hash: [u8; 32],
    level: DeviceLevel,
    member_id: Option<Uuid>,
    member_name: Option<String>,
    owner: bool,
    now: Timestamp,
) -> StorageResult<Timestamp> {
    let ttl = if owner { OWNER_CODE_TTL } else { CODE_TTL };
    let expires_at = now.checked_add(ttl).unwrap_or(now);
    tx.insert_pairing_code(&PairingCodeRow {
        code_hash: hash,
        level: authz::level_json(&level),
        member_id,
        member_name,
        owner,
        created_at: now,
        expires_at,
        used_at: None,
    })?;
    Ok(expires_at)
}

/// Why a claim linked nothing, as the audit log records it (the claimant is only told
/// "rejected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    UnknownCode,
    ExpiredCode,
    UsedCode,
    InvalidLevel,
    MemberUnavailable,
    DeviceCapReached,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownCode => "unknown_code",
            Refusal::ExpiredCode => "expired_code",
            Refusal::UsedCode => "used_code",
            Refusal::InvalidLevel => "invalid_level",
            Refusal::MemberUnavailable => "member_unavailable",
            Refusal::DeviceCapReached => "device_cap_reached",
        }
    }
}

/// Logs a failed pairing attempt (`audit.pairing_failed`) with the address and what the
/// claimant said about the device; never the code.
fn audit_refusal(
    tx: &mut dyn WriteTx,
    req: &ClaimRequest,
    address: &str,
    reason: Refusal,
    failures: Option<&PairingFailures>,
    now: Timestamp,
) -> StorageResult<()> {
    crate::audit::record(
        tx,
        &crate::audit::Ctx {
            actor_member_id: None,
            device_id: None,
            address: Some(address.to_owned()),
            now,
        },
        crate::audit::kind::PAIRING_FAILED,
        json!({ "address": address }),
        serde_json::Value::Null,
        json!({
            "reason": reason.as_str(),
            "name": req.name.trim(),
            "os": req.os.trim(),
            "os_version": req.os_version.trim(),
            "app_version": req.app_version.trim(),
            "failures": failures.map(|f| f.failures),
            "locked_until": failures.and_then(|f| f.locked_until),
        }),
    )
    .map(drop)
}

/// Counts a failed claim against the address and logs it; the claim is rejected.
fn refuse(
    tx: &mut dyn WriteTx,
    req: &ClaimRequest,
    address: &str,
    reason: Refusal,
    now: Timestamp,
) -> StorageResult<ClaimOutcome> {
    let f = record_failure(tx, address, now)?;
    audit_refusal(tx, req, address, reason, Some(&f), now)?;
    Ok(ClaimOutcome::Rejected)
}

/// Counts one failure; returns the address's state after it (a lock-out resets the count).
fn record_failure(
    tx: &mut dyn WriteTx,
    address: &str,
    now: Timestamp,
) -> StorageResult<PairingFailures> {
    let mut f = tx.pairing_failures(address)?.unwrap_or(PairingFailures {
        address: address.to_owned(),
        failures: 0,
        last_failure_at: now,
        locked_until: None,
    });
    if f.last_failure_at
        .checked_add(COOLDOWN)
        .is_ok_and(|t| t < now)
    {
        f.failures = 0;
    }
    f.failures += 1;
    f.last_failure_at = now;
    if f.failures >= MAX_FAILURES {
        f.locked_until = now.checked_add(COOLDOWN).ok();
        f.failures = 0;
    }
    tx.put_pairing_failures(&f)?;
    Ok(f)
}

/// Claims a code: checks the address's cool-down, the code, then links a device (and
/// creates its member when needed), all in the caller's transaction. Every attempt is in
/// the audit log (`audit.device_linked` or `audit.pairing_failed`) except those refused
/// while the address cools down: they check nothing, and logging each would let anyone
/// flood the log without limit.
pub fn claim(
    tx: &mut dyn WriteTx,
    code_hash: Option<[u8; 32]>,
    req: &ClaimRequest,
    token_hash: [u8; 32],
    address: &str,
    now: Timestamp,
) -> StorageResult<ClaimOutcome> {
    if let Some(f) = tx.pairing_failures(address)?
        && f.locked_until.is_some_and(|t| t > now)
    {
        return Ok(ClaimOutcome::Rejected);
    }
    let code = match code_hash {
        Some(h) => tx.pairing_code(&h)?,
        None => None,
    };
    let code = match code {
        None => return refuse(tx, req, address, Refusal::UnknownCode, now),
        Some(c) if c.used_at.is_some() => {
            return refuse(tx, req, address, Refusal::UsedCode, now);
        }
        Some(c) if c.expires_at <= now => {
            return refuse(tx, req, address, Refusal::ExpiredCode, now);
        }
        Some(c) => c,
    };
    let level = match authz::parse_level(&code.level) {
        Ok(l) => l,
        Err(_) => return refuse(tx, req, address, Refusal::InvalidLevel, now),
    };
    let cap = crate::team::device_cap(tx)?;
    let linked = tx
        .devices()?
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .count() as u64;
    if linked >= cap {
        // Not the claimant's fault: no failure counted, the code stays usable.
        audit_refusal(tx, req, address, Refusal::DeviceCapReached, None, now)?;
        return Ok(ClaimOutcome::CapReached { cap });
    }
    let extra = tx.code_extra(&code.code_hash)?.filter(|e| e.shared);
    if !tx.mark_pairing_code_used(&code.code_hash, now)? {
        return refuse(tx, req, address, Refusal::UsedCode, now);
    }
    let team_id = tx.team()?.map(|t| t.id);
    let shared_owner = match &extra {
        Some(e) => match e.created_by.map(|id| tx.member(id)).transpose()?.flatten() {
            Some(m) => Some(m),
            None => return refuse(tx, req, address, Refusal::MemberUnavailable, now),
        },
        None => None,
    };
    let existing = match (code.member_id, &code.member_name) {
        _ if shared_owner.is_some() => shared_owner,
        (Some(id), _) => match tx.member(id)? {
            Some(m) if m.active => Some(m),
            _ => return refuse(tx, req, address, Refusal::MemberUnavailable, now),
        },
        (None, Some(name)) => tx.member_by_name(name)?,
        (None, None) => None,
    };
    let member = match existing {
        Some(m) => m,
        None => {
            let (preset, toggles) = match level {
                DeviceLevel::Preset(p) => (p.as_str().to_owned(), authz::preset_toggles(p)),
                DeviceLevel::Custom(set) => (
                    "custom".to_owned(),
                    serde_json::to_value(set).unwrap_or_default(),
                ),
            };
            let name = code.member_name.clone().unwrap_or_else(|| {
                if code.owner {
                    "Owner".to_owned()
                } else {
                    req.name.trim().to_owned()
                }
            });
            let m = MemberRow {
                id: Uuid::now_v7(),
                name,
                preset,
                toggles,
                teams: team_id.into_iter().collect(),
                active: true,
                created_at: now,
            };
            tx.insert_member(&m)?;
            crate::team::announce_member(tx, &m, now)?;
            tx.append_event(NewEvent {
                kind: kind::MEMBER_CREATED,
                conversation_id: None,
                audience: Audience::ManageTeam,
                also_member: Some(m.id),
                payload: json!({ "member": m }),
                created_at: now,
            })?;
            m
        }
    };
    let device = DeviceRow {
        id: Uuid::now_v7(),
        name: req.name.trim().to_owned(),
        os: req.os.trim().to_owned(),
        os_version: req.os_version.trim().to_owned(),
        app_version: req.app_version.trim().to_owned(),
        level: code.level.clone(),
        member_id: member.id,
        token_hash,
        linked_at: now,
        last_seen: Some(now),
        last_address: Some(address.to_owned()),
        revoked_at: None,
    };
    tx.insert_device(&device)?;
    if let Some(e) = &extra {
        tx.put_session(&crate::storage::team::SessionRow {
            device_id: device.id,
            allowed: e.allowed.clone(),
            member_id: None,
            since: now,
        })?;
    }
    tx.clear_pairing_failures(address)?;
    crate::audit::record(
        tx,
        &crate::audit::Ctx {
            actor_member_id: None,
            device_id: Some(device.id),
            address: Some(address.to_owned()),
            now,
        },
        crate::audit::kind::DEVICE_LINKED,
        json!({ "device_id": device.id }),
        serde_json::Value::Null,
        json!({ "device": device, "member_id": member.id, "shared": extra.is_some() }),
    )?;
    tx.append_event(NewEvent {
        kind: kind::DEVICE_LINKED,
        conversation_id: None,
        audience: Audience::ManageTeam,
        also_member: Some(member.id),
        payload: json!({ "device": device }),
        created_at: now,
    })?;
    Ok(ClaimOutcome::Linked {
        device: Box::new(device),
        member: Box::new(member),
        shared: extra.is_some(),
    })
}

/// Revokes a device's token. `false` when unknown or already revoked. The event lets the
/// device's own open stream notice and close even though it may not see ManageTeam events.
pub fn revoke_device(
    tx: &mut dyn WriteTx,
    device_id: Uuid,
    by: Option<Uuid>,
    now: Timestamp,
) -> StorageResult<bool> {
    let Some(device) = tx.device(device_id)? else {
        return Ok(false);
    };
    if !tx.set_device_revoked(device_id, now)? {
        return Ok(false);
    }
    tx.append_event(NewEvent {
        kind: kind::DEVICE_REVOKED,
        conversation_id: None,
        audience: Audience::ManageTeam,
        also_member: Some(device.member_id),
        payload: json!({ "device_id": device_id, "member_id": device.member_id, "by": by }),
        created_at: now,
    })?;
    Ok(true)
}

/// The level a CLI or admin asked for by preset name.
pub fn level_from_preset(name: &str) -> Option<DeviceLevel> {
    name.parse::<Preset>().ok().map(DeviceLevel::Preset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_fifty_bits_and_normalise_like_crockford() {
        let (code, hash) = new_code();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        assert_eq!(hash_code(&code), Some(hash));
        assert_eq!(
            hash_code(&code.to_lowercase().replace('-', " ")),
            Some(hash)
        );
        let (other, _) = new_code();
        assert_ne!(code, other);
        assert_eq!(hash_code("0O1IL-00000"), hash_code("00111-00000"));
        assert_eq!(hash_code("ABCD"), None);
        assert_eq!(
            hash_code("ABCDE-FGHIU"),
            None,
            "U is not in Crockford's alphabet"
        );
    }

    #[test]
    fn tokens_are_256_bits_and_hash_stably() {
        let (t, h) = new_token();
        assert_eq!(t.len(), 43);
        assert_eq!(hash_token(&t), h);
        assert_ne!(new_token().0, t);
    }
}

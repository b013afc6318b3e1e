//! Member PINs: 6+ digits, Argon2id, and re-verification of sensitive actions.
//!
//! Stored as `argon2id$m$t$p$salt_hex$hash_hex` (the cost travels with the hash, so a
//! relay may raise the cost later and old PINs still verify). Hashing runs on a blocking
//! thread, never on the single writer. Five wrong PINs lock the member's sensitive actions
//! for 15 minutes and raise a `security.alert`. PINs are never logged.

use std::sync::atomic::{AtomicU32, Ordering};

use argon2::{Algorithm, Argon2, Params, Version};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::storage::team::PinRow;
use crate::storage::{Audience, NewEvent, StorageResult, WriteTx};

pub const MIN_DIGITS: usize = 6;
pub const MAX_DIGITS: usize = 32;
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);
/// The header carrying the PIN of a sensitive request (a body field `pin` also works).
pub const HEADER: &str = "x-teamline-pin";
pub const SECURITY_ALERT: &str = "security.alert";

/// Argon2id cost (OWASP's minimum by default: 19 MiB, 2 passes, 1 lane).
#[derive(Debug)]
pub struct PinCost {
    m_kib: AtomicU32,
    t: AtomicU32,
}

impl Default for PinCost {
    fn default() -> Self {
        PinCost {
            m_kib: AtomicU32::new(19 * 1024),
            t: AtomicU32::new(2),
        }
    }
}

impl PinCost {
    /// Changes the cost of PINs hashed from now on (tests use the minimum so that a matrix
    /// of hundreds of re-verifications stays fast on a debug build).
    pub fn set(&self, m_kib: u32, t: u32) {
        self.m_kib.store(m_kib.max(8), Ordering::Relaxed);
        self.t.store(t.max(1), Ordering::Relaxed);
    }

    fn get(&self) -> (u32, u32) {
        (
            self.m_kib.load(Ordering::Relaxed),
            self.t.load(Ordering::Relaxed),
        )
    }
}

/// Whether `pin` has the required shape, in words when not.
pub fn invalid(pin: &str) -> Option<&'static str> {
    if pin.len() < MIN_DIGITS || pin.len() > MAX_DIGITS || !pin.bytes().all(|b| b.is_ascii_digit())
    {
        Some("A PIN is 6 to 32 digits.")
    } else {
        None
    }
}

fn argon(m: u32, t: u32) -> Option<Argon2<'static>> {
    Params::new(m, t, 1, Some(32))
        .ok()
        .map(|p| Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// Hashes a PIN (blocking: call from `spawn_blocking`).
pub fn hash(pin: &str, cost: &PinCost) -> String {
    let (m, t) = cost.get();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source is available");
    let mut out = [0u8; 32];
    if let Some(a) = argon(m, t) {
        let _ = a.hash_password_into(pin.as_bytes(), &salt, &mut out);
    }
    format!(
        "argon2id${m}${t}$1${}${}",
        hex::encode(salt),
        hex::encode(out)
    )
}

/// Checks a PIN against a stored hash (blocking), in constant time over the digest.
pub fn verify(pin: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [alg, m, t, _p, salt, expected] = parts[..] else {
        return false;
    };
    let (Ok(m), Ok(t), Ok(salt), Ok(expected)) = (
        m.parse::<u32>(),
        t.parse::<u32>(),
        hex::decode(salt),
        hex::decode(expected),
    ) else {
        return false;
    };
    if alg != "argon2id" || expected.len() != 32 {
        return false;
    }
    let Some(a) = argon(m, t) else {
        return false;
    };
    let mut out = [0u8; 32];
    if a.hash_password_into(pin.as_bytes(), &salt, &mut out)
        .is_err()
    {
        return false;
    }
    out.ct_eq(&expected[..]).into()
}

/// Why a PIN check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRefusal {
    /// No PIN given with a sensitive request.
    Required,
    /// The member has not set a PIN yet.
    NotSet,
    Wrong {
        remaining: u32,
    },
    Locked {
        until: Timestamp,
    },
}

impl PinRefusal {
    pub fn code(self) -> &'static str {
        match self {
            PinRefusal::Required => "pin_required",
            PinRefusal::NotSet => "pin_not_set",
            PinRefusal::Wrong { .. } => "pin_invalid",
            PinRefusal::Locked { .. } => "pin_locked",
        }
    }

    pub fn message(self) -> String {
        match self {
            PinRefusal::Required => "This action needs your PIN again.".into(),
            PinRefusal::NotSet => {
                "Set your PIN first (Team › My PIN); this action needs it.".into()
            }
            PinRefusal::Wrong { remaining } => {
                format!(
                    "Wrong PIN. {remaining} attempt(s) left before sensitive actions are locked for 15 minutes."
                )
            }
            PinRefusal::Locked { until } => {
                format!("Too many wrong PINs: sensitive actions are locked until {until}.")
            }
        }
    }
}

/// Whether the member is locked out at `now`.
pub fn locked(row: &PinRow, now: Timestamp) -> Option<Timestamp> {
    row.locked_until.filter(|t| *t > now)
}

/// Records the outcome of a verification in the writer's transaction (re-reading the row,
/// so concurrent failures all count). A fifth failure locks and raises `security.alert`.
pub fn record_attempt(
    tx: &mut dyn WriteTx,
    member_id: Uuid,
    device_id: Uuid,
    address: &str,
    ok: bool,
    now: Timestamp,
) -> StorageResult<Result<(), PinRefusal>> {
    let Some(mut row) = tx.pin(member_id)? else {
        return Ok(Err(PinRefusal::NotSet));
    };
    if let Some(until) = locked(&row, now) {
        return Ok(Err(PinRefusal::Locked { until }));
    }
    if ok {
        if row.failures != 0 || row.locked_until.is_some() {
            row.failures = 0;
            row.locked_until = None;
            tx.put_pin(&row)?;
        }
        return Ok(Ok(()));
    }
    row.failures += 1;
    let refusal = if row.failures >= MAX_FAILURES {
        let until = now.checked_add(LOCKOUT).unwrap_or(now);
        row.failures = 0;
        row.locked_until = Some(until);
        tx.append_event(NewEvent {
            kind: SECURITY_ALERT,
            conversation_id: None,
            audience: Audience::ManageTeam,
            also_member: Some(member_id),
            payload: json!({
                "reason": "pin_lockout",
                "member_id": member_id,
                "device_id": device_id,
                "address": address,
                "locked_until": until,
            }),
            created_at: now,
        })?;
        PinRefusal::Locked { until }
    } else {
        PinRefusal::Wrong {
            remaining: MAX_FAILURES - row.failures,
        }
    };
    tx.put_pin(&row)?;
    Ok(Err(refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let cost = PinCost::default();
        cost.set(8, 1);
        let a = hash("123456", &cost);
        let b = hash("123456", &cost);
        assert_ne!(a, b);
        assert!(verify("123456", &a));
        assert!(!verify("123457", &a));
        assert!(!verify("123456", "garbage"));
        assert!(a.starts_with("argon2id$8$1$1$"));
    }

    #[test]
    fn shape_is_six_or_more_digits() {
        assert!(invalid("12345").is_some());
        assert!(invalid("12345a").is_some());
        assert!(invalid("123456").is_none());
    }
}

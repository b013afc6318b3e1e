//! Audit events: every change to members, devices, permissions and templates, sign-ins,
//! pairing attempts and exports are appended to the event log as `audit.*` (delivered to
//! devices with ViewAuditLog) and kept in the `audit_log` table, queryable after event
//! retention.
//!
//! The table is a tamper-evident chain (issue 9, [`teamline_core::audit_chain`]): each
//! entry carries `HMAC(key, previous MAC || entry)` and every append also writes a signed
//! checkpoint (head seq, entry count, head MAC) that the database refuses to move
//! backwards. The key is never in the database ([`AuditSettings`]). Appends happen inside
//! the caller's write job, i.e. on the single writer, so two appends can never fork the
//! chain (and `chain_index` is UNIQUE besides). Retention removes the oldest entries only
//! through a new checkpoint recording the cut, so what is left still verifies.
//!
//! Payload of every `audit.*` event: `{actor_member_id, device_id, address, target, before,
//! after}` (`before`/`after` are the changed object's JSON, `null` when created/removed).
//! Changes that may alter what a member can do also send `me.changed` to that member's
//! devices: `{member_id, device_id, reason}`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};
use teamline_core::audit_chain::{self, Break, Checkpoint, GENESIS, Key, Report, Verifier};
use uuid::Uuid;

use crate::storage::team::{AuditLink, AuditRow, AuditSettings, CheckpointRow};
use crate::storage::{Audience, NewEvent, ReadTx, StorageResult, WriteTx};

pub mod kind {
    pub const MEMBER_CREATED: &str = "audit.member_created";
    pub const MEMBER_UPDATED: &str = "audit.member_updated";
    pub const MEMBER_DEACTIVATED: &str = "audit.member_deactivated";
    pub const MEMBER_PIN_RESET: &str = "audit.member_pin_reset";
    pub const PIN_CHANGED: &str = "audit.pin_changed";
    pub const GROUP_CREATED: &str = "audit.group_created";
    pub const GROUP_UPDATED: &str = "audit.group_updated";
    pub const GROUP_MEMBER_ADDED: &str = "audit.group_member_added";
    pub const GROUP_MEMBER_REMOVED: &str = "audit.group_member_removed";
    pub const DEVICE_LINKED: &str = "audit.device_linked";
    pub const DEVICE_UPDATED: &str = "audit.device_updated";
    pub const DEVICE_UNLINKED: &str = "audit.device_unlinked";
    pub const SETTINGS_UPDATED: &str = "audit.settings_updated";
    pub const TEMPLATE_CREATED: &str = "audit.template_created";
    pub const TEMPLATE_UPDATED: &str = "audit.template_updated";
    pub const TEMPLATE_DELETED: &str = "audit.template_deleted";
    pub const QUICK_REPLY_CREATED: &str = "audit.quick_reply_created";
    pub const QUICK_REPLY_UPDATED: &str = "audit.quick_reply_updated";
    pub const QUICK_REPLY_DELETED: &str = "audit.quick_reply_deleted";
    pub const SESSION_SIGNED_IN: &str = "audit.session_signed_in";
    pub const SESSION_SIGNED_OUT: &str = "audit.session_signed_out";
    /// A pairing claim that linked nothing: `after = {reason, name, os, failures,
    /// locked_until}`, with the claimant's address; never the code. (A successful claim is
    /// [`DEVICE_LINKED`].)
    pub const PAIRING_FAILED: &str = "audit.pairing_failed";
    /// The audit log was exported: `after = {format, filters, entries}`.
    pub const EXPORTED: &str = "audit.exported";
    /// Retention removed the oldest entries: `after = {through_index, through_seq,
    /// removed, older_than}`.
    pub const ENTRIES_EXPIRED: &str = "audit.entries_expired";
    /// Sent to a member's devices when what they may do may have changed.
    pub const ME_CHANGED: &str = "me.changed";
}

/// Who made a change, from where. `actor_member_id` is `None` for the relay itself
/// (auto-unlink, retention) and for pairing claims.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor_member_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub address: Option<String>,
    pub now: Timestamp,
}

impl Ctx {
    /// The relay itself acting (no member, device or address).
    pub fn relay(now: Timestamp) -> Ctx {
        Ctx {
            actor_member_id: None,
            device_id: None,
            address: None,
            now,
        }
    }
}

/// Appends one `audit.*` event and its chained audit entry; returns the seq.
pub fn record(
    tx: &mut dyn WriteTx,
    ctx: &Ctx,
    kind: &'static str,
    target: Value,
    before: Value,
    after: Value,
) -> StorageResult<u64> {
    crate::alerts::on_audit(tx, ctx, kind, &target, &before, &after)?;
    // The entry keeps the exact JSON text its MAC covers.
    let (target_text, before_text, after_text) =
        (target.to_string(), before.to_string(), after.to_string());
    let seq = tx.append_event(NewEvent {
        kind,
        conversation_id: None,
        audience: Audience::AuditLog,
        also_member: None,
        payload: json!({
            "actor_member_id": ctx.actor_member_id,
            "device_id": ctx.device_id,
            "address": ctx.address,
            "target": target,
            "before": before,
            "after": after,
        }),
        created_at: ctx.now,
    })?;
    let key = Arc::clone(&tx.audit_settings().key);
    let head = head(tx, &key)?;
    let index = head.count + 1;
    let mut link = AuditLink {
        index: Some(index),
        seq,
        kind: kind.to_owned(),
        actor_member_id: ctx.actor_member_id.map(|u| u.to_string()),
        device_id: ctx.device_id.map(|u| u.to_string()),
        address: ctx.address.clone(),
        target: target_text,
        before: before_text,
        after: after_text,
        created_at_ms: ctx.now.as_millisecond(),
        prev_mac: Some(head.head_mac),
        mac: None,
    };
    let mac = audit_chain::entry_mac(&key, &head.head_mac, &link.entry());
    link.mac = Some(mac);
    tx.insert_audit(&link)?;
    let next = Checkpoint {
        seq,
        count: index,
        head_mac: mac,
        created_at_ms: link.created_at_ms,
        ..head
    };
    tx.insert_audit_checkpoint(&next, &next.sign(&key))?;
    Ok(seq)
}

/// Where the next entry goes: the newest checkpoint, or (no checkpoint yet) the chain as
/// stored, after sealing entries written before the chain existed.
fn head(tx: &mut dyn WriteTx, key: &Key) -> StorageResult<Checkpoint> {
    if let Some(c) = tx.audit_checkpoint()? {
        return Ok(c.checkpoint);
    }
    let mut last: Option<AuditLink> = None;
    let mut unsealed = Vec::new();
    tx.audit_scan(&mut |_, link| {
        if link.index.is_none() || link.mac.is_none() {
            unsealed.push(link);
        } else {
            last = Some(link);
        }
        true
    })?;
    let mut head = Checkpoint {
        seq: 0,
        count: 0,
        head_mac: GENESIS,
        cut_count: 0,
        cut_seq: 0,
        cut_mac: GENESIS,
        created_at_ms: 0,
    };
    if let Some(l) = last {
        head.seq = l.seq;
        head.count = l.index.unwrap_or(0);
        head.head_mac = l.mac.unwrap_or(GENESIS);
    }
    if unsealed.is_empty() {
        return Ok(head);
    }
    unsealed.sort_by_key(|l| l.seq);
    let sealed = unsealed.len();
    for mut l in unsealed {
        let index = head.count + 1;
        l.index = Some(index);
        let mac = audit_chain::entry_mac(key, &head.head_mac, &l.entry());
        tx.seal_audit(l.seq, index, &head.head_mac, &mac)?;
        head.seq = l.seq;
        head.count = index;
        head.head_mac = mac;
        head.created_at_ms = l.created_at_ms;
    }
    tx.insert_audit_checkpoint(&head, &head.sign(key))?;
    tracing::info!(
        entries = sealed,
        "audit entries from before the chain were sealed"
    );
    Ok(head)
}

/// Seals entries written before the chain existed (a relay upgraded to schema 4), so the
/// log verifies from the start. Does nothing once a checkpoint exists.
pub fn seal_legacy(tx: &mut dyn WriteTx) -> StorageResult<()> {
    let key = Arc::clone(&tx.audit_settings().key);
    head(tx, &key).map(drop)
}

/// A verification with the checkpoint it was checked against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verification {
    pub report: Report,
    pub checkpoint: Option<Checkpoint>,
}

/// Verifies the whole stored chain against the newest checkpoint, in one snapshot.
pub fn verify(tx: &dyn ReadTx) -> StorageResult<Verification> {
    fn start<'k>(key: &'k Key, cp: Option<&CheckpointRow>) -> Verifier<'k> {
        Verifier::new(key, cp.map(|c| (&c.checkpoint, &c.sig)))
    }
    let key = Arc::clone(&tx.audit_settings().key);
    let mut verifier: Option<Verifier<'_>> = None;
    let checkpoint = tx.audit_scan(&mut |cp, link| {
        verifier
            .get_or_insert_with(|| start(&key, cp))
            .push(&link.stored())
            .is_ok()
    })?;
    let verifier = verifier.unwrap_or_else(|| start(&key, checkpoint.as_ref()));
    Ok(Verification {
        report: verifier.finish(),
        checkpoint: checkpoint.map(|c| c.checkpoint),
    })
}

impl Verification {
    /// One line for people: `audit log intact: N entries, head seq S` or
    /// `audit log BROKEN at entry S: <reason>`.
    pub fn words(&self) -> String {
        let r = &self.report;
        match r.first_broken {
            None => format!(
                "audit log intact: {} entries, head seq {}",
                r.checked, r.head.seq
            ),
            Some(b) => format!("audit log BROKEN at entry {}: {}", b.seq, b.reason),
        }
    }

    /// The JSON of `GET /v1/team/audit/verify`.
    pub fn json(&self) -> Value {
        let r = &self.report;
        json!({
            "ok": r.ok(),
            "checked": r.checked,
            "head_seq": r.head.seq,
            "head_count": r.head.count,
            "head_mac": hex::encode(r.head.mac),
            "first_broken": r.first_broken.map(break_json),
            "checkpoint": self.checkpoint.map(|c| json!({
                "seq": c.seq,
                "count": c.count,
                "head_mac": hex::encode(c.head_mac),
                "cut_count": c.cut_count,
                "cut_seq": c.cut_seq,
            })),
        })
    }
}

fn break_json(b: Break) -> Value {
    json!({ "seq": b.seq, "reason": b.reason.to_string(), "code": b.reason.code() })
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cut {
    /// No entry is older than the retention period (or they are already cut).
    Nothing,
    /// Entries at chain positions `<= through_index` were removed.
    Removed {
        through_index: u64,
        through_seq: u64,
        removed: u64,
    },
    /// The part that expired does not verify: nothing was removed, so the evidence stays.
    Refused(Break),
}

/// Removes entries older than the retention period through a signed checkpoint that
/// records the cut (verification then starts from the last removed entry's MAC), and logs
/// the cut itself as [`kind::ENTRIES_EXPIRED`]. Only a prefix that verifies is ever cut.
pub fn cut_expired(tx: &mut dyn WriteTx, now: Timestamp) -> StorageResult<Cut> {
    let AuditSettings { key, retention } = tx.audit_settings().clone();
    let cutoff = now.checked_sub(retention).unwrap_or(Timestamp::MIN);
    let Some(current) = tx.audit_checkpoint()? else {
        return Ok(Cut::Nothing);
    };
    let Some(through) = tx.audit_expired_through(cutoff)? else {
        return Ok(Cut::Nothing);
    };
    if through <= current.checkpoint.cut_count {
        return Ok(Cut::Nothing);
    }
    // Verify the part that goes (its last entry becomes the new starting point).
    let mut verifier = Verifier::new(&key, Some((&current.checkpoint, &current.sig)));
    let mut last: Option<AuditLink> = None;
    let mut broken = None;
    tx.audit_scan(&mut |_, link| {
        if link.index.is_some_and(|i| i > through) {
            return false;
        }
        match verifier.push(&link.stored()) {
            Ok(()) => {
                last = Some(link);
                true
            }
            Err(b) => {
                broken = Some(b);
                false
            }
        }
    })?;
    if let Some(b) = broken {
        tracing::error!(
            seq = b.seq,
            code = b.reason.code(),
            "audit retention refused: the expired entries do not verify"
        );
        return Ok(Cut::Refused(b));
    }
    let Some(last) = last.filter(|l| l.index == Some(through)) else {
        return Ok(Cut::Nothing);
    };
    let cut = Checkpoint {
        cut_count: through,
        cut_seq: last.seq,
        cut_mac: last.mac.unwrap_or(GENESIS),
        created_at_ms: now.as_millisecond(),
        ..current.checkpoint
    };
    tx.insert_audit_checkpoint(&cut, &cut.sign(&key))?;
    let removed = tx.delete_audit_through(through)?;
    record(
        tx,
        &Ctx::relay(now),
        kind::ENTRIES_EXPIRED,
        json!({ "through_index": through }),
        Value::Null,
        json!({
            "through_index": through,
            "through_seq": last.seq,
            "removed": removed,
            "older_than": cutoff,
        }),
    )?;
    Ok(Cut::Removed {
        through_index: through,
        through_seq: last.seq,
        removed,
    })
}

/// One retention pass at the relay's clock.
pub async fn apply_retention(st: &crate::app::AppState) -> StorageResult<Cut> {
    let now = st.clock.now();
    let cut = st.storage.write(move |tx| cut_expired(tx, now)).await?;
    if let Cut::Removed { removed, .. } = cut {
        tracing::info!(
            removed,
            "expired audit entries removed through a signed checkpoint"
        );
    }
    Ok(cut)
}

/// Tells a member's devices to reload `/v1/me` (their streams reload by themselves).
pub fn me_changed(
    tx: &mut dyn WriteTx,
    member_id: Uuid,
    device_id: Option<Uuid>,
    reason: &str,
    now: Timestamp,
) -> StorageResult<u64> {
    tx.append_event(NewEvent {
        kind: kind::ME_CHANGED,
        conversation_id: None,
        audience: Audience::Member,
        also_member: Some(member_id),
        payload: json!({ "member_id": member_id, "device_id": device_id, "reason": reason }),
        created_at: now,
    })
}

// ---------------------------------------------------------------------------------------
// Export

/// Columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 13] = [
    "seq",
    "index",
    "created_at",
    "kind",
    "actor_member_id",
    "actor_name",
    "device_id",
    "device_name",
    "address",
    "target",
    "before",
    "after",
    "mac",
];

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes
/// doubled. A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
/// first) gets a leading `'`, so opening the export never executes member-typed text.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Member and device names for an export.
#[derive(Debug, Default)]
pub struct Names {
    pub members: HashMap<Uuid, String>,
    pub devices: HashMap<Uuid, String>,
}

impl Names {
    pub fn load(tx: &dyn ReadTx) -> StorageResult<Names> {
        Ok(Names {
            members: tx.members()?.into_iter().map(|m| (m.id, m.name)).collect(),
            devices: tx.devices()?.into_iter().map(|d| (d.id, d.name)).collect(),
        })
    }

    fn member(&self, id: Option<Uuid>) -> Option<&str> {
        id.and_then(|i| self.members.get(&i)).map(String::as_str)
    }

    fn device(&self, id: Option<Uuid>) -> Option<&str> {
        id.and_then(|i| self.devices.get(&i)).map(String::as_str)
    }
}

/// The CSV export: a header row, then one row per entry (oldest first), CRLF line ends.
pub fn to_csv(rows: &[AuditRow], names: &Names) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells = [
            r.seq.to_string(),
            r.index.map(|i| i.to_string()).unwrap_or_default(),
            r.created_at.to_string(),
            r.kind.clone(),
            r.actor_member_id.map(|u| u.to_string()).unwrap_or_default(),
            names
                .member(r.actor_member_id)
                .unwrap_or_default()
                .to_owned(),
            r.device_id.map(|u| u.to_string()).unwrap_or_default(),
            names.device(r.device_id).unwrap_or_default().to_owned(),
            r.address.clone().unwrap_or_default(),
            r.target.to_string(),
            r.before.to_string(),
            r.after.to_string(),
            r.mac.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The JSON export: `{exported_at, filters, entries: [...]}`, entries oldest first with
/// the actor's and device's names.
pub fn to_json(rows: &[AuditRow], names: &Names, filters: &Value, now: Timestamp) -> Value {
    let entries: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "index": r.index,
                "created_at": r.created_at,
                "kind": r.kind,
                "actor_member_id": r.actor_member_id,
                "actor_name": names.member(r.actor_member_id),
                "device_id": r.device_id,
                "device_name": names.device(r.device_id),
                "address": r.address,
                "target": r.target,
                "before": r.before,
                "after": r.after,
                "mac": r.mac,
            })
        })
        .collect();
    json!({ "exported_at": now, "filters": filters, "entries": entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed_and_formulas_are_neutralised() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn verification_words_name_the_entry_and_reason() {
        let report = Report {
            checked: 3,
            head: audit_chain::Head {
                seq: 42,
                count: 3,
                mac: GENESIS,
            },
            first_broken: None,
        };
        let v = Verification {
            report,
            checkpoint: None,
        };
        assert_eq!(v.words(), "audit log intact: 3 entries, head seq 42");
        assert_eq!(v.json()["ok"], true);
        let broken = Verification {
            report: Report {
                first_broken: Some(Break {
                    seq: 40,
                    reason: audit_chain::Broken::MacMismatch,
                }),
                ..report
            },
            checkpoint: None,
        };
        assert!(
            broken
                .words()
                .starts_with("audit log BROKEN at entry 40: MAC mismatch"),
            "{}",
            broken.words()
        );
        assert_eq!(broken.json()["first_broken"]["code"], "mac_mismatch");
    }
}

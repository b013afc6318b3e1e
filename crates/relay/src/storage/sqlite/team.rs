//! SQLite implementation of the team-side tables ([`crate::storage::team`]).

use jiff::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;
use teamline_core::PermissionTemplate;
use teamline_core::audit_chain::{Checkpoint, MAC_LEN, Mac};
use uuid::Uuid;

use super::{Sql, db_err, json, ms, opt_ts, opt_uuid, to_json, ts, uuid};
use crate::storage::team::*;
use crate::storage::{StorageError, StorageResult};

fn template_of(body: String) -> rusqlite::Result<PermissionTemplate> {
    serde_json::from_str(&body).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn uuids(s: Option<String>) -> rusqlite::Result<Option<Vec<Uuid>>> {
    s.map(|s| {
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

const AUDIT_COLS: &str = "seq, kind, actor_member_id, device_id, address, target, before, after, created_at, chain_index, prev_mac, mac";

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get::<_, i64>(0)? as u64,
        kind: r.get(1)?,
        actor_member_id: opt_uuid(r.get(2)?)?,
        device_id: opt_uuid(r.get(3)?)?,
        address: r.get(4)?,
        target: json(r.get(5)?)?,
        before: json(r.get(6)?)?,
        after: json(r.get(7)?)?,
        created_at: ts(r.get(8)?)?,
        index: r.get::<_, Option<i64>>(9)?.map(|i| i as u64),
        mac: r.get::<_, Option<Vec<u8>>>(11)?.map(hex::encode),
    })
}

/// A column read as text whatever was stored in it (the chain must report an edit, not
/// fail on a value of an unexpected type).
fn text_of(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

fn int_of(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.parse().ok(),
        _ => None,
    }
}

fn mac_of(v: ValueRef<'_>) -> Option<Mac> {
    match v {
        ValueRef::Blob(b) => b.try_into().ok(),
        _ => None,
    }
}

/// A stored entry, tolerant of tampered types: an unreadable value reads as something
/// its MAC will not match.
fn audit_link(r: &Row<'_>) -> rusqlite::Result<AuditLink> {
    let text = |i: usize| -> rusqlite::Result<Option<String>> { Ok(text_of(r.get_ref(i)?)) };
    Ok(AuditLink {
        seq: int_of(r.get_ref(0)?).unwrap_or(0) as u64,
        kind: text(1)?.unwrap_or_default(),
        actor_member_id: text(2)?,
        device_id: text(3)?,
        address: text(4)?,
        target: text(5)?.unwrap_or_default(),
        before: text(6)?.unwrap_or_default(),
        after: text(7)?.unwrap_or_default(),
        created_at_ms: int_of(r.get_ref(8)?).unwrap_or(i64::MIN),
        index: int_of(r.get_ref(9)?).map(|i| i as u64),
        prev_mac: mac_of(r.get_ref(10)?),
        mac: mac_of(r.get_ref(11)?),
    })
}

fn checkpoint_row(r: &Row<'_>) -> rusqlite::Result<CheckpointRow> {
    // A MAC of the wrong length reads as zeros, which no signature matches.
    let mac =
        |i: usize| -> rusqlite::Result<Mac> { Ok(mac_of(r.get_ref(i)?).unwrap_or([0; MAC_LEN])) };
    let int = |i: usize| -> rusqlite::Result<i64> { Ok(int_of(r.get_ref(i)?).unwrap_or(-1)) };
    Ok(CheckpointRow {
        id: int(0)?,
        checkpoint: Checkpoint {
            seq: int(1)? as u64,
            count: int(2)? as u64,
            head_mac: mac(3)?,
            cut_count: int(4)? as u64,
            cut_seq: int(5)? as u64,
            cut_mac: mac(6)?,
            created_at_ms: int(7)?,
        },
        sig: mac(8)?,
    })
}

impl Sql<'_> {
    /// Runs `f` in one read transaction unless the connection is already in one (the
    /// writer), so what it reads is a single snapshot.
    fn snapshot<T>(&self, f: impl FnOnce() -> StorageResult<T>) -> StorageResult<T> {
        if !self.c.is_autocommit() {
            return f();
        }
        self.c.execute_batch("BEGIN").map_err(db_err)?;
        let out = f();
        let end = self
            .c
            .execute_batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let out = out?;
        end.map_err(db_err)?;
        Ok(out)
    }
}

impl TeamRead for Sql<'_> {
    fn setting(&self, key: &str) -> StorageResult<Option<Value>> {
        self.c
            .prepare_cached("SELECT value FROM team_settings WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| json(r.get(0)?)).optional())
            .map_err(db_err)
    }

    fn groups(&self) -> StorageResult<Vec<GroupRow>> {
        self.c
            .prepare_cached("SELECT id, name, created_at FROM member_groups ORDER BY created_at")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(GroupRow {
                        id: uuid(r.get(0)?)?,
                        name: r.get(1)?,
                        created_at: ts(r.get(2)?)?,
                    })
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn group(&self, id: Uuid) -> StorageResult<Option<GroupRow>> {
        Ok(self.groups()?.into_iter().find(|g| g.id == id))
    }

    fn templates(&self) -> StorageResult<Vec<PermissionTemplate>> {
        self.c
            .prepare_cached("SELECT body FROM permission_templates ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| template_of(r.get(0)?))?.collect())
            .map_err(db_err)
    }

    fn template(&self, id: Uuid) -> StorageResult<Option<PermissionTemplate>> {
        self.c
            .prepare_cached("SELECT body FROM permission_templates WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id.to_string()], |r| template_of(r.get(0)?))
                    .optional()
            })
            .map_err(db_err)
    }

    fn member_templates(&self, member_id: Uuid) -> StorageResult<Vec<PermissionTemplate>> {
        self.c
            .prepare_cached(
                "SELECT t.body FROM member_templates m JOIN permission_templates t
                 ON t.id = m.template_id WHERE m.member_id = ?1 ORDER BY t.id",
            )
            .and_then(|mut s| {
                s.query_map([member_id.to_string()], |r| template_of(r.get(0)?))?
                    .collect()
            })
            .map_err(db_err)
    }

    fn template_members(&self, template_id: Uuid) -> StorageResult<Vec<Uuid>> {
        self.c
            .prepare_cached("SELECT member_id FROM member_templates WHERE template_id = ?1")
            .and_then(|mut s| {
                s.query_map([template_id.to_string()], |r| uuid(r.get(0)?))?
                    .collect()
            })
            .map_err(db_err)
    }

    fn pin(&self, member_id: Uuid) -> StorageResult<Option<PinRow>> {
        self.c
            .prepare_cached(
                "SELECT hash, failures, locked_until FROM member_pins WHERE member_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([member_id.to_string()], |r| {
                    Ok(PinRow {
                        member_id,
                        hash: r.get(0)?,
                        failures: r.get::<_, i64>(1)?.max(0) as u32,
                        locked_until: opt_ts(r.get(2)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn session(&self, device_id: Uuid) -> StorageResult<Option<SessionRow>> {
        self.c
            .prepare_cached(
                "SELECT allowed, member_id, since FROM device_sessions WHERE device_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([device_id.to_string()], |r| {
                    Ok(SessionRow {
                        device_id,
                        allowed: uuids(r.get(0)?)?,
                        member_id: opt_uuid(r.get(1)?)?,
                        since: ts(r.get(2)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn code_extra(&self, code_hash: &[u8; 32]) -> StorageResult<Option<CodeExtra>> {
        let body: Option<Value> = self
            .c
            .prepare_cached("SELECT body FROM pairing_code_extras WHERE code_hash = ?1")
            .and_then(|mut s| {
                s.query_row([&code_hash[..]], |r| json(r.get(0)?))
                    .optional()
            })
            .map_err(db_err)?;
        body.map(|b| serde_json::from_value(b).map_err(|e| StorageError::Corrupt(e.to_string())))
            .transpose()
    }

    fn audit_filtered(&self, f: &AuditFilter) -> StorageResult<Vec<AuditRow>> {
        let before = f.before.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64);
        self.c
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit_log
                 WHERE seq < ?1
                   AND (?2 IS NULL OR actor_member_id = ?2)
                   AND (?3 IS NULL OR device_id = ?3)
                   AND (?4 IS NULL OR substr(kind, 1, length(?4)) = ?4)
                   AND (?5 IS NULL OR created_at >= ?5)
                   AND (?6 IS NULL OR created_at < ?6)
                 ORDER BY seq DESC LIMIT ?7"
            ))
            .and_then(|mut s| {
                s.query_map(
                    params![
                        before,
                        f.member.map(|m| m.to_string()),
                        f.device.map(|d| d.to_string()),
                        f.action,
                        f.from.map(ms),
                        f.to.map(ms),
                        f.limit.min(i64::MAX as usize) as i64
                    ],
                    audit_row,
                )?
                .collect()
            })
            .map_err(db_err)
    }

    fn audit_settings(&self) -> &AuditSettings {
        &self.audit
    }

    fn audit_checkpoint(&self) -> StorageResult<Option<CheckpointRow>> {
        self.c
            .prepare_cached(
                "SELECT id, seq, count, head_mac, cut_count, cut_seq, cut_mac, created_at, sig
                 FROM audit_checkpoints ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([], checkpoint_row).optional())
            .map_err(db_err)
    }

    fn audit_link(&self, index: u64) -> StorageResult<Option<AuditLink>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit_log WHERE chain_index = ?1"
            ))
            .and_then(|mut s| s.query_row([index as i64], audit_link).optional())
            .map_err(db_err)
    }

    fn audit_scan(
        &self,
        f: &mut dyn FnMut(Option<&CheckpointRow>, AuditLink) -> bool,
    ) -> StorageResult<Option<CheckpointRow>> {
        self.snapshot(|| {
            let checkpoint = self.audit_checkpoint()?;
            let mut stmt = self
                .c
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLS} FROM audit_log ORDER BY chain_index, seq"
                ))
                .map_err(db_err)?;
            let mut rows = stmt.query([]).map_err(db_err)?;
            while let Some(r) = rows.next().map_err(db_err)? {
                if !f(checkpoint.as_ref(), audit_link(r).map_err(db_err)?) {
                    break;
                }
            }
            Ok(checkpoint)
        })
    }

    fn audit_expired_through(&self, before: Timestamp) -> StorageResult<Option<u64>> {
        self.c
            .prepare_cached(
                "SELECT MAX(chain_index) FROM audit_log
                 WHERE created_at < ?1 AND chain_index IS NOT NULL",
            )
            .and_then(|mut s| s.query_row([ms(before)], |r| r.get::<_, Option<i64>>(0)))
            .map(|m| m.map(|i| i as u64))
            .map_err(db_err)
    }
}

impl TeamWrite for Sql<'_> {
    fn put_setting(&mut self, key: &str, value: &Value) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO team_settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, to_json(value)],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn put_group(&mut self, g: &GroupRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO member_groups (id, name, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                params![g.id.to_string(), g.name, ms(g.created_at)],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn put_template(&mut self, t: &PermissionTemplate, now: Timestamp) -> StorageResult<()> {
        let body = serde_json::to_string(t).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        self.c
            .execute(
                "INSERT INTO permission_templates (id, body, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                params![t.id.to_string(), body, ms(now)],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn delete_template(&mut self, id: Uuid) -> StorageResult<bool> {
        self.c
            .execute(
                "DELETE FROM member_templates WHERE template_id = ?1",
                [id.to_string()],
            )
            .map_err(db_err)?;
        self.c
            .execute(
                "DELETE FROM permission_templates WHERE id = ?1",
                [id.to_string()],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn set_member_templates(&mut self, member_id: Uuid, ids: &[Uuid]) -> StorageResult<()> {
        self.c
            .execute(
                "DELETE FROM member_templates WHERE member_id = ?1",
                [member_id.to_string()],
            )
            .map_err(db_err)?;
        for id in ids {
            self.c
                .execute(
                    "INSERT OR IGNORE INTO member_templates (member_id, template_id) VALUES (?1, ?2)",
                    params![member_id.to_string(), id.to_string()],
                )
                .map_err(db_err)?;
        }
        Ok(())
    }

    fn put_pin(&mut self, p: &PinRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO member_pins (member_id, hash, failures, locked_until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(member_id) DO UPDATE SET hash = excluded.hash,
                 failures = excluded.failures, locked_until = excluded.locked_until",
                params![
                    p.member_id.to_string(),
                    p.hash,
                    i64::from(p.failures),
                    p.locked_until.map(ms)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn put_session(&mut self, s: &SessionRow) -> StorageResult<()> {
        let allowed = s
            .allowed
            .as_ref()
            .map(|a| serde_json::to_string(a).unwrap_or_else(|_| "[]".into()));
        self.c
            .execute(
                "INSERT INTO device_sessions (device_id, allowed, member_id, since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(device_id) DO UPDATE SET allowed = excluded.allowed,
                 member_id = excluded.member_id, since = excluded.since",
                params![
                    s.device_id.to_string(),
                    allowed,
                    s.member_id.map(|m| m.to_string()),
                    ms(s.since)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn put_code_extra(&mut self, code_hash: &[u8; 32], e: &CodeExtra) -> StorageResult<()> {
        let body = serde_json::to_string(e).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        self.c
            .execute(
                "INSERT OR REPLACE INTO pairing_code_extras (code_hash, body) VALUES (?1, ?2)",
                params![&code_hash[..], body],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn update_device(&mut self, id: Uuid, name: &str, level: &Value) -> StorageResult<bool> {
        self.c
            .execute(
                "UPDATE devices SET name = ?2, level = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                params![id.to_string(), name, to_json(level)],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn insert_audit(&mut self, a: &AuditLink) -> StorageResult<()> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO audit_log ({AUDIT_COLS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    a.seq as i64,
                    a.kind,
                    a.actor_member_id,
                    a.device_id,
                    a.address,
                    a.target,
                    a.before,
                    a.after,
                    a.created_at_ms,
                    a.index.map(|i| i as i64),
                    a.prev_mac.as_ref().map(|m| &m[..]),
                    a.mac.as_ref().map(|m| &m[..])
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn seal_audit(&mut self, seq: u64, index: u64, prev_mac: &Mac, mac: &Mac) -> StorageResult<()> {
        self.c
            .execute(
                "UPDATE audit_log SET chain_index = ?2, prev_mac = ?3, mac = ?4
                 WHERE seq = ?1 AND mac IS NULL",
                params![seq as i64, index as i64, &prev_mac[..], &mac[..]],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn insert_audit_checkpoint(&mut self, c: &Checkpoint, sig: &Mac) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO audit_checkpoints
                 (seq, count, head_mac, cut_count, cut_seq, cut_mac, created_at, sig)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.seq as i64,
                    c.count as i64,
                    &c.head_mac[..],
                    c.cut_count as i64,
                    c.cut_seq as i64,
                    &c.cut_mac[..],
                    c.created_at_ms,
                    &sig[..]
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn delete_audit_through(&mut self, index: u64) -> StorageResult<u64> {
        self.c
            .execute(
                "DELETE FROM audit_log WHERE chain_index <= ?1",
                [index as i64],
            )
            .map(|n| n as u64)
            .map_err(db_err)
    }
}

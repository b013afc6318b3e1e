//! SQLite implementation of the team-side tables ([`crate::storage::team`]).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;
use teamline_core::PermissionTemplate;
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

    fn audit(&self, before: Option<u64>, limit: usize) -> StorageResult<Vec<AuditRow>> {
        let before = before.map_or(i64::MAX, |b| b as i64);
        self.c
            .prepare_cached(
                "SELECT seq, kind, actor_member_id, device_id, address, target, before, after, created_at
                 FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![before, limit as i64], |r| {
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
                    })
                })?
                .collect()
            })
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

    fn insert_audit(&mut self, a: &AuditRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO audit_log (seq, kind, actor_member_id, device_id, address, target, before, after, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    a.seq as i64,
                    a.kind,
                    a.actor_member_id.map(|m| m.to_string()),
                    a.device_id.map(|m| m.to_string()),
                    a.address,
                    to_json(&a.target),
                    to_json(&a.before),
                    to_json(&a.after),
                    ms(a.created_at)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }
}

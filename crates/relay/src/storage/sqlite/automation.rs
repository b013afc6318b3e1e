//! SQLite implementation of the automation tables ([`crate::storage::automation`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;
use uuid::Uuid;

use super::{Sql, db_err, json, ms, opt_ts, opt_uuid, to_json, ts, uuid};
use crate::storage::StorageResult;
use crate::storage::automation::*;

const JOB_COLS: &str = "id, kind, conversation_id, message_id, label, attempts, next_attempt_at, last_error, created_at";

fn job_row(r: &Row<'_>) -> rusqlite::Result<AutomationJob> {
    Ok(AutomationJob {
        id: r.get(0)?,
        kind: r.get(1)?,
        conversation_id: uuid(r.get(2)?)?,
        message_id: opt_uuid(r.get(3)?)?,
        label: r.get(4)?,
        attempts: r.get::<_, i64>(5)?.max(0) as u32,
        next_attempt_at: ts(r.get(6)?)?,
        last_error: r.get(7)?,
        created_at: ts(r.get(8)?)?,
    })
}

/// First and last inbound, inbound count, first and last human reply (ms or counts).
type Aggregates = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn count(v: Option<i64>) -> u32 {
    v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32
}

impl AutomationRead for Sql<'_> {
    fn automation_jobs_due(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> StorageResult<Vec<AutomationJob>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {JOB_COLS} FROM automation_jobs WHERE next_attempt_at <= ?1 ORDER BY id LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![ms(now), limit as i64], job_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn automation_next_job_at(&self) -> StorageResult<Option<Timestamp>> {
        let at: Option<i64> = self
            .c
            .prepare_cached("SELECT MIN(next_attempt_at) FROM automation_jobs")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(db_err)?;
        opt_ts(at).map_err(db_err)
    }

    fn auto_replies_sent(&self, customer: &str) -> StorageResult<Vec<(String, Timestamp)>> {
        self.c
            .prepare_cached(
                "SELECT key, sent_at FROM automation_auto_replies WHERE customer = ?1 ORDER BY key",
            )
            .and_then(|mut s| {
                s.query_map([customer], |r| Ok((r.get(0)?, ts(r.get(1)?)?)))?
                    .collect()
            })
            .map_err(db_err)
    }

    fn conversation_automation(&self, id: Uuid) -> StorageResult<Option<ConversationAutomation>> {
        self.c
            .prepare_cached(
                "SELECT priority, sla, last_tick, sla_fired_due, sla_shown FROM automation_conversations
                 WHERE conversation_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id.to_string()], |r| {
                    Ok(ConversationAutomation {
                        conversation_id: id,
                        priority: r.get(0)?,
                        sla: r.get::<_, Option<String>>(1)?.map(json).transpose()?,
                        last_tick: opt_ts(r.get(2)?)?,
                        sla_fired_due: opt_ts(r.get(3)?)?,
                        sla_shown: r.get::<_, Option<String>>(4)?.map(json).transpose()?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn timeline(&self, conversation_id: Uuid) -> StorageResult<Timeline> {
        let id = conversation_id.to_string();
        let (first_in, last_in, n, first_human, last_human): Aggregates = self
            .c
            .prepare_cached(
                // A person's reply: outbound, with an author, not sent by a broadcast.
                "SELECT
                    MIN(CASE WHEN m.direction = 'in' THEN m.created_at END),
                    MAX(CASE WHEN m.direction = 'in' THEN m.created_at END),
                    SUM(CASE WHEN m.direction = 'in' THEN 1 ELSE 0 END),
                    MIN(CASE WHEN m.direction = 'out' AND m.sent_by IS NOT NULL
                             AND b.message_id IS NULL THEN m.created_at END),
                    MAX(CASE WHEN m.direction = 'out' AND m.sent_by IS NOT NULL
                             AND b.message_id IS NULL THEN m.created_at END)
                 FROM messages m
                 LEFT JOIN broadcast_recipients b ON b.message_id = m.id
                 WHERE m.conversation_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
            })
            .map_err(db_err)?;
        let unanswered: Option<i64> = self
            .c
            .prepare_cached(
                "SELECT MIN(created_at) FROM messages
                 WHERE conversation_id = ?1 AND direction = 'in' AND created_at > ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![&id, last_human.unwrap_or(i64::MIN)], |r| r.get(0))
            })
            .map_err(db_err)?;
        Ok(Timeline {
            first_inbound_at: opt_ts(first_in).map_err(db_err)?,
            last_inbound_at: opt_ts(last_in).map_err(db_err)?,
            inbound_count: count(n),
            first_human_reply_at: opt_ts(first_human).map_err(db_err)?,
            last_human_reply_at: opt_ts(last_human).map_err(db_err)?,
            unanswered_since: opt_ts(unanswered).map_err(db_err)?,
        })
    }

    fn member_loads(&self) -> StorageResult<Vec<MemberLoadRow>> {
        self.c
            .prepare_cached(
                "SELECT c.assignee, COUNT(*), SUM(CASE WHEN (
                    SELECT m.direction FROM messages m
                    WHERE m.conversation_id = c.id AND (m.direction = 'in' OR m.sent_by IS NOT NULL)
                    ORDER BY m.id DESC LIMIT 1) = 'in' THEN 1 ELSE 0 END)
                 FROM conversations c
                 WHERE c.status = 'open' AND c.assignee IS NOT NULL
                 GROUP BY c.assignee",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((uuid(r.get(0)?)?, count(r.get(1)?), count(r.get(2)?)))
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn open_conversation_ids(&self) -> StorageResult<Vec<Uuid>> {
        self.c
            .prepare_cached("SELECT id FROM conversations WHERE status = 'open' ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| uuid(r.get(0)?))?.collect())
            .map_err(db_err)
    }

    fn contact_attributes(&self, wa_id: &str) -> StorageResult<BTreeMap<String, Value>> {
        let v: Option<String> = self
            .c
            .prepare_cached("SELECT attributes FROM contacts WHERE wa_id = ?1")
            .and_then(|mut s| s.query_row([wa_id], |r| r.get(0)).optional())
            .map_err(db_err)?;
        match v {
            None => Ok(BTreeMap::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| crate::storage::StorageError::Corrupt(e.to_string())),
        }
    }
}

impl AutomationWrite for Sql<'_> {
    fn insert_automation_job(&mut self, j: &AutomationJob) -> StorageResult<i64> {
        self.c
            .prepare_cached(
                "INSERT INTO automation_jobs
                 (kind, conversation_id, message_id, label, attempts, next_attempt_at, last_error, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    j.kind,
                    j.conversation_id.to_string(),
                    j.message_id.map(|m| m.to_string()),
                    j.label,
                    i64::from(j.attempts),
                    ms(j.next_attempt_at),
                    j.last_error,
                    ms(j.created_at),
                ])
            })
            .map_err(db_err)?;
        Ok(self.c.last_insert_rowid())
    }

    fn delete_automation_job(&mut self, id: i64) -> StorageResult<()> {
        self.c
            .prepare_cached("DELETE FROM automation_jobs WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map(|_| ())
            .map_err(db_err)
    }

    fn update_automation_job(&mut self, j: &AutomationJob) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE automation_jobs SET attempts = ?2, next_attempt_at = ?3, last_error = ?4
                 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    j.id,
                    i64::from(j.attempts),
                    ms(j.next_attempt_at),
                    j.last_error
                ])
            })
            .map(|_| ())
            .map_err(db_err)
    }

    fn record_auto_reply(&mut self, customer: &str, key: &str, at: Timestamp) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO automation_auto_replies (customer, key, sent_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(customer, key) DO UPDATE SET sent_at = excluded.sent_at",
            )
            .and_then(|mut s| s.execute(params![customer, key, ms(at)]))
            .map(|_| ())
            .map_err(db_err)
    }

    fn put_conversation_automation(&mut self, row: &ConversationAutomation) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO automation_conversations
                 (conversation_id, priority, sla, last_tick, sla_fired_due, sla_shown)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(conversation_id) DO UPDATE SET priority = excluded.priority,
                   sla = excluded.sla, last_tick = excluded.last_tick,
                   sla_fired_due = excluded.sla_fired_due, sla_shown = excluded.sla_shown",
            )
            .and_then(|mut s| {
                s.execute(params![
                    row.conversation_id.to_string(),
                    row.priority,
                    row.sla.as_ref().map(to_json),
                    row.last_tick.map(ms),
                    row.sla_fired_due.map(ms),
                    row.sla_shown.as_ref().map(to_json),
                ])
            })
            .map(|_| ())
            .map_err(db_err)
    }

    fn put_contact_attributes(
        &mut self,
        wa_id: &str,
        attributes: &BTreeMap<String, Value>,
        at: Timestamp,
    ) -> StorageResult<()> {
        let text = serde_json::to_string(attributes).unwrap_or_else(|_| "{}".into());
        self.c
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, profile, attributes, created_at, updated_at)
                 VALUES (?1, NULL, '{}', ?2, ?3, ?3)
                 ON CONFLICT(wa_id) DO UPDATE SET attributes = excluded.attributes,
                   updated_at = excluded.updated_at",
            )
            .and_then(|mut s| s.execute(params![wa_id, text, ms(at)]))
            .map(|_| ())
            .map_err(db_err)
    }
}

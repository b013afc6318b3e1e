//! SQLite implementation of the broadcast tables ([`crate::storage::broadcasts`]).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::{Sql, db_err, hash32, json, ms, opt_ts, opt_uuid, to_json, ts, uuid};
use crate::storage::StorageResult;
use crate::storage::broadcasts::*;

const BROADCAST_COLS: &str = "id, name, audience, template, state, scheduled_at, created_at, created_by, created_by_name, device_id, fingerprint, note, hold_until, announced, updated_at";

const RECIPIENT_COLS: &str = "r.broadcast_id, r.wa_id, r.position, r.name, r.state, r.conversation_id, r.message_id, r.attempted_at, r.updated_at";

/// A recipient's state as devices see it: the stored state, or for an attempted one the
/// state of its message (`accepted` is Meta's answer without a status webhook yet).
const SEEN_STATE: &str = "CASE
    WHEN r.state != 'queued' THEN r.state
    WHEN m.status = 'failed' THEN 'failed'
    WHEN m.status IN ('read', 'played') THEN 'read'
    WHEN m.status = 'delivered' THEN 'delivered'
    WHEN m.status IN ('accepted', 'sent') THEN 'sent'
    ELSE 'queued' END";

fn broadcast_row(r: &Row<'_>) -> rusqlite::Result<BroadcastRow> {
    Ok(BroadcastRow {
        id: uuid(r.get(0)?)?,
        name: r.get(1)?,
        audience: json(r.get(2)?)?,
        template: json(r.get(3)?)?,
        state: r.get(4)?,
        scheduled_at: opt_ts(r.get(5)?)?,
        created_at: ts(r.get(6)?)?,
        created_by: uuid(r.get(7)?)?,
        created_by_name: r.get(8)?,
        device_id: uuid(r.get(9)?)?,
        fingerprint: hash32(r.get(10)?)?,
        note: r.get(11)?,
        hold_until: opt_ts(r.get(12)?)?,
        announced: r.get::<_, Option<String>>(13)?.map(json).transpose()?,
        updated_at: ts(r.get(14)?)?,
    })
}

fn recipient_row(r: &Row<'_>) -> rusqlite::Result<RecipientRow> {
    Ok(RecipientRow {
        broadcast_id: uuid(r.get(0)?)?,
        wa_id: r.get(1)?,
        position: r.get(2)?,
        name: r.get(3)?,
        state: r.get(4)?,
        conversation_id: opt_uuid(r.get(5)?)?,
        message_id: opt_uuid(r.get(6)?)?,
        attempted_at: opt_ts(r.get(7)?)?,
        updated_at: ts(r.get(8)?)?,
    })
}

impl Sql<'_> {
    fn broadcast_query(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> StorageResult<Vec<BroadcastRow>> {
        self.c
            .prepare_cached(sql)
            .and_then(|mut s| s.query_map(p, broadcast_row)?.collect())
            .map_err(db_err)
    }
}

impl BroadcastsRead for Sql<'_> {
    fn broadcast(&self, id: Uuid) -> StorageResult<Option<BroadcastRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {BROADCAST_COLS} FROM broadcasts WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id.to_string()], broadcast_row).optional())
            .map_err(db_err)
    }

    fn broadcasts(&self, limit: usize) -> StorageResult<Vec<BroadcastRow>> {
        self.broadcast_query(
            &format!(
                "SELECT {BROADCAST_COLS} FROM broadcasts ORDER BY created_at DESC, id DESC LIMIT ?1"
            ),
            [limit as i64],
        )
    }

    fn broadcasts_in(&self, states: &[&str]) -> StorageResult<Vec<BroadcastRow>> {
        let mut out = Vec::new();
        for state in states {
            out.extend(self.broadcast_query(
                &format!("SELECT {BROADCAST_COLS} FROM broadcasts WHERE state = ?1"),
                [state],
            )?);
        }
        out.sort_by_key(|b| (b.created_at, b.id));
        Ok(out)
    }

    fn broadcast_tally(&self, id: Uuid) -> StorageResult<Vec<(String, u32)>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {SEEN_STATE} AS seen, COUNT(*) FROM broadcast_recipients r
                 LEFT JOIN messages m ON m.id = r.message_id
                 WHERE r.broadcast_id = ?1 GROUP BY seen"
            ))
            .and_then(|mut s| {
                s.query_map([id.to_string()], |r| {
                    Ok((
                        r.get(0)?,
                        r.get::<_, i64>(1)?.clamp(0, i64::from(u32::MAX)) as u32,
                    ))
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn broadcast_recipients(
        &self,
        id: Uuid,
        after: Option<&str>,
        state: Option<&str>,
        limit: usize,
    ) -> StorageResult<Vec<RecipientView>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {RECIPIENT_COLS}, {SEEN_STATE} AS seen,
                    CASE WHEN m.status = 'failed' THEN m.error END,
                    (SELECT MAX(received_at) FROM message_statuses s WHERE s.wamid = m.wamid)
                 FROM broadcast_recipients r LEFT JOIN messages m ON m.id = r.message_id
                 WHERE r.broadcast_id = ?1 AND r.wa_id > ?2 AND (?3 IS NULL OR seen = ?3)
                 ORDER BY r.wa_id LIMIT ?4"
            ))
            .and_then(|mut s| {
                s.query_map(
                    params![id.to_string(), after.unwrap_or(""), state, limit as i64],
                    |r| {
                        Ok((
                            recipient_row(r)?,
                            r.get(9)?,
                            r.get::<_, Option<String>>(10)?.map(json).transpose()?,
                            opt_ts(r.get(11)?)?,
                        ))
                    },
                )?
                .collect()
            })
            .map_err(db_err)
    }

    fn pending_recipients(&self, id: Uuid, limit: usize) -> StorageResult<Vec<RecipientRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {RECIPIENT_COLS} FROM broadcast_recipients r
                 WHERE r.broadcast_id = ?1 AND r.state = 'pending' ORDER BY r.position LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![id.to_string(), limit as i64], recipient_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn recipient(&self, id: Uuid, wa_id: &str) -> StorageResult<Option<RecipientRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {RECIPIENT_COLS} FROM broadcast_recipients r
                 WHERE r.broadcast_id = ?1 AND r.wa_id = ?2"
            ))
            .and_then(|mut s| {
                s.query_row(params![id.to_string(), wa_id], recipient_row)
                    .optional()
            })
            .map_err(db_err)
    }

    fn broadcast_attempts_since(&self, since: Timestamp) -> StorageResult<Vec<AttemptRow>> {
        self.c
            .prepare_cached(
                "SELECT r.attempted_at, m.status, CASE WHEN m.status = 'failed' THEN m.error END
                 FROM broadcast_recipients r LEFT JOIN messages m ON m.id = r.message_id
                 WHERE r.attempted_at >= ?1",
            )
            .and_then(|mut s| {
                s.query_map([ms(since)], |r| {
                    Ok((
                        ts(r.get(0)?)?,
                        r.get(1)?,
                        r.get::<_, Option<String>>(2)?.map(json).transpose()?,
                    ))
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn broadcast_attempts_between(&self, from: Timestamp, to: Timestamp) -> StorageResult<u32> {
        self.c
            .prepare_cached(
                "SELECT COUNT(*) FROM broadcast_recipients
                 WHERE attempted_at >= ?1 AND attempted_at < ?2",
            )
            .and_then(|mut s| s.query_row([ms(from), ms(to)], |r| r.get::<_, i64>(0)))
            .map(|n| n.clamp(0, i64::from(u32::MAX)) as u32)
            .map_err(db_err)
    }

    fn last_broadcast_attempt(&self) -> StorageResult<Option<Timestamp>> {
        let at: Option<i64> = self
            .c
            .prepare_cached("SELECT MAX(attempted_at) FROM broadcast_recipients")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(db_err)?;
        opt_ts(at).map_err(db_err)
    }

    fn opted_out(&self, wa_id: &str) -> StorageResult<Option<Timestamp>> {
        let at: Option<i64> = self
            .c
            .prepare_cached("SELECT opted_out_at FROM broadcast_opt_outs WHERE wa_id = ?1")
            .and_then(|mut s| s.query_row([wa_id], |r| r.get(0)).optional())
            .map_err(db_err)?;
        opt_ts(at).map_err(db_err)
    }

    fn broadcast_candidates(&self) -> StorageResult<Vec<String>> {
        self.c
            .prepare_cached(
                "SELECT customer_wa_id FROM conversations
                 UNION SELECT wa_id FROM contacts",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(db_err)
    }

    fn labelled_customers(&self) -> StorageResult<Vec<(String, String)>> {
        self.c
            .prepare_cached(
                "SELECT c.customer_wa_id, l.label FROM conversation_labels l
                 JOIN conversations c ON c.id = l.conversation_id",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db_err)
    }
}

impl BroadcastsWrite for Sql<'_> {
    fn insert_broadcast(&mut self, b: &BroadcastRow) -> StorageResult<()> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO broadcasts ({BROADCAST_COLS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    b.id.to_string(),
                    b.name,
                    to_json(&b.audience),
                    to_json(&b.template),
                    b.state,
                    b.scheduled_at.map(ms),
                    ms(b.created_at),
                    b.created_by.to_string(),
                    b.created_by_name,
                    b.device_id.to_string(),
                    &b.fingerprint[..],
                    b.note,
                    b.hold_until.map(ms),
                    b.announced.as_ref().map(to_json),
                    ms(b.updated_at),
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn update_broadcast(&mut self, b: &BroadcastRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE broadcasts SET state = ?2, note = ?3, hold_until = ?4, announced = ?5,
                 updated_at = ?6 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    b.id.to_string(),
                    b.state,
                    b.note,
                    b.hold_until.map(ms),
                    b.announced.as_ref().map(to_json),
                    ms(b.updated_at),
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_recipient(&mut self, r: &RecipientRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO broadcast_recipients (broadcast_id, wa_id, position, name, state,
                 conversation_id, message_id, attempted_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.broadcast_id.to_string(),
                    r.wa_id,
                    r.position,
                    r.name,
                    r.state,
                    r.conversation_id.map(|u| u.to_string()),
                    r.message_id.map(|u| u.to_string()),
                    r.attempted_at.map(ms),
                    ms(r.updated_at),
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn update_recipient(&mut self, r: &RecipientRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE broadcast_recipients SET state = ?3, conversation_id = ?4,
                 message_id = ?5, attempted_at = ?6, updated_at = ?7
                 WHERE broadcast_id = ?1 AND wa_id = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.broadcast_id.to_string(),
                    r.wa_id,
                    r.state,
                    r.conversation_id.map(|u| u.to_string()),
                    r.message_id.map(|u| u.to_string()),
                    r.attempted_at.map(ms),
                    ms(r.updated_at),
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn cancel_pending(&mut self, id: Uuid, at: Timestamp) -> StorageResult<u32> {
        self.c
            .prepare_cached(
                "UPDATE broadcast_recipients SET state = 'cancelled', updated_at = ?2
                 WHERE broadcast_id = ?1 AND state = 'pending'",
            )
            .and_then(|mut s| s.execute(params![id.to_string(), ms(at)]))
            .map(|n| n as u32)
            .map_err(db_err)
    }

    fn put_opt_out(
        &mut self,
        wa_id: &str,
        at: Timestamp,
        message_id: Option<Uuid>,
    ) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "INSERT INTO broadcast_opt_outs (wa_id, opted_out_at, message_id)
                 VALUES (?1, ?2, ?3) ON CONFLICT(wa_id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![wa_id, ms(at), message_id.map(|u| u.to_string())]))
            .map(|n| n > 0)
            .map_err(db_err)
    }

    fn delete_opt_out(&mut self, wa_id: &str) -> StorageResult<bool> {
        self.c
            .prepare_cached("DELETE FROM broadcast_opt_outs WHERE wa_id = ?1")
            .and_then(|mut s| s.execute([wa_id]))
            .map(|n| n > 0)
            .map_err(db_err)
    }
}

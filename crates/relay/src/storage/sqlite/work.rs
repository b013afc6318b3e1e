//! SQLite implementation of the command-side tables ([`crate::storage::work`]).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::{Sql, db_err, hash32, json, ms, opt_ts, to_json, ts, uuid};
use crate::storage::StorageResult;
use crate::storage::work::*;

const SEND_COLS: &str = "seq, message_id, command_id, conversation_id, recipient, request, state, attempts, next_attempt_at, last_error, wamid, created_at, updated_at";

fn send_row(r: &Row<'_>) -> rusqlite::Result<SendItem> {
    Ok(SendItem {
        seq: r.get(0)?,
        message_id: uuid(r.get(1)?)?,
        command_id: uuid(r.get(2)?)?,
        conversation_id: uuid(r.get(3)?)?,
        recipient: r.get(4)?,
        request: json(r.get(5)?)?,
        state: r.get(6)?,
        attempts: r.get::<_, i64>(7)?.max(0) as u32,
        next_attempt_at: ts(r.get(8)?)?,
        last_error: r.get::<_, Option<String>>(9)?.map(json).transpose()?,
        wamid: r.get(10)?,
        created_at: ts(r.get(11)?)?,
        updated_at: ts(r.get(12)?)?,
    })
}

const FETCH_COLS: &str = "media_id, message_id, conversation_id, mime_type, attempts, next_attempt_at, last_error, created_at";

fn fetch_row(r: &Row<'_>) -> rusqlite::Result<MediaFetchRow> {
    Ok(MediaFetchRow {
        media_id: r.get(0)?,
        message_id: uuid(r.get(1)?)?,
        conversation_id: uuid(r.get(2)?)?,
        mime_type: r.get(3)?,
        attempts: r.get::<_, i64>(4)?.max(0) as u32,
        next_attempt_at: ts(r.get(5)?)?,
        last_error: r.get(6)?,
        created_at: ts(r.get(7)?)?,
    })
}

fn min_ts(v: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    opt_ts(v)
}

impl WorkRead for Sql<'_> {
    fn command_result(&self, id: Uuid) -> StorageResult<Option<CommandResultRow>> {
        self.c
            .prepare_cached(
                "SELECT id, device_id, fingerprint, http_status, body, created_at
                 FROM command_results WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id.to_string()], |r| {
                    Ok(CommandResultRow {
                        id: uuid(r.get(0)?)?,
                        device_id: uuid(r.get(1)?)?,
                        fingerprint: hash32(r.get(2)?)?,
                        http_status: r.get::<_, i64>(3)?.clamp(100, 599) as u16,
                        body: json(r.get(4)?)?,
                        created_at: ts(r.get(5)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn send_item(&self, message_id: Uuid) -> StorageResult<Option<SendItem>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {SEND_COLS} FROM send_queue WHERE message_id = ?1"
            ))
            .and_then(|mut s| s.query_row([message_id.to_string()], send_row).optional())
            .map_err(db_err)
    }

    fn send_due(&self, now: Timestamp, limit: usize) -> StorageResult<Vec<SendItem>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {SEND_COLS} FROM send_queue q
                 WHERE q.state = 'queued' AND q.next_attempt_at <= ?1
                 AND NOT EXISTS (SELECT 1 FROM send_queue p WHERE p.recipient = q.recipient
                                 AND p.state != 'done' AND p.seq < q.seq)
                 ORDER BY q.seq LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![ms(now), limit.max(1) as i64], send_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn send_in_state(&self, state: &str) -> StorageResult<Vec<SendItem>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {SEND_COLS} FROM send_queue WHERE state = ?1 ORDER BY seq"
            ))
            .and_then(|mut s| s.query_map([state], send_row)?.collect())
            .map_err(db_err)
    }

    fn send_next_wake(&self) -> StorageResult<Option<Timestamp>> {
        self.c
            .query_row(
                "SELECT MIN(q.next_attempt_at) FROM send_queue q WHERE q.state = 'unconfirmed'
                 OR (q.state = 'queued' AND NOT EXISTS (SELECT 1 FROM send_queue p
                     WHERE p.recipient = q.recipient AND p.state != 'done' AND p.seq < q.seq))",
                [],
                |r| min_ts(r.get(0)?),
            )
            .map_err(db_err)
    }

    fn send_depth(&self) -> StorageResult<u64> {
        self.c
            .query_row(
                "SELECT COUNT(*) FROM send_queue WHERE state != 'done'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(db_err)
    }

    fn wamid_by_callback(&self, data: &str) -> StorageResult<Option<String>> {
        self.c
            .prepare_cached(
                "SELECT wamid FROM message_statuses
                 WHERE json_extract(payload, '$.biz_opaque_callback_data') = ?1 LIMIT 1",
            )
            .and_then(|mut s| s.query_row([data], |r| r.get(0)).optional())
            .map_err(db_err)
    }

    fn media_fetch(&self, media_id: &str) -> StorageResult<Option<MediaFetchRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {FETCH_COLS} FROM media_fetch WHERE media_id = ?1"
            ))
            .and_then(|mut s| s.query_row([media_id], fetch_row).optional())
            .map_err(db_err)
    }

    fn media_fetch_due(&self, now: Timestamp, limit: usize) -> StorageResult<Vec<MediaFetchRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {FETCH_COLS} FROM media_fetch WHERE next_attempt_at <= ?1
                 ORDER BY next_attempt_at LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![ms(now), limit.max(1) as i64], fetch_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn media_fetch_next_wake(&self) -> StorageResult<Option<Timestamp>> {
        self.c
            .query_row("SELECT MIN(next_attempt_at) FROM media_fetch", [], |r| {
                min_ts(r.get(0)?)
            })
            .map_err(db_err)
    }

    fn media(&self, media_id: &str) -> StorageResult<Option<MediaRow>> {
        self.c
            .prepare_cached(
                "SELECT media_id, message_id, conversation_id, sha256, mime_type, size, stored_at
                 FROM media WHERE media_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([media_id], |r| {
                    Ok(MediaRow {
                        media_id: r.get(0)?,
                        message_id: uuid(r.get(1)?)?,
                        conversation_id: uuid(r.get(2)?)?,
                        sha256: r.get(3)?,
                        mime_type: r.get(4)?,
                        size: r.get::<_, i64>(5)?.max(0) as u64,
                        stored_at: ts(r.get(6)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn labels_of(&self, conversation_id: Uuid) -> StorageResult<Vec<String>> {
        self.c
            .prepare_cached(
                "SELECT label FROM conversation_labels WHERE conversation_id = ?1 ORDER BY label",
            )
            .and_then(|mut s| {
                s.query_map([conversation_id.to_string()], |r| r.get(0))?
                    .collect()
            })
            .map_err(db_err)
    }

    fn team_labels(&self) -> StorageResult<Vec<TeamLabelRow>> {
        self.c
            .prepare_cached("SELECT key, name, colour, created_at FROM labels ORDER BY name")
            .and_then(|mut s| s.query_map([], team_label_row)?.collect())
            .map_err(db_err)
    }

    fn team_label(&self, key: &str) -> StorageResult<Option<TeamLabelRow>> {
        self.c
            .prepare_cached("SELECT key, name, colour, created_at FROM labels WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], team_label_row).optional())
            .map_err(db_err)
    }

    fn notes_of(&self, conversation_id: Uuid) -> StorageResult<Vec<NoteRow>> {
        self.c
            .prepare_cached(
                "SELECT id, conversation_id, author, text, mentions, created_at FROM notes
                 WHERE conversation_id = ?1 ORDER BY created_at, id",
            )
            .and_then(|mut s| {
                s.query_map([conversation_id.to_string()], |r| {
                    let mentions: Vec<Uuid> = serde_json::from_str(&r.get::<_, String>(4)?)
                        .map_err(|e| {
                            rusqlite::Error::FromSqlConversionFailure(
                                4,
                                rusqlite::types::Type::Text,
                                Box::new(e),
                            )
                        })?;
                    Ok(NoteRow {
                        id: uuid(r.get(0)?)?,
                        conversation_id: uuid(r.get(1)?)?,
                        author: uuid(r.get(2)?)?,
                        text: r.get(3)?,
                        mentions,
                        created_at: ts(r.get(5)?)?,
                    })
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn snoozed_until(&self, conversation_id: Uuid) -> StorageResult<Option<Timestamp>> {
        self.c
            .query_row(
                "SELECT until FROM conversation_snoozes WHERE conversation_id = ?1",
                [conversation_id.to_string()],
                |r| ts(r.get(0)?),
            )
            .optional()
            .map_err(db_err)
    }
}

fn team_label_row(r: &Row<'_>) -> rusqlite::Result<TeamLabelRow> {
    Ok(TeamLabelRow {
        key: r.get(0)?,
        name: r.get(1)?,
        colour: r.get(2)?,
        created_at: ts(r.get(3)?)?,
    })
}

impl WorkWrite for Sql<'_> {
    fn put_team_label(&mut self, l: &TeamLabelRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO labels (key, name, colour, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(key) DO UPDATE SET name = excluded.name, colour = excluded.colour",
                params![l.key, l.name, l.colour, ms(l.created_at)],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    fn delete_team_label(&mut self, l: &TeamLabelRow) -> StorageResult<Vec<Uuid>> {
        let ids: Vec<String> = self
            .c
            .prepare("SELECT DISTINCT conversation_id FROM conversation_labels WHERE lower(label) = ?1 OR label = ?2")
            .and_then(|mut s| {
                s.query_map(params![l.key, l.name], |r| r.get(0))?
                    .collect()
            })
            .map_err(db_err)?;
        self.c
            .execute(
                "DELETE FROM conversation_labels WHERE lower(label) = ?1 OR label = ?2",
                params![l.key, l.name],
            )
            .map_err(db_err)?;
        self.c
            .execute("DELETE FROM labels WHERE key = ?1", [&l.key])
            .map_err(db_err)?;
        ids.iter()
            .map(|s| {
                Uuid::parse_str(s).map_err(|e| crate::storage::StorageError::Corrupt(e.to_string()))
            })
            .collect()
    }

    fn insert_command_result(&mut self, r: &CommandResultRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO command_results (id, device_id, fingerprint, http_status, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.id.to_string(),
                    r.device_id.to_string(),
                    &r.fingerprint[..],
                    r.http_status as i64,
                    to_json(&r.body),
                    ms(r.created_at)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_send_item(&mut self, s: &SendItem) -> StorageResult<i64> {
        self.c
            .prepare_cached(
                "INSERT INTO send_queue (message_id, command_id, conversation_id, recipient, request,
                 state, attempts, next_attempt_at, last_error, wamid, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    s.message_id.to_string(),
                    s.command_id.to_string(),
                    s.conversation_id.to_string(),
                    s.recipient,
                    to_json(&s.request),
                    s.state,
                    s.attempts as i64,
                    ms(s.next_attempt_at),
                    s.last_error.as_ref().map(to_json),
                    s.wamid,
                    ms(s.created_at),
                    ms(s.updated_at)
                ])
            })
            .map_err(db_err)?;
        Ok(self.c.last_insert_rowid())
    }

    fn update_send_item(&mut self, s: &SendItem) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE send_queue SET state = ?2, attempts = ?3, next_attempt_at = ?4,
                 last_error = ?5, wamid = ?6, updated_at = ?7 WHERE message_id = ?1",
            )
            .and_then(|mut st| {
                st.execute(params![
                    s.message_id.to_string(),
                    s.state,
                    s.attempts as i64,
                    ms(s.next_attempt_at),
                    s.last_error.as_ref().map(to_json),
                    s.wamid,
                    ms(s.updated_at)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_media_fetch(&mut self, m: &MediaFetchRow) -> StorageResult<bool> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO media_fetch ({FETCH_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(media_id) DO NOTHING"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    m.media_id,
                    m.message_id.to_string(),
                    m.conversation_id.to_string(),
                    m.mime_type,
                    m.attempts as i64,
                    ms(m.next_attempt_at),
                    m.last_error,
                    ms(m.created_at)
                ])
            })
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn update_media_fetch(&mut self, m: &MediaFetchRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE media_fetch SET attempts = ?2, next_attempt_at = ?3, last_error = ?4
                 WHERE media_id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    m.media_id,
                    m.attempts as i64,
                    ms(m.next_attempt_at),
                    m.last_error
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn delete_media_fetch(&mut self, media_id: &str) -> StorageResult<()> {
        self.c
            .execute("DELETE FROM media_fetch WHERE media_id = ?1", [media_id])
            .map(drop)
            .map_err(db_err)
    }

    fn insert_media(&mut self, m: &MediaRow) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "INSERT INTO media (media_id, message_id, conversation_id, sha256, mime_type, size, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(media_id) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    m.media_id,
                    m.message_id.to_string(),
                    m.conversation_id.to_string(),
                    m.sha256,
                    m.mime_type,
                    m.size as i64,
                    ms(m.stored_at)
                ])
            })
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn insert_note(&mut self, n: &NoteRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO notes (id, conversation_id, author, text, mentions, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    n.id.to_string(),
                    n.conversation_id.to_string(),
                    n.author.to_string(),
                    n.text,
                    serde_json::to_string(&n.mentions).unwrap_or_else(|_| "[]".into()),
                    ms(n.created_at)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn add_label(
        &mut self,
        conversation_id: Uuid,
        label: &str,
        at: Timestamp,
    ) -> StorageResult<bool> {
        self.c
            .execute(
                "INSERT INTO conversation_labels (conversation_id, label, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(conversation_id, label) DO NOTHING",
                params![conversation_id.to_string(), label, ms(at)],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn remove_label(&mut self, conversation_id: Uuid, label: &str) -> StorageResult<bool> {
        self.c
            .execute(
                "DELETE FROM conversation_labels WHERE conversation_id = ?1 AND label = ?2",
                params![conversation_id.to_string(), label],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn set_snooze(&mut self, conversation_id: Uuid, until: Option<Timestamp>) -> StorageResult<()> {
        match until {
            Some(until) => self.c.execute(
                "INSERT INTO conversation_snoozes (conversation_id, until) VALUES (?1, ?2)
                 ON CONFLICT(conversation_id) DO UPDATE SET until = excluded.until",
                params![conversation_id.to_string(), ms(until)],
            ),
            None => self.c.execute(
                "DELETE FROM conversation_snoozes WHERE conversation_id = ?1",
                [conversation_id.to_string()],
            ),
        }
        .map(drop)
        .map_err(db_err)
    }
}

//! Writes, always inside one transaction opened by `Store::apply_batch` or `Store::write`.
//! Every upsert is guarded by the row's `seq`: data from an older event never overwrites
//! data from a newer one, so replays and out-of-band backfills are idempotent.

use rusqlite::Connection;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::model::*;

/// The write side of one transaction.
pub struct Batch<'t> {
    pub(crate) conn: &'t Connection,
}

/// Status order for forward-only updates: a status event never moves a message back.
/// `failed` ranks with `delivered`, so it can follow `sent` but not `delivered`/`read`.
const STATUS_RANK: &str = "CASE ?s WHEN 'received' THEN 0 WHEN 'queued' THEN 0 WHEN 'sent' THEN 1
    WHEN 'failed' THEN 2 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 END";

fn status_rank(expr: &str) -> String {
    STATUS_RANK.replace("?s", expr)
}

/// The first `rowid_` of the millisecond `at` (sent_at clamped to ±2^46 ms, about ±2,200
/// years around 1970, times 65,536 slots for messages of the same millisecond).
pub(crate) fn time_key_base(at: jiff::Timestamp) -> i64 {
    const LIMIT: i64 = 1 << 46;
    ts_to_sql(at).clamp(-LIMIT, LIMIT - 1) * 65_536
}

fn opt_ts(ts: Option<jiff::Timestamp>) -> Option<i64> {
    ts.map(ts_to_sql)
}

fn opt_id(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.to_string())
}

impl Batch<'_> {
    /// Returns whether the row was written (false: the store already had newer data).
    pub fn upsert_contact(&self, c: &Contact) -> Result<bool> {
        if !c.attributes.is_object() {
            return Err(StoreError::Invalid(
                "contact attributes must be a JSON object".into(),
            ));
        }
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, attributes, seq) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (wa_id) DO UPDATE SET name = excluded.name,
                 attributes = excluded.attributes, seq = excluded.seq
             WHERE excluded.seq >= contacts.seq",
            )?
            .execute(rusqlite::params![
                c.wa_id,
                c.name,
                serde_json::to_string(&c.attributes)?,
                seq_to_sql(c.seq)?
            ])?
            == 1)
    }

    pub fn upsert_member(&self, m: &Member) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO members (id, name, role, active, seq) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                 active = excluded.active, seq = excluded.seq
             WHERE excluded.seq >= members.seq",
            )?
            .execute(rusqlite::params![
                m.id.to_string(),
                m.name,
                m.role,
                m.active,
                seq_to_sql(m.seq)?
            ])?
            == 1)
    }

    /// A member as the team directory knows them (name, active): the role this device may
    /// already hold for them is kept, and a member new to it gets an empty role.
    pub fn upsert_member_directory(
        &self,
        id: Uuid,
        name: &str,
        active: bool,
        seq: u64,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO members (id, name, role, active, seq) VALUES (?1, ?2, '', ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = excluded.active,
                 seq = excluded.seq
             WHERE excluded.seq >= members.seq",
            )?
            .execute(rusqlite::params![
                id.to_string(),
                name,
                active,
                seq_to_sql(seq)?
            ])?
            == 1)
    }

    pub fn upsert_device(&self, d: &Device) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO devices (id, name, os, ceiling, member_id, last_seen_at, revoked, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, os = excluded.os,
                 ceiling = excluded.ceiling, member_id = excluded.member_id,
                 last_seen_at = excluded.last_seen_at, revoked = excluded.revoked,
                 seq = excluded.seq
             WHERE excluded.seq >= devices.seq",
            )?
            .execute(rusqlite::params![
                d.id.to_string(),
                d.name,
                d.os,
                d.ceiling,
                opt_id(d.member_id),
                opt_ts(d.last_seen_at),
                d.revoked,
                seq_to_sql(d.seq)?
            ])?
            == 1)
    }

    pub fn upsert_label(&self, l: &Label) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO labels (id, name, colour, urgent, seq) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, colour = excluded.colour,
                 urgent = excluded.urgent, seq = excluded.seq
             WHERE excluded.seq >= labels.seq",
            )?
            .execute(rusqlite::params![
                l.id.to_string(),
                l.name,
                l.colour,
                l.urgent,
                seq_to_sql(l.seq)?
            ])?
            == 1)
    }

    /// Writes a quick reply unless a newer version is stored.
    pub fn upsert_quick_reply(&self, q: &QuickReply) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO quick_replies (id, shortcut, title, text, language, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET shortcut = excluded.shortcut, title = excluded.title,
                 text = excluded.text, language = excluded.language, seq = excluded.seq
             WHERE excluded.seq >= quick_replies.seq",
            )?
            .execute(rusqlite::params![
                q.id.to_string(),
                q.shortcut,
                q.title,
                q.text,
                q.language,
                seq_to_sql(q.seq)?
            ])?
            == 1)
    }

    pub fn delete_quick_reply(&self, id: Uuid) -> Result<()> {
        self.conn
            .execute("DELETE FROM quick_replies WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    /// Replaces every quick reply (a full list fetched from the relay at `seq`).
    pub fn replace_quick_replies(&self, all: &[QuickReply]) -> Result<()> {
        self.conn.execute("DELETE FROM quick_replies", [])?;
        for q in all {
            self.upsert_quick_reply(q)?;
        }
        Ok(())
    }

    /// Deletes a label and removes it from every conversation.
    pub fn delete_label(&self, id: Uuid) -> Result<()> {
        let id = id.to_string();
        self.conn
            .execute("DELETE FROM conversation_labels WHERE label_id = ?1", [&id])?;
        self.conn
            .execute("DELETE FROM labels WHERE id = ?1", [&id])?;
        Ok(())
    }

    /// Writes the conversation and replaces its label set.
    pub fn upsert_conversation(&self, c: &Conversation) -> Result<bool> {
        let id = c.id.to_string();
        let written = self
            .conn
            .prepare_cached(
                "INSERT INTO conversations (id, contact_wa_id, name, assignee, team, status,
                 snoozed_until, last_message_preview, last_message_at, unread_count,
                 window_expires_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET contact_wa_id = excluded.contact_wa_id,
                 name = excluded.name, assignee = excluded.assignee, team = excluded.team,
                 status = excluded.status, snoozed_until = excluded.snoozed_until,
                 last_message_preview = excluded.last_message_preview,
                 last_message_at = excluded.last_message_at,
                 unread_count = excluded.unread_count,
                 window_expires_at = excluded.window_expires_at, seq = excluded.seq
             WHERE excluded.seq >= conversations.seq",
            )?
            .execute(rusqlite::params![
                id,
                c.contact_wa_id,
                c.name,
                opt_id(c.assignee),
                c.team,
                c.status.as_str(),
                opt_ts(c.snoozed_until),
                c.last_message_preview,
                opt_ts(c.last_message_at),
                c.unread_count,
                opt_ts(c.window_expires_at),
                seq_to_sql(c.seq)?
            ])?
            == 1;
        if written {
            self.conn
                .prepare_cached("DELETE FROM conversation_labels WHERE conversation_id = ?1")?
                .execute([&id])?;
            let mut add = self.conn.prepare_cached(
                "INSERT OR IGNORE INTO conversation_labels (conversation_id, label_id) VALUES (?1, ?2)",
            )?;
            for label in &c.labels {
                add.execute([&id, &label.to_string()])?;
            }
        }
        Ok(written)
    }

    /// Records the priority automation gave a conversation (`None` clears it).
    pub fn set_conversation_priority(&self, id: Uuid, priority: Option<&str>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE conversations SET priority = ?2 WHERE id = ?1")?
            .execute(rusqlite::params![id.to_string(), priority])?;
        Ok(())
    }

    /// Records the relay's latest SLA announcement (`{target, state}`) for a conversation.
    pub fn set_conversation_sla(&self, id: Uuid, sla: &serde_json::Value) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE conversations SET sla = ?2 WHERE id = ?1")?
            .execute(rusqlite::params![id.to_string(), sla.to_string()])?;
        Ok(())
    }

    /// Deletes a conversation with its messages, notes and labels (history deletion, or
    /// the device lost access to it).
    pub fn delete_conversation(&self, id: Uuid) -> Result<()> {
        let id = id.to_string();
        for sql in [
            "DELETE FROM messages WHERE conversation_id = ?1",
            "DELETE FROM notes WHERE conversation_id = ?1",
            "DELETE FROM conversation_labels WHERE conversation_id = ?1",
            "DELETE FROM conversations WHERE id = ?1",
        ] {
            self.conn.prepare_cached(sql)?.execute([&id])?;
        }
        Ok(())
    }

    /// A new message's `rowid_` is its time key (see migration 0002), so the search indexes
    /// list it at its place in time even when history arrives late; an update keeps it.
    pub fn upsert_message(&self, m: &Message) -> Result<bool> {
        let media = m.media.as_ref().map(serde_json::to_string).transpose()?;
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO messages (rowid_, id, wamid, conversation_id, direction, kind, text,
                 media, status, error, author_member_id, sent_at, updated_at, seq)
             VALUES ((SELECT coalesce(max(rowid_) + 1, ?14) FROM messages
                      WHERE rowid_ BETWEEN ?14 AND ?14 + 65535),
                 ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET wamid = excluded.wamid,
                 conversation_id = excluded.conversation_id, direction = excluded.direction,
                 kind = excluded.kind, text = excluded.text, media = excluded.media,
                 status = excluded.status, error = excluded.error,
                 author_member_id = excluded.author_member_id, sent_at = excluded.sent_at,
                 updated_at = excluded.updated_at, seq = excluded.seq
             WHERE excluded.seq >= messages.seq",
            )?
            .execute(rusqlite::params![
                m.id.to_string(),
                m.wamid,
                m.conversation_id.to_string(),
                m.direction.as_str(),
                m.kind,
                m.text,
                media,
                m.status.as_str(),
                m.error,
                opt_id(m.author_member_id),
                ts_to_sql(m.sent_at),
                ts_to_sql(m.updated_at),
                seq_to_sql(m.seq)?,
                time_key_base(m.sent_at)
            ])?
            == 1)
    }

    /// Moves a message's status forward (never back: a late `delivered` after `read` is
    /// ignored). `error` is kept for `failed`. Returns whether anything changed.
    pub fn update_message_status(
        &self,
        id: Uuid,
        status: MessageStatus,
        error: Option<&str>,
        at: jiff::Timestamp,
        seq: u64,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE messages SET status = ?2, error = ?3, updated_at = ?4, seq = max(seq, ?5)
             WHERE id = ?1 AND {} > {}",
            status_rank("?2"),
            status_rank("status")
        );
        Ok(self.conn.prepare_cached(&sql)?.execute(rusqlite::params![
            id.to_string(),
            status.as_str(),
            error,
            ts_to_sql(at),
            seq_to_sql(seq)?
        ])? == 1)
    }

    /// Deletes one message (e.g. history deletion by an admin).
    pub fn delete_message(&self, id: Uuid) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM messages WHERE id = ?1")?
            .execute([id.to_string()])?;
        Ok(())
    }

    pub fn upsert_note(&self, n: &Note) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO notes (id, conversation_id, author_member_id, text, created_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id,
                 author_member_id = excluded.author_member_id, text = excluded.text,
                 created_at = excluded.created_at, seq = excluded.seq
             WHERE excluded.seq >= notes.seq",
            )?
            .execute(rusqlite::params![
                n.id.to_string(),
                n.conversation_id.to_string(),
                opt_id(n.author_member_id),
                n.text,
                ts_to_sql(n.created_at),
                seq_to_sql(n.seq)?
            ])?
            == 1)
    }

    pub fn delete_note(&self, id: Uuid) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM notes WHERE id = ?1")?
            .execute([id.to_string()])?;
        Ok(())
    }

    /// Replaces this device's effective permissions (as computed by the relay).
    pub fn set_my_permissions(&self, permissions: &serde_json::Value, seq: u64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO my_permissions (id, permissions, seq) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET permissions = excluded.permissions, seq = excluded.seq
             WHERE excluded.seq >= my_permissions.seq",
            )?
            .execute(rusqlite::params![
                serde_json::to_string(permissions)?,
                seq_to_sql(seq)?
            ])?
            == 1)
    }
}

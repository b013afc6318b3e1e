//! What a message shows beyond its text (schema 6): the typed content teamline-client
//! parsed from the relay's body (opaque JSON here), reactions gathered by the wamid they
//! react to, the relay's "media ready" mark, and the encrypted media cache.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row};
use uuid::Uuid;

use crate::batch::Batch;
use crate::error::{Result, StoreError};
use crate::model::{Message, seq_to_sql};
use crate::store::{Store, message_from_row, opt_json_col};

/// A message with what the timeline draws besides its row.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub message: Message,
    /// The typed content as the client stored it; `None` for plain text.
    pub content: Option<serde_json::Value>,
    /// The relay has downloaded the message's media (`message.media_ready`).
    pub media_ready: bool,
    /// The media's size in bytes, once the relay announced it.
    pub media_size: Option<u64>,
}

/// Media bytes from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaBlob {
    pub mime: String,
    pub bytes: Vec<u8>,
}

const ROW_SELECT: &str = "SELECT id, wamid, conversation_id, direction, kind, text, media,
    status, error, author_member_id, sent_at, updated_at, seq, content, media_ready, media_size
    FROM messages";

fn timeline_row(r: &Row<'_>) -> rusqlite::Result<TimelineRow> {
    let size: Option<i64> = r.get(15)?;
    Ok(TimelineRow {
        message: message_from_row(r)?,
        content: opt_json_col(r, 13)?,
        media_ready: r.get(14)?,
        media_size: size.and_then(|s| u64::try_from(s).ok()),
    })
}

fn size_to_sql(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("size {n} out of range")))
}

impl Batch<'_> {
    /// Records a message's typed content (call after [`Batch::upsert_message`]; the upsert
    /// itself leaves these columns alone, so a status update never loses them).
    /// `reacts_to` is the wamid a reaction reacts to.
    pub fn set_message_content(
        &self,
        id: Uuid,
        content: &serde_json::Value,
        reacts_to: Option<&str>,
    ) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE messages SET content = ?2, reacts_to = ?3 WHERE id = ?1")?
            .execute(rusqlite::params![
                id.to_string(),
                serde_json::to_string(content)?,
                reacts_to
            ])?;
        Ok(())
    }

    /// The relay has the message's media (`message.media_ready`). Returns whether the
    /// message is here (an event for a message not synced yet changes nothing).
    pub fn mark_media_ready(&self, id: Uuid, size: Option<u64>, seq: u64) -> Result<bool> {
        let size = size.map(size_to_sql).transpose()?;
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE messages SET media_ready = 1, media_size = coalesce(?2, media_size),
                 seq = max(seq, ?3) WHERE id = ?1",
            )?
            .execute(rusqlite::params![id.to_string(), size, seq_to_sql(seq)?])?
            == 1)
    }
}

impl Store {
    /// A conversation's timeline page, newest first: like [`Store::messages`] but without
    /// reaction messages (they are drawn on the message they react to, see
    /// [`Store::reactions_to`]) and with each message's content.
    pub fn timeline_rows(
        &self,
        conversation_id: Uuid,
        before: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<TimelineRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_SELECT} WHERE conversation_id = ?1 AND sent_at < ?2 AND kind != 'reaction'
             ORDER BY sent_at DESC, id DESC LIMIT ?3"
        ))?;
        let before = before.map_or(i64::MAX, crate::model::ts_to_sql);
        Ok(stmt
            .query_map(
                rusqlite::params![conversation_id.to_string(), before, limit],
                timeline_row,
            )?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// One message with its content.
    pub fn timeline_row(&self, id: Uuid) -> Result<Option<TimelineRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{ROW_SELECT} WHERE id = ?1"))?
            .query_row([id.to_string()], timeline_row)
            .optional()?)
    }

    /// The message with this WhatsApp id (a quoted reply's target), if this device has it.
    pub fn timeline_row_by_wamid(&self, wamid: &str) -> Result<Option<TimelineRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{ROW_SELECT} WHERE wamid = ?1"))?
            .query_row([wamid], timeline_row)
            .optional()?)
    }

    /// Reaction messages reacting to any of `wamids`, oldest first (so a later reaction
    /// from the same side replaces an earlier one when folded in order).
    pub fn reactions_to(&self, wamids: &[String]) -> Result<Vec<TimelineRow>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ROW_SELECT} WHERE reacts_to = ?1 ORDER BY sent_at, id"
        ))?;
        for wamid in wamids {
            let rows = stmt.query_map([wamid], timeline_row)?;
            for row in rows {
                out.push(row?);
            }
        }
        out.sort_by(|a, b| {
            (a.message.sent_at, a.message.id).cmp(&(b.message.sent_at, b.message.id))
        });
        Ok(out)
    }

    // ---- media cache ----

    /// Cached bytes for `media_id`, marking them most recently used.
    pub fn media_cache_get(&mut self, media_id: &str) -> Result<Option<MediaBlob>> {
        let tx = self.conn.transaction()?;
        let blob = tx
            .prepare_cached("SELECT mime, bytes FROM media_cache WHERE media_id = ?1")?
            .query_row([media_id], |r| {
                Ok(MediaBlob {
                    mime: r.get(0)?,
                    bytes: r.get(1)?,
                })
            })
            .optional()?;
        if blob.is_some() {
            tx.prepare_cached(
                "UPDATE media_cache SET last_used =
                     (SELECT coalesce(max(last_used), 0) + 1 FROM media_cache)
                 WHERE media_id = ?1",
            )?
            .execute([media_id])?;
        }
        tx.commit()?;
        Ok(blob)
    }

    /// Caches bytes for `media_id` as the most recently used, then drops the least
    /// recently used entries until the cache holds at most `cap_bytes`. Bytes larger than
    /// the cap on their own are not cached (returns false).
    pub fn media_cache_put(
        &mut self,
        media_id: &str,
        mime: &str,
        bytes: &[u8],
        cap_bytes: u64,
    ) -> Result<bool> {
        let size = bytes.len() as u64;
        if size > cap_bytes {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO media_cache (media_id, mime, bytes, size, last_used)
             VALUES (?1, ?2, ?3, ?4, (SELECT coalesce(max(last_used), 0) + 1 FROM media_cache))
             ON CONFLICT (media_id) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes,
                 size = excluded.size, last_used = excluded.last_used",
        )?
        .execute(rusqlite::params![media_id, mime, bytes, size_to_sql(size)?])?;
        let cap = size_to_sql(cap_bytes)?;
        loop {
            let total: i64 =
                tx.query_row("SELECT coalesce(sum(size), 0) FROM media_cache", [], |r| {
                    r.get(0)
                })?;
            if total <= cap {
                break;
            }
            let dropped = tx.execute(
                "DELETE FROM media_cache WHERE media_id =
                     (SELECT media_id FROM media_cache WHERE media_id != ?1
                      ORDER BY last_used LIMIT 1)",
                [media_id],
            )?;
            if dropped == 0 {
                break;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Bytes held by the media cache.
    pub fn media_cache_bytes(&self) -> Result<u64> {
        let total: i64 =
            self.conn
                .query_row("SELECT coalesce(sum(size), 0) FROM media_cache", [], |r| {
                    r.get(0)
                })?;
        Ok(u64::try_from(total).unwrap_or(0))
    }
}

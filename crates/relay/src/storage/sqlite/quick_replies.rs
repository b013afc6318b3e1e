//! SQLite implementation of the quick-reply table ([`crate::storage::quick_replies`]).

use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::{Sql, db_err, ms, opt_uuid, ts, uuid};
use crate::storage::StorageResult;
use crate::storage::quick_replies::*;

const COLS: &str = "id, shortcut, title, text, language, created_by, created_at, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<QuickReplyRow> {
    Ok(QuickReplyRow {
        id: uuid(r.get(0)?)?,
        shortcut: r.get(1)?,
        title: r.get(2)?,
        text: r.get(3)?,
        language: r.get(4)?,
        created_by: opt_uuid(r.get(5)?)?,
        created_at: ts(r.get(6)?)?,
        updated_at: ts(r.get(7)?)?,
    })
}

impl QuickRepliesRead for Sql<'_> {
    fn quick_reply(&self, id: Uuid) -> StorageResult<Option<QuickReplyRow>> {
        self.c
            .prepare_cached(&format!("SELECT {COLS} FROM quick_replies WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.to_string()], row).optional())
            .map_err(db_err)
    }

    fn quick_reply_by_shortcut(&self, shortcut: &str) -> StorageResult<Option<QuickReplyRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {COLS} FROM quick_replies WHERE shortcut = ?1"
            ))
            .and_then(|mut s| s.query_row([shortcut], row).optional())
            .map_err(db_err)
    }

    fn quick_replies(&self) -> StorageResult<Vec<QuickReplyRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {COLS} FROM quick_replies ORDER BY shortcut"
            ))
            .and_then(|mut s| s.query_map([], row)?.collect())
            .map_err(db_err)
    }
}

impl QuickRepliesWrite for Sql<'_> {
    fn put_quick_reply(&mut self, q: &QuickReplyRow) -> StorageResult<()> {
        self.c
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO quick_replies ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    q.id.to_string(),
                    q.shortcut,
                    q.title,
                    q.text,
                    q.language,
                    q.created_by.map(|u| u.to_string()),
                    ms(q.created_at),
                    ms(q.updated_at),
                ])
            })
            .map(|_| ())
            .map_err(db_err)
    }

    fn delete_quick_reply(&mut self, id: Uuid) -> StorageResult<bool> {
        self.c
            .prepare_cached("DELETE FROM quick_replies WHERE id = ?1")
            .and_then(|mut s| s.execute([id.to_string()]))
            .map(|n| n > 0)
            .map_err(db_err)
    }
}

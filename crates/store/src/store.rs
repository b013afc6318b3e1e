//! Opening the encrypted store (key first, fail closed), migrations, and reads.

use std::io::Read;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Type;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use uuid::Uuid;

use crate::batch::Batch;
use crate::error::{KeyUnavailableReason, Result, StoreError};
use crate::key::{self, KeySource, OsKeyring, Source, StoreKey};
use crate::model::*;

/// The schema migrations, oldest first; `PRAGMA user_version` counts those applied.
/// From schema 2 on they call [`CJK_CHARS_FUNCTION`]: register it with
/// [`register_sql_functions`] on any connection that runs them or writes messages.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_recent_first_search.sql"),
    include_str!("../migrations/0003_deferred_search_index.sql"),
    include_str!("../migrations/0004_device_values.sql"),
    include_str!("../migrations/0005_waiting_since.sql"),
    include_str!("../migrations/0006_message_content.sql"),
    include_str!("../migrations/0007_quick_replies.sql"),
    include_str!("../migrations/0008_conversation_marks.sql"),
    include_str!("../migrations/0009_contacts.sql"),
    include_str!("../migrations/0010_bulk_sync.sql"),
];

/// The newest schema this build understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Connection settings after the key: WAL for concurrent reads while syncing; temp data in
/// memory so no plaintext temp files appear; freed pages zeroed. A 32 MiB page cache keeps
/// the hot part of the search indexes decrypted in memory (SQLCipher decrypts and checks
/// every page it reads from the file; mmap is off under encryption, so the cache is the
/// only way to avoid repeating that work).
pub const CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA temp_store = MEMORY;
PRAGMA secure_delete = ON;
PRAGMA cache_size = -32768;
PRAGMA busy_timeout = 5000;";

/// WAL pages after which a commit checkpoints, during a bulk catch-up (64 MiB of 4 KiB
/// pages; SQLite's default is [`DEFAULT_WAL_AUTOCHECKPOINT`]): fewer checkpoints, each
/// copying a page the catch-up rewrote several times only once. Bounds the WAL's growth.
pub const BULK_WAL_AUTOCHECKPOINT: u32 = 16_384;
/// SQLite's default WAL auto-checkpoint (pages), restored when a catch-up ends.
pub const DEFAULT_WAL_AUTOCHECKPOINT: u32 = 1_000;

/// The SQL function the schema's triggers use to feed the short-CJK index: the CJK
/// characters of a text, space-separated, with `x` between separate runs (so a phrase
/// never spans two runs), or NULL when the text has none.
pub const CJK_CHARS_FUNCTION: &str = "teamline_cjk_chars";

/// Registers the store's SQL functions ([`CJK_CHARS_FUNCTION`]) on `conn`. [`Store::open`]
/// does this itself; a separate connection that applies [`MIGRATIONS`] or writes messages
/// (a benchmark, a repair tool) must do it first.
pub fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        CJK_CHARS_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.and_then(|t| crate::search::cjk_chars(&t)))
        },
    )
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The desktop's encrypted local store.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the store at `path`, creating it (and, for the OS keyring, its key) only when
    /// no file exists there. With a file present, the key must come from `key`: a missing
    /// or locked keyring gives `KeyUnavailable`, a different key `WrongKey`, and in both
    /// cases the file is left exactly as it was.
    pub fn open(path: impl AsRef<Path>, key: KeySource) -> Result<Store> {
        let path = path.as_ref().to_owned();
        let exists = path.try_exists().map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        if exists {
            refuse_plaintext(&path)?;
        }
        let key = match key.0 {
            Source::Raw(k) => k,
            Source::Keyring { account } => keyring_key(&path, &account, exists)?,
            Source::Passphrase { passphrase, params } => {
                if exists {
                    key::derive_existing(&path, &passphrase)?
                } else {
                    key::derive_new(&path, &passphrase, params)?
                }
            }
        };
        let conn = open_keyed(&path, &key, !exists)?;
        let mut store = Store { conn, path };
        store.migrate()?;
        if store.search_index_deferred()?.is_some() {
            // A bulk catch-up was interrupted (crash, quit): make search whole again now
            // rather than leave it missing messages until the next catch-up ends.
            tracing::info!("rebuilding the search index after an interrupted bulk sync");
            store.rebuild_search_index()?;
        }
        Ok(store)
    }

    /// Whether a store file exists at `path` (so opening needs its existing key).
    pub fn exists(path: impl AsRef<Path>) -> bool {
        path.as_ref().exists()
    }

    /// Deletes the store at `path` with its WAL, shared-memory and passphrase sidecar
    /// files. Only for an explicit user choice (start over and resync from the relay) or
    /// an unlinked device; the caller removes the keyring entry with [`OsKeyring::delete`].
    pub fn destroy(path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut targets = vec![path.to_owned(), key::kdf_sidecar_path(path)];
        for suffix in ["-wal", "-shm", "-journal"] {
            targets.push(sibling(path, suffix));
        }
        for p in targets {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Io { path: p, source }),
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        migrate(&mut self.conn, MIGRATIONS)
    }

    /// The last relay event seq applied here (0 for a new store).
    pub fn cursor(&self) -> Result<u64> {
        read_cursor(&self.conn)
    }

    /// Sets the cursor on its own (e.g. after a full resync reached the relay's head).
    /// Reaching the end of a deferred-index catch-up rebuilds the search index in the same
    /// transaction (see [`Store::defer_search_index`]).
    pub fn set_cursor(&mut self, seq: u64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE sync_state SET cursor = ?1 WHERE id = 1",
            [seq_to_sql(seq)?],
        )?;
        finish_deferred_index(&tx, seq)?;
        tx.commit()?;
        Ok(())
    }

    /// Number of messages in the store (decides whether deferring the search index pays:
    /// the rebuild reads every message, not only the new ones).
    pub fn message_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Starts (or extends) a bulk catch-up: messages written from now on are not indexed
    /// for search one by one; the transaction whose cursor reaches `until_seq` rebuilds
    /// both search indexes from the messages table in one pass (much cheaper for a large
    /// catch-up than maintaining them row by row), so search is whole again once the store
    /// has caught up. Until then [`Store::search`] only finds messages indexed before.
    /// The state is persistent: a store opened while deferred is rebuilt on open.
    ///
    /// The same holds for the messages-by-conversation index (dropped now, recreated by the
    /// rebuild: until then a timeline read scans the table) and `waiting_since` (recomputed
    /// by the rebuild), and this connection checkpoints its WAL less often meanwhile
    /// ([`BULK_WAL_AUTOCHECKPOINT`]): each checkpoint copies every page the catch-up
    /// rewrote since the last one, and the by-conversation index used to be rewritten by
    /// every batch.
    pub fn defer_search_index(&mut self, until_seq: u64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE search_index_state SET deferred = 1, until_seq = ?1 WHERE id = 1",
            [seq_to_sql(until_seq)?],
        )?;
        // Recreated by the rebuild, in the transaction that ends the deferral (migration 0010).
        tx.execute_batch("DROP INDEX IF EXISTS messages_by_conversation;")?;
        tx.commit()?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", BULK_WAL_AUTOCHECKPOINT)?;
        Ok(())
    }

    /// `Some(until_seq)` while search-index maintenance is deferred.
    pub fn search_index_deferred(&self) -> Result<Option<u64>> {
        deferred_until(&self.conn)
    }

    /// Rebuilds both search indexes from the messages table and ends a deferral.
    pub fn rebuild_search_index(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        rebuild_search_indexes(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Applies relay events in one transaction: each event whose seq is above the cursor
    /// is passed to `apply` in order; the others are skipped, so a batch can be replayed
    /// safely. The cursor moves to the last applied seq in the same transaction, so a
    /// crash applies either the whole batch or none of it. Seqs must be increasing.
    pub fn apply_batch<E>(
        &mut self,
        events: &[E],
        seq_of: impl Fn(&E) -> u64,
        mut apply: impl FnMut(&Batch<'_>, &E) -> Result<()>,
    ) -> Result<BatchOutcome> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut cursor = read_cursor(&tx)?;
        let mut applied = 0;
        let mut skipped = 0;
        let mut last = None;
        {
            let batch = Batch { conn: &tx };
            for event in events {
                let seq = seq_of(event);
                if let Some(prev) = last
                    && seq <= prev
                {
                    return Err(StoreError::Invalid(format!(
                        "event seqs must increase within a batch ({prev} then {seq})"
                    )));
                }
                last = Some(seq);
                if seq <= cursor {
                    skipped += 1;
                    continue;
                }
                apply(&batch, event)?;
                cursor = seq;
                applied += 1;
            }
        }
        tx.prepare_cached("UPDATE sync_state SET cursor = ?1 WHERE id = 1")?
            .execute([seq_to_sql(cursor)?])?;
        finish_deferred_index(&tx, cursor)?;
        tx.commit()?;
        Ok(BatchOutcome {
            applied,
            skipped,
            cursor,
        })
    }

    /// Writes outside the event stream (history backfill, a full resync page) in one
    /// transaction. The cursor is not touched; row `seq` guards still apply.
    pub fn write<T>(&mut self, f: impl FnOnce(&Batch<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&Batch { conn: &tx })?;
        tx.commit()?;
        Ok(out)
    }

    /// Forgets everything replicated from the relay and sets the cursor to 0, keeping the
    /// outbox (queued replies must still go out). Used when the relay answers
    /// `410 resync_required`. Cached media goes too: it may belong to conversations this
    /// device no longer sees.
    pub fn reset_replica(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DELETE FROM messages; DELETE FROM conversation_labels; DELETE FROM conversations;
             DELETE FROM notes; DELETE FROM contacts; DELETE FROM labels; DELETE FROM members;
             DELETE FROM devices; DELETE FROM my_permissions; DELETE FROM media_cache;
             DELETE FROM quick_replies;
             UPDATE sync_state SET cursor = 0 WHERE id = 1;",
        )?;
        tx.commit()?;
        Ok(())
    }

    // ---- reads ----

    pub fn conversation(&self, id: Uuid) -> Result<Option<Conversation>> {
        let row = self
            .conn
            .prepare_cached(&format!("{CONVERSATION_SELECT} WHERE id = ?1"))?
            .query_row([id.to_string()], conversation_from_row)
            .optional()?;
        row.map(|c| self.with_labels(c)).transpose()
    }

    /// All conversations, most recent activity first.
    pub fn conversations(&self) -> Result<Vec<Conversation>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{CONVERSATION_SELECT} ORDER BY last_message_at DESC NULLS LAST, id"
        ))?;
        let mut rows = stmt
            .query_map([], conversation_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // One pass over the label table instead of a query per conversation (the inbox
        // reads every conversation at start).
        let mut labels: std::collections::HashMap<Uuid, Vec<Uuid>> =
            std::collections::HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT conversation_id, label_id FROM conversation_labels ORDER BY conversation_id, label_id",
        )?;
        let mut pairs = stmt.query([])?;
        while let Some(r) = pairs.next()? {
            labels
                .entry(uuid_col(r, 0)?)
                .or_default()
                .push(uuid_col(r, 1)?);
        }
        for c in &mut rows {
            if let Some(ids) = labels.remove(&c.id) {
                c.labels = ids;
            }
        }
        Ok(rows)
    }

    /// The next `limit` conversations in [`Store::conversations`]' order after the one at
    /// `after` = (its last activity, its id), or the first `limit` (the inbox's first
    /// screen): the whole list read in pages. Keyed by the position, not an offset, so a
    /// conversation that moves to the top meanwhile shifts nothing (the shell re-reads it
    /// by id).
    pub fn conversations_after(
        &self,
        after: Option<(Option<Timestamp>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        // Conversations with activity first (a range of the activity index), then those
        // without any, by id.
        let (mut rows, nulls_after) = match after {
            None => (
                self.query_conversations(
                    "WHERE last_message_at IS NOT NULL ORDER BY last_message_at DESC, id LIMIT ?1",
                    rusqlite::params![limit],
                )?,
                String::new(),
            ),
            Some((Some(at), id)) => (
                self.query_conversations(
                    "WHERE last_message_at <= ?2 AND (last_message_at < ?2 OR id > ?3)
                     ORDER BY last_message_at DESC, id LIMIT ?1",
                    rusqlite::params![limit, ts_to_sql(at), id.to_string()],
                )?,
                String::new(),
            ),
            Some((None, id)) => (Vec::new(), id.to_string()),
        };
        let left = limit.saturating_sub(rows.len() as u32);
        if left > 0 {
            rows.extend(self.query_conversations(
                "WHERE last_message_at IS NULL AND id > ?2 ORDER BY id LIMIT ?1",
                rusqlite::params![left, nulls_after],
            )?);
        }
        rows.into_iter().map(|c| self.with_labels(c)).collect()
    }

    fn query_conversations(
        &self,
        rest: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Conversation>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{CONVERSATION_SELECT} {rest}"))?
            .query_map(params, conversation_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Since when one conversation's customer has been waiting (see
    /// [`Store::waiting_since`]).
    pub fn waiting_since_of(&self, id: Uuid) -> Result<Option<Timestamp>> {
        Ok(self
            .conn
            .prepare_cached("SELECT waiting_since FROM conversations WHERE id = ?1")?
            .query_row([id.to_string()], |r| opt_ts_col(r, 0))
            .optional()?
            .flatten())
    }

    /// Since when each waiting customer has been waiting for an answer: from their first
    /// message after the team's last reply (conversations not waiting are absent).
    pub fn waiting_since(&self) -> Result<std::collections::HashMap<Uuid, Timestamp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, waiting_since FROM conversations WHERE waiting_since IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((uuid_col(r, 0)?, opt_ts_col(r, 1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            if let (id, Some(at)) = row? {
                out.insert(id, at);
            }
        }
        Ok(out)
    }

    /// What automation says of each conversation that has a priority or an SLA.
    pub fn conversation_marks(&self) -> Result<std::collections::HashMap<Uuid, ConversationMarks>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, priority, sla FROM conversations WHERE priority IS NOT NULL OR sla IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((uuid_col(r, 0)?, marks_from_row(r, 1)?)))?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    /// One conversation's marks (see [`Store::conversation_marks`]).
    pub fn conversation_marks_of(&self, id: Uuid) -> Result<ConversationMarks> {
        Ok(self
            .conn
            .prepare_cached("SELECT priority, sla FROM conversations WHERE id = ?1")?
            .query_row([id.to_string()], |r| marks_from_row(r, 0))
            .optional()?
            .unwrap_or_default())
    }

    pub(crate) fn with_labels(&self, mut c: Conversation) -> Result<Conversation> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT label_id FROM conversation_labels WHERE conversation_id = ?1 ORDER BY label_id",
        )?;
        c.labels = stmt
            .query_map([c.id.to_string()], |r| uuid_col(r, 0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(c)
    }

    pub fn message(&self, id: Uuid) -> Result<Option<Message>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{MESSAGE_SELECT} WHERE id = ?1"))?
            .query_row([id.to_string()], message_from_row)
            .optional()?)
    }

    /// A conversation's messages, newest first: the `limit` newest before `before` (all
    /// of them when `None`), for paging back through history.
    pub fn messages(
        &self,
        conversation_id: Uuid,
        before: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{MESSAGE_SELECT} WHERE conversation_id = ?1 AND sent_at < ?2
             ORDER BY sent_at DESC, id DESC LIMIT ?3"
        ))?;
        let before = before.map_or(i64::MAX, ts_to_sql);
        Ok(stmt
            .query_map(
                rusqlite::params![conversation_id.to_string(), before, limit],
                message_from_row,
            )?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn contact(&self, wa_id: &str) -> Result<Option<Contact>> {
        Ok(self
            .conn
            .query_row(
                "SELECT wa_id, name, attributes, seq FROM contacts WHERE wa_id = ?1",
                [wa_id],
                |r| {
                    Ok(Contact {
                        wa_id: r.get(0)?,
                        name: r.get(1)?,
                        attributes: json_col(r, 2)?,
                        seq: seq_col(r, 3)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn labels(&self) -> Result<Vec<Label>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, colour, urgent, seq FROM labels ORDER BY name")?;
        Ok(stmt
            .query_map([], |r| {
                Ok(Label {
                    id: uuid_col(r, 0)?,
                    name: r.get(1)?,
                    colour: r.get(2)?,
                    urgent: r.get(3)?,
                    seq: seq_col(r, 4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The team's quick replies, by shortcut.
    pub fn quick_replies(&self) -> Result<Vec<QuickReply>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, shortcut, title, text, language, seq FROM quick_replies ORDER BY shortcut",
        )?;
        Ok(stmt
            .query_map([], |r| {
                Ok(QuickReply {
                    id: uuid_col(r, 0)?,
                    shortcut: r.get(1)?,
                    title: r.get(2)?,
                    text: r.get(3)?,
                    language: r.get(4)?,
                    seq: seq_col(r, 5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A conversation's internal notes, oldest first.
    pub fn notes(&self, conversation_id: Uuid) -> Result<Vec<Note>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, conversation_id, author_member_id, text, created_at, seq FROM notes
             WHERE conversation_id = ?1 ORDER BY created_at, id",
        )?;
        Ok(stmt
            .query_map([conversation_id.to_string()], |r| {
                Ok(Note {
                    id: uuid_col(r, 0)?,
                    conversation_id: uuid_col(r, 1)?,
                    author_member_id: opt_uuid_col(r, 2)?,
                    text: r.get(3)?,
                    created_at: ts_col(r, 4)?,
                    seq: seq_col(r, 5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn members(&self) -> Result<Vec<Member>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, role, active, seq FROM members ORDER BY name, id")?;
        Ok(stmt
            .query_map([], |r| {
                Ok(Member {
                    id: uuid_col(r, 0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                    active: r.get(3)?,
                    seq: seq_col(r, 4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn devices(&self) -> Result<Vec<Device>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, os, ceiling, member_id, last_seen_at, revoked, seq FROM devices
             ORDER BY name, id",
        )?;
        Ok(stmt
            .query_map([], |r| {
                Ok(Device {
                    id: uuid_col(r, 0)?,
                    name: r.get(1)?,
                    os: r.get(2)?,
                    ceiling: r.get(3)?,
                    member_id: opt_uuid_col(r, 4)?,
                    last_seen_at: opt_ts_col(r, 5)?,
                    revoked: r.get(6)?,
                    seq: seq_col(r, 7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A value this device keeps for itself (see migration 0004), if set.
    pub fn device_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM device_values WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets (or, with `None`, removes) a value this device keeps for itself.
    pub fn set_device_value(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO device_values (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => self
                .conn
                .execute("DELETE FROM device_values WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// This device's effective permissions as last sent by the relay (opaque JSON here).
    pub fn my_permissions(&self) -> Result<Option<serde_json::Value>> {
        Ok(self
            .conn
            .query_row(
                "SELECT permissions FROM my_permissions WHERE id = 1",
                [],
                |r| json_col(r, 0),
            )
            .optional()?)
    }

    // ---- outbox ----

    /// Writes a command to the outbox before it is sent. Enqueueing the same key again
    /// returns the existing item unchanged (a double click queues one command).
    pub fn outbox_enqueue(
        &mut self,
        idempotency_key: Uuid,
        command: &serde_json::Value,
    ) -> Result<OutboxItem> {
        let now = ts_to_sql(Timestamp::now());
        self.conn.execute(
            "INSERT INTO outbox (idempotency_key, command, state, attempts, created_at, updated_at)
             VALUES (?1, ?2, 'pending', 0, ?3, ?3) ON CONFLICT (idempotency_key) DO NOTHING",
            rusqlite::params![
                idempotency_key.to_string(),
                serde_json::to_string(command)?,
                now
            ],
        )?;
        self.outbox_item(idempotency_key)?
            .ok_or_else(|| StoreError::Corrupt("outbox item vanished".into()))
    }

    pub fn outbox_item(&self, idempotency_key: Uuid) -> Result<Option<OutboxItem>> {
        Ok(self
            .conn
            .query_row(
                &format!("{OUTBOX_SELECT} WHERE idempotency_key = ?1"),
                [idempotency_key.to_string()],
                outbox_from_row,
            )
            .optional()?)
    }

    /// Commands still to send, in the order they were queued.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxItem>> {
        self.outbox_where("state = 'pending'")
    }

    /// What the UI shows as queued: pending and failed commands, oldest first.
    pub fn outbox_unsent(&self) -> Result<Vec<OutboxItem>> {
        self.outbox_where("state IN ('pending', 'failed')")
    }

    fn outbox_where(&self, filter: &str) -> Result<Vec<OutboxItem>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{OUTBOX_SELECT} WHERE {filter} ORDER BY position"))?;
        Ok(stmt
            .query_map([], outbox_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Records a send attempt that did not get an answer (or a retryable error); the item
    /// stays pending.
    pub fn outbox_record_attempt(&mut self, idempotency_key: Uuid, error: &str) -> Result<()> {
        self.outbox_update(
            idempotency_key,
            "attempts = attempts + 1, last_error = ?2",
            "state = 'pending'",
            Some(error),
        )
    }

    /// The relay accepted the command. Returns false when it was already marked.
    pub fn outbox_mark_sent(&mut self, idempotency_key: Uuid) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_error = NULL,
             updated_at = ?2 WHERE idempotency_key = ?1 AND state = 'pending'",
            rusqlite::params![idempotency_key.to_string(), ts_to_sql(Timestamp::now())],
        )?;
        if n == 0 && self.outbox_item(idempotency_key)?.is_none() {
            return Err(StoreError::Invalid(format!(
                "no outbox item {idempotency_key}"
            )));
        }
        Ok(n == 1)
    }

    /// The relay refused the command for good (e.g. no permission): kept and shown, not
    /// retried.
    pub fn outbox_mark_failed(&mut self, idempotency_key: Uuid, error: &str) -> Result<()> {
        self.outbox_update(
            idempotency_key,
            "state = 'failed', attempts = attempts + 1, last_error = ?2",
            "state = 'pending'",
            Some(error),
        )
    }

    /// Unread messages over all conversations (one aggregate, not a row per conversation:
    /// it runs after every applied batch for the tray badge).
    pub fn unread_total(&self) -> Result<u32> {
        let total: i64 = self.conn.query_row(
            "SELECT COALESCE(SUM(unread_count), 0) FROM conversations",
            [],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(total).unwrap_or(u32::MAX))
    }

    /// Marks a conversation read on this device (its unread count back to 0). Read state is
    /// per device: each desktop clears what its own person has seen. `true` if it changed.
    pub fn mark_read(&mut self, conversation_id: Uuid) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE conversations SET unread_count = 0 WHERE id = ?1 AND unread_count > 0",
            [conversation_id.to_string()],
        )? == 1)
    }

    /// Drops a failed or pending command the user chose to discard.
    pub fn outbox_discard(&mut self, idempotency_key: Uuid) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE idempotency_key = ?1 AND state IN ('pending', 'failed')",
            [idempotency_key.to_string()],
        )? == 1)
    }

    /// Deletes sent commands older than `before` (they only matter until acknowledged).
    pub fn outbox_prune_sent(&mut self, before: Timestamp) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE state = 'sent' AND updated_at < ?1",
            [ts_to_sql(before)],
        )?)
    }

    fn outbox_update(
        &mut self,
        key: Uuid,
        set: &str,
        only_if: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let n = self.conn.execute(
            &format!(
                "UPDATE outbox SET {set}, updated_at = ?3 WHERE idempotency_key = ?1 AND {only_if}"
            ),
            rusqlite::params![key.to_string(), error, ts_to_sql(Timestamp::now())],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!("no pending outbox item {key}")));
        }
        Ok(())
    }
}

/// The key for `account` from the OS keyring. For an existing store it must be there; for
/// a new one it is made, saved, and read back before the store is created.
fn keyring_key(path: &Path, account: &str, exists: bool) -> Result<StoreKey> {
    let unavailable = |reason| StoreError::KeyUnavailable {
        path: path.to_owned(),
        reason,
    };
    let keyring = OsKeyring::connect().map_err(unavailable)?;
    match keyring.load(account).map_err(unavailable)? {
        Some(key) => Ok(key),
        None if exists => Err(unavailable(KeyUnavailableReason::MissingEntry)),
        None => {
            let key = StoreKey::generate()?;
            keyring
                .save(account, &key)
                .map_err(|r| StoreError::KeySaveFailed(r.to_string()))?;
            // A keyring that accepts the key but cannot give it back would strand the data.
            match keyring.load(account) {
                Ok(Some(back)) if back == key => Ok(key),
                Ok(_) => Err(StoreError::KeySaveFailed(
                    "the key read back from the OS keyring differs".into(),
                )),
                Err(r) => Err(StoreError::KeySaveFailed(r.to_string())),
            }
        }
    }
}

/// An unencrypted SQLite file is never opened as the store (it would mean plaintext).
fn refuse_plaintext(path: &Path) -> Result<()> {
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| {
            let mut n = 0;
            while n < header.len() {
                match f.read(&mut header[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
    if read == header.len() && &header == SQLITE_HEADER {
        return Err(StoreError::NotEncrypted {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Opens a connection and keys it: `PRAGMA key` is the first statement, the SQLCipher 4
/// settings the second; then one read proves the key before anything is written.
///
/// Until the key is proven the connection must not checkpoint on close: with a WAL left by
/// a crash, SQLite would otherwise copy it into the main file and delete it even though
/// the key was wrong. A `-shm` index and an empty `-wal` that only this attempt created are
/// removed again, so a refused open leaves the directory as it found it.
fn open_keyed(path: &Path, key: &StoreKey, create: bool) -> Result<Connection> {
    let shm = sibling(path, "-shm");
    let wal = sibling(path, "-wal");
    let (shm_existed, wal_existed) = (shm.exists(), wal.exists());
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    sqlcipher_ready()?;
    let conn = Connection::open_with_flags(path, flags)?;
    register_sql_functions(&conn)?;
    // A C API setting, not a statement: `PRAGMA key` stays the first statement.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    let refused = |conn: Connection, err: StoreError| -> StoreError {
        drop(conn);
        if !shm_existed {
            let _ = std::fs::remove_file(&shm);
        }
        // An empty WAL that only this attempt created (a non-empty one is never touched).
        if !wal_existed && std::fs::metadata(&wal).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(&wal);
        }
        err
    };
    let keyed = conn
        .execute_batch(&key.pragma())
        .and_then(|()| conn.execute_batch("PRAGMA cipher_compatibility = 4;"))
        .and_then(|()| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        });
    match keyed {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => {
            let err = StoreError::WrongKey {
                path: path.to_owned(),
            };
            return Err(refused(conn, err));
        }
        Err(e) => return Err(refused(conn, e.into())),
    }
    // Refuse a newer store before anything (even the journal mode) is written to it.
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        let err = StoreError::StoreTooNew {
            found,
            supported: SCHEMA_VERSION,
        };
        return Err(refused(conn, err));
    }
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)?;
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    // The store uses a few dozen distinct statements (upserts, reads, search); rusqlite's
    // default cache of 16 would re-prepare some of them on every call in a sync batch.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A connection to a store file keyed with `key`, with the store's SQL functions and none
/// of its checks or migrations: for tests and benchmarks that read or build store files by
/// hand. Like `Store::open` it waits for SQLCipher's set-up first, so a test keying its own
/// connection cannot race another thread's first open.
pub fn raw_connection_for_tests_and_benches(path: &Path, key: &StoreKey) -> Result<Connection> {
    sqlcipher_ready()?;
    let conn = Connection::open(path)?;
    register_sql_functions(&conn)?;
    conn.execute_batch(&key.pragma())?;
    conn.execute_batch("PRAGMA cipher_compatibility = 4;")?;
    Ok(conn)
}

/// Waits once per process until SQLCipher has finished its own set-up.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's set-up hook
/// (`SQLITE_EXTRA_INIT`), outside its init mutex, so a second thread opening a connection
/// at that moment can key it before SQLCipher is ready and gets "An error occurred with
/// PRAGMA key" ("sqlcipher not initialized" in SQLCipher's log). Keying a throw-away
/// in-memory connection succeeds exactly when the set-up is done; it takes microseconds.
fn sqlcipher_ready() -> Result<()> {
    static READY: std::sync::OnceLock<std::result::Result<(), String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let probe = Connection::open_in_memory()
                    .and_then(|c| c.execute_batch("PRAGMA key = 'readiness probe';"));
                match probe {
                    Ok(()) => return Ok(()),
                    Err(e) if std::time::Instant::now() >= deadline => {
                        return Err(format!("SQLCipher did not finish its set-up: {e}"));
                    }
                    Err(_) => std::thread::yield_now(),
                }
            }
        })
        .clone()
        .map_err(StoreError::CryptoUnavailable)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Applies every pending migration in one transaction and records the new version there
/// too, so a failure leaves the store at its old version with nothing half-applied.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let supported = migrations.len() as u32;
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > supported {
        return Err(StoreError::StoreTooNew { found, supported });
    }
    if found == supported {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for sql in &migrations[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    tracing::info!(from = found, to = supported, "local store migrated");
    Ok(())
}

fn read_cursor(conn: &Connection) -> Result<u64> {
    let v: i64 = conn
        .prepare_cached("SELECT cursor FROM sync_state WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative cursor {v}")))
}

fn deferred_until(conn: &Connection) -> Result<Option<u64>> {
    let (deferred, until): (bool, i64) = conn
        .prepare_cached("SELECT deferred, until_seq FROM search_index_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(deferred.then(|| u64::try_from(until).unwrap_or(0)))
}

/// Inside a write transaction: ends a deferral whose `until_seq` the cursor has reached.
fn finish_deferred_index(conn: &Connection, cursor: u64) -> Result<()> {
    if let Some(until) = deferred_until(conn)?
        && cursor >= until
    {
        rebuild_search_indexes(conn)?;
    }
    Ok(())
}

/// Inside a write transaction: both search indexes from scratch, from `messages.text`
/// (FTS5's `rebuild` for the external-content trigram index; `delete-all` and one
/// INSERT ... SELECT for the contentless CJK index), the by-conversation index and
/// `waiting_since` that a deferral leaves out (migration 0010), and the deferral cleared.
///
/// During the rebuild FTS5 may buffer 16 MiB of terms instead of its default 1 MiB before
/// writing a segment: fewer, larger segments and far less merging (the trigram rebuild of
/// 100,000 messages took about half the time here). The default is set back after, so
/// ordinary writes keep the small buffer.
pub(crate) fn rebuild_search_indexes(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('hashsize', 16777216);
         INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
         INSERT INTO messages_fts (messages_fts, rank) VALUES ('hashsize', 1048576);
         INSERT INTO messages_cjk (messages_cjk) VALUES ('delete-all');
         INSERT INTO messages_cjk (rowid, chars)
             SELECT rowid_, chars FROM
                 (SELECT rowid_, teamline_cjk_chars(text) AS chars FROM messages
                  WHERE text IS NOT NULL)
             WHERE chars IS NOT NULL;
         CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, sent_at);
         UPDATE conversations SET waiting_since = (
             SELECT min(m.sent_at) FROM messages m
             WHERE m.conversation_id = conversations.id AND m.direction = 'in'
               AND m.sent_at > coalesce(
                   (SELECT max(o.sent_at) FROM messages o
                    WHERE o.conversation_id = conversations.id AND o.direction = 'out'), -1));
         UPDATE search_index_state SET deferred = 0, until_seq = 0 WHERE id = 1;",
    )?;
    // Back to SQLite's default: the commit of this transaction checkpoints what the
    // catch-up left in the WAL (its cost counts, like the rebuild's, before search is whole).
    conn.pragma_update(None, "wal_autocheckpoint", DEFAULT_WAL_AUTOCHECKPOINT)?;
    Ok(())
}

// ---- row decoding ----

fn bad(idx: usize, ty: Type, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, Box::new(e))
}

pub(crate) fn uuid_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = r.get(idx)?;
    Uuid::parse_str(&s).map_err(|e| bad(idx, Type::Text, e))
}

fn opt_uuid_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| bad(idx, Type::Text, e)))
        .transpose()
}

pub(crate) fn ts_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let ms: i64 = r.get(idx)?;
    ts_from_sql(ms).map_err(|e| bad(idx, Type::Integer, e))
}

/// `priority` and `sla` at `idx` and `idx + 1`; an unreadable SLA reads as none.
fn marks_from_row(r: &Row<'_>, idx: usize) -> rusqlite::Result<ConversationMarks> {
    Ok(ConversationMarks {
        priority: r.get(idx)?,
        sla: r
            .get::<_, Option<String>>(idx + 1)?
            .and_then(|s| serde_json::from_str(&s).ok()),
    })
}

fn opt_ts_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    let ms: Option<i64> = r.get(idx)?;
    ms.map(|ms| ts_from_sql(ms).map_err(|e| bad(idx, Type::Integer, e)))
        .transpose()
}

pub(crate) fn seq_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(idx)?;
    u64::try_from(v).map_err(|e| bad(idx, Type::Integer, e))
}

pub(crate) fn json_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<serde_json::Value> {
    let s: String = r.get(idx)?;
    serde_json::from_str(&s).map_err(|e| bad(idx, Type::Text, e))
}

pub(crate) fn opt_json_col(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| bad(idx, Type::Text, e)))
        .transpose()
}

fn enum_col<T>(
    r: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Result<T>,
) -> rusqlite::Result<T> {
    let s: String = r.get(idx)?;
    parse(&s).map_err(|e| bad(idx, Type::Text, e))
}

pub(crate) const CONVERSATION_SELECT: &str =
    "SELECT id, contact_wa_id, name, assignee, team, status,
    snoozed_until, last_message_preview, last_message_at, unread_count, window_expires_at, seq
    FROM conversations";

pub(crate) fn conversation_from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: uuid_col(r, 0)?,
        contact_wa_id: r.get(1)?,
        name: r.get(2)?,
        assignee: opt_uuid_col(r, 3)?,
        team: r.get(4)?,
        status: enum_col(r, 5, ConversationStatus::parse)?,
        snoozed_until: opt_ts_col(r, 6)?,
        last_message_preview: r.get(7)?,
        last_message_at: opt_ts_col(r, 8)?,
        unread_count: r.get(9)?,
        window_expires_at: opt_ts_col(r, 10)?,
        labels: Vec::new(),
        seq: seq_col(r, 11)?,
    })
}

const MESSAGE_SELECT: &str = "SELECT id, wamid, conversation_id, direction, kind, text, media,
    status, error, author_member_id, sent_at, updated_at, seq FROM messages";

pub(crate) fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: uuid_col(r, 0)?,
        wamid: r.get(1)?,
        conversation_id: uuid_col(r, 2)?,
        direction: enum_col(r, 3, Direction::parse)?,
        kind: r.get(4)?,
        text: r.get(5)?,
        media: opt_json_col(r, 6)?,
        status: enum_col(r, 7, MessageStatus::parse)?,
        error: r.get(8)?,
        author_member_id: opt_uuid_col(r, 9)?,
        sent_at: ts_col(r, 10)?,
        updated_at: ts_col(r, 11)?,
        seq: seq_col(r, 12)?,
    })
}

const OUTBOX_SELECT: &str = "SELECT idempotency_key, command, state, attempts, last_error,
    created_at, updated_at FROM outbox";

fn outbox_from_row(r: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        idempotency_key: uuid_col(r, 0)?,
        command: json_col(r, 1)?,
        state: enum_col(r, 2, OutboxState::parse)?,
        attempts: r.get(3)?,
        last_error: r.get(4)?,
        created_at: ts_col(r, 5)?,
        updated_at: ts_col(r, 6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed_memory_like(dir: &Path) -> Connection {
        let key = StoreKey::from_bytes([7; 32]);
        open_keyed(&dir.join("m.db"), &key, true).unwrap()
    }

    #[test]
    fn a_failing_migration_leaves_nothing_applied() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = keyed_memory_like(dir.path());
        let broken = [
            "CREATE TABLE first (x INTEGER);",
            "CREATE TABLE second (y INTEGER); INSERT INTO no_such_table VALUES (1);",
        ];
        assert!(migrate(&mut conn, &broken).is_err());
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 0);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('first', 'second')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            tables, 0,
            "the first migration must have been rolled back too"
        );
    }

    #[test]
    fn pending_migrations_are_applied_from_the_recorded_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = keyed_memory_like(dir.path());
        let v1 = ["CREATE TABLE first (x INTEGER);"];
        migrate(&mut conn, &v1).unwrap();
        conn.execute("INSERT INTO first VALUES (1)", []).unwrap();
        let v3 = [
            v1[0],
            "CREATE TABLE second (y INTEGER);",
            "ALTER TABLE first ADD COLUMN z TEXT;",
        ];
        migrate(&mut conn, &v3).unwrap();
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 3);
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM first WHERE z IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, 1);
        assert!(matches!(
            migrate(&mut conn, &v1),
            Err(StoreError::StoreTooNew {
                found: 3,
                supported: 1
            })
        ));
    }

    #[test]
    fn bundled_sqlcipher_has_trigram_fts5() {
        let dir = tempfile::tempdir().unwrap();
        let conn = keyed_memory_like(dir.path());
        let version: String = conn
            .query_row("SELECT sqlite_version()", [], |r| r.get(0))
            .unwrap();
        let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
        assert!(
            parts[0] == 3 && parts[1] >= 34,
            "SQLite {version} lacks trigram"
        );
        let cipher: String = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .unwrap();
        assert!(cipher.starts_with('4'), "SQLCipher {cipher}");
    }
}

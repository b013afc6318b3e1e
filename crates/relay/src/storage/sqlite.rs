//! SQLite backend: WAL, one writer thread with group commit, a small pool of readers.
//!
//! The writer drains every queued write job into ONE transaction (each job inside its own
//! savepoint) and commits once; a sync thread then fsyncs the WAL and only after that
//! publishes the group's events and answers its waiters, while the writer already runs the
//! next group. Under load, one fsync covers many groups, which is how a durable "200 only
//! after it is on disk" is not paced by the disk's fsync latency.
//!
//! Committed events are also kept in a bounded in-memory tail, so streams that are close to
//! the head (nearly all of them) are served without touching the database.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use uuid::Uuid;

use super::*;
use crate::storage::team::AuditSettings;

mod alerts;
mod automation;
mod broadcasts;
mod contacts;
mod quick_replies;
mod team;
mod work;

/// The schema, one entry per version. `PRAGMA user_version` = entries applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE raw_webhooks (
    id INTEGER PRIMARY KEY,
    body_sha256 BLOB NOT NULL UNIQUE,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX raw_webhooks_received ON raw_webhooks(received_at);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    conversation_id TEXT,
    audience TEXT NOT NULL,
    also_member TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_created ON events(created_at);
CREATE TABLE contacts (
    wa_id TEXT PRIMARY KEY,
    name TEXT,
    profile TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    team_id TEXT,
    customer_wa_id TEXT NOT NULL UNIQUE,
    name TEXT,
    assignee TEXT,
    status TEXT NOT NULL,
    window_expires_at INTEGER,
    last_activity_at INTEGER NOT NULL,
    last_preview TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX conversations_activity ON conversations(last_activity_at);
CREATE INDEX conversations_assignee ON conversations(assignee);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    wamid TEXT UNIQUE,
    direction TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT,
    status_rank INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    sent_by TEXT,
    wa_timestamp INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE TABLE message_statuses (
    wamid TEXT NOT NULL,
    status TEXT NOT NULL,
    wa_timestamp INTEGER,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (wamid, status)
);
CREATE TABLE members (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    preset TEXT NOT NULL,
    toggles TEXT NOT NULL,
    teams TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    os TEXT NOT NULL,
    os_version TEXT NOT NULL,
    app_version TEXT NOT NULL,
    level TEXT NOT NULL,
    member_id TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    linked_at INTEGER NOT NULL,
    last_seen INTEGER,
    last_address TEXT,
    revoked_at INTEGER
);
CREATE TABLE pairing_codes (
    code_hash BLOB PRIMARY KEY,
    level TEXT NOT NULL,
    member_id TEXT,
    member_name TEXT,
    owner INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE pairing_failures (
    address TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER
);
"#,
    include_str!("sqlite/work.sql"),
    include_str!("sqlite/team.sql"),
    include_str!("sqlite/audit.sql"),
    include_str!("sqlite/alerts.sql"),
    include_str!("sqlite/automation.sql"),
    include_str!("sqlite/quick_replies.sql"),
    include_str!("sqlite/sla_shown.sql"),
    include_str!("sqlite/broadcasts.sql"),
    include_str!("sqlite/labels.sql"),
    include_str!("sqlite/contacts.sql"),
    include_str!("sqlite/broadcast_messages.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How the SQLite backend is tuned.
#[derive(Debug, Clone)]
pub struct Options {
    /// Read connections (each read job takes one).
    pub readers: usize,
    /// Most write jobs folded into one transaction.
    pub max_group: usize,
    /// Committed events kept in memory for streams near the head.
    pub event_cache: usize,
    /// `true`: what is answered survives power loss (the WAL is fsynced before any answer,
    /// as `synchronous=FULL` would, but off the writer thread); `false`: a process crash
    /// only (`NORMAL`, no fsync).
    pub synchronous_full: bool,
    /// The audit chain's key and retention (kept outside the database). `None`: a random
    /// key for this process only, for tests and benchmarks; the relay's commands always
    /// pass the configured one.
    pub audit: Option<AuditSettings>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            readers: 4,
            max_group: 4096,
            event_cache: 16_384,
            synchronous_full: true,
            audit: None,
        }
    }
}

struct WriteReq {
    job: WriteJob,
    reply: oneshot::Sender<StorageResult<AnyBox>>,
}

struct Shared {
    audit: Arc<AuditSettings>,
    head: watch::Sender<u64>,
    floor: AtomicU64,
    cache: Mutex<VecDeque<Arc<Event>>>,
    cache_cap: usize,
}

pub struct SqliteStorage {
    tx: mpsc::Sender<WriteReq>,
    readers: Mutex<Vec<Connection>>,
    permits: Semaphore,
    shared: Arc<Shared>,
}

fn db_err(e: rusqlite::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

fn open_conn(path: &Path, flags: OpenFlags) -> StorageResult<Connection> {
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        StorageError::Backend(format!("cannot open database {}: {e}", path.display()))
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db_err)?;
    // rusqlite keeps 16 prepared statements by default; the writer cycles through more than
    // that (ingest, commands, send queue, team), and an evicted one is re-parsed each time.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 128;

/// Applies missing migrations in one transaction; refuses a database from a newer binary.
fn migrate(conn: &mut Connection) -> StorageResult<()> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    if found > SCHEMA_VERSION {
        return Err(StorageError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql).map_err(db_err)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db_err)?;
    tx.commit().map_err(db_err)
}

impl SqliteStorage {
    /// Opens (creating when missing) the database file, migrates it and starts the writer.
    pub fn open(path: impl AsRef<Path>, options: Options) -> StorageResult<SqliteStorage> {
        let path = path.as_ref();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            return Err(StorageError::Backend(format!(
                "the folder of the database file does not exist: {}",
                dir.display()
            )));
        }
        let mut writer = open_conn(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::Backend(format!(
                "could not switch the database to WAL mode (got {mode})"
            )));
        }
        // NORMAL in both cases: COMMIT appends to the WAL without an fsync. With
        // `synchronous_full`, the writer's syncer thread fsyncs the WAL before anything of
        // a group is answered or published (see `syncer_loop`), which is FULL's guarantee
        // without the writer waiting on the disk.
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        // SQLite's own name for the file (symlinks resolved), as it names the WAL.
        let wal = options.synchronous_full.then(|| {
            let db = writer
                .path()
                .filter(|p| !p.is_empty())
                .map_or_else(|| path.to_path_buf(), PathBuf::from);
            let mut wal = db.into_os_string();
            wal.push("-wal");
            PathBuf::from(wal)
        });
        writer
            .pragma_update(None, "cache_size", -32_000)
            .map_err(db_err)?;
        // Each write job runs in a savepoint, so nearly every page a job touches is first
        // copied to the statement sub-journal. That journal only serves rollbacks inside the
        // open transaction (never crash recovery), so it lives in memory instead of a temp
        // file written with one syscall per page.
        writer
            .pragma_update(None, "temp_store", "MEMORY")
            .map_err(db_err)?;
        migrate(&mut writer)?;
        start_checkpointer(path, &mut writer, options.synchronous_full)?;

        let floor = writer
            .query_row(
                "SELECT value FROM meta WHERE key = 'pruned_through'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db_err)?
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let head: u64 = writer
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(db_err)? as u64;
        let head = head.max(floor);

        let mut readers = Vec::new();
        for _ in 0..options.readers.max(1) {
            let r = open_conn(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.pragma_update(None, "query_only", true).map_err(db_err)?;
            readers.push(r);
        }

        let (head_tx, _) = watch::channel(head);
        let shared = Arc::new(Shared {
            audit: Arc::new(
                options
                    .audit
                    .clone()
                    .unwrap_or_else(AuditSettings::ephemeral),
            ),
            head: head_tx,
            floor: AtomicU64::new(floor),
            cache: Mutex::new(VecDeque::new()),
            cache_cap: options.event_cache.max(1),
        });
        let (tx, rx) = mpsc::channel(options.max_group.max(1) * 2);
        let thread_shared = Arc::clone(&shared);
        let max_group = options.max_group.max(1);
        std::thread::Builder::new()
            .name("relay-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, thread_shared, max_group, wal))
            .map_err(|e| StorageError::Backend(format!("cannot start the writer thread: {e}")))?;

        Ok(SqliteStorage {
            tx,
            permits: Semaphore::new(readers.len()),
            readers: Mutex::new(readers),
            shared,
        })
    }
}

/// WAL frames after which the checkpointer copies the log back into the database file
/// (SQLite's own auto-checkpoint threshold).
const CHECKPOINT_FRAMES: i32 = 1000;

/// Moves WAL checkpoints off the writer: SQLite would otherwise run them inside the commit
/// that crossed the threshold (copying ~4 MB and fsyncing the database file) while every
/// webhook of the next group waits. A PASSIVE checkpoint from its own connection never
/// blocks the writer; durability is unchanged (a commit is durable once in the WAL; a
/// checkpoint interrupted by a crash is redone from the WAL on the next open).
fn start_checkpointer(
    path: &Path,
    writer: &mut Connection,
    synchronous_full: bool,
) -> StorageResult<()> {
    let conn = open_conn(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The checkpoint's fsyncs follow the configured durability, like the writer's.
    conn.pragma_update(
        None,
        "synchronous",
        if synchronous_full { "FULL" } else { "NORMAL" },
    )
    .map_err(db_err)?;
    let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
    // Replaces SQLite's auto-checkpoint hook on the writer. Runs after each commit with the
    // WAL's frame count; only nudges (a full channel already holds a pending nudge).
    writer
        .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, frames: i32| {
            if frames >= CHECKPOINT_FRAMES {
                let _ = nudge.try_send(());
            }
            Ok(())
        }))
        .map_err(db_err)?;
    std::thread::Builder::new()
        .name("relay-sqlite-checkpoint".into())
        .spawn(move || {
            // Ends when the writer's connection (which owns the hook and the sender) closes.
            while nudged.recv().is_ok() {
                if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retried after the next commits");
                }
            }
        })
        .map_err(|e| StorageError::Backend(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<WriteReq>,
    shared: Arc<Shared>,
    max_group: usize,
    wal: Option<PathBuf>,
) {
    // Bounded: a writer far ahead of the disk waits instead of piling up answers.
    let (to_syncer, committed) = std::sync::mpsc::sync_channel::<Committed>(SYNC_QUEUE);
    let syncer_shared = Arc::clone(&shared);
    let syncer = match std::thread::Builder::new()
        .name("relay-sqlite-sync".into())
        .spawn(move || syncer_loop(committed, &syncer_shared, wal))
    {
        Ok(handle) => handle,
        Err(e) => {
            let err = StorageError::Backend(format!("cannot start the sync thread: {e}"));
            tracing::error!(error = %err, "sqlite writer stopped");
            while let Some(req) = rx.blocking_recv() {
                let _ = req.reply.send(Err(err.clone()));
            }
            return;
        }
    };
    let mut batch: Vec<WriteReq> = Vec::with_capacity(max_group);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_group {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Some(group) = run_group(&conn, &mut batch, &shared)
            && let Err(std::sync::mpsc::SendError(group)) = to_syncer.send(group)
        {
            // The syncer is gone (it panicked): nobody would ever answer these.
            group.fail(&StorageError::Backend("the sync thread stopped".into()));
        }
    }
    // Every committed group is answered before the connection closes.
    drop(to_syncer);
    let _ = syncer.join();
    tracing::debug!("sqlite writer stopped");
}

/// Committed groups the writer may run ahead of the WAL's fsync.
const SYNC_QUEUE: usize = 64;

/// A committed group waiting for its fsync: what to publish and whom to answer.
struct Committed {
    new_events: Vec<Event>,
    pruned_floor: Option<u64>,
    answers: Vec<(
        oneshot::Sender<StorageResult<AnyBox>>,
        StorageResult<AnyBox>,
    )>,
}

impl Committed {
    /// Answers every job of the group with `err` (their writes are committed but not
    /// known to be durable: the caller must treat them as failed and may retry).
    fn fail(self, err: &StorageError) {
        for (reply, _) in self.answers {
            let _ = reply.send(Err(err.clone()));
        }
    }
}

/// Makes committed groups durable, then publishes their events and answers their jobs,
/// in commit order.
///
/// The writer connection runs `synchronous=NORMAL`: COMMIT only appends to the WAL, and
/// this thread's `fdatasync` of the WAL file is what makes it durable (what `FULL` does
/// inside COMMIT). With the fsync off the writer thread, the writer runs the next group's
/// statements while the disk flushes the previous one, and one fsync covers every group
/// committed meanwhile. Nothing is answered or published before its fsync returns, so a
/// 200 still means "on disk" and a device never sees an event that a power loss could
/// take back (the WAL is append-only: a flushed group implies every earlier one).
fn syncer_loop(
    committed: std::sync::mpsc::Receiver<Committed>,
    shared: &Shared,
    wal: Option<PathBuf>,
) {
    let mut wal_file: Option<std::fs::File> = None;
    let mut groups: Vec<Committed> = Vec::new();
    while let Ok(first) = committed.recv() {
        groups.push(first);
        while let Ok(more) = committed.try_recv() {
            groups.push(more);
        }
        let synced = match &wal {
            None => Ok(()),
            Some(path) => sync_wal(&mut wal_file, path),
        };
        for group in groups.drain(..) {
            // Published even when the fsync failed: the rows are committed and visible,
            // and the event stream must stay gap-free; the jobs are answered with an
            // error (a webhook is retried by Meta and deduplicated).
            publish(shared, group.new_events, group.pruned_floor);
            match &synced {
                Ok(()) => {
                    for (reply, result) in group.answers {
                        let _ = reply.send(result);
                    }
                }
                Err(e) => {
                    for (reply, _) in group.answers {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// `fdatasync` of the WAL file (opened on first use: it exists once a commit happened,
/// and SQLite keeps it, same inode, while the writer's connection is open).
fn sync_wal(file: &mut Option<std::fs::File>, path: &Path) -> StorageResult<()> {
    if file.is_none() {
        *file = Some(std::fs::File::open(path).map_err(|e| {
            StorageError::Backend(format!("cannot open the WAL {}: {e}", path.display()))
        })?);
    }
    let f = file.as_ref().expect("opened above");
    f.sync_data().map_err(|e| {
        tracing::error!(error = %e, "fsync of the WAL failed; the waiting writes are answered with an error");
        // Reopened next time: after a failed fsync the old descriptor proves nothing.
        *file = None;
        StorageError::Backend(format!("fsync of the WAL failed: {e}"))
    })
}

/// New events into the in-memory tail, then the head moves (streams wake).
fn publish(shared: &Shared, new_events: Vec<Event>, pruned_floor: Option<u64>) {
    if let Some(floor) = pruned_floor {
        shared.floor.fetch_max(floor, Ordering::SeqCst);
    }
    if let Some(last) = new_events.last().map(|e| e.seq) {
        {
            let mut cache = shared.cache.lock().expect("event cache lock");
            for e in new_events {
                cache.push_back(Arc::new(e));
            }
            while cache.len() > shared.cache_cap {
                cache.pop_front();
            }
        }
        shared.head.send_replace(last);
    }
}

/// Runs a parameterless statement through the statement cache (the per-job savepoint
/// statements would otherwise be parsed twice per webhook).
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// One group: BEGIN, each job in a savepoint, COMMIT. Returns the committed group for
/// the syncer; a group that could not commit is answered here with the error.
fn run_group(conn: &Connection, batch: &mut Vec<WriteReq>, shared: &Shared) -> Option<Committed> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let err = db_err(e);
        for req in batch.drain(..) {
            let _ = req.reply.send(Err(err.clone()));
        }
        return None;
    }
    let mut sql = Sql::new(conn, Arc::clone(&shared.audit));
    let mut results = Vec::with_capacity(batch.len());
    for req in batch.iter_mut() {
        let job = std::mem::replace(&mut req.job, Box::new(|_| Err(StorageError::Closed)));
        let mark = sql.new_events.len();
        let floor_before = sql.pruned_floor;
        let outcome = match exec_cached(conn, "SAVEPOINT job") {
            Err(e) => Err(db_err(e)),
            Ok(()) => {
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut sql)))
                    .unwrap_or_else(|_| Err(StorageError::Backend("a write job panicked".into())));
                let end = if r.is_ok() {
                    exec_cached(conn, "RELEASE job")
                } else {
                    sql.new_events.truncate(mark);
                    sql.pruned_floor = floor_before;
                    conn.execute_batch("ROLLBACK TO job; RELEASE job")
                };
                match end {
                    Ok(()) => r,
                    Err(e) => Err(db_err(e)),
                }
            }
        };
        results.push(outcome);
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        let err = db_err(e);
        tracing::error!(error = %err, "commit failed; {} write jobs answered with an error", batch.len());
        for req in batch.drain(..) {
            let _ = req.reply.send(Err(err.clone()));
        }
        return None;
    }
    Some(Committed {
        new_events: std::mem::take(&mut sql.new_events),
        pruned_floor: sql.pruned_floor,
        answers: batch.drain(..).map(|req| req.reply).zip(results).collect(),
    })
}

#[async_trait::async_trait]
impl Storage for SqliteStorage {
    async fn read_boxed(&self, job: ReadJob) -> StorageResult<AnyBox> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StorageError::Closed)?;
        let conn = self
            .readers
            .lock()
            .expect("reader pool lock")
            .pop()
            .ok_or(StorageError::Closed)?;
        let audit = Arc::clone(&self.shared.audit);
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = job(&Sql::new(&conn, audit));
            (conn, result)
        })
        .await
        .map_err(|_| StorageError::Backend("a read job panicked".into()))?;
        self.readers.lock().expect("reader pool lock").push(conn);
        result
    }

    async fn write_boxed(&self, job: WriteJob) -> StorageResult<AnyBox> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriteReq { job, reply })
            .await
            .map_err(|_| StorageError::Closed)?;
        rx.await.map_err(|_| StorageError::Closed)?
    }

    fn head(&self) -> watch::Receiver<u64> {
        self.shared.head.subscribe()
    }

    fn retention_floor(&self) -> u64 {
        self.shared.floor.load(Ordering::SeqCst)
    }

    async fn events_after(&self, after: u64, limit: usize) -> StorageResult<Vec<Arc<Event>>> {
        let check_floor = |after: u64| {
            let floor = self.shared.floor.load(Ordering::SeqCst);
            if after < floor {
                Err(StorageError::CursorExpired { after, floor })
            } else {
                Ok(())
            }
        };
        check_floor(after)?;
        let limit = limit.max(1);
        let head = *self.shared.head.borrow();
        if after > head {
            // A cursor from another database (restored backup, reset relay): the device
            // must start over, exactly as with an expired one.
            return Err(StorageError::CursorExpired {
                after,
                floor: self.shared.floor.load(Ordering::SeqCst),
            });
        }
        if after == head {
            return Ok(Vec::new());
        }
        {
            let cache = self.shared.cache.lock().expect("event cache lock");
            if let Some(front) = cache.front()
                && front.seq <= after + 1
            {
                let start = (after + 1 - front.seq) as usize;
                // `publish` fills the cache before it moves the head: an event past the
                // head read above must wait, or the caller's next cursor would be "ahead
                // of the head" and its device told to resync for nothing.
                return Ok(cache
                    .iter()
                    .skip(start)
                    .take(limit)
                    .take_while(|e| e.seq <= head)
                    .cloned()
                    .collect());
            }
        }
        let events = (self as &dyn Storage)
            .read(move |tx| tx.events_after(after, limit))
            .await?;
        check_floor(after)?;
        // Rows past the published head are committed but maybe not yet fsynced: they
        // reach devices once published, never before.
        Ok(events
            .into_iter()
            .take_while(|e| e.seq <= head)
            .map(Arc::new)
            .collect())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// A connection seen as [`ReadTx`]/[`WriteTx`]; the writer's also collects new events.
struct Sql<'a> {
    c: &'a Connection,
    new_events: Vec<Event>,
    pruned_floor: Option<u64>,
    audit: Arc<AuditSettings>,
}

impl<'a> Sql<'a> {
    fn new(c: &'a Connection, audit: Arc<AuditSettings>) -> Self {
        Sql {
            c,
            new_events: Vec::new(),
            pruned_floor: None,
            audit,
        }
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(ms: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(e))
    })
}

fn opt_ts(ms: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    ms.map(ts).transpose()
}

fn uuid(s: String) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_uuid(s: Option<String>) -> rusqlite::Result<Option<Uuid>> {
    s.map(uuid).transpose()
}

fn json(s: String) -> rusqlite::Result<Value> {
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn hash32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "hash is not 32 bytes".into(),
        )
    })
}

const CONVERSATION_COLS: &str = "id, team_id, customer_wa_id, name, assignee, status, window_expires_at, last_activity_at, last_preview, created_at";

fn conversation_row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: uuid(r.get(0)?)?,
        team_id: opt_uuid(r.get(1)?)?,
        customer_wa_id: r.get(2)?,
        name: r.get(3)?,
        assignee: opt_uuid(r.get(4)?)?,
        status: r.get(5)?,
        window_expires_at: opt_ts(r.get(6)?)?,
        last_activity_at: ts(r.get(7)?)?,
        last_preview: r.get(8)?,
        created_at: ts(r.get(9)?)?,
    })
}

const MESSAGE_COLS: &str = "id, conversation_id, wamid, direction, type, body, status, status_rank, error, sent_by, wa_timestamp, created_at";

fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: uuid(r.get(0)?)?,
        conversation_id: uuid(r.get(1)?)?,
        wamid: r.get(2)?,
        direction: r.get(3)?,
        kind: r.get(4)?,
        body: json(r.get(5)?)?,
        status: r.get(6)?,
        status_rank: r.get::<_, i64>(7)?.clamp(0, 255) as u8,
        error: r.get::<_, Option<String>>(8)?.map(json).transpose()?,
        sent_by: opt_uuid(r.get(9)?)?,
        wa_timestamp: r.get(10)?,
        created_at: ts(r.get(11)?)?,
    })
}

const MEMBER_COLS: &str = "id, name, preset, toggles, teams, active, created_at";

fn member_row(r: &Row<'_>) -> rusqlite::Result<MemberRow> {
    let teams: Vec<Uuid> = serde_json::from_str(&r.get::<_, String>(4)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(MemberRow {
        id: uuid(r.get(0)?)?,
        name: r.get(1)?,
        preset: r.get(2)?,
        toggles: json(r.get(3)?)?,
        teams,
        active: r.get(5)?,
        created_at: ts(r.get(6)?)?,
    })
}

const DEVICE_COLS: &str = "id, name, os, os_version, app_version, level, member_id, token_hash, linked_at, last_seen, last_address, revoked_at";

fn device_row(r: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: uuid(r.get(0)?)?,
        name: r.get(1)?,
        os: r.get(2)?,
        os_version: r.get(3)?,
        app_version: r.get(4)?,
        level: json(r.get(5)?)?,
        member_id: uuid(r.get(6)?)?,
        token_hash: hash32(r.get(7)?)?,
        linked_at: ts(r.get(8)?)?,
        last_seen: opt_ts(r.get(9)?)?,
        last_address: r.get(10)?,
        revoked_at: opt_ts(r.get(11)?)?,
    })
}

fn event_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    let audience: String = r.get(3)?;
    let audience = Audience::parse(&audience).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    // The stored payload is the compact JSON `append_event` wrote: spliced into the wire
    // form as is, without a parse and re-serialization.
    let payload = r.get_ref(5)?.as_str()?;
    Ok(Event::build_with_payload_json(
        r.get::<_, i64>(0)? as u64,
        r.get(1)?,
        opt_uuid(r.get(2)?)?,
        audience,
        opt_uuid(r.get(4)?)?,
        ts(r.get(6)?)?,
        payload,
    ))
}

fn to_json(v: &Value) -> String {
    v.to_string()
}

impl ReadTx for Sql<'_> {
    fn team(&self) -> StorageResult<Option<TeamRow>> {
        self.c
            .prepare_cached("SELECT id, name, created_at FROM teams ORDER BY created_at LIMIT 1")
            .and_then(|mut s| {
                s.query_row([], |r| {
                    Ok(TeamRow {
                        id: uuid(r.get(0)?)?,
                        name: r.get(1)?,
                        created_at: ts(r.get(2)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn conversation(&self, id: Uuid) -> StorageResult<Option<ConversationRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {CONVERSATION_COLS} FROM conversations WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id.to_string()], conversation_row).optional())
            .map_err(db_err)
    }

    fn conversation_by_customer(&self, wa_id: &str) -> StorageResult<Option<ConversationRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {CONVERSATION_COLS} FROM conversations WHERE customer_wa_id = ?1"
            ))
            .and_then(|mut s| s.query_row([wa_id], conversation_row).optional())
            .map_err(db_err)
    }

    fn conversations(&self, q: &ConversationQuery) -> StorageResult<Vec<ConversationRow>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLS} FROM conversations
             WHERE (?1 IS NULL OR last_activity_at < ?1)
               AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR assignee = ?3)
             ORDER BY last_activity_at DESC, id DESC LIMIT ?4"
        );
        self.c
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(
                    params![
                        q.before_activity.map(ms),
                        q.status,
                        q.assignee.map(|u| u.to_string()),
                        q.limit.max(1) as i64
                    ],
                    conversation_row,
                )?
                .collect()
            })
            .map_err(db_err)
    }

    fn conversation_access(&self, ids: &[Uuid]) -> StorageResult<Vec<AccessRow>> {
        let mut stmt = self
            .c
            .prepare_cached("SELECT assignee, team_id FROM conversations WHERE id = ?1")
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = stmt
                .query_row([id.to_string()], |r| {
                    Ok((opt_uuid(r.get(0)?)?, opt_uuid(r.get(1)?)?))
                })
                .optional()
                .map_err(db_err)?;
            if let Some((assignee, team)) = row {
                out.push((*id, assignee, team));
            }
        }
        Ok(out)
    }

    fn message(&self, id: Uuid) -> StorageResult<Option<MessageRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id.to_string()], message_row).optional())
            .map_err(db_err)
    }

    fn message_by_wamid(&self, wamid: &str) -> StorageResult<Option<MessageRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE wamid = ?1"
            ))
            .and_then(|mut s| s.query_row([wamid], message_row).optional())
            .map_err(db_err)
    }

    fn messages_page(
        &self,
        conversation_id: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StorageResult<Vec<MessageRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLS} FROM messages
                 WHERE conversation_id = ?1 AND (?2 IS NULL OR id < ?2)
                 ORDER BY id DESC LIMIT ?3"
            ))
            .and_then(|mut s| {
                s.query_map(
                    params![
                        conversation_id.to_string(),
                        before.map(|b| b.to_string()),
                        limit.max(1) as i64
                    ],
                    message_row,
                )?
                .collect()
            })
            .map_err(db_err)
    }

    fn statuses_of(&self, wamid: &str) -> StorageResult<Vec<(String, Value)>> {
        self.c
            .prepare_cached(
                "SELECT status, payload FROM message_statuses WHERE wamid = ?1 ORDER BY rowid",
            )
            .and_then(|mut s| {
                s.query_map([wamid], |r| Ok((r.get(0)?, json(r.get(1)?)?)))?
                    .collect()
            })
            .map_err(db_err)
    }

    fn contact(&self, wa_id: &str) -> StorageResult<Option<ContactRow>> {
        self.c
            .prepare_cached(
                "SELECT wa_id, name, profile, created_at, updated_at FROM contacts WHERE wa_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([wa_id], |r| {
                    Ok(ContactRow {
                        wa_id: r.get(0)?,
                        name: r.get(1)?,
                        profile: json(r.get(2)?)?,
                        created_at: ts(r.get(3)?)?,
                        updated_at: ts(r.get(4)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn member(&self, id: Uuid) -> StorageResult<Option<MemberRow>> {
        self.c
            .prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.to_string()], member_row).optional())
            .map_err(db_err)
    }

    fn member_by_name(&self, name: &str) -> StorageResult<Option<MemberRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {MEMBER_COLS} FROM members WHERE name = ?1 AND active = 1
                 ORDER BY created_at LIMIT 1"
            ))
            .and_then(|mut s| s.query_row([name], member_row).optional())
            .map_err(db_err)
    }

    fn members(&self) -> StorageResult<Vec<MemberRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {MEMBER_COLS} FROM members ORDER BY created_at"
            ))
            .and_then(|mut s| s.query_map([], member_row)?.collect())
            .map_err(db_err)
    }

    fn device(&self, id: Uuid) -> StorageResult<Option<DeviceRow>> {
        self.c
            .prepare_cached(&format!("SELECT {DEVICE_COLS} FROM devices WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.to_string()], device_row).optional())
            .map_err(db_err)
    }

    fn device_by_token_hash(&self, hash: &[u8; 32]) -> StorageResult<Option<DeviceRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"
            ))
            .and_then(|mut s| s.query_row([&hash[..]], device_row).optional())
            .map_err(db_err)
    }

    fn devices(&self) -> StorageResult<Vec<DeviceRow>> {
        self.c
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices ORDER BY linked_at"
            ))
            .and_then(|mut s| s.query_map([], device_row)?.collect())
            .map_err(db_err)
    }

    fn pairing_code(&self, hash: &[u8; 32]) -> StorageResult<Option<PairingCodeRow>> {
        self.c
            .prepare_cached(
                "SELECT code_hash, level, member_id, member_name, owner, created_at, expires_at, used_at
                 FROM pairing_codes WHERE code_hash = ?1",
            )
            .and_then(|mut s| {
                s.query_row([&hash[..]], |r| {
                    Ok(PairingCodeRow {
                        code_hash: hash32(r.get(0)?)?,
                        level: json(r.get(1)?)?,
                        member_id: opt_uuid(r.get(2)?)?,
                        member_name: r.get(3)?,
                        owner: r.get(4)?,
                        created_at: ts(r.get(5)?)?,
                        expires_at: ts(r.get(6)?)?,
                        used_at: opt_ts(r.get(7)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn pairing_failures(&self, address: &str) -> StorageResult<Option<PairingFailures>> {
        self.c
            .prepare_cached(
                "SELECT address, failures, last_failure_at, locked_until FROM pairing_failures WHERE address = ?1",
            )
            .and_then(|mut s| {
                s.query_row([address], |r| {
                    Ok(PairingFailures {
                        address: r.get(0)?,
                        failures: r.get(1)?,
                        last_failure_at: ts(r.get(2)?)?,
                        locked_until: opt_ts(r.get(3)?)?,
                    })
                })
                .optional()
            })
            .map_err(db_err)
    }

    fn quarantine(&self, limit: usize) -> StorageResult<Vec<QuarantineRow>> {
        self.c
            .prepare_cached(
                "SELECT id, received_at, reason, body FROM quarantine ORDER BY id DESC LIMIT ?1",
            )
            .and_then(|mut s| {
                s.query_map([limit.max(1) as i64], |r| {
                    let body: Vec<u8> = r.get(3)?;
                    Ok(QuarantineRow {
                        id: r.get(0)?,
                        received_at: ts(r.get(1)?)?,
                        reason: r.get(2)?,
                        size: body.len(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    })
                })?
                .collect()
            })
            .map_err(db_err)
    }

    fn events_after(&self, after: u64, limit: usize) -> StorageResult<Vec<Event>> {
        self.c
            .prepare_cached(
                "SELECT seq, kind, conversation_id, audience, also_member, payload, created_at
                 FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![after as i64, limit.max(1) as i64], event_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn counts(&self) -> StorageResult<Counts> {
        let count = |table: &str| -> StorageResult<u64> {
            self.c
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(db_err)
        };
        Ok(Counts {
            raw_webhooks: count("raw_webhooks")?,
            quarantine: count("quarantine")?,
            events: count("events")?,
            conversations: count("conversations")?,
            messages: count("messages")?,
            message_statuses: count("message_statuses")?,
            contacts: count("contacts")?,
            members: count("members")?,
            devices: count("devices")?,
        })
    }
}

impl WriteTx for Sql<'_> {
    fn append_event_json(&mut self, e: NewEventJson) -> StorageResult<u64> {
        // Stored in milliseconds; the cached copy must read the same as the stored one.
        let created_at = Timestamp::from_millisecond(ms(e.created_at)).unwrap_or(e.created_at);
        self.c
            .prepare_cached(
                "INSERT INTO events (kind, conversation_id, audience, also_member, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    e.kind,
                    e.conversation_id.map(|u| u.to_string()),
                    e.audience.as_str(),
                    e.also_member.map(|u| u.to_string()),
                    &e.payload_json,
                    ms(created_at)
                ])
            })
            .map_err(db_err)?;
        let seq = self.c.last_insert_rowid() as u64;
        // The payload is serialized once, for the row and the wire form alike.
        self.new_events.push(Event::build_with_payload_json(
            seq,
            e.kind.to_owned(),
            e.conversation_id,
            e.audience,
            e.also_member,
            created_at,
            &e.payload_json,
        ));
        Ok(seq)
    }

    fn insert_raw_webhook(
        &mut self,
        sha256: &[u8; 32],
        body: &[u8],
        received_at: Timestamp,
    ) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "INSERT INTO raw_webhooks (body_sha256, body, received_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(body_sha256) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![&sha256[..], body, ms(received_at)]))
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn insert_quarantine(
        &mut self,
        body: &[u8],
        reason: &str,
        received_at: Timestamp,
    ) -> StorageResult<i64> {
        self.c
            .prepare_cached(
                "INSERT INTO quarantine (received_at, reason, body) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![ms(received_at), reason, body]))
            .map_err(db_err)?;
        Ok(self.c.last_insert_rowid())
    }

    fn insert_team(&mut self, t: &TeamRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![t.id.to_string(), t.name, ms(t.created_at)],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn insert_conversation(&mut self, c: &ConversationRow) -> StorageResult<()> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO conversations ({CONVERSATION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    c.id.to_string(),
                    c.team_id.map(|u| u.to_string()),
                    c.customer_wa_id,
                    c.name,
                    c.assignee.map(|u| u.to_string()),
                    c.status,
                    c.window_expires_at.map(ms),
                    ms(c.last_activity_at),
                    c.last_preview,
                    ms(c.created_at)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn update_conversation(&mut self, c: &ConversationRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE conversations SET team_id = ?2, name = ?3, assignee = ?4, status = ?5,
                 window_expires_at = ?6, last_activity_at = ?7, last_preview = ?8 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.id.to_string(),
                    c.team_id.map(|u| u.to_string()),
                    c.name,
                    c.assignee.map(|u| u.to_string()),
                    c.status,
                    c.window_expires_at.map(ms),
                    ms(c.last_activity_at),
                    c.last_preview
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_message_json(&mut self, m: &MessageRow, body_json: &str) -> StorageResult<bool> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO messages ({MESSAGE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(wamid) DO NOTHING"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    m.id.to_string(),
                    m.conversation_id.to_string(),
                    m.wamid,
                    m.direction,
                    m.kind,
                    body_json,
                    m.status,
                    m.status_rank as i64,
                    m.error.as_ref().map(to_json),
                    m.sent_by.map(|u| u.to_string()),
                    m.wa_timestamp,
                    ms(m.created_at)
                ])
            })
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn update_message_delivery(&mut self, m: &MessageRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "UPDATE messages SET wamid = ?2, status = ?3, status_rank = ?4, error = ?5 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    m.id.to_string(),
                    m.wamid,
                    m.status,
                    m.status_rank as i64,
                    m.error.as_ref().map(to_json)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_status(
        &mut self,
        wamid: &str,
        status: &str,
        wa_timestamp: Option<i64>,
        payload: &Value,
        received_at: Timestamp,
    ) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "INSERT INTO message_statuses (wamid, status, wa_timestamp, payload, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(wamid, status) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    wamid,
                    status,
                    wa_timestamp,
                    to_json(payload),
                    ms(received_at)
                ])
            })
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn upsert_contact(&mut self, c: &ContactRow) -> StorageResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, profile, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(wa_id) DO UPDATE SET name = excluded.name, profile = excluded.profile,
                 updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.wa_id,
                    c.name,
                    to_json(&c.profile),
                    ms(c.created_at),
                    ms(c.updated_at)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_member(&mut self, m: &MemberRow) -> StorageResult<()> {
        self.c
            .execute(
                &format!("INSERT INTO members ({MEMBER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    m.id.to_string(),
                    m.name,
                    m.preset,
                    to_json(&m.toggles),
                    serde_json::to_string(&m.teams).unwrap_or_else(|_| "[]".into()),
                    m.active,
                    ms(m.created_at)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn update_member(&mut self, m: &MemberRow) -> StorageResult<()> {
        self.c
            .execute(
                "UPDATE members SET name = ?2, preset = ?3, toggles = ?4, teams = ?5, active = ?6 WHERE id = ?1",
                params![
                    m.id.to_string(),
                    m.name,
                    m.preset,
                    to_json(&m.toggles),
                    serde_json::to_string(&m.teams).unwrap_or_else(|_| "[]".into()),
                    m.active
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn insert_device(&mut self, d: &DeviceRow) -> StorageResult<()> {
        self.c
            .execute(
                &format!(
                    "INSERT INTO devices ({DEVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ),
                params![
                    d.id.to_string(),
                    d.name,
                    d.os,
                    d.os_version,
                    d.app_version,
                    to_json(&d.level),
                    d.member_id.to_string(),
                    &d.token_hash[..],
                    ms(d.linked_at),
                    d.last_seen.map(ms),
                    d.last_address,
                    d.revoked_at.map(ms)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn set_device_revoked(&mut self, id: Uuid, at: Timestamp) -> StorageResult<bool> {
        self.c
            .execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id.to_string(), ms(at)],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn touch_device(&mut self, id: Uuid, at: Timestamp, address: &str) -> StorageResult<()> {
        self.c
            .prepare_cached("UPDATE devices SET last_seen = ?2, last_address = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id.to_string(), ms(at), address]))
            .map(drop)
            .map_err(db_err)
    }

    fn insert_pairing_code(&mut self, p: &PairingCodeRow) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO pairing_codes (code_hash, level, member_id, member_name, owner, created_at, expires_at, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    &p.code_hash[..],
                    to_json(&p.level),
                    p.member_id.map(|u| u.to_string()),
                    p.member_name,
                    p.owner,
                    ms(p.created_at),
                    ms(p.expires_at),
                    p.used_at.map(ms)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn mark_pairing_code_used(&mut self, hash: &[u8; 32], at: Timestamp) -> StorageResult<bool> {
        self.c
            .execute(
                "UPDATE pairing_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
                params![&hash[..], ms(at)],
            )
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn put_pairing_failures(&mut self, f: &PairingFailures) -> StorageResult<()> {
        self.c
            .execute(
                "INSERT INTO pairing_failures (address, failures, last_failure_at, locked_until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(address) DO UPDATE SET failures = excluded.failures,
                 last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until",
                params![
                    f.address,
                    f.failures,
                    ms(f.last_failure_at),
                    f.locked_until.map(ms)
                ],
            )
            .map(drop)
            .map_err(db_err)
    }

    fn clear_pairing_failures(&mut self, address: &str) -> StorageResult<()> {
        self.c
            .execute("DELETE FROM pairing_failures WHERE address = ?1", [address])
            .map(drop)
            .map_err(db_err)
    }

    fn prune_before(&mut self, before: Timestamp) -> StorageResult<u64> {
        let cutoff = ms(before);
        let max_deleted: Option<i64> = self
            .c
            .query_row(
                "SELECT MAX(seq) FROM events WHERE created_at < ?1",
                [cutoff],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let previous: u64 = self
            .c
            .query_row(
                "SELECT value FROM meta WHERE key = 'pruned_through'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(db_err)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let floor = previous.max(max_deleted.unwrap_or(0) as u64);
        // Delete by seq, so the floor stays contiguous even if clocks went backwards.
        self.c
            .execute("DELETE FROM events WHERE seq <= ?1", [floor as i64])
            .map_err(db_err)?;
        self.c
            .execute("DELETE FROM raw_webhooks WHERE received_at < ?1", [cutoff])
            .map_err(db_err)?;
        self.c
            .execute("DELETE FROM quarantine WHERE received_at < ?1", [cutoff])
            .map_err(db_err)?;
        self.c
            .execute(
                "INSERT INTO meta (key, value) VALUES ('pruned_through', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [floor.to_string()],
            )
            .map_err(db_err)?;
        self.pruned_floor = Some(floor);
        Ok(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Event {
        Event::build(
            seq,
            "test.event".into(),
            None,
            Audience::Everyone,
            None,
            Timestamp::UNIX_EPOCH,
            Value::Null,
        )
    }

    /// The moment inside `publish` between filling the cache and moving the head: a
    /// reader then must get only published events, so its cursor never passes the head.
    #[tokio::test]
    async fn events_cached_but_not_yet_published_are_not_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap();
        publish(&storage.shared, vec![event(1)], None);
        storage
            .shared
            .cache
            .lock()
            .unwrap()
            .push_back(Arc::new(event(2)));

        let got = storage.events_after(0, 10).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
        let cursor = got.last().unwrap().seq;
        assert!(storage.events_after(cursor, 10).await.unwrap().is_empty());

        storage.shared.head.send_replace(2);
        let got = storage.events_after(cursor, 10).await.unwrap();
        assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    }
}

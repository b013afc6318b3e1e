//! Backups (issue 9): `teamline-relay backup` seals a consistent snapshot of the live
//! SQLite database into a [`teamline_backup`] file; `teamline-relay restore` rebuilds the
//! database from one. Also the route a desktop calls before it exports its own store
//! (`POST /v1/exports/verify`: the export permission and the member's PIN).
//!
//! The snapshot is SQLite's online backup API copying every page in ONE step, i.e. inside
//! one read transaction: the copy is the database as of one commit, while the relay keeps
//! writing to its WAL. It goes to a private folder next to the database (the database is
//! plaintext there already; a RAM-backed /tmp may be too small) that is removed afterwards.
//!
//! What a backup does not hold, by design: the audit log's HMAC key (kept outside the
//! database so that whoever can edit the database cannot rewrite the chain) and the media
//! files (`<database folder>/media`). Both commands say so.

use std::fs::File;
use std::io::BufReader;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Extension, Json, Router};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use serde_json::{Value, json};
use teamline_backup::{BackupError, KdfParams, Kind, SealOptions};
use teamline_core::Permission;
use zeroize::Zeroizing;

use crate::app::{ApiError, AppState, Principal, St};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::pin;
use crate::storage::sqlite::SCHEMA_VERSION;

/// Where `backup` and `restore` read the passphrase when it is set (never from a command
/// line argument: `ps` would show it to every user of the machine).
pub const PASSPHRASE_ENV: &str = "TEAMLINE_BACKUP_PASSPHRASE";
/// The route a desktop calls before exporting its store.
pub const EXPORT_VERIFY_PATH: &str = "/v1/exports/verify";
/// Audit entry of a verified export.
pub const HISTORY_EXPORTED: &str = "audit.history_exported";

/// The plain-words note both commands print about what a backup leaves out.
pub const NOT_IN_BACKUP: &str = "Not in the backup, by design: the audit log's key (it is kept outside the database, so keep a copy of its key file or variable somewhere safe and put the same key back after a restore, or `audit verify` will report the chain as broken), and the media files in the database's `media` folder (copy that folder separately).";

/// Tables every relay database has (a restore refuses a file without them).
const RELAY_TABLES: [&str; 4] = ["events", "teams", "members", "devices"];

// ---------------------------------------------------------------------------------------
// The command line

/// Key-derivation cost of `backup` (restores read it from the file).
#[derive(Debug, Clone, clap::Args)]
pub struct CostArgs {
    /// Argon2id memory for deriving the key from the passphrase, in MiB (at least 8).
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub kdf_memory_mib: u32,
    /// Argon2id passes (at least 1).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub kdf_passes: u32,
}

impl CostArgs {
    pub fn seal_options(&self) -> SealOptions {
        SealOptions {
            kdf: KdfParams {
                m_cost_kib: self.kdf_memory_mib.saturating_mul(1024),
                t_cost: self.kdf_passes,
                p_cost: 1,
            },
            ..SealOptions::default()
        }
    }
}

/// `teamline-relay backup --config relay.toml --out FILE`.
pub async fn run_backup(config: Option<&Path>, out: &Path, cost: &CostArgs) -> anyhow::Result<()> {
    let database = sqlite_path(config)?;
    let options = cost.seal_options();
    let passphrase = passphrase(true)?;
    let out = out.to_owned();
    let report = tokio::task::spawn_blocking(move || {
        backup_database(&database, &out, &passphrase, &options)
    })
    .await??;
    let mb = |b: u64| b as f64 / 1_000_000.0;
    println!(
        "Backup written to {} ({:.1} MB): the database as of event {} ({:.1} MB, team {}), snapshot {:.2} s, encryption {:.2} s.",
        report.out.display(),
        mb(report.file_bytes),
        report.summary.head_seq,
        mb(report.database_bytes),
        report.summary.team_label(),
        report.snapshot_time.as_secs_f64(),
        report.seal_time.as_secs_f64(),
    );
    println!(
        "Keep the passphrase safe: without it nobody can open this backup, and it cannot be recovered."
    );
    println!("{NOT_IN_BACKUP}");
    Ok(())
}

/// `teamline-relay restore --config relay.toml --from FILE [--force]`.
pub async fn run_restore(config: Option<&Path>, from: &Path, force: bool) -> anyhow::Result<()> {
    let database = sqlite_path(config)?;
    // Refusals that need no passphrase come first.
    teamline_backup::expect_kind(from, Kind::Relay).map_err(|e| backup_error(e, from))?;
    refuse_existing(&database, force)?;
    let passphrase = passphrase(false)?;
    let from = from.to_owned();
    let report =
        tokio::task::spawn_blocking(move || restore_database(&database, &from, &passphrase, force))
            .await??;
    let s = &report.summary;
    println!(
        "Restored {} from the backup: team {}, events up to {}, {} active member(s), {} linked device(s), schema version {}.",
        report.database.display(),
        s.team_label(),
        s.head_seq,
        s.members,
        s.devices,
        s.schema_version
    );
    if let Some(old) = &report.previous_kept_as {
        println!("The database that was there is kept as {}.", old.display());
    }
    println!(
        "Start the relay: devices continue from their cursors; a device that had synced past this backup is asked to resync."
    );
    println!("{NOT_IN_BACKUP}");
    Ok(())
}

/// The SQLite file of the configuration (PostgreSQL has its own tools).
fn sqlite_path(config: Option<&Path>) -> anyhow::Result<PathBuf> {
    let database = crate::config::Config::load_database(config)?;
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        bail!(
            "configuration key `database` is a PostgreSQL URL: back it up with pg_dump; `teamline-relay backup` handles the SQLite file"
        );
    }
    Ok(PathBuf::from(database))
}

/// The passphrase from [`PASSPHRASE_ENV`], else asked on the terminal without echo
/// (twice when `confirm`, so a typo does not make a backup nobody can open).
pub fn passphrase(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if !p.is_empty() => return Ok(Zeroizing::new(p)),
        Ok(_) => bail!("{PASSPHRASE_ENV} is set but empty"),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{PASSPHRASE_ENV} is not valid text"),
        Err(std::env::VarError::NotPresent) => {}
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| {
                anyhow!("no passphrase: set {PASSPHRASE_ENV} or run this in a terminal ({e})")
            })
    };
    let first = ask("Backup passphrase: ")?;
    if confirm {
        if first.chars().count() < teamline_backup::MIN_PASSPHRASE_CHARS {
            return Err(BackupError::WeakPassphrase.into());
        }
        if *ask("The same passphrase again: ")? != *first {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

/// A backup failure in words, with the file named.
fn backup_error(e: BackupError, file: &Path) -> anyhow::Error {
    match e {
        BackupError::WrongPassphrase => anyhow!(
            "wrong passphrase: it does not open {}. Nothing was changed.",
            file.display()
        ),
        BackupError::Io(io) => anyhow!("cannot read {}: {io}", file.display()),
        other => anyhow!("{}: {other}. Nothing was changed.", file.display()),
    }
}

// ---------------------------------------------------------------------------------------
// Backup

/// What is in a relay database, for the commands' output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSummary {
    pub schema_version: i64,
    pub team: Option<String>,
    /// The last event seq (0 for none).
    pub head_seq: u64,
    pub members: u64,
    /// Devices not unlinked.
    pub devices: u64,
}

impl DbSummary {
    fn team_label(&self) -> String {
        match &self.team {
            Some(name) => format!("{name:?}"),
            None => "not created yet".to_owned(),
        }
    }
}

/// What [`backup_database`] wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub out: PathBuf,
    pub summary: DbSummary,
    /// Size of the snapshot (the plaintext sealed).
    pub database_bytes: u64,
    pub file_bytes: u64,
    pub snapshot_time: Duration,
    pub seal_time: Duration,
}

/// Snapshots the database at `database` (the relay may be running on it) and seals it into
/// `out` (written whole or not at all). Blocking.
pub fn backup_database(
    database: &Path,
    out: &Path,
    passphrase: &str,
    options: &SealOptions,
) -> anyhow::Result<BackupReport> {
    if passphrase.chars().count() < teamline_backup::MIN_PASSPHRASE_CHARS {
        return Err(BackupError::WeakPassphrase.into());
    }
    refuse_to_overwrite_database(database, out)?;
    let started = Instant::now();
    // No CREATE: a missing file is an error, not a new empty database.
    let src = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", database.display()))?;
    src.busy_timeout(Duration::from_secs(10))?;
    src.pragma_update(None, "query_only", true)?;
    check_relay_db(&src)
        .with_context(|| format!("{} is not a relay database", database.display()))?;

    let dir = tempfile::Builder::new()
        .prefix(".teamline-backup-")
        .tempdir_in(folder_of(database))
        .context("cannot create a private folder next to the database for the snapshot")?;
    let snapshot = dir.path().join("snapshot.db");
    let mut dst = Connection::open(&snapshot)?;
    copy_all_pages(&src, &mut dst)?;
    drop(src);
    // One self-contained file (no WAL to carry along), checked before it is sealed.
    let mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        bail!("the snapshot could not leave WAL mode (got {mode})");
    }
    quick_check(&dst).context("the snapshot failed SQLite's integrity check")?;
    let summary = summarize(&dst)?;
    drop(dst);
    let snapshot_time = started.elapsed();

    let sealing = Instant::now();
    let sealed = teamline_backup::seal_to_file(
        BufReader::with_capacity(1 << 20, File::open(&snapshot)?),
        out,
        passphrase,
        Kind::Relay,
        options,
    )
    .with_context(|| format!("cannot write the backup {}", out.display()))?;
    let seal_time = sealing.elapsed();
    dir.close()
        .context("cannot remove the snapshot's temporary folder")?;
    Ok(BackupReport {
        out: out.to_owned(),
        summary,
        database_bytes: sealed.plaintext_bytes,
        file_bytes: sealed.file_bytes,
        snapshot_time,
        seal_time,
    })
}

/// `--out` must not name the database or one of its companion files: the backup is renamed
/// over its target at the end, which would replace the live database.
fn refuse_to_overwrite_database(database: &Path, out: &Path) -> anyhow::Result<()> {
    let Ok(out) = std::fs::canonicalize(out) else {
        return Ok(()); // does not exist yet, so it is none of the database's files
    };
    for suffix in SQLITE_SUFFIXES {
        if std::fs::canonicalize(with_suffix(database, suffix)).is_ok_and(|p| p == out) {
            bail!(
                "--out {} would overwrite the database itself; choose another file",
                out.display()
            );
        }
    }
    Ok(())
}

/// Copies every page in one backup step: one read transaction, so one consistent commit.
/// (Smaller steps would restart each time the relay commits in between.)
fn copy_all_pages(src: &Connection, dst: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(src, dst)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Only while a lock is held briefly (e.g. WAL recovery after a crash).
            StepResult::Busy | StepResult::Locked => {
                if Instant::now() > deadline {
                    bail!("the database stayed locked for 30 seconds; try again");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            other => bail!("unexpected backup step result {other:?}"),
        }
    }
}

fn check_relay_db(conn: &Connection) -> anyhow::Result<i64> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        bail!(
            "it was written by a newer relay (schema version {version}; this one knows up to {SCHEMA_VERSION}); use the newer relay"
        );
    }
    for table in RELAY_TABLES {
        let found: Option<String> = conn
            .query_row(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_none() || version < 1 {
            bail!("it has no `{table}` table");
        }
    }
    Ok(version)
}

fn quick_check(conn: &Connection) -> anyhow::Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    if problems != ["ok"] {
        bail!("{}", problems.join("; "));
    }
    Ok(())
}

fn summarize(conn: &Connection) -> anyhow::Result<DbSummary> {
    let count = |sql: &str| -> rusqlite::Result<u64> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
    };
    Ok(DbSummary {
        schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        team: conn
            .query_row(
                "SELECT name FROM teams ORDER BY created_at LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?,
        head_seq: count("SELECT COALESCE(MAX(seq), 0) FROM events")?,
        members: count("SELECT COUNT(*) FROM members WHERE active = 1")?,
        devices: count("SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL")?,
    })
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

// ---------------------------------------------------------------------------------------
// Restore

/// What [`restore_database`] did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub database: PathBuf,
    pub summary: DbSummary,
    /// Where the database that was replaced now is (`--force`).
    pub previous_kept_as: Option<PathBuf>,
}

/// The files SQLite keeps for a database, the database itself first.
const SQLITE_SUFFIXES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Refuses to replace a database that holds anything unless `force`.
fn refuse_existing(database: &Path, force: bool) -> anyhow::Result<()> {
    let size = std::fs::metadata(database).map(|m| m.len()).unwrap_or(0);
    if size > 0 && !force {
        bail!(
            "a database already exists at {}; add --force to replace it (it is kept next to it, renamed)",
            database.display()
        );
    }
    Ok(())
}

/// Rebuilds the relay database at `database` from the backup `from`. Nothing at
/// `database` changes unless the whole backup decrypts, is a relay database this binary
/// can run, and no program has the current database open. Blocking.
pub fn restore_database(
    database: &Path,
    from: &Path,
    passphrase: &str,
    force: bool,
) -> anyhow::Result<RestoreReport> {
    refuse_existing(database, force)?;
    let folder = folder_of(database);
    if !folder.is_dir() {
        bail!(
            "the folder of the database does not exist: {}",
            folder.display()
        );
    }
    let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let (kind, plain) =
        teamline_backup::open_to_temp(BufReader::with_capacity(1 << 20, file), &folder, passphrase)
            .map_err(|e| backup_error(e, from))?;
    if kind != Kind::Relay {
        return Err(backup_error(
            BackupError::WrongKind {
                expected: Kind::Relay,
                found: kind,
            },
            from,
        ));
    }
    let summary = {
        let conn = Connection::open_with_flags(
            plain.path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        check_relay_db(&conn)
            .context("the backup does not hold a relay database this relay can run")?;
        quick_check(&conn).context("the database in the backup fails SQLite's integrity check")?;
        summarize(&conn)?
    };

    // The restored file gets the replaced one's permissions (and owner, where allowed), so
    // a relay running as another user can still open it.
    let previous = std::fs::metadata(database).ok();
    let previous_kept_as = move_aside(database)?;
    if let Some(meta) = &previous {
        let _ = plain.as_file().set_permissions(meta.permissions());
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = std::os::unix::fs::fchown(plain.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
    }
    plain
        .persist(database)
        .map_err(|e| anyhow!("cannot move the restored database into place: {}", e.error))?;
    if let Ok(dir) = File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(RestoreReport {
        database: database.to_owned(),
        summary,
        previous_kept_as,
    })
}

/// Renames whatever SQLite files exist for `database` to `<name>.before-restore-<time>…`,
/// after making sure no program (a running relay) has the database open: leaving WAL mode
/// needs the only connection, and it folds the WAL into the file so it moves as one.
fn move_aside(database: &Path) -> anyhow::Result<Option<PathBuf>> {
    let present: Vec<&str> = SQLITE_SUFFIXES
        .into_iter()
        .filter(|s| with_suffix(database, s).exists())
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    if present.contains(&"") && std::fs::metadata(database)?.len() > 0 {
        let conn = Connection::open_with_flags(
            database,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let in_use = || {
            anyhow!(
                "{} is in use (is the relay running?); stop it before restoring",
                database.display()
            )
        };
        match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        }) {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => {}
            Ok(_) => return Err(in_use()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                return Err(in_use());
            }
            Err(e) => return Err(e).context("cannot open the current database to move it aside"),
        }
        drop(conn);
    }
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let kept = with_suffix(database, &format!(".before-restore-{stamp}"));
    for suffix in SQLITE_SUFFIXES {
        let from = with_suffix(database, suffix);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&kept, suffix))
                .with_context(|| format!("cannot move {} aside", from.display()))?;
        }
    }
    Ok(Some(kept))
}

// ---------------------------------------------------------------------------------------
// HTTP: a desktop's store export

/// The backup routes, merged into the authenticated `/v1` router.
pub fn routes() -> Router<Arc<AppState>> {
    // The path is spelled out: the permission matrix test reads routes from the source.
    Router::new().route("/v1/exports/verify", post(verify_export))
}

/// `POST /v1/exports/verify` (PIN in `x-teamline-pin` or the body's `pin`): the relay
/// checks the export permission and the PIN, and records the export in the audit log,
/// before the app writes its encrypted store file. The store is the device's own replica,
/// so the relay cannot do the export itself; this is the gate the app must pass.
async fn verify_export(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let now = st.clock.now();
    authz::require(
        &p.actor_at(now, &st.settings.timezone),
        Permission::ExportHistory,
    )?;
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let given = headers
        .get(pin::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| body.get("pin").and_then(Value::as_str).map(str::to_owned));
    let address = peer.ip().to_string();
    crate::team::check_pin(&st, &p, given.as_deref(), &address).await?;
    let ctx = Ctx {
        actor_member_id: Some(p.member.id),
        device_id: Some(p.device.id),
        address: Some(address),
        now,
    };
    let target = json!({ "device_id": p.device.id, "what": "local_store" });
    let seq = st
        .storage
        .write(move |tx| {
            audit::record(tx, &ctx, HISTORY_EXPORTED, target, Value::Null, Value::Null)
        })
        .await?;
    tracing::info!(member_id = %p.member.id, device_id = %p.device.id, "store export verified");
    Ok(Json(json!({
        "member_id": p.member.id,
        "device_id": p.device.id,
        "audit_seq": seq,
    })))
}

//! `teamline-relay backup` / `restore` as real processes against a relay serving on
//! 127.0.0.1:0 with a real database file, and the export gate a desktop calls
//! (`POST /v1/exports/verify`).

mod common;
mod team_env;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::payloads;
use common::{Device, SECRET, TestRelay, VERIFY};
use jiff::SignedDuration;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use team_env::{MEMBER_PIN, ROOT_PIN, call, link, member};
use teamline_relay::backup::PASSPHRASE_ENV;
use teamline_relay::storage::Storage;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::{AppSettings, Clock, Relay};

const BIN: &str = env!("CARGO_BIN_EXE_teamline-relay");
const PASS: &str = "correct horse battery staple";
/// The cheapest accepted key-derivation cost (Argon2id is slow in a debug build).
const CHEAP: [&str; 4] = ["--kdf-memory-mib", "8", "--kdf-passes", "1"];

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs the real binary; the passphrase only ever travels in the environment.
async fn cli(args: &[&str], passphrase: &str) -> Out {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("TEAMLINE_RELAY_LOG", "warn")
        .env(PASSPHRASE_ENV, passphrase)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn config_for(dir: &Path, db: &Path) -> PathBuf {
    let path = dir.join(format!(
        "{}.toml",
        db.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, format!("database = {:?}\n", db.to_str().unwrap())).unwrap();
    path
}

async fn backup(cfg: &Path, out: &Path) -> Out {
    let mut args = vec![
        "backup",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(CHEAP);
    let o = cli(&args, PASS).await;
    assert!(o.ok, "backup failed: {}", o.stderr);
    assert!(
        o.stdout.contains("audit log's key") && o.stdout.contains("media"),
        "{}",
        o.stdout
    );
    o
}

async fn restore(cfg: &Path, from: &Path, passphrase: &str, force: bool) -> Out {
    let mut args = vec![
        "restore",
        "--config",
        cfg.to_str().unwrap(),
        "--from",
        from.to_str().unwrap(),
    ];
    if force {
        args.push("--force");
    }
    cli(&args, passphrase).await
}

/// A reader on a database file another process may be writing (WAL).
fn reader(db: &Path) -> Connection {
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    c.pragma_update(None, "query_only", true).unwrap();
    c
}

fn tables(c: &Connection) -> Vec<String> {
    let mut stmt = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every row of `table`, each rendered exactly (type and value of every column), sorted.
fn rows(c: &Connection, table: &str) -> Vec<String> {
    let mut stmt = c.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
    let n = stmt.column_count();
    let mut out: Vec<String> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, SqlValue>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|v| format!("{v:?}"))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    out.sort();
    out
}

fn count(c: &Connection, sql: &str) -> u64 {
    c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

/// Names and bytes of every file in `dir`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

async fn relay_on(db: &Path) -> (Relay, Arc<dyn Storage>) {
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(db, Options::default()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = Relay::start(
        listener,
        Arc::clone(&storage),
        Clock::system(),
        AppSettings {
            app_secret: SECRET.into(),
            verify_token: VERIFY.into(),
            timezone: jiff::tz::TimeZone::UTC,
            retention: SignedDuration::from_hours(24 * 30),
        },
    )
    .await
    .unwrap();
    (relay, storage)
}

/// Every event the device sees after `after`, up to and including seq `until`.
async fn events_through(
    http: &reqwest::Client,
    url: &str,
    d: &Device,
    mut after: u64,
    until: u64,
) -> Vec<Value> {
    let mut out = Vec::new();
    while after < until {
        let v: Value = http
            .get(format!("{url}/v1/events?after={after}&limit=500"))
            .bearer_auth(&d.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = v["events"].as_array().unwrap();
        assert!(
            !page.is_empty(),
            "no events after {after} (until {until}): {v}"
        );
        out.extend(
            page.iter()
                .filter(|e| e["seq"].as_u64().unwrap() <= until)
                .cloned(),
        );
        after = v["next"].as_u64().unwrap();
    }
    out
}

async fn post_unique_customer(t: &TestRelay, i: usize) {
    let body = payloads::text(&format!("3461{i:07}"), &format!("wamid.backup.{i}"), "hola");
    assert_eq!(t.post_webhook(body).await, 200);
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_a_consistent_prefix_and_devices_resume_from_their_cursor()
 {
    let (t, root) = team_env::start().await;
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..20 {
        post_unique_customer(&t, next.fetch_add(1, Ordering::SeqCst)).await;
    }
    // The device is in sync up to here: its cursor is the head.
    let cursor = t.head().await;
    let seen = t.collect(&root, 0, 1).await;
    assert!(!seen.is_empty());

    // Write load: every webhook is a new customer, so rows are only ever inserted and a
    // snapshot must equal the source row for row on everything it holds.
    let stop = Arc::new(AtomicBool::new(false));
    let t = Arc::new(t);
    let mut load = Vec::new();
    for _ in 0..4 {
        let (t, next, stop) = (Arc::clone(&t), Arc::clone(&next), Arc::clone(&stop));
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                post_unique_customer(&t, next.fetch_add(1, Ordering::SeqCst)).await;
            }
        }));
    }
    let mut head = t.storage.head();
    head.wait_for(|h| *h >= cursor + 600).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let source_db = t.dir.path().join("relay.db");
    let source_cfg = config_for(dir.path(), &source_db);
    let file = dir.path().join("relay.tlbk");
    let before = t.head().await;
    let out = backup(&source_cfg, &file).await;
    let after_backup = t.head().await;
    // One more write after the backup, so the source is surely ahead of the snapshot.
    post_unique_customer(&t, next.fetch_add(1, Ordering::SeqCst)).await;
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    assert!(
        after_backup > before,
        "the relay kept writing while the backup ran ({before} -> {after_backup})"
    );
    let source_head = t.head().await;

    let restored_db = dir.path().join("restored.db");
    let restored_cfg = config_for(dir.path(), &restored_db);
    let r = restore(&restored_cfg, &file, PASS, false).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("audit log's key"), "{}", r.stdout);

    let src = reader(&source_db);
    let dst = reader(&restored_db);
    // A point in time: events 1..=N without a gap, N between the heads around the backup.
    let n = count(&dst, "SELECT COALESCE(MAX(seq), 0) FROM events");
    assert!(
        (before..=after_backup).contains(&n),
        "snapshot at {n}, backup ran {before}..{after_backup}"
    );
    assert_eq!(count(&dst, "SELECT COUNT(*) FROM events"), n);
    assert!(
        out.stdout.contains(&format!("as of event {n} ")),
        "{}",
        out.stdout
    );
    assert_eq!(
        count(
            &dst,
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
        ),
        n
    );
    // Every row the restored database holds is the source's row, table by table.
    assert_eq!(tables(&src), tables(&dst));
    for table in tables(&src) {
        // The automation's job queue: rows leave once their rules ran (after the backup).
        if table == "automation_jobs" {
            continue;
        }
        if table == "sqlite_sequence" {
            continue; // the counter moved on in the source
        }
        let source: HashSet<String> = rows(&src, &table).into_iter().collect();
        for row in rows(&dst, &table) {
            assert!(
                source.contains(&row),
                "{table}: restored row not in the source: {row}"
            );
        }
    }
    // ...and it holds exactly what its events say: one webhook, message, contact and
    // conversation per `message.received` up to N.
    let received = count(
        &dst,
        "SELECT COUNT(*) FROM events WHERE kind = 'message.received'",
    );
    assert!(received >= 100, "{received} messages in the snapshot");
    for table in ["messages", "raw_webhooks", "contacts", "conversations"] {
        assert_eq!(
            count(&dst, &format!("SELECT COUNT(*) FROM {table}")),
            received,
            "{table}"
        );
    }
    assert_eq!(
        count(
            &src,
            &format!("SELECT COUNT(*) FROM events WHERE kind = 'message.received' AND seq <= {n}")
        ),
        received
    );
    drop((src, dst));

    // A relay on the restored database serves the device from its cursor: the same events
    // the source relay has up to N, none lost.
    let (restored, _storage) = relay_on(&restored_db).await;
    let http = reqwest::Client::new();
    let got = events_through(&http, &restored.base_url(), &root, cursor, n).await;
    let want = events_through(&http, &t.url, &root, cursor, n).await;
    assert_eq!(got.len() as u64, n - cursor);
    assert_eq!(got, want);
    let seqs: Vec<u64> = got.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (cursor + 1..=n).collect::<Vec<_>>());
    // A device that had synced past the backup is told to start over, never skipped.
    let (status, v) = call(
        &t,
        &root.token,
        "GET",
        &format!("/v1/events?after={source_head}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let resp = http
        .get(format!(
            "{}/v1/events?after={source_head}",
            restored.base_url()
        ))
        .bearer_auth(&root.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "resync_required");
    restored.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_quiet_backup_restores_every_table_row_for_row() {
    let (t, root) = team_env::start().await;
    let agent = member(&t, &root, "Ana", "standard", &[]).await;
    link(&t, &root, Some(agent), "standard", "Ana's laptop").await;
    for i in 0..30 {
        post_unique_customer(&t, i).await;
    }
    t.post_webhook(payloads::text("34610000001", "wamid.again", "otra vez"))
        .await;
    // Quiet means the rules have run on those messages too.
    t.automation_idle().await;
    let dir = tempfile::tempdir().unwrap();
    let source_db = t.dir.path().join("relay.db");
    let file = dir.path().join("quiet.tlbk");
    backup(&config_for(dir.path(), &source_db), &file).await;
    let restored_db = dir.path().join("restored.db");
    let r = restore(&config_for(dir.path(), &restored_db), &file, PASS, false).await;
    assert!(r.ok, "{}", r.stderr);

    let (src, dst) = (reader(&source_db), reader(&restored_db));
    let version = |c: &Connection| count(c, "PRAGMA user_version");
    assert_eq!(version(&src), version(&dst));
    assert_eq!(
        rows(&src, "sqlite_schema"),
        rows(&dst, "sqlite_schema"),
        "same schema"
    );
    let all = tables(&src);
    assert!(all.len() > 20, "{all:?}");
    for table in all {
        assert_eq!(rows(&src, &table), rows(&dst, &table), "table {table}");
    }
    drop((src, dst));
    // `--out` naming the database itself is refused before anything is written.
    let source_cfg = config_for(dir.path(), &source_db);
    let mut args = vec!["backup", "--config", source_cfg.to_str().unwrap(), "--out"];
    args.push(source_db.to_str().unwrap());
    args.extend(CHEAP);
    let o = cli(&args, PASS).await;
    assert!(!o.ok);
    assert!(
        o.stderr.contains("would overwrite the database"),
        "{}",
        o.stderr
    );
    let (status, _) = t.get(&root, "/v1/me").await;
    assert_eq!(status, 200);
    // Not the plaintext: the database's text is not in the file.
    let sealed = std::fs::read(&file).unwrap();
    assert!(!sealed.windows(7).any(|w| w == b"wamid.b"));
    drop(t);
}

#[tokio::test]
async fn a_wrong_passphrase_or_a_bad_file_changes_nothing() {
    let (t, _root) = team_env::start().await;
    post_unique_customer(&t, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relay.tlbk");
    backup(
        &config_for(dir.path(), &t.dir.path().join("relay.db")),
        &file,
    )
    .await;

    // The target: another relay's database, made by `init` (the process has exited).
    let target_dir = tempfile::tempdir().unwrap();
    let target_db = target_dir.path().join("relay.db");
    let cfg = config_for(dir.path(), &target_db);
    let r = cli(
        &[
            "init",
            "--config",
            cfg.to_str().unwrap(),
            "--team-name",
            "Other shop",
        ],
        PASS,
    )
    .await;
    assert!(r.ok, "{}", r.stderr);
    let before = files(target_dir.path());
    assert!(before.contains_key("relay.db"));
    let mode = std::fs::metadata(&target_db).unwrap().permissions();

    let r = restore(&cfg, &file, "not the passphrase", true).await;
    assert!(!r.ok);
    assert!(
        r.stderr.contains("wrong passphrase") && r.stderr.contains("Nothing was changed"),
        "{}",
        r.stderr
    );
    assert_eq!(
        files(target_dir.path()),
        before,
        "byte-identical after a wrong passphrase"
    );

    let r = restore(&cfg, &file, PASS, false).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("add --force"), "{}", r.stderr);
    assert_eq!(files(target_dir.path()), before);

    let sealed = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.tlbk");
    std::fs::write(&cut, &sealed[..sealed.len() - 1000]).unwrap();
    let flipped = dir.path().join("flipped.tlbk");
    let mut bad = sealed.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x10;
    std::fs::write(&flipped, &bad).unwrap();
    let not_backup = dir.path().join("relay-copy.db");
    std::fs::copy(&target_db, &not_backup).unwrap();
    let store_kind = dir.path().join("store.tlbk");
    teamline_backup::seal_to_file(
        &b"not a relay"[..],
        &store_kind,
        PASS,
        teamline_backup::Kind::Store,
        &teamline_backup::SealOptions {
            kdf: teamline_backup::KdfParams::MINIMUM,
            ..Default::default()
        },
    )
    .unwrap();
    for (path, needle) in [
        (&cut, "damaged or was altered"),
        (&flipped, "damaged or was altered"),
        (&not_backup, "not a Teamline backup"),
        (
            &store_kind,
            "holds a desktop app store, not a relay database",
        ),
    ] {
        let r = restore(&cfg, path, PASS, true).await;
        assert!(!r.ok);
        assert!(
            r.stderr.contains(needle),
            "{}: {}",
            path.display(),
            r.stderr
        );
        assert_eq!(files(target_dir.path()), before, "{}", path.display());
    }

    // With --force and the right passphrase it replaces the database, keeping the old one.
    let r = restore(&cfg, &file, PASS, true).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("is kept as"), "{}", r.stdout);
    let now = files(target_dir.path());
    let kept: Vec<&String> = now
        .keys()
        .filter(|k| k.starts_with("relay.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", now.keys());
    let old = reader(&target_dir.path().join(kept[0]));
    let name: String = old
        .query_row("SELECT name FROM teams", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Other shop", "the replaced database is kept whole");
    let new = reader(&target_db);
    let name: String = new
        .query_row("SELECT name FROM teams", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Shop");
    assert!(!now.contains_key("relay.db-wal"), "{:?}", now.keys());
    assert_eq!(
        std::fs::metadata(&target_db).unwrap().permissions(),
        mode,
        "the restored file keeps the replaced one's permissions"
    );
}

#[tokio::test]
async fn restore_refuses_to_replace_a_database_a_relay_is_using() {
    let (t, root) = team_env::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = t.dir.path().join("relay.db");
    let cfg = config_for(dir.path(), &db);
    let file = dir.path().join("relay.tlbk");
    backup(&cfg, &file).await;
    let r = restore(&cfg, &file, PASS, true).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("is the relay running?"), "{}", r.stderr);
    // The running relay is unaffected.
    let (status, _) = t.get(&root, "/v1/me").await;
    assert_eq!(status, 200);
    post_unique_customer(&t, 7).await;
    let names: Vec<String> = files(t.dir.path()).into_keys().collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("before-restore") && !n.starts_with(".teamline")),
        "{names:?}"
    );
}

#[tokio::test]
async fn exporting_needs_the_export_permission_and_the_pin_and_is_audited() {
    let (t, root) = team_env::start().await;
    let agent = member(&t, &root, "Ana", "standard", &[]).await;
    let ana = link(&t, &root, Some(agent), "standard", "Ana's laptop").await;
    let path = teamline_relay::backup::EXPORT_VERIFY_PATH;

    // Standard has no export permission: refused before the PIN is even looked at.
    let (s, v) = call(&t, &ana.token, "POST", path, Some(MEMBER_PIN), None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("permission_denied")),
        "{v}"
    );

    let (s, v) = call(&t, &root.token, "POST", path, None, None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("pin_required")),
        "{v}"
    );
    let (s, v) = call(&t, &root.token, "POST", path, Some("999999"), None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("pin_invalid")),
        "{v}"
    );

    let head = t.head().await;
    let (s, v) = call(&t, &root.token, "POST", path, Some(ROOT_PIN), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["device_id"], json!(root.device_id));
    let seq = v["audit_seq"].as_u64().unwrap();
    assert!(seq > head);
    let events = t.collect(&root, head, 1).await;
    let audit = events
        .iter()
        .find(|e| e["seq"] == seq)
        .expect("the export is in the audit log");
    assert_eq!(audit["kind"], "audit.history_exported");
    assert_eq!(audit["payload"]["actor_member_id"], json!(root.member_id));
    assert_eq!(audit["payload"]["target"]["what"], "local_store");
    // The PIN can also come in the body.
    let (s, v) = call(
        &t,
        &root.token,
        "POST",
        path,
        None,
        Some(json!({"pin": ROOT_PIN})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

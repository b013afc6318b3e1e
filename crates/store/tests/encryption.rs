//! The store on disk: encrypted, keyed first, fail closed, no plaintext in any file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use teamline_store::*;
use uuid::Uuid;

const CHILD_DB: &str = "TEAMLINE_CANARY_CHILD_DB";
const CHILD_CANARY: &str = "TEAMLINE_CANARY_CHILD_TEXT";

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// The canary written every way the store keeps text: message body, conversation
/// preview, contact name and attributes, note, and an outbox command.
fn write_canary_everywhere(store: &mut Store, canary: &str) {
    let mut conv = conversation(2);
    conv.last_message_preview = Some(canary.into());
    conv.name = Some(canary.into());
    let msg = message(conv.id, &format!("order status: {canary}"), 1, 2);
    store
        .apply_batch(
            &[2u64],
            |s| *s,
            |b, _| {
                b.upsert_contact(&Contact {
                    wa_id: "34611222333".into(),
                    name: Some(canary.into()),
                    attributes: serde_json::json!({ "note": canary }),
                    seq: 2,
                })?;
                b.upsert_conversation(&conv)?;
                b.upsert_message(&msg)?;
                b.set_message_content(
                    msg.id,
                    &serde_json::json!({ "kind": "location", "name": canary }),
                    None,
                )?;
                b.upsert_note(&Note {
                    id: Uuid::now_v7(),
                    conversation_id: conv.id,
                    author_member_id: None,
                    text: canary.into(),
                    created_at: at(2),
                    seq: 2,
                })?;
                Ok(())
            },
        )
        .unwrap();
    store
        .outbox_enqueue(
            Uuid::now_v7(),
            &serde_json::json!({ "type": "reply", "text": canary }),
        )
        .unwrap();
    store
        .set_device_value("device_token", Some(canary))
        .unwrap();
    // Cached media bytes (an image a customer sent) live in the store too.
    store
        .media_cache_put("media-1", "image/png", canary.as_bytes(), 1 << 20)
        .unwrap();
    // Work that would spill to temp storage if it were on disk: a sort without an index
    // and a temp table.
    store.search(&canary[..12], 10).unwrap();
}

/// Run by `canary_is_absent_from_the_files_and_the_temp_dir` in a child process whose
/// SQLITE_TMPDIR and TMPDIR point at a private directory.
#[test]
#[ignore = "child half of canary_is_absent_from_the_files_and_the_temp_dir"]
fn canary_child() {
    let db = PathBuf::from(std::env::var(CHILD_DB).expect("run by the parent test"));
    let canary = std::env::var(CHILD_CANARY).unwrap();
    let tmp = PathBuf::from(std::env::var("SQLITE_TMPDIR").unwrap());
    let mut store = Store::open(&db, raw()).unwrap();
    write_canary_everywhere(&mut store, &canary);

    // While the store is open: the WAL holds the new pages, and -shm exists.
    let wal = sibling(&db, "-wal");
    let shm = sibling(&db, "-shm");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "WAL is empty: test proves nothing"
    );
    assert!(shm.exists());
    for f in [&db, &wal, &shm] {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(
            found_in(&bytes, &canary),
            Vec::<&str>::new(),
            "{} holds plaintext",
            f.display()
        );
    }
    // No file descriptor of this process points into the temp dir (SQLite unlinks its
    // temp files at once, so only /proc shows them).
    #[cfg(target_os = "linux")]
    for fd in std::fs::read_dir("/proc/self/fd").unwrap() {
        if let Ok(target) = std::fs::read_link(fd.unwrap().path()) {
            assert!(
                !target.starts_with(&tmp),
                "temp file open: {}",
                target.display()
            );
        }
    }
    // The text is really there, readable with the key.
    assert_eq!(store.search(&canary, 5).unwrap().len(), 1);
    drop(store);
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3"));
    assert_eq!(found_in(&bytes, &canary), Vec::<&str>::new());
}

#[test]
fn canary_is_absent_from_the_files_and_the_temp_dir() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let db = dir.path().join("store.db");
    let canary = format!("CANARY-{}-доставка-退货", Uuid::now_v7().simple());
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["canary_child", "--exact", "--ignored", "--test-threads=1"])
        .env(CHILD_DB, &db)
        .env(CHILD_CANARY, &canary)
        .env("SQLITE_TMPDIR", &tmp)
        .env("TMPDIR", &tmp)
        .status()
        .unwrap();
    assert!(status.success(), "child checks failed");
    // The child ran (the store exists) and left nothing readable anywhere.
    assert!(db.exists());
    for (path, _) in snapshot(dir.path()) {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            found_in(&bytes, &canary),
            Vec::<&str>::new(),
            "{}",
            path.display()
        );
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temp files left behind"
    );
}

/// The scanner itself finds a canary in a plaintext SQLite file with the same schema, so
/// the absence checks above can fail.
#[test]
fn scanner_finds_the_canary_in_a_plaintext_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    let canary = "CANARY-plain-доставка";
    conn.execute(
        "INSERT INTO messages (id, conversation_id, direction, kind, text, status, sent_at, updated_at, seq)
         VALUES ('a', 'b', 'in', 'text', ?1, 'received', 0, 0, 1)",
        [canary],
    )
    .unwrap();
    drop(conn);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3"));
    assert_eq!(found_in(&bytes, canary), vec!["utf-8"]);
    let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(found_in(&utf16, canary), vec!["utf-16le"]);
}

#[test]
fn a_wrong_key_is_refused_and_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    seed(&mut store, &["hello"]);
    drop(store);
    let before = snapshot(dir.path());
    let err = Store::open(&db, KeySource::raw_key_for_tests_and_benches([0x11; 32])).unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongKey { path } if path == &db),
        "{err:?}"
    );
    assert_eq!(err.code(), "store_wrong_key");
    assert_eq!(snapshot(dir.path()), before);
    // The right key still opens it.
    let store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.conversations().unwrap().len(), 1);
}

#[test]
fn a_plaintext_database_is_never_used_as_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = sha256(&db);
    let err = Store::open(&db, raw()).unwrap_err();
    assert!(matches!(err, StoreError::NotEncrypted { .. }), "{err:?}");
    assert_eq!(sha256(&db), before);
}

#[test]
fn a_new_store_is_encrypted_from_the_first_byte() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 4096);
    assert!(!bytes.starts_with(b"SQLite format 3"));
    // A plain connection cannot read it.
    let plain = rusqlite::Connection::open(&db).unwrap();
    assert!(
        plain
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
                .get::<_, i64>(0))
            .is_err()
    );
}

#[test]
fn destroy_removes_the_store_and_its_side_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    seed(&mut store, &["bye"]);
    drop(store);
    std::fs::write(kdf_sidecar_path(&db), b"{}").unwrap();
    Store::destroy(&db).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(!Store::exists(&db));
}

const NO_BUS_DB: &str = "TEAMLINE_NO_BUS_CHILD_DB";

/// Run by `no_reachable_keyring_fails_closed` with the session bus pointing nowhere.
#[test]
#[ignore = "child half of no_reachable_keyring_fails_closed"]
fn no_bus_child() {
    let db = PathBuf::from(std::env::var(NO_BUS_DB).expect("run by the parent test"));
    let err = Store::open(&db, KeySource::os_keyring("no-bus")).unwrap_err();
    assert!(
        matches!(&err, StoreError::KeyUnavailable { reason: KeyUnavailableReason::NoKeyring(_), path } if path == &db),
        "{err:?}"
    );
    // A new store is not created without a keyring either (the caller may then offer
    // the passphrase explicitly).
    let fresh = db.with_file_name("fresh.db");
    let err = Store::open(&fresh, KeySource::os_keyring("no-bus")).unwrap_err();
    assert!(matches!(err, StoreError::KeyUnavailable { .. }), "{err:?}");
    assert!(!fresh.exists());
}

#[test]
fn no_reachable_keyring_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    seed(&mut store, &["must survive"]);
    drop(store);
    let before = snapshot(dir.path());
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["no_bus_child", "--exact", "--ignored", "--test-threads=1"])
        .env(NO_BUS_DB, &db)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .env_remove("DISPLAY")
        .status()
        .unwrap();
    assert!(status.success(), "child checks failed");
    assert_eq!(snapshot(dir.path()), before);
}

/// A crash image (store plus an unmerged WAL, as after `kill -9`) opened with the wrong key
/// is left byte-identical too, and still opens with the right key afterwards.
#[test]
fn a_wrong_key_leaves_a_crash_image_with_its_wal_untouched() {
    let live = tempfile::tempdir().unwrap();
    let db = live.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    let (conv, _) = seed(&mut store, &["in the WAL only"]);
    // Copy the files while the store is open: the WAL holds the seeded pages.
    let crash = tempfile::tempdir().unwrap();
    let image = crash.path().join("store.db");
    for suffix in ["", "-wal"] {
        std::fs::copy(sibling(&db, suffix), sibling(&image, suffix)).unwrap();
    }
    drop(store);
    assert!(std::fs::metadata(sibling(&image, "-wal")).unwrap().len() > 0);

    let before = snapshot(crash.path());
    let err =
        Store::open(&image, KeySource::raw_key_for_tests_and_benches([0x22; 32])).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(snapshot(crash.path()), before);

    let store = Store::open(&image, raw()).unwrap();
    assert_eq!(store.messages(conv, None, 5).unwrap().len(), 1);
}

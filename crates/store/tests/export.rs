//! Encrypted export and import of the store: nothing readable leaves the device, a new
//! device gets every table back under its own key, and a bad passphrase or file leaves
//! nothing behind.
//!
//! The keyring test needs a Secret Service (see tests/keyring.rs): it fails when none is
//! reachable, unless TEAMLINE_NO_KEYRING_TESTS=1 is set explicitly.

mod common;

use std::path::Path;

use common::*;
use teamline_store::rusqlite::{self, Connection, types::Value as SqlValue};
use teamline_store::teamline_backup::{
    self, BackupError, KdfParams as BackupKdf, Kind, SealOptions,
};
use teamline_store::*;
use uuid::Uuid;

const PASS: &str = "correct horse battery staple";
const CANARY: &str = "canary-Ж漢-7f3a9c";
const NOTE_CANARY: &str = "note-canary-5b1e0d";
const OTHER_KEY: [u8; 32] = [0xc3; 32];
/// The cheapest accepted key-derivation cost (Argon2id is slow in a debug build).
const CHEAP: SealOptions = SealOptions {
    kdf: BackupKdf::MINIMUM,
    chunk_size: 64 * 1024,
};

/// A store with something in every table, and its text in several scripts.
fn populated(path: &Path) -> Store {
    let mut store = Store::open(path, raw()).unwrap();
    store
        .set_device_value("device_token", Some("old-device-token"))
        .unwrap();
    let (conv, _) = seed(
        &mut store,
        &[
            CANARY,
            "hola, ¿tienen la talla M?",
            "你好，请问有货吗",
            "second line",
        ],
    );
    let label = Label {
        id: Uuid::now_v7(),
        name: "#urgent".into(),
        colour: "#ff0000".into(),
        urgent: true,
        seq: 3,
    };
    let member = Member {
        id: Uuid::now_v7(),
        name: "Ana".into(),
        role: "standard".into(),
        active: true,
        seq: 4,
    };
    store
        .write(|b| {
            b.upsert_label(&label)?;
            let mut c = store_conversation(conv);
            c.labels = vec![label.id];
            c.unread_count = 2;
            b.upsert_conversation(&c)?;
            b.upsert_contact(&Contact {
                wa_id: "34611222333".into(),
                name: Some("Ana García".into()),
                attributes: serde_json::json!({"city": "Valencia"}),
                seq: 5,
            })?;
            b.upsert_member(&member)?;
            b.upsert_device(&Device {
                id: Uuid::now_v7(),
                name: "shift laptop".into(),
                os: "windows".into(),
                ceiling: "standard".into(),
                member_id: Some(member.id),
                last_seen_at: Some(at(60)),
                revoked: false,
                seq: 6,
            })?;
            b.upsert_note(&Note {
                id: Uuid::now_v7(),
                conversation_id: conv,
                author_member_id: Some(member.id),
                text: NOTE_CANARY.into(),
                created_at: at(70),
                seq: 7,
            })?;
            b.set_my_permissions(&serde_json::json!({"member_id": member.id}), 8)?;
            Ok(())
        })
        .unwrap();
    store
        .outbox_enqueue(
            Uuid::now_v7(),
            &serde_json::json!({"type": "reply", "text": "queued reply"}),
        )
        .unwrap();
    store.set_cursor(42).unwrap();
    store
}

fn store_conversation(id: Uuid) -> Conversation {
    Conversation {
        id,
        ..conversation(2)
    }
}

/// A raw connection to a store file (tests know the key), for table-by-table checks.
fn raw_conn(path: &Path, key: [u8; 32]) -> Connection {
    raw_connection_for_tests_and_benches(path, &StoreKey::from_bytes(key)).unwrap()
}

/// Every ordinary table (not the search indexes, which are rebuilt) with its rows, exact.
/// Every table's rows but `device_values`, which stays with its device.
fn dump(c: &Connection) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = c
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> 'device_values' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    names
        .into_iter()
        .map(|t| {
            let mut stmt = c.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, SqlValue>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map(|v| format!("{v:?}"))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn an_export_holds_no_plaintext_and_a_new_device_gets_every_table_back_under_its_own_key() {
    let old_dir = tempfile::tempdir().unwrap();
    let old_path = old_dir.path().join("teamline.db");
    let store = populated(&old_path);
    let before = names(old_dir.path());

    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("store.tlbk");
    // Exporting over the store's own file is refused.
    let err = store.export_to_file(&old_path, PASS, &CHEAP).unwrap_err();
    assert_eq!(err.code(), "store_invalid_input", "{err}");
    assert_eq!(names(old_dir.path()), before);
    let sealed = store.export_to_file(&file, PASS, &CHEAP).unwrap();
    assert_eq!(sealed.kind, Kind::Store);
    // No plaintext copy appeared next to the store (nor anything else), and neither the
    // export nor any file in either folder contains the text.
    assert_eq!(names(old_dir.path()), before);
    assert_eq!(names(out_dir.path()), ["store.tlbk"]);
    for dir in [old_dir.path(), out_dir.path()] {
        for (path, _) in snapshot(dir) {
            let bytes = std::fs::read(&path).unwrap();
            for canary in [CANARY, NOTE_CANARY, "Valencia", "queued reply"] {
                assert!(
                    found_in(&bytes, canary).is_empty(),
                    "{canary} found in {}",
                    path.display()
                );
            }
        }
    }
    drop(store);

    let new_dir = tempfile::tempdir().unwrap();
    let new_path = new_dir.path().join("teamline.db");
    let (restored, summary) = Store::import_from(
        &new_path,
        std::fs::File::open(&file).unwrap(),
        PASS,
        KeySource::raw_key_for_tests_and_benches(OTHER_KEY),
    )
    .unwrap();
    assert_eq!(summary.cursor, 42);
    assert_eq!(summary.messages, 4);
    assert_eq!(summary.conversations, 1);
    assert_eq!(summary.unsent_outbox, 1);
    assert_eq!(summary.schema_version_in_backup, SCHEMA_VERSION);
    // Search works on the new device (the indexes were rebuilt), in every script.
    for q in [CANARY, "talla", "你好"] {
        assert_eq!(restored.search(q, 10).unwrap().len(), 1, "{q}");
    }
    assert_eq!(restored.cursor().unwrap(), 42);
    assert_eq!(restored.search_index_deferred().unwrap(), None);
    // The old device's own values (its token) never reach the new one.
    assert_eq!(restored.device_value("device_token").unwrap(), None);
    drop(restored);

    // Every table, row for row; the new store opens only with the new device's key.
    let old = dump(&raw_conn(&old_path, KEY));
    let new = dump(&raw_conn(&new_path, OTHER_KEY));
    assert!(
        old.len() >= 12,
        "{:?}",
        old.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    assert_eq!(old, new);
    assert!(matches!(
        Store::open(&new_path, raw()),
        Err(StoreError::WrongKey { .. })
    ));
    for (path, _) in snapshot(new_dir.path()) {
        assert!(found_in(&std::fs::read(&path).unwrap(), CANARY).is_empty());
    }
}

#[test]
fn a_wrong_passphrase_a_bad_file_or_an_existing_store_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = populated(&dir.path().join("old.db"));
    let mut sealed = Vec::new();
    store.export_to_with(&mut sealed, PASS, &CHEAP).unwrap();
    drop(store);

    let target_dir = tempfile::tempdir().unwrap();
    let target = target_dir.path().join("teamline.db");
    let passphrase_key =
        || KeySource::passphrase_with_params("device passphrase", KdfParams::MINIMUM);
    let err = Store::import_from(&target, &sealed[..], "not the passphrase", passphrase_key())
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Backup(BackupError::WrongPassphrase)),
        "{err}"
    );
    assert_eq!(err.code(), "backup_wrong_passphrase");
    assert!(err.to_string().contains("wrong passphrase"));
    assert!(names(target_dir.path()).is_empty(), "no store, no sidecar");

    let mut damaged = sealed.clone();
    let at = damaged.len() - 10;
    damaged[at] ^= 1;
    let relay_kind = {
        let mut v = Vec::new();
        teamline_backup::seal_with(&b"x"[..], &mut v, PASS, Kind::Relay, &CHEAP).unwrap();
        v
    };
    for (bytes, code) in [
        (&damaged[..], "backup_damaged"),
        (&sealed[..sealed.len() - 100], "backup_damaged"),
        (&b"SQLite format 3\0"[..], "backup_not_a_backup"),
        (&relay_kind[..], "backup_wrong_kind"),
    ] {
        let err = Store::import_from(&target, bytes, PASS, passphrase_key()).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(names(target_dir.path()).is_empty());
    }

    // An existing store is never overwritten.
    let existing = Store::open(&target, raw()).unwrap();
    drop(existing);
    let before = snapshot(target_dir.path());
    let err = Store::import_from(&target, &sealed[..], PASS, raw()).unwrap_err();
    assert_eq!(err.code(), "store_invalid_input", "{err}");
    assert_eq!(snapshot(target_dir.path()), before);
}

#[test]
fn a_freshly_linked_store_takes_a_backup_in_place_but_a_synced_one_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = populated(&dir.path().join("old.db"));
    let mut sealed = Vec::new();
    old.export_to_with(&mut sealed, PASS, &CHEAP).unwrap();

    // What linking leaves: an empty store that already knows who it is.
    let fresh_path = dir.path().join("fresh.db");
    let mut fresh = Store::open(
        &fresh_path,
        KeySource::raw_key_for_tests_and_benches(OTHER_KEY),
    )
    .unwrap();
    fresh
        .write(|b| {
            b.set_my_permissions(&serde_json::json!({"fresh": true}), 0)
                .map(drop)
        })
        .unwrap();
    fresh
        .set_device_value("device_token", Some("fresh-device-token"))
        .unwrap();
    let err = StoreBackup::decrypt(&sealed[..], "not the passphrase").unwrap_err();
    assert_eq!(err.code(), "backup_wrong_passphrase");
    let backup = StoreBackup::decrypt(&sealed[..], PASS).unwrap();
    assert_eq!(backup.schema_version(), SCHEMA_VERSION);
    let summary = fresh.import_backup(backup).unwrap();
    assert_eq!(summary.cursor, 42);
    assert_eq!(fresh.conversations().unwrap(), old.conversations().unwrap());
    assert_eq!(fresh.search(CANARY, 5).unwrap().len(), 1);
    assert_eq!(
        fresh.device_value("device_token").unwrap().as_deref(),
        Some("fresh-device-token"),
        "an import keeps this device's own token"
    );
    drop(fresh);
    assert_eq!(
        dump(&raw_conn(&dir.path().join("old.db"), KEY)),
        dump(&raw_conn(&fresh_path, OTHER_KEY))
    );

    // A store that has synced (cursor, messages) is not overwritten.
    let err = old
        .import_backup(StoreBackup::decrypt(&sealed[..], PASS).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), "store_invalid_input", "{err}");
    assert_eq!(old.cursor().unwrap(), 42);
}

/// A backup payload written by hand: a plaintext SQLite database at `version`.
fn handmade_backup(version: usize, user_version: u32) -> Vec<u8> {
    let mut c = Connection::open_in_memory().unwrap();
    register_sql_functions(&c).unwrap();
    for sql in &MIGRATIONS[..version] {
        c.execute_batch(sql).unwrap();
    }
    let conv = Uuid::now_v7();
    c.execute(
        "INSERT INTO conversations (id, contact_wa_id, status, seq) VALUES (?1, '34600', 'open', 1)",
        [conv.to_string()],
    )
    .unwrap();
    c.execute(
        "INSERT INTO messages (rowid_, id, conversation_id, direction, kind, text, status, sent_at, updated_at, seq)
         VALUES (1, ?1, ?2, 'in', 'text', 'mensaje antiguo', 'received', 1000, 1000, 1)",
        [Uuid::now_v7().to_string(), conv.to_string()],
    )
    .unwrap();
    c.pragma_update(None, "user_version", user_version).unwrap();
    let data = c.serialize(rusqlite::MAIN_DB).unwrap();
    let mut out = Vec::new();
    teamline_backup::seal_with(&data[..], &mut out, PASS, Kind::Store, &CHEAP).unwrap();
    out
}

#[test]
fn a_backup_from_an_older_version_is_migrated_and_one_from_a_newer_version_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, summary) = Store::import_from(
        dir.path().join("a.db"),
        &handmade_backup(1, 1)[..],
        PASS,
        raw(),
    )
    .unwrap();
    assert_eq!(summary.schema_version_in_backup, 1);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.search("antiguo", 5).unwrap().len(), 1);

    let err = Store::import_from(
        dir.path().join("b.db"),
        &handmade_backup(MIGRATIONS.len(), SCHEMA_VERSION + 1)[..],
        PASS,
        raw(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::StoreTooNew { .. }), "{err}");
    assert!(!dir.path().join("b.db").exists());
}

#[test]
fn an_import_through_the_os_keyring_makes_a_new_key_for_the_new_device() {
    if std::env::var("TEAMLINE_NO_KEYRING_TESTS").as_deref() == Ok("1") {
        eprintln!("TEAMLINE_NO_KEYRING_TESTS=1: keyring test not run");
        return;
    }
    let keyring = OsKeyring::connect().unwrap_or_else(|e| {
        panic!("no OS keyring reachable ({e}); run inside a Secret Service session (/tmp/ksess.sh)")
    });
    let profile = format!("export-test-{}", Uuid::now_v7().simple());
    let account = keyring_account(&profile);
    let dir = tempfile::tempdir().unwrap();
    let old = populated(&dir.path().join("old.db"));
    let mut sealed = Vec::new();
    old.export_to_with(&mut sealed, PASS, &CHEAP).unwrap();

    let path = dir.path().join("new.db");
    let err = Store::import_from(
        &path,
        &sealed[..],
        "wrong passphrase!",
        KeySource::os_keyring(&profile),
    )
    .unwrap_err();
    assert_eq!(err.code(), "backup_wrong_passphrase");
    assert!(
        keyring.load(&account).unwrap().is_none(),
        "no key made for nothing"
    );

    let (store, _) =
        Store::import_from(&path, &sealed[..], PASS, KeySource::os_keyring(&profile)).unwrap();
    assert_eq!(store.search(CANARY, 5).unwrap().len(), 1);
    drop(store);
    let key = keyring
        .load(&account)
        .unwrap()
        .expect("a key for the new store");
    assert_ne!(key.as_bytes(), &KEY, "the new device has its own key");
    let reopened = Store::open(&path, KeySource::os_keyring(&profile)).unwrap();
    assert_eq!(reopened.cursor().unwrap(), 42);
    drop(reopened);
    keyring.delete(&account).unwrap();
}

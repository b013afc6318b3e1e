//! Schema versions: created at the newest, kept on reopen, a newer store refused untouched.

mod common;

use common::*;
use teamline_store::*;

fn user_version(db: &std::path::Path) -> u32 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(KEY)))
        .unwrap();
    conn.execute_batch("PRAGMA cipher_compatibility = 4;")
        .unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_fresh_store_is_created_at_the_newest_schema_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.cursor().unwrap(), 0);
    let (conv, ids) = seed(&mut store, &["first message"]);
    drop(store);
    assert_eq!(user_version(&db), SCHEMA_VERSION);

    let store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let msgs = store.messages(conv, None, 10).unwrap();
    assert_eq!(msgs.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
}

#[test]
fn a_store_from_a_newer_app_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, raw()).unwrap();
    seed(&mut store, &["kept"]);
    drop(store);
    // A later Teamline migrated it further.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(KEY)))
            .unwrap();
        conn.execute_batch("PRAGMA cipher_compatibility = 4;")
            .unwrap();
        conn.execute_batch("CREATE TABLE from_the_future (x INTEGER);")
            .unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
            .unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(&db, raw()).unwrap_err();
    match &err {
        StoreError::StoreTooNew { found, supported } => {
            assert_eq!(*found, SCHEMA_VERSION + 5);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected StoreTooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("update Teamline"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

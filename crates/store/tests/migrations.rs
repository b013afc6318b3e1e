//! Schema versions: created at the newest, kept on reopen, a newer store refused untouched.

mod common;

use common::*;
use teamline_store::*;

/// The store file keyed by hand (tests know the key), without the store's checks.
fn raw_conn(db: &std::path::Path) -> rusqlite::Connection {
    raw_connection_for_tests_and_benches(db, &StoreKey::from_bytes(KEY)).unwrap()
}

fn user_version(db: &std::path::Path) -> u32 {
    let conn = raw_conn(db);
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
        let conn = raw_conn(&db);
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

/// A store made by schema 1 (rowids in arrival order, no CJK index) upgrades in one step:
/// messages kept, search finds them newest first, the CJK index filled.
#[test]
fn a_schema_1_store_upgrades_with_its_messages_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    {
        let conn = raw_conn(&db);
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        // Arrival order differs from time order (a history backfill came last); two share
        // a millisecond.
        for (id, text, sent_at) in [
            (
                "00000000-0000-7000-8000-000000000001",
                "refund 退货 new",
                3_000,
            ),
            (
                "00000000-0000-7000-8000-000000000002",
                "refund 退货 same ms",
                3_000,
            ),
            (
                "00000000-0000-7000-8000-000000000003",
                "refund 退货 old",
                1_000,
            ),
            (
                "00000000-0000-7000-8000-000000000004",
                "no text match",
                2_000,
            ),
        ] {
            conn.execute(
                "INSERT INTO messages (id, conversation_id, direction, kind, text, status,
                 sent_at, updated_at, seq)
                 VALUES (?1, '00000000-0000-7000-8000-0000000000c0', 'in', 'text', ?2,
                 'received', ?3, ?3, 1)",
                rusqlite::params![id, text, sent_at],
            )
            .unwrap();
        }
    }
    let store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let order = |q: &str| -> Vec<String> {
        store
            .search(q, 10)
            .unwrap()
            .iter()
            .map(|h| h.message_id.to_string()[33..].to_owned())
            .collect()
    };
    assert_eq!(order("退货"), vec!["002", "001", "003"]);
    assert_eq!(order("退货 old"), vec!["003"]);
    assert_eq!(order("refund").len(), 3);
    assert_eq!(order("match"), vec!["004"]);
    drop(store);
    assert_eq!(user_version(&db), SCHEMA_VERSION);
}

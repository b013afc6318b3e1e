//! Since when a customer has been waiting for an answer, kept by the store as messages
//! arrive in any order.

mod common;

use common::*;
use teamline_store::*;
use uuid::Uuid;

fn outbound(conversation: Uuid, text: &str, secs: i64, seq: u64) -> Message {
    Message {
        direction: Direction::Out,
        status: MessageStatus::Sent,
        ..message(conversation, text, secs, seq)
    }
}

/// Since when `id` waits, read both ways the inbox reads it (whole list, first screen).
fn waiting(store: &Store, id: Uuid) -> Option<jiff::Timestamp> {
    let from_all = store.waiting_since().unwrap().get(&id).copied();
    assert_eq!(store.waiting_since_of(id).unwrap(), from_all);
    from_all
}

#[test]
fn the_first_unanswered_message_starts_the_wait_and_a_reply_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let conv = conversation(1);
    // A sync batch writes the messages before their conversation row.
    store
        .write(|b| {
            b.upsert_message(&message(conv.id, "hello?", 10, 1))?;
            b.upsert_message(&message(conv.id, "anyone there?", 70, 1))?;
            b.upsert_conversation(&conv)
        })
        .unwrap();
    assert_eq!(waiting(&store, conv.id), Some(at(10)));

    // A relay update of the conversation keeps the device's own figure.
    store
        .write(|b| {
            b.upsert_conversation(&Conversation {
                seq: 2,
                ..conv.clone()
            })
        })
        .unwrap();
    assert_eq!(waiting(&store, conv.id), Some(at(10)));

    store
        .write(|b| b.upsert_message(&outbound(conv.id, "here!", 100, 3)))
        .unwrap();
    assert_eq!(waiting(&store, conv.id), None);

    // The next question starts a new wait at its own time.
    store
        .write(|b| b.upsert_message(&message(conv.id, "thanks, and returns?", 200, 4)))
        .unwrap();
    assert_eq!(waiting(&store, conv.id), Some(at(200)));
}

#[test]
fn older_history_filled_in_later_does_not_move_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let conv = conversation(1);
    store
        .write(|b| {
            b.upsert_conversation(&conv)?;
            b.upsert_message(&message(conv.id, "still waiting", 500, 1))
        })
        .unwrap();
    assert_eq!(waiting(&store, conv.id), Some(at(500)));
    // A history page: an old question and an old answer.
    store
        .write(|b| {
            b.upsert_message(&message(conv.id, "old question", 10, 2))?;
            b.upsert_message(&outbound(conv.id, "old answer", 20, 2))
        })
        .unwrap();
    assert_eq!(waiting(&store, conv.id), Some(at(500)));
}

/// A schema-4 store upgrades with every conversation's wait worked out from its messages.
#[test]
fn the_upgrade_fills_the_wait_from_the_messages_already_held() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let (answered, waiting_conv, silent) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    {
        let conn = raw_connection_for_tests_and_benches(&db, &StoreKey::from_bytes(KEY)).unwrap();
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        for id in [answered, waiting_conv, silent] {
            conn.execute(
                "INSERT INTO conversations (id, contact_wa_id, status, seq) VALUES (?1, '34600', 'open', 1)",
                [id.to_string()],
            )
            .unwrap();
        }
        let mut n = 0;
        for (conv, direction, secs) in [
            (answered, "in", 10),
            (answered, "out", 20),
            (waiting_conv, "in", 10),
            (waiting_conv, "out", 20),
            (waiting_conv, "in", 30),
            (waiting_conv, "in", 40),
        ] {
            n += 1;
            conn.execute(
                "INSERT INTO messages (rowid_, id, conversation_id, direction, kind, status, sent_at, updated_at, seq)
                 VALUES (?1, ?2, ?3, ?4, 'text', 'received', ?5, ?5, 1)",
                rusqlite::params![n, Uuid::now_v7().to_string(), conv.to_string(), direction, at(secs).as_millisecond()],
            )
            .unwrap();
        }
    }
    let store = Store::open(&db, raw()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let all = store.waiting_since().unwrap();
    assert_eq!(all.get(&waiting_conv), Some(&at(30)));
    assert!(!all.contains_key(&answered));
    assert!(!all.contains_key(&silent));
}

/// Whether the messages-by-conversation index exists, read through a second connection.
fn has_conversation_index(path: &std::path::Path) -> bool {
    let key = StoreKey::from_bytes(common::KEY);
    let conn = raw_connection_for_tests_and_benches(path, &key).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_by_conversation'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

/// A bulk catch-up (deferred indexing, migration 0010) drops the by-conversation index and
/// leaves `waiting_since` alone; the batch that ends it recreates the index and computes
/// every conversation's wait from its messages, and so does opening a store whose
/// catch-up was interrupted. Timelines still read meanwhile (by scanning).
#[test]
fn a_bulk_catch_up_recomputes_waits_and_the_conversation_index_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path, raw()).unwrap();
    assert!(has_conversation_index(&path));
    let answered = conversation(1);
    let waiting_conv = conversation(1);
    store.defer_search_index(4).unwrap();
    assert!(!has_conversation_index(&path));
    let batch = [
        message(answered.id, "where is my order?", 10, 1),
        outbound(answered.id, "on its way", 20, 2),
        message(waiting_conv.id, "hello?", 30, 3),
    ];
    store
        .apply_batch(
            &batch,
            |m| m.seq,
            |b, m| {
                b.upsert_message(m)?;
                if m.seq == 3 {
                    b.upsert_conversation(&answered)?;
                    b.upsert_conversation(&waiting_conv)?;
                }
                Ok(())
            },
        )
        .unwrap();
    // Not maintained while deferred; the timeline reads all the same.
    assert_eq!(waiting(&store, waiting_conv.id), None);
    assert_eq!(store.messages(answered.id, None, 10).unwrap().len(), 2);
    let last = message(waiting_conv.id, "anyone?", 40, 4);
    apply_message(&mut store, &last);
    assert_eq!(store.search_index_deferred().unwrap(), None);
    assert!(has_conversation_index(&path));
    assert_eq!(waiting(&store, answered.id), None);
    assert_eq!(waiting(&store, waiting_conv.id), Some(at(30)));
    let timeline: Vec<Uuid> = store
        .messages(waiting_conv.id, None, 10)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(timeline, vec![last.id, batch[2].id]);

    // Interrupted: the next open finishes the job.
    store.defer_search_index(100).unwrap();
    let later = message(answered.id, "one more thing", 50, 5);
    apply_message(&mut store, &later);
    assert_eq!(waiting(&store, answered.id), None);
    drop(store);
    assert!(!has_conversation_index(&path));
    let store = Store::open(&path, raw()).unwrap();
    assert!(has_conversation_index(&path));
    assert_eq!(waiting(&store, answered.id), Some(at(50)));
    assert_eq!(waiting(&store, waiting_conv.id), Some(at(30)));
}

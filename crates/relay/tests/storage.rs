//! Storage scenarios, written against `dyn Storage` so a PostgreSQL backend can run them
//! too; here they run on real SQLite files in temp dirs.

#[path = "common/payloads.rs"]
mod payloads;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sha2::{Digest, Sha256};
use teamline_relay::ingest;
use teamline_relay::storage::sqlite::{Options, SCHEMA_VERSION, SqliteStorage};
use teamline_relay::storage::{
    Audience, DIRECTION_OUT, MessageRow, NewEvent, Storage, StorageError,
};
use teamline_whatsapp::webhook::WebhookPayload;
use uuid::Uuid;

fn open(dir: &tempfile::TempDir) -> Arc<dyn Storage> {
    Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap())
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        kind: "test.event",
        conversation_id: None,
        audience: Audience::Everyone,
        also_member: None,
        payload: json!({ "n": n }),
        created_at: Timestamp::now(),
    }
}

async fn ingest(store: &Arc<dyn Storage>, body: Vec<u8>, now: Timestamp) -> ingest::IngestOutcome {
    store
        .write(move |tx| {
            let payload = WebhookPayload::from_slice(&body).unwrap();
            let sha: [u8; 32] = Sha256::digest(&body).into();
            ingest::apply_webhook(tx, &body, &sha, &payload, now)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_writes_get_gap_free_sequence_numbers_and_a_failed_job_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut head = store.head();
    let mut tasks = Vec::new();
    for n in 0..300u64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    let seq = tx.append_event(event(n))?;
                    if n % 7 == 3 {
                        // Appended, then failed: its seq must be given back.
                        return Err(StorageError::Backend("job refused".into()));
                    }
                    Ok(seq)
                })
                .await
        }));
    }
    let mut ok = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(seq) => ok.push(seq),
            Err(_) => failed += 1,
        }
    }
    assert_eq!(failed, (0..300).filter(|n| n % 7 == 3).count());
    ok.sort();
    let expected: Vec<u64> = (1..=ok.len() as u64).collect();
    assert_eq!(ok, expected, "sequence numbers are contiguous from 1");
    head.wait_for(|h| *h == ok.len() as u64).await.unwrap();

    let events = store.events_after(0, 10_000).await.unwrap();
    assert_eq!(events.len(), ok.len());
    assert!(events.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    let counts = store.read(|tx| tx.counts()).await.unwrap();
    assert_eq!(counts.events, ok.len() as u64);

    // Reopened, the log and the head are the same (read from the file, not the cache).
    drop(store);
    let store = open(&dir);
    assert_eq!(*store.head().borrow(), ok.len() as u64);
    let again = store.events_after(10, 5).await.unwrap();
    assert_eq!(
        again.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![11, 12, 13, 14, 15]
    );
    assert_eq!(again[0].json, events[10].json);
}

#[tokio::test]
async fn a_database_from_a_newer_relay_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.db");
    drop(SqliteStorage::open(&path, Options::default()).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let err = SqliteStorage::open(&path, Options::default())
        .err()
        .expect("refused");
    assert!(matches!(err, StorageError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer relay"), "{err}");
}

#[tokio::test]
async fn duplicate_deliveries_and_duplicate_wamids_create_no_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let now = Timestamp::now();
    let first = ingest(
        &store,
        payloads::text("34600111222", "wamid.A", "hola"),
        now,
    )
    .await;
    // conversation.opened + message.received
    assert_eq!(first.events, 2);
    let again = ingest(
        &store,
        payloads::text("34600111222", "wamid.A", "hola"),
        now,
    )
    .await;
    assert!(again.duplicate_body);
    assert_eq!(again.events, 0);
    // Different bytes, same wamid (Meta re-serialised the retry).
    let mut other = payloads::text("34600111222", "wamid.A", "hola");
    other.push(b'\n');
    let third = ingest(&store, other, now).await;
    assert!(!third.duplicate_body);
    assert_eq!((third.events, third.duplicates), (0, 1));

    let second_msg = ingest(
        &store,
        payloads::text("34600111222", "wamid.B", "otra"),
        now,
    )
    .await;
    assert_eq!(second_msg.events, 1, "same customer: no new conversation");
    let counts = store.read(|tx| tx.counts()).await.unwrap();
    assert_eq!(
        (
            counts.events,
            counts.messages,
            counts.conversations,
            counts.contacts
        ),
        (3, 2, 1, 1)
    );
    let conv = store
        .read(|tx| tx.conversation_by_customer("34600111222"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.name.as_deref(), Some("Ana"));
    // 1700000000 + 24 h
    assert_eq!(
        conv.window_expires_at.unwrap(),
        Timestamp::from_second(1_700_000_000 + 86_400).unwrap()
    );
}

#[tokio::test]
async fn statuses_only_move_forward_and_early_statuses_apply_once_the_wamid_is_known() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let now = Timestamp::now();
    ingest(
        &store,
        payloads::text("34600111222", "wamid.IN", "hola"),
        now,
    )
    .await;
    let conv = store
        .read(|tx| tx.conversation_by_customer("34600111222"))
        .await
        .unwrap()
        .unwrap();
    let out_id = Uuid::now_v7();
    let conv_id = conv.id;
    store
        .write(move |tx| {
            tx.insert_message(&MessageRow {
                id: out_id,
                conversation_id: conv_id,
                wamid: Some("wamid.OUT".into()),
                direction: DIRECTION_OUT.into(),
                kind: "text".into(),
                body: json!({"text": {"body": "hi"}}),
                status: Some("queued".into()),
                status_rank: 0,
                error: None,
                sent_by: None,
                wa_timestamp: None,
                created_at: now,
            })
        })
        .await
        .unwrap();
    let to = "34600111222";
    let steps = [
        ("delivered", 1),
        ("sent", 0),      // late, behind delivered
        ("delivered", 0), // duplicate
        ("read", 1),
        ("failed", 1), // failed is final...
        ("read", 0),
    ];
    for (i, (status, expected)) in steps.iter().enumerate() {
        let out = ingest(
            &store,
            payloads::status("wamid.OUT", to, status, 1_700_000_100 + i as u64),
            now,
        )
        .await;
        assert_eq!(out.events, *expected, "{status} at step {i}");
    }
    let m = store
        .read(move |tx| tx.message(out_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status.as_deref(), Some("failed"));
    assert!(m.error.is_some());

    // A second queued message whose statuses arrive before the send worker records its wamid.
    for (i, st) in ["sent", "read", "delivered"].iter().enumerate() {
        let out = ingest(
            &store,
            payloads::status("wamid.EARLY", to, st, 1_700_000_200 + i as u64),
            now,
        )
        .await;
        assert_eq!(out.events, 0, "unknown wamid: kept, no event yet");
    }
    let early_id = Uuid::now_v7();
    let moved = store
        .write(move |tx| {
            let mut m = MessageRow {
                id: early_id,
                conversation_id: conv_id,
                wamid: None,
                direction: DIRECTION_OUT.into(),
                kind: "text".into(),
                body: json!({"text": {"body": "later"}}),
                status: Some("queued".into()),
                status_rank: 0,
                error: None,
                sent_by: None,
                wa_timestamp: None,
                created_at: now,
            };
            tx.insert_message(&m)?;
            m.wamid = Some("wamid.EARLY".into());
            tx.update_message_delivery(&m)?;
            ingest::apply_recorded_statuses(tx, &mut m, now)
        })
        .await
        .unwrap();
    assert_eq!(moved, 3, "sent, delivered, read in forward order");
    let events = store.events_after(0, 100).await.unwrap();
    let statuses: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "message.status")
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.json).unwrap();
            format!(
                "{}:{}",
                v["payload"]["wamid"].as_str().unwrap(),
                v["payload"]["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "wamid.OUT:delivered",
            "wamid.OUT:read",
            "wamid.OUT:failed",
            "wamid.EARLY:sent",
            "wamid.EARLY:delivered",
            "wamid.EARLY:read"
        ]
    );
}

#[tokio::test]
async fn pruning_makes_older_cursors_expire_and_seqs_never_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let old = Timestamp::now() - SignedDuration::from_hours(24 * 40);
    for n in 0..5 {
        let mut e = event(n);
        e.created_at = old;
        store.write(move |tx| tx.append_event(e)).await.unwrap();
    }
    for n in 5..8 {
        store
            .write(move |tx| tx.append_event(event(n)))
            .await
            .unwrap();
    }
    let cutoff = Timestamp::now() - SignedDuration::from_hours(24 * 30);
    let floor = store
        .write(move |tx| tx.prune_before(cutoff))
        .await
        .unwrap();
    assert_eq!(floor, 5);
    assert_eq!(store.retention_floor(), 5);
    for after in [0, 4] {
        let err = store.events_after(after, 10).await.unwrap_err();
        assert!(matches!(err, StorageError::CursorExpired { .. }), "{err}");
    }
    let rest = store.events_after(5, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![6, 7, 8]
    );

    // Everything pruned, then reopened: the next event still gets seq 9.
    let all = Timestamp::now() + SignedDuration::from_hours(1);
    store.write(move |tx| tx.prune_before(all)).await.unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(store.retention_floor(), 8);
    let seq = store.write(|tx| tx.append_event(event(9))).await.unwrap();
    assert_eq!(seq, 9);
}

#[tokio::test]
async fn assignment_moves_the_conversation_and_tells_the_previous_assignee() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let now = Timestamp::now();
    ingest(
        &store,
        payloads::text("34600111222", "wamid.1", "hola"),
        now,
    )
    .await;
    let conv = store
        .read(|tx| tx.conversation_by_customer("34600111222"))
        .await
        .unwrap()
        .unwrap();
    let (ana, bo) = (Uuid::now_v7(), Uuid::now_v7());
    let id = conv.id;
    for who in [Some(ana), Some(bo), Some(bo)] {
        store
            .write(move |tx| ingest::assign_conversation(tx, id, who, None, now))
            .await
            .unwrap();
    }
    let events = store.events_after(0, 100).await.unwrap();
    let assigned: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "conversation.assigned")
        .collect();
    assert_eq!(
        assigned.len(),
        2,
        "re-assigning to the same member is no change"
    );
    assert_eq!(assigned[1].also_member, Some(ana));
    let conv = store
        .read(move |tx| tx.conversation(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.assignee, Some(bo));
}

//! Applying relay events: batches by seq, idempotent replays, seq guards, forward-only
//! statuses, and the outbox.

mod common;

use common::*;
use teamline_store::*;
use uuid::Uuid;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    (dir, store)
}

#[test]
fn a_batch_applies_only_events_above_the_cursor_and_moves_it() {
    let (_d, mut store) = store();
    let conv = conversation(1);
    let msgs: Vec<Message> = (2..=5)
        .map(|s| message(conv.id, &format!("m{s}"), s as i64, s))
        .collect();
    let apply = |store: &mut Store, from: usize| {
        let events: Vec<(u64, Option<&Message>)> = std::iter::once((1, None))
            .chain(msgs.iter().map(|m| (m.seq, Some(m))))
            .skip(from)
            .collect();
        store
            .apply_batch(
                &events,
                |e| e.0,
                |b, e| {
                    match e.1 {
                        None => b.upsert_conversation(&conv)?,
                        Some(m) => b.upsert_message(m)?,
                    };
                    Ok(())
                },
            )
            .unwrap()
    };
    let first = apply(&mut store, 0);
    assert_eq!(
        first,
        BatchOutcome {
            applied: 5,
            skipped: 0,
            cursor: 5
        }
    );
    assert_eq!(store.cursor().unwrap(), 5);
    // The same events again (a reconnect replays from an older cursor): nothing changes.
    let again = apply(&mut store, 2);
    assert_eq!(
        again,
        BatchOutcome {
            applied: 0,
            skipped: 3,
            cursor: 5
        }
    );
    assert_eq!(store.messages(conv.id, None, 100).unwrap().len(), 4);
}

#[test]
fn a_failing_event_rolls_back_the_whole_batch_and_the_cursor() {
    let (_d, mut store) = store();
    let conv = conversation(1);
    let result = store.apply_batch(
        &[1u64, 2, 3],
        |s| *s,
        |b, seq| {
            if *seq == 3 {
                return Err(StoreError::Invalid("boom".into()));
            }
            b.upsert_conversation(&Conversation {
                seq: *seq,
                ..conv.clone()
            })?;
            Ok(())
        },
    );
    assert!(result.is_err());
    assert_eq!(store.cursor().unwrap(), 0);
    assert!(store.conversation(conv.id).unwrap().is_none());
}

#[test]
fn seqs_must_increase_within_a_batch() {
    let (_d, mut store) = store();
    let err = store
        .apply_batch(&[3u64, 2], |s| *s, |_, _| Ok(()))
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(store.cursor().unwrap(), 0);
}

#[test]
fn older_data_never_overwrites_newer_data() {
    let (_d, mut store) = store();
    let member = Uuid::now_v7();
    let label = Label {
        id: Uuid::now_v7(),
        name: "#urgent".into(),
        colour: "#d00000".into(),
        urgent: true,
        seq: 9,
    };
    let mut conv = conversation(10);
    conv.assignee = Some(member);
    conv.status = ConversationStatus::Pending;
    conv.labels = vec![label.id];
    conv.unread_count = 3;
    conv.window_expires_at = Some(at(86_400));
    store
        .write(|b| {
            b.upsert_label(&label)?;
            b.upsert_conversation(&conv)
        })
        .unwrap();
    // A backfill page carrying an older snapshot.
    let stale = Conversation {
        seq: 4,
        assignee: None,
        labels: vec![],
        status: ConversationStatus::Open,
        ..conv.clone()
    };
    assert!(!store.write(|b| b.upsert_conversation(&stale)).unwrap());
    assert_eq!(store.conversation(conv.id).unwrap().unwrap(), conv);
    // A newer one wins, labels included.
    let newer = Conversation {
        seq: 11,
        status: ConversationStatus::Resolved,
        labels: vec![],
        ..conv.clone()
    };
    assert!(store.write(|b| b.upsert_conversation(&newer)).unwrap());
    assert_eq!(store.conversation(conv.id).unwrap().unwrap(), newer);
    assert_eq!(store.labels().unwrap(), vec![label]);
}

#[test]
fn message_status_only_moves_forward() {
    let (_d, mut store) = store();
    let conv = conversation(1);
    let mut m = message(conv.id, "on its way", 1, 1);
    m.direction = Direction::Out;
    m.status = MessageStatus::Queued;
    store
        .write(|b| {
            b.upsert_conversation(&conv)?;
            b.upsert_message(&m)
        })
        .unwrap();
    let step = |store: &mut Store, s: MessageStatus, seq| {
        store
            .write(|b| b.update_message_status(m.id, s, None, at(seq as i64), seq))
            .unwrap()
    };
    assert!(step(&mut store, MessageStatus::Sent, 2));
    assert!(step(&mut store, MessageStatus::Read, 3));
    assert!(
        !step(&mut store, MessageStatus::Delivered, 4),
        "delivered after read"
    );
    assert!(
        !step(&mut store, MessageStatus::Failed, 5),
        "failed after read"
    );
    assert_eq!(
        store.message(m.id).unwrap().unwrap().status,
        MessageStatus::Read
    );

    let mut f = message(conv.id, "bad number", 2, 6);
    f.direction = Direction::Out;
    f.status = MessageStatus::Sent;
    store.write(|b| b.upsert_message(&f)).unwrap();
    assert!(
        store
            .write(|b| b.update_message_status(
                f.id,
                MessageStatus::Failed,
                Some("131026: undeliverable"),
                at(7),
                7
            ))
            .unwrap()
    );
    let got = store.message(f.id).unwrap().unwrap();
    assert_eq!(
        (got.status, got.error.as_deref()),
        (MessageStatus::Failed, Some("131026: undeliverable"))
    );
}

#[test]
fn all_replicated_kinds_round_trip() {
    let (_d, mut store) = store();
    let member = Member {
        id: Uuid::now_v7(),
        name: "Ana".into(),
        role: "admin".into(),
        active: true,
        seq: 1,
    };
    let device = Device {
        id: Uuid::now_v7(),
        name: "Shift laptop".into(),
        os: "windows".into(),
        ceiling: "standard".into(),
        member_id: Some(member.id),
        last_seen_at: Some(at(5)),
        revoked: false,
        seq: 2,
    };
    let contact = Contact {
        wa_id: "8613800138000".into(),
        name: Some("王芳".into()),
        attributes: serde_json::json!({"city": "上海"}),
        seq: 3,
    };
    let conv = conversation(4);
    let note = Note {
        id: Uuid::now_v7(),
        conversation_id: conv.id,
        author_member_id: Some(member.id),
        text: "VIP, be quick".into(),
        created_at: at(6),
        seq: 5,
    };
    let mut msg = message(conv.id, "photo", 7, 6);
    msg.kind = "image".into();
    msg.media = Some(serde_json::json!({"id": "1003383421387256", "mime_type": "image/jpeg"}));
    let perms = serde_json::json!({"reply": true, "export_history": false});
    store
        .write(|b| {
            b.upsert_member(&member)?;
            b.upsert_device(&device)?;
            b.upsert_contact(&contact)?;
            b.upsert_conversation(&conv)?;
            b.upsert_note(&note)?;
            b.upsert_message(&msg)?;
            b.set_my_permissions(&perms, 7)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(store.members().unwrap(), vec![member]);
    assert_eq!(store.devices().unwrap(), vec![device]);
    assert_eq!(store.contact("8613800138000").unwrap(), Some(contact));
    assert_eq!(store.notes(conv.id).unwrap(), vec![note.clone()]);
    assert_eq!(store.message(msg.id).unwrap(), Some(msg));
    assert_eq!(store.my_permissions().unwrap(), Some(perms));
    store.write(|b| b.delete_note(note.id)).unwrap();
    assert!(store.notes(conv.id).unwrap().is_empty());
    let bad = Contact {
        attributes: serde_json::json!([1]),
        ..store.contact("8613800138000").unwrap().unwrap()
    };
    assert!(matches!(
        store.write(|b| b.upsert_contact(&bad)),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn messages_page_back_through_history() {
    let (_d, mut store) = store();
    let texts: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (conv, ids_) = seed(&mut store, &refs);
    let page1 = store.messages(conv, None, 4).unwrap();
    assert_eq!(
        page1.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids_[6..].iter().rev().copied().collect::<Vec<_>>()
    );
    let page2 = store
        .messages(conv, Some(page1.last().unwrap().sent_at), 4)
        .unwrap();
    assert_eq!(
        page2.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids_[2..6].iter().rev().copied().collect::<Vec<_>>()
    );
}

#[test]
fn reset_replica_keeps_the_outbox() {
    let (_d, mut store) = store();
    seed(&mut store, &["x"]);
    store.set_cursor(42).unwrap();
    let key = Uuid::now_v7();
    store
        .outbox_enqueue(key, &serde_json::json!({"type": "reply"}))
        .unwrap();
    store.reset_replica().unwrap();
    assert_eq!(store.cursor().unwrap(), 0);
    assert!(store.conversations().unwrap().is_empty());
    assert_eq!(store.outbox_pending().unwrap().len(), 1);
}

#[test]
fn the_outbox_keeps_commands_until_sent_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    {
        let mut store = Store::open(&db, raw()).unwrap();
        let item = store
            .outbox_enqueue(a, &serde_json::json!({"type": "reply", "text": "one"}))
            .unwrap();
        assert_eq!((item.state, item.attempts), (OutboxState::Pending, 0));
        store
            .outbox_enqueue(b, &serde_json::json!({"type": "claim"}))
            .unwrap();
        store
            .outbox_enqueue(c, &serde_json::json!({"type": "reply", "text": "three"}))
            .unwrap();
        // A double submit with the same key queues nothing new.
        let again = store
            .outbox_enqueue(a, &serde_json::json!({"type": "reply", "text": "changed"}))
            .unwrap();
        assert_eq!(again.command["text"], "one");
        store
            .outbox_record_attempt(a, "connection refused")
            .unwrap();
    }
    // After a restart everything is still queued, in order, with its attempt count.
    let mut store = Store::open(&db, raw()).unwrap();
    let pending = store.outbox_pending().unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|i| i.idempotency_key)
            .collect::<Vec<_>>(),
        vec![a, b, c]
    );
    assert_eq!(
        (pending[0].attempts, pending[0].last_error.as_deref()),
        (1, Some("connection refused"))
    );
    assert!(store.outbox_mark_sent(a).unwrap());
    assert!(
        !store.outbox_mark_sent(a).unwrap(),
        "second acknowledgement is a no-op"
    );
    store.outbox_mark_failed(b, "permission_denied").unwrap();
    assert_eq!(
        store
            .outbox_pending()
            .unwrap()
            .iter()
            .map(|i| i.idempotency_key)
            .collect::<Vec<_>>(),
        vec![c]
    );
    let unsent = store.outbox_unsent().unwrap();
    assert_eq!(
        unsent
            .iter()
            .map(|i| (i.idempotency_key, i.state))
            .collect::<Vec<_>>(),
        vec![(b, OutboxState::Failed), (c, OutboxState::Pending)]
    );
    assert!(
        store.outbox_record_attempt(a, "late").is_err(),
        "a sent item is not pending"
    );
    assert!(store.outbox_mark_sent(Uuid::now_v7()).is_err());
    assert!(store.outbox_discard(b).unwrap());
    assert_eq!(
        store
            .outbox_prune_sent(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1))
            .unwrap(),
        1
    );
    assert!(store.outbox_item(a).unwrap().is_none());
}

#[test]
fn marking_a_conversation_read_clears_its_unread_count_once() {
    let (_dir, mut store) = store();
    let c = Conversation {
        unread_count: 3,
        ..conversation(1)
    };
    store.write(|b| b.upsert_conversation(&c)).unwrap();
    let other = Conversation {
        unread_count: 4,
        ..conversation(2)
    };
    store.write(|b| b.upsert_conversation(&other)).unwrap();
    assert_eq!(store.unread_total().unwrap(), 7);
    assert!(store.mark_read(c.id).unwrap());
    assert_eq!(store.unread_total().unwrap(), 4);
    assert_eq!(store.conversation(c.id).unwrap().unwrap().unread_count, 0);
    assert!(
        !store.mark_read(c.id).unwrap(),
        "already read: nothing changes"
    );
    assert!(
        !store.mark_read(Uuid::now_v7()).unwrap(),
        "unknown conversation"
    );
}

#[test]
fn device_values_round_trip_and_survive_a_resync() {
    let (dir, mut store) = store();
    assert_eq!(store.device_value("audit_head").unwrap(), None);
    store.set_device_value("audit_head", Some("one")).unwrap();
    store.set_device_value("audit_head", Some("two")).unwrap();
    store.set_device_value("other", Some("gone soon")).unwrap();
    store.reset_replica().unwrap();
    assert_eq!(
        store.device_value("audit_head").unwrap().as_deref(),
        Some("two")
    );
    drop(store);
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    assert_eq!(
        store.device_value("audit_head").unwrap().as_deref(),
        Some("two")
    );
    store.set_device_value("other", None).unwrap();
    assert_eq!(store.device_value("other").unwrap(), None);
}

#[test]
fn the_first_screen_is_the_most_recently_active_conversations_with_their_labels() {
    let (_d, mut store) = store();
    let label = Label {
        id: Uuid::now_v7(),
        name: "#returns".into(),
        colour: "#0a7".into(),
        urgent: false,
        seq: 1,
    };
    let convs: Vec<Conversation> = [30, 10, 20, -1]
        .into_iter()
        .enumerate()
        .map(|(i, secs)| Conversation {
            last_message_at: (secs >= 0).then(|| at(secs)),
            labels: if i == 2 { vec![label.id] } else { vec![] },
            ..conversation(2 + i as u64)
        })
        .collect();
    store
        .write(|b| {
            b.upsert_label(&label)?;
            for c in &convs {
                b.upsert_conversation(c)?;
            }
            Ok(())
        })
        .unwrap();
    let recent = store.conversations_after(None, 2).unwrap();
    assert_eq!(recent, vec![convs[0].clone(), convs[2].clone()]);
    assert_eq!(recent, store.conversations().unwrap()[..2].to_vec());
    // The conversation without activity comes last, as in the whole list.
    assert_eq!(
        store.conversations_after(None, 10).unwrap(),
        store.conversations().unwrap()
    );
    assert_eq!(store.waiting_since_of(convs[0].id).unwrap(), None);
    assert_eq!(store.waiting_since_of(Uuid::now_v7()).unwrap(), None);
}

#[test]
fn the_whole_list_read_in_pages_is_the_whole_list_whatever_the_page_size() {
    let (_d, mut store) = store();
    // Ties in activity (ordered by id) and conversations without activity (last, by id).
    let convs: Vec<Conversation> = [30, 10, 20, 20, -1, 20, -1, 5]
        .into_iter()
        .enumerate()
        .map(|(i, secs)| Conversation {
            last_message_at: (secs >= 0).then(|| at(secs)),
            ..conversation(2 + i as u64)
        })
        .collect();
    store
        .write(|b| {
            for c in &convs {
                b.upsert_conversation(c)?;
            }
            Ok(())
        })
        .unwrap();
    let whole = store.conversations().unwrap();
    assert_eq!(whole.len(), convs.len());
    for size in [1, 2, 3, 5, 8, 100] {
        let mut paged: Vec<Conversation> = Vec::new();
        loop {
            let after = paged.last().map(|c| (c.last_message_at, c.id));
            let page = store.conversations_after(after, size).unwrap();
            assert!(page.len() <= size as usize);
            let done = page.len() < size as usize;
            paged.extend(page);
            if done {
                break;
            }
        }
        assert_eq!(paged, whole, "pages of {size}");
    }
}

#[test]
fn quick_replies_keep_the_newest_version_and_go_with_a_resync() {
    let (_d, mut store) = store();
    let id = Uuid::now_v7();
    let q = |text: &str, seq: u64| QuickReply {
        id,
        shortcut: "refund".into(),
        title: "Refund".into(),
        text: text.into(),
        language: Some("en".into()),
        seq,
    };
    store.write(|b| b.upsert_quick_reply(&q("new", 5))).unwrap();
    // An older event replayed later does not win.
    assert!(!store.write(|b| b.upsert_quick_reply(&q("old", 3))).unwrap());
    assert_eq!(store.quick_replies().unwrap(), vec![q("new", 5)]);
    store.write(|b| b.delete_quick_reply(id)).unwrap();
    assert!(store.quick_replies().unwrap().is_empty());
    store
        .write(|b| b.replace_quick_replies(&[q("again", 9)]))
        .unwrap();
    assert_eq!(store.quick_replies().unwrap().len(), 1);
    store.reset_replica().unwrap();
    assert!(store.quick_replies().unwrap().is_empty());
}

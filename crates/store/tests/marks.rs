//! What automation says of a conversation (priority, SLA): kept apart from the relay's
//! conversation rows, so a conversation update never clears it.

mod common;

use common::*;
use serde_json::json;
use teamline_store::*;

#[test]
fn priority_and_sla_survive_conversation_updates_and_read_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let quiet = conversation(1);
    let busy = conversation(2);
    let sla = json!({"target": {"first_response_secs": 30},
                     "state": {"state": "running", "kind": "first_response", "due_at": "2026-11-21T10:00:30Z"}});
    store
        .write(|b| {
            b.upsert_conversation(&quiet)?;
            b.upsert_conversation(&busy)?;
            b.set_conversation_priority(busy.id, Some("high"))?;
            b.set_conversation_sla(busy.id, &sla)
        })
        .unwrap();
    // A later relay update of the conversation row keeps the marks.
    store
        .write(|b| {
            b.upsert_conversation(&Conversation {
                seq: busy.seq + 1,
                ..busy.clone()
            })
        })
        .unwrap();
    let all = store.conversation_marks().unwrap();
    assert_eq!(all.len(), 1, "only marked conversations are listed");
    let marks = &all[&busy.id];
    assert_eq!(marks.priority.as_deref(), Some("high"));
    assert_eq!(marks.sla.as_ref(), Some(&sla));
    assert_eq!(&store.conversation_marks_of(busy.id).unwrap(), marks);
    assert_eq!(
        store.conversation_marks_of(quiet.id).unwrap(),
        ConversationMarks::default()
    );

    // Cleared priority; a mark for a conversation this device does not hold is harmless.
    store
        .write(|b| {
            b.set_conversation_priority(busy.id, None)?;
            b.set_conversation_sla(uuid::Uuid::now_v7(), &sla)
        })
        .unwrap();
    assert_eq!(store.conversation_marks_of(busy.id).unwrap().priority, None);
    assert_eq!(store.conversation_marks().unwrap().len(), 1);
}

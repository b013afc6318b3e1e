//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use teamline_store::*;
use uuid::Uuid;

pub const KEY: [u8; 32] = [0x5a; 32];

pub fn raw() -> KeySource {
    KeySource::raw_key_for_tests_and_benches(KEY)
}

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

pub fn conversation(seq: u64) -> Conversation {
    Conversation {
        id: Uuid::now_v7(),
        contact_wa_id: "34611222333".into(),
        name: Some("Ana García".into()),
        assignee: None,
        team: Some("sales".into()),
        status: ConversationStatus::Open,
        snoozed_until: None,
        last_message_preview: None,
        last_message_at: None,
        unread_count: 0,
        window_expires_at: None,
        labels: Vec::new(),
        seq,
    }
}

pub fn message(conversation: Uuid, text: &str, secs: i64, seq: u64) -> Message {
    Message {
        id: Uuid::now_v7(),
        wamid: Some(format!("wamid.{}", Uuid::now_v7().simple())),
        conversation_id: conversation,
        direction: Direction::In,
        kind: "text".into(),
        text: Some(text.into()),
        media: None,
        status: MessageStatus::Received,
        error: None,
        author_member_id: None,
        sent_at: at(secs),
        updated_at: at(secs),
        seq,
    }
}

/// Applies one message as its own event batch (the way sync applies relay events).
pub fn apply_message(store: &mut Store, m: &Message) {
    store
        .apply_batch(
            std::slice::from_ref(m),
            |m| m.seq,
            |b, m| b.upsert_message(m).map(drop),
        )
        .unwrap();
}

/// Writes `texts` as messages of one new conversation; returns the conversation and ids.
pub fn seed(store: &mut Store, texts: &[&str]) -> (Uuid, Vec<Uuid>) {
    let conv = conversation(1);
    let ids = store
        .write(|b| {
            b.upsert_conversation(&conv)?;
            let mut ids = Vec::new();
            for (i, t) in texts.iter().enumerate() {
                let m = message(conv.id, t, i as i64, 1);
                b.upsert_message(&m)?;
                ids.push(m.id);
            }
            Ok(ids)
        })
        .unwrap();
    (conv.id, ids)
}

pub fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every file in `dir` (recursively) with its hash, for "left untouched" checks.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let h = sha256(&p);
                out.push((p, h));
            }
        }
    }
    out.sort();
    out
}

/// The encodings a canary could hit the disk in.
pub fn encodings(canary: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("utf-8", canary.as_bytes().to_vec()),
        (
            "utf-16le",
            canary.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ),
        (
            "utf-16be",
            canary.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ),
    ]
}

/// Which encodings of `canary` occur in `bytes`.
pub fn found_in(bytes: &[u8], canary: &str) -> Vec<&'static str> {
    encodings(canary)
        .into_iter()
        .filter(|(_, needle)| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
        .map(|(name, _)| name)
        .collect()
}

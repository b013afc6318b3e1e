//! Schema 6: message content, reactions by target, media-ready marks, the media cache.

mod common;

use common::*;
use serde_json::json;
use teamline_store::*;

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir.join("store.db"), raw()).unwrap()
}

#[test]
fn content_survives_upserts_and_reactions_stay_out_of_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let (conv, ids) = seed(&mut store, &["hello", "where are you?"]);
    let target = store.message(ids[0]).unwrap().unwrap();
    let wamid = target.wamid.clone().unwrap();
    let mut location = message(conv, "", 5, 2);
    location.kind = "location".into();
    location.text = None;
    let mut reaction = message(conv, "", 6, 2);
    reaction.kind = "reaction".into();
    reaction.text = None;
    let place = json!({ "kind": "location", "latitude": 41.39, "longitude": 2.17 });
    store
        .write(|b| {
            b.upsert_message(&location)?;
            b.set_message_content(location.id, &place, None)?;
            b.upsert_message(&reaction)?;
            b.set_message_content(
                reaction.id,
                &json!({ "kind": "reaction", "emoji": "👍" }),
                Some(&wamid),
            )?;
            assert!(b.mark_media_ready(location.id, Some(1234), 3)?);
            assert!(!b.mark_media_ready(uuid::Uuid::now_v7(), None, 3)?);
            Ok(())
        })
        .unwrap();
    // A later write of the row (a status change, a history page) keeps the content.
    location.seq = 4;
    store.write(|b| b.upsert_message(&location)).unwrap();

    let page = store.timeline_rows(conv, None, 50).unwrap();
    let kinds: Vec<&str> = page.iter().map(|r| r.message.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["location", "text", "text"],
        "newest first, no reaction"
    );
    assert_eq!(page[0].content.as_ref(), Some(&place));
    assert!(page[0].media_ready);
    assert_eq!(page[0].media_size, Some(1234));
    assert_eq!(page[1].content, None);
    assert!(!page[1].media_ready);

    let reactions = store
        .reactions_to(&[wamid.clone(), "wamid.none".into()])
        .unwrap();
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0].message.id, reaction.id);
    assert_eq!(reactions[0].content.as_ref().unwrap()["emoji"], "👍");

    let quoted = store.timeline_row_by_wamid(&wamid).unwrap().unwrap();
    assert_eq!(quoted.message.id, target.id);
    assert!(
        store
            .timeline_row_by_wamid("wamid.unknown")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.timeline_row(location.id).unwrap().unwrap().content,
        Some(place)
    );
}

#[test]
fn the_media_cache_drops_the_least_recently_used_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let cap = 10;
    assert!(
        store
            .media_cache_put("a", "image/png", b"aaaa", cap)
            .unwrap()
    );
    assert!(
        store
            .media_cache_put("b", "image/png", b"bbbb", cap)
            .unwrap()
    );
    // Using `a` makes `b` the least recently used.
    assert_eq!(
        store.media_cache_get("a").unwrap(),
        Some(MediaBlob {
            mime: "image/png".into(),
            bytes: b"aaaa".to_vec()
        })
    );
    assert!(
        store
            .media_cache_put("c", "video/mp4", b"cccc", cap)
            .unwrap()
    );
    assert_eq!(store.media_cache_get("b").unwrap(), None);
    assert!(store.media_cache_get("a").unwrap().is_some());
    assert_eq!(
        store.media_cache_get("c").unwrap().unwrap().mime,
        "video/mp4"
    );
    assert_eq!(store.media_cache_bytes().unwrap(), 8);
    // Larger than the whole cap: not cached, nothing evicted.
    assert!(
        !store
            .media_cache_put("big", "video/mp4", &[0; 11], cap)
            .unwrap()
    );
    assert_eq!(store.media_cache_bytes().unwrap(), 8);
    // Kept across reopening (it is in the store file), gone after a resync reset.
    drop(store);
    let mut store = open(dir.path());
    assert!(store.media_cache_get("a").unwrap().is_some());
    store.reset_replica().unwrap();
    assert_eq!(store.media_cache_bytes().unwrap(), 0);
}

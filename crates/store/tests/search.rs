//! Full-text search in English, Russian and Chinese, with ranking and highlighted snippets.

mod common;

use common::*;
use teamline_store::*;
use uuid::Uuid;

const TEXTS: &[&str] = &[
    "Hi, can I return the blue teapot? It arrived with a crack in the lid.",
    "Здравствуйте! Когда будет доставка моего заказа?",
    "Доставка курьером стоит 300 рублей.",
    "你好，我的订单什么时候发货？",
    "我要退货，盒子坏了。",
    "The parcel was left in the rain",
    "ok",
];

fn setup() -> (tempfile::TempDir, Store, Vec<Uuid>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let (_, ids) = seed(&mut store, TEXTS);
    (dir, store, ids)
}

fn ids(hits: &[SearchHit]) -> Vec<Uuid> {
    hits.iter().map(|h| h.message_id).collect()
}

#[test]
fn english_words_and_prefixes_are_found_case_insensitively() {
    let (_d, store, ids_) = setup();
    assert_eq!(ids(&store.search("TEAPOT", 10).unwrap()), vec![ids_[0]]);
    assert_eq!(ids(&store.search("parc", 10).unwrap()), vec![ids_[5]]);
    // Every term must match.
    assert_eq!(ids(&store.search("blue crack", 10).unwrap()), vec![ids_[0]]);
    assert!(store.search("blue rain", 10).unwrap().is_empty());
    assert!(store.search("zebra", 10).unwrap().is_empty());
}

#[test]
fn russian_stems_are_found_in_any_case() {
    let (_d, store, ids_) = setup();
    let mut found = ids(&store.search("доставк", 10).unwrap());
    found.sort();
    assert_eq!(found, vec![ids_[1], ids_[2]]);
    // Cyrillic is case-folded too ("Доставка" starts the third message).
    assert_eq!(
        ids(&store.search("ДОСТАВКА курьером", 10).unwrap()),
        vec![ids_[2]]
    );
}

#[test]
fn chinese_words_inside_unspaced_text_are_found() {
    let (_d, store, ids_) = setup();
    assert_eq!(ids(&store.search("我的订单", 10).unwrap()), vec![ids_[3]]);
    // Two characters: below the trigram length, matched by the LIKE fallback.
    let hits = store.search("退货", 10).unwrap();
    assert_eq!(ids(&hits), vec![ids_[4]]);
    assert_eq!(hits[0].highlights(), vec!["退货"]);
    assert_eq!(hits[0].rank, 0.0);
    assert_eq!(ids(&store.search("发货", 10).unwrap()), vec![ids_[3]]);
    // A single character.
    assert_eq!(ids(&store.search("盒", 10).unwrap()), vec![ids_[4]]);
    // Short and long terms together.
    let hits = store.search("退货 盒子坏", 10).unwrap();
    assert_eq!(ids(&hits), vec![ids_[4]]);
    let mut marks = hits[0].highlights();
    marks.sort();
    assert_eq!(marks, vec!["盒子坏", "退货"]);
    assert!(store.search("退款", 10).unwrap().is_empty());
}

#[test]
fn snippets_mark_the_match() {
    let (_d, store, _) = setup();
    let hits = store.search("teapot", 10).unwrap();
    assert_eq!(hits[0].highlights(), vec!["teapot"]);
    let parts = hits[0].snippet_parts();
    let plain: String = parts.iter().map(|(t, _)| *t).collect();
    assert!(
        plain.contains("return the blue teapot? It arrived"),
        "{plain}"
    );
    let hits = store.search("доставк", 10).unwrap();
    for h in &hits {
        let marks = h.highlights();
        assert_eq!(marks.len(), 1, "{:?}", h.snippet);
        assert_eq!(marks[0].to_lowercase(), "доставк");
    }
}

#[test]
fn better_matches_rank_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let filler = "the weather is fine and the shop opens at nine every day of the week";
    let (_, ids_) = seed(
        &mut store,
        &[
            &format!("{filler}, refund maybe"),
            "refund refund refund please",
            &format!("{filler}, {filler}, refund"),
            "refund now",
        ],
    );
    let hits = store.search("refund", 10).unwrap();
    assert_eq!(hits.len(), 4);
    assert!(hits.windows(2).all(|w| w[0].rank <= w[1].rank), "{hits:?}");
    assert_eq!(
        hits[0].message_id, ids_[1],
        "most occurrences in the shortest text"
    );
    assert_eq!(
        hits[3].message_id, ids_[2],
        "one occurrence in the longest text"
    );
    assert!(hits[0].rank < 0.0, "bm25 scores are negative");
    assert_eq!(store.search("refund", 2).unwrap().len(), 2);
}

#[test]
fn the_index_follows_edits_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let (conv, ids_) = seed(&mut store, &["original wording"]);
    let mut edited = store.message(ids_[0]).unwrap().unwrap();
    edited.text = Some("corrected wording".into());
    edited.seq = 2;
    store.write(|b| b.upsert_message(&edited)).unwrap();
    assert!(store.search("original", 5).unwrap().is_empty());
    assert_eq!(store.search("corrected", 5).unwrap().len(), 1);
    store.write(|b| b.delete_conversation(conv)).unwrap();
    assert!(store.search("wording", 5).unwrap().is_empty());
    assert!(store.search("wo", 5).unwrap().is_empty());
}

#[test]
fn query_syntax_characters_are_plain_text() {
    let (_d, store, ids_) = setup();
    // FTS5 operators and quotes in user input neither error nor act as syntax.
    for q in [
        "\"teapot",
        "teapot*",
        "NEAR(teapot",
        "lid.",
        "blue OR zebra",
        "a%",
        "_k",
    ] {
        store.search(q, 10).unwrap();
    }
    assert_eq!(ids(&store.search("lid.", 10).unwrap()), vec![ids_[0]]);
    assert!(store.search("blue OR zebra", 10).unwrap().is_empty());
    assert!(store.search("o%", 10).unwrap().is_empty());
    assert!(store.search("   ", 10).unwrap().is_empty());
}

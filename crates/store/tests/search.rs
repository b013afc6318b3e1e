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

/// Writes `texts` (text, seconds after the fixture epoch) into one new conversation in
/// the order given; returns their ids.
fn write_at(store: &mut Store, texts: &[(&str, i64)]) -> Vec<Uuid> {
    let conv = conversation(1);
    store
        .write(|b| {
            b.upsert_conversation(&conv)?;
            let mut ids = Vec::new();
            for (text, secs) in texts {
                let m = message(conv.id, text, *secs, 1);
                b.upsert_message(&m)?;
                ids.push(m.id);
            }
            Ok(ids)
        })
        .unwrap()
}

#[test]
fn the_best_of_the_most_recent_matches_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let n = SEARCH_CANDIDATES as i64;
    let filler = "the weather is fine and the shop opens at nine, refund";
    // An old, very good match, then `n` newer ordinary matches with two good ones among
    // them, then (as a history backfill would) another old, very good match written last.
    let mut texts: Vec<(String, i64)> = vec![("refund refund refund".into(), 0)];
    for i in 0..n {
        let text = match i {
            10 => "refund refund, please".to_owned(),
            150 => "refund please".to_owned(),
            _ => format!("{filler} {i}"),
        };
        texts.push((text, 1_000 + i));
    }
    texts.push(("refund refund refund refund".into(), 1));
    let borrowed: Vec<(&str, i64)> = texts.iter().map(|(t, s)| (t.as_str(), *s)).collect();
    let ids_ = write_at(&mut store, &borrowed);

    let hits = store.search("refund", 5).unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(
        hits[0].message_id, ids_[11],
        "most occurrences in a short text"
    );
    assert_eq!(
        hits[1].message_id, ids_[151],
        "one occurrence in a short text"
    );
    // Equal scores (same filler length) come newest first.
    assert!(hits[2].sent_at > hits[3].sent_at && hits[3].sent_at > hits[4].sent_at);
    assert!(hits.windows(2).all(|w| w[0].rank <= w[1].rank), "{hits:?}");
    // The old matches are outside the most recent `n`, even the one written last.
    let all = store.search("refund", 1_000).unwrap();
    assert_eq!(
        all.len(),
        n as usize + 2,
        "limit above the candidates widens them"
    );
    let within = store.search("refund", SEARCH_CANDIDATES).unwrap();
    assert_eq!(within.len(), n as usize);
    assert!(!ids(&within).contains(&ids_[0]));
    assert!(!ids(&within).contains(&ids_[n as usize + 1]));
    // A new, good match enters at the top.
    let newest = write_at(&mut store, &[("refund refund refund", 5_000)]);
    assert_eq!(store.search("refund", 1).unwrap()[0].message_id, newest[0]);
}

#[test]
fn short_cjk_terms_use_whole_runs_and_come_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let ids_ = write_at(
        &mut store,
        &[
            ("我要退货，谢谢", 30),
            ("退，货都没到", 40), // 退 and 货 in different runs: not the word 退货
            ("退 货", 45),        // nor with a space between them
            ("order 退货 please", 10),
            ("返品したいです", 20),
            ("환불 해주세요", 25),
            ("Я хочу вернуть товар", 50),
        ],
    );
    let hits = store.search("退货", 10).unwrap();
    assert_eq!(ids(&hits), vec![ids_[0], ids_[3]], "newest first");
    assert!(hits.iter().all(|h| h.rank == 0.0));
    assert_eq!(hits[1].highlights(), vec!["退货"]);
    // One character matches in any run.
    assert_eq!(
        ids(&store.search("货", 10).unwrap()),
        vec![ids_[2], ids_[1], ids_[0], ids_[3]]
    );
    // Japanese and Korean.
    assert_eq!(ids(&store.search("返品", 10).unwrap()), vec![ids_[4]]);
    assert_eq!(ids(&store.search("환불", 10).unwrap()), vec![ids_[5]]);
    // Several short terms, CJK and not.
    assert_eq!(
        ids(&store.search("退货 ok", 10).unwrap()),
        Vec::<Uuid>::new()
    );
    assert_eq!(ids(&store.search("货 de", 10).unwrap()), vec![ids_[3]]);
    assert_eq!(ids(&store.search("退 谢", 10).unwrap()), vec![ids_[0]]);
    // A limit below the matches keeps the newest.
    assert_eq!(ids(&store.search("货", 2).unwrap()), vec![ids_[2], ids_[1]]);
    // The index follows edits and deletions.
    let mut edited = store.message(ids_[0]).unwrap().unwrap();
    edited.text = Some("我要换货".into());
    edited.seq = 2;
    store.write(|b| b.upsert_message(&edited)).unwrap();
    assert_eq!(ids(&store.search("退货", 10).unwrap()), vec![ids_[3]]);
    assert_eq!(ids(&store.search("换货", 10).unwrap()), vec![ids_[0]]);
    store.write(|b| b.delete_message(ids_[3])).unwrap();
    assert!(store.search("退货", 10).unwrap().is_empty());
    store.reset_replica().unwrap();
    assert!(store.search("货", 10).unwrap().is_empty());
}

/// A bulk catch-up: messages written while the index is deferred are not searchable yet;
/// the batch whose cursor reaches `until_seq` rebuilds both indexes in its transaction,
/// including what was updated and deleted meanwhile.
#[test]
fn a_deferred_index_is_rebuilt_by_the_batch_that_reaches_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("s.db"), raw()).unwrap();
    let (conv, before) = seed(&mut store, &["an old teapot order"]);
    store.defer_search_index(4).unwrap();
    assert_eq!(store.search_index_deferred().unwrap(), Some(4));
    let texts = [
        "teapot arrived broken",
        "доставка завтра",
        "退货申请",
        "teapot lid",
    ];
    let msgs: Vec<Message> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| message(conv, t, 10 + i as i64, i as u64 + 1))
        .collect();
    store
        .apply_batch(&msgs[..3], |m| m.seq, |b, m| b.upsert_message(m).map(drop))
        .unwrap();
    // Not indexed yet: only the message from before the deferral is found.
    assert_eq!(ids(&store.search("teapot", 10).unwrap()), before);
    assert!(store.search("退货", 10).unwrap().is_empty());
    // Changed and deleted while deferred: the rebuild reads the final rows.
    let mut edited = msgs[0].clone();
    edited.text = Some("kettle arrived broken".into());
    edited.seq = 3;
    store
        .write(|b| {
            b.upsert_message(&edited)?;
            b.delete_message(msgs[1].id)
        })
        .unwrap();
    store
        .apply_batch(&msgs[3..], |m| m.seq, |b, m| b.upsert_message(m).map(drop))
        .unwrap();
    assert_eq!(store.search_index_deferred().unwrap(), None);
    let mut teapots = ids(&store.search("teapot", 10).unwrap());
    teapots.sort();
    let mut want = vec![before[0], msgs[3].id];
    want.sort();
    assert_eq!(teapots, want);
    assert_eq!(ids(&store.search("kettle", 10).unwrap()), vec![msgs[0].id]);
    assert!(store.search("доставк", 10).unwrap().is_empty());
    assert_eq!(ids(&store.search("退货", 10).unwrap()), vec![msgs[2].id]);
    // Indexing is incremental again.
    let later = message(conv, "teapot spout", 30, 5);
    apply_message(&mut store, &later);
    assert_eq!(ids(&store.search("spout", 10).unwrap()), vec![later.id]);
}

/// A store closed in the middle of a deferred catch-up (crash, quit) is searchable again
/// as soon as it is opened; moving the cursor on its own also ends a deferral.
#[test]
fn an_interrupted_deferral_is_rebuilt_on_open_and_set_cursor_ends_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path, raw()).unwrap();
    let conv = conversation(1);
    store
        .write(|b| b.upsert_conversation(&conv).map(drop))
        .unwrap();
    store.defer_search_index(1_000).unwrap();
    let m = message(conv.id, "parcel in the rain", 1, 1);
    apply_message(&mut store, &m);
    assert!(store.search("parcel", 10).unwrap().is_empty());
    drop(store);
    let mut store = Store::open(&path, raw()).unwrap();
    assert_eq!(store.search_index_deferred().unwrap(), None);
    assert_eq!(ids(&store.search("parcel", 10).unwrap()), vec![m.id]);

    store.defer_search_index(50).unwrap();
    let n = message(conv.id, "courier is late", 2, 2);
    apply_message(&mut store, &n);
    assert!(store.search("courier", 10).unwrap().is_empty());
    store.set_cursor(50).unwrap();
    assert_eq!(store.search_index_deferred().unwrap(), None);
    assert_eq!(ids(&store.search("courier", 10).unwrap()), vec![n.id]);
    assert_eq!(store.message_count().unwrap(), 2);
}

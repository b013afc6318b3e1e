//! `cargo xtask bench`: the desktop's encrypted store.
//!
//! - Insert throughput, encrypted (SQLCipher) vs plaintext SQLite, in the same run: the
//!   store's own schema (FTS triggers included), connection settings, insert statement and
//!   batch size on both sides; only the key differs. Target: ratio ≥ 0.8.
//! - The same inserts through the store's API (`Store::apply_batch`), encrypted.
//! - Full-text search latency over a synthetic multilingual corpus (English, Russian,
//!   Chinese) of `TEAMLINE_BENCH_FTS_ROWS` messages (default 1,000,000), written through
//!   the store's API. Target: p95 ≤ 30 ms for the trigram (3+ character) queries. 1–2
//!   character CJK terms (the CJK character index) and other 1–2 character terms (LIKE
//!   while scanning newest first) are reported on their own.
//!
//! Stores live in a temporary directory and are keyed with a random raw key
//! (`KeySource::raw_key_for_tests_and_benches`), so no OS keyring is needed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};
use teamline_store::jiff;
use teamline_store::rusqlite::{Connection, params};
use teamline_store::uuid::Uuid;
use teamline_store::{
    CONNECTION_PRAGMAS, Conversation, ConversationStatus, Direction, KeySource, MIGRATIONS,
    Message, MessageStatus, Store, StoreKey, raw_connection_for_tests_and_benches,
    register_sql_functions,
};

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct Params {
    /// Messages inserted per side and round of the encrypted/plaintext comparison.
    pub insert_rows: usize,
    /// Messages per transaction in the insert comparison.
    pub batch: usize,
    /// Rounds of the comparison (alternating sides); the median is reported.
    pub rounds: usize,
    /// Messages in the search corpus.
    pub fts_rows: usize,
    /// Timed runs of each search query.
    pub runs_per_query: usize,
}

impl Params {
    /// The defaults, with `TEAMLINE_BENCH_FTS_ROWS` and `TEAMLINE_BENCH_INSERT_ROWS` read
    /// from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let env = |name: &str, default: usize| -> anyhow::Result<usize> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse().with_context(|| format!("{name}={v:?}")),
                Err(_) => Ok(default),
            }
        };
        Ok(Params {
            insert_rows: env("TEAMLINE_BENCH_INSERT_ROWS", 50_000)?,
            batch: 500,
            rounds: 5,
            fts_rows: env("TEAMLINE_BENCH_FTS_ROWS", 1_000_000)?,
            runs_per_query: 5,
        })
    }
}

/// Runs the benchmark with the default sizes and returns its figures as JSON.
pub fn run() -> anyhow::Result<Value> {
    run_with(&Params::from_env()?)
}

/// Runs the benchmark with chosen sizes (tests use tiny ones).
pub fn run_with(p: &Params) -> anyhow::Result<Value> {
    ensure!(p.insert_rows > 0 && p.batch > 0 && p.rounds > 0 && p.runs_per_query > 0);
    let dir = tempfile_dir()?;
    let result = (|| {
        let insert = insert_comparison(dir.path(), p)?;
        let search = search_latency(dir.path(), p)?;
        Ok(json!({ "insert": insert, "search": search }))
    })();
    drop(dir);
    result
}

/// A private temp directory removed on drop (xtask has no tempfile dependency).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> anyhow::Result<TempDir> {
    let dir = std::env::temp_dir().join(format!("teamline-bench-store-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(TempDir(dir))
}

// ---- insert throughput ----

/// The store's message insert (time-keyed `rowid_`, as `Batch::upsert_message`).
const INSERT_SQL: &str = "INSERT INTO messages (rowid_, id, wamid, conversation_id, direction,
    kind, text, media, status, error, author_member_id, sent_at, updated_at, seq)
    VALUES ((SELECT coalesce(max(rowid_) + 1, ?7) FROM messages
             WHERE rowid_ BETWEEN ?7 AND ?7 + 65535),
        ?1, ?2, ?3, 'in', 'text', ?4, NULL, 'received', NULL, NULL, ?5, ?5, ?6)";

fn connection(path: &Path, key: Option<&StoreKey>) -> anyhow::Result<Connection> {
    let conn = match key {
        // The same first statements as `Store::open`.
        Some(key) => raw_connection_for_tests_and_benches(path, key)?,
        None => {
            let conn = Connection::open(path)?;
            // The schema's triggers call the store's SQL function (a C API call).
            register_sql_functions(&conn)?;
            conn
        }
    };
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    for sql in MIGRATIONS {
        conn.execute_batch(sql)?;
    }
    Ok(conn)
}

/// Inserts `rows` in transactions of `batch`; returns messages per second.
fn insert_raw(conn: &mut Connection, rows: &[Row], batch: usize) -> anyhow::Result<f64> {
    let conv = Uuid::now_v7().to_string();
    let start = Instant::now();
    for chunk in rows.chunks(batch) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(INSERT_SQL)?;
            for r in chunk {
                let key = r.sent_at_ms * 65_536;
                stmt.execute(params![
                    r.id,
                    r.wamid,
                    conv,
                    r.text,
                    r.sent_at_ms,
                    r.seq,
                    key
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(rows.len() as f64 / start.elapsed().as_secs_f64())
}

fn insert_comparison(dir: &Path, p: &Params) -> anyhow::Result<Value> {
    let rows = corpus(0xC0FFEE, 0, p.insert_rows);
    let key = StoreKey::generate()?;
    let mut encrypted = Vec::new();
    let mut plaintext = Vec::new();
    let mut api = Vec::new();
    for round in 0..p.rounds {
        // Alternate which side goes first, so drift (caches, other load) hits both.
        let sides: [bool; 2] = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for enc in sides {
            let path = dir.join(format!("insert-{round}-{enc}.db"));
            let mut conn = connection(&path, enc.then_some(&key))?;
            let rate = insert_raw(&mut conn, &rows, p.batch)?;
            let stored: i64 = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
            ensure!(
                stored as usize == rows.len(),
                "inserted {stored} of {}",
                rows.len()
            );
            drop(conn);
            let head = std::fs::read(&path)?;
            ensure!(
                head.starts_with(b"SQLite format 3") != enc,
                "the {} side is not what it claims",
                if enc { "encrypted" } else { "plaintext" }
            );
            if enc {
                encrypted.push(rate);
            } else {
                plaintext.push(rate);
            }
        }
        let path = dir.join(format!("insert-api-{round}.db"));
        let mut store = Store::open(
            &path,
            KeySource::raw_key_for_tests_and_benches(*key.as_bytes()),
        )?;
        let conv = conversation(Uuid::now_v7());
        store.write(|b| b.upsert_conversation(&conv).map(drop))?;
        let messages: Vec<Message> = rows.iter().map(|r| r.message(conv.id)).collect();
        let start = Instant::now();
        for chunk in messages.chunks(p.batch) {
            store.apply_batch(chunk, |m| m.seq, |b, m| b.upsert_message(m).map(drop))?;
        }
        api.push(rows.len() as f64 / start.elapsed().as_secs_f64());
    }
    let (enc, plain, api) = (
        median(&mut encrypted),
        median(&mut plaintext),
        median(&mut api),
    );
    Ok(json!({
        "messages": p.insert_rows,
        "batch": p.batch,
        "rounds": p.rounds,
        "encrypted_messages_per_s": enc.round(),
        "plaintext_messages_per_s": plain.round(),
        "encrypted_to_plaintext_ratio": round3(enc / plain),
        "target_ratio": 0.8,
        "store_api_encrypted_messages_per_s": api.round(),
    }))
}

// ---- search latency ----

/// Queries by kind. Each kind mixes rarer and more common terms of the corpus.
const QUERIES_EN: &[&str] = &[
    "teapot",
    "refund",
    "delivery",
    "tracking number",
    "broken lid",
    "invoice",
    "warehouse",
    "courier",
    "discount code",
    "parcel",
    "exchange",
    "damaged",
];
const QUERIES_RU: &[&str] = &[
    "доставк",
    "заказ",
    "возврат",
    "курьер",
    "посылк",
    "скидк",
    "счёт",
    "трек-номер",
    "повреждён",
    "чайник",
];
const QUERIES_ZH: &[&str] = &[
    "我的订单",
    "什么时候发货",
    "快递单号",
    "退款申请",
    "优惠券",
    "茶壶盖子",
    "发票抬头",
    "仓库地址",
];
/// 1–2 character CJK terms: the CJK character index.
const QUERIES_SHORT_CJK: &[&str] = &["退货", "发票", "盒", "退款 仓"];
/// Other 1–2 character terms: LIKE while scanning newest first.
const QUERIES_SHORT: &[&str] = &["ok", "да"];

fn search_latency(dir: &Path, p: &Params) -> anyhow::Result<Value> {
    let path = dir.join("fts.db");
    let key = StoreKey::generate()?;
    let mut store = Store::open(
        &path,
        KeySource::raw_key_for_tests_and_benches(*key.as_bytes()),
    )?;
    let conversations: Vec<Conversation> = (0..(p.fts_rows / 50).max(1))
        .map(|_| conversation(Uuid::now_v7()))
        .collect();
    let build = Instant::now();
    store.write(|b| {
        for c in &conversations {
            b.upsert_conversation(c)?;
        }
        Ok(())
    })?;
    const CHUNK: usize = 10_000;
    let mut written = 0;
    // Order numbers that occur in the corpus (a customer quoting one is a typical search).
    let mut order_numbers: Vec<String> = Vec::new();
    while written < p.fts_rows {
        let n = CHUNK.min(p.fts_rows - written);
        let rows = corpus(0xFEED ^ written as u64, written, n);
        if order_numbers.len() < 4
            && let Some(number) = rows
                .iter()
                .find_map(|r| r.text.split(' ').find(|w| w.starts_with('#')))
        {
            order_numbers.push(number.to_owned());
        }
        store.write(|b| {
            for (i, r) in rows.iter().enumerate() {
                let conv = conversations[(written + i) % conversations.len()].id;
                b.upsert_message(&r.message(conv))?;
            }
            Ok(())
        })?;
        written += n;
    }
    let build_s = build.elapsed().as_secs_f64();
    drop(store);
    let file_bytes = std::fs::metadata(&path)?.len();
    // Search a freshly opened store, as the app does after start.
    let store = Store::open(
        &path,
        KeySource::raw_key_for_tests_and_benches(*key.as_bytes()),
    )?;

    let mut trigram = Vec::new();
    let mut by_kind = serde_json::Map::new();
    let mut total_hits = 0usize;
    for (kind, queries) in [
        ("english", QUERIES_EN),
        ("russian", QUERIES_RU),
        ("chinese", QUERIES_ZH),
        (
            "order_number",
            &order_numbers.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
    ] {
        let (mut times, hits) = time_queries(&store, queries, p.runs_per_query)?;
        total_hits += hits;
        by_kind.insert(kind.into(), summary(&mut times.clone()));
        trigram.append(&mut times);
    }
    ensure!(
        total_hits > 0,
        "no query found anything: the corpus or search is broken"
    );
    let (mut short_cjk, cjk_hits) = time_queries(&store, QUERIES_SHORT_CJK, p.runs_per_query)?;
    ensure!(cjk_hits > 0, "no short CJK query found anything");
    let (mut short, _) = time_queries(&store, QUERIES_SHORT, p.runs_per_query.min(2))?;
    Ok(json!({
        "corpus_messages": p.fts_rows,
        "corpus_build_s": round3(build_s),
        "corpus_build_messages_per_s": (p.fts_rows as f64 / build_s).round(),
        "file_mb": round3(file_bytes as f64 / 1e6),
        "limit": 20,
        "fts_p95_ms": summary(&mut trigram)["p95_ms"],
        "target_p95_ms": 30,
        "fts": summary(&mut trigram),
        "fts_by_kind": by_kind,
        "short_cjk": summary(&mut short_cjk),
        "short_like_fallback": summary(&mut short),
    }))
}

/// Times every query `runs` times (after one untimed warm-up run each).
fn time_queries(
    store: &Store,
    queries: &[&str],
    runs: usize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut times = Vec::new();
    let mut hits = 0;
    for q in queries {
        hits += store.search(q, 20)?.len();
        for _ in 0..runs {
            let start = Instant::now();
            let found = store.search(q, 20)?;
            times.push(start.elapsed());
            std::hint::black_box(found);
        }
    }
    Ok((times, hits))
}

fn summary(times: &mut [Duration]) -> Value {
    times.sort();
    let ms = |d: Duration| round3(d.as_secs_f64() * 1000.0);
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    json!({
        "queries": times.len(),
        "p50_ms": ms(at(0.50)),
        "p95_ms": ms(at(0.95)),
        "max_ms": ms(times[times.len() - 1]),
    })
}

// ---- synthetic corpus ----

/// One generated message.
struct Row {
    id: String,
    wamid: String,
    text: String,
    sent_at_ms: i64,
    seq: i64,
}

impl Row {
    fn message(&self, conversation_id: Uuid) -> Message {
        let at = jiff::Timestamp::from_millisecond(self.sent_at_ms).expect("in range");
        Message {
            id: Uuid::parse_str(&self.id).expect("uuid"),
            wamid: Some(self.wamid.clone()),
            conversation_id,
            direction: if self.seq % 3 == 0 {
                Direction::Out
            } else {
                Direction::In
            },
            kind: "text".into(),
            text: Some(self.text.clone()),
            media: None,
            status: if self.seq % 3 == 0 {
                MessageStatus::Read
            } else {
                MessageStatus::Received
            },
            error: None,
            author_member_id: None,
            sent_at: at,
            updated_at: at,
            seq: self.seq as u64,
        }
    }
}

fn conversation(id: Uuid) -> Conversation {
    Conversation {
        id,
        contact_wa_id: format!("3461{}", id.as_u128() % 10_000_000),
        name: Some("Bench Customer".into()),
        assignee: None,
        team: None,
        status: ConversationStatus::Open,
        snoozed_until: None,
        last_message_preview: None,
        last_message_at: None,
        unread_count: 0,
        window_expires_at: None,
        labels: Vec::new(),
        seq: 1,
    }
}

const EN: &[&str] = &[
    "hi",
    "hello",
    "thanks",
    "please",
    "order",
    "my",
    "the",
    "a",
    "is",
    "where",
    "when",
    "can",
    "i",
    "you",
    "it",
    "was",
    "not",
    "and",
    "with",
    "for",
    "today",
    "tomorrow",
    "yesterday",
    "delivery",
    "refund",
    "return",
    "exchange",
    "parcel",
    "package",
    "courier",
    "tracking",
    "number",
    "address",
    "invoice",
    "payment",
    "card",
    "discount",
    "code",
    "broken",
    "lid",
    "teapot",
    "cup",
    "saucer",
    "kettle",
    "green",
    "tea",
    "black",
    "oolong",
    "sample",
    "box",
    "damaged",
    "wet",
    "late",
    "early",
    "warehouse",
    "store",
    "pickup",
    "weekend",
    "monday",
    "size",
    "colour",
    "blue",
    "white",
    "arrived",
    "missing",
    "wrong",
    "item",
    "help",
    "urgent",
];
const RU: &[&str] = &[
    "здравствуйте",
    "спасибо",
    "пожалуйста",
    "заказ",
    "заказа",
    "заказу",
    "мой",
    "когда",
    "где",
    "доставка",
    "доставки",
    "доставку",
    "возврат",
    "возврата",
    "курьер",
    "курьером",
    "посылка",
    "посылку",
    "трек-номер",
    "адрес",
    "счёт",
    "оплата",
    "карта",
    "скидка",
    "скидку",
    "промокод",
    "разбит",
    "повреждён",
    "крышка",
    "чайник",
    "чашка",
    "зелёный",
    "чай",
    "коробка",
    "мокрая",
    "опоздал",
    "склад",
    "самовывоз",
    "выходные",
    "понедельник",
    "размер",
    "цвет",
    "синий",
    "пришёл",
    "пришла",
    "не",
    "и",
    "с",
    "на",
    "уже",
    "неделя",
    "срочно",
    "да",
    "нет",
];
const ZH: &[&str] = &[
    "你好",
    "谢谢",
    "请问",
    "我的",
    "订单",
    "什么时候",
    "发货",
    "快递",
    "单号",
    "地址",
    "发票",
    "抬头",
    "付款",
    "优惠券",
    "退款",
    "申请",
    "退货",
    "换货",
    "茶壶",
    "盖子",
    "杯子",
    "绿茶",
    "红茶",
    "乌龙茶",
    "样品",
    "盒子",
    "坏了",
    "湿了",
    "晚了",
    "仓库",
    "自提",
    "周末",
    "星期一",
    "尺寸",
    "颜色",
    "蓝色",
    "到了",
    "少了",
    "错了",
    "帮忙",
    "紧急",
    "已经",
    "一周",
    "是",
    "不是",
];

/// A small, fast, deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Skewed towards the start of a word list, so some words are common and some rare.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }
}

/// `n` messages numbered from `first`: 50 % English, 30 % Russian, 20 % Chinese; some
/// carry an order number. Text only; no I/O, so generating 10,000 takes milliseconds.
fn corpus(seed: u64, first: usize, n: usize) -> Vec<Row> {
    let mut rng = Rng(seed);
    let base_ms = 1_750_000_000_000i64;
    (0..n)
        .map(|i| {
            let k = first + i;
            let lang = rng.below(10);
            let words = 5 + rng.below(16);
            let mut text = String::with_capacity(words * 8);
            for w in 0..words {
                match lang {
                    0..=4 => {
                        if w > 0 {
                            text.push(' ');
                        }
                        text.push_str(EN[rng.skewed(EN.len())]);
                    }
                    5..=7 => {
                        if w > 0 {
                            text.push(' ');
                        }
                        text.push_str(RU[rng.skewed(RU.len())]);
                    }
                    _ => text.push_str(ZH[rng.skewed(ZH.len())]),
                }
            }
            if rng.below(4) == 0 {
                text.push_str(&format!(" #{}", 100_000 + rng.below(900_000)));
            }
            Row {
                id: Uuid::now_v7().to_string(),
                wamid: format!("wamid.bench{k:012}"),
                text,
                sent_at_ms: base_ms + k as i64 * 1_000,
                seq: k as i64 + 1,
            }
        })
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

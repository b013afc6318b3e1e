//! Full-text search over message text.
//!
//! - Terms of 3+ characters use the FTS5 `trigram` index, which holds every 3-character
//!   substring, so a Russian stem ("доставк") or a Chinese word inside an unspaced sentence
//!   ("我的订单") is found without a language-specific tokenizer.
//! - Recent first, then relevance: the index is keyed by time (`messages.rowid_`, see
//!   migration 0002), so the [`CANDIDATES`] most recent matches are read straight off it
//!   and ranked by a BM25-style score computed here. FTS5's own `bm25()` is not used: it
//!   counts every match of every term in the store to weigh terms, which costs hundreds of
//!   milliseconds for common words over a million messages. Among the candidates every term
//!   matches, so the score is BM25's term-frequency part with length normalisation
//!   (k1 = 1.2, b = 0.75, average length taken over the candidates), without IDF.
//! - 1–2 character CJK terms (common in Chinese: 退货) use `messages_cjk`, an index of
//!   single CJK characters, as a phrase of characters; other 1–2 character terms ("ok",
//!   "да") are matched with LIKE while scanning newest first, which stops early when they
//!   are common and reads every message when they are rare. Short-term results have rank
//!   0 and come newest first.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::error::Result;
use crate::model::{MARK_END, MARK_START, SearchHit};
use crate::store::{Store, ts_col, uuid_col};

/// Characters of context around a match in a snippet.
const CONTEXT_BEFORE: usize = 20;
const CONTEXT_AFTER: usize = 40;
/// How many of the most recent matches of a 3+ character query [`Store::search`] ranks
/// (at least its `limit`): an older match, however good, is not returned once this many
/// newer messages match.
pub const SEARCH_CANDIDATES: u32 = 200;
use SEARCH_CANDIDATES as CANDIDATES;
/// BM25 parameters (the usual defaults, as FTS5's `bm25()`).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// One matching message, before ranking.
struct Candidate {
    rowid: i64,
    hit: SearchHit,
    text: String,
}

impl Store {
    /// Messages whose text contains every whitespace-separated term of `query` (case
    /// folded), at most `limit`: the best matches among the most recent ones (see the
    /// module docs), best first.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (long, short): (Vec<&str>, Vec<&str>) =
            terms.iter().partition(|t| t.chars().count() >= 3);
        let (cjk, other): (Vec<&str>, Vec<&str>) =
            short.iter().partition(|t| t.chars().all(is_cjk));
        // The driving index: trigram for long terms, else the CJK index, else none (scan).
        let (driver, match_query, like_terms) = if !long.is_empty() {
            (Some("messages_fts"), phrases(&long, ""), short.clone())
        } else if !cjk.is_empty() {
            (Some("messages_cjk"), phrases(&cjk, " "), other.clone())
        } else {
            (None, String::new(), other.clone())
        };
        let mut params: Vec<Value> = Vec::new();
        let mut filter = String::new();
        if let Some(table) = driver {
            params.push(Value::Text(match_query));
            filter.push_str(&format!(" AND {table} MATCH ?1"));
        }
        for term in &like_terms {
            params.push(Value::Text(format!("%{}%", escape_like(term))));
            filter.push_str(&format!(" AND m.text LIKE ?{} ESCAPE '\\'", params.len()));
        }
        let wanted = if long.is_empty() {
            limit
        } else {
            limit.max(CANDIDATES)
        };
        params.push(Value::Integer(i64::from(wanted)));
        let from = match driver {
            Some(table) => format!("{table} JOIN messages m ON m.rowid_ = {table}.rowid"),
            None => "messages m".to_owned(),
        };
        let order = match driver {
            Some(table) => format!("{table}.rowid"),
            None => "m.rowid_".to_owned(),
        };
        let sql = format!(
            "SELECT m.rowid_, m.id, m.conversation_id, m.text, m.sent_at FROM {from}
             WHERE m.text IS NOT NULL{filter} ORDER BY {order} DESC LIMIT ?{}",
            params.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut candidates = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(Candidate {
                    rowid: r.get(0)?,
                    text: r.get(3)?,
                    hit: SearchHit {
                        message_id: uuid_col(r, 1)?,
                        conversation_id: uuid_col(r, 2)?,
                        snippet: String::new(),
                        rank: 0.0,
                        sent_at: ts_col(r, 4)?,
                    },
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !long.is_empty() {
            rank(&mut candidates, &terms);
            candidates.truncate(limit as usize);
        }
        Ok(candidates
            .into_iter()
            .map(|c| SearchHit {
                snippet: highlight_terms(&c.text, &terms),
                ..c.hit
            })
            .collect())
    }
}

/// An FTS5 query ANDing one quoted phrase per term; `sep` goes between a term's characters
/// (a space makes each character a token for the CJK index).
fn phrases(terms: &[&str], sep: &str) -> String {
    terms
        .iter()
        .map(|t| {
            let chars: Vec<String> = t.chars().map(String::from).collect();
            format!("\"{}\"", chars.join(sep).replace('"', "\"\""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sorts candidates best first: BM25's term-frequency part summed over the terms, ties to
/// the more recent. `rank` is the negated score, so lower is better as with `bm25()`.
fn rank(candidates: &mut [Candidate], terms: &[&str]) {
    if candidates.is_empty() {
        return;
    }
    let terms: Vec<Vec<char>> = terms
        .iter()
        .map(|t| t.chars().map(fold).collect())
        .collect();
    let texts: Vec<Vec<char>> = candidates
        .iter()
        .map(|c| c.text.chars().map(fold).collect())
        .collect();
    let average = texts.iter().map(|t| t.len().max(1) as f64).sum::<f64>() / texts.len() as f64;
    for (c, text) in candidates.iter_mut().zip(&texts) {
        let norm = K1 * (1.0 - B + B * text.len().max(1) as f64 / average);
        let score: f64 = terms
            .iter()
            .map(|t| {
                // At least 1: the index matched, even if folding here differs in some corner.
                let tf = count(text, t).max(1) as f64;
                tf * (K1 + 1.0) / (tf + norm)
            })
            .sum();
        c.hit.rank = -score;
    }
    candidates.sort_by(|a, b| {
        a.hit
            .rank
            .total_cmp(&b.hit.rank)
            .then(b.rowid.cmp(&a.rowid))
    });
}

/// Non-overlapping occurrences of `term` in `text` (both folded).
fn count(text: &[char], term: &[char]) -> usize {
    if term.is_empty() {
        return 0;
    }
    let mut n = 0;
    let mut i = 0;
    while i + term.len() <= text.len() {
        if text[i..i + term.len()] == *term {
            n += 1;
            i += term.len();
        } else {
            i += 1;
        }
    }
    n
}

/// Simple case folding of one character, close to the trigram tokenizer's.
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Chinese, Japanese and Korean characters, which the CJK index holds one per token.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // Hiragana, Katakana
        | 0x31F0..=0x31FF // Katakana extensions
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0xFF66..=0xFF9F // Halfwidth Katakana
        | 0x20000..=0x3134F) // CJK Extensions B–G
}

/// What the CJK index holds for `text`: its CJK characters separated by spaces, with `x`
/// between runs so a phrase never joins characters from two runs; `None` without any.
pub(crate) fn cjk_chars(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut in_run = false;
    for c in text.chars() {
        if is_cjk(c) {
            if !in_run && !out.is_empty() {
                out.push_str("x ");
            }
            out.push(c);
            out.push(' ');
            in_run = true;
        } else {
            in_run = false;
        }
    }
    out.pop();
    (!out.is_empty()).then_some(out)
}

fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Case-insensitive comparison of one character.
fn same(a: char, b: char) -> bool {
    a == b || fold(a) == fold(b)
}

/// Char ranges `[start, end)` where any term occurs in `chars`, left to right, not
/// overlapping.
fn find_all(chars: &[char], terms: &[&str]) -> Vec<(usize, usize)> {
    let terms: Vec<Vec<char>> = terms.iter().map(|t| t.chars().collect()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let hit = terms.iter().find(|t| {
            !t.is_empty()
                && i + t.len() <= chars.len()
                && t.iter().zip(&chars[i..]).all(|(a, b)| same(*a, *b))
        });
        match hit {
            Some(t) => {
                out.push((i, i + t.len()));
                i += t.len();
            }
            None => i += 1,
        }
    }
    out
}

/// A snippet around the first match with every match in it marked.
fn highlight_terms(text: &str, terms: &[&str]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let ranges = find_all(&chars, terms);
    let first = ranges.first().map_or(0, |r| r.0);
    let from = first.saturating_sub(CONTEXT_BEFORE);
    let to = (first + CONTEXT_AFTER).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut i = from;
    for &(s, e) in ranges.iter().filter(|(s, _)| *s >= from && *s < to) {
        out.extend(&chars[i..s]);
        out.push(MARK_START);
        out.extend(&chars[s..e]);
        out.push(MARK_END);
        i = e;
    }
    let to = to.max(i);
    out.extend(&chars[i..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &str) -> String {
        s.replace(MARK_START, "[").replace(MARK_END, "]")
    }

    #[test]
    fn short_term_snippet_marks_every_match_in_the_window() {
        let s = highlight_terms("我要退货，退货地址是哪里？", &["退货"]);
        assert_eq!(marked(&s), "我要[退货]，[退货]地址是哪里？");
    }

    #[test]
    fn short_term_snippet_is_cut_around_the_first_match() {
        let text = format!("{}ok{}", "a".repeat(50), "b".repeat(80));
        let s = marked(&highlight_terms(&text, &["OK"]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("[ok]"), "{s}");
        assert_eq!(s.chars().filter(|c| *c == 'a').count(), CONTEXT_BEFORE);
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("5%_a\\"), "5\\%\\_a\\\\");
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use crate::key::KeySource;

    #[test]
    fn cjk_characters_become_tokens_and_runs_stay_apart() {
        assert_eq!(
            cjk_chars("我要退货，退货地址").as_deref(),
            Some("我 要 退 货 x 退 货 地 址")
        );
        assert_eq!(
            cjk_chars("order 返品 ok 환불").as_deref(),
            Some("返 品 x 환 불")
        );
        assert_eq!(cjk_chars("no cjk here, да"), None);
    }

    /// Every search shape reads its index newest first and stops at the limit: no sort
    /// over all matches, no scan where an index exists.
    #[test]
    fn query_plans_walk_the_indexes_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("s.db"),
            KeySource::raw_key_for_tests_and_benches([3; 32]),
        )
        .unwrap();
        for q in ["refund", "退货", "货 ok", "refund 退货", "ok"] {
            store.search(q, 5).unwrap();
        }
        let plan = |sql: &str| -> String {
            let mut stmt = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            rows.join("\n")
        };
        let shape = |table: &str| {
            format!(
                "SELECT m.rowid_, m.text FROM {table} JOIN messages m ON m.rowid_ = {table}.rowid
                 WHERE m.text IS NOT NULL AND {table} MATCH 'x' AND m.text LIKE '%o%'
                 ORDER BY {table}.rowid DESC LIMIT 5"
            )
        };
        for table in ["messages_fts", "messages_cjk"] {
            let p = plan(&shape(table));
            assert!(p.contains("VIRTUAL TABLE INDEX"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "sorts all matches: {p}");
        }
        let p = plan(
            "SELECT m.rowid_ FROM messages m WHERE m.text IS NOT NULL AND m.text LIKE '%o%'
             ORDER BY m.rowid_ DESC LIMIT 5",
        );
        assert!(!p.contains("TEMP B-TREE"), "{p}");
    }
}

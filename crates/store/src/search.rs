//! Full-text search over message text. The FTS5 `trigram` tokenizer indexes every
//! 3-character substring, so a Russian stem ("доставк") or a Chinese word inside an
//! unspaced sentence ("我的订单") is found without a language-specific tokenizer. Terms
//! shorter than three characters (common in Chinese: 退货) cannot use the trigram index,
//! so they are matched with LIKE on the same text.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use crate::error::Result;
use crate::model::{MARK_END, MARK_START, SearchHit};
use crate::store::{Store, ts_col, uuid_col};

/// Characters of context around a match in a snippet built for short terms.
const CONTEXT_BEFORE: usize = 20;
const CONTEXT_AFTER: usize = 40;
/// Tokens in an FTS5 snippet (trigram tokens are characters).
const SNIPPET_TOKENS: u32 = 48;

impl Store {
    /// Messages whose text contains every whitespace-separated term of `query` (case
    /// folded), best match first, at most `limit`.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (long, short): (Vec<&str>, Vec<&str>) =
            terms.iter().partition(|t| t.chars().count() >= 3);
        let mut params: Vec<Value> = Vec::new();
        let mut like = String::new();
        for term in &short {
            params.push(Value::Text(format!("%{}%", escape_like(term))));
            like.push_str(&format!(" AND m.text LIKE ?{} ESCAPE '\\'", params.len()));
        }
        if long.is_empty() {
            params.push(Value::Integer(i64::from(limit)));
            let sql = format!(
                "SELECT m.id, m.conversation_id, m.text, m.sent_at FROM messages m
                 WHERE m.text IS NOT NULL{like}
                 ORDER BY m.sent_at DESC, m.rowid_ DESC LIMIT ?{}",
                params.len()
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let hits = stmt
                .query_map(params_from_iter(params), |r| {
                    let text: String = r.get(2)?;
                    Ok(SearchHit {
                        message_id: uuid_col(r, 0)?,
                        conversation_id: uuid_col(r, 1)?,
                        snippet: highlight_terms(&text, &short),
                        rank: 0.0,
                        sent_at: ts_col(r, 3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            return Ok(hits);
        }
        // Each long term is one quoted phrase; FTS5 ANDs phrases written side by side.
        let fts_query = long
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ");
        params.push(Value::Text(fts_query));
        let match_idx = params.len();
        params.push(Value::Integer(i64::from(limit)));
        let limit_idx = params.len();
        let sql = format!(
            "SELECT m.id, m.conversation_id,
                    snippet(messages_fts, 0, '{MARK_START}', '{MARK_END}', '…', {SNIPPET_TOKENS}),
                    messages_fts.rank, m.sent_at
             FROM messages_fts JOIN messages m ON m.rowid_ = messages_fts.rowid
             WHERE messages_fts MATCH ?{match_idx}{like}
             ORDER BY messages_fts.rank LIMIT ?{limit_idx}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let hits = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(SearchHit {
                    message_id: uuid_col(r, 0)?,
                    conversation_id: uuid_col(r, 1)?,
                    snippet: r.get(2)?,
                    rank: r.get(3)?,
                    sent_at: ts_col(r, 4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if short.is_empty() {
            return Ok(hits);
        }
        // FTS5 only marks the long terms; mark the short ones too.
        Ok(hits
            .into_iter()
            .map(|mut h| {
                h.snippet = mark_inside(&h.snippet, &short);
                h
            })
            .collect())
    }
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

/// Case-insensitive (as LIKE: ASCII only) comparison of one character.
fn same(a: char, b: char) -> bool {
    a.eq_ignore_ascii_case(&b)
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

/// Marks `terms` in the unmarked stretches of an FTS5 snippet.
fn mark_inside(snippet: &str, terms: &[&str]) -> String {
    let mut out = String::new();
    let mut marked = false;
    let mut plain = String::new();
    let flush = |plain: &mut String, out: &mut String| {
        let chars: Vec<char> = plain.chars().collect();
        let mut i = 0;
        for (s, e) in find_all(&chars, terms) {
            out.extend(&chars[i..s]);
            out.push(MARK_START);
            out.extend(&chars[s..e]);
            out.push(MARK_END);
            i = e;
        }
        out.extend(&chars[i..]);
        plain.clear();
    };
    for c in snippet.chars() {
        match c {
            MARK_START => {
                flush(&mut plain, &mut out);
                marked = true;
                out.push(c);
            }
            MARK_END => {
                marked = false;
                out.push(c);
            }
            c if marked => out.push(c),
            c => plain.push(c),
        }
    }
    flush(&mut plain, &mut out);
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

    #[test]
    fn short_terms_are_marked_outside_existing_marks_only() {
        let snippet = format!("买{MARK_START}退货单{MARK_END}后退货");
        assert_eq!(
            marked(&mark_inside(&snippet, &["退货"])),
            "买[退货单]后[退货]"
        );
    }
}

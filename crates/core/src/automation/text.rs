//! Text matching for rules and the FAQ bot: case folding, hashtags and keywords in Latin,
//! Cyrillic and Chinese.
//!
//! - Folding is Unicode lower-casing plus `ё → е` (Russian writers use both spellings for
//!   the same word) and the full-width `＃` that Chinese input methods type for `#`.
//! - A *word* keyword (no CJK characters) matches whole words only: `order` matches
//!   "my order?" but not "reorder". A trailing `*` makes it a prefix (`достав*` matches
//!   "доставка", "доставку"), which Russian inflection needs.
//! - A keyword containing CJK characters matches as a substring: Chinese has no spaces
//!   between words. A phrase of several words (`talk to a person`) matches when the words
//!   appear in that order separated only by non-word characters.
//! - A hashtag is `#` followed by word characters, `-` and `_` (`#order-chase`, `#заказ`,
//!   `#退货`). A CJK tag also matches a longer run (`#退货请处理` carries `#退货`), again
//!   because nothing separates Chinese words.

/// Whether `c` is a CJK ideograph, kana or hangul: scripts written without spaces.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FFFF) // CJK Extensions B and later
}

/// Case-folds `text` the way every keyword, hashtag and message is compared.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ё' | 'Ё' => out.push('е'),
            '＃' => out.push('#'),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Whether `text` folds to exactly `folded` (already folded), without allocating.
pub fn fold_eq(text: &str, folded: &str) -> bool {
    let mut want = folded.chars();
    for c in text.chars() {
        let ok = match c {
            'ё' | 'Ё' => want.next() == Some('е'),
            '＃' => want.next() == Some('#'),
            c if c.is_ascii() => want.next() == Some(c.to_ascii_lowercase()),
            c => c.to_lowercase().all(|l| want.next() == Some(l)),
        };
        if !ok {
            return false;
        }
    }
    want.next().is_none()
}

/// A character that belongs to a word (letters of any script, digits, `_`).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character that may appear inside a hashtag after the `#`.
fn is_tag(c: char) -> bool {
    is_word(c) || c == '-'
}

/// The words of already-folded text: runs of word characters, also split where the script
/// changes between CJK and anything else ("我的order" → "我的", "order").
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    let mut rest = folded;
    std::iter::from_fn(move || {
        let start = rest.find(is_word)?;
        rest = &rest[start..];
        let first_cjk = rest.chars().next().is_some_and(is_cjk);
        let end = rest
            .char_indices()
            .find(|&(_, c)| !is_word(c) || is_cjk(c) != first_cjk)
            .map_or(rest.len(), |(i, _)| i);
        let (word, tail) = rest.split_at(end);
        rest = tail;
        Some(word)
    })
}

/// The hashtags of already-folded text, without the `#` (`"#order-chase now"` →
/// `"order-chase"`). Trailing `-` is not part of a tag.
pub fn hashtags(folded: &str) -> impl Iterator<Item = &str> {
    folded.match_indices('#').filter_map(move |(i, _)| {
        let after = &folded[i + 1..];
        let end = after
            .char_indices()
            .find(|&(_, c)| !is_tag(c))
            .map_or(after.len(), |(j, _)| j);
        let tag = after[..end].trim_end_matches('-');
        (!tag.is_empty()).then_some(tag)
    })
}

/// Normalises a hashtag as written in a rule: folded, without the leading `#`.
pub fn normalize_tag(tag: &str) -> String {
    let folded = fold(tag.trim());
    folded.trim_start_matches('#').to_owned()
}

/// How one keyword is matched, decided once when rules are compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeywordKind {
    /// One word, matched against the message's words.
    Word(String),
    /// A word prefix (`достав*`).
    Prefix(String),
    /// CJK text or a multi-word phrase: matched inside the folded message.
    Substring(String),
    /// Several words in order, separated by non-word characters only.
    Phrase(Vec<String>),
}

/// Classifies a keyword as written in a rule. `None` for an empty keyword.
pub fn classify(keyword: &str) -> Option<KeywordKind> {
    let folded = fold(keyword.trim());
    if folded.is_empty() {
        return None;
    }
    if folded.chars().any(is_cjk) {
        return Some(KeywordKind::Substring(folded));
    }
    if let Some(stem) = folded.strip_suffix('*') {
        let stem = stem.trim();
        if !stem.is_empty() && words(stem).count() == 1 && words(stem).next() == Some(stem) {
            return Some(KeywordKind::Prefix(stem.to_owned()));
        }
    }
    let parts: Vec<String> = words(&folded).map(str::to_owned).collect();
    match parts.len() {
        0 => Some(KeywordKind::Substring(folded)),
        1 => Some(KeywordKind::Word(
            parts.into_iter().next().unwrap_or_default(),
        )),
        _ => Some(KeywordKind::Phrase(parts)),
    }
}

/// A message folded and split once, so that hundreds of conditions can be checked against
/// it without re-scanning the text.
#[derive(Debug)]
pub struct PreparedText {
    pub folded: String,
    pub words: Vec<(usize, usize)>,
    pub tags: Vec<String>,
}

impl PreparedText {
    pub fn new(text: &str) -> PreparedText {
        let folded = fold(text);
        let base = folded.as_ptr() as usize;
        let words = words(&folded)
            .map(|w| {
                let start = w.as_ptr() as usize - base;
                (start, start + w.len())
            })
            .collect();
        let tags = hashtags(&folded).map(str::to_owned).collect();
        PreparedText {
            folded,
            words,
            tags,
        }
    }

    pub fn word(&self, i: usize) -> &str {
        let (s, e) = self.words[i];
        &self.folded[s..e]
    }

    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// Whether the words of `phrase` appear consecutively in the message.
    pub fn has_phrase(&self, phrase: &[String]) -> bool {
        let n = phrase.len();
        if n == 0 || n > self.words.len() {
            return false;
        }
        (0..=self.words.len() - n).any(|i| (0..n).all(|k| self.word(i + k) == phrase[k]))
    }

    /// Whether the message carries hashtag `tag` (normalised, see [`normalize_tag`]).
    pub fn has_tag(&self, tag: &str) -> bool {
        let cjk = tag.chars().any(is_cjk);
        self.tags
            .iter()
            .any(|t| t == tag || (cjk && t.starts_with(tag)))
    }

    /// Whether one keyword matches (the slow path; compiled rules use an index).
    pub fn matches(&self, kind: &KeywordKind) -> bool {
        match kind {
            KeywordKind::Word(w) => (0..self.word_count()).any(|i| self.word(i) == w),
            KeywordKind::Prefix(p) => {
                (0..self.word_count()).any(|i| self.word(i).starts_with(p.as_str()))
            }
            KeywordKind::Substring(s) => self.folded.contains(s.as_str()),
            KeywordKind::Phrase(p) => self.has_phrase(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, keyword: &str) -> bool {
        PreparedText::new(text).matches(&classify(keyword).expect("keyword"))
    }

    #[test]
    fn folding_handles_three_scripts() {
        assert_eq!(
            fold("ORDER Заказ ЁЛКА 退货 ＃TAG"),
            "order заказ елка 退货 #tag"
        );
    }

    #[test]
    fn fold_eq_agrees_with_fold() {
        for (a, b) in [
            ("GOLD", "gold"),
            ("Ёлка", "елка"),
            ("İ", "i̇"),
            ("退货", "退货"),
            ("Gold", "gol"),
            ("Go", "gold"),
        ] {
            assert_eq!(fold_eq(a, b), fold(a) == b, "{a} {b}");
        }
    }

    #[test]
    fn words_split_at_script_changes() {
        let w: Vec<&str> = words("我的order在哪? где-то").collect();
        assert_eq!(w, ["我的", "order", "在哪", "где", "то"]);
    }

    #[test]
    fn latin_and_cyrillic_keywords_match_whole_words_only() {
        assert!(m("Where is my ORDER?", "order"));
        assert!(!m("I want to reorder", "order"));
        assert!(m("Где мой Заказ?", "заказ"));
        assert!(!m("заказчик", "заказ"));
        assert!(m("Нужна ДОСТАВКА", "достав*"));
        assert!(!m("придоставка", "достав*"));
        assert!(m("ёлка", "Елка"));
    }

    #[test]
    fn chinese_keywords_match_inside_text() {
        assert!(m("你好我想退货谢谢", "退货"));
        assert!(!m("你好我想换货", "退货"));
        assert!(m("运费多少", "运费"));
    }

    #[test]
    fn phrases_need_consecutive_words() {
        assert!(m("Can I talk to a person, please", "talk to a person"));
        assert!(!m("talk to a nice person", "talk to a person"));
    }

    #[test]
    fn hashtags_in_three_scripts() {
        let t = PreparedText::new("Hi #Order-Chase, also #заказ and ＃退货请处理 and #-");
        assert_eq!(t.tags, ["order-chase", "заказ", "退货请处理"]);
        assert!(t.has_tag(&normalize_tag("#order-chase")));
        assert!(t.has_tag(&normalize_tag("#ЗАКАЗ")));
        assert!(t.has_tag(&normalize_tag("#退货")));
        assert!(!t.has_tag(&normalize_tag("#order")));
        assert!(!t.has_tag(&normalize_tag("#заказы")));
    }

    #[test]
    fn empty_keywords_are_rejected() {
        assert_eq!(classify("  "), None);
        assert_eq!(classify("*"), Some(KeywordKind::Substring("*".into())));
    }
}

//! Auto-reply safety (cooldowns, never answering an automated message) and the FAQ bot.
//!
//! Detecting an automated inbound message uses three signals, because WhatsApp itself
//! marks none: (1) the relay's own flag (`InboundMessage::automated`, e.g. for messages
//! it knows a bot or the WhatsApp Business app's away message sent), (2) known auto-reply
//! signatures in the text ("auto-reply", "автоответ", "自动回复", …; editable), and (3) a
//! message arriving within a few seconds of our own auto-reply, which no person types that
//! fast and which is how two bots ping-pong.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::text::{KeywordKind, PreparedText, classify, fold};

/// An auto-reply already sent to this customer: its cooldown key and when.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SentAutoReply.ts"))]
pub struct SentAutoReply {
    pub key: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: Timestamp,
}

/// Settings shared by every auto-reply.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AutoReplySettings.ts")
)]
#[serde(default)]
pub struct AutoReplySettings {
    /// The same auto-reply (cooldown key) never reaches one customer twice within this.
    pub cooldown_secs: u32,
    /// Text fragments that mark a message as written by a machine (case-folded substring).
    pub automated_signatures: Vec<String>,
    /// An inbound message this soon after our last auto-reply counts as automated.
    pub bot_echo_secs: u32,
}

impl Default for AutoReplySettings {
    fn default() -> Self {
        AutoReplySettings {
            cooldown_secs: 12 * 3600,
            automated_signatures: [
                "auto-reply",
                "autoreply",
                "automatic reply",
                "this is an automated message",
                "out of office",
                "автоответ",
                "автоматический ответ",
                "автоматическое сообщение",
                "自动回复",
                "自动消息",
            ]
            .map(String::from)
            .to_vec(),
            bot_echo_secs: 3,
        }
    }
}

/// Compiled [`AutoReplySettings`].
#[derive(Clone, Debug)]
pub struct ReplyGuard {
    cooldown: SignedDuration,
    signatures: Vec<String>,
    bot_echo: SignedDuration,
}

impl ReplyGuard {
    pub fn new(s: &AutoReplySettings) -> ReplyGuard {
        ReplyGuard {
            cooldown: SignedDuration::from_secs(i64::from(s.cooldown_secs)),
            signatures: s
                .automated_signatures
                .iter()
                .map(|x| fold(x.trim()))
                .filter(|x| !x.is_empty())
                .collect(),
            bot_echo: SignedDuration::from_secs(i64::from(s.bot_echo_secs)),
        }
    }

    pub fn default_cooldown(&self) -> SignedDuration {
        self.cooldown
    }

    /// Why an inbound message must not be answered automatically, if it must not.
    pub fn automated_reason(
        &self,
        flagged: bool,
        text: &PreparedText,
        sent: &[SentAutoReply],
        now: Timestamp,
    ) -> Option<String> {
        if flagged {
            return Some("the message is marked as automated".into());
        }
        if let Some(sig) = self
            .signatures
            .iter()
            .find(|s| text.folded.contains(s.as_str()))
        {
            return Some(format!("the message looks automated (\"{sig}\")"));
        }
        let last = sent.iter().map(|s| s.at).max()?;
        (now >= last && now.duration_since(last) < self.bot_echo).then(|| {
            format!(
                "the message came {} s after our auto-reply (a bot echo)",
                now.duration_since(last).as_secs()
            )
        })
    }
}

/// Whether the auto-reply `key` may be sent at `now` under `cooldown`; otherwise when it
/// may next be sent.
pub fn cooldown_until(
    key: &str,
    cooldown: SignedDuration,
    sent: &[SentAutoReply],
    now: Timestamp,
) -> Option<Timestamp> {
    let last = sent.iter().filter(|s| s.key == key).map(|s| s.at).max()?;
    let until = last.saturating_add(cooldown).unwrap_or(last);
    (now < until).then_some(until)
}

/// One FAQ answer with its keywords in any languages.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "FaqEntry.ts"))]
pub struct FaqEntry {
    pub id: String,
    /// The question as shown in the editor (not matched).
    pub question: String,
    pub answer: String,
    pub keywords: Vec<String>,
}

/// The FAQ bot. serde: `{"enabled":true,"entries":[…],"handoff_keywords":[…], …}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "FaqBot.ts"))]
#[serde(default)]
pub struct FaqBot {
    pub enabled: bool,
    pub entries: Vec<FaqEntry>,
    /// Always honoured, even with the bot off: the customer asks for a person.
    pub handoff_keywords: Vec<String>,
    /// The team that takes hand-offs (least-loaded member); `None` = the team queue of
    /// whoever has the conversation, else unassigned with supervisors notified.
    pub handoff_team: Option<String>,
    /// Sent to the customer on hand-off (subject to the cooldown).
    pub handoff_reply: String,
    /// Appended to every FAQ answer: how to reach a person.
    pub handoff_hint: String,
    /// An answer needs at least this score (see [`FaqIndex::best`]).
    pub min_score: u32,
}

impl Default for FaqBot {
    fn default() -> Self {
        FaqBot {
            enabled: false,
            entries: Vec::new(),
            handoff_keywords: [
                "talk to a person",
                "talk to a human",
                "speak to a person",
                "human",
                "agent",
                "operator",
                "оператор*",
                "менеджер*",
                "живой человек",
                "позовите человека",
                "поговорить с человеком",
                "人工",
                "转人工",
                "真人",
                "人工客服",
            ]
            .map(String::from)
            .to_vec(),
            handoff_team: None,
            handoff_reply: "A person from our team will reply shortly.".into(),
            handoff_hint: "Reply \"agent\" to talk to a person.".into(),
            min_score: 1,
        }
    }
}

/// Compiled FAQ keywords.
#[derive(Clone, Debug, Default)]
pub struct FaqIndex {
    entries: Vec<Vec<(KeywordKind, u32)>>,
    handoff: Vec<KeywordKind>,
}

/// The score of one matched keyword: its length in characters, CJK characters counting
/// double (one ideograph carries about as much as a short Latin word), so a specific
/// phrase beats a generic word.
fn weight(k: &KeywordKind) -> u32 {
    let s = match k {
        KeywordKind::Word(s) | KeywordKind::Prefix(s) | KeywordKind::Substring(s) => s.as_str(),
        KeywordKind::Phrase(p) => return p.iter().map(|w| weight_str(w)).sum::<u32>() + 1,
    };
    weight_str(s)
}

fn weight_str(s: &str) -> u32 {
    s.chars()
        .map(|c| if super::text::is_cjk(c) { 2 } else { 1 })
        .sum()
}

impl FaqIndex {
    pub fn new(bot: &FaqBot) -> FaqIndex {
        FaqIndex {
            entries: bot
                .entries
                .iter()
                .map(|e| {
                    e.keywords
                        .iter()
                        .filter_map(|k| classify(k))
                        .map(|k| {
                            let w = weight(&k);
                            (k, w)
                        })
                        .collect()
                })
                .collect(),
            handoff: bot
                .handoff_keywords
                .iter()
                .filter_map(|k| classify(k))
                .collect(),
        }
    }

    /// Whether the customer asks for a person.
    pub fn wants_person(&self, text: &PreparedText) -> bool {
        self.handoff.iter().any(|k| text.matches(k))
    }

    /// The best-matching entry and its score: the sum of the weights of its matched
    /// keywords; ties go to the entry listed first. `None` below `min_score`.
    pub fn best(&self, text: &PreparedText, min_score: u32) -> Option<(usize, u32)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, kws)| {
                let score = kws
                    .iter()
                    .filter(|(k, _)| text.matches(k))
                    .map(|(_, w)| *w)
                    .sum::<u32>();
                (i, score)
            })
            .filter(|&(_, s)| s > 0 && s >= min_score)
            .fold(None, |best: Option<(usize, u32)>, (i, s)| match best {
                Some((_, bs)) if bs >= s => best,
                _ => Some((i, s)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> FaqBot {
        FaqBot {
            enabled: true,
            entries: vec![
                FaqEntry {
                    id: "hours".into(),
                    question: "When are you open?".into(),
                    answer: "9–18 Mon–Fri".into(),
                    keywords: vec![
                        "open".into(),
                        "opening hours".into(),
                        "часы работы".into(),
                        "营业时间".into(),
                    ],
                },
                FaqEntry {
                    id: "delivery".into(),
                    question: "How much is delivery?".into(),
                    answer: "5 EUR".into(),
                    keywords: vec![
                        "delivery cost".into(),
                        "delivery".into(),
                        "достав*".into(),
                        "运费".into(),
                    ],
                },
            ],
            ..FaqBot::default()
        }
    }

    #[test]
    fn best_match_in_three_languages() {
        let idx = FaqIndex::new(&bot());
        let best = |t: &str| idx.best(&PreparedText::new(t), 1).map(|(i, _)| i);
        assert_eq!(best("What are your opening hours?"), Some(0));
        assert_eq!(best("Сколько стоит доставка?"), Some(1));
        assert_eq!(best("请问运费多少"), Some(1));
        assert_eq!(best("你们的营业时间是?"), Some(0));
        assert_eq!(
            best("Is delivery open on Sunday? what's the delivery cost"),
            Some(1)
        );
        assert_eq!(best("hello"), None);
    }

    #[test]
    fn talk_to_a_person_in_three_languages() {
        let idx = FaqIndex::new(&bot());
        for t in [
            "Can I talk to a person?",
            "Позовите оператора",
            "оператор!",
            "我要转人工",
            "人工客服",
        ] {
            assert!(idx.wants_person(&PreparedText::new(t)), "{t}");
        }
        assert!(!idx.wants_person(&PreparedText::new("where is my parcel")));
    }

    #[test]
    fn cooldown_blocks_the_same_key_only() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("ts");
        let sent = [SentAutoReply {
            key: "away".into(),
            at: t0,
        }];
        let cd = SignedDuration::from_hours(12);
        let later = |h| t0 + SignedDuration::from_hours(h);
        assert_eq!(
            cooldown_until("away", cd, &sent, later(11)),
            Some(later(12))
        );
        assert_eq!(cooldown_until("away", cd, &sent, later(12)), None);
        assert_eq!(cooldown_until("greeting", cd, &sent, later(1)), None);
    }

    #[test]
    fn automated_messages_are_recognised() {
        let g = ReplyGuard::new(&AutoReplySettings::default());
        let t0 = Timestamp::from_second(1_800_000_000).expect("ts");
        let text = |s: &str| PreparedText::new(s);
        assert!(g.automated_reason(true, &text("hi"), &[], t0).is_some());
        assert!(
            g.automated_reason(false, &text("Автоответ: я в отпуске"), &[], t0)
                .is_some()
        );
        assert!(
            g.automated_reason(false, &text("【自动回复】您好"), &[], t0)
                .is_some()
        );
        assert!(
            g.automated_reason(false, &text("Auto-Reply: away"), &[], t0)
                .is_some()
        );
        let sent = [SentAutoReply {
            key: "away".into(),
            at: t0,
        }];
        assert!(
            g.automated_reason(false, &text("ok"), &sent, t0 + SignedDuration::from_secs(2))
                .is_some()
        );
        assert!(
            g.automated_reason(false, &text("ok"), &sent, t0 + SignedDuration::from_secs(3))
                .is_none()
        );
    }
}

//! Read models the UI renders: inbox rows and timeline items, joined with member and
//! label names from the local store, so a list renders from one call and works offline.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use teamline_core::automation::{SlaKind, SlaState, SlaTarget};
use teamline_store::{
    Conversation, ConversationMarks, Direction, Label, Member, Store, TimelineRow,
};
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::content::{self, MessageContent};
use crate::error::Result;
use crate::wire::MemberName;

/// A label as a chip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "LabelChip.ts")]
pub struct LabelChip {
    pub id: Uuid,
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    pub urgent: bool,
}

/// One row of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "InboxRow.ts")]
pub struct InboxRow {
    pub id: Uuid,
    /// The customer's name, or their number when WhatsApp sent none.
    pub customer_name: String,
    pub customer_number: String,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    pub assignee: Option<MemberName>,
    pub labels: Vec<LabelChip>,
    pub last_message_preview: Option<String>,
    #[ts(type = "string | null")]
    pub last_message_at: Option<Timestamp>,
    pub unread_count: u32,
    /// When WhatsApp's 24-hour window closes (free-form replies end).
    #[ts(type = "string | null")]
    pub window_expires_at: Option<Timestamp>,
    /// Since when the customer has been waiting for an answer: their first message after
    /// the team's last reply (`null`: not waiting).
    #[ts(type = "string | null")]
    pub waiting_since: Option<Timestamp>,
    /// `low`, `normal`, `high` or `urgent`, when automation set one.
    pub priority: Option<String>,
    /// The response-time clock while one runs (`null`: no target, or nothing owed).
    pub sla: Option<SlaClock>,
}

/// A running response-time (SLA) clock, for the inbox's live timer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "SlaClock.ts")]
pub struct SlaClock {
    /// `first_response` or `next_response`.
    pub kind: String,
    #[ts(type = "string")]
    pub due_at: Timestamp,
    /// The target this clock measures, in seconds.
    pub target_secs: u32,
    /// The relay recorded the breach (the inbox shows "overdue" as soon as `due_at` passes).
    pub breached: bool,
}

impl SlaClock {
    /// The clock from the relay's last announcement; `None` when idle or unreadable.
    fn from_marks(marks: &ConversationMarks) -> Option<SlaClock> {
        let sla = marks.sla.as_ref()?;
        let target: SlaTarget = serde_json::from_value(sla.get("target")?.clone()).ok()?;
        let state: SlaState = serde_json::from_value(sla.get("state")?.clone()).ok()?;
        let (kind, due_at, breached) = match state {
            SlaState::Idle => return None,
            SlaState::Running { kind, due_at } => (kind, due_at, false),
            SlaState::Breached { kind, due_at } => (kind, due_at, true),
        };
        let (name, secs) = match kind {
            SlaKind::FirstResponse => ("first_response", target.first_response_secs),
            SlaKind::NextResponse => ("next_response", target.next_response_secs),
        };
        Some(SlaClock {
            kind: name.to_owned(),
            due_at,
            target_secs: secs.unwrap_or(0),
            breached,
        })
    }
}

/// One message in a conversation's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "TimelineItem.ts")]
pub struct TimelineItem {
    pub id: Uuid,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// WhatsApp message type (`text`, `image`, ...).
    pub kind: String,
    pub text: Option<String>,
    /// `received` (inbound), or `queued`, `sent`, `delivered`, `read`, `failed`.
    pub status: String,
    /// Meta's reason for a failed message.
    pub error: Option<String>,
    /// Who sent an outbound message.
    pub author: Option<MemberName>,
    #[ts(type = "string")]
    pub sent_at: Timestamp,
    /// What the message shows, by kind.
    pub content: MessageContent,
    /// The message this one replies to.
    pub reply_to: Option<QuotedMessage>,
    /// WhatsApp marked it forwarded.
    pub forwarded: bool,
    /// Current reactions to this message (at most one per side: WhatsApp keeps one
    /// reaction per sender, a later one replaces it, an empty one removes it).
    pub reactions: Vec<ReactionBadge>,
}

/// The message a reply quotes, as the quote block shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "QuotedMessage.ts")]
pub struct QuotedMessage {
    pub wamid: String,
    /// The quoted message when this device has it (the quote scrolls to it); `None` when
    /// it is older than the local history.
    pub message_id: Option<Uuid>,
    /// `inbound` or `outbound`, when known.
    pub direction: Option<String>,
    pub author: Option<MemberName>,
    /// Its WhatsApp type (`text`, `image`...), when known.
    pub kind: Option<String>,
    /// Its text or caption, shortened.
    pub preview: Option<String>,
}

/// A reaction shown under the reacted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ReactionBadge.ts")]
pub struct ReactionBadge {
    pub emoji: String,
    /// `customer` or `team`.
    pub by: String,
}

/// A message's media bytes ([`Client::media`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaBytes {
    pub mime: String,
    pub bytes: Vec<u8>,
    /// A name to save it under: the document's own file name, else one made from the
    /// message kind and type (`whatsapp-image.jpg`).
    pub file_name: String,
}

/// Longest quoted-message preview, in characters.
const QUOTE_PREVIEW_CHARS: usize = 120;

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::In => "inbound",
        Direction::Out => "outbound",
    }
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTE_PREVIEW_CHARS).collect();
    if text.chars().nth(QUOTE_PREVIEW_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Folds reaction messages (oldest first) into badges per reacted wamid: the latest
/// reaction of each side wins, a removal clears it.
fn fold_reactions(rows: &[TimelineRow]) -> HashMap<String, Vec<ReactionBadge>> {
    let mut latest: HashMap<(String, &'static str), Option<String>> = HashMap::new();
    let mut order: Vec<(String, &'static str)> = Vec::new();
    for row in rows {
        let stored = content::stored(row.content.as_ref(), &row.message.kind, None);
        let MessageContent::Reaction { target, emoji } = stored.content else {
            continue;
        };
        let by = match row.message.direction {
            Direction::In => "customer",
            Direction::Out => "team",
        };
        let key = (target, by);
        if !latest.contains_key(&key) {
            order.push(key.clone());
        }
        latest.insert(key, emoji);
    }
    let mut out: HashMap<String, Vec<ReactionBadge>> = HashMap::new();
    for key in order {
        if let Some(Some(emoji)) = latest.get(&key) {
            out.entry(key.0.clone()).or_default().push(ReactionBadge {
                emoji: emoji.clone(),
                by: key.1.to_owned(),
            });
        }
    }
    out
}

/// A search hit: where it is, and the snippet as `(text, highlighted)` pieces so the UI
/// never parses markup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "SearchResult.ts")]
pub struct SearchResult {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub customer_name: String,
    pub parts: Vec<SnippetPart>,
    #[ts(type = "string")]
    pub sent_at: Timestamp,
}

/// A piece of a search snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "SnippetPart.ts")]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

/// An internal note on a conversation (never sent to the customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "NoteItem.ts")]
pub struct NoteItem {
    pub id: Uuid,
    pub author: Option<MemberName>,
    pub text: String,
    #[ts(type = "string")]
    pub created_at: Timestamp,
}

struct Names {
    members: HashMap<Uuid, String>,
    labels: HashMap<Uuid, Label>,
    /// Label names this device treats as urgent (notification settings), besides the
    /// labels the relay marks urgent.
    urgent_names: Vec<String>,
}

impl Names {
    fn load(s: &Store, urgent_names: Vec<String>) -> teamline_store::Result<Names> {
        Ok(Names {
            urgent_names,
            members: s
                .members()?
                .into_iter()
                .map(|m: Member| (m.id, m.name))
                .collect(),
            labels: s.labels()?.into_iter().map(|l| (l.id, l)).collect(),
        })
    }

    fn member(&self, id: Option<Uuid>) -> Option<MemberName> {
        id.map(|id| MemberName {
            id,
            name: self
                .members
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "A former member".to_owned()),
        })
    }

    fn chip(&self, l: &Label) -> LabelChip {
        LabelChip {
            id: l.id,
            name: l.name.clone(),
            colour: l.colour.clone(),
            urgent: l.urgent
                || self
                    .urgent_names
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&l.name)),
        }
    }

    fn row(
        &self,
        c: Conversation,
        waiting_since: Option<Timestamp>,
        marks: ConversationMarks,
    ) -> InboxRow {
        InboxRow {
            id: c.id,
            customer_name: c.name.clone().unwrap_or_else(|| c.contact_wa_id.clone()),
            customer_number: c.contact_wa_id,
            status: c.status.as_str().to_owned(),
            assignee: self.member(c.assignee),
            labels: c
                .labels
                .iter()
                .filter_map(|id| self.labels.get(id))
                .map(|l| self.chip(l))
                .collect(),
            last_message_preview: c.last_message_preview,
            last_message_at: c.last_message_at,
            unread_count: c.unread_count,
            window_expires_at: c.window_expires_at,
            waiting_since,
            sla: SlaClock::from_marks(&marks),
            priority: marks.priority,
        }
    }

    fn quoted(&self, wamid: String, row: Option<&TimelineRow>) -> QuotedMessage {
        match row {
            Some(r) => QuotedMessage {
                wamid,
                message_id: Some(r.message.id),
                direction: Some(direction_name(r.message.direction).to_owned()),
                author: self.member(r.message.author_member_id),
                kind: Some(r.message.kind.clone()),
                preview: r.message.text.as_deref().map(shorten),
            },
            None => QuotedMessage {
                wamid,
                message_id: None,
                direction: None,
                author: None,
                kind: None,
                preview: None,
            },
        }
    }

    fn item(
        &self,
        row: TimelineRow,
        reply_to: Option<QuotedMessage>,
        reactions: Vec<ReactionBadge>,
    ) -> TimelineItem {
        let m = row.message;
        let mut stored = content::stored(row.content.as_ref(), &m.kind, m.text.as_deref());
        if let Some(media) = stored.content.media_mut() {
            media.ready = row.media_ready;
            media.size = row.media_size.or(media.size);
        }
        TimelineItem {
            id: m.id,
            direction: direction_name(m.direction).to_owned(),
            kind: m.kind,
            text: m.text,
            status: m.status.as_str().to_owned(),
            error: m.error,
            author: self.member(m.author_member_id),
            sent_at: m.sent_at,
            content: stored.content,
            reply_to,
            forwarded: stored.forwarded,
            reactions,
        }
    }
}

impl Client {
    /// Every conversation this device holds, most recent activity first.
    pub async fn inbox(&self) -> Result<Vec<InboxRow>> {
        let urgent = self.notification_settings().urgent_labels;
        self.read(move |s| {
            let names = Names::load(s, urgent)?;
            let mut waiting = s.waiting_since()?;
            let mut marks = s.conversation_marks()?;
            Ok(s.conversations()?
                .into_iter()
                .map(|c| {
                    let since = waiting.remove(&c.id);
                    let m = marks.remove(&c.id).unwrap_or_default();
                    names.row(c, since, m)
                })
                .collect())
        })
        .await
    }

    /// The next `limit` rows of [`Client::inbox`] after the row at `after` = (its
    /// `last_message_at`, its id), or the first `limit`: a big inbox read in pages, so the
    /// first screen is drawn at once and no single answer blocks the window long.
    pub async fn inbox_page(
        &self,
        after: Option<(Option<Timestamp>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<InboxRow>> {
        let urgent = self.notification_settings().urgent_labels;
        self.read(move |s| {
            let names = Names::load(s, urgent)?;
            s.conversations_after(after, limit)?
                .into_iter()
                .map(|c| {
                    let since = s.waiting_since_of(c.id)?;
                    let m = s.conversation_marks_of(c.id)?;
                    Ok(names.row(c, since, m))
                })
                .collect()
        })
        .await
    }

    /// The inbox rows of `ids` (as [`Client::inbox`] makes them), for a shell that
    /// refreshes only the conversations a [`crate::ClientEvent::Applied`] named. Ids this
    /// device no longer holds are left out: the shell drops those rows.
    pub async fn inbox_rows(&self, ids: Vec<Uuid>) -> Result<Vec<InboxRow>> {
        let urgent = self.notification_settings().urgent_labels;
        self.read(move |s| {
            let names = Names::load(s, urgent)?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(c) = s.conversation(id)? {
                    let since = s.waiting_since_of(id)?;
                    let m = s.conversation_marks_of(id)?;
                    rows.push(names.row(c, since, m));
                }
            }
            Ok(rows)
        })
        .await
    }

    /// The newest `limit` messages of a conversation before `before`, oldest first (the
    /// order a timeline draws them), each with its typed content, the message it quotes
    /// and its reactions. Reaction messages are not items of their own.
    pub async fn timeline(
        &self,
        conversation_id: Uuid,
        before: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<TimelineItem>> {
        self.read(move |s| {
            let names = Names::load(s, Vec::new())?;
            let rows = s.timeline_rows(conversation_id, before, limit)?;
            let wamids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.message.wamid.clone())
                .collect();
            let mut reactions = fold_reactions(&s.reactions_to(&wamids)?);
            let by_wamid: HashMap<&str, &TimelineRow> = rows
                .iter()
                .filter_map(|r| r.message.wamid.as_deref().map(|w| (w, r)))
                .collect();
            let mut quotes = Vec::with_capacity(rows.len());
            for r in &rows {
                let stored = content::stored(r.content.as_ref(), &r.message.kind, None);
                let quote = match stored.reply_to {
                    Some(wamid) => match by_wamid.get(wamid.as_str()) {
                        Some(q) => Some(names.quoted(wamid, Some(*q))),
                        None => {
                            let q = s.timeline_row_by_wamid(&wamid)?;
                            Some(names.quoted(wamid, q.as_ref()))
                        }
                    },
                    None => None,
                };
                quotes.push(quote);
            }
            let mut items: Vec<TimelineItem> = rows
                .into_iter()
                .zip(quotes)
                .map(|(r, quote)| {
                    let badges = r
                        .message
                        .wamid
                        .as_deref()
                        .and_then(|w| reactions.remove(w))
                        .unwrap_or_default();
                    names.item(r, quote, badges)
                })
                .collect();
            items.reverse();
            Ok(items)
        })
        .await
    }

    /// Full-text search over this device's messages (works offline), best first.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchResult>> {
        let query = query.to_owned();
        self.read(move |s| {
            let hits = s.search(&query, limit.clamp(1, 200))?;
            let mut names: HashMap<Uuid, String> = HashMap::new();
            let mut out = Vec::with_capacity(hits.len());
            for hit in hits {
                let customer_name = match names.get(&hit.conversation_id) {
                    Some(n) => n.clone(),
                    None => {
                        let n = s
                            .conversation(hit.conversation_id)?
                            .map(|c| c.name.unwrap_or(c.contact_wa_id))
                            .unwrap_or_default();
                        names.insert(hit.conversation_id, n.clone());
                        n
                    }
                };
                out.push(SearchResult {
                    conversation_id: hit.conversation_id,
                    message_id: hit.message_id,
                    customer_name,
                    parts: hit
                        .snippet_parts()
                        .into_iter()
                        .map(|(text, highlighted)| SnippetPart {
                            text: text.to_owned(),
                            highlighted,
                        })
                        .collect(),
                    sent_at: hit.sent_at,
                });
            }
            Ok(out)
        })
        .await
    }

    /// A conversation's internal notes, oldest first.
    pub async fn notes(&self, conversation_id: Uuid) -> Result<Vec<NoteItem>> {
        self.read(move |s| {
            let names = Names::load(s, Vec::new())?;
            Ok(s.notes(conversation_id)?
                .into_iter()
                .map(|n| NoteItem {
                    id: n.id,
                    author: names.member(n.author_member_id),
                    text: n.text,
                    created_at: n.created_at,
                })
                .collect())
        })
        .await
    }

    /// Active members by name (for assigning and @mentions).
    pub async fn member_names(&self) -> Result<Vec<MemberName>> {
        self.read(|s| {
            let mut members: Vec<MemberName> = s
                .members()?
                .into_iter()
                .filter(|m| m.active)
                .map(|m| MemberName {
                    id: m.id,
                    name: m.name,
                })
                .collect();
            members.sort_by_key(|m| m.name.to_lowercase());
            Ok(members)
        })
        .await
    }

    /// The team's labels as chips (the urgent flag follows this device's urgent labels).
    pub async fn label_chips(&self) -> Result<Vec<LabelChip>> {
        let urgent = self.notification_settings().urgent_labels;
        self.read(move |s| {
            let names = Names::load(s, urgent)?;
            let mut chips: Vec<LabelChip> = names.labels.values().map(|l| names.chip(l)).collect();
            chips.sort_by_key(|c| c.name.to_lowercase());
            Ok(chips)
        })
        .await
    }

    /// Unread messages over all conversations (the tray badge).
    pub async fn unread_total(&self) -> Result<u32> {
        self.read(|s| s.unread_total()).await
    }
}

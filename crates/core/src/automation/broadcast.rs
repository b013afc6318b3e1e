//! Broadcast pacing, the pure parts: the daily cap and its halving, opt-out keywords, and
//! which recipients to send to next. Sending exactly once is the relay's job (it records
//! each attempt before calling the Graph API); the planner only never proposes a recipient
//! that already has an attempt, so re-planning after a restart is safe.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::text::fold;

/// The business's broadcast limits.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastPacing.ts")
)]
#[serde(default)]
pub struct Pacing {
    /// Sends per day (team time zone) at full health; default 50 for a new number.
    pub daily_cap: u32,
    /// A day whose failed + blocked share is ABOVE this (percent) halves the next day's cap.
    pub max_failure_percent: f64,
    /// Seconds between two sends.
    pub interval_secs: u32,
    /// Whole-message opt-out words, compared case-folded and without end punctuation.
    pub opt_out_keywords: Vec<String>,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            daily_cap: 50,
            max_failure_percent: 15.0,
            interval_secs: 2,
            opt_out_keywords: vec!["STOP".into(), "СТОП".into(), "退订".into()],
        }
    }
}

/// Whole-message words that undo an opt-out: "START" and its Russian and Chinese
/// counterparts (the same languages as the default opt-out words).
pub const OPT_IN_KEYWORDS: [&str; 3] = ["START", "СТАРТ", "订阅"];

/// One past day of sending.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "BroadcastDay.ts"))]
pub struct DayStats {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub date: Date,
    /// Sends attempted that day.
    pub attempted: u32,
    /// Of those, failed (Meta error) or blocked (recipient blocked, pair-rate limits).
    pub failed: u32,
    pub blocked: u32,
}

impl Pacing {
    /// The cap on `date`, given the history of earlier days.
    ///
    /// Each day with sends whose failure share is above the limit halves the cap for the
    /// next day (never below 1); a healthy day doubles it back, never above `daily_cap`.
    /// Days without sends change nothing. Days on or after `date` are ignored.
    pub fn cap_on(&self, date: Date, history: &[DayStats]) -> u32 {
        let mut days: Vec<&DayStats> = history.iter().filter(|d| d.date < date).collect();
        days.sort_by_key(|d| d.date);
        days.iter().fold(self.daily_cap, |cap, d| {
            if d.attempted == 0 {
                cap
            } else if self.unhealthy(d) {
                (cap / 2).max(1)
            } else {
                cap.saturating_mul(2).min(self.daily_cap)
            }
        })
    }

    fn unhealthy(&self, d: &DayStats) -> bool {
        let bad = f64::from(d.failed.saturating_add(d.blocked));
        bad * 100.0 > self.max_failure_percent * f64::from(d.attempted)
    }

    /// Whether a customer's whole message is an opt-out ("stop", "СТОП!", "退订。").
    pub fn is_opt_out(&self, message: &str) -> bool {
        let m = fold(message.trim().trim_end_matches(['.', '!', '。', '！', ' ']));
        !m.is_empty() && self.opt_out_keywords.iter().any(|k| fold(k.trim()) == m)
    }

    /// Whether a customer's whole message asks to receive broadcasts again
    /// ([`OPT_IN_KEYWORDS`], compared like opt-outs).
    pub fn is_opt_in(message: &str) -> bool {
        let m = fold(message.trim().trim_end_matches(['.', '!', '。', '！', ' ']));
        !m.is_empty() && OPT_IN_KEYWORDS.iter().any(|k| fold(k) == m)
    }

    /// The next recipients to send to: in audience order, skipping anyone already
    /// attempted (whatever the outcome), opted out, or listed twice, at most what is left
    /// of today's cap (`sent_today` attempts so far) and at most `batch`.
    ///
    /// Idempotent: until the relay records new attempts, the same inputs give the same
    /// plan, and a plan never contains an attempted recipient.
    pub fn plan<'a>(
        &self,
        audience: &'a [String],
        attempted: &BTreeSet<String>,
        opted_out: &BTreeSet<String>,
        cap_today: u32,
        sent_today: u32,
        batch: usize,
    ) -> BroadcastPlan<'a> {
        let room = cap_today.saturating_sub(sent_today) as usize;
        let mut seen = BTreeSet::new();
        let mut send = Vec::new();
        let mut opted = 0;
        let mut pending = 0;
        for r in audience {
            if attempted.contains(r) || !seen.insert(r.as_str()) {
                continue;
            }
            if opted_out.contains(r) {
                opted += 1;
                continue;
            }
            pending += 1;
            if send.len() < room.min(batch) {
                send.push(r.as_str());
            }
        }
        let pending_after = pending - send.len();
        BroadcastPlan {
            send,
            skipped_opted_out: opted,
            pending_after,
            cap_left: room,
        }
    }
}

/// What to send now.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BroadcastPlan<'a> {
    pub send: Vec<&'a str>,
    pub skipped_opted_out: usize,
    /// Recipients still to be attempted after this plan is sent.
    pub pending_after: usize,
    /// Sends left today before this plan.
    pub cap_left: usize,
}

/// Who receives a broadcast. All given conditions must hold (AND). At least one is required.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastAudience.ts")
)]
pub struct BroadcastAudience {
    /// Customers whose latest conversation carries this label (label name, e.g. "vip").
    #[serde(default)]
    pub label: Option<String>,
    /// A contact attribute condition, e.g. monthly_spend > 500.
    #[serde(default)]
    pub attribute: Option<AttributeFilter>,
}

/// `key op value` over a customer's contact attributes.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AttributeFilter.ts")
)]
pub struct AttributeFilter {
    pub key: String,
    pub op: AttributeOp,
    /// A number, text or true/false (attributes hold nothing else).
    #[cfg_attr(feature = "ts", ts(type = "number | string | boolean"))]
    pub value: Value,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AttributeOp.ts"))]
#[serde(rename_all = "snake_case")]
pub enum AttributeOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
}

/// Where one template parameter's text comes from, per recipient.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ParamSource.ts"))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParamSource {
    /// The same literal for everyone.
    Text { value: String },
    /// The customer's display name (team's edit, else WhatsApp profile name, else number).
    ContactName,
    /// A contact attribute as text, `fallback` when the customer does not have it.
    Attribute { key: String, fallback: String },
}

/// The approved template a broadcast sends and where its parameters come from.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastTemplate.ts")
)]
pub struct BroadcastTemplate {
    pub name: String,
    /// e.g. "en_US".
    pub language: String,
    /// Text header parameters, in order.
    #[serde(default)]
    pub header_params: Vec<ParamSource>,
    /// Body `{{1}}`.. in order.
    #[serde(default)]
    pub body_params: Vec<ParamSource>,
}

/// What a member composes: sent to preview, and (with an id) to create.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "BroadcastDraft.ts"))]
pub struct BroadcastDraft {
    /// For people: "November sale".
    pub name: String,
    pub audience: BroadcastAudience,
    pub template: BroadcastTemplate,
    /// None = start now; else the first send is not before this instant.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub scheduled_at: Option<Timestamp>,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "BroadcastState.ts"))]
#[serde(rename_all = "snake_case")]
pub enum BroadcastState {
    Scheduled,
    Sending,
    /// Today's cap is used; sending continues tomorrow (team time zone).
    WaitingForTomorrow,
    /// Meta reported a tier or quality limit; sending continues tomorrow.
    Paused,
    Completed,
    Cancelled,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastCounts.ts")
)]
pub struct BroadcastCounts {
    /// Audience size when created (after dedup), opted-out included.
    pub total: u32,
    /// Not yet attempted.
    pub pending: u32,
    /// Attempted, no answer from Meta yet.
    pub queued: u32,
    /// Accepted by Meta, no delivery yet.
    pub sent: u32,
    pub delivered: u32,
    pub read: u32,
    pub failed: u32,
    /// Skipped because the customer opted out.
    pub opted_out: u32,
    /// Not attempted because the broadcast was cancelled.
    #[serde(default)]
    pub cancelled: u32,
}

impl BroadcastCounts {
    /// Counts one recipient in `state`.
    pub fn add(&mut self, state: RecipientState, n: u32) {
        let slot = match state {
            RecipientState::Pending => &mut self.pending,
            RecipientState::Queued => &mut self.queued,
            RecipientState::Sent => &mut self.sent,
            RecipientState::Delivered => &mut self.delivered,
            RecipientState::Read => &mut self.read,
            RecipientState::Failed => &mut self.failed,
            RecipientState::OptedOut => &mut self.opted_out,
            RecipientState::Cancelled => &mut self.cancelled,
        };
        *slot = slot.saturating_add(n);
    }

    /// Recipients that need nothing more from the relay (for a progress bar).
    pub fn done(&self) -> u32 {
        self.total
            .saturating_sub(self.pending.saturating_add(self.queued))
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastSummary.ts")
)]
pub struct BroadcastSummary {
    pub id: Uuid,
    pub name: String,
    pub audience: BroadcastAudience,
    pub template: BroadcastTemplate,
    pub state: BroadcastState,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub scheduled_at: Option<Timestamp>,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: Timestamp,
    /// Member id.
    pub created_by: Uuid,
    pub created_by_name: String,
    pub counts: BroadcastCounts,
    /// Plain words why it is paused/waiting, else None.
    pub note: Option<String>,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RecipientState.ts"))]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    Pending,
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
    OptedOut,
    Cancelled,
}

impl RecipientState {
    pub const ALL: [RecipientState; 8] = [
        RecipientState::Pending,
        RecipientState::Queued,
        RecipientState::Sent,
        RecipientState::Delivered,
        RecipientState::Read,
        RecipientState::Failed,
        RecipientState::OptedOut,
        RecipientState::Cancelled,
    ];

    /// The serde name (`opted_out`), also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Pending => "pending",
            RecipientState::Queued => "queued",
            RecipientState::Sent => "sent",
            RecipientState::Delivered => "delivered",
            RecipientState::Read => "read",
            RecipientState::Failed => "failed",
            RecipientState::OptedOut => "opted_out",
            RecipientState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RecipientState> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The state a recipient's message reaches with a Graph/webhook status (`sent`,
    /// `delivered`, `read`, `failed`), never moving back (a late `sent` after `read`
    /// changes nothing). Pending, opted-out and cancelled recipients have no message.
    pub fn after_status(self, status: &str) -> RecipientState {
        let next = match status {
            "sent" => RecipientState::Sent,
            "delivered" => RecipientState::Delivered,
            "read" => RecipientState::Read,
            "failed" => RecipientState::Failed,
            _ => return self,
        };
        let rank = |s: RecipientState| match s {
            RecipientState::Queued => 0,
            RecipientState::Sent => 1,
            RecipientState::Delivered => 2,
            RecipientState::Read => 3,
            RecipientState::Failed => 4,
            _ => -1,
        };
        if rank(self) < 0 || rank(next) <= rank(self) {
            self
        } else {
            next
        }
    }
}

impl BroadcastState {
    /// The serde name, also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastState::Scheduled => "scheduled",
            BroadcastState::Sending => "sending",
            BroadcastState::WaitingForTomorrow => "waiting_for_tomorrow",
            BroadcastState::Paused => "paused",
            BroadcastState::Completed => "completed",
            BroadcastState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BroadcastState> {
        [
            BroadcastState::Scheduled,
            BroadcastState::Sending,
            BroadcastState::WaitingForTomorrow,
            BroadcastState::Paused,
            BroadcastState::Completed,
            BroadcastState::Cancelled,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }

    /// Completed and cancelled broadcasts send nothing more.
    pub fn is_finished(self) -> bool {
        matches!(self, BroadcastState::Completed | BroadcastState::Cancelled)
    }
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastRecipient.ts")
)]
pub struct BroadcastRecipient {
    pub wa_id: String,
    pub name: String,
    pub state: RecipientState,
    pub conversation_id: Option<Uuid>,
    /// Meta's reason in plain words when failed.
    pub error: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub updated_at: Timestamp,
}

#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastPreview.ts")
)]
pub struct BroadcastPreview {
    /// Recipients after dedup.
    pub total: u32,
    pub opted_out: u32,
    /// The first 5 recipients, rendered.
    pub samples: Vec<PreviewSample>,
    pub cap_today: u32,
    pub sent_today: u32,
    /// Days needed at today's cap (1 when it fits today; 0 for an empty audience).
    pub days_needed: u32,
    /// e.g. unknown template, wrong parameter count, empty audience.
    pub problems: Vec<String>,
}

#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "PreviewSample.ts"))]
pub struct PreviewSample {
    pub wa_id: String,
    pub name: String,
    pub header: Vec<String>,
    pub body: Vec<String>,
    /// Template body with params filled.
    pub text: String,
}

/// `GET/PUT /v1/broadcasts/settings`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "BroadcastSettings.ts")
)]
pub struct BroadcastSettings {
    pub pacing: Pacing,
    /// Read-only (ignored on PUT): after halvings.
    pub cap_today: u32,
    /// Read-only.
    pub sent_today: u32,
    /// Read-only, last 14 days.
    pub history: Vec<DayStats>,
}

/// Longest broadcast name.
pub const MAX_NAME_CHARS: usize = 100;

impl BroadcastAudience {
    /// Plain-words problems (empty: usable).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.label.is_none() && self.attribute.is_none() {
            out.push("Choose an audience: a label, a contact attribute, or both.".to_owned());
        }
        if self.label.as_deref().is_some_and(|l| l.trim().is_empty()) {
            out.push("The audience label is empty.".to_owned());
        }
        if let Some(a) = &self.attribute {
            if a.key.trim().is_empty() {
                out.push("The audience attribute has no name.".to_owned());
            }
            let comparable = match a.op {
                AttributeOp::Gt | AttributeOp::Gte | AttributeOp::Lt | AttributeOp::Lte => {
                    number(&a.value).is_some()
                }
                AttributeOp::Contains => a.value.is_string(),
                AttributeOp::Eq | AttributeOp::Ne => {
                    a.value.is_string() || a.value.is_number() || a.value.is_boolean()
                }
            };
            if !comparable {
                out.push(format!(
                    "The audience condition on {:?} needs a {} value.",
                    a.key,
                    match a.op {
                        AttributeOp::Contains => "text",
                        AttributeOp::Eq | AttributeOp::Ne => "number, text or true/false",
                        _ => "number",
                    }
                ));
            }
        }
        out
    }
}

/// A JSON number, or text that reads as one (`"600"`).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

impl AttributeFilter {
    /// Whether a customer's attribute value (None: the customer does not have it) meets
    /// the condition. A missing attribute never matches, `ne` included ("spend ≠ 0"
    /// means customers whose spend is known and not 0). Numbers compare as numbers
    /// (numeric text counts: attributes typed by hand are often text); text compares
    /// case-insensitively; `contains` is a case-insensitive substring of text, or an
    /// element of a list.
    pub fn matches(&self, actual: Option<&Value>) -> bool {
        let Some(actual) = actual.filter(|v| !v.is_null()) else {
            return false;
        };
        let nums = number(actual).zip(number(&self.value));
        match self.op {
            AttributeOp::Eq => equal(actual, &self.value),
            AttributeOp::Ne => !equal(actual, &self.value),
            AttributeOp::Gt => nums.is_some_and(|(a, b)| a > b),
            AttributeOp::Gte => nums.is_some_and(|(a, b)| a >= b),
            AttributeOp::Lt => nums.is_some_and(|(a, b)| a < b),
            AttributeOp::Lte => nums.is_some_and(|(a, b)| a <= b),
            AttributeOp::Contains => {
                let Some(want) = self.value.as_str().map(fold) else {
                    return false;
                };
                match actual {
                    Value::Array(items) => items
                        .iter()
                        .any(|i| i.as_str().is_some_and(|s| fold(s.trim()) == want.trim())),
                    other => as_text(other).is_some_and(|t| fold(&t).contains(&want)),
                }
            }
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (number(a), number(b))
        && (a.is_number() || b.is_number())
    {
        return x == y;
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => match (as_text(a), as_text(b)) {
            (Some(x), Some(y)) => fold(x.trim()) == fold(y.trim()),
            _ => false,
        },
    }
}

/// An attribute value as a person would write it: `600`, `12.5`, `true`, `gold`.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// Meta refuses text parameters with new lines, tabs or more than 4 spaces in a row
/// (error 132018), and empty ones: rendered values are cleaned of those.
pub fn clean_param(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut spaces = 0;
    for c in text.trim().chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            spaces += 1;
            if spaces > 1 {
                continue;
            }
        } else {
            spaces = 0;
        }
        out.push(c);
    }
    out
}

impl ParamSource {
    /// The text for one recipient. `name` is the customer's display name (never empty:
    /// the relay falls back to the number).
    pub fn render(&self, name: &str, attributes: &BTreeMap<String, Value>) -> String {
        let raw = match self {
            ParamSource::Text { value } => value.clone(),
            ParamSource::ContactName => name.to_owned(),
            ParamSource::Attribute { key, fallback } => attributes
                .get(key)
                .and_then(as_text)
                .filter(|t| !clean_param(t).is_empty())
                .unwrap_or_else(|| fallback.clone()),
        };
        clean_param(&raw)
    }

    /// A problem that makes the parameter empty for some customer.
    fn problem(&self, part: &str, position: usize) -> Option<String> {
        match self {
            ParamSource::Text { value } if clean_param(value).is_empty() => {
                Some(format!("The {part} parameter {position} is empty text."))
            }
            ParamSource::Attribute { key, .. } if key.trim().is_empty() => Some(format!(
                "The {part} parameter {position} names no attribute."
            )),
            ParamSource::Attribute { key, fallback } if clean_param(fallback).is_empty() => {
                Some(format!(
                    "The {part} parameter {position} needs a fallback for customers without {key:?}."
                ))
            }
            _ => None,
        }
    }
}

/// One recipient's rendered template parameters.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct RenderedParams {
    pub header: Vec<String>,
    pub body: Vec<String>,
}

impl BroadcastTemplate {
    /// The parameters for one recipient.
    pub fn render(&self, name: &str, attributes: &BTreeMap<String, Value>) -> RenderedParams {
        RenderedParams {
            header: self
                .header_params
                .iter()
                .map(|p| p.render(name, attributes))
                .collect(),
            body: self
                .body_params
                .iter()
                .map(|p| p.render(name, attributes))
                .collect(),
        }
    }

    /// Problems found without the template list: names, empty literals and fallbacks,
    /// and (given the approved template's placeholder counts) the parameter counts.
    pub fn problems(&self, expected: Option<(usize, usize)>) -> Vec<String> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() || self.language.trim().is_empty() {
            out.push("Choose an approved template and its language.".to_owned());
        }
        for (part, params) in [("header", &self.header_params), ("body", &self.body_params)] {
            for (i, p) in params.iter().enumerate() {
                out.extend(p.problem(part, i + 1));
            }
        }
        if let Some((header, body)) = expected {
            for (part, want, given) in [
                ("header", header, self.header_params.len()),
                ("body", body, self.body_params.len()),
            ] {
                if want != given {
                    out.push(format!(
                        "Template {:?} needs {want} {part} parameter(s); {given} given.",
                        self.name
                    ));
                }
            }
        }
        out
    }
}

impl BroadcastDraft {
    /// Problems found without the relay's data (see [`BroadcastTemplate::problems`]).
    pub fn problems(&self, expected: Option<(usize, usize)>) -> Vec<String> {
        let mut out = Vec::new();
        let n = self.name.trim().chars().count();
        if n == 0 {
            out.push("Give the broadcast a name.".to_owned());
        } else if n > MAX_NAME_CHARS {
            out.push(format!(
                "A broadcast name has at most {MAX_NAME_CHARS} characters."
            ));
        }
        out.extend(self.audience.problems());
        out.extend(self.template.problems(expected));
        out
    }
}

/// Calendar days a broadcast to `recipients` takes: today while `cap_today - sent_today`
/// lasts, then each later day at a cap that doubles back towards `daily_cap` (what
/// [`Pacing::cap_on`] gives after healthy days). 0 for nobody; 1 when it fits today.
pub fn days_needed(recipients: u32, cap_today: u32, sent_today: u32, daily_cap: u32) -> u32 {
    if recipients == 0 {
        return 0;
    }
    let room = cap_today.saturating_sub(sent_today);
    let mut left = recipients;
    let mut days = 0;
    if room > 0 {
        days = 1;
        left = left.saturating_sub(room);
    }
    let mut cap = if room > 0 {
        cap_today.saturating_mul(2).min(daily_cap)
    } else {
        cap_today
    }
    .max(1);
    while left > 0 {
        days += 1;
        left = left.saturating_sub(cap);
        cap = cap.saturating_mul(2).min(daily_cap.max(1));
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn attrs(v: serde_json::Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn filter(key: &str, op: AttributeOp, value: Value) -> AttributeFilter {
        AttributeFilter {
            key: key.into(),
            op,
            value,
        }
    }

    #[test]
    fn attribute_filters_compare_numbers_text_and_lists() {
        use serde_json::json;
        let gt = filter("monthly_spend", AttributeOp::Gt, json!(500));
        assert!(gt.matches(Some(&json!(600))));
        assert!(gt.matches(Some(&json!("600"))), "numeric text counts");
        assert!(!gt.matches(Some(&json!(500))));
        assert!(!gt.matches(Some(&json!("lots"))));
        assert!(!gt.matches(None));
        assert!(filter("s", AttributeOp::Gte, json!(500)).matches(Some(&json!(500.0))));
        assert!(filter("s", AttributeOp::Lt, json!(10)).matches(Some(&json!(-1))));
        assert!(!filter("s", AttributeOp::Lte, json!(10)).matches(Some(&json!(10.5))));

        let eq = filter("tier", AttributeOp::Eq, json!("Gold"));
        assert!(eq.matches(Some(&json!("gold "))));
        assert!(!eq.matches(Some(&json!("silver"))));
        assert!(filter("n", AttributeOp::Eq, json!(5)).matches(Some(&json!("5.0"))));
        assert!(filter("vip", AttributeOp::Eq, json!(true)).matches(Some(&json!(true))));
        assert!(!filter("vip", AttributeOp::Eq, json!(true)).matches(Some(&json!(false))));

        let ne = filter("tier", AttributeOp::Ne, json!("gold"));
        assert!(ne.matches(Some(&json!("silver"))));
        assert!(!ne.matches(Some(&json!("GOLD"))));
        assert!(!ne.matches(None), "a missing attribute never matches");
        assert!(!ne.matches(Some(&Value::Null)));

        let contains = filter("city", AttributeOp::Contains, json!("моск"));
        assert!(contains.matches(Some(&json!("Москва"))));
        assert!(!contains.matches(Some(&json!("Казань"))));
        let tags = filter("tags", AttributeOp::Contains, json!("Wholesale"));
        assert!(tags.matches(Some(&json!(["retail", "wholesale"]))));
        assert!(!tags.matches(Some(&json!(["wholesaler"]))));
    }

    #[test]
    fn audience_needs_a_usable_condition() {
        use serde_json::json;
        assert_eq!(BroadcastAudience::default().problems().len(), 1);
        let label = BroadcastAudience {
            label: Some("vip".into()),
            attribute: None,
        };
        assert!(label.problems().is_empty());
        let bad = BroadcastAudience {
            label: Some(" ".into()),
            attribute: Some(filter("spend", AttributeOp::Gt, json!("many"))),
        };
        let p = bad.problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[1].contains("number"), "{p:?}");
        let ok = BroadcastAudience {
            label: None,
            attribute: Some(filter("spend", AttributeOp::Gt, json!("500"))),
        };
        assert!(ok.problems().is_empty());
    }

    #[test]
    fn parameters_render_per_recipient_with_fallbacks_and_meta_safe_text() {
        use serde_json::json;
        let t = BroadcastTemplate {
            name: "sale".into(),
            language: "en_US".into(),
            header_params: vec![ParamSource::Text {
                value: "November  \n sale".into(),
            }],
            body_params: vec![
                ParamSource::ContactName,
                ParamSource::Attribute {
                    key: "monthly_spend".into(),
                    fallback: "0".into(),
                },
                ParamSource::Attribute {
                    key: "tier".into(),
                    fallback: "friend".into(),
                },
            ],
        };
        let a = t.render("Ana", &attrs(json!({"monthly_spend": 600, "tier": "gold"})));
        assert_eq!(a.header, ["November sale"]);
        assert_eq!(a.body, ["Ana", "600", "gold"]);
        let b = t.render(
            "+7 999",
            &attrs(json!({"monthly_spend": 12.5, "tier": "  "})),
        );
        assert_eq!(b.body, ["+7 999", "12.5", "friend"]);
        let c = t.render("Li\tWei", &BTreeMap::new());
        assert_eq!(c.body, ["Li Wei", "0", "friend"]);
        assert!(t.problems(Some((1, 3))).is_empty());
        let wrong = t.problems(Some((0, 2)));
        assert_eq!(wrong.len(), 2, "{wrong:?}");
        assert!(wrong[0].contains("needs 0 header"), "{wrong:?}");
    }

    #[test]
    fn empty_literals_fallbacks_names_are_problems() {
        let t = BroadcastTemplate {
            name: "".into(),
            language: "en_US".into(),
            header_params: vec![],
            body_params: vec![
                ParamSource::Text { value: " ".into() },
                ParamSource::Attribute {
                    key: "tier".into(),
                    fallback: "".into(),
                },
            ],
        };
        let draft = BroadcastDraft {
            name: "  ".into(),
            audience: BroadcastAudience::default(),
            template: t,
            scheduled_at: None,
        };
        let p = draft.problems(None);
        assert_eq!(p.len(), 5, "{p:?}");
    }

    #[test]
    fn wire_names_match_the_contract() {
        use serde_json::json;
        let draft: BroadcastDraft = serde_json::from_value(json!({
            "name": "November sale",
            "audience": {"label": "vip", "attribute": {"key": "monthly_spend", "op": "gte", "value": 500}},
            "template": {"name": "sale", "language": "en_US", "header_params": [],
                "body_params": [{"kind": "contact_name"}, {"kind": "text", "value": "20%"},
                    {"kind": "attribute", "key": "tier", "fallback": "friend"}]},
            "scheduled_at": "2026-11-21T09:00:00Z"
        }))
        .unwrap();
        assert_eq!(draft.template.body_params[0], ParamSource::ContactName);
        assert_eq!(
            draft.audience.attribute.as_ref().unwrap().op,
            AttributeOp::Gte
        );
        let back = serde_json::to_value(&draft).unwrap();
        assert_eq!(back["template"]["body_params"][2]["kind"], "attribute");
        assert_eq!(
            serde_json::to_value(BroadcastState::WaitingForTomorrow).unwrap(),
            "waiting_for_tomorrow"
        );
        for r in RecipientState::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(RecipientState::parse(r.as_str()), Some(r));
        }
        for b in [
            BroadcastState::Scheduled,
            BroadcastState::Sending,
            BroadcastState::WaitingForTomorrow,
            BroadcastState::Paused,
            BroadcastState::Completed,
            BroadcastState::Cancelled,
        ] {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
            assert_eq!(BroadcastState::parse(b.as_str()), Some(b));
        }
    }

    #[test]
    fn recipient_states_only_move_forward() {
        use RecipientState as R;
        assert_eq!(R::Queued.after_status("sent"), R::Sent);
        assert_eq!(R::Queued.after_status("read"), R::Read);
        assert_eq!(R::Read.after_status("delivered"), R::Read);
        assert_eq!(R::Delivered.after_status("failed"), R::Failed);
        assert_eq!(R::Failed.after_status("read"), R::Failed);
        assert_eq!(R::Pending.after_status("sent"), R::Pending);
        assert_eq!(R::Cancelled.after_status("failed"), R::Cancelled);
        assert_eq!(R::Sent.after_status("accepted"), R::Sent);
        let mut c = BroadcastCounts {
            total: 10,
            ..Default::default()
        };
        c.add(R::Pending, 3);
        c.add(R::Queued, 2);
        c.add(R::Read, 5);
        assert_eq!(c.done(), 5);
    }

    #[test]
    fn days_needed_at_todays_cap() {
        assert_eq!(days_needed(0, 50, 0, 50), 0);
        assert_eq!(days_needed(50, 50, 0, 50), 1);
        assert_eq!(days_needed(51, 50, 0, 50), 2);
        assert_eq!(days_needed(1000, 50, 0, 50), 20);
        // Today used up: starts tomorrow.
        assert_eq!(days_needed(10, 50, 50, 50), 1);
        // Halved to 25 with 5 used: 20 today, then 50, 50.
        assert_eq!(days_needed(120, 25, 5, 50), 3);
    }

    #[test]
    fn opt_out_is_the_whole_message_in_three_languages() {
        let p = Pacing::default();
        for m in ["STOP", "stop", " Stop! ", "СТОП", "стоп.", "退订", "退订。"] {
            assert!(p.is_opt_out(m), "{m}");
        }
        for m in ["don't stop", "stop it", "стопка", "我要退订吗", "", "!"] {
            assert!(!p.is_opt_out(m), "{m}");
        }
        for m in ["START", "start!", "Старт", "订阅。"] {
            assert!(Pacing::is_opt_in(m), "{m}");
            assert!(!p.is_opt_out(m), "{m}");
        }
        for m in ["start now", "stop", "退订"] {
            assert!(!Pacing::is_opt_in(m), "{m}");
        }
    }

    #[test]
    fn seed_cap_and_halving_over_two_simulated_days() {
        let pacing = Pacing::default();
        let audience: Vec<String> = (0..120).map(|i| format!("r{i:03}")).collect();
        let opted: BTreeSet<String> = ["r003".to_string()].into();
        let mut attempted = BTreeSet::new();
        let mut history = Vec::new();

        // Day 1: cap 50. Batches of 20 until the cap is used up.
        let day1 = date(2026, 11, 21);
        let cap1 = pacing.cap_on(day1, &history);
        assert_eq!(cap1, 50);
        let mut sent = 0;
        loop {
            let plan = pacing.plan(&audience, &attempted, &opted, cap1, sent, 20);
            if plan.send.is_empty() {
                break;
            }
            // Re-planning before recording anything proposes the same batch.
            assert_eq!(
                plan,
                pacing.plan(&audience, &attempted, &opted, cap1, sent, 20)
            );
            for r in &plan.send {
                assert!(attempted.insert((*r).to_string()), "{r} twice");
            }
            sent += plan.send.len() as u32;
        }
        assert_eq!(sent, 50);
        assert!(!attempted.contains("r003"));
        // 8 of 50 failed (16% > 15%): tomorrow's cap halves.
        history.push(DayStats {
            date: day1,
            attempted: 50,
            failed: 5,
            blocked: 3,
        });

        let day2 = date(2026, 11, 22);
        let cap2 = pacing.cap_on(day2, &history);
        assert_eq!(cap2, 25);
        let plan = pacing.plan(&audience, &attempted, &opted, cap2, 0, 100);
        assert_eq!(plan.send.len(), 25);
        assert_eq!(plan.send[0], "r051");
        assert!(plan.send.iter().all(|r| !attempted.contains(*r)));
        assert_eq!(plan.pending_after, 120 - 50 - 1 - 25);
        history.push(DayStats {
            date: day2,
            attempted: 25,
            failed: 0,
            blocked: 0,
        });
        // Exactly 15% is not above the limit; a healthy day doubles back up to the cap.
        assert_eq!(pacing.cap_on(date(2026, 11, 23), &history), 50);
        let borderline = [DayStats {
            date: day1,
            attempted: 20,
            failed: 3,
            blocked: 0,
        }];
        assert_eq!(pacing.cap_on(day2, &borderline), 50);
    }
}

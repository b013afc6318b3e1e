//! Rules as the business edits them (serde, stored as JSON on the relay) and the facts one
//! evaluation reads.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::assign::AssignmentPolicy;
use super::hours::{BusinessHours, Language};
use super::labels::AutoLabels;
use super::replies::{AutoReplySettings, FaqBot, SentAutoReply};
use super::sla::{SlaKind, SlaPolicy, SlaTarget};

/// One rule: when `trigger` happens and `conditions` hold, do `actions`.
///
/// Rules run in ascending `order` (ties by `id`); a rule that fires with
/// `stop_processing` ends the pass. Disabled rules are skipped.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Rule.ts"))]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub order: i32,
    pub trigger: Trigger,
    #[serde(default)]
    pub conditions: Conditions,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub stop_processing: bool,
}

/// What starts an evaluation. serde: `{"type":"message_received"}`,
/// `{"type":"no_reply","after_secs":3600}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RuleTrigger.ts"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    MessageReceived,
    ConversationOpened,
    /// A label was added; `None` = any label.
    LabelAdded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        label: Option<String>,
    },
    /// The customer has waited this long for our reply (fires once, when crossed).
    NoReply {
        after_secs: u32,
    },
    /// An SLA clock ran out; `None` = either kind.
    SlaDue {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        kind: Option<SlaKind>,
    },
}

/// All or any of the conditions; an empty list always holds.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RuleConditions.ts"))]
pub struct Conditions {
    #[serde(rename = "match", default)]
    pub mode: Match,
    #[serde(default)]
    pub items: Vec<Condition>,
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RuleMatch.ts"))]
#[serde(rename_all = "snake_case")]
pub enum Match {
    #[default]
    All,
    Any,
}

/// One condition. serde: `{"type":"hashtag","tag":"#order-chase"}`,
/// `{"type":"attribute","key":"monthly_spend_usd","test":{"op":"gt","value":500}}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RuleCondition.ts"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// The message carries this hashtag (`#order-chase`, `#заказ`, `#退货`).
    Hashtag { tag: String },
    /// The message contains any of these keywords (see `automation::text` for matching).
    Keyword { any: Vec<String> },
    /// The conversation has (or, with `present: false`, lacks) this label.
    Label {
        label: String,
        #[serde(default = "yes")]
        present: bool,
    },
    /// A contact attribute passes a test; a missing or mistyped attribute fails.
    Attribute { key: String, test: AttributeTest },
    /// First contact within the last `within_hours` (or this very message).
    NewCustomer { within_hours: u32 },
    /// Inside (`open: true`) or outside business hours.
    BusinessHours { open: bool },
    /// The assignee's conversations waiting for a reply compare to `value`.
    AssigneeWaiting { cmp: Comparison, value: u32 },
    /// Whether any member of `team` is online and under capacity.
    TeamAvailable { team: String, available: bool },
}

fn yes() -> bool {
    true
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Comparison.ts"))]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Gt,
    Lt,
    Eq,
}

impl Comparison {
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Comparison::Gt => a > b,
            Comparison::Lt => a < b,
            Comparison::Eq => a == b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Lt => "<",
            Comparison::Eq => "=",
        }
    }
}

/// serde: `{"op":"gt","value":500}`, `{"op":"text_contains","value":"gold"}`,
/// `{"op":"is","value":true}`. Text tests are case-insensitive.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AttributeTest.ts"))]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum AttributeTest {
    Gt(f64),
    Lt(f64),
    Eq(f64),
    TextEquals(String),
    TextContains(String),
    Is(bool),
}

/// A contact attribute value. serde: plain JSON `true`, `600`, `"gold"`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AttributeValue.ts"))]
#[serde(untagged)]
pub enum AttributeValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Priority.ts"))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// Who a notification goes to.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "NotifyTarget.ts"))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotifyTarget {
    Supervisors,
    /// The conversation's assignee (as planned by this evaluation, else the current one).
    Assignee,
    Members {
        ids: Vec<String>,
    },
    /// Every member of a team.
    Team {
        team: String,
    },
}

/// One action. serde: `{"type":"add_label","label":"returns"}`,
/// `{"type":"assign_least_loaded","team":"logistics"}`,
/// `{"type":"set_sla","first_response_secs":30}`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RuleAction.ts"))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    AddLabel {
        label: String,
    },
    /// To the team's queue, no member.
    AssignTeam {
        team: String,
    },
    AssignMember {
        member: String,
    },
    AssignLeastLoaded {
        team: String,
    },
    AssignRoundRobin {
        team: String,
    },
    SetPriority {
        priority: Priority,
    },
    /// `{reply_eta}` in `text` becomes the wait until business hours open ("2 hours");
    /// `key` identifies the reply for its cooldown (default: the settings' 12 h).
    AutoReply {
        key: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        cooldown_secs: Option<u32>,
        #[serde(default)]
        language: Language,
    },
    Notify {
        to: NotifyTarget,
        text: String,
    },
    SetSla {
        #[serde(flatten)]
        target: SlaTarget,
    },
}

/// Everything the business configures, stored as one JSON document on the relay.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AutomationSettings.ts")
)]
pub struct AutomationSettings {
    pub rules: Vec<Rule>,
    pub business_hours: BusinessHours,
    #[serde(default)]
    pub assignment: AssignmentPolicy,
    #[serde(default)]
    pub auto_labels: AutoLabels,
    #[serde(default)]
    pub sla: SlaPolicy,
    #[serde(default)]
    pub auto_replies: AutoReplySettings,
    #[serde(default)]
    pub faq: FaqBot,
}

/// What happened, from the relay.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AutomationEvent.ts")
)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MessageReceived,
    ConversationOpened,
    LabelAdded {
        label: String,
    },
    /// A timer tick while the customer waits; `previous_tick` makes `no_reply` rules fire
    /// once: only thresholds crossed since then fire.
    NoReplyTick {
        #[cfg_attr(feature = "ts", ts(type = "string | null"))]
        previous_tick: Option<Timestamp>,
    },
    SlaDue {
        kind: SlaKind,
    },
}

/// The inbound message, when the event is one.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "InboundMessage.ts"))]
pub struct InboundMessage {
    pub text: String,
    /// Set by the relay when it knows a machine sent it.
    #[serde(default)]
    pub automated: bool,
}

/// The conversation as the relay knows it.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "ConversationFacts.ts")
)]
pub struct ConversationFacts {
    pub id: String,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_customer_message_at: Option<Timestamp>,
    /// Our last reply by a person.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_agent_reply_at: Option<Timestamp>,
    /// The earliest customer message we have not answered yet.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub unanswered_since: Option<Timestamp>,
}

/// The customer.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ContactFacts.ts"))]
pub struct ContactFacts {
    pub id: String,
    /// `None`: this message is the first contact.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub first_contact_at: Option<Timestamp>,
    /// Customer messages so far, this one included.
    #[serde(default)]
    pub interactions: u32,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Auto-replies already sent to this customer (for cooldowns); the last 24 h suffice.
    #[serde(default)]
    pub auto_replies_sent: Vec<SentAutoReply>,
}

/// The facts of one evaluation (also what the dry run sends).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AutomationContext.ts")
)]
pub struct Context {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub now: Timestamp,
    pub event: Event,
    #[serde(default)]
    pub message: Option<InboundMessage>,
    pub conversation: ConversationFacts,
    pub contact: ContactFacts,
}

/// Describes a condition for the dry run ("hashtag #returns").
pub fn describe(c: &Condition) -> String {
    match c {
        Condition::Hashtag { tag } => format!("hashtag #{}", tag.trim_start_matches('#')),
        Condition::Keyword { any } => format!("keyword {}", any.join(" / ")),
        Condition::Label {
            label,
            present: true,
        } => format!("label {label}"),
        Condition::Label {
            label,
            present: false,
        } => format!("no label {label}"),
        Condition::Attribute { key, test } => match test {
            AttributeTest::Gt(v) => format!("{key} > {v}"),
            AttributeTest::Lt(v) => format!("{key} < {v}"),
            AttributeTest::Eq(v) => format!("{key} = {v}"),
            AttributeTest::TextEquals(v) => format!("{key} is \"{v}\""),
            AttributeTest::TextContains(v) => format!("{key} contains \"{v}\""),
            AttributeTest::Is(v) => format!("{key} is {v}"),
        },
        Condition::NewCustomer { within_hours } => {
            format!("new customer (first contact within {within_hours} h)")
        }
        Condition::BusinessHours { open: true } => "inside business hours".into(),
        Condition::BusinessHours { open: false } => "outside business hours".into(),
        Condition::AssigneeWaiting { cmp, value } => {
            format!("assignee has {} {value} waiting", cmp.symbol())
        }
        Condition::TeamAvailable {
            team,
            available: true,
        } => format!("{team} has a member available"),
        Condition::TeamAvailable {
            team,
            available: false,
        } => format!("nobody in {team} is available"),
    }
}

//! The rules and settings a new team starts with; all of them are ordinary, editable rules.

use super::assign::AssignmentPolicy;
use super::hours::{BusinessHours, Language};
use super::labels::AutoLabels;
use super::replies::{AutoReplySettings, FaqBot};
use super::rules::{
    Action, AutomationSettings, Condition, Conditions, Match, NotifyTarget, Priority, Rule, Trigger,
};
use super::sla::{SlaPolicy, SlaTarget};

/// The team ids the shipped rules refer to.
pub const LOGISTICS: &str = "logistics";
pub const AFTER_SALES: &str = "after-sales";

fn when(cond: Condition) -> Conditions {
    Conditions {
        mode: Match::All,
        items: vec![cond],
    }
}

fn hashtag(tag: &str) -> Conditions {
    when(Condition::Hashtag { tag: tag.into() })
}

/// The shipped rules:
/// - `#order-chase` → least-loaded member of logistics, 30 s first-response SLA;
/// - `#returns` → least-loaded member of after-sales, 2 h first-response SLA;
/// - `#urgent` → urgent priority, supervisors notified;
/// - an SLA breach notifies the assignee and the supervisors;
/// - away message outside business hours and greeting for new customers, both OFF until
///   the business has written its own text (nothing reaches customers unasked).
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule {
            id: "default-order-chase".into(),
            name: "#order-chase → logistics".into(),
            enabled: true,
            order: 10,
            trigger: Trigger::MessageReceived,
            conditions: hashtag("#order-chase"),
            actions: vec![
                Action::AddLabel { label: "order-chase".into() },
                Action::AssignLeastLoaded { team: LOGISTICS.into() },
                Action::SetSla {
                    target: SlaTarget { first_response_secs: Some(30), next_response_secs: None },
                },
            ],
            stop_processing: false,
        },
        Rule {
            id: "default-returns".into(),
            name: "#returns → after-sales".into(),
            enabled: true,
            order: 20,
            trigger: Trigger::MessageReceived,
            conditions: hashtag("#returns"),
            actions: vec![
                Action::AddLabel { label: "returns".into() },
                Action::AssignLeastLoaded { team: AFTER_SALES.into() },
                Action::SetSla {
                    target: SlaTarget { first_response_secs: Some(2 * 3600), next_response_secs: None },
                },
            ],
            stop_processing: false,
        },
        Rule {
            id: "default-urgent".into(),
            name: "#urgent → supervisors".into(),
            enabled: true,
            order: 30,
            trigger: Trigger::MessageReceived,
            conditions: hashtag("#urgent"),
            actions: vec![
                Action::SetPriority { priority: Priority::Urgent },
                Action::Notify {
                    to: NotifyTarget::Supervisors,
                    text: "Urgent conversation".into(),
                },
            ],
            stop_processing: false,
        },
        Rule {
            id: "default-sla-breach".into(),
            name: "SLA breach → assignee and supervisors".into(),
            enabled: true,
            order: 40,
            trigger: Trigger::SlaDue { kind: None },
            conditions: Conditions::default(),
            actions: vec![
                Action::Notify { to: NotifyTarget::Assignee, text: "SLA breached".into() },
                Action::Notify { to: NotifyTarget::Supervisors, text: "SLA breached".into() },
            ],
            stop_processing: false,
        },
        Rule {
            id: "default-away".into(),
            name: "Away message".into(),
            enabled: false,
            order: 50,
            trigger: Trigger::MessageReceived,
            conditions: when(Condition::BusinessHours { open: false }),
            actions: vec![Action::AutoReply {
                key: "away".into(),
                text: "Thanks for your message! We are closed right now and will reply within {reply_eta}.".into(),
                cooldown_secs: None,
                language: Language::En,
            }],
            stop_processing: false,
        },
        Rule {
            id: "default-greeting".into(),
            name: "Greeting for new customers".into(),
            enabled: false,
            order: 60,
            trigger: Trigger::MessageReceived,
            conditions: when(Condition::NewCustomer { within_hours: 24 }),
            actions: vec![Action::AutoReply {
                key: "greeting".into(),
                text: "Welcome! Thanks for writing to us — a member of our team will be with you shortly.".into(),
                // Once per new-customer window, not twice within its 24 h.
                cooldown_secs: Some(24 * 3600),
                language: Language::En,
            }],
            stop_processing: false,
        },
    ]
}

/// A new team's settings: the default rules, always-open hours in `time_zone` (until set),
/// and the defaults for assignment, labels, SLAs, auto-replies and the FAQ bot.
pub fn default_settings(time_zone: &str) -> AutomationSettings {
    AutomationSettings {
        rules: default_rules(),
        business_hours: BusinessHours::always_open(time_zone),
        assignment: AssignmentPolicy::default(),
        auto_labels: AutoLabels::default(),
        sla: SlaPolicy::default(),
        auto_replies: AutoReplySettings::default(),
        faq: FaqBot::default(),
    }
}

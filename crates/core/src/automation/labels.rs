//! Automatic labels: "New customer", "High priority", "Needs follow-up", each switchable
//! with its threshold.
//!
//! "Needs follow-up" means the customer has gone quiet: we spoke last and they have not
//! replied for the threshold (48 h). A customer waiting for US is what SLAs measure.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// One automatic label: on/off, its name and its threshold (hours or a count).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AutoLabel.ts"))]
pub struct AutoLabel {
    pub enabled: bool,
    pub label: String,
    pub threshold: u32,
}

/// serde: `{"new_customer":{"enabled":true,"label":"New customer","threshold":24}, …}`;
/// thresholds: hours, interactions (more than), hours.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AutoLabels.ts"))]
#[serde(default)]
pub struct AutoLabels {
    /// First contact within the last `threshold` hours.
    pub new_customer: AutoLabel,
    /// More than `threshold` interactions (customer messages in the conversation's history).
    pub high_priority: AutoLabel,
    /// We replied last and the customer has been silent for `threshold` hours.
    pub needs_follow_up: AutoLabel,
}

impl Default for AutoLabels {
    fn default() -> Self {
        let on = |label: &str, threshold| AutoLabel {
            enabled: true,
            label: label.into(),
            threshold,
        };
        AutoLabels {
            new_customer: on("New customer", 24),
            high_priority: on("High priority", 3),
            needs_follow_up: on("Needs follow-up", 48),
        }
    }
}

/// What the automatic labels want, given the facts: `Some(true)` add, `Some(false)` remove
/// (the fact no longer holds), `None` leave as is. "High priority" is never removed
/// automatically: interactions only grow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoLabelDecision<'a> {
    pub which: &'static str,
    pub label: &'a str,
    pub add: bool,
}

/// The facts automatic labels read.
pub struct LabelFacts {
    pub now: Timestamp,
    pub first_contact_at: Option<Timestamp>,
    pub interactions: u32,
    pub last_customer_message_at: Option<Timestamp>,
    pub last_agent_reply_at: Option<Timestamp>,
}

fn hours(h: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(h))
}

impl AutoLabels {
    /// Decisions for each enabled label, whether or not it is already present (the caller
    /// compares with the conversation's labels).
    pub fn decide(&self, f: &LabelFacts) -> Vec<AutoLabelDecision<'_>> {
        let mut out = Vec::with_capacity(3);
        if self.new_customer.enabled {
            // No first contact recorded yet: this message IS the first contact.
            let new = f
                .first_contact_at
                .is_none_or(|t| f.now.duration_since(t) < hours(self.new_customer.threshold));
            out.push(AutoLabelDecision {
                which: "new_customer",
                label: &self.new_customer.label,
                add: new,
            });
        }
        if self.high_priority.enabled && f.interactions > self.high_priority.threshold {
            out.push(AutoLabelDecision {
                which: "high_priority",
                label: &self.high_priority.label,
                add: true,
            });
        }
        if self.needs_follow_up.enabled {
            let quiet = match (f.last_agent_reply_at, f.last_customer_message_at) {
                (Some(ours), theirs) if theirs.is_none_or(|t| t < ours) => {
                    f.now.duration_since(ours) >= hours(self.needs_follow_up.threshold)
                }
                _ => false,
            };
            out.push(AutoLabelDecision {
                which: "needs_follow_up",
                label: &self.needs_follow_up.label,
                add: quiet,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + h * 3600).expect("ts")
    }

    fn facts(now: i64) -> LabelFacts {
        LabelFacts {
            now: t(now),
            first_contact_at: Some(t(0)),
            interactions: 1,
            last_customer_message_at: Some(t(0)),
            last_agent_reply_at: None,
        }
    }

    fn added(l: &AutoLabels, f: &LabelFacts) -> Vec<&'static str> {
        l.decide(f)
            .into_iter()
            .filter(|d| d.add)
            .map(|d| d.which)
            .collect()
    }

    #[test]
    fn new_customer_for_24_hours() {
        let l = AutoLabels::default();
        assert_eq!(added(&l, &facts(23)), ["new_customer"]);
        assert!(added(&l, &facts(24)).is_empty());
        let mut short = l.clone();
        short.new_customer.threshold = 1;
        assert!(added(&short, &facts(2)).is_empty());
    }

    #[test]
    fn high_priority_above_three_interactions() {
        let l = AutoLabels::default();
        let mut f = facts(30);
        f.interactions = 3;
        assert!(added(&l, &f).is_empty());
        f.interactions = 4;
        assert_eq!(added(&l, &f), ["high_priority"]);
        let mut off = l.clone();
        off.high_priority.enabled = false;
        assert!(added(&off, &f).is_empty());
    }

    #[test]
    fn needs_follow_up_after_48_quiet_hours() {
        let l = AutoLabels::default();
        let mut f = facts(40);
        f.last_agent_reply_at = Some(t(1));
        assert!(added(&l, &f).is_empty());
        f.now = t(49);
        assert_eq!(added(&l, &f), ["needs_follow_up"]);
        // The customer wrote after our reply: nothing to follow up.
        f.last_customer_message_at = Some(t(2));
        assert!(added(&l, &f).is_empty());
    }
}

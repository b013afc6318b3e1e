//! Service-level targets: first response and next response, per label or set by a rule.
//!
//! Clocks run on wall-clock time (a 30 s first-response target means 30 real seconds):
//! the targets are short and the away message covers closed hours.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// First- and next-response targets in seconds; `None` = no target of that kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaTarget.ts"))]
pub struct SlaTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub first_response_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub next_response_secs: Option<u32>,
}

impl SlaTarget {
    /// The stricter of two targets, kind by kind (a conversation with two labels must meet
    /// both promises).
    pub fn strictest(self, other: SlaTarget) -> SlaTarget {
        fn min(a: Option<u32>, b: Option<u32>) -> Option<u32> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        SlaTarget {
            first_response_secs: min(self.first_response_secs, other.first_response_secs),
            next_response_secs: min(self.next_response_secs, other.next_response_secs),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first_response_secs.is_none() && self.next_response_secs.is_none()
    }
}

/// Targets per label (label name → target).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaPolicy.ts"))]
pub struct SlaPolicy {
    #[serde(default)]
    pub by_label: BTreeMap<String, SlaTarget>,
}

impl SlaPolicy {
    /// The target of a conversation: the strictest of its labels' targets and the one set
    /// by rules (`from_rules`).
    pub fn target_for<'a>(
        &self,
        labels: impl IntoIterator<Item = &'a str>,
        from_rules: Option<SlaTarget>,
    ) -> SlaTarget {
        labels
            .into_iter()
            .filter_map(|l| self.by_label.get(l).copied())
            .fold(from_rules.unwrap_or_default(), SlaTarget::strictest)
    }
}

/// Which clock is running.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaKind.ts"))]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    FirstResponse,
    NextResponse,
}

/// What the timeline says, reduced to the instants an SLA needs (the relay derives them
/// from the conversation's events).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaFacts.ts"))]
pub struct SlaFacts {
    /// The customer's first message in this conversation.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub first_customer_message_at: Timestamp,
    /// Our first reply by a person (auto-replies do not count).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub first_response_at: Option<Timestamp>,
    /// The earliest customer message not yet answered by a person; `None` when we spoke last.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub unanswered_since: Option<Timestamp>,
}

/// Where a conversation stands against its target.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaState.ts"))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlaState {
    /// Nothing is owed (we spoke last) or no target applies.
    Idle,
    Running {
        kind: SlaKind,
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        due_at: Timestamp,
    },
    Breached {
        kind: SlaKind,
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        due_at: Timestamp,
    },
}

impl SlaState {
    pub fn due_at(&self) -> Option<Timestamp> {
        match self {
            SlaState::Idle => None,
            SlaState::Running { due_at, .. } | SlaState::Breached { due_at, .. } => Some(*due_at),
        }
    }
}

/// The SLA state at `now`: before our first reply the first-response clock runs from the
/// customer's first message; afterwards the next-response clock runs from the earliest
/// unanswered customer message. Due exactly at `now` counts as breached.
pub fn sla_state(facts: &SlaFacts, target: &SlaTarget, now: Timestamp) -> SlaState {
    let (kind, since, secs) = match (facts.first_response_at, facts.unanswered_since) {
        (None, _) => (
            SlaKind::FirstResponse,
            facts.first_customer_message_at,
            target.first_response_secs,
        ),
        (Some(_), Some(since)) => (SlaKind::NextResponse, since, target.next_response_secs),
        (Some(_), None) => return SlaState::Idle,
    };
    let Some(secs) = secs else {
        return SlaState::Idle;
    };
    let due_at = since
        .saturating_add(SignedDuration::from_secs(i64::from(secs)))
        .unwrap_or(since);
    if now >= due_at {
        SlaState::Breached { kind, due_at }
    } else {
        SlaState::Running { kind, due_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).expect("ts")
    }

    const TARGET: SlaTarget = SlaTarget {
        first_response_secs: Some(30),
        next_response_secs: Some(7200),
    };

    #[test]
    fn first_response_then_next_response() {
        let mut f = SlaFacts {
            first_customer_message_at: t(0),
            first_response_at: None,
            unanswered_since: Some(t(0)),
        };
        assert_eq!(
            sla_state(&f, &TARGET, t(29)),
            SlaState::Running {
                kind: SlaKind::FirstResponse,
                due_at: t(30)
            }
        );
        assert_eq!(
            sla_state(&f, &TARGET, t(30)),
            SlaState::Breached {
                kind: SlaKind::FirstResponse,
                due_at: t(30)
            }
        );
        f.first_response_at = Some(t(20));
        f.unanswered_since = None;
        assert_eq!(sla_state(&f, &TARGET, t(5000)), SlaState::Idle);
        f.unanswered_since = Some(t(1000));
        assert_eq!(
            sla_state(&f, &TARGET, t(5000)),
            SlaState::Running {
                kind: SlaKind::NextResponse,
                due_at: t(8200)
            }
        );
        assert_eq!(
            sla_state(&f, &SlaTarget::default(), t(5000)),
            SlaState::Idle
        );
    }

    #[test]
    fn label_targets_combine_to_the_strictest() {
        let mut p = SlaPolicy::default();
        p.by_label.insert(
            "returns".into(),
            SlaTarget {
                first_response_secs: Some(7200),
                next_response_secs: None,
            },
        );
        p.by_label.insert(
            "vip".into(),
            SlaTarget {
                first_response_secs: Some(600),
                next_response_secs: Some(900),
            },
        );
        let rule = SlaTarget {
            first_response_secs: Some(3600),
            next_response_secs: None,
        };
        assert_eq!(
            p.target_for(["returns", "vip", "other"], Some(rule)),
            SlaTarget {
                first_response_secs: Some(600),
                next_response_secs: Some(900)
            }
        );
        assert_eq!(
            p.target_for(["returns"], None).first_response_secs,
            Some(7200)
        );
    }
}

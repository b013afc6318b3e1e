//! Desktop notifications: which events notify whom is decided in pure code
//! ([`decide`]); showing goes through the small [`Notifier`] trait, with notify-rust
//! behind [`DesktopNotifier`]. A click on a notification sends the conversation's id on
//! the "open conversation" channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use teamline_core::{Permission, PermissionSet};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::profile::NotificationSettings;

/// Something an event may notify about. Built while events are applied, decided later.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// When the relay recorded the event.
    pub at: Timestamp,
    pub conversation_id: Option<Uuid>,
    /// The conversation's display name (customer name or number), when known.
    pub conversation_name: Option<String>,
    pub trigger: Trigger,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Labels added to a conversation: `(name, marked urgent by the relay)`.
    LabelsAdded { labels: Vec<(String, bool)> },
    /// A conversation (re)assigned.
    Assigned {
        assignee: Option<Uuid>,
        by: Option<Uuid>,
    },
    /// An internal note with mentions.
    Mentioned {
        mentions: Vec<Uuid>,
        author: Option<Uuid>,
        author_name: Option<String>,
    },
    /// An automation rule's "notify" action for one member (e.g. `#urgent` → supervisors;
    /// an SLA breach → the assignee and supervisors, by the shipped editable rule).
    RuleNotified {
        member_id: Uuid,
        /// The rule's wording, e.g. "Urgent conversation".
        text: String,
        /// The rule's name.
        rule: String,
    },
    /// A security alert (for admins).
    SecurityAlert {
        title: Option<String>,
        message: Option<String>,
    },
}

/// Who this device is, for the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub member_id: Uuid,
    /// The member's preset (`admin`, `supervisor`, `standard`, `restricted`, `custom`).
    pub role: String,
    /// This device's effective permissions.
    pub permissions: PermissionSet,
}

impl Recipient {
    /// Admins: the Admin preset, or a custom member who may manage the team.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
            || (self.role == "custom" && self.permissions.contains(Permission::ManageTeam))
    }

    /// Supervisors or admins: presets, or a custom member who sees everything and may
    /// take conversations over.
    pub fn is_supervisor_or_admin(&self) -> bool {
        self.is_admin()
            || self.role == "supervisor"
            || (self.role == "custom"
                && self.permissions.contains(Permission::ViewAllConversations)
                && self.permissions.contains(Permission::TakeOver))
    }
}

/// A notification to show. No message text: titles name the conversation and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub conversation_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    /// Shown as critical (security alerts, urgent conversations).
    pub urgent: bool,
}

/// THE decision: whether `c` notifies this device now. Pure: same inputs, same answer.
pub fn decide(
    c: &Candidate,
    me: &Recipient,
    settings: &NotificationSettings,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<Notification> {
    if !settings.enabled {
        return None;
    }
    let age = now.duration_since(c.at);
    if age.as_secs() > i64::from(settings.max_age_secs) {
        return None;
    }
    let security = matches!(c.trigger, Trigger::SecurityAlert { .. });
    // Do-not-disturb silences everything but security alerts.
    if !security
        && settings
            .do_not_disturb
            .as_ref()
            .is_some_and(|w| w.contains(now, tz))
    {
        return None;
    }
    let name = c
        .conversation_name
        .clone()
        .unwrap_or_else(|| "a conversation".to_owned());
    let n = |title: String, body: String, urgent: bool| {
        Some(Notification {
            conversation_id: c.conversation_id,
            title,
            body,
            urgent,
        })
    };
    match &c.trigger {
        Trigger::LabelsAdded { labels } => {
            if !me.is_supervisor_or_admin() {
                return None;
            }
            let urgent = labels.iter().find(|(label, marked)| {
                *marked
                    || settings
                        .urgent_labels
                        .iter()
                        .any(|u| u.eq_ignore_ascii_case(label))
            })?;
            n(
                format!("{} conversation", urgent.0),
                format!("{name} was labelled {}", urgent.0),
                true,
            )
        }
        Trigger::Assigned { assignee, by } => {
            if *assignee != Some(me.member_id) || *by == Some(me.member_id) {
                return None;
            }
            n(
                "Assigned to you".to_owned(),
                format!("{name} is now yours"),
                false,
            )
        }
        Trigger::Mentioned {
            mentions,
            author,
            author_name,
        } => {
            if !mentions.contains(&me.member_id) || *author == Some(me.member_id) {
                return None;
            }
            let who = author_name
                .clone()
                .unwrap_or_else(|| "A teammate".to_owned());
            n(
                format!("{who} mentioned you"),
                format!("In a note on {name}"),
                false,
            )
        }
        // Rules notify to get someone's attention now (urgent customers, SLA breaches).
        Trigger::RuleNotified {
            member_id,
            text,
            rule,
        } => {
            if *member_id != me.member_id {
                return None;
            }
            let title = if text.is_empty() {
                rule.clone()
            } else {
                text.clone()
            };
            n(title, name, true)
        }
        Trigger::SecurityAlert { title, message } => {
            if !me.is_admin() {
                return None;
            }
            n(
                title.clone().unwrap_or_else(|| "Security alert".to_owned()),
                message
                    .clone()
                    .unwrap_or_else(|| "Open Teamline for details".to_owned()),
                true,
            )
        }
    }
}

/// Why a notification could not be shown.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotifyError(pub String);

/// Shows notifications. Clicking one sends its conversation id on `open`.
pub trait Notifier: Send + Sync + 'static {
    fn show(&self, n: &Notification, open: mpsc::UnboundedSender<Uuid>) -> Result<(), NotifyError>;
}

/// The real desktop notifier (notify-rust: D-Bus on Linux, the OS centre elsewhere).
#[derive(Debug, Clone)]
pub struct DesktopNotifier {
    pub app_name: String,
}

impl Default for DesktopNotifier {
    fn default() -> Self {
        DesktopNotifier {
            app_name: "Teamline".to_owned(),
        }
    }
}

/// The action a click triggers (the xdg "default" action).
const OPEN_ACTION: &str = "default";

impl Notifier for DesktopNotifier {
    fn show(&self, n: &Notification, open: mpsc::UnboundedSender<Uuid>) -> Result<(), NotifyError> {
        let mut note = notify_rust::Notification::new();
        note.appname(&self.app_name).summary(&n.title).body(&n.body);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            note.urgency(if n.urgent {
                notify_rust::Urgency::Critical
            } else {
                notify_rust::Urgency::Normal
            });
            if n.conversation_id.is_some() {
                note.action(OPEN_ACTION, "Open");
            }
        }
        let handle = note.show().map_err(|e| NotifyError(e.to_string()))?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if let Some(id) = n.conversation_id {
            // wait_for_action blocks until the notification is clicked or closed.
            std::thread::Builder::new()
                .name("teamline-notification".into())
                .spawn(move || {
                    handle.wait_for_action(|action| {
                        if action == OPEN_ACTION {
                            let _ = open.send(id);
                        }
                    });
                })
                .map_err(|e| NotifyError(e.to_string()))?;
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = (handle, open, OPEN_ACTION);
        }
        Ok(())
    }
}

/// Sends decided notifications through a [`Notifier`]; when none can be shown (no
/// notification daemon), says so once in the log and carries on.
pub struct Dispatcher {
    notifier: Arc<dyn Notifier>,
    open: mpsc::UnboundedSender<Uuid>,
    warned: AtomicBool,
}

impl Dispatcher {
    pub fn new(notifier: Arc<dyn Notifier>, open: mpsc::UnboundedSender<Uuid>) -> Dispatcher {
        Dispatcher {
            notifier,
            open,
            warned: AtomicBool::new(false),
        }
    }

    /// Shows `n`; returns whether it was shown.
    pub fn dispatch(&self, n: &Notification) -> bool {
        match self.notifier.show(n, self.open.clone()) {
            Ok(()) => true,
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "cannot show desktop notifications (no notification service?); continuing without them");
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;
    use jiff::{SignedDuration, ToSpan};
    use teamline_core::{Preset, TimeWindow};

    fn me(role: Preset) -> Recipient {
        Recipient {
            member_id: Uuid::from_u128(1),
            role: role.as_str().to_owned(),
            permissions: role.permissions(),
        }
    }

    fn at(now: Timestamp, trigger: Trigger) -> Candidate {
        Candidate {
            at: now,
            conversation_id: Some(Uuid::from_u128(9)),
            conversation_name: Some("Ana".into()),
            trigger,
        }
    }

    fn noon() -> (Timestamp, TimeZone) {
        let tz = teamline_core::schedule::time_zone("Europe/Berlin").unwrap();
        let t = jiff::civil::date(2025, 3, 4)
            .at(12, 0, 0, 0)
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp();
        (t, tz)
    }

    #[test]
    fn decision_table() {
        let (now, tz) = noon();
        let s = NotificationSettings::default();
        let mine = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let urgent = Trigger::LabelsAdded {
            labels: vec![("#urgent".into(), false)],
        };
        let marked = Trigger::LabelsAdded {
            labels: vec![("#fire".into(), true)],
        };
        let plain = Trigger::LabelsAdded {
            labels: vec![("#vip".into(), false)],
        };
        let assigned_me = Trigger::Assigned {
            assignee: Some(mine),
            by: Some(other),
        };
        let self_claim = Trigger::Assigned {
            assignee: Some(mine),
            by: Some(mine),
        };
        let assigned_other = Trigger::Assigned {
            assignee: Some(other),
            by: Some(mine),
        };
        let mention_me = Trigger::Mentioned {
            mentions: vec![mine],
            author: Some(other),
            author_name: Some("Bo".into()),
        };
        let mention_self = Trigger::Mentioned {
            mentions: vec![mine],
            author: Some(mine),
            author_name: None,
        };
        let security = Trigger::SecurityAlert {
            title: Some("New device linked".into()),
            message: None,
        };
        let rule_me = Trigger::RuleNotified {
            member_id: mine,
            text: "Urgent conversation".into(),
            rule: "#urgent → supervisors".into(),
        };
        let rule_other = Trigger::RuleNotified {
            member_id: other,
            text: "Urgent conversation".into(),
            rule: "#urgent → supervisors".into(),
        };
        use Preset::*;
        let table: Vec<(&Trigger, Preset, bool)> = vec![
            (&rule_me, Standard, true),
            (&rule_other, Admin, false),
            (&urgent, Admin, true),
            (&urgent, Supervisor, true),
            (&urgent, Standard, false),
            (&urgent, Restricted, false),
            (&marked, Supervisor, true),
            (&plain, Admin, false),
            (&assigned_me, Restricted, true),
            (&self_claim, Standard, false),
            (&assigned_other, Admin, false),
            (&mention_me, Standard, true),
            (&mention_self, Standard, false),
            (&security, Admin, true),
            (&security, Supervisor, false),
            (&security, Standard, false),
        ];
        for (i, (trigger, role, expected)) in table.into_iter().enumerate() {
            let got = decide(&at(now, trigger.clone()), &me(role), &s, now, &tz);
            assert_eq!(got.is_some(), expected, "row {i}: {trigger:?} for {role:?}");
            if let Some(n) = got {
                assert_eq!(n.conversation_id, Some(Uuid::from_u128(9)));
                assert!(!n.title.is_empty());
            }
        }
    }

    #[test]
    fn do_not_disturb_silences_all_but_security_and_old_events_stay_quiet() {
        let (now, tz) = noon();
        let mut s = NotificationSettings {
            do_not_disturb: Some(TimeWindow::daily(time(11, 30, 0, 0), time(12, 30, 0, 0))),
            ..NotificationSettings::default()
        };
        let assigned = at(
            now,
            Trigger::Assigned {
                assignee: Some(Uuid::from_u128(1)),
                by: None,
            },
        );
        let security = at(
            now,
            Trigger::SecurityAlert {
                title: None,
                message: None,
            },
        );
        assert_eq!(decide(&assigned, &me(Preset::Admin), &s, now, &tz), None);
        assert!(decide(&security, &me(Preset::Admin), &s, now, &tz).is_some());
        // DND is read in Berlin time: 12:00 there is inside 11:30–12:30, 14:00 is not.
        let later = now.checked_add(2.hours()).unwrap();
        let fresh = Candidate {
            at: later,
            ..assigned.clone()
        };
        assert!(decide(&fresh, &me(Preset::Admin), &s, later, &tz).is_some());
        // The same wall-clock hour in another zone is outside the window.
        let utc = TimeZone::UTC;
        assert!(decide(&assigned, &me(Preset::Admin), &s, now, &utc).is_some());
        // Caught up an hour late: no notification.
        s.do_not_disturb = None;
        let late = now.checked_add(SignedDuration::from_hours(1)).unwrap();
        assert_eq!(decide(&assigned, &me(Preset::Admin), &s, late, &tz), None);
        s.enabled = false;
        assert_eq!(decide(&security, &me(Preset::Admin), &s, now, &tz), None);
    }

    struct Failing;
    impl Notifier for Failing {
        fn show(
            &self,
            _: &Notification,
            _: mpsc::UnboundedSender<Uuid>,
        ) -> Result<(), NotifyError> {
            Err(NotifyError("no daemon".into()))
        }
    }

    #[test]
    fn no_notification_service_is_not_an_error() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let d = Dispatcher::new(Arc::new(Failing), tx);
        let n = Notification {
            conversation_id: None,
            title: "t".into(),
            body: "b".into(),
            urgent: false,
        };
        assert!(!d.dispatch(&n));
        assert!(!d.dispatch(&n));
        assert!(d.warned.load(Ordering::Relaxed));
    }
}

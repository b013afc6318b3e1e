//! The plain-words summaries shown on the Team page: exact English text.

use jiff::civil::{Weekday, time};
use teamline_core::summary::{summary, template_summary};
use teamline_core::{
    Permission, PermissionSet, PermissionTemplate, Preset, TimeWindow, WindowRule,
};
use uuid::Uuid;

use Permission::*;

#[test]
fn presets() {
    assert_eq!(
        summary(Preset::Admin.permissions()),
        "Can do everything, including exporting and deleting history, managing payments, and managing the team and devices."
    );
    assert_eq!(
        summary(Preset::Supervisor.permissions()),
        "Can see all conversations, reply to conversations assigned to them, assign and transfer conversations, \
         take over other members' conversations with a reason, view contacts, apply and manage labels, \
         configure auto-replies and rules, and view the audit log; \
         cannot export or delete history, send broadcasts, manage payments, or manage the team and devices."
    );
    assert_eq!(
        summary(Preset::Standard.permissions()),
        "Can see and claim their teams' unassigned conversations, reply to conversations assigned to them, \
         view contacts, and apply labels; cannot see other members' conversations, export or delete history, \
         send broadcasts, manage payments, or manage the team and devices."
    );
    assert_eq!(
        summary(Preset::Restricted.permissions()),
        "Can reply to conversations assigned to them; cannot see conversations not assigned to them, \
         export or delete history, send broadcasts, manage payments, or manage the team and devices."
    );
}

#[test]
fn custom_sets() {
    assert_eq!(
        summary(PermissionSet::EMPTY),
        "Can only see conversations assigned to them; cannot reply, export or delete history, \
         send broadcasts, manage payments, or manage the team and devices."
    );
    assert_eq!(
        summary(PermissionSet::from([ViewTeamQueue])),
        "Can see their teams' unassigned conversations; cannot see other members' conversations, reply, \
         export or delete history, send broadcasts, manage payments, or manage the team and devices."
    );
    assert_eq!(
        summary(PermissionSet::all().without(ManagePayments)),
        "Can see all conversations, reply to conversations assigned to them, assign and transfer conversations, \
         take over other members' conversations with a reason, export and delete history, view and edit contacts, \
         apply and manage labels, send broadcasts, edit the business profile, configure auto-replies and rules, \
         manage the team and devices, and view the audit log; cannot manage payments."
    );
    assert_eq!(
        summary(PermissionSet::from([
            Reply,
            ExportHistory,
            ViewAllConversations,
            ManageTeam,
            SendBroadcasts,
            ManagePayments
        ])),
        "Can see all conversations, reply to conversations assigned to them, export history, send broadcasts, \
         manage payments, and manage the team and devices; cannot delete history."
    );
    assert_eq!(
        summary(PermissionSet::from([Reply, DeleteHistory])),
        "Can reply to conversations assigned to them and delete history; cannot see conversations not assigned \
         to them, export history, send broadcasts, manage payments, or manage the team and devices."
    );
}

#[test]
fn every_set_gets_a_sentence_and_different_toggles_read_differently() {
    // All 2^17 sets would be slow in debug; the presets plus every single-permission change
    // of them cover each phrase both ways.
    let mut seen = std::collections::HashMap::new();
    for p in Preset::ALL {
        for q in Permission::ALL {
            for set in [p.permissions().with(q), p.permissions().without(q)] {
                let text = summary(set);
                assert!(text.starts_with("Can ") && text.ends_with('.'), "{text}");
                assert!(
                    !text.contains("  ") && !text.contains(",,") && !text.contains(" ;"),
                    "{text}"
                );
                if let Some(previous) = seen.insert(text.clone(), set).filter(|prev| *prev != set) {
                    // Only sets differing in what the text deliberately leaves out may share it:
                    // view_team_queue under view-all.
                    let diff = previous.difference(set).union(set.difference(previous));
                    assert_eq!(diff, PermissionSet::from([ViewTeamQueue]), "{text}");
                }
            }
        }
    }
}

#[test]
fn templates() {
    let night = PermissionTemplate {
        id: Uuid::from_u128(1),
        name: "Night shift".into(),
        deny: PermissionSet::from([ExportHistory]),
        windows: vec![WindowRule {
            permissions: PermissionSet::from([Reply]),
            window: TimeWindow::daily(time(23, 0, 0, 0), time(7, 0, 0, 0)),
        }],
    };
    assert_eq!(
        template_summary(&night),
        "Never export history; reply to conversations assigned to them only 23:00–07:00."
    );
    let office = PermissionTemplate {
        deny: PermissionSet::from([ExportHistory, DeleteHistory]),
        windows: vec![WindowRule {
            permissions: PermissionSet::from([Reply, ApplyLabels]),
            window: TimeWindow {
                start: time(9, 0, 0, 0),
                end: time(17, 30, 0, 0),
                weekdays: Some(vec![Weekday::Monday, Weekday::Friday]),
            },
        }],
        ..night.clone()
    };
    assert_eq!(
        template_summary(&office),
        "Never delete or export history; reply to conversations assigned to them and apply labels \
         only 09:00–17:30 (Mon, Fri)."
    );
    let empty = PermissionTemplate {
        deny: PermissionSet::EMPTY,
        windows: vec![],
        ..night
    };
    assert_eq!(template_summary(&empty), "Changes nothing.");
}

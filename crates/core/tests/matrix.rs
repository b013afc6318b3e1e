//! The exhaustive matrix: every member preset × every device level preset × inside/outside
//! the "Night shift" template window (reply only 23:00–07:00, never export), with the
//! expected effective set written out by hand, one column per permission.

use jiff::Timestamp;
use jiff::civil::time;
use jiff::tz::TimeZone;
use teamline_core::access::{self, Actor, ConversationAccess, Denied};
use teamline_core::{
    DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset, TimeWindow, WindowRule,
    effective_permissions,
};
use uuid::Uuid;

use Preset::{Admin, Restricted, Standard, Supervisor};
use When::{Inside, Outside};

#[derive(Clone, Copy, Debug)]
enum When {
    Inside,
    Outside,
}

/// The grid's columns, in order (one character each; spaces only group them):
/// `VQRAT DE VC AM BPC PTL` =
/// view_all, team_queue, reply, assign_transfer, take_over | delete, export |
/// view_contacts, edit_contacts | apply_labels, manage_labels |
/// broadcasts, business_profile, configure_automation | payments, manage_team, audit_log.
const COLUMNS: [&str; 17] = [
    "view_all_conversations",
    "view_team_queue",
    "reply",
    "assign_transfer",
    "take_over",
    "delete_history",
    "export_history",
    "view_contacts",
    "edit_contacts",
    "apply_labels",
    "manage_labels",
    "send_broadcasts",
    "edit_business_profile",
    "configure_automation",
    "manage_payments",
    "manage_team",
    "view_audit_log",
];

#[rustfmt::skip]
const EXPECTED: [(Preset, Preset, When, &str); 32] = [
    // member      device      window     VQRAT DE VC AM BPC PTL
    (Admin,      Admin,      Inside,  "11111 10 11 11 111 111"),
    (Admin,      Admin,      Outside, "11011 10 11 11 111 111"),
    (Admin,      Supervisor, Inside,  "11111 00 10 11 001 001"),
    (Admin,      Supervisor, Outside, "11011 00 10 11 001 001"),
    (Admin,      Standard,   Inside,  "01100 00 10 10 000 000"),
    (Admin,      Standard,   Outside, "01000 00 10 10 000 000"),
    (Admin,      Restricted, Inside,  "00100 00 00 00 000 000"),
    (Admin,      Restricted, Outside, "00000 00 00 00 000 000"),
    (Supervisor, Admin,      Inside,  "11111 00 10 11 001 001"),
    (Supervisor, Admin,      Outside, "11011 00 10 11 001 001"),
    (Supervisor, Supervisor, Inside,  "11111 00 10 11 001 001"),
    (Supervisor, Supervisor, Outside, "11011 00 10 11 001 001"),
    (Supervisor, Standard,   Inside,  "01100 00 10 10 000 000"),
    (Supervisor, Standard,   Outside, "01000 00 10 10 000 000"),
    (Supervisor, Restricted, Inside,  "00100 00 00 00 000 000"),
    (Supervisor, Restricted, Outside, "00000 00 00 00 000 000"),
    (Standard,   Admin,      Inside,  "01100 00 10 10 000 000"),
    (Standard,   Admin,      Outside, "01000 00 10 10 000 000"),
    (Standard,   Supervisor, Inside,  "01100 00 10 10 000 000"),
    (Standard,   Supervisor, Outside, "01000 00 10 10 000 000"),
    (Standard,   Standard,   Inside,  "01100 00 10 10 000 000"),
    (Standard,   Standard,   Outside, "01000 00 10 10 000 000"),
    (Standard,   Restricted, Inside,  "00100 00 00 00 000 000"),
    (Standard,   Restricted, Outside, "00000 00 00 00 000 000"),
    (Restricted, Admin,      Inside,  "00100 00 00 00 000 000"),
    (Restricted, Admin,      Outside, "00000 00 00 00 000 000"),
    (Restricted, Supervisor, Inside,  "00100 00 00 00 000 000"),
    (Restricted, Supervisor, Outside, "00000 00 00 00 000 000"),
    (Restricted, Standard,   Inside,  "00100 00 00 00 000 000"),
    (Restricted, Standard,   Outside, "00000 00 00 00 000 000"),
    (Restricted, Restricted, Inside,  "00100 00 00 00 000 000"),
    (Restricted, Restricted, Outside, "00000 00 00 00 000 000"),
];

/// Same grid with no template at all: the plain member ∩ device table.
#[rustfmt::skip]
const WITHOUT_TEMPLATE: [(Preset, Preset, &str); 16] = [
    (Admin,      Admin,      "11111 11 11 11 111 111"),
    (Admin,      Supervisor, "11111 00 10 11 001 001"),
    (Admin,      Standard,   "01100 00 10 10 000 000"),
    (Admin,      Restricted, "00100 00 00 00 000 000"),
    (Supervisor, Admin,      "11111 00 10 11 001 001"),
    (Supervisor, Supervisor, "11111 00 10 11 001 001"),
    (Supervisor, Standard,   "01100 00 10 10 000 000"),
    (Supervisor, Restricted, "00100 00 00 00 000 000"),
    (Standard,   Admin,      "01100 00 10 10 000 000"),
    (Standard,   Supervisor, "01100 00 10 10 000 000"),
    (Standard,   Standard,   "01100 00 10 10 000 000"),
    (Standard,   Restricted, "00100 00 00 00 000 000"),
    (Restricted, Admin,      "00100 00 00 00 000 000"),
    (Restricted, Supervisor, "00100 00 00 00 000 000"),
    (Restricted, Standard,   "00100 00 00 00 000 000"),
    (Restricted, Restricted, "00100 00 00 00 000 000"),
];

fn night_shift() -> PermissionTemplate {
    PermissionTemplate {
        id: Uuid::from_u128(0x4e16),
        name: "Night shift".into(),
        deny: PermissionSet::from([Permission::ExportHistory]),
        windows: vec![WindowRule {
            permissions: PermissionSet::from([Permission::Reply]),
            window: TimeWindow::daily(time(23, 0, 0, 0), time(7, 0, 0, 0)),
        }],
    }
}

fn berlin() -> TimeZone {
    teamline_core::schedule::time_zone("Europe/Berlin").unwrap()
}

/// 23:30 and 12:00 in Berlin (CEST) on 2025-06-10.
fn instant(when: When) -> Timestamp {
    match when {
        Inside => "2025-06-10T21:30:00Z".parse().unwrap(),
        Outside => "2025-06-10T10:00:00Z".parse().unwrap(),
    }
}

/// Checks `actual` against a row of the grid column by column, naming every mismatch.
fn assert_row(actual: PermissionSet, row: &str, context: &str) {
    let bits: Vec<char> = row.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(bits.len(), 17, "row {row:?} must have 17 columns");
    let mut wrong = Vec::new();
    for (i, name) in COLUMNS.iter().enumerate() {
        let p: Permission = name.parse().unwrap();
        let expected = match bits[i] {
            '1' => true,
            '0' => false,
            other => panic!("bad cell {other:?} in {row:?}"),
        };
        if actual.contains(p) != expected {
            wrong.push(format!(
                "{name}: expected {expected}, got {}",
                actual.contains(p)
            ));
        }
    }
    assert!(wrong.is_empty(), "{context}: {}", wrong.join("; "));
}

#[test]
fn columns_cover_every_permission_once() {
    let from_columns = PermissionSet::from_names(COLUMNS).unwrap();
    assert_eq!(from_columns, PermissionSet::all());
}

#[test]
fn every_member_preset_times_every_device_level_inside_and_outside_night_shift() {
    let templates = [night_shift()];
    let tz = berlin();
    let mut seen = std::collections::HashSet::new();
    for (member, device, when, row) in EXPECTED {
        assert!(
            seen.insert((member, device, format!("{when:?}"))),
            "duplicate row"
        );
        let actual = effective_permissions(
            member.permissions(),
            &DeviceLevel::Preset(device),
            &templates,
            instant(when),
            &tz,
        );
        assert_row(
            actual,
            row,
            &format!("member {member} on a {device} device, {when:?} the window"),
        );
    }
    assert_eq!(
        seen.len(),
        Preset::ALL.len() * Preset::ALL.len() * 2,
        "the grid is complete"
    );
}

#[test]
fn every_member_preset_times_every_device_level_without_templates() {
    for (member, device, row) in WITHOUT_TEMPLATE {
        for when in [Inside, Outside] {
            let actual = effective_permissions(
                member.permissions(),
                &DeviceLevel::Preset(device),
                &[],
                instant(when),
                &berlin(),
            );
            assert_row(
                actual,
                row,
                &format!("member {member} on a {device} device, no template"),
            );
        }
    }
}

#[test]
fn custom_device_ceilings() {
    use Permission::*;
    let templates = [night_shift()];
    #[rustfmt::skip]
    let cases: [(Preset, PermissionSet, When, &str); 6] = [
        // A kiosk that may only read contacts: nothing else even for an Admin.
        (Admin,    PermissionSet::from([ViewContacts]),              Inside,  "00000 00 10 00 000 000"),
        // Export on the device is still removed by the template's deny.
        (Admin,    PermissionSet::from([ExportHistory, Reply]),      Inside,  "00100 00 00 00 000 000"),
        (Admin,    PermissionSet::from([ExportHistory, Reply]),      Outside, "00000 00 00 00 000 000"),
        // The device allows more than the member has: the member's toggles still bound it.
        (Standard, PermissionSet::all(),                             Inside,  "01100 00 10 10 000 000"),
        (Standard, PermissionSet::EMPTY,                             Inside,  "00000 00 00 00 000 000"),
        (Supervisor, PermissionSet::from([TakeOver, ManagePayments]), Outside, "00001 00 00 00 000 000"),
    ];
    for (member, ceiling, when, row) in cases {
        let actual = effective_permissions(
            member.permissions(),
            &DeviceLevel::Custom(ceiling),
            &templates,
            instant(when),
            &berlin(),
        );
        assert_row(
            actual,
            row,
            &format!("member {member} on custom {ceiling:?}, {when:?}"),
        );
    }
}

/// The grid drives the conversation rules the same way: the assignee can send in their own
/// conversation exactly when the grid says `reply`.
#[test]
fn matrix_drives_sending_in_own_conversation() {
    let templates = [night_shift()];
    let me = Uuid::from_u128(1);
    let mine = ConversationAccess {
        assignee: Some(me),
        team: None,
    };
    for (member, device, when, row) in EXPECTED {
        let permissions = effective_permissions(
            member.permissions(),
            &DeviceLevel::Preset(device),
            &templates,
            instant(when),
            &berlin(),
        );
        let actor = Actor {
            member_id: me,
            teams: vec![],
            permissions,
        };
        let reply_cell = row.chars().filter(|c| !c.is_whitespace()).nth(2).unwrap();
        let expected = if reply_cell == '1' {
            Ok(())
        } else {
            Err(Denied::Missing(Permission::Reply))
        };
        assert_eq!(
            access::can_send(&actor, &mine, None),
            expected,
            "{member} on {device}, {when:?}"
        );
    }
}

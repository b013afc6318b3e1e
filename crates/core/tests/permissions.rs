//! Permission names, sets, presets and device levels, including their JSON shapes.

use std::collections::HashSet;

use serde_json::json;
use teamline_core::permissions::UnknownPermission;
use teamline_core::{DeviceLevel, Permission, PermissionSet, Preset};

use Permission::*;

#[test]
fn all_permissions_are_distinct_with_distinct_names() {
    let perms: HashSet<Permission> = Permission::ALL.into_iter().collect();
    assert_eq!(perms.len(), 17);
    let names: HashSet<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(names.len(), 17);
    assert_eq!(PermissionSet::all().len(), 17);
    for p in Permission::ALL {
        assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
        assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
        assert!(!p.label().is_empty() && !p.action().is_empty());
    }
}

#[test]
fn wire_names_are_the_documented_snake_case() {
    let expected = [
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
    let actual: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(actual, expected);
}

#[test]
fn pin_is_needed_for_delete_export_payments_and_team_only() {
    let with_pin: Vec<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| p.needs_pin())
        .collect();
    assert_eq!(
        with_pin,
        [DeleteHistory, ExportHistory, ManagePayments, ManageTeam]
    );
}

#[test]
fn set_operations() {
    let a = PermissionSet::from([Reply, ViewContacts, ApplyLabels]);
    let b = PermissionSet::from([Reply, ExportHistory]);
    assert!(a.contains(Reply) && !a.contains(ExportHistory));
    assert_eq!(a.intersect(b), PermissionSet::from([Reply]));
    assert_eq!(
        a.union(b),
        PermissionSet::from([Reply, ViewContacts, ApplyLabels, ExportHistory])
    );
    assert_eq!(
        a.difference(b),
        PermissionSet::from([ViewContacts, ApplyLabels])
    );
    assert_eq!(
        a.with(TakeOver).without(Reply),
        PermissionSet::from([ViewContacts, ApplyLabels, TakeOver])
    );
    assert_eq!(a.without(TakeOver), a);
    assert!(PermissionSet::from([Reply]).is_subset_of(a));
    assert!(!b.is_subset_of(a));
    assert!(PermissionSet::EMPTY.is_subset_of(PermissionSet::EMPTY));
    assert!(PermissionSet::EMPTY.is_empty() && PermissionSet::default().is_empty());
    assert_eq!(a.len(), 3);
    // Iteration is in display order, whatever the insertion order.
    let listed: Vec<Permission> = PermissionSet::from([ViewAuditLog, Reply, ViewAllConversations])
        .iter()
        .collect();
    assert_eq!(listed, [ViewAllConversations, Reply, ViewAuditLog]);
    let via_into_iter: Vec<Permission> = a.into_iter().collect();
    assert_eq!(via_into_iter, [Reply, ViewContacts, ApplyLabels]);
    assert_eq!(
        PermissionSet::all().iter().collect::<Vec<_>>(),
        Permission::ALL
    );
    assert_eq!(
        format!("{:?}", PermissionSet::from([TakeOver, Reply])),
        r#"{"reply", "take_over"}"#
    );
}

#[test]
fn set_serializes_as_sorted_array_of_names() {
    let set = PermissionSet::from([ViewTeamQueue, Reply, ApplyLabels, ViewContacts]);
    assert_eq!(
        serde_json::to_string(&set).unwrap(),
        r#"["apply_labels","reply","view_contacts","view_team_queue"]"#
    );
    assert_eq!(serde_json::to_string(&PermissionSet::EMPTY).unwrap(), "[]");
    let all: Vec<String> =
        serde_json::from_value(serde_json::to_value(PermissionSet::all()).unwrap()).unwrap();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(all.len(), 17);
}

#[test]
fn set_deserializes_any_order_and_duplicates() {
    let set: PermissionSet = serde_json::from_str(r#"["reply","apply_labels","reply"]"#).unwrap();
    assert_eq!(set, PermissionSet::from([Reply, ApplyLabels]));
    let round: PermissionSet =
        serde_json::from_str(&serde_json::to_string(&PermissionSet::all()).unwrap()).unwrap();
    assert_eq!(round, PermissionSet::all());
}

#[test]
fn unknown_names_are_errors_naming_the_name() {
    let err = serde_json::from_str::<PermissionSet>(r#"["reply","fly_to_the_moon"]"#).unwrap_err();
    assert!(err.to_string().contains("fly_to_the_moon"), "{err}");
    let err = serde_json::from_str::<Permission>(r#""Reply""#).unwrap_err();
    assert!(err.to_string().contains("Reply"), "{err}");
    assert!(serde_json::from_str::<PermissionSet>(r#""reply""#).is_err());
    assert!(serde_json::from_str::<PermissionSet>("[1]").is_err());
    assert_eq!(
        PermissionSet::from_names(["reply", "nope"]),
        Err(UnknownPermission {
            name: "nope".into()
        })
    );
    assert_eq!(
        PermissionSet::from_names(["reply", "export_history"]),
        Ok(PermissionSet::from([Reply, ExportHistory]))
    );
    assert_eq!(
        UnknownPermission { name: "x".into() }.to_string(),
        r#"unknown permission "x""#
    );
}

#[test]
fn presets_hold_exactly_the_documented_toggles() {
    assert_eq!(Preset::Admin.permissions(), PermissionSet::all());
    assert_eq!(
        Preset::Supervisor.permissions().names(),
        [
            "apply_labels",
            "assign_transfer",
            "configure_automation",
            "manage_labels",
            "reply",
            "take_over",
            "view_all_conversations",
            "view_audit_log",
            "view_contacts",
            "view_team_queue",
        ]
    );
    assert_eq!(
        Preset::Standard.permissions().names(),
        ["apply_labels", "reply", "view_contacts", "view_team_queue"]
    );
    assert_eq!(Preset::Restricted.permissions().names(), ["reply"]);
}

#[test]
fn presets_are_nested_and_none_can_delete_or_export_but_admin() {
    let order = Preset::ALL;
    for pair in order.windows(2) {
        assert!(
            pair[1].permissions().is_subset_of(pair[0].permissions()),
            "{pair:?}"
        );
        assert_ne!(pair[1].permissions(), pair[0].permissions());
    }
    for p in [Preset::Supervisor, Preset::Standard, Preset::Restricted] {
        for sensitive in [
            DeleteHistory,
            ExportHistory,
            SendBroadcasts,
            ManagePayments,
            ManageTeam,
        ] {
            assert!(!p.permissions().contains(sensitive), "{p} has {sensitive}");
        }
    }
}

#[test]
fn preset_names_parse_and_serialize() {
    for p in Preset::ALL {
        assert_eq!(p.as_str().parse::<Preset>(), Ok(p));
        assert_eq!(p.as_str().to_uppercase().parse::<Preset>(), Ok(p));
        assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
        assert_eq!(Preset::matching(p.permissions()), Some(p));
    }
    assert_eq!(
        serde_json::to_string(&Preset::all()).unwrap(),
        r#"["admin","supervisor","standard","restricted"]"#
    );
    let err = "owner".parse::<Preset>().unwrap_err();
    assert!(err.to_string().contains("owner"));
    assert!(serde_json::from_str::<Preset>(r#""owner""#).is_err());
    assert_eq!(
        Preset::matching(Preset::Standard.permissions().with(EditContacts)),
        None
    );
    assert_eq!(Preset::Supervisor.label(), "Supervisor");
}

#[test]
fn device_levels_and_their_json() {
    assert_eq!(
        DeviceLevel::Preset(Preset::Standard).ceiling(),
        Preset::Standard.permissions()
    );
    let custom = DeviceLevel::Custom(PermissionSet::from([Reply, ViewContacts]));
    assert_eq!(custom.ceiling(), PermissionSet::from([Reply, ViewContacts]));
    assert_eq!(
        serde_json::to_value(DeviceLevel::from(Preset::Standard)).unwrap(),
        json!({"preset": "standard"})
    );
    assert_eq!(
        serde_json::to_value(custom).unwrap(),
        json!({"custom": ["reply", "view_contacts"]})
    );
    let back: DeviceLevel =
        serde_json::from_value(json!({"custom": ["view_contacts", "reply"]})).unwrap();
    assert_eq!(back, custom);
    let back: DeviceLevel = serde_json::from_value(json!({"preset": "restricted"})).unwrap();
    assert_eq!(back, DeviceLevel::Preset(Preset::Restricted));
    let err = serde_json::from_value::<DeviceLevel>(json!({"custom": ["teleport"]})).unwrap_err();
    assert!(err.to_string().contains("teleport"), "{err}");
    assert!(serde_json::from_value::<DeviceLevel>(json!({"level": "admin"})).is_err());
}

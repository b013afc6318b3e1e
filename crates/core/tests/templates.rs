//! Templates: deny, windowed permissions, split shifts, several templates, JSON shape, and
//! the one function combining it all.

use jiff::Timestamp;
use jiff::civil::{Weekday, time};
use jiff::tz::TimeZone;
use serde_json::json;
use teamline_core::{
    DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset, TimeWindow, WindowRule,
    effective_permissions,
};
use uuid::Uuid;

use Permission::*;

fn at(utc: &str) -> Timestamp {
    utc.parse().unwrap()
}

fn rule(perms: &[Permission], start: (i8, i8), end: (i8, i8)) -> WindowRule {
    WindowRule {
        permissions: perms.iter().collect(),
        window: TimeWindow::daily(time(start.0, start.1, 0, 0), time(end.0, end.1, 0, 0)),
    }
}

fn template(name: &str, deny: &[Permission], windows: Vec<WindowRule>) -> PermissionTemplate {
    PermissionTemplate {
        id: Uuid::from_u128(7),
        name: name.into(),
        deny: deny.iter().collect(),
        windows,
    }
}

#[test]
fn empty_template_allows_everything() {
    let t = template("Nothing", &[], vec![]);
    assert_eq!(
        t.mask_at(at("2025-06-10T12:00:00Z"), &TimeZone::UTC),
        PermissionSet::all()
    );
}

#[test]
fn deny_and_window_mask() {
    let night = template(
        "Night shift",
        &[ExportHistory],
        vec![rule(&[Reply], (23, 0), (7, 0))],
    );
    let utc = TimeZone::UTC;
    assert_eq!(
        night.mask_at(at("2025-06-10T23:30:00Z"), &utc),
        PermissionSet::all().without(ExportHistory)
    );
    assert_eq!(
        night.mask_at(at("2025-06-10T12:00:00Z"), &utc),
        PermissionSet::all().without(ExportHistory).without(Reply)
    );
}

#[test]
fn split_shift_in_one_template_allows_either_window() {
    let split = template(
        "Split",
        &[],
        vec![
            rule(&[Reply], (8, 0), (12, 0)),
            rule(&[Reply], (14, 0), (18, 0)),
        ],
    );
    let utc = TimeZone::UTC;
    for (when, reply) in [
        ("2025-06-10T07:59:00Z", false),
        ("2025-06-10T09:00:00Z", true),
        ("2025-06-10T13:00:00Z", false),
        ("2025-06-10T15:00:00Z", true),
        ("2025-06-10T18:00:00Z", false),
    ] {
        assert_eq!(
            split.mask_at(at(when), &utc).contains(Reply),
            reply,
            "{when}"
        );
        // Nothing else is governed by these windows.
        assert_eq!(
            split.mask_at(at(when), &utc).without(Reply),
            PermissionSet::all().without(Reply)
        );
    }
}

#[test]
fn rules_govern_only_their_own_permissions() {
    let t = template(
        "Office",
        &[],
        vec![
            rule(&[Reply, ApplyLabels], (9, 0), (17, 0)),
            rule(&[SendBroadcasts], (10, 0), (11, 0)),
        ],
    );
    let utc = TimeZone::UTC;
    let at_0930 = t.mask_at(at("2025-06-10T09:30:00Z"), &utc);
    assert!(
        at_0930.contains(Reply)
            && at_0930.contains(ApplyLabels)
            && !at_0930.contains(SendBroadcasts)
    );
    let at_1030 = t.mask_at(at("2025-06-10T10:30:00Z"), &utc);
    assert_eq!(at_1030, PermissionSet::all());
    let at_2000 = t.mask_at(at("2025-06-10T20:00:00Z"), &utc);
    assert_eq!(
        at_2000,
        PermissionSet::all().difference(PermissionSet::from([Reply, ApplyLabels, SendBroadcasts]))
    );
}

#[test]
fn deny_wins_over_an_open_window() {
    let t = template("Odd", &[Reply], vec![rule(&[Reply], (0, 0), (0, 0))]);
    assert!(
        !t.mask_at(at("2025-06-10T12:00:00Z"), &TimeZone::UTC)
            .contains(Reply)
    );
}

#[test]
fn several_templates_all_apply() {
    let night = template(
        "Night shift",
        &[ExportHistory],
        vec![rule(&[Reply], (23, 0), (7, 0))],
    );
    let weekend_off = PermissionTemplate {
        windows: vec![WindowRule {
            permissions: PermissionSet::from([Reply, ApplyLabels]),
            window: TimeWindow {
                start: time(0, 0, 0, 0),
                end: time(0, 0, 0, 0),
                weekdays: Some(vec![
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                ]),
            },
        }],
        ..template("Weekdays only", &[DeleteHistory], vec![])
    };
    let both = [night, weekend_off];
    let admin = Preset::Admin.permissions();
    let device = DeviceLevel::Preset(Preset::Admin);
    let utc = TimeZone::UTC;
    // Tuesday 23:30: night window open, weekday: reply allowed.
    let tue_night = effective_permissions(admin, &device, &both, at("2025-06-10T23:30:00Z"), &utc);
    assert_eq!(
        tue_night,
        admin.difference(PermissionSet::from([ExportHistory, DeleteHistory]))
    );
    // Saturday 23:30: night window open but weekend: no reply, no labels.
    let sat_night = effective_permissions(admin, &device, &both, at("2025-06-14T23:30:00Z"), &utc);
    assert_eq!(
        sat_night,
        admin.difference(PermissionSet::from([
            ExportHistory,
            DeleteHistory,
            Reply,
            ApplyLabels
        ]))
    );
    // Tuesday noon: weekday but outside the night window: no reply.
    let tue_noon = effective_permissions(admin, &device, &both, at("2025-06-10T12:00:00Z"), &utc);
    assert_eq!(
        tue_noon,
        admin.difference(PermissionSet::from([ExportHistory, DeleteHistory, Reply]))
    );
}

#[test]
fn the_shift_laptop_stays_standard_whoever_signs_in() {
    let laptop = DeviceLevel::Preset(Preset::Standard);
    let now = at("2025-06-10T12:00:00Z");
    for member in Preset::ALL {
        let eff = effective_permissions(member.permissions(), &laptop, &[], now, &TimeZone::UTC);
        assert!(eff.is_subset_of(Preset::Standard.permissions()), "{member}");
        assert!(
            !eff.contains(ExportHistory)
                && !eff.contains(DeleteHistory)
                && !eff.contains(SendBroadcasts)
        );
    }
    let admin_on_laptop = effective_permissions(
        Preset::Admin.permissions(),
        &laptop,
        &[],
        now,
        &TimeZone::UTC,
    );
    assert_eq!(admin_on_laptop, Preset::Standard.permissions());
}

#[test]
fn template_json_shape() {
    let night = template(
        "Night shift",
        &[ExportHistory],
        vec![rule(&[Reply], (23, 0), (7, 0))],
    );
    let v = serde_json::to_value(&night).unwrap();
    assert_eq!(
        v,
        json!({
            "id": "00000000-0000-0000-0000-000000000007",
            "name": "Night shift",
            "deny": ["export_history"],
            "windows": [{"permissions": ["reply"], "window": {"start": "23:00", "end": "07:00"}}]
        })
    );
    assert_eq!(
        serde_json::from_value::<PermissionTemplate>(v).unwrap(),
        night
    );
    // deny and windows may be omitted.
    let bare: PermissionTemplate = serde_json::from_value(
        json!({"id": "00000000-0000-0000-0000-000000000007", "name": "Bare"}),
    )
    .unwrap();
    assert_eq!(bare, template("Bare", &[], vec![]));
    let err = serde_json::from_value::<PermissionTemplate>(json!({
        "id": "00000000-0000-0000-0000-000000000007", "name": "x", "deny": ["nap"]
    }))
    .unwrap_err();
    assert!(err.to_string().contains("nap"), "{err}");
}

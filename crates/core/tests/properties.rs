//! Property tests over random members, devices, templates, instants and time zones.

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use proptest::prelude::*;
use teamline_core::{
    DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset, TimeWindow, WindowRule,
    effective_permissions,
};
use uuid::Uuid;

/// Zones with DST in both hemispheres, half-hour offsets and a 30-minute DST shift.
const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Asia/Shanghai",
];

const DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn perm_set() -> impl Strategy<Value = PermissionSet> {
    prop::collection::vec(prop::sample::select(Permission::ALL.to_vec()), 0..=17)
        .prop_map(|ps| ps.into_iter().collect())
}

fn device() -> impl Strategy<Value = DeviceLevel> {
    prop_oneof![
        prop::sample::select(Preset::ALL.to_vec()).prop_map(DeviceLevel::Preset),
        perm_set().prop_map(DeviceLevel::Custom),
    ]
}

fn clock() -> impl Strategy<Value = Time> {
    prop_oneof![
        // Round hours make equal starts and ends (whole-day windows) and DST edges common.
        (0i8..24).prop_map(|h| Time::new(h, 0, 0, 0).unwrap()),
        (0i8..24, 0i8..60).prop_map(|(h, m)| Time::new(h, m, 0, 0).unwrap()),
    ]
}

fn weekdays() -> impl Strategy<Value = Option<Vec<Weekday>>> {
    prop::option::of(prop::collection::vec(
        prop::sample::select(DAYS.to_vec()),
        0..=7,
    ))
}

fn window() -> impl Strategy<Value = TimeWindow> {
    (clock(), clock(), weekdays()).prop_map(|(start, end, weekdays)| TimeWindow {
        start,
        end,
        weekdays,
    })
}

fn template() -> impl Strategy<Value = PermissionTemplate> {
    (
        any::<u128>(),
        perm_set(),
        prop::collection::vec(
            (perm_set(), window()).prop_map(|(permissions, window)| WindowRule {
                permissions,
                window,
            }),
            0..4,
        ),
    )
        .prop_map(|(id, deny, windows)| PermissionTemplate {
            id: Uuid::from_u128(id),
            name: "random".into(),
            deny,
            windows,
        })
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // 2020-01-01 .. 2030-01-01. Whole hours and minutes land exactly on window edges (every
    // zone here is offset by whole minutes), where off-by-one mistakes live.
    let seconds = 1_577_836_800i64..1_893_456_000;
    prop_oneof![
        seconds.clone(),
        seconds.clone().prop_map(|s| s - s % 3600),
        seconds.prop_map(|s| s - s % 60),
    ]
    .prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn zone() -> impl Strategy<Value = TimeZone> {
    prop::sample::select(ZONES.to_vec())
        .prop_map(|name| teamline_core::schedule::time_zone(name).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn effective_is_within_member_and_device(
        member in perm_set(), dev in device(),
        templates in prop::collection::vec(template(), 0..4),
        now in instant(), tz in zone(),
    ) {
        let eff = effective_permissions(member, &dev, &templates, now, &tz);
        prop_assert!(eff.is_subset_of(member.intersect(dev.ceiling())));
        prop_assert!(eff.is_subset_of(member));
        prop_assert!(eff.is_subset_of(dev.ceiling()));
        for t in &templates {
            prop_assert!(eff.intersect(t.deny).is_empty(), "a denied permission leaked");
        }
    }

    #[test]
    fn without_templates_effective_is_exactly_member_and_device(
        member in perm_set(), dev in device(), now in instant(), tz in zone(),
    ) {
        let eff = effective_permissions(member, &dev, &[], now, &tz);
        prop_assert_eq!(eff, member.intersect(dev.ceiling()));
        // Spelled out per permission, independent of the set operations.
        for p in Permission::ALL {
            prop_assert_eq!(eff.contains(p), member.contains(p) && dev.ceiling().contains(p));
        }
    }

    #[test]
    fn adding_a_template_never_adds_permissions(
        member in perm_set(), dev in device(),
        templates in prop::collection::vec(template(), 0..4), extra in template(),
        position in any::<prop::sample::Index>(),
        now in instant(), tz in zone(),
    ) {
        let before = effective_permissions(member, &dev, &templates, now, &tz);
        let mut more = templates.clone();
        more.insert(position.index(templates.len() + 1), extra);
        let after = effective_permissions(member, &dev, &more, now, &tz);
        prop_assert!(after.is_subset_of(before));
    }

    #[test]
    fn template_order_does_not_matter(
        member in perm_set(), dev in device(),
        templates in prop::collection::vec(template(), 0..4),
        now in instant(), tz in zone(),
    ) {
        let forward = effective_permissions(member, &dev, &templates, now, &tz);
        let mut reversed = templates.clone();
        reversed.reverse();
        prop_assert_eq!(forward, effective_permissions(member, &dev, &reversed, now, &tz));
    }

    #[test]
    fn a_permission_outside_every_one_of_its_windows_is_gone(
        t in template(), now in instant(), tz in zone(),
    ) {
        let mask = t.mask_at(now, &tz);
        for p in Permission::ALL {
            let rules: Vec<&WindowRule> = t.windows.iter().filter(|r| r.permissions.contains(p)).collect();
            let expected = !t.deny.contains(p)
                && (rules.is_empty() || rules.iter().any(|r| r.window.contains(now, &tz)));
            prop_assert_eq!(mask.contains(p), expected, "{}", p);
        }
    }

    /// [s, e) and [e, s) split every day exactly in two, DST or not.
    #[test]
    fn a_window_and_its_complement_partition_the_day(
        start in clock(), end in clock(), now in instant(), tz in zone(),
    ) {
        prop_assume!(start != end);
        let w = TimeWindow::daily(start, end);
        let complement = TimeWindow::daily(end, start);
        prop_assert!(w.contains(now, &tz) != complement.contains(now, &tz));
    }

    /// Splitting the weekdays of a window in two splits its moments in two.
    #[test]
    fn weekdays_partition_a_daily_window(
        start in clock(), end in clock(), chosen in prop::collection::vec(any::<bool>(), 7),
        now in instant(), tz in zone(),
    ) {
        let some: Vec<Weekday> = DAYS.iter().zip(&chosen).filter(|(_, c)| **c).map(|(d, _)| *d).collect();
        let rest: Vec<Weekday> = DAYS.iter().zip(&chosen).filter(|(_, c)| !**c).map(|(d, _)| *d).collect();
        let daily = TimeWindow::daily(start, end);
        let a = TimeWindow { weekdays: Some(some), ..daily.clone() };
        let b = TimeWindow { weekdays: Some(rest), ..daily.clone() };
        let (in_a, in_b) = (a.contains(now, &tz), b.contains(now, &tz));
        prop_assert!(!(in_a && in_b));
        prop_assert_eq!(in_a || in_b, daily.contains(now, &tz));
    }

    #[test]
    fn json_round_trips(set in perm_set(), dev in device(), t in template()) {
        let back: PermissionSet = serde_json::from_str(&serde_json::to_string(&set).unwrap()).unwrap();
        prop_assert_eq!(back, set);
        let names: Vec<String> = serde_json::from_value(serde_json::to_value(set).unwrap()).unwrap();
        prop_assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {:?}", names);
        let back: DeviceLevel = serde_json::from_str(&serde_json::to_string(&dev).unwrap()).unwrap();
        prop_assert_eq!(back, dev);
        let back: PermissionTemplate = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        prop_assert_eq!(back, t);
    }
}

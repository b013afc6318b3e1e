//! Time windows: across midnight, weekdays of the window's start, whole days, DST days in
//! Europe/Berlin and America/New_York, and the JSON shape.

use jiff::Timestamp;
use jiff::civil::{Time, Weekday, time};
use jiff::tz::TimeZone;
use serde_json::json;
use teamline_core::TimeWindow;
use teamline_core::schedule::parse_time;

fn tz(name: &str) -> TimeZone {
    teamline_core::schedule::time_zone(name).expect("bundled tz database has this zone")
}

fn at(utc: &str) -> Timestamp {
    utc.parse().expect("valid RFC 3339 instant")
}

fn hm(h: i8, m: i8) -> Time {
    time(h, m, 0, 0)
}

fn window(start: Time, end: Time, days: Option<&[Weekday]>) -> TimeWindow {
    TimeWindow {
        start,
        end,
        weekdays: days.map(<[Weekday]>::to_vec),
    }
}

/// Asserts `contains` for each (UTC instant, expected) pair, naming the failing instant.
fn check(w: &TimeWindow, zone: &TimeZone, cases: &[(&str, bool)]) {
    for &(utc, expected) in cases {
        let local = zone.to_datetime(at(utc));
        assert_eq!(
            w.contains(at(utc), zone),
            expected,
            "{w} at {utc} (local {local})"
        );
    }
}

#[test]
fn plain_daytime_window_is_half_open() {
    let w = TimeWindow::daily(hm(9, 0), hm(17, 0));
    check(
        &w,
        &TimeZone::UTC,
        &[
            ("2025-06-10T08:59:59Z", false),
            ("2025-06-10T09:00:00Z", true),
            ("2025-06-10T12:00:00Z", true),
            ("2025-06-10T16:59:59.999Z", true),
            ("2025-06-10T17:00:00Z", false),
            ("2025-06-10T23:00:00Z", false),
        ],
    );
}

#[test]
fn window_across_midnight() {
    let w = TimeWindow::daily(hm(23, 0), hm(7, 0));
    check(
        &w,
        &TimeZone::UTC,
        &[
            ("2025-06-10T22:59:59Z", false),
            ("2025-06-10T23:00:00Z", true),
            ("2025-06-11T00:00:00Z", true),
            ("2025-06-11T03:00:00Z", true),
            ("2025-06-11T06:59:59Z", true),
            ("2025-06-11T07:00:00Z", false),
            ("2025-06-11T12:00:00Z", false),
        ],
    );
}

#[test]
fn window_is_read_in_the_team_time_zone() {
    // 23:00–07:00 in Berlin (CEST, UTC+2 in June) is 21:00–05:00 UTC.
    let w = TimeWindow::daily(hm(23, 0), hm(7, 0));
    let berlin = tz("Europe/Berlin");
    check(
        &w,
        &berlin,
        &[
            ("2025-06-10T20:59:00Z", false),
            ("2025-06-10T21:00:00Z", true),
            ("2025-06-10T23:00:00Z", true),
            ("2025-06-11T04:59:00Z", true),
            ("2025-06-11T05:00:00Z", false),
        ],
    );
    // The weekday is local too: Monday 08:30 in Tokyo is Sunday 23:30 UTC.
    let monday_morning = window(hm(8, 0), hm(9, 0), Some(&[Weekday::Monday]));
    check(
        &monday_morning,
        &tz("Asia/Tokyo"),
        &[
            ("2025-06-08T23:30:00Z", true),
            ("2025-06-09T23:30:00Z", false),
        ],
    );
}

#[test]
fn weekdays_are_those_of_the_window_start() {
    // Monday's 23:00–07:00 only. 2025-06-09 is a Monday.
    let w = window(hm(23, 0), hm(7, 0), Some(&[Weekday::Monday]));
    check(
        &w,
        &TimeZone::UTC,
        &[
            ("2025-06-08T23:30:00Z", false), // Sunday night
            ("2025-06-09T01:00:00Z", false), // Monday 01:00 belongs to Sunday's window
            ("2025-06-09T23:00:00Z", true),  // Monday 23:00
            ("2025-06-10T01:00:00Z", true),  // Tuesday 01:00, inside Monday's window
            ("2025-06-10T06:59:00Z", true),
            ("2025-06-10T07:00:00Z", false),
            ("2025-06-10T23:30:00Z", false), // Tuesday night
        ],
    );
    let weekdays = window(
        hm(9, 0),
        hm(17, 0),
        Some(&[
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ]),
    );
    check(
        &weekdays,
        &TimeZone::UTC,
        &[
            ("2025-06-13T10:00:00Z", true),  // Friday
            ("2025-06-14T10:00:00Z", false), // Saturday
            ("2025-06-15T10:00:00Z", false), // Sunday
            ("2025-06-16T10:00:00Z", true),  // Monday
        ],
    );
}

#[test]
fn no_weekdays_selected_means_never() {
    let w = window(hm(0, 0), hm(0, 0), Some(&[]));
    check(
        &w,
        &TimeZone::UTC,
        &[
            ("2025-06-10T12:00:00Z", false),
            ("2025-06-11T00:00:00Z", false),
        ],
    );
}

#[test]
fn start_equal_to_end_is_the_whole_day() {
    let always = TimeWindow::daily(hm(0, 0), hm(0, 0));
    let also_always = TimeWindow::daily(hm(9, 0), hm(9, 0));
    for utc in [
        "2025-06-10T00:00:00Z",
        "2025-06-10T08:59:59Z",
        "2025-06-10T09:00:00Z",
        "2025-06-10T23:59:59Z",
    ] {
        assert!(always.contains(at(utc), &TimeZone::UTC), "{utc}");
        assert!(also_always.contains(at(utc), &TimeZone::UTC), "{utc}");
    }
    // With weekdays, 24 hours from the start on those days: Saturday 09:00 to Sunday 09:00.
    let saturday = window(hm(9, 0), hm(9, 0), Some(&[Weekday::Saturday]));
    check(
        &saturday,
        &TimeZone::UTC,
        &[
            ("2025-06-14T08:59:00Z", false),
            ("2025-06-14T09:00:00Z", true),
            ("2025-06-15T08:59:00Z", true),
            ("2025-06-15T09:00:00Z", false),
        ],
    );
    let all_saturday = window(hm(0, 0), hm(0, 0), Some(&[Weekday::Saturday]));
    check(
        &all_saturday,
        &TimeZone::UTC,
        &[
            ("2025-06-13T23:59:59Z", false),
            ("2025-06-14T00:00:00Z", true),
            ("2025-06-14T23:59:59Z", true),
            ("2025-06-15T00:00:00Z", false),
        ],
    );
}

#[test]
fn berlin_spring_forward_skips_the_missing_half_hour() {
    // 2025-03-30: 02:00 CET (01:00Z) jumps to 03:00 CEST. A 01:30–02:30 window lasts from
    // 01:30 CET until the jump, 30 real minutes.
    let w = TimeWindow::daily(hm(1, 30), hm(2, 30));
    check(
        &w,
        &tz("Europe/Berlin"),
        &[
            ("2025-03-30T00:29:59Z", false), // 01:29:59 CET
            ("2025-03-30T00:30:00Z", true),  // 01:30 CET
            ("2025-03-30T00:59:59Z", true),  // 01:59:59 CET
            ("2025-03-30T01:00:00Z", false), // 03:00 CEST
            ("2025-03-30T01:30:00Z", false), // 03:30 CEST
            ("2025-03-31T00:00:00Z", true),  // next day 02:00 CEST, normal again
        ],
    );
    // A window starting inside the gap opens when the clocks jump.
    let gap_start = TimeWindow::daily(hm(2, 15), hm(4, 0));
    check(
        &gap_start,
        &tz("Europe/Berlin"),
        &[
            ("2025-03-30T00:59:59Z", false), // 01:59:59 CET
            ("2025-03-30T01:00:00Z", true),  // 03:00 CEST
            ("2025-03-30T01:59:59Z", true),  // 03:59:59 CEST
            ("2025-03-30T02:00:00Z", false), // 04:00 CEST
        ],
    );
}

#[test]
fn berlin_night_shift_across_both_dst_changes() {
    let night = TimeWindow::daily(hm(23, 0), hm(7, 0));
    let berlin = tz("Europe/Berlin");
    // Spring: Saturday 23:00 CET (22:00Z) to Sunday 07:00 CEST (05:00Z): 7 real hours.
    check(
        &night,
        &berlin,
        &[
            ("2025-03-29T21:59:59Z", false),
            ("2025-03-29T22:00:00Z", true),
            ("2025-03-30T01:00:00Z", true),
            ("2025-03-30T04:59:59Z", true),
            ("2025-03-30T05:00:00Z", false),
        ],
    );
    // Autumn: Saturday 23:00 CEST (21:00Z) to Sunday 07:00 CET (06:00Z): 9 real hours.
    check(
        &night,
        &berlin,
        &[
            ("2025-10-25T20:59:59Z", false),
            ("2025-10-25T21:00:00Z", true),
            ("2025-10-26T00:30:00Z", true), // 02:30 CEST
            ("2025-10-26T01:30:00Z", true), // 02:30 CET, the repeated hour
            ("2025-10-26T05:59:59Z", true),
            ("2025-10-26T06:00:00Z", false),
        ],
    );
}

#[test]
fn berlin_fall_back_repeated_hour_counts_twice() {
    // 2025-10-26: 03:00 CEST (01:00Z) falls back to 02:00 CET; 02:00–02:59 happens twice.
    let w = TimeWindow::daily(hm(2, 15), hm(2, 45));
    check(
        &w,
        &tz("Europe/Berlin"),
        &[
            ("2025-10-26T00:14:59Z", false), // 02:14:59 CEST
            ("2025-10-26T00:15:00Z", true),  // 02:15 CEST
            ("2025-10-26T00:44:59Z", true),
            ("2025-10-26T00:45:00Z", false), // 02:45 CEST
            ("2025-10-26T01:15:00Z", true),  // 02:15 CET (second time)
            ("2025-10-26T01:45:00Z", false), // 02:45 CET
        ],
    );
}

#[test]
fn new_york_spring_forward_window_0130_0230() {
    // 2025-03-09: 02:00 EST (07:00Z) jumps to 03:00 EDT.
    let w = TimeWindow::daily(hm(1, 30), hm(2, 30));
    check(
        &w,
        &tz("America/New_York"),
        &[
            ("2025-03-09T06:29:59Z", false), // 01:29:59 EST
            ("2025-03-09T06:30:00Z", true),  // 01:30 EST
            ("2025-03-09T06:59:59Z", true),  // 01:59:59 EST
            ("2025-03-09T07:00:00Z", false), // 03:00 EDT
            ("2025-03-09T07:30:00Z", false), // 03:30 EDT
        ],
    );
}

#[test]
fn new_york_fall_back_window_0130_0230() {
    // 2025-11-02: 02:00 EDT (06:00Z) falls back to 01:00 EST; 01:00–01:59 happens twice.
    let w = TimeWindow::daily(hm(1, 30), hm(2, 30));
    check(
        &w,
        &tz("America/New_York"),
        &[
            ("2025-11-02T05:15:00Z", false), // 01:15 EDT
            ("2025-11-02T05:45:00Z", true),  // 01:45 EDT
            ("2025-11-02T06:15:00Z", false), // 01:15 EST (repeated, before the window)
            ("2025-11-02T06:45:00Z", true),  // 01:45 EST (repeated, inside again)
            ("2025-11-02T07:15:00Z", true),  // 02:15 EST
            ("2025-11-02T07:30:00Z", false), // 02:30 EST
        ],
    );
}

#[test]
fn weekday_window_survives_dst_night() {
    // Saturday's 23:00–07:00 in New York over the spring-forward night (2025-03-08/09).
    let w = window(hm(23, 0), hm(7, 0), Some(&[Weekday::Saturday]));
    check(
        &w,
        &tz("America/New_York"),
        &[
            ("2025-03-09T03:59:00Z", false), // Saturday 22:59 EST
            ("2025-03-09T04:00:00Z", true),  // Saturday 23:00 EST
            ("2025-03-09T10:59:00Z", true),  // Sunday 06:59 EDT
            ("2025-03-09T11:00:00Z", false), // Sunday 07:00 EDT
            ("2025-03-10T04:00:00Z", false), // Monday 00:00 EDT, inside Sunday's window only
        ],
    );
}

#[test]
fn json_shape_round_trips() {
    let w = window(
        hm(23, 0),
        hm(7, 0),
        Some(&[Weekday::Monday, Weekday::Sunday]),
    );
    let v = serde_json::to_value(&w).unwrap();
    assert_eq!(
        v,
        json!({"start": "23:00", "end": "07:00", "weekdays": ["mon", "sun"]})
    );
    assert_eq!(serde_json::from_value::<TimeWindow>(v).unwrap(), w);

    let daily = TimeWindow::daily(hm(9, 5), hm(17, 30));
    let v = serde_json::to_value(&daily).unwrap();
    assert_eq!(v, json!({"start": "09:05", "end": "17:30"}));
    assert_eq!(serde_json::from_value::<TimeWindow>(v).unwrap(), daily);
    let with_null: TimeWindow =
        serde_json::from_value(json!({"start": "09:05", "end": "17:30", "weekdays": null}))
            .unwrap();
    assert_eq!(with_null, daily);

    let seconds = TimeWindow::daily(time(9, 0, 30, 0), hm(10, 0));
    let v = serde_json::to_value(&seconds).unwrap();
    assert_eq!(v["start"], "09:00:30");
    assert_eq!(serde_json::from_value::<TimeWindow>(v).unwrap(), seconds);

    let all_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let w: TimeWindow =
        serde_json::from_value(json!({"start": "00:00", "end": "00:00", "weekdays": all_days}))
            .unwrap();
    assert_eq!(
        serde_json::to_value(&w).unwrap()["weekdays"],
        json!(all_days)
    );
}

#[test]
fn bad_json_is_refused_with_the_offending_text() {
    for (bad, needle) in [
        (json!({"start": "24:00", "end": "07:00"}), "24:00"),
        (json!({"start": "7:00", "end": "08:00"}), "7:00"),
        (json!({"start": "07:60", "end": "08:00"}), "07:60"),
        (json!({"start": "0700", "end": "08:00"}), "0700"),
        (
            json!({"start": "07:00", "end": "08:00", "weekdays": ["monday"]}),
            "monday",
        ),
        (
            json!({"start": "07:00", "end": "08:00", "weekdays": ["Mon"]}),
            "Mon",
        ),
    ] {
        let err = serde_json::from_value::<TimeWindow>(bad.clone()).unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
    assert!(serde_json::from_value::<TimeWindow>(json!({"start": "07:00"})).is_err());
    assert_eq!(parse_time("23:59"), Ok(hm(23, 59)));
    assert_eq!(parse_time("00:00:59"), Ok(time(0, 0, 59, 0)));
    for bad in [
        "",
        "1:00",
        "01:0",
        "01:00:",
        "01:00:00:00",
        "+1:00",
        "-1:00",
        "ab:cd",
        "01:00:60",
    ] {
        assert!(parse_time(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn display_reads_naturally() {
    assert_eq!(
        TimeWindow::daily(hm(23, 0), hm(7, 0)).to_string(),
        "23:00–07:00"
    );
    assert_eq!(
        window(
            hm(9, 0),
            hm(17, 0),
            Some(&[Weekday::Monday, Weekday::Friday])
        )
        .to_string(),
        "09:00–17:00 (Mon, Fri)"
    );
    assert_eq!(
        window(hm(9, 0), hm(17, 0), Some(&[])).to_string(),
        "09:00–17:00 (no days)"
    );
}

#[test]
fn team_time_zones_come_from_the_bundled_database() {
    use teamline_core::schedule::{UnknownTimeZone, time_zone};
    let berlin = time_zone("Europe/Berlin").unwrap();
    assert_eq!(berlin.iana_name(), Some("Europe/Berlin"));
    assert!(time_zone("Asia/Shanghai").is_ok());
    assert_eq!(time_zone("UTC").unwrap(), TimeZone::UTC);
    assert_eq!(
        time_zone("Mars/Olympus_Mons"),
        Err(UnknownTimeZone {
            name: "Mars/Olympus_Mons".into()
        })
    );
    assert!(
        time_zone("Mars/Olympus_Mons")
            .unwrap_err()
            .to_string()
            .contains("Mars/Olympus_Mons")
    );
    // Rules come from the bundle: Berlin is on CEST (+02:00) in June.
    let offset = berlin.to_offset(at("2025-06-10T12:00:00Z"));
    assert_eq!(offset.seconds(), 7200);
}

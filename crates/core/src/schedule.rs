//! Daily time windows in the team's time zone.

use std::fmt;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// An IANA time zone name that the bundled database does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {name:?} (expected an IANA name such as \"Europe/Berlin\")")]
pub struct UnknownTimeZone {
    pub name: String,
}

/// Looks up the team's time zone in jiff's BUNDLED tz database, never the OS copy: no file
/// I/O, and the relay (Linux) and every desktop (Windows, macOS) then use the same rules
/// version, so they agree on whether a window is open. Use this rather than
/// `TimeZone::get`, which prefers `/usr/share/zoneinfo` when present.
pub fn time_zone(name: &str) -> Result<TimeZone, UnknownTimeZone> {
    static BUNDLED: OnceLock<TimeZoneDatabase> = OnceLock::new();
    BUNDLED
        .get_or_init(TimeZoneDatabase::bundled)
        .get(name)
        .map_err(|_| UnknownTimeZone {
            name: name.to_owned(),
        })
}

/// A daily window in the team's time zone, e.g. 23:00–07:00 (crosses midnight), optionally
/// only on chosen weekdays.
///
/// Rules:
/// - The window is half-open, `[start, end)`: at 07:00 a 23:00–07:00 window has closed.
/// - `start > end` crosses midnight; `start == end` is a whole day (24 hours from `start`).
/// - `weekdays` are the weekdays of the window's START: 01:00 on Tuesday is inside
///   Monday's 23:00–07:00 window. `None` means every day; `Some(vec![])` means never.
/// - Evaluated on civil (wall-clock) time, which is what a shift plan means: on a
///   spring-forward day the skipped hour simply never happens (a 01:30–02:30 window in
///   Berlin lasts 30 minutes), on a fall-back day the repeated hour counts twice.
///
/// serde: `{"start":"23:00","end":"07:00","weekdays":["mon","tue"]}` (`weekdays` omitted
/// when `None`); times are written `HH:MM` (`HH:MM:SS` if seconds are set; sub-second
/// precision is not kept) and read as `HH:MM` or `HH:MM:SS`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TimeWindow.ts"))]
pub struct TimeWindow {
    /// `HH:MM`.
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub start: Time,
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub end: Time,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "weekday_names"
    )]
    #[cfg_attr(
        feature = "ts",
        ts(
            optional,
            type = "Array<\"mon\" | \"tue\" | \"wed\" | \"thu\" | \"fri\" | \"sat\" | \"sun\">"
        )
    )]
    pub weekdays: Option<Vec<Weekday>>,
}

impl TimeWindow {
    /// A window on every day.
    pub fn daily(start: Time, end: Time) -> TimeWindow {
        TimeWindow {
            start,
            end,
            weekdays: None,
        }
    }

    /// Whether `now`, read as wall-clock time in `tz`, falls inside the window.
    pub fn contains(&self, now: Timestamp, tz: &TimeZone) -> bool {
        let local = tz.to_datetime(now);
        let time = local.time();
        let today = local.weekday();
        let yesterday = today.previous();
        if self.start < self.end {
            self.start <= time && time < self.end && self.on(today)
        } else {
            // Crosses midnight (or a whole day when start == end): the part from `start`
            // belongs to today's window, the part before `end` to yesterday's.
            (time >= self.start && self.on(today)) || (time < self.end && self.on(yesterday))
        }
    }

    fn on(&self, day: Weekday) -> bool {
        self.weekdays
            .as_ref()
            .is_none_or(|days| days.contains(&day))
    }
}

/// `23:00–07:00`, then ` (Mon, Tue)` when limited to weekdays; for summaries and logs.
impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", format_time(self.start), format_time(self.end))?;
        if let Some(days) = &self.weekdays {
            let names: Vec<&str> = days.iter().map(|d| weekday_label(*d)).collect();
            if names.is_empty() {
                f.write_str(" (no days)")?;
            } else {
                write!(f, " ({})", names.join(", "))?;
            }
        }
        Ok(())
    }
}

fn format_time(t: Time) -> String {
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

/// Parses `HH:MM` or `HH:MM:SS` (24-hour clock, two digits each), nothing looser.
pub fn parse_time(s: &str) -> Result<Time, String> {
    let err = || format!("invalid time {s:?}: expected HH:MM (24-hour clock)");
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err());
    }
    let num = |i: usize| parts.get(i).map_or(Ok(0), |p| p.parse::<i8>());
    let (h, m, sec) = match (num(0), num(1), num(2)) {
        (Ok(h), Ok(m), Ok(sec)) => (h, m, sec),
        _ => return Err(err()),
    };
    Time::new(h, m, sec, 0).map_err(|_| err())
}

fn ser_time<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
    let s = String::deserialize(d)?;
    parse_time(&s).map_err(de::Error::custom)
}

/// The wire name of a weekday: `"mon"` … `"sun"`.
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

fn weekday_label(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

/// Parses a weekday wire name (`"mon"` … `"sun"`, exactly).
pub fn parse_weekday(s: &str) -> Result<Weekday, String> {
    const DAYS: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    DAYS.into_iter()
        .find(|d| weekday_name(*d) == s)
        .ok_or_else(|| {
            format!("invalid weekday {s:?}: expected one of mon, tue, wed, thu, fri, sat, sun")
        })
}

/// `#[serde(with)]` adapters (a module each, which ts-rs understands beside `ts(type)`).
mod hhmm {
    pub(super) use super::{de_time as deserialize, ser_time as serialize};
}

mod weekday_names {
    pub(super) use super::{de_weekdays as deserialize, ser_weekdays as serialize};
}

fn ser_weekdays<S: Serializer>(days: &Option<Vec<Weekday>>, s: S) -> Result<S::Ok, S::Error> {
    match days {
        None => s.serialize_none(),
        Some(days) => s.collect_seq(days.iter().map(|d| weekday_name(*d))),
    }
}

fn de_weekdays<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Weekday>>, D::Error> {
    let names = Option::<Vec<String>>::deserialize(d)?;
    names
        .map(|names| {
            names
                .iter()
                .map(|n| parse_weekday(n).map_err(de::Error::custom))
                .collect()
        })
        .transpose()
}

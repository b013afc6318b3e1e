//! Business hours in the team's IANA time zone: several ranges per weekday, ranges across
//! midnight, holidays by date.
//!
//! Hours are wall-clock times, like a shop's door sign: on a spring-forward day a range
//! that starts inside the skipped hour opens when the clocks jump, and a range that lies
//! entirely inside it does not happen. A holiday closes its whole date (00:00–24:00 local),
//! including the after-midnight tail of the previous evening's range, and no range starts
//! on it.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::schedule::{UnknownTimeZone, time_zone};

/// One opening range: `start` to `end` on `day`; `end <= start` runs past midnight into
/// the next day (`22:00`–`02:00`), and `end == start` is a full 24 hours.
///
/// serde: `{"day":"mon","start":"09:00","end":"18:00"}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "OpenRange.ts"))]
pub struct OpenRange {
    #[serde(with = "weekday_name")]
    #[cfg_attr(
        feature = "ts",
        ts(type = "\"mon\" | \"tue\" | \"wed\" | \"thu\" | \"fri\" | \"sat\" | \"sun\"")
    )]
    pub day: Weekday,
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub start: Time,
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub end: Time,
}

/// A team's business hours. serde:
/// `{"time_zone":"Europe/Madrid","ranges":[…],"holidays":["2026-12-25"]}`.
///
/// No ranges at all means "no hours configured": open all day except on holidays, so that
/// away messages stay quiet until the business sets its hours.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "BusinessHours.ts"))]
pub struct BusinessHours {
    pub time_zone: String,
    #[serde(default)]
    pub ranges: Vec<OpenRange>,
    /// Dates (`YYYY-MM-DD`, local) when the business is closed all day.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub holidays: Vec<Date>,
}

/// [`BusinessHours`] with the time zone resolved, ready for many queries.
#[derive(Clone, Debug)]
pub struct CompiledHours {
    tz: TimeZone,
    /// Per weekday (Monday = 0): `(start, end)` of ranges starting that day.
    by_day: [Vec<(Time, Time)>; 7],
    holidays: Vec<Date>,
}

impl BusinessHours {
    /// Open all day every day except holidays (the default before the business sets hours).
    pub fn always_open(time_zone: &str) -> BusinessHours {
        BusinessHours {
            time_zone: time_zone.to_owned(),
            ranges: Vec::new(),
            holidays: Vec::new(),
        }
    }

    pub fn compile(&self) -> Result<CompiledHours, UnknownTimeZone> {
        let tz = time_zone(&self.time_zone)?;
        let mut by_day: [Vec<(Time, Time)>; 7] = Default::default();
        for r in &self.ranges {
            by_day[day_index(r.day)].push((r.start, r.end));
        }
        if self.ranges.is_empty() {
            // A range whose end equals its start is a whole day.
            for day in &mut by_day {
                day.push((Time::midnight(), Time::midnight()));
            }
        }
        for day in &mut by_day {
            day.sort();
            day.dedup();
        }
        let mut holidays = self.holidays.clone();
        holidays.sort();
        holidays.dedup();
        Ok(CompiledHours {
            tz,
            by_day,
            holidays,
        })
    }
}

fn day_index(d: Weekday) -> usize {
    d.to_monday_zero_offset() as usize
}

/// How far [`CompiledHours::next_open`] looks ahead: a year of holidays is plenty.
const LOOKAHEAD_DAYS: i32 = 400;

impl CompiledHours {
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    fn holiday(&self, d: Date) -> bool {
        self.holidays.binary_search(&d).is_ok()
    }

    /// Whether the business is open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.open_civil(self.tz.to_datetime(at))
    }

    fn open_civil(&self, local: DateTime) -> bool {
        let date = local.date();
        if self.holiday(date) {
            return false;
        }
        let t = local.time();
        let today = &self.by_day[day_index(date.weekday())];
        let opened_today = today
            .iter()
            .any(|&(s, e)| if s < e { s <= t && t < e } else { t >= s });
        if opened_today {
            return true;
        }
        let Ok(yesterday) = date.yesterday() else {
            return false;
        };
        !self.holiday(yesterday)
            && self.by_day[day_index(yesterday.weekday())]
                .iter()
                .any(|&(s, e)| e <= s && t < e)
    }

    /// The first instant at or after `at` when the business is open; `None` when no range
    /// opens within about a year (no ranges on any non-holiday day).
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(at) {
            return Some(at);
        }
        let start_date = self.tz.to_datetime(at).date();
        for offset in 0..=LOOKAHEAD_DAYS {
            let Ok(date) = start_date.checked_add(jiff::Span::new().days(offset)) else {
                return None;
            };
            if self.holiday(date) {
                continue;
            }
            let best = self.by_day[day_index(date.weekday())]
                .iter()
                .flat_map(|&(s, _)| self.instants_of(date.to_datetime(s)))
                .flatten()
                .filter(|&ts| ts >= at && self.is_open(ts))
                .min();
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// The instants when the wall clock shows `dt`: one, both of a repeated time (the
    /// clocks fell back), or the moment the clocks jump past a skipped one.
    fn instants_of(&self, dt: DateTime) -> [Option<Timestamp>; 2] {
        let amb = self.tz.to_ambiguous_timestamp(dt);
        match amb.offset() {
            AmbiguousOffset::Unambiguous { offset } => [offset.to_timestamp(dt).ok(), None],
            AmbiguousOffset::Fold { before, after } => {
                [before.to_timestamp(dt).ok(), after.to_timestamp(dt).ok()]
            }
            AmbiguousOffset::Gap { after, .. } => {
                let before_gap = after.to_timestamp(dt).ok();
                [
                    before_gap.and_then(|t| self.tz.following(t).next().map(|t| t.timestamp())),
                    None,
                ]
            }
        }
    }

    /// How long a customer writing at `at` waits until the business opens (zero when open).
    pub fn wait_until_open(&self, at: Timestamp) -> Option<SignedDuration> {
        self.next_open(at).map(|open| open.duration_since(at))
    }
}

/// A language for the few words the engine writes itself (the reply estimate).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ReplyLanguage.ts"))]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Ru,
    Zh,
}

/// "2 hours", "2 часа", "2小时": a wait rounded UP to whole minutes, hours (over an hour)
/// or days (over a day), so that the promise "we will reply within …" is never too short.
pub fn format_wait(wait: SignedDuration, lang: Language) -> String {
    let secs = wait.as_secs().max(0).unsigned_abs();
    let minutes = secs.div_ceil(60);
    let (n, unit) = if minutes < 60 {
        (minutes.max(1), 0)
    } else if minutes <= 24 * 60 {
        (minutes.div_ceil(60), 1)
    } else {
        (minutes.div_ceil(24 * 60), 2)
    };
    match lang {
        Language::En => {
            let word = ["minute", "hour", "day"][unit];
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        }
        Language::Ru => {
            let forms = [
                ["минуту", "минуты", "минут"],
                ["час", "часа", "часов"],
                ["день", "дня", "дней"],
            ][unit];
            let form = match (n % 10, n % 100) {
                (_, 11..=14) => forms[2],
                (1, _) => forms[0],
                (2..=4, _) => forms[1],
                _ => forms[2],
            };
            format!("{n} {form}")
        }
        Language::Zh => format!("{n}{}", ["分钟", "小时", "天"][unit]),
    }
}

mod hhmm {
    use jiff::civil::Time;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", t.hour(), t.minute()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let s = String::deserialize(d)?;
        crate::schedule::parse_time(&s).map_err(de::Error::custom)
    }
}

mod weekday_name {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(d: &Weekday, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(crate::schedule::weekday_name(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Weekday, D::Error> {
        let s = String::deserialize(d)?;
        crate::schedule::parse_weekday(&s).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn range(day: Weekday, s: Time, e: Time) -> OpenRange {
        OpenRange {
            day,
            start: s,
            end: e,
        }
    }

    fn at(tz: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        date(y, mo, d)
            .at(h, mi, 0, 0)
            .to_zoned(time_zone(tz).expect("tz"))
            .expect("valid")
            .timestamp()
    }

    fn weekdays_9_to_18(tz: &str) -> BusinessHours {
        use Weekday::*;
        BusinessHours {
            time_zone: tz.into(),
            ranges: [Monday, Tuesday, Wednesday, Thursday, Friday]
                .into_iter()
                .flat_map(|d| {
                    [
                        range(d, time(9, 0, 0, 0), time(13, 0, 0, 0)),
                        range(d, time(14, 0, 0, 0), time(18, 0, 0, 0)),
                    ]
                })
                .collect(),
            holidays: vec![date(2026, 12, 25)],
        }
    }

    #[test]
    fn several_ranges_per_day_and_next_open() {
        let h = weekdays_9_to_18("Europe/Madrid").compile().expect("tz");
        // Wed 2026-11-18.
        assert!(h.is_open(at("Europe/Madrid", 2026, 11, 18, 9, 0)));
        assert!(!h.is_open(at("Europe/Madrid", 2026, 11, 18, 13, 30)));
        assert_eq!(
            h.next_open(at("Europe/Madrid", 2026, 11, 18, 13, 30)),
            Some(at("Europe/Madrid", 2026, 11, 18, 14, 0))
        );
        // Friday evening → Monday 09:00.
        assert_eq!(
            h.next_open(at("Europe/Madrid", 2026, 11, 20, 18, 0)),
            Some(at("Europe/Madrid", 2026, 11, 23, 9, 0))
        );
    }

    #[test]
    fn holidays_close_the_whole_date() {
        let h = weekdays_9_to_18("Europe/Madrid").compile().expect("tz");
        // Fri 2026-12-25 is a holiday → Mon 28th.
        assert!(!h.is_open(at("Europe/Madrid", 2026, 12, 25, 10, 0)));
        assert_eq!(
            h.next_open(at("Europe/Madrid", 2026, 12, 24, 19, 0)),
            Some(at("Europe/Madrid", 2026, 12, 28, 9, 0))
        );
    }

    #[test]
    fn ranges_across_midnight() {
        let hours = BusinessHours {
            time_zone: "Asia/Shanghai".into(),
            ranges: vec![range(Weekday::Friday, time(22, 0, 0, 0), time(2, 0, 0, 0))],
            holidays: vec![],
        };
        let h = hours.compile().expect("tz");
        // Fri 2026-11-20 22:00 → Sat 02:00.
        assert!(h.is_open(at("Asia/Shanghai", 2026, 11, 20, 23, 59)));
        assert!(h.is_open(at("Asia/Shanghai", 2026, 11, 21, 1, 59)));
        assert!(!h.is_open(at("Asia/Shanghai", 2026, 11, 21, 2, 0)));
        assert!(!h.is_open(at("Asia/Shanghai", 2026, 11, 20, 21, 59)));
        // A holiday on Saturday cuts the tail off.
        let mut with_holiday = hours.clone();
        with_holiday.holidays.push(date(2026, 11, 21));
        let h2 = with_holiday.compile().expect("tz");
        assert!(h2.is_open(at("Asia/Shanghai", 2026, 11, 20, 23, 0)));
        assert!(!h2.is_open(at("Asia/Shanghai", 2026, 11, 21, 1, 0)));
    }

    #[test]
    fn dst_spring_forward_opens_when_clocks_jump() {
        // Berlin, Sun 2026-03-29: 02:00 → 03:00.
        let hours = BusinessHours {
            time_zone: "Europe/Berlin".into(),
            ranges: vec![
                range(Weekday::Sunday, time(2, 30, 0, 0), time(4, 0, 0, 0)),
                range(Weekday::Saturday, time(23, 0, 0, 0), time(2, 30, 0, 0)),
            ],
            holidays: vec![],
        };
        let h = hours.compile().expect("tz");
        let jump = "2026-03-29T01:00:00Z".parse::<Timestamp>().expect("ts");
        assert!(h.is_open(jump));
        assert!(h.is_open(jump - SignedDuration::from_secs(1)));
        // Saturday's range ends at 02:30 civil, which never happens → open straight through.
        let sat_evening = at("Europe/Berlin", 2026, 3, 28, 22, 0);
        assert_eq!(
            h.next_open(sat_evening),
            Some(at("Europe/Berlin", 2026, 3, 28, 23, 0))
        );
        let only_sunday = BusinessHours {
            ranges: vec![range(Weekday::Sunday, time(2, 30, 0, 0), time(4, 0, 0, 0))],
            ..hours
        }
        .compile()
        .expect("tz");
        assert_eq!(only_sunday.next_open(sat_evening), Some(jump));
        assert_eq!(
            only_sunday
                .wait_until_open(jump - SignedDuration::from_hours(2))
                .map(|d| d.as_secs()),
            Some(7200)
        );
    }

    #[test]
    fn dst_fall_back_counts_wall_clock() {
        // New York, Sun 2026-11-01: 02:00 → 01:00. A 01:30 opening uses the first 01:30.
        let hours = BusinessHours {
            time_zone: "America/New_York".into(),
            ranges: vec![range(Weekday::Sunday, time(1, 30, 0, 0), time(3, 0, 0, 0))],
            holidays: vec![],
        };
        let h = hours.compile().expect("tz");
        let first = "2026-11-01T05:30:00Z".parse::<Timestamp>().expect("ts");
        assert_eq!(
            h.next_open(first - SignedDuration::from_hours(3)),
            Some(first)
        );
        // 01:30–03:00 civil lasts 2.5 hours of real time on this day.
        assert!(h.is_open(first + SignedDuration::from_mins(149)));
        assert!(!h.is_open(first + SignedDuration::from_mins(150)));
        // Inside the repeated 01:00–01:30 the wall clock is before 01:30 again: closed,
        // and it reopens at the second 01:30.
        let repeated = first + SignedDuration::from_mins(40);
        assert!(!h.is_open(repeated));
        assert_eq!(
            h.next_open(repeated),
            Some(first + SignedDuration::from_mins(60))
        );
    }

    #[test]
    fn no_ranges_means_open_except_holidays_and_only_holidays_means_never() {
        let h = BusinessHours::always_open("UTC").compile().expect("tz");
        let now = "2026-11-21T03:00:00Z".parse::<Timestamp>().expect("ts");
        assert!(h.is_open(now));
        let mut with_holiday = BusinessHours::always_open("Europe/Madrid");
        with_holiday.holidays.push(date(2026, 11, 21));
        let h = with_holiday.compile().expect("tz");
        assert!(!h.is_open(now));
        assert_eq!(
            h.next_open(now),
            Some(at("Europe/Madrid", 2026, 11, 22, 0, 0))
        );
        let closed = BusinessHours {
            time_zone: "UTC".into(),
            ranges: vec![range(Weekday::Monday, time(9, 0, 0, 0), time(10, 0, 0, 0))],
            holidays: (0..60)
                .map(|w| date(2026, 11, 23) + jiff::Span::new().weeks(w))
                .collect(),
        };
        assert_eq!(closed.compile().expect("tz").next_open(now), None);
    }

    #[test]
    fn wait_is_rounded_up_and_translated() {
        let d = |s| SignedDuration::from_secs(s);
        assert_eq!(format_wait(d(61), Language::En), "2 minutes");
        assert_eq!(format_wait(d(3600), Language::En), "1 hour");
        assert_eq!(format_wait(d(3601), Language::En), "2 hours");
        assert_eq!(format_wait(d(7200), Language::Ru), "2 часа");
        assert_eq!(format_wait(d(5 * 3600), Language::Ru), "5 часов");
        assert_eq!(format_wait(d(21 * 3600), Language::Ru), "21 час");
        assert_eq!(format_wait(d(11 * 60), Language::Ru), "11 минут");
        assert_eq!(format_wait(d(30 * 3600), Language::Zh), "2天");
        assert_eq!(format_wait(d(0), Language::En), "1 minute");
    }

    #[test]
    fn serde_round_trip() {
        let h = weekdays_9_to_18("Europe/Madrid");
        let json = serde_json::to_string(&h).expect("json");
        assert!(
            json.contains(r#""day":"mon","start":"09:00","end":"13:00""#),
            "{json}"
        );
        assert!(json.contains(r#""holidays":["2026-12-25"]"#), "{json}");
        let back: BusinessHours = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, h);
    }
}

//! Anomaly rules: things that happen on the team which an owner wants to hear about at once
//! (a permission change late at night, a burst of failed pairing attempts, ...).
//!
//! Pure: the caller passes the [`Fact`] that just happened, the [`History`] the rules need
//! (the relay queries it inside the same transaction) and the time; nothing here reads a
//! clock. [`evaluate`] answers the [`Alert`]s to raise, each with a stable [`Rule`] code,
//! the facts, and display-ready parameters of an English [`summary`] (the UI translates by
//! rule code with the same parameters).
//!
//! Times of day are wall-clock times in the team's IANA time zone ([`TimeWindow`]
//! semantics: half-open `[start, end)`), so they stay right across DST changes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schedule::TimeWindow;

/// One anomaly rule. serde: the snake_case code, e.g. `"permission_change_off_hours"`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A permission change outside working hours (default 08:00–20:00 team time).
    PermissionChangeOffHours,
    /// Several permission changes from one address within a short time (default ≥ 3 in
    /// 60 minutes).
    PermissionChangeBurst,
    /// A sign-in or member switch on a shared device at night (default 03:00–05:00).
    NightSignIn,
    /// A newly linked device runs an operating system no device of the team ran before.
    NewDeviceOs,
    /// A burst of failed pairing attempts from one address (default ≥ 3 in 10 minutes: the
    /// relay locks an address out after 3 wrong codes, so the lock-out itself alerts).
    PairingFailureBurst,
    /// A linked device has not been seen for more than a number of days (default 7).
    DeviceIdle,
}

impl Rule {
    pub const ALL: [Rule; 6] = [
        Rule::PermissionChangeOffHours,
        Rule::PermissionChangeBurst,
        Rule::NightSignIn,
        Rule::NewDeviceOs,
        Rule::PairingFailureBurst,
        Rule::DeviceIdle,
    ];

    /// The stable code (the serde name), stored with each alert.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PermissionChangeOffHours => "permission_change_off_hours",
            Rule::PermissionChangeBurst => "permission_change_burst",
            Rule::NightSignIn => "night_sign_in",
            Rule::NewDeviceOs => "new_device_os",
            Rule::PairingFailureBurst => "pairing_failure_burst",
            Rule::DeviceIdle => "device_idle",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule code Teamline does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown anomaly rule {name:?}")]
pub struct UnknownRule {
    pub name: String,
}

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRule { name: s.to_owned() })
    }
}

// ---------------------------------------------------------------------------------------
// Thresholds

/// Settable thresholds, one object per rule keyed by rule code. Every field has a default,
/// so `{}` (or any subset) reads as the defaults for what is missing.
///
/// ```json
/// {"permission_change_off_hours": {"enabled": true, "work_hours": {"start": "08:00", "end": "20:00"}},
///  "permission_change_burst": {"enabled": true, "count": 3, "window_minutes": 60},
///  "night_sign_in": {"enabled": true, "night": {"start": "03:00", "end": "05:00"}},
///  "new_device_os": {"enabled": true},
///  "pairing_failure_burst": {"enabled": true, "count": 3, "window_minutes": 10},
///  "device_idle": {"enabled": true, "days": 7}}
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertThresholds", export_to = "AlertThresholds.ts")
)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub permission_change_off_hours: OffHours,
    pub permission_change_burst: Burst,
    pub night_sign_in: Night,
    pub new_device_os: Toggle,
    pub pairing_failure_burst: Burst,
    pub device_idle: Idle,
}

/// Permission changes inside `work_hours` are expected; outside raise an alert. A window
/// whose start equals its end covers the whole day (never alerts).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertOffHours", export_to = "AlertOffHours.ts")
)]
#[serde(default, deny_unknown_fields)]
pub struct OffHours {
    pub enabled: bool,
    pub work_hours: TimeWindow,
}

impl Default for OffHours {
    fn default() -> Self {
        OffHours {
            enabled: true,
            work_hours: TimeWindow::daily(hm(8, 0), hm(20, 0)),
        }
    }
}

/// `count` or more events from one address within `window_minutes` (inclusive: the first
/// and the last may be exactly `window_minutes` apart).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertBurst", export_to = "AlertBurst.ts")
)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub count: u32,
    pub window_minutes: u32,
}

impl Default for Burst {
    /// The permission-change default (3 in 60 min); see [`Thresholds::default`] for the
    /// pairing one.
    fn default() -> Self {
        Burst {
            enabled: true,
            count: 3,
            window_minutes: 60,
        }
    }
}

/// Sign-ins and member switches inside `night` raise an alert.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertNight", export_to = "AlertNight.ts")
)]
#[serde(default, deny_unknown_fields)]
pub struct Night {
    pub enabled: bool,
    pub night: TimeWindow,
}

impl Default for Night {
    fn default() -> Self {
        Night {
            enabled: true,
            night: TimeWindow::daily(hm(3, 0), hm(5, 0)),
        }
    }
}

/// A rule with nothing to set but whether it runs.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertToggle", export_to = "AlertToggle.ts")
)]
#[serde(default, deny_unknown_fields)]
pub struct Toggle {
    pub enabled: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Toggle { enabled: true }
    }
}

/// A device not seen for more than `days` × 24 hours raises an alert.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "AlertIdle", export_to = "AlertIdle.ts")
)]
#[serde(default, deny_unknown_fields)]
pub struct Idle {
    pub enabled: bool,
    pub days: u32,
}

impl Default for Idle {
    fn default() -> Self {
        Idle {
            enabled: true,
            days: 7,
        }
    }
}

fn yes() -> bool {
    true
}

fn hm(h: i8, m: i8) -> Time {
    Time::constant(h, m, 0, 0)
}

/// Longest burst window accepted (a day): the relay keeps this much history.
pub const MAX_WINDOW_MINUTES: u32 = 24 * 60;
/// Longest idle period accepted.
pub const MAX_IDLE_DAYS: u32 = 365;

impl Thresholds {
    /// The defaults from issue 9: 08:00–20:00, 3 changes in 60 min, 03:00–05:00, new OS,
    /// 3 failed pairings in 10 min (the relay's lock-out), 7 idle days.
    pub fn defaults() -> Thresholds {
        Thresholds {
            permission_change_off_hours: OffHours::default(),
            permission_change_burst: Burst::default(),
            night_sign_in: Night::default(),
            new_device_os: Toggle::default(),
            pairing_failure_burst: Burst {
                enabled: true,
                count: 3,
                window_minutes: 10,
            },
            device_idle: Idle::default(),
        }
    }

    /// Whether `rule` runs.
    pub fn enabled(&self, rule: Rule) -> bool {
        match rule {
            Rule::PermissionChangeOffHours => self.permission_change_off_hours.enabled,
            Rule::PermissionChangeBurst => self.permission_change_burst.enabled,
            Rule::NightSignIn => self.night_sign_in.enabled,
            Rule::NewDeviceOs => self.new_device_os.enabled,
            Rule::PairingFailureBurst => self.pairing_failure_burst.enabled,
            Rule::DeviceIdle => self.device_idle.enabled,
        }
    }

    /// A problem with the values, in words (`None` when they are usable).
    pub fn invalid(&self) -> Option<String> {
        for (name, b) in [
            ("permission_change_burst", &self.permission_change_burst),
            ("pairing_failure_burst", &self.pairing_failure_burst),
        ] {
            if !(2..=1000).contains(&b.count) {
                return Some(format!("`{name}.count` must be 2 to 1000"));
            }
            if !(1..=MAX_WINDOW_MINUTES).contains(&b.window_minutes) {
                return Some(format!(
                    "`{name}.window_minutes` must be 1 to {MAX_WINDOW_MINUTES}"
                ));
            }
        }
        if !(1..=MAX_IDLE_DAYS).contains(&self.device_idle.days) {
            return Some(format!("`device_idle.days` must be 1 to {MAX_IDLE_DAYS}"));
        }
        for (name, w) in [
            (
                "permission_change_off_hours.work_hours",
                &self.permission_change_off_hours.work_hours,
            ),
            ("night_sign_in.night", &self.night_sign_in.night),
        ] {
            if w.weekdays.is_some() {
                return Some(format!("`{name}` applies to every day; remove `weekdays`"));
            }
        }
        None
    }
}

/// serde fills missing fields from `Default`, so it must be the issue's defaults (the
/// pairing burst's differ from the permission burst's, hence no derive).
impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::defaults()
    }
}

// ---------------------------------------------------------------------------------------
// Facts and history

/// What kind of permission change happened (the relay maps its audit kinds onto these).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    MemberCreated,
    /// Preset, toggles or applied templates of a member changed.
    MemberPermissions,
    MemberDeactivated,
    /// A template's rules (deny list or windows) changed.
    TemplateChanged,
    TemplateDeleted,
    DeviceLevel,
}

impl ChangeKind {
    /// English verb phrase for summaries ("changed a member's permissions").
    pub fn phrase(self) -> &'static str {
        match self {
            ChangeKind::MemberCreated => "added a member",
            ChangeKind::MemberPermissions => "changed a member's permissions",
            ChangeKind::MemberDeactivated => "deactivated a member",
            ChangeKind::TemplateChanged => "changed a permission template",
            ChangeKind::TemplateDeleted => "deleted a permission template",
            ChangeKind::DeviceLevel => "changed a device's level",
        }
    }
}

/// Something that just happened. serde: internally tagged by `type` (snake_case).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fact {
    PermissionChange {
        at: Timestamp,
        change: ChangeKind,
        /// The member, template or device changed.
        subject_id: Option<Uuid>,
        actor_member_id: Option<Uuid>,
        actor_name: Option<String>,
        device_id: Option<Uuid>,
        address: Option<String>,
    },
    /// A member signed in on a shared device, or switched from `previous_member_id`.
    SignIn {
        at: Timestamp,
        device_id: Uuid,
        device_name: Option<String>,
        member_id: Uuid,
        member_name: Option<String>,
        previous_member_id: Option<Uuid>,
        address: Option<String>,
    },
    DeviceLinked {
        at: Timestamp,
        device_id: Uuid,
        device_name: String,
        os: String,
        os_version: String,
        member_id: Uuid,
        member_name: Option<String>,
        address: Option<String>,
    },
    PairingFailed {
        at: Timestamp,
        address: String,
    },
    /// The periodic check looked at a linked device at `at`.
    DeviceIdle {
        at: Timestamp,
        device_id: Uuid,
        device_name: String,
        member_id: Uuid,
        /// Last contact (or the link time when it never called in).
        last_seen: Timestamp,
    },
}

impl Fact {
    pub fn at(&self) -> Timestamp {
        match self {
            Fact::PermissionChange { at, .. }
            | Fact::SignIn { at, .. }
            | Fact::DeviceLinked { at, .. }
            | Fact::PairingFailed { at, .. }
            | Fact::DeviceIdle { at, .. } => *at,
        }
    }

    /// The rules that can fire on this fact.
    pub fn rules(&self) -> &'static [Rule] {
        match self {
            Fact::PermissionChange { .. } => {
                &[Rule::PermissionChangeOffHours, Rule::PermissionChangeBurst]
            }
            Fact::SignIn { .. } => &[Rule::NightSignIn],
            Fact::DeviceLinked { .. } => &[Rule::NewDeviceOs],
            Fact::PairingFailed { .. } => &[Rule::PairingFailureBurst],
            Fact::DeviceIdle { .. } => &[Rule::DeviceIdle],
        }
    }

    /// What repeated alerts of `rule` are grouped by (so a burst raises once, an idle
    /// device once per idle period): the address for the burst rules, the device for the
    /// idle rule; `None` for rules that fire on every matching fact.
    pub fn key(&self, rule: Rule) -> Option<String> {
        match (rule, self) {
            (Rule::PermissionChangeBurst, Fact::PermissionChange { address, .. }) => {
                address.clone()
            }
            (Rule::PairingFailureBurst, Fact::PairingFailed { address, .. }) => {
                Some(address.clone())
            }
            (Rule::DeviceIdle, Fact::DeviceIdle { device_id, .. }) => Some(device_id.to_string()),
            _ => None,
        }
    }
}

/// What the rules need to know besides the fact. The relay fills what the fact's rules
/// use (see each field) and may leave the rest empty.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct History {
    /// `PermissionChangeBurst`: times of EARLIER permission changes from the fact's
    /// address (any order; those outside the window are ignored). Excludes the fact itself.
    pub changes_from_address: Vec<Timestamp>,
    /// `PairingFailureBurst`: times of earlier failed pairing attempts from the address.
    pub pairing_failures_from_address: Vec<Timestamp>,
    /// `NewDeviceOs`: operating system names of every OTHER device ever linked to the team
    /// (unlinked ones too: "seen in the team" includes the past).
    pub known_os: Vec<String>,
    /// When each rule last raised an alert for the fact's [`Fact::key`].
    pub last_raised: BTreeMap<Rule, Timestamp>,
}

// ---------------------------------------------------------------------------------------
// Alerts

/// An alert to raise.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Alert {
    pub rule: Rule,
    pub raised_at: Timestamp,
    /// See [`Fact::key`].
    pub key: Option<String>,
    /// The fact that fired the rule.
    pub fact: Fact,
    /// Burst rules: times of the other events counted, oldest first (empty otherwise).
    pub related_at: Vec<Timestamp>,
    /// Display-ready values of the summary sentence, keyed by name (fixed per rule; see
    /// [`summary`]).
    pub params: BTreeMap<String, String>,
}

impl Alert {
    pub fn summary(&self) -> String {
        summary(self.rule, &self.params)
    }
}

/// Runs every enabled rule that applies to `fact`. Time-of-day rules read `fact`'s time
/// as wall-clock time in `tz`.
///
/// Burst rules count the fact plus the earlier events inside the window that came AFTER
/// the last alert of the same rule and key, so one burst raises one alert and each
/// further full burst raises another.
pub fn evaluate(fact: &Fact, history: &History, t: &Thresholds, tz: &TimeZone) -> Vec<Alert> {
    let at = fact.at();
    let mut out = Vec::new();
    for &rule in fact.rules() {
        if !t.enabled(rule) {
            continue;
        }
        let last = history.last_raised.get(&rule).copied();
        let mut related = Vec::new();
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        let fired = match (rule, fact) {
            (
                Rule::PermissionChangeOffHours,
                Fact::PermissionChange {
                    change, actor_name, ..
                },
            ) => {
                let w = &t.permission_change_off_hours.work_hours;
                let fired = !w.contains(at, tz);
                if fired {
                    params.insert("who".into(), who(actor_name));
                    params.insert("change".into(), change.phrase().into());
                    local_params(&mut params, at, tz);
                    params.insert("work_start".into(), hhmm(w.start));
                    params.insert("work_end".into(), hhmm(w.end));
                }
                fired
            }
            (
                Rule::PermissionChangeBurst,
                Fact::PermissionChange {
                    address: Some(address),
                    actor_name,
                    ..
                },
            ) => {
                let b = &t.permission_change_burst;
                related = in_burst(at, &history.changes_from_address, b, last);
                let fired = related.len() + 1 >= b.count as usize;
                if fired {
                    params.insert("who".into(), who(actor_name));
                    burst_params(&mut params, address, related.len() + 1, b);
                }
                fired
            }
            (
                Rule::NightSignIn,
                Fact::SignIn {
                    device_name,
                    member_name,
                    previous_member_id,
                    ..
                },
            ) => {
                let w = &t.night_sign_in.night;
                let fired = w.contains(at, tz);
                if fired {
                    params.insert("who".into(), who(member_name));
                    params.insert(
                        "device".into(),
                        device_name
                            .clone()
                            .unwrap_or_else(|| "a shared device".into()),
                    );
                    params.insert("switch".into(), previous_member_id.is_some().to_string());
                    local_params(&mut params, at, tz);
                    params.insert("night_start".into(), hhmm(w.start));
                    params.insert("night_end".into(), hhmm(w.end));
                }
                fired
            }
            (
                Rule::NewDeviceOs,
                Fact::DeviceLinked {
                    device_name,
                    os,
                    member_name,
                    ..
                },
            ) => {
                let norm = normalize_os(os);
                let fired = !history.known_os.is_empty()
                    && !history.known_os.iter().any(|k| normalize_os(k) == norm);
                if fired {
                    params.insert("device".into(), device_name.clone());
                    params.insert("os".into(), os.trim().to_owned());
                    params.insert("who".into(), who(member_name));
                    let known: BTreeSet<String> = history
                        .known_os
                        .iter()
                        .map(|k| k.trim().to_owned())
                        .collect();
                    params.insert(
                        "known_os".into(),
                        known.into_iter().collect::<Vec<_>>().join(", "),
                    );
                }
                fired
            }
            (Rule::PairingFailureBurst, Fact::PairingFailed { address, .. }) => {
                let b = &t.pairing_failure_burst;
                related = in_burst(at, &history.pairing_failures_from_address, b, last);
                let fired = related.len() + 1 >= b.count as usize;
                if fired {
                    burst_params(&mut params, address, related.len() + 1, b);
                }
                fired
            }
            (
                Rule::DeviceIdle,
                Fact::DeviceIdle {
                    device_name,
                    last_seen,
                    ..
                },
            ) => {
                let limit = SignedDuration::from_hours(24 * i64::from(t.device_idle.days));
                let idle = at.duration_since(*last_seen);
                // Once per idle period: again only after the device was seen since.
                let fired = idle > limit && last.is_none_or(|l| l < *last_seen);
                if fired {
                    params.insert("device".into(), device_name.clone());
                    params.insert("idle_days".into(), (idle.as_secs() / 86_400).to_string());
                    params.insert("days".into(), t.device_idle.days.to_string());
                    let local = tz.to_datetime(*last_seen);
                    params.insert(
                        "last_seen_local".into(),
                        format!("{} {}", local.date(), hhmm(local.time())),
                    );
                    params.insert("timezone".into(), tz_name(tz));
                }
                fired
            }
            _ => false,
        };
        if fired {
            out.push(Alert {
                rule,
                raised_at: at,
                key: fact.key(rule),
                fact: fact.clone(),
                related_at: related,
                params,
            });
        }
    }
    out
}

/// Earlier events counted with one at `at`: inside the window (inclusive), not after
/// `at`, and strictly after the last alert. Oldest first.
fn in_burst(
    at: Timestamp,
    earlier: &[Timestamp],
    b: &Burst,
    last_alert: Option<Timestamp>,
) -> Vec<Timestamp> {
    let window = SignedDuration::from_mins(i64::from(b.window_minutes));
    let mut out: Vec<Timestamp> = earlier
        .iter()
        .copied()
        .filter(|t| *t <= at && at.duration_since(*t) <= window)
        .filter(|t| last_alert.is_none_or(|l| *t > l))
        .collect();
    out.sort();
    out
}

fn burst_params(params: &mut BTreeMap<String, String>, address: &str, count: usize, b: &Burst) {
    params.insert("address".into(), address.to_owned());
    params.insert("count".into(), count.to_string());
    params.insert("window_minutes".into(), b.window_minutes.to_string());
}

fn local_params(params: &mut BTreeMap<String, String>, at: Timestamp, tz: &TimeZone) {
    params.insert("local_time".into(), hhmm(tz.to_datetime(at).time()));
    params.insert("utc_offset".into(), tz.to_offset(at).to_string());
    params.insert("timezone".into(), tz_name(tz));
}

fn tz_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("team time").to_owned()
}

fn who(name: &Option<String>) -> String {
    name.clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Someone".into())
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// OS names compare trimmed and case-insensitively ("Windows" = "windows"); versions do
/// not count (an update is not a new OS).
pub fn normalize_os(os: &str) -> String {
    os.trim().to_lowercase()
}

/// The English sentence of an alert, from its rule and parameters. Missing parameters read
/// as "?" (stored alerts from an older relay still render).
///
/// Parameter keys per rule (all values are strings; `who` is a member's name or
/// "Someone"; times are `HH:MM` team time):
/// - `permission_change_off_hours`: `who`, `change`, `local_time`, `utc_offset`,
///   `timezone`, `work_start`, `work_end`
/// - `permission_change_burst`: `who` (the last change's actor), `address`, `count`,
///   `window_minutes`
/// - `night_sign_in`: `who`, `device`, `switch` (`"true"` for a member switch),
///   `local_time`, `utc_offset`, `timezone`, `night_start`, `night_end`
/// - `new_device_os`: `device`, `os`, `who`, `known_os` (comma-separated)
/// - `pairing_failure_burst`: `address`, `count`, `window_minutes`
/// - `device_idle`: `device`, `idle_days` (whole days), `days` (the threshold),
///   `last_seen_local` (`YYYY-MM-DD HH:MM`), `timezone`
pub fn summary(rule: Rule, params: &BTreeMap<String, String>) -> String {
    let p = |k: &str| params.get(k).map(String::as_str).unwrap_or("?");
    match rule {
        Rule::PermissionChangeOffHours => format!(
            "{} {} at {} ({} time), outside working hours {}–{}.",
            p("who"),
            p("change"),
            p("local_time"),
            p("timezone"),
            p("work_start"),
            p("work_end")
        ),
        Rule::PermissionChangeBurst => format!(
            "{} permission changes from address {} within {} minutes (the last by {}).",
            p("count"),
            p("address"),
            p("window_minutes"),
            p("who")
        ),
        Rule::NightSignIn => {
            let verb = if p("switch") == "true" {
                "switched to their account"
            } else {
                "signed in"
            };
            format!(
                "{} {} on {} at {} ({} time), between {} and {}.",
                p("who"),
                verb,
                p("device"),
                p("local_time"),
                p("timezone"),
                p("night_start"),
                p("night_end")
            )
        }
        Rule::NewDeviceOs => format!(
            "A new device \u{201c}{}\u{201d} running {} was linked for {}; no device of the team ran {} before (seen: {}).",
            p("device"),
            p("os"),
            p("who"),
            p("os"),
            p("known_os")
        ),
        Rule::PairingFailureBurst => format!(
            "{} failed pairing attempts from address {} within {} minutes.",
            p("count"),
            p("address"),
            p("window_minutes")
        ),
        Rule::DeviceIdle => format!(
            "The device \u{201c}{}\u{201d} has not been seen for {} days (last seen {} {} time); it is still linked.",
            p("device"),
            p("idle_days"),
            p("last_seen_local"),
            p("timezone")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn madrid() -> TimeZone {
        crate::schedule::time_zone("Europe/Madrid").unwrap()
    }

    /// The instant of a wall-clock time in `tz` (compatible disambiguation).
    fn local(tz: &TimeZone, y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> Timestamp {
        tz.to_timestamp(date(y, mo, d).at(h, mi, s, 0)).unwrap()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn change_at(at: Timestamp) -> Fact {
        Fact::PermissionChange {
            at,
            change: ChangeKind::MemberPermissions,
            subject_id: Some(Uuid::from_u128(7)),
            actor_member_id: Some(Uuid::from_u128(1)),
            actor_name: Some("Ana".into()),
            device_id: Some(Uuid::from_u128(2)),
            address: Some("10.0.0.5".into()),
        }
    }

    fn sign_in_at(at: Timestamp, previous: Option<Uuid>) -> Fact {
        Fact::SignIn {
            at,
            device_id: Uuid::from_u128(3),
            device_name: Some("Shift laptop".into()),
            member_id: Uuid::from_u128(4),
            member_name: Some("Bo".into()),
            previous_member_id: previous,
            address: Some("10.0.0.6".into()),
        }
    }

    fn rules_of(alerts: &[Alert]) -> Vec<Rule> {
        alerts.iter().map(|a| a.rule).collect()
    }

    fn off_hours(at: Timestamp, tz: &TimeZone) -> bool {
        evaluate(
            &change_at(at),
            &History::default(),
            &Thresholds::defaults(),
            tz,
        )
        .iter()
        .any(|a| a.rule == Rule::PermissionChangeOffHours)
    }

    fn night(at: Timestamp, tz: &TimeZone) -> bool {
        !evaluate(
            &sign_in_at(at, None),
            &History::default(),
            &Thresholds::defaults(),
            tz,
        )
        .is_empty()
    }

    // --- off hours -----------------------------------------------------------------

    #[test]
    fn off_hours_boundaries_are_0800_inclusive_and_2000_exclusive() {
        let tz = madrid();
        let d = |h, m, s| local(&tz, 2025, 1, 15, h, m, s);
        assert!(off_hours(d(7, 59, 59), &tz), "07:59:59 is outside");
        assert!(!off_hours(d(8, 0, 0), &tz), "08:00 is working time");
        assert!(!off_hours(d(12, 0, 0), &tz));
        assert!(!off_hours(d(19, 59, 59), &tz), "19:59:59 is working time");
        assert!(off_hours(d(20, 0, 0), &tz), "20:00 is outside");
        assert!(off_hours(d(22, 0, 0), &tz));
        assert!(off_hours(d(0, 0, 0), &tz));
    }

    #[test]
    fn off_hours_follows_the_team_zone_not_utc() {
        let tz = madrid();
        // 07:30 UTC is 08:30 in Madrid in winter (working time) but outside in UTC.
        assert!(!off_hours(utc("2025-01-15T07:30:00Z"), &tz));
        assert!(off_hours(utc("2025-01-15T07:30:00Z"), &TimeZone::UTC));
    }

    #[test]
    fn off_hours_on_spring_forward_day_in_madrid() {
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST; 08:00 is 06:00 UTC, not 07:00.
        let tz = madrid();
        assert!(off_hours(utc("2025-03-30T05:59:59Z"), &tz), "07:59:59 CEST");
        assert!(!off_hours(utc("2025-03-30T06:00:00Z"), &tz), "08:00 CEST");
        assert!(
            !off_hours(utc("2025-03-30T17:59:59Z"), &tz),
            "19:59:59 CEST"
        );
        assert!(off_hours(utc("2025-03-30T18:00:00Z"), &tz), "20:00 CEST");
        // A fixed +01:00 reading would call 06:30 UTC "07:30" and alert.
        assert!(!off_hours(utc("2025-03-30T06:30:00Z"), &tz));
    }

    #[test]
    fn off_hours_on_fall_back_day_in_madrid() {
        // 2025-10-26: 03:00 CEST falls back to 02:00 CET; 08:00 is 07:00 UTC.
        let tz = madrid();
        assert!(off_hours(utc("2025-10-26T06:59:59Z"), &tz), "07:59:59 CET");
        assert!(!off_hours(utc("2025-10-26T07:00:00Z"), &tz), "08:00 CET");
        assert!(!off_hours(utc("2025-10-26T18:59:59Z"), &tz), "19:59:59 CET");
        assert!(off_hours(utc("2025-10-26T19:00:00Z"), &tz), "20:00 CET");
        // The repeated hour 02:00–03:00 happens twice and is outside both times.
        assert!(off_hours(utc("2025-10-26T00:30:00Z"), &tz));
        assert!(off_hours(utc("2025-10-26T01:30:00Z"), &tz));
    }

    #[test]
    fn off_hours_alert_carries_facts_and_plain_words() {
        let tz = madrid();
        let at = local(&tz, 2025, 1, 15, 22, 4, 0);
        let alerts = evaluate(
            &change_at(at),
            &History::default(),
            &Thresholds::defaults(),
            &tz,
        );
        assert_eq!(rules_of(&alerts), [Rule::PermissionChangeOffHours]);
        let a = &alerts[0];
        assert_eq!(a.raised_at, at);
        assert_eq!(a.key, None);
        assert_eq!(a.fact, change_at(at));
        assert_eq!(a.params["local_time"], "22:04");
        assert_eq!(a.params["utc_offset"], "+01");
        assert_eq!(
            a.summary(),
            "Ana changed a member's permissions at 22:04 (Europe/Madrid time), outside working hours 08:00–20:00."
        );
    }

    #[test]
    fn off_hours_thresholds_are_settable_and_can_be_disabled() {
        let tz = TimeZone::UTC;
        let mut t = Thresholds::defaults();
        t.permission_change_off_hours.work_hours =
            TimeWindow::daily(Time::constant(6, 0, 0, 0), Time::constant(23, 0, 0, 0));
        let f = change_at(utc("2025-01-15T22:00:00Z"));
        assert!(evaluate(&f, &History::default(), &t, &tz).is_empty());
        let f = change_at(utc("2025-01-15T23:00:00Z"));
        assert_eq!(
            rules_of(&evaluate(&f, &History::default(), &t, &tz)),
            [Rule::PermissionChangeOffHours]
        );
        t.permission_change_off_hours.enabled = false;
        assert!(evaluate(&f, &History::default(), &t, &tz).is_empty());
        // start == end is a whole day: never outside.
        t.permission_change_off_hours.enabled = true;
        t.permission_change_off_hours.work_hours =
            TimeWindow::daily(Time::midnight(), Time::midnight());
        assert!(evaluate(&f, &History::default(), &t, &tz).is_empty());
    }

    // --- burst ---------------------------------------------------------------------

    fn burst(at: Timestamp, earlier: &[Timestamp], last: Option<Timestamp>) -> Vec<Alert> {
        let mut h = History {
            changes_from_address: earlier.to_vec(),
            ..History::default()
        };
        if let Some(l) = last {
            h.last_raised.insert(Rule::PermissionChangeBurst, l);
        }
        // Noon: the off-hours rule stays quiet.
        evaluate(&change_at(at), &h, &Thresholds::defaults(), &TimeZone::UTC)
    }

    fn mins(base: Timestamp, m: i64) -> Timestamp {
        base.checked_add(SignedDuration::from_mins(m)).unwrap()
    }

    #[test]
    fn three_changes_within_exactly_60_minutes_fire_61_do_not() {
        let t0 = utc("2025-01-15T11:00:00Z");
        let fired = burst(mins(t0, 60), &[t0, mins(t0, 30)], None);
        assert_eq!(rules_of(&fired), [Rule::PermissionChangeBurst]);
        assert_eq!(fired[0].related_at, [t0, mins(t0, 30)]);
        assert_eq!(fired[0].key.as_deref(), Some("10.0.0.5"));
        assert_eq!(fired[0].params["count"], "3");
        assert_eq!(
            fired[0].summary(),
            "3 permission changes from address 10.0.0.5 within 60 minutes (the last by Ana)."
        );
        assert!(burst(mins(t0, 61), &[t0, mins(t0, 30)], None).is_empty());
        // 60 min and 1 ms apart is outside too.
        let late = mins(t0, 60)
            .checked_add(SignedDuration::from_millis(1))
            .unwrap();
        assert!(burst(late, &[t0, mins(t0, 30)], None).is_empty());
    }

    #[test]
    fn two_changes_are_not_a_burst_and_history_order_does_not_matter() {
        let t0 = utc("2025-01-15T11:00:00Z");
        assert!(burst(mins(t0, 1), &[t0], None).is_empty());
        assert!(burst(t0, &[], None).is_empty());
        let fired = burst(mins(t0, 5), &[mins(t0, 4), t0, mins(t0, 2)], None);
        assert_eq!(fired[0].related_at, [t0, mins(t0, 2), mins(t0, 4)]);
        assert_eq!(fired[0].params["count"], "4");
    }

    #[test]
    fn a_burst_raises_once_then_counts_again_after_the_alert() {
        let t0 = utc("2025-01-15T11:00:00Z");
        let alert_at = mins(t0, 2);
        let earlier = [t0, mins(t0, 1), alert_at];
        // 4th and 5th change: only 1 and 2 since the alert.
        assert!(burst(mins(t0, 3), &earlier, Some(alert_at)).is_empty());
        let more = [t0, mins(t0, 1), alert_at, mins(t0, 3)];
        assert!(burst(mins(t0, 4), &more, Some(alert_at)).is_empty());
        // 6th: three since the alert -> a new alert.
        let more = [t0, mins(t0, 1), alert_at, mins(t0, 3), mins(t0, 4)];
        let fired = burst(mins(t0, 5), &more, Some(alert_at));
        assert_eq!(fired[0].related_at, [mins(t0, 3), mins(t0, 4)]);
    }

    #[test]
    fn burst_ignores_changes_without_an_address_and_future_history() {
        let t0 = utc("2025-01-15T11:00:00Z");
        let f = Fact::PermissionChange {
            at: t0,
            change: ChangeKind::DeviceLevel,
            subject_id: None,
            actor_member_id: None,
            actor_name: None,
            device_id: None,
            address: None,
        };
        let h = History {
            changes_from_address: vec![t0, t0, t0],
            ..History::default()
        };
        assert!(evaluate(&f, &h, &Thresholds::defaults(), &TimeZone::UTC).is_empty());
        assert!(burst(t0, &[mins(t0, 1), mins(t0, 2)], None).is_empty());
    }

    #[test]
    fn burst_thresholds_are_settable() {
        let t0 = utc("2025-01-15T11:00:00Z");
        let mut t = Thresholds::defaults();
        t.permission_change_burst.count = 5;
        t.permission_change_burst.window_minutes = 10;
        let h = |n: i64| History {
            changes_from_address: (0..n).map(|i| mins(t0, i)).collect(),
            ..History::default()
        };
        let tz = TimeZone::UTC;
        assert!(evaluate(&change_at(mins(t0, 3)), &h(3), &t, &tz).is_empty());
        assert_eq!(
            rules_of(&evaluate(&change_at(mins(t0, 4)), &h(4), &t, &tz)),
            [Rule::PermissionChangeBurst]
        );
        assert!(evaluate(&change_at(mins(t0, 11)), &h(4), &t, &tz).is_empty());
    }

    #[test]
    fn an_off_hours_change_in_a_burst_raises_both() {
        let t0 = utc("2025-01-15T22:00:00Z");
        let fired = burst(mins(t0, 2), &[t0, mins(t0, 1)], None);
        assert_eq!(
            rules_of(&fired),
            [Rule::PermissionChangeOffHours, Rule::PermissionChangeBurst]
        );
    }

    // --- night sign-in --------------------------------------------------------------

    #[test]
    fn night_boundaries_are_0300_inclusive_and_0500_exclusive() {
        let tz = madrid();
        let d = |h, m, s| local(&tz, 2025, 1, 15, h, m, s);
        assert!(!night(d(2, 59, 59), &tz));
        assert!(night(d(3, 0, 0), &tz));
        assert!(night(d(4, 59, 59), &tz));
        assert!(!night(d(5, 0, 0), &tz));
        assert!(!night(d(23, 0, 0), &tz));
    }

    #[test]
    fn night_on_spring_forward_day_in_madrid() {
        // 02:00 CET -> 03:00 CEST at 01:00 UTC: the night starts right at the jump.
        let tz = madrid();
        assert!(!night(utc("2025-03-30T00:59:59Z"), &tz), "01:59:59 CET");
        assert!(night(utc("2025-03-30T01:00:00Z"), &tz), "03:00 CEST");
        assert!(night(utc("2025-03-30T02:59:59Z"), &tz), "04:59:59 CEST");
        assert!(!night(utc("2025-03-30T03:00:00Z"), &tz), "05:00 CEST");
    }

    #[test]
    fn night_on_fall_back_day_in_madrid() {
        // 03:00 CEST -> 02:00 CET at 01:00 UTC: 02:xx happens twice, 03:00 CET is 02:00 UTC.
        let tz = madrid();
        assert!(!night(utc("2025-10-26T00:59:59Z"), &tz), "02:59:59 CEST");
        assert!(!night(utc("2025-10-26T01:00:00Z"), &tz), "02:00 CET again");
        assert!(!night(utc("2025-10-26T01:59:59Z"), &tz), "02:59:59 CET");
        assert!(night(utc("2025-10-26T02:00:00Z"), &tz), "03:00 CET");
        assert!(night(utc("2025-10-26T03:59:59Z"), &tz), "04:59:59 CET");
        assert!(!night(utc("2025-10-26T04:00:00Z"), &tz), "05:00 CET");
    }

    #[test]
    fn a_member_switch_at_night_says_so() {
        let tz = TimeZone::UTC;
        let at = utc("2025-01-15T03:30:00Z");
        let alerts = evaluate(
            &sign_in_at(at, Some(Uuid::from_u128(9))),
            &History::default(),
            &Thresholds::defaults(),
            &tz,
        );
        assert_eq!(rules_of(&alerts), [Rule::NightSignIn]);
        assert_eq!(
            alerts[0].summary(),
            "Bo switched to their account on Shift laptop at 03:30 (UTC time), between 03:00 and 05:00."
        );
        let alerts = evaluate(
            &sign_in_at(at, None),
            &History::default(),
            &Thresholds::defaults(),
            &tz,
        );
        assert!(
            alerts[0]
                .summary()
                .starts_with("Bo signed in on Shift laptop")
        );
    }

    #[test]
    fn night_window_is_settable_across_midnight_and_can_be_disabled() {
        let tz = TimeZone::UTC;
        let mut t = Thresholds::defaults();
        t.night_sign_in.night =
            TimeWindow::daily(Time::constant(23, 0, 0, 0), Time::constant(6, 0, 0, 0));
        let fire = |at: &str, t: &Thresholds| {
            !evaluate(&sign_in_at(utc(at), None), &History::default(), t, &tz).is_empty()
        };
        assert!(!fire("2025-01-15T22:59:59Z", &t));
        assert!(fire("2025-01-15T23:00:00Z", &t));
        assert!(fire("2025-01-16T05:59:59Z", &t));
        assert!(!fire("2025-01-16T06:00:00Z", &t));
        t.night_sign_in.enabled = false;
        assert!(!fire("2025-01-15T23:30:00Z", &t));
    }

    // --- new device OS --------------------------------------------------------------

    fn linked(os: &str) -> Fact {
        Fact::DeviceLinked {
            at: utc("2025-01-15T12:00:00Z"),
            device_id: Uuid::from_u128(5),
            device_name: "Reception PC".into(),
            os: os.into(),
            os_version: "11".into(),
            member_id: Uuid::from_u128(4),
            member_name: Some("Bo".into()),
            address: None,
        }
    }

    fn new_os(os: &str, known: &[&str]) -> Vec<Alert> {
        let h = History {
            known_os: known.iter().map(|s| (*s).to_owned()).collect(),
            ..History::default()
        };
        evaluate(&linked(os), &h, &Thresholds::defaults(), &TimeZone::UTC)
    }

    #[test]
    fn a_device_with_an_unseen_os_fires() {
        let alerts = new_os("Windows", &["macos", "linux", "macos"]);
        assert_eq!(rules_of(&alerts), [Rule::NewDeviceOs]);
        assert_eq!(alerts[0].params["known_os"], "linux, macos");
        assert_eq!(
            alerts[0].summary(),
            "A new device \u{201c}Reception PC\u{201d} running Windows was linked for Bo; no device of the team ran Windows before (seen: linux, macos)."
        );
    }

    #[test]
    fn a_known_os_in_another_case_or_spacing_does_not_fire() {
        assert!(new_os("windows", &["Windows"]).is_empty());
        assert!(new_os(" MacOS ", &["linux", "macos"]).is_empty());
    }

    #[test]
    fn the_first_device_of_a_team_sets_the_baseline_and_does_not_fire() {
        assert!(new_os("linux", &[]).is_empty());
    }

    #[test]
    fn new_os_rule_can_be_disabled() {
        let mut t = Thresholds::defaults();
        t.new_device_os.enabled = false;
        let h = History {
            known_os: vec!["linux".into()],
            ..History::default()
        };
        assert!(evaluate(&linked("windows"), &h, &t, &TimeZone::UTC).is_empty());
    }

    // --- failed pairing burst -------------------------------------------------------

    fn pairing(at: Timestamp, earlier: &[Timestamp], t: &Thresholds) -> Vec<Alert> {
        let h = History {
            pairing_failures_from_address: earlier.to_vec(),
            ..History::default()
        };
        let f = Fact::PairingFailed {
            at,
            address: "203.0.113.9".into(),
        };
        evaluate(&f, &h, t, &TimeZone::UTC)
    }

    #[test]
    fn three_failed_pairings_within_ten_minutes_fire_two_do_not() {
        let t0 = utc("2025-01-15T12:00:00Z");
        let t = Thresholds::defaults();
        let two: Vec<_> = (0..2).map(|i| mins(t0, i * 4)).collect();
        assert!(pairing(mins(t0, 7), &two[..1], &t).is_empty());
        let fired = pairing(mins(t0, 10), &two, &t);
        assert_eq!(rules_of(&fired), [Rule::PairingFailureBurst]);
        assert_eq!(fired[0].key.as_deref(), Some("203.0.113.9"));
        assert_eq!(
            fired[0].summary(),
            "3 failed pairing attempts from address 203.0.113.9 within 10 minutes."
        );
        // The first of the two is 10 min 1 s before: only 2 in the window.
        let late = mins(t0, 10)
            .checked_add(SignedDuration::from_secs(1))
            .unwrap();
        assert!(pairing(late, &two, &t).is_empty());
    }

    #[test]
    fn pairing_burst_thresholds_are_settable() {
        let t0 = utc("2025-01-15T12:00:00Z");
        let mut t = Thresholds::defaults();
        t.pairing_failure_burst.count = 2;
        t.pairing_failure_burst.window_minutes = 1;
        assert_eq!(pairing(mins(t0, 1), &[t0], &t).len(), 1);
        assert!(pairing(mins(t0, 2), &[t0], &t).is_empty());
        t.pairing_failure_burst.enabled = false;
        assert!(pairing(mins(t0, 1), &[t0], &t).is_empty());
    }

    // --- idle devices ---------------------------------------------------------------

    fn idle(at: Timestamp, last_seen: Timestamp, last_alert: Option<Timestamp>) -> Vec<Alert> {
        let mut h = History::default();
        if let Some(l) = last_alert {
            h.last_raised.insert(Rule::DeviceIdle, l);
        }
        let f = Fact::DeviceIdle {
            at,
            device_id: Uuid::from_u128(6),
            device_name: "Old tablet".into(),
            member_id: Uuid::from_u128(4),
            last_seen,
        };
        evaluate(&f, &h, &Thresholds::defaults(), &madrid())
    }

    #[test]
    fn a_device_idle_for_more_than_seven_days_fires_exactly_seven_does_not() {
        let seen = utc("2025-03-25T10:00:00Z");
        let seven = seen.checked_add(SignedDuration::from_hours(168)).unwrap();
        assert!(idle(seven, seen, None).is_empty(), "exactly 7 days");
        let after = seven.checked_add(SignedDuration::from_secs(1)).unwrap();
        let fired = idle(after, seen, None);
        assert_eq!(rules_of(&fired), [Rule::DeviceIdle]);
        assert_eq!(fired[0].key, Some(Uuid::from_u128(6).to_string()));
        // Across the spring-forward change (30 March) the civil clock moved an hour, the
        // elapsed time did not: 7 days are 168 real hours.
        assert_eq!(fired[0].params["last_seen_local"], "2025-03-25 11:00");
        assert_eq!(
            fired[0].summary(),
            "The device \u{201c}Old tablet\u{201d} has not been seen for 7 days (last seen 2025-03-25 11:00 Europe/Madrid time); it is still linked."
        );
    }

    #[test]
    fn an_idle_device_raises_once_per_idle_period() {
        let seen = utc("2025-01-01T10:00:00Z");
        let day = |d: i64| {
            seen.checked_add(SignedDuration::from_hours(24 * d))
                .unwrap()
        };
        assert!(
            idle(day(9), seen, Some(day(8))).is_empty(),
            "already raised"
        );
        // Seen again on day 10, idle again by day 18: a new alert.
        assert_eq!(idle(day(18), day(10), Some(day(8))).len(), 1);
    }

    #[test]
    fn idle_days_are_settable() {
        let seen = utc("2025-01-01T10:00:00Z");
        let mut t = Thresholds::defaults();
        t.device_idle.days = 2;
        let f = Fact::DeviceIdle {
            at: seen.checked_add(SignedDuration::from_hours(49)).unwrap(),
            device_id: Uuid::from_u128(6),
            device_name: "x".into(),
            member_id: Uuid::from_u128(4),
            last_seen: seen,
        };
        assert_eq!(
            evaluate(&f, &History::default(), &t, &TimeZone::UTC).len(),
            1
        );
        t.device_idle.enabled = false;
        assert!(evaluate(&f, &History::default(), &t, &TimeZone::UTC).is_empty());
    }

    // --- thresholds -----------------------------------------------------------------

    #[test]
    fn thresholds_default_from_empty_json_and_round_trip() {
        let t: Thresholds = serde_json::from_str("{}").unwrap();
        assert_eq!(t, Thresholds::defaults());
        assert_eq!(t.pairing_failure_burst.count, 3);
        assert_eq!(t.permission_change_burst.count, 3);
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json["permission_change_off_hours"]["work_hours"],
            serde_json::json!({"start": "08:00", "end": "20:00"})
        );
        assert_eq!(
            json["pairing_failure_burst"],
            serde_json::json!({"enabled": true, "count": 3, "window_minutes": 10})
        );
        let back: Thresholds = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
        let partial: Thresholds = serde_json::from_str(r#"{"device_idle": {"days": 3}}"#).unwrap();
        assert_eq!(partial.device_idle.days, 3);
        assert!(partial.device_idle.enabled);
        assert_eq!(partial.pairing_failure_burst.count, 3);
    }

    #[test]
    fn thresholds_refuse_unknown_fields_and_bad_values() {
        assert!(serde_json::from_str::<Thresholds>(r#"{"nope": {}}"#).is_err());
        assert!(serde_json::from_str::<Thresholds>(r#"{"device_idle": {"dayz": 3}}"#).is_err());
        assert!(
            serde_json::from_str::<Thresholds>(r#"{"pairing_failure_burst": {"count": 5}}"#)
                .is_err(),
            "a burst names both count and window"
        );
        let mut t = Thresholds::defaults();
        assert_eq!(t.invalid(), None);
        t.permission_change_burst.count = 1;
        assert!(
            t.invalid()
                .unwrap()
                .contains("permission_change_burst.count")
        );
        let mut t = Thresholds::defaults();
        t.pairing_failure_burst.window_minutes = 0;
        assert!(t.invalid().unwrap().contains("window_minutes"));
        let mut t = Thresholds::defaults();
        t.device_idle.days = 0;
        assert!(t.invalid().unwrap().contains("device_idle.days"));
        let mut t = Thresholds::defaults();
        t.night_sign_in.night.weekdays = Some(vec![]);
        assert!(t.invalid().unwrap().contains("night_sign_in.night"));
    }

    #[test]
    fn rule_codes_are_stable() {
        let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            codes,
            [
                "permission_change_off_hours",
                "permission_change_burst",
                "night_sign_in",
                "new_device_os",
                "pairing_failure_burst",
                "device_idle"
            ]
        );
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>().unwrap(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!("nope".parse::<Rule>().is_err());
    }

    #[test]
    fn facts_serialize_tagged_by_type() {
        let f = linked("linux");
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["type"], "device_linked");
        assert_eq!(v["os"], "linux");
        assert_eq!(serde_json::from_value::<Fact>(v).unwrap(), f);
        let v = serde_json::to_value(change_at(utc("2025-01-15T12:00:00Z"))).unwrap();
        assert_eq!(v["type"], "permission_change");
        assert_eq!(v["change"], "member_permissions");
    }

    #[test]
    fn summaries_survive_missing_parameters() {
        for r in Rule::ALL {
            assert!(summary(r, &BTreeMap::new()).contains('?'));
        }
    }
}

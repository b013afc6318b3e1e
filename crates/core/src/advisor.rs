//! The permission advisor: plain-words advice about risky permission set-ups, with a
//! one-click fix where one exists. Pure: members and templates in, advice out.
//!
//! What a member "can" do here is their toggles minus what their templates make
//! impossible at every hour of the week (a `deny`, or windows that never overlap); a
//! template window that is merely closed right now still counts as "can". Device ceilings
//! are left out on purpose: they belong to the hardware, and the fixes change a member's
//! toggles.
//!
//! Rules:
//! - **3-2-1 guide**: at most 30% of active members can send broadcasts, 20% can edit
//!   data, 10% can delete history. "Edit data" = edit contacts, manage labels or edit the
//!   business profile (what changes the team's shared records; replying and applying labels
//!   do not). The limit is `max(1, floor(members × percent / 100))`: somebody must be able
//!   to do each thing, so a team of three with one broadcaster is fine.
//! - **delete and broadcast**: one member who can both delete history and send broadcasts
//!   (a mistake or a bad actor can then both mass-message customers and erase the trace).
//! - **too few admins**: fewer than two active members can manage the team.
//! - **template conflict**: see [`template_conflicts`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::{Permission, PermissionSet};
use crate::schedule::TimeWindow;
use crate::templates::PermissionTemplate;

/// A member as the advisor sees them.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MemberAccess {
    pub id: Uuid,
    pub name: String,
    /// Deactivated members are ignored.
    pub active: bool,
    /// The member's toggles (before device ceilings and templates).
    pub toggles: PermissionSet,
    /// Ids of the templates applied to the member (unknown ids are ignored).
    pub templates: Vec<Uuid>,
}

/// Stable advice codes. serde: snake_case.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdviceCode {
    TooManyBroadcasters,
    TooManyDataEditors,
    TooManyDeleters,
    DeleteAndBroadcast,
    TooFewAdmins,
    TemplateConflict,
}

impl AdviceCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AdviceCode::TooManyBroadcasters => "too_many_broadcasters",
            AdviceCode::TooManyDataEditors => "too_many_data_editors",
            AdviceCode::TooManyDeleters => "too_many_deleters",
            AdviceCode::DeleteAndBroadcast => "delete_and_broadcast",
            AdviceCode::TooFewAdmins => "too_few_admins",
            AdviceCode::TemplateConflict => "template_conflict",
        }
    }
}

#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A guideline is exceeded.
    Info,
    /// A real risk worth fixing.
    Warning,
    /// Something does not work as configured, or the team can be locked out.
    Critical,
}

/// A one-click fix. serde: externally tagged, e.g.
/// `{"remove_toggles": {"member_id": "…", "permissions": ["send_broadcasts"]}}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    /// Switch these toggles off for the member (the member-update route with the member's
    /// toggles minus `permissions`).
    RemoveToggles {
        member_id: Uuid,
        permissions: PermissionSet,
    },
}

/// One piece of advice.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Advice {
    pub code: AdviceCode,
    pub severity: Severity,
    /// Members concerned, sorted by name then id.
    pub member_ids: Vec<Uuid>,
    /// Templates concerned (template conflicts), sorted by id.
    pub template_ids: Vec<Uuid>,
    /// The permissions the advice is about.
    pub permissions: PermissionSet,
    /// Display-ready values of the summary (fixed keys per code).
    pub params: BTreeMap<String, String>,
    /// Alternative one-click fixes (any one of them resolves the advice for the member it
    /// names); empty when the fix needs a decision only a person can make.
    pub fixes: Vec<Fix>,
}

impl Advice {
    /// The English sentence (the UI translates by `code` with `params`).
    pub fn summary(&self) -> String {
        summary(self.code, &self.params)
    }
}

/// Permissions counted as "edit data" in the 3-2-1 guide.
pub fn data_editing() -> PermissionSet {
    PermissionSet::from([
        Permission::EditContacts,
        Permission::ManageLabels,
        Permission::EditBusinessProfile,
    ])
}

/// `(code, permissions, percent)` of the 3-2-1 guide.
pub const GUIDE: [(AdviceCode, &[Permission], usize); 3] = [
    (
        AdviceCode::TooManyBroadcasters,
        &[Permission::SendBroadcasts],
        30,
    ),
    (
        AdviceCode::TooManyDataEditors,
        &[
            Permission::EditContacts,
            Permission::ManageLabels,
            Permission::EditBusinessProfile,
        ],
        20,
    ),
    (
        AdviceCode::TooManyDeleters,
        &[Permission::DeleteHistory],
        10,
    ),
];

/// How many of `members` may hold a guided permission: `max(1, ⌊members × percent / 100⌋)`.
pub fn guide_limit(members: usize, percent: usize) -> usize {
    (members * percent / 100).max(1)
}

/// Every piece of advice for the team, in a fixed order (code, then members, then
/// templates), so equal inputs give equal outputs.
pub fn advise(members: &[MemberAccess], templates: &[PermissionTemplate]) -> Vec<Advice> {
    let by_id: BTreeMap<Uuid, &PermissionTemplate> = templates.iter().map(|t| (t.id, t)).collect();
    let mut active: Vec<&MemberAccess> = members.iter().filter(|m| m.active).collect();
    active.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    if active.is_empty() {
        return Vec::new();
    }
    let can: Vec<PermissionSet> = active
        .iter()
        .map(|m| capabilities(m, &applied(m, &by_id)))
        .collect();
    let total = active.len();
    let mut out = Vec::new();

    for (code, perms, percent) in GUIDE {
        let set: PermissionSet = perms.iter().collect();
        let holders: Vec<usize> = (0..total)
            .filter(|&i| !can[i].intersect(set).is_empty())
            .collect();
        let limit = guide_limit(total, percent);
        if holders.len() <= limit {
            continue;
        }
        let fixes = holders
            .iter()
            .filter(|&&i| !can[i].contains(Permission::ManageTeam))
            .map(|&i| Fix::RemoveToggles {
                member_id: active[i].id,
                permissions: active[i].toggles.intersect(set),
            })
            .collect();
        let mut params = BTreeMap::new();
        params.insert("count".into(), holders.len().to_string());
        params.insert("total".into(), total.to_string());
        params.insert("limit".into(), limit.to_string());
        params.insert("percent".into(), percent.to_string());
        params.insert("names".into(), names(holders.iter().map(|&i| active[i])));
        out.push(Advice {
            code,
            severity: Severity::Info,
            member_ids: holders.iter().map(|&i| active[i].id).collect(),
            template_ids: Vec::new(),
            permissions: set,
            params,
            fixes,
        });
    }

    let both = PermissionSet::from([Permission::DeleteHistory, Permission::SendBroadcasts]);
    for (i, m) in active.iter().enumerate() {
        if both.is_subset_of(can[i]) {
            out.push(Advice {
                code: AdviceCode::DeleteAndBroadcast,
                severity: Severity::Warning,
                member_ids: vec![m.id],
                template_ids: Vec::new(),
                permissions: both,
                params: BTreeMap::from([("name".to_owned(), m.name.clone())]),
                fixes: vec![
                    Fix::RemoveToggles {
                        member_id: m.id,
                        permissions: Permission::DeleteHistory.into(),
                    },
                    Fix::RemoveToggles {
                        member_id: m.id,
                        permissions: Permission::SendBroadcasts.into(),
                    },
                ],
            });
        }
    }

    let admins: Vec<usize> = (0..total)
        .filter(|&i| can[i].contains(Permission::ManageTeam))
        .collect();
    if admins.len() < 2 {
        let mut params = BTreeMap::new();
        params.insert("count".into(), admins.len().to_string());
        params.insert("names".into(), names(admins.iter().map(|&i| active[i])));
        out.push(Advice {
            code: AdviceCode::TooFewAdmins,
            severity: if admins.is_empty() {
                Severity::Critical
            } else {
                Severity::Warning
            },
            member_ids: admins.iter().map(|&i| active[i].id).collect(),
            template_ids: Vec::new(),
            permissions: Permission::ManageTeam.into(),
            params,
            fixes: Vec::new(),
        });
    }

    out.extend(template_conflicts(&active, &by_id));
    out
}

fn applied<'a>(
    m: &MemberAccess,
    by_id: &BTreeMap<Uuid, &'a PermissionTemplate>,
) -> Vec<&'a PermissionTemplate> {
    let ids: BTreeSet<Uuid> = m.templates.iter().copied().collect();
    ids.iter().filter_map(|id| by_id.get(id).copied()).collect()
}

/// The member's toggles minus what their templates never allow at any hour of the week.
pub fn capabilities(m: &MemberAccess, templates: &[&PermissionTemplate]) -> PermissionSet {
    m.toggles
        .iter()
        .filter(|&p| {
            !templates
                .iter()
                .fold(WeekSet::full(), |acc, t| acc.intersect(&allowed(t, p)))
                .is_empty()
        })
        .collect()
}

/// Template conflicts.
///
/// Definition: for a permission P, template T *allows P during* `allowed_T(P)` = the union
/// of T's windows naming P (if any window names P), nothing if T denies P, and the whole
/// week if T says nothing about P; T *forbids P during* the rest of the week. Two templates
/// A and B (A ≠ B) applied to the same active member who holds the toggle P conflict on P
/// when A has a window naming P and some moment of A's window for P falls where B forbids
/// P — A's window is then (partly) cancelled by B. A single template conflicts with itself
/// on P when it both denies P and names P in a window (the window can never open). Moments
/// are wall-clock times of the week (windows are civil time; DST does not matter).
///
/// One advice per pair (or single template), listing the permissions and members; it is
/// `Critical` when, for some listed member and permission, the templates together never
/// allow P at all, otherwise `Warning`. No one-click fix: which template is wrong is a
/// decision for a person.
pub fn template_conflicts(
    members: &[&MemberAccess],
    templates: &BTreeMap<Uuid, &PermissionTemplate>,
) -> Vec<Advice> {
    struct Found {
        permissions: PermissionSet,
        members: BTreeSet<(String, Uuid)>,
        never: bool,
    }
    let mut found: BTreeMap<(Uuid, Uuid), Found> = BTreeMap::new();
    for m in members.iter().filter(|m| m.active) {
        let ts = applied(m, templates);
        for p in m.toggles {
            let total = ts
                .iter()
                .fold(WeekSet::full(), |acc, t| acc.intersect(&allowed(t, p)));
            for a in &ts {
                if !governs(a, p) {
                    continue;
                }
                let window = windows_for(a, p);
                for b in &ts {
                    let clash = if a.id == b.id {
                        a.deny.contains(p) && !window.is_empty()
                    } else {
                        !a.deny.contains(p) && !window.intersect(&forbidden(b, p)).is_empty()
                    };
                    if !clash {
                        continue;
                    }
                    let key = if a.id <= b.id {
                        (a.id, b.id)
                    } else {
                        (b.id, a.id)
                    };
                    let f = found.entry(key).or_insert(Found {
                        permissions: PermissionSet::EMPTY,
                        members: BTreeSet::new(),
                        never: false,
                    });
                    f.permissions = f.permissions.with(p);
                    f.members.insert((m.name.clone(), m.id));
                    f.never |= total.is_empty();
                }
            }
        }
    }
    found
        .into_iter()
        .map(|((a, b), f)| {
            let template_ids = if a == b { vec![a] } else { vec![a, b] };
            let mut params = BTreeMap::new();
            let tname = |id: &Uuid| {
                templates
                    .get(id)
                    .map_or_else(String::new, |t| t.name.clone())
            };
            params.insert("template_a".into(), tname(&a));
            params.insert("template_b".into(), tname(&b));
            params.insert(
                "permissions".into(),
                f.permissions
                    .iter()
                    .map(Permission::label)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            params.insert(
                "names".into(),
                f.members
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            params.insert("never".into(), f.never.to_string());
            params.insert("same_template".into(), (a == b).to_string());
            Advice {
                code: AdviceCode::TemplateConflict,
                severity: if f.never {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                member_ids: f.members.iter().map(|(_, id)| *id).collect(),
                template_ids,
                permissions: f.permissions,
                params,
                fixes: Vec::new(),
            }
        })
        .collect()
}

fn governs(t: &PermissionTemplate, p: Permission) -> bool {
    t.windows.iter().any(|r| r.permissions.contains(p))
}

fn windows_for(t: &PermissionTemplate, p: Permission) -> WeekSet {
    t.windows
        .iter()
        .filter(|r| r.permissions.contains(p))
        .fold(WeekSet::empty(), |acc, r| {
            acc.union(&WeekSet::of(&r.window))
        })
}

/// When `t` allows `p` (see [`template_conflicts`]); agrees with
/// [`PermissionTemplate::mask_at`].
fn allowed(t: &PermissionTemplate, p: Permission) -> WeekSet {
    if t.deny.contains(p) {
        WeekSet::empty()
    } else if governs(t, p) {
        windows_for(t, p)
    } else {
        WeekSet::full()
    }
}

fn forbidden(t: &PermissionTemplate, p: Permission) -> WeekSet {
    allowed(t, p).complement()
}

fn names<'a>(members: impl Iterator<Item = &'a MemberAccess>) -> String {
    members
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The English sentence of an advice. Missing parameters read as "?".
///
/// Parameter keys per code (string values; `names` is comma-separated member names):
/// - `too_many_broadcasters`, `too_many_data_editors`, `too_many_deleters`: `count`,
///   `total`, `limit`, `percent`, `names`
/// - `delete_and_broadcast`: `name`
/// - `too_few_admins`: `count`, `names`
/// - `template_conflict`: `template_a`, `template_b` (equal for a self-conflict),
///   `permissions` (English labels), `names`, `never` and `same_template` (`"true"`/`"false"`)
pub fn summary(code: AdviceCode, params: &BTreeMap<String, String>) -> String {
    let p = |k: &str| params.get(k).map(String::as_str).unwrap_or("?");
    let guide = |what: &str| {
        format!(
            "{} of {} active members can {what} ({}); the 3-2-1 guide suggests at most {} ({}% of the team).",
            p("count"),
            p("total"),
            p("names"),
            p("limit"),
            p("percent")
        )
    };
    match code {
        AdviceCode::TooManyBroadcasters => guide("send broadcasts"),
        AdviceCode::TooManyDataEditors => {
            guide("edit data (contacts, labels or the business profile)")
        }
        AdviceCode::TooManyDeleters => guide("delete history"),
        AdviceCode::DeleteAndBroadcast => format!(
            "{} can both delete history and send broadcasts; give these rights to different people.",
            p("name")
        ),
        AdviceCode::TooFewAdmins => {
            if p("count") == "0" {
                "No active member can manage the team; make at least two members admins.".to_owned()
            } else {
                format!(
                    "Only {} can manage the team; make a second member an admin so the team is never locked out.",
                    p("names")
                )
            }
        }
        AdviceCode::TemplateConflict => {
            let never = if p("never") == "true" {
                " As set up, it is never allowed."
            } else {
                ""
            };
            if p("same_template") == "true" {
                format!(
                    "Template \u{201c}{}\u{201d} both forbids {} and allows it in a time window, so the window never opens (applied to {}).{never}",
                    p("template_a"),
                    p("permissions"),
                    p("names")
                )
            } else {
                format!(
                    "Templates \u{201c}{}\u{201d} and \u{201c}{}\u{201d}, both applied to {}, disagree about {}: one allows it at times the other forbids it.{never}",
                    p("template_a"),
                    p("template_b"),
                    p("names"),
                    p("permissions")
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Moments of the week

const DAY: u32 = 86_400;
const WEEK: u32 = 7 * DAY;

/// A set of moments of the week: sorted, disjoint, non-adjacent half-open intervals of
/// seconds from Monday 00:00 (wall-clock).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WeekSet(Vec<(u32, u32)>);

impl WeekSet {
    pub fn empty() -> WeekSet {
        WeekSet(Vec::new())
    }

    pub fn full() -> WeekSet {
        WeekSet(vec![(0, WEEK)])
    }

    /// The moments a [`TimeWindow`] covers, with its rules (half-open, crossing midnight,
    /// `start == end` = 24 hours, weekdays of the window's start; Sunday night runs into
    /// Monday morning).
    pub fn of(w: &TimeWindow) -> WeekSet {
        let secs = |t: jiff::civil::Time| {
            t.hour() as u32 * 3600 + t.minute() as u32 * 60 + t.second() as u32
        };
        let (start, end) = (secs(w.start), secs(w.end));
        let len = if start < end {
            end - start
        } else {
            DAY - start + end
        };
        let days: Vec<u32> = match &w.weekdays {
            None => (0..7).collect(),
            Some(days) => days
                .iter()
                .map(|d| d.to_monday_zero_offset() as u32)
                .collect(),
        };
        let mut parts = Vec::new();
        for d in days {
            let s = d * DAY + start;
            let e = s + len;
            if e <= WEEK {
                parts.push((s, e));
            } else {
                parts.push((s, WEEK));
                parts.push((0, e - WEEK));
            }
        }
        WeekSet::normalized(parts)
    }

    fn normalized(mut parts: Vec<(u32, u32)>) -> WeekSet {
        parts.retain(|(s, e)| s < e);
        parts.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(parts.len());
        for (s, e) in parts {
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        WeekSet(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the second `s` of the week (0 = Monday 00:00:00) is in the set.
    pub fn contains(&self, s: u32) -> bool {
        self.0.iter().any(|&(a, b)| a <= s && s < b)
    }

    #[must_use]
    pub fn union(&self, other: &WeekSet) -> WeekSet {
        WeekSet::normalized(self.0.iter().chain(&other.0).copied().collect())
    }

    #[must_use]
    pub fn intersect(&self, other: &WeekSet) -> WeekSet {
        let mut out = Vec::new();
        for &(a, b) in &self.0 {
            for &(c, d) in &other.0 {
                let (s, e) = (a.max(c), b.min(d));
                if s < e {
                    out.push((s, e));
                }
            }
        }
        WeekSet::normalized(out)
    }

    #[must_use]
    pub fn complement(&self) -> WeekSet {
        let mut out = Vec::new();
        let mut at = 0;
        for &(s, e) in &self.0 {
            if at < s {
                out.push((at, s));
            }
            at = e;
        }
        if at < WEEK {
            out.push((at, WEEK));
        }
        WeekSet(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Preset;
    use crate::templates::WindowRule;
    use Permission::*;
    use jiff::civil::{Time, Weekday};
    use proptest::prelude::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn member(n: u128, name: &str, toggles: PermissionSet) -> MemberAccess {
        MemberAccess {
            id: id(n),
            name: name.into(),
            active: true,
            toggles,
            templates: Vec::new(),
        }
    }

    fn preset(n: u128, name: &str, p: Preset) -> MemberAccess {
        member(n, name, p.permissions())
    }

    fn t(h: i8, m: i8) -> Time {
        Time::constant(h, m, 0, 0)
    }

    fn template(
        n: u128,
        name: &str,
        deny: PermissionSet,
        windows: Vec<WindowRule>,
    ) -> PermissionTemplate {
        PermissionTemplate {
            id: id(n),
            name: name.into(),
            deny,
            windows,
        }
    }

    fn rule(p: PermissionSet, start: Time, end: Time) -> WindowRule {
        WindowRule {
            permissions: p,
            window: TimeWindow::daily(start, end),
        }
    }

    fn codes(advice: &[Advice]) -> Vec<AdviceCode> {
        advice.iter().map(|a| a.code).collect()
    }

    fn only(advice: &[Advice], code: AdviceCode) -> Vec<&Advice> {
        advice.iter().filter(|a| a.code == code).collect()
    }

    /// Two admins and `n` Standard members: nothing to advise about.
    fn calm_team(n: u128) -> Vec<MemberAccess> {
        let mut ms = vec![
            member(
                1,
                "Owner",
                Preset::Admin.permissions().without(DeleteHistory),
            ),
            member(
                2,
                "Deputy",
                Preset::Admin.permissions().without(SendBroadcasts),
            ),
        ];
        for i in 0..n {
            ms.push(preset(10 + i, &format!("Agent {i:02}"), Preset::Standard));
        }
        ms
    }

    #[test]
    fn a_well_set_up_team_gets_no_advice() {
        // 10 members: broadcast limit 3, data 2, delete 1.
        let ms = calm_team(8);
        assert_eq!(advise(&ms, &[]), Vec::<Advice>::new());
    }

    #[test]
    fn guide_limits_round_down_but_never_below_one() {
        assert_eq!(guide_limit(1, 30), 1);
        assert_eq!(guide_limit(3, 30), 1);
        assert_eq!(guide_limit(4, 30), 1);
        assert_eq!(guide_limit(7, 30), 2);
        assert_eq!(guide_limit(10, 30), 3);
        assert_eq!(guide_limit(10, 20), 2);
        assert_eq!(guide_limit(14, 20), 2);
        assert_eq!(guide_limit(15, 20), 3);
        assert_eq!(guide_limit(19, 10), 1);
        assert_eq!(guide_limit(20, 10), 2);
    }

    #[test]
    fn too_many_broadcasters_at_31_percent_not_at_30() {
        // 10 members, limit 3: the Owner plus two agents = 3 is fine, a third agent is not.
        let mut ms = calm_team(8);
        ms[2].toggles = ms[2].toggles.with(SendBroadcasts);
        ms[3].toggles = ms[3].toggles.with(SendBroadcasts);
        assert!(only(&advise(&ms, &[]), AdviceCode::TooManyBroadcasters).is_empty());
        ms[4].toggles = ms[4].toggles.with(SendBroadcasts);
        let advice = advise(&ms, &[]);
        let a = only(&advice, AdviceCode::TooManyBroadcasters);
        assert_eq!(a.len(), 1);
        let a = a[0];
        assert_eq!(a.severity, Severity::Info);
        // Sorted by name: Agent 00, 01, 02, Owner.
        assert_eq!(a.member_ids, [id(10), id(11), id(12), id(1)]);
        assert_eq!(a.params["count"], "4");
        assert_eq!(a.params["limit"], "3");
        // Fixes for the non-admins only, each removing just the broadcast toggle.
        assert_eq!(
            a.fixes,
            [10, 11, 12].map(|n| Fix::RemoveToggles {
                member_id: id(n),
                permissions: SendBroadcasts.into()
            })
        );
        assert_eq!(
            a.summary(),
            "4 of 10 active members can send broadcasts (Agent 00, Agent 01, Agent 02, Owner); the 3-2-1 guide suggests at most 3 (30% of the team)."
        );
    }

    #[test]
    fn data_editing_counts_any_of_three_toggles_and_fixes_only_held_ones() {
        // 10 members, limit 2. Owner and Deputy edit data already.
        let mut ms = calm_team(8);
        assert!(only(&advise(&ms, &[]), AdviceCode::TooManyDataEditors).is_empty());
        ms[2].toggles = ms[2].toggles.with(ManageLabels).with(EditContacts);
        let advice = advise(&ms, &[]);
        let a = only(&advice, AdviceCode::TooManyDataEditors)[0];
        assert_eq!(a.permissions, data_editing());
        assert_eq!(
            a.fixes,
            [Fix::RemoveToggles {
                member_id: id(10),
                permissions: PermissionSet::from([ManageLabels, EditContacts])
            }]
        );
        for p in [EditContacts, ManageLabels, EditBusinessProfile] {
            let mut ms = calm_team(8);
            ms[5].toggles = ms[5].toggles.with(p);
            assert_eq!(
                only(&advise(&ms, &[]), AdviceCode::TooManyDataEditors).len(),
                1,
                "{p}"
            );
        }
        // Applying labels or configuring automation is not "editing data".
        let mut ms = calm_team(8);
        ms[5].toggles = ms[5].toggles.with(ApplyLabels).with(ConfigureAutomation);
        assert!(only(&advise(&ms, &[]), AdviceCode::TooManyDataEditors).is_empty());
    }

    #[test]
    fn too_many_deleters_at_more_than_ten_percent() {
        // 10 members, limit 1: the Deputy deletes; one more is too many.
        let mut ms = calm_team(8);
        ms[6].toggles = ms[6].toggles.with(DeleteHistory);
        let advice = advise(&ms, &[]);
        let a = only(&advice, AdviceCode::TooManyDeleters)[0];
        assert_eq!(a.member_ids, [id(14), id(2)]);
        assert_eq!(a.fixes.len(), 1, "the Deputy is an admin: no fix offered");
    }

    #[test]
    fn small_teams_may_have_one_holder_of_each() {
        // Owner (admin, all) + Deputy admin + one Standard: 3 members, limits 1/1/1; the
        // Owner alone holds broadcast and delete (Deputy lacks both).
        let ms = vec![
            preset(1, "Owner", Preset::Admin),
            member(
                2,
                "Deputy",
                Preset::Admin
                    .permissions()
                    .without(SendBroadcasts)
                    .without(DeleteHistory)
                    .without(EditContacts)
                    .without(ManageLabels)
                    .without(EditBusinessProfile),
            ),
            preset(3, "Agent", Preset::Standard),
        ];
        assert_eq!(codes(&advise(&ms, &[])), [AdviceCode::DeleteAndBroadcast]);
    }

    #[test]
    fn delete_and_broadcast_is_per_member_with_two_alternative_fixes() {
        let ms = vec![
            preset(1, "Owner", Preset::Admin),
            preset(2, "Deputy", Preset::Admin),
        ];
        let advice = advise(&ms, &[]);
        let d = only(&advice, AdviceCode::DeleteAndBroadcast);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].member_ids, [id(2)], "Deputy sorts before Owner");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(
            d[0].fixes,
            [
                Fix::RemoveToggles {
                    member_id: id(2),
                    permissions: DeleteHistory.into()
                },
                Fix::RemoveToggles {
                    member_id: id(2),
                    permissions: SendBroadcasts.into()
                }
            ]
        );
        assert_eq!(
            d[0].summary(),
            "Deputy can both delete history and send broadcasts; give these rights to different people."
        );
        // Only one of the two: nothing.
        let ms = vec![
            member(1, "A", PermissionSet::from([DeleteHistory, ManageTeam])),
            member(2, "B", PermissionSet::from([SendBroadcasts, ManageTeam])),
        ];
        assert!(only(&advise(&ms, &[]), AdviceCode::DeleteAndBroadcast).is_empty());
    }

    #[test]
    fn a_template_that_denies_one_of_the_two_clears_the_advice() {
        let mut ms = vec![
            preset(1, "Owner", Preset::Admin),
            member(2, "Deputy", PermissionSet::from([ManageTeam])),
        ];
        ms[0].templates = vec![id(100)];
        let no_delete = template(100, "No delete", DeleteHistory.into(), vec![]);
        let advice = advise(&ms, &[no_delete]);
        assert!(only(&advice, AdviceCode::DeleteAndBroadcast).is_empty());
        assert!(only(&advice, AdviceCode::TooManyDeleters).is_empty());
        // A window that merely closes at times still leaves "can".
        let night = template(
            101,
            "Night broadcasts",
            PermissionSet::EMPTY,
            vec![rule(SendBroadcasts.into(), t(23, 0), t(7, 0))],
        );
        ms[0].templates = vec![id(101)];
        assert_eq!(
            only(&advise(&ms, &[night]), AdviceCode::DeleteAndBroadcast).len(),
            1
        );
    }

    #[test]
    fn fewer_than_two_admins() {
        let ms = vec![
            preset(1, "Owner", Preset::Admin),
            preset(2, "Agent", Preset::Standard),
        ];
        let advice = advise(&ms, &[]);
        let a = only(&advice, AdviceCode::TooFewAdmins)[0];
        assert_eq!(a.severity, Severity::Warning);
        assert_eq!(a.member_ids, [id(1)]);
        assert!(a.fixes.is_empty());
        assert_eq!(
            a.summary(),
            "Only Owner can manage the team; make a second member an admin so the team is never locked out."
        );
        // A second admin who is deactivated does not count.
        let mut ms2 = ms.clone();
        ms2.push(MemberAccess {
            active: false,
            ..preset(3, "Gone", Preset::Admin)
        });
        assert_eq!(only(&advise(&ms2, &[]), AdviceCode::TooFewAdmins).len(), 1);
        // Nobody: critical.
        let ms = vec![preset(2, "Agent", Preset::Standard)];
        let a = advise(&ms, &[]);
        let a = only(&a, AdviceCode::TooFewAdmins)[0];
        assert_eq!(a.severity, Severity::Critical);
        assert!(a.summary().starts_with("No active member"));
        // Two admins: fine.
        assert!(only(&advise(&calm_team(0), &[]), AdviceCode::TooFewAdmins).is_empty());
    }

    #[test]
    fn an_admin_whose_template_always_denies_manage_team_is_not_an_admin() {
        let mut ms = calm_team(0);
        ms[1].templates = vec![id(100)];
        let t = template(100, "No admin", ManageTeam.into(), vec![]);
        let advice = advise(&ms, &[t]);
        assert_eq!(
            only(&advice, AdviceCode::TooFewAdmins)[0].member_ids,
            [id(1)]
        );
    }

    #[test]
    fn inactive_members_and_empty_teams_are_ignored() {
        assert!(advise(&[], &[]).is_empty());
        let ms = vec![MemberAccess {
            active: false,
            ..preset(1, "Gone", Preset::Admin)
        }];
        assert!(advise(&ms, &[]).is_empty());
    }

    // --- template conflicts ---------------------------------------------------------

    /// Only the template-conflict advice (the 3-member fixture trips the 3-2-1 guide).
    fn conflicts(ms: &[MemberAccess], ts: &[PermissionTemplate]) -> Vec<Advice> {
        advise(ms, ts)
            .into_iter()
            .filter(|a| a.code == AdviceCode::TemplateConflict)
            .collect()
    }

    fn with_templates(ids: &[u128]) -> Vec<MemberAccess> {
        let mut ms = calm_team(0);
        let mut agent = preset(10, "Agent", Preset::Standard);
        agent.templates = ids.iter().map(|n| id(*n)).collect();
        ms.push(agent);
        ms
    }

    #[test]
    fn day_and_night_shift_on_one_member_never_allow_replies() {
        let night = template(
            100,
            "Night shift",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(23, 0), t(7, 0))],
        );
        let day = template(
            101,
            "Day shift",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(7, 0), t(23, 0))],
        );
        let advice = conflicts(&with_templates(&[100, 101]), &[night, day]);
        assert_eq!(codes(&advice), [AdviceCode::TemplateConflict]);
        let a = &advice[0];
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.template_ids, [id(100), id(101)]);
        assert_eq!(a.member_ids, [id(10)]);
        assert_eq!(a.permissions, Reply.into());
        assert!(a.fixes.is_empty());
        assert_eq!(
            a.summary(),
            "Templates \u{201c}Night shift\u{201d} and \u{201c}Day shift\u{201d}, both applied to Agent, disagree about Reply: one allows it at times the other forbids it. As set up, it is never allowed."
        );
    }

    #[test]
    fn partly_overlapping_windows_conflict_as_a_warning() {
        let a = template(
            100,
            "Long day",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(8, 0), t(20, 0))],
        );
        let b = template(
            101,
            "Core hours",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(9, 0), t(17, 0))],
        );
        let advice = conflicts(&with_templates(&[100, 101]), &[a, b]);
        assert_eq!(codes(&advice), [AdviceCode::TemplateConflict]);
        assert_eq!(advice[0].severity, Severity::Warning);
        assert_eq!(advice[0].params["never"], "false");
    }

    #[test]
    fn identical_windows_do_not_conflict_nested_ones_do() {
        let core = |n, name: &str| {
            template(
                n,
                name,
                PermissionSet::EMPTY,
                vec![rule(Reply.into(), t(9, 0), t(17, 0))],
            )
        };
        assert!(
            conflicts(
                &with_templates(&[100, 101]),
                &[core(100, "Core"), core(101, "Core too")]
            )
            .is_empty()
        );
        // B allows 08–20 but A forbids 08–09 and 17–20: B's window is cut, a warning.
        let long = template(
            101,
            "Long",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(8, 0), t(20, 0))],
        );
        let advice = conflicts(&with_templates(&[100, 101]), &[core(100, "Core"), long]);
        assert_eq!(codes(&advice), [AdviceCode::TemplateConflict]);
        assert_eq!(advice[0].severity, Severity::Warning);
    }

    #[test]
    fn templates_about_different_permissions_do_not_conflict() {
        let a = template(
            100,
            "Night replies",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(23, 0), t(7, 0))],
        );
        let b = template(
            101,
            "Day labels",
            PermissionSet::EMPTY,
            vec![rule(ApplyLabels.into(), t(7, 0), t(23, 0))],
        );
        assert!(conflicts(&with_templates(&[100, 101]), &[a, b]).is_empty());
    }

    #[test]
    fn a_window_against_another_templates_deny_conflicts() {
        let a = template(
            100,
            "Night replies",
            PermissionSet::EMPTY,
            vec![rule(Reply.into(), t(23, 0), t(7, 0))],
        );
        let b = template(101, "No replies", Reply.into(), vec![]);
        let advice = conflicts(&with_templates(&[100, 101]), &[a, b]);
        assert_eq!(codes(&advice), [AdviceCode::TemplateConflict]);
        assert_eq!(advice[0].severity, Severity::Critical);
        // Deny alone against a template silent about reply: no conflict.
        let c = template(102, "Quiet", PermissionSet::EMPTY, vec![]);
        let b = template(101, "No replies", Reply.into(), vec![]);
        assert!(conflicts(&with_templates(&[101, 102]), &[b, c]).is_empty());
    }

    #[test]
    fn a_template_that_denies_what_its_own_window_allows_conflicts_with_itself() {
        let a = template(
            100,
            "Broken",
            Reply.into(),
            vec![rule(Reply.into(), t(23, 0), t(7, 0))],
        );
        let advice = conflicts(&with_templates(&[100]), &[a]);
        assert_eq!(codes(&advice), [AdviceCode::TemplateConflict]);
        assert_eq!(advice[0].template_ids, [id(100)]);
        assert!(advice[0].summary().starts_with(
            "Template \u{201c}Broken\u{201d} both forbids Reply and allows it in a time window"
        ));
    }

    #[test]
    fn conflicts_need_the_member_to_hold_the_toggle_and_both_templates_applied() {
        let a = template(
            100,
            "Night",
            PermissionSet::EMPTY,
            vec![rule(SendBroadcasts.into(), t(23, 0), t(7, 0))],
        );
        let b = template(
            101,
            "Day",
            PermissionSet::EMPTY,
            vec![rule(SendBroadcasts.into(), t(7, 0), t(23, 0))],
        );
        // The Standard agent cannot broadcast anyway.
        assert!(conflicts(&with_templates(&[100, 101]), &[a.clone(), b.clone()]).is_empty());
        // Each applied to a different member: no conflict.
        let mut ms = calm_team(0);
        ms[0].templates = vec![id(100)];
        ms[1].templates = vec![id(101)];
        assert!(only(&advise(&ms, &[a, b]), AdviceCode::TemplateConflict).is_empty());
    }

    #[test]
    fn weekday_windows_that_never_meet_conflict() {
        let weekend = PermissionTemplate {
            id: id(100),
            name: "Weekend".into(),
            deny: PermissionSet::EMPTY,
            windows: vec![WindowRule {
                permissions: Reply.into(),
                window: TimeWindow {
                    start: t(0, 0),
                    end: t(0, 0),
                    weekdays: Some(vec![Weekday::Saturday, Weekday::Sunday]),
                },
            }],
        };
        let weekdays = PermissionTemplate {
            id: id(101),
            name: "Weekdays".into(),
            deny: PermissionSet::EMPTY,
            windows: vec![WindowRule {
                permissions: Reply.into(),
                window: TimeWindow {
                    start: t(0, 0),
                    end: t(0, 0),
                    weekdays: Some(vec![
                        Weekday::Monday,
                        Weekday::Tuesday,
                        Weekday::Wednesday,
                        Weekday::Thursday,
                        Weekday::Friday,
                    ]),
                },
            }],
        };
        let advice = conflicts(&with_templates(&[100, 101]), &[weekend, weekdays]);
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].severity, Severity::Critical);
    }

    #[test]
    fn several_members_and_permissions_collapse_into_one_advice_per_pair() {
        let a = template(
            100,
            "Night",
            PermissionSet::EMPTY,
            vec![rule(
                PermissionSet::from([Reply, ApplyLabels]),
                t(23, 0),
                t(7, 0),
            )],
        );
        let b = template(
            101,
            "Day",
            PermissionSet::EMPTY,
            vec![rule(
                PermissionSet::from([Reply, ApplyLabels]),
                t(7, 0),
                t(23, 0),
            )],
        );
        let mut ms = with_templates(&[100, 101]);
        let mut second = preset(11, "Bea", Preset::Standard);
        second.templates = vec![id(101), id(100)];
        ms.push(second);
        let advice = conflicts(&ms, &[a, b]);
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].member_ids, [id(10), id(11)], "Agent, Bea");
        assert_eq!(
            advice[0].permissions,
            PermissionSet::from([Reply, ApplyLabels])
        );
        assert_eq!(advice[0].params["permissions"], "Reply, Apply labels");
    }

    #[test]
    fn unknown_template_ids_are_ignored() {
        assert!(conflicts(&with_templates(&[999]), &[]).is_empty());
    }

    #[test]
    fn advice_serializes_with_stable_codes_and_fix_shape() {
        let ms = vec![preset(1, "Owner", Preset::Admin)];
        let advice = advise(&ms, &[]);
        let v = serde_json::to_value(&advice).unwrap();
        assert_eq!(v[0]["code"], "delete_and_broadcast");
        assert_eq!(v[0]["severity"], "warning");
        assert_eq!(
            v[0]["fixes"][0],
            serde_json::json!({"remove_toggles": {"member_id": id(1), "permissions": ["delete_history"]}})
        );
        assert_eq!(v[1]["code"], "too_few_admins");
        for (c, s) in [
            (AdviceCode::TooManyBroadcasters, "too_many_broadcasters"),
            (AdviceCode::TooManyDataEditors, "too_many_data_editors"),
            (AdviceCode::TooManyDeleters, "too_many_deleters"),
            (AdviceCode::DeleteAndBroadcast, "delete_and_broadcast"),
            (AdviceCode::TooFewAdmins, "too_few_admins"),
            (AdviceCode::TemplateConflict, "template_conflict"),
        ] {
            assert_eq!(c.as_str(), s);
            assert_eq!(serde_json::to_value(c).unwrap(), s);
        }
    }

    // --- week sets ------------------------------------------------------------------

    #[test]
    fn week_set_algebra() {
        let w = WeekSet::of(&TimeWindow::daily(t(23, 0), t(7, 0)));
        // Sunday 23:00 runs into Monday 07:00.
        assert!(w.contains(0));
        assert!(w.contains(7 * 3600 - 1));
        assert!(!w.contains(7 * 3600));
        assert!(w.contains(WEEK - 1));
        assert_eq!(w.union(&w.complement()), WeekSet::full());
        assert!(w.intersect(&w.complement()).is_empty());
        assert_eq!(WeekSet::full().complement(), WeekSet::empty());
        assert_eq!(WeekSet::empty().complement(), WeekSet::full());
        let never = TimeWindow {
            start: t(1, 0),
            end: t(2, 0),
            weekdays: Some(vec![]),
        };
        assert!(WeekSet::of(&never).is_empty());
        let all_day = WeekSet::of(&TimeWindow::daily(t(5, 0), t(5, 0)));
        assert_eq!(all_day, WeekSet::full());
    }

    fn arb_window() -> impl Strategy<Value = TimeWindow> {
        (
            0i8..24,
            0i8..60,
            0i8..24,
            0i8..60,
            proptest::option::of(proptest::collection::vec(0i8..7, 0..7)),
        )
            .prop_map(|(sh, sm, eh, em, days)| TimeWindow {
                start: Time::constant(sh, sm, 0, 0),
                end: Time::constant(eh, em, 0, 0),
                weekdays: days.map(|ds| {
                    ds.into_iter()
                        .map(|d| Weekday::from_monday_zero_offset(d).unwrap())
                        .collect()
                }),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The week model agrees with `TimeWindow::contains` at every probed moment
        /// (UTC, starting Monday 2025-01-06 00:00).
        #[test]
        fn week_set_matches_time_window(w in arb_window(), probes in proptest::collection::vec(0u32..WEEK, 50)) {
            let set = WeekSet::of(&w);
            let monday: jiff::Timestamp = "2025-01-06T00:00:00Z".parse().unwrap();
            for s in probes {
                let at = monday.checked_add(jiff::SignedDuration::from_secs(i64::from(s))).unwrap();
                prop_assert_eq!(set.contains(s), w.contains(at, &jiff::tz::TimeZone::UTC), "second {}", s);
            }
        }

        /// Capabilities agree with `mask_at`: a permission is kept iff some moment of the
        /// week has it in every template's mask.
        #[test]
        fn capabilities_match_mask_at_every_minute_of_the_week(
            w1 in arb_window(), w2 in arb_window(), deny in 0u32..4
        ) {
            let perms = [Reply, SendBroadcasts];
            let a = template(100, "A", if deny & 1 == 1 { Reply.into() } else { PermissionSet::EMPTY },
                vec![WindowRule { permissions: Reply.into(), window: w1 }]);
            let b = template(101, "B", if deny & 2 == 2 { SendBroadcasts.into() } else { PermissionSet::EMPTY },
                vec![WindowRule { permissions: PermissionSet::from(perms), window: w2 }]);
            let m = MemberAccess { templates: vec![id(100), id(101)], ..member(1, "M", PermissionSet::from(perms)) };
            let can = capabilities(&m, &[&a, &b]);
            let monday: jiff::Timestamp = "2025-01-06T00:00:00Z".parse().unwrap();
            for p in perms {
                // Windows start and end on whole minutes: probing each minute is exact.
                let sometime = (0..WEEK / 60).any(|i| {
                    let at = monday.checked_add(jiff::SignedDuration::from_mins(i64::from(i))).unwrap();
                    let tz = jiff::tz::TimeZone::UTC;
                    a.mask_at(at, &tz).intersect(b.mask_at(at, &tz)).contains(p)
                });
                prop_assert_eq!(can.contains(p), sometime, "{}", p);
            }
        }
    }
}

//! Choosing a member for a conversation: round robin and least-loaded, only among members
//! who are online and under capacity, with the overflow and VIP rules on top.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A team, e.g. logistics. Member order is the round-robin order.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AutomationTeam.ts"))]
pub struct Team {
    pub id: String,
    pub name: String,
    pub members: Vec<MemberLoad>,
}

/// A member as assignment sees them right now (the relay fills this from presence and the
/// inbox counts).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "MemberLoad.ts"))]
pub struct MemberLoad {
    pub id: String,
    pub online: bool,
    /// Most open conversations this member takes; `assigned >= capacity` is full.
    pub capacity: u32,
    /// Open conversations assigned to them.
    pub assigned: u32,
    /// Of those, conversations waiting for their reply.
    pub waiting: u32,
    /// Receives VIP customers.
    #[serde(default)]
    pub senior: bool,
}

impl MemberLoad {
    /// Online and under capacity: the only members assignment may pick.
    pub fn available(&self) -> bool {
        self.online && self.assigned < self.capacity
    }
}

/// The overflow and VIP settings (both settable; defaults from issue 8).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "AssignmentPolicy.ts")
)]
#[serde(default)]
pub struct AssignmentPolicy {
    /// A member with MORE than this many waiting puts the team in overflow…
    pub overflow_above: u32,
    /// …and new conversations then go only to members with FEWER than this many waiting.
    pub overflow_below: u32,
    /// The contact attribute holding the customer's spend (a number).
    pub vip_attribute: String,
    /// Spend above this makes a VIP, who goes to senior members; `None` switches VIP off.
    pub vip_above: Option<f64>,
}

impl Default for AssignmentPolicy {
    fn default() -> Self {
        AssignmentPolicy {
            overflow_above: 15,
            overflow_below: 5,
            vip_attribute: "monthly_spend_usd".into(),
            vip_above: Some(500.0),
        }
    }
}

/// Round-robin cursors: per team, the member who got the last conversation. The relay
/// stores it and passes it back in; the engine never keeps state.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "RoundRobinState.ts")
)]
pub struct RoundRobinState {
    pub last: BTreeMap<String, String>,
}

/// How to pick inside the team.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AssignStrategy.ts"))]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    RoundRobin,
    LeastLoaded,
}

/// The outcome of a pick, with why, for the dry run.
#[derive(Clone, PartialEq, Debug)]
pub struct Pick {
    /// `None`: nobody is available; the conversation waits in the team's queue.
    pub member: Option<String>,
    pub notes: Vec<String>,
}

/// Picks a member of `team` for a new conversation.
///
/// 1. Candidates are members online and under capacity.
/// 2. VIP (`vip`): only senior candidates, if any is available; otherwise everyone, noted.
/// 3. Overflow: when any member of the team has more than `overflow_above` waiting, only
///    candidates with fewer than `overflow_below` waiting; if none, candidates not above
///    `overflow_above`; if none, nobody.
/// 4. Round robin: the first candidate after the last one picked, in team order; least
///    loaded: fewest waiting, then fewest assigned, then team order.
///
/// `state` is updated only when round robin picks someone.
pub fn pick_member(
    team: &Team,
    strategy: Strategy,
    policy: &AssignmentPolicy,
    vip: bool,
    state: &mut RoundRobinState,
) -> Pick {
    let mut notes = Vec::new();
    let mut candidates: Vec<(usize, &MemberLoad)> = team
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.available())
        .collect();
    if candidates.is_empty() {
        notes.push(format!(
            "no member of {} is online and under capacity",
            team.name
        ));
        return Pick {
            member: None,
            notes,
        };
    }
    if vip {
        if candidates.iter().any(|(_, m)| m.senior) {
            candidates.retain(|(_, m)| m.senior);
            notes.push("VIP customer: senior members only".into());
        } else {
            notes.push("VIP customer but no senior member available: any member".into());
        }
    }
    if let Some(busy) = team
        .members
        .iter()
        .find(|m| m.waiting > policy.overflow_above)
    {
        let light: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|(_, m)| m.waiting < policy.overflow_below)
            .collect();
        if light.is_empty() {
            candidates.retain(|(_, m)| m.waiting <= policy.overflow_above);
            notes.push(format!(
                "overflow ({} has {} waiting) but nobody has fewer than {}",
                busy.id, busy.waiting, policy.overflow_below
            ));
        } else {
            candidates = light;
            notes.push(format!(
                "overflow ({} has {} waiting): members with fewer than {} waiting",
                busy.id, busy.waiting, policy.overflow_below
            ));
        }
        if candidates.is_empty() {
            return Pick {
                member: None,
                notes,
            };
        }
    }
    let chosen = match strategy {
        Strategy::LeastLoaded => candidates
            .iter()
            .min_by_key(|(i, m)| (m.waiting, m.assigned, *i))
            .map(|(_, m)| m.id.clone()),
        Strategy::RoundRobin => {
            let last = state
                .last
                .get(&team.id)
                .and_then(|id| team.members.iter().position(|m| &m.id == id));
            let after = |i: usize| last.is_none_or(|l| i > l);
            let next = candidates
                .iter()
                .find(|(i, _)| after(*i))
                .or_else(|| candidates.first())
                .map(|(_, m)| m.id.clone());
            if let Some(id) = &next {
                state.last.insert(team.id.clone(), id.clone());
            }
            next
        }
    };
    Pick {
        member: chosen,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn member(id: &str, waiting: u32) -> MemberLoad {
        MemberLoad {
            id: id.into(),
            online: true,
            capacity: 30,
            assigned: waiting,
            waiting,
            senior: false,
        }
    }

    fn team(members: Vec<MemberLoad>) -> Team {
        Team {
            id: "logistics".into(),
            name: "Logistics".into(),
            members,
        }
    }

    #[test]
    fn round_robin_cycles_and_skips_unavailable() {
        let mut t = team(vec![member("a", 1), member("b", 1), member("c", 1)]);
        t.members[1].online = false;
        let mut s = RoundRobinState::default();
        let p = AssignmentPolicy::default();
        let picks: Vec<_> = (0..4)
            .map(|_| {
                pick_member(&t, Strategy::RoundRobin, &p, false, &mut s)
                    .member
                    .expect("pick")
            })
            .collect();
        assert_eq!(picks, ["a", "c", "a", "c"]);
        t.members[2].assigned = 30;
        assert_eq!(
            pick_member(&t, Strategy::RoundRobin, &p, false, &mut s)
                .member
                .as_deref(),
            Some("a")
        );
    }

    #[test]
    fn least_loaded_picks_fewest_waiting() {
        let t = team(vec![member("a", 4), member("b", 2), member("c", 2)]);
        let mut s = RoundRobinState::default();
        let pick = pick_member(
            &t,
            Strategy::LeastLoaded,
            &AssignmentPolicy::default(),
            false,
            &mut s,
        );
        assert_eq!(pick.member.as_deref(), Some("b"));
        assert!(s.last.is_empty());
    }

    #[test]
    fn seed_member_with_16_waiting_sends_next_to_member_under_5() {
        // Round robin would give it to "busy" next (it follows "mid").
        let t = team(vec![
            member("mid", 8),
            member("busy", 16),
            member("light", 3),
        ]);
        let mut s = RoundRobinState::default();
        s.last.insert("logistics".into(), "mid".into());
        let pick = pick_member(
            &t,
            Strategy::RoundRobin,
            &AssignmentPolicy::default(),
            false,
            &mut s,
        );
        assert_eq!(pick.member.as_deref(), Some("light"));
        assert!(pick.notes[0].contains("overflow"), "{:?}", pick.notes);
        // The thresholds are settable: with overflow above 20 round robin is untouched.
        let relaxed = AssignmentPolicy {
            overflow_above: 20,
            ..AssignmentPolicy::default()
        };
        s.last.insert("logistics".into(), "mid".into());
        let pick = pick_member(&t, Strategy::RoundRobin, &relaxed, false, &mut s);
        assert_eq!(pick.member.as_deref(), Some("busy"));
    }

    #[test]
    fn overflow_without_light_members_avoids_the_overloaded() {
        let t = team(vec![member("a", 16), member("b", 9)]);
        let mut s = RoundRobinState::default();
        let pick = pick_member(
            &t,
            Strategy::RoundRobin,
            &AssignmentPolicy::default(),
            false,
            &mut s,
        );
        assert_eq!(pick.member.as_deref(), Some("b"));
        let t = team(vec![member("a", 16)]);
        let pick = pick_member(
            &t,
            Strategy::RoundRobin,
            &AssignmentPolicy::default(),
            false,
            &mut s,
        );
        assert_eq!(pick.member, None);
    }

    #[test]
    fn vip_goes_to_seniors_when_one_is_available() {
        let mut t = team(vec![member("junior", 0), member("senior", 6)]);
        t.members[1].senior = true;
        let mut s = RoundRobinState::default();
        let p = AssignmentPolicy::default();
        let pick = pick_member(&t, Strategy::LeastLoaded, &p, true, &mut s);
        assert_eq!(pick.member.as_deref(), Some("senior"));
        t.members[1].online = false;
        let pick = pick_member(&t, Strategy::LeastLoaded, &p, true, &mut s);
        assert_eq!(pick.member.as_deref(), Some("junior"));
        assert!(pick.notes[0].contains("no senior"));
    }
}

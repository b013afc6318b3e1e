//! Conversation access rules: view, claim, assign, send (with take-over), require, and the
//! refusals' codes and wording.

use teamline_core::access::{
    Actor, ConversationAccess, Denied, can_assign, can_claim, can_send, can_view, require,
};
use teamline_core::{Permission, PermissionSet, Preset};
use uuid::Uuid;

use Permission::*;

const ME: Uuid = Uuid::from_u128(0xa11ce);
const OTHER: Uuid = Uuid::from_u128(0xb0b);
const LOGISTICS: Uuid = Uuid::from_u128(0x10);
const AFTER_SALES: Uuid = Uuid::from_u128(0x20);

fn actor(permissions: PermissionSet) -> Actor {
    Actor {
        member_id: ME,
        teams: vec![LOGISTICS],
        permissions,
    }
}

fn preset(p: Preset) -> Actor {
    actor(p.permissions())
}

fn conv(assignee: Option<Uuid>, team: Option<Uuid>) -> ConversationAccess {
    ConversationAccess { assignee, team }
}

/// The kinds of conversation the rules distinguish, from the actor's point of view.
fn mine() -> ConversationAccess {
    conv(Some(ME), Some(LOGISTICS))
}
fn others_in_my_team() -> ConversationAccess {
    conv(Some(OTHER), Some(LOGISTICS))
}
fn my_team_queue() -> ConversationAccess {
    conv(None, Some(LOGISTICS))
}
fn other_team_queue() -> ConversationAccess {
    conv(None, Some(AFTER_SALES))
}
fn no_team_unassigned() -> ConversationAccess {
    conv(None, None)
}

#[test]
fn visibility_per_preset() {
    // (preset, mine, other's in my team, my team queue, other team queue, no team)
    let table = [
        (Preset::Admin, [true, true, true, true, true]),
        (Preset::Supervisor, [true, true, true, true, true]),
        (Preset::Standard, [true, false, true, false, false]),
        (Preset::Restricted, [true, false, false, false, false]),
    ];
    for (p, expected) in table {
        let a = preset(p);
        let actual = [
            can_view(&a, &mine()),
            can_view(&a, &others_in_my_team()),
            can_view(&a, &my_team_queue()),
            can_view(&a, &other_team_queue()),
            can_view(&a, &no_team_unassigned()),
        ];
        assert_eq!(actual, expected, "{p}");
    }
}

#[test]
fn restricted_member_in_a_team_does_not_see_the_team_queue() {
    let restricted = preset(Preset::Restricted);
    assert_eq!(restricted.teams, [LOGISTICS]);
    assert!(!can_view(&restricted, &my_team_queue()));
    assert_eq!(
        can_claim(&restricted, &my_team_queue()),
        Err(Denied::NotVisible)
    );
    assert_eq!(
        can_send(&restricted, &my_team_queue(), None),
        Err(Denied::NotVisible)
    );
    // Once assigned to them it appears, and they may answer.
    assert!(can_view(&restricted, &mine()));
    assert_eq!(can_send(&restricted, &mine(), None), Ok(()));
}

#[test]
fn team_queue_needs_membership_and_the_toggle() {
    let queue_only = actor(PermissionSet::from([ViewTeamQueue]));
    assert!(can_view(&queue_only, &my_team_queue()));
    assert!(!can_view(&queue_only, &other_team_queue()));
    assert!(!can_view(&queue_only, &no_team_unassigned()));
    // A team's conversation assigned to a colleague leaves the queue for them.
    assert!(!can_view(&queue_only, &others_in_my_team()));
    let teamless = Actor {
        teams: vec![],
        ..preset(Preset::Standard)
    };
    assert!(!can_view(&teamless, &my_team_queue()));
    let two_teams = Actor {
        teams: vec![LOGISTICS, AFTER_SALES],
        ..preset(Preset::Standard)
    };
    assert!(can_view(&two_teams, &other_team_queue()));
}

#[test]
fn the_assignee_sees_their_conversation_whatever_their_toggles() {
    let nothing = actor(PermissionSet::EMPTY);
    assert!(can_view(&nothing, &mine()));
    assert!(can_view(&nothing, &conv(Some(ME), None)));
    assert!(!can_view(&nothing, &my_team_queue()));
}

#[test]
fn claiming() {
    assert_eq!(
        can_claim(&preset(Preset::Standard), &my_team_queue()),
        Ok(())
    );
    assert_eq!(
        can_claim(&preset(Preset::Supervisor), &no_team_unassigned()),
        Ok(())
    );
    assert_eq!(
        can_claim(&preset(Preset::Standard), &other_team_queue()),
        Err(Denied::NotVisible)
    );
    // Seeing the queue is not enough: claiming is for answering.
    assert_eq!(
        can_claim(
            &actor(PermissionSet::from([ViewTeamQueue])),
            &my_team_queue()
        ),
        Err(Denied::Missing(Reply))
    );
    // The loser of a race learns who owns it.
    assert_eq!(
        can_claim(&preset(Preset::Supervisor), &others_in_my_team()),
        Err(Denied::AlreadyAssigned { assignee: OTHER })
    );
    assert_eq!(
        can_claim(&preset(Preset::Standard), &mine()),
        Err(Denied::AlreadyAssigned { assignee: ME })
    );
    // Without view-all, somebody else's conversation is simply invisible (no owner leaked).
    assert_eq!(
        can_claim(&preset(Preset::Standard), &others_in_my_team()),
        Err(Denied::NotVisible)
    );
}

#[test]
fn assigning() {
    let sup = preset(Preset::Supervisor);
    for c in [
        mine(),
        others_in_my_team(),
        my_team_queue(),
        other_team_queue(),
        no_team_unassigned(),
    ] {
        assert_eq!(can_assign(&sup, &c), Ok(()), "{c:?}");
    }
    let std = preset(Preset::Standard);
    assert_eq!(
        can_assign(&std, &my_team_queue()),
        Err(Denied::Missing(AssignTransfer))
    );
    assert_eq!(
        can_assign(&std, &mine()),
        Err(Denied::Missing(AssignTransfer))
    );
    assert_eq!(
        can_assign(&std, &others_in_my_team()),
        Err(Denied::NotVisible)
    );
    // Assign without view-all: only within what they see.
    let dispatcher = actor(PermissionSet::from([ViewTeamQueue, AssignTransfer]));
    assert_eq!(can_assign(&dispatcher, &my_team_queue()), Ok(()));
    assert_eq!(
        can_assign(&dispatcher, &other_team_queue()),
        Err(Denied::NotVisible)
    );
}

#[test]
fn sending_as_the_assignee_needs_reply() {
    assert_eq!(can_send(&preset(Preset::Restricted), &mine(), None), Ok(()));
    // A reason given by the assignee is irrelevant.
    assert_eq!(
        can_send(&preset(Preset::Standard), &mine(), Some("")),
        Ok(())
    );
    assert_eq!(
        can_send(
            &actor(PermissionSet::from([ViewAllConversations])),
            &mine(),
            None
        ),
        Err(Denied::Missing(Reply))
    );
}

#[test]
fn unassigned_conversations_must_be_claimed_first() {
    for p in Preset::ALL {
        let a = preset(p);
        let expected = if can_view(&a, &my_team_queue()) {
            Denied::NotAssigned
        } else {
            Denied::NotVisible
        };
        assert_eq!(
            can_send(&a, &my_team_queue(), Some("covering")),
            Err(expected),
            "{p}"
        );
    }
    assert_eq!(
        can_send(&preset(Preset::Admin), &no_team_unassigned(), None),
        Err(Denied::NotAssigned)
    );
}

#[test]
fn taking_over_needs_the_permission_and_a_real_reason() {
    let sup = preset(Preset::Supervisor);
    let theirs = others_in_my_team();
    assert_eq!(can_send(&sup, &theirs, Some("Ana is off sick")), Ok(()));
    assert_eq!(can_send(&sup, &theirs, Some("  ok  ")), Ok(()));
    assert_eq!(can_send(&sup, &theirs, None), Err(Denied::ReasonRequired));
    assert_eq!(
        can_send(&sup, &theirs, Some("")),
        Err(Denied::ReasonRequired)
    );
    assert_eq!(
        can_send(&sup, &theirs, Some(" \t\n ")),
        Err(Denied::ReasonRequired)
    );

    // Sees everything but may not take over: told who owns it.
    let watcher = actor(PermissionSet::from([ViewAllConversations, Reply]));
    assert_eq!(
        can_send(&watcher, &theirs, Some("urgent")),
        Err(Denied::AssignedToOther { assignee: OTHER })
    );
    // Take-over without Reply (e.g. outside a reply window) does not allow sending.
    let no_reply = actor(PermissionSet::from([ViewAllConversations, TakeOver]));
    assert_eq!(
        can_send(&no_reply, &theirs, Some("urgent")),
        Err(Denied::Missing(Reply))
    );
    // Without view-all the conversation is not even visible.
    let blind = actor(PermissionSet::from([Reply, TakeOver, ViewTeamQueue]));
    assert_eq!(
        can_send(&blind, &theirs, Some("urgent")),
        Err(Denied::NotVisible)
    );
}

#[test]
fn require_checks_one_permission() {
    let std = preset(Preset::Standard);
    assert_eq!(require(&std, ApplyLabels), Ok(()));
    assert_eq!(
        require(&std, ExportHistory),
        Err(Denied::Missing(ExportHistory))
    );
    for p in Permission::ALL {
        assert_eq!(require(&preset(Preset::Admin), p), Ok(()));
        assert_eq!(
            require(&actor(PermissionSet::EMPTY), p),
            Err(Denied::Missing(p))
        );
    }
}

#[test]
fn refusals_have_stable_codes_and_english_messages() {
    let cases = [
        (
            Denied::Missing(ExportHistory),
            "permission_denied",
            "You are not allowed to export history.",
        ),
        (
            Denied::NotVisible,
            "not_visible",
            "You cannot see this conversation.",
        ),
        (
            Denied::AssignedToOther { assignee: OTHER },
            "assigned_to_other",
            "This conversation is assigned to another member (00000000-0000-0000-0000-000000000b0b), and you are not allowed to take over conversations.",
        ),
        (
            Denied::ReasonRequired,
            "reason_required",
            "Give a reason to take over a conversation assigned to another member.",
        ),
        (
            Denied::AlreadyAssigned { assignee: OTHER },
            "already_assigned",
            "This conversation is already assigned (to member 00000000-0000-0000-0000-000000000b0b); only an unassigned conversation can be claimed.",
        ),
        (
            Denied::NotAssigned,
            "not_assigned",
            "This conversation is not assigned to anyone; claim it before replying.",
        ),
    ];
    for (denied, code, message) in cases {
        assert_eq!(denied.code(), code);
        assert_eq!(denied.to_string(), message);
    }
    assert_eq!(
        Denied::Missing(Reply).to_string(),
        "You are not allowed to reply to conversations."
    );
    // It is a std error, so `?` into anyhow/thiserror works on the relay and client.
    let boxed: Box<dyn std::error::Error> = Box::new(Denied::NotVisible);
    assert_eq!(boxed.to_string(), "You cannot see this conversation.");
}

#[test]
fn actor_and_conversation_serialize_for_ipc() {
    let a = actor(PermissionSet::from([Reply]));
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["permissions"], serde_json::json!(["reply"]));
    assert_eq!(serde_json::from_value::<Actor>(v).unwrap(), a);
    let c = my_team_queue();
    assert_eq!(
        serde_json::from_value::<ConversationAccess>(serde_json::to_value(c).unwrap()).unwrap(),
        c
    );
}

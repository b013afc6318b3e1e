//! Team, devices and permissions on the relay: PIN lockout, device cap, idle flags and
//! auto-unlink, deactivation, shared devices, enforcement in the stream.

mod common;
mod team_env;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use common::{Device, Sse, SseMsg};
use team_env::*;

/// Reads SSE messages until one of `kind` arrives; returns it and everything before it.
async fn until_kind(sse: &mut Sse, kind: &str) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let msg: SseMsg = sse.next().await.expect("stream open");
        if msg.id.is_none() {
            continue;
        }
        let v: Value = serde_json::from_str(&msg.data).unwrap();
        if v["kind"] == kind {
            return (v, before);
        }
        before.push(v);
    }
}

#[tokio::test]
async fn five_wrong_pins_lock_sensitive_actions_for_15_minutes_and_alert_admins() {
    let (t, root) = start().await;
    let boss = member(&t, &root, "Boss", "admin", &[]).await;
    let boss_dev = link(&t, &root, Some(boss), "admin", "boss laptop").await;
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "PUT",
        "/v1/team/settings",
        None,
        Some(json!({"device_cap": 30})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("pin_required"))
    );
    for i in 1..=4 {
        let (s, v) = call(
            &t,
            &boss_dev.token,
            "PUT",
            "/v1/team/settings",
            Some("999999"),
            Some(json!({"device_cap": 30})),
        )
        .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (403, Some("pin_invalid")),
            "attempt {i}: {v}"
        );
    }
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "PUT",
        "/v1/team/settings",
        Some("999999"),
        Some(json!({"device_cap": 30})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (423, Some("pin_locked")),
        "{v}"
    );
    // Even the right PIN is refused while locked; non-sensitive routes still work.
    let (s, _) = call(
        &t,
        &boss_dev.token,
        "PUT",
        "/v1/team/settings",
        Some(MEMBER_PIN),
        Some(json!({"device_cap": 30})),
    )
    .await;
    assert_eq!(s.as_u16(), 423);
    let (s, _) = call(&t, &boss_dev.token, "GET", "/v1/team/settings", None, None).await;
    assert_eq!(s.as_u16(), 200);
    // The admins see a security alert naming the member.
    let events = t.collect(&root, 0, 1).await;
    let (s, all) = t.get(&root, "/v1/events?after=0&limit=500").await;
    assert_eq!(s, 200);
    assert!(!events.is_empty());
    let alert = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "security.alert")
        .expect("security.alert");
    assert_eq!(alert["payload"]["member_id"], json!(boss));
    assert_eq!(alert["payload"]["reason"], "pin_lockout");
    assert!(
        !alert.to_string().contains("999999"),
        "the PIN never leaves the relay"
    );
    // 15 minutes later the right PIN works again.
    t.clock.advance(Duration::from_secs(15 * 60 + 1));
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "PUT",
        "/v1/team/settings",
        Some(MEMBER_PIN),
        Some(json!({"device_cap": 30})),
    )
    .await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(v["device_cap"], 30);
}

#[tokio::test]
async fn the_device_cap_refuses_a_claim_with_409_until_a_device_is_unlinked() {
    let (t, root) = start().await;
    admin(
        &t,
        &root,
        "PUT",
        "/v1/team/settings",
        json!({"device_cap": 2}),
    )
    .await;
    let second = link(&t, &root, None, "standard", "second").await;
    let (_, code) = call(
        &t,
        &root.token,
        "POST",
        "/v1/pairing/codes",
        None,
        Some(json!({"level": {"preset": "standard"}})),
    )
    .await;
    let code = code["code"].as_str().unwrap().to_owned();
    let resp = t.claim(&code, "third").await;
    assert_eq!(resp.status(), 409);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "device_cap_reached");
    assert!(v["message"].as_str().unwrap().contains('2'));
    admin(
        &t,
        &root,
        "POST",
        &format!("/v1/devices/{}/revoke", second.device_id),
        json!({}),
    )
    .await;
    // The code was not spent by the refusal.
    assert_eq!(t.claim(&code, "third").await.status(), 200);
    let (_, list) = t.get(&root, "/v1/devices").await;
    assert_eq!(list["device_cap"], 2);
    assert_eq!(list["devices"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn idle_devices_are_flagged_after_72h_and_auto_unlinked_after_7_days_when_enabled() {
    let (t, root) = start().await;
    let quiet = link(&t, &root, None, "standard", "quiet").await;
    let device = |list: &Value, id: Uuid| {
        list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == json!(id))
            .unwrap()
            .clone()
    };
    let (_, list) = t.get(&root, "/v1/devices").await;
    assert_eq!(device(&list, quiet.device_id)["idle"], false);
    let d = device(&list, quiet.device_id);
    for key in [
        "name",
        "os",
        "os_version",
        "app_version",
        "linked_at",
        "last_seen",
        "last_address",
        "level",
        "signed_in_member_id",
    ] {
        assert!(!d[key].is_null(), "{key} in {d}");
    }
    t.clock.advance(Duration::from_secs(73 * 3600));
    let (_, list) = t.get(&root, "/v1/devices").await;
    assert_eq!(device(&list, quiet.device_id)["idle"], true);
    // The admin's device was just seen (last-seen is recorded off the request path).
    let mut seen = false;
    for _ in 0..100 {
        let (_, list) = t.get(&root, "/v1/devices").await;
        if device(&list, root.device_id)["idle"] == false {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen, "the admin's device was just seen");
    // Disabled by default: nothing is unlinked even after 8 days.
    t.clock.advance(Duration::from_secs(6 * 24 * 3600));
    assert!(
        teamline_relay::team::unlink_idle_now(t.relay.state())
            .await
            .unwrap()
            .is_empty()
    );
    admin(
        &t,
        &root,
        "PUT",
        "/v1/team/settings",
        json!({"auto_unlink_idle": true}),
    )
    .await;
    let unlinked = teamline_relay::team::unlink_idle_now(t.relay.state())
        .await
        .unwrap();
    assert_eq!(unlinked, vec![quiet.device_id]);
    let (s, v) = t.get(&quiet, "/v1/me").await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (401, Some("device_unlinked"))
    );
    let (_, audit) = t.get(&root, "/v1/team/audit").await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "audit.device_unlinked")
        .unwrap()
        .clone();
    assert!(
        entry["actor_member_id"].is_null(),
        "done by the relay itself: {entry}"
    );
}

#[tokio::test]
async fn a_deactivated_members_devices_get_401_and_their_streams_end() {
    let (t, root) = start().await;
    let m = member(&t, &root, "Leaver", "standard", &[]).await;
    let d = link(&t, &root, Some(m), "standard", "leaver laptop").await;
    let mut sse = Sse::connect(&t.http, &t.url, &d.token, Some(t.head().await))
        .await
        .unwrap();
    admin(
        &t,
        &root,
        "POST",
        &format!("/v1/team/members/{m}/deactivate"),
        json!({}),
    )
    .await;
    loop {
        let msg = sse.next().await.expect("a final event");
        if msg.event.as_deref() == Some("device_unlinked") {
            break;
        }
    }
    assert!(sse.next().await.is_none(), "stream closed");
    let (s, v) = t.get(&d, "/v1/me").await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (401, Some("member_deactivated"))
    );
    // Never hard-deleted: still listed, inactive, with an audit entry (before/after).
    let (_, members) = t.get(&root, "/v1/team/members").await;
    let row = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(m))
        .unwrap()
        .clone();
    assert_eq!(row["active"], false);
    let (_, audit) = t.get(&root, "/v1/team/audit").await;
    let e = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "audit.member_deactivated")
        .unwrap()
        .clone();
    assert_eq!(e["before"]["active"], true);
    assert_eq!(e["after"]["active"], false);
    assert_eq!(e["actor_member_id"], json!(root.member_id));
    assert_eq!(e["device_id"], json!(root.device_id));
    assert_eq!(e["address"], "127.0.0.1");
}

#[tokio::test]
async fn a_restricted_member_gains_a_conversations_history_when_it_is_assigned() {
    let (t, root) = start().await;
    let r = member(&t, &root, "Rita", "restricted", &[]).await;
    let rd = link(&t, &root, Some(r), "restricted", "rita laptop").await;
    let mut sse = Sse::connect(&t.http, &t.url, &rd.token, Some(t.head().await))
        .await
        .unwrap();
    let conv = conversation(&t, &root, "31611112222").await;
    let (s, _) = t
        .get(&rd, &format!("/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(s, 404, "not visible before the assignment");
    assign(&t, &root, conv, r).await;
    let (assigned, before) = until_kind(&mut sse, "conversation.assigned").await;
    assert!(
        before.iter().all(|e| e["conversation_id"] != json!(conv)),
        "nothing of it before: {before:?}"
    );
    assert_eq!(assigned["payload"]["backfill"], true);
    assert_eq!(assigned["payload"]["assignee"], json!(r));
    let (s, v) = t
        .get(&rd, &format!("/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["messages"].as_array().unwrap().len(),
        1,
        "the history is there: {v}"
    );
    // Replaying from the start now also yields the conversation's earlier events.
    let (_, all) = t.get(&rd, "/v1/events?after=0&limit=500").await;
    assert!(
        all["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "message.received" && e["conversation_id"] == json!(conv))
    );
}

#[tokio::test]
async fn a_permission_change_stops_the_stream_within_a_second_and_sends_me_changed() {
    let (t, root) = start().await;
    let s_id = member(&t, &root, "Sam", "supervisor", &[]).await;
    let sd = link(&t, &root, Some(s_id), "supervisor", "sam laptop").await;
    let conv = conversation(&t, &root, "31622223333").await;
    let mut sse = Sse::connect(&t.http, &t.url, &sd.token, Some(t.head().await))
        .await
        .unwrap();
    let toggles: Vec<&str> = teamline_core::Preset::Supervisor
        .permissions()
        .without(teamline_core::Permission::ViewAllConversations)
        .without(teamline_core::Permission::ViewTeamQueue)
        .names();
    let started = Instant::now();
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{s_id}"),
        json!({"toggles": toggles}),
    )
    .await;
    let (changed, _) = until_kind(&mut sse, "me.changed").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(changed["payload"]["member_id"], json!(s_id));
    // A new message in the (unassigned) conversation no longer reaches Sam.
    let wamid = format!("wamid.{}", Uuid::now_v7());
    assert_eq!(
        t.post_webhook(common::payloads::text("31622223333", &wamid, "again"))
            .await,
        200
    );
    let (s, _) = t.get(&sd, &format!("/v1/conversations/{conv}")).await;
    assert_eq!(s, 404);
    // Level change: me.changed too; the marker proves nothing of the conversation came.
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/devices/{}", sd.device_id),
        json!({"level": {"preset": "restricted"}}),
    )
    .await;
    let (changed, before) = until_kind(&mut sse, "me.changed").await;
    assert_eq!(changed["payload"]["reason"], "device_level_changed");
    assert!(
        before.iter().all(|e| e["conversation_id"] != json!(conv)),
        "leak: {before:?}"
    );
    let (_, me) = t.get(&sd, "/v1/me").await;
    assert_eq!(me["permissions"], json!(["reply"]));
}

#[tokio::test]
async fn a_template_window_closes_by_itself_and_the_stream_follows() {
    let (t, root) = start().await;
    let hour = jiff::tz::TimeZone::UTC.to_datetime(t.clock.now()).hour() as i32;
    let tpl = admin(&t, &root, "POST", "/v1/team/templates", json!({
        "name": "Day shift",
        "deny": ["export_history"],
        "windows": [{"permissions": ["view_all_conversations", "view_team_queue"],
                     "window": {"start": format!("{:02}:00", (hour + 23) % 24), "end": format!("{:02}:00", (hour + 1) % 24)}}]
    })).await;
    let tpl = tpl["template"]["id"].as_str().unwrap().to_owned();
    let m = member(&t, &root, "Dana", "supervisor", &[tpl.parse().unwrap()]).await;
    let d = link(&t, &root, Some(m), "supervisor", "dana laptop").await;
    let (_, tl) = t.get(&root, "/v1/team/templates").await;
    assert!(tl["templates"][0]["summary"].is_string());
    assert_eq!(tl["templates"][0]["members"], json!([m]));
    let conv = conversation(&t, &root, "31633334444").await;
    let mut sse = Sse::connect(&t.http, &t.url, &d.token, Some(0))
        .await
        .unwrap();
    let (opened, _) = until_kind(&mut sse, "message.received").await;
    assert_eq!(
        opened["conversation_id"],
        json!(conv),
        "inside the window Dana sees it"
    );
    // Nobody acts; the clock leaves the window. The next message is filtered at delivery.
    t.clock.advance(Duration::from_secs(3 * 3600));
    let wamid = format!("wamid.{}", Uuid::now_v7());
    assert_eq!(
        t.post_webhook(common::payloads::text("31633334444", &wamid, "later"))
            .await,
        200
    );
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{m}"),
        json!({}),
    )
    .await; // marker
    let (_, before) = until_kind(&mut sse, "me.changed").await;
    assert!(
        before.iter().all(|e| e["conversation_id"] != json!(conv)),
        "leak: {before:?}"
    );
    let (_, me) = t.get(&d, "/v1/me").await;
    assert!(
        !me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("view_all_conversations"))
    );
}

async fn shared_laptop(t: &common::TestRelay, root: &Device, members: &[Uuid]) -> Device {
    let (s, v) = call(
        t,
        &root.token,
        "POST",
        "/v1/pairing/codes",
        None,
        Some(json!({"level": {"preset": "standard"}, "shared": true, "members": members})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let resp = t.claim(v["code"].as_str().unwrap(), "shift laptop").await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["shared"], true);
    assert!(v["member_id"].is_null());
    Device {
        token: v["token"].as_str().unwrap().to_owned(),
        device_id: v["device_id"].as_str().unwrap().parse().unwrap(),
        member_id: Uuid::nil(),
    }
}

#[tokio::test]
async fn on_a_shared_laptop_members_sign_in_with_their_pin_and_actions_are_theirs() {
    let (t, root) = start().await;
    let a = member(&t, &root, "Ann", "admin", &[]).await;
    let b = member(&t, &root, "Ben", "restricted", &[]).await;
    let outsider = member(&t, &root, "Olga", "standard", &[]).await;
    let laptop = shared_laptop(&t, &root, &[a, b]).await;
    let conv = conversation(&t, &root, "31644445555").await;
    assign(&t, &root, conv, b).await;
    // Signed out: nothing visible, nothing allowed.
    let (_, me) = t.get(&laptop, "/v1/me").await;
    assert_eq!(me["permissions"], json!([]));
    let (_, list) = t.get(&laptop, "/v1/conversations").await;
    assert_eq!(list["conversations"], json!([]));
    let (s, _) = call(
        &t,
        &laptop.token,
        "POST",
        "/v1/session/sign-in",
        None,
        Some(json!({"member_id": outsider, "pin": MEMBER_PIN})),
    )
    .await;
    assert_eq!(s, 403, "not allowed on this laptop");
    let (s, v) = call(
        &t,
        &laptop.token,
        "POST",
        "/v1/session/sign-in",
        None,
        Some(json!({"member_id": a, "pin": "000000"})),
    )
    .await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (403, Some("pin_invalid")));
    let (s, _) = call(
        &t,
        &laptop.token,
        "POST",
        "/v1/session/sign-in",
        None,
        Some(json!({"member_id": a, "pin": MEMBER_PIN})),
    )
    .await;
    assert_eq!(s, 200);
    // Ann is an admin, but the laptop is Standard: the ceiling wins.
    let (_, me) = t.get(&laptop, "/v1/me").await;
    assert_eq!(me["member"]["id"], json!(a));
    assert_eq!(
        me["permissions"],
        serde_json::to_value(teamline_core::Preset::Standard.permissions()).unwrap()
    );
    // Switch to Ben: his note is attributed to him.
    let (s, _) = call(
        &t,
        &laptop.token,
        "POST",
        "/v1/session/sign-in",
        None,
        Some(json!({"member_id": b, "pin": MEMBER_PIN})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = command(
        &t,
        &laptop,
        json!({"type": "add_note", "conversation_id": conv, "text": "on it"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, evs) = t.get(&root, "/v1/events?after=0&limit=500").await;
    let note = evs["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "note.added")
        .unwrap()
        .clone();
    assert_eq!(note["payload"]["note"]["author"], json!(b));
    let (_, devices) = t.get(&root, "/v1/devices").await;
    let row = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == json!(laptop.device_id))
        .unwrap()
        .clone();
    assert_eq!(
        (row["shared"].clone(), row["signed_in_member_id"].clone()),
        (json!(true), json!(b))
    );
    // Sign out: back to nobody.
    let (s, _) = call(
        &t,
        &laptop.token,
        "POST",
        "/v1/session/sign-out",
        None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = t.get(&laptop, &format!("/v1/conversations/{conv}")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn members_groups_and_templates_round_trip_with_summaries_and_audit() {
    let (t, root) = start().await;
    let m = member(&t, &root, "Mo", "standard", &[]).await;
    let g = admin(
        &t,
        &root,
        "POST",
        "/v1/team/groups",
        json!({"name": "Logistics"}),
    )
    .await;
    let gid = g["group"]["id"].as_str().unwrap().to_owned();
    admin(
        &t,
        &root,
        "PUT",
        &format!("/v1/team/groups/{gid}/members/{m}"),
        json!({}),
    )
    .await;
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/groups/{gid}"),
        json!({"name": "After-sales"}),
    )
    .await;
    let (_, groups) = t.get(&root, "/v1/team/groups").await;
    assert_eq!(groups["groups"][0]["name"], "After-sales");
    assert_eq!(groups["groups"][0]["members"], json!([m]));
    admin(
        &t,
        &root,
        "DELETE",
        &format!("/v1/team/groups/{gid}/members/{m}"),
        json!({}),
    )
    .await;
    let v = admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{m}"),
        json!({"name": "Moe", "toggles": ["reply", "export_history"]}),
    )
    .await;
    assert_eq!(v["member"]["name"], "Moe");
    assert_eq!(v["member"]["preset"], "custom");
    assert!(v["member"]["summary"].as_str().unwrap().len() > 5);
    let (_, list) = t.get(&root, "/v1/team/members").await;
    let row = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(m))
        .unwrap()
        .clone();
    assert_eq!(row["permissions"], json!(["export_history", "reply"]));
    assert_eq!(row["has_pin"], true);
    let tpl = admin(
        &t,
        &root,
        "POST",
        "/v1/team/templates",
        json!({"name": "No export", "deny": ["export_history"]}),
    )
    .await;
    let tid = tpl["template"]["id"].as_str().unwrap().to_owned();
    admin(
        &t,
        &root,
        "PUT",
        &format!("/v1/team/templates/{tid}"),
        json!({"name": "No export ever", "deny": ["export_history"]}),
    )
    .await;
    admin(
        &t,
        &root,
        "DELETE",
        &format!("/v1/team/templates/{tid}"),
        json!({}),
    )
    .await;
    let (_, audit) = t.get(&root, "/v1/team/audit?limit=500").await;
    let kinds: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "audit.member_created",
        "audit.member_updated",
        "audit.group_created",
        "audit.group_updated",
        "audit.group_member_added",
        "audit.group_member_removed",
        "audit.template_created",
        "audit.template_updated",
        "audit.template_deleted",
        "audit.device_linked",
        "audit.member_pin_reset",
        "audit.pin_changed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let upd = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "audit.member_updated")
        .unwrap()
        .clone();
    assert_eq!(upd["before"]["name"], "Mo");
    assert_eq!(upd["after"]["name"], "Moe");
    assert!(
        !audit.to_string().contains(MEMBER_PIN),
        "no PIN in the audit log"
    );
}

#[tokio::test]
async fn the_last_member_who_can_manage_the_team_cannot_lose_that_right() {
    let (t, root) = start().await;
    let me: Value = call(&t, &root.token, "GET", "/v1/me", None, None).await.1;
    let root_id = me["member"]["id"].as_str().unwrap().to_owned();
    let demote = json!({"preset": "standard"});
    let (s, v) = call(
        &t,
        &root.token,
        "PATCH",
        &format!("/v1/team/members/{root_id}"),
        Some(ROOT_PIN),
        Some(demote.clone()),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("last_admin")),
        "{v}"
    );
    let still: Value = call(&t, &root.token, "GET", "/v1/me", None, None).await.1;
    assert!(
        still["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("manage_team")),
        "nothing changed: {still}"
    );

    // With a second admin, the first may step down.
    member(&t, &root, "Deputy", "admin", &[]).await;
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{root_id}"),
        demote,
    )
    .await;
}

//! Anomaly alerts and the permission advisor through the real routes: a relay on
//! 127.0.0.1:0 with a real SQLite file, the team in Europe/Madrid, and a clock the tests
//! move (no sleeping: the periodic task's `tick` is called directly).

mod common;
mod team_env;

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use teamline_relay::audit::{self, Ctx};
use teamline_relay::storage::Storage;
use teamline_relay::storage::alerts::AlertQuery;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::{AppSettings, Clock, Relay, alerts, pairing};
use uuid::Uuid;

use common::{Device, TestRelay};
use team_env::*;

fn madrid() -> TimeZone {
    teamline_core::schedule::time_zone("Europe/Madrid").unwrap()
}

/// The first instant after `now` whose Madrid wall-clock time is `h:m` (skipping a day
/// whose DST change leaves that time out).
fn next_local(now: Timestamp, h: i8, m: i8) -> Timestamp {
    let tz = madrid();
    let mut date = tz.to_datetime(now).date();
    loop {
        let wanted = date.at(h, m, 0, 0);
        let at = tz.to_timestamp(wanted).unwrap();
        if at > now && tz.to_datetime(at) == wanted {
            return at;
        }
        date = date.tomorrow().unwrap();
    }
}

/// Moves the clock to `target` or a few milliseconds past it (the clock moves in whole
/// milliseconds and real time keeps running), never before it.
fn advance_to(clock: &Clock, target: Timestamp) {
    let now = clock.now();
    assert!(target > now, "the clock only moves forward");
    let by = Duration::try_from(now.duration_until(target)).unwrap();
    clock.advance(Duration::from_millis(by.as_millis() as u64 + 1));
    assert!(clock.now() >= target);
}

fn advance(clock: &Clock, by: SignedDuration) {
    clock.advance(Duration::try_from(by).unwrap());
}

/// A Madrid relay whose clock reads the next 09:00 (a quiet working hour, so setting up
/// never looks suspicious), with a root admin who has a PIN.
async fn start() -> (TestRelay, Device) {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap());
    let clock = Clock::system();
    advance_to(&clock, next_local(clock.now(), 9, 0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = Relay::start(
        listener,
        Arc::clone(&storage),
        clock.clone(),
        AppSettings {
            app_secret: common::SECRET.into(),
            verify_token: common::VERIFY.into(),
            timezone: madrid(),
            retention: SignedDuration::from_hours(24 * 30),
        },
    )
    .await
    .unwrap();
    let url = relay.base_url();
    let now = clock.now();
    storage
        .write(move |tx| pairing::init_team(tx, "Shop", now))
        .await
        .unwrap();
    let t = TestRelay {
        relay,
        storage,
        clock,
        http: reqwest::Client::new(),
        url,
        dir,
    };
    t.relay.state().pin_cost.set(8, 1);
    let root = t.device("admin", Some("Root")).await;
    let (s, v) = call(
        &t,
        &root.token,
        "PUT",
        "/v1/me/pin",
        None,
        Some(json!({"new_pin": ROOT_PIN})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    (t, root)
}

async fn alerts_list(t: &TestRelay, d: &Device, query: &str) -> Vec<Value> {
    let (s, v) = t.get(d, &format!("/v1/team/alerts{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["alerts"].as_array().unwrap().clone()
}

fn rules(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect()
}

/// Long-polls `d`'s events after `after` until one of `kind` arrives (20 s at most);
/// returns it and the kinds seen before it.
async fn wait_kind(t: &TestRelay, d: &Device, mut after: u64, kind: &str) -> (Value, Vec<String>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {kind} event; saw {seen:?}"
        );
        let (s, v) = t.get(d, &format!("/v1/events?after={after}&wait=5")).await;
        assert_eq!(s, 200, "{v}");
        for ev in v["events"].as_array().unwrap() {
            if ev["kind"] == kind {
                return (ev.clone(), seen);
            }
            seen.push(ev["kind"].as_str().unwrap().to_owned());
        }
        after = v["next"].as_u64().unwrap();
    }
}

/// Every event kind `d` may read after `after`, up to the current head.
async fn kinds_after(t: &TestRelay, d: &Device, mut after: u64) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let (s, v) = t.get(d, &format!("/v1/events?after={after}")).await;
        assert_eq!(s, 200, "{v}");
        let events = v["events"].as_array().unwrap();
        if events.is_empty() {
            return out;
        }
        out.extend(
            events
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_owned()),
        );
        after = v["next"].as_u64().unwrap();
    }
}

async fn set_toggles(t: &TestRelay, root: &Device, member: Uuid, toggles: Value) -> Value {
    admin(
        t,
        root,
        "PATCH",
        &format!("/v1/team/members/{member}"),
        json!({"toggles": toggles}),
    )
    .await
}

#[tokio::test]
async fn a_permission_change_at_22_team_time_raises_one_alert_that_an_admin_acknowledges() {
    let (t, root) = start().await;
    let boss = member(&t, &root, "Boss", "admin", &[]).await;
    let boss_dev = team_env::link(&t, &root, Some(boss), "admin", "boss laptop").await;
    let agent = member(&t, &root, "Agent", "standard", &[]).await;
    assert!(
        alerts_list(&t, &root, "").await.is_empty(),
        "09:00 is quiet"
    );

    advance_to(&t.clock, next_local(t.clock.now(), 22, 0));
    let head = t.head().await;
    set_toggles(&t, &root, agent, json!(["reply", "view_contacts"])).await;

    let open = alerts_list(&t, &root, "?open=true").await;
    assert_eq!(rules(&open), ["permission_change_off_hours"], "{open:?}");
    let a = &open[0];
    assert_eq!(a["acknowledged"], Value::Null);
    assert_eq!(a["facts"]["event"]["type"], "permission_change");
    assert_eq!(a["facts"]["event"]["change"], "member_permissions");
    assert_eq!(a["facts"]["event"]["subject_id"], json!(agent));
    assert_eq!(
        a["facts"]["event"]["actor_member_id"],
        json!(root.member_id)
    );
    assert_eq!(a["facts"]["event"]["address"], "127.0.0.1");
    assert_eq!(a["params"]["local_time"], "22:00");
    assert_eq!(a["params"]["timezone"], "Europe/Madrid");
    assert_eq!(
        a["summary"],
        "Root changed a member's permissions at 22:00 (Europe/Madrid time), outside working hours 08:00–20:00."
    );

    // The other admin's device hears about it on its event stream.
    let (ev, _) = wait_kind(&t, &boss_dev, head, "alert.raised").await;
    assert_eq!(ev["payload"]["alert"]["id"], a["id"]);
    assert_eq!(
        ev["payload"]["alert"]["rule"],
        "permission_change_off_hours"
    );

    let id = a["id"].as_str().unwrap();
    let path = format!("/v1/team/alerts/{id}/ack");
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &path,
        None,
        Some(json!({"comment": "ok"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("pin_required"))
    );
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &path,
        Some(MEMBER_PIN),
        Some(json!({"comment": "  "})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("comment_required"))
    );
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &path,
        Some(MEMBER_PIN),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("comment_required"))
    );
    let head = t.head().await;
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &path,
        Some(MEMBER_PIN),
        Some(json!({"comment": " Root fixed Agent's access after a call. "})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let ack = &v["alert"]["acknowledged"];
    assert_eq!(ack["by"], json!(boss));
    assert_eq!(ack["comment"], "Root fixed Agent's access after a call.");
    assert!(ack["at"].is_string());

    assert!(alerts_list(&t, &root, "?open=true").await.is_empty());
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["acknowledged"], *ack);
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &path,
        Some(MEMBER_PIN),
        Some(json!({"comment": "again"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("already_acknowledged"))
    );
    let (s, v) = call(
        &t,
        &boss_dev.token,
        "POST",
        &format!("/v1/team/alerts/{}/ack", Uuid::now_v7()),
        Some(MEMBER_PIN),
        Some(json!({"comment": "x"})),
    )
    .await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (404, Some("not_found")));

    // Acknowledging is audited and announced to the admins.
    let (ev, _) = wait_kind(&t, &root, head, "alert.acknowledged").await;
    assert_eq!(ev["payload"]["alert"]["acknowledged"], *ack);
    let (_, audit) = t.get(&root, "/v1/team/audit").await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "audit.alert_acknowledged")
        .expect("ack audited");
    assert_eq!(entry["target"]["alert_id"], a["id"]);
    assert_eq!(entry["actor_member_id"], json!(boss));
    assert_eq!(entry["before"]["acknowledged"], Value::Null);
    assert_eq!(entry["after"]["acknowledged"]["comment"], ack["comment"]);
}

#[tokio::test]
async fn a_name_change_late_at_night_is_not_a_permission_change() {
    let (t, root) = start().await;
    let agent = member(&t, &root, "Agent", "standard", &[]).await;
    advance_to(&t.clock, next_local(t.clock.now(), 23, 30));
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{agent}"),
        json!({"name": "Agent Smith"}),
    )
    .await;
    admin(
        &t,
        &root,
        "POST",
        "/v1/team/groups",
        json!({"name": "Night"}),
    )
    .await;
    assert!(alerts_list(&t, &root, "").await.is_empty());
    // A device level change is one.
    let dev = team_env::link(&t, &root, Some(agent), "standard", "agent pc").await;
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/devices/{}", dev.device_id),
        json!({"level": {"preset": "restricted"}}),
    )
    .await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["permission_change_off_hours"]);
    assert_eq!(all[0]["facts"]["event"]["change"], "device_level");
    assert_eq!(all[0]["facts"]["event"]["subject_id"], json!(dev.device_id));
}

#[tokio::test]
async fn three_permission_changes_within_an_hour_raise_a_burst_and_thresholds_take_effect() {
    let (t, root) = start().await;
    let agent = member(&t, &root, "Agent", "standard", &[]).await; // change 1 at 09:00
    advance(&t.clock, SignedDuration::from_mins(61));
    set_toggles(&t, &root, agent, json!(["reply"])).await; // 1 in the window
    advance(&t.clock, SignedDuration::from_mins(30));
    set_toggles(&t, &root, agent, json!(["reply", "apply_labels"])).await; // 2
    assert!(alerts_list(&t, &root, "").await.is_empty());
    advance(&t.clock, SignedDuration::from_mins(29));
    set_toggles(&t, &root, agent, json!(["reply"])).await; // 3 within 59 min
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["permission_change_burst"]);
    assert_eq!(all[0]["params"]["count"], "3");
    assert_eq!(all[0]["params"]["address"], "127.0.0.1");
    assert_eq!(all[0]["facts"]["related_at"].as_array().unwrap().len(), 2);
    // A 4th change does not raise the same burst again.
    set_toggles(&t, &root, agent, json!(["reply", "apply_labels"])).await;
    assert_eq!(alerts_list(&t, &root, "").await.len(), 1);

    // Thresholds: 2 changes are now a burst, and the off-hours rule is off.
    let (s, v) = t.get(&root, "/v1/team/alerts/thresholds").await;
    assert_eq!(s, 200);
    assert_eq!(v["thresholds"]["permission_change_burst"]["count"], 3);
    assert_eq!(v["thresholds"]["pairing_failure_burst"]["count"], 3);
    let patch = json!({"thresholds": {
        "permission_change_burst": {"count": 2},
        "permission_change_off_hours": {"enabled": false}
    }});
    let (s, v) = call(
        &t,
        &root.token,
        "PUT",
        "/v1/team/alerts/thresholds",
        None,
        Some(patch.clone()),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (403, Some("pin_required"))
    );
    let v = admin(&t, &root, "PUT", "/v1/team/alerts/thresholds", patch).await;
    assert_eq!(v["thresholds"]["permission_change_burst"]["count"], 2);
    assert_eq!(
        v["thresholds"]["permission_change_burst"]["window_minutes"], 60,
        "kept"
    );
    assert_eq!(
        v["thresholds"]["permission_change_off_hours"]["enabled"],
        false
    );
    let (_, got) = t.get(&root, "/v1/team/alerts/thresholds").await;
    assert_eq!(got["thresholds"], v["thresholds"]);

    advance_to(&t.clock, next_local(t.clock.now(), 22, 0));
    set_toggles(&t, &root, agent, json!(["reply"])).await;
    assert_eq!(
        alerts_list(&t, &root, "").await.len(),
        1,
        "1 since the last alert"
    );
    advance(&t.clock, SignedDuration::from_mins(5));
    set_toggles(&t, &root, agent, json!(["reply", "apply_labels"])).await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(
        rules(&all),
        ["permission_change_burst", "permission_change_burst"],
        "newest first; no off-hours alert"
    );
    assert_eq!(all[0]["params"]["count"], "2");

    // Invalid thresholds are refused and change nothing.
    for bad in [
        json!({"permission_change_burst": {"count": 1}}),
        json!({"device_idle": {"days": 0}}),
        json!({"device_idle": {"weeks": 2}}),
        json!({"night_sign_in": {"night": {"start": "25:00", "end": "05:00"}}}),
    ] {
        let (s, v) = call(
            &t,
            &root.token,
            "PUT",
            "/v1/team/alerts/thresholds",
            Some(ROOT_PIN),
            Some(json!({"thresholds": bad})),
        )
        .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (400, Some("invalid_request")),
            "{bad} -> {v}"
        );
    }
    let (_, after) = t.get(&root, "/v1/team/alerts/thresholds").await;
    assert_eq!(after["thresholds"], got["thresholds"]);
    let (_, audit) = t.get(&root, "/v1/team/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "audit.alert_thresholds_updated"
                && e["after"]["permission_change_burst"]["count"] == 2)
    );
}

/// A shared device (the shift laptop) for every member.
async fn shared_device(t: &TestRelay, root: &Device) -> Device {
    let (s, v) = call(
        t,
        &root.token,
        "POST",
        "/v1/pairing/codes",
        None,
        Some(json!({"level": {"preset": "standard"}, "shared": true})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let resp = t.claim(v["code"].as_str().unwrap(), "Shift laptop").await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    Device {
        token: v["token"].as_str().unwrap().to_owned(),
        device_id: v["device_id"].as_str().unwrap().parse().unwrap(),
        member_id: Uuid::nil(),
    }
}

async fn sign_in(t: &TestRelay, d: &Device, member: Uuid) {
    let (s, v) = call(
        t,
        &d.token,
        "POST",
        "/v1/session/sign-in",
        None,
        Some(json!({"member_id": member, "pin": MEMBER_PIN})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn a_sign_in_or_member_switch_between_three_and_five_raises_a_night_alert() {
    let (t, root) = start().await;
    let ana = member(&t, &root, "Ana", "standard", &[]).await;
    let bo = member(&t, &root, "Bo", "standard", &[]).await;
    let laptop = shared_device(&t, &root).await;
    sign_in(&t, &laptop, ana).await; // 09:00: fine
    assert!(alerts_list(&t, &root, "").await.is_empty());

    advance_to(&t.clock, next_local(t.clock.now(), 2, 59));
    sign_in(&t, &laptop, bo).await;
    assert!(
        alerts_list(&t, &root, "").await.is_empty(),
        "02:59 is not night"
    );
    advance_to(&t.clock, next_local(t.clock.now(), 4, 0));
    sign_in(&t, &laptop, ana).await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["night_sign_in"]);
    let event = &all[0]["facts"]["event"];
    assert_eq!(event["type"], "sign_in");
    assert_eq!(event["member_id"], json!(ana));
    assert_eq!(event["previous_member_id"], json!(bo));
    assert_eq!(event["device_id"], json!(laptop.device_id));
    assert_eq!(
        all[0]["summary"],
        "Ana switched to their account on Shift laptop at 04:00 (Europe/Madrid time), between 03:00 and 05:00."
    );
    advance_to(&t.clock, next_local(t.clock.now(), 5, 0));
    sign_in(&t, &laptop, bo).await;
    assert_eq!(
        alerts_list(&t, &root, "").await.len(),
        1,
        "05:00 is morning"
    );
}

async fn claim_os(t: &TestRelay, root: &Device, name: &str, os: &str) -> Value {
    let (s, v) = call(
        t,
        &root.token,
        "POST",
        "/v1/pairing/codes",
        None,
        Some(json!({"level": {"preset": "restricted"}, "member_name": name})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let resp = t
        .http
        .post(format!("{}/v1/pairing/claim", t.url))
        .json(&json!({"code": v["code"], "name": format!("{name}'s PC"), "os": os, "os_version": "11", "app_version": "0.1.0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_device_running_an_os_never_seen_in_the_team_raises_an_alert() {
    let (t, root) = start().await; // Root's device runs linux
    claim_os(&t, &root, "Lin", "Linux").await;
    assert!(
        alerts_list(&t, &root, "").await.is_empty(),
        "linux is known"
    );
    let v = claim_os(&t, &root, "Win", "Windows").await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["new_device_os"]);
    assert_eq!(all[0]["facts"]["event"]["device_id"], v["device_id"]);
    assert_eq!(all[0]["params"]["os"], "Windows");
    assert_eq!(all[0]["params"]["who"], "Win");
    claim_os(&t, &root, "Win2", "windows").await;
    assert_eq!(
        alerts_list(&t, &root, "").await.len(),
        1,
        "windows is known now"
    );
}

/// What the audit chain records for a failed pairing claim: an `audit.pairing_failed`
/// entry with the claimer's address, through the same `audit::record` the claim route uses
/// (the test below goes through the route itself).
async fn pairing_failed(t: &TestRelay, address: &str) {
    let ctx = Ctx {
        actor_member_id: None,
        device_id: None,
        address: Some(address.to_owned()),
        now: t.clock.now(),
    };
    t.storage
        .write(move |tx| {
            audit::record(
                tx,
                &ctx,
                alerts::kind::AUDIT_PAIRING_FAILED,
                json!({"address": ctx.address}),
                Value::Null,
                Value::Null,
            )
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_burst_of_failed_pairing_attempts_from_one_address_raises_one_alert() {
    let (t, root) = start().await;
    let head = t.head().await;
    for _ in 0..2 {
        pairing_failed(&t, "203.0.113.9").await;
        pairing_failed(&t, "198.51.100.1").await;
        advance(&t.clock, SignedDuration::from_mins(4));
    }
    assert!(
        alerts_list(&t, &root, "").await.is_empty(),
        "2 each in 8 minutes"
    );
    pairing_failed(&t, "203.0.113.9").await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["pairing_failure_burst"]);
    assert_eq!(all[0]["params"]["address"], "203.0.113.9");
    assert_eq!(all[0]["params"]["count"], "3");
    assert_eq!(all[0]["facts"]["event"]["type"], "pairing_failed");
    let (ev, _) = wait_kind(&t, &root, head, "alert.raised").await;
    assert_eq!(ev["payload"]["alert"]["rule"], "pairing_failure_burst");
    pairing_failed(&t, "203.0.113.9").await;
    assert_eq!(alerts_list(&t, &root, "").await.len(), 1, "same burst");
    // The other address's first failure is more than 10 minutes old now.
    advance(&t.clock, SignedDuration::from_mins(3));
    pairing_failed(&t, "198.51.100.1").await;
    assert_eq!(alerts_list(&t, &root, "").await.len(), 1);
}

#[tokio::test]
async fn idle_devices_raise_an_alert_once_per_idle_period_from_the_periodic_check() {
    let (t, root) = start().await;
    let ana = member(&t, &root, "Ana", "standard", &[]).await;
    let tablet = team_env::link(&t, &root, Some(ana), "standard", "Old tablet").await;
    let state = t.relay.state();

    // The tablet's link is the newest contact: a second short of 7 days after it, only
    // root's device (seen during set-up, before the tablet) may already be idle.
    let id = tablet.device_id;
    let linked = t
        .storage
        .read(move |tx| tx.device(id))
        .await
        .unwrap()
        .unwrap()
        .linked_at;
    let seven = linked
        .checked_add(SignedDuration::from_hours(24 * 7))
        .unwrap();
    advance_to(
        &t.clock,
        seven.checked_sub(SignedDuration::from_secs(1)).unwrap(),
    );
    let report = alerts::tick(state).await.unwrap();
    assert!(
        report
            .raised
            .iter()
            .all(|a| a.facts["event"]["device_id"] != json!(id)),
        "the tablet is not idle yet"
    );
    advance(&t.clock, SignedDuration::from_mins(1));
    let report = alerts::tick(state).await.unwrap();
    assert!(
        report
            .raised
            .iter()
            .any(|a| a.facts["event"]["device_id"] == json!(id))
    );
    // Read from storage: a request from root's device would count as it being seen.
    let rows = t
        .storage
        .read(|tx| {
            tx.alerts(&AlertQuery {
                open_only: true,
                before: None,
                limit: 10,
            })
        })
        .await
        .unwrap();
    let mut idle: Vec<String> = rows
        .iter()
        .map(|a| a.facts["event"]["device_name"].as_str().unwrap().to_owned())
        .collect();
    idle.sort();
    assert_eq!(idle, ["Old tablet", "admin laptop"]);
    assert!(alerts::tick(state).await.unwrap().raised.is_empty(), "once");

    // The tablet calls in (last seen moves), then stays away another 8 days.
    let (s, _) = t.get(&tablet, "/v1/me").await;
    assert_eq!(s, 200);
    let seen_at = t.clock.now();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let id = tablet.device_id;
        let d = t
            .storage
            .read(move |tx| tx.device(id))
            .await
            .unwrap()
            .unwrap();
        if d.last_seen
            .is_some_and(|s| s >= seen_at.checked_sub(SignedDuration::from_secs(5)).unwrap())
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "last-seen never recorded"
        );
        // The touch is written off the request path; nothing to wait on but the row.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    advance(&t.clock, SignedDuration::from_hours(24 * 8));
    let report = alerts::tick(state).await.unwrap();
    assert_eq!(
        report.raised.len(),
        1,
        "only the tablet: root's alert stands"
    );
    assert_eq!(
        report.raised[0].facts["event"]["device_id"],
        json!(tablet.device_id)
    );
    let open = alerts_list(&t, &root, "?open=true").await;
    assert_eq!(rules(&open), ["device_idle"; 3]);
    assert_eq!(open[0]["params"]["idle_days"], "8");
    // Unlinked devices are not watched.
    let (s, v) = call(
        &t,
        &root.token,
        "POST",
        &format!("/v1/devices/{}/revoke", tablet.device_id),
        Some(ROOT_PIN),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    advance(&t.clock, SignedDuration::from_hours(24 * 30));
    let report = alerts::tick(state).await.unwrap();
    assert!(
        report
            .raised
            .iter()
            .all(|a| a.facts["event"]["device_id"] != json!(tablet.device_id)),
        "{:?}",
        report.raised
    );
}

#[tokio::test]
async fn the_daily_advisor_check_runs_at_four_team_time() {
    let (t, root) = start().await;
    let state = t.relay.state();
    let tomorrow = next_local(
        t.clock
            .now()
            .checked_add(SignedDuration::from_hours(24))
            .unwrap(),
        3,
        59,
    );
    advance_to(&t.clock, tomorrow);
    assert!(!alerts::tick(state).await.unwrap().advisor_checked, "03:59");
    let head = t.head().await;
    advance_to(&t.clock, next_local(t.clock.now(), 4, 0));
    assert!(alerts::tick(state).await.unwrap().advisor_checked, "04:00");
    let (ev, _) = wait_kind(&t, &root, head, "advisor.checked").await;
    let codes: Vec<&str> = ev["payload"]["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["delete_and_broadcast", "too_few_admins"]);
    advance(&t.clock, SignedDuration::from_hours(6));
    assert!(
        !alerts::tick(state).await.unwrap().advisor_checked,
        "once a day"
    );
    advance_to(&t.clock, next_local(t.clock.now(), 4, 0));
    assert!(
        alerts::tick(state).await.unwrap().advisor_checked,
        "next day"
    );
}

fn advice_codes(v: &Value) -> Vec<&str> {
    v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_advisor_route_explains_risky_toggles_and_its_fix_applies_through_the_member_route() {
    let (t, root) = start().await;
    let (s, v) = t.get(&root, "/v1/team/advisor").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(advice_codes(&v), ["delete_and_broadcast", "too_few_admins"]);
    assert!(v["checked_at"].is_string());

    let head = t.head().await;
    let ana = member(&t, &root, "Ana", "standard", &[]).await;
    set_toggles(
        &t,
        &root,
        ana,
        json!(["reply", "send_broadcasts", "delete_history"]),
    )
    .await;
    let (_, v) = t.get(&root, "/v1/team/advisor").await;
    assert_eq!(
        advice_codes(&v),
        [
            "too_many_broadcasters",
            "too_many_deleters",
            "delete_and_broadcast",
            "delete_and_broadcast",
            "too_few_admins"
        ]
    );
    let advice = v["advice"].as_array().unwrap();
    let ana_both = advice
        .iter()
        .find(|a| a["code"] == "delete_and_broadcast" && a["member_ids"] == json!([ana]))
        .unwrap();
    assert_eq!(ana_both["severity"], "warning");
    assert_eq!(
        ana_both["summary"],
        "Ana can both delete history and send broadcasts; give these rights to different people."
    );
    let fix = &ana_both["fixes"][0];
    assert_eq!(fix["remove_toggles"]["member_id"], json!(ana));
    assert_eq!(
        fix["remove_toggles"]["permissions"],
        json!(["delete_history"])
    );
    assert_eq!(fix["request"]["method"], "PATCH");
    assert_eq!(fix["request"]["path"], format!("/v1/team/members/{ana}"));
    assert_eq!(
        fix["request"]["body"]["toggles"],
        json!(["reply", "send_broadcasts"])
    );
    let broadcasters = advice
        .iter()
        .find(|a| a["code"] == "too_many_broadcasters")
        .unwrap();
    assert_eq!(broadcasters["params"]["count"], "2");
    assert_eq!(broadcasters["params"]["limit"], "1");
    assert_eq!(
        broadcasters["fixes"].as_array().unwrap().len(),
        1,
        "not for the admin"
    );

    // The team change told the admins' apps.
    let (ev, _) = wait_kind(&t, &root, head, "advisor.updated").await;
    assert!(ev["payload"]["advice"].is_array());

    // One click: send the fix's request (plus the PIN) as is.
    let (s, v) = call(
        &t,
        &root.token,
        fix["request"]["method"].as_str().unwrap(),
        fix["request"]["path"].as_str().unwrap(),
        Some(ROOT_PIN),
        Some(fix["request"]["body"].clone()),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = t.get(&root, "/v1/team/advisor").await;
    assert_eq!(
        advice_codes(&v),
        [
            "too_many_broadcasters",
            "delete_and_broadcast",
            "too_few_admins"
        ]
    );

    // Day and night shift applied to one member: replies are never allowed.
    let night = admin(&t, &root, "POST", "/v1/team/templates", json!({"name": "Night shift", "windows": [{"permissions": ["reply"], "window": {"start": "23:00", "end": "07:00"}}]})).await;
    let day = admin(&t, &root, "POST", "/v1/team/templates", json!({"name": "Day shift", "windows": [{"permissions": ["reply"], "window": {"start": "07:00", "end": "23:00"}}]})).await;
    let ids = [&night, &day].map(|v| v["template"]["id"].clone());
    admin(
        &t,
        &root,
        "PATCH",
        &format!("/v1/team/members/{ana}"),
        json!({"templates": ids}),
    )
    .await;
    let (_, v) = t.get(&root, "/v1/team/advisor").await;
    let conflict = v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "template_conflict")
        .expect("conflict found");
    assert_eq!(conflict["severity"], "critical");
    assert_eq!(conflict["member_ids"], json!([ana]));
    assert_eq!(conflict["permissions"], json!(["reply"]));
    assert_eq!(conflict["template_ids"].as_array().unwrap().len(), 2);
    assert_eq!(conflict["fixes"], json!([]));
}

#[tokio::test]
async fn members_who_cannot_manage_the_team_get_403_and_no_alert_events() {
    let (t, root) = start().await;
    let sup = member(&t, &root, "Sup", "supervisor", &[]).await;
    let sup_dev = team_env::link(&t, &root, Some(sup), "supervisor", "sup pc").await;
    let head = t.head().await;
    advance_to(&t.clock, next_local(t.clock.now(), 22, 0));
    member(&t, &root, "Agent", "standard", &[]).await;
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["permission_change_off_hours"]);
    let id = all[0]["id"].as_str().unwrap();

    let ack = format!("/v1/team/alerts/{id}/ack");
    let cases: [(&str, &str, Option<Value>); 5] = [
        ("GET", "/v1/team/alerts?open=true", None),
        ("GET", "/v1/team/alerts/thresholds", None),
        (
            "PUT",
            "/v1/team/alerts/thresholds",
            Some(json!({"thresholds": {}})),
        ),
        ("POST", &ack, Some(json!({"comment": "not mine"}))),
        ("GET", "/v1/team/advisor", None),
    ];
    for (method, path, body) in cases {
        let (s, v) = call(&t, &sup_dev.token, method, path, Some(MEMBER_PIN), body).await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (403, Some("permission_denied")),
            "{method} {path}: {v}"
        );
        let (s, _) = call(&t, "not-a-token", method, path, None, None).await;
        assert_eq!(s, 401, "{method} {path}");
    }
    // The supervisor reads the audit log (ViewAuditLog) but receives no alert or advisor
    // events; the admin does.
    let sup_kinds = kinds_after(&t, &sup_dev, head).await;
    assert!(
        sup_kinds.iter().any(|k| k == "audit.member_created"),
        "{sup_kinds:?}"
    );
    assert!(
        !sup_kinds
            .iter()
            .any(|k| k.starts_with("alert.") || k.starts_with("advisor.")),
        "{sup_kinds:?}"
    );
    let root_kinds = kinds_after(&t, &root, head).await;
    assert!(
        root_kinds.iter().any(|k| k == "alert.raised"),
        "{root_kinds:?}"
    );
}

#[tokio::test]
async fn alerts_page_newest_first() {
    let (t, root) = start().await;
    for i in 0..5 {
        pairing_failed(&t, &format!("192.0.2.{i}")).await;
    }
    // Pairing bursts of 2 within 10 minutes.
    admin(
        &t,
        &root,
        "PUT",
        "/v1/team/alerts/thresholds",
        json!({"thresholds": {"pairing_failure_burst": {"count": 2}}}),
    )
    .await;
    for i in 0..3 {
        pairing_failed(&t, &format!("192.0.2.{i}")).await;
    }
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(all.len(), 3);
    let (_, page) = t.get(&root, "/v1/team/alerts?limit=2").await;
    let first = page["alerts"].as_array().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["id"], all[0]["id"]);
    let next = page["next_before"].as_str().unwrap();
    let (_, page) = t
        .get(&root, &format!("/v1/team/alerts?limit=2&before={next}"))
        .await;
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(page["alerts"][0]["id"], all[2]["id"]);
    assert_eq!(page["next_before"], Value::Null);
}

#[tokio::test]
async fn thresholds_and_the_zone_survive_a_restart() {
    let (t, root) = start().await;
    admin(
        &t,
        &root,
        "PUT",
        "/v1/team/alerts/thresholds",
        json!({"thresholds": {"device_idle": {"days": 3}}}),
    )
    .await;
    let path = t.dir.path().join("relay.db");
    let clock = t.clock.clone();
    let TestRelay {
        relay,
        storage,
        dir,
        ..
    } = t;
    relay.shutdown().await.unwrap();
    drop(storage);
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(&path, Options::default()).unwrap());
    let relay = Relay::start(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        Arc::clone(&storage),
        clock.clone(),
        AppSettings {
            app_secret: common::SECRET.into(),
            verify_token: common::VERIFY.into(),
            timezone: madrid(),
            retention: SignedDuration::from_hours(24 * 30),
        },
    )
    .await
    .unwrap();
    let t = TestRelay {
        url: relay.base_url(),
        relay,
        storage,
        clock,
        http: reqwest::Client::new(),
        dir,
    };
    let (s, v) = t.get(&root, "/v1/team/alerts/thresholds").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["thresholds"]["device_idle"]["days"], 3);
    advance(&t.clock, SignedDuration::from_hours(24 * 3 + 1));
    let report = alerts::tick(t.relay.state()).await.unwrap();
    assert_eq!(report.raised.len(), 1);
    assert_eq!(report.raised[0].params["timezone"], "Europe/Madrid");
}

/// Guessing codes on the real claim route: the third wrong code from one address within
/// ten minutes locks the address out and raises the alert; attempts during the cool-down
/// are refused unlogged and raise nothing more.
#[tokio::test]
async fn wrong_codes_on_the_claim_route_raise_the_pairing_alert() {
    let (t, root) = start().await;
    for guess in 0..5 {
        let resp = t
            .http
            .post(format!("{}/v1/pairing/claim", t.url))
            .json(&json!({"code": format!("WRONG-{guess:05}"), "name": "Guesser", "os": "Linux", "os_version": "6", "app_version": "0.1.0"}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let all = alerts_list(&t, &root, "").await;
    assert_eq!(rules(&all), ["pairing_failure_burst"], "{all:?}");
    assert_eq!(all[0]["params"]["address"], "127.0.0.1");
}

//! The automation runner end to end (issue 8): real HTTP on 127.0.0.1, a real SQLite file,
//! whatsapp-sim sending signed webhooks and receiving the auto-replies. Every seed example
//! of the "Done when" is one test here.

mod commands_env;

use std::time::{Duration, Instant};

use commands_env::*;
use serde_json::{Value, json};
use teamline_relay::storage::team::GroupRow;
use uuid::Uuid;

/// A member group (the automation's "team") with these members, written as the team
/// routes would (they are covered by the team tests).
async fn group(env: &Env, name: &str, members: &[&Device]) -> Uuid {
    let g = GroupRow {
        id: Uuid::now_v7(),
        name: name.into(),
        created_at: env.clock.now(),
    };
    let id = g.id;
    let ids: Vec<Uuid> = members.iter().map(|d| d.member_id).collect();
    env.storage()
        .write(move |tx| {
            tx.put_group(&g)?;
            for m in ids {
                let mut row = tx.member(m)?.expect("member");
                row.teams.push(g.id);
                tx.update_member(&row)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    id
}

/// GET the settings, let `edit` change them, PUT them back; returns the saved document.
async fn configure(env: &Env, admin: &Device, edit: impl FnOnce(&mut Value)) -> Value {
    let (s, mut doc) = call(env, admin, "GET", "/v1/automation", None).await;
    assert_eq!(s, 200, "{doc}");
    edit(&mut doc);
    let body =
        json!({"settings": doc["settings"], "agents": doc["agents"], "revision": doc["revision"]});
    let (s, saved) = call(env, admin, "PUT", "/v1/automation", Some(body)).await;
    assert_eq!(s, 200, "{saved}");
    saved
}

fn rule_mut<'a>(doc: &'a mut Value, id: &str) -> &'a mut Value {
    doc["settings"]["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("rule {id}"))
}

/// A customer writes through the sim (a signed webhook); returns the conversation id.
async fn writes(env: &Env, watch: &mut Stream, from: &str, text: &str) -> Uuid {
    env.customer_writes(
        watch,
        json!({"from": from, "name": "Customer", "text": text}),
    )
    .await
    .1
}

fn on(kind: &'static str, conv: Uuid) -> impl Fn(&Value) -> bool {
    move |e: &Value| e["kind"] == kind && e["conversation_id"] == json!(conv)
}

fn assigned_to(conv: Uuid, member: Uuid) -> impl Fn(&Value) -> bool {
    move |e: &Value| {
        e["kind"] == "conversation.assigned"
            && e["conversation_id"] == json!(conv)
            && e["payload"]["assignee"] == json!(member)
    }
}

fn is_applied(v: &Value, conv: Uuid) -> bool {
    v["kind"] == "automation.applied" && v["conversation_id"] == json!(conv)
}

/// The `n`-th `automation.applied` event of `conv` (from 1; a new conversation's first
/// one is its `conversation_opened` run).
async fn nth_applied(watch: &mut Stream, conv: Uuid, n: usize) -> Value {
    loop {
        let seen: Vec<Value> = watch
            .seen
            .iter()
            .map(|(_, v)| v.clone())
            .filter(|v| is_applied(v, conv))
            .collect();
        if seen.len() >= n {
            return seen[n - 1].clone();
        }
        let last = seen.last().map_or(0, |v| v["seq"].as_u64().unwrap());
        watch
            .until(move |v| is_applied(v, conv) && v["seq"].as_u64().unwrap() > last)
            .await;
    }
}

#[tokio::test]
async fn settings_are_seeded_validated_audited_announced_and_dry_run_has_no_side_effects() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let standard = env.device("standard", "Sam").await;
    let mut watch = Stream::open(&env, &admin, 0).await;

    let (s, doc) = call(&env, &admin, "GET", "/v1/automation", None).await;
    assert_eq!(s, 200);
    assert_eq!(doc["revision"], 0);
    let ids: Vec<&str> = doc["settings"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"default-order-chase") && ids.contains(&"default-returns"));
    assert_eq!(doc["settings"]["auto_replies"]["cooldown_secs"], 12 * 3600);
    // Standard members do not configure automation: refused on the relay.
    for (m, p, b) in [
        ("GET", "/v1/automation", None),
        (
            "PUT",
            "/v1/automation",
            Some(json!({"settings": doc["settings"]})),
        ),
        (
            "POST",
            "/v1/automation/dry-run",
            Some(json!({"message": "#returns"})),
        ),
    ] {
        let (s, v) = call(&env, &standard, m, p, b).await;
        assert_eq!(s, 403, "{m} {p}: {v}");
    }

    // Invalid settings: 400 with the compiler's words, nothing stored.
    let mut dup = doc["settings"].clone();
    let first = dup["rules"][0].clone();
    dup["rules"].as_array_mut().unwrap().push(first);
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/automation",
        Some(json!({"settings": dup})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "invalid_automation");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("two rules have the id"),
        "{v}"
    );
    let mut tz = doc["settings"].clone();
    tz["business_hours"]["time_zone"] = json!("Mars/Olympus");
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/automation",
        Some(json!({"settings": tz})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/automation",
        Some(json!({"nope": 1})),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (400, json!("invalid_request")));

    // A valid change: revision 1, audited without texts, announced to devices.
    let saved = configure(&env, &admin, |d| {
        rule_mut(d, "default-urgent")["enabled"] = json!(false);
    })
    .await;
    assert_eq!(saved["revision"], 1);
    let changed = watch
        .until(|e| e["kind"] == "automation.settings_changed")
        .await;
    assert_eq!(changed["payload"]["revision"], 1);
    let audit = watch
        .until(|e| e["kind"] == "audit.automation_updated")
        .await;
    let text = audit.to_string();
    assert!(!text.contains("Thanks for your message"), "{text}");
    assert!(!text.contains("A person from our team"), "{text}");
    assert_eq!(audit["payload"]["after"]["revision"], 1);
    // A stale editor gets a conflict.
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/automation",
        Some(json!({"settings": doc["settings"], "revision": 0})),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (409, json!("revision_conflict")));

    // Dry run: which rules fire and what they would do; the log does not move.
    let head = |v: &Value| v["head_seq"].as_u64().unwrap();
    let before = head(&call(&env, &admin, "GET", "/v1/me", None).await.1);
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/automation/dry-run",
        Some(json!({"message": "Hi, I want to return this #returns",
                    "contact": {"id": "34600000001", "attributes": {"monthly_spend_usd": 600}}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let fired: Vec<&str> = v["evaluation"]["fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(fired, ["default-returns"]);
    assert!(
        v["evaluation"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == json!({"type": "add_label", "label": "returns"}))
    );
    // Unsaved settings can be tried too, and a broken draft is a 400.
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/automation/dry-run",
        Some(json!({"message": "x", "settings": dup})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let after = head(&call(&env, &admin, "GET", "/v1/me", None).await.1);
    assert_eq!(before, after, "a dry run appended events");
}

#[tokio::test]
async fn order_chase_goes_to_logistics_with_a_30_s_first_response_sla() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let leo = env.device("standard", "Leo").await;
    let logistics = group(&env, "Logistics", &[&leo]).await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let mut leo_watch = Stream::open(&env, &leo, 0).await;

    let conv = writes(
        &env,
        &mut watch,
        "34600000101",
        "Where is my parcel? #order-chase",
    )
    .await;
    let ev = watch.until(assigned_to(conv, leo.member_id)).await;
    assert_eq!(ev["payload"]["team_id"], json!(logistics));
    assert_eq!(ev["payload"]["automation"]["source"], "default-order-chase");
    let labels = watch
        .until(|e| e["kind"] == "labels.changed" && e["payload"]["added"] == "order-chase")
        .await;
    assert_eq!(labels["conversation_id"], json!(conv));
    assert_eq!(
        labels["payload"]["automation"]["source"],
        "default-order-chase"
    );
    let sla = watch.until(on("conversation.sla", conv)).await;
    assert_eq!(sla["payload"]["target"]["first_response_secs"], 30);
    assert_eq!(sla["payload"]["state"]["state"], "running");
    // Leo's device learns it is his (and may fetch its history).
    let mine = leo_watch.until(assigned_to(conv, leo.member_id)).await;
    assert_eq!(mine["payload"]["backfill"], true);
}

#[tokio::test]
async fn returns_go_to_after_sales_with_a_2_h_sla() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let leo = env.device("standard", "Leo").await;
    let ria = env.device("standard", "Ria").await;
    group(&env, "Logistics", &[&leo]).await;
    let after_sales = group(&env, "After sales", &[&ria]).await;
    let mut watch = Stream::open(&env, &admin, 0).await;

    let conv = writes(
        &env,
        &mut watch,
        "34600000102",
        "I want to send it back #returns",
    )
    .await;
    let ev = watch.until(assigned_to(conv, ria.member_id)).await;
    assert_eq!(ev["payload"]["team_id"], json!(after_sales));
    let sla = watch.until(on("conversation.sla", conv)).await;
    assert_eq!(sla["payload"]["target"]["first_response_secs"], 7200);
    let applied = nth_applied(&mut watch, conv, 2).await;
    let fired = applied["payload"]["fired"].to_string();
    assert!(
        fired.contains("default-returns") && !fired.contains("order-chase"),
        "{fired}"
    );
}

#[tokio::test]
async fn urgent_notifies_the_supervisors_only() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let sue = env.device("supervisor", "Sue").await;
    let sam = env.device("standard", "Sam").await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let mut sue_watch = Stream::open(&env, &sue, 0).await;

    let conv = writes(&env, &mut watch, "34600000103", "Please hurry #urgent").await;
    let n = sue_watch
        .until(|e| {
            e["kind"] == "automation.notify" && e["payload"]["member_id"] == json!(sue.member_id)
        })
        .await;
    assert_eq!(n["payload"]["conversation_id"], json!(conv));
    assert_eq!(n["payload"]["text"], "Urgent conversation");
    let p = watch.until(on("conversation.priority", conv)).await;
    assert_eq!(p["payload"]["priority"], "urgent");
    // Everything of that run committed together; Sam (no supervisor) got no notification.
    watch.until(on("automation.applied", conv)).await;
    let (s, v) = call(&env, &sam, "GET", "/v1/events?after=0&wait=0", None).await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"automation.notify"), "{kinds:?}");
}

#[tokio::test]
async fn a_member_with_16_waiting_sends_the_next_conversation_to_a_member_with_fewer_than_5() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let busy = env.device("standard", "Busy").await;
    let light = env.device("standard", "Light").await;
    group(&env, "Logistics", &[&busy, &light]).await;
    // Round robin would give the next conversation to Busy (first in the team).
    configure(&env, &admin, |d| {
        rule_mut(d, "default-order-chase")["actions"][1] =
            json!({"type": "assign_round_robin", "team": "logistics"});
    })
    .await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    for i in 0..19 {
        let conv = writes(&env, &mut watch, &format!("3460001{i:04}"), "Hello").await;
        let to = if i < 16 { &busy } else { &light };
        let (s, v) = env
            .command(
                &admin,
                json!({"type": "assign", "conversation_id": conv, "member_id": to.member_id}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, dry) = call(
        &env,
        &admin,
        "POST",
        "/v1/automation/dry-run",
        Some(json!({"message": "#order-chase"})),
    )
    .await;
    assert_eq!(s, 200);
    let loads = dry["live"]["teams"][0]["members"].to_string();
    assert!(
        loads.contains("\"waiting\":16") && loads.contains("\"waiting\":3"),
        "{loads}"
    );

    let conv = writes(&env, &mut watch, "34600020000", "Any news? #order-chase").await;
    let ev = watch.until(assigned_to(conv, light.member_id)).await;
    assert_eq!(ev["payload"]["automation"]["source"], "default-order-chase");
    let applied = nth_applied(&mut watch, conv, 2).await;
    let reasons = applied["payload"]["actions"].to_string();
    assert!(
        reasons.contains("overflow (") && reasons.contains("16 waiting"),
        "{reasons}"
    );
}

#[tokio::test]
async fn a_600_usd_customer_goes_to_a_senior_member() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let junior = env.device("standard", "Junior").await;
    let senior = env.device("standard", "Senior").await;
    group(&env, "Logistics", &[&junior, &senior]).await;
    configure(&env, &admin, |d| {
        d["agents"] = json!({ senior.member_id.to_string(): {"capacity": 20, "senior": true} });
    })
    .await;
    // Attributes are typed: `tier` is defined before use (monthly spend is built in).
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/contacts/attributes",
        Some(json!({"key": "tier", "type": "text"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/contacts/34600000600/attributes",
        Some(json!({"attributes": {"monthly_spend_usd": 600, "tier": "gold"}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mut watch = Stream::open(&env, &admin, 0).await;

    let vip = writes(&env, &mut watch, "34600000600", "Where is it? #order-chase").await;
    watch.until(assigned_to(vip, senior.member_id)).await;
    // Without the spend the least-loaded member (Junior, nobody waiting) takes it.
    let (s, _) = call(
        &env,
        &admin,
        "PUT",
        "/v1/contacts/34600000100/attributes",
        Some(json!({"attributes": {"monthly_spend_usd": 100}})),
    )
    .await;
    assert_eq!(s, 200);
    let normal = writes(&env, &mut watch, "34600000100", "Where is it? #order-chase").await;
    watch.until(assigned_to(normal, junior.member_id)).await;
}

/// The rules read the contact's own attributes: a spend that came in with a CSV import
/// (not through the attributes route) is what sends the customer to a senior.
#[tokio::test]
async fn a_big_spender_imported_from_csv_goes_to_a_senior_member() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let junior = env.device("standard", "Junior").await;
    let senior = env.device("standard", "Senior").await;
    group(&env, "Logistics", &[&junior, &senior]).await;
    configure(&env, &admin, |d| {
        d["agents"] = json!({ senior.member_id.to_string(): {"capacity": 20, "senior": true} });
    })
    .await;
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/contacts/import",
        Some(json!({"rows": [
            {"row": 2, "name": "Big spender", "number": "+34 600 000 700", "attributes": {"monthly_spend_usd": "700"}}
        ]})),
    )
    .await;
    assert_eq!((s, v["counts"]["created"].as_u64()), (200, Some(1)), "{v}");
    let mut watch = Stream::open(&env, &admin, 0).await;
    let vip = writes(&env, &mut watch, "34600000700", "Where is it? #order-chase").await;
    watch.until(assigned_to(vip, senior.member_id)).await;
}

fn away_queued(conv: Uuid) -> impl Fn(&Value) -> bool {
    move |e: &Value| {
        e["kind"] == "message.queued"
            && e["conversation_id"] == json!(conv)
            && e["payload"]["automation"]["key"] == "away"
    }
}

async fn away_texts_sent_to(env: &Env, to: &str) -> usize {
    env.sim_get("/_sim/sent").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["request"]["to"] == json!(to)
                && m["request"]["text"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("We are closed right now"))
        })
        .count()
}

#[tokio::test]
async fn the_away_message_goes_once_per_cooldown_even_across_a_restart_and_never_answers_a_bot() {
    let mut env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let today = env.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    // Closed today and the next two days (holidays), so the clock can move 13 h.
    let holidays: Vec<String> = (0..3)
        .map(|d| {
            today
                .checked_add(jiff::Span::new().days(d))
                .unwrap()
                .to_string()
        })
        .collect();
    configure(&env, &admin, |d| {
        rule_mut(d, "default-away")["enabled"] = json!(true);
        d["settings"]["business_hours"]["holidays"] = json!(holidays);
    })
    .await;
    let customer = "34600000700";
    let mut watch = Stream::open(&env, &admin, 0).await;

    let conv = writes(&env, &mut watch, customer, "Hello, are you there?").await;
    let queued = watch.until(away_queued(conv)).await;
    let id = queued["payload"]["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(queued["payload"]["message"]["sent_by"].is_null());
    let sent = watch
        .until(|e| e["kind"] == "message.sent" && e["payload"]["message_id"] == json!(id))
        .await;
    assert!(sent["payload"]["wamid"].is_string() || sent.to_string().contains("wamid"));

    // Ten seconds later (no bot echo): within the cooldown, not sent again.
    env.clock.advance(Duration::from_secs(10));
    writes(&env, &mut watch, customer, "Hello again").await;
    let second = nth_applied(&mut watch, conv, 3).await; // opened, first, second message
    assert!(
        second["payload"]["skipped"]
            .to_string()
            .contains("sent to this customer recently"),
        "{second}"
    );

    // A restart keeps the cooldown (it is in the database).
    env.kill().await;
    env.restart().await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    env.clock.advance(Duration::from_secs(3600));
    writes(&env, &mut watch, customer, "Still closed?").await;
    let third = nth_applied(&mut watch, conv, 4).await;
    assert!(
        third["payload"]["skipped"]
            .to_string()
            .contains("sent to this customer recently"),
        "{third}"
    );
    assert_eq!(watch.count(away_queued(conv)), 1, "only the first one");

    // After the 12 h cooldown it goes again, once.
    env.clock.advance(Duration::from_secs(12 * 3600));
    writes(&env, &mut watch, customer, "Good morning").await;
    let queued = watch
        .until(|e| {
            e["kind"] == "message.queued"
                && e["payload"]["automation"]["key"] == "away"
                && e["payload"]["message"]["id"] != json!(id)
        })
        .await;
    let id2 = queued["payload"]["message"]["id"].clone();
    watch
        .until(|e| e["kind"] == "message.sent" && e["payload"]["message_id"] == id2)
        .await;
    assert_eq!(away_texts_sent_to(&env, customer).await, 2);

    // Another business's auto-reply is never answered.
    let bot = writes(
        &env,
        &mut watch,
        "34600000701",
        "Automatic reply: I am out of office",
    )
    .await;
    let run = nth_applied(&mut watch, bot, 2).await;
    assert!(
        run["payload"]["skipped"]
            .to_string()
            .contains("never answer an auto-reply"),
        "{run}"
    );
    assert!(run["payload"]["automated_inbound"].is_string());
    assert_eq!(watch.count(away_queued(bot)), 0);
    assert_eq!(away_texts_sent_to(&env, "34600000701").await, 0);
}

#[tokio::test]
async fn asking_for_a_person_assigns_and_notifies_a_member_within_5_s_in_three_languages() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let hana = env.device("standard", "Hana").await;
    group(&env, "Support", &[&hana]).await;
    configure(&env, &admin, |d| {
        d["settings"]["faq"]["handoff_team"] = json!("support");
    })
    .await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let mut hana_watch = Stream::open(&env, &hana, 0).await;
    let mut worst = Duration::ZERO;
    for (from, text) in [
        ("34600000801", "Can I talk to a person please?"),
        ("34600000802", "Позовите человека, пожалуйста"),
        ("34600000803", "我要转人工"),
    ] {
        let t0 = Instant::now();
        let v = env
            .sim_post(
                "/_sim/inbound",
                json!({"from": from, "name": "C", "text": text}),
            )
            .await;
        let wamid = v["id"].clone();
        let received = watch
            .until(|e| e["kind"] == "message.received" && e["payload"]["message"]["wamid"] == wamid)
            .await;
        let conv: Uuid = received["conversation_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        hana_watch.until(assigned_to(conv, hana.member_id)).await;
        let n = hana_watch
            .until(|e| {
                e["kind"] == "automation.notify"
                    && e["conversation_id"] == json!(conv)
                    && e["payload"]["member_id"] == json!(hana.member_id)
            })
            .await;
        let took = t0.elapsed();
        assert_eq!(n["payload"]["source"], "faq:handoff");
        assert!(took <= Duration::from_secs(5), "hand-off took {took:?}");
        worst = worst.max(took);
        // The customer is told a person will reply.
        watch
            .until(|e| {
                e["kind"] == "message.queued"
                    && e["conversation_id"] == json!(conv)
                    && e["payload"]["automation"]["key"] == "faq:handoff"
            })
            .await;
    }
    println!("faq hand-off: worst webhook-to-notification {worst:?}");
}

#[tokio::test]
async fn no_reply_and_sla_due_fire_once_each_when_the_clock_moves() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let leo = env.device("standard", "Leo").await;
    group(&env, "Logistics", &[&leo]).await;
    configure(&env, &admin, |d| {
        d["settings"]["rules"].as_array_mut().unwrap().push(json!({
            "id": "late", "name": "Waiting 10 min", "enabled": true, "order": 100,
            "trigger": {"type": "no_reply", "after_secs": 600},
            "actions": [
                {"type": "add_label", "label": "late"},
                {"type": "notify", "to": {"kind": "assignee"}, "text": "Waiting 10 min"}
            ]
        }));
    })
    .await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let mut leo_watch = Stream::open(&env, &leo, 0).await;
    let conv = writes(&env, &mut watch, "34600000901", "Where is it #order-chase").await;
    watch.until(assigned_to(conv, leo.member_id)).await;
    let state = env.run.as_ref().unwrap().relay.state().clone();

    let pass = |n: u64| {
        let state = state.clone();
        async move {
            let start = state
                .automation
                .timer_passes
                .load(std::sync::atomic::Ordering::SeqCst);
            state.automation.wake_timers();
            // Wait for the pass to complete (counter), bounded.
            let deadline = Instant::now() + Duration::from_secs(20);
            while state
                .automation
                .timer_passes
                .load(std::sync::atomic::Ordering::SeqCst)
                < start + n
            {
                assert!(Instant::now() < deadline, "timer pass did not run");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    // 60 s later the 30 s first-response SLA is breached: the assignee is told, once.
    env.clock.advance(Duration::from_secs(60));
    pass(1).await;
    let breach = watch
        .until(|e| e["kind"] == "conversation.sla" && e["payload"]["state"]["state"] == "breached")
        .await;
    assert_eq!(breach["payload"]["state"]["kind"], "first_response");
    leo_watch
        .until(|e| e["kind"] == "automation.notify" && e["payload"]["text"] == "SLA breached")
        .await;
    // 10 minutes: the no-reply rule fires once.
    env.clock.advance(Duration::from_secs(600));
    pass(1).await;
    leo_watch
        .until(|e| e["kind"] == "automation.notify" && e["payload"]["text"] == "Waiting 10 min")
        .await;
    watch
        .until(|e| e["kind"] == "labels.changed" && e["payload"]["added"] == "late")
        .await;
    // More passes: nothing fires again.
    env.clock.advance(Duration::from_secs(60));
    pass(2).await;
    let (_, v) = call(
        &env,
        &leo,
        "GET",
        "/v1/events?after=0&wait=0&limit=500",
        None,
    )
    .await;
    let count = |text: &str| {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "automation.notify" && e["payload"]["text"] == text)
            .count()
    };
    assert_eq!(count("SLA breached"), 1);
    assert_eq!(count("Waiting 10 min"), 1);
    // The live timer was announced twice (running, breached), never repeated by a pass.
    let states = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "conversation.sla")
            .map(|e| e["payload"]["state"]["state"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(states(&v), ["running", "breached"]);

    // Leo's reply stops the clock on every device at once, not at the next pass.
    let (s, r) = env
        .command(
            &leo,
            json!({"type": "send_text", "conversation_id": conv, "text": "On its way"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let idle = leo_watch
        .until(|e| e["kind"] == "conversation.sla" && e["payload"]["state"]["state"] == "idle")
        .await;
    assert_eq!(idle["payload"]["target"]["first_response_secs"], 30);
    pass(1).await;
    let (_, v) = call(
        &env,
        &leo,
        "GET",
        "/v1/events?after=0&wait=0&limit=500",
        None,
    )
    .await;
    assert_eq!(states(&v), ["running", "breached", "idle"]);
}

#[tokio::test]
async fn a_label_added_by_a_member_triggers_label_rules() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    configure(&env, &admin, |d| {
        d["settings"]["rules"].as_array_mut().unwrap().push(json!({
            "id": "vip-label", "name": "VIP label", "enabled": true, "order": 5,
            "trigger": {"type": "label_added", "label": "VIP"},
            "actions": [{"type": "set_priority", "priority": "high"}]
        }));
    })
    .await;
    let mut watch = Stream::open(&env, &admin, 0).await;
    let conv = writes(&env, &mut watch, "34600000950", "Hi there").await;
    let (s, v) = env
        .command(
            &admin,
            json!({"type": "add_label", "conversation_id": conv, "label": "vip"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let p = watch.until(on("conversation.priority", conv)).await;
    assert_eq!(p["payload"]["priority"], "high");
    assert_eq!(p["payload"]["automation"]["source"], "vip-label");
}

#[tokio::test]
async fn unusable_settings_never_fail_the_webhook_and_queued_rules_run_once_fixed() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    let leo = env.device("standard", "Leo").await;
    group(&env, "Logistics", &[&leo]).await;
    // Settings this relay cannot read (as after a bad manual edit of the database).
    env.storage()
        .write(|tx| {
            tx.put_setting(
                teamline_relay::automation::SETTING_KEY,
                &json!({"settings": 5}),
            )
        })
        .await
        .unwrap();
    let state = env.run.as_ref().unwrap().relay.state().clone();
    state.automation.forget();
    let mut watch = Stream::open(&env, &admin, 0).await;
    // The webhook is stored and acknowledged as always (the sim would retry otherwise).
    let conv = writes(&env, &mut watch, "34600000960", "Where is it? #order-chase").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !env
        .metrics()
        .await
        .lines()
        .any(|l| l.starts_with("teamline_automation_failures_total ") && !l.ends_with(" 0"))
    {
        assert!(
            Instant::now() < deadline,
            "the failure is not visible in /metrics"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(watch.count(|e| is_applied(e, conv)), 0);
    // Saving valid settings lets the waiting jobs run: the conversation is routed.
    let settings = teamline_core::automation::default_settings("UTC");
    let (s, v) = call(
        &env,
        &admin,
        "PUT",
        "/v1/automation",
        Some(json!({"settings": settings})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    watch.until(assigned_to(conv, leo.member_id)).await;
    let runs = nth_applied(&mut watch, conv, 2).await;
    assert!(
        runs["payload"]["fired"]
            .to_string()
            .contains("default-order-chase")
    );
}

#[tokio::test]
async fn only_members_online_get_assigned_and_an_open_stream_counts_as_online() {
    let env = Env::start().await;
    let admin = env.device("admin", "Owner").await;
    // Max comes first in the team: were he online, least-loaded would pick him.
    let max = env.device("standard", "Max").await;
    let leo = env.device("standard", "Leo").await;
    group(&env, "Logistics", &[&max, &leo]).await;
    let mut leo_watch = Stream::open(&env, &leo, 0).await;
    // An hour later neither device has made a request; only Leo's stream is open.
    env.clock.advance(Duration::from_secs(3600));
    let mut watch = Stream::open(&env, &admin, 0).await;
    let conv = writes(&env, &mut watch, "34600000970", "Status? #order-chase").await;
    leo_watch.until(assigned_to(conv, leo.member_id)).await;
    let ev = watch.until(on("conversation.assigned", conv)).await;
    assert_eq!(ev["payload"]["assignee"], json!(leo.member_id));
}

//! Broadcasts end to end (issue 8): real HTTP on 127.0.0.1, a real SQLite file,
//! whatsapp-sim receiving the template sends and signing the status webhooks. The crash
//! test runs the real `teamline-relay` binary and kills it with SIGKILL mid-broadcast.

mod commands_env;
#[path = "common/serve.rs"]
mod serve;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use commands_env::*;
use serde_json::{Value, json};
use serve::{BIN, spawn_serve};
use teamline_relay::storage::ContactRow;
use uuid::Uuid;

/// The automation is switched off: these tests count every message the sim receives
/// (opt-outs are recorded whatever the switch says, which the opt-out test relies on).
async fn quiet_automation(env: &Env) {
    let mut doc = teamline_relay::automation::AutomationDoc::default_for(&jiff::tz::TimeZone::UTC);
    doc.enabled = false;
    env.storage()
        .write(move |tx| tx.put_setting(teamline_relay::automation::SETTING_KEY, &json!(doc)))
        .await
        .unwrap();
    env.run.as_ref().unwrap().relay.state().automation.forget();
}

async fn set_pacing(env: &Env, d: &Device, daily_cap: u32, interval_secs: u32) -> Value {
    let (status, v) = call(
        env,
        d,
        "PUT",
        "/v1/broadcasts/settings",
        Some(
            json!({"pacing": {"daily_cap": daily_cap, "max_failure_percent": 15.0,
            "interval_secs": interval_secs, "opt_out_keywords": ["STOP", "СТОП", "退订"]}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// Customers the relay knows (a contact card with a profile name, and attributes), as
/// webhooks and the attribute route would have stored them.
async fn seed(env: &Env, customers: Vec<(String, Option<String>, Value)>) {
    let now = env.clock.now();
    env.storage()
        .write(move |tx| {
            for (wa_id, name, attrs) in customers {
                tx.upsert_contact(&ContactRow {
                    wa_id: wa_id.clone(),
                    name,
                    profile: json!({}),
                    created_at: now,
                    updated_at: now,
                })?;
                let attrs: BTreeMap<String, Value> = serde_json::from_value(attrs).unwrap();
                tx.put_contact_attributes(&wa_id, &attrs, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn draft(name: &str, audience: Value, template: &str, body_params: Value) -> Value {
    json!({
        "name": name,
        "audience": audience,
        "template": {"name": template, "language": "en_US", "header_params": [], "body_params": body_params},
        "scheduled_at": null,
    })
}

async fn create(env: &Env, d: &Device, id: Uuid, draft: &Value) -> (u16, Value) {
    let mut body = draft.clone();
    body["id"] = json!(id);
    call(env, d, "POST", "/v1/broadcasts", Some(body)).await
}

/// Polls the broadcast until `pred` holds (panics with the last summary after 30 s).
async fn wait_for(env: &Env, d: &Device, id: Uuid, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, v) = call(env, d, "GET", &format!("/v1/broadcasts/{id}"), None).await;
        assert_eq!(status, 200, "{v}");
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "broadcast never got there: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Template messages the sim accepted, per recipient.
async fn templates_received(env: &Env) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in env.sim_get("/_sim/sent").await["messages"]
        .as_array()
        .unwrap()
    {
        if m["kind"] == "template" || m["request"]["type"] == "template" {
            out.entry(m["to"].as_str().unwrap().to_owned())
                .or_default()
                .push(m["request"].clone());
        }
    }
    out
}

fn wake(env: &Env) {
    env.run.as_ref().unwrap().relay.state().broadcasts.wake();
}

fn count(s: &Value, key: &str) -> u64 {
    s["counts"][key].as_u64().unwrap()
}

#[tokio::test]
async fn the_cap_and_its_halving_work_over_two_simulated_days() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    set_pacing(&env, &admin, 50, 0).await;
    let ids: Vec<String> = (0..120).map(|i| format!("3460010{i:04}")).collect();
    seed(
        &env,
        ids.iter()
            .map(|w| (w.clone(), None, json!({"segment": "spring"})))
            .collect(),
    )
    .await;
    // 10 of the first 50 recipients (audience order is by number) cannot be reached: 20%
    // of day 1 fails, above the 15% limit.
    let blocked: BTreeMap<&String, u32> =
        ids[..50].iter().step_by(5).map(|w| (w, 131026)).collect();
    env.sim_post("/_sim/faults", json!({"recipient_errors": blocked}))
        .await;
    let id = Uuid::now_v7();
    let d = draft(
        "Spring sale",
        json!({"attribute": {"key": "segment", "op": "eq", "value": "spring"}}),
        "spring_sale",
        json!([{"kind": "contact_name"}]),
    );
    let (status, created) = create(&env, &admin, id, &d).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(count(&created, "total"), 120);

    // Day 1: 50 sent, then the cap holds the rest until tomorrow.
    let day1 = wait_for(&env, &admin, id, |s| {
        s["state"] == "waiting_for_tomorrow"
            && count(s, "queued") == 0
            && count(s, "failed") == 10
            && count(s, "sent") + count(s, "delivered") + count(s, "read") == 40
    })
    .await;
    assert_eq!(count(&day1, "pending"), 70, "{day1}");
    assert!(
        day1["note"].as_str().unwrap().contains("limit of 50"),
        "{day1}"
    );
    let got = templates_received(&env).await;
    assert_eq!(got.len(), 50);
    assert!(got.values().all(|v| v.len() == 1));
    assert!(ids[..50].iter().all(|w| got.contains_key(w)));
    let (_, failed) = call(
        &env,
        &admin,
        "GET",
        &format!("/v1/broadcasts/{id}/recipients?state=failed&limit=500"),
        None,
    )
    .await;
    let failed = failed["recipients"].as_array().unwrap();
    assert_eq!(failed.len(), 10);
    assert!(
        failed[0]["error"].as_str().unwrap().contains("131026"),
        "{failed:?}"
    );
    let (_, settings) = call(&env, &admin, "GET", "/v1/broadcasts/settings", None).await;
    assert_eq!(settings["cap_today"], 50, "{settings}");
    assert_eq!(settings["sent_today"], 50);
    let today = settings["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            today["attempted"].as_u64(),
            today["failed"].as_u64(),
            today["blocked"].as_u64()
        ),
        (Some(50), Some(0), Some(10)),
        "{settings}"
    );

    // Day 2: more than 15% failed or blocked yesterday, so today's cap is 25.
    env.clock.advance(Duration::from_secs(24 * 3600));
    wake(&env);
    let day2 = wait_for(&env, &admin, id, |s| {
        count(s, "pending") == 45 && count(s, "queued") == 0 && s["state"] == "waiting_for_tomorrow"
    })
    .await;
    assert!(
        day2["note"].as_str().unwrap().contains("limit of 25"),
        "{day2}"
    );
    let got = templates_received(&env).await;
    assert_eq!(got.len(), 75);
    assert!(got.values().all(|v| v.len() == 1), "each recipient once");
    assert!(ids[50..75].iter().all(|w| got.contains_key(w)));
    let (_, settings) = call(&env, &admin, "GET", "/v1/broadcasts/settings", None).await;
    assert_eq!(
        (
            settings["cap_today"].as_u64(),
            settings["sent_today"].as_u64()
        ),
        (Some(25), Some(25)),
        "{settings}"
    );
}

#[tokio::test]
async fn opt_outs_in_three_languages_are_recorded_acknowledged_and_honoured() {
    let mut env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    set_pacing(&env, &admin, 1000, 0).await;
    let mut stream = Stream::open(&env, &admin, 0).await;
    let people = [
        ("34600200001", "STOP"),
        ("34600200002", "стоп"),
        ("34600200003", "退订。"),
        ("34600200004", "hello, any news?"),
        ("34600200005", "Stop!"),
    ];
    let mut convs = BTreeMap::new();
    for (wa_id, text) in people {
        let (_, conv) = env
            .customer_writes(
                &mut stream,
                json!({"from": wa_id, "name": format!("Customer {wa_id}"), "text": text}),
            )
            .await;
        let (status, v) = env
            .command(
                &admin,
                json!({"type": "add_label", "conversation_id": conv, "label": "vip"}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        convs.insert(wa_id, conv);
    }
    // The fifth changes their mind; the fourth saying START changes nothing.
    for (wa_id, text) in [("34600200005", "start"), ("34600200004", "START")] {
        env.customer_writes(
            &mut stream,
            json!({"from": wa_id, "name": format!("Customer {wa_id}"), "text": text}),
        )
        .await;
    }
    let msgs: Value = env
        .get(
            &admin,
            &format!("/v1/conversations/{}/messages", convs["34600200004"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        msgs["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["direction"] == "in"),
        "no acknowledgement for someone who never opted out: {msgs}"
    );

    // Each change is acknowledged once, in the customer's language.
    let deadline = Instant::now() + Duration::from_secs(20);
    let acks = loop {
        let sent = env.sim_get("/_sim/sent").await;
        let texts: Vec<(String, String)> = sent["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["request"]["type"] == "text")
            .map(|m| {
                (
                    m["to"].as_str().unwrap().to_owned(),
                    m["request"]["text"]["body"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if texts.len() >= 5 {
            break texts;
        }
        assert!(Instant::now() < deadline, "acknowledgements: {texts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ack = |to: &str| -> Vec<&String> {
        acks.iter()
            .filter(|(w, _)| w == to)
            .map(|(_, t)| t)
            .collect()
    };
    assert!(ack("34600200001")[0].contains("Reply START"), "{acks:?}");
    assert!(ack("34600200002")[0].contains("СТАРТ"), "{acks:?}");
    assert!(ack("34600200003")[0].contains("订阅"), "{acks:?}");
    assert_eq!(ack("34600200005").len(), 2, "{acks:?}");
    assert!(ack("34600200004").is_empty());

    // Durable: a restart later, the broadcast to the label skips the three.
    env.kill().await;
    env.restart().await;
    let id = Uuid::now_v7();
    let (status, created) = create(
        &env,
        &admin,
        id,
        &draft(
            "VIP news",
            json!({"label": "VIP"}),
            "spring_sale",
            json!([{"kind": "contact_name"}]),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (count(&created, "total"), count(&created, "opted_out")),
        (5, 3),
        "{created}"
    );
    wait_for(&env, &admin, id, |s| {
        s["state"] == "completed" && count(s, "queued") == 0
    })
    .await;
    let got = templates_received(&env).await;
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        ["34600200004", "34600200005"]
    );
    let body = &got["34600200004"][0]["template"]["components"][0]["parameters"][0]["text"];
    assert_eq!(body, "Customer 34600200004");
    let (_, opted) = call(
        &env,
        &admin,
        "GET",
        &format!("/v1/broadcasts/{id}/recipients?state=opted_out"),
        None,
    )
    .await;
    assert_eq!(opted["recipients"].as_array().unwrap().len(), 3, "{opted}");
    // The broadcast messages are ordinary messages in each conversation, sent by the
    // creator.
    let msgs: Value = env
        .get(
            &admin,
            &format!("/v1/conversations/{}/messages", convs["34600200004"]),
        )
        .await
        .json()
        .await
        .unwrap();
    let out: Vec<&Value> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "out")
        .collect();
    assert_eq!(out.len(), 1, "{msgs}");
    assert_eq!(out[0]["type"], "template");
    assert_eq!(out[0]["sent_by"], json!(admin.member_id));
}

#[tokio::test]
async fn preview_renders_each_recipients_parameters_and_reports_problems() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    seed(
        &env,
        vec![
            (
                "34600300001".into(),
                Some("Ana".into()),
                json!({"spend": 600, "order": "A-1"}),
            ),
            ("34600300002".into(), None, json!({"spend": "750"})),
            (
                "34600300003".into(),
                Some("Li".into()),
                json!({"spend": 100, "order": "A-3"}),
            ),
        ],
    )
    .await;
    let rich = json!({"attribute": {"key": "spend", "op": "gt", "value": 500}});
    let (status, p) = call(
        &env,
        &admin,
        "POST",
        "/v1/broadcasts/preview",
        Some(draft(
            "Orders",
            rich.clone(),
            "order_update",
            json!([{"kind": "contact_name"}, {"kind": "attribute", "key": "order", "fallback": "on its way"}]),
        )),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["total"], 2, "{p}");
    assert_eq!(p["problems"], json!([]), "{p}");
    assert_eq!(p["samples"][0]["body"], json!(["Ana", "A-1"]));
    assert_eq!(
        p["samples"][0]["text"],
        "Hi Ana, your order A-1 has shipped."
    );
    assert_eq!(p["samples"][1]["name"], "+34600300002");
    assert_eq!(
        p["samples"][1]["text"],
        "Hi +34600300002, your order on its way has shipped."
    );
    assert_eq!(
        (p["cap_today"].as_u64(), p["days_needed"].as_u64()),
        (Some(50), Some(1))
    );

    let problems =
        |v: &Value| -> Vec<String> { serde_json::from_value(v["problems"].clone()).unwrap() };
    let cases = [
        (
            draft(
                "Sale",
                rich.clone(),
                "spring_sale",
                json!([{"kind": "contact_name"}, {"kind": "contact_name"}]),
            ),
            "needs 1 body parameter(s); 2 given",
        ),
        (
            draft("Sale", rich.clone(), "nope", json!([])),
            "no approved template",
        ),
        (
            draft("Sale", json!({"label": "nobody"}), "hello_world", json!([])),
            "Nobody matches",
        ),
        (
            draft("Sale", json!({}), "hello_world", json!([])),
            "Choose an audience",
        ),
        (
            draft("", rich.clone(), "hello_world", json!([])),
            "Give the broadcast a name",
        ),
        (
            draft(
                "Sale",
                rich.clone(),
                "spring_sale",
                json!([{"kind": "attribute", "key": "tier", "fallback": ""}]),
            ),
            "needs a fallback",
        ),
    ];
    for (d, want) in cases {
        let (status, v) = call(
            &env,
            &admin,
            "POST",
            "/v1/broadcasts/preview",
            Some(d.clone()),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert!(problems(&v).iter().any(|p| p.contains(want)), "{want}: {v}");
        // The same draft cannot be created.
        let (status, v) = create(&env, &admin, Uuid::now_v7(), &d).await;
        assert_eq!(status, 422, "{v}");
        assert!(
            v["code"] == "invalid_broadcast" || v["code"] == "empty_audience",
            "{v}"
        );
    }
    // Previews store nothing.
    let (_, list) = call(&env, &admin, "GET", "/v1/broadcasts", None).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn cancel_stops_the_pending_recipients_and_queued_ones_still_go() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    set_pacing(&env, &admin, 3, 0).await;
    let ids: Vec<String> = (0..10).map(|i| format!("346004000{i:02}")).collect();
    seed(
        &env,
        ids.iter()
            .map(|w| (w.clone(), None, json!({"list": "a"})))
            .collect(),
    )
    .await;
    let id = Uuid::now_v7();
    let (status, _) = create(
        &env,
        &admin,
        id,
        &draft(
            "Ten",
            json!({"attribute": {"key": "list", "op": "eq", "value": "a"}}),
            "hello_world",
            json!([]),
        ),
    )
    .await;
    assert_eq!(status, 201);
    wait_for(&env, &admin, id, |s| {
        s["state"] == "waiting_for_tomorrow" && count(s, "pending") == 7 && count(s, "queued") == 0
    })
    .await;
    let (status, s) = call(
        &env,
        &admin,
        "POST",
        &format!("/v1/broadcasts/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["state"], "cancelled");
    assert_eq!(
        (count(&s, "pending"), count(&s, "cancelled")),
        (0, 7),
        "{s}"
    );
    // Cancelling again changes nothing.
    let (_, again) = call(
        &env,
        &admin,
        "POST",
        &format!("/v1/broadcasts/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(again["state"], "cancelled");
    assert_eq!(
        (count(&again, "pending"), count(&again, "cancelled")),
        (0, 7),
        "{again}"
    );
    // Tomorrow nothing more goes out: the sending pass finds nothing to do.
    env.clock.advance(Duration::from_secs(24 * 3600));
    let state = std::sync::Arc::clone(env.run.as_ref().unwrap().relay.state());
    assert_eq!(teamline_relay::broadcasts::run_due(&state).await, None);
    assert_eq!(templates_received(&env).await.len(), 3);
    let (_, cancelled) = call(
        &env,
        &admin,
        "GET",
        &format!("/v1/broadcasts/{id}/recipients?state=cancelled"),
        None,
    )
    .await;
    assert_eq!(cancelled["recipients"].as_array().unwrap().len(), 7);

    // Both are in the audit log: who, which template, how many — no parameter texts.
    let (status, log) = call(&env, &admin, "GET", "/v1/team/audit?action=broadcast", None).await;
    assert_eq!(status, 200, "{log}");
    let entries = log["entries"].as_array().expect("entries");
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"audit.broadcast_created"), "{kinds:?}");
    assert!(kinds.contains(&"audit.broadcast_cancelled"), "{kinds:?}");
    let created = entries
        .iter()
        .find(|e| e["kind"] == "audit.broadcast_created")
        .unwrap();
    assert_eq!(created["after"]["template"], "hello_world");
    assert_eq!(created["after"]["recipients"], 10);
    assert_eq!(created["target"]["broadcast_id"], json!(id));
    let cancelled = entries
        .iter()
        .find(|e| e["kind"] == "audit.broadcast_cancelled")
        .unwrap();
    assert_eq!(cancelled["after"]["not_sent"], 7);
}

#[tokio::test]
async fn creating_twice_with_one_id_makes_one_broadcast() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    let other = env.device("admin", "Bo").await;
    set_pacing(&env, &admin, 1000, 0).await;
    seed(
        &env,
        vec![(
            "34600500001".into(),
            Some("Ana".into()),
            json!({"list": "x"}),
        )],
    )
    .await;
    let id = Uuid::now_v7();
    let d = draft(
        "Once",
        json!({"attribute": {"key": "list", "op": "eq", "value": "x"}}),
        "hello_world",
        json!([]),
    );
    let (s1, first) = create(&env, &admin, id, &d).await;
    let (s2, second) = create(&env, &admin, id, &d).await;
    assert_eq!((s1, s2), (201, 201), "{first} {second}");
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["created_at"], second["created_at"]);
    let mut changed = d.clone();
    changed["name"] = json!("Twice");
    let (status, v) = create(&env, &admin, id, &changed).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("idempotency_conflict")),
        "{v}"
    );
    let (status, _) = create(&env, &other, id, &d).await;
    assert_eq!(status, 409, "another device cannot reuse the id");
    wait_for(&env, &admin, id, |s| {
        s["state"] == "completed" && count(s, "queued") == 0
    })
    .await;
    let (_, list) = call(&env, &admin, "GET", "/v1/broadcasts", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(templates_received(&env).await["34600500001"].len(), 1);
}

/// A broadcast's template reaching a customer who waits for an answer is not a reply: the
/// SLA and no-reply clocks keep running until a person answers.
#[tokio::test]
async fn a_broadcast_reaching_a_waiting_customer_is_not_a_reply() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    set_pacing(&env, &admin, 1000, 0).await;
    let mut stream = Stream::open(&env, &admin, 0).await;
    let wa_id = "34600700001";
    let (_, conv) = env
        .customer_writes(
            &mut stream,
            json!({"from": wa_id, "name": "Wanda", "text": "Any news on my order?"}),
        )
        .await;
    seed(
        &env,
        vec![(wa_id.into(), Some("Wanda".into()), json!({"list": "news"}))],
    )
    .await;
    let timeline = |env: &Env| {
        let storage = env.storage();
        async move { storage.read(move |tx| tx.timeline(conv)).await.unwrap() }
    };
    let waiting_since = timeline(&env).await.unanswered_since;
    assert!(waiting_since.is_some());

    let id = Uuid::now_v7();
    let d = draft(
        "News",
        json!({"attribute": {"key": "list", "op": "eq", "value": "news"}}),
        "hello_world",
        json!([]),
    );
    let (status, v) = create(&env, &admin, id, &d).await;
    assert_eq!(status, 201, "{v}");
    let done = wait_for(&env, &admin, id, |s| {
        s["state"] == "completed" && count(s, "queued") == 0
    })
    .await;
    assert_eq!(
        count(&done, "sent") + count(&done, "delivered") + count(&done, "read"),
        1,
        "{done}"
    );
    let after_broadcast = timeline(&env).await;
    assert_eq!(after_broadcast.first_human_reply_at, None);
    assert_eq!(after_broadcast.unanswered_since, waiting_since);

    // A person's answer is a reply.
    let (status, v) = env
        .command(&admin, json!({"type": "claim", "conversation_id": conv}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = env
        .command(
            &admin,
            json!({"type": "send_text", "conversation_id": conv, "text": "It ships tomorrow"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let answered = timeline(&env).await;
    assert!(answered.first_human_reply_at.is_some());
    assert_eq!(answered.unanswered_since, None);
}

// ---------------------------------------------------------------------------------------
// The done-when: 1,000 recipients, the relay binary killed with SIGKILL at ~40 %.

async fn sim_sent_count(http: &reqwest::Client, sim: &str) -> usize {
    let v: Value = http
        .get(format!("{sim}/_sim/sent"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["messages"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_broadcast_to_1000_killed_at_40_percent_reaches_each_recipient_exactly_once() {
    use whatsapp_sim::{RetryPolicy, Sim, SimConfig, StatusSchedule};
    let dir = tempfile::tempdir().unwrap();
    // The relay listens on the same port before and after the crash (the sim's webhook
    // URL stays valid).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sim = Sim::start(SimConfig {
        webhook_url: Some(format!("http://127.0.0.1:{port}/webhooks/whatsapp")),
        app_secret: SECRET.into(),
        access_token: TOKEN.into(),
        statuses: StatusSchedule {
            sent: Duration::from_millis(20),
            delivered: Duration::from_millis(40),
            read: None,
        },
        retry: RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
            window: Duration::from_secs(300),
            timeout: Duration::from_secs(5),
        },
        throughput_per_sec: 10_000,
        messaging_limit: 10_000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cfg = dir.path().join("relay.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"listen = "127.0.0.1:{port}"
database = "{db}"
public_url = "https://relay.example.com"
timezone = "UTC"
send_rate = 400

[whatsapp]
phone_number_id = "{PHONE_ID}"
access_token = "{TOKEN}"
app_secret = "{SECRET}"
verify_token = "verify"
graph_url = "{graph}/v21.0"
business_account_id = "{waba}"
"#,
            db = dir.path().join("relay.db").display(),
            graph = sim.base_url(),
            waba = SimConfig::default().waba_id,
        ),
    )
    .unwrap();
    let key = dir.path().join("audit.key");
    std::fs::write(&key, "5a".repeat(32)).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = std::process::Command::new(BIN)
        .args(["init", "--config", cfg.to_str().unwrap()])
        .env("TEAMLINE_RELAY_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let owner_code = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    // 1,000 customers with an attribute, written before the relay starts.
    let ids: Vec<String> = (0..1000).map(|i| format!("3461{i:07}")).collect();
    {
        let storage: std::sync::Arc<dyn teamline_relay::storage::Storage> = std::sync::Arc::new(
            teamline_relay::storage::sqlite::SqliteStorage::open(
                dir.path().join("relay.db"),
                teamline_relay::storage::sqlite::Options::default(),
            )
            .unwrap(),
        );
        let now = jiff::Timestamp::now();
        let batch = ids.clone();
        storage
            .write(move |tx| {
                let attrs: BTreeMap<String, Value> =
                    [("newsletter".to_owned(), json!(true))].into();
                for w in &batch {
                    tx.put_contact_attributes(w, &attrs, now)?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }

    let (mut child, url) = spawn_serve(&cfg);
    let http = reqwest::Client::new();
    let claimed: Value = http
        .post(format!("{url}/v1/pairing/claim"))
        .json(&json!({"code": owner_code, "name": "PC", "os": "linux", "os_version": "6.1", "app_version": "0.1.0"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = claimed["token"].as_str().expect("token").to_owned();
    let send = |method: reqwest::Method, path: &str, body: Option<Value>, base: &str| {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let r = send(
        reqwest::Method::PUT,
        "/v1/broadcasts/settings",
        Some(
            json!({"pacing": {"daily_cap": 5000, "max_failure_percent": 15.0, "interval_secs": 0,
            "opt_out_keywords": ["STOP"]}}),
        ),
        &url,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let id = Uuid::now_v7();
    let mut body = draft(
        "Newsletter",
        json!({"attribute": {"key": "newsletter", "op": "eq", "value": true}}),
        "spring_sale",
        json!([{"kind": "contact_name"}]),
    );
    body["id"] = json!(id);
    let r = send(reqwest::Method::POST, "/v1/broadcasts", Some(body), &url)
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(count(&created, "total"), 1000);

    // At ~40 % the sim stops answering (it still accepts what reaches it), so the relay's
    // in-flight sends are really in flight; then SIGKILL.
    let sim_url = sim.base_url().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim_sent_count(&http, &sim_url).await < 400 {
        assert!(Instant::now() < deadline, "sending never reached 40 %");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    http.post(format!("{sim_url}/_sim/faults"))
        .json(&json!({"stall_sends": true}))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let f: Value = http
            .get(format!("{sim_url}/_sim/faults"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The send queue keeps 8 calls in flight.
        if f["stalled"].as_u64() == Some(8) {
            break;
        }
        assert!(Instant::now() < deadline, "sends never stalled: {f}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = sim_sent_count(&http, &sim_url).await;
    assert!((400..700).contains(&at_kill), "killed at {at_kill} of 1000");
    http.post(format!("{sim_url}/_sim/faults"))
        .json(&json!({"stall_sends": false}))
        .send()
        .await
        .unwrap();

    // Restarted on the same database: the rest goes out, nothing twice.
    let (child, url) = spawn_serve(&cfg);
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let s: Value = send(
            reqwest::Method::GET,
            &format!("/v1/broadcasts/{id}"),
            None,
            &url,
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        if s["state"] == "completed" && count(&s, "queued") == 0 && count(&s, "pending") == 0 {
            break s;
        }
        assert!(Instant::now() < deadline, "broadcast not finished: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(count(&done, "failed"), 0, "{done}");
    let sent: Value = http
        .get(format!("{sim_url}/_sim/sent"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for m in sent["messages"].as_array().unwrap() {
        *per.entry(m["to"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let missing: Vec<_> = ids.iter().filter(|w| !per.contains_key(*w)).collect();
    assert!(
        missing.is_empty(),
        "never sent: {} e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(per.len(), 1000);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    assert!(child.wait().unwrap().success());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_number_wide_limit_pauses_until_tomorrow_with_a_note_and_progress_is_streamed() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    let mut stream = Stream::open(&env, &admin, 0).await;
    set_pacing(&env, &admin, 1, 0).await;
    let ids: Vec<String> = (0..3).map(|i| format!("346006000{i:02}")).collect();
    seed(
        &env,
        ids.iter()
            .map(|w| (w.clone(), None, json!({"list": "p"})))
            .collect(),
    )
    .await;
    // Meta answers the first send with its spam rate limit (131048).
    env.sim_post(
        "/_sim/faults",
        json!({"recipient_errors": {&ids[0]: 131048}}),
    )
    .await;
    let id = Uuid::now_v7();
    let (status, _) = create(
        &env,
        &admin,
        id,
        &draft(
            "Limited",
            json!({"attribute": {"key": "list", "op": "eq", "value": "p"}}),
            "hello_world",
            json!([]),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let paused = wait_for(&env, &admin, id, |s| s["state"] == "paused").await;
    let note = paused["note"].as_str().unwrap();
    assert!(
        note.contains("131048") && note.contains("continues tomorrow"),
        "{note}"
    );
    assert_eq!(count(&paused, "pending"), 2);
    // The devices that may send broadcasts saw it change.
    let ev = stream
        .until(|e| e["kind"] == "broadcast.changed" && e["payload"]["state"] == "paused")
        .await;
    assert_eq!(ev["payload"]["id"], json!(id));
    // Tomorrow it goes on (at a cap of 1: the only attempt of yesterday failed).
    env.clock.advance(Duration::from_secs(24 * 3600));
    wake(&env);
    let next = wait_for(&env, &admin, id, |s| {
        count(s, "pending") == 1 && count(s, "queued") == 0 && s["state"] == "waiting_for_tomorrow"
    })
    .await;
    assert!(
        next["note"].as_str().unwrap().contains("limit of 1"),
        "{next}"
    );
    assert_eq!(
        templates_received(&env).await.len(),
        1,
        "the refused send never reached the sim"
    );
}

/// Polls the sim until it has received `n` broadcast templates in all.
async fn wait_templates(env: &Env, n: usize) -> BTreeMap<String, Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = templates_received(env).await;
        if got.values().map(Vec::len).sum::<usize>() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "only {got:?} reached the sim");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_for_its_time_and_sends_are_spaced_by_the_interval() {
    let env = Env::start().await;
    quiet_automation(&env).await;
    let admin = env.device("admin", "Ana").await;
    // One send per minute.
    set_pacing(&env, &admin, 50, 60).await;
    let ids: Vec<String> = (0..3).map(|i| format!("3460050000{i}")).collect();
    seed(
        &env,
        ids.iter()
            .map(|w| (w.clone(), None, json!({"list": "later"})))
            .collect(),
    )
    .await;
    let id = Uuid::now_v7();
    let mut d = draft(
        "Tomorrow's opening",
        json!({"attribute": {"key": "list", "op": "eq", "value": "later"}}),
        "hello_world",
        json!([]),
    );
    let at = env.clock.now() + jiff::SignedDuration::from_hours(2);
    d["scheduled_at"] = json!(at);
    let (status, created) = create(&env, &admin, id, &d).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "scheduled");
    let state = std::sync::Arc::clone(env.run.as_ref().unwrap().relay.state());
    // Before its time a pass sends nothing and names when to look again.
    let next = teamline_relay::broadcasts::run_due(&state).await;
    assert!(next.is_some(), "a scheduled broadcast asks to be woken");
    assert!(templates_received(&env).await.is_empty());
    assert_eq!(
        wait_for(&env, &admin, id, |_| true).await["state"],
        "scheduled"
    );

    // At its time the first recipient goes, then one per interval.
    env.clock.advance(Duration::from_secs(2 * 3600 + 1));
    wake(&env);
    wait_templates(&env, 1).await;
    let s = wait_for(&env, &admin, id, |s| s["state"] == "sending").await;
    assert_eq!(count(&s, "pending"), 2, "{s}");
    let next = teamline_relay::broadcasts::run_due(&state).await;
    assert_eq!(
        templates_received(&env).await.len(),
        1,
        "not before the interval"
    );
    assert!(next.is_some(), "the next send has a time");
    env.clock.advance(Duration::from_secs(61));
    wake(&env);
    wait_templates(&env, 2).await;
    env.clock.advance(Duration::from_secs(61));
    wake(&env);
    let got = wait_templates(&env, 3).await;
    assert!(got.values().all(|v| v.len() == 1), "{got:?}");
    wait_for(&env, &admin, id, |s| {
        s["state"] == "completed" && count(s, "pending") == 0
    })
    .await;
}

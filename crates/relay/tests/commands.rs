//! The command side end to end: real HTTP on 127.0.0.1, a real SQLite file, whatsapp-sim
//! as Meta (with a fault proxy in between where the sim has no such fault).

mod commands_env;

use std::sync::atomic::Ordering;

use base64::Engine;
use commands_env::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn text(conv: Uuid, body: &str) -> Value {
    json!({"type": "send_text", "conversation_id": conv, "text": body})
}

fn message_id(v: &Value) -> String {
    v["result"]["message_id"]
        .as_str()
        .expect("message_id")
        .to_owned()
}

fn is(kind: &'static str, message_id: &str) -> impl Fn(&Value) -> bool {
    let id = json!(message_id);
    // `message.queued` carries the whole row; the others name the message.
    move |e: &Value| {
        e["kind"] == kind
            && (e["payload"]["message_id"] == id || e["payload"]["message"]["id"] == id)
    }
}

fn status_is(message_id: &str, status: &'static str) -> impl Fn(&Value) -> bool {
    let id = json!(message_id);
    move |e: &Value| {
        e["kind"] == "message.status"
            && e["payload"]["message_id"] == id
            && e["payload"]["status"] == status
    }
}

#[tokio::test]
async fn a_reply_reaches_the_sim_once_and_its_statuses_arrive_in_order_on_every_device() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let bob = env.device("admin", "Bob").await;
    let rita = env.device("restricted", "Rita").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let mut sb = Stream::open(&env, &bob, 0).await;
    let mut sr = Stream::open(&env, &rita, 0).await;
    let (_, conv) = env
        .customer_writes(
            &mut sa,
            json!({"from": CUSTOMER, "name": "Carla", "text": "Hi"}),
        )
        .await;

    let (s, v) = env
        .command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200, "{v}");
    let id = Uuid::now_v7();
    let (s, first) = env.command_id(&ana, id, text(conv, "Hello Carla")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["status"], "applied");
    assert_eq!(first["result"]["state"], "queued");
    assert!(first["seq"].as_u64().is_some());
    let mid = message_id(&first);

    // The same key again: the first answer, nothing new.
    let (s2, again) = env.command_id(&ana, id, text(conv, "Hello Carla")).await;
    assert_eq!((s2, &again), (200, &first));
    // The same key for another command is refused.
    let (s3, other) = env.command_id(&ana, id, text(conv, "Something else")).await;
    assert_eq!(s3, 409);
    assert_eq!(other["code"], "idempotency_conflict");

    for stream in [&mut sa, &mut sb] {
        stream.until(is("message.queued", &mid)).await;
        stream.until(is("message.sent", &mid)).await;
        stream.until(status_is(&mid, "read")).await;
        assert_eq!(stream.statuses_of(&mid), ["sent", "delivered", "read"]);
        assert_eq!(stream.count(is("message.queued", &mid)), 1);
    }
    let sent = env.sim_sent_for(&mid).await;
    assert_eq!(sent.len(), 1, "exactly one Graph send");
    assert_eq!(sent[0]["request"]["text"]["body"], "Hello Carla");
    assert_eq!(sent[0]["to"], CUSTOMER);

    // The restricted member (not assigned) saw none of it; typing reaches Bob, not Rita.
    let (s, v) = env
        .command(&ana, json!({"type": "typing", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["seq"].is_null());
    let typing = sb.until(|e| e["kind"] == "presence.typing").await;
    assert_eq!(typing["payload"]["member_name"], "Ana");
    assert_eq!(typing["payload"]["conversation_id"], json!(conv));
    assert!(
        sb.seen
            .iter()
            .any(|(id, e)| id.is_none() && e["kind"] == "presence.typing")
    );
    // A marker event Rita can see proves her stream is live and had nothing of Ana's.
    let (s, _) = env
        .command(
            &ana,
            json!({"type": "assign", "conversation_id": conv, "member_id": rita.member_id}),
        )
        .await;
    assert_eq!(s, 200);
    sr.until(|e| e["kind"] == "conversation.assigned").await;
    assert_eq!(sr.count(|e| e["kind"] == "presence.typing"), 0);
    assert_eq!(sr.count(|e| e["kind"] == "message.queued"), 0);
    assert_eq!(sr.count(|e| e["kind"] == "message.status"), 0);

    let metrics = env.metrics().await;
    assert!(metrics.contains("teamline_send_queue_depth 0"), "{metrics}");
    assert!(
        metrics.contains("teamline_messages_sent_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_same_key_three_times_at_once_makes_one_message() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    let id = Uuid::now_v7();
    let (a, b, c) = tokio::join!(
        env.command_id(&ana, id, text(conv, "once")),
        env.command_id(&ana, id, text(conv, "once")),
        env.command_id(&ana, id, text(conv, "once")),
    );
    assert_eq!(a.0, 200, "{}", a.1);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let mid = message_id(&a.1);
    sa.until(status_is(&mid, "delivered")).await;
    assert_eq!(sa.count(|e| e["kind"] == "message.queued"), 1);
    assert_eq!(env.sim_sent_for(&mid).await.len(), 1);
    let outbound = env.sim_get("/_sim/sent").await["messages"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(outbound, 1);
}

#[tokio::test]
async fn of_two_simultaneous_claims_one_wins_and_the_other_is_told_who_owns_it() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let bob = env.device("admin", "Bob").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    let claim = json!({"type": "claim", "conversation_id": conv});
    let (a, b) = tokio::join!(env.command(&ana, claim.clone()), env.command(&bob, claim));
    let (winner, loser, lost) = match (a.0, b.0) {
        (200, 409) => (&ana, &bob, b.1),
        (409, 200) => (&bob, &ana, a.1),
        other => panic!(
            "expected one 200 and one 409, got {other:?}: {} / {}",
            a.1, b.1
        ),
    };
    assert_eq!(lost["code"], "assigned_to_other");
    assert_eq!(lost["assignee"]["name"], json!(winner.name));
    assert_eq!(lost["assignee"]["id"], json!(winner.member_id));
    assert_eq!(
        lost["message"],
        json!(format!("{} is handling this conversation", winner.name))
    );
    let ev = sa.until(|e| e["kind"] == "conversation.assigned").await;
    assert_eq!(ev["payload"]["assignee"], json!(winner.member_id));
    assert_eq!(sa.count(|e| e["kind"] == "conversation.assigned"), 1);
    // The loser cannot send without taking over.
    let (s, v) = env.command(loser, text(conv, "me too")).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["code"], "reason_required");
}

#[tokio::test]
async fn a_restricted_member_sends_only_where_assigned_and_a_takeover_needs_a_reason() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let rita = env.device("restricted", "Rita").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;

    // Unassigned: Rita cannot see it, so she can neither claim nor send.
    let (s, v) = env.command(&rita, text(conv, "hello")).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("not_visible")), "{v}");
    let (s, v) = env
        .command(&rita, json!({"type": "claim", "conversation_id": conv}))
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("not_visible")), "{v}");
    // Someone else's: still invisible to her.
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    let (s, v) = env.command(&rita, text(conv, "hello")).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("not_visible")), "{v}");

    // Assigned to her: she may reply (but not assign it on).
    let (s, _) = env
        .command(
            &ana,
            json!({"type": "assign", "conversation_id": conv, "member_id": rita.member_id, "reason": "Spanish speaker"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = env.command(&rita, text(conv, "¡Hola!")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = env
        .command(&rita, json!({"type": "unassign", "conversation_id": conv}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("permission_denied")),
        "{v}"
    );

    // Ana (admin, may take over) must give a reason.
    let (s, v) = env.command(&ana, text(conv, "taking over")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("reason_required")),
        "{v}"
    );
    let mut cmd = text(conv, "taking over");
    cmd["takeover_reason"] = json!("   ");
    let (s, _) = env.command(&ana, cmd.clone()).await;
    assert_eq!(s, 403);
    cmd["takeover_reason"] = json!("Customer asked for the manager");
    let (s, v) = env.command(&ana, cmd).await;
    assert_eq!(s, 200, "{v}");
    let mid = message_id(&v);
    let queued = sa.until(is("message.queued", &mid)).await;
    // The queued event carries the message row.
    assert_eq!(queued["payload"]["message"]["id"], json!(mid));
    assert_eq!(
        queued["payload"]["takeover"]["reason"],
        "Customer asked for the manager"
    );

    // Notes: at most two mentions; labels: applied and reported.
    let (s, v) = env
        .command(
            &ana,
            json!({"type": "add_note", "conversation_id": conv, "text": "VIP", "mentions": [ana.member_id, rita.member_id, Uuid::now_v7()]}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("too_many_mentions")),
        "{v}"
    );
    let (s, v) = env
        .command(
            &ana,
            json!({"type": "add_note", "conversation_id": conv, "text": "VIP customer", "mentions": [rita.member_id]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let note = sa.until(|e| e["kind"] == "note.added").await;
    assert_eq!(note["payload"]["note"]["mentions"], json!([rita.member_id]));
    let (s, v) = env
        .command(
            &ana,
            json!({"type": "add_label", "conversation_id": conv, "label": "vip"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // (The automation may have added "New customer" before: only ours is looked at.)
    let labels = sa
        .until(|e| e["kind"] == "labels.changed" && e["payload"]["added"] == "vip")
        .await;
    assert!(
        labels["payload"]["labels"]
            .as_array()
            .unwrap()
            .contains(&json!("vip"))
    );
    let (s, v) = env
        .command(&ana, json!({"type": "close", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200, "{v}");
    let closed = sa
        .until(|e| e["kind"] == "conversation.status" && e["payload"]["status"] == "closed")
        .await;
    assert_eq!(closed["payload"]["previous"], "open");
}

#[tokio::test]
async fn a_send_refused_with_5xx_and_then_130429_is_retried_and_reaches_the_sim_once() {
    // One message per second: a message sent straight to the sim uses this second's quota.
    let env = Env::start_with(
        |mut c| {
            c.throughput_per_sec = 1;
            c
        },
        fast_outbound(),
    )
    .await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    env.proxy.faults.fail_sends.store(2, Ordering::SeqCst);
    let direct = env
        .http
        .post(format!("{}/v26.0/{PHONE_ID}/messages", env.sim.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"messaging_product": "whatsapp", "to": "34600999888", "type": "text", "text": {"body": "quota"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);

    let (s, v) = env.command(&ana, text(conv, "after a bumpy ride")).await;
    assert_eq!(s, 200, "{v}");
    let mid = message_id(&v);
    sa.until(status_is(&mid, "read")).await;
    assert_eq!(sa.statuses_of(&mid), ["sent", "delivered", "read"]);
    assert_eq!(env.sim_sent_for(&mid).await.len(), 1, "sent exactly once");
    assert!(env.proxy.faults.sends_seen.load(Ordering::SeqCst) >= 3);
    let metrics = env.metrics().await;
    assert!(
        metrics.contains("teamline_send_errors_total{code=\"http_502\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("teamline_send_errors_total{code=\"130429\"}"),
        "the sim's throughput limit was hit: {metrics}"
    );
}

#[tokio::test]
async fn a_lost_answer_is_reconciled_from_the_status_webhook_and_never_resent() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    // The sim accepts the next send and cuts the connection before answering.
    env.sim_post("/_sim/faults", json!({"drop_graph_responses": 1}))
        .await;
    let (s, v) = env.command(&ana, text(conv, "did it go?")).await;
    assert_eq!(s, 200, "{v}");
    let mid = message_id(&v);
    let sent = sa.until(is("message.sent", &mid)).await;
    sa.until(status_is(&mid, "read")).await;
    let sim = env.sim_sent_for(&mid).await;
    assert_eq!(sim.len(), 1, "never resent");
    assert_eq!(sent["payload"]["wamid"], sim[0]["id"]);
    assert_eq!(sa.count(is("message.failed", &mid)), 0);
}

#[tokio::test]
async fn killed_mid_queue_the_relay_sends_each_message_exactly_once_after_restart() {
    let mut env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    // The first send reaches the sim, but the relay never hears back before it dies, and
    // the sim's status webhooks are held back until the relay is up again.
    env.proxy.faults.hold_sends.store(1, Ordering::SeqCst);
    env.sim_post("/_sim/faults", json!({"batch": 1000})).await;
    let (_, v1) = env.command(&ana, text(conv, "first")).await;
    let (_, v2) = env.command(&ana, text(conv, "second")).await;
    let (m1, m2) = (message_id(&v1), message_id(&v2));
    // Wait until the sim has accepted the first one (its send is in flight).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.sim_sent_for(&m1).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "first send never reached the sim"
        );
        tokio::task::yield_now().await;
    }
    let queued = env.storage().read(|tx| tx.send_depth()).await.unwrap();
    assert_eq!(queued, 2, "both still in the queue when the relay dies");
    let first: Uuid = m1.parse().unwrap();
    let item = env
        .storage()
        .read(move |tx| tx.send_item(first))
        .await
        .unwrap();
    assert_eq!(
        item.unwrap().state,
        "sending",
        "killed during the Graph call"
    );
    env.kill().await;
    drop(sa);
    env.restart().await;
    env.sim_post("/_sim/faults", json!({"batch": 0})).await;

    let mut sa = Stream::open(&env, &ana, 0).await;
    for m in [&m1, &m2] {
        sa.until(is("message.sent", m)).await;
        sa.until(status_is(m, "read")).await;
    }
    assert_eq!(env.sim_sent_for(&m1).await.len(), 1, "first: exactly once");
    assert_eq!(env.sim_sent_for(&m2).await.len(), 1, "second: exactly once");
    // Order kept: the second waited behind the first.
    let sent = env.sim_get("/_sim/sent").await["messages"].clone();
    let bodies: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["request"]["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["first", "second"]);
    assert_eq!(env.proxy.faults.sends_seen.load(Ordering::SeqCst), 2);
    let (s, v) = env.command(&ana, text(conv, "first")).await;
    assert_eq!(s, 200, "a new key is a new message: {v}");
}

#[tokio::test]
async fn a_closed_window_becomes_a_failed_message_that_asks_for_a_template() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    env.sim_post("/_sim/clock", json!({"advance_secs": 25 * 3600}))
        .await;
    let (s, v) = env.command(&ana, text(conv, "too late")).await;
    assert_eq!(s, 200, "{v}");
    let mid = message_id(&v);
    let failed = sa.until(is("message.failed", &mid)).await;
    assert_eq!(failed["payload"]["needs_template"], true);
    assert_eq!(failed["payload"]["code"], 131047);
    assert_eq!(
        failed["payload"]["details"],
        "The 24-hour window is closed; send an approved template"
    );
    sa.until(status_is(&mid, "failed")).await;
    // A template goes through.
    let (s, v) = env
        .command(
            &ana,
            json!({"type": "send_template", "conversation_id": conv, "template": {"name": "hello_world", "language": "en_US"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tid = message_id(&v);
    sa.until(status_is(&tid, "delivered")).await;
    assert_eq!(env.sim_sent_for(&tid).await.len(), 1);
}

#[tokio::test]
async fn inbound_media_is_fetched_after_a_failure_and_served_only_to_devices_that_see_it() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let rita = env.device("restricted", "Rita").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // The first lookup of the media fails (Meta's 500); the relay must try again.
    env.proxy.faults.fail_media.store(1, Ordering::SeqCst);
    let (_, conv) = env
        .customer_writes(
            &mut sa,
            json!({"from": CUSTOMER, "type": "image", "image": {"caption": "my order"},
                   "file": {"mime_type": "image/jpeg", "data_base64": base64::engine::general_purpose::STANDARD.encode(&bytes)}}),
        )
        .await;
    let ready = sa.until(|e| e["kind"] == "message.media_ready").await;
    let media_id = ready["payload"]["media_id"].as_str().unwrap().to_owned();
    assert_eq!(ready["payload"]["size"], bytes.len());
    assert_eq!(ready["payload"]["mime_type"], "image/jpeg");
    assert_eq!(ready["conversation_id"], json!(conv));
    assert_eq!(env.proxy.faults.fail_media.load(Ordering::SeqCst), 0);

    let resp = env.get(&ana, &format!("/v1/media/{media_id}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
    // Stored content-addressed next to the database.
    let sha = hex::encode(Sha256::digest(&bytes));
    assert!(env.dir.path().join("media").join(&sha).exists());

    let resp = env.get(&rita, &format!("/v1/media/{media_id}")).await;
    assert_eq!(resp.status(), 404);
    let resp = env.get(&ana, "/v1/media/unknown-id").await;
    assert_eq!(resp.status(), 404);
    let resp = env
        .http
        .get(format!("{}/v1/media/{media_id}", env.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Once assigned to Rita, she may fetch it.
    env.command(
        &ana,
        json!({"type": "assign", "conversation_id": conv, "member_id": rita.member_id}),
    )
    .await;
    let resp = env.get(&rita, &format!("/v1/media/{media_id}")).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_recipient_over_its_pair_rate_is_backed_off_and_keeps_its_order() {
    // One message per 300 ms to the same customer, no burst (Meta: 131056).
    let env = Env::start_with(
        |mut c| {
            c.pair_burst = 1;
            c.pair_interval = std::time::Duration::from_millis(300);
            c
        },
        fast_outbound(),
    )
    .await;
    let ana = env.device("admin", "Ana").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let (_, conv) = env
        .customer_writes(&mut sa, json!({"from": CUSTOMER, "text": "Hi"}))
        .await;
    env.command(&ana, json!({"type": "claim", "conversation_id": conv}))
        .await;
    let mut ids = Vec::new();
    for body in ["one", "two", "three"] {
        let (s, v) = env.command(&ana, text(conv, body)).await;
        assert_eq!(s, 200, "{v}");
        ids.push(message_id(&v));
    }
    for m in &ids {
        sa.until(is("message.sent", m)).await;
    }
    for m in &ids {
        assert_eq!(env.sim_sent_for(m).await.len(), 1);
    }
    let sent = env.sim_get("/_sim/sent").await["messages"].clone();
    let bodies: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["request"]["text"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["one", "two", "three"]);
    let metrics = env.metrics().await;
    assert!(
        metrics.contains("teamline_send_errors_total{code=\"131056\"}"),
        "{metrics}"
    );

    // Snooze and reopen go through the same log.
    let until = env.clock.now() + jiff::SignedDuration::from_hours(2);
    let (s, v) = env
        .command(
            &ana,
            json!({"type": "snooze", "conversation_id": conv, "until": until}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let snoozed = sa
        .until(|e| e["kind"] == "conversation.status" && e["payload"]["status"] == "snoozed")
        .await;
    assert_eq!(snoozed["payload"]["until"], json!(until));
    let (s, v) = env
        .command(&ana, json!({"type": "reopen", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200, "{v}");
    sa.until(|e| e["kind"] == "conversation.status" && e["payload"]["status"] == "open")
        .await;
    let (s, v) = env
        .command(&ana, json!({"type": "reopen", "conversation_id": conv}))
        .await;
    assert_eq!(
        (s, v["seq"].clone()),
        (200, Value::Null),
        "no change, no event"
    );
}

#[tokio::test]
async fn viewing_reaches_who_may_see_the_conversation_and_is_refused_to_who_may_not() {
    let env = Env::start().await;
    let ana = env.device("admin", "Ana").await;
    let bob = env.device("admin", "Bob").await;
    let rita = env.device("restricted", "Rita").await;
    let mut sa = Stream::open(&env, &ana, 0).await;
    let mut sr = Stream::open(&env, &rita, 0).await;
    let (_, conv) = env
        .customer_writes(
            &mut sa,
            json!({"from": CUSTOMER, "name": "Carla", "text": "Hi"}),
        )
        .await;

    let (s, v) = env
        .command(&bob, json!({"type": "viewing", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["seq"].is_null(), "presence is never stored: {v}");
    let viewing = sa.until(|e| e["kind"] == "presence.viewing").await;
    assert_eq!(viewing["payload"]["member_name"], "Bob");
    assert_eq!(viewing["payload"]["conversation_id"], json!(conv));

    // Rita (restricted, not assigned) may not see it: refused without revealing it, and
    // her stream never carries Bob's presence.
    let (s, v) = env
        .command(&rita, json!({"type": "viewing", "conversation_id": conv}))
        .await;
    assert_ne!(s, 200, "{v}");
    let (s, _) = env
        .command(
            &ana,
            json!({"type": "assign", "conversation_id": conv, "member_id": rita.member_id}),
        )
        .await;
    assert_eq!(s, 200);
    sr.until(|e| e["kind"] == "conversation.assigned").await;
    assert_eq!(sr.count(|e| e["kind"] == "presence.viewing"), 0);
}

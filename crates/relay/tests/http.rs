//! The relay over real HTTP on 127.0.0.1:0 with a real SQLite file.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{Sse, TestRelay, kind, payloads};
use serde_json::{Value, json};
use teamline_relay::ingest;

#[tokio::test]
async fn handshake_echoes_the_challenge_only_for_the_right_token() {
    let t = TestRelay::start().await;
    let ok = t
        .http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=1158201444",
            t.webhook_url(),
            common::VERIFY
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad = t
        .http
        .get(format!(
            "{}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            t.webhook_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
}

#[tokio::test]
async fn bad_signatures_store_nothing_oversize_is_413_and_malformed_json_is_quarantined() {
    let t = TestRelay::start().await;
    let body = payloads::text("34600111222", "wamid.X", "hola");
    for sig in [
        None,
        Some("sha256=00"),
        Some(&*teamline_whatsapp::signature::sign(b"other", &body)),
    ] {
        let mut req = t.http.post(t.webhook_url()).body(body.clone());
        if let Some(s) = sig {
            req = req.header(teamline_whatsapp::signature::HEADER, s);
        }
        assert_eq!(req.send().await.unwrap().status(), 401);
    }
    let counts = t.storage.read(|tx| tx.counts()).await.unwrap();
    assert_eq!(
        (counts.raw_webhooks, counts.events, counts.quarantine),
        (0, 0, 0)
    );

    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    assert_eq!(t.post_webhook(huge).await, 413);

    assert_eq!(t.post_webhook(b"{\"entry\": [".to_vec()).await, 200);
    let counts = t.storage.read(|tx| tx.counts()).await.unwrap();
    assert_eq!(
        (counts.raw_webhooks, counts.events, counts.quarantine),
        (0, 0, 1)
    );

    let admin = t.device("admin", None).await;
    let (status, q) = t.get(&admin, "/v1/admin/quarantine").await;
    assert_eq!(status, 200);
    assert_eq!(q["quarantine"][0]["body"], "{\"entry\": [");
    let restricted = t.device("restricted", None).await;
    let (status, err) = t.get(&restricted, "/v1/admin/quarantine").await;
    assert_eq!(status, 403);
    assert_eq!(err["code"], "permission_denied");

    let metrics = t
        .http
        .get(format!("{}/metrics", t.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("teamline_webhooks_rejected_total{reason=\"signature\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("teamline_webhooks_rejected_total{reason=\"too_large\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("teamline_webhooks_quarantined_total 1"),
        "{metrics}"
    );
    let health: Value = t
        .http
        .get(format!("{}/healthz", t.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn the_same_payload_five_times_three_at_once_is_one_event_and_one_delivery_per_device() {
    let t = Arc::new(TestRelay::start().await);
    let a = t.device("admin", None).await;
    let b = t.device("supervisor", None).await;
    let start = t.head().await;
    let mut sa = Sse::connect(&t.http, &t.url, &a.token, Some(start))
        .await
        .unwrap();
    let mut sb = Sse::connect(&t.http, &t.url, &b.token, Some(start))
        .await
        .unwrap();

    let body = payloads::text("34600111222", "wamid.DUP", "hola");
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (t, body) = (Arc::clone(&t), body.clone());
        tasks.push(tokio::spawn(async move { t.post_webhook(body).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(t.post_webhook(body.clone()).await, 200);
    assert_eq!(t.post_webhook(body).await, 200);
    // A marker after the duplicates: everything before it has been delivered.
    assert_eq!(
        t.post_webhook(payloads::text("34600111222", "wamid.END", "fin"))
            .await,
        200
    );

    for sse in [&mut sa, &mut sb] {
        let mut received = Vec::new();
        loop {
            let m = sse.next().await.unwrap();
            let v: Value = serde_json::from_str(&m.data).unwrap();
            let wamid = v["payload"]["message"]["wamid"].as_str().map(str::to_owned);
            received.push((kind(&v).to_owned(), wamid.clone()));
            if wamid.as_deref() == Some("wamid.END") {
                break;
            }
        }
        let dup = received
            .iter()
            .filter(|(k, w)| k == "message.received" && w.as_deref() == Some("wamid.DUP"))
            .count();
        assert_eq!(dup, 1, "{received:?}");
        assert_eq!(received.len(), 3, "opened, DUP, END: {received:?}");
    }
    let counts = t.storage.read(|tx| tx.counts()).await.unwrap();
    assert_eq!((counts.messages, counts.raw_webhooks), (2, 2));
}

#[tokio::test]
async fn an_offline_device_gets_a_contiguous_run_from_its_cursor_including_one_sent_during_reconnect()
 {
    let t = Arc::new(TestRelay::start().await);
    let d = t.device("admin", None).await;
    assert_eq!(
        t.post_webhook(payloads::text("34600111222", "wamid.first", "hola"))
            .await,
        200
    );
    let (_, me) = t.get(&d, "/v1/me").await;
    let cursor = me["head_seq"].as_u64().unwrap();

    for i in 0..100 {
        let body = payloads::text("34600111222", &format!("wamid.off.{i}"), "mensaje");
        assert_eq!(t.post_webhook(body).await, 200);
    }
    let during = {
        let t = Arc::clone(&t);
        tokio::spawn(async move {
            t.post_webhook(payloads::text("34600111222", "wamid.during", "otra"))
                .await
        })
    };
    let mut sse = Sse::connect(&t.http, &t.url, &d.token, Some(cursor))
        .await
        .unwrap();
    assert_eq!(during.await.unwrap(), 200);
    let mut seqs = Vec::new();
    let mut wamids = HashSet::new();
    while seqs.len() < 101 {
        let m = sse.next().await.unwrap();
        let v: Value = serde_json::from_str(&m.data).unwrap();
        assert_eq!(m.id, v["seq"].as_u64());
        seqs.push(m.id.unwrap());
        wamids.insert(
            v["payload"]["message"]["wamid"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let expected: Vec<u64> = (cursor + 1..=cursor + 101).collect();
    assert_eq!(seqs, expected);
    assert!(wamids.contains("wamid.during") && wamids.contains("wamid.off.99"));

    // The long-poll gives the same run.
    let polled = t.collect(&d, cursor, 101).await;
    let polled: Vec<u64> = polled.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert_eq!(polled[..101], expected[..]);
}

#[tokio::test]
async fn an_expired_cursor_gets_410_resync_required() {
    let t = TestRelay::start().await;
    let d = t.device("admin", None).await;
    for i in 0..3 {
        t.post_webhook(payloads::text("34600111222", &format!("wamid.{i}"), "x"))
            .await;
    }
    t.clock.advance(Duration::from_secs(31 * 24 * 3600));
    // Something recent survives retention.
    t.post_webhook(payloads::text("34600111222", "wamid.new", "x"))
        .await;
    let floor = teamline_relay::prune_now(t.relay.state()).await.unwrap();
    assert!(floor > 0);
    let (status, body) = t.get(&d, "/v1/events?after=0").await;
    assert_eq!(status, 410);
    assert_eq!(body["code"], "resync_required");
    let err = Sse::connect(&t.http, &t.url, &d.token, Some(1))
        .await
        .err()
        .unwrap();
    assert_eq!(err.0, 410);
    assert_eq!(err.1["code"], "resync_required");
    // A cursor ahead of the log (another database) is refused the same way.
    let (status, body) = t
        .get(&d, &format!("/v1/events?after={}", t.head().await + 1000))
        .await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (410, Some("resync_required"))
    );
    // From the floor on, delivery works.
    let events = t.collect(&d, floor, 1).await;
    assert_eq!(events[0]["payload"]["message"]["wamid"], "wamid.new");
}

#[tokio::test]
async fn twenty_producers_times_two_hundred_events_reach_five_streams_exactly_and_in_order() {
    let t = Arc::new(TestRelay::start().await);
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(t.device("admin", None).await);
    }
    let start = t.head().await;
    let mut streams = Vec::new();
    for d in &devices {
        streams.push(
            Sse::connect(&t.http, &t.url, &d.token, Some(start))
                .await
                .unwrap(),
        );
    }
    let mut producers = Vec::new();
    for p in 0..20 {
        let t = Arc::clone(&t);
        producers.push(tokio::spawn(async move {
            for i in 0..200 {
                // One customer per producer: 20 conversations.
                let body =
                    payloads::text(&format!("3460000{p:04}"), &format!("wamid.{p}.{i}"), "x");
                assert_eq!(t.post_webhook(body).await, 200);
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    let expected: HashSet<String> = (0..20)
        .flat_map(|p| (0..200).map(move |i| format!("wamid.{p}.{i}")))
        .collect();
    let head = t.head().await;
    assert_eq!(
        head - start,
        4000 + 20,
        "4000 messages and 20 conversations opened"
    );
    for mut s in streams {
        let mut got = Vec::new();
        let mut last = start;
        while last < head {
            let m = s.next().await.expect("the stream stays open");
            let seq =
                m.id.unwrap_or_else(|| panic!("a control event, not an event: {m:?}"));
            assert_eq!(seq, last + 1, "in order, no gaps");
            last = seq;
            let v: Value = serde_json::from_str(&m.data).unwrap();
            if kind(&v) == "message.received" {
                got.push(
                    v["payload"]["message"]["wamid"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
        }
        assert_eq!(got.len(), 4000);
        assert_eq!(got.into_iter().collect::<HashSet<_>>(), expected);
    }
}

#[tokio::test]
async fn a_restricted_device_sees_only_conversations_assigned_to_its_member() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", None).await;
    let r = t.device("restricted", Some("Rita")).await;
    let start = t.head().await;
    t.post_webhook(payloads::text("34600000001", "wamid.c1.a", "uno"))
        .await;
    t.post_webhook(payloads::text("34600000002", "wamid.c2.a", "dos"))
        .await;
    let c1 = t
        .storage
        .read(|tx| tx.conversation_by_customer("34600000001"))
        .await
        .unwrap()
        .unwrap();
    let c2 = t
        .storage
        .read(|tx| tx.conversation_by_customer("34600000002"))
        .await
        .unwrap()
        .unwrap();

    // Nothing visible yet: a short poll returns no events but moves the cursor past them.
    let (_, v) = t.get(&r, &format!("/v1/events?after={start}&wait=0")).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 0);
    assert_eq!(v["next"].as_u64().unwrap(), t.head().await);

    let (member, now) = (r.member_id, t.clock.now());
    let c1_id = c1.id;
    t.storage
        .write(move |tx| ingest::assign_conversation(tx, c1_id, Some(member), None, now))
        .await
        .unwrap();
    t.post_webhook(payloads::text("34600000002", "wamid.c2.b", "dos otra"))
        .await;
    t.post_webhook(payloads::text("34600000001", "wamid.c1.b", "uno otra"))
        .await;

    let mut sse = Sse::connect(&t.http, &t.url, &r.token, Some(start))
        .await
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let m = sse.next().await.unwrap();
        let v: Value = serde_json::from_str(&m.data).unwrap();
        assert_eq!(v["conversation_id"], json!(c1.id), "{v}");
        seen.push(kind(&v).to_owned());
        if v["payload"]["message"]["wamid"] == "wamid.c1.b" {
            break;
        }
    }
    // Visibility is judged on the conversation's current assignment.
    assert!(
        seen.contains(&"conversation.assigned".to_owned()),
        "{seen:?}"
    );

    let (_, list) = t.get(&r, "/v1/conversations").await;
    let ids: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![c1.id.to_string()]);
    let (status, _) = t
        .get(&r, &format!("/v1/conversations/{}/messages", c2.id))
        .await;
    assert_eq!(status, 404);
    let (status, page) = t
        .get(&r, &format!("/v1/conversations/{}/messages?limit=1", c1.id))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][0]["wamid"], "wamid.c1.b");
    let before = page["next_before"].as_str().unwrap();
    let (_, older) = t
        .get(
            &r,
            &format!("/v1/conversations/{}/messages?before={before}", c1.id),
        )
        .await;
    assert_eq!(older["messages"][0]["wamid"], "wamid.c1.a");

    let (_, all) = t.get(&admin, "/v1/conversations").await;
    assert_eq!(all["conversations"].as_array().unwrap().len(), 2);
    let (status, _) = t.get(&r, "/v1/devices").await;
    assert_eq!(status, 403);
    let (_, me) = t.get(&r, "/v1/me").await;
    assert_eq!(me["permissions"], json!(["reply"]));
}

#[tokio::test]
async fn pairing_codes_are_single_use_expire_and_three_failures_cool_an_address_down() {
    let t = TestRelay::start().await;
    let code = t.code("standard", None).await;
    let first = t.claim(&code, "Front desk").await;
    assert_eq!(first.status(), 200);
    let v: Value = first.json().await.unwrap();
    assert_eq!(v["level"], json!({"preset": "standard"}));
    assert_eq!(v["token"].as_str().unwrap().len(), 43);

    let used = t.claim(&code, "Again").await;
    let (used_status, used_body) = (used.status(), used.text().await.unwrap());
    assert_eq!(used_status, 400);

    let expiring = t.code("standard", None).await;
    t.clock.advance(Duration::from_secs(91));
    let expired = t.claim(&expiring, "Late").await;
    assert_eq!(
        (expired.status(), expired.text().await.unwrap()),
        (used_status, used_body.clone())
    );

    // That was two failures from this address; a third (unknown code) starts the cool-down.
    let unknown = t.claim("AAAAA-AAAAA", "Guess").await;
    assert_eq!(
        (unknown.status(), unknown.text().await.unwrap()),
        (used_status, used_body.clone())
    );
    let good = t.code("standard", None).await;
    let cooling = t.claim(&good, "Legit").await;
    assert_eq!(
        (cooling.status(), cooling.text().await.unwrap()),
        (used_status, used_body.clone())
    );

    t.clock.advance(Duration::from_secs(5 * 60 + 1));
    let fresh = t.code("standard", None).await;
    assert_eq!(t.claim(&fresh, "Legit").await.status(), 200);
    let counts = t.storage.read(|tx| tx.counts()).await.unwrap();
    assert_eq!(counts.devices, 2);
}

#[tokio::test]
async fn a_revoked_device_gets_401_at_once_and_its_stream_ends() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", None).await;
    let laptop = t.device("standard", None).await;
    let (status, _) = t.get(&laptop, "/v1/me").await;
    assert_eq!(status, 200);
    let mut sse = Sse::connect(&t.http, &t.url, &laptop.token, Some(t.head().await))
        .await
        .unwrap();

    let (_, list) = t.get(&admin, "/v1/devices").await;
    assert_eq!(list["devices"].as_array().unwrap().len(), 2);
    let (status, _) = t.get(&laptop, "/v1/devices").await;
    assert_eq!(status, 403, "standard devices cannot manage the team");
    // Unlinking is sensitive: the admin sets a PIN, then gives it again.
    t.relay.state().pin_cost.set(8, 1);
    let resp = t
        .http
        .put(format!("{}/v1/me/pin", t.url))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({"new_pin": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = t
        .http
        .post(format!("{}/v1/devices/{}/revoke", t.url, laptop.device_id))
        .bearer_auth(&admin.token)
        .header("x-teamline-pin", "123456")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (status, body) = t.get(&laptop, "/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "device_unlinked");
    let last = sse.next().await.expect("a final event");
    assert_eq!(last.event.as_deref(), Some("device_unlinked"));
    assert!(sse.next().await.is_none(), "stream closed");
    let (status, _) = t.get(&admin, "/v1/me").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn every_message_type_from_the_sim_lands_as_an_event() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", None).await;
    let start = t.head().await;
    let sim = whatsapp_sim::Sim::start(whatsapp_sim::SimConfig {
        webhook_url: Some(t.webhook_url()),
        app_secret: common::SECRET.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let messages = [
        json!({"type": "text", "text": {"body": "hola"}}),
        json!({"type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "foto"}}),
        json!({"type": "video", "video": {"id": "m2", "mime_type": "video/mp4"}}),
        json!({"type": "audio", "audio": {"id": "m3", "mime_type": "audio/ogg", "voice": true}}),
        json!({"type": "document", "document": {"id": "m4", "mime_type": "application/pdf", "filename": "f.pdf"}}),
        json!({"type": "sticker", "sticker": {"id": "m5", "mime_type": "image/webp", "animated": false}}),
        json!({"type": "location", "location": {"latitude": 40.4, "longitude": -3.7, "name": "Sol"}}),
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Bea"}, "phones": [{"phone": "+34 600"}]}]}),
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Sí"}}}),
        json!({"type": "button", "button": {"payload": "P", "text": "Confirmar"}}),
        json!({"type": "reaction", "reaction": {"message_id": "wamid.any", "emoji": "👍"}}),
        json!({"type": "order", "order": {"catalog_id": "c", "product_items": [{"product_retailer_id": "p", "quantity": 2, "item_price": 5.0, "currency": "EUR"}]}}),
        json!({"type": "system", "system": {"body": "changed number", "type": "customer_changed_number", "new_wa_id": "34600999999"}}),
        json!({"type": "unsupported", "unsupported": {"type": "edit"}, "errors": [{"code": 131051, "title": "Message type unknown"}]}),
        json!({"type": "poll", "poll": {"question": "?"}}),
    ];
    let client = reqwest::Client::new();
    for m in &messages {
        let resp = client
            .post(format!("{}/_sim/inbound", sim.base_url()))
            .json(&json!({"from": "34600111222", "name": "Ana", "message": m}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    // opened + one message.received per type
    let events = t.collect(&admin, start, messages.len() + 1).await;
    let received: Vec<&Value> = events
        .iter()
        .filter(|e| kind(e) == "message.received")
        .collect();
    let types: Vec<&str> = received
        .iter()
        .map(|e| e["payload"]["message"]["type"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = messages
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, expected);
    for e in &received {
        let supported = e["payload"]["supported"].as_bool().unwrap();
        let ty = e["payload"]["message"]["type"].as_str().unwrap();
        assert_eq!(supported, !["unsupported", "poll"].contains(&ty), "{ty}");
        if !supported {
            // Kept raw: the original object with its type-specific content.
            assert!(e["payload"]["message"]["body"].get(ty).is_some(), "{e}");
        }
    }
    let conv = t
        .storage
        .read(|tx| tx.conversation_by_customer("34600111222"))
        .await
        .unwrap()
        .unwrap();
    assert!(conv.window_expires_at.unwrap() > t.clock.now());
    assert_eq!(conv.name.as_deref(), Some("Ana"));
    sim.shutdown().await;
}

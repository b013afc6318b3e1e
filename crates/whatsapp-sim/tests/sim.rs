//! The sim over real HTTP on 127.0.0.1:0, driven by its control API and a recording
//! webhook receiver. The clock is frozen, so time moves only when a test says so.

mod common;

use common::*;
use serde_json::{Value, json};
use teamline_whatsapp::signature;

const CUSTOMER: &str = "447700900123";

#[tokio::test]
async fn wrong_or_missing_token_is_190_with_401() {
    let env = start().await;
    let body = json!({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "hi"}});
    for token in [None, Some("nope")] {
        let got = env.send_as(token, body.clone()).await;
        let e = assert_error(&got, 401, 190);
        assert!(e.get("error_data").is_none());
    }
    let phone = env
        .http
        .get(env.url(&format!("/{VERSION}/{PHONE_ID}")))
        .send()
        .await
        .unwrap();
    assert_eq!(phone.status().as_u16(), 401);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_are_100() {
    let env = start().await;
    let cases = [
        json!({"to": CUSTOMER, "type": "text", "text": {"body": "x"}}),
        json!({"messaging_product": "sms", "to": CUSTOMER, "text": {"body": "x"}}),
        json!({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "fax"}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text"}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {}}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "audio", "audio": {"link": "https://x.test/a.ogg", "caption": "no"}}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "a", "title": "1"}}, {"type": "reply", "reply": {"id": "b", "title": "2"}},
            {"type": "reply", "reply": {"id": "c", "title": "3"}}, {"type": "reply", "reply": {"id": "d", "title": "4"}}]}}}),
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "reaction", "reaction": {"emoji": "👍"}}),
    ];
    for body in cases {
        assert_error(&env.send(body).await, 400, 100);
    }
    // A message the business never received cannot be marked as read.
    let got = env
        .send(
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope"}),
        )
        .await;
    let e = assert_error(&got, 400, 100);
    assert_eq!(e["error_data"]["messaging_product"], "whatsapp");
    assert!(
        env.get("/_sim/sent").await["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn text_and_caption_lengths_are_enforced() {
    let mut env = start().await;
    env.customer_says(CUSTOMER, "hello").await;
    let ok = env.send_text(CUSTOMER, &"я".repeat(4096)).await;
    assert_eq!(ok.0, 200, "{}", ok.1);
    let e = assert_error(&env.send_text(CUSTOMER, &"я".repeat(4097)).await, 400, 100);
    assert!(
        e["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("4096")
    );

    let image = |caption: String| {
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image",
        "image": {"link": "https://cdn.example.test/p.jpg", "caption": caption}})
    };
    assert_eq!(env.send(image("c".repeat(1024))).await.0, 200);
    let e = assert_error(&env.send(image("c".repeat(1025))).await, 400, 100);
    assert!(
        e["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("1024")
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn success_bodies_match_meta() {
    let mut env = start().await;
    env.customer_says(CUSTOMER, "hi").await;
    let (status, body) = env.send_text("+44 7700 900123", "Hello!").await;
    assert_eq!(status, 200);
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"],
        json!([{"input": "+44 7700 900123", "wa_id": CUSTOMER}])
    );
    let id = wamid_of(&body);
    assert!(id.starts_with("wamid."));
    // Only template sends carry message_status.
    assert!(body["messages"][0].get("message_status").is_none());
    let (status, body) = env
        .send(
            json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages"][0]["message_status"], "accepted");

    // Every documented kind of send is accepted.
    for extra in [
        json!({"type": "reaction", "reaction": {"message_id": id, "emoji": "👍"}}),
        json!({"type": "reaction", "reaction": {"message_id": id, "emoji": ""}}),
        json!({"type": "sticker", "sticker": {"link": "https://x.test/s.webp"}}),
        json!({"type": "document", "document": {"link": "https://x.test/i.pdf", "filename": "i.pdf", "caption": "Invoice"}}),
        json!({"type": "location", "location": {"latitude": 51.5, "longitude": -0.12}}),
        json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "Choose"}, "action": {"button": "Options",
            "sections": [{"title": "Orders", "rows": [{"id": "r1", "title": "Track order", "description": "Where is it?"}]}]}}}),
        json!({"type": "text", "context": {"message_id": id}, "text": {"body": "reply", "preview_url": true}}),
    ] {
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let got = env.send(body).await;
        assert_eq!(got.0, 200, "{}", got.1);
    }
    env.sim.shutdown().await;
}

#[tokio::test]
async fn templates_must_exist_be_approved_and_match_parameter_counts() {
    let env = start().await;
    let template = |name: &str, lang: &str, params: usize| {
        let parameters: Vec<Value> = (0..params)
            .map(|i| json!({"type": "text", "text": format!("p{i}")}))
            .collect();
        json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template", "template": {
            "name": name, "language": {"code": lang},
            "components": [{"type": "body", "parameters": parameters}]}})
    };
    assert_eq!(env.send(template("order_update", "en_US", 2)).await.0, 200);
    assert_eq!(env.send(template("order_update", "zh_CN", 2)).await.0, 200);
    assert_error(
        &env.send(template("order_update", "en_US", 1)).await,
        400,
        132000,
    );
    assert_error(
        &env.send(template("order_update", "en_US", 3)).await,
        400,
        132000,
    );
    assert_error(
        &env.send(template("no_such", "en_US", 0)).await,
        404,
        132001,
    );
    assert_error(
        &env.send(template("order_update", "de", 2)).await,
        404,
        132001,
    );
    // Exists but is still pending review.
    assert_error(
        &env.send(template("loyalty_card", "en_US", 0)).await,
        404,
        132001,
    );

    env.control(
        "/_sim/templates",
        json!({"name": "pickup_ready", "language": "en_US",
        "status": "APPROVED", "body_params": 1}),
    )
    .await;
    assert_eq!(env.send(template("pickup_ready", "en_US", 1)).await.0, 200);
    env.control(
        "/_sim/templates",
        json!({"name": "pickup_ready", "language": "en_US",
        "status": "PAUSED", "body_params": 1}),
    )
    .await;
    assert_error(
        &env.send(template("pickup_ready", "en_US", 1)).await,
        400,
        132015,
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn throughput_limit_is_130429_per_second_of_sim_time() {
    let env = start_with(|c| c.throughput_per_sec = 5).await;
    for i in 0..5 {
        let got = env.send_text(&format!("4470090000{i}"), "x").await;
        assert_eq!(got.0, 200, "{}", got.1);
    }
    assert_error(&env.send_text("447009000099", "x").await, 400, 130429);
    env.advance(1.0).await;
    assert_eq!(env.send_text("447009000099", "x").await.0, 200);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn pair_rate_allows_a_burst_of_45_then_one_per_6_seconds() {
    let env = start().await;
    for _ in 0..45 {
        assert_eq!(env.send_text(CUSTOMER, "x").await.0, 200);
    }
    let e = assert_error(&env.send_text(CUSTOMER, "x").await, 400, 131056);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("pair rate limit hit")
    );
    // Another customer is not affected.
    assert_eq!(env.send_text("447700900999", "x").await.0, 200);
    env.advance(5.0).await;
    assert_error(&env.send_text(CUSTOMER, "x").await, 400, 131056);
    env.advance(1.0).await;
    assert_eq!(env.send_text(CUSTOMER, "x").await.0, 200);
    assert_error(&env.send_text(CUSTOMER, "x").await, 400, 131056);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn messaging_limit_counts_unique_users_outside_the_window_per_24h() {
    let mut env = start_with(|c| c.messaging_limit = 2).await;
    let hello = |to: &str| {
        json!({"messaging_product": "whatsapp", "to": to, "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}}})
    };
    assert_eq!(env.send(hello("15550000001")).await.0, 200);
    assert_eq!(env.send(hello("15550000002")).await.0, 200);
    // The same users again do not count twice.
    assert_eq!(env.send(hello("15550000001")).await.0, 200);
    let e = assert_error(&env.send(hello("15550000003")).await, 400, 131048);
    assert!(
        e["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("messaging limit")
    );
    // A customer who wrote in is inside the window and not limited.
    env.customer_says("15550000004", "hi").await;
    assert_eq!(env.send(hello("15550000004")).await.0, 200);
    env.advance(24.0 * 3600.0).await;
    assert_eq!(env.send(hello("15550000003")).await.0, 200);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn statuses_arrive_in_order_signed_over_meta_escaped_bytes() {
    let mut env = start().await;
    let inbound = env
        .customer_says(CUSTOMER, "Привет 你好 😀 see https://shop.example/o/1")
        .await;
    let raw = std::str::from_utf8(&inbound.body).expect("ASCII bytes");
    assert!(raw.is_ascii());
    assert!(
        raw.contains(r"\u041f\u0440\u0438\u0432\u0435\u0442 \u4f60\u597d \ud83d\ude00"),
        "{raw}"
    );
    assert!(raw.contains(r"https:\/\/shop.example\/o\/1"));
    assert!(!raw.contains(": ") && !raw.contains('\n'), "compact JSON");
    assert!(raw.starts_with(r#"{"object":"whatsapp_business_account","entry":[{"id":""#));
    signature::verify(SECRET.as_bytes(), &inbound.body, inbound.signature()).expect("signature");
    let v = inbound.json();
    let value = &v["entry"][0]["changes"][0]["value"];
    assert_eq!(v["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(value["metadata"]["phone_number_id"], PHONE_ID);
    assert_eq!(value["contacts"][0]["wa_id"], CUSTOMER);
    assert_eq!(value["contacts"][0]["profile"]["name"], "Test Customer");
    let m = &value["messages"][0];
    assert_eq!(
        m["text"]["body"],
        "Привет 你好 😀 see https://shop.example/o/1"
    );
    assert!(m["timestamp"].as_str().unwrap().parse::<i64>().is_ok());

    let (_, sent) = env.send_text(CUSTOMER, "Thanks — we're on it ✅").await;
    let id = wamid_of(&sent);
    let first = env.hooks.next().await;
    assert_eq!(statuses(&first), vec![(id.clone(), "sent".to_string())]);
    env.hooks.quiet().await;
    env.advance(1.0).await;
    let second = env.hooks.next().await;
    env.advance(1.0).await;
    let third = env.hooks.next().await;
    assert_eq!(
        statuses(&second),
        vec![(id.clone(), "delivered".to_string())]
    );
    assert_eq!(statuses(&third), vec![(id.clone(), "read".to_string())]);
    for hit in [&first, &second, &third] {
        signature::verify(SECRET.as_bytes(), &hit.body, hit.signature()).expect("signature");
    }
    let s = &first.json()["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(s["recipient_id"], CUSTOMER);
    assert_eq!(s["pricing"]["category"], "service");
    assert_eq!(s["pricing"]["billable"], false);
    assert_eq!(s["conversation"]["origin"]["type"], "service");
    assert!(s["conversation"]["expiration_timestamp"].is_string());
    let read = &third.json()["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert!(read.get("pricing").is_none());
    let t1: i64 = s["timestamp"].as_str().unwrap().parse().unwrap();
    let t3: i64 = read["timestamp"].as_str().unwrap().parse().unwrap();
    assert_eq!(t3 - t1, 2, "timestamps follow the sim clock");

    let listed = env.get("/_sim/sent").await;
    let statuses: Vec<&str> = listed["messages"][0]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "delivered", "read"]);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn outside_the_window_text_is_accepted_then_fails_with_131047() {
    let mut env = start().await;
    // Never wrote in: no window.
    let (status, body) = env.send_text(CUSTOMER, "Hello?").await;
    assert_eq!(status, 200);
    let hit = env.hooks.next().await;
    let s = &hit.json()["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(s["id"], wamid_of(&body).as_str());
    assert_eq!(s["status"], "failed");
    assert_eq!(s["errors"][0]["code"], 131047);
    assert_eq!(s["errors"][0]["title"], "Re-engagement message");
    assert!(s["errors"][0]["error_data"]["details"].is_string());
    signature::verify(SECRET.as_bytes(), &hit.body, hit.signature()).expect("signature");
    env.advance(5.0).await;
    env.hooks.quiet().await;

    // Inside the window it goes through; 24 h after the last inbound it fails again.
    env.customer_says(CUSTOMER, "hi").await;
    env.send_text(CUSTOMER, "Hello!").await;
    assert_eq!(statuses(&env.hooks.next().await)[0].1, "sent");
    env.advance(24.0 * 3600.0).await;
    env.hooks.next().await; // delivered
    env.hooks.next().await; // read
    env.send_text(CUSTOMER, "Still there?").await;
    assert_eq!(statuses(&env.hooks.next().await)[0].1, "failed");
    // A template may still open a conversation.
    let (_, t) = env
        .send(
            json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
        )
        .await;
    let hit = env.hooks.next().await;
    assert_eq!(statuses(&hit), vec![(wamid_of(&t), "sent".to_string())]);
    assert_eq!(
        hit.json()["entry"][0]["changes"][0]["value"]["statuses"][0]["pricing"]["category"],
        "utility"
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn non_200_answers_are_retried_until_200() {
    let mut env = start().await;
    env.hooks.answer_with(&[500, 404]);
    env.control(
        "/_sim/inbound",
        json!({"from": CUSTOMER, "name": "A", "text": "retry me"}),
    )
    .await;
    let a = env.hooks.next().await;
    let b = env.hooks.next().await;
    let c = env.hooks.next().await;
    assert_eq!(a.body, b.body);
    assert_eq!(b.body, c.body);
    assert_eq!(a.signature(), c.signature());
    env.hooks.quiet().await;
    let d = &env.get("/_sim/deliveries").await["deliveries"][0];
    let outcomes: Vec<&str> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["http_error", "http_error", "ok"]);
    assert_eq!(d["delivered"], true);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_receiver_that_never_answers_200_is_given_up_after_the_window() {
    let mut env = start_with(|c| c.retry.window = std::time::Duration::from_millis(100)).await;
    env.hooks.answer_with(&[503; 64]);
    env.control("/_sim/inbound", json!({"from": CUSTOMER, "text": "x"}))
        .await;
    env.hooks.next().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let d = env.get("/_sim/deliveries").await["deliveries"][0].clone();
        if d["gave_up"] == true {
            assert_eq!(d["delivered"], false);
            assert!(d["attempts"].as_array().unwrap().len() >= 2);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never gave up");
        env.hooks.within(50).await;
    }
    env.sim.shutdown().await;
}

#[tokio::test]
async fn fault_duplicate_delivers_every_webhook_twice() {
    let mut env = start().await;
    env.control("/_sim/faults", json!({"duplicate": true}))
        .await;
    env.control("/_sim/inbound", json!({"from": CUSTOMER, "text": "once"}))
        .await;
    let a = env.hooks.next().await;
    let b = env.hooks.next().await;
    assert_eq!(a.body, b.body);
    signature::verify(SECRET.as_bytes(), &b.body, b.signature()).expect("signature");
    let ds = env.get("/_sim/deliveries").await;
    assert_eq!(
        ds["deliveries"][1]["duplicate_of"],
        ds["deliveries"][0]["id"]
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn fault_out_of_order_sends_read_before_sent() {
    let mut env = start().await;
    env.customer_says(CUSTOMER, "hi").await;
    env.control("/_sim/faults", json!({"out_of_order": true}))
        .await;
    let (_, body) = env.send_text(CUSTOMER, "x").await;
    env.hooks.quiet().await;
    env.advance(2.0).await;
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(statuses(&env.hooks.next().await)[0].1.clone());
    }
    assert_eq!(order, ["read", "delivered", "sent"]);
    let _ = body;
    env.sim.shutdown().await;
}

#[tokio::test]
async fn fault_batch_puts_several_messages_in_one_post() {
    let mut env = start().await;
    env.control("/_sim/faults", json!({"batch": 3})).await;
    for text in ["one", "two", "three", "four"] {
        env.control("/_sim/inbound", json!({"from": CUSTOMER, "text": text}))
            .await;
    }
    let hit = env.hooks.next().await;
    let entries = hit.json()["entry"].as_array().unwrap().clone();
    let texts: Vec<&str> = entries
        .iter()
        .map(|e| {
            e["changes"][0]["value"]["messages"][0]["text"]["body"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    signature::verify(SECRET.as_bytes(), &hit.body, hit.signature()).expect("signature");
    env.hooks.quiet().await;
    // Turning the fault off flushes what was held back.
    env.control("/_sim/faults", json!({"batch": 0})).await;
    let rest = env.hooks.next().await;
    assert_eq!(
        rest.json()["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"],
        "four"
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn fault_dropped_webhook_connection_is_retried() {
    let mut env = start().await;
    env.control("/_sim/faults", json!({"drop_webhooks": 1}))
        .await;
    env.control(
        "/_sim/inbound",
        json!({"from": CUSTOMER, "text": "lost answer"}),
    )
    .await;
    let first = env.hooks.next().await;
    let again = env.hooks.next().await;
    assert_eq!(
        first.body, again.body,
        "the receiver sees the same webhook twice"
    );
    signature::verify(SECRET.as_bytes(), &first.body, first.signature()).expect("signature");
    let d = &env.get("/_sim/deliveries").await["deliveries"][0];
    assert_eq!(d["attempts"][0]["outcome"], "dropped_connection");
    assert_eq!(d["attempts"][1]["outcome"], "ok");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn fault_dropped_graph_response_still_sends_the_message() {
    let mut env = start().await;
    env.customer_says(CUSTOMER, "hi").await;
    env.control("/_sim/faults", json!({"drop_graph_responses": 1}))
        .await;
    let resp = env
        .http
        .post(env.url(&format!("/{VERSION}/{PHONE_ID}/messages")))
        .bearer_auth(TOKEN)
        .json(&json!({"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "did it go?"}}))
        .send()
        .await;
    let failed = match resp {
        Err(_) => true,
        Ok(r) => r.json::<Value>().await.is_err(),
    };
    assert!(failed, "the caller must not get an answer");
    let sent = env.get("/_sim/sent").await;
    assert_eq!(
        sent["messages"].as_array().unwrap().len(),
        1,
        "but the message was sent"
    );
    assert_eq!(statuses(&env.hooks.next().await)[0].1, "sent");
    // The fault was one-shot.
    assert_eq!(env.send_text(CUSTOMER, "and this?").await.0, 200);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn subscribe_handshake_reports_its_outcome() {
    let env = start().await;
    let ok = env.control("/_sim/handshake", json!({})).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["body"], ok["challenge"]);
    let bad = env
        .control("/_sim/handshake", json!({"verify_token": "wrong"}))
        .await;
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["status"], 403);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn media_upload_limits_info_and_bearer_download() {
    let mut env = start().await;
    let upload = |bytes: Vec<u8>, mime: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("f")
                    .mime_str(mime)
                    .unwrap(),
            );
        env.http
            .post(env.url(&format!("/{VERSION}/{PHONE_ID}/media")))
            .bearer_auth(TOKEN)
            .multipart(form)
            .send()
    };
    let answer = |r: reqwest::Response| async move {
        let s = r.status().as_u16();
        (s, r.json::<Value>().await.unwrap())
    };
    assert_error(
        &answer(
            upload(vec![0; 5 * 1024 * 1024 + 1], "image/jpeg")
                .await
                .unwrap(),
        )
        .await,
        400,
        131053,
    );
    assert_error(
        &answer(upload(vec![0; 100 * 1024 + 1], "image/webp").await.unwrap()).await,
        400,
        131053,
    );
    let mut animated = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0".to_vec();
    animated.resize(300 * 1024, 0);
    assert_eq!(
        upload(animated, "image/webp")
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_error(
        &answer(upload(vec![1; 10], "image/gif").await.unwrap()).await,
        400,
        100,
    );

    let pdf = b"%PDF-1.4 tiny".to_vec();
    let (status, body) = answer(upload(pdf.clone(), "application/pdf").await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let media_id = body["id"].as_str().unwrap().to_string();
    let info: Value = env
        .http
        .get(env.url(&format!("/{VERSION}/{media_id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["messaging_product"], "whatsapp");
    assert_eq!(info["mime_type"], "application/pdf");
    assert_eq!(info["file_size"], pdf.len());
    assert_eq!(info["id"], media_id.as_str());
    use sha2::Digest;
    assert_eq!(info["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    let url = info["url"].as_str().unwrap();
    assert_eq!(
        env.http.get(url).send().await.unwrap().status().as_u16(),
        401
    );
    let got = env.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // Media URLs expire after five minutes.
    env.advance(301.0).await;
    assert_eq!(
        env.http
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    // Sending the PDF as an image is accepted, then fails like Meta's media errors.
    env.customer_says(CUSTOMER, "hi").await;
    let (status, _) = env
        .send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": media_id}}))
        .await;
    assert_eq!(status, 200);
    let hit = env.hooks.next().await;
    assert_eq!(
        hit.json()["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"],
        131053
    );
    assert_eq!(
        env.send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "document", "document": {"id": media_id, "filename": "a.pdf"}}))
            .await
            .0,
        200
    );
    assert_error(
        &env.send(json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": "999"}})).await,
        400,
        131009,
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn phone_number_details_and_mark_as_read() {
    let mut env = start().await;
    let phone: Value = env
        .http
        .get(env.url(&format!("/{VERSION}/{PHONE_ID}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(phone["id"], PHONE_ID);
    assert_eq!(phone["quality_rating"], "GREEN");
    assert!(phone["verified_name"].is_string() && phone["display_phone_number"].is_string());
    let other = env
        .http
        .get(env.url(&format!("/{VERSION}/123")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 400);
    assert_eq!(
        other.json::<Value>().await.unwrap()["error"]["error_subcode"],
        33
    );

    let hit = env.customer_says(CUSTOMER, "hi").await;
    let id = hit.json()["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = env
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": id}))
        .await;
    assert_eq!(read, (200, json!({"success": true})));
    let typing = env
        .send(json!({"messaging_product": "whatsapp", "status": "read", "message_id": id, "typing_indicator": {"type": "text"}}))
        .await;
    assert_eq!(typing, (200, json!({"success": true})));
    let marks = env.get("/_sim/sent").await["read_marks"].clone();
    assert_eq!(marks[1]["typing_indicator"], true);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn inbound_messages_of_every_kind() {
    let mut env = start().await;
    let (_, sent) = env.send_text(CUSTOMER, "template-less hello").await;
    let business_id = wamid_of(&sent);
    env.hooks.next().await; // failed: no window yet

    let value = |hit: &Hit| hit.json()["entry"][0]["changes"][0]["value"]["messages"][0].clone();
    let cases = [
        json!({"type": "image", "image": {"caption": "Broken box"}}),
        json!({"type": "document", "document": {"filename": "receipt.pdf"}}),
        json!({"type": "audio", "audio": {"voice": true}}),
        json!({"type": "sticker"}),
        json!({"type": "location", "location": {"latitude": 55.75, "longitude": 37.61, "name": "Moscow"}}),
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}}),
        json!({"type": "reaction", "reaction": {"message_id": business_id, "emoji": "❤️"}}),
        json!({"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}}),
    ];
    for case in cases {
        let mut req = json!({"from": CUSTOMER, "name": "Ann"});
        req.as_object_mut()
            .unwrap()
            .extend(case.as_object().unwrap().clone());
        let kind = case["type"].as_str().unwrap().to_string();
        env.control("/_sim/inbound", req).await;
        let hit = env.hooks.next().await;
        signature::verify(SECRET.as_bytes(), &hit.body, hit.signature()).expect("signature");
        let m = value(&hit);
        assert_eq!(m["type"], kind.as_str());
        assert!(m[&kind].is_object(), "{m}");
        if ["image", "document", "audio", "sticker"].contains(&kind.as_str()) {
            let media_id = m[&kind]["id"].as_str().expect("media id");
            assert!(m[&kind]["sha256"].is_string() && m[&kind]["mime_type"].is_string());
            let info: Value = env
                .http
                .get(env.url(&format!("/{VERSION}/{media_id}")))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let bytes = env
                .http
                .get(info["url"].as_str().unwrap())
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            use sha2::Digest;
            assert_eq!(
                hex::encode(sha2::Sha256::digest(&bytes)),
                m[&kind]["sha256"].as_str().unwrap()
            );
        }
    }

    // A reply quoting the business's message.
    env.control(
        "/_sim/inbound",
        json!({"from": CUSTOMER, "text": "yes please", "context": {"message_id": business_id}}),
    )
    .await;
    let m = value(&env.hooks.next().await);
    assert_eq!(m["context"]["id"], business_id.as_str());
    assert!(m["context"]["from"].is_string());

    // A raw message, e.g. one Meta could not render.
    env.control("/_sim/inbound", json!({"from": CUSTOMER, "message": {"type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."}}]}})).await;
    let m = value(&env.hooks.next().await);
    assert_eq!(m["type"], "unsupported");
    assert_eq!(m["errors"][0]["code"], 131051);
    assert!(m["id"].as_str().unwrap().starts_with("wamid."));

    let resp = env
        .http
        .post(env.url("/_sim/inbound"))
        .json(&json!({"from": "not a phone", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        env.get("/_sim/inbound").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn reset_forgets_messages_windows_and_faults() {
    let mut env = start().await;
    env.customer_says(CUSTOMER, "hi").await;
    env.control("/_sim/faults", json!({"duplicate": true}))
        .await;
    env.control("/_sim/reset", json!({})).await;
    assert_eq!(env.get("/_sim/faults").await["duplicate"], false);
    assert!(
        env.get("/_sim/deliveries").await["deliveries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    env.send_text(CUSTOMER, "after reset").await;
    assert_eq!(
        statuses(&env.hooks.next().await)[0].1,
        "failed",
        "the window was forgotten"
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_script_runs_a_multilingual_day() {
    let mut env = start_with(|c| {
        c.script = Some(whatsapp_sim::ScriptConfig {
            name: "demo".into(),
            speed: 400.0,
        });
    })
    .await;
    let mut texts = Vec::new();
    let mut kinds = Vec::new();
    for _ in 0..17 {
        let hit = env.hooks.next().await;
        signature::verify(SECRET.as_bytes(), &hit.body, hit.signature()).expect("signature");
        let m = hit.json()["entry"][0]["changes"][0]["value"]["messages"][0].clone();
        kinds.push(m["type"].as_str().unwrap().to_string());
        if let Some(t) = m["text"]["body"].as_str() {
            texts.push(t.to_string());
        }
    }
    assert!(texts.iter().any(|t| t.contains("#returns")));
    assert!(texts.iter().any(|t| t.contains("#urgent")));
    assert!(texts.iter().any(|t| t.contains('订')), "Chinese");
    assert!(texts.iter().any(|t| t.contains("заказ")), "Russian");
    for kind in ["image", "document", "location", "text"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    env.hooks.quiet().await;
    env.sim.shutdown().await;
}

#[tokio::test]
async fn per_recipient_errors_fail_at_send_time_or_in_a_status_webhook() {
    let mut env = start().await;
    let hello = |to: &str| {
        json!({"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}}})
    };
    let bad = env
        .http
        .post(env.url("/_sim/faults"))
        .json(&json!({"recipient_errors": {"34600000001": 131000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "only documented per-recipient codes");
    env.control(
        "/_sim/faults",
        json!({"recipient_errors": {"34600000001": 131026, "34600000002": 131048}}),
    )
    .await;
    // A number-wide limit is Meta's answer to the send itself.
    assert_error(&env.send(hello("34600000002")).await, 400, 131048);
    // Undeliverable is accepted, then reported failed with the code.
    let (status, resp) = env.send(hello("34600000001")).await;
    assert_eq!(status, 200, "{resp}");
    let wamid = wamid_of(&resp);
    let hit = env.hooks.next().await;
    assert_eq!(statuses(&hit), [(wamid, "failed".to_owned())]);
    let v = hit.json();
    let s = &v["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(s["errors"][0]["code"], 131026, "{s}");
    // Others are unaffected; clearing the map ends the fault.
    assert_eq!(env.send(hello("34600000003")).await.0, 200);
    env.control("/_sim/faults", json!({"recipient_errors": {}}))
        .await;
    assert_eq!(env.send(hello("34600000002")).await.0, 200);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn stalled_sends_are_accepted_but_answered_only_when_released() {
    let env = start().await;
    env.control("/_sim/faults", json!({"stall_sends": true}))
        .await;
    let http = env.http.clone();
    let url = env.url(&format!("/{VERSION}/{PHONE_ID}/messages"));
    let call = tokio::spawn(async move {
        http.post(url)
            .bearer_auth(TOKEN)
            .json(
                &json!({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
                "template": {"name": "hello_world", "language": {"code": "en_US"}}}),
            )
            .send()
            .await
            .unwrap()
            .status()
    });
    // Accepted (recorded) while the answer is held.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while env.get("/_sim/faults").await["stalled"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the send was never held"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        env.get("/_sim/sent").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!call.is_finished());
    env.control("/_sim/faults", json!({"stall_sends": false}))
        .await;
    assert_eq!(call.await.unwrap(), 200);
    assert_eq!(env.get("/_sim/faults").await["stalled"], 0);
    env.sim.shutdown().await;
}

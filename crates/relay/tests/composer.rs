//! The composer's relay routes end to end (real HTTP, SQLite file, whatsapp-sim as Meta):
//! approved templates, template parameter checks, media upload, quick replies with the
//! permission matrix, their events and audit entries.

mod commands_env;

use commands_env::*;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn approved_templates_are_listed_cached_and_refreshed_on_demand() {
    let env = Env::start().await;
    let agent = env.device("restricted", "Rita").await;
    let (status, v) = call(&env, &agent, "GET", "/v1/message-templates", None).await;
    assert_eq!(status, 200, "{v}");
    let list = v["templates"].as_array().unwrap();
    // The sim's PENDING loyalty_card is not offered.
    assert!(list.iter().all(|t| t["name"] != "loyalty_card"));
    let ru = list
        .iter()
        .find(|t| t["name"] == "order_update" && t["language"] == "ru")
        .expect("order_update/ru");
    assert_eq!(ru["body_params"], json!(["1", "2"]));
    assert_eq!(ru["sendable"], true);
    assert_eq!(v["stale"], false);

    // A template approved later shows up on a forced refresh, not before (cached).
    env.sim_post(
        "/_sim/templates",
        json!({"name": "back_in_stock", "language": "en_US", "status": "APPROVED",
               "body_params": 1, "body": "{{1}} is back in stock."}),
    )
    .await;
    let (_, cached) = call(&env, &agent, "GET", "/v1/message-templates", None).await;
    assert!(
        cached["templates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "back_in_stock")
    );
    let (_, fresh) = call(
        &env,
        &agent,
        "GET",
        "/v1/message-templates?refresh=true",
        None,
    )
    .await;
    assert!(
        fresh["templates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "back_in_stock")
    );
}

#[tokio::test]
async fn a_template_send_is_checked_against_the_approved_list() {
    let env = Env::start().await;
    let admin = env.device("admin", "Olga").await;
    let mut stream = Stream::open(&env, &admin, 0).await;
    let (_, conv) = env
        .customer_writes(
            &mut stream,
            json!({"from": CUSTOMER, "name": "Ana", "text": "hi"}),
        )
        .await;
    let (s, _) = env
        .command(&admin, json!({"type": "claim", "conversation_id": conv}))
        .await;
    assert_eq!(s, 200);
    let send = |name: &str, lang: &str, params: Vec<&str>| {
        let parameters: Vec<Value> = params
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        json!({"type": "send_template", "conversation_id": conv,
               "template": {"name": name, "language": {"code": lang},
                            "components": [{"type": "body", "parameters": parameters}]}})
    };
    let (s, v) = env
        .command(&admin, send("order_update", "en_US", vec!["Ana"]))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("template_params")),
        "{v}"
    );
    assert_eq!(v["expected"], 2);
    let (s, v) = env
        .command(&admin, send("loyalty_card", "en_US", vec![]))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("template_unknown")),
        "{v}"
    );
    let (s, v) = env
        .command(&admin, send("order_update", "en_US", vec!["Ana", "A-17"]))
        .await;
    assert_eq!(s, 200, "{v}");
    let id = v["result"]["message_id"].as_str().unwrap().to_owned();
    let sent = stream
        .until(|e| e["kind"] == "message.sent" && e["payload"]["message_id"] == json!(id))
        .await;
    assert_eq!(sent["payload"]["message_id"], json!(id));
}

#[tokio::test]
async fn media_is_checked_uploaded_to_whatsapp_and_sendable() {
    let env = Env::start().await;
    let admin = env.device("admin", "Olga").await;
    let upload = |mime: &str, name: &str, bytes: Vec<u8>| {
        env.http
            .post(format!("{}/v1/media?filename={name}", env.url))
            .bearer_auth(&admin.token)
            .header("content-type", mime.to_owned())
            .body(bytes)
            .send()
    };
    let resp = upload(
        "application/pdf",
        "invoice.pdf",
        b"%PDF-1.4 invoice".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["kind"], "document");
    assert_eq!(v["filename"], "invoice.pdf");
    let media_id = v["media_id"].as_str().unwrap();
    // The sim holds the bytes under that id.
    let info = env
        .http
        .get(format!("{}/v23.0/{media_id}", env.sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(info["mime_type"], "application/pdf");

    let resp = upload("image/png", "big.png", vec![1u8; 5 * 1024 * 1024 + 1])
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], "media_too_large");
    assert_eq!(v["limit"], 5 * 1024 * 1024);
    let v: Value = upload("image/gif", "cat.gif", vec![1u8; 10])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], "media_type_unsupported");
}

#[tokio::test]
async fn quick_replies_follow_the_permission_matrix_and_replicate_with_audit() {
    let env = Env::start().await;
    let admin = env.device("admin", "Olga").await;
    let supervisor = env.device("supervisor", "Sam").await;
    let standard = env.device("standard", "Stan").await;
    let restricted = env.device("restricted", "Rita").await;
    let mut rita = Stream::open(&env, &restricted, 0).await;
    let body = json!({"shortcut": "/Refund", "title": "Refund policy",
                      "text": "Refunds take 5 working days.", "language": "en"});

    // Managing needs ConfigureAutomation: Admin and Supervisor yes, Standard and Restricted no.
    for d in [&standard, &restricted] {
        let (s, v) = call(&env, d, "POST", "/v1/quick-replies", Some(body.clone())).await;
        assert_eq!(s, 403, "{} {v}", d.name);
        assert_eq!(v["permission"], "configure_automation");
    }
    let (s, v) = call(
        &env,
        &supervisor,
        "POST",
        "/v1/quick-replies",
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let q = v["quick_reply"].clone();
    assert_eq!(q["shortcut"], "refund");
    let id: Uuid = q["id"].as_str().unwrap().parse().unwrap();
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/quick-replies",
        Some(body.clone()),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("shortcut_taken")));
    let (s, v) = call(
        &env,
        &admin,
        "POST",
        "/v1/quick-replies",
        Some(json!({"shortcut": "bad shortcut", "title": "x", "text": "y"})),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (422, Some("shortcut")));

    // Reading needs Reply only: every preset reads.
    for d in [&admin, &supervisor, &standard, &restricted] {
        let (s, v) = call(&env, d, "GET", "/v1/quick-replies", None).await;
        assert_eq!(s, 200);
        assert_eq!(v["quick_replies"][0]["id"], json!(id));
    }
    // A Restricted device receives the replicated event.
    let ev = rita.until(|e| e["kind"] == "quick_reply.saved").await;
    assert_eq!(
        ev["payload"]["quick_reply"]["text"],
        "Refunds take 5 working days."
    );

    let (s, _) = call(
        &env,
        &standard,
        "PATCH",
        &format!("/v1/quick-replies/{id}"),
        Some(json!({"text": "no"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = call(
        &env,
        &admin,
        "PATCH",
        &format!("/v1/quick-replies/{id}"),
        Some(json!({"text": "Refunds take 3 working days.", "language": null})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["quick_reply"]["language"], Value::Null);
    assert_eq!(v["quick_reply"]["title"], "Refund policy");
    rita.until(|e| {
        e["kind"] == "quick_reply.saved"
            && e["payload"]["quick_reply"]["text"] == "Refunds take 3 working days."
    })
    .await;

    let (s, _) = call(
        &env,
        &restricted,
        "DELETE",
        &format!("/v1/quick-replies/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &env,
        &admin,
        "DELETE",
        &format!("/v1/quick-replies/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let ev = rita.until(|e| e["kind"] == "quick_reply.deleted").await;
    assert_eq!(ev["payload"]["id"], json!(id));
    let (s, _) = call(
        &env,
        &admin,
        "DELETE",
        &format!("/v1/quick-replies/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 404);

    // Each change left an audit entry (delivered to ViewAuditLog devices).
    let mut audit = Stream::open(&env, &admin, 0).await;
    for kind in [
        "audit.quick_reply_created",
        "audit.quick_reply_updated",
        "audit.quick_reply_deleted",
    ] {
        let e = audit.until(|e| e["kind"] == kind).await;
        assert_eq!(e["payload"]["target"]["quick_reply_id"], json!(id));
    }
    // The Restricted device never saw audit events.
    assert_eq!(
        rita.count(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("audit."))),
        0
    );
}

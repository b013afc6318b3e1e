//! `teamline-whatsapp`'s Graph client and webhook parser against the sim: the two were
//! written independently from Meta's docs, so agreement here is a real cross-check.

mod common;

use common::*;
use serde_json::json;
use teamline_whatsapp::error::ErrorClass;
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use teamline_whatsapp::outgoing::{
    MediaSource, OutgoingMessage, Template, TemplateComponent, TemplateParameter,
};
use teamline_whatsapp::webhook::{MessageKind, StatusKind, WebhookItem, WebhookPayload};

const CUSTOMER: &str = "8613800138000";

fn client(env: &Env, token: &str) -> GraphClient {
    GraphClient::new(
        GraphConfig::new(token, PHONE_ID)
            .with_base_url(env.sim.base_url())
            .with_api_version(VERSION),
    )
    .expect("client")
}

fn parse(hit: &Hit) -> Vec<WebhookItem> {
    teamline_whatsapp::signature::verify(SECRET.as_bytes(), &hit.body, hit.signature())
        .expect("signature");
    WebhookPayload::from_slice(&hit.body).expect("parses").items
}

#[tokio::test]
async fn client_sends_uploads_downloads_and_parses_the_sims_webhooks() {
    let mut env = start().await;
    let graph = client(&env, TOKEN);

    let phone = graph.phone_number().await.expect("phone number");
    assert_eq!(phone.id, PHONE_ID);

    env.control(
        "/_sim/inbound",
        json!({"from": CUSTOMER, "name": "李娜", "text": "你好 😀 /order"}),
    )
    .await;
    let items = parse(&env.hooks.next().await);
    let WebhookItem::Message(m) = &items[0] else {
        panic!("a message: {items:?}")
    };
    let MessageKind::Text(t) = &m.message.kind else {
        panic!("text")
    };
    assert_eq!(t.body, "你好 😀 /order");
    graph.mark_as_read(&m.message.id).await.expect("read");
    graph
        .send_typing_indicator(&m.message.id)
        .await
        .expect("typing");

    let sent = graph
        .send(&OutgoingMessage::text(CUSTOMER, "您好！", false))
        .await
        .expect("text");
    let id = sent.message_id().expect("id").to_string();
    let items = parse(&env.hooks.next().await);
    let WebhookItem::Status(s) = &items[0] else {
        panic!("a status")
    };
    assert_eq!(
        (s.status.id.as_str(), &s.status.status),
        (id.as_str(), &StatusKind::Sent)
    );

    let template =
        Template::new("order_update", "zh_CN").with_component(TemplateComponent::body(vec![
            TemplateParameter::text("李娜"),
            TemplateParameter::text("5567"),
        ]));
    graph
        .send(&OutgoingMessage::template(CUSTOMER, template))
        .await
        .expect("template");
    env.hooks.next().await;

    let png = whatsapp_sim::media::png(8, 8, [200, 10, 10]);
    let uploaded = graph
        .upload_media(png.clone(), "image/png", "p.png")
        .await
        .expect("upload");
    let info = graph.media_info(&uploaded.id).await.expect("media info");
    assert_eq!(info.file_size, Some(png.len() as u64));
    assert_eq!(
        graph.download_media(&info.url).await.expect("download"),
        png
    );
    graph
        .send(&OutgoingMessage::image(
            CUSTOMER,
            MediaSource::Id(uploaded.id),
            Some("Your bag".into()),
        ))
        .await
        .expect("image by id");
    env.hooks.next().await;

    // Inbound media the client can fetch.
    env.control(
        "/_sim/inbound",
        json!({"from": CUSTOMER, "type": "image", "image": {"caption": "颜色"}}),
    )
    .await;
    let items = parse(&env.hooks.next().await);
    let WebhookItem::Message(m) = &items[0] else {
        panic!("a message")
    };
    let MessageKind::Image(img) = &m.message.kind else {
        panic!("image")
    };
    let info = graph.media_info(&img.id).await.expect("inbound media info");
    assert!(
        !graph
            .download_media(&info.url)
            .await
            .expect("download")
            .is_empty()
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn client_classifies_the_sims_errors() {
    let mut env = start_with(|c| c.throughput_per_sec = 3).await;
    let bad = client(&env, "wrong-token");
    let e = bad.phone_number().await.expect_err("bad token");
    assert_eq!((e.code(), e.class()), (Some(190), ErrorClass::Reauthorise));

    let graph = client(&env, TOKEN);
    let missing = OutgoingMessage::template(CUSTOMER, Template::new("no_such_template", "en_US"));
    let e = graph.send(&missing).await.expect_err("132001");
    assert_eq!((e.code(), e.class()), (Some(132001), ErrorClass::Permanent));
    let short = OutgoingMessage::template(CUSTOMER, Template::new("order_update", "en_US"));
    let e = graph.send(&short).await.expect_err("132000");
    assert_eq!((e.code(), e.class()), (Some(132000), ErrorClass::Permanent));
    let e = graph
        .send(&OutgoingMessage::text(CUSTOMER, "x".repeat(4097), false))
        .await
        .expect_err("100");
    assert_eq!((e.code(), e.class()), (Some(100), ErrorClass::Permanent));

    // Outside the window: accepted, then a failed status the parser classifies.
    graph
        .send(&OutgoingMessage::text(CUSTOMER, "hello?", false))
        .await
        .expect("accepted");
    let items = parse(&env.hooks.next().await);
    let WebhookItem::Status(s) = &items[0] else {
        panic!("a status")
    };
    assert_eq!(s.status.status, StatusKind::Failed);
    assert_eq!(s.status.error_class(), Some(ErrorClass::WindowClosed));

    graph
        .send(&OutgoingMessage::text(CUSTOMER, "2", false))
        .await
        .expect("2nd");
    // Throughput is 3 per second of (frozen) sim time: this is the third, the next is over.
    graph
        .send(&OutgoingMessage::text(CUSTOMER, "3", false))
        .await
        .expect("3rd");
    let e = graph
        .send(&OutgoingMessage::text(CUSTOMER, "4", false))
        .await
        .expect_err("130429");
    assert_eq!(
        (e.code(), e.class()),
        (Some(130429), ErrorClass::RetryLater)
    );
    env.sim.shutdown().await;
}

/// The default account id of a fresh sim (`SimConfig::default().waba_id`).
const WABA_ID: &str = "102290129340398";

#[tokio::test]
async fn client_lists_templates_across_pages_in_metas_shape() {
    let env = start().await;
    // Enough templates for several pages of 100 (the client's page size).
    for i in 0..230 {
        env.control(
            "/_sim/templates",
            json!({"name": format!("bulk_{i:03}"), "language": "en_US", "status": "APPROVED",
                   "body_params": 1, "body": "Hello {{1}}"}),
        )
        .await;
    }
    let graph = GraphClient::new(
        GraphConfig::new(TOKEN, PHONE_ID)
            .with_base_url(env.sim.base_url())
            .with_api_version(VERSION)
            .with_business_account_id(WABA_ID),
    )
    .expect("client");
    let first = graph.message_templates_page(None, 100).await.expect("page");
    assert_eq!(first.data.len(), 100);
    assert!(first.paging.as_ref().unwrap().next.is_some());
    let all = graph.message_templates().await.expect("all pages");
    let stored: serde_json::Value = reqwest::get(format!("{}/_sim/templates", env.sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), stored["data"].as_array().unwrap().len());
    assert!(all.len() > 230);
    let order = all
        .iter()
        .find(|t| t.name == "order_update" && t.language == "ru")
        .expect("order_update in Russian");
    assert!(order.is_approved());
    assert_eq!(order.body_params(), vec!["1", "2"]);
    assert_eq!(order.body_examples().len(), 2);
    assert!(
        all.iter()
            .any(|t| t.name == "loyalty_card" && !t.is_approved())
    );

    // Another account id is an unknown object; no account id is a configuration error.
    let other = GraphClient::new(
        GraphConfig::new(TOKEN, PHONE_ID)
            .with_base_url(env.sim.base_url())
            .with_api_version(VERSION)
            .with_business_account_id("999"),
    )
    .unwrap();
    let err = other.message_templates().await.unwrap_err();
    assert_eq!(err.code(), Some(100));
    assert!(client(&env, TOKEN).message_templates().await.is_err());
    let bad_token = GraphClient::new(
        GraphConfig::new("wrong", PHONE_ID)
            .with_base_url(env.sim.base_url())
            .with_api_version(VERSION)
            .with_business_account_id(WABA_ID),
    )
    .unwrap();
    assert_eq!(
        bad_token.message_templates().await.unwrap_err().class(),
        ErrorClass::Reauthorise
    );
}

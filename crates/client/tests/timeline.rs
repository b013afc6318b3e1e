//! Every WhatsApp message type, from whatsapp-sim's signed webhook through the real relay
//! (with its media worker downloading from the sim) into the client's timeline; media
//! bytes through `Client::media`, then from the encrypted cache with the relay stopped.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use teamline_client::{Client, ConnectionState, MessageContent, TimelineItem};
use teamline_relay::media::MediaConfig;
use teamline_relay::outbound::OutboundConfig;
use teamline_relay::relay_services;
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use tokio::sync::broadcast;
use uuid::Uuid;

const CUSTOMER: &str = "34611222333";

/// Starts the relay's send and media workers against the sim (the common `Env` runs the
/// relay without them). A long retry backoff keeps an undownloadable file pending.
fn attach_workers(env: &Env) {
    let graph = GraphClient::new(
        GraphConfig::new("sim-access-token", "106540352242922")
            .with_base_url(env.sim.base_url())
            .with_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let mut media = MediaConfig::next_to(&env.dir.path().join("relay.db"));
    media.backoff_base = Duration::from_secs(600);
    let relay = env.relay.as_ref().expect("relay running");
    let (_services, workers) =
        relay_services::attach(relay.state(), graph, OutboundConfig::default(), media).unwrap();
    // The workers end with the test's runtime.
    drop(workers);
}

/// The customer sends `body` (the sim's `/_sim/inbound` shape); returns the wamid.
async fn inbound(env: &Env, body: Value) -> String {
    let mut body = body;
    body["from"] = json!(CUSTOMER);
    body["name"] = json!("Ana García");
    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/inbound", env.sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "sim inbound: {}", resp.status());
    let v: Value = resp.json().await.unwrap();
    v["id"]
        .as_str()
        .expect("the sim answers the wamid")
        .to_owned()
}

/// Waits until the timeline satisfies `done`, re-reading it after every client event.
async fn timeline_until(
    client: &Client,
    conv: Uuid,
    what: &str,
    done: impl Fn(&[TimelineItem]) -> bool,
) -> Vec<TimelineItem> {
    let mut events = client.subscribe();
    within(what, async {
        loop {
            let items = client.timeline(conv, None, 100).await.unwrap();
            if done(&items) {
                return items;
            }
            match events.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
}

fn by_kind<'a>(items: &'a [TimelineItem], kind: &str) -> &'a TimelineItem {
    items
        .iter()
        .find(|i| i.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} item in {items:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_type_shows_in_the_timeline_and_media_comes_from_the_cache_offline() {
    let mut env = Env::start().await;
    attach_workers(&env);
    let client = owner(&env).await;
    client.start();
    wait_state(&client, ConnectionState::Connected).await;

    let hello = inbound(&env, json!({"text": "hello, see https://shop.example/o/1"})).await;
    inbound(
        &env,
        json!({"type": "image", "image": {"caption": "the broken lamp"}}),
    )
    .await;
    let place = inbound(
        &env,
        json!({"type": "location", "location": {"latitude": 41.3874, "longitude": 2.1686, "name": "Shop", "address": "Carrer de Mallorca 1"}}),
    )
    .await;
    inbound(
        &env,
        json!({"type": "document", "document": {"filename": "invoice-1042.pdf", "caption": "my invoice"}}),
    )
    .await;
    inbound(
        &env,
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Li Wei", "first_name": "Li"}, "phones": [{"phone": "+86 10 5555 0100", "type": "WORK", "wa_id": "861055550100"}]}]}),
    )
    .await;
    inbound(&env, json!({"type": "audio", "audio": {"voice": true}})).await;
    inbound(
        &env,
        json!({"type": "video", "video": {"caption": "unboxing"}}),
    )
    .await;
    inbound(&env, json!({"type": "sticker", "sticker": {}})).await;
    inbound(
        &env,
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "pickup", "title": "Pick up"}}}),
    )
    .await;
    inbound(
        &env,
        json!({"type": "button", "button": {"text": "Yes, confirm", "payload": "confirm-1042"}}),
    )
    .await;
    inbound(
        &env,
        json!({"type": "reaction", "reaction": {"message_id": hello, "emoji": "❤️"}}),
    )
    .await;
    inbound(
        &env,
        json!({"text": "is this the right shop?", "context": {"message_id": place}}),
    )
    .await;
    // A media id the sim never stored: the relay keeps retrying, so it stays "downloading".
    inbound(
        &env,
        json!({"message": {"type": "image", "image": {"id": "9999000011112222", "mime_type": "image/jpeg"}}}),
    )
    .await;
    env.wait_messages(13).await;
    let conv = env.conversation_of(CUSTOMER).await;

    let items = timeline_until(
        &client,
        conv,
        "every message and the downloaded media",
        |items| {
            items.len() == 12
                && ["image", "document", "audio", "video", "sticker"]
                    .iter()
                    .all(|k| {
                        items.iter().any(|i| {
                            i.kind == *k
                                && i.content
                                    .media()
                                    .is_some_and(|m| m.ready && m.size.is_some())
                        })
                    })
        },
    )
    .await;

    // The reaction is a badge on the message it reacts to, not a bubble.
    assert!(items.iter().all(|i| i.kind != "reaction"));
    let text = &items[0];
    assert_eq!(
        text.content,
        MessageContent::Text {
            body: "hello, see https://shop.example/o/1".into()
        }
    );
    assert_eq!(text.reactions.len(), 1);
    assert_eq!(text.reactions[0].emoji, "❤️");
    assert_eq!(text.reactions[0].by, "customer");

    let image = by_kind(&items, "image");
    let MessageContent::Image { media, caption } = &image.content else {
        panic!("{image:?}")
    };
    assert_eq!(caption.as_deref(), Some("the broken lamp"));
    assert_eq!(media.mime_type.as_deref(), Some("image/png"));
    let image_sha = media.sha256.clone().expect("Meta sends the sha256");

    let location = by_kind(&items, "location");
    assert_eq!(
        location.content,
        MessageContent::Location {
            latitude: 41.3874,
            longitude: 2.1686,
            name: Some("Shop".into()),
            address: Some("Carrer de Mallorca 1".into()),
            url: None
        }
    );
    let MessageContent::Document { media, caption } = &by_kind(&items, "document").content else {
        panic!()
    };
    assert_eq!(media.filename.as_deref(), Some("invoice-1042.pdf"));
    assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(caption.as_deref(), Some("my invoice"));
    let MessageContent::Contacts { contacts } = &by_kind(&items, "contacts").content else {
        panic!()
    };
    assert_eq!(contacts[0].name, "Li Wei");
    assert_eq!(contacts[0].phones[0].phone, "+86 10 5555 0100");
    assert_eq!(contacts[0].phones[0].wa_id.as_deref(), Some("861055550100"));
    assert!(matches!(
        by_kind(&items, "audio").content,
        MessageContent::Audio { voice: true, .. }
    ));
    assert!(
        matches!(by_kind(&items, "video").content, MessageContent::Video { ref caption, .. } if caption.as_deref() == Some("unboxing"))
    );
    assert!(matches!(
        by_kind(&items, "sticker").content,
        MessageContent::Sticker { .. }
    ));
    assert_eq!(
        by_kind(&items, "interactive").content,
        MessageContent::InteractiveReply {
            reply_kind: "button_reply".into(),
            id: Some("pickup".into()),
            title: "Pick up".into(),
            description: None
        }
    );
    assert_eq!(
        by_kind(&items, "button").content,
        MessageContent::Button {
            text: Some("Yes, confirm".into()),
            payload: Some("confirm-1042".into())
        }
    );
    // The quoted reply points at the local location message.
    let reply = items
        .iter()
        .find(|i| i.text.as_deref() == Some("is this the right shop?"))
        .unwrap();
    let quote = reply.reply_to.as_ref().expect("a quote");
    assert_eq!(quote.wamid, place);
    assert_eq!(quote.message_id, Some(location.id));
    assert_eq!(quote.kind.as_deref(), Some("location"));
    assert_eq!(quote.direction.as_deref(), Some("inbound"));

    // Media: the relay's bytes, checked against Meta's sha256.
    let bytes = client.media(image.id).await.unwrap();
    assert_eq!(bytes.mime, "image/png");
    assert!(bytes.bytes.starts_with(b"\x89PNG"));
    assert_eq!(hex_sha(&bytes.bytes), image_sha);
    // Not an attachment; still downloading on the relay.
    let no_media = client.media(text.id).await.unwrap_err();
    assert_eq!(no_media.code(), "no_media");
    let pending = items
        .iter()
        .filter(|i| i.kind == "image")
        .find(|i| i.id != image.id)
        .unwrap();
    assert!(!pending.content.media().unwrap().ready);
    assert_eq!(
        client.media(pending.id).await.unwrap_err().code(),
        "media_not_ready"
    );

    // With the relay gone, the image still comes back: from the encrypted cache.
    env.relay.take().unwrap().shutdown().await.unwrap();
    let again = client.media(image.id).await.unwrap();
    assert_eq!(again, bytes);
    // What was never cached needs the relay.
    let document = by_kind(&items, "document");
    assert_eq!(
        client.media(document.id).await.unwrap_err().code(),
        "network"
    );
    client.shutdown().await;
}

fn hex_sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_reaction_replaces_the_earlier_one_and_an_empty_one_removes_it() {
    let env = Env::start().await;
    let client = owner(&env).await;
    client.start();
    wait_state(&client, ConnectionState::Connected).await;
    let first = inbound(&env, json!({"text": "first"})).await;
    let second = inbound(&env, json!({"text": "second"})).await;
    env.wait_messages(2).await;
    // Each reaction is stored before the next is sent: WhatsApp's timestamps have whole
    // seconds, so within one second the relay's order of arrival is what "later" means,
    // and a webhook retried after a failed attempt would otherwise arrive after the next.
    let reactions = [
        json!({"message_id": first, "emoji": "👍"}),
        json!({"message_id": first, "emoji": "😂"}),
        json!({"message_id": second, "emoji": "🙏"}),
        json!({"message_id": second}),
    ];
    for (stored, reaction) in (3..).zip(reactions) {
        inbound(&env, json!({"type": "reaction", "reaction": reaction})).await;
        env.wait_messages(stored).await;
    }
    let conv = env.conversation_of(CUSTOMER).await;
    wait_cursor(&client, env.head()).await;
    let items = timeline_until(&client, conv, "both messages", |i| i.len() == 2).await;
    let emojis = |i: &TimelineItem| {
        i.reactions
            .iter()
            .map(|r| r.emoji.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(emojis(&items[0]), ["😂"]);
    assert_eq!(emojis(&items[1]), Vec::<String>::new());
    client.shutdown().await;
}

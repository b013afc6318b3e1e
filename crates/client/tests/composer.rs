//! The composer's client calls against a real relay and whatsapp-sim: templates from the
//! relay's cache, a media upload, and quick replies replicated into the store (readable
//! with the relay gone) and managed only by those allowed.

mod common;

use std::time::Duration;

use common::*;
use teamline_client::{ClientError, QuickReply, QuickReplyDraft};
use teamline_core::Preset;
use teamline_relay::media::MediaConfig;
use teamline_relay::outbound::OutboundConfig;
use teamline_relay::relay_services;
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use whatsapp_sim::SimConfig;

/// Sends through the sim, with the account id that lists templates.
fn attach(env: &Env) {
    let defaults = SimConfig::default();
    let graph = GraphClient::new(
        GraphConfig::new(defaults.access_token, defaults.phone_number_id)
            .with_business_account_id(defaults.waba_id)
            .with_base_url(env.sim.base_url().to_owned())
            .with_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let relay = env.relay.as_ref().unwrap();
    let media = MediaConfig::next_to(&env.dir.path().join("relay.db"));
    let (_services, workers) =
        relay_services::attach(relay.state(), graph, OutboundConfig::default(), media).unwrap();
    // Dropping the handles detaches the workers; they run as long as the test's runtime.
    drop(workers);
}

/// Waits until the device's store holds quick replies matching `f` (a Restricted device
/// sees no audit events, so its cursor stops short of the relay's head).
async fn wait_quick(
    client: &teamline_client::Client,
    what: &str,
    f: impl Fn(&[QuickReply]) -> bool,
) {
    let mut events = client.subscribe();
    within(what, async {
        loop {
            if f(&client.quick_replies().await.unwrap()) {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
}

fn draft(shortcut: &str, text: &str) -> QuickReplyDraft {
    QuickReplyDraft {
        shortcut: shortcut.into(),
        title: "Refunds".into(),
        text: text.into(),
        language: Some("en".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_replies_replicate_to_the_store_and_read_offline() {
    let mut env = Env::start().await;
    attach(&env);
    let owner = owner(&env).await;
    owner.start();
    let agent_dir = env.dir.path().join("agent");
    let agent = teamline_client::Client::open(options(&agent_dir))
        .await
        .unwrap();
    let code = env.code(Preset::Restricted, "Rita").await;
    agent
        .link(&env.relay_url, &code, &device("Agent desk"))
        .await
        .unwrap();
    agent.start();

    let created = owner
        .create_quick_reply(&draft("/refund", "Refunds take 5 working days."))
        .await
        .unwrap();
    assert_eq!(created.shortcut, "refund");
    // A Restricted device may not manage them (ConfigureAutomation).
    let refused = agent
        .create_quick_reply(&draft("hi", "Hello!"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Relay { status: 403, .. }),
        "{refused:?}"
    );

    wait_quick(&agent, "the quick reply", |l| l.len() == 1).await;
    let local = agent.quick_replies().await.unwrap();
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].text, "Refunds take 5 working days.");

    owner
        .update_quick_reply(created.id, &draft("refund", "Refunds take 3 working days."))
        .await
        .unwrap();
    wait_quick(&agent, "the edited quick reply", |l| {
        l.first()
            .is_some_and(|q| q.text == "Refunds take 3 working days.")
    })
    .await;

    // The relay goes away: `/` still finds them.
    env.relay.take().unwrap().shutdown().await.unwrap();
    assert_eq!(agent.quick_replies().await.unwrap().len(), 1);
    assert!(agent.refresh_quick_replies().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_and_uploads_go_through_the_relay() {
    let env = Env::start().await;
    attach(&env);
    let owner = owner(&env).await;
    let list = owner.message_templates(false).await.unwrap();
    assert!(!list.stale);
    let t = list
        .templates
        .iter()
        .find(|t| t.name == "order_update" && t.language == "zh_CN")
        .expect("order_update in Chinese");
    assert_eq!(t.body_params, vec!["1", "2"]);
    assert!(list.templates.iter().all(|t| t.name != "loyalty_card"));

    let up = owner
        .upload_media(b"%PDF-1.4 hello".to_vec(), "application/pdf", "发票.pdf")
        .await
        .unwrap();
    assert_eq!(up.kind, "document");
    assert_eq!(up.filename, "发票.pdf");
    assert!(!up.media_id.is_empty());
    // Too large is refused before anything is sent.
    let err = owner
        .upload_media(vec![0u8; 5 * 1024 * 1024 + 1], "image/jpeg", "big.jpg")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Relay { ref code, .. } if code == "media_too_large"));
}

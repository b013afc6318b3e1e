//! Broadcasts through the client against a real relay and whatsapp-sim: the cap settings,
//! a preview of a label audience with the customer's name, an idempotent create, live
//! `BroadcastChanged` events up to delivery, per-recipient results, cancel, and a member
//! without the permission refused by the relay.

mod common;

use std::time::Duration;

use common::*;
use teamline_client::core::Preset;
use teamline_client::core::automation::{
    BroadcastAudience, BroadcastDraft, BroadcastState, BroadcastTemplate, Pacing, ParamSource,
    RecipientState,
};
use teamline_client::{Client, ClientEvent, Command, OutboxState};
use teamline_relay::media::MediaConfig;
use teamline_relay::outbound::OutboundConfig;
use teamline_relay::relay_services;
use teamline_whatsapp::graph::{GraphClient, GraphConfig};
use uuid::Uuid;
use whatsapp_sim::SimConfig;

/// Sends through the sim (with the account id that lists templates); the relay's send
/// queue and broadcast worker run on the test's runtime.
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
    drop(workers);
}

fn spring_sale(label: &str) -> BroadcastDraft {
    BroadcastDraft {
        name: "Spring sale".into(),
        audience: BroadcastAudience {
            label: Some(label.into()),
            attribute: None,
        },
        template: BroadcastTemplate {
            name: "spring_sale".into(),
            language: "en_US".into(),
            header_params: vec![],
            body_params: vec![ParamSource::ContactName],
        },
        scheduled_at: None,
    }
}

/// Waits until every command this client queued was accepted by the relay.
async fn wait_outbox_sent(client: &Client) {
    let mut events = client.subscribe();
    within("the outbox to drain", async {
        loop {
            let outbox = client.outbox().await.unwrap();
            assert!(
                outbox.iter().all(|e| e.state != OutboxState::Failed),
                "{outbox:?}"
            );
            if outbox.iter().all(|e| e.state == OutboxState::Sent) {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_broadcast_is_previewed_sent_once_followed_live_and_cancelled() {
    let env = Env::start().await;
    attach(&env);
    let client = owner(&env).await;
    client.start();
    wait_state(&client, teamline_client::ConnectionState::Connected).await;

    // Three customers; two get the "vip" label.
    for (wa, name) in [
        ("15550001001", "Mila"),
        ("15550001002", "Jon"),
        ("15550001003", "Ada"),
    ] {
        env.customer_says(wa, name, "Hello!").await;
    }
    env.wait_messages(3).await;
    wait_cursor(&client, env.head()).await;
    for wa in ["15550001001", "15550001002"] {
        let conversation_id = env.conversation_of(wa).await;
        client
            .send(Command::AddLabel {
                conversation_id,
                label: "vip".into(),
            })
            .await
            .unwrap();
    }
    wait_outbox_sent(&client).await;

    // Settings: the defaults for a new number, then no pause between sends.
    let settings = client.broadcast_settings().await.unwrap();
    assert_eq!(settings.pacing, Pacing::default());
    assert_eq!(settings.cap_today, 50);
    assert_eq!(settings.sent_today, 0);
    let fast = Pacing {
        interval_secs: 0,
        ..Pacing::default()
    };
    let saved = client.save_broadcast_settings(&fast).await.unwrap();
    assert_eq!(saved.pacing, fast);

    // Preview: the two VIPs, their names in the text, fits in today's cap.
    let draft = spring_sale("vip");
    let preview = client.preview_broadcast(&draft).await.unwrap();
    assert_eq!(preview.total, 2, "{preview:?}");
    assert_eq!(preview.opted_out, 0);
    assert_eq!(preview.days_needed, 1);
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    let mut texts: Vec<&str> = preview.samples.iter().map(|s| s.text.as_str()).collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "Hi Jon! Our spring sale starts today.",
            "Hi Mila! Our spring sale starts today."
        ]
    );
    // A draft with problems is previewed with them, and refused on create.
    let mut wrong = spring_sale("nobody-has-this");
    wrong.template.body_params.clear();
    let bad = client.preview_broadcast(&wrong).await.unwrap();
    assert!(bad.problems.len() >= 2, "{:?}", bad.problems);
    let refused = client
        .create_broadcast(Uuid::now_v7(), &wrong)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_broadcast", "{refused}");

    // Create; the same key again is the same broadcast (a retried Send).
    let mut events = client.subscribe();
    let id = Uuid::now_v7();
    let created = client.create_broadcast(id, &draft).await.unwrap();
    assert_eq!(created.id, id);
    assert_eq!(created.name, "Spring sale");
    assert_eq!(created.counts.total, 2);
    assert_eq!(created.created_by_name, "Olga");
    let again = client.create_broadcast(id, &draft).await.unwrap();
    assert_eq!(again.id, id);
    assert_eq!(client.broadcasts().await.unwrap().len(), 1);

    // Progress arrives as BroadcastChanged events, up to both delivered (the sim's ticks).
    let done = wait_event(&mut events, "the broadcast delivered", |e| {
        matches!(e, ClientEvent::BroadcastChanged(s)
            if s.id == id
                && s.state == BroadcastState::Completed
                && s.counts.delivered + s.counts.read == 2)
    })
    .await;
    let ClientEvent::BroadcastChanged(done) = done else {
        unreachable!()
    };
    assert_eq!(done.counts.pending, 0);
    assert_eq!(done.counts.failed, 0);
    assert_eq!(
        client.broadcast(id).await.unwrap().state,
        BroadcastState::Completed
    );

    // Exactly one message per recipient reached WhatsApp.
    for wa in ["15550001001", "15550001002"] {
        let conversation = env.conversation_of(wa).await;
        let templates: Vec<_> = env
            .outbound(conversation)
            .await
            .into_iter()
            .filter(|b| b["type"] == "template")
            .collect();
        assert_eq!(templates.len(), 1, "{wa}: {templates:?}");
    }
    let ada = env.conversation_of("15550001003").await;
    assert!(env.outbound(ada).await.is_empty(), "Ada has no vip label");

    // Per-recipient results: a page, a filter, a cursor.
    let page = client
        .broadcast_recipients(id, None, 500, None)
        .await
        .unwrap();
    assert_eq!(page.next, None);
    let mut got: Vec<(&str, &str)> = page
        .recipients
        .iter()
        .map(|r| (r.wa_id.as_str(), r.name.as_str()))
        .collect();
    got.sort();
    assert_eq!(got, [("15550001001", "Mila"), ("15550001002", "Jon")]);
    assert!(page.recipients.iter().all(|r| matches!(
        r.state,
        RecipientState::Delivered | RecipientState::Read
    ) && r.conversation_id.is_some()));
    let first = client
        .broadcast_recipients(id, None, 1, None)
        .await
        .unwrap();
    assert_eq!(first.recipients.len(), 1);
    let after = first.next.clone().expect("a second page");
    let second = client
        .broadcast_recipients(id, Some(&after), 1, None)
        .await
        .unwrap();
    assert_eq!(second.recipients.len(), 1);
    assert_ne!(second.recipients[0].wa_id, first.recipients[0].wa_id);
    let failed = client
        .broadcast_recipients(id, None, 50, Some(RecipientState::Failed))
        .await
        .unwrap();
    assert!(failed.recipients.is_empty());

    // A broadcast scheduled for tomorrow is cancelled before it sends anything.
    let mut later = spring_sale("vip");
    later.name = "Tomorrow".into();
    later.scheduled_at = Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24));
    let scheduled = client
        .create_broadcast(Uuid::now_v7(), &later)
        .await
        .unwrap();
    assert_eq!(scheduled.state, BroadcastState::Scheduled);
    let cancelled = client.cancel_broadcast(scheduled.id).await.unwrap();
    assert_eq!(cancelled.state, BroadcastState::Cancelled);
    assert_eq!(cancelled.counts.cancelled, 2);
    let list = client.broadcasts().await.unwrap();
    assert_eq!(
        list.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["Tomorrow", "Spring sale"],
        "newest first"
    );

    // Today's count moved.
    assert_eq!(client.broadcast_settings().await.unwrap().sent_today, 2);

    // A Standard member's device is refused by the relay.
    let code = env.code(Preset::Standard, "Ana").await;
    let ana = Client::open(options(&env.dir.path().join("ana")))
        .await
        .unwrap();
    ana.link(&env.relay_url, &code, &device("Ana's laptop"))
        .await
        .unwrap();
    for err in [
        ana.broadcasts().await.unwrap_err(),
        ana.preview_broadcast(&draft).await.unwrap_err(),
        ana.broadcast_settings().await.unwrap_err(),
        ana.save_broadcast_settings(&fast).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), "permission_denied", "{err}");
    }
    client.shutdown().await;
}

/// A `broadcast.changed` event in the relay's log reaches the shell as
/// `ClientEvent::BroadcastChanged` with the summary as the relay wrote it (the window's
/// progress bar follows these), and moves the cursor like any other event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_changed_events_reach_the_shell_with_their_summary() {
    use teamline_client::core::automation::{BroadcastCounts, BroadcastSummary};

    let env = Env::start().await;
    let client = owner(&env).await;
    let mut events = client.subscribe();
    client.start();
    wait_state(&client, teamline_client::ConnectionState::Connected).await;
    let summary = BroadcastSummary {
        id: Uuid::now_v7(),
        name: "Autumn".into(),
        audience: BroadcastAudience {
            label: Some("vip".into()),
            attribute: None,
        },
        template: spring_sale("vip").template,
        state: BroadcastState::WaitingForTomorrow,
        scheduled_at: None,
        created_at: jiff::Timestamp::now(),
        created_by: Uuid::now_v7(),
        created_by_name: "Olga".into(),
        counts: BroadcastCounts {
            total: 120,
            pending: 70,
            delivered: 48,
            failed: 2,
            ..BroadcastCounts::default()
        },
        note: Some("Today's limit of 50 is used; continues tomorrow".into()),
    };
    let seq = env
        .append(
            "broadcast.changed",
            None,
            serde_json::to_value(&summary).unwrap(),
        )
        .await;
    let got = wait_event(&mut events, "the broadcast's event", |e| {
        matches!(e, ClientEvent::BroadcastChanged(_))
    })
    .await;
    assert_eq!(got, ClientEvent::BroadcastChanged(Box::new(summary)));
    wait_cursor(&client, seq).await;
    client.shutdown().await;
}

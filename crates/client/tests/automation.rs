//! The Automation section's calls through the client against a real relay (and a real
//! whatsapp-sim): reading the seeded settings, saving a change (and a conflicting or
//! invalid one), the dry run, and a Standard member refused by the relay.

mod common;

use common::*;
use teamline_client::core::Preset;
use teamline_client::core::automation::Planned;
use teamline_client::{Client, DryRunRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automation_settings_are_read_saved_and_tried_through_the_client() {
    let env = Env::start().await;
    let client = owner(&env).await;

    let config = client.automation().await.unwrap();
    assert!(config.enabled);
    assert_eq!(config.revision, 0);
    assert!(
        config
            .settings
            .rules
            .iter()
            .any(|r| r.id == "default-order-chase" && r.enabled)
    );

    // Save: the urgent rule off; the relay bumps the revision and keeps the change.
    let mut settings = config.settings.clone();
    settings
        .rules
        .iter_mut()
        .find(|r| r.id == "default-urgent")
        .unwrap()
        .enabled = false;
    let saved = client
        .save_automation(true, &settings, &config.agents, config.revision)
        .await
        .unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(saved.settings, settings);
    let again = client.automation().await.unwrap();
    assert_eq!(again.settings, settings);
    // The same stale edit again: a conflict, not a silent overwrite.
    let err = client
        .save_automation(true, &settings, &config.agents, config.revision)
        .await
        .unwrap_err();
    assert_eq!(relay_code(&err), "revision_conflict");
    // Invalid settings: the compiler's reason, nothing stored.
    let mut broken = again.settings.clone();
    broken.business_hours.time_zone = "Nowhere/Void".into();
    let err = client
        .save_automation(true, &broken, &again.agents, again.revision)
        .await
        .unwrap_err();
    assert_eq!(relay_code(&err), "invalid_automation");
    assert_eq!(client.automation().await.unwrap().revision, 1);

    // Dry run with the saved rules, then with a draft.
    let run = client
        .automation_dry_run(&DryRunRequest {
            message: Some("I'd like to send it back #returns".into()),
            ..DryRunRequest::default()
        })
        .await
        .unwrap();
    let fired: Vec<&str> = run
        .evaluation
        .fired
        .iter()
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(fired, ["default-returns"]);
    assert!(
        run.evaluation
            .planned()
            .any(|p| matches!(p, Planned::AddLabel { label } if label == "returns"))
    );
    let run = client
        .automation_dry_run(&DryRunRequest {
            message: Some("#urgent".into()),
            settings: Some(config.settings.clone()),
            ..DryRunRequest::default()
        })
        .await
        .unwrap();
    assert!(
        run.evaluation
            .fired
            .iter()
            .any(|f| f.rule_id == "default-urgent")
    );

    // A Standard member's device is refused by the relay.
    let code = env.code(Preset::Standard, "Ana").await;
    let ana = Client::open(options(&env.dir.path().join("ana")))
        .await
        .unwrap();
    ana.link(&env.relay_url, &code, &device("Ana's laptop"))
        .await
        .unwrap();
    let err = ana.automation().await.unwrap_err();
    assert_eq!(err.code(), "permission_denied", "{err}");
    let err = ana
        .automation_dry_run(&DryRunRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "permission_denied", "{err}");
}

/// `#urgent` in a customer's message: the relay's default rule notifies the supervisors,
/// and the owner's desktop shows it (with the rule's wording, not the customer's text).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_customer_message_notifies_a_supervisors_desktop_through_the_rule() {
    let env = Env::start().await;
    let shown = Recorded::default();
    let mut opts = options(&env.dir.path().join("owner"));
    opts.notifier = Some(std::sync::Arc::new(shown.clone()));
    let client = owner_with(&env, opts).await;
    client.start();
    wait_state(&client, teamline_client::ConnectionState::Connected).await;
    // Caught up first: the first catch-up after linking is history and notifies nobody.
    wait_cursor(&client, env.head()).await;
    env.customer_says("15550009999", "Mila", "#urgent the parcel never came")
        .await;
    shown
        .wait_for("the rule's notification", |n| {
            n.title == "Urgent conversation" && n.body == "Mila" && n.urgent
        })
        .await;
    assert!(
        shown
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|n| !n.body.contains("parcel") && !n.title.contains("parcel")),
        "no customer text in a notification"
    );
    client.shutdown().await;
}

/// Reads the inbox after each client event until `f` accepts the customer's row.
async fn row_until(
    client: &Client,
    number: &str,
    what: &str,
    f: impl Fn(&teamline_client::InboxRow) -> bool,
) -> teamline_client::InboxRow {
    let mut events = client.subscribe();
    within(what, async {
        loop {
            let rows = client.inbox().await.unwrap();
            if let Some(row) = rows.into_iter().find(|r| r.customer_number == number)
                && f(&row)
            {
                return row;
            }
            match events.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
}

/// `#order-chase` gives a conversation a 30 s first-response SLA on the relay: the inbox
/// row carries the running clock (due 30 s after the customer's message, read the same way
/// on the first screen and the whole list), and a reply stops it on this device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_row_carries_the_relays_sla_clock_until_someone_replies() {
    let env = Env::start().await;
    let client = owner(&env).await;
    client.start();
    wait_state(&client, teamline_client::ConnectionState::Connected).await;
    env.customer_says("15550004321", "Rui", "Where is my parcel? #order-chase")
        .await;
    let row = row_until(&client, "15550004321", "a running SLA clock", |r| {
        r.sla.is_some()
    })
    .await;
    let clock = row.sla.clone().unwrap();
    assert_eq!(clock.kind, "first_response");
    assert_eq!(clock.target_secs, 30);
    assert!(!clock.breached);
    let since = row.waiting_since.expect("the customer waits");
    assert_eq!(clock.due_at.duration_since(since).as_secs(), 30);
    let first_screen = client.inbox_page(None, 10).await.unwrap();
    let same = first_screen.iter().find(|r| r.id == row.id).unwrap();
    assert_eq!(same.sla, row.sla);

    client
        .send(teamline_client::Command::Claim {
            conversation_id: row.id,
        })
        .await
        .unwrap();
    row_until(&client, "15550004321", "the claim applied", |r| {
        r.assignee.is_some()
    })
    .await;
    client
        .send(teamline_client::Command::SendText {
            conversation_id: row.id,
            text: "It left the warehouse this morning".into(),
            preview_url: None,
            reply_to: None,
            takeover_reason: None,
        })
        .await
        .unwrap();
    row_until(
        &client,
        "15550004321",
        "the clock stopped by the reply",
        |r| r.sla.is_none(),
    )
    .await;
    client.shutdown().await;
}

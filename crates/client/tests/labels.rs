//! The team's labels through the client against a real relay: a manager creates and
//! recolours a label and every device's store follows; a device linked later reads the
//! colours from the relay; a member without ManageLabels is refused; a deleted label
//! leaves the store.

mod common;

use common::*;
use teamline_client::core::Preset;
use teamline_client::{Client, LabelChip};

/// Reads the label chips after each client event until `f` accepts them.
async fn chips_until(client: &Client, what: &str, f: impl Fn(&[LabelChip]) -> bool) {
    let mut events = client.subscribe();
    within(what, async {
        loop {
            if f(&client.label_chips().await.unwrap()) {
                return;
            }
            match events.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
}

fn colour_of(chips: &[LabelChip], name: &str) -> Option<String> {
    chips
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.colour.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_labels_reach_every_device_with_their_colours() {
    let env = Env::start().await;
    let owner = owner(&env).await;
    owner.start();
    wait_state(&owner, teamline_client::ConnectionState::Connected).await;

    owner.create_label("VIP", "#ca8a04").await.unwrap();
    chips_until(&owner, "VIP in gold", |c| {
        colour_of(c, "VIP").as_deref() == Some("#ca8a04")
    })
    .await;
    owner.recolour_label("vip", "#db2777").await.unwrap();
    chips_until(&owner, "VIP recoloured", |c| {
        colour_of(c, "VIP").as_deref() == Some("#db2777")
    })
    .await;
    let err = owner.create_label("Vip", "#000000").await.unwrap_err();
    assert_eq!(relay_code(&err), "label_exists");

    // A Standard member's device: reads the colours from the relay, may not manage labels.
    let code = env.code(Preset::Standard, "Wei").await;
    let wei = Client::open(options(&env.dir.path().join("wei")))
        .await
        .unwrap();
    wei.link(&env.relay_url, &code, &device("Wei's laptop"))
        .await
        .unwrap();
    let chips = wei.refresh_labels().await.unwrap();
    assert_eq!(colour_of(&chips, "VIP").as_deref(), Some("#db2777"));
    let err = wei.create_label("Mine", "#000000").await.unwrap_err();
    assert_eq!(err.code(), "permission_denied", "{err}");
    let err = wei.delete_label("VIP").await.unwrap_err();
    assert_eq!(err.code(), "permission_denied", "{err}");

    owner.delete_label("VIP").await.unwrap();
    chips_until(&owner, "VIP gone", |c| colour_of(c, "VIP").is_none()).await;
    owner.shutdown().await;
}

//! The demo shop in-process: a new shop links its owner and the scripted customers reach
//! the owner's inbox; reopened, the shop keeps its team and the profile reconnects.

use std::time::Duration;

use teamline_client::{ClientOptions, ConnectionState, DeviceInfo};
use teamline_demo::{DemoShop, shop_dirs};

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_shop_links_its_owner_and_reopens_where_it_was() {
    let data = tempfile::tempdir().unwrap();
    let (shop_dir, owner_dir) = shop_dirs(data.path());
    let device = DeviceInfo::this_machine("Demo desk", "0.1.0-test");

    let shop = DemoShop::start(&shop_dir).await.unwrap();
    let client = shop
        .open_owner(ClientOptions::new(&owner_dir), &device)
        .await
        .unwrap();
    assert!(client.is_linked());
    let me = client.me().expect("the owner's identity");
    assert_eq!(me.role, "admin");
    client.start();
    // The script's first customer writes within seconds of the shop opening.
    let mut events = client.subscribe();
    within("the first scripted customer in the inbox", async {
        while client.inbox().await.unwrap().is_empty() {
            let _ = events.recv().await;
        }
    })
    .await;
    let url = shop.relay_url().to_owned();
    client.shutdown().await;
    drop(client);
    shop.shutdown().await.unwrap();

    // Reopened: same team (no new owner code needed), same address, the profile connects.
    let shop = DemoShop::start(&shop_dir).await.unwrap();
    assert_eq!(
        shop.relay_url(),
        url,
        "the shop keeps its port when it is free"
    );
    let client = shop
        .open_owner(ClientOptions::new(&owner_dir), &device)
        .await
        .unwrap();
    assert_eq!(client.me().unwrap().device_id, me.device_id);
    client.start();
    let mut state = client.connection_state();
    within(
        "the reopened owner connected",
        state.wait_for(|s| *s == ConnectionState::Connected),
    )
    .await
    .unwrap();
    client.shutdown().await;
    shop.shutdown().await.unwrap();
}

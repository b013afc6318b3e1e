//! A real notification through notify-rust to a real notification daemon (dunst in the
//! private Xvfb + D-Bus session of `cargo xtask test`). Fails when no notification
//! service is on the session bus, unless TEAMLINE_NO_NOTIFY_TESTS=1 opts out explicitly.

mod common;

use std::process::Command as Process;

use common::*;
use teamline_client::{Client, ConnectionState};
use teamline_core::Preset;

fn dunstctl(args: &[&str]) -> String {
    let out = Process::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl runs (dunst is the test session's notification daemon)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_label_notifies_a_supervisor_through_the_real_daemon() {
    if std::env::var("TEAMLINE_NO_NOTIFY_TESTS").as_deref() == Ok("1") {
        eprintln!("TEAMLINE_NO_NOTIFY_TESTS=1: desktop notification test not run");
        return;
    }
    let server = notify_rust::get_server_information().unwrap_or_else(|e| {
        panic!(
            "no notification service on the session bus ({e}); run inside `cargo xtask test` \
             (Xvfb + D-Bus + dunst) or set TEAMLINE_NO_NOTIFY_TESTS=1 to opt out explicitly"
        )
    });
    eprintln!("notification server: {} {}", server.name, server.version);

    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let mut opts = options(&dir);
    opts.notifier = None; // the real desktop notifier
    let client = Client::open(opts).await.unwrap();
    let code = env.code(Preset::Supervisor, "Sam").await;
    client
        .link(&env.relay_url, &code, &device("Supervisor desk"))
        .await
        .unwrap();
    let mut open = client.take_open_requests().unwrap();
    let customer = format!("Urgent customer {}", uuid::Uuid::now_v7().simple());
    env.customer_says("15556660000", &customer, "my parcel is lost")
        .await;
    env.wait_messages(1).await;
    let conv = env.conversation_of("15556660000").await;
    client.start();
    wait_state(&client, ConnectionState::Connected).await;
    wait_cursor(&client, env.head()).await;

    env.append(
        "labels.changed",
        Some(conv),
        serde_json::json!({"conversation_id": conv, "labels": ["#urgent"], "added": ["#urgent"]}),
    )
    .await;
    wait_cursor(&client, env.head()).await;

    // Shown by the daemon: wait until it is displayed, click it (its default action),
    // then it is in the daemon's history.
    within("the notification on screen", async {
        loop {
            let shown: u32 = dunstctl(&["count", "displayed"])
                .trim()
                .parse()
                .unwrap_or(0);
            let waiting: u32 = dunstctl(&["count", "waiting"]).trim().parse().unwrap_or(0);
            if shown + waiting > 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    dunstctl(&["action", "0"]);
    let opened = within("the click to open the conversation", open.recv()).await;
    assert_eq!(opened, Some(conv));
    dunstctl(&["close-all"]);
    let history = dunstctl(&["history"]);
    assert!(
        history.contains(&customer),
        "dunst history lacks the notification: {history}"
    );
    assert!(history.contains("#urgent"));
    client.shutdown().await;
}

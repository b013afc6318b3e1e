//! The outbox against a real relay: a reply queued while the network is down goes out
//! once after reconnecting, and once after the app is killed (`kill -9`) and restarted.
//! Exactly once is checked on the relay: one outbound message row per reply.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc as std_mpsc;

use common::*;
use teamline_client::{Client, ClientEvent, Command, ConnectionState, OutboxState};
use teamline_core::Preset;
use uuid::Uuid;

fn reply(conversation_id: Uuid, text: &str) -> Command {
    Command::SendText {
        conversation_id,
        text: text.into(),
        preview_url: None,
        reply_to: None,
        takeover_reason: None,
    }
}

/// A linked admin device whose member is assigned a customer's conversation.
async fn linked_with_assigned_conversation(env: &Env, dir: &std::path::Path) -> (Client, Uuid) {
    let client = Client::open(options(dir)).await.unwrap();
    let code = env.code(Preset::Admin, "Ana").await;
    let info = client
        .link(&env.gate.url, &code, &device("Desk"))
        .await
        .unwrap();
    env.customer_says("15554440000", "Hal", "is my order shipped?")
        .await;
    env.wait_messages(1).await;
    let conv = env.conversation_of("15554440000").await;
    env.assign(conv, info.member_id.unwrap()).await;
    client.start();
    wait_cursor(&client, env.head()).await;
    let stored = client
        .read(move |s| s.conversation(conv))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.assignee, info.member_id);
    (client, conv)
}

async fn texts_sent(env: &Env, conv: Uuid, text: &str) -> usize {
    env.outbound(conv)
        .await
        .iter()
        .filter(|b| b.to_string().contains(text))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_commands_are_not_queued() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let client = Client::open(options(&dir)).await.unwrap();
    let code = env.code(Preset::Standard, "Ivo").await;
    client
        .link(&env.relay_url, &code, &device("Desk"))
        .await
        .unwrap();
    env.customer_says("15554449999", "Jo", "hello").await;
    env.wait_messages(1).await;
    client.start();
    wait_cursor(&client, env.head()).await;
    let conv = env.conversation_of("15554449999").await;
    // Unassigned: core says claim first; nothing reaches the outbox.
    let err = client.send(reply(conv, "hi")).await.unwrap_err();
    assert_eq!(err.code(), "not_assigned");
    assert!(client.outbox().await.unwrap().is_empty());
    let err = client.send(reply(Uuid::now_v7(), "hi")).await.unwrap_err();
    assert_eq!(err.code(), "unknown_conversation");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_queued_offline_is_sent_once_after_reconnect() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let (client, conv) = linked_with_assigned_conversation(&env, &dir).await;
    wait_state(&client, ConnectionState::Connected).await;

    env.gate.set_down(true);
    let mut state = client.connection_state();
    within(
        "losing the relay",
        state.wait_for(|s| *s != ConnectionState::Connected),
    )
    .await
    .unwrap();
    let entry = client
        .send(reply(conv, "queued while offline"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.state, OutboxState::Pending);
    let listed = client.outbox().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].text.as_deref(), Some("queued while offline"));
    let mut events = client.subscribe();
    // At least one attempt failed against the dead network.
    wait_event(&mut events, "a failed attempt", |e| {
        *e == ClientEvent::OutboxChanged
    })
    .await;
    assert_eq!(texts_sent(&env, conv, "queued while offline").await, 0);

    env.gate.set_down(false);
    client.reconnect_now();
    within("the outbox to drain", async {
        loop {
            if client.outbox().await.unwrap().is_empty() {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
    assert_eq!(texts_sent(&env, conv, "queued while offline").await, 1);
    // The relay's message.queued event comes back through sync as an outbound message.
    wait_cursor(&client, env.head()).await;
    let out = client
        .read(move |s| s.messages(conv, None, 50))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.text.as_deref() == Some("queued while offline"))
        .count();
    assert_eq!(out, 1);
    client.shutdown().await;
}

/// The probe binary, with stdout lines forwarded to a channel.
struct Probe {
    child: Child,
    lines: std_mpsc::Receiver<String>,
}

impl Probe {
    fn spawn(dir: &std::path::Path, send: Option<(Uuid, &str)>) -> Probe {
        let mut cmd = Process::new(env!("CARGO_BIN_EXE_teamline-client-probe"));
        cmd.arg("--data-dir").arg(dir).args(["--raw-key-byte", "7"]);
        if let Some((conv, text)) = send {
            cmd.arg("--send-text").arg(conv.to_string()).arg(text);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Probe { child, lines }
    }

    fn wait_line(&self, pred: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(WAIT)
                .expect("the probe printed nothing in time");
            if pred(&line) {
                return line;
            }
        }
    }

    /// `kill -9`: no clean shutdown, no flush.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_queued_then_app_killed_is_sent_once_after_restart() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let (client, conv) = linked_with_assigned_conversation(&env, &dir).await;
    client.shutdown().await;
    drop(client);

    // Offline: the reply is written to the outbox, then the app dies.
    env.gate.set_down(true);
    let probe = Probe::spawn(&dir, Some((conv, "survives kill -9")));
    probe.wait_line(|l| l.starts_with("queued "));
    probe.wait_line(|l| l.starts_with("outbox pending=1"));
    probe.kill9();
    assert_eq!(texts_sent(&env, conv, "survives kill -9").await, 0);

    // Online again, a fresh process sends it, once.
    env.gate.set_down(false);
    let probe = Probe::spawn(&dir, None);
    probe.wait_line(|l| l == "outbox pending=0 failed=0");
    assert_eq!(texts_sent(&env, conv, "survives kill -9").await, 1);
    probe.kill9();

    // Killed while (possibly) mid-send: the same key goes again; the relay applies it once.
    let probe = Probe::spawn(&dir, Some((conv, "killed mid-send")));
    probe.wait_line(|l| l.starts_with("queued "));
    probe.kill9();
    let probe = Probe::spawn(&dir, None);
    probe.wait_line(|l| l == "outbox pending=0 failed=0");
    probe.kill9();
    assert_eq!(texts_sent(&env, conv, "killed mid-send").await, 1);
}

//! A headless Teamline client for crash tests and scripted runs (not shipped).
//!
//! `teamline-client-probe --data-dir DIR [--raw-key-byte N] [--send-text CONVERSATION TEXT]`
//!
//! Opens the profile, starts syncing and sending, optionally queues one reply, and prints
//! one line per fact on stdout: `queued <id>`, `outbox pending=<n> failed=<m>`,
//! `state <json>`. It runs until killed (tests `kill -9` it).

use std::time::Duration;

use teamline_client::{Client, ClientEvent, ClientOptions, Command, StoreKeyChoice, SyncTuning};
use uuid::Uuid;

fn usage() -> ! {
    eprintln!(
        "usage: teamline-client-probe --data-dir DIR [--raw-key-byte N] [--send-text CONVERSATION TEXT]"
    );
    std::process::exit(2)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let mut data_dir = None;
    let mut raw = None;
    let mut send = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data-dir" => data_dir = Some(args.next().unwrap_or_else(|| usage())),
            "--raw-key-byte" => {
                let n: u8 = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage());
                raw = Some([n; 32]);
            }
            "--send-text" => {
                let conv: Uuid = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage());
                let text = args.next().unwrap_or_else(|| usage());
                send = Some((conv, text));
            }
            _ => usage(),
        }
    }
    let mut opts = ClientOptions::new(data_dir.unwrap_or_else(|| usage()));
    if let Some(k) = raw {
        opts.store_key = StoreKeyChoice::RawForTestsAndBenches(k);
    }
    opts.tuning = SyncTuning {
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        ..SyncTuning::default()
    };
    let client = Client::open(opts).await?;
    let mut events = client.subscribe();
    let mut state = client.connection_state();
    if let Some((conversation_id, text)) = send {
        let entry = client
            .send(Command::SendText {
                conversation_id,
                text,
                preview_url: None,
                reply_to: None,
                takeover_reason: None,
            })
            .await?
            .expect("a reply is queued");
        println!("queued {}", entry.id);
    }
    client.start();
    report(&client).await;
    loop {
        tokio::select! {
            e = events.recv() => match e {
                Ok(ClientEvent::OutboxChanged) => report(&client).await,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => report(&client).await,
                Err(_) => return Ok(()),
            },
            changed = state.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let s = state.borrow_and_update().clone();
                println!("state {}", serde_json::to_string(&s)?);
            }
        }
    }
}

async fn report(client: &Client) {
    match client.outbox().await {
        Ok(items) => {
            let failed = items
                .iter()
                .filter(|i| i.state == teamline_client::OutboxState::Failed)
                .count();
            println!("outbox pending={} failed={failed}", items.len() - failed);
        }
        Err(e) => println!("outbox error {}", e.code()),
    }
}

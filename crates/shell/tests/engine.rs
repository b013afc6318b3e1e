//! The engine holder behind both shells, with a real profile (SQLCipher store, key in the
//! session's keyring).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use teamline_shell::{Answer, Body, Engine, Host, IpcError, ShellEvent, Startup, call};

/// A host that keeps what the engine emits.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(&'static str, Value)>>,
}

impl Host for Recorder {
    fn emit(&self, event: ShellEvent) {
        self.events
            .lock()
            .unwrap()
            .push((event.name(), event.payload()));
    }

    fn app_version(&self) -> String {
        "9.9.9".to_owned()
    }

    fn save_dir(&self) -> Result<PathBuf, IpcError> {
        Ok(std::env::temp_dir())
    }
}

fn json_of(answer: Answer) -> Value {
    match answer {
        Answer::Json(text) => serde_json::from_str(&text).unwrap(),
        Answer::Bytes(_) => panic!("a JSON answer"),
    }
}

/// An engine over a new, unlinked profile in `dir`.
async fn open_unlinked(dir: &tempfile::TempDir) -> Engine {
    let startup = Startup {
        data_dir: dir.path().join("profile"),
        ..Startup::default()
    };
    Engine::open(Arc::new(Recorder::default()), &startup).await
}

#[tokio::test]
async fn commands_wait_until_the_profile_is_open_then_answer() {
    let dir = tempfile::tempdir().unwrap();
    let host = Arc::new(Recorder::default());
    let engine = Arc::new(Engine::new(host.clone(), dir.path().join("profile")));
    let asking = Arc::clone(&engine);
    let pending =
        tokio::spawn(async move { call(&asking, "session", Body::Json(Value::Null)).await });
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert!(
        !pending.is_finished(),
        "a command waits while the profile opens"
    );

    engine
        .start(&Startup {
            data_dir: dir.path().join("profile"),
            ..Startup::default()
        })
        .await;
    let session = json_of(pending.await.unwrap().unwrap());
    assert_eq!(session["linked"], false);
    assert_eq!(session["demo"], false);
    // The engine told the UI its connection state as soon as it ran.
    let events = host.events.lock().unwrap().clone();
    assert!(
        events.contains(&("connection-state", json!({ "state": "not_linked" }))),
        "{events:?}"
    );

    let info = json_of(
        call(&engine, "app_info", Body::Json(json!({})))
            .await
            .unwrap(),
    );
    assert_eq!(info["version"], "9.9.9");
}

#[tokio::test]
async fn leaving_a_demo_that_is_not_running_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_unlinked(&dir).await;
    let refused = call(&engine, "leave_demo", Body::Json(json!({})))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "not_in_demo");
    assert!(engine.current().is_some(), "the profile stays open");
    engine.shutdown().await;
}

#[tokio::test]
async fn bad_inbox_page_and_row_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_unlinked(&dir).await;
    let ask = |name: &'static str, args: Value| call(&engine, name, Body::Json(args));
    // Checked before anything is read (this profile is not linked).
    let id = "01a200f6-c47d-73f5-8f39-680a9069438f";
    for (name, args, about) in [
        (
            "inbox",
            json!({ "after": { "at": null, "id": id } }),
            "`after`",
        ),
        (
            "inbox",
            json!({ "limit": 10, "after": { "id": "x" } }),
            "`after`",
        ),
        ("inbox_rows", json!({ "ids": vec![id; 1001] }), "`ids`"),
        ("inbox_rows", json!({}), "`ids`"),
    ] {
        let refused = ask(name, args.clone()).await.unwrap_err();
        assert_eq!(refused.code, "invalid_arguments", "{name} {args}");
        assert!(refused.message.contains(about), "{}", refused.message);
    }
    engine.shutdown().await;
}

//! The web shell over real HTTP on 127.0.0.1 with a real (unlinked) profile: the UI is
//! served with its token, `/api` refuses strangers, commands run by name, and the event
//! stream opens with the connection state. The full inbox flow runs in headless Chromium
//! (`tests/browser` at the repository root).

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};
use teamline_shell::Startup;
use teamline_shell::web::{WebOptions, WebShell};

struct Page {
    shell: WebShell,
    token: String,
    http: reqwest::Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn built_ui(dir: &Path) {
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><head><title>Teamline</title></head><body></body></html>",
    )
    .unwrap();
    std::fs::create_dir(dir.join("assets")).unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log('hi');").unwrap();
}

async fn open() -> Page {
    let (ui, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    built_ui(ui.path());
    let shell = WebShell::start(WebOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ui_dir: ui.path().to_owned(),
        startup: Startup {
            data_dir: data.path().join("profile"),
            ..Startup::default()
        },
        save_dir: None,
    })
    .await
    .expect("the web shell starts");
    let http = reqwest::Client::new();
    let index = http.get(&shell.url).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    let marker = "<meta name=\"teamline-web-token\" content=\"";
    let at = html.find(marker).expect("index.html carries the token") + marker.len();
    let token = html[at..at + 64].to_owned();
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    Page {
        shell,
        token,
        http,
        _dirs: (ui, data),
    }
}

impl Page {
    async fn call(&self, command: &str, args: Value) -> (u16, Value) {
        let reply = self
            .http
            .post(format!("{}api/call/{command}", self.shell.url))
            .bearer_auth(&self.token)
            .json(&args)
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap())
    }
}

#[tokio::test]
async fn commands_run_by_name_with_the_pages_token() {
    let page = open().await;
    let (status, session) = page.call("session", json!({})).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["linked"], false);
    assert_eq!(session["startup_error"], Value::Null);

    let (status, state) = page.call("connection_state", Value::Null).await;
    assert_eq!((status, state), (200, json!({ "state": "not_linked" })));

    let (status, info) = page.call("app_info", json!({})).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        info["data_dir"].as_str().unwrap().ends_with("profile"),
        "{info}"
    );
    page.shell.shutdown().await;
}

#[tokio::test]
async fn bad_calls_get_a_code_the_ui_can_branch_on() {
    let page = open().await;
    let (status, e) = page.call("drop_tables", json!({})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("unknown_command")));

    let (status, e) = page.call("inbox", json!({ "limit": "twenty" })).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_arguments"))
    );
    assert!(e["message"].as_str().unwrap().contains("limit"), "{e}");

    let (status, e) = page.call("notes", json!({})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_arguments"))
    );

    let reply = page
        .http
        .post(format!("{}api/call/session", page.shell.url))
        .bearer_auth(&page.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);

    // The engine's own refusals keep their codes: an unlinked device cannot send.
    let (status, e) = page
        .call(
            "send_text",
            json!({ "conversationId": uuid::Uuid::nil(), "text": "hello" }),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["code"], "not_linked");
    page.shell.shutdown().await;
}

#[tokio::test]
async fn strangers_are_refused() {
    let page = open().await;
    let url = format!("{}api/call/session", page.shell.url);
    let no_token = page.http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = page
        .http
        .post(&url)
        .bearer_auth("0".repeat(64))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    // A page on another name resolving to 127.0.0.1 (DNS rebinding) is refused, token or not.
    let rebinding = page
        .http
        .post(&url)
        .bearer_auth(&page.token)
        .header("host", "evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);

    let events = page
        .http
        .get(format!("{}api/events?token=nope", page.shell.url))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 401);
    page.shell.shutdown().await;
}

#[tokio::test]
async fn the_built_ui_is_served_and_nothing_outside_it() {
    let page = open().await;
    let get = |path: &str| {
        let url = format!("{}{path}", page.shell.url);
        let http = page.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let js = get("assets/app.js").await;
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(get("assets/missing.js").await.status(), 404);
    // The app's own routes get index.html.
    let route = get("settings").await.text().await.unwrap();
    assert!(route.contains("teamline-web-token"));
    // An escaped `..` stays a plain (missing) name inside the UI folder.
    let escaped = get("assets/%2e%2e/%2e%2e/Cargo.toml").await;
    assert_eq!(escaped.status(), 404);
    page.shell.shutdown().await;
}

#[tokio::test]
async fn the_event_stream_opens_with_the_connection_state() {
    let page = open().await;
    let mut events = page
        .http
        .get(format!("{}api/events?token={}", page.shell.url, page.token))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = events
            .chunk()
            .await
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: connection-state\n"), "{text}");
    assert!(text.contains(r#"data: {"state":"not_linked"}"#), "{text}");
    // Shutting down closes open streams instead of waiting for them forever.
    page.shell.shutdown().await;
}

#[tokio::test]
async fn only_loopback_addresses_are_served() {
    let ui = tempfile::tempdir().unwrap();
    built_ui(ui.path());
    let listen: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let refused = WebShell::start(WebOptions {
        listen,
        ui_dir: ui.path().to_owned(),
        startup: Startup::default(),
        save_dir: None,
    })
    .await;
    let error = refused
        .err()
        .expect("a public address is refused")
        .to_string();
    assert!(error.contains("loopback"), "{error}");
}

//! The `teamline-relay` binary: CLI commands, configuration errors, `check` against the
//! sim, and a `kill -9` during load.

#[path = "common/payloads.rs"]
mod payloads;
#[path = "common/serve.rs"]
mod serve;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use serve::{BIN, spawn_serve};
use teamline_relay::storage::Storage;
use teamline_relay::storage::sqlite::{Options, SqliteStorage};

const SECRET: &str = "crash-secret";

fn write_config(dir: &Path, graph_url: &str, token: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("relay.toml");
    let text = format!(
        r#"listen = "127.0.0.1:0"
database = "{db}"
public_url = "https://relay.example.com"
timezone = "Europe/Madrid"
{extra}

[whatsapp]
phone_number_id = "106540352242922"
access_token = "{token}"
app_secret = "{SECRET}"
verify_token = "verify"
graph_url = "{graph_url}"
"#,
        db = dir.join("relay.db").display()
    );
    std::fs::write(&path, text).unwrap();
    // The audit key `init` would create next to the config (`serve` refuses to start
    // without one).
    let key = dir.join("audit.key");
    if !key.exists() {
        std::fs::write(&key, "5a".repeat(32)).unwrap();
    }
    path
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("TEAMLINE_RELAY_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or_default().trim()
}

fn is_code(s: &str) -> bool {
    s.len() == 11
        && s.chars().enumerate().all(|(i, c)| {
            if i == 5 {
                c == '-'
            } else {
                "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)
            }
        })
}

#[tokio::test]
async fn init_and_pair_print_codes_last_and_the_owner_code_links_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "https://graph.facebook.com/v26.0", "t", "");
    let cfg = cfg.to_str().unwrap();
    let (ok, out, err) = run(&["init", "--config", cfg]);
    assert!(ok, "{err}");
    let owner_code = last_line(&out).to_owned();
    assert!(is_code(&owner_code), "{out}");
    let (ok, _, err) = run(&["init", "--config", cfg]);
    assert!(!ok);
    assert!(err.contains("already has a team"), "{err}");
    let (ok, out, err) = run(&[
        "pair",
        "--config",
        cfg,
        "--level",
        "restricted",
        "--member",
        "Rita",
    ]);
    assert!(ok, "{err}");
    let rita_code = last_line(&out).to_owned();
    assert!(is_code(&rita_code), "{out}");
    let (ok, _, err) = run(&["pair", "--config", cfg, "--level", "owner"]);
    assert!(!ok, "{err}");

    // Claim both through a relay on the same database file.
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = teamline_relay::Relay::start(
        listener,
        Arc::clone(&storage),
        teamline_relay::Clock::system(),
        teamline_relay::AppSettings {
            app_secret: SECRET.into(),
            verify_token: "verify".into(),
            timezone: jiff::tz::TimeZone::UTC,
            retention: jiff::SignedDuration::from_hours(720),
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut members = Vec::new();
    for (code, level) in [(&owner_code, "admin"), (&rita_code, "restricted")] {
        let v: Value = http
            .post(format!("{}/v1/pairing/claim", relay.base_url()))
            .json(&json!({"code": code.to_lowercase(), "name": "PC", "os": "windows", "os_version": "11", "app_version": "0.1.0"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["level"]["preset"], level, "{v}");
        let me: Value = http
            .get(format!("{}/v1/me", relay.base_url()))
            .bearer_auth(v["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        members.push(me["member"]["name"].as_str().unwrap().to_owned());
    }
    assert_eq!(members, ["Owner", "Rita"]);
    relay.shutdown().await.unwrap();
}

#[test]
fn missing_or_invalid_keys_and_postgres_urls_stop_start_up_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "https://graph.facebook.com/v26.0", "t", "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("app_secret = \"crash-secret\"\n", "")).unwrap();
    let (ok, _, err) = run(&["serve", "--config", cfg.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("whatsapp.app_secret"), "{err}");

    // The environment fills the gap; an invalid time zone is named.
    let out = Command::new(BIN)
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .env("TEAMLINE_RELAY_WHATSAPP_APP_SECRET", "from-env")
        .env("TEAMLINE_RELAY_TIMEZONE", "Moon/Base")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`timezone`") && !err.contains("app_secret"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .env("TEAMLINE_RELAY_WHATSAPP_APP_SECRET", "from-env")
        .env(
            "TEAMLINE_RELAY_DATABASE",
            "postgres://relay@localhost/teamline",
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("PostgreSQL support is not built yet"), "{err}");
}

#[tokio::test]
async fn check_reads_the_phone_number_and_explains_a_rejected_token() {
    let sim = whatsapp_sim::Sim::start(whatsapp_sim::SimConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let graph = format!("{}/v26.0", sim.base_url());
    for (token, expect_ok, needle) in [
        ("sim-access-token", true, "WhatsApp: OK"),
        ("wrong-token", false, "access token rejected"),
    ] {
        let cfg = write_config(dir.path(), &graph, token, "");
        let out = tokio::process::Command::new(BIN)
            .args(["check", "--config", cfg.to_str().unwrap()])
            .output()
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), expect_ok, "{text}");
        assert!(text.contains(needle), "{text}");
        assert!(
            !text.contains(token) || expect_ok,
            "the token is never printed: {text}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn every_webhook_answered_200_survives_a_kill_9_during_load() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "https://graph.facebook.com/v26.0", "t", "");
    let (mut child, url) = spawn_serve(&cfg);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::new();
    let mut senders = Vec::new();
    for _ in 0..16 {
        let (acked, next, dead, http, url) = (
            Arc::clone(&acked),
            Arc::clone(&next),
            Arc::clone(&dead),
            http.clone(),
            url.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= 10_000 || dead.load(Ordering::SeqCst) {
                    return;
                }
                let wamid = format!("wamid.crash.{i}");
                let body = payloads::text(&format!("3460{:07}", i % 500), &wamid, "carga");
                let sig = teamline_whatsapp::signature::sign(SECRET.as_bytes(), &body);
                let resp = http
                    .post(format!("{url}/webhooks/whatsapp"))
                    .header(teamline_whatsapp::signature::HEADER, sig)
                    .body(body)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == 200 => acked.lock().unwrap().push(wamid),
                    // Refused or cut off by the kill: this sender stops.
                    _ => return,
                }
            }
        }));
    }
    // Kill mid-load, once a good share has been acknowledged.
    loop {
        let n = acked.lock().unwrap().len();
        if n >= 2_000 || senders.iter().all(|s| s.is_finished()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    dead.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 2_000 && acked.len() < 10_000,
        "{}",
        acked.len()
    );

    // The relay starts again on the same file, and stops cleanly on SIGTERM.
    let (child, url) = spawn_serve(&cfg);
    let health: Value = http
        .get(format!("{url}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    assert!(child.wait().unwrap().success(), "graceful shutdown exits 0");

    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(dir.path().join("relay.db"), Options::default()).unwrap());
    let missing = storage
        .read(move |tx| {
            let mut missing = Vec::new();
            for w in &acked {
                if tx.message_by_wamid(w)?.is_none() {
                    missing.push(w.clone());
                }
            }
            Ok(missing)
        })
        .await
        .unwrap();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let events = storage.events_after(0, 100_000).await.unwrap();
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "gap-free after the crash"
    );
}

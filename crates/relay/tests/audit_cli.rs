//! The audit key through the real binary: `serve` refuses to start without one, `init`
//! creates it (owner-only) next to the config, `serve` signs with it and
//! `audit verify` checks the chain with it; a bad key in the environment is named.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_teamline-relay");

fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("relay.toml");
    std::fs::write(
        &path,
        format!(
            r#"listen = "127.0.0.1:0"
database = "{db}"
public_url = "https://relay.example.com"
timezone = "Europe/Madrid"

[whatsapp]
phone_number_id = "106540352242922"
access_token = "t"
app_secret = "s"
verify_token = "v"
"#,
            db = dir.join("relay.db").display()
        ),
    )
    .unwrap();
    path
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("TEAMLINE_RELAY_LOG", "warn")
        .env_remove("TEAMLINE_RELAY_AUDIT_KEY")
        .env_remove("TEAMLINE_RELAY_AUDIT_KEY_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_key_is_created_by_init_used_by_serve_and_checked_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let cfg = cfg.to_str().unwrap();
    let key_file = dir.path().join("audit.key");

    let (ok, _, err) = run(&["serve", "--config", cfg], &[]);
    assert!(!ok);
    assert!(
        err.contains("`audit_key_file`")
            && err.contains("init")
            && err.contains("TEAMLINE_RELAY_AUDIT_KEY"),
        "{err}"
    );

    let (ok, out, err) = run(&["init", "--config", cfg], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("Created the audit key file"), "{out}");
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        !out.contains(text.trim()) && !err.contains(text.trim()),
        "the key is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let owner_code = out.lines().last().unwrap().trim().to_owned();

    let (ok, out, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "audit log intact: 0 entries, head seq 0");

    // The relay signs the owner's link with that key.
    let mut child = Command::new(BIN)
        .args(["serve", "--config", cfg])
        .env("TEAMLINE_RELAY_LOG", "warn")
        .env_remove("TEAMLINE_RELAY_AUDIT_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!(
        "http://{}",
        line.trim().strip_prefix("listening on ").expect(&line)
    );
    let v: Value = reqwest::Client::new()
        .post(format!("{url}/v1/pairing/claim"))
        .json(&json!({"code": owner_code, "name": "Desk", "os": "linux", "os_version": "6", "app_version": "1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["token"].is_string(), "{v}");
    // Verify while the relay runs (it keeps the database open).
    let (ok, out, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert!(ok, "{out} {err}");
    assert!(
        out.starts_with("audit log intact: 1 entries, head seq "),
        "{out}"
    );
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());

    // Another key (here from the environment, which wins over the file) fails the check;
    // a short one is refused and named, without being printed.
    let other = "ab".repeat(32);
    let (ok, out, _) = run(
        &["audit", "verify", "--config", cfg],
        &[("TEAMLINE_RELAY_AUDIT_KEY", other.as_str())],
    );
    assert!(!ok);
    assert!(
        out.contains("BROKEN") && out.contains("checkpoint signature invalid"),
        "{out}"
    );
    let (ok, _, err) = run(
        &["audit", "verify", "--config", cfg],
        &[("TEAMLINE_RELAY_AUDIT_KEY", "00ff")],
    );
    assert!(!ok);
    assert!(
        err.contains("TEAMLINE_RELAY_AUDIT_KEY") && err.contains("at least 32"),
        "{err}"
    );
    assert!(!err.contains("00ff"), "{err}");
    // `init` never replaces an existing key.
    let before = std::fs::read(&key_file).unwrap();
    let (ok, out, _) = run(&["init", "--config", cfg], &[]);
    assert!(!ok, "the team exists");
    assert!(!out.contains("Created the audit key file"));
    assert_eq!(std::fs::read(&key_file).unwrap(), before);
}

//! The real `teamline-relay` binary serving a config file, for crash and restart tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_teamline-relay");

/// Starts `teamline-relay serve --config cfg` and waits for its ready line; returns the
/// process and the relay's base URL.
pub fn spawn_serve(cfg: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .env("TEAMLINE_RELAY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no ready line: {line:?}"))
        .to_owned();
    (child, format!("http://{addr}"))
}

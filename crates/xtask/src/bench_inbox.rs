//! The inbox benchmark in the real window (`benches/inbox.rs` in the app's package): it
//! needs the app built with its UI, a display, a keyring and tauri-driver, so it runs as
//! its own `cargo bench` inside the same private session as the end-to-end tests.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::prereqs::{self, Purpose};
use crate::{root, session, sh, ui};

pub fn run() -> Result<Value> {
    prereqs::ensure(Purpose::Test)?;
    prereqs::ensure_tauri_driver()?;
    ui::install()?;
    ui::build()?;
    let mut command = session::wrap(
        "cargo",
        &[
            "bench",
            "--quiet",
            "-p",
            "teamline",
            "--features",
            "custom-protocol",
            "--bench",
            "inbox",
        ],
    );
    let out = sh::output(command.current_dir(root()))?;
    let last = out
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("the inbox benchmark printed no JSON")?;
    let report: Value = serde_json::from_str(last).context("the inbox benchmark's JSON")?;
    Ok(report["inbox"].clone())
}

//! The web UI: npm packages from the lock file, and the production build.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::{prereqs::npm_program, root, sh};

pub fn dir() -> PathBuf {
    root().join("ui")
}

/// `npm ci` when node_modules is missing or older than the lock file.
pub fn install() -> Result<()> {
    let ui = dir();
    if is_current(
        &ui.join("node_modules/.package-lock.json"),
        &ui.join("package-lock.json"),
    ) {
        return Ok(());
    }
    sh::run(&mut sh::cmd(
        npm_program("npm"),
        &["ci", "--no-audit", "--no-fund"],
        &ui,
    ))
}

/// Builds the UI into ui/dist, where tauri.conf.json's `frontendDist` points.
pub fn build() -> Result<()> {
    sh::run(&mut sh::cmd(npm_program("npm"), &["run", "build"], &dir()))
}

fn is_current(installed: &Path, lock: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(installed), modified(lock)), (Some(i), Some(l)) if i >= l)
}

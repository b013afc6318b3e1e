//! What the app needs from the operating system, and installing it where we can.
//!
//! On Debian and Ubuntu the missing packages are installed with apt when running as root;
//! otherwise the exact `sudo apt-get install …` line is printed and the task stops.
//! On macOS and Windows the prerequisites are checked and whatever is missing is named.

use std::process::Command;

use anyhow::{Result, bail};

use crate::sh;

/// Libraries and tools to build and run the Tauri app (WebKitGTK 4.1 stack).
const DEBIAN_BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libgtk-3-dev",
    "libwebkit2gtk-4.1-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libsoup-3.0-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    // Cyrillic, Chinese and emoji (customers send them) must render, not show boxes.
    "fonts-dejavu-core",
    "fonts-wqy-microhei",
    "fonts-noto-color-emoji",
];

/// What the test lanes add: a virtual display, WebDriver for WebKitGTK, headless Chromium
/// and its WebDriver (the browser lane, over the web shell), a private D-Bus session, the
/// OS keyring and a notification daemon.
const DEBIAN_TEST: &[&str] = &[
    "xvfb",
    "xauth",
    "dbus-daemon",
    "dbus-bin",
    "dbus-x11",
    "webkit2gtk-driver",
    "chromium",
    "chromium-driver",
    "gnome-keyring",
    "dunst",
];

/// The oldest Node.js that Vite 8 runs on.
const MIN_NODE: (u32, u32) = (20, 19);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Demo,
    Test,
}

/// Makes sure the system prerequisites for `purpose` are present, installing them when
/// this platform and user allow it.
pub fn ensure(purpose: Purpose) -> Result<()> {
    match std::env::consts::OS {
        "linux" if is_debian_like() => ensure_debian(purpose)?,
        "linux" => eprintln!(
            "xtask: not a Debian-like system; make sure WebKitGTK 4.1, GTK 3, libsoup 3 and their \
             -dev packages are installed (see README.md)."
        ),
        "macos" => {
            if Command::new("xcode-select")
                .arg("-p")
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
            {
                bail!("the Xcode command line tools are missing: run `xcode-select --install`");
            }
        }
        "windows" => eprintln!(
            "xtask: Windows needs the Microsoft C++ Build Tools and the WebView2 runtime \
             (preinstalled on Windows 10 and 11); see README.md."
        ),
        other => bail!("{other} is not a supported platform (Linux, macOS, Windows)"),
    }
    ensure_node()
}

fn is_debian_like() -> bool {
    std::fs::read_to_string("/etc/os-release").is_ok_and(|release| {
        release.lines().any(|line| {
            (line.starts_with("ID=") || line.starts_with("ID_LIKE="))
                && (line.contains("debian") || line.contains("ubuntu"))
        })
    })
}

fn ensure_debian(purpose: Purpose) -> Result<()> {
    let mut wanted: Vec<&str> = DEBIAN_BUILD.to_vec();
    if purpose == Purpose::Test {
        wanted.extend_from_slice(DEBIAN_TEST);
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !dpkg_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing system packages. Install them with:\n\n    sudo apt-get update && sudo apt-get install -y {list}\n"
        );
    }
    eprintln!("xtask: installing {list}");
    sh::run(Command::new("apt-get").args(["update", "-q"]))?;
    sh::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", package])
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout == b"installed")
}

fn is_root() -> bool {
    sh::output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

fn ensure_node() -> Result<()> {
    let version = sh::output(Command::new(npm_program("node")).arg("--version")).map_err(|_| {
        anyhow::anyhow!(
            "Node.js {}.{} or newer is needed to build the UI: install it from your package manager or nodejs.org",
            MIN_NODE.0,
            MIN_NODE.1
        )
    })?;
    let parsed = parse_node_version(&version);
    if parsed.is_none_or(|v| v < MIN_NODE) {
        bail!(
            "Node.js {} is too old to build the UI; {}.{} or newer is needed",
            version.trim(),
            MIN_NODE.0,
            MIN_NODE.1
        );
    }
    Ok(())
}

fn parse_node_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// `npm` and `node` are `.cmd` shims on Windows.
pub fn npm_program(name: &str) -> String {
    if cfg!(windows) && name == "npm" {
        format!("{name}.cmd")
    } else {
        name.to_owned()
    }
}

/// Installs `tauri-driver` (the WebDriver bridge for Tauri apps) when it is not on the PATH.
pub fn ensure_tauri_driver() -> Result<()> {
    if sh::on_path("tauri-driver") {
        return Ok(());
    }
    sh::run(Command::new("cargo").args(["install", "tauri-driver@2.1.0", "--locked"]))
}

#[cfg(test)]
mod tests {
    use super::parse_node_version;

    #[test]
    fn node_versions_parse() {
        assert_eq!(parse_node_version("v20.19.2\n"), Some((20, 19)));
        assert_eq!(parse_node_version("22.1.0"), Some((22, 1)));
        assert_eq!(parse_node_version("garbage"), None);
    }
}

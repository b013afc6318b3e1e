//! Headless Chromium through chromedriver, and the web shell it opens: the UI's HTTP
//! backend over the same engine the desktop window uses.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use teamline_shell::Startup;
use teamline_shell::web::{WebOptions, WebShell};

use crate::driver::{free_port, out_dir};
use crate::webdriver::Session;

/// A chromedriver process; each session is a fresh Chromium profile.
pub struct Chrome {
    process: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Chrome {
    pub fn start() -> Chrome {
        let port = free_port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is installed (package chromium-driver; cargo xtask test installs it)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Chrome {
            process,
            url: format!("http://127.0.0.1:{port}"),
            profiles: tempfile::tempdir().expect("browser profiles"),
        }
    }

    /// A headless Chromium window (1280×860) showing `page`; `name` labels the screenshot
    /// saved if a wait fails.
    pub fn open(&self, name: &str, page: &str) -> Session {
        let profile = self.profiles.path().join(name);
        let mut args = vec![
            "--headless=new".to_owned(),
            "--window-size=1280,860".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        // Chromium refuses to run as root with its sandbox (CI containers run as root).
        if is_root() {
            args.push("--no-sandbox".to_owned());
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium_binary(), "args": args }
        });
        let session = Session::start_with_capabilities(
            &self.url,
            capabilities,
            &out_dir().join(format!("FAILED-browser-{name}.png")),
        );
        session.call(reqwest::Method::POST, "/url", Some(json!({ "url": page })));
        session
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn chromium_binary() -> &'static str {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .unwrap_or("chromium")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A web shell for one device: its own profile (encrypted store, key in the session's
/// keyring), linked to the team's relay with a pairing code on start.
pub struct Device {
    rt: tokio::runtime::Runtime,
    shell: Option<WebShell>,
    pub url: String,
    _data: tempfile::TempDir,
}

impl Device {
    pub fn link(relay_url: &str, code: &str, name: &str) -> Device {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let data = tempfile::tempdir().expect("profile directory");
        let shell = rt
            .block_on(WebShell::start(WebOptions {
                listen: "127.0.0.1:0".parse().expect("address"),
                ui_dir: built_ui(),
                startup: Startup {
                    data_dir: data.path().join("profile"),
                    relay: Some(relay_url.to_owned()),
                    pair: Some(code.to_owned()),
                    device_name: Some(name.to_owned()),
                },
                save_dir: None,
            }))
            .expect("the web shell starts (is the UI built? npm --prefix ui run build)");
        Device {
            url: shell.url.clone(),
            shell: Some(shell),
            rt,
            _data: data,
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(shell) = self.shell.take() {
            self.rt.block_on(shell.shutdown());
        }
    }
}

/// The UI as `npm --prefix ui run build` leaves it (the xtask test task builds it first).
fn built_ui() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/dist")
}

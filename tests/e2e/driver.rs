//! The app under test: a tauri-driver process with its own HOME and XDG directories, and
//! where screenshots go. Shared by the end-to-end tests and the inbox benchmark.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::webdriver::Session;

/// A tauri-driver process with its own HOME and XDG directories, so the app under test
/// never touches the developer's profile, and every test starts from a fresh one.
pub struct Driver {
    process: Child,
    url: String,
    home: tempfile::TempDir,
}

impl Driver {
    pub fn start(lang: &str) -> Driver {
        Driver::start_with_env(lang, &[])
    }

    /// As [`Driver::start`], for a computer whose session bus (and so keyring and
    /// notification daemon) cannot be reached.
    pub fn start_without_keyring(lang: &str) -> Driver {
        Driver::start_with_env(
            lang,
            &[(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/teamline-e2e-bus",
            )],
        )
    }

    pub fn start_with_env(lang: &str, extra_env: &[(&str, &str)]) -> Driver {
        let home = tempfile::tempdir().expect("temporary HOME");
        for dir in [".local/share", ".config", ".cache", "runtime"] {
            std::fs::create_dir_all(home.path().join(dir)).expect("XDG dir");
        }
        let port = free_port();
        let native_port = free_port();
        let process = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_CACHE_HOME", home.path().join(".cache"))
            .env("XDG_RUNTIME_DIR", home.path().join("runtime"))
            .env("LANG", lang)
            .env("LANGUAGE", lang.split('.').next().unwrap_or(lang))
            .env("LC_ALL", lang)
            .envs(extra_env.iter().copied())
            // The app's log, printed when the test fails (see Drop).
            .env("TEAMLINE_LOG_FILE", home.path().join("app.log"))
            .env(
                "TEAMLINE_LOG",
                "info,teamline=debug,teamline_client=debug,hyper=warn,reqwest=warn",
            )
            .process_group(0)
            .stdout(Stdio::null())
            .spawn()
            .expect("tauri-driver is installed (cargo xtask test installs it)");
        let url = format!("http://127.0.0.1:{port}");
        wait_until_listening(port);
        Driver { process, url, home }
    }

    /// Opens the app; `name` labels the screenshot saved if a wait fails.
    pub fn session(&self, name: &str) -> Session {
        Session::start(
            &self.url,
            &app_binary(),
            &out_dir().join(format!("FAILED-{name}.png")),
        )
    }

    /// Opens the app with a command line (e.g. `--data-dir`, `--relay`, `--pair`).
    pub fn session_with_args(&self, name: &str, args: &[String]) -> Session {
        Session::start_with_args(
            &self.url,
            &app_binary(),
            args,
            &out_dir().join(format!("FAILED-{name}.png")),
        )
    }

    /// Opens the app as an IT admin would provision it:
    /// `--data-dir PROFILE --relay URL --pair CODE [--device-name NAME]`.
    pub fn provisioned_session(
        &self,
        name: &str,
        profile: &Path,
        relay_url: &str,
        code: &str,
        device_name: Option<&str>,
    ) -> Session {
        let mut args = vec![
            "--data-dir".to_owned(),
            profile.to_str().expect("UTF-8 path").to_owned(),
            "--relay".to_owned(),
            relay_url.to_owned(),
            "--pair".to_owned(),
            code.to_owned(),
        ];
        if let Some(device) = device_name {
            args.extend(["--device-name".to_owned(), device.to_owned()]);
        }
        self.session_with_args(name, &args)
    }

    /// A profile directory inside this driver's HOME.
    pub fn profile(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    pub fn data_home(&self) -> PathBuf {
        self.home.path().join(".local/share")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let wanted =
            std::thread::panicking() || std::env::var_os("TEAMLINE_E2E_SHOW_APP_LOG").is_some();
        if wanted && let Ok(log) = std::fs::read_to_string(self.home.path().join("app.log")) {
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            eprintln!("--- the app's log (last {} lines) ---", tail.len());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
        // tauri-driver leaves its WebKitWebDriver behind (holding our stdout open), so
        // the whole process group it leads goes.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.process.id())])
            .status();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub fn app_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_teamline"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

fn wait_until_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn out_dir() -> PathBuf {
    let dir = std::env::var_os("TEAMLINE_E2E_OUT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Polls `probe` until it returns `Some` (for things outside the window, such as the
/// notification daemon, which have no event to wait on).
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

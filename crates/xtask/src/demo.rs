//! `cargo xtask demo [--agents N] [--fresh]`: a shop's day on this machine, no account
//! needed. Starts a relay (SQLite in `target/demo/`) and `whatsapp-sim --script demo` on
//! 127.0.0.1, links the app as the owner, and with `--agents N` (up to 2) opens agent
//! windows linked as Standard and Restricted, each with its own data directory.
//!
//! The demo keeps its state between runs (the relay database and the linked profiles),
//! so the day continues; `--fresh` starts a new shop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::prereqs::{self, Purpose};
use crate::{root, sh, ui};

/// Credentials shared by the demo relay and the emulator (never a real Meta account).
const APP_SECRET: &str = "demo-app-secret";
const ACCESS_TOKEN: &str = "demo-access-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
/// whatsapp-sim's default WhatsApp Business Account id (lists the message templates).
const BUSINESS_ACCOUNT_ID: &str = "102290129340398";
const VERIFY_TOKEN: &str = "demo-verify-token";

/// The agent windows `--agents` opens: (profile, member name, level).
const AGENTS: [(&str, &str, &str); 2] = [
    ("agent-ana", "Ana", "standard"),
    ("agent-li", "Li", "restricted"),
];

struct Options {
    agents: usize,
    fresh: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        agents: 0,
        fresh: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--agents" => {
                let n = it.next().context("`--agents` needs a number (0 to 2)")?;
                opts.agents = n
                    .parse()
                    .ok()
                    .filter(|n| *n <= AGENTS.len())
                    .with_context(|| format!("`--agents {n}`: choose 0, 1 or 2"))?;
            }
            "--fresh" => opts.fresh = true,
            other => bail!("unknown demo option `{other}` (use --agents N, --fresh)"),
        }
    }
    Ok(opts)
}

/// Kills the demo's background processes when the demo ends, however it ends.
struct Background(Vec<(String, Child)>);

impl Drop for Background {
    fn drop(&mut self) {
        for (name, child) in self.0.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("xtask: stopped {name}");
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    prereqs::ensure(Purpose::Demo)?;
    ui::install()?;
    ui::build()?;
    let root = root();
    // The custom protocol serves the built UI from the binary, as an installed app does.
    sh::run(&mut sh::cmd(
        "cargo",
        &[
            "build",
            "--package",
            "teamline",
            "--features",
            "custom-protocol",
            "--package",
            "teamline-relay",
            "--package",
            "whatsapp-sim",
        ],
        &root,
    ))?;
    let bin = target_dir(&root).join("debug");

    let dir = target_dir(&root).join("demo");
    if opts.fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let relay_port = free_port()?;
    let sim_port = free_port()?;
    let relay_url = format!("http://127.0.0.1:{relay_port}");
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let config = dir.join("relay.toml");
    std::fs::write(&config, relay_config(relay_port, &dir, &sim_url))?;

    let relay_bin = bin.join(exe("teamline-relay"));
    let config_arg = config.to_str().context("demo path is not UTF-8")?;
    // A new relay database means a new shop: earlier profiles belong to the old one.
    let new_shop = !dir.join("relay.db").exists();
    if new_shop {
        for (profile, _, _) in [("owner", "", "")].iter().chain(AGENTS.iter()) {
            let _ = std::fs::remove_dir_all(dir.join(profile));
        }
    }
    let owner_code = if new_shop {
        Some(last_line(&sh::output(&mut sh::cmd(
            &relay_bin,
            &["init", "--config", config_arg, "--team-name", "Corner Shop"],
            &dir,
        ))?)?)
    } else {
        None
    };

    let mut background = Background(Vec::new());
    background.0.push((
        "the relay".into(),
        spawn(
            &relay_bin,
            &["serve", "--config", config_arg],
            &dir.join("relay.log"),
        )?,
    ));
    wait_listening(relay_port, "the relay")?;
    background.0.push((
        "whatsapp-sim".into(),
        spawn(
            &bin.join(exe("whatsapp-sim")),
            &[
                "--listen",
                &format!("127.0.0.1:{sim_port}"),
                "--webhook-url",
                &format!("{relay_url}/webhooks/whatsapp"),
                "--app-secret",
                APP_SECRET,
                "--access-token",
                ACCESS_TOKEN,
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--script",
                "demo",
            ],
            &dir.join("sim.log"),
        )?,
    ));
    wait_listening(sim_port, "whatsapp-sim")?;

    let app = bin.join(exe("teamline"));
    for (profile, member, level) in AGENTS.iter().take(opts.agents) {
        let profile_dir = dir.join(profile);
        let mut app_args = profile_args(&profile_dir, &relay_url, member);
        if !profile_dir.join("profile.json").exists() {
            let out = sh::output(&mut sh::cmd(
                &relay_bin,
                &[
                    "pair", "--config", config_arg, "--level", level, "--member", member,
                ],
                &dir,
            ))?;
            app_args.extend(["--pair".to_owned(), last_line(&out)?]);
        }
        let args: Vec<&str> = app_args.iter().map(String::as_str).collect();
        background.0.push((
            format!("{member}'s window"),
            spawn(&app, &args, &dir.join(format!("{profile}.log")))?,
        ));
    }

    let mut owner_args = profile_args(&dir.join("owner"), &relay_url, "Owner");
    if let Some(code) = owner_code {
        owner_args.extend(["--pair".to_owned(), code]);
    }
    eprintln!(
        "xtask: demo relay {relay_url}, WhatsApp emulator {sim_url}; logs in {}",
        dir.display()
    );
    let args: Vec<&str> = owner_args.iter().map(String::as_str).collect();
    // The owner's window is the demo: when it closes, everything stops.
    sh::run(&mut sh::cmd(&app, &args, &root))
}

fn profile_args(profile: &Path, relay_url: &str, name: &str) -> Vec<String> {
    vec![
        "--data-dir".to_owned(),
        profile.display().to_string(),
        "--relay".to_owned(),
        relay_url.to_owned(),
        "--device-name".to_owned(),
        format!("{name}'s desk (demo)"),
    ]
}

fn relay_config(port: u16, dir: &Path, sim_url: &str) -> String {
    format!(
        "# Written by `cargo xtask demo`.\n\
         listen = \"127.0.0.1:{port}\"\n\
         database = {db:?}\n\
         public_url = \"http://127.0.0.1:{port}\"\n\
         timezone = \"UTC\"\n\n\
         [whatsapp]\n\
         phone_number_id = \"{PHONE_NUMBER_ID}\"\n\
         business_account_id = \"{BUSINESS_ACCOUNT_ID}\"\n\
         access_token = \"{ACCESS_TOKEN}\"\n\
         app_secret = \"{APP_SECRET}\"\n\
         verify_token = \"{VERIFY_TOKEN}\"\n\
         graph_url = \"{sim_url}\"\n",
        db = dir.join("relay.db").display().to_string(),
    )
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn last_line(output: &str) -> Result<String> {
    output
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_owned)
        .context("the relay printed no pairing code")
}

fn spawn(program: &Path, args: &[&str], log: &Path) -> Result<Child> {
    let log = std::fs::File::create(log)?;
    Command::new(program)
        .args(args)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {}", program.display()))
}

fn wait_listening(port: u16, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!(
                "{what} did not start listening on 127.0.0.1:{port} (see its log in target/demo/)"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_options_are_checked() {
        let args = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse(&args(&["--agents", "2", "--fresh"])).unwrap();
        assert_eq!((o.agents, o.fresh), (2, true));
        assert!(parse(&args(&["--agents", "5"])).is_err());
        assert!(parse(&args(&["--agents"])).is_err());
        assert!(parse(&args(&["--colour"])).is_err());
    }

    #[test]
    fn the_relay_config_points_at_the_emulator() {
        let c = relay_config(4000, Path::new("/tmp/d"), "http://127.0.0.1:4001");
        assert!(c.contains("listen = \"127.0.0.1:4000\""));
        assert!(c.contains("graph_url = \"http://127.0.0.1:4001\""));
        assert!(c.contains("database = \"/tmp/d/relay.db\""));
        assert!(c.contains("app_secret = \"demo-app-secret\""));
    }

    #[test]
    fn the_pairing_code_is_the_last_printed_line() {
        assert_eq!(
            last_line("Created team.\nLink with:\nABCD-EFGH\n\n").unwrap(),
            "ABCD-EFGH"
        );
        assert!(last_line("\n").is_err());
    }
}

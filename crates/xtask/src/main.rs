//! `cargo xtask <task>`: the project's set-up and tasks, in Rust so they run the same on
//! every platform. See `cargo xtask help`.

mod bench;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_client;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_inbox;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_permissions;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_relay;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_rules;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_store;
#[cfg(all(feature = "bench", not(debug_assertions)))]
mod bench_whatsapp;
mod demo;
mod prereqs;
mod session;
mod sh;
mod test;
mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <task>

  demo        a shop's day: relay + WhatsApp emulator + the app linked as the owner
              (--agents N opens N agent windows, --fresh starts a new shop)
  test        every check and test: fmt, clippy, Rust tests, svelte-check, Vitest,
              bindings drift, and the end-to-end lane in a real window under Xvfb
  bench       benchmarks (release build), printed as JSON; `bench PART…` runs only
              those parts (whatsapp, relay, store, client, permissions, rules, inbox)
  bindings    regenerate the TypeScript bindings in ui/src/lib/bindings/
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "demo" => demo::run(&args[1..]),
        "test" => test::run(),
        "bench" => bench::run(&args[1..]),
        "bindings" => test::write_bindings(),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown task '{other}'\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the workspace), whatever directory cargo was started from.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask sits two levels below the root")
        .to_path_buf()
}

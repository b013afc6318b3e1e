//! `cargo xtask test`: every check and test the project has, ending with one line
//! `N passed, N failed` that counts individual tests (and each check as one).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::prereqs::{self, Purpose, npm_program};
use crate::{root, session, sh, ui};

/// Every lane builds the app with the built UI embedded, so Tauri is compiled once.
const APP_FEATURES: &str = "teamline/custom-protocol";

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failed_lanes: Vec<String>,
}

impl Tally {
    /// Adds a lane's counts; a lane that failed without reporting a failed test (a build
    /// error, say) still counts as one failure.
    fn add(&mut self, lane: &str, ok: bool, counts: Counts) {
        self.passed += counts.passed;
        self.failed += counts.failed;
        if !ok || counts.failed > 0 {
            if counts.failed == 0 {
                self.failed += 1;
            }
            self.failed_lanes.push(lane.to_owned());
        }
        eprintln!(
            "xtask: lane {lane}: {} ({} passed, {} failed)",
            if ok && counts.failed == 0 {
                "ok"
            } else {
                "FAILED"
            },
            counts.passed,
            counts.failed
        );
    }

    /// A lane that is one check: it passes or fails as a whole.
    fn check(&mut self, lane: &str, result: Result<()>) {
        if let Err(error) = &result {
            eprintln!("xtask: {error:#}");
        }
        let ok = result.is_ok();
        self.add(
            lane,
            ok,
            Counts {
                passed: u64::from(ok),
                failed: 0,
            },
        );
    }
}

#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

pub fn run() -> Result<()> {
    let root = root();
    let mut tally = Tally::default();

    // Set-up: without it nothing below can run, so a failure ends the task here.
    let setup = prereqs::ensure(Purpose::Test)
        .and_then(|()| prereqs::ensure_tauri_driver())
        .and_then(|()| ui::install())
        .and_then(|()| ui::build());
    if let Err(error) = setup {
        tally.check("setup", Err(error));
        return finish(tally);
    }

    tally.check(
        "rustfmt",
        sh::run(&mut sh::cmd(
            "cargo",
            &["fmt", "--all", "--", "--check"],
            &root,
        )),
    );
    tally.check(
        "clippy",
        sh::run(&mut sh::cmd(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--features",
                APP_FEATURES,
                "--",
                "-D",
                "warnings",
            ],
            &root,
        )),
    );
    tests_lane(
        &mut tally,
        "bindings drift",
        &mut sh::cmd(
            "cargo",
            &[
                "test",
                "-p",
                "teamline",
                "--features",
                APP_FEATURES,
                "--lib",
                "--",
                "bindings::",
            ],
            &root,
        ),
    );
    // Keyring and notification tests need the real services: run in a private session.
    let mut rust_tests = session::wrap(
        "cargo",
        &[
            "test",
            "--workspace",
            "--no-fail-fast",
            "--features",
            APP_FEATURES,
            "--",
            "--skip",
            "bindings::",
        ],
    );
    tests_lane(&mut tally, "rust tests", rust_tests.current_dir(&root));
    tally.check(
        "svelte-check",
        sh::run(&mut sh::cmd(
            npm_program("npm"),
            &["run", "check"],
            &ui::dir(),
        )),
    );
    let (ok, out) = sh::run_tee(
        sh::cmd(npm_program("npm"), &["test"], &ui::dir())
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0"),
    )?;
    tally.add("vitest", ok, parse_vitest(&out));
    e2e(&mut tally)?;
    browser(&mut tally);
    finish(tally)
}

/// A lane that runs libtest binaries and counts their tests.
fn tests_lane(tally: &mut Tally, lane: &str, command: &mut Command) {
    match sh::run_tee(command) {
        Ok((ok, out)) => tally.add(lane, ok, parse_cargo_test(&out)),
        Err(error) => tally.check(lane, Err(error)),
    }
}

/// The end-to-end lane: the real app in a real window in the private session (Xvfb),
/// driven through tauri-driver and WebKitWebDriver.
fn e2e(tally: &mut Tally) -> Result<()> {
    let out_dir = e2e_out_dir();
    std::fs::create_dir_all(&out_dir)?;
    let mut command = session::wrap(
        "cargo",
        &[
            "test",
            "-p",
            "teamline",
            "--features",
            APP_FEATURES,
            "--test",
            "e2e",
            "--",
            "--ignored",
            "--test-threads=1",
        ],
    );
    command
        .current_dir(root())
        .env("TEAMLINE_E2E_OUT", &out_dir);
    tests_lane(tally, "e2e", &mut command);
    eprintln!("xtask: e2e screenshots are in {}", out_dir.display());
    Ok(())
}

/// The browser lane: the same UI in headless Chromium over the web shell (the UI's HTTP
/// backend), in the private session for the keyring and the notification daemon.
fn browser(tally: &mut Tally) {
    let mut command = session::wrap(
        "cargo",
        &[
            "test",
            "-p",
            "teamline",
            "--features",
            APP_FEATURES,
            "--test",
            "browser",
            "--",
            "--ignored",
            "--test-threads=1",
        ],
    );
    command
        .current_dir(root())
        .env("TEAMLINE_E2E_OUT", e2e_out_dir());
    tests_lane(tally, "browser", &mut command);
}

fn e2e_out_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("e2e")
}

fn finish(tally: Tally) -> Result<()> {
    if !tally.failed_lanes.is_empty() {
        eprintln!("xtask: failed lanes: {}", tally.failed_lanes.join(", "));
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        anyhow::bail!("{} failed", tally.failed);
    }
    Ok(())
}

/// Sums libtest's `test result: ok. 3 passed; 0 failed; …` lines.
pub fn parse_cargo_test(output: &str) -> Counts {
    let mut counts = Counts::default();
    for line in output
        .lines()
        .filter(|l| l.trim_start().starts_with("test result:"))
    {
        counts.passed += number_before(line, " passed").unwrap_or(0);
        counts.failed += number_before(line, " failed").unwrap_or(0);
    }
    counts
}

/// Reads Vitest's summary line, `Tests  1 failed | 11 passed (12)`.
pub fn parse_vitest(output: &str) -> Counts {
    output
        .lines()
        .find(|line| line.trim_start().starts_with("Tests "))
        .map(|line| Counts {
            passed: number_before(line, " passed").unwrap_or(0),
            failed: number_before(line, " failed").unwrap_or(0),
        })
        .unwrap_or_default()
}

fn number_before(line: &str, word: &str) -> Option<u64> {
    let head = &line[..line.find(word)?];
    let digits: String = head
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// `cargo xtask bindings`: rewrites ui/src/lib/bindings from the Rust types.
pub fn write_bindings() -> Result<()> {
    sh::run(
        sh::cmd(
            "cargo",
            &["test", "-p", "teamline", "--lib", "--", "bindings::"],
            &root(),
        )
        .env("TEAMLINE_WRITE_BINDINGS", "1"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_test_summaries_are_summed() {
        let out = "running 2 tests\ntest a ... ok\n\
                   test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n\
                   test result: FAILED. 5 passed; 1 failed; 2 ignored; 0 measured\n";
        assert_eq!(
            parse_cargo_test(out),
            Counts {
                passed: 7,
                failed: 1
            }
        );
    }

    #[test]
    fn vitest_summaries_are_read() {
        let ok = " Test Files  3 passed (3)\n      Tests  12 passed (12)\n   Start at  10:00:00\n";
        assert_eq!(
            parse_vitest(ok),
            Counts {
                passed: 12,
                failed: 0
            }
        );
        let bad = "      Tests  1 failed | 11 passed (12)\n";
        assert_eq!(
            parse_vitest(bad),
            Counts {
                passed: 11,
                failed: 1
            }
        );
        assert_eq!(parse_vitest("no summary"), Counts::default());
    }

    #[test]
    fn a_lane_that_fails_without_counts_is_one_failure() {
        let mut tally = Tally::default();
        tally.add("build", false, Counts::default());
        tally.check("fmt", Ok(()));
        assert_eq!((tally.passed, tally.failed), (1, 1));
        assert_eq!(tally.failed_lanes, ["build"]);
    }
}

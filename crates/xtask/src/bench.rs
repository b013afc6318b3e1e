//! `cargo xtask bench`: benchmarks, printed as one JSON object. They always run from a
//! release build; a debug `cargo xtask` re-runs itself in release first.

use anyhow::Result;
use serde_json::json;

use crate::{root, sh};

pub fn run() -> Result<()> {
    if cfg!(debug_assertions) {
        return sh::run(&mut sh::cmd(
            "cargo",
            &[
                "run",
                "--quiet",
                "--release",
                "--package",
                "xtask",
                "--",
                "bench",
            ],
            &root(),
        ));
    }
    let report = json!({
        "whatsapp": crate::bench_whatsapp::run()?,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

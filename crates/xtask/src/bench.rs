//! `cargo xtask bench`: benchmarks, printed as one JSON object. They always run from a
//! release build with the `bench` feature; a plain `cargo xtask` re-runs itself that way.

use anyhow::Result;

#[cfg(not(all(feature = "bench", not(debug_assertions))))]
pub fn run() -> Result<()> {
    use crate::{root, sh};
    let args = [
        "run",
        "--quiet",
        "--release",
        "-p",
        "xtask",
        "--features",
        "bench",
        "--",
        "bench",
    ];
    sh::run(&mut sh::cmd("cargo", &args, &root()))
}

#[cfg(all(feature = "bench", not(debug_assertions)))]
pub fn run() -> Result<()> {
    let report = serde_json::json!({
        "whatsapp": crate::bench_whatsapp::run()?,
        "relay": crate::bench_relay::run()?,
        "store": crate::bench_store::run()?,
        "client": crate::bench_client::run()?,
        "permissions": crate::bench_permissions::run()?,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

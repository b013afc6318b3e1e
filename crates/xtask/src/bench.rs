//! `cargo xtask bench`: benchmarks, printed as one JSON object. They always run from a
//! release build with the `bench` feature; a plain `cargo xtask` re-runs itself that way.
//! `cargo xtask bench rules store` runs only the parts named.

use anyhow::Result;

#[cfg(not(all(feature = "bench", not(debug_assertions))))]
pub fn run() -> Result<()> {
    use crate::{root, sh};
    let mut args = vec![
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
    let parts = selected();
    args.extend(parts.iter().map(String::as_str));
    sh::run(&mut sh::cmd("cargo", &args, &root()))
}

/// The parts named after `bench`; none means all.
fn selected() -> Vec<String> {
    std::env::args().skip(2).collect()
}

#[cfg(all(feature = "bench", not(debug_assertions)))]
pub fn run() -> Result<()> {
    type Part = (&'static str, fn() -> Result<serde_json::Value>);
    let parts: [Part; 6] = [
        ("whatsapp", crate::bench_whatsapp::run),
        ("relay", crate::bench_relay::run),
        ("store", crate::bench_store::run),
        ("client", crate::bench_client::run),
        ("permissions", crate::bench_permissions::run),
        ("rules", crate::bench_rules::run),
    ];
    let wanted = selected();
    if let Some(unknown) = wanted.iter().find(|w| !parts.iter().any(|(n, _)| n == w)) {
        let known: Vec<&str> = parts.iter().map(|(n, _)| *n).collect();
        anyhow::bail!(
            "unknown bench part {unknown:?} (known: {})",
            known.join(", ")
        );
    }
    let mut report = serde_json::Map::new();
    for (name, run) in parts {
        if wanted.is_empty() || wanted.iter().any(|w| w == name) {
            report.insert(name.to_owned(), run()?);
        }
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

//! `cargo xtask bench [PART…]`: benchmarks, printed as one JSON object. They always run
//! from a release build with the `bench` feature; a plain `cargo xtask` re-runs itself that
//! way. Naming parts runs only those.

use anyhow::Result;

/// Every part, in the order they run.
pub const PARTS: [&str; 6] = [
    "whatsapp",
    "relay",
    "store",
    "client",
    "permissions",
    "inbox",
];

/// The parts `args` asks for (all when empty); an unknown name is an error.
fn selected(args: &[String]) -> Result<Vec<&'static str>> {
    if args.is_empty() {
        return Ok(PARTS.to_vec());
    }
    args.iter()
        .map(|arg| {
            PARTS
                .iter()
                .find(|part| **part == arg.as_str())
                .copied()
                .ok_or_else(|| {
                    anyhow::anyhow!("unknown bench part '{arg}' (parts: {})", PARTS.join(", "))
                })
        })
        .collect()
}

#[cfg(not(all(feature = "bench", not(debug_assertions))))]
pub fn run(args: &[String]) -> Result<()> {
    use crate::{root, sh};
    selected(args)?;
    let mut cargo_args = vec![
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
    cargo_args.extend(args.iter().map(String::as_str));
    sh::run(&mut sh::cmd("cargo", &cargo_args, &root()))
}

#[cfg(all(feature = "bench", not(debug_assertions)))]
pub fn run(args: &[String]) -> Result<()> {
    let mut report = serde_json::Map::new();
    for part in selected(args)? {
        let figures = match part {
            "whatsapp" => crate::bench_whatsapp::run()?,
            "relay" => crate::bench_relay::run()?,
            "store" => crate::bench_store::run()?,
            "client" => crate::bench_client::run()?,
            "permissions" => crate::bench_permissions::run()?,
            "rules" => crate::bench_rules::run()?,
            "inbox" => crate::bench_inbox::run()?,
            other => unreachable!("{other} is in PARTS"),
        };
        report.insert(part.to_owned(), figures);
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parts_means_all_and_unknown_parts_are_refused() {
        assert_eq!(selected(&[]).unwrap(), PARTS.to_vec());
        let args = ["inbox".to_owned(), "store".to_owned()];
        assert_eq!(selected(&args).unwrap(), vec!["inbox", "store"]);
        let err = selected(&["inbx".to_owned()]).unwrap_err().to_string();
        assert!(err.contains("unknown bench part 'inbx'"), "{err}");
    }
}

//! The app's command line, for IT admins preparing shift laptops and for tests:
//!
//! ```text
//! teamline [--data-dir DIR] [--relay URL --pair CODE] [--device-name NAME]
//! ```
//!
//! `--data-dir` alone selects a profile; with `--relay` and `--pair` an unlinked profile
//! links on first start (a linked one ignores them).

use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    pub data_dir: Option<PathBuf>,
    pub relay: Option<String>,
    pub pair: Option<String>,
    pub device_name: Option<String>,
}

pub const USAGE: &str =
    "usage: teamline [--data-dir DIR] [--relay URL --pair CODE] [--device-name NAME]";

impl Args {
    /// Parses the arguments after the program name. Accepts `--flag value` and
    /// `--flag=value`; anything else is an error naming it.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut out = Args::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let slot = match flag.as_str() {
                "--data-dir" => "data-dir",
                "--relay" => "relay",
                "--pair" => "pair",
                "--device-name" => "device-name",
                _ => return Err(format!("unknown argument `{arg}`\n{USAGE}")),
            };
            let value = match inline.or_else(|| it.next()) {
                Some(v) if !v.trim().is_empty() => v,
                _ => return Err(format!("`{flag}` needs a value\n{USAGE}")),
            };
            match slot {
                "data-dir" => out.data_dir = Some(PathBuf::from(value)),
                "relay" => out.relay = Some(value),
                "pair" => out.pair = Some(value),
                _ => out.device_name = Some(value),
            }
        }
        if out.relay.is_some() != out.pair.is_some() {
            return Err(format!("`--relay` and `--pair` go together\n{USAGE}"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Args, String> {
        Args::parse(s.iter().map(|s| s.to_string()))
    }

    #[test]
    fn provisioning_flags_are_read_in_both_spellings() {
        let a = parse(&[
            "--data-dir",
            "/tmp/p",
            "--relay=http://127.0.0.1:9",
            "--pair",
            "ABCD-EFGH",
        ])
        .unwrap();
        assert_eq!(a.data_dir, Some(PathBuf::from("/tmp/p")));
        assert_eq!(a.relay.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(a.pair.as_deref(), Some("ABCD-EFGH"));
        assert_eq!(parse(&[]).unwrap(), Args::default());
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        assert!(
            parse(&["--relay", "http://x"])
                .unwrap_err()
                .contains("go together")
        );
        assert!(parse(&["--pair"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--colour", "red"])
                .unwrap_err()
                .contains("unknown argument `--colour`")
        );
        assert!(
            parse(&["--data-dir="])
                .unwrap_err()
                .contains("needs a value")
        );
    }
}

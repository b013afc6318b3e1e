//! The TypeScript bindings in `ui/src/lib/bindings/` are generated from the IPC types.
//! The test below fails when the committed files drift from the Rust types;
//! `cargo xtask bindings` rewrites them.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    use crate::ipc::{AppInfo, BuildProfile, ConnectionState, ErrorCode, IpcError};

    /// Set to 1 by `cargo xtask bindings` to rewrite the files instead of comparing them.
    const WRITE_ENV: &str = "TEAMLINE_WRITE_BINDINGS";

    fn bindings_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/bindings")
    }

    /// Compares (or writes) one type's file; returns a line describing the drift, if any.
    fn check<T: TS + 'static>(cfg: &Config) -> Option<String> {
        let path = bindings_dir().join(T::output_path().expect("IPC types set export_to"));
        let generated = T::export_to_string(cfg).expect("ts-rs renders the type");
        if std::env::var(WRITE_ENV).as_deref() == Ok("1") {
            std::fs::write(&path, &generated).expect("bindings directory is writable");
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == generated => None,
            Ok(_) => Some(format!("{} differs from the Rust type", path.display())),
            Err(_) => Some(format!("{} is missing", path.display())),
        }
    }

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let cfg = Config::new();
        let drift: Vec<String> = [
            check::<AppInfo>(&cfg),
            check::<BuildProfile>(&cfg),
            check::<ConnectionState>(&cfg),
            check::<ErrorCode>(&cfg),
            check::<IpcError>(&cfg),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert!(
            drift.is_empty(),
            "TypeScript bindings drifted; run `cargo xtask bindings` and commit:\n{}",
            drift.join("\n")
        );
    }

    #[test]
    fn every_file_in_the_bindings_directory_comes_from_a_rust_type() {
        // A type removed in Rust must not leave a stale file the UI could still import.
        let known = [
            "AppInfo.ts",
            "BuildProfile.ts",
            "ConnectionState.ts",
            "ErrorCode.ts",
            "IpcError.ts",
        ];
        let stale: Vec<String> = std::fs::read_dir(bindings_dir())
            .expect("bindings directory exists")
            .map(|entry| {
                entry
                    .expect("readable entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| !known.contains(&name.as_str()))
            .collect();
        assert!(stale.is_empty(), "stale bindings: {stale:?}");
    }
}

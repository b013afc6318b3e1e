//! The window's Tauri command (`call`, which runs every app command by name) is written
//! three times, as Tauri wants it: `generate_handler!` in `lib.rs`, the app manifest in
//! `build.rs`, and the window's capability. This test keeps the three lists equal, so a
//! command cannot be registered but forbidden (or allowed but missing). The app commands'
//! own names are checked against the UI in `teamline-shell`'s dispatch tests.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn read(rel: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
            .expect("source file is readable")
    }

    /// Words that follow `prefix` up to the next character that is not `[a-z0-9_-]`.
    fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
        text.split(prefix)
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'
                    })
                    .collect::<String>()
                    .replace('-', "_")
            })
            .filter(|n| !n.is_empty())
            .collect()
    }

    #[test]
    fn registered_declared_and_allowed_commands_are_the_same() {
        let lib = read("src-tauri/src/lib.rs");
        let handler = &lib[lib.find("generate_handler![").expect("handler list")..];
        let handler = &handler[..handler.find(']').expect("end of list")];
        let registered = names_after(handler, "commands::");

        let build = read("src-tauri/build.rs");
        let declared_block = &build[build.find("COMMANDS: &[&str] = &[").expect("COMMANDS")..];
        let declared_block = &declared_block[..declared_block.find("];").expect("end")];
        let declared = names_after(declared_block, "\"");

        let capability = read("src-tauri/capabilities/default.json");
        let allowed = names_after(&capability, "\"allow-");

        assert_eq!(
            registered,
            BTreeSet::from(["call".to_owned()]),
            "parsed the handler list"
        );
        assert_eq!(registered, declared, "lib.rs vs build.rs");
        assert_eq!(registered, allowed, "lib.rs vs capabilities/default.json");
    }
}

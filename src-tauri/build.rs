/// The one command the window calls: `call` runs any of the app's commands by name
/// (`teamline_shell::dispatch`, shared with the web shell). `src-tauri/src/lib.rs`
/// registers it and the capability allows it (a test compares the three).
const COMMANDS: &[&str] = &["call"];

fn main() {
    // Capabilities live beside the shell's sources, not at the repository root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

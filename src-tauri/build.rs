fn main() {
    // Capabilities live beside the shell's sources, not at the repository root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(&["app_info", "connection_state"]));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

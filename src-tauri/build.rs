/// The commands the window may call; `src-tauri/src/lib.rs` registers the same list.
const COMMANDS: &[&str] = &[
    "app_info",
    "connection_state",
    "session",
    "link_device",
    "unlock",
    "retry_open",
    "reconnect_now",
    "inbox",
    "timeline",
    "load_history",
    "send_command",
    "search",
    "notes",
    "member_names",
    "labels",
    "send_text",
    "claim",
    "mark_read",
    "outbox",
    "discard_outbox",
    "notification_settings",
    "set_notification_settings",
    "team_members",
    "create_member",
    "update_member",
    "deactivate_member",
    "reset_member_pin",
    "set_own_pin",
    "team_devices",
    "update_device",
    "unlink_device",
    "team_templates",
    "save_template",
    "delete_template",
    "team_settings",
    "update_team_settings",
    "create_pairing_code",
    "sign_in",
    "sign_out",
    "audit_page",
    "verify_audit",
    "export_audit",
    "alerts",
    "acknowledge_alert",
    "alert_thresholds",
    "set_alert_thresholds",
    "advisor",
    "apply_advice_fix",
    "export_device_backup",
    "restore_device_backup",
];

fn main() {
    // Capabilities live beside the shell's sources, not at the repository root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

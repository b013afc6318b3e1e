//! The Tauri shell of Teamline: window, commands and events. It stays thin — the engine
//! lives in `crates/` — so everything here is wiring.

mod bindings;
pub mod cli;
mod command_list;
mod commands;
mod engine;
pub mod ipc;

use tauri::Manager;
use tracing_subscriber::EnvFilter;

use crate::cli::Args;

/// Starts the desktop app and blocks until its last window closes.
pub fn run() {
    let logs = tracing_subscriber::fmt().with_env_filter(
        EnvFilter::try_from_env("TEAMLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
    );
    // TEAMLINE_LOG_FILE: logs go to that file (appended) instead of stdout, e.g. when the
    // app is started by WebKitWebDriver, which swallows its output.
    let file = std::env::var_os("TEAMLINE_LOG_FILE").and_then(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    match file {
        Some(f) => logs
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .init(),
        None => logs.init(),
    }

    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    tauri::Builder::default()
        .setup(move |app| {
            let engine = engine::open(app.handle(), &args);
            app.manage(engine);
            Ok(())
        })
        // The same names are listed in build.rs and the capability (a test compares them).
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::connection_state,
            commands::session,
            commands::link_device,
            commands::try_demo,
            commands::unlock,
            commands::retry_open,
            commands::reconnect_now,
            commands::inbox,
            commands::timeline,
            commands::message_media,
            commands::save_message_media,
            commands::open_external,
            commands::load_history,
            commands::send_command,
            commands::search,
            commands::notes,
            commands::member_names,
            commands::labels,
            commands::refresh_labels,
            commands::create_label,
            commands::recolour_label,
            commands::delete_label,
            commands::send_text,
            commands::claim,
            commands::mark_read,
            commands::outbox,
            commands::discard_outbox,
            commands::notification_settings,
            commands::set_notification_settings,
            commands::team_members,
            commands::create_member,
            commands::update_member,
            commands::deactivate_member,
            commands::reset_member_pin,
            commands::set_own_pin,
            commands::team_devices,
            commands::update_device,
            commands::unlink_device,
            commands::team_templates,
            commands::save_template,
            commands::delete_template,
            commands::team_settings,
            commands::update_team_settings,
            commands::create_pairing_code,
            commands::sign_in,
            commands::sign_out,
            commands::audit_page,
            commands::message_templates,
            commands::quick_replies,
            commands::refresh_quick_replies,
            commands::save_quick_reply,
            commands::delete_quick_reply,
            commands::upload_media,
            commands::verify_audit,
            commands::export_audit,
            commands::alerts,
            commands::acknowledge_alert,
            commands::alert_thresholds,
            commands::set_alert_thresholds,
            commands::advisor,
            commands::apply_advice_fix,
            commands::export_device_backup,
            commands::restore_device_backup,
            commands::contacts,
            commands::contact,
            commands::contact_attributes,
            commands::refresh_contacts,
            commands::update_contact,
            commands::import_contacts_csv,
            commands::automation,
            commands::save_automation,
            commands::automation_dry_run,
            commands::broadcasts,
            commands::broadcast,
            commands::broadcast_recipients,
            commands::preview_broadcast,
            commands::create_broadcast,
            commands::cancel_broadcast,
            commands::broadcast_settings,
            commands::save_broadcast_settings,
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            tracing::error!("Teamline could not start: {e}");
            std::process::exit(1);
        });
}

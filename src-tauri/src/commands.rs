//! Tauri commands: parse, call into the engine, map errors. Nothing else lives here.
//! Arguments arrive camelCased from JavaScript (`conversationId`), as Tauri does.

use std::collections::BTreeMap;
use tauri::{AppHandle, Manager, State};

use teamline_client::RecipientPage;
use teamline_client::automation::{AgentSettings, AutomationView, DryRunRequest, DryRunResult};
use teamline_client::backup::RestoredBackup;
use teamline_client::core::anomaly::Thresholds;
use teamline_client::core::automation::{
    AutomationSettings, BroadcastDraft, BroadcastPreview, BroadcastSettings, BroadcastSummary,
    Pacing, RecipientState,
};
use teamline_client::save;
use teamline_client::store::jiff::Timestamp;
use teamline_client::team::{AuditFilter, AuditFormat, AuditPage, AuditVerification};
use teamline_client::{
    AdviceFix, AdvisorReport, AlertPage, AlertView, Command, ConnectionState, DeviceChange,
    HistoryPage, InboxRow, LabelChip, LinkInfo, MemberChange, MemberName, NewPairingCode, NoteItem,
    NotificationSettings, OutboxEntry, PairingCode, SearchResult, SignedIn, TeamDevice,
    TeamDevices, TeamMember, TeamSettings, TeamTemplate, TemplateDraft, TimelineItem,
};
use teamline_client::{
    ContactAttribute, ContactDetail, ContactUpdate, ContactsPage, CsvSource, ImportReport,
};
use teamline_client::{MessageTemplates, QuickReply, QuickReplyDraft, UploadedMedia};
use uuid::Uuid;

use crate::engine::{self, Engine};
use crate::ipc::{AppInfo, BuildProfile, ErrorCode, IpcError, Session};

type Reply<T> = Result<T, IpcError>;

#[tauri::command]
pub fn app_info(app: AppHandle, engine: State<'_, Engine>) -> Reply<AppInfo> {
    let data_dir = match engine.current() {
        Some(c) => c.data_dir(),
        None => app.path().app_data_dir().map_err(|e| {
            IpcError::new(
                ErrorCode::DataDirUnavailable,
                format!("no data directory: {e}"),
            )
        })?,
    };
    Ok(AppInfo {
        version: app.package_info().version.to_string(),
        data_dir: data_dir.display().to_string(),
        build_profile: BuildProfile::current(),
        os: std::env::consts::OS.to_owned(),
        os_locale: sys_locale::get_locale(),
    })
}

#[tauri::command]
pub fn connection_state(engine: State<'_, Engine>) -> Reply<ConnectionState> {
    Ok(match engine.current() {
        Some(c) => c.connection_state().borrow().clone(),
        None => ConnectionState::NotLinked,
    })
}

#[tauri::command]
pub fn session(engine: State<'_, Engine>) -> Reply<Session> {
    let startup_error = engine.startup_error.lock().ok().and_then(|e| e.clone());
    Ok(match engine.current() {
        Some(c) => Session {
            linked: c.is_linked(),
            me: c.me(),
            startup_error,
            relay_url: c.profile().relay_url,
        },
        None => Session {
            linked: false,
            me: None,
            startup_error,
            relay_url: None,
        },
    })
}

/// "Join my team": links this device with a pairing code.
#[tauri::command]
pub async fn link_device(
    app: AppHandle,
    engine: State<'_, Engine>,
    relay_url: String,
    code: String,
    device_name: Option<String>,
    passphrase: Option<String>,
) -> Reply<LinkInfo> {
    let client = engine.client()?;
    let device = engine::device_info(&app, device_name.as_deref());
    let (relay_url, code) = (relay_url.trim(), code.trim());
    let info = match passphrase {
        Some(p) => {
            client
                .link_with_passphrase(relay_url, code, &device, &p)
                .await?
        }
        None => client.link(relay_url, code, &device).await?,
    };
    if let Ok(mut e) = engine.startup_error.lock() {
        *e = None;
    }
    Ok(info)
}

/// "Try the demo": links this unlinked window to the demo shop running inside the app.
#[tauri::command]
pub async fn try_demo(app: AppHandle, engine: State<'_, Engine>) -> Reply<()> {
    engine.start_demo(&app).await
}

/// Opens a passphrase-protected profile (connection state `locked`).
#[tauri::command]
pub async fn unlock(engine: State<'_, Engine>, passphrase: String) -> Reply<()> {
    Ok(engine.client()?.unlock(&passphrase).await?)
}

/// Tries again to open a profile that could not be opened at start.
#[tauri::command]
pub async fn retry_open(app: AppHandle, engine: State<'_, Engine>) -> Reply<()> {
    engine.retry(&app).await
}

#[tauri::command]
pub fn reconnect_now(engine: State<'_, Engine>) -> Reply<()> {
    engine.client()?.reconnect_now();
    Ok(())
}

// ---- inbox ----

/// The conversation list; with `limit`, only the most recently active (the first screen).
#[tauri::command]
pub async fn inbox(engine: State<'_, Engine>, limit: Option<u32>) -> Reply<Vec<InboxRow>> {
    let client = engine.client()?;
    Ok(match limit {
        Some(limit) => client.recent_inbox(limit.clamp(1, 1000)).await?,
        None => client.inbox().await?,
    })
}

/// The newest `limit` messages before `before` (an RFC 3339 time; `None`: the newest).
#[tauri::command]
pub async fn timeline(
    engine: State<'_, Engine>,
    conversation_id: Uuid,
    before: Option<String>,
    limit: Option<u32>,
) -> Reply<Vec<TimelineItem>> {
    let limit = limit.unwrap_or(100).clamp(1, 500);
    let before = before
        .map(|b| b.parse::<Timestamp>())
        .transpose()
        .map_err(|e| IpcError::new(ErrorCode::Internal, format!("`before` is not a time: {e}")))?;
    Ok(engine
        .client()?
        .timeline(conversation_id, before, limit)
        .await?)
}

/// A message's media bytes (from the encrypted cache, else the relay), as a raw binary
/// IPC answer (an `ArrayBuffer` in the UI): no base64 or JSON number arrays for a 100 MB
/// video. The UI knows the type from the timeline item's `content.media.mime_type`.
#[tauri::command]
pub async fn message_media(
    engine: State<'_, Engine>,
    message_id: Uuid,
) -> Reply<tauri::ipc::Response> {
    let media = engine.client()?.media(message_id).await?;
    Ok(tauri::ipc::Response::new(media.bytes))
}

/// Saves a message's media (a document the customer sent) as a new file in Downloads;
/// returns its path. The user asked for this copy, so it is the one plaintext file.
#[tauri::command]
pub async fn save_message_media(
    app: AppHandle,
    engine: State<'_, Engine>,
    message_id: Uuid,
) -> Reply<String> {
    let media = engine.client()?.media(message_id).await?;
    let path =
        save::save_new(&save_dir(&app)?, &media.file_name, &media.bytes).map_err(save_failed)?;
    Ok(path.display().to_string())
}

/// Opens a link from a message (or a map link) in the user's browser; http(s) only.
#[tauri::command]
pub fn open_external(url: String) -> Reply<()> {
    Ok(teamline_client::external::open_url(&url)?)
}

/// Fetches older history of a conversation from the relay into the store.
#[tauri::command]
pub async fn load_history(
    engine: State<'_, Engine>,
    conversation_id: Uuid,
    before: Option<Uuid>,
) -> Reply<HistoryPage> {
    Ok(engine
        .client()?
        .load_history(conversation_id, before, 50)
        .await?)
}

/// Any conversation command (assign, close, snooze, note, label, reply with a take-over
/// reason...), queued in the durable outbox and checked locally first.
#[tauri::command]
pub async fn send_command(
    engine: State<'_, Engine>,
    command: Command,
) -> Reply<Option<OutboxEntry>> {
    Ok(engine.client()?.send(command).await?)
}

#[tauri::command]
pub async fn search(
    engine: State<'_, Engine>,
    query: String,
    limit: Option<u32>,
) -> Reply<Vec<SearchResult>> {
    Ok(engine.client()?.search(&query, limit.unwrap_or(50)).await?)
}

#[tauri::command]
pub async fn notes(engine: State<'_, Engine>, conversation_id: Uuid) -> Reply<Vec<NoteItem>> {
    Ok(engine.client()?.notes(conversation_id).await?)
}

#[tauri::command]
pub async fn member_names(engine: State<'_, Engine>) -> Reply<Vec<MemberName>> {
    Ok(engine.client()?.member_names().await?)
}

#[tauri::command]
pub async fn labels(engine: State<'_, Engine>) -> Reply<Vec<LabelChip>> {
    Ok(engine.client()?.label_chips().await?)
}

/// The team's labels read from the relay (fresh colours), then as chips.
#[tauri::command]
pub async fn refresh_labels(engine: State<'_, Engine>) -> Reply<Vec<LabelChip>> {
    Ok(engine.client()?.refresh_labels().await?)
}

#[tauri::command]
pub async fn create_label(engine: State<'_, Engine>, name: String, colour: String) -> Reply<()> {
    Ok(engine.client()?.create_label(&name, &colour).await?)
}

#[tauri::command]
pub async fn recolour_label(engine: State<'_, Engine>, name: String, colour: String) -> Reply<()> {
    Ok(engine.client()?.recolour_label(&name, &colour).await?)
}

#[tauri::command]
pub async fn delete_label(engine: State<'_, Engine>, name: String) -> Reply<()> {
    Ok(engine.client()?.delete_label(&name).await?)
}

#[tauri::command]
pub async fn send_text(
    engine: State<'_, Engine>,
    conversation_id: Uuid,
    text: String,
) -> Reply<Option<OutboxEntry>> {
    let command = Command::SendText {
        conversation_id,
        text,
        preview_url: None,
        reply_to: None,
        takeover_reason: None,
    };
    Ok(engine.client()?.send(command).await?)
}

#[tauri::command]
pub async fn claim(engine: State<'_, Engine>, conversation_id: Uuid) -> Reply<()> {
    engine
        .client()?
        .send(Command::Claim { conversation_id })
        .await?;
    Ok(())
}

/// Marks a conversation read on this device (the window opened it).
#[tauri::command]
pub async fn mark_read(engine: State<'_, Engine>, conversation_id: Uuid) -> Reply<bool> {
    Ok(engine.client()?.mark_read(conversation_id).await?)
}

#[tauri::command]
pub async fn outbox(engine: State<'_, Engine>) -> Reply<Vec<OutboxEntry>> {
    Ok(engine.client()?.outbox().await?)
}

#[tauri::command]
pub async fn discard_outbox(engine: State<'_, Engine>, id: Uuid) -> Reply<bool> {
    Ok(engine.client()?.discard(id).await?)
}

#[tauri::command]
pub fn notification_settings(engine: State<'_, Engine>) -> Reply<NotificationSettings> {
    Ok(engine.client()?.notification_settings())
}

#[tauri::command]
pub fn set_notification_settings(
    engine: State<'_, Engine>,
    settings: NotificationSettings,
) -> Reply<()> {
    Ok(engine.client()?.set_notification_settings(settings)?)
}

// ---- team ----

#[tauri::command]
pub async fn team_members(engine: State<'_, Engine>) -> Reply<Vec<TeamMember>> {
    Ok(engine.client()?.team_members().await?)
}

#[tauri::command]
pub async fn create_member(
    engine: State<'_, Engine>,
    name: String,
    change: MemberChange,
    pin: String,
) -> Reply<TeamMember> {
    Ok(engine.client()?.create_member(&name, &change, &pin).await?)
}

#[tauri::command]
pub async fn update_member(
    engine: State<'_, Engine>,
    id: Uuid,
    change: MemberChange,
    pin: String,
) -> Reply<TeamMember> {
    Ok(engine.client()?.update_member(id, &change, &pin).await?)
}

#[tauri::command]
pub async fn deactivate_member(
    engine: State<'_, Engine>,
    id: Uuid,
    pin: String,
) -> Reply<TeamMember> {
    Ok(engine.client()?.deactivate_member(id, &pin).await?)
}

#[tauri::command]
pub async fn reset_member_pin(
    engine: State<'_, Engine>,
    id: Uuid,
    new_pin: String,
    pin: String,
) -> Reply<()> {
    Ok(engine
        .client()?
        .reset_member_pin(id, &new_pin, &pin)
        .await?)
}

#[tauri::command]
pub async fn set_own_pin(
    engine: State<'_, Engine>,
    new_pin: String,
    current_pin: Option<String>,
) -> Reply<()> {
    Ok(engine
        .client()?
        .set_own_pin(&new_pin, current_pin.as_deref())
        .await?)
}

#[tauri::command]
pub async fn team_devices(engine: State<'_, Engine>) -> Reply<TeamDevices> {
    Ok(engine.client()?.team_devices().await?)
}

#[tauri::command]
pub async fn update_device(
    engine: State<'_, Engine>,
    id: Uuid,
    change: DeviceChange,
    pin: String,
) -> Reply<TeamDevice> {
    Ok(engine.client()?.update_device(id, &change, &pin).await?)
}

#[tauri::command]
pub async fn unlink_device(engine: State<'_, Engine>, id: Uuid, pin: String) -> Reply<()> {
    Ok(engine.client()?.unlink_device(id, &pin).await?)
}

#[tauri::command]
pub async fn team_templates(engine: State<'_, Engine>) -> Reply<Vec<TeamTemplate>> {
    Ok(engine.client()?.team_templates().await?)
}

#[tauri::command]
pub async fn save_template(
    engine: State<'_, Engine>,
    id: Option<Uuid>,
    draft: TemplateDraft,
    pin: String,
) -> Reply<TeamTemplate> {
    Ok(engine.client()?.save_template(id, &draft, &pin).await?)
}

#[tauri::command]
pub async fn delete_template(engine: State<'_, Engine>, id: Uuid, pin: String) -> Reply<()> {
    Ok(engine.client()?.delete_template(id, &pin).await?)
}

#[tauri::command]
pub async fn team_settings(engine: State<'_, Engine>) -> Reply<TeamSettings> {
    Ok(engine.client()?.team_settings().await?)
}

#[tauri::command]
pub async fn update_team_settings(
    engine: State<'_, Engine>,
    device_cap: Option<u64>,
    auto_unlink_idle: Option<bool>,
    pin: String,
) -> Reply<TeamSettings> {
    Ok(engine
        .client()?
        .update_team_settings(device_cap, auto_unlink_idle, &pin)
        .await?)
}

#[tauri::command]
pub async fn create_pairing_code(
    engine: State<'_, Engine>,
    request: NewPairingCode,
) -> Reply<PairingCode> {
    Ok(engine.client()?.create_pairing_code(&request).await?)
}

#[tauri::command]
pub async fn sign_in(engine: State<'_, Engine>, member_id: Uuid, pin: String) -> Reply<SignedIn> {
    Ok(engine.client()?.sign_in(member_id, &pin).await?)
}

#[tauri::command]
pub async fn sign_out(engine: State<'_, Engine>) -> Reply<()> {
    Ok(engine.client()?.sign_out().await?)
}

// ---- audit, alerts, advisor (issue 9) ----

/// A page of the audit log, newest first.
#[tauri::command]
pub async fn audit_page(engine: State<'_, Engine>, filter: AuditFilter) -> Reply<AuditPage> {
    Ok(engine.client()?.audit(&filter).await?)
}

/// "Verify": the relay's chain check plus this device's rollback check.
#[tauri::command]
pub async fn verify_audit(engine: State<'_, Engine>) -> Reply<AuditVerification> {
    Ok(engine.client()?.verify_audit().await?)
}

/// Exports the (filtered) log with the PIN and saves it in the Downloads folder; returns
/// the file's path.
#[tauri::command]
pub async fn export_audit(
    app: AppHandle,
    engine: State<'_, Engine>,
    format: AuditFormat,
    filter: AuditFilter,
    pin: String,
) -> Reply<String> {
    let export = engine.client()?.export_audit(format, &filter, &pin).await?;
    let path = save::save_new(&save_dir(&app)?, &export.file_name, export.body.as_bytes())
        .map_err(save_failed)?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub async fn alerts(
    engine: State<'_, Engine>,
    open_only: bool,
    before: Option<Uuid>,
) -> Reply<AlertPage> {
    Ok(engine.client()?.alerts(open_only, before).await?)
}

#[tauri::command]
pub async fn acknowledge_alert(
    engine: State<'_, Engine>,
    id: Uuid,
    comment: String,
    pin: String,
) -> Reply<AlertView> {
    Ok(engine
        .client()?
        .acknowledge_alert(id, &comment, &pin)
        .await?)
}

#[tauri::command]
pub async fn alert_thresholds(engine: State<'_, Engine>) -> Reply<Thresholds> {
    Ok(engine.client()?.alert_thresholds().await?)
}

#[tauri::command]
pub async fn set_alert_thresholds(
    engine: State<'_, Engine>,
    thresholds: Thresholds,
    pin: String,
) -> Reply<Thresholds> {
    Ok(engine
        .client()?
        .set_alert_thresholds(&thresholds, &pin)
        .await?)
}

#[tauri::command]
pub async fn advisor(engine: State<'_, Engine>) -> Reply<AdvisorReport> {
    Ok(engine.client()?.advisor().await?)
}

#[tauri::command]
pub async fn apply_advice_fix(
    engine: State<'_, Engine>,
    fix: AdviceFix,
    pin: String,
) -> Reply<TeamMember> {
    Ok(engine.client()?.apply_advice_fix(&fix, &pin).await?)
}

/// The user's Downloads folder (the app's data folder when the OS has none).
fn save_dir(app: &AppHandle) -> Reply<std::path::PathBuf> {
    app.path()
        .download_dir()
        .or_else(|_| app.path().app_data_dir())
        .map_err(|e| {
            IpcError::new(
                ErrorCode::DataDirUnavailable,
                format!("no folder to save to: {e}"),
            )
        })
}

fn save_failed(e: std::io::Error) -> IpcError {
    IpcError::new(
        ErrorCode::DataDirUnavailable,
        format!("could not save the file: {e}"),
    )
}

/// Exports this device's data as an encrypted file into Downloads (the relay checks the
/// export permission and the PIN first); returns the file's path.
#[tauri::command]
pub async fn export_device_backup(
    app: AppHandle,
    engine: State<'_, Engine>,
    pin: String,
    passphrase: String,
) -> Reply<String> {
    let name = save::device_backup_name(Timestamp::now());
    let path = save::free_path(&save_dir(&app)?, &name).map_err(save_failed)?;
    let done = engine
        .client()?
        .export_backup(&path, &pin, &passphrase)
        .await?;
    Ok(done.path.display().to_string())
}

/// "Restore from a backup": links this new device with `code` and fills it from another
/// device's encrypted backup file.
#[tauri::command]
pub async fn restore_device_backup(
    app: AppHandle,
    engine: State<'_, Engine>,
    path: String,
    passphrase: String,
    relay_url: String,
    code: String,
    device_name: Option<String>,
) -> Reply<RestoredBackup> {
    let device = engine::device_info(&app, device_name.as_deref());
    engine
        .restore(
            &app,
            std::path::Path::new(path.trim()),
            &passphrase,
            relay_url.trim(),
            code.trim(),
            &device,
        )
        .await
}

// ---- contacts ----

#[tauri::command]
pub async fn contacts(
    engine: State<'_, Engine>,
    query: String,
    offset: u32,
    limit: u32,
) -> Reply<ContactsPage> {
    Ok(engine.client()?.contacts(&query, offset, limit).await?)
}

#[tauri::command]
pub async fn contact(engine: State<'_, Engine>, wa_id: String) -> Reply<Option<ContactDetail>> {
    Ok(engine.client()?.contact(&wa_id).await?)
}

#[tauri::command]
pub async fn contact_attributes(engine: State<'_, Engine>) -> Reply<Vec<ContactAttribute>> {
    Ok(engine.client()?.contact_attributes().await?)
}

#[tauri::command]
pub async fn refresh_contacts(engine: State<'_, Engine>) -> Reply<u32> {
    Ok(engine.client()?.refresh_contacts().await?)
}

#[tauri::command]
pub async fn update_contact(
    engine: State<'_, Engine>,
    wa_id: String,
    update: ContactUpdate,
) -> Reply<ContactDetail> {
    Ok(engine.client()?.update_contact(&wa_id, &update).await?)
}

#[tauri::command]
pub async fn import_contacts_csv(
    engine: State<'_, Engine>,
    source: CsvSource,
    dry_run: bool,
) -> Reply<ImportReport> {
    Ok(engine
        .client()?
        .import_contacts_csv(source, dry_run)
        .await?)
}
// ---- automation ----

/// The team's automation settings (rules, hours, auto-replies, FAQ, SLAs, capacities).
#[tauri::command]
pub async fn automation(engine: State<'_, Engine>) -> Reply<AutomationView> {
    Ok(engine.client()?.automation().await?)
}

/// Saves the automation settings edited from `revision` (refused if someone saved since).
#[tauri::command]
pub async fn save_automation(
    engine: State<'_, Engine>,
    enabled: bool,
    settings: AutomationSettings,
    agents: BTreeMap<Uuid, AgentSettings>,
    revision: u64,
) -> Reply<AutomationView> {
    Ok(engine
        .client()?
        .save_automation(enabled, &settings, &agents, revision)
        .await?)
}

/// Which rules would fire for a pasted message and customer, and what they would do.
#[tauri::command]
pub async fn automation_dry_run(
    engine: State<'_, Engine>,
    request: DryRunRequest,
) -> Reply<DryRunResult> {
    Ok(engine.client()?.automation_dry_run(&request).await?)
}
// ---- broadcasts ----

/// The team's broadcasts, newest first.
#[tauri::command]
pub async fn broadcasts(engine: State<'_, Engine>) -> Reply<Vec<BroadcastSummary>> {
    Ok(engine.client()?.broadcasts().await?)
}

#[tauri::command]
pub async fn broadcast(engine: State<'_, Engine>, id: Uuid) -> Reply<BroadcastSummary> {
    Ok(engine.client()?.broadcast(id).await?)
}

/// One page of a broadcast's recipients (after a wa_id, optionally in one state).
#[tauri::command]
pub async fn broadcast_recipients(
    engine: State<'_, Engine>,
    id: Uuid,
    after: Option<String>,
    limit: u32,
    state: Option<RecipientState>,
) -> Reply<RecipientPage> {
    Ok(engine
        .client()?
        .broadcast_recipients(id, after.as_deref(), limit, state)
        .await?)
}

/// Who a draft reaches and what they read; nothing is stored.
#[tauri::command]
pub async fn preview_broadcast(
    engine: State<'_, Engine>,
    draft: BroadcastDraft,
) -> Reply<BroadcastPreview> {
    Ok(engine.client()?.preview_broadcast(&draft).await?)
}

/// Creates a broadcast; `id` is the idempotency key.
#[tauri::command]
pub async fn create_broadcast(
    engine: State<'_, Engine>,
    id: Uuid,
    draft: BroadcastDraft,
) -> Reply<BroadcastSummary> {
    Ok(engine.client()?.create_broadcast(id, &draft).await?)
}

#[tauri::command]
pub async fn cancel_broadcast(engine: State<'_, Engine>, id: Uuid) -> Reply<BroadcastSummary> {
    Ok(engine.client()?.cancel_broadcast(id).await?)
}

#[tauri::command]
pub async fn broadcast_settings(engine: State<'_, Engine>) -> Reply<BroadcastSettings> {
    Ok(engine.client()?.broadcast_settings().await?)
}

#[tauri::command]
pub async fn save_broadcast_settings(
    engine: State<'_, Engine>,
    pacing: Pacing,
) -> Reply<BroadcastSettings> {
    Ok(engine.client()?.save_broadcast_settings(&pacing).await?)
}

// ---- composer ----

/// The approved message templates (the relay's cached list; `refresh` fetches anew).
#[tauri::command]
pub async fn message_templates(
    engine: State<'_, Engine>,
    refresh: bool,
) -> Reply<MessageTemplates> {
    Ok(engine.client()?.message_templates(refresh).await?)
}

/// The team's quick replies from the local store (offline).
#[tauri::command]
pub async fn quick_replies(engine: State<'_, Engine>) -> Reply<Vec<QuickReply>> {
    Ok(engine.client()?.quick_replies().await?)
}

/// Fetches the quick replies from the relay into the store.
#[tauri::command]
pub async fn refresh_quick_replies(engine: State<'_, Engine>) -> Reply<Vec<QuickReply>> {
    Ok(engine.client()?.refresh_quick_replies().await?)
}

/// Creates (`id` null) or edits a quick reply.
#[tauri::command]
pub async fn save_quick_reply(
    engine: State<'_, Engine>,
    id: Option<Uuid>,
    draft: QuickReplyDraft,
) -> Reply<QuickReply> {
    let client = engine.client()?;
    Ok(match id {
        Some(id) => client.update_quick_reply(id, &draft).await?,
        None => client.create_quick_reply(&draft).await?,
    })
}

#[tauri::command]
pub async fn delete_quick_reply(engine: State<'_, Engine>, id: Uuid) -> Reply<()> {
    Ok(engine.client()?.delete_quick_reply(id).await?)
}

/// Uploads a file for sending: the raw bytes are the IPC body (no JSON array of numbers),
/// `x-mime-type` and `x-file-name` (percent-encoded) headers say what it is.
#[tauri::command]
pub async fn upload_media(
    engine: State<'_, Engine>,
    request: tauri::ipc::Request<'_>,
) -> Reply<UploadedMedia> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(IpcError::new(
            ErrorCode::Internal,
            "upload_media takes the file's bytes as a raw body",
        ));
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mime = header("x-mime-type");
    let name = teamline_client::composer::percent_decode(&header("x-file-name"));
    Ok(engine
        .client()?
        .upload_media(bytes.clone(), &mime, &name)
        .await?)
}

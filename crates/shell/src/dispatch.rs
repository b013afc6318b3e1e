//! Every command the UI can ask for, by name, with its arguments as the UI sends them
//! (a JSON object with camelCase keys). Both shells call [`call`]: the Tauri window through
//! its one `call` command, the web shell through `POST /api/call/{name}`. The names are the
//! ones `ui/src/lib/backend/commands.ts` uses (a test keeps the two lists equal).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use teamline_client::save;
use teamline_client::store::jiff::Timestamp;
use teamline_client::{Client, Command, ConnectionState};
use uuid::Uuid;

use crate::engine::Engine;
use crate::ipc::{AppInfo, BuildProfile, ErrorCode, IpcError, Session};

/// A command's input: its arguments, or (for `upload_media`) a file's bytes.
#[derive(Debug)]
pub enum Body {
    Json(Value),
    Raw {
        bytes: Vec<u8>,
        mime_type: String,
        /// The file's name, percent-decoded.
        file_name: String,
    },
}

/// A command's answer: JSON text, or raw bytes (`message_media`).
#[derive(Debug, PartialEq)]
pub enum Answer {
    Json(String),
    Bytes(Vec<u8>),
}

type Reply = Result<Answer, IpcError>;

/// The arguments of one call.
struct Args(Map<String, Value>);

impl Args {
    fn from(body: Body, command: &str) -> Result<Args, IpcError> {
        match body {
            Body::Json(Value::Object(map)) => Ok(Args(map)),
            Body::Json(Value::Null) => Ok(Args(Map::new())),
            Body::Json(_) => Err(invalid(command, "the arguments must be a JSON object")),
            Body::Raw { .. } => Err(invalid(command, "this command takes JSON arguments")),
        }
    }

    /// A required argument.
    fn req<T: DeserializeOwned>(&self, key: &str) -> Result<T, IpcError> {
        match self.0.get(key) {
            None => Err(invalid(key, "is missing")),
            Some(v) => T::deserialize(v).map_err(|e| invalid(key, &e.to_string())),
        }
    }

    /// An optional argument: missing and `null` are both `None`.
    fn opt<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, IpcError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::deserialize(v)
                .map(Some)
                .map_err(|e| invalid(key, &e.to_string())),
        }
    }
}

fn invalid(what: &str, why: &str) -> IpcError {
    IpcError::new(ErrorCode::InvalidArguments, format!("`{what}` {why}"))
}

fn json<T: Serialize, E: Into<IpcError>>(result: Result<T, E>) -> Reply {
    let value = result.map_err(Into::into)?;
    serde_json::to_string(&value)
        .map(Answer::Json)
        .map_err(|e| IpcError::new(ErrorCode::Internal, format!("the answer is not JSON: {e}")))
}

/// Declares the commands once: the `COMMANDS` list and the dispatch over them.
macro_rules! commands {
    ($engine:ident, $args:ident; $($name:literal => $run:expr,)+) => {
        /// Every command's name (`upload_media`, which takes raw bytes, runs in [`call`]).
        pub const COMMANDS: &[&str] = &["upload_media", $($name),+];

        async fn run_json(engine: &Engine, command: &str, args: Args) -> Reply {
            let $engine = engine;
            let $args = args;
            match command {
                $($name => $run,)+
                _ => Err(IpcError::new(
                    ErrorCode::UnknownCommand,
                    format!("there is no command `{command}`"),
                )),
            }
        }
    };
}

/// Runs `command` with `body` (once the engine has started).
pub async fn call(engine: &Engine, command: &str, body: Body) -> Reply {
    engine.ready().await;
    if command == "upload_media" {
        let Body::Raw {
            bytes,
            mime_type,
            file_name,
        } = body
        else {
            return Err(invalid(command, "takes the file's bytes as a raw body"));
        };
        return json(
            engine
                .client()?
                .upload_media(bytes, &mime_type, &file_name)
                .await,
        );
    }
    let args = Args::from(body, command)?;
    run_json(engine, command, args).await
}

commands! { e, a;
    // ---- the window and its profile ----
    "app_info" => json(app_info(e)),
    "connection_state" => json(Ok::<_, IpcError>(connection_state(e))),
    "session" => json(Ok::<_, IpcError>(session(e))),
    "link_device" => json(link_device(e, &a).await),
    "try_demo" => json(e.start_demo().await),
    "leave_demo" => json(e.leave_demo().await),
    "unlock" => json(e.client()?.unlock(&a.req::<String>("passphrase")?).await),
    "retry_open" => json(e.retry().await),
    "reconnect_now" => json(e.client().map(|c| c.reconnect_now())),
    "open_external" => json(teamline_client::external::open_url(&a.req::<String>("url")?)),

    // ---- inbox and conversations ----
    "inbox" => json(inbox(&e.client()?, &a).await),
    "inbox_rows" => json(inbox_rows(&e.client()?, a.req("ids")?).await),
    "timeline" => json(timeline(&e.client()?, &a).await),
    "message_media" => Ok(Answer::Bytes(e.client()?.media(a.req("messageId")?).await?.bytes)),
    "save_message_media" => json(save_message_media(e, a.req("messageId")?).await),
    "load_history" => json(
        e.client()?
            .load_history(a.req("conversationId")?, a.opt("before")?, 50)
            .await
    ),
    "send_command" => json(e.client()?.send(a.req("command")?).await),
    "send_text" => json(
        e.client()?
            .send(Command::SendText {
                conversation_id: a.req("conversationId")?,
                text: a.req("text")?,
                preview_url: None,
                reply_to: None,
                takeover_reason: None,
            })
            .await
    ),
    "claim" => json(
        e.client()?
            .send(Command::Claim { conversation_id: a.req("conversationId")? })
            .await
            .map(|_| ())
    ),
    "mark_read" => json(e.client()?.mark_read(a.req("conversationId")?).await),
    "search" => json(
        e.client()?
            .search(&a.req::<String>("query")?, a.opt("limit")?.unwrap_or(50))
            .await
    ),
    "notes" => json(e.client()?.notes(a.req("conversationId")?).await),
    "member_names" => json(e.client()?.member_names().await),
    "outbox" => json(e.client()?.outbox().await),
    "discard_outbox" => json(e.client()?.discard(a.req("id")?).await),
    "notification_settings" => json(e.client().map(|c| c.notification_settings())),
    "set_notification_settings" => json(
        e.client()?.set_notification_settings(a.req("settings")?)
    ),

    // ---- labels ----
    "labels" => json(e.client()?.label_chips().await),
    "refresh_labels" => json(e.client()?.refresh_labels().await),
    "create_label" => json(
        e.client()?
            .create_label(&a.req::<String>("name")?, &a.req::<String>("colour")?)
            .await
    ),
    "recolour_label" => json(
        e.client()?
            .recolour_label(&a.req::<String>("name")?, &a.req::<String>("colour")?)
            .await
    ),
    "delete_label" => json(e.client()?.delete_label(&a.req::<String>("name")?).await),

    // ---- the team ----
    "team_members" => json(e.client()?.team_members().await),
    "create_member" => json(
        e.client()?
            .create_member(&a.req::<String>("name")?, &a.req("change")?, &a.req::<String>("pin")?)
            .await
    ),
    "update_member" => json(
        e.client()?
            .update_member(a.req("id")?, &a.req("change")?, &a.req::<String>("pin")?)
            .await
    ),
    "deactivate_member" => json(
        e.client()?.deactivate_member(a.req("id")?, &a.req::<String>("pin")?).await
    ),
    "reset_member_pin" => json(
        e.client()?
            .reset_member_pin(a.req("id")?, &a.req::<String>("newPin")?, &a.req::<String>("pin")?)
            .await
    ),
    "set_own_pin" => json(
        e.client()?
            .set_own_pin(&a.req::<String>("newPin")?, a.opt::<String>("currentPin")?.as_deref())
            .await
    ),
    "team_devices" => json(e.client()?.team_devices().await),
    "update_device" => json(
        e.client()?
            .update_device(a.req("id")?, &a.req("change")?, &a.req::<String>("pin")?)
            .await
    ),
    "unlink_device" => json(
        e.client()?.unlink_device(a.req("id")?, &a.req::<String>("pin")?).await
    ),
    "team_templates" => json(e.client()?.team_templates().await),
    "save_template" => json(
        e.client()?
            .save_template(a.opt("id")?, &a.req("draft")?, &a.req::<String>("pin")?)
            .await
    ),
    "delete_template" => json(
        e.client()?.delete_template(a.req("id")?, &a.req::<String>("pin")?).await
    ),
    "team_settings" => json(e.client()?.team_settings().await),
    "update_team_settings" => json(
        e.client()?
            .update_team_settings(
                a.opt("deviceCap")?,
                a.opt("autoUnlinkIdle")?,
                &a.req::<String>("pin")?,
            )
            .await
    ),
    "create_pairing_code" => json(e.client()?.create_pairing_code(&a.req("request")?).await),
    "sign_in" => json(e.client()?.sign_in(a.req("memberId")?, &a.req::<String>("pin")?).await),
    "sign_out" => json(e.client()?.sign_out().await),

    // ---- audit, alerts, advisor ----
    "audit_page" => json(e.client()?.audit(&a.req("filter")?).await),
    "verify_audit" => json(e.client()?.verify_audit().await),
    "export_audit" => json(export_audit(e, &a).await),
    "alerts" => json(e.client()?.alerts(a.req("openOnly")?, a.opt("before")?).await),
    "acknowledge_alert" => json(
        e.client()?
            .acknowledge_alert(a.req("id")?, &a.req::<String>("comment")?, &a.req::<String>("pin")?)
            .await
    ),
    "alert_thresholds" => json(e.client()?.alert_thresholds().await),
    "set_alert_thresholds" => json(
        e.client()?
            .set_alert_thresholds(&a.req("thresholds")?, &a.req::<String>("pin")?)
            .await
    ),
    "advisor" => json(e.client()?.advisor().await),
    "apply_advice_fix" => json(
        e.client()?.apply_advice_fix(&a.req("fix")?, &a.req::<String>("pin")?).await
    ),
    "export_device_backup" => json(export_device_backup(e, &a).await),
    "restore_device_backup" => json(restore_device_backup(e, &a).await),

    // ---- contacts ----
    "contacts" => json(
        e.client()?
            .contacts(&a.req::<String>("query")?, a.req("offset")?, a.req("limit")?)
            .await
    ),
    "contact" => json(e.client()?.contact(&a.req::<String>("waId")?).await),
    "contact_attributes" => json(e.client()?.contact_attributes().await),
    "refresh_contacts" => json(e.client()?.refresh_contacts().await),
    "update_contact" => json(
        e.client()?.update_contact(&a.req::<String>("waId")?, &a.req("update")?).await
    ),
    "import_contacts_csv" => json(
        e.client()?.import_contacts_csv(a.req("source")?, a.req("dryRun")?).await
    ),

    // ---- automation and broadcasts ----
    "automation" => json(e.client()?.automation().await),
    "save_automation" => json(
        e.client()?
            .save_automation(
                a.req("enabled")?,
                &a.req("settings")?,
                &a.req::<BTreeMap<Uuid, _>>("agents")?,
                a.req("revision")?,
            )
            .await
    ),
    "automation_dry_run" => json(e.client()?.automation_dry_run(&a.req("request")?).await),
    "broadcasts" => json(e.client()?.broadcasts().await),
    "broadcast" => json(e.client()?.broadcast(a.req("id")?).await),
    "broadcast_recipients" => json(
        e.client()?
            .broadcast_recipients(
                a.req("id")?,
                a.opt::<String>("after")?.as_deref(),
                a.req("limit")?,
                a.opt("state")?,
            )
            .await
    ),
    "preview_broadcast" => json(e.client()?.preview_broadcast(&a.req("draft")?).await),
    "create_broadcast" => json(
        e.client()?.create_broadcast(a.req("id")?, &a.req("draft")?).await
    ),
    "cancel_broadcast" => json(e.client()?.cancel_broadcast(a.req("id")?).await),
    "broadcast_settings" => json(e.client()?.broadcast_settings().await),
    "save_broadcast_settings" => json(
        e.client()?.save_broadcast_settings(&a.req("pacing")?).await
    ),

    // ---- composer ----
    "message_templates" => json(e.client()?.message_templates(a.req("refresh")?).await),
    "quick_replies" => json(e.client()?.quick_replies().await),
    "refresh_quick_replies" => json(e.client()?.refresh_quick_replies().await),
    "save_quick_reply" => json(save_quick_reply(&e.client()?, &a).await),
    "delete_quick_reply" => json(e.client()?.delete_quick_reply(a.req("id")?).await),
}

fn app_info(engine: &Engine) -> Result<AppInfo, IpcError> {
    let data_dir = match engine.current() {
        Some(c) => c.data_dir(),
        None => engine.data_dir().ok_or_else(|| {
            engine.startup_error().unwrap_or_else(|| {
                IpcError::new(ErrorCode::DataDirUnavailable, "no data directory")
            })
        })?,
    };
    Ok(AppInfo {
        version: engine.host().app_version(),
        data_dir: data_dir.display().to_string(),
        build_profile: BuildProfile::current(),
        os: std::env::consts::OS.to_owned(),
        os_locale: sys_locale::get_locale(),
    })
}

fn connection_state(engine: &Engine) -> ConnectionState {
    match engine.current() {
        Some(c) => c.connection_state().borrow().clone(),
        None => ConnectionState::NotLinked,
    }
}

fn session(engine: &Engine) -> Session {
    let startup_error = engine.startup_error();
    match engine.current() {
        Some(c) => Session {
            linked: c.is_linked(),
            me: c.me(),
            startup_error,
            relay_url: c.profile().relay_url,
            demo: engine.in_demo(),
        },
        None => Session {
            linked: false,
            me: None,
            startup_error,
            relay_url: None,
            demo: false,
        },
    }
}

/// "Join my team": links this device with a pairing code (with `passphrase`, protected by
/// it instead of the keyring).
async fn link_device(engine: &Engine, a: &Args) -> Result<teamline_client::LinkInfo, IpcError> {
    let client = engine.client()?;
    let device = engine
        .host()
        .device_info(a.opt::<String>("deviceName")?.as_deref());
    let relay_url = a.req::<String>("relayUrl")?;
    let code = a.req::<String>("code")?;
    let (relay_url, code) = (relay_url.trim(), code.trim());
    let info = match a.opt::<String>("passphrase")? {
        Some(p) => {
            client
                .link_with_passphrase(relay_url, code, &device, &p)
                .await?
        }
        None => client.link(relay_url, code, &device).await?,
    };
    engine.clear_startup_error();
    Ok(info)
}

/// Where a page of the conversation list starts: after the row with this last activity
/// and id (the last row of the page before).
#[derive(serde::Deserialize)]
struct InboxAfter {
    at: Option<Timestamp>,
    id: Uuid,
}

/// The most rows one page of the conversation list holds.
const MAX_INBOX_PAGE: u32 = 10_000;

/// The conversation list; with `limit`, one page of it: the `limit` most recently active,
/// or the next `limit` after `after`.
async fn inbox(client: &Client, a: &Args) -> Result<Vec<teamline_client::InboxRow>, IpcError> {
    let after: Option<InboxAfter> = a.opt("after")?;
    Ok(match a.opt::<u32>("limit")? {
        Some(limit) => {
            client
                .inbox_page(after.map(|x| (x.at, x.id)), limit.clamp(1, MAX_INBOX_PAGE))
                .await?
        }
        None if after.is_some() => return Err(invalid("after", "needs a `limit`")),
        None => client.inbox().await?,
    })
}

/// Most conversations an inbox refresh asks for by id; more is a whole-list read.
const MAX_INBOX_ROWS: usize = 1000;

/// The rows of the conversations a client event named (missing ids: no longer held).
async fn inbox_rows(
    client: &Client,
    ids: Vec<Uuid>,
) -> Result<Vec<teamline_client::InboxRow>, IpcError> {
    if ids.len() > MAX_INBOX_ROWS {
        return Err(invalid(
            "ids",
            &format!("holds more than {MAX_INBOX_ROWS} conversations (read the whole inbox)"),
        ));
    }
    Ok(client.inbox_rows(ids).await?)
}

/// The newest `limit` messages before `before` (an RFC 3339 time; none: the newest).
async fn timeline(
    client: &Client,
    a: &Args,
) -> Result<Vec<teamline_client::TimelineItem>, IpcError> {
    let limit = a.opt::<u32>("limit")?.unwrap_or(100).clamp(1, 500);
    let before = a
        .opt::<String>("before")?
        .map(|b| b.parse::<Timestamp>())
        .transpose()
        .map_err(|e| invalid("before", &format!("is not a time: {e}")))?;
    Ok(client
        .timeline(a.req("conversationId")?, before, limit)
        .await?)
}

fn save_failed(e: std::io::Error) -> IpcError {
    IpcError::new(
        ErrorCode::DataDirUnavailable,
        format!("could not save the file: {e}"),
    )
}

/// Saves a message's media as a new file in Downloads; the user asked for this copy, so
/// it is the one plaintext file.
async fn save_message_media(engine: &Engine, message_id: Uuid) -> Result<String, IpcError> {
    let media = engine.client()?.media(message_id).await?;
    let dir = engine.host().save_dir()?;
    let path = save::save_new(&dir, &media.file_name, &media.bytes).map_err(save_failed)?;
    Ok(path.display().to_string())
}

/// Exports the (filtered) audit log with the PIN into Downloads; answers the file's path.
async fn export_audit(engine: &Engine, a: &Args) -> Result<String, IpcError> {
    let export = engine
        .client()?
        .export_audit(
            a.req("format")?,
            &a.req("filter")?,
            &a.req::<String>("pin")?,
        )
        .await?;
    let dir = engine.host().save_dir()?;
    let path =
        save::save_new(&dir, &export.file_name, export.body.as_bytes()).map_err(save_failed)?;
    Ok(path.display().to_string())
}

/// Exports this device's data as an encrypted file into Downloads (the relay checks the
/// export permission and the PIN first); answers the file's path.
async fn export_device_backup(engine: &Engine, a: &Args) -> Result<String, IpcError> {
    let name = save::device_backup_name(Timestamp::now());
    let path = save::free_path(&engine.host().save_dir()?, &name).map_err(save_failed)?;
    let done = engine
        .client()?
        .export_backup(
            &path,
            &a.req::<String>("pin")?,
            &a.req::<String>("passphrase")?,
        )
        .await?;
    Ok(done.path.display().to_string())
}

/// "Restore from a backup": links this new device and fills it from another device's
/// encrypted backup file.
async fn restore_device_backup(
    engine: &Engine,
    a: &Args,
) -> Result<teamline_client::backup::RestoredBackup, IpcError> {
    let device = engine
        .host()
        .device_info(a.opt::<String>("deviceName")?.as_deref());
    let path = a.req::<String>("path")?;
    engine
        .restore(
            Path::new(path.trim()),
            &a.req::<String>("passphrase")?,
            a.req::<String>("relayUrl")?.trim(),
            a.req::<String>("code")?.trim(),
            &device,
        )
        .await
}

/// Creates (`id` null) or edits a quick reply.
async fn save_quick_reply(
    client: &Client,
    a: &Args,
) -> Result<teamline_client::QuickReply, IpcError> {
    let draft = a.req("draft")?;
    Ok(match a.opt("id")? {
        Some(id) => client.update_quick_reply(id, &draft).await?,
        None => client.create_quick_reply(&draft).await?,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The names the UI's backend calls (`this.call<…>('name'`), read from its source.
    fn ui_command_names() -> BTreeSet<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ui/src/lib/backend/commands.ts"
        );
        let source = std::fs::read_to_string(path).expect("the UI's command backend is readable");
        source
            .split("this.call<")
            .skip(1)
            .filter_map(|rest| {
                let start = rest.find('\'')? + 1;
                let len = rest[start..].find('\'')?;
                Some(rest[start..start + len].to_owned())
            })
            .collect()
    }

    #[test]
    fn the_ui_calls_exactly_the_commands_the_shell_has() {
        let ui = ui_command_names();
        let shell: BTreeSet<String> = super::COMMANDS.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(
            shell.len(),
            super::COMMANDS.len(),
            "a command is listed twice"
        );
        assert!(ui.len() > 50, "parsed the UI's calls: {ui:?}");
        assert_eq!(ui, shell);
    }
}

//! What the composer needs from the relay besides `POST /v1/commands`:
//!
//! - `GET /v1/message-templates[?refresh=true]` (Reply): the account's APPROVED message
//!   templates, fetched from Graph (`GET /{WABA-ID}/message_templates`), cached and
//!   refreshed every [`TEMPLATE_TTL`] in the background and on demand. Answer:
//!   `{templates: [TemplateView], fetched_at, stale}`; `stale` is true when the last
//!   refresh failed and an older list is served.
//! - `POST /v1/media?filename=...` (Reply): the raw file as the body, its MIME type as
//!   `Content-Type`; checked against WhatsApp's per-type limits, then uploaded to Graph
//!   (`POST /{phone-number-id}/media`, multipart). Answer: `{media_id, kind, mime_type,
//!   size, filename}` — send it with a `send_media` command.
//! - `GET|POST /v1/quick-replies`, `PATCH|DELETE /v1/quick-replies/{id}`: the team's
//!   canned answers. Reading needs Reply; changing needs ConfigureAutomation (quick
//!   replies are text the team sends on its behalf, like auto-replies — not taxonomy like
//!   labels). Changes are audited and replicated as `quick_reply.saved`
//!   `{quick_reply: QuickReplyRow}` / `quick_reply.deleted` `{id, shortcut}` to devices
//!   that may reply.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teamline_core::Permission;
use teamline_whatsapp::graph::GraphClient;
use teamline_whatsapp::media::{self, MediaRejected};
use teamline_whatsapp::templates::{MessageTemplate, placeholders};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::app::{AppState, Principal};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::command_error::CommandError;
use crate::storage::quick_replies::QuickReplyRow;
use crate::storage::{Audience, NewEvent, StorageResult, WriteTx};

/// How long a fetched template list is served before the background refresh replaces it.
pub const TEMPLATE_TTL: Duration = Duration::from_secs(15 * 60);
/// Most quick replies a team keeps (the picker stays a picker).
pub const MAX_QUICK_REPLIES: usize = 500;
pub const MAX_SHORTCUT_CHARS: usize = 32;
pub const MAX_TITLE_CHARS: usize = 80;
/// WhatsApp's text message limit.
pub const MAX_QUICK_REPLY_TEXT: usize = 4096;
/// The largest upload (documents: 100 MB) plus room.
const UPLOAD_BODY_LIMIT: usize = 101 * 1024 * 1024;

pub mod kind {
    pub const QUICK_REPLY_SAVED: &str = "quick_reply.saved";
    pub const QUICK_REPLY_DELETED: &str = "quick_reply.deleted";
}

/// An approved template as devices see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateView {
    pub name: String,
    pub language: String,
    pub category: String,
    pub id: Option<String>,
    /// A text header (with placeholders), if any.
    pub header: Option<String>,
    /// The header is media (`IMAGE`, `VIDEO`, `DOCUMENT`, `LOCATION`): not sendable here.
    pub header_format: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    pub header_params: Vec<String>,
    pub body_params: Vec<String>,
    /// Meta's approved example values for the body parameters.
    pub examples: Vec<String>,
    /// Whether the composer can send it: only text headers and buttons without variables.
    pub sendable: bool,
}

impl TemplateView {
    pub fn of(t: &MessageTemplate) -> TemplateView {
        let find = |k: &str| t.components.iter().find(|c| c.kind.eq_ignore_ascii_case(k));
        let header_format = find("HEADER")
            .and_then(|c| c.format.clone())
            .filter(|f| !f.eq_ignore_ascii_case("TEXT"));
        let button_vars = find("BUTTONS")
            .and_then(|c| c.buttons.as_ref())
            .is_some_and(|b| {
                b.iter().any(|button| {
                    button
                        .get("url")
                        .and_then(Value::as_str)
                        .is_some_and(|u| !placeholders(u).is_empty())
                })
            });
        TemplateView {
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category.clone(),
            id: t.id.clone(),
            header: t.header_text().map(str::to_owned),
            sendable: header_format.is_none() && !button_vars,
            header_format,
            body: t.body_text().unwrap_or_default().to_owned(),
            footer: find("FOOTER").and_then(|c| c.text.clone()),
            header_params: t.header_params(),
            body_params: t.body_params(),
            examples: t.body_examples(),
        }
    }
}

struct Cached {
    at: Instant,
    fetched_at: Timestamp,
    templates: Arc<Vec<TemplateView>>,
    /// The last refresh failed; `templates` is older.
    stale: bool,
}

/// The approved templates, fetched from Graph and cached.
pub struct TemplateCache {
    graph: GraphClient,
    ttl: Duration,
    state: Mutex<Option<Cached>>,
}

/// A cache answer.
#[derive(Debug, Clone)]
pub struct TemplateList {
    pub templates: Arc<Vec<TemplateView>>,
    pub fetched_at: Timestamp,
    pub stale: bool,
}

impl TemplateCache {
    pub fn new(graph: GraphClient, ttl: Duration) -> Arc<TemplateCache> {
        Arc::new(TemplateCache {
            graph,
            ttl,
            state: Mutex::new(None),
        })
    }

    pub fn configured(&self) -> bool {
        self.graph.business_account_id().is_some()
    }

    /// The cached list when fresh, else a new one from Graph (`force`: always new). When
    /// Graph fails and an older list exists, that list is served as `stale`.
    pub async fn get(&self, force: bool) -> Result<TemplateList, CommandError> {
        if !self.configured() {
            return Err(CommandError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "templates_unavailable",
                "The relay has no WhatsApp Business Account id (whatsapp.business_account_id), so it cannot list message templates.",
            ));
        }
        // Held across the fetch so concurrent callers share one Graph request.
        let mut state = self.state.lock().await;
        if !force
            && let Some(c) = state.as_ref()
            && c.at.elapsed() < self.ttl
        {
            return Ok(TemplateList {
                templates: Arc::clone(&c.templates),
                fetched_at: c.fetched_at,
                stale: c.stale,
            });
        }
        match self.graph.message_templates().await {
            Ok(all) => {
                let approved: Vec<TemplateView> = all
                    .iter()
                    .filter(|t| t.is_approved())
                    .map(TemplateView::of)
                    .collect();
                let c = Cached {
                    at: Instant::now(),
                    fetched_at: Timestamp::now(),
                    templates: Arc::new(approved),
                    stale: false,
                };
                let out = TemplateList {
                    templates: Arc::clone(&c.templates),
                    fetched_at: c.fetched_at,
                    stale: false,
                };
                *state = Some(c);
                Ok(out)
            }
            Err(e) => {
                tracing::warn!(error = %e, "fetching message templates failed");
                if let Some(c) = state.as_mut() {
                    c.stale = true;
                    return Ok(TemplateList {
                        templates: Arc::clone(&c.templates),
                        fetched_at: c.fetched_at,
                        stale: true,
                    });
                }
                Err(CommandError::new(
                    StatusCode::BAD_GATEWAY,
                    "templates_unavailable",
                    format!("WhatsApp did not list the message templates: {e}"),
                ))
            }
        }
    }

    /// Refreshes every TTL while the relay runs (failures keep the old list).
    pub async fn run(self: Arc<Self>) {
        if !self.configured() {
            return;
        }
        loop {
            let _ = self.get(true).await;
            tokio::time::sleep(self.ttl).await;
        }
    }

    /// Checks a `send_template` command's template against the list: known, approved and
    /// given exactly the parameters its header and body have. Skipped (Ok) when no list
    /// can be had — Meta checks again on send.
    pub async fn validate(&self, template: &Value) -> Result<(), CommandError> {
        if !self.configured() {
            return Ok(());
        }
        let Ok(list) = self.get(false).await else {
            return Ok(());
        };
        let name = template.get("name").and_then(Value::as_str).unwrap_or("");
        let language = match template.get("language") {
            Some(Value::String(s)) => s.as_str(),
            Some(v) => v.get("code").and_then(Value::as_str).unwrap_or(""),
            None => "",
        };
        let Some(t) = list
            .templates
            .iter()
            .find(|t| t.name == name && t.language == language)
        else {
            return Err(CommandError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template_unknown",
                format!("There is no approved template {name:?} in {language:?}."),
            ));
        };
        let count = |part: &str| -> usize {
            template
                .get("components")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter(|c| {
                            c.get("type")
                                .and_then(Value::as_str)
                                .is_some_and(|k| k.eq_ignore_ascii_case(part))
                        })
                        .map(|c| {
                            c.get("parameters")
                                .and_then(Value::as_array)
                                .map_or(0, Vec::len)
                        })
                        .sum()
                })
                .unwrap_or(0)
        };
        for (part, expected) in [
            ("header", t.header_params.len()),
            ("body", t.body_params.len()),
        ] {
            let given = count(part);
            if given != expected {
                return Err(CommandError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "template_params",
                    format!(
                        "Template {name:?} needs {expected} {part} parameter(s); {given} given."
                    ),
                )
                .with("part", json!(part))
                .with("expected", json!(expected))
                .with("given", json!(given)));
            }
        }
        Ok(())
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/message-templates", get(list_templates))
        .route(
            "/v1/media",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/v1/quick-replies",
            get(list_quick_replies).post(create_quick_reply),
        )
        .route(
            "/v1/quick-replies/{id}",
            patch(update_quick_reply).delete(delete_quick_reply),
        )
}

fn unavailable() -> CommandError {
    CommandError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "This relay instance does not talk to WhatsApp.",
    )
}

fn require(p: &Principal, perm: Permission) -> Result<(), CommandError> {
    authz::require(&p.actor, perm).map_err(CommandError::denied)
}

#[derive(Deserialize)]
struct RefreshQuery {
    #[serde(default)]
    refresh: Option<bool>,
}

async fn list_templates(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Query(q): Query<RefreshQuery>,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::Reply)?;
    let services = st.commands.get().ok_or_else(unavailable)?;
    let list = services.templates.get(q.refresh.unwrap_or(false)).await?;
    Ok(Json(json!({
        "templates": *list.templates,
        "fetched_at": list.fetched_at,
        "stale": list.stale,
    })))
}

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    filename: Option<String>,
}

async fn upload(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::Reply)?;
    let services = st.commands.get().ok_or_else(unavailable)?;
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let kind =
        media::check(&mime, body.len() as u64, &body[..body.len().min(32)]).map_err(|e| {
            let code = match e {
                MediaRejected::UnsupportedType { .. } => "media_type_unsupported",
                MediaRejected::TooLarge { .. } => "media_too_large",
                MediaRejected::Empty => "media_empty",
            };
            let mut err = CommandError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string());
            if let MediaRejected::TooLarge { limit, .. } = e {
                err = err.with("limit", json!(limit));
            }
            err
        })?;
    let filename = q
        .filename
        .map(|f| {
            f.chars()
                .filter(|c| !c.is_control())
                .take(240)
                .collect::<String>()
        })
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| format!("{kind}-upload"));
    let size = body.len() as u64;
    let uploaded = services
        .graph
        .upload_media(body.to_vec(), &mime, &filename)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "media upload to WhatsApp failed");
            CommandError::new(
                StatusCode::BAD_GATEWAY,
                "media_upload_failed",
                format!("WhatsApp did not accept the upload: {e}"),
            )
        })?;
    Ok(Json(json!({
        "media_id": uploaded.id,
        "kind": kind,
        "mime_type": mime,
        "size": size,
        "filename": filename,
    })))
}

async fn list_quick_replies(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::Reply)?;
    let rows = st
        .storage
        .read(|tx| tx.quick_replies())
        .await
        .map_err(CommandError::storage)?;
    Ok(Json(json!({ "quick_replies": rows })))
}

#[derive(Deserialize)]
struct QuickReplyReq {
    #[serde(default)]
    shortcut: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
    /// `Some(None)` (JSON null) clears it.
    #[serde(default, with = "double_option")]
    language: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", message)
}

/// `/Refund ` → `refund`: lower case letters, digits, `-` and `_`, 1 to 32 characters.
pub fn normalise_shortcut(s: &str) -> Result<String, CommandError> {
    let s = s.trim().trim_start_matches('/').to_lowercase();
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_SHORTCUT_CHARS
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s)
    } else {
        Err(invalid(format!(
            "A shortcut is 1 to {MAX_SHORTCUT_CHARS} letters, digits, '-' or '_' (typed after '/')."
        ))
        .with("field", json!("shortcut")))
    }
}

fn check_text(title: &str, text: &str, language: Option<&str>) -> Result<(), CommandError> {
    if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(
            invalid(format!("A title is 1 to {MAX_TITLE_CHARS} characters."))
                .with("field", json!("title")),
        );
    }
    if text.trim().is_empty() || text.chars().count() > MAX_QUICK_REPLY_TEXT {
        return Err(invalid(format!(
            "The text is 1 to {MAX_QUICK_REPLY_TEXT} characters (WhatsApp's limit)."
        ))
        .with("field", json!("text")));
    }
    if let Some(l) = language
        && (l.is_empty()
            || l.len() > 16
            || !l
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(
            invalid("The language is a tag like en, ru or zh.").with("field", json!("language"))
        );
    }
    Ok(())
}

fn ctx(st: &AppState, p: &Principal, peer: Option<SocketAddr>) -> Ctx {
    Ctx {
        actor_member_id: (!p.member.id.is_nil()).then_some(p.member.id),
        device_id: Some(p.device.id),
        address: peer.map(|a| a.ip().to_string()),
        now: st.clock.now(),
    }
}

fn saved_event(tx: &mut dyn WriteTx, q: &QuickReplyRow, now: Timestamp) -> StorageResult<u64> {
    tx.append_event(NewEvent {
        kind: kind::QUICK_REPLY_SAVED,
        conversation_id: None,
        audience: Audience::Reply,
        also_member: None,
        payload: json!({ "quick_reply": q }),
        created_at: now,
    })
}

type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

fn taken(shortcut: &str) -> CommandError {
    CommandError::new(
        StatusCode::CONFLICT,
        "shortcut_taken",
        format!("Another quick reply already uses /{shortcut}."),
    )
    .with("field", json!("shortcut"))
}

async fn create_quick_reply(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    peer: Peer,
    Json(req): Json<QuickReplyReq>,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::ConfigureAutomation)?;
    let shortcut = normalise_shortcut(req.shortcut.as_deref().unwrap_or(""))?;
    let title = req.title.unwrap_or_default().trim().to_owned();
    let text = req.text.unwrap_or_default();
    let language = req.language.flatten().filter(|l| !l.trim().is_empty());
    check_text(&title, &text, language.as_deref())?;
    let ctx = ctx(&st, &p, peer.map(|e| e.0.0));
    let row = QuickReplyRow {
        id: Uuid::now_v7(),
        shortcut,
        title,
        text,
        language,
        created_by: ctx.actor_member_id,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let out = st
        .storage
        .write(
            move |tx| -> StorageResult<Result<QuickReplyRow, CommandError>> {
                if tx.quick_reply_by_shortcut(&row.shortcut)?.is_some() {
                    return Ok(Err(taken(&row.shortcut)));
                }
                if tx.quick_replies()?.len() >= MAX_QUICK_REPLIES {
                    return Ok(Err(CommandError::new(
                        StatusCode::CONFLICT,
                        "limit_reached",
                        format!("A team keeps at most {MAX_QUICK_REPLIES} quick replies."),
                    )));
                }
                tx.put_quick_reply(&row)?;
                saved_event(tx, &row, ctx.now)?;
                audit::record(
                    tx,
                    &ctx,
                    audit::kind::QUICK_REPLY_CREATED,
                    json!({"quick_reply_id": row.id}),
                    Value::Null,
                    json!(row),
                )?;
                Ok(Ok(row))
            },
        )
        .await
        .map_err(CommandError::storage)??;
    Ok(Json(json!({ "quick_reply": out })))
}

async fn update_quick_reply(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    peer: Peer,
    Path(id): Path<Uuid>,
    Json(req): Json<QuickReplyReq>,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::ConfigureAutomation)?;
    let shortcut = req
        .shortcut
        .as_deref()
        .map(normalise_shortcut)
        .transpose()?;
    let ctx = ctx(&st, &p, peer.map(|e| e.0.0));
    let out = st
        .storage
        .write(
            move |tx| -> StorageResult<Result<QuickReplyRow, CommandError>> {
                let Some(before) = tx.quick_reply(id)? else {
                    return Ok(Err(not_found()));
                };
                let after = QuickReplyRow {
                    shortcut: shortcut.unwrap_or_else(|| before.shortcut.clone()),
                    title: req
                        .title
                        .map(|t| t.trim().to_owned())
                        .unwrap_or_else(|| before.title.clone()),
                    text: req.text.unwrap_or_else(|| before.text.clone()),
                    language: match req.language {
                        Some(l) => l.filter(|l| !l.trim().is_empty()),
                        None => before.language.clone(),
                    },
                    updated_at: ctx.now,
                    ..before.clone()
                };
                if let Err(e) = check_text(&after.title, &after.text, after.language.as_deref()) {
                    return Ok(Err(e));
                }
                if after.shortcut != before.shortcut
                    && tx.quick_reply_by_shortcut(&after.shortcut)?.is_some()
                {
                    return Ok(Err(taken(&after.shortcut)));
                }
                tx.put_quick_reply(&after)?;
                saved_event(tx, &after, ctx.now)?;
                audit::record(
                    tx,
                    &ctx,
                    audit::kind::QUICK_REPLY_UPDATED,
                    json!({"quick_reply_id": id}),
                    json!(before),
                    json!(after),
                )?;
                Ok(Ok(after))
            },
        )
        .await
        .map_err(CommandError::storage)??;
    Ok(Json(json!({ "quick_reply": out })))
}

fn not_found() -> CommandError {
    CommandError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no quick reply with this id.",
    )
}

async fn delete_quick_reply(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    peer: Peer,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, CommandError> {
    require(&p, Permission::ConfigureAutomation)?;
    let ctx = ctx(&st, &p, peer.map(|e| e.0.0));
    st.storage
        .write(move |tx| -> StorageResult<Result<(), CommandError>> {
            let Some(before) = tx.quick_reply(id)? else {
                return Ok(Err(not_found()));
            };
            tx.delete_quick_reply(id)?;
            tx.append_event(NewEvent {
                kind: kind::QUICK_REPLY_DELETED,
                conversation_id: None,
                audience: Audience::Reply,
                also_member: None,
                payload: json!({ "id": id, "shortcut": before.shortcut }),
                created_at: ctx.now,
            })?;
            audit::record(
                tx,
                &ctx,
                audit::kind::QUICK_REPLY_DELETED,
                json!({"quick_reply_id": id}),
                json!(before),
                Value::Null,
            )?;
            Ok(Ok(()))
        })
        .await
        .map_err(CommandError::storage)??;
    Ok(Json(json!({ "deleted": id })))
}

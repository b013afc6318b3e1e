//! The Graph API subset Teamline uses, served like `graph.facebook.com`:
//! `POST /{version}/{phone-number-id}/messages`, `POST /{version}/{phone-number-id}/media`,
//! `GET|DELETE /{version}/{media-id}`, `GET /{version}/{phone-number-id}`,
//! `GET /{version}/{WABA-ID}/message_templates` and the bearer-protected media download URL.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{AsyncError, GraphError};
use crate::state::{ReadMark, SentMessage};
use crate::validate::{self, Outbound};
use crate::{Shared, ids, media, sched};

type Shr = State<Arc<Shared>>;

/// Uploads may be up to 100 MB (documents); leave room for multipart framing.
const UPLOAD_BODY_LIMIT: usize = 101 * 1024 * 1024;
/// Meta's media URLs live for five minutes.
const MEDIA_URL_TTL_SECS: i64 = 300;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/whatsapp_business/attachments/", get(download))
        .route("/{version}/{id}", get(get_object).delete(delete_object))
        .route("/{version}/{id}/messages", post(post_messages))
        .route("/{version}/{id}/message_templates", get(message_templates))
        .route(
            "/{version}/{id}/media",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .fallback(unknown_path)
        .with_state(shared)
}

async fn unknown_path(uri: axum::http::Uri) -> GraphError {
    GraphError::param(format!("Unknown path components: {}", uri.path()))
}

fn check_token(shared: &Shared, headers: &HeaderMap) -> Result<(), GraphError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
        .map(str::trim);
    match given {
        Some(token) if token == shared.config.access_token => Ok(()),
        _ => Err(GraphError::bad_token()),
    }
}

fn check_version(shared: &Shared, version: &str) -> Result<(), GraphError> {
    let parsed = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    match parsed {
        Some((major, _)) if major >= shared.config.min_api_major => Ok(()),
        Some(_) => Err(GraphError {
            status: StatusCode::BAD_REQUEST,
            code: 2635,
            subcode: None,
            message: format!(
                "(#2635) You are calling a deprecated version of the Graph API. Please update to \
                 at least v{}.0.",
                shared.config.min_api_major
            ),
            details: None,
        }),
        None => Err(GraphError::param(format!(
            "Unknown path components: /{version}"
        ))),
    }
}

fn check_phone(shared: &Shared, id: &str, method: &str) -> Result<(), GraphError> {
    if id == shared.config.phone_number_id {
        Ok(())
    } else {
        Err(GraphError::unknown_object(method, id))
    }
}

#[derive(Serialize)]
struct SendResponse {
    messaging_product: &'static str,
    contacts: Vec<SendContact>,
    messages: Vec<SendMessageId>,
}

#[derive(Serialize)]
struct SendContact {
    input: String,
    wa_id: String,
}

#[derive(Serialize)]
struct SendMessageId {
    id: String,
    /// Meta includes the pacing status only for template messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_status: Option<&'static str>,
}

async fn post_messages(
    State(shared): Shr,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match send(&shared, &version, &id, &headers, &body) {
        Ok(value) => {
            let drop_it = {
                let mut state = shared.state.lock().expect("state lock");
                let drop_it = state.faults.drop_graph_responses > 0;
                if drop_it {
                    state.faults.drop_graph_responses -= 1;
                }
                drop_it
            };
            if drop_it {
                // The request took effect; the caller only sees its connection break.
                let broken = futures_util::stream::once(async {
                    Err::<Bytes, _>(std::io::Error::other("whatsapp-sim dropped the connection"))
                });
                return (StatusCode::OK, Body::from_stream(broken)).into_response();
            }
            Json(value).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn send(
    shared: &Shared,
    version: &str,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, GraphError> {
    check_token(shared, headers)?;
    check_version(shared, version)?;
    check_phone(shared, id, "post")?;
    let request: Value = serde_json::from_slice(body)
        .map_err(|_| GraphError::param("Invalid parameter: the request body is not valid JSON."))?;
    let now = shared.clock.now_ms();
    let cfg = &shared.config;
    let mut state = shared.state.lock().expect("state lock");
    let send = match validate::validate(&request, &state)? {
        Outbound::Read { message_id, typing } => {
            state.read_marks.push(ReadMark {
                message_id,
                typing_indicator: typing,
                at: shared.clock.now_secs().to_string(),
            });
            return Ok(json!({"success": true}));
        }
        Outbound::Message(send) => send,
    };

    let window_open = state.window_open(&send.wa_id, now, cfg.service_window.as_millis() as i64);
    state.check_throughput(now, cfg.throughput_per_sec)?;
    state.check_pair(
        &send.wa_id,
        now,
        cfg.pair_interval.as_millis() as i64,
        cfg.pair_burst,
    )?;
    let new_tier_user = if !window_open && send.template_category.is_some() {
        state.check_tier(&send.wa_id, now, cfg.messaging_limit)?
    } else {
        false
    };
    state.consume(&send.wa_id, now, new_tier_user);

    let wamid = ids::wamid(&send.wa_id);
    let error = if !window_open && send.template_category.is_none() {
        Some(AsyncError::reengagement())
    } else {
        send.async_error.clone()
    };
    let is_template = send.template_category.is_some();
    state.sent.push(SentMessage {
        id: wamid.clone(),
        to: send.wa_id.clone(),
        kind: send.kind.clone(),
        request,
        accepted_at: shared.clock.now_secs().to_string(),
        statuses: Vec::new(),
        error: error.clone(),
        category: send
            .template_category
            .clone()
            .unwrap_or_else(|| "service".into()),
        conversation_id: ids::conversation_id(),
        biz_opaque_callback_data: send.biz_opaque_callback_data.clone(),
    });
    drop(state);
    tracing::debug!(kind = %send.kind, "message accepted");
    sched::plan(shared, &wamid, error);

    let response = SendResponse {
        messaging_product: "whatsapp",
        contacts: vec![SendContact {
            input: send.input,
            wa_id: send.wa_id,
        }],
        messages: vec![SendMessageId {
            id: wamid,
            message_status: is_template.then_some("accepted"),
        }],
    };
    Ok(serde_json::to_value(response).expect("plain data serialises"))
}

async fn upload(
    State(shared): Shr,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    match upload_inner(&shared, &version, &id, &headers, multipart).await {
        Ok(media_id) => Json(json!({ "id": media_id })).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn upload_inner(
    shared: &Shared,
    version: &str,
    id: &str,
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<String, GraphError> {
    check_token(shared, headers)?;
    check_version(shared, version)?;
    check_phone(shared, id, "post")?;
    let mut product = None;
    let mut declared_type = None;
    let mut file: Option<(Vec<u8>, Option<String>, Option<String>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(GraphError::media_upload(format!(
                    "Could not read the upload: {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "messaging_product" => product = field.text().await.ok(),
            "type" => declared_type = field.text().await.ok(),
            "file" => {
                let content_type = field.content_type().map(str::to_string);
                let filename = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.map_err(|e| {
                    GraphError::media_upload(format!("Could not read the file: {e}"))
                })?;
                file = Some((bytes.to_vec(), content_type, filename));
            }
            _ => {}
        }
    }
    match product.as_deref() {
        Some("whatsapp") => {}
        Some(other) => {
            return Err(GraphError::param(format!(
                "Param messaging_product must be one of {{WHATSAPP}} - got \"{other}\"."
            )));
        }
        None => {
            return Err(GraphError::param(
                "The parameter messaging_product is required.",
            ));
        }
    }
    let Some((bytes, content_type, filename)) = file else {
        return Err(GraphError::param("The parameter file is required."));
    };
    let mime = declared_type
        .or(content_type)
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let Some(kind) = validate::kind_for_mime(&mime) else {
        return Err(GraphError::param(format!(
            "Param file must be a file with one of the following types: audio/aac, audio/amr, \
             audio/mp4, audio/mpeg, audio/ogg, text/plain, application/pdf, application/msword, \
             application/vnd.ms-excel, application/vnd.ms-powerpoint, \
             application/vnd.openxmlformats-officedocument.*, image/jpeg, image/png, \
             image/webp, video/3gpp, video/mp4. Received file of type '{mime}'."
        )));
    };
    let limit = validate::size_limit(kind, &bytes);
    if bytes.len() > limit {
        return Err(GraphError::media_upload(format!(
            "File of type {mime} is {} bytes; the limit for {kind} is {limit} bytes.",
            bytes.len()
        )));
    }
    let entry = media::store_entry(bytes, &mime, filename);
    let media_id = entry.id.clone();
    shared
        .state
        .lock()
        .expect("state lock")
        .media
        .insert(media_id.clone(), entry);
    Ok(media_id)
}

async fn get_object(
    State(shared): Shr,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = (|| {
        check_token(&shared, &headers)?;
        check_version(&shared, &version)?;
        let cfg = &shared.config;
        if id == cfg.phone_number_id {
            return Ok(json!({
                "verified_name": cfg.verified_name,
                "code_verification_status": "VERIFIED",
                "display_phone_number": format!("+{}", cfg.display_phone_number),
                "quality_rating": "GREEN",
                "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"},
                "id": cfg.phone_number_id,
            }));
        }
        let state = shared.state.lock().expect("state lock");
        let Some(m) = state.media.get(&id) else {
            return Err(GraphError::unknown_object("get", &id));
        };
        let url = format!(
            "{}/whatsapp_business/attachments/?mid={}&ext={}&hash={}",
            shared.base_url,
            m.id,
            shared.clock.now_secs(),
            m.url_token
        );
        Ok(json!({
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": m.mime_type,
            "sha256": m.sha256,
            "file_size": m.bytes.len(),
            "id": m.id,
        }))
    })();
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn delete_object(
    State(shared): Shr,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = check_token(&shared, &headers)
        .and_then(|()| check_version(&shared, &version))
        .and_then(|()| {
            let removed = shared.state.lock().expect("state lock").media.remove(&id);
            removed
                .map(|_| json!({"success": true}))
                .ok_or_else(|| GraphError::unknown_object("delete", &id))
        });
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct DownloadQuery {
    mid: String,
    ext: i64,
    hash: String,
}

/// The lookaside URL: only with the bearer token, only for five minutes.
async fn download(
    State(shared): Shr,
    headers: HeaderMap,
    q: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(e) = check_token(&shared, &headers) {
        return e.into_response();
    }
    let Ok(Query(q)) = q else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if shared.clock.now_secs() - q.ext > MEDIA_URL_TTL_SECS {
        return StatusCode::NOT_FOUND.into_response();
    }
    let state = shared.state.lock().expect("state lock");
    match state.media.get(&q.mid) {
        Some(m) if m.url_token == q.hash => (
            [(header::CONTENT_TYPE, m.mime_type.clone())],
            m.bytes.clone(),
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
struct TemplatesQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Most templates on one page (Graph's default page size is 25).
const TEMPLATE_PAGE_DEFAULT: usize = 25;

/// `GET /{version}/{WABA-ID}/message_templates`: the account's templates in Meta's shape
/// (`data[]` with `components`, `paging.cursors`, `paging.next` while more follow). The
/// cursor is the base64 of the position, opaque like Meta's.
async fn message_templates(
    State(shared): Shr,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<TemplatesQuery>,
) -> Response {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let result = (|| {
        check_token(&shared, &headers)?;
        check_version(&shared, &version)?;
        if id != shared.config.waba_id {
            return Err(GraphError::unknown_object("get", &id));
        }
        let limit = match q.limit.as_deref() {
            None => TEMPLATE_PAGE_DEFAULT,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| GraphError::param("Param limit must be a positive integer."))?,
        };
        let start = match q.after.as_deref() {
            None => 0,
            Some(c) => b64
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| GraphError::param("Invalid cursor for param after."))?,
        };
        let state = shared.state.lock().expect("state lock");
        let all: Vec<&crate::state::Template> = state
            .templates
            .iter()
            .filter(|t| {
                q.status
                    .as_deref()
                    .is_none_or(|s| t.status.eq_ignore_ascii_case(s))
            })
            .filter(|t| q.name.as_deref().is_none_or(|n| t.name.contains(n)))
            .collect();
        let end = (start + limit).min(all.len());
        let data: Vec<Value> = all
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|t| template_json(t))
            .collect();
        let mut paging = json!({
            "cursors": {
                "before": b64.encode(start.to_string()),
                "after": b64.encode(end.saturating_sub(1).max(start).to_string()),
            }
        });
        if end < all.len() {
            let after = b64.encode(end.to_string());
            paging["cursors"]["after"] = json!(after);
            paging["next"] = json!(format!(
                "{}/{version}/{id}/message_templates?limit={limit}&after={after}",
                shared.base_url
            ));
        }
        Ok(json!({ "data": data, "paging": paging }))
    })();
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A stored template as Meta lists it: a text header when it has header parameters, the
/// body with `{{n}}` placeholders and examples, a URL button per button parameter.
fn template_json(t: &crate::state::Template) -> Value {
    let id = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(format!("{}/{}", t.name, t.language));
        u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 10u64.pow(15)
    };
    let mut components = Vec::new();
    if t.header_params > 0 {
        let text = (1..=t.header_params)
            .map(|i| format!("{{{{{i}}}}}"))
            .collect::<Vec<_>>()
            .join(" ");
        let examples: Vec<String> = (1..=t.header_params)
            .map(|i| format!("Header {i}"))
            .collect();
        components.push(json!({
            "type": "HEADER", "format": "TEXT", "text": text,
            "example": {"header_text": examples},
        }));
    }
    let mut body = json!({"type": "BODY", "text": t.body});
    if t.body_params > 0 {
        let examples: Vec<String> = (1..=t.body_params)
            .map(|i| format!("Example {i}"))
            .collect();
        body["example"] = json!({ "body_text": [examples] });
    }
    components.push(body);
    if !t.button_params.is_empty() {
        let buttons: Vec<Value> = t
            .button_params
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let vars: String = (1..=*n).map(|k| format!("{{{{{k}}}}}")).collect();
                json!({"type": "URL", "text": format!("Open {}", i + 1), "url": format!("https://example.com/{vars}")})
            })
            .collect();
        components.push(json!({"type": "BUTTONS", "buttons": buttons}));
    }
    json!({
        "name": t.name,
        "parameter_format": "POSITIONAL",
        "components": components,
        "language": t.language,
        "status": t.status,
        "category": t.category,
        "id": id.to_string(),
    })
}

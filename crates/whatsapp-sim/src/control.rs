//! The `/_sim/` control API for tests and the demo. No bearer token: bind the sim only
//! where the tests or the demo can reach it.
//!
//! - `POST /_sim/inbound`  a customer message (any type) → `{"id": wamid}`
//! - `GET  /_sim/inbound`  messages customers sent
//! - `GET  /_sim/sent`     what the business sent, with statuses, and its read marks
//! - `GET|POST /_sim/clock`     `{"advance_secs": n}` moves sim time forward
//! - `GET|POST /_sim/faults`    toggles fault switches (partial updates), including
//!   per-recipient Meta errors (`recipient_errors: {wa_id: code}`) and withheld send
//!   answers (`stall_sends`, with `stalled` counting the requests held)
//! - `POST /_sim/flush`    sends webhooks a batch fault is holding back
//! - `GET  /_sim/deliveries` every webhook POST and its attempts
//! - `POST /_sim/handshake` Meta's GET subscribe handshake against the webhook URL
//! - `GET|POST /_sim/templates` lists / adds (or replaces) message templates
//! - `POST /_sim/reset`    forgets everything but the configuration

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::payload::{ChangeValue, Contact, InboundMessage, Profile};
use crate::state::{InboundRecord, State as SimState, Template};
use crate::webhook::{self, Command};
use crate::{Shared, ids, media, validate};

type Shr = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sim/inbound", post(inbound).get(list_inbound))
        .route("/_sim/sent", get(sent))
        .route("/_sim/clock", get(clock).post(advance))
        .route("/_sim/faults", get(faults).post(set_faults))
        .route("/_sim/flush", post(flush))
        .route("/_sim/deliveries", get(deliveries))
        .route("/_sim/handshake", post(handshake))
        .route("/_sim/templates", get(templates).post(add_template))
        .route("/_sim/reset", post(reset))
        .with_state(shared)
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

/// A customer message to inject. Text: `{from, name, text}`. Any type:
/// `{from, name, type: "image", image: {caption}}` (media without an `id` gets a generated
/// or given `file` stored so the business can download it), or `{from, name, message: {..}}`
/// with a raw message object. `context: {message_id}` makes it a reply.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InboundRequest {
    pub from: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub context: Option<Value>,
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub file: Option<FileRequest>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FileRequest {
    pub mime_type: String,
    pub data_base64: String,
    #[serde(default)]
    pub filename: Option<String>,
}

const MEDIA: [&str; 5] = ["image", "audio", "video", "document", "sticker"];

/// Injects a customer message: opens the service window and sends the signed webhook.
pub fn inject_inbound(shared: &Shared, req: InboundRequest) -> Result<Value, String> {
    let from = validate::wa_id_of(&req.from).ok_or("`from` must be a phone number")?;
    let name = req.name.clone().unwrap_or_else(|| from.clone());
    let now_ms = shared.clock.now_ms();
    let timestamp = shared.clock.now_secs().to_string();
    let mut media_id = None;

    let (kind, mut content, mut context) = if let Some(Value::Object(mut raw)) = req.message {
        let kind = raw
            .remove("type")
            .and_then(|t| t.as_str().map(str::to_string))
            .ok_or("`message.type` is required")?;
        raw.remove("from");
        raw.remove("id");
        raw.remove("timestamp");
        let context = raw.remove("context");
        (kind, raw, context)
    } else {
        let kind = req.kind.clone().unwrap_or_else(|| {
            if req.text.is_some() {
                "text".into()
            } else {
                String::new()
            }
        });
        let mut content = Map::new();
        if kind == "text" {
            let body = req
                .text
                .clone()
                .or_else(|| {
                    req.rest
                        .get("text")
                        .and_then(|t| t.get("body"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .ok_or("a text message needs `text`")?;
            content.insert("text".into(), json!({ "body": body }));
        } else if MEDIA.contains(&kind.as_str()) {
            let mut obj = req
                .rest
                .get(&kind)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if !obj.contains_key("id") {
                let (bytes, mime, filename) = match &req.file {
                    Some(f) => (
                        base64::engine::general_purpose::STANDARD
                            .decode(&f.data_base64)
                            .map_err(|_| "`file.data_base64` is not base64")?,
                        f.mime_type.clone(),
                        f.filename.clone(),
                    ),
                    None => {
                        let label = obj
                            .get("caption")
                            .or_else(|| obj.get("filename"))
                            .and_then(Value::as_str)
                            .unwrap_or("Teamline demo");
                        let (bytes, mime) = media::placeholder(&kind, label);
                        let filename = (kind == "document").then(|| "document.pdf".to_string());
                        (bytes, mime.to_string(), filename)
                    }
                };
                let entry = media::store_entry(bytes, &mime, filename.clone());
                obj.insert("mime_type".into(), json!(entry.mime_type));
                obj.insert("sha256".into(), json!(entry.sha256));
                obj.insert("id".into(), json!(entry.id));
                if kind == "document" && !obj.contains_key("filename") {
                    obj.insert(
                        "filename".into(),
                        json!(filename.unwrap_or_else(|| "document.pdf".into())),
                    );
                }
                if kind == "audio" && !obj.contains_key("voice") {
                    obj.insert("voice".into(), json!(false));
                }
                if kind == "sticker" && !obj.contains_key("animated") {
                    obj.insert(
                        "animated".into(),
                        json!(validate::is_animated_webp(&entry.bytes)),
                    );
                }
                media_id = Some(entry.id.clone());
                shared
                    .state
                    .lock()
                    .expect("state lock")
                    .media
                    .insert(entry.id.clone(), entry);
            }
            content.insert(kind.clone(), Value::Object(obj));
        } else if kind.is_empty() {
            return Err("give `text`, a `type` with its object, or a raw `message`".into());
        } else {
            let obj = req
                .rest
                .get(&kind)
                .cloned()
                .ok_or_else(|| format!("a `{kind}` message needs a `{kind}` object"))?;
            content.insert(kind.clone(), obj);
        }
        (kind, content, None)
    };
    if let Some(ctx) = req.context {
        let id = ctx
            .get("message_id")
            .or_else(|| ctx.get("id"))
            .and_then(Value::as_str)
            .ok_or("`context.message_id` is required")?;
        let mut c = json!({"from": shared.config.display_phone_number, "id": id});
        for key in ["forwarded", "frequently_forwarded", "referred_product"] {
            if let Some(v) = ctx.get(key) {
                c[key] = v.clone();
            }
        }
        context = Some(c);
    }
    // `errors` on an unsupported message sits next to `type`; keep it in the content map.
    content.retain(|_, v| !v.is_null());

    let id = ids::wamid(&from);
    {
        let mut state = shared.state.lock().expect("state lock");
        let customer = state.customers.entry(from.clone()).or_default();
        customer.name = name.clone();
        customer.last_inbound_ms = Some(now_ms);
        state.inbound.push(InboundRecord {
            id: id.clone(),
            from: from.clone(),
            kind: kind.clone(),
            timestamp: timestamp.clone(),
        });
    }
    let value = ChangeValue {
        messaging_product: "whatsapp",
        metadata: shared.metadata(),
        contacts: Some(vec![Contact {
            profile: Profile { name },
            wa_id: from.clone(),
        }]),
        messages: Some(vec![InboundMessage {
            context,
            from,
            id: id.clone(),
            timestamp,
            kind,
            content,
        }]),
        statuses: None,
    };
    let _ = shared.webhooks.send(Command::Send {
        kind: "messages",
        value,
    });
    Ok(json!({"id": id, "media_id": media_id}))
}

async fn inbound(State(shared): Shr, Json(req): Json<InboundRequest>) -> Response {
    match inject_inbound(&shared, req) {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn list_inbound(State(shared): Shr) -> Json<Value> {
    let state = shared.state.lock().expect("state lock");
    Json(json!({ "messages": state.inbound }))
}

async fn sent(State(shared): Shr) -> Json<Value> {
    let state = shared.state.lock().expect("state lock");
    Json(json!({ "messages": state.sent, "read_marks": state.read_marks }))
}

fn clock_json(shared: &Shared) -> Json<Value> {
    Json(
        json!({"now": shared.clock.now_secs(), "now_ms": shared.clock.now_ms(), "frozen": shared.clock.is_frozen()}),
    )
}

async fn clock(State(shared): Shr) -> Json<Value> {
    clock_json(&shared)
}

#[derive(Deserialize)]
struct Advance {
    advance_secs: f64,
}

async fn advance(State(shared): Shr, Json(a): Json<Advance>) -> Response {
    if !a.advance_secs.is_finite() || a.advance_secs < 0.0 {
        return bad_request("advance_secs must be a non-negative number");
    }
    shared
        .clock
        .advance_ms((a.advance_secs * 1000.0).round() as i64);
    clock_json(&shared).into_response()
}

async fn faults(State(shared): Shr) -> Json<Value> {
    Json(json!(shared.state.lock().expect("state lock").faults))
}

#[derive(Deserialize)]
struct FaultsPatch {
    duplicate: Option<bool>,
    out_of_order: Option<bool>,
    batch: Option<usize>,
    drop_webhooks: Option<u32>,
    drop_graph_responses: Option<u32>,
    /// Replaces the whole map (`{}` clears it).
    recipient_errors: Option<std::collections::BTreeMap<String, u32>>,
    stall_sends: Option<bool>,
}

async fn set_faults(State(shared): Shr, Json(p): Json<FaultsPatch>) -> Response {
    if let Some(map) = &p.recipient_errors
        && let Some((wa_id, code)) = map.iter().find(|(_, c)| {
            crate::error::GraphError::injected(**c).is_none()
                && crate::error::AsyncError::injected(**c).is_none()
        })
    {
        return bad_request(format!(
            "recipient_errors[{wa_id}]: {code} is not one of 131048, 368, 131031 (answered at send time) or 131026, 131049, 131050, 130472 (failed status webhook)"
        ));
    }
    let faults = {
        let mut state = shared.state.lock().expect("state lock");
        let f = &mut state.faults;
        if let Some(v) = p.duplicate {
            f.duplicate = v;
        }
        if let Some(v) = p.out_of_order {
            f.out_of_order = v;
        }
        if let Some(v) = p.batch {
            f.batch = v;
        }
        if let Some(v) = p.drop_webhooks {
            f.drop_webhooks = v;
        }
        if let Some(v) = p.drop_graph_responses {
            f.drop_graph_responses = v;
        }
        if let Some(v) = p.recipient_errors {
            f.recipient_errors = v;
        }
        if let Some(v) = p.stall_sends {
            f.stall_sends = v;
        }
        f.clone()
    };
    if faults.batch <= 1 {
        let _ = shared.webhooks.send(Command::Flush);
    }
    Json(json!(faults)).into_response()
}

async fn flush(State(shared): Shr) -> Json<Value> {
    let _ = shared.webhooks.send(Command::Flush);
    Json(json!({"success": true}))
}

async fn deliveries(State(shared): Shr) -> Json<Value> {
    Json(json!({ "deliveries": shared.state.lock().expect("state lock").deliveries }))
}

#[derive(Deserialize, Default)]
struct HandshakeRequest {
    verify_token: Option<String>,
}

async fn handshake(State(shared): Shr, body: Option<Json<HandshakeRequest>>) -> Response {
    let token = body
        .and_then(|Json(b)| b.verify_token)
        .or_else(|| shared.config.verify_token.clone());
    let Some(token) = token else {
        return bad_request("no verify_token given and none configured");
    };
    Json(json!(webhook::handshake(&shared, &token).await)).into_response()
}

async fn templates(State(shared): Shr) -> Json<Value> {
    Json(json!({ "data": shared.state.lock().expect("state lock").templates }))
}

async fn add_template(State(shared): Shr, Json(t): Json<Template>) -> Json<Value> {
    let mut state = shared.state.lock().expect("state lock");
    state
        .templates
        .retain(|old| !(old.name == t.name && old.language == t.language));
    state.templates.push(t);
    Json(json!({"success": true}))
}

async fn reset(State(shared): Shr) -> Json<Value> {
    shared.scheduler.clear();
    *shared.state.lock().expect("state lock") = SimState::new();
    Json(json!({"success": true}))
}

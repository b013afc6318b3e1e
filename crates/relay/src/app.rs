//! The HTTP surface: webhooks, pairing, the device API and operability routes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use teamline_core::Permission;
use teamline_core::access::{Actor, Denied};
use teamline_whatsapp::signature;
use teamline_whatsapp::webhook::WebhookPayload;
use tokio::sync::watch;
use uuid::Uuid;

use crate::authz;
use crate::clock::Clock;
use crate::delivery;
use crate::ingest;
use crate::metrics::{Metrics, Rejection};
use crate::pairing::{self, ClaimOutcome, ClaimRequest};
use crate::storage::{ConversationQuery, DeviceRow, MemberRow, Storage, StorageError};

/// Meta's documented maximum webhook payload.
pub const WEBHOOK_BODY_LIMIT: usize = 3 * 1024 * 1024;

/// The settings the HTTP layer needs (a subset of [`crate::config::Config`]).
#[derive(Clone)]
pub struct AppSettings {
    pub app_secret: String,
    pub verify_token: String,
    pub timezone: jiff::tz::TimeZone,
    pub retention: SignedDuration,
}

/// Shared by every handler.
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub clock: Clock,
    pub settings: AppSettings,
    pub metrics: Arc<Metrics>,
    /// Flips to true on shutdown so streams and long-polls end and the server can drain.
    pub shutdown: watch::Receiver<bool>,
    last_touch: std::sync::Mutex<HashMap<Uuid, Timestamp>>,
    /// Ephemeral presence ("typing"), merged into every stream.
    pub presence: crate::presence::PresenceHub,
    /// The send and media workers, once attached (`relay_services::attach`).
    pub commands: std::sync::OnceLock<Arc<crate::relay_services::Services>>,
    /// Argon2id cost of PINs hashed from now on.
    pub pin_cost: Arc<crate::pin::PinCost>,
    /// The automation runner's wake-ups and compiled-rules cache.
    pub automation: Arc<crate::automation::Hub>,
    /// The broadcast worker's wake-ups and counters.
    pub broadcasts: Arc<crate::broadcasts::Hub>,
}

impl AppState {
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Clock,
        settings: AppSettings,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<AppState> {
        Arc::new(AppState {
            storage,
            clock,
            settings,
            metrics: Arc::new(Metrics::default()),
            shutdown,
            last_touch: std::sync::Mutex::new(HashMap::new()),
            presence: crate::presence::PresenceHub::default(),
            commands: std::sync::OnceLock::new(),
            pin_cost: Arc::new(crate::pin::PinCost::default()),
            automation: Arc::new(crate::automation::Hub::default()),
            broadcasts: Arc::new(crate::broadcasts::Hub::default()),
        })
    }
}

pub type St = State<Arc<AppState>>;

/// An error as every /v1 route answers it: `{code, message}` with a stable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    fn not_visible() -> Self {
        Self::from(Denied::NotVisible)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let status = match d {
            Denied::NotVisible => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, d.code(), d.to_string())
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::CursorExpired { .. } => ApiError::new(
                StatusCode::GONE,
                "resync_required",
                "This cursor is older than the history the relay keeps; fetch conversations again and continue from the current head.",
            ),
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "The relay could not reach its database; try again shortly.",
                )
            }
        }
    }
}

/// The authenticated caller of a /v1 route.
#[derive(Clone, Debug)]
pub struct Principal {
    pub device: DeviceRow,
    pub member: MemberRow,
    pub actor: Actor,
    pub token_hash: [u8; 32],
    /// The member's permission templates (re-evaluated at each use: windows move).
    pub templates: Vec<teamline_core::PermissionTemplate>,
    /// A shared device (members sign in with their PIN); `member.id` is nil when signed out.
    pub shared: bool,
}

impl Principal {
    /// The actor's effective permissions at `now` (a template window may have opened or
    /// closed since the principal was loaded).
    pub fn actor_at(&self, now: Timestamp, tz: &jiff::tz::TimeZone) -> Actor {
        authz::actor(&self.member, &self.device, &self.templates, now, tz).unwrap_or(Actor {
            member_id: self.member.id,
            teams: Vec::new(),
            permissions: teamline_core::PermissionSet::EMPTY,
        })
    }
}

/// The member a signed-out shared device acts as: nobody, with no permissions.
fn nobody(now: Timestamp) -> MemberRow {
    MemberRow {
        id: Uuid::nil(),
        name: String::new(),
        preset: "none".into(),
        toggles: json!([]),
        teams: Vec::new(),
        active: false,
        created_at: now,
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let authed = Router::new()
        .route("/v1/me", get(me))
        .route("/v1/devices", get(crate::team::list_devices))
        .route("/v1/devices/{id}/revoke", post(crate::team::revoke))
        .route("/v1/pairing/codes", post(create_code))
        .route("/v1/conversations", get(conversations))
        .route("/v1/conversations/{id}", get(conversation))
        .route("/v1/conversations/{id}/messages", get(messages))
        .route("/v1/events", get(delivery::long_poll))
        .route("/v1/stream", get(delivery::stream))
        .route("/v1/admin/quarantine", get(quarantine))
        .merge(crate::commands::routes())
        .merge(crate::composer::routes())
        .merge(crate::team::routes())
        .merge(crate::alerts::routes())
        .merge(crate::backup::routes())
        .merge(crate::contacts::routes())
        .merge(crate::automation::routes())
        .merge(crate::broadcasts::routes())
        .merge(crate::labels::routes())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), auth));
    Router::new()
        .route(
            "/webhooks/whatsapp",
            get(webhook_handshake)
                .post(webhook_post)
                .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
        .route("/v1/pairing/claim", post(claim))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(authed)
        .with_state(state)
}

// ---------------------------------------------------------------------------------------
// Webhooks

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn webhook_handshake(State(st): St, Query(q): Query<Handshake>) -> Response {
    let token_ok = q.verify_token.as_deref().is_some_and(|t| {
        use subtle_eq::eq;
        eq(t.as_bytes(), st.settings.verify_token.as_bytes())
    });
    match (q.mode.as_deref(), token_ok, q.challenge) {
        (Some("subscribe"), true, Some(challenge)) => {
            tracing::info!("webhook subscription verified");
            (StatusCode::OK, challenge).into_response()
        }
        _ => {
            tracing::warn!("webhook verification refused");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

/// Constant-time equality for the verify token (no extra dependency: SHA-256 both sides,
/// then compare digests, so timing reveals nothing about the token).
mod subtle_eq {
    use sha2::{Digest, Sha256};

    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        let (x, y) = (Sha256::digest(a), Sha256::digest(b));
        x.iter()
            .zip(y.iter())
            .fold(0u8, |acc, (p, q)| acc | (p ^ q))
            == 0
    }
}

async fn webhook_post(
    State(st): St,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                st.metrics.reject(Rejection::TooLarge);
                tracing::warn!("webhook body over the 3 MB limit refused");
            }
            return rejection.into_response();
        }
    };
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify(st.settings.app_secret.as_bytes(), &body, header) {
        st.metrics.reject(Rejection::Signature);
        tracing::warn!(reason = %e, bytes = body.len(), "webhook signature refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let now = st.clock.now();
    let result = match WebhookPayload::from_slice(&body) {
        Err(e) => {
            let reason = e.to_string();
            tracing::warn!(reason = %reason, bytes = body.len(), "signed webhook body is malformed; quarantined");
            st.storage
                .write(move |tx| tx.insert_quarantine(&body, &reason, now))
                .await
                .map(|_| {
                    st.metrics
                        .webhooks_quarantined
                        .fetch_add(1, Ordering::Relaxed);
                })
        }
        Ok(payload) => {
            let sha: [u8; 32] = Sha256::digest(&body).into();
            let items = payload.items.len();
            // Serialization happens here, in parallel across handlers; the writer only
            // runs statements.
            let prepared = ingest::prepare(&payload);
            st.storage
                .write(move |tx| ingest::apply_prepared(tx, &body, &sha, &payload, prepared, now))
                .await
                .map(|out| {
                    tracing::debug!(
                        items,
                        events = out.events,
                        duplicates = out.duplicates,
                        duplicate_body = out.duplicate_body,
                        "webhook committed"
                    );
                    if out.duplicate_body {
                        st.metrics
                            .webhooks_duplicate
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    st.metrics
                        .events_appended
                        .fetch_add(u64::from(out.events), Ordering::Relaxed);
                    // A broadcast opt-out's acknowledgement waits in the send queue.
                    if out.queued > 0
                        && let Some(services) = st.commands.get()
                    {
                        services.outbound.wake();
                    }
                })
        }
    };
    match result {
        Ok(()) => {
            st.metrics.webhooks_received.fetch_add(1, Ordering::Relaxed);
            // Inbound messages queued automation jobs in the same commit.
            st.automation.wake();
            StatusCode::OK.into_response()
        }
        Err(e) => {
            st.metrics.reject(Rejection::Storage);
            tracing::error!(error = %e, "webhook not stored; answering 503 so Meta retries");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pairing and auth

fn pairing_rejected() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "pairing_rejected",
        "This pairing code cannot be used. Ask an admin for a new code and try again.",
    )
}

async fn claim(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<ClaimRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if let Some(problem) = req.invalid_field() {
        return Err(ApiError::bad_request(problem));
    }
    let address = peer.ip().to_string();
    let code_hash = pairing::hash_code(&req.code);
    let (token, token_hash) = pairing::new_token();
    let now = st.clock.now();
    let outcome = st
        .storage
        .write(move |tx| pairing::claim(tx, code_hash, &req, token_hash, &address, now))
        .await?;
    match outcome {
        ClaimOutcome::Rejected => {
            st.metrics.pairing_rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(address = %peer.ip(), "pairing claim refused");
            Err(pairing_rejected())
        }
        ClaimOutcome::CapReached { cap } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "device_cap_reached",
            format!(
                "The team already has {cap} linked devices, the limit set by the admin. Unlink a device or raise the limit, then claim this code again."
            ),
        )),
        ClaimOutcome::Linked {
            device,
            member,
            shared,
        } => {
            tracing::info!(device_id = %device.id, member_id = %member.id, shared, "device linked");
            Ok(Json(json!({
                "token": token,
                "device_id": device.id,
                "member_id": (!shared).then_some(member.id),
                "level": device.level,
                "shared": shared,
            })))
        }
    }
}

fn unauthorized(code: &'static str, message: &str) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// Loads the device behind a token hash, with its member and effective permissions.
pub async fn load_principal(
    st: &AppState,
    token_hash: [u8; 32],
) -> Result<Result<Principal, &'static str>, StorageError> {
    let found = st
        .storage
        .read(move |tx| {
            let Some(device) = tx.device_by_token_hash(&token_hash)? else {
                return Ok(None);
            };
            let session = tx.session(device.id)?;
            let member_id = match &session {
                Some(s) => s.member_id,
                None => Some(device.member_id),
            };
            let member = member_id.map(|id| tx.member(id)).transpose()?.flatten();
            let templates = member_id
                .map(|id| tx.member_templates(id))
                .transpose()?
                .unwrap_or_default();
            Ok(Some((device, session.is_some(), member, templates)))
        })
        .await?;
    let Some((device, shared, member, templates)) = found else {
        return Ok(Err("unauthorized"));
    };
    if device.revoked_at.is_some() {
        return Ok(Err("device_unlinked"));
    }
    let now = st.clock.now();
    let member = match member {
        Some(m) if m.active => m,
        // A shared device whose member signed out (or was deactivated) acts as nobody.
        _ if shared => nobody(now),
        Some(_) => return Ok(Err("member_deactivated")),
        None => return Ok(Err("device_unlinked")),
    };
    let actor = authz::actor(&member, &device, &templates, now, &st.settings.timezone)
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    Ok(Ok(Principal {
        device,
        member,
        actor,
        token_hash,
        templates,
        shared,
    }))
}

async fn auth(State(st): St, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        st.metrics.auth_rejected.fetch_add(1, Ordering::Relaxed);
        return unauthorized("unauthorized", "A device token is required.");
    };
    let hash = pairing::hash_token(token);
    let principal = match load_principal(&st, hash).await {
        Ok(Ok(p)) => p,
        Ok(Err(code)) => {
            st.metrics.auth_rejected.fetch_add(1, Ordering::Relaxed);
            let message = match code {
                "device_unlinked" => "This device was unlinked from the team.",
                "member_deactivated" => "The member of this device was deactivated.",
                _ => "This device token is not valid.",
            };
            return unauthorized(code, message);
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    touch(&st, &principal, &req);
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Records last-seen time and address at most once a minute per device, off the request path.
fn touch(st: &Arc<AppState>, p: &Principal, req: &Request) {
    let now = st.clock.now();
    {
        let mut seen = st.last_touch.lock().expect("touch lock");
        if seen
            .get(&p.device.id)
            .is_some_and(|t| now.duration_since(*t) < SignedDuration::from_mins(1))
        {
            return;
        }
        seen.insert(p.device.id, now);
    }
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let id = p.device.id;
    let storage = Arc::clone(&st.storage);
    tokio::spawn(async move {
        if let Err(e) = storage
            .write(move |tx| tx.touch_device(id, now, &address))
            .await
        {
            tracing::debug!(error = %e, "could not record last-seen");
        }
    });
}

// ---------------------------------------------------------------------------------------
// Device API

async fn me(State(st): St, Extension(p): Extension<Principal>) -> Result<Json<Value>, ApiError> {
    let head = *st.storage.head().borrow();
    // A shared device (the shift laptop) shows who may sign in: names only, which the
    // sign-in screen needs even while nobody is signed in.
    let device_id = p.device.id;
    let sign_in = st
        .storage
        .read(move |tx| {
            let Some(session) = tx.session(device_id)? else {
                return Ok(None);
            };
            let members: Vec<Value> = tx
                .members()?
                .into_iter()
                .filter(|m| m.active)
                .filter(|m| session.allowed.as_ref().is_none_or(|a| a.contains(&m.id)))
                .map(|m| json!({ "id": m.id, "name": m.name }))
                .collect();
            Ok(Some(
                json!({ "signed_in": session.member_id, "members": members }),
            ))
        })
        .await?;
    Ok(Json(json!({
        "device": p.device,
        "member": p.member,
        "permissions": p.actor.permissions,
        "head_seq": head,
        "retention_floor": st.storage.retention_floor(),
        "shared": sign_in,
    })))
}

#[derive(Deserialize)]
struct CodeRequest {
    level: teamline_core::DeviceLevel,
    #[serde(default)]
    member_id: Option<Uuid>,
    #[serde(default)]
    member_name: Option<String>,
    /// A shared device (the shift laptop): members sign in on it with their PIN.
    #[serde(default)]
    shared: bool,
    /// Who may sign in on a shared device (`None`: every active member).
    #[serde(default)]
    members: Option<Vec<Uuid>>,
}

async fn create_code(
    State(st): St,
    Extension(p): Extension<Principal>,
    body: Result<Json<CodeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (code, hash) = pairing::new_code();
    let now = st.clock.now();
    let extra = crate::storage::team::CodeExtra {
        shared: req.shared,
        allowed: req.members.clone(),
        created_by: Some(p.member.id),
    };
    let expires_at = st
        .storage
        .write(move |tx| {
            if extra.shared {
                tx.put_code_extra(&hash, &extra)?;
            }
            pairing::store_code(
                tx,
                hash,
                req.level,
                req.member_id,
                req.member_name,
                false,
                now,
            )
        })
        .await?;
    Ok(Json(json!({ "code": code, "expires_at": expires_at })))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    before: Option<Timestamp>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    assignee: Option<Uuid>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn conversations(
    State(st): St,
    Extension(p): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let head = *st.storage.head().borrow();
    let actor = p.actor.clone();
    let (rows, next) = st
        .storage
        .read(move |tx| {
            let mut out = Vec::new();
            let mut before = q.before;
            // Skip what the actor cannot see, a bounded number of pages at a time.
            for _ in 0..20 {
                let page = tx.conversations(&ConversationQuery {
                    before_activity: before,
                    status: q.status.clone(),
                    assignee: q.assignee,
                    limit,
                })?;
                let exhausted = page.len() < limit;
                for c in page {
                    before = Some(c.last_activity_at);
                    if authz::can_view(&actor, &authz::access_of(&c)) {
                        out.push(c);
                        if out.len() == limit {
                            return Ok((out, before));
                        }
                    }
                }
                if exhausted {
                    return Ok((out, None));
                }
            }
            Ok((out, before))
        })
        .await?;
    Ok(Json(
        json!({ "conversations": rows, "next_before": next, "head_seq": head }),
    ))
}

async fn visible_conversation(
    st: &AppState,
    p: &Principal,
    id: Uuid,
) -> Result<crate::storage::ConversationRow, ApiError> {
    let c = st.storage.read(move |tx| tx.conversation(id)).await?;
    match c {
        Some(c) if authz::can_view(&p.actor, &authz::access_of(&c)) => Ok(c),
        _ => Err(ApiError::not_visible()),
    }
}

async fn conversation(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let c = visible_conversation(&st, &p, id).await?;
    Ok(Json(json!({ "conversation": c })))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    before: Option<Uuid>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn messages(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    visible_conversation(&st, &p, id).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = st
        .storage
        .read(move |tx| tx.messages_page(id, q.before, limit))
        .await?;
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|m| m.id))
        .flatten();
    Ok(Json(json!({ "messages": rows, "next_before": next })))
}

#[derive(Deserialize)]
struct QuarantineQuery {
    #[serde(default)]
    limit: Option<usize>,
}

async fn quarantine(
    State(st): St,
    Extension(p): Extension<Principal>,
    Query(q): Query<QuarantineQuery>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let rows = st.storage.read(move |tx| tx.quarantine(limit)).await?;
    Ok(Json(json!({ "quarantine": rows })))
}

// ---------------------------------------------------------------------------------------
// Operability

async fn healthz(State(st): St) -> Response {
    match st.storage.read(|tx| tx.team()).await {
        Ok(team) => Json(json!({
            "status": "ok",
            "backend": st.storage.backend(),
            "head_seq": *st.storage.head().borrow(),
            "team": team.is_some(),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(st): St) -> Response {
    let mut body = st.metrics.render(*st.storage.head().borrow());
    body.push_str(&st.automation.metrics_text());
    body.push_str(&st.broadcasts.metrics_text());
    if let Some(commands) = st.commands.get() {
        body.push_str(&commands.metrics_text().await);
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        body,
    )
        .into_response()
}

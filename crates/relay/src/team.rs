//! Team management on the relay (issue 6): members, groups, devices, permission templates,
//! settings (device cap, auto-unlink), PINs, shared-device sessions and the audit log.
//!
//! Every route decides through [`crate::authz`] (core's effective permissions). Changes
//! need `ManageTeam` AND the caller's PIN again (header `x-teamline-pin` or body field
//! `pin`); each change emits an `audit.*` event ([`crate::audit`]) and `me.changed` to the
//! members whose permissions may have moved, which makes every open stream reload.
//!
//! Shared devices: a pairing code with `shared: true` links a device that starts signed
//! out. `POST /v1/session/sign-in {member_id, pin}` signs a member in (or switches);
//! everything the device does is then attributed to that member, within the device's
//! level. Signed out, the device has no permissions: it sees no conversation, no member
//! data and can only sign in (documented choice: nothing visible rather than read-only).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use teamline_core::{
    DeviceLevel, Permission, PermissionSet, PermissionTemplate, Preset, WindowRule,
};
use uuid::Uuid;

use crate::app::{ApiError, AppState, Principal, St};
use crate::audit::{self, Ctx, kind};
use crate::authz;
use crate::pin::{self, PinRefusal};
use crate::storage::team::{AuditFilter, GroupRow, PinRow, SessionRow};
use crate::storage::{DeviceRow, MemberRow, ReadTx, StorageResult, WriteTx};

pub const DEFAULT_DEVICE_CAP: u64 = 20;
pub const IDLE_AFTER: SignedDuration = SignedDuration::from_hours(72);
pub const AUTO_UNLINK_AFTER: SignedDuration = SignedDuration::from_hours(24 * 7);
/// How often the auto-unlink task looks for idle devices.
pub const IDLE_SWEEP: std::time::Duration = std::time::Duration::from_secs(600);

pub const SETTING_DEVICE_CAP: &str = "device_cap";
pub const SETTING_AUTO_UNLINK: &str = "auto_unlink_idle";

/// The team routes, merged into the authenticated `/v1` router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/team/members", get(list_members).post(create_member))
        .route("/v1/team/members/{id}", axum::routing::patch(update_member))
        .route("/v1/team/members/{id}/deactivate", post(deactivate_member))
        .route("/v1/team/members/{id}/pin", put(reset_pin))
        .route("/v1/team/groups", get(list_groups).post(create_group))
        .route("/v1/team/groups/{id}", axum::routing::patch(rename_group))
        .route(
            "/v1/team/groups/{id}/members/{member_id}",
            put(add_to_group).delete(remove_from_group),
        )
        .route("/v1/team/devices/{id}", axum::routing::patch(update_device))
        .route("/v1/team/settings", get(get_settings).put(put_settings))
        .route(
            "/v1/team/templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/v1/team/templates/{id}",
            put(update_template).delete(delete_template),
        )
        .route("/v1/team/audit", get(list_audit))
        .route("/v1/team/audit/verify", get(verify_audit))
        .route("/v1/team/audit/export", get(export_audit))
        .route("/v1/me/pin", put(set_own_pin))
        .route("/v1/session/sign-in", post(sign_in))
        .route("/v1/session/sign-out", post(sign_out))
}

// ---------------------------------------------------------------------------------------
// Helpers

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("No {what} has this id."),
    )
}

fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

fn refusal(r: PinRefusal) -> ApiError {
    let status = match r {
        PinRefusal::Locked { .. } => StatusCode::LOCKED,
        _ => StatusCode::FORBIDDEN,
    };
    ApiError::new(status, r.code(), r.message())
}

/// A JSON body (empty = `{}`) split into the typed request and its `pin` field.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Option<String>), ApiError> {
    let v: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let pin = v.get("pin").and_then(Value::as_str).map(str::to_owned);
    let t = serde_json::from_value(v).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((t, pin))
}

fn ctx(st: &AppState, p: &Principal, peer: SocketAddr) -> Ctx {
    Ctx {
        actor_member_id: (!p.member.id.is_nil()).then_some(p.member.id),
        device_id: Some(p.device.id),
        address: Some(peer.ip().to_string()),
        now: st.clock.now(),
    }
}

/// Checks `pin` for the signed-in member: blocking Argon2 off the writer, then the outcome
/// recorded by the writer (lockout after 5 failures).
pub async fn check_pin(
    st: &AppState,
    p: &Principal,
    pin: Option<&str>,
    address: &str,
) -> Result<(), ApiError> {
    let Some(pin) = pin else {
        return Err(refusal(PinRefusal::Required));
    };
    let member_id = p.member.id;
    let row = st.storage.read(move |tx| tx.pin(member_id)).await?;
    let Some(row) = row else {
        return Err(refusal(PinRefusal::NotSet));
    };
    let now = st.clock.now();
    if let Some(until) = pin::locked(&row, now) {
        return Err(refusal(PinRefusal::Locked { until }));
    }
    let given = pin.to_owned();
    let ok = tokio::task::spawn_blocking(move || pin::verify(&given, &row.hash))
        .await
        .unwrap_or(false);
    let device_id = p.device.id;
    let address = address.to_owned();
    let outcome = st
        .storage
        .write(move |tx| pin::record_attempt(tx, member_id, device_id, &address, ok, now))
        .await?;
    if let Err(r) = &outcome {
        tracing::warn!(member_id = %member_id, code = r.code(), "PIN re-verification refused");
    }
    outcome.map_err(refusal)
}

/// A permission (through core) and the PIN again: what every sensitive action asks.
async fn reverify(
    st: &AppState,
    p: &Principal,
    permission: Permission,
    pin: Option<&str>,
    peer: SocketAddr,
) -> Result<(), ApiError> {
    authz::require(&p.actor, permission)?;
    check_pin(st, p, pin, &peer.ip().to_string()).await
}

/// `ManageTeam` (through core) and the PIN again.
async fn manage(
    st: &AppState,
    p: &Principal,
    pin: Option<&str>,
    peer: SocketAddr,
) -> Result<(), ApiError> {
    reverify(st, p, Permission::ManageTeam, pin, peer).await
}

fn pin_from(headers: &HeaderMap, body_pin: Option<String>) -> Option<String> {
    headers
        .get(pin::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(body_pin)
}

async fn hash_pin(st: &AppState, new_pin: String) -> Result<String, ApiError> {
    if let Some(problem) = pin::invalid(&new_pin) {
        return Err(ApiError::bad_request(problem));
    }
    let cost = Arc::clone(&st.pin_cost);
    tokio::task::spawn_blocking(move || pin::hash(&new_pin, &cost))
        .await
        .map_err(|_| ApiError::bad_request("could not hash the PIN"))
}

/// A member as the Team page shows it: toggles, the preset they match, plain words.
pub fn member_view(tx: &dyn ReadTx, m: &MemberRow) -> StorageResult<Value> {
    let toggles = authz::toggles_of(m).unwrap_or_default();
    let templates: Vec<Uuid> = tx.member_templates(m.id)?.iter().map(|t| t.id).collect();
    Ok(json!({
        "id": m.id,
        "name": m.name,
        "preset": m.preset,
        "matches_preset": Preset::matching(toggles),
        "permissions": toggles,
        "summary": teamline_core::summary::summary(toggles),
        "teams": m.teams,
        "templates": templates,
        "active": m.active,
        "has_pin": tx.pin(m.id)?.is_some(),
        "created_at": m.created_at,
    }))
}

/// A device for the Team page, with the `idle` flag and who is signed in.
pub fn device_view(tx: &dyn ReadTx, d: &DeviceRow, now: Timestamp) -> StorageResult<Value> {
    let session = tx.session(d.id)?;
    let signed_in = match &session {
        Some(s) => s.member_id,
        None => Some(d.member_id),
    };
    let last = d.last_seen.unwrap_or(d.linked_at);
    let idle = d.revoked_at.is_none() && now.duration_since(last) > IDLE_AFTER;
    Ok(json!({
        "id": d.id,
        "name": d.name,
        "os": d.os,
        "os_version": d.os_version,
        "app_version": d.app_version,
        "linked_at": d.linked_at,
        "last_seen": d.last_seen,
        "last_address": d.last_address,
        "level": d.level,
        "member_id": d.member_id,
        "signed_in_member_id": signed_in,
        "shared": session.is_some(),
        "allowed_members": session.and_then(|s| s.allowed),
        "idle": idle,
        "revoked_at": d.revoked_at,
    }))
}

pub fn device_cap(tx: &dyn ReadTx) -> StorageResult<u64> {
    Ok(tx
        .setting(SETTING_DEVICE_CAP)?
        .and_then(|v| v.as_u64())
        .unwrap_or(DEFAULT_DEVICE_CAP))
}

fn auto_unlink(tx: &dyn ReadTx) -> StorageResult<bool> {
    Ok(tx
        .setting(SETTING_AUTO_UNLINK)?
        .and_then(|v| v.as_bool())
        .unwrap_or(false))
}

fn parse_toggles(
    preset: &Option<Preset>,
    toggles: &Option<PermissionSet>,
) -> (String, PermissionSet) {
    match (preset, toggles) {
        (_, Some(set)) => (
            preset
                .map(|p| p.as_str().to_owned())
                .or_else(|| Preset::matching(*set).map(|p| p.as_str().to_owned()))
                .unwrap_or_else(|| "custom".to_owned()),
            *set,
        ),
        (Some(p), None) => (p.as_str().to_owned(), p.permissions()),
        (None, None) => ("restricted".to_owned(), Preset::Restricted.permissions()),
    }
}

fn valid_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::bad_request("`name` must be 1 to 100 characters"));
    }
    Ok(n.to_owned())
}

fn check_templates(tx: &dyn ReadTx, ids: &[Uuid]) -> StorageResult<Option<Uuid>> {
    for id in ids {
        if tx.template(*id)?.is_none() {
            return Ok(Some(*id));
        }
    }
    Ok(None)
}

/// Whether an active member other than `id` may manage the team (so that taking the right
/// from `id` cannot lock everybody out).
fn others_manage_team(tx: &dyn ReadTx, id: Uuid) -> StorageResult<bool> {
    Ok(tx.members()?.iter().any(|m| {
        m.id != id
            && m.active
            && authz::toggles_of(m).is_ok_and(|t| t.contains(Permission::ManageTeam))
    }))
}

/// A team change, as every ManageTeam route receives it: the caller may manage the team
/// (core's permission, checked before the body is read), sent a `T` body, and re-entered
/// their PIN (`x-teamline-pin` or the body's `pin`). Carries the audit context.
pub struct Managed<T> {
    pub req: T,
    pub ctx: Ctx,
}

impl<T: DeserializeOwned + Send> axum::extract::FromRequest<Arc<AppState>> for Managed<T> {
    type Rejection = ApiError;

    async fn from_request(
        req: axum::extract::Request,
        st: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let p = req
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Sign in first.")
            })?;
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        authz::require(&p.actor, Permission::ManageTeam)?;
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, st)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let (t, body_pin) = parse::<T>(&body)?;
        manage(st, &p, pin_from(&headers, body_pin).as_deref(), peer).await?;
        Ok(Managed {
            req: t,
            ctx: ctx(st, &p, peer),
        })
    }
}

/// A result of a write job that may refuse without writing.
type Job<T> = Result<T, ApiError>;

// ---------------------------------------------------------------------------------------
// Members

async fn list_members(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let members = st
        .storage
        .read(|tx| {
            tx.members()?
                .iter()
                .map(|m| member_view(tx, m))
                .collect::<StorageResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(json!({ "members": members })))
}

#[derive(Deserialize)]
struct MemberReq {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preset: Option<Preset>,
    #[serde(default)]
    toggles: Option<PermissionSet>,
    #[serde(default)]
    templates: Option<Vec<Uuid>>,
}

async fn create_member(
    State(st): St,
    Managed { req, ctx }: Managed<MemberReq>,
) -> Result<Json<Value>, ApiError> {
    let name = valid_name(req.name.as_deref().unwrap_or_default())?;
    let (preset, toggles) = parse_toggles(&req.preset, &req.toggles);
    let templates = req.templates.unwrap_or_default();
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            if let Some(bad) = check_templates(tx, &templates)? {
                return Ok(Err(ApiError::bad_request(format!(
                    "unknown template {bad}"
                ))));
            }
            let m = MemberRow {
                id: Uuid::now_v7(),
                name,
                preset,
                toggles: serde_json::to_value(toggles).unwrap_or_default(),
                teams: tx.team()?.map(|t| t.id).into_iter().collect(),
                active: true,
                created_at: ctx.now,
            };
            tx.insert_member(&m)?;
            tx.set_member_templates(m.id, &templates)?;
            announce_member(tx, &m, ctx.now)?;
            let view = member_view(tx, &m)?;
            audit::record(
                tx,
                &ctx,
                kind::MEMBER_CREATED,
                json!({"member_id": m.id}),
                Value::Null,
                view.clone(),
            )?;
            Ok(Ok(view))
        })
        .await??;
    Ok(Json(json!({ "member": out })))
}

/// Tells every device a member's name and whether they are active (the team directory:
/// assignees, note authors, @mentions), without their permissions.
pub(crate) fn announce_member(
    tx: &mut dyn WriteTx,
    m: &MemberRow,
    now: Timestamp,
) -> StorageResult<u64> {
    tx.append_event(crate::storage::NewEvent {
        kind: crate::events::kind::MEMBER_DIRECTORY,
        conversation_id: None,
        audience: crate::storage::Audience::Everyone,
        also_member: None,
        payload: json!({ "member": { "id": m.id, "name": m.name, "active": m.active } }),
        created_at: now,
    })
}

async fn update_member(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<MemberReq>,
) -> Result<Json<Value>, ApiError> {
    let name = req.name.as_deref().map(valid_name).transpose()?;
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            let Some(mut m) = tx.member(id)? else {
                return Ok(Err(not_found("member")));
            };
            let before = member_view(tx, &m)?;
            let old_name = m.name.clone();
            if let Some(n) = name {
                m.name = n;
            }
            if req.preset.is_some() || req.toggles.is_some() {
                let (preset, toggles) = parse_toggles(&req.preset, &req.toggles);
                if m.active
                    && !toggles.contains(Permission::ManageTeam)
                    && !others_manage_team(tx, id)?
                {
                    return Ok(Err(conflict(
                        "last_admin",
                        "This is the only member who can manage the team; give that right to \
                         someone else first.",
                    )));
                }
                m.preset = preset;
                m.toggles = serde_json::to_value(toggles).unwrap_or_default();
            }
            if let Some(ids) = &req.templates {
                if let Some(bad) = check_templates(tx, ids)? {
                    return Ok(Err(ApiError::bad_request(format!(
                        "unknown template {bad}"
                    ))));
                }
                tx.set_member_templates(id, ids)?;
            }
            tx.update_member(&m)?;
            if m.name != old_name {
                announce_member(tx, &m, ctx.now)?;
            }
            let after = member_view(tx, &m)?;
            audit::record(
                tx,
                &ctx,
                kind::MEMBER_UPDATED,
                json!({"member_id": id}),
                before,
                after.clone(),
            )?;
            audit::me_changed(tx, id, None, "member_updated", ctx.now)?;
            Ok(Ok(after))
        })
        .await??;
    Ok(Json(json!({ "member": out })))
}

async fn deactivate_member(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Managed { req: _, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    if id == p.member.id {
        return Err(conflict(
            "cannot_deactivate_self",
            "You cannot deactivate yourself; ask another admin.",
        ));
    }
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            let Some(mut m) = tx.member(id)? else {
                return Ok(Err(not_found("member")));
            };
            let before = member_view(tx, &m)?;
            m.active = false;
            tx.update_member(&m)?;
            announce_member(tx, &m, ctx.now)?;
            let after = member_view(tx, &m)?;
            audit::record(
                tx,
                &ctx,
                kind::MEMBER_DEACTIVATED,
                json!({"member_id": id}),
                before,
                after.clone(),
            )?;
            audit::me_changed(tx, id, None, "member_deactivated", ctx.now)?;
            Ok(Ok(after))
        })
        .await??;
    Ok(Json(json!({ "member": out })))
}

#[derive(Deserialize)]
struct NewPin {
    new_pin: String,
    #[serde(default)]
    current_pin: Option<String>,
}

async fn reset_pin(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    let new_pin = req
        .get("new_pin")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("`new_pin` is required"))?
        .to_owned();
    let hash = hash_pin(&st, new_pin).await?;
    st.storage
        .write(move |tx| -> StorageResult<Job<()>> {
            if tx.member(id)?.is_none() {
                return Ok(Err(not_found("member")));
            }
            tx.put_pin(&PinRow {
                member_id: id,
                hash,
                failures: 0,
                locked_until: None,
            })?;
            audit::record(
                tx,
                &ctx,
                kind::MEMBER_PIN_RESET,
                json!({"member_id": id}),
                Value::Null,
                Value::Null,
            )?;
            Ok(Ok(()))
        })
        .await??;
    Ok(Json(json!({ "member_id": id, "pin_set": true })))
}

/// `PUT /v1/me/pin {new_pin, current_pin}`: a member sets (first time) or changes their
/// own PIN; changing needs the current one (it counts towards the lockout).
async fn set_own_pin(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if p.member.id.is_nil() || !p.member.active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signed_out",
            "Sign in first.",
        ));
    }
    let (req, _) = parse::<NewPin>(&body)?;
    let member_id = p.member.id;
    let existing = st.storage.read(move |tx| tx.pin(member_id)).await?;
    if existing.is_some() {
        check_pin(&st, &p, req.current_pin.as_deref(), &peer.ip().to_string()).await?;
    }
    let hash = hash_pin(&st, req.new_pin).await?;
    let ctx = ctx(&st, &p, peer);
    st.storage
        .write(move |tx| {
            tx.put_pin(&PinRow {
                member_id,
                hash,
                failures: 0,
                locked_until: None,
            })?;
            audit::record(
                tx,
                &ctx,
                kind::PIN_CHANGED,
                json!({"member_id": member_id}),
                Value::Null,
                Value::Null,
            )
        })
        .await?;
    Ok(Json(json!({ "member_id": member_id, "pin_set": true })))
}

// ---------------------------------------------------------------------------------------
// Groups

async fn list_groups(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let (groups, members) = st
        .storage
        .read(|tx| Ok((tx.groups()?, tx.members()?)))
        .await?;
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|g| {
            let ids: Vec<Uuid> = members
                .iter()
                .filter(|m| m.teams.contains(&g.id))
                .map(|m| m.id)
                .collect();
            json!({ "id": g.id, "name": g.name, "created_at": g.created_at, "members": ids })
        })
        .collect();
    Ok(Json(json!({ "groups": groups })))
}

#[derive(Deserialize)]
struct NameReq {
    #[serde(default)]
    name: String,
}

async fn create_group(
    State(st): St,
    Managed { req, ctx }: Managed<NameReq>,
) -> Result<Json<Value>, ApiError> {
    let name = valid_name(&req.name)?;
    let g = GroupRow {
        id: Uuid::now_v7(),
        name,
        created_at: ctx.now,
    };
    let out = g.clone();
    st.storage
        .write(move |tx| {
            tx.put_group(&g)?;
            audit::record(
                tx,
                &ctx,
                kind::GROUP_CREATED,
                json!({"group_id": g.id}),
                Value::Null,
                json!(g),
            )
        })
        .await?;
    Ok(Json(json!({ "group": out })))
}

async fn rename_group(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<NameReq>,
) -> Result<Json<Value>, ApiError> {
    let name = valid_name(&req.name)?;
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<GroupRow>> {
            let Some(before) = tx.group(id)? else {
                return Ok(Err(not_found("group")));
            };
            let after = GroupRow {
                name,
                ..before.clone()
            };
            tx.put_group(&after)?;
            audit::record(
                tx,
                &ctx,
                kind::GROUP_UPDATED,
                json!({"group_id": id}),
                json!(before),
                json!(after),
            )?;
            Ok(Ok(after))
        })
        .await??;
    Ok(Json(json!({ "group": out })))
}

async fn group_membership(
    st: &AppState,
    ctx: Ctx,
    (group_id, member_id): (Uuid, Uuid),
    add: bool,
) -> Result<Json<Value>, ApiError> {
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            if tx.group(group_id)?.is_none() {
                return Ok(Err(not_found("group")));
            }
            let Some(mut m) = tx.member(member_id)? else {
                return Ok(Err(not_found("member")));
            };
            let before = json!(m.teams);
            m.teams.retain(|t| *t != group_id);
            if add {
                m.teams.push(group_id);
            }
            tx.update_member(&m)?;
            let k = if add {
                kind::GROUP_MEMBER_ADDED
            } else {
                kind::GROUP_MEMBER_REMOVED
            };
            audit::record(
                tx,
                &ctx,
                k,
                json!({"group_id": group_id, "member_id": member_id}),
                before,
                json!(m.teams),
            )?;
            audit::me_changed(tx, member_id, None, "groups_changed", ctx.now)?;
            Ok(Ok(json!({ "member_id": member_id, "teams": m.teams })))
        })
        .await??;
    Ok(Json(out))
}

async fn add_to_group(
    State(st): St,
    Path((id, member_id)): Path<(Uuid, Uuid)>,
    Managed { req: _, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    group_membership(&st, ctx, (id, member_id), true).await
}

async fn remove_from_group(
    State(st): St,
    Path((id, member_id)): Path<(Uuid, Uuid)>,
    Managed { req: _, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    group_membership(&st, ctx, (id, member_id), false).await
}

// ---------------------------------------------------------------------------------------
// Devices

/// `GET /v1/devices` (ManageTeam): every device with its idle flag and signed-in member.
pub async fn list_devices(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let now = st.clock.now();
    let (devices, cap) = st
        .storage
        .read(move |tx| {
            let list = tx
                .devices()?
                .iter()
                .map(|d| device_view(tx, d, now))
                .collect::<StorageResult<Vec<_>>>()?;
            Ok((list, device_cap(tx)?))
        })
        .await?;
    Ok(Json(json!({ "devices": devices, "device_cap": cap })))
}

#[derive(Deserialize)]
struct DeviceReq {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    level: Option<DeviceLevel>,
}

async fn update_device(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<DeviceReq>,
) -> Result<Json<Value>, ApiError> {
    let name = req.name.as_deref().map(valid_name).transpose()?;
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            let Some(d) = tx.device(id)?.filter(|d| d.revoked_at.is_none()) else {
                return Ok(Err(not_found("linked device")));
            };
            let before = device_view(tx, &d, ctx.now)?;
            let name = name.unwrap_or_else(|| d.name.clone());
            let level = req
                .level
                .map(|l| authz::level_json(&l))
                .unwrap_or_else(|| d.level.clone());
            tx.update_device(id, &name, &level)?;
            let fresh = tx.device(id)?.unwrap_or(d);
            let after = device_view(tx, &fresh, ctx.now)?;
            audit::record(
                tx,
                &ctx,
                kind::DEVICE_UPDATED,
                json!({"device_id": id}),
                before,
                after.clone(),
            )?;
            if req.level.is_some() {
                let member = tx
                    .session(id)?
                    .map_or(Some(fresh.member_id), |s| s.member_id);
                for m in member
                    .into_iter()
                    .chain(std::iter::once(fresh.member_id))
                    .collect::<std::collections::BTreeSet<_>>()
                {
                    audit::me_changed(tx, m, Some(id), "device_level_changed", ctx.now)?;
                }
            }
            Ok(Ok(after))
        })
        .await??;
    Ok(Json(json!({ "device": out })))
}

/// Unlinks (revokes) a device with its audit event. `false` when unknown or already done.
pub fn unlink(tx: &mut dyn WriteTx, ctx: &Ctx, id: Uuid) -> StorageResult<bool> {
    let Some(d) = tx.device(id)? else {
        return Ok(false);
    };
    let before = device_view(tx, &d, ctx.now)?;
    if !crate::pairing::revoke_device(tx, id, ctx.actor_member_id, ctx.now)? {
        return Ok(false);
    }
    let after = tx
        .device(id)?
        .map(|d| device_view(tx, &d, ctx.now))
        .transpose()?;
    audit::record(
        tx,
        ctx,
        kind::DEVICE_UNLINKED,
        json!({"device_id": id}),
        before,
        json!(after),
    )?;
    Ok(true)
}

/// `POST /v1/devices/{id}/revoke` (ManageTeam + PIN).
pub async fn revoke(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Managed { req: _, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    let revoked = st.storage.write(move |tx| unlink(tx, &ctx, id)).await?;
    if !revoked {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No linked device has this id (it may already be unlinked).",
        ));
    }
    tracing::info!(device_id = %id, by = %p.member.id, "device unlinked");
    Ok(Json(json!({ "revoked": true, "device_id": id })))
}

/// Unlinks devices idle for 7 days when the admin enabled it; returns their ids.
pub async fn unlink_idle_now(st: &AppState) -> StorageResult<Vec<Uuid>> {
    let now = st.clock.now();
    st.storage
        .write(move |tx| {
            if !auto_unlink(tx)? {
                return Ok(Vec::new());
            }
            let ctx = Ctx {
                actor_member_id: None,
                device_id: None,
                address: None,
                now,
            };
            let mut out = Vec::new();
            for d in tx.devices()? {
                let last = d.last_seen.unwrap_or(d.linked_at);
                if d.revoked_at.is_none()
                    && now.duration_since(last) > AUTO_UNLINK_AFTER
                    && unlink(tx, &ctx, d.id)?
                {
                    out.push(d.id);
                }
            }
            Ok(out)
        })
        .await
}

/// The periodic auto-unlink task (every [`IDLE_SWEEP`]).
pub async fn idle_loop(st: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(IDLE_SWEEP) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match unlink_idle_now(&st).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(count = ids.len(), "idle devices unlinked")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "auto-unlink failed"),
        }
        if let Err(e) = audit::apply_retention(&st).await {
            tracing::warn!(error = %e, "audit retention failed");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Settings

async fn get_settings(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let (cap, auto) = st
        .storage
        .read(|tx| Ok((device_cap(tx)?, auto_unlink(tx)?)))
        .await?;
    Ok(Json(
        json!({ "device_cap": cap, "auto_unlink_idle": auto, "timezone": st.settings.timezone.iana_name() }),
    ))
}

#[derive(Deserialize)]
struct SettingsReq {
    #[serde(default)]
    device_cap: Option<u64>,
    #[serde(default)]
    auto_unlink_idle: Option<bool>,
}

async fn put_settings(
    State(st): St,
    Managed { req, ctx }: Managed<SettingsReq>,
) -> Result<Json<Value>, ApiError> {
    if req.device_cap.is_some_and(|c| !(1..=10_000).contains(&c)) {
        return Err(ApiError::bad_request("`device_cap` must be 1 to 10000"));
    }
    let out = st
        .storage
        .write(move |tx| {
            let before =
                json!({ "device_cap": device_cap(tx)?, "auto_unlink_idle": auto_unlink(tx)? });
            if let Some(c) = req.device_cap {
                tx.put_setting(SETTING_DEVICE_CAP, &json!(c))?;
            }
            if let Some(a) = req.auto_unlink_idle {
                tx.put_setting(SETTING_AUTO_UNLINK, &json!(a))?;
            }
            let after =
                json!({ "device_cap": device_cap(tx)?, "auto_unlink_idle": auto_unlink(tx)? });
            audit::record(
                tx,
                &ctx,
                kind::SETTINGS_UPDATED,
                json!("settings"),
                before,
                after.clone(),
            )?;
            Ok(after)
        })
        .await?;
    Ok(Json(out))
}

// ---------------------------------------------------------------------------------------
// Templates

fn template_view(t: &PermissionTemplate, members: Vec<Uuid>) -> Value {
    json!({
        "template": t,
        "summary": teamline_core::summary::template_summary(t),
        "members": members,
    })
}

async fn list_templates(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let out = st
        .storage
        .read(|tx| {
            tx.templates()?
                .iter()
                .map(|t| Ok(template_view(t, tx.template_members(t.id)?)))
                .collect::<StorageResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(json!({ "templates": out })))
}

#[derive(Deserialize)]
struct TemplateReq {
    #[serde(default)]
    name: String,
    #[serde(default)]
    deny: PermissionSet,
    #[serde(default)]
    windows: Vec<WindowRule>,
}

async fn create_template(
    State(st): St,
    Managed { req, ctx }: Managed<TemplateReq>,
) -> Result<Json<Value>, ApiError> {
    let t = PermissionTemplate {
        id: Uuid::now_v7(),
        name: valid_name(&req.name)?,
        deny: req.deny,
        windows: req.windows,
    };
    let out = template_view(&t, Vec::new());
    st.storage
        .write(move |tx| {
            tx.put_template(&t, ctx.now)?;
            audit::record(
                tx,
                &ctx,
                kind::TEMPLATE_CREATED,
                json!({"template_id": t.id}),
                Value::Null,
                json!(t),
            )
        })
        .await?;
    Ok(Json(out))
}

async fn update_template(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<TemplateReq>,
) -> Result<Json<Value>, ApiError> {
    let t = PermissionTemplate {
        id,
        name: valid_name(&req.name)?,
        deny: req.deny,
        windows: req.windows,
    };
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Job<Value>> {
            let Some(before) = tx.template(id)? else {
                return Ok(Err(not_found("template")));
            };
            tx.put_template(&t, ctx.now)?;
            let members = tx.template_members(id)?;
            audit::record(
                tx,
                &ctx,
                kind::TEMPLATE_UPDATED,
                json!({"template_id": id}),
                json!(before),
                json!(t),
            )?;
            for m in &members {
                audit::me_changed(tx, *m, None, "template_changed", ctx.now)?;
            }
            Ok(Ok(template_view(&t, members)))
        })
        .await??;
    Ok(Json(out))
}

async fn delete_template(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req: _, ctx }: Managed<Value>,
) -> Result<Json<Value>, ApiError> {
    st.storage
        .write(move |tx| -> StorageResult<Job<()>> {
            let Some(before) = tx.template(id)? else {
                return Ok(Err(not_found("template")));
            };
            let members = tx.template_members(id)?;
            tx.delete_template(id)?;
            audit::record(
                tx,
                &ctx,
                kind::TEMPLATE_DELETED,
                json!({"template_id": id}),
                json!(before),
                Value::Null,
            )?;
            for m in &members {
                audit::me_changed(tx, *m, None, "template_changed", ctx.now)?;
            }
            Ok(Ok(()))
        })
        .await??;
    Ok(Json(json!({ "deleted": true, "template_id": id })))
}

// ---------------------------------------------------------------------------------------
// Audit log

/// `GET /v1/team/audit` and `/export` filters; times are RFC 3339.
#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    before: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
    /// The acting member's id.
    #[serde(default)]
    member: Option<String>,
    /// The device's id.
    #[serde(default)]
    device: Option<String>,
    /// A kind prefix: `member` or `audit.member` match every `audit.member_*`.
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    /// `csv` or `json` (export only).
    #[serde(default)]
    format: Option<String>,
}

impl AuditQuery {
    fn filter(&self, limit: usize) -> Result<AuditFilter, ApiError> {
        let id = |name: &str, v: &Option<String>| -> Result<Option<Uuid>, ApiError> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<Uuid>()
                        .map_err(|_| ApiError::bad_request(format!("`{name}` must be an id")))
                })
                .transpose()
        };
        let time = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<Timestamp>().map_err(|_| {
                        ApiError::bad_request(format!(
                            "`{name}` must be an RFC 3339 time, like 2025-01-31T08:00:00Z"
                        ))
                    })
                })
                .transpose()
        };
        let action = self
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                if a.starts_with("audit.") {
                    a.to_owned()
                } else {
                    format!("audit.{a}")
                }
            });
        Ok(AuditFilter {
            before: self.before,
            limit,
            member: id("member", &self.member)?,
            device: id("device", &self.device)?,
            action,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }

    /// The filters as given, for the export's own audit entry.
    fn json(&self) -> Value {
        json!({
            "member": self.member, "device": self.device, "action": self.action,
            "from": self.from, "to": self.to, "before": self.before,
        })
    }
}

/// Query strings are parsed here (not by axum's `Query`), so a bad one answers with the
/// usual `{code, message}`.
fn audit_query(uri: &axum::http::Uri) -> Result<AuditQuery, ApiError> {
    Query::<AuditQuery>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// `GET /v1/team/audit?member=&device=&action=&from=&to=&before=&limit=` (ViewAuditLog):
/// `{entries: [AuditRow], next_before}`, newest first.
async fn list_audit(
    State(st): St,
    Extension(p): Extension<Principal>,
    uri: axum::http::Uri,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ViewAuditLog)?;
    let q = audit_query(&uri)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let filter = q.filter(limit)?;
    let rows = st
        .storage
        .read(move |tx| tx.audit_filtered(&filter))
        .await?;
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    Ok(Json(json!({ "entries": rows, "next_before": next })))
}

/// `GET /v1/team/audit/verify` (ViewAuditLog): the chain checked against the newest
/// checkpoint, see [`audit::Verification::json`].
async fn verify_audit(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ViewAuditLog)?;
    let v = st.storage.read(audit::verify).await?;
    if let Some(b) = v.report.first_broken {
        tracing::error!(
            seq = b.seq,
            code = b.reason.code(),
            "the audit log does not verify"
        );
    }
    Ok(Json(v.json()))
}

/// Most entries one export holds (the newest that match).
pub const EXPORT_MAX: usize = 100_000;

/// `GET /v1/team/audit/export?format=csv|json&<filters>` (ViewAuditLog and ExportHistory,
/// and the PIN in `x-teamline-pin`): the matching entries oldest first, as a download.
/// The export itself is logged (`audit.exported`).
async fn export_audit(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    authz::require(&p.actor, Permission::ViewAuditLog)?;
    let q = audit_query(&uri)?;
    let csv = match q.format.as_deref().unwrap_or("json") {
        "csv" => true,
        "json" => false,
        _ => return Err(ApiError::bad_request("`format` must be csv or json")),
    };
    let filter = q.filter(EXPORT_MAX)?;
    reverify(
        &st,
        &p,
        Permission::ExportHistory,
        pin_from(&headers, None).as_deref(),
        peer,
    )
    .await?;
    let (mut rows, names) = st
        .storage
        .read(move |tx| Ok((tx.audit_filtered(&filter)?, audit::Names::load(tx)?)))
        .await?;
    rows.reverse();
    let ctx = ctx(&st, &p, peer);
    let now = ctx.now;
    let (format, filters, count) = (if csv { "csv" } else { "json" }, q.json(), rows.len());
    let logged = filters.clone();
    st.storage
        .write(move |tx| {
            audit::record(
                tx,
                &ctx,
                kind::EXPORTED,
                json!({ "format": format }),
                Value::Null,
                json!({ "format": format, "filters": logged, "entries": count }),
            )
        })
        .await?;
    let stamp = now.strftime("%Y%m%d-%H%M%S");
    let (content_type, body) = if csv {
        ("text/csv; charset=utf-8", audit::to_csv(&rows, &names))
    } else {
        (
            "application/json",
            audit::to_json(&rows, &names, &filters, now).to_string(),
        )
    };
    let disposition = format!("attachment; filename=\"teamline-audit-{stamp}.{format}\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Shared devices

#[derive(Deserialize)]
struct SignInReq {
    member_id: Uuid,
    #[serde(default)]
    pin: String,
}

fn not_shared() -> ApiError {
    conflict(
        "not_shared",
        "This device is linked to one member; sign-in is for shared devices.",
    )
}

/// `POST /v1/session/sign-in {member_id, pin}` on a shared device: signs in or switches.
async fn sign_in(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (req, _) = parse::<SignInReq>(&body)?;
    let device_id = p.device.id;
    let member_id = req.member_id;
    let (session, member) = st
        .storage
        .read(move |tx| Ok((tx.session(device_id)?, tx.member(member_id)?)))
        .await?;
    let Some(session) = session else {
        return Err(not_shared());
    };
    let allowed = session
        .allowed
        .as_ref()
        .is_none_or(|a| a.contains(&member_id));
    let Some(member) = member.filter(|m| m.active && allowed) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "sign_in_refused",
            "This member cannot sign in on this device.",
        ));
    };
    // The PIN is checked for the member signing in, not the one signed in now.
    let as_member = Principal {
        member: member.clone(),
        ..p.clone()
    };
    check_pin(&st, &as_member, Some(&req.pin), &peer.ip().to_string()).await?;
    let mut ctx = ctx(&st, &as_member, peer);
    ctx.actor_member_id = Some(member_id);
    let previous = session.member_id;
    st.storage
        .write(move |tx| {
            tx.put_session(&SessionRow {
                member_id: Some(member_id),
                since: ctx.now,
                ..session
            })?;
            audit::record(
                tx,
                &ctx,
                kind::SESSION_SIGNED_IN,
                json!({"device_id": device_id}),
                json!({"member_id": previous}),
                json!({"member_id": member_id}),
            )?;
            for m in previous.into_iter().chain(std::iter::once(member_id)) {
                audit::me_changed(tx, m, Some(device_id), "session_changed", ctx.now)?;
            }
            Ok(())
        })
        .await?;
    Ok(Json(
        json!({ "device_id": device_id, "member_id": member_id, "name": member.name }),
    ))
}

/// `POST /v1/session/sign-out` on a shared device: back to "no member" (sees nothing).
async fn sign_out(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    let device_id = p.device.id;
    let ctx = ctx(&st, &p, peer);
    st.storage
        .write(move |tx| -> StorageResult<Job<()>> {
            let Some(session) = tx.session(device_id)? else {
                return Ok(Err(not_shared()));
            };
            let previous = session.member_id;
            tx.put_session(&SessionRow {
                member_id: None,
                since: ctx.now,
                ..session
            })?;
            audit::record(
                tx,
                &ctx,
                kind::SESSION_SIGNED_OUT,
                json!({"device_id": device_id}),
                json!({"member_id": previous}),
                json!({"member_id": null}),
            )?;
            if let Some(m) = previous {
                audit::me_changed(tx, m, Some(device_id), "session_changed", ctx.now)?;
            }
            Ok(Ok(()))
        })
        .await??;
    Ok(Json(json!({ "device_id": device_id, "member_id": null })))
}

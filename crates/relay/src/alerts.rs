//! Anomaly alerts and the permission advisor on the relay (issue 9).
//!
//! Detection runs inside the write transaction of the audited change: [`crate::audit::record`]
//! calls [`on_audit`], which maps the audit kind onto a core [`Fact`], queries the history the
//! rules need, runs [`anomaly::evaluate`] and stores each alert with an `alert.raised` event
//! for devices that may manage the team (their apps show a native notification). A periodic
//! task ([`tick`]) checks idle devices and runs the advisor daily at 04:00 team time.
//!
//! Audit kinds that count as a permission change: `audit.member_created`,
//! `audit.member_updated` when the preset, toggles or applied templates changed,
//! `audit.member_deactivated`, `audit.template_updated` when its deny list or windows changed,
//! `audit.template_deleted`, `audit.device_updated` when the level changed. A template that is
//! merely created changes nobody's permissions until it is applied (a member update).
//! Sign-ins and member switches: `audit.session_signed_in` (`before.member_id` null = sign-in,
//! else a switch). New devices: `audit.device_linked`. Failed pairing attempts:
//! [`kind::AUDIT_PAIRING_FAILED`], with the claimer's address in the audit context.
//!
//! Events (audience: devices with ManageTeam):
//! - `alert.raised` `{alert}` and `alert.acknowledged` `{alert}` (the list item shape)
//! - `advisor.updated` `{checked_at, advice}` when a team change changed the advice
//! - `advisor.checked` `{checked_at, advice}` after the daily check
//!
//! The team's time zone reaches the write transaction through the `alerts.timezone` setting,
//! written by [`start`] from the relay's configuration (the audit context carries no zone).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use teamline_core::advisor::{self, Advice, Fix, MemberAccess};
use teamline_core::anomaly::{self, ChangeKind, Fact, History, Rule, Thresholds};
use teamline_core::{Permission, PermissionSet};
use tokio::sync::watch;
use uuid::Uuid;

use crate::app::{ApiError, AppState, Principal, St};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::storage::alerts::{AlertQuery, AlertRow};
use crate::storage::{Audience, NewEvent, ReadTx, StorageResult, WriteTx};
use crate::team::Managed;

pub mod kind {
    pub const ALERT_RAISED: &str = "alert.raised";
    pub const ALERT_ACKNOWLEDGED: &str = "alert.acknowledged";
    pub const ADVISOR_UPDATED: &str = "advisor.updated";
    pub const ADVISOR_CHECKED: &str = "advisor.checked";
    pub const AUDIT_ALERT_ACKNOWLEDGED: &str = "audit.alert_acknowledged";
    pub const AUDIT_THRESHOLDS_UPDATED: &str = "audit.alert_thresholds_updated";
    /// Expected from the audit chain (issue 9): one failed pairing claim, recorded with the
    /// claimer's address as `ctx.address`.
    pub const AUDIT_PAIRING_FAILED: &str = "audit.pairing_failed";
}

const SETTING_TIMEZONE: &str = "alerts.timezone";
const SETTING_THRESHOLDS: &str = "alerts.thresholds";
const SETTING_DAILY_AT: &str = "alerts.advisor_daily_at";
const SETTING_ADVISOR_LAST: &str = "alerts.advisor_last";

const SIGNAL_PERMISSION_CHANGE: &str = "permission_change";
const SIGNAL_PAIRING_FAILURE: &str = "pairing_failure";

/// How often the periodic task runs.
pub const TICK: Duration = Duration::from_secs(60);
/// The daily advisor check, team time.
pub const ADVISOR_HOUR: i8 = 4;

// ---------------------------------------------------------------------------------------
// Settings read inside transactions

/// The team's zone as [`start`] stored it (UTC before the relay ever started).
pub fn team_tz(tx: &dyn ReadTx) -> StorageResult<TimeZone> {
    let name = tx.setting(SETTING_TIMEZONE)?;
    Ok(name
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|n| teamline_core::schedule::time_zone(n).ok())
        .unwrap_or(TimeZone::UTC))
}

/// The thresholds in force (the defaults until an admin sets them).
pub fn thresholds(tx: &dyn ReadTx) -> StorageResult<Thresholds> {
    Ok(match tx.setting(SETTING_THRESHOLDS)? {
        None => Thresholds::defaults(),
        Some(v) => serde_json::from_value(v).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored alert thresholds are unreadable; using defaults");
            Thresholds::defaults()
        }),
    })
}

// ---------------------------------------------------------------------------------------
// Detection

/// The audit hook: detects anomalies in the audited change and refreshes the advisor,
/// inside the change's own transaction (an error rolls the change back).
pub fn on_audit(
    tx: &mut dyn WriteTx,
    ctx: &Ctx,
    kind: &str,
    target: &Value,
    before: &Value,
    after: &Value,
) -> StorageResult<()> {
    if let Some(fact) = fact_of(tx, ctx, kind, target, before, after)? {
        detect(tx, &fact)?;
    }
    if changes_advice(kind) {
        refresh_advice(tx, ctx.now)?;
    }
    Ok(())
}

fn uuid_at(v: &Value, key: &str) -> Option<Uuid> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

fn differs(before: &Value, after: &Value, keys: &[&str]) -> bool {
    keys.iter().any(|k| before.get(k) != after.get(k))
}

fn member_name(tx: &dyn ReadTx, id: Option<Uuid>) -> StorageResult<Option<String>> {
    Ok(id
        .map(|id| tx.member(id))
        .transpose()?
        .flatten()
        .map(|m| m.name))
}

/// The core fact behind an audit entry, if any rule cares about it.
fn fact_of(
    tx: &dyn ReadTx,
    ctx: &Ctx,
    kind: &str,
    target: &Value,
    before: &Value,
    after: &Value,
) -> StorageResult<Option<Fact>> {
    use crate::audit::kind as k;
    let change = match kind {
        k::MEMBER_CREATED => Some(ChangeKind::MemberCreated),
        k::MEMBER_UPDATED if differs(before, after, &["preset", "permissions", "templates"]) => {
            Some(ChangeKind::MemberPermissions)
        }
        k::MEMBER_DEACTIVATED => Some(ChangeKind::MemberDeactivated),
        k::TEMPLATE_UPDATED if differs(before, after, &["deny", "windows"]) => {
            Some(ChangeKind::TemplateChanged)
        }
        k::TEMPLATE_DELETED => Some(ChangeKind::TemplateDeleted),
        k::DEVICE_UPDATED if differs(before, after, &["level"]) => Some(ChangeKind::DeviceLevel),
        _ => None,
    };
    if let Some(change) = change {
        let subject_id = ["member_id", "template_id", "device_id"]
            .iter()
            .find_map(|key| uuid_at(target, key));
        return Ok(Some(Fact::PermissionChange {
            at: ctx.now,
            change,
            subject_id,
            actor_member_id: ctx.actor_member_id,
            actor_name: member_name(tx, ctx.actor_member_id)?,
            device_id: ctx.device_id,
            address: ctx.address.clone(),
        }));
    }
    Ok(match kind {
        k::SESSION_SIGNED_IN => {
            let (Some(device_id), Some(member_id)) =
                (uuid_at(target, "device_id"), uuid_at(after, "member_id"))
            else {
                return Ok(None);
            };
            Some(Fact::SignIn {
                at: ctx.now,
                device_id,
                device_name: tx.device(device_id)?.map(|d| d.name),
                member_id,
                member_name: member_name(tx, Some(member_id))?,
                previous_member_id: uuid_at(before, "member_id"),
                address: ctx.address.clone(),
            })
        }
        k::DEVICE_LINKED => {
            let Some(d) = uuid_at(target, "device_id")
                .map(|id| tx.device(id))
                .transpose()?
                .flatten()
            else {
                return Ok(None);
            };
            Some(Fact::DeviceLinked {
                at: ctx.now,
                device_id: d.id,
                member_name: member_name(tx, Some(d.member_id))?,
                device_name: d.name,
                os: d.os,
                os_version: d.os_version,
                member_id: d.member_id,
                address: ctx.address.clone(),
            })
        }
        kind::AUDIT_PAIRING_FAILED => ctx.address.clone().map(|address| Fact::PairingFailed {
            at: ctx.now,
            address,
        }),
        _ => None,
    })
}

/// Runs the rules on `fact` with its history, records the fact for later bursts, and
/// raises what fired. Returns the raised alerts.
pub fn detect(tx: &mut dyn WriteTx, fact: &Fact) -> StorageResult<Vec<AlertRow>> {
    let tz = team_tz(tx)?;
    let t = thresholds(tx)?;
    let at = fact.at();
    let mut history = History::default();
    let since = |minutes: u32| {
        at.checked_sub(SignedDuration::from_mins(i64::from(minutes)))
            .unwrap_or(Timestamp::MIN)
    };
    let mut signal = None;
    match fact {
        Fact::PermissionChange {
            address: Some(a), ..
        } => {
            history.changes_from_address = tx.signals_since(
                SIGNAL_PERMISSION_CHANGE,
                a,
                since(t.permission_change_burst.window_minutes),
            )?;
            signal = Some((SIGNAL_PERMISSION_CHANGE, a.clone()));
        }
        Fact::PairingFailed { address, .. } => {
            history.pairing_failures_from_address = tx.signals_since(
                SIGNAL_PAIRING_FAILURE,
                address,
                since(t.pairing_failure_burst.window_minutes),
            )?;
            signal = Some((SIGNAL_PAIRING_FAILURE, address.clone()));
        }
        Fact::DeviceLinked { device_id, .. } => {
            history.known_os = tx
                .devices()?
                .into_iter()
                .filter(|d| d.id != *device_id)
                .map(|d| d.os)
                .collect();
        }
        _ => {}
    }
    for &rule in fact.rules() {
        if let Some(key) = fact.key(rule)
            && let Some(last) = tx.last_alert_at(rule.as_str(), &key)?
        {
            history.last_raised.insert(rule, last);
        }
    }
    let alerts = anomaly::evaluate(fact, &history, &t, &tz);
    if let Some((name, key)) = signal {
        tx.insert_signal(name, &key, at)?;
    }
    alerts.iter().map(|a| raise(tx, a)).collect()
}

fn raise(tx: &mut dyn WriteTx, a: &anomaly::Alert) -> StorageResult<AlertRow> {
    let row = AlertRow {
        id: Uuid::now_v7(),
        rule: a.rule.as_str().to_owned(),
        key: a.key.clone(),
        raised_at: a.raised_at,
        facts: json!({ "event": a.fact, "related_at": a.related_at }),
        params: json!(a.params),
        acknowledged_by: None,
        acknowledged_at: None,
        comment: None,
    };
    tx.insert_alert(&row)?;
    tx.append_event(NewEvent {
        kind: kind::ALERT_RAISED,
        conversation_id: None,
        audience: Audience::ManageTeam,
        also_member: None,
        payload: json!({ "alert": alert_view(&row) }),
        created_at: a.raised_at,
    })?;
    tracing::info!(alert_id = %row.id, rule = %row.rule, "alert raised");
    Ok(row)
}

/// An alert as routes and events show it: `{id, rule, raised_at, facts, params, summary,
/// acknowledged: {by, at, comment} | null}`.
pub fn alert_view(a: &AlertRow) -> Value {
    let params: BTreeMap<String, String> =
        serde_json::from_value(a.params.clone()).unwrap_or_default();
    let summary = a
        .rule
        .parse::<Rule>()
        .map(|r| anomaly::summary(r, &params))
        .unwrap_or_default();
    let acknowledged = match (a.acknowledged_by, a.acknowledged_at) {
        (Some(by), Some(at)) => json!({ "by": by, "at": at, "comment": a.comment }),
        _ => Value::Null,
    };
    json!({
        "id": a.id,
        "rule": a.rule,
        "raised_at": a.raised_at,
        "facts": a.facts,
        "params": a.params,
        "summary": summary,
        "acknowledged": acknowledged,
    })
}

// ---------------------------------------------------------------------------------------
// Advisor

fn changes_advice(kind: &str) -> bool {
    use crate::audit::kind as k;
    matches!(
        kind,
        k::MEMBER_CREATED
            | k::MEMBER_UPDATED
            | k::MEMBER_DEACTIVATED
            | k::TEMPLATE_CREATED
            | k::TEMPLATE_UPDATED
            | k::TEMPLATE_DELETED
            | k::DEVICE_LINKED
    )
}

/// The advisor's view of the team right now, with each advice as JSON (see
/// [`advice_view`]).
pub fn advice_now(tx: &dyn ReadTx) -> StorageResult<Vec<Value>> {
    let members = tx.members()?;
    let mut input = Vec::with_capacity(members.len());
    for m in &members {
        input.push(MemberAccess {
            id: m.id,
            name: m.name.clone(),
            active: m.active,
            toggles: authz::toggles_of(m).unwrap_or_default(),
            templates: tx.member_templates(m.id)?.iter().map(|t| t.id).collect(),
        });
    }
    let advice = advisor::advise(&input, &tx.templates()?);
    let toggles: BTreeMap<Uuid, PermissionSet> = input.iter().map(|m| (m.id, m.toggles)).collect();
    Ok(advice.iter().map(|a| advice_view(a, &toggles)).collect())
}

/// `{code, severity, member_ids, template_ids, permissions, params, summary, fixes}`; each
/// fix is core's `{"remove_toggles": {member_id, permissions}}` plus `request`: the
/// member-update call that applies it (`PATCH /v1/team/members/{id}` with the resulting
/// `toggles`; the caller adds the PIN like for any team change).
pub fn advice_view(a: &Advice, toggles: &BTreeMap<Uuid, PermissionSet>) -> Value {
    let fixes: Vec<Value> = a
        .fixes
        .iter()
        .map(|f| {
            let mut v = json!(f);
            let Fix::RemoveToggles {
                member_id,
                permissions,
            } = f;
            let now = toggles.get(member_id).copied().unwrap_or_default();
            v["request"] = json!({
                "method": "PATCH",
                "path": format!("/v1/team/members/{member_id}"),
                "body": { "toggles": now.difference(*permissions) },
            });
            v
        })
        .collect();
    json!({
        "code": a.code,
        "severity": a.severity,
        "member_ids": a.member_ids,
        "template_ids": a.template_ids,
        "permissions": a.permissions,
        "params": a.params,
        "summary": a.summary(),
        "fixes": fixes,
    })
}

/// Recomputes the advice after a team change; when it differs from the last one stored,
/// stores it and tells admins' devices (`advisor.updated`).
fn refresh_advice(tx: &mut dyn WriteTx, now: Timestamp) -> StorageResult<()> {
    let advice = Value::Array(advice_now(tx)?);
    let last = tx.setting(SETTING_ADVISOR_LAST)?;
    if last.as_ref().and_then(|l| l.get("advice")) == Some(&advice) {
        return Ok(());
    }
    let body = json!({ "checked_at": now, "advice": advice });
    tx.put_setting(SETTING_ADVISOR_LAST, &body)?;
    tx.append_event(NewEvent {
        kind: kind::ADVISOR_UPDATED,
        conversation_id: None,
        audience: Audience::ManageTeam,
        also_member: None,
        payload: body,
        created_at: now,
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Periodic task

/// What one [`tick`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    pub raised: Vec<AlertRow>,
    /// The daily advisor check ran (and sent `advisor.checked`).
    pub advisor_checked: bool,
}

/// Stores the team's zone for the write transactions and starts the periodic task (first
/// run one [`TICK`] after start; it ends when `stop` turns true).
pub async fn start(state: Arc<AppState>, stop: watch::Receiver<bool>) -> StorageResult<()> {
    let tz = &state.settings.timezone;
    let name = match tz.iana_name() {
        Some(n) => n.to_owned(),
        None => {
            tracing::warn!("the team time zone has no IANA name; alerts read times as UTC");
            "UTC".to_owned()
        }
    };
    let now = state.clock.now();
    state
        .storage
        .write(move |tx| {
            if tx
                .setting(SETTING_TIMEZONE)?
                .as_ref()
                .and_then(Value::as_str)
                != Some(&name)
            {
                tx.put_setting(SETTING_TIMEZONE, &json!(name))?;
            }
            // A fresh relay waits for the next 04:00 instead of checking at start-up.
            if tx.setting(SETTING_DAILY_AT)?.is_none() {
                tx.put_setting(SETTING_DAILY_AT, &json!(now))?;
            }
            Ok(())
        })
        .await?;
    tokio::spawn(run(state, stop));
    Ok(())
}

async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match tick(&state).await {
            Ok(r) if !r.raised.is_empty() || r.advisor_checked => {
                tracing::info!(
                    alerts = r.raised.len(),
                    advisor = r.advisor_checked,
                    "alert check"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alert check failed"),
        }
    }
}

/// One run of the periodic task at the clock's time: idle devices, old signals, and the
/// daily advisor check once 04:00 team time has passed since the last one.
pub async fn tick(st: &AppState) -> StorageResult<TickReport> {
    let now = st.clock.now();
    st.storage.write(move |tx| tick_at(tx, now)).await
}

/// [`tick`] inside a transaction.
pub fn tick_at(tx: &mut dyn WriteTx, now: Timestamp) -> StorageResult<TickReport> {
    let mut report = TickReport::default();
    for d in tx.devices()? {
        if d.revoked_at.is_some() {
            continue;
        }
        let fact = Fact::DeviceIdle {
            at: now,
            device_id: d.id,
            device_name: d.name.clone(),
            member_id: d.member_id,
            last_seen: d.last_seen.unwrap_or(d.linked_at),
        };
        report.raised.extend(detect(tx, &fact)?);
    }
    // Bursts look back at most a day.
    let keep = SignedDuration::from_mins(2 * i64::from(anomaly::MAX_WINDOW_MINUTES));
    tx.prune_signals(now.checked_sub(keep).unwrap_or(Timestamp::MIN))?;

    let tz = team_tz(tx)?;
    let due = tz
        .to_timestamp(tz.to_datetime(now).date().at(ADVISOR_HOUR, 0, 0, 0))
        .unwrap_or(now);
    let last: Option<Timestamp> = tx
        .setting(SETTING_DAILY_AT)?
        .and_then(|v| serde_json::from_value(v).ok());
    if now >= due && last.is_none_or(|l| l < due) {
        let advice = Value::Array(advice_now(tx)?);
        let body = json!({ "checked_at": now, "advice": advice });
        tx.put_setting(SETTING_DAILY_AT, &json!(now))?;
        tx.put_setting(SETTING_ADVISOR_LAST, &body)?;
        tx.append_event(NewEvent {
            kind: kind::ADVISOR_CHECKED,
            conversation_id: None,
            audience: Audience::ManageTeam,
            also_member: None,
            payload: body,
            created_at: now,
        })?;
        report.advisor_checked = true;
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// Routes

/// The alert and advisor routes, merged into the authenticated `/v1` router. All need
/// ManageTeam (the audience of `alert.raised` too, so a device never reads here what its
/// stream would not show); acknowledging and changing thresholds also need the PIN.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/team/alerts", get(list_alerts))
        .route(
            "/v1/team/alerts/thresholds",
            get(get_thresholds).put(put_thresholds),
        )
        .route("/v1/team/alerts/{id}/ack", post(acknowledge))
        .route("/v1/team/advisor", get(get_advice))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    open: Option<bool>,
    #[serde(default)]
    before: Option<Uuid>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /v1/team/alerts?open=true&before=<id>&limit=100` → `{alerts, next_before}`.
async fn list_alerts(
    State(st): St,
    Extension(p): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let query = AlertQuery {
        open_only: q.open.unwrap_or(false),
        before: q.before,
        limit,
    };
    let rows = st.storage.read(move |tx| tx.alerts(&query)).await?;
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let alerts: Vec<Value> = rows.iter().map(alert_view).collect();
    Ok(Json(json!({ "alerts": alerts, "next_before": next })))
}

#[derive(Deserialize)]
struct AckReq {
    #[serde(default)]
    comment: String,
}

/// Longest acknowledgement comment.
pub const MAX_COMMENT: usize = 2000;

/// `POST /v1/team/alerts/{id}/ack {comment}` (ManageTeam + PIN) → `{alert}`.
async fn acknowledge(
    State(st): St,
    Path(id): Path<Uuid>,
    Managed { req, ctx }: Managed<AckReq>,
) -> Result<Json<Value>, ApiError> {
    let comment = req.comment.trim().to_owned();
    if comment.is_empty() || comment.chars().count() > MAX_COMMENT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "comment_required",
            format!(
                "Say in a comment (1 to {MAX_COMMENT} characters) why this alert is fine or what was done about it."
            ),
        ));
    }
    let Some(by) = ctx.actor_member_id else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "signed_out",
            "Sign in first.",
        ));
    };
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Result<Value, ApiError>> {
            let Some(row) = tx.alert(id)? else {
                return Ok(Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "No alert has this id.",
                )));
            };
            if !tx.acknowledge_alert(id, by, ctx.now, &comment)? {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "already_acknowledged",
                    "This alert was already acknowledged.",
                )));
            }
            let after = tx.alert(id)?.unwrap_or(row.clone());
            let view = alert_view(&after);
            audit::record(
                tx,
                &ctx,
                kind::AUDIT_ALERT_ACKNOWLEDGED,
                json!({ "alert_id": id }),
                alert_view(&row),
                view.clone(),
            )?;
            tx.append_event(NewEvent {
                kind: kind::ALERT_ACKNOWLEDGED,
                conversation_id: None,
                audience: Audience::ManageTeam,
                also_member: None,
                payload: json!({ "alert": view }),
                created_at: ctx.now,
            })?;
            Ok(Ok(view))
        })
        .await??;
    Ok(Json(json!({ "alert": out })))
}

/// `GET /v1/team/alerts/thresholds` → `{thresholds}`.
async fn get_thresholds(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let t = st.storage.read(|tx| thresholds(tx)).await?;
    Ok(Json(json!({ "thresholds": t })))
}

#[derive(Deserialize)]
struct ThresholdsReq {
    thresholds: Value,
}

/// Deep-merges `patch` into `base` (objects key by key; anything else replaces).
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// `PUT /v1/team/alerts/thresholds {thresholds}` (ManageTeam + PIN) → `{thresholds}`. Fields
/// left out keep their current value; the result is validated as a whole.
async fn put_thresholds(
    State(st): St,
    Managed { req, ctx }: Managed<ThresholdsReq>,
) -> Result<Json<Value>, ApiError> {
    if !req.thresholds.is_object() {
        return Err(ApiError::bad_request("`thresholds` must be an object"));
    }
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Result<Value, ApiError>> {
            let before = json!(thresholds(tx)?);
            let mut merged = before.clone();
            merge(&mut merged, &req.thresholds);
            let t: Thresholds = match serde_json::from_value(merged) {
                Ok(t) => t,
                Err(e) => return Ok(Err(ApiError::bad_request(format!("thresholds: {e}")))),
            };
            if let Some(problem) = t.invalid() {
                return Ok(Err(ApiError::bad_request(problem)));
            }
            let after = json!(t);
            tx.put_setting(SETTING_THRESHOLDS, &after)?;
            audit::record(
                tx,
                &ctx,
                kind::AUDIT_THRESHOLDS_UPDATED,
                json!("alert_thresholds"),
                before,
                after.clone(),
            )?;
            Ok(Ok(after))
        })
        .await??;
    Ok(Json(json!({ "thresholds": out })))
}

/// `GET /v1/team/advisor` → `{advice, checked_at}` (computed now: always current).
async fn get_advice(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&p.actor, Permission::ManageTeam)?;
    let now = st.clock.now();
    let advice = st.storage.read(advice_now).await?;
    Ok(Json(json!({ "advice": advice, "checked_at": now })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_what_the_patch_leaves_out() {
        let mut base = json!({"a": {"x": 1, "y": 2}, "b": 3});
        merge(&mut base, &json!({"a": {"y": 5}, "c": 4}));
        assert_eq!(base, json!({"a": {"x": 1, "y": 5}, "b": 3, "c": 4}));
    }

    #[test]
    fn permission_change_kinds_need_a_real_change() {
        assert!(differs(
            &json!({"permissions": ["reply"]}),
            &json!({"permissions": []}),
            &["permissions"]
        ));
        assert!(!differs(
            &json!({"name": "a", "permissions": ["reply"]}),
            &json!({"name": "b", "permissions": ["reply"]}),
            &["preset", "permissions", "templates"]
        ));
    }
}

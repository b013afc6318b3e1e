//! Who is calling: a bearer device token → device → member → effective permissions, and
//! the JSON error shape of every `/v1` route (`{code, message, ...extra}`).
//!
//! Written for the command and media routes; the pairing/stream half of the relay can use
//! the same [`authenticate`] so permissions come from one place.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use teamline_core::access::{Actor, Denied};
use teamline_core::{DeviceLevel, PermissionSet};
use uuid::Uuid;

use crate::clock::Clock;
use crate::storage::{MemberRow, Storage, StorageError};

/// An error answer: status and the `{code, message, ...}` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "code": code, "message": message.into() }),
        }
    }

    /// Adds an extra field next to `code` and `message`.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// A refusal from core's access rules, with the HTTP status the contract gives it.
    pub fn denied(d: Denied) -> Self {
        let status = match d {
            Denied::Missing(_) | Denied::NotVisible | Denied::ReasonRequired => {
                StatusCode::FORBIDDEN
            }
            Denied::AssignedToOther { .. }
            | Denied::AlreadyAssigned { .. }
            | Denied::NotAssigned => StatusCode::CONFLICT,
        };
        let mut e = ApiError::new(status, d.code(), d.to_string());
        match d {
            Denied::AssignedToOther { assignee } | Denied::AlreadyAssigned { assignee } => {
                e = e.with("assignee", json!({ "id": assignee }));
            }
            Denied::Missing(p) => e = e.with("permission", json!(p.as_str())),
            _ => {}
        }
        e
    }

    pub fn storage(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage failure on a device route");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The relay cannot reach its database right now; try again shortly.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// The authenticated caller of a `/v1` route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub device_id: Uuid,
    pub member: MemberRow,
    pub actor: Actor,
}

/// The stored form of a device token: sha256 of its text.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Resolves the bearer token; effective permissions through core's one function.
pub async fn authenticate(
    storage: &Arc<dyn Storage>,
    clock: &Clock,
    tz: &TimeZone,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "This route needs the device's bearer token.",
            )
        })?;
    let hash = token_hash(token);
    let found = storage
        .read(move |tx| {
            let Some(device) = tx.device_by_token_hash(&hash)? else {
                return Ok(None);
            };
            let member = tx.member(device.member_id)?;
            Ok(Some((device, member)))
        })
        .await
        .map_err(ApiError::storage)?;
    let unlinked = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "device_unlinked",
            "This device is not linked to the team (or was unlinked).",
        )
    };
    let Some((device, Some(member))) = found else {
        return Err(unlinked());
    };
    if device.revoked_at.is_some() || !member.active {
        return Err(unlinked());
    }
    // Unreadable stored permissions grant nothing rather than failing open.
    let toggles: PermissionSet = serde_json::from_value(member.toggles.clone()).unwrap_or_default();
    let level: DeviceLevel = serde_json::from_value(device.level.clone())
        .unwrap_or(DeviceLevel::Custom(PermissionSet::EMPTY));
    let permissions = teamline_core::effective_permissions(toggles, &level, &[], clock.now(), tz);
    Ok(Caller {
        device_id: device.id,
        actor: Actor {
            member_id: member.id,
            teams: member.teams.clone(),
            permissions,
        },
        member,
    })
}

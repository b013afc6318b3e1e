//! Errors of the command and media routes: `{code, message, ...extra}` (the contract
//! needs extra fields, e.g. the assignee of a conversation someone else holds).

use crate::storage::StorageError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use teamline_core::access::Denied;

/// An error answer: status and the `{code, message, ...}` body.
#[derive(Debug, Clone)]
pub struct CommandError {
    pub status: StatusCode,
    pub body: Value,
}

impl CommandError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        CommandError {
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
        let mut e = CommandError::new(status, d.code(), d.to_string());
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
        CommandError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The relay cannot reach its database right now; try again shortly.",
        )
    }
}

impl IntoResponse for CommandError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

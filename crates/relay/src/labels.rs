//! The team's labels (issue 7): names with a colour, at most [`MAX_TEAM_LABELS`] per
//! team. Applying a label the team does not have yet creates it (members who may apply
//! labels may name a new one; it gets a colour from the palette); choosing colours and
//! deleting labels needs ManageLabels. Conversations keep label names, so a label is
//! matched by its lower-cased name and always applied under the team's spelling.
//!
//! Events, to every device: `label.saved` `{label: {name, colour}}` and `label.deleted`
//! `{name}` (the conversations that lost it also get `labels.changed`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use teamline_core::Permission;

use crate::app::{AppState, Principal};
use crate::authz;
use crate::command_error::CommandError;
use crate::commands::{MAX_LABEL_CHARS, command_kind};
use crate::storage::work::TeamLabelRow;
use crate::storage::{Audience, NewEvent, StorageResult, WriteTx};

/// Labels per team: enough for a small shop's workflow, few enough to stay readable.
pub const MAX_TEAM_LABELS: usize = 20;

/// Colours new labels get, in turn (readable as chip backgrounds in both themes).
const PALETTE: [&str; 8] = [
    "#0d9488", "#2563eb", "#7c3aed", "#db2777", "#ea580c", "#ca8a04", "#16a34a", "#475569",
];

pub mod kind {
    pub const LABEL_SAVED: &str = "label.saved";
    pub const LABEL_DELETED: &str = "label.deleted";
}

/// A label's identity: its lower-cased name.
pub fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn limit_reached() -> CommandError {
    CommandError::new(
        StatusCode::CONFLICT,
        "label_limit",
        format!("The team already has {MAX_TEAM_LABELS} labels; remove one first."),
    )
    .with("limit", json!(MAX_TEAM_LABELS))
}

fn valid_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())
}

fn saved_event(tx: &mut dyn WriteTx, l: &TeamLabelRow, now: Timestamp) -> StorageResult<u64> {
    tx.append_event(NewEvent {
        kind: kind::LABEL_SAVED,
        conversation_id: None,
        audience: Audience::Everyone,
        also_member: None,
        payload: json!({ "label": { "name": l.name, "colour": l.colour } }),
        created_at: now,
    })
}

/// The team's label called `name` (any case), created with `colour` (or the palette's
/// next) when the team has none yet, unless the team is at its limit.
pub fn ensure(
    tx: &mut dyn WriteTx,
    name: &str,
    colour: Option<&str>,
    now: Timestamp,
) -> StorageResult<Result<TeamLabelRow, CommandError>> {
    let name = name.trim();
    if let Some(existing) = tx.team_label(&key(name))? {
        return Ok(Ok(existing));
    }
    let count = tx.team_labels()?.len();
    if count >= MAX_TEAM_LABELS {
        return Ok(Err(limit_reached()));
    }
    let row = TeamLabelRow {
        key: key(name),
        name: name.to_owned(),
        colour: colour
            .map(str::to_owned)
            .unwrap_or_else(|| PALETTE[count % PALETTE.len()].to_owned()),
        created_at: now,
    };
    tx.put_team_label(&row)?;
    saved_event(tx, &row, now)?;
    Ok(Ok(row))
}

/// `GET /v1/labels` (any linked device), `POST /v1/labels` and `PATCH|DELETE
/// /v1/labels/{name}` (ManageLabels).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/labels", get(list).post(create))
        .route("/v1/labels/{name}", patch(update).delete(delete))
}

fn view(l: &TeamLabelRow) -> Value {
    json!({ "name": l.name, "colour": l.colour })
}

async fn list(State(st): State<Arc<AppState>>) -> Result<Json<Value>, CommandError> {
    let rows = st
        .storage
        .read(|tx| tx.team_labels())
        .await
        .map_err(CommandError::storage)?;
    let labels: Vec<Value> = rows.iter().map(view).collect();
    Ok(Json(json!({ "labels": labels, "limit": MAX_TEAM_LABELS })))
}

#[derive(Deserialize)]
struct NewLabel {
    name: String,
    colour: String,
}

#[derive(Deserialize)]
struct LabelChange {
    colour: String,
}

fn check(name: &str, colour: &str) -> Result<(), CommandError> {
    let n = name.trim().chars().count();
    if n == 0 || n > MAX_LABEL_CHARS {
        return Err(CommandError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("A label needs between 1 and {MAX_LABEL_CHARS} characters."),
        ));
    }
    if !valid_colour(colour) {
        return Err(CommandError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "A colour is written like #0d9488.",
        ));
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CommandError> {
    serde_json::from_slice(body).map_err(|e| {
        CommandError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The label is not valid JSON of the expected shape ({e})."),
        )
    })
}

async fn create(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), CommandError> {
    authz::require(&p.actor, Permission::ManageLabels).map_err(CommandError::denied)?;
    let req: NewLabel = parse(&body)?;
    check(&req.name, &req.colour)?;
    let now = st.clock.now();
    let row = st
        .storage
        .write(move |tx| {
            if tx.team_label(&key(&req.name))?.is_some() {
                return Ok(Err(CommandError::new(
                    StatusCode::CONFLICT,
                    "label_exists",
                    format!("The team already has a label called {:?}.", req.name.trim()),
                )));
            }
            ensure(tx, &req.name, Some(&req.colour), now)
        })
        .await
        .map_err(CommandError::storage)??;
    Ok((StatusCode::CREATED, Json(view(&row))))
}

fn unknown(name: &str) -> CommandError {
    CommandError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("The team has no label called {name:?}."),
    )
}

async fn update(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, CommandError> {
    authz::require(&p.actor, Permission::ManageLabels).map_err(CommandError::denied)?;
    let req: LabelChange = parse(&body)?;
    check(&name, &req.colour)?;
    let now = st.clock.now();
    let row = st
        .storage
        .write(move |tx| {
            let Some(mut row) = tx.team_label(&key(&name))? else {
                return Ok(Err(unknown(&name)));
            };
            if row.colour != req.colour {
                row.colour = req.colour;
                tx.put_team_label(&row)?;
                saved_event(tx, &row, now)?;
            }
            Ok(Ok(row))
        })
        .await
        .map_err(CommandError::storage)??;
    Ok(Json(view(&row)))
}

async fn delete(
    State(st): State<Arc<AppState>>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<Value>, CommandError> {
    authz::require(&p.actor, Permission::ManageLabels).map_err(CommandError::denied)?;
    let now = st.clock.now();
    let by = p.member.id;
    let removed = st
        .storage
        .write(move |tx| {
            let Some(row) = tx.team_label(&key(&name))? else {
                return Ok(Err(unknown(&name)));
            };
            let conversations = tx.delete_team_label(&row)?;
            for id in &conversations {
                let labels = tx.labels_of(*id)?;
                tx.append_event(NewEvent {
                    kind: command_kind::LABELS_CHANGED,
                    conversation_id: Some(*id),
                    audience: Audience::Conversation,
                    also_member: None,
                    payload: json!({
                        "conversation_id": id, "labels": labels, "removed": row.name, "by": by,
                    }),
                    created_at: now,
                })?;
            }
            tx.append_event(NewEvent {
                kind: kind::LABEL_DELETED,
                conversation_id: None,
                audience: Audience::Everyone,
                also_member: None,
                payload: json!({ "name": row.name }),
                created_at: now,
            })?;
            Ok(Ok(
                json!({ "deleted": row.name, "conversations": conversations.len() }),
            ))
        })
        .await
        .map_err(CommandError::storage)??;
    Ok(Json(removed))
}

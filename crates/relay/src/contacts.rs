//! Contacts (issue 7): the list, one contact with its conversations, edits, typed
//! attributes and CSV import with a dry run.
//!
//! Reading needs ViewContacts, changing needs EditContacts, on every route. Changes reach
//! devices that may view contacts (`Audience::Contacts`): one `contact.updated` per edit,
//! and an import's changed contacts in `contacts.imported` pages of [`IMPORT_EVENT_PAGE`]
//! contacts, so 5,000 rows are 10 events, not 5,000, and no single event is huge.
//!
//! The client parses the CSV file (it has it) and sends rows with raw cell text; the relay
//! is the authority on what is valid: numbers (WhatsApp ids: 7 to 15 digits, no leading
//! 0, after dropping `+`, spaces, dashes, dots and brackets), duplicates inside the file,
//! attribute keys the team defined and values of the attribute's type.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use teamline_core::Permission;
use teamline_core::access::Actor;
use uuid::Uuid;

use crate::app::{ApiError, AppState, Principal, St};
use crate::audit::{self, Ctx};
use crate::authz;
use crate::storage::contacts::{
    AttributeDef, AttributeOp, AttributeType, ContactQuery, ContactRecord,
};
use crate::storage::{Audience, NewEvent, StorageResult};

pub mod kind {
    /// `{wa_id, name, conversation_id, contact}`: one contact edited by a member.
    pub const CONTACT_UPDATED: &str = crate::events::kind::CONTACT_UPDATED;
    /// `{import_id, page, pages, contacts: [contact]}`: one page of an import's changes.
    pub const CONTACTS_IMPORTED: &str = "contacts.imported";
    /// `{attribute}`: a new attribute the team keeps on contacts.
    pub const ATTRIBUTE_CREATED: &str = "contacts.attribute_created";
    /// Audit: `target {import_id}`, `after {rows, created, updated, unchanged, rejected}`.
    pub const AUDIT_CONTACTS_IMPORTED: &str = "audit.contacts_imported";
}

/// Most rows one import request may carry.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Largest import request body (rows as JSON; a 10,000-row CSV is well under this).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// Contacts per `contacts.imported` event.
pub const IMPORT_EVENT_PAGE: usize = 500;
/// Longest display name, in characters.
pub const MAX_NAME: usize = 200;
/// Longest text attribute value, in characters.
pub const MAX_TEXT_VALUE: usize = 500;
/// Most attributes a team defines.
pub const MAX_ATTRIBUTE_DEFS: usize = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/contacts", get(list))
        .route(
            "/v1/contacts/attributes",
            get(list_attributes).post(create_attribute),
        )
        .route(
            "/v1/contacts/import",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/v1/contacts/{wa_id}", get(detail).patch(update))
        .route(
            "/v1/contacts/{wa_id}/attributes",
            get(get_attributes).put(put_attributes),
        )
}

fn actor(st: &AppState, p: &Principal) -> Actor {
    p.actor_at(st.clock.now(), &st.settings.timezone)
}

/// The wire form of a contact.
pub fn view(c: &ContactRecord) -> Value {
    json!({
        "wa_id": c.wa_id,
        "name": c.name(),
        "profile_name": c.profile_name,
        "display_name": c.display_name,
        "attributes": c.attributes,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// Normalizes a phone number to a WhatsApp id (digits with country code), or `None`.
pub fn normalize_number(raw: &str) -> Option<String> {
    let mut digits = String::with_capacity(raw.len());
    for (i, ch) in raw.trim().chars().enumerate() {
        match ch {
            '0'..='9' => digits.push(ch),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let ok = (7..=15).contains(&digits.len()) && !digits.starts_with('0');
    ok.then_some(digits)
}

/// Whether `key` may name an attribute: `[a-z0-9_]`, 1 to 40, starting with a letter.
pub fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A value given for an attribute as the attribute's type: typed JSON as is, or text as a
/// CSV cell holds it (`1200.50`, `1 200`, `yes`/`да`/`是`). `Err` is a reason code.
pub fn coerce(kind: AttributeType, v: &Value) -> Result<Value, &'static str> {
    match (kind, v) {
        (AttributeType::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
            Ok(v.clone())
        }
        (AttributeType::Boolean, Value::Bool(_)) => Ok(v.clone()),
        (AttributeType::Text, Value::String(s)) => {
            if s.chars().count() > MAX_TEXT_VALUE {
                Err("value_too_long")
            } else {
                Ok(Value::String(s.trim().to_owned()))
            }
        }
        (AttributeType::Number, Value::String(s)) => {
            let cleaned: String = s
                .trim()
                .chars()
                .filter(|c| !matches!(c, ' ' | '\u{a0}' | '_'))
                .collect();
            match cleaned.parse::<f64>() {
                Ok(f) if f.is_finite() && !cleaned.is_empty() => {
                    if f.fract() == 0.0 && f.abs() < 9.0e15 {
                        Ok(json!(f as i64))
                    } else {
                        Ok(json!(f))
                    }
                }
                _ => Err("invalid_number_value"),
            }
        }
        (AttributeType::Boolean, Value::String(s)) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "да" | "是" | "x" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" | "нет" | "否" => Ok(Value::Bool(false)),
            _ => Err("invalid_boolean_value"),
        },
        (AttributeType::Number, _) => Err("invalid_number_value"),
        (AttributeType::Boolean, _) => Err("invalid_boolean_value"),
        (AttributeType::Text, _) => Err("invalid_text_value"),
    }
}

// ---------------------------------------------------------------------------------------
// Reads

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    attr: Option<String>,
    #[serde(default)]
    op: Option<AttributeOp>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    offset: Option<usize>,
    #[serde(default)]
    limit: Option<usize>,
}

/// `GET /v1/contacts?q=&attr=&op=&value=&offset=&limit=` (ViewContacts) →
/// `{contacts, next_offset}`. `attr`/`op`/`value` filter by one attribute
/// (`attr=monthly_spend_usd&op=gt&value=500`, `attr=vip&value=true`).
async fn list(
    State(st): St,
    Extension(p): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::ViewContacts)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let offset = q.offset.unwrap_or(0);
    let attr = q.attr.filter(|a| !a.is_empty());
    let text = q.q;
    let op = q.op.unwrap_or(AttributeOp::Eq);
    let value = q.value;
    let rows = st
        .storage
        .read(move |tx| -> StorageResult<Result<_, ApiError>> {
            let attribute = match attr {
                None => None,
                Some(key) => {
                    let defs = tx.attribute_defs()?;
                    let Some(def) = defs.iter().find(|d| d.key == key) else {
                        return Ok(Err(unknown_attribute(&key)));
                    };
                    let raw = Value::String(value.unwrap_or_default());
                    match coerce(def.kind, &raw) {
                        Ok(v) => Some((key, op, v)),
                        Err(code) => {
                            return Ok(Err(ApiError::new(
                                StatusCode::BAD_REQUEST,
                                code,
                                format!("`value` is not a valid {} value", def.kind.as_str()),
                            )));
                        }
                    }
                }
            };
            let query = ContactQuery {
                text,
                attribute,
                offset,
                limit,
            };
            Ok(Ok(tx.contact_records(&query)?))
        })
        .await??;
    let next = (rows.len() == limit).then_some(offset + limit);
    let contacts: Vec<Value> = rows.iter().map(view).collect();
    Ok(Json(json!({ "contacts": contacts, "next_offset": next })))
}

/// Shows the team's name on the customer's conversation: the row (what conversation lists
/// and events carry) and a `conversation.renamed` to whoever sees it, also devices without
/// ViewContacts (they get no contact events but show the conversation's name).
pub fn rename_conversation(
    tx: &mut dyn crate::storage::WriteTx,
    c: &ContactRecord,
    now: jiff::Timestamp,
) -> StorageResult<()> {
    let shown = c.name().map(str::to_owned);
    let Some(mut conv) = tx.conversation_by_customer(&c.wa_id)? else {
        return Ok(());
    };
    if shown.is_none() || conv.name == shown {
        return Ok(());
    }
    conv.name = shown.clone();
    tx.update_conversation(&conv)?;
    tx.append_event(NewEvent {
        kind: crate::events::kind::CONVERSATION_RENAMED,
        conversation_id: Some(conv.id),
        audience: Audience::Conversation,
        also_member: None,
        payload: json!({ "conversation_id": conv.id, "name": shown }),
        created_at: now,
    })?;
    Ok(())
}

fn unknown_attribute(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "unknown_attribute",
        format!("No contact attribute is called {key:?}; add it first."),
    )
}

fn contact_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "contact_not_found",
        "No contact has this number.",
    )
}

/// `GET /v1/contacts/{wa_id}` (ViewContacts) → `{contact, conversations}`; conversations
/// are only those this device may see.
async fn detail(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(wa_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let actor = actor(&st, &p);
    authz::require(&actor, Permission::ViewContacts)?;
    let (contact, conversation) = st
        .storage
        .read(move |tx| {
            Ok((
                tx.contact_record(&wa_id)?,
                tx.conversation_by_customer(&wa_id)?,
            ))
        })
        .await?;
    let Some(contact) = contact else {
        return Err(contact_not_found());
    };
    let conversations: Vec<Value> = conversation
        .into_iter()
        .filter(|c| authz::can_view(&actor, &authz::access_of(c)))
        .map(|c| json!(c))
        .collect();
    Ok(Json(
        json!({ "contact": view(&contact), "conversations": conversations }),
    ))
}

/// `GET /v1/contacts/attributes` (ViewContacts) → `{attributes: [{key, type, created_at}]}`.
async fn list_attributes(
    State(st): St,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::ViewContacts)?;
    let defs = st.storage.read(|tx| tx.attribute_defs()).await?;
    Ok(Json(json!({ "attributes": defs })))
}

// ---------------------------------------------------------------------------------------
// Changes

fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))
}

#[derive(Deserialize)]
struct NewAttribute {
    key: String,
    #[serde(rename = "type")]
    kind: AttributeType,
}

/// `POST /v1/contacts/attributes {key, type}` (EditContacts) → `{attribute}`.
async fn create_attribute(
    State(st): St,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::EditContacts)?;
    let req: NewAttribute = parse_body(&body)?;
    if !valid_key(&req.key) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_attribute_key",
            "An attribute key is 1 to 40 characters: lowercase letters, digits and _ , starting with a letter.",
        ));
    }
    let def = AttributeDef {
        key: req.key,
        kind: req.kind,
        created_at: st.clock.now(),
    };
    let out = st
        .storage
        .write(move |tx| -> StorageResult<Result<Value, ApiError>> {
            if tx.attribute_defs()?.len() >= MAX_ATTRIBUTE_DEFS {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "attribute_limit",
                    format!("A team keeps at most {MAX_ATTRIBUTE_DEFS} contact attributes."),
                )));
            }
            if !tx.insert_attribute_def(&def)? {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "attribute_exists",
                    "An attribute with this key exists already.",
                )));
            }
            tx.append_event(NewEvent {
                kind: kind::ATTRIBUTE_CREATED,
                conversation_id: None,
                audience: Audience::Contacts,
                also_member: None,
                payload: json!({ "attribute": def }),
                created_at: def.created_at,
            })?;
            Ok(Ok(json!(def)))
        })
        .await??;
    Ok(Json(json!({ "attribute": out })))
}

#[derive(Deserialize)]
struct UpdateReq {
    /// The team's name; `null` or empty clears it (the profile name shows again).
    #[serde(default, with = "double_option")]
    name: Option<Option<String>>,
    /// Attribute values to set; `null` removes one. Keys left out keep their value.
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// Tells "absent" (keep) from `null` (clear).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// How an edit treats the attributes it does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttributeEdit {
    /// PATCH: keys left out keep their value; `null` or empty text removes one.
    Merge,
    /// PUT: the given attributes become the whole set.
    Replace,
}

/// Applies `given` to `current` as typed by `defs`; `Err` names the first bad key.
fn apply_attributes(
    defs: &[AttributeDef],
    current: &mut Map<String, Value>,
    given: &Map<String, Value>,
    mode: AttributeEdit,
) -> Result<(), ApiError> {
    let mut next = match mode {
        AttributeEdit::Merge => current.clone(),
        AttributeEdit::Replace => Map::new(),
    };
    for (key, value) in given {
        let Some(def) = defs.iter().find(|d| &d.key == key) else {
            return Err(unknown_attribute(key));
        };
        if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
            next.remove(key);
            continue;
        }
        match coerce(def.kind, value) {
            Ok(v) => {
                next.insert(key.clone(), v);
            }
            Err(code) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    code,
                    format!("{key:?} takes a {} value", def.kind.as_str()),
                ));
            }
        }
    }
    *current = next;
    Ok(())
}

/// One member's edit of one contact, written with its `contact.updated` event. `create`:
/// a number the relay has not seen yet gets a contact (attributes set ahead of the first
/// message, e.g. from a shop system); otherwise it is `contact_not_found`.
async fn edit_contact(
    st: &AppState,
    wa_id: String,
    name: Option<Option<String>>,
    attributes: Map<String, Value>,
    mode: AttributeEdit,
    create: bool,
) -> Result<ContactRecord, ApiError> {
    let now = st.clock.now();
    st.storage
        .write(
            move |tx| -> StorageResult<Result<ContactRecord, ApiError>> {
                let mut c = match tx.contact_record(&wa_id)? {
                    Some(c) => c,
                    None if create => ContactRecord {
                        wa_id: wa_id.clone(),
                        profile_name: None,
                        display_name: None,
                        attributes: Map::new(),
                        created_at: now,
                        updated_at: now,
                    },
                    None => return Ok(Err(contact_not_found())),
                };
                let defs = tx.attribute_defs()?;
                if let Err(e) = apply_attributes(&defs, &mut c.attributes, &attributes, mode) {
                    return Ok(Err(e));
                }
                if let Some(n) = name {
                    c.display_name = n;
                }
                c.updated_at = now;
                tx.put_contact_record(&c)?;
                let conversation_id = tx.conversation_by_customer(&c.wa_id)?.map(|x| x.id);
                tx.append_event(NewEvent {
                    kind: kind::CONTACT_UPDATED,
                    conversation_id: None,
                    audience: Audience::Contacts,
                    also_member: None,
                    payload: json!({
                        "wa_id": c.wa_id,
                        "name": c.name(),
                        "conversation_id": conversation_id,
                        "contact": view(&c),
                    }),
                    created_at: now,
                })?;
                rename_conversation(tx, &c, now)?;
                Ok(Ok(c))
            },
        )
        .await?
}

/// `PATCH /v1/contacts/{wa_id} {name?, attributes?}` (EditContacts) → `{contact}`.
async fn update(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(wa_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::EditContacts)?;
    let req: UpdateReq = parse_body(&body)?;
    let name = match req.name {
        None => None,
        Some(n) => {
            let n = n.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            if n.as_ref().is_some_and(|s| s.chars().count() > MAX_NAME) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "name_too_long",
                    format!("A contact name is at most {MAX_NAME} characters."),
                ));
            }
            Some(n)
        }
    };
    let c = edit_contact(
        &st,
        wa_id,
        name,
        req.attributes,
        AttributeEdit::Merge,
        false,
    )
    .await?;
    Ok(Json(json!({ "contact": view(&c) })))
}

/// Whether `wa_id` can name a contact in a path (digits only).
fn check_wa_id(wa_id: &str) -> Result<(), ApiError> {
    if wa_id.is_empty() || wa_id.len() > 32 || !wa_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::bad_request("The WhatsApp id must be digits."));
    }
    Ok(())
}

/// `GET /v1/contacts/{wa_id}/attributes` (ViewContacts) → `{wa_id, attributes}`: what
/// automation rules see of this customer (empty for a number the relay does not know).
async fn get_attributes(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(wa_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::ViewContacts)?;
    let id = wa_id.clone();
    let attributes = st
        .storage
        .read(move |tx| tx.contact_attributes(&id))
        .await?;
    Ok(Json(json!({ "wa_id": wa_id, "attributes": attributes })))
}

#[derive(Deserialize)]
struct AttributesReq {
    attributes: Map<String, Value>,
}

/// `PUT /v1/contacts/{wa_id}/attributes {attributes}` (EditContacts) → `{wa_id,
/// attributes}`: replaces the whole set (keys must be defined attributes, values of their
/// type); creates the contact when the number is new. Announced like a PATCH.
async fn put_attributes(
    State(st): St,
    Extension(p): Extension<Principal>,
    Path(wa_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::EditContacts)?;
    let req: AttributesReq = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "`attributes` must map names to a number, text or true/false: {e}"
        ))
    })?;
    check_wa_id(&wa_id)?;
    let c = edit_contact(
        &st,
        wa_id,
        None,
        req.attributes,
        AttributeEdit::Replace,
        true,
    )
    .await?;
    Ok(Json(
        json!({ "wa_id": c.wa_id, "attributes": c.attributes }),
    ))
}

// ---------------------------------------------------------------------------------------
// Import

/// One CSV row as the client parsed it.
#[derive(Debug, Deserialize)]
pub struct ImportRow {
    /// The row's line number in the file (for messages).
    pub row: u32,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub number: String,
    /// Column name → raw cell text (empty cells leave the attribute unchanged).
    #[serde(default)]
    pub attributes: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct ImportReq {
    rows: Vec<ImportRow>,
    #[serde(default)]
    dry_run: bool,
}

/// Why one row cannot be imported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowError {
    pub code: &'static str,
    /// The column at fault (`number`, `name` or an attribute key).
    pub field: String,
    /// For `duplicate_number`: the earlier row with the same number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_row: Option<u32>,
}

/// One row's outcome: `create`, `update`, `unchanged` or `error`.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub row: u32,
    pub wa_id: Option<String>,
    pub name: Option<String>,
    pub attributes: Map<String, Value>,
    pub status: &'static str,
    pub errors: Vec<RowError>,
}

/// What validation makes of a row, before looking at the stored contacts.
struct Checked {
    wa_id: String,
    name: Option<String>,
    attributes: Map<String, Value>,
}

/// A row refused by validation: its normalized number (if any) and why.
type Refused = (Option<String>, Vec<RowError>);

/// Validates every row (no storage writes); `Ok` rows are ready to apply.
fn check_rows(rows: &[ImportRow], defs: &[AttributeDef]) -> Vec<(u32, Result<Checked, Refused>)> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    rows.iter()
        .map(|r| {
            let mut errors = Vec::new();
            let number = r.number.trim();
            let wa_id = if number.is_empty() {
                errors.push(RowError {
                    code: "missing_number",
                    field: "number".into(),
                    first_row: None,
                });
                None
            } else if let Some(w) = normalize_number(number) {
                if let Some(first) = seen.get(&w) {
                    errors.push(RowError {
                        code: "duplicate_number",
                        field: "number".into(),
                        first_row: Some(*first),
                    });
                } else {
                    seen.insert(w.clone(), r.row);
                }
                Some(w)
            } else {
                errors.push(RowError {
                    code: "invalid_number",
                    field: "number".into(),
                    first_row: None,
                });
                None
            };
            let name = Some(r.name.trim().to_owned()).filter(|n| !n.is_empty());
            if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
                errors.push(RowError {
                    code: "name_too_long",
                    field: "name".into(),
                    first_row: None,
                });
            }
            let mut attributes = Map::new();
            let mut keys: Vec<&String> = r.attributes.keys().collect();
            keys.sort();
            for key in keys {
                let raw = r.attributes[key].trim();
                if raw.is_empty() {
                    continue;
                }
                let Some(def) = defs.iter().find(|d| &d.key == key) else {
                    errors.push(RowError {
                        code: "unknown_attribute",
                        field: key.clone(),
                        first_row: None,
                    });
                    continue;
                };
                match coerce(def.kind, &Value::String(raw.to_owned())) {
                    Ok(v) => {
                        attributes.insert(key.clone(), v);
                    }
                    Err(code) => errors.push(RowError {
                        code,
                        field: key.clone(),
                        first_row: None,
                    }),
                }
            }
            match (wa_id, errors.is_empty()) {
                (Some(wa_id), true) => (
                    r.row,
                    Ok(Checked {
                        wa_id,
                        name,
                        attributes,
                    }),
                ),
                (wa_id, _) => (r.row, Err((wa_id, errors))),
            }
        })
        .collect()
}

/// Counts of an import (also what the audit entry records: counts, never contact data).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ImportCounts {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
}

/// `POST /v1/contacts/import {rows, dry_run}` (EditContacts) →
/// `{import_id, dry_run, counts, rows: [RowResult]}`. Without `dry_run`, every valid row
/// is written in one transaction; invalid rows are reported and skipped.
async fn import(
    State(st): St,
    Extension(p): Extension<Principal>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    authz::require(&actor(&st, &p), Permission::EditContacts)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "import_too_large",
                format!(
                    "This import is over {} MB; split the file and import the parts one by one.",
                    MAX_IMPORT_BYTES / (1024 * 1024)
                ),
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let req: ImportReq = parse_body(&body)?;
    if req.rows.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_rows",
            format!(
                "An import takes at most {MAX_IMPORT_ROWS} rows; this one has {}. Split the file.",
                req.rows.len()
            ),
        ));
    }
    if req.rows.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_import",
            "The file has no rows to import.",
        ));
    }
    let ctx = Ctx {
        actor_member_id: (!p.member.id.is_nil()).then_some(p.member.id),
        device_id: Some(p.device.id),
        address: Some(peer.ip().to_string()),
        now: st.clock.now(),
    };
    let import_id = Uuid::now_v7();
    let dry_run = req.dry_run;
    let rows = req.rows;
    // Validation that needs no storage runs here, off the single writer.
    let defs = st.storage.read(|tx| tx.attribute_defs()).await?;
    let checked = check_rows(&rows, &defs);
    drop(rows);
    let run = move |tx: &mut dyn crate::storage::WriteTx| -> StorageResult<(ImportCounts, Vec<RowResult>)> {
        let now = ctx.now;
        let mut counts = ImportCounts {
            rows: checked.len(),
            ..ImportCounts::default()
        };
        let mut results = Vec::with_capacity(checked.len());
        let mut changed: Vec<Value> = Vec::new();
        for (row, outcome) in checked {
            match outcome {
                Err((wa_id, errors)) => {
                    counts.rejected += 1;
                    results.push(RowResult {
                        row,
                        wa_id,
                        name: None,
                        attributes: Map::new(),
                        status: "error",
                        errors,
                    });
                }
                Ok(c) => {
                    let existing = tx.contact_record(&c.wa_id)?;
                    let mut next = existing.clone().unwrap_or(ContactRecord {
                        wa_id: c.wa_id.clone(),
                        profile_name: None,
                        display_name: None,
                        attributes: Map::new(),
                        created_at: now,
                        updated_at: now,
                    });
                    if c.name.is_some() {
                        next.display_name = c.name.clone();
                    }
                    for (k, v) in &c.attributes {
                        next.attributes.insert(k.clone(), v.clone());
                    }
                    let status = match &existing {
                        None => "create",
                        Some(e)
                            if e.display_name == next.display_name
                                && e.attributes == next.attributes =>
                        {
                            "unchanged"
                        }
                        Some(_) => "update",
                    };
                    match status {
                        "create" => counts.created += 1,
                        "update" => counts.updated += 1,
                        _ => counts.unchanged += 1,
                    }
                    if status != "unchanged" && !dry_run {
                        next.updated_at = now;
                        tx.put_contact_record(&next)?;
                        rename_conversation(tx, &next, now)?;
                        changed.push(view(&next));
                    }
                    results.push(RowResult {
                        row,
                        wa_id: Some(c.wa_id),
                        name: next.name().map(str::to_owned),
                        attributes: c.attributes,
                        status,
                        errors: Vec::new(),
                    });
                }
            }
        }
        if !dry_run {
            let pages = changed.len().div_ceil(IMPORT_EVENT_PAGE);
            for (i, page) in changed.chunks(IMPORT_EVENT_PAGE).enumerate() {
                tx.append_event(NewEvent {
                    kind: kind::CONTACTS_IMPORTED,
                    conversation_id: None,
                    audience: Audience::Contacts,
                    also_member: None,
                    payload: json!({
                        "import_id": import_id,
                        "page": i + 1,
                        "pages": pages,
                        "contacts": page,
                    }),
                    created_at: now,
                })?;
            }
            audit::record(
                tx,
                &ctx,
                kind::AUDIT_CONTACTS_IMPORTED,
                json!({ "import_id": import_id }),
                Value::Null,
                json!(counts),
            )?;
        }
        Ok((counts, results))
    };
    // A dry run goes through the writer too but writes nothing: "create" vs "update" is
    // then exact for the moment it ran, and the writer's rollback guards any mistake.
    let (counts, results) = st.storage.write(run).await?;
    tracing::info!(
        rows = counts.rows,
        created = counts.created,
        updated = counts.updated,
        rejected = counts.rejected,
        dry_run,
        "contacts import"
    );
    Ok(Json(json!({
        "import_id": import_id,
        "dry_run": dry_run,
        "counts": counts,
        "rows": results,
    })))
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    #[test]
    fn numbers_normalize_to_whatsapp_ids() {
        assert_eq!(
            normalize_number("+1 (415) 555-0100").as_deref(),
            Some("14155550100")
        );
        assert_eq!(
            normalize_number("7 912 345 67 89").as_deref(),
            Some("79123456789")
        );
        assert_eq!(
            normalize_number("8613800138000").as_deref(),
            Some("8613800138000")
        );
        assert_eq!(
            normalize_number("0049 30 123456"),
            None,
            "leading 0 is not E.164"
        );
        assert_eq!(normalize_number("+1 415 CALL"), None);
        assert_eq!(normalize_number("12345"), None, "too short");
        assert_eq!(normalize_number("1234567890123456"), None, "too long");
        assert_eq!(normalize_number("1+4155550100"), None, "+ only in front");
    }

    #[test]
    fn values_are_coerced_to_the_attribute_type() {
        use AttributeType::*;
        assert_eq!(coerce(Number, &json!("1 200")), Ok(json!(1200)));
        assert_eq!(coerce(Number, &json!("600.5")), Ok(json!(600.5)));
        assert_eq!(coerce(Number, &json!("abc")), Err("invalid_number_value"));
        assert_eq!(coerce(Number, &json!("NaN")), Err("invalid_number_value"));
        assert_eq!(coerce(Boolean, &json!("Да")), Ok(json!(true)));
        assert_eq!(coerce(Boolean, &json!("否")), Ok(json!(false)));
        assert_eq!(
            coerce(Boolean, &json!("maybe")),
            Err("invalid_boolean_value")
        );
        assert_eq!(coerce(Text, &json!(5)), Err("invalid_text_value"));
        assert_eq!(
            coerce(Text, &json!("x".repeat(MAX_TEXT_VALUE + 1))),
            Err("value_too_long")
        );
    }

    #[test]
    fn attribute_keys_are_plain() {
        assert!(valid_key("monthly_spend_usd"));
        assert!(!valid_key("Monthly"));
        assert!(!valid_key("1st"));
        assert!(!valid_key("a.b"));
        assert!(!valid_key(""));
    }

    #[test]
    fn duplicates_point_at_the_first_row() {
        let defs = vec![AttributeDef {
            key: "vip".into(),
            kind: AttributeType::Boolean,
            created_at: Timestamp::UNIX_EPOCH,
        }];
        let row = |row, number: &str| ImportRow {
            row,
            name: "A".into(),
            number: number.into(),
            attributes: HashMap::new(),
        };
        let out = check_rows(&[row(2, "+14155550100"), row(3, "1 415 555 0100")], &defs);
        assert!(out[0].1.is_ok());
        let Err((_, errs)) = &out[1].1 else {
            panic!("the second row should be refused")
        };
        assert_eq!(errs[0].code, "duplicate_number");
        assert_eq!(errs[0].first_row, Some(2));
    }
}

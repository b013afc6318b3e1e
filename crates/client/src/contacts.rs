//! Contacts (issue 7): the list and detail read from the local store (offline, fast), edits
//! and CSV imports through the relay, which decides (ViewContacts / EditContacts on every
//! route). The local permission view hides what the relay would refuse.
//!
//! Replication: the relay sends `contact.updated` (one edit, or a profile-name change) and
//! `contacts.imported` (pages of an import's changes) to devices that may view contacts;
//! [`Client::refresh_contacts`] fetches the whole list (first use, after a resync, or once
//! the permission was granted) since contacts older than the event retention are not
//! replayed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use jiff::Timestamp;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use teamline_core::Permission;
use teamline_core::access::Denied;
use teamline_store::{ContactAttributeDef, ContactRecord, Store};
use ts_rs::TS;
use uuid::Uuid;

use crate::client::Client;
use crate::csv;
use crate::error::{ClientError, Result};
use crate::views::{LabelChip, NoteItem};
use crate::wire::MemberName;

/// Event kinds of the contacts feed (besides `contact.updated`).
pub mod kind {
    pub const CONTACTS_IMPORTED: &str = "contacts.imported";
    pub const ATTRIBUTE_CREATED: &str = "contacts.attribute_created";
}

/// A contact as the relay sends it (routes and events).
#[derive(Debug, Clone, Deserialize)]
pub struct WireContact {
    pub wa_id: String,
    #[serde(default)]
    pub profile_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

impl WireContact {
    pub(crate) fn record(&self, seq: u64) -> ContactRecord {
        ContactRecord {
            wa_id: self.wa_id.clone(),
            name: self
                .display_name
                .clone()
                .or_else(|| self.profile_name.clone()),
            profile_name: self.profile_name.clone(),
            display_name: self.display_name.clone(),
            attributes: Value::Object(self.attributes.clone()),
            updated_at: self.updated_at,
            seq,
        }
    }
}

/// `contacts.imported` payload.
#[derive(Debug, Deserialize)]
pub(crate) struct ContactsImported {
    pub contacts: Vec<WireContact>,
}

/// An attribute definition as the relay sends it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct WireAttribute {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `contacts.attribute_created` payload.
#[derive(Debug, Deserialize)]
pub(crate) struct AttributeCreated {
    pub attribute: WireAttribute,
}

/// One row of the contact list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactListItem.ts")]
pub struct ContactListItem {
    pub wa_id: String,
    pub name: Option<String>,
    #[ts(type = "Record<string, string | number | boolean>")]
    pub attributes: Value,
}

/// A window of the contact list (for a virtual list: `total` rows, these from `offset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactsPage.ts")]
pub struct ContactsPage {
    pub total: u32,
    pub offset: u32,
    pub items: Vec<ContactListItem>,
}

/// An attribute the team keeps on contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactAttribute.ts")]
pub struct ContactAttribute {
    pub key: String,
    /// `text`, `number` or `boolean`.
    pub kind: String,
}

/// One of the customer's conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactConversation.ts")]
pub struct ContactConversation {
    pub id: Uuid,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    pub last_message_preview: Option<String>,
    #[ts(type = "string | null")]
    pub last_message_at: Option<Timestamp>,
    pub assignee: Option<MemberName>,
    pub labels: Vec<LabelChip>,
}

/// Everything the contact detail and the customer panel show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactDetail.ts")]
pub struct ContactDetail {
    pub wa_id: String,
    pub name: Option<String>,
    pub profile_name: Option<String>,
    pub display_name: Option<String>,
    /// Empty unless this device may view contacts.
    #[ts(type = "Record<string, string | number | boolean>")]
    pub attributes: Value,
    pub attribute_defs: Vec<ContactAttribute>,
    /// Labels seen on the customer's conversations (deduplicated).
    pub labels: Vec<LabelChip>,
    pub conversations: Vec<ContactConversation>,
    /// Internal notes on the customer's conversations, newest first.
    pub notes: Vec<ContactNote>,
    pub can_view_contact: bool,
    pub can_edit: bool,
}

/// A note with the conversation it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactNote.ts")]
pub struct ContactNote {
    pub conversation_id: Uuid,
    pub note: NoteItem,
}

/// An edit: `name` `Some("")` clears the team's name (the profile name shows again),
/// `None` keeps it; attributes set to `null` are removed, keys left out keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ContactUpdate.ts")]
pub struct ContactUpdate {
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default)]
    #[ts(type = "Record<string, string | number | boolean | null>")]
    pub attributes: Map<String, Value>,
}

/// Where a CSV comes from: a file path (read here) or its text (read by the UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export_to = "CsvSource.ts")]
pub enum CsvSource {
    Path { path: String },
    Text { text: String },
}

/// Why a row cannot be imported (`code`: `invalid_number`, `duplicate_number`,
/// `unknown_attribute`, `invalid_number_value`, `unterminated_quote`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ImportRowError.ts")]
pub struct ImportRowError {
    pub code: String,
    /// The column at fault (`number`, `name`, an attribute key, or empty for the row).
    pub field: String,
    /// For `duplicate_number`: the row that has the number first.
    #[serde(default)]
    pub first_row: Option<u32>,
}

/// One row of an import preview or result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ImportRowReport.ts")]
pub struct ImportRowReport {
    pub row: u32,
    pub wa_id: Option<String>,
    /// The number as the file writes it (shown for rows whose number is refused).
    #[serde(default)]
    pub number: String,
    pub name: Option<String>,
    /// Typed values for rows that import; for rows with errors, the cells as the file
    /// writes them (so the preview shows what is wrong).
    #[ts(type = "Record<string, string | number | boolean>")]
    pub attributes: Value,
    /// `create`, `update`, `unchanged` or `error`.
    pub status: String,
    pub errors: Vec<ImportRowError>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "ImportCounts.ts")]
pub struct ImportCounts {
    pub rows: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub rejected: u32,
}

/// An import's preview (`dry_run`) or result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export_to = "ImportReport.ts")]
pub struct ImportReport {
    pub dry_run: bool,
    /// Attribute columns of the file, in order.
    pub columns: Vec<String>,
    pub counts: ImportCounts,
    /// Every row, in file order.
    pub rows: Vec<ImportRowReport>,
}

#[derive(Deserialize)]
struct RelayImport {
    counts: ImportCounts,
    rows: Vec<ImportRowReport>,
}

#[derive(Deserialize)]
struct RelayList {
    contacts: Vec<WireContact>,
    next_offset: Option<u32>,
}

#[derive(Deserialize)]
struct RelayAttributes {
    attributes: Vec<WireAttribute>,
}

#[derive(Deserialize)]
struct RelayOne {
    contact: WireContact,
}

fn item(c: ContactRecord) -> ContactListItem {
    ContactListItem {
        wa_id: c.wa_id,
        name: c.name,
        attributes: c.attributes,
    }
}

fn detail_from_store(
    s: &Store,
    wa_id: &str,
    can_view_contact: bool,
    can_edit: bool,
) -> teamline_store::Result<Option<ContactDetail>> {
    let record = s.contact_record(wa_id)?;
    let conversations = s.conversations_of_contact(wa_id)?;
    if record.is_none() && conversations.is_empty() {
        return Ok(None);
    }
    let labels: HashMap<Uuid, LabelChip> = s
        .labels()?
        .into_iter()
        .map(|l| {
            (
                l.id,
                LabelChip {
                    id: l.id,
                    name: l.name,
                    colour: l.colour,
                    urgent: l.urgent,
                },
            )
        })
        .collect();
    let members: HashMap<Uuid, String> = s.members()?.into_iter().map(|m| (m.id, m.name)).collect();
    let member = |id: Option<Uuid>| {
        id.and_then(|id| {
            members.get(&id).map(|n| MemberName {
                id,
                name: n.clone(),
            })
        })
    };
    let mut all_labels: BTreeMap<String, LabelChip> = BTreeMap::new();
    let mut notes = Vec::new();
    let mut convs = Vec::new();
    for c in &conversations {
        let chips: Vec<LabelChip> = c
            .labels
            .iter()
            .filter_map(|id| labels.get(id).cloned())
            .collect();
        for chip in &chips {
            all_labels.insert(chip.name.to_lowercase(), chip.clone());
        }
        for n in s.notes(c.id)? {
            notes.push(ContactNote {
                conversation_id: c.id,
                note: NoteItem {
                    id: n.id,
                    author: member(n.author_member_id),
                    text: n.text,
                    created_at: n.created_at,
                },
            });
        }
        convs.push(ContactConversation {
            id: c.id,
            status: c.status.as_str().to_owned(),
            last_message_preview: c.last_message_preview.clone(),
            last_message_at: c.last_message_at,
            assignee: member(c.assignee),
            labels: chips,
        });
    }
    notes.sort_by_key(|n| std::cmp::Reverse(n.note.created_at));
    let attribute_defs = if can_view_contact {
        s.contact_attribute_defs()?
            .into_iter()
            .map(|d: ContactAttributeDef| ContactAttribute {
                key: d.key,
                kind: d.kind,
            })
            .collect()
    } else {
        Vec::new()
    };
    let fallback_name = conversations.iter().find_map(|c| c.name.clone());
    let (name, profile_name, display_name, attributes) = match record {
        Some(r) => (
            r.name.or(fallback_name),
            r.profile_name,
            r.display_name,
            r.attributes,
        ),
        None => (fallback_name, None, None, json!({})),
    };
    Ok(Some(ContactDetail {
        wa_id: wa_id.to_owned(),
        name,
        profile_name,
        display_name,
        attributes: if can_view_contact {
            attributes
        } else {
            json!({})
        },
        attribute_defs,
        labels: all_labels.into_values().collect(),
        conversations: convs,
        notes,
        can_view_contact,
        can_edit: can_edit && can_view_contact,
    }))
}

impl Client {
    fn may(&self, p: Permission) -> bool {
        self.actor().is_some_and(|a| a.permissions.contains(p))
    }

    fn require(&self, p: Permission) -> Result<()> {
        if self.may(p) {
            Ok(())
        } else {
            Err(ClientError::Denied(Denied::Missing(p)))
        }
    }

    /// A window of the contact list matching `query` (name in any script, or number),
    /// from the local store. Needs ViewContacts.
    pub async fn contacts(&self, query: &str, offset: u32, limit: u32) -> Result<ContactsPage> {
        self.require(Permission::ViewContacts)?;
        let query = query.to_owned();
        let limit = limit.clamp(1, 500);
        self.read(move |s| {
            Ok(ContactsPage {
                total: s.count_contacts(&query)? as u32,
                offset,
                items: s
                    .search_contacts(&query, offset, limit)?
                    .into_iter()
                    .map(item)
                    .collect(),
            })
        })
        .await
    }

    /// One customer: name and number for anyone who sees one of their conversations;
    /// attributes only with ViewContacts. `None` when this device knows nothing of them.
    pub async fn contact(&self, wa_id: &str) -> Result<Option<ContactDetail>> {
        let view = self.may(Permission::ViewContacts);
        let edit = self.may(Permission::EditContacts);
        let wa_id = wa_id.to_owned();
        self.read(move |s| detail_from_store(s, &wa_id, view, edit))
            .await
    }

    /// The attributes the team keeps (from the store; [`Client::refresh_contacts`] fills it).
    pub async fn contact_attributes(&self) -> Result<Vec<ContactAttribute>> {
        self.require(Permission::ViewContacts)?;
        self.read(|s| {
            Ok(s.contact_attribute_defs()?
                .into_iter()
                .map(|d| ContactAttribute {
                    key: d.key,
                    kind: d.kind,
                })
                .collect())
        })
        .await
    }

    /// Fetches every contact and attribute from the relay into the store; returns how many
    /// contacts. Rows carry the cursor of when the fetch began, so a newer event always wins.
    pub async fn refresh_contacts(&self) -> Result<u32> {
        self.require(Permission::ViewContacts)?;
        let seq = self.cursor().await?;
        let attrs: RelayAttributes = self
            .team_call(Method::GET, "/v1/contacts/attributes", None, None)
            .await?;
        let mut offset = 0u32;
        let mut total = 0u32;
        loop {
            let page: RelayList = self
                .team_call(
                    Method::GET,
                    &format!("/v1/contacts?offset={offset}&limit=500"),
                    None,
                    None,
                )
                .await?;
            total += page.contacts.len() as u32;
            let attrs = if offset == 0 {
                attrs.attributes.clone()
            } else {
                Vec::new()
            };
            self.with_store_mut(move |s| {
                s.write(|b| {
                    for a in &attrs {
                        b.put_contact_attribute_def(&ContactAttributeDef {
                            key: a.key.clone(),
                            kind: a.kind.clone(),
                            seq,
                        })?;
                    }
                    for c in &page.contacts {
                        b.put_contact_record(&c.record(seq))?;
                    }
                    Ok(())
                })?;
                Ok(())
            })
            .await?;
            match page.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        Ok(total)
    }

    /// Changes a contact's name or attributes (EditContacts); the store has the change at
    /// once, before the relay's event arrives.
    pub async fn update_contact(
        &self,
        wa_id: &str,
        update: &ContactUpdate,
    ) -> Result<ContactDetail> {
        self.require(Permission::EditContacts)?;
        let mut body = json!({ "attributes": update.attributes });
        if let Some(name) = &update.name {
            body["name"] = json!(name);
        }
        let one: RelayOne = self
            .team_call(
                Method::PATCH,
                &format!("/v1/contacts/{wa_id}"),
                Some(body),
                None,
            )
            .await?;
        let seq = self.cursor().await?;
        let record = one.contact.record(seq);
        self.with_store_mut(move |s| {
            s.write(|b| {
                b.put_contact_record(&record)?;
                b.rename_conversations_of(&record.wa_id, record.name.as_deref(), seq)?;
                Ok(())
            })?;
            Ok(())
        })
        .await?;
        self.contact(wa_id)
            .await?
            .ok_or_else(|| ClientError::Invalid("the contact vanished".into()))
    }

    /// Reads a CSV (header: name, number/phone, then attribute columns), reports rows the
    /// reader cannot read, and sends the rest to the relay: a preview with per-row errors
    /// (`dry_run`), or the import of every valid row in one transaction.
    pub async fn import_contacts_csv(
        &self,
        source: CsvSource,
        dry_run: bool,
    ) -> Result<ImportReport> {
        self.require(Permission::EditContacts)?;
        let parsed = match source {
            CsvSource::Text { text } => {
                if text.len() > csv::MAX_FILE_BYTES {
                    Err(csv::CsvFileError::TooLarge)
                } else {
                    csv::parse(&text)
                }
            }
            CsvSource::Path { path } => {
                let path = PathBuf::from(path);
                let meta = tokio::fs::metadata(&path)
                    .await
                    .map_err(|e| ClientError::Invalid(format!("cannot read the file: {e}")))?;
                if meta.len() > csv::MAX_FILE_BYTES as u64 {
                    Err(csv::CsvFileError::TooLarge)
                } else {
                    let bytes = tokio::fs::read(&path)
                        .await
                        .map_err(|e| ClientError::Invalid(format!("cannot read the file: {e}")))?;
                    csv::parse_bytes(&bytes)
                }
            }
        }
        .map_err(|e| ClientError::Rejected {
            code: e.code(),
            message: e.to_string(),
        })?;
        let mut reports: Vec<ImportRowReport> = parsed
            .errors
            .iter()
            .map(|e| ImportRowReport {
                row: e.row,
                wa_id: None,
                number: String::new(),
                name: None,
                attributes: json!({}),
                status: "error".into(),
                errors: vec![ImportRowError {
                    code: e.code.into(),
                    field: String::new(),
                    first_row: None,
                }],
            })
            .collect();
        let mut counts = ImportCounts {
            rows: parsed.errors.len() as u32,
            rejected: parsed.errors.len() as u32,
            ..ImportCounts::default()
        };
        if !parsed.rows.is_empty() {
            let rows: Vec<Value> = parsed
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "row": r.row,
                        "name": r.name,
                        "number": r.number,
                        "attributes": r.attributes,
                    })
                })
                .collect();
            let relay: RelayImport = self
                .team_call(
                    Method::POST,
                    "/v1/contacts/import",
                    Some(json!({ "rows": rows, "dry_run": dry_run })),
                    None,
                )
                .await?;
            counts.rows += relay.counts.rows;
            counts.created = relay.counts.created;
            counts.updated = relay.counts.updated;
            counts.unchanged = relay.counts.unchanged;
            counts.rejected += relay.counts.rejected;
            let by_row: HashMap<u32, &csv::CsvRow> =
                parsed.rows.iter().map(|r| (r.row, r)).collect();
            reports.extend(relay.rows.into_iter().map(|mut report| {
                if let Some(raw) = by_row.get(&report.row) {
                    report.number = raw.number.trim().to_owned();
                    if report.status == "error" {
                        let name = raw.name.trim();
                        report.name = (!name.is_empty()).then(|| name.to_owned());
                        report.attributes = Value::Object(
                            raw.attributes
                                .iter()
                                .filter(|(_, v)| !v.trim().is_empty())
                                .map(|(k, v)| (k.clone(), Value::String(v.trim().to_owned())))
                                .collect(),
                        );
                    }
                }
                report
            }));
        } else if reports.is_empty() {
            return Err(ClientError::Rejected {
                code: "csv_no_rows",
                message: "the file has a header but no rows".into(),
            });
        }
        reports.sort_by_key(|r| r.row);
        if !dry_run {
            // The relay's events bring the contacts; a refresh would only repeat them.
            tracing::info!(
                rows = counts.rows,
                created = counts.created,
                updated = counts.updated,
                rejected = counts.rejected,
                "contacts imported"
            );
        }
        Ok(ImportReport {
            dry_run,
            columns: parsed.attribute_columns,
            counts,
            rows: reports,
        })
    }
}

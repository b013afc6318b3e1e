//! Contacts with the team's edits (issue 7): display name over profile name, typed
//! attributes, the list search (name in any script, or number digits) and the
//! conversations of one customer.

use jiff::Timestamp;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::batch::Batch;
use crate::error::{Result, StoreError};
use crate::model::{Conversation, seq_to_sql, ts_to_sql};
use crate::store::{
    CONVERSATION_SELECT, Store, conversation_from_row, json_col, seq_col, uuid_col,
};

/// A contact as the Contacts section and the customer panel show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub wa_id: String,
    /// The team's display name, else the WhatsApp profile name.
    pub name: Option<String>,
    pub profile_name: Option<String>,
    pub display_name: Option<String>,
    /// Typed attribute values by key (a JSON object).
    pub attributes: serde_json::Value,
    pub updated_at: Option<Timestamp>,
    pub seq: u64,
}

/// An attribute the team keeps on contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAttributeDef {
    pub key: String,
    /// `text`, `number` or `boolean`.
    pub kind: String,
    pub seq: u64,
}

/// What `search_key` holds for a name and number.
fn search_key(name: Option<&str>, wa_id: &str) -> String {
    format!("{} {wa_id}", name.unwrap_or_default().to_lowercase())
}

/// `%text%` for LIKE with `\` escaping the wildcards.
fn like(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

const RECORD_SELECT: &str = "SELECT wa_id, name, profile_name, display_name, attributes,
    updated_at, seq FROM contacts";

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContactRecord> {
    let updated: Option<i64> = r.get(5)?;
    Ok(ContactRecord {
        wa_id: r.get(0)?,
        name: r.get(1)?,
        profile_name: r.get(2)?,
        display_name: r.get(3)?,
        attributes: json_col(r, 4)?,
        updated_at: updated.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        seq: seq_col(r, 6)?,
    })
}

/// The WHERE clause and its LIKE argument for a list query (empty query: everything).
fn filter(query: &str) -> (&'static str, String) {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return ("", String::new());
    }
    // A number typed with spaces or a `+` still matches the stored digits.
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let numberish = !digits.is_empty()
        && q.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let needle = if numberish { digits } else { q };
    ("WHERE search_key LIKE ?1 ESCAPE '\\'", like(&needle))
}

impl Batch<'_> {
    /// Writes a whole contact from the contacts feed (edits, imports, a refresh). Returns
    /// whether it was written (false: the store had newer data).
    pub fn put_contact_record(&self, c: &ContactRecord) -> Result<bool> {
        if !c.attributes.is_object() {
            return Err(StoreError::Invalid(
                "contact attributes must be a JSON object".into(),
            ));
        }
        let name = c.display_name.as_deref().or(c.profile_name.as_deref());
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, profile_name, display_name, attributes,
                     updated_at, search_key, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (wa_id) DO UPDATE SET name = excluded.name,
                     profile_name = excluded.profile_name, display_name = excluded.display_name,
                     attributes = excluded.attributes, updated_at = excluded.updated_at,
                     search_key = excluded.search_key, seq = excluded.seq
                 WHERE excluded.seq >= contacts.seq",
            )?
            .execute(rusqlite::params![
                c.wa_id,
                name,
                c.profile_name,
                c.display_name,
                serde_json::to_string(&c.attributes)?,
                c.updated_at.map(ts_to_sql),
                search_key(name, &c.wa_id),
                seq_to_sql(c.seq)?
            ])?
            == 1)
    }

    /// The customer's WhatsApp profile name changed: keeps the team's name and attributes.
    /// Returns the name people see now.
    pub fn set_contact_profile_name(
        &self,
        wa_id: &str,
        profile: Option<&str>,
        seq: u64,
    ) -> Result<Option<String>> {
        let existing: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT display_name FROM contacts WHERE wa_id = ?1")?
            .query_row([wa_id], |r| r.get(0))
            .optional()?;
        let display = existing.flatten();
        let name = display.as_deref().or(profile);
        self.conn
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, profile_name, attributes, search_key, seq)
                 VALUES (?1, ?2, ?3, '{}', ?4, ?5)
                 ON CONFLICT (wa_id) DO UPDATE SET name = excluded.name,
                     profile_name = excluded.profile_name, search_key = excluded.search_key,
                     seq = excluded.seq
                 WHERE excluded.seq >= contacts.seq",
            )?
            .execute(rusqlite::params![
                wa_id,
                name,
                profile,
                search_key(name, wa_id),
                seq_to_sql(seq)?
            ])?;
        Ok(name.map(str::to_owned))
    }

    /// Shows the contact's name on its conversations (the inbox lists conversations) and
    /// returns the ids of all of them, renamed or not: a shell showing them re-reads these
    /// rows (a local edit may have renamed them before the relay's event arrived).
    pub fn rename_conversations_of(
        &self,
        wa_id: &str,
        name: Option<&str>,
        seq: u64,
    ) -> Result<Vec<Uuid>> {
        self.conn
            .prepare_cached(
                "UPDATE conversations SET name = ?2, seq = MAX(seq, ?3)
                 WHERE contact_wa_id = ?1 AND name IS NOT ?2",
            )?
            .execute(rusqlite::params![wa_id, name, seq_to_sql(seq)?])?;
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM conversations WHERE contact_wa_id = ?1")?
            .query_map([wa_id], |r| uuid_col(r, 0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn put_contact_attribute_def(&self, d: &ContactAttributeDef) -> Result<()> {
        if !matches!(d.kind.as_str(), "text" | "number" | "boolean") {
            return Err(StoreError::Invalid(format!("attribute type {:?}", d.kind)));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO contact_attribute_defs (key, type, seq) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET type = excluded.type, seq = excluded.seq
                 WHERE excluded.seq >= contact_attribute_defs.seq",
            )?
            .execute(rusqlite::params![d.key, d.kind, seq_to_sql(d.seq)?])?;
        Ok(())
    }
}

impl Store {
    pub fn contact_record(&self, wa_id: &str) -> Result<Option<ContactRecord>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{RECORD_SELECT} WHERE wa_id = ?1"))?
            .query_row([wa_id], record_from_row)
            .optional()?)
    }

    /// Contacts matching `query` (a name in any script, case-insensitive, or number
    /// digits), by name then number; `offset`/`limit` page it for a virtual list.
    pub fn search_contacts(
        &self,
        query: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ContactRecord>> {
        let (clause, arg) = filter(query);
        let sql = format!(
            "{RECORD_SELECT} {clause} ORDER BY name IS NULL, name COLLATE NOCASE, wa_id
             LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = if clause.is_empty() {
            stmt.query_map([], record_from_row)?
                .collect::<rusqlite::Result<_>>()?
        } else {
            stmt.query_map([arg], record_from_row)?
                .collect::<rusqlite::Result<_>>()?
        };
        Ok(rows)
    }

    /// How many contacts match `query` (the virtual list's height).
    pub fn count_contacts(&self, query: &str) -> Result<u64> {
        let (clause, arg) = filter(query);
        let sql = format!("SELECT COUNT(*) FROM contacts {clause}");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let n: i64 = if clause.is_empty() {
            stmt.query_row([], |r| r.get(0))?
        } else {
            stmt.query_row([arg], |r| r.get(0))?
        };
        Ok(n.max(0) as u64)
    }

    pub fn contact_attribute_defs(&self) -> Result<Vec<ContactAttributeDef>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, type, seq FROM contact_attribute_defs ORDER BY key")?;
        Ok(stmt
            .query_map([], |r| {
                Ok(ContactAttributeDef {
                    key: r.get(0)?,
                    kind: r.get(1)?,
                    seq: seq_col(r, 2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The customer's conversations on this device, most recent first, with labels.
    pub fn conversations_of_contact(&self, wa_id: &str) -> Result<Vec<Conversation>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{CONVERSATION_SELECT} WHERE contact_wa_id = ?1
             ORDER BY last_message_at DESC NULLS LAST, id"
        ))?;
        let rows = stmt
            .query_map([wa_id], conversation_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|c| self.with_labels(c)).collect()
    }
}

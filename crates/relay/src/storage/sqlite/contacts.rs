//! SQLite implementation of the contact records ([`crate::storage::contacts`]).

use rusqlite::types::ToSql;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::{Sql, db_err, ms, ts};
use crate::storage::StorageResult;
use crate::storage::contacts::*;

const COLS: &str = "wa_id, name, display_name, attributes, created_at, updated_at";

/// Contacts with a name first (by name, case-insensitive for ASCII), then by number.
const ORDER: &str = "ORDER BY COALESCE(display_name, name) IS NULL,
    COALESCE(display_name, name) COLLATE NOCASE, wa_id";

fn record(r: &Row<'_>) -> rusqlite::Result<ContactRecord> {
    let attrs: String = r.get(3)?;
    let attributes: Map<String, Value> = serde_json::from_str(&attrs).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ContactRecord {
        wa_id: r.get(0)?,
        profile_name: r.get(1)?,
        display_name: r.get(2)?,
        attributes,
        created_at: ts(r.get(4)?)?,
        updated_at: ts(r.get(5)?)?,
    })
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

impl ContactsRead for Sql<'_> {
    fn contact_record(&self, wa_id: &str) -> StorageResult<Option<ContactRecord>> {
        self.c
            .prepare_cached(&format!("SELECT {COLS} FROM contacts WHERE wa_id = ?1"))
            .and_then(|mut s| s.query_row([wa_id], record).optional())
            .map_err(db_err)
    }

    fn contact_records(&self, q: &ContactQuery) -> StorageResult<Vec<ContactRecord>> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            args.push(Box::new(like(text)));
            let name_arg = args.len();
            if digits.is_empty() {
                clauses.push(format!(
                    "COALESCE(display_name, name, '') LIKE ?{name_arg} ESCAPE '\\'"
                ));
            } else {
                args.push(Box::new(like(&digits)));
                let num_arg = args.len();
                clauses.push(format!(
                    "(COALESCE(display_name, name, '') LIKE ?{name_arg} ESCAPE '\\' OR wa_id LIKE ?{num_arg} ESCAPE '\\')"
                ));
            }
        }
        if let Some((key, op, value)) = &q.attribute {
            // Keys are `[a-z0-9_]` (checked by the caller), so the path needs no quoting.
            let path = format!("$.{key}");
            args.push(Box::new(path));
            let p = args.len();
            let sql_op = match op {
                AttributeOp::Eq => "=",
                AttributeOp::Gt => ">",
                AttributeOp::Gte => ">=",
                AttributeOp::Lt => "<",
                AttributeOp::Lte => "<=",
            };
            match value {
                Value::String(s) => {
                    args.push(Box::new(s.clone()));
                    clauses.push(format!(
                        "json_extract(attributes, ?{p}) {sql_op} ?{} COLLATE NOCASE",
                        args.len()
                    ));
                }
                Value::Bool(b) => {
                    args.push(Box::new(i64::from(*b)));
                    clauses.push(format!(
                        "json_extract(attributes, ?{p}) {sql_op} ?{}",
                        args.len()
                    ));
                }
                other => {
                    args.push(Box::new(other.as_f64().unwrap_or(0.0)));
                    clauses.push(format!(
                        "json_extract(attributes, ?{p}) {sql_op} ?{}",
                        args.len()
                    ));
                }
            }
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        args.push(Box::new(q.limit as i64));
        let limit = args.len();
        args.push(Box::new(q.offset as i64));
        let offset = args.len();
        let sql =
            format!("SELECT {COLS} FROM contacts {filter} {ORDER} LIMIT ?{limit} OFFSET ?{offset}");
        let refs: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        self.c
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_map(refs.as_slice(), record)?.collect())
            .map_err(db_err)
    }

    fn attribute_defs(&self) -> StorageResult<Vec<AttributeDef>> {
        self.c
            .prepare_cached("SELECT key, type, created_at FROM contact_attribute_defs ORDER BY key")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let kind: String = r.get(1)?;
                    Ok(AttributeDef {
                        key: r.get(0)?,
                        kind: AttributeType::parse(&kind).ok_or_else(|| {
                            rusqlite::Error::InvalidColumnType(
                                1,
                                kind.clone(),
                                rusqlite::types::Type::Text,
                            )
                        })?,
                        created_at: ts(r.get(2)?)?,
                    })
                })?
                .collect()
            })
            .map_err(db_err)
    }
}

impl ContactsWrite for Sql<'_> {
    fn put_contact_record(&mut self, c: &ContactRecord) -> StorageResult<()> {
        let attrs = Value::Object(c.attributes.clone()).to_string();
        self.c
            .prepare_cached(
                "INSERT INTO contacts (wa_id, name, profile, display_name, attributes, created_at, updated_at)
                 VALUES (?1, NULL, '{}', ?2, ?3, ?4, ?5)
                 ON CONFLICT(wa_id) DO UPDATE SET display_name = excluded.display_name,
                 attributes = excluded.attributes, updated_at = excluded.updated_at",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.wa_id,
                    c.display_name,
                    attrs,
                    ms(c.created_at),
                    ms(c.updated_at)
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn insert_attribute_def(&mut self, d: &AttributeDef) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "INSERT INTO contact_attribute_defs (key, type, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![d.key, d.kind.as_str(), ms(d.created_at)]))
            .map(|n| n == 1)
            .map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::super::{MIGRATIONS, SCHEMA_VERSION, migrate};

    /// A relay that ran the automation before contacts existed kept attributes in
    /// `contact_attributes`; the contacts migration moves them onto the contact records
    /// (the one place from then on) and defines the keys it can type.
    #[test]
    fn attributes_from_the_automation_table_move_onto_the_contacts() {
        let mut conn = Connection::open_in_memory().unwrap();
        // Every migration before the contacts one (later ones follow it in `migrate`).
        let before = MIGRATIONS
            .iter()
            .position(|sql| *sql == include_str!("contacts.sql"))
            .expect("the contacts migration is listed");
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        conn.execute_batch(
            r#"INSERT INTO contacts (wa_id, name, profile, created_at, updated_at)
                   VALUES ('111', 'Ana', '{}', 1, 1);
               INSERT INTO contact_attributes (wa_id, attributes, updated_at) VALUES
                   ('111', '{"monthly_spend_usd": 600, "tier": "gold", "Bad Key": 1}', 5),
                   ('222', '{"vip": true, "score": 2.5}', 7);"#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);

        let attrs = |wa: &str| -> (Option<String>, serde_json::Value) {
            conn.query_row(
                "SELECT name, attributes FROM contacts WHERE wa_id = ?1",
                [wa],
                |r| Ok((r.get(0)?, r.get::<_, String>(1)?)),
            )
            .map(|(n, a)| (n, serde_json::from_str(&a).unwrap()))
            .unwrap()
        };
        assert_eq!(
            attrs("111"),
            (
                Some("Ana".to_owned()),
                serde_json::json!({"monthly_spend_usd": 600, "tier": "gold", "Bad Key": 1})
            )
        );
        assert_eq!(
            attrs("222"),
            (None, serde_json::json!({"vip": true, "score": 2.5}))
        );
        let defs: Vec<(String, String)> = conn
            .prepare("SELECT key, type FROM contact_attribute_defs ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let defs: Vec<(&str, &str)> = defs.iter().map(|(k, t)| (&k[..], &t[..])).collect();
        assert_eq!(
            defs,
            [
                ("city", "text"),
                ("email", "text"),
                ("monthly_spend_usd", "number"),
                ("score", "number"),
                ("tier", "text"),
                ("vip", "boolean"),
            ],
            "keys that cannot be typed (`Bad Key`) stay values without a definition"
        );
        let gone: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'contact_attributes'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(gone, 0, "one table for attributes");
    }
}

//! The store as an encrypted backup file (issue 9): export on one device, import on a new
//! one, under a passphrase the user chooses ([`teamline_backup`]: Argon2id +
//! XChaCha20-Poly1305).
//!
//! No plaintext touches the disk on either side. Export copies every row into a plain
//! in-memory database with the same schema, in one read transaction (so the copy is the
//! store as of one moment), and seals its serialized bytes. Import decrypts into memory,
//! checks and migrates the copy there, and writes its rows into a store encrypted with
//! this device's own key (a backup never carries a store key) in one transaction, then
//! rebuilds the search indexes.

use std::io::{Read, Write};
use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, MAIN_DB, OptionalExtension, TransactionBehavior};
use teamline_backup::{BackupError, Kind, SealOptions, Sealed};
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::key::KeySource;
use crate::store::{MIGRATIONS, SCHEMA_VERSION, Store, migrate, rebuild_search_indexes};

/// Tables a store backup must contain (the rest are checked against this build's schema).
const REQUIRED_TABLES: [&str; 4] = ["sync_state", "messages", "conversations", "outbox"];

/// What an import brought in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// The relay cursor of the exporting device: sync continues from here.
    pub cursor: u64,
    pub conversations: u64,
    pub messages: u64,
    /// Outbox commands that were not sent yet on the exporting device.
    pub unsent_outbox: u64,
    /// The schema version the backup was written with (migrated to this build's).
    pub schema_version_in_backup: u32,
}

impl Store {
    /// Writes this store, encrypted with `passphrase`, to `writer` (default cost).
    pub fn export_to<W: Write>(&self, writer: W, passphrase: &str) -> Result<Sealed> {
        self.export_to_with(writer, passphrase, &SealOptions::default())
    }

    /// As [`Store::export_to`] with an explicit key-derivation cost.
    pub fn export_to_with<W: Write>(
        &self,
        writer: W,
        passphrase: &str,
        options: &SealOptions,
    ) -> Result<Sealed> {
        self.with_snapshot(|bytes| {
            Ok(teamline_backup::seal_with(
                bytes,
                writer,
                passphrase,
                Kind::Store,
                options,
            )?)
        })
    }

    /// Exports into the file `path`, written whole or not at all (a temporary file next to
    /// it is renamed at the end).
    pub fn export_to_file(
        &self,
        path: impl AsRef<Path>,
        passphrase: &str,
        options: &SealOptions,
    ) -> Result<Sealed> {
        let path = path.as_ref();
        // The file is renamed over `path` at the end: never over the store itself.
        if let Ok(target) = std::fs::canonicalize(path) {
            for suffix in ["", "-wal", "-shm", ".kdf.json"] {
                let mut own = self.path().as_os_str().to_owned();
                own.push(suffix);
                if std::fs::canonicalize(&own).is_ok_and(|p| p == target) {
                    return Err(StoreError::Invalid(format!(
                        "{} is the store's own file; export to another file",
                        path.display()
                    )));
                }
            }
        }
        self.with_snapshot(|bytes| {
            Ok(teamline_backup::seal_to_file(
                bytes,
                path,
                passphrase,
                Kind::Store,
                options,
            )?)
        })
    }

    /// Creates a new store at `path` from a backup, encrypted with `key` (this device's:
    /// the OS keyring, a passphrase the user chose, or a raw key in tests). Refuses when a
    /// store already exists there. A wrong passphrase or a bad file creates nothing; a
    /// failure after the store was created removes it again.
    pub fn import_from<R: Read>(
        path: impl AsRef<Path>,
        reader: R,
        passphrase: &str,
        key: KeySource,
    ) -> Result<(Store, ImportSummary)> {
        let path = path.as_ref();
        if Store::exists(path) {
            return Err(StoreError::Invalid(format!(
                "a local store already exists at {}; a backup is only restored into a new one",
                path.display()
            )));
        }
        // Everything that can be refused is refused before a file or key is made.
        let backup = StoreBackup::decrypt(reader, passphrase)?;
        let mut store = Store::open(path, key)?;
        match store.fill_from(backup) {
            Ok(summary) => Ok((store, summary)),
            Err(e) => {
                drop(store);
                let _ = Store::destroy(path);
                Err(e)
            }
        }
    }

    /// Replaces the content of this store with a decrypted backup's, in one transaction.
    /// Only for a store that has not synced anything yet (a device linked a moment ago): a
    /// store with a cursor, messages or queued commands is refused rather than overwritten.
    pub fn import_backup(&mut self, backup: StoreBackup) -> Result<ImportSummary> {
        let held: i64 = self.conn.query_row(
            "SELECT (SELECT cursor FROM sync_state WHERE id = 1)
                  + (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM outbox)",
            [],
            |r| r.get(0),
        )?;
        if held != 0 {
            return Err(StoreError::Invalid(
                "this device's store already holds synced data; a backup is only restored into a store that has not synced yet".into(),
            ));
        }
        self.fill_from(backup)
    }

    /// Runs `f` on the serialized bytes of an in-memory copy of the store: a plain
    /// database with this build's schema and every row (the search indexes stay empty;
    /// an import rebuilds them), read in one transaction.
    fn with_snapshot<T>(&self, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        let mut mem = Connection::open_in_memory()?;
        crate::store::register_sql_functions(&mem)?;
        migrate(&mut mem, MIGRATIONS)?;
        mem.execute(
            "UPDATE search_index_state SET deferred = 1, until_seq = 0 WHERE id = 1",
            [],
        )?;
        {
            // The store has one connection and `&self` excludes writers on it only by
            // convention, so the read runs in an explicit transaction all the same.
            let from = self.conn.unchecked_transaction()?;
            let to = mem.transaction()?;
            copy_rows(&from, &to)?;
            to.commit()?;
            from.commit()?;
        }
        let data = mem.serialize(MAIN_DB)?;
        f(&data)
    }

    /// Writes `snapshot` over every table of this store in one transaction; the search
    /// indexes are rebuilt from the messages at the end.
    fn fill_from(&mut self, backup: StoreBackup) -> Result<ImportSummary> {
        let StoreBackup {
            conn: mem,
            schema_version_in_backup,
        } = backup;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Index maintenance off while rows move (the triggers check this flag); the
        // rebuild below indexes the final rows once and clears it.
        tx.execute(
            "UPDATE search_index_state SET deferred = 1, until_seq = 0 WHERE id = 1",
            [],
        )?;
        copy_rows(&mem, &tx)?;
        rebuild_search_indexes(&tx)?;
        let count = |sql: &str| -> Result<u64> {
            Ok(tx.query_row(sql, [], |r| r.get::<_, i64>(0))?.max(0) as u64)
        };
        let summary = ImportSummary {
            cursor: count("SELECT cursor FROM sync_state WHERE id = 1")?,
            conversations: count("SELECT COUNT(*) FROM conversations")?,
            messages: count("SELECT COUNT(*) FROM messages")?,
            unsent_outbox: count(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'failed')",
            )?,
            schema_version_in_backup,
        };
        tx.commit()?;
        Ok(summary)
    }
}

/// A decrypted store backup, held in memory only (a plain in-memory database, checked and
/// migrated to this build's schema). Decrypting first lets a caller refuse a wrong
/// passphrase or a bad file before it changes anything (e.g. before linking a device).
pub struct StoreBackup {
    conn: Connection,
    schema_version_in_backup: u32,
}

impl std::fmt::Debug for StoreBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBackup")
            .field("schema_version_in_backup", &self.schema_version_in_backup)
            .finish_non_exhaustive()
    }
}

impl StoreBackup {
    /// Decrypts and checks a store backup: a wrong passphrase, a file that is not a
    /// backup, a relay backup, a damaged file or a store from a newer Teamline are refused
    /// with their own error.
    pub fn decrypt<R: Read>(reader: R, passphrase: &str) -> Result<StoreBackup> {
        let mut plain = Zeroizing::new(Vec::new());
        let kind = teamline_backup::open(reader, &mut *plain, passphrase)?;
        if kind != Kind::Store {
            return Err(BackupError::WrongKind {
                expected: Kind::Store,
                found: kind,
            }
            .into());
        }
        let not_a_store = |why: String| {
            StoreError::Invalid(format!("the backup does not hold a Teamline store ({why})"))
        };
        let mut conn = Connection::open_in_memory()?;
        crate::store::register_sql_functions(&conn)?;
        conn.deserialize_read_exact(MAIN_DB, &plain[..], plain.len(), false)?;
        drop(plain);
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| not_a_store(e.to_string()))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::StoreTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| not_a_store(e.to_string()))?;
        if check != "ok" {
            return Err(not_a_store(format!("integrity check: {check}")));
        }
        for table in REQUIRED_TABLES {
            let found: Option<String> = conn
                .query_row(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_none() || version == 0 {
                return Err(not_a_store(format!("no `{table}` table")));
            }
        }
        migrate(&mut conn, MIGRATIONS)?;
        Ok(StoreBackup {
            conn,
            schema_version_in_backup: version,
        })
    }

    /// The store schema version the backup was written with.
    pub fn schema_version(&self) -> u32 {
        self.schema_version_in_backup
    }
}

/// Replaces the rows of every ordinary table of `to` with those of the same table in
/// `from` (same schema version; columns by name), except this device's own values. Rows go through Rust rather than
/// `ATTACH`: a plaintext in-memory database does not attach to a keyed SQLCipher
/// connection, and `sqlcipher_export` may be missing on a connection opened while
/// SQLCipher was still starting up. `search_index_state` is left to the caller.
/// `device_values` stays with its device (a passphrase profile's device token, the audit
/// head this device verified): it is neither exported nor overwritten by an import.
fn copy_rows(from: &Connection, to: &Connection) -> Result<()> {
    for table in data_tables(to)? {
        if table == "search_index_state" || table == "device_values" {
            continue;
        }
        let cols = columns(to, &table)?;
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let marks = (1..=cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        to.execute(&format!("DELETE FROM \"{table}\""), [])?;
        let mut read = from
            .prepare(&format!("SELECT {list} FROM \"{table}\""))
            .map_err(|e| {
                StoreError::Invalid(format!(
                    "table {table} differs between the store and the backup: {e}"
                ))
            })?;
        let mut write = to.prepare(&format!(
            "INSERT INTO \"{table}\" ({list}) VALUES ({marks})"
        ))?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let values = (0..cols.len())
                .map(|i| row.get::<_, SqlValue>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            write.execute(rusqlite::params_from_iter(values))?;
        }
    }
    Ok(())
}

/// The ordinary tables of the main schema (not SQLite's own, not virtual tables or their
/// shadow tables: the search indexes are rebuilt instead).
fn data_tables(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid")?;
    let names = stmt
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ordinary_tables_are_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path().join("s.db"),
            KeySource::raw_key_for_tests_and_benches([7; 32]),
        )
        .unwrap();
        let tables = data_tables(&store.conn).unwrap();
        assert!(tables.contains(&"messages".to_owned()));
        assert!(tables.contains(&"outbox".to_owned()));
        assert!(
            tables
                .iter()
                .all(|t| !t.starts_with("messages_fts") && !t.starts_with("messages_cjk")),
            "{tables:?}"
        );
    }
}

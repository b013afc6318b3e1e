//! SQLite implementation of the alert tables ([`crate::storage::alerts`]).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::{Sql, db_err, json, ms, opt_ts, opt_uuid, to_json, ts, uuid};
use crate::storage::StorageResult;
use crate::storage::alerts::*;

const COLS: &str =
    "id, rule, dedupe_key, raised_at, facts, params, acknowledged_by, acknowledged_at, comment";

fn alert_row(r: &Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: uuid(r.get(0)?)?,
        rule: r.get(1)?,
        key: r.get(2)?,
        raised_at: ts(r.get(3)?)?,
        facts: json(r.get(4)?)?,
        params: json(r.get(5)?)?,
        acknowledged_by: opt_uuid(r.get(6)?)?,
        acknowledged_at: opt_ts(r.get(7)?)?,
        comment: r.get(8)?,
    })
}

impl AlertsRead for Sql<'_> {
    fn alert(&self, id: Uuid) -> StorageResult<Option<AlertRow>> {
        self.c
            .prepare_cached(&format!("SELECT {COLS} FROM alerts WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id.to_string()], alert_row).optional())
            .map_err(db_err)
    }

    fn alerts(&self, q: &AlertQuery) -> StorageResult<Vec<AlertRow>> {
        // UUIDv7 text sorts by creation time; "g" sorts after every hex id.
        let before = q.before.map_or_else(|| "g".to_owned(), |b| b.to_string());
        let sql = if q.open_only {
            format!(
                "SELECT {COLS} FROM alerts WHERE acknowledged_at IS NULL AND id < ?1
                 ORDER BY id DESC LIMIT ?2"
            )
        } else {
            format!("SELECT {COLS} FROM alerts WHERE id < ?1 ORDER BY id DESC LIMIT ?2")
        };
        self.c
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![before, q.limit as i64], alert_row)?
                    .collect()
            })
            .map_err(db_err)
    }

    fn last_alert_at(&self, rule: &str, key: &str) -> StorageResult<Option<Timestamp>> {
        let at: Option<i64> = self
            .c
            .prepare_cached("SELECT MAX(raised_at) FROM alerts WHERE rule = ?1 AND dedupe_key = ?2")
            .and_then(|mut s| s.query_row(params![rule, key], |r| r.get(0)))
            .map_err(db_err)?;
        at.map(ts).transpose().map_err(db_err)
    }

    fn signals_since(
        &self,
        signal: &str,
        key: &str,
        since: Timestamp,
    ) -> StorageResult<Vec<Timestamp>> {
        self.c
            .prepare_cached(
                "SELECT at FROM alert_signals WHERE signal = ?1 AND key = ?2 AND at >= ?3
                 ORDER BY at",
            )
            .and_then(|mut s| {
                s.query_map(params![signal, key, ms(since)], |r| ts(r.get(0)?))?
                    .collect()
            })
            .map_err(db_err)
    }
}

impl AlertsWrite for Sql<'_> {
    fn insert_alert(&mut self, a: &AlertRow) -> StorageResult<()> {
        self.c
            .prepare_cached(&format!(
                "INSERT INTO alerts ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    a.id.to_string(),
                    a.rule,
                    a.key,
                    ms(a.raised_at),
                    to_json(&a.facts),
                    to_json(&a.params),
                    a.acknowledged_by.map(|m| m.to_string()),
                    a.acknowledged_at.map(ms),
                    a.comment
                ])
            })
            .map(drop)
            .map_err(db_err)
    }

    fn acknowledge_alert(
        &mut self,
        id: Uuid,
        by: Uuid,
        at: Timestamp,
        comment: &str,
    ) -> StorageResult<bool> {
        self.c
            .prepare_cached(
                "UPDATE alerts SET acknowledged_by = ?2, acknowledged_at = ?3, comment = ?4
                 WHERE id = ?1 AND acknowledged_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![id.to_string(), by.to_string(), ms(at), comment]))
            .map(|n| n == 1)
            .map_err(db_err)
    }

    fn insert_signal(&mut self, signal: &str, key: &str, at: Timestamp) -> StorageResult<()> {
        self.c
            .prepare_cached("INSERT INTO alert_signals (signal, key, at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![signal, key, ms(at)]))
            .map(drop)
            .map_err(db_err)
    }

    fn prune_signals(&mut self, before: Timestamp) -> StorageResult<u64> {
        self.c
            .prepare_cached("DELETE FROM alert_signals WHERE at < ?1")
            .and_then(|mut s| s.execute([ms(before)]))
            .map(|n| n as u64)
            .map_err(db_err)
    }
}

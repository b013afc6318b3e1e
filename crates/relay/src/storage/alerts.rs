//! Tables of the anomaly alerts (issue 9): raised alerts with their acknowledgement, and
//! the short history ("signals") the burst rules count over. Separate traits that
//! `ReadTx`/`WriteTx` extend, like [`super::team`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::StorageResult;

/// One raised alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: Uuid,
    /// The rule code (`teamline_core::anomaly::Rule`).
    pub rule: String,
    /// What repeated alerts of the rule are grouped by (an address, a device id).
    pub key: Option<String>,
    pub raised_at: Timestamp,
    /// `{event, related_at}`: the fact and, for bursts, the other events' times.
    pub facts: Value,
    /// The summary's display-ready parameters (string values).
    pub params: Value,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<Timestamp>,
    pub comment: Option<String>,
}

/// A page of alerts, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Only alerts not acknowledged yet.
    pub open_only: bool,
    /// Only alerts older than this one (paging by id: UUIDv7 ids sort by time).
    pub before: Option<Uuid>,
    pub limit: usize,
}

pub trait AlertsRead {
    fn alert(&self, id: Uuid) -> StorageResult<Option<AlertRow>>;
    fn alerts(&self, q: &AlertQuery) -> StorageResult<Vec<AlertRow>>;
    /// When `rule` last raised an alert for `key`.
    fn last_alert_at(&self, rule: &str, key: &str) -> StorageResult<Option<Timestamp>>;
    /// Times of the `signal`s recorded for `key` at or after `since`, oldest first.
    fn signals_since(
        &self,
        signal: &str,
        key: &str,
        since: Timestamp,
    ) -> StorageResult<Vec<Timestamp>>;
}

pub trait AlertsWrite {
    fn insert_alert(&mut self, a: &AlertRow) -> StorageResult<()>;
    /// Records the acknowledgement once. `false` when unknown or already acknowledged.
    fn acknowledge_alert(
        &mut self,
        id: Uuid,
        by: Uuid,
        at: Timestamp,
        comment: &str,
    ) -> StorageResult<bool>;
    fn insert_signal(&mut self, signal: &str, key: &str, at: Timestamp) -> StorageResult<()>;
    /// Forgets signals older than `before`; returns how many.
    fn prune_signals(&mut self, before: Timestamp) -> StorageResult<u64>;
}

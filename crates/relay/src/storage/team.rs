//! Tables of the team side (issue 6): settings, member groups, permission templates and
//! their links to members, PINs, shared-device sessions, pairing-code extras and the
//! queryable audit log with its hash chain and checkpoints (issue 9). Separate traits that
//! `ReadTx`/`WriteTx` extend, like [`super::work`].

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use teamline_core::PermissionTemplate;
use teamline_core::audit_chain::{self, Checkpoint, Key, Mac};
use uuid::Uuid;

use super::StorageResult;

/// A group of members (e.g. logistics, after-sales), used for routing and team queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

/// A member's PIN (Argon2id, see [`crate::pin`]) and its failure counter.
#[derive(Debug, Clone, PartialEq)]
pub struct PinRow {
    pub member_id: Uuid,
    /// `argon2id$m$t$p$salt_hex$hash_hex`.
    pub hash: String,
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

/// Who is signed in on a device linked for several members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub device_id: Uuid,
    /// Members allowed to sign in here; `None` = every active member.
    pub allowed: Option<Vec<Uuid>>,
    /// The signed-in member; `None` = signed out (the device sees nothing).
    pub member_id: Option<Uuid>,
    pub since: Timestamp,
}

/// What a pairing code adds on top of `PairingCodeRow`: a shared device and who may sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeExtra {
    pub shared: bool,
    pub allowed: Option<Vec<Uuid>>,
    /// The admin who created the code (owner of a shared device's row).
    pub created_by: Option<Uuid>,
}

/// One audit entry (also delivered as an `audit.*` event with the same `seq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: u64,
    pub kind: String,
    pub actor_member_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub address: Option<String>,
    pub target: Value,
    pub before: Value,
    pub after: Value,
    pub created_at: Timestamp,
    /// Position in the audit chain (1, 2, 3, ...); `None` before the relay sealed it.
    #[serde(default)]
    pub index: Option<u64>,
    /// The entry's chain MAC, lowercase hex.
    #[serde(default)]
    pub mac: Option<String>,
}

/// The audit chain's key and retention. Both live outside the database (a key file or the
/// environment, and `relay.toml`): whoever holds only the database can neither forge
/// entries nor make the relay cut the log early.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub key: Arc<Key>,
    /// Entries older than this leave through a signed retention checkpoint.
    pub retention: SignedDuration,
}

impl AuditSettings {
    pub const DEFAULT_RETENTION: SignedDuration = SignedDuration::from_hours(24 * 90);

    pub fn new(key: Key, retention: SignedDuration) -> AuditSettings {
        AuditSettings {
            key: Arc::new(key),
            retention,
        }
    }

    /// A random key for this process only (tests and benchmarks that never verify a
    /// chain after a restart), with the default retention.
    pub fn ephemeral() -> AuditSettings {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        AuditSettings::new(
            Key::new(bytes).expect("32 bytes is a valid key"),
            Self::DEFAULT_RETENTION,
        )
    }
}

/// One audit entry exactly as stored: its MAC covers these texts byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLink {
    /// `None` for an entry written before the chain existed and not sealed yet.
    pub index: Option<u64>,
    pub seq: u64,
    pub kind: String,
    pub actor_member_id: Option<String>,
    pub device_id: Option<String>,
    pub address: Option<String>,
    /// JSON text.
    pub target: String,
    pub before: String,
    pub after: String,
    pub created_at_ms: i64,
    pub prev_mac: Option<Mac>,
    pub mac: Option<Mac>,
}

impl AuditLink {
    /// The chain entry (index 0 while unsealed).
    pub fn entry(&self) -> audit_chain::Entry<'_> {
        audit_chain::Entry {
            index: self.index.unwrap_or(0),
            seq: self.seq,
            kind: &self.kind,
            actor: self.actor_member_id.as_deref(),
            device: self.device_id.as_deref(),
            address: self.address.as_deref(),
            target: &self.target,
            before: &self.before,
            after: &self.after,
            created_at_ms: self.created_at_ms,
        }
    }

    pub fn stored(&self) -> audit_chain::Stored<'_> {
        audit_chain::Stored {
            entry: self.entry(),
            prev_mac: self.prev_mac,
            mac: self.mac,
        }
    }
}

/// A stored checkpoint and its signature.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    pub id: i64,
    pub checkpoint: Checkpoint,
    pub sig: Mac,
}

/// What the Audit page filters by. All filters combine (AND).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only entries with a smaller seq (paging, newest first).
    pub before: Option<u64>,
    pub limit: usize,
    /// The acting member.
    pub member: Option<Uuid>,
    /// The device the change came from.
    pub device: Option<Uuid>,
    /// A kind prefix, e.g. `audit.member` or `audit.device_linked`.
    pub action: Option<String>,
    /// From this time (inclusive).
    pub from: Option<Timestamp>,
    /// Up to this time (exclusive).
    pub to: Option<Timestamp>,
}

pub trait TeamRead {
    fn setting(&self, key: &str) -> StorageResult<Option<Value>>;
    fn groups(&self) -> StorageResult<Vec<GroupRow>>;
    fn group(&self, id: Uuid) -> StorageResult<Option<GroupRow>>;
    fn templates(&self) -> StorageResult<Vec<PermissionTemplate>>;
    fn template(&self, id: Uuid) -> StorageResult<Option<PermissionTemplate>>;
    /// The templates applied to a member.
    fn member_templates(&self, member_id: Uuid) -> StorageResult<Vec<PermissionTemplate>>;
    /// Members a template is applied to.
    fn template_members(&self, template_id: Uuid) -> StorageResult<Vec<Uuid>>;
    fn pin(&self, member_id: Uuid) -> StorageResult<Option<PinRow>>;
    fn session(&self, device_id: Uuid) -> StorageResult<Option<SessionRow>>;
    fn code_extra(&self, code_hash: &[u8; 32]) -> StorageResult<Option<CodeExtra>>;
    /// Newest first, strictly before `before` (a seq) when given.
    fn audit(&self, before: Option<u64>, limit: usize) -> StorageResult<Vec<AuditRow>> {
        self.audit_filtered(&AuditFilter {
            before,
            limit,
            ..AuditFilter::default()
        })
    }
    /// Newest first, matching every filter.
    fn audit_filtered(&self, f: &AuditFilter) -> StorageResult<Vec<AuditRow>>;
    /// The key and retention of the audit chain.
    fn audit_settings(&self) -> &AuditSettings;
    /// The newest checkpoint.
    fn audit_checkpoint(&self) -> StorageResult<Option<CheckpointRow>>;
    /// The entry at a chain position.
    fn audit_link(&self, index: u64) -> StorageResult<Option<AuditLink>>;
    /// In ONE snapshot: the newest checkpoint (returned, and passed along with each entry)
    /// and every entry in chain order (unsealed ones first), handed to `f` until it
    /// returns `false`.
    fn audit_scan(
        &self,
        f: &mut dyn FnMut(Option<&CheckpointRow>, AuditLink) -> bool,
    ) -> StorageResult<Option<CheckpointRow>>;
    /// The highest chain position of an entry created before `before`.
    fn audit_expired_through(&self, before: Timestamp) -> StorageResult<Option<u64>>;
}

pub trait TeamWrite {
    fn put_setting(&mut self, key: &str, value: &Value) -> StorageResult<()>;
    fn put_group(&mut self, g: &GroupRow) -> StorageResult<()>;
    fn put_template(&mut self, t: &PermissionTemplate, now: Timestamp) -> StorageResult<()>;
    /// Removes a template and its links. `false` when unknown.
    fn delete_template(&mut self, id: Uuid) -> StorageResult<bool>;
    fn set_member_templates(&mut self, member_id: Uuid, ids: &[Uuid]) -> StorageResult<()>;
    fn put_pin(&mut self, p: &PinRow) -> StorageResult<()>;
    fn put_session(&mut self, s: &SessionRow) -> StorageResult<()>;
    fn put_code_extra(&mut self, code_hash: &[u8; 32], e: &CodeExtra) -> StorageResult<()>;
    /// Overwrites a device's name and level.
    fn update_device(&mut self, id: Uuid, name: &str, level: &Value) -> StorageResult<bool>;
    /// Appends a chain entry (its `seq` is the `audit.*` event's).
    fn insert_audit(&mut self, a: &AuditLink) -> StorageResult<()>;
    /// Seals an entry written before the chain existed (its MAC was NULL).
    fn seal_audit(&mut self, seq: u64, index: u64, prev_mac: &Mac, mac: &Mac) -> StorageResult<()>;
    /// Appends a checkpoint (the database refuses one that goes backwards).
    fn insert_audit_checkpoint(&mut self, c: &Checkpoint, sig: &Mac) -> StorageResult<()>;
    /// Removes the entries at chain positions `<= index` (refused unless the newest
    /// checkpoint's cut covers them); returns how many went.
    fn delete_audit_through(&mut self, index: u64) -> StorageResult<u64>;
}

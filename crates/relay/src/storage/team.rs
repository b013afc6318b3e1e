//! Tables of the team side (issue 6): settings, member groups, permission templates and
//! their links to members, PINs, shared-device sessions, pairing-code extras and the
//! queryable audit log. Separate traits that `ReadTx`/`WriteTx` extend, like [`super::work`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use teamline_core::PermissionTemplate;
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
    fn audit(&self, before: Option<u64>, limit: usize) -> StorageResult<Vec<AuditRow>>;
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
    fn insert_audit(&mut self, a: &AuditRow) -> StorageResult<()>;
}

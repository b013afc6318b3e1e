//! The team's quick replies (canned answers a member inserts by typing `/shortcut`).
//! Separate traits that `ReadTx`/`WriteTx` extend, like [`super::team`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StorageResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReplyRow {
    pub id: Uuid,
    /// Without the leading `/`, lower case: `refund`.
    pub shortcut: String,
    pub title: String,
    pub text: String,
    /// A language tag (`en`, `ru`, `zh`) when the answer is written for one language.
    pub language: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub trait QuickRepliesRead {
    fn quick_reply(&self, id: Uuid) -> StorageResult<Option<QuickReplyRow>>;
    fn quick_reply_by_shortcut(&self, shortcut: &str) -> StorageResult<Option<QuickReplyRow>>;
    /// All of them, by shortcut.
    fn quick_replies(&self) -> StorageResult<Vec<QuickReplyRow>>;
}

pub trait QuickRepliesWrite {
    /// Inserts or replaces by id.
    fn put_quick_reply(&mut self, q: &QuickReplyRow) -> StorageResult<()>;
    /// `false` when there was none.
    fn delete_quick_reply(&mut self, id: Uuid) -> StorageResult<bool>;
}

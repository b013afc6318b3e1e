//! `teamline-store`: the desktop's encrypted local store.
//!
//! One SQLCipher file per profile holds what the device may see (conversations, messages,
//! contacts, labels, notes, members, devices, its own permissions), the sync cursor and the
//! outbox. The 32-byte key lives in the OS keyring ([`KeySource::os_keyring`]); with a
//! store present and no key reachable, [`Store::open`] fails closed with
//! [`StoreError::KeyUnavailable`] or [`StoreError::WrongKey`] and leaves the file as it
//! was. Message text is indexed for full-text search ([`Store::search`]). A store is
//! exported as an encrypted backup file ([`Store::export_to`]) and restored on a new
//! device under that device's own key ([`Store::import_from`], [`Store::import_backup`]).

mod batch;
mod contacts;
mod content;
mod error;
mod export;
mod key;
mod model;
mod search;
mod store;

pub use batch::Batch;
pub use contacts::{ContactAttributeDef, ContactRecord};
pub use content::{MediaBlob, TimelineRow};
pub use error::{KeyUnavailableReason, Result, StoreError};
pub use export::{ImportSummary, StoreBackup};
pub use key::{
    APP_ID, KdfParams, KeySource, OsKeyring, StoreKey, kdf_sidecar_path, keyring_account,
};
pub use model::*;
pub use search::SEARCH_CANDIDATES;
pub use store::{
    BULK_WAL_AUTOCHECKPOINT, CJK_CHARS_FUNCTION, CONNECTION_PRAGMAS, DEFAULT_WAL_AUTOCHECKPOINT,
    MIGRATIONS, SCHEMA_VERSION, Store, raw_connection_for_tests_and_benches,
    register_sql_functions,
};

/// The crates whose types appear in this API, re-exported so callers use the same versions.
pub use jiff;
pub use teamline_backup;
pub use uuid;

/// The rusqlite this crate links (with SQLCipher), for benchmarks that compare against a
/// plain connection without adding a second dependency on it.
pub use rusqlite;

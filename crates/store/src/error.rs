//! Errors a caller can branch on. The key-related ones are the "fail closed" outcomes: the
//! store is left untouched and the caller decides (unlock and retry, use the passphrase,
//! or explicitly discard the local copy and resync from the relay).

use std::path::PathBuf;

/// Why the store's key could not be obtained. Nothing was written when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyUnavailableReason {
    /// No OS keyring could be reached (no Secret Service on the session bus, and so on).
    #[error("the OS keyring cannot be reached: {0}")]
    NoKeyring(String),
    /// The keyring answered but refused access (typically: it is locked).
    #[error("the OS keyring is locked or refused access: {0}")]
    Locked(String),
    /// The keyring has no key for this profile although its store exists.
    #[error("the OS keyring has no key for this store")]
    MissingEntry,
    /// The keyring holds something for this profile that is not a 32-byte key.
    #[error("the key in the OS keyring is malformed")]
    Malformed,
    /// Passphrase mode was chosen, but the store was not created with a passphrase (its
    /// key-derivation sidecar file is missing or unreadable).
    #[error("the store was not created with a passphrase ({0})")]
    NoPassphraseParams(String),
    /// The OS keyring failed in some other way.
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
}

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A store exists at the path but its key cannot be obtained. The file is untouched.
    #[error("the local store {path} exists but its key is unavailable: {reason}")]
    KeyUnavailable {
        path: PathBuf,
        reason: KeyUnavailableReason,
    },
    /// The key (or passphrase) does not decrypt the store. The file is untouched.
    #[error("the key does not open the local store {path} (wrong key or passphrase)")]
    WrongKey { path: PathBuf },
    /// The file at the path is an unencrypted SQLite database; it is refused, never used.
    #[error("{path} is an unencrypted database; refusing to use it as the local store")]
    NotEncrypted { path: PathBuf },
    /// The store was written by a newer Teamline; this version cannot read it safely.
    #[error(
        "the local store has schema version {found}, this version of Teamline supports up to {supported}; update Teamline"
    )]
    StoreTooNew { found: u32, supported: u32 },
    /// The OS keyring could not store a newly made key, so no store was created.
    #[error("could not save the new store key in the OS keyring: {0}")]
    KeySaveFailed(String),
    /// The OS random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Random(String),
    /// SQLCipher's own set-up did not complete, so no store can be opened.
    #[error("the encryption library could not start: {0}")]
    CryptoUnavailable(String),
    /// Passphrase key derivation failed (bad parameters in the sidecar file, and so on).
    #[error("passphrase key derivation failed: {0}")]
    Kdf(String),
    /// A caller-supplied value was not acceptable.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Stored data could not be decoded (a bug or a damaged store).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// An encrypted backup could not be written or read (wrong passphrase, not a backup,
    /// damaged...): its own code says which.
    #[error(transparent)]
    Backup(#[from] teamline_backup::BackupError),
}

impl StoreError {
    /// A stable code for the UI (crosses IPC as `{ code, message }`).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::KeyUnavailable { .. } => "store_key_unavailable",
            StoreError::WrongKey { .. } => "store_wrong_key",
            StoreError::NotEncrypted { .. } => "store_not_encrypted",
            StoreError::StoreTooNew { .. } => "store_too_new",
            StoreError::KeySaveFailed(_) => "store_key_save_failed",
            StoreError::Random(_) => "store_random_failed",
            StoreError::CryptoUnavailable(_) => "store_crypto_unavailable",
            StoreError::Kdf(_) => "store_kdf_failed",
            StoreError::Invalid(_) => "store_invalid_input",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Sqlite(_) => "store_sqlite",
            StoreError::Io { .. } => "store_io",
            StoreError::Json(_) => "store_json",
            StoreError::Backup(e) => e.code(),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

//! Errors with a stable `code` for the shell (they cross IPC as `{ code, message }`).

use teamline_core::access::Denied;
use teamline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The local store failed (its own code says how: key unavailable, wrong key...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The relay answered with an error body.
    #[error("the relay refused: {message} ({code})")]
    Relay {
        status: u16,
        code: String,
        message: String,
    },
    /// The relay could not be reached or answered something unreadable.
    #[error("could not talk to the relay: {0}")]
    Network(String),
    /// The local permission view says no (the relay would too).
    #[error("{0}")]
    Denied(Denied),
    /// The conversation is not in the local store (not visible, or not synced yet).
    #[error("this conversation is not available on this device")]
    UnknownConversation,
    /// This profile is not linked to a team yet.
    #[error("this device is not linked to a team yet")]
    NotLinked,
    /// This profile is already linked; unlinking happens on the relay.
    #[error("this device is already linked to a team")]
    AlreadyLinked,
    /// The device was unlinked by an admin and its local data wiped.
    #[error("This device was unlinked by an admin")]
    Unlinked,
    /// The store is protected by a passphrase that has not been entered yet.
    #[error("this device's data is locked; enter its passphrase")]
    Locked,
    /// The OS keyring failed for the device token.
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    /// The profile directory or file could not be read or written.
    #[error("profile error: {0}")]
    Profile(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The input was refused here with a specific reason (e.g. a CSV without a number
    /// column), before anything was sent.
    #[error("{message}")]
    Rejected { code: &'static str, message: String },
    /// The relay is still downloading this media from WhatsApp; it announces
    /// `message.media_ready` when done, then fetching works.
    #[error("this media is still downloading")]
    MediaNotReady,
    /// The relay has no media with this id for this device (never downloaded, deleted, or
    /// the conversation is not visible to it).
    #[error("this media is not available")]
    MediaUnavailable,
    /// The message has no media this device can fetch (not an attachment, or one we sent
    /// by public link).
    #[error("this message has no media to show")]
    NoMedia,
}

impl ClientError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> String {
        match self {
            ClientError::Store(e) => e.code().to_owned(),
            ClientError::Relay { code, .. } => code.clone(),
            ClientError::Network(_) => "network".to_owned(),
            ClientError::Denied(d) => d.code().to_owned(),
            ClientError::UnknownConversation => "unknown_conversation".to_owned(),
            ClientError::NotLinked => "not_linked".to_owned(),
            ClientError::AlreadyLinked => "already_linked".to_owned(),
            ClientError::Unlinked => "device_unlinked".to_owned(),
            ClientError::Locked => "locked".to_owned(),
            ClientError::Keyring(_) => "keyring".to_owned(),
            ClientError::Profile(_) => "profile".to_owned(),
            ClientError::Invalid(_) => "invalid_input".to_owned(),
            ClientError::Rejected { code, .. } => (*code).to_owned(),
            ClientError::MediaNotReady => "media_not_ready".to_owned(),
            ClientError::MediaUnavailable => "media_unavailable".to_owned(),
            ClientError::NoMedia => "no_media".to_owned(),
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's Display never includes bodies or headers (so no token).
        ClientError::Network(e.without_url().to_string())
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

//! A profile is a data directory: `profile.json` (relay URL, device and member ids, the
//! profile id that names its keyring entries, notification settings) and `teamline.db`
//! (the encrypted store). Secrets are never in the directory: the store key and the
//! device token live in the OS keyring under the profile id.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use teamline_core::TimeWindow;
use uuid::Uuid;
use zeroize_free::Secret;

use crate::error::{ClientError, Result};

pub const PROFILE_FILE: &str = "profile.json";
pub const STORE_FILE: &str = "teamline.db";
const FORMAT: u32 = 1;

/// Per-device notification settings, kept in the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "NotificationSettings.ts")]
pub struct NotificationSettings {
    pub enabled: bool,
    /// Do-not-disturb hours (nothing but security alerts is shown inside them).
    #[serde(default)]
    #[ts(type = "{ start: string, end: string, weekdays?: string[] } | null")]
    pub do_not_disturb: Option<TimeWindow>,
    /// IANA zone the DND hours are read in; `None` = this computer's zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Label names treated as urgent besides labels the relay marks urgent.
    #[serde(default = "default_urgent")]
    pub urgent_labels: Vec<String>,
    /// Events older than this (caught up after being offline) do not notify.
    #[serde(default = "default_max_age")]
    pub max_age_secs: u32,
}

fn default_urgent() -> Vec<String> {
    vec!["#urgent".to_owned()]
}

fn default_max_age() -> u32 {
    15 * 60
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            enabled: true,
            do_not_disturb: None,
            time_zone: None,
            urgent_labels: default_urgent(),
            max_age_secs: default_max_age(),
        }
    }
}

/// Where a linked profile's secrets live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKeyMode {
    /// The store key and the device token are in the OS keyring (the normal case).
    #[default]
    Keyring,
    /// No keyring on this computer: the user chose a passphrase (Argon2id) for the store,
    /// and the device token is kept inside the encrypted store. Each start asks for it.
    Passphrase,
}

/// What `profile.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileFile {
    pub format: u32,
    /// Names the keyring entries (`store-key:<id>`, `device-token:<id>`).
    pub profile_id: Option<String>,
    pub relay_url: Option<String>,
    pub device_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub linked_at: Option<Timestamp>,
    /// Set when the relay unlinked the device and the local data was wiped.
    pub unlinked_at: Option<Timestamp>,
    #[serde(default)]
    pub notifications: NotificationSettings,
    #[serde(default)]
    pub store_key: StoreKeyMode,
}

impl Default for ProfileFile {
    fn default() -> Self {
        ProfileFile {
            format: FORMAT,
            profile_id: None,
            relay_url: None,
            device_id: None,
            member_id: None,
            linked_at: None,
            unlinked_at: None,
            notifications: NotificationSettings::default(),
            store_key: StoreKeyMode::default(),
        }
    }
}

impl ProfileFile {
    pub fn is_linked(&self) -> bool {
        self.profile_id.is_some() && self.device_id.is_some() && self.relay_url.is_some()
    }
}

/// A data directory.
#[derive(Debug, Clone)]
pub struct ProfileDir {
    dir: PathBuf,
}

impl ProfileDir {
    pub fn new(dir: impl Into<PathBuf>) -> ProfileDir {
        ProfileDir { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    fn file(&self) -> PathBuf {
        self.dir.join(PROFILE_FILE)
    }

    /// Reads `profile.json`; a missing file is a fresh, unlinked profile.
    pub fn load(&self) -> Result<ProfileFile> {
        match std::fs::read(self.file()) {
            Ok(bytes) => {
                let p: ProfileFile = serde_json::from_slice(&bytes)
                    .map_err(|e| ClientError::Profile(format!("{}: {e}", self.file().display())))?;
                if p.format > FORMAT {
                    return Err(ClientError::Profile(format!(
                        "{} was written by a newer Teamline (format {}); update Teamline",
                        self.file().display(),
                        p.format
                    )));
                }
                Ok(p)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfileFile::default()),
            Err(e) => Err(ClientError::Profile(format!(
                "{}: {e}",
                self.file().display()
            ))),
        }
    }

    /// Writes `profile.json` atomically (temp file, fsync, rename).
    pub fn save(&self, p: &ProfileFile) -> Result<()> {
        let io = |e: std::io::Error| ClientError::Profile(format!("{}: {e}", self.dir.display()));
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let tmp = self.dir.join(format!("{PROFILE_FILE}.tmp"));
        let bytes =
            serde_json::to_vec_pretty(p).map_err(|e| ClientError::Profile(e.to_string()))?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, self.file()).map_err(io)?;
        Ok(())
    }
}

/// A tiny wrapper so a token is never printed by `{:?}`.
mod zeroize_free {
    #[derive(Clone, PartialEq, Eq)]
    pub struct Secret(pub String);

    impl std::fmt::Debug for Secret {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Secret(<redacted>)")
        }
    }
}

pub use zeroize_free::Secret as DeviceToken;

/// The keyring account of a profile's device token (service `teamline_store::APP_ID`).
pub fn token_account(profile_id: &str) -> String {
    format!("device-token:{profile_id}")
}

/// The device token's keyring entry, in the same explicitly chosen OS keyring as the
/// store key (teamline-store refuses a keyring that would not persist it).
fn entry(account: &str) -> Result<keyring_core::Entry> {
    teamline_store::OsKeyring::connect()
        .and_then(|keyring| keyring.entry(account))
        .map_err(|e| ClientError::Keyring(e.to_string()))
}

/// Saves the device token under the profile, then reads it back (a keyring that accepts
/// but cannot return it would leave the device unable to sync).
pub fn save_token(profile_id: &str, token: &Secret) -> Result<()> {
    let account = token_account(profile_id);
    entry(&account)?
        .set_password(&token.0)
        .map_err(|e| ClientError::Keyring(e.to_string()))?;
    match load_token(profile_id)? {
        Some(back) if back == *token => Ok(()),
        _ => Err(ClientError::Keyring(
            "the device token read back from the OS keyring differs".into(),
        )),
    }
}

/// The device token of the profile, `None` when the keyring has none.
pub fn load_token(profile_id: &str) -> Result<Option<Secret>> {
    match entry(&token_account(profile_id))?.get_password() {
        Ok(t) => Ok(Some(Secret(t))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(ClientError::Keyring(e.to_string())),
    }
}

/// Deletes the device token (absent is fine).
pub fn delete_token(profile_id: &str) -> Result<()> {
    match entry(&token_account(profile_id))?.delete_credential() {
        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(ClientError::Keyring(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_round_trips_and_missing_is_unlinked() {
        let dir = tempfile::tempdir().unwrap();
        let p = ProfileDir::new(dir.path().join("a"));
        assert!(!p.load().unwrap().is_linked());
        let mut f = ProfileFile {
            profile_id: Some("x".into()),
            relay_url: Some("http://r".into()),
            device_id: Some(Uuid::now_v7()),
            ..ProfileFile::default()
        };
        f.notifications.do_not_disturb = Some(TimeWindow::daily(
            jiff::civil::time(22, 0, 0, 0),
            jiff::civil::time(7, 0, 0, 0),
        ));
        p.save(&f).unwrap();
        assert_eq!(p.load().unwrap(), f);
        assert!(p.load().unwrap().is_linked());
    }

    #[test]
    fn token_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret("abc".into())), "Secret(<redacted>)");
    }
}

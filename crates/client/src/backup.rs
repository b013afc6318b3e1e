//! Backups of this device's store (issue 9). A member exports it as an encrypted file
//! ([`Client::export_backup`]: their PIN, which the relay re-verifies together with the
//! export permission and records in the audit log, and a passphrase they choose), and a
//! new device restores it ([`Client::restore_backup`]).
//!
//! A backup holds what this device had replicated (conversations, messages, notes,
//! labels, contacts, the outbox, the sync cursor) and never a key or the device token:
//! the restoring device is linked with its own pairing code and keeps the data under its
//! own store key. It then continues from the backup's cursor, so history the relay no
//! longer keeps survives; commands still queued in the backup's outbox go out from the new
//! device unless the old one had sent them (the relay refuses a command id already used by
//! another device, so nothing is sent twice).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use reqwest::Method;
use teamline_store::teamline_backup::{self, BackupError, SealOptions};
use teamline_store::{Store, StoreBackup, StoreError};
use zeroize::Zeroizing;

use crate::client::{Client, ClientOptions, LinkInfo};
use crate::error::{ClientError, Result};
use crate::profile::STORE_FILE;
use crate::types::DeviceInfo;

/// The relay route that checks the export permission and the PIN before an export.
const EXPORT_VERIFY: &str = "/v1/exports/verify";

/// What [`Client::export_backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedBackup {
    pub path: PathBuf,
    /// Size of the encrypted file.
    pub bytes: u64,
    /// The relay's audit entry for this export.
    pub audit_seq: Option<u64>,
}

/// What [`Client::restore_backup`] brought onto the new device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "RestoredBackup.ts")]
pub struct RestoredBackup {
    pub link: LinkInfo,
    /// Sync continues after this relay event.
    #[ts(type = "number")]
    pub cursor: u64,
    #[ts(type = "number")]
    pub conversations: u64,
    #[ts(type = "number")]
    pub messages: u64,
    /// Commands queued on the old device and not yet sent.
    #[ts(type = "number")]
    pub unsent_outbox: u64,
}

impl Client {
    /// Exports this device's store to `path` as an encrypted file. The relay first checks
    /// that the signed-in member may export history and that `pin` is theirs (wrong PINs
    /// count towards the lockout) and records the export; then the file is written whole
    /// or not at all. `passphrase` (8+ characters) is needed to restore it; nobody can
    /// recover it.
    pub async fn export_backup(
        &self,
        path: impl AsRef<Path>,
        pin: &str,
        passphrase: &str,
    ) -> Result<ExportedBackup> {
        self.export_backup_with(path, pin, passphrase, SealOptions::default())
            .await
    }

    /// As [`Client::export_backup`] with an explicit key-derivation cost.
    pub async fn export_backup_with(
        &self,
        path: impl AsRef<Path>,
        pin: &str,
        passphrase: &str,
        options: SealOptions,
    ) -> Result<ExportedBackup> {
        // A passphrase that would be refused must not spend a PIN attempt or an audit entry.
        if passphrase.chars().count() < teamline_backup::MIN_PASSPHRASE_CHARS {
            return Err(StoreError::Backup(BackupError::WeakPassphrase).into());
        }
        let api = self.inner_api()?;
        let verified = api
            .request(Method::POST, EXPORT_VERIFY, None, Some(pin))
            .await?;
        let path = path.as_ref().to_owned();
        let target = path.clone();
        let passphrase = Zeroizing::new(passphrase.to_owned());
        let sealed = self
            .read(move |s| s.export_to_file(&target, &passphrase, &options))
            .await?;
        tracing::info!(bytes = sealed.file_bytes, "store exported");
        Ok(ExportedBackup {
            path,
            bytes: sealed.file_bytes,
            audit_seq: verified["audit_seq"].as_u64(),
        })
    }

    /// Sets up a NEW device from a backup: the backup is decrypted and checked first (a
    /// wrong passphrase or a bad file changes nothing and does not use up `code`), then
    /// the profile in `opts.data_dir` is linked with the pairing code (a restored device
    /// still has to be linked: a backup carries no device token), and the new, empty
    /// store is filled from the backup under this device's own key. Returns the opened
    /// client; call [`Client::start`] to sync on from the backup's cursor.
    ///
    /// Refuses a profile that is already linked. If the import fails after linking, the
    /// device stays linked with an empty store that syncs from the relay as usual; the
    /// error says why the import failed.
    pub async fn restore_backup(
        opts: ClientOptions,
        backup: impl AsRef<Path>,
        passphrase: &str,
        relay_url: &str,
        code: &str,
        device: &DeviceInfo,
    ) -> Result<(Client, RestoredBackup)> {
        let file = backup.as_ref().to_owned();
        let pass = Zeroizing::new(passphrase.to_owned());
        let decrypted = blocking(move || {
            let f = File::open(&file).map_err(|e| {
                ClientError::Invalid(format!("cannot open the backup {}: {e}", file.display()))
            })?;
            Ok(StoreBackup::decrypt(BufReader::new(f), &pass)?)
        })
        .await?;

        let reopen = ClientOptions {
            data_dir: opts.data_dir.clone(),
            store_key: opts.store_key.clone(),
            token_vault: opts.token_vault.clone(),
            notifier: opts.notifier.clone(),
            tuning: opts.tuning.clone(),
        };
        let client = Client::open(opts).await?;
        if client.is_linked() {
            return Err(ClientError::AlreadyLinked);
        }
        let link = client.link(relay_url, code, device).await?;
        let profile_id = client.profile().profile_id.ok_or(ClientError::NotLinked)?;
        let store_path = client.data_dir().join(STORE_FILE);
        // Closes the new store, so it can be filled through a connection of our own.
        drop(client);
        let key = reopen.store_key.clone();
        let summary = blocking(move || {
            let mut store = Store::open(&store_path, key.source(&profile_id))?;
            Ok(store.import_backup(decrypted)?)
        })
        .await?;
        let client = Client::open(reopen).await?;
        tracing::info!(
            cursor = summary.cursor,
            messages = summary.messages,
            "store restored from a backup"
        );
        Ok((
            client,
            RestoredBackup {
                link,
                cursor: summary.cursor,
                conversations: summary.conversations,
                messages: summary.messages,
                unsent_outbox: summary.unsent_outbox,
            },
        ))
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Profile(format!("backup task failed: {e}")))?
}

//! Where the store's 32-byte key comes from: the OS keyring (the app's path), a passphrase
//! the user chose explicitly (headless Linux without a keyring), or a raw key handed in by
//! tests and benchmarks.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::{CredentialPersistence, CredentialStore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{KeyUnavailableReason, Result, StoreError};

/// The service name under which keys are kept in the OS keyring.
pub const APP_ID: &str = "app.teamline.desktop";

/// A 32-byte SQLCipher key. Wiped from memory on drop; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// Makes a new key from the OS random number generator.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| StoreError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The `PRAGMA key` statement for this raw key (hex, so SQLCipher skips its own KDF).
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        let mut hex = hex::encode(self.0.as_ref());
        let stmt = Zeroizing::new(format!("PRAGMA key = \"x'{hex}'\";"));
        hex.zeroize();
        stmt
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// How `Store::open` obtains the key. Build one with [`KeySource::os_keyring`] (the app),
/// [`KeySource::passphrase`] (only when the user chose it), or
/// [`KeySource::raw_key_for_tests_and_benches`].
pub struct KeySource(pub(crate) Source);

pub(crate) enum Source {
    Keyring {
        account: String,
    },
    Passphrase {
        passphrase: Zeroizing<String>,
        params: KdfParams,
    },
    Raw(StoreKey),
}

impl KeySource {
    /// The OS keyring entry of `profile` (service [`APP_ID`]). A new store gets a new
    /// random key saved there; an existing store never does.
    pub fn os_keyring(profile: &str) -> Self {
        Self(Source::Keyring {
            account: keyring_account(profile),
        })
    }

    /// A passphrase the user explicitly chose instead of the OS keyring. The key is
    /// derived with Argon2id; salt and cost are kept in a sidecar file next to the store.
    pub fn passphrase(passphrase: &str) -> Self {
        Self::passphrase_with_params(passphrase, KdfParams::default())
    }

    /// As [`KeySource::passphrase`], with the Argon2id cost used when the store is
    /// created (an existing store always uses the cost recorded in its sidecar file).
    pub fn passphrase_with_params(passphrase: &str, params: KdfParams) -> Self {
        Self(Source::Passphrase {
            passphrase: Zeroizing::new(passphrase.to_owned()),
            params,
        })
    }

    /// A key the caller holds itself. The app never takes this path: it exists so tests
    /// and `cargo xtask bench` can open stores without an OS keyring. Whoever uses it is
    /// responsible for keeping the key.
    pub fn raw_key_for_tests_and_benches(key: [u8; 32]) -> Self {
        Self(Source::Raw(StoreKey::from_bytes(key)))
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Keyring { account } => write!(f, "KeySource::OsKeyring({account})"),
            Source::Passphrase { .. } => f.write_str("KeySource::Passphrase(<redacted>)"),
            Source::Raw(_) => f.write_str("KeySource::Raw(<redacted>)"),
        }
    }
}

/// The keyring account name of a profile's store key.
pub fn keyring_account(profile: &str) -> String {
    format!("store-key:{profile}")
}

/// The platform's persistent credential store, chosen at compile time. There is no
/// fallback: a target without one of these does not build.
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    #[cfg(target_os = "macos")]
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    #[cfg(target_os = "windows")]
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    #[cfg(target_os = "linux")]
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(target_os = "macos", target_os = "windows", target_os = "linux")))]
compile_error!(
    "teamline-store keeps its key in the OS keyring and knows a persistent one only for \
     macOS (Keychain), Windows (Credential Manager) and Linux (Secret Service)"
);

/// A connection to the OS keyring (Keychain, Credential Manager or Secret Service).
pub struct OsKeyring {
    store: Arc<CredentialStore>,
}

impl fmt::Debug for OsKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OsKeyring")
            .field("vendor", &self.store.vendor())
            .finish()
    }
}

impl OsKeyring {
    /// Connects to the platform keyring. Fails when none is reachable (e.g. Linux without
    /// a Secret Service), which is when the app may offer the passphrase instead.
    pub fn connect() -> Result<Self, KeyUnavailableReason> {
        let store = platform_store().map_err(|e| KeyUnavailableReason::NoKeyring(e.to_string()))?;
        // Refuse anything that would forget the key (a mock or in-memory store).
        if !matches!(store.persistence(), CredentialPersistence::UntilDelete) {
            return Err(KeyUnavailableReason::NoKeyring(format!(
                "{} does not persist credentials",
                store.vendor()
            )));
        }
        Ok(Self { store })
    }

    /// The backend's name, for diagnostics.
    pub fn vendor(&self) -> String {
        self.store.vendor()
    }

    /// The entry for `account` under the app's service name; also how the client keeps its
    /// device token, so both secrets live in the same, explicitly chosen keyring.
    pub fn entry(&self, account: &str) -> Result<keyring_core::Entry, KeyUnavailableReason> {
        self.store
            .build(APP_ID, account, None)
            .map_err(map_keyring_error)
    }

    /// The key saved under `account`, or `None` when there is none.
    pub fn load(&self, account: &str) -> Result<Option<StoreKey>, KeyUnavailableReason> {
        match self.entry(account)?.get_secret() {
            Ok(secret) => {
                let secret = Zeroizing::new(secret);
                let bytes: [u8; 32] = secret
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyUnavailableReason::Malformed)?;
                Ok(Some(StoreKey::from_bytes(bytes)))
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    /// Saves `key` under `account`, replacing what was there.
    pub fn save(&self, account: &str, key: &StoreKey) -> Result<(), KeyUnavailableReason> {
        self.entry(account)?
            .set_secret(key.as_bytes())
            .map_err(map_keyring_error)
    }

    /// Removes the key under `account` (unlinking wipes the device). Absent is fine.
    pub fn delete(&self, account: &str) -> Result<(), KeyUnavailableReason> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring_error(e)),
        }
    }
}

fn map_keyring_error(e: keyring_core::Error) -> KeyUnavailableReason {
    match e {
        keyring_core::Error::NoEntry => KeyUnavailableReason::MissingEntry,
        keyring_core::Error::NoStorageAccess(inner) => {
            KeyUnavailableReason::Locked(inner.to_string())
        }
        keyring_core::Error::BadEncoding(_) | keyring_core::Error::BadDataFormat(..) => {
            KeyUnavailableReason::Malformed
        }
        keyring_core::Error::NoDefaultStore => {
            KeyUnavailableReason::NoKeyring("no credential store".into())
        }
        other => KeyUnavailableReason::Keyring(other.to_string()),
    }
}

/// Argon2id cost for passphrase mode. Recorded in the sidecar file when the store is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The floor accepted when creating a store (and when reading a sidecar): 8 MiB, one
    /// pass. Tests use it; anything lower would make a stolen file cheap to attack.
    pub const MINIMUM: KdfParams = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    fn check(&self) -> Result<()> {
        if self.m_cost_kib < Self::MINIMUM.m_cost_kib
            || self.t_cost < Self::MINIMUM.t_cost
            || self.p_cost < 1
            || self.p_cost > 16
            || self.m_cost_kib > 4 * 1024 * 1024
            || self.t_cost > 64
        {
            return Err(StoreError::Kdf(format!(
                "Argon2id cost out of range: {self:?}"
            )));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about half a second once per app start, on purpose.
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

/// The passphrase sidecar: not secret, but needed to derive the key again.
#[derive(Debug, Serialize, Deserialize)]
struct KdfSidecar {
    format: u32,
    algorithm: String,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

const SIDECAR_FORMAT: u32 = 1;
const SIDECAR_ALGORITHM: &str = "argon2id-v19";

/// The sidecar path of a store: `<store>.kdf.json`.
pub fn kdf_sidecar_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".kdf.json");
    PathBuf::from(name)
}

fn derive(passphrase: &str, salt: &[u8], params: KdfParams) -> Result<StoreKey> {
    params.check()?;
    let argon_params =
        argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| StoreError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| StoreError::Kdf(e.to_string()))?;
    Ok(StoreKey(out))
}

/// Derives the key of an existing passphrase store from its sidecar.
pub(crate) fn derive_existing(store: &Path, passphrase: &str) -> Result<StoreKey> {
    let path = kdf_sidecar_path(store);
    let unavailable = |why: String| StoreError::KeyUnavailable {
        path: store.to_owned(),
        reason: KeyUnavailableReason::NoPassphraseParams(why),
    };
    let raw = std::fs::read(&path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    let sidecar: KdfSidecar = serde_json::from_slice(&raw)
        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    if sidecar.format != SIDECAR_FORMAT || sidecar.algorithm != SIDECAR_ALGORITHM {
        return Err(unavailable(format!(
            "{}: unknown format {} / {}",
            path.display(),
            sidecar.format,
            sidecar.algorithm
        )));
    }
    let salt = hex::decode(&sidecar.salt).map_err(|e| unavailable(format!("bad salt: {e}")))?;
    if salt.len() < 16 {
        return Err(unavailable("salt too short".into()));
    }
    derive(passphrase, &salt, sidecar.params)
}

/// Makes a fresh salt, writes the sidecar (atomically), and derives the new store's key.
pub(crate) fn derive_new(store: &Path, passphrase: &str, params: KdfParams) -> Result<StoreKey> {
    params.check()?;
    if passphrase.chars().count() < 8 {
        return Err(StoreError::Invalid(
            "the passphrase must have at least 8 characters".into(),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Random(e.to_string()))?;
    let key = derive(passphrase, &salt, params)?;
    let sidecar = KdfSidecar {
        format: SIDECAR_FORMAT,
        algorithm: SIDECAR_ALGORITHM.into(),
        params,
        salt: hex::encode(salt),
    };
    let path = kdf_sidecar_path(store);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| StoreError::Io { path: p, source }
    };
    std::fs::write(&tmp, serde_json::to_vec_pretty(&sidecar)?).map_err(io(&tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_key_material() {
        let key = StoreKey::from_bytes([0xAB; 32]);
        assert_eq!(format!("{key:?}"), "StoreKey(<redacted>)");
        let source = KeySource::raw_key_for_tests_and_benches([0xAB; 32]);
        assert!(!format!("{source:?}").to_lowercase().contains("abab"));
        let source = KeySource::passphrase("correct horse battery");
        assert!(!format!("{source:?}").contains("horse"));
    }

    #[test]
    fn raw_key_pragma_is_hex_blob_literal() {
        let key = StoreKey::from_bytes([0x0f; 32]);
        let pragma = key.pragma();
        assert_eq!(
            pragma.as_str(),
            format!("PRAGMA key = \"x'{}'\";", "0f".repeat(32))
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(StoreKey::generate().unwrap(), StoreKey::generate().unwrap());
    }

    #[test]
    fn kdf_cost_below_the_floor_is_refused() {
        let weak = KdfParams {
            m_cost_kib: 1024,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(matches!(
            derive("passphrase!", &[0; 16], weak),
            Err(StoreError::Kdf(_))
        ));
    }

    #[test]
    fn derivation_is_deterministic_and_salted() {
        let a = derive("passphrase!", &[1; 16], KdfParams::MINIMUM).unwrap();
        let b = derive("passphrase!", &[1; 16], KdfParams::MINIMUM).unwrap();
        let c = derive("passphrase!", &[2; 16], KdfParams::MINIMUM).unwrap();
        let d = derive("passphrase?", &[1; 16], KdfParams::MINIMUM).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}

//! The key in a REAL OS keyring. On Linux that is a Secret Service (gnome-keyring in CI):
//!
//! ```sh
//! dbus-run-session -- sh -c 'echo -n testpw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; cargo test -p teamline-store'
//! ```
//!
//! These tests fail when no keyring is reachable, unless TEAMLINE_NO_KEYRING_TESTS=1 is
//! set explicitly (never silently skipped).

mod common;

use common::*;
use teamline_store::*;
use uuid::Uuid;

/// The keyring, or `None` when the caller opted out; panics when it is unreachable.
fn keyring() -> Option<OsKeyring> {
    if std::env::var("TEAMLINE_NO_KEYRING_TESTS").as_deref() == Ok("1") {
        eprintln!("TEAMLINE_NO_KEYRING_TESTS=1: keyring test not run");
        return None;
    }
    match OsKeyring::connect() {
        Ok(k) => Some(k),
        Err(e) => panic!(
            "no OS keyring reachable ({e}). Run inside a Secret Service session, e.g.\n  \
             dbus-run-session -- sh -c 'echo -n testpw | gnome-keyring-daemon --unlock \
             --components=secrets >/dev/null; cargo test -p teamline-store'\n\
             or set TEAMLINE_NO_KEYRING_TESTS=1 to opt out explicitly"
        ),
    }
}

/// A profile name of its own per test, removed from the keyring at the end.
struct Profile {
    name: String,
    keyring: OsKeyring,
}

impl Profile {
    fn new(keyring: OsKeyring) -> Self {
        Profile {
            name: format!("test-{}", Uuid::now_v7()),
            keyring,
        }
    }
    fn account(&self) -> String {
        keyring_account(&self.name)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = self.keyring.delete(&self.account());
    }
}

#[test]
fn the_key_round_trips_through_the_os_keyring() {
    let Some(kr) = keyring() else { return };
    let p = Profile::new(kr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    assert!(p.keyring.load(&p.account()).unwrap().is_none());

    let mut store = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap();
    let (conv, _) = seed(&mut store, &["keyring canary"]);
    drop(store);

    // The key was made once and saved under the app id; it is what encrypts the file.
    let key = p.keyring.load(&p.account()).unwrap().expect("key saved");
    let direct = Store::open(
        &db,
        KeySource::raw_key_for_tests_and_benches(*key.as_bytes()),
    )
    .unwrap();
    assert_eq!(direct.messages(conv, None, 5).unwrap().len(), 1);
    drop(direct);

    // Reopening through the keyring reuses that key, it does not make a new one.
    let store = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap();
    assert_eq!(store.search("canary", 5).unwrap().len(), 1);
    drop(store);
    assert_eq!(p.keyring.load(&p.account()).unwrap(), Some(key));
}

#[test]
fn a_missing_keyring_entry_fails_closed_and_leaves_the_store_untouched() {
    let Some(kr) = keyring() else { return };
    let p = Profile::new(kr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap();
    seed(&mut store, &["do not lose me"]);
    drop(store);
    p.keyring.delete(&p.account()).unwrap();

    let before = snapshot(dir.path());
    let err = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::KeyUnavailable { path, reason: KeyUnavailableReason::MissingEntry } if path == &db
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "store_key_unavailable");
    assert_eq!(snapshot(dir.path()), before);
    // And no new key was put in the keyring over the old data.
    assert!(p.keyring.load(&p.account()).unwrap().is_none());
}

#[test]
fn a_changed_keyring_entry_gives_wrong_key_and_leaves_the_store_untouched() {
    let Some(kr) = keyring() else { return };
    let p = Profile::new(kr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap();
    seed(&mut store, &["still here"]);
    drop(store);
    let other = StoreKey::generate().unwrap();
    p.keyring.save(&p.account(), &other).unwrap();

    let before = snapshot(dir.path());
    let err = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(p.keyring.load(&p.account()).unwrap(), Some(other));
}

#[cfg(target_os = "linux")]
#[test]
fn a_malformed_keyring_entry_is_reported_not_replaced() {
    let Some(kr) = keyring() else { return };
    let p = Profile::new(kr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    drop(Store::open(&db, KeySource::os_keyring(&p.name)).unwrap());
    // Something else wrote a 5-byte secret under our account.
    keyring_core_set(&p, b"hello");
    let before = snapshot(dir.path());
    let err = Store::open(&db, KeySource::os_keyring(&p.name)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KeyUnavailable {
                reason: KeyUnavailableReason::Malformed,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

/// Writes raw bytes under the profile's account, straight through the Secret Service
/// backend (the store's API only ever saves 32-byte keys).
#[cfg(target_os = "linux")]
fn keyring_core_set(p: &Profile, secret: &[u8]) {
    use keyring_core::api::CredentialStoreApi;
    let backend = zbus_secret_service_keyring_store::Store::new().unwrap();
    let entry = backend.build(APP_ID, &p.account(), None).unwrap();
    entry.set_secret(secret).unwrap();
}

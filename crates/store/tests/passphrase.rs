//! Passphrase mode (chosen explicitly where no keyring exists): Argon2id with a sidecar.

mod common;

use common::*;
use teamline_store::*;

fn pass(p: &str) -> KeySource {
    // The lowest accepted cost keeps debug-build tests fast; the sidecar records it.
    KeySource::passphrase_with_params(p, KdfParams::MINIMUM)
}

#[test]
fn a_passphrase_store_reopens_with_the_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, pass("correct horse battery")).unwrap();
    let (conv, _) = seed(&mut store, &["по паролю"]);
    drop(store);

    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(kdf_sidecar_path(&db)).unwrap()).unwrap();
    assert_eq!(sidecar["algorithm"], "argon2id-v19");
    assert_eq!(sidecar["m_cost_kib"], KdfParams::MINIMUM.m_cost_kib);
    assert_eq!(sidecar["salt"].as_str().unwrap().len(), 32);
    let text = std::fs::read_to_string(kdf_sidecar_path(&db)).unwrap();
    assert!(!text.contains("horse"));

    // The default cost given on reopen is ignored: the sidecar's cost is used.
    let store = Store::open(&db, KeySource::passphrase("correct horse battery")).unwrap();
    assert_eq!(store.messages(conv, None, 5).unwrap().len(), 1);
}

#[test]
fn a_wrong_passphrase_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let mut store = Store::open(&db, pass("correct horse battery")).unwrap();
    seed(&mut store, &["secret"]);
    drop(store);
    let before = snapshot(dir.path());
    let err = Store::open(&db, pass("correct horse batterY")).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_keyring_store_cannot_be_opened_as_a_passphrase_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    drop(Store::open(&db, raw()).unwrap());
    let before = snapshot(dir.path());
    let err = Store::open(&db, pass("correct horse battery")).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::KeyUnavailable {
                reason: KeyUnavailableReason::NoPassphraseParams(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "no sidecar made over an existing store"
    );
}

#[test]
fn weak_choices_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let err = Store::open(&db, pass("short")).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let weak = KdfParams {
        m_cost_kib: 1024,
        ..KdfParams::MINIMUM
    };
    let err = Store::open(
        &db,
        KeySource::passphrase_with_params("long enough passphrase", weak),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Kdf(_)), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

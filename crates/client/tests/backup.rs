//! Exporting the store (PIN re-verified by a real relay, then an encrypted file) and
//! restoring it on a new device that is linked with its own pairing code and syncs on
//! from the backup's cursor.

mod common;

use common::*;
use teamline_client::Client;
use teamline_client::core::Preset;
use teamline_client::store::teamline_backup::{KdfParams, SealOptions};

const PASS: &str = "correct horse battery staple";
const CANARY: &str = "canary-pedido-7f3a9c";
/// The cheapest accepted key-derivation cost (Argon2id is slow in a debug build).
const CHEAP: SealOptions = SealOptions {
    kdf: KdfParams::MINIMUM,
    chunk_size: 64 * 1024,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_exports_with_the_pin_and_a_new_device_restores_and_syncs_on() {
    let env = Env::start().await;
    let old = owner_with(&env, options(&env.dir.path().join("old-laptop"))).await;
    old.start();
    env.customer_says("34611000001", "Ana", CANARY).await;
    env.customer_says("34611000002", "Luis", "¿abren el domingo?")
        .await;
    env.wait_messages(2).await;
    wait_cursor(&old, env.head()).await;

    let out = env.dir.path().join("exports");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("olga.tlbk");
    // A wrong PIN is refused by the relay and writes nothing; so does a weak passphrase,
    // before the PIN is even sent.
    let err = old
        .export_backup_with(&file, "000000", PASS, CHEAP)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "pin_invalid", "{err}");
    let err = old
        .export_backup_with(&file, OWNER_PIN, "short", CHEAP)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "backup_weak_passphrase", "{err}");
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());

    let cursor_before = old.cursor().await.unwrap();
    let exported = old
        .export_backup_with(&file, OWNER_PIN, PASS, CHEAP)
        .await
        .unwrap();
    assert!(exported.audit_seq.is_some());
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(exported.bytes, bytes.len() as u64);
    assert!(!bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()));
    // The export's own audit entry may or may not have reached the store before the copy.
    let head_after_export = env.head();
    old.shutdown().await;

    // The new laptop: a wrong passphrase changes nothing and keeps the pairing code.
    let code = env.code(Preset::Admin, "Olga").await;
    let new_dir = env.dir.path().join("new-laptop");
    let err = Client::restore_backup(
        options(&new_dir),
        &file,
        "not the passphrase",
        &env.relay_url,
        &code,
        &device("New laptop"),
    )
    .await
    .err()
    .expect("wrong passphrase refused");
    assert_eq!(err.code(), "backup_wrong_passphrase", "{err}");
    assert!(!new_dir.join("teamline.db").exists());

    let (new, restored) = Client::restore_backup(
        options(&new_dir),
        &file,
        PASS,
        &env.relay_url,
        &code,
        &device("New laptop"),
    )
    .await
    .unwrap();
    assert!(new.is_linked());
    assert!(
        (cursor_before..=head_after_export).contains(&restored.cursor),
        "{cursor_before} <= {} <= {head_after_export}",
        restored.cursor
    );
    assert_eq!(restored.messages, 2);
    // Offline, before any sync: the history is there and searchable.
    let hits = new.read(|s| s.search("pedido", 10)).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(new.cursor().await.unwrap(), restored.cursor);

    // It syncs on from the backup's cursor: what happened since arrives, nothing is lost.
    env.customer_says("34611000003", "Marta", "after the backup")
        .await;
    env.wait_messages(3).await;
    new.start();
    wait_cursor(&new, env.head()).await;
    let count = new.read(|s| s.message_count()).await.unwrap();
    assert_eq!(count, 3);
    assert_eq!(
        new.read(|s| s.search("after the backup", 5))
            .await
            .unwrap()
            .len(),
        1
    );
    new.shutdown().await;

    // A profile that is already linked is never overwritten by a restore.
    let code = env.code(Preset::Admin, "Olga").await;
    let err = Client::restore_backup(
        options(&new_dir),
        &file,
        PASS,
        &env.relay_url,
        &code,
        &device("New laptop"),
    )
    .await
    .err()
    .expect("already linked");
    assert_eq!(err.code(), "already_linked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_the_export_permission_cannot_export() {
    let env = Env::start().await;
    let admin = owner(&env).await;
    let code = env.code(Preset::Standard, "Ana").await;
    let ana = Client::open(options(&env.dir.path().join("ana")))
        .await
        .unwrap();
    ana.link(&env.relay_url, &code, &device("Ana's laptop"))
        .await
        .unwrap();
    ana.set_own_pin("135790", None).await.unwrap();
    let file = env.dir.path().join("ana.tlbk");
    let err = ana
        .export_backup_with(&file, "135790", PASS, CHEAP)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "permission_denied", "{err}");
    assert!(!file.exists());
    drop(admin);
}

//! Linking and unlinking with the real OS keyring (gnome-keyring in a private D-Bus
//! session): the token and the store key live there, and an unlinked device wipes both
//! and its store files.

mod common;

use common::*;
use teamline_client::profile::load_token;
use teamline_client::{
    Client, ClientError, ClientEvent, Command, ConnectionState, StoreKeyChoice, TokenVault,
};
use teamline_core::Preset;
use teamline_store::{OsKeyring, keyring_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinked_device_wipes_its_store_and_keyring_entries() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let mut opts = options(&dir);
    opts.store_key = StoreKeyChoice::OsKeyring;
    let client = Client::open(opts).await.unwrap();
    let code = env.code(Preset::Standard, "Eli").await;
    let info = client
        .link(&env.relay_url, &code, &device("Shift laptop"))
        .await
        .unwrap();

    // Linked: the profile names relay and device, the secrets are in the keyring only.
    let profile = client.profile();
    let pid = profile.profile_id.clone().unwrap();
    assert_eq!(profile.device_id, Some(info.device_id));
    assert_eq!(profile.relay_url.as_deref(), Some(env.relay_url.as_str()));
    let token = load_token(&pid).unwrap().expect("token in the keyring");
    let profile_json = std::fs::read_to_string(dir.join("profile.json")).unwrap();
    assert!(
        !profile_json.contains(&token.0),
        "the token must not be in profile.json"
    );
    let keyring = OsKeyring::connect().unwrap();
    assert!(keyring.load(&keyring_account(&pid)).unwrap().is_some());
    let header = std::fs::read(dir.join("teamline.db")).unwrap();
    assert!(!header.starts_with(b"SQLite format 3"));

    let mut events = client.subscribe();
    client.start();
    wait_state(&client, ConnectionState::Connected).await;
    env.customer_says("15553330000", "Fay", "something private")
        .await;
    env.wait_messages(1).await;
    wait_cursor(&client, env.head()).await;
    assert!(store_files(&dir).iter().any(|p| p.exists()));

    env.revoke(info.device_id).await;
    wait_state(&client, ConnectionState::Unlinked).await;
    wait_event(&mut events, "the unlinked event", |e| {
        *e == ClientEvent::Unlinked
    })
    .await;

    for f in store_files(&dir) {
        assert!(!f.exists(), "{} must be deleted", f.display());
    }
    assert!(load_token(&pid).unwrap().is_none(), "device token deleted");
    assert!(
        keyring.load(&keyring_account(&pid)).unwrap().is_none(),
        "store key deleted"
    );
    let after = std::fs::read_to_string(dir.join("profile.json")).unwrap();
    assert!(after.contains("unlinked_at"));
    assert!(!after.contains(&info.device_id.to_string()));

    let conv = env.conversation_of("15553330000").await;
    let refused = client
        .send(Command::Claim {
            conversation_id: conv,
        })
        .await;
    assert!(matches!(refused, Err(ClientError::Unlinked)));
    client.shutdown().await;
    drop(client);

    // Restarted, the app still says why, and can be linked again with a new code.
    let mut opts = options(&dir);
    opts.store_key = StoreKeyChoice::OsKeyring;
    let reopened = Client::open(opts).await.unwrap();
    assert_eq!(
        *reopened.connection_state().borrow(),
        ConnectionState::Unlinked
    );
    assert_eq!(
        ConnectionState::UNLINKED_MESSAGE,
        "This device was unlinked by an admin"
    );
    let code = env.code(Preset::Standard, "Eli").await;
    let again = reopened
        .link(&env.relay_url, &code, &device("Shift laptop"))
        .await
        .unwrap();
    assert_ne!(again.device_id, info.device_id);
    reopened.start();
    wait_state(&reopened, ConnectionState::Connected).await;
    reopened.shutdown().await;
    let pid = reopened.profile().profile_id.unwrap();
    let _ = keyring.delete(&keyring_account(&pid));
    let _ = teamline_client::profile::delete_token(&pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_code_is_refused_with_the_relays_code() {
    let env = Env::start().await;
    let code = env.code(Preset::Standard, "Gus").await;
    let first = Client::open(options(&env.dir.path().join("a")))
        .await
        .unwrap();
    first
        .link(&env.relay_url, &code, &device("A"))
        .await
        .unwrap();
    let second = Client::open(options(&env.dir.path().join("b")))
        .await
        .unwrap();
    let err = second
        .link(&env.relay_url, &code, &device("B"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "pairing_rejected");
    assert!(!second.is_linked());
    assert_eq!(
        *second.connection_state().borrow(),
        ConnectionState::NotLinked
    );
}

/// A computer without an OS keyring: the user links with a passphrase. Nothing goes to the
/// keyring (the token lives inside the encrypted store), every start is `Locked` until the
/// passphrase is entered, a wrong one changes nothing, and unlinking still wipes it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_profile_needs_no_keyring_and_starts_locked() {
    let env = Env::start().await;
    let dir = env.dir.path().join("device");
    let vault = TokenVault::memory_for_tests_and_benches();
    let opts = || {
        let mut o = options(&dir);
        o.store_key = StoreKeyChoice::OsKeyring;
        o.token_vault = vault.clone();
        o
    };
    let client = Client::open(opts()).await.unwrap();
    // As the app does: started first, linked later from the join form.
    client.start();
    let code = env.code(Preset::Standard, "Hana").await;
    let short = client
        .link_with_passphrase(&env.relay_url, &code, &device("Kiosk"), "too short")
        .await
        .unwrap_err();
    assert_eq!(short.code(), "invalid_input");
    assert!(!client.is_linked());
    let passphrase = "correct horse battery staple";
    let info = client
        .link_with_passphrase(&env.relay_url, &code, &device("Kiosk"), passphrase)
        .await
        .unwrap();
    let TokenVault::MemoryForTestsAndBenches(kept) = &vault else {
        unreachable!()
    };
    assert!(kept.lock().unwrap().is_none(), "the vault must stay unused");
    let key_mode = || {
        let text = std::fs::read_to_string(dir.join("profile.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["store_key"].as_str().unwrap().to_owned()
    };
    assert_eq!(key_mode(), "passphrase");
    wait_state(&client, ConnectionState::Connected).await;
    env.customer_says("15553331111", "Ivo", "where is my order")
        .await;
    env.wait_messages(1).await;
    wait_cursor(&client, env.head()).await;
    client.shutdown().await;
    drop(client);

    // The next start waits for the passphrase and opens nothing.
    let locked = Client::open(opts()).await.unwrap();
    assert!(locked.is_locked());
    assert_eq!(*locked.connection_state().borrow(), ConnectionState::Locked);
    let refused = locked.read(|s| s.conversations()).await.unwrap_err();
    assert_eq!(refused.code(), "locked");
    locked.start();
    let before: Vec<_> = store_files(&dir)
        .iter()
        .filter(|p| p.exists())
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    let wrong = locked
        .unlock("correct horse battery stapler")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "store_wrong_key");
    assert!(locked.is_locked());
    let after: Vec<_> = before
        .iter()
        .map(|(p, _)| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    assert_eq!(
        before, after,
        "a wrong passphrase must leave the files untouched"
    );

    locked.unlock(passphrase).await.unwrap();
    wait_state(&locked, ConnectionState::Connected).await;
    let conversations = locked.read(|s| s.conversations()).await.unwrap();
    assert_eq!(conversations.len(), 1);

    env.revoke(info.device_id).await;
    wait_state(&locked, ConnectionState::Unlinked).await;
    assert!(!dir.join("teamline.db").exists());
    assert!(!teamline_store::kdf_sidecar_path(&dir.join("teamline.db")).exists());
    assert_eq!(key_mode(), "keyring");
    locked.shutdown().await;
}

//! The audit chain on real SQLite files: the tamper matrix (edited entry, deleted middle,
//! deleted last, everything deleted, same-length rewrite, altered checkpoint), detected by
//! `verify` through the storage API and through the real `teamline-relay audit verify`
//! binary; 1,000 appends from 8 concurrent tasks forming one chain; checkpoints and entries
//! the database refuses to change; retention through a signed cut; sealing old entries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use teamline_core::audit_chain::{Broken, Key};
use teamline_relay::audit::{self, Ctx, Cut, Verification, kind};
use teamline_relay::storage::sqlite::{Options, SqliteStorage};
use teamline_relay::storage::team::AuditSettings;
use teamline_relay::storage::{Audience, NewEvent, Storage};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_teamline-relay");
const KEY: [u8; 32] = *b"an audit key for tests only 0123";

struct Fixture {
    dir: tempfile::TempDir,
    storage: Arc<dyn Storage>,
    /// seq of each entry, by chain position (index 1 at [0]).
    seqs: Vec<u64>,
}

impl Fixture {
    fn db(&self) -> PathBuf {
        self.dir.path().join("relay.db")
    }
}

fn settings(retention_days: i64) -> AuditSettings {
    AuditSettings::new(
        Key::new(KEY.to_vec()).unwrap(),
        SignedDuration::from_hours(24 * retention_days),
    )
}

fn open(path: &Path, audit: AuditSettings) -> Arc<dyn Storage> {
    Arc::new(
        SqliteStorage::open(
            path,
            Options {
                audit: Some(audit),
                ..Options::default()
            },
        )
        .unwrap(),
    )
}

fn ctx(now: Timestamp) -> Ctx {
    Ctx {
        actor_member_id: Some(Uuid::now_v7()),
        device_id: Some(Uuid::now_v7()),
        address: Some("192.0.2.7".into()),
        now,
    }
}

/// Appends one settings change (device cap `from` -> `to`); returns its seq.
async fn append(storage: &Arc<dyn Storage>, from: u64, to: u64, now: Timestamp) -> u64 {
    storage
        .write(move |tx| {
            audit::record(
                tx,
                &ctx(now),
                kind::SETTINGS_UPDATED,
                json!("settings"),
                json!({ "device_cap": from }),
                json!({ "device_cap": to }),
            )
        })
        .await
        .unwrap()
}

/// A relay database with `n` chained entries (device cap 20 -> 21, 21 -> 22, ...).
async fn fixture(n: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(&dir.path().join("relay.db"), settings(90));
    let mut seqs = Vec::new();
    for i in 0..n {
        seqs.push(append(&storage, 20 + i, 21 + i, Timestamp::now()).await);
    }
    Fixture { dir, storage, seqs }
}

async fn verify(storage: &Arc<dyn Storage>) -> Verification {
    storage.read(audit::verify).await.unwrap()
}

/// Writes to the file behind the relay's back, as someone holding only the database
/// would: first dropping the triggers that refuse changes.
fn tamper(db: &Path, sql: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_no_update;
         DROP TRIGGER IF EXISTS audit_log_delete_only_cut;
         DROP TRIGGER IF EXISTS audit_checkpoints_no_update;
         DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;
         DROP TRIGGER IF EXISTS audit_checkpoints_forward_only;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

fn first_broken(v: &Verification) -> (u64, Broken) {
    let b = v
        .report
        .first_broken
        .unwrap_or_else(|| panic!("expected a broken chain: {}", v.words()));
    (b.seq, b.reason)
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_names_its_head() {
    let f = fixture(5).await;
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.checked, 5);
    assert_eq!(v.report.head.seq, f.seqs[4]);
    assert_eq!(v.report.head.count, 5);
    let cp = v.checkpoint.unwrap();
    assert_eq!(
        (cp.seq, cp.count, cp.head_mac),
        (f.seqs[4], 5, v.report.head.mac)
    );
    assert_eq!(
        v.words(),
        format!("audit log intact: 5 entries, head seq {}", f.seqs[4])
    );
    // The listing shows each entry's place and MAC.
    let rows = f.storage.read(|tx| tx.audit(None, 10)).await.unwrap();
    assert_eq!(rows[0].index, Some(5));
    assert_eq!(
        rows[0].mac.as_deref(),
        Some(hex::encode(cp.head_mac).as_str())
    );
}

#[tokio::test]
async fn an_edited_entry_is_a_mac_mismatch_at_that_entry() {
    let f = fixture(5).await;
    tamper(
        &f.db(),
        r#"UPDATE audit_log SET after = '{"device_cap":999}' WHERE chain_index = 3"#,
    );
    let v = verify(&f.storage).await;
    assert_eq!(first_broken(&v), (f.seqs[2], Broken::MacMismatch));
    assert_eq!(v.report.checked, 2);
    assert!(
        v.words().starts_with(&format!(
            "audit log BROKEN at entry {}: MAC mismatch",
            f.seqs[2]
        )),
        "{}",
        v.words()
    );
}

#[tokio::test]
async fn a_same_length_rewrite_is_detected() {
    let f = fixture(5).await;
    let before: String = rusqlite::Connection::open(f.db())
        .unwrap()
        .query_row(
            "SELECT after FROM audit_log WHERE chain_index = 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(before, r#"{"device_cap":24}"#);
    tamper(
        &f.db(),
        r#"UPDATE audit_log SET after = '{"device_cap":94}', address = '192.0.2.9'
           WHERE chain_index = 4"#,
    );
    let v = verify(&f.storage).await;
    assert_eq!(first_broken(&v), (f.seqs[3], Broken::MacMismatch));
}

#[tokio::test]
async fn a_deleted_middle_entry_is_a_gap_at_the_next_entry() {
    let f = fixture(5).await;
    tamper(&f.db(), "DELETE FROM audit_log WHERE chain_index = 3");
    let v = verify(&f.storage).await;
    assert_eq!(
        first_broken(&v),
        (
            f.seqs[3],
            Broken::Gap {
                expected_index: 3,
                found_index: 4
            }
        )
    );
    assert!(v.words().contains("seq gap"), "{}", v.words());
}

#[tokio::test]
async fn a_deleted_last_entry_leaves_the_chain_shorter_than_its_checkpoint() {
    let f = fixture(5).await;
    tamper(&f.db(), "DELETE FROM audit_log WHERE chain_index = 5");
    let v = verify(&f.storage).await;
    assert_eq!(
        first_broken(&v),
        (
            f.seqs[4],
            Broken::ChainShorter {
                checkpoint_count: 5,
                found_count: 4
            }
        )
    );
    // The next append does not paper over it: the chain now has a hole.
    append(&f.storage, 1, 2, Timestamp::now()).await;
    let v = verify(&f.storage).await;
    assert!(matches!(
        first_broken(&v).1,
        Broken::Gap {
            expected_index: 5,
            found_index: 6
        }
    ));
}

#[tokio::test]
async fn every_entry_deleted_is_detected() {
    let f = fixture(4).await;
    tamper(&f.db(), "DELETE FROM audit_log");
    let v = verify(&f.storage).await;
    assert_eq!(
        first_broken(&v),
        (
            f.seqs[3],
            Broken::ChainShorter {
                checkpoint_count: 4,
                found_count: 0
            }
        )
    );
    assert_eq!(v.report.checked, 0);
}

#[tokio::test]
async fn an_altered_checkpoint_fails_its_signature() {
    let f = fixture(4).await;
    // Hide the last entry: delete it and lower the newest checkpoint to match.
    tamper(
        &f.db(),
        "DELETE FROM audit_log WHERE chain_index = 4;
         UPDATE audit_checkpoints SET count = 3, seq = (SELECT seq FROM audit_log WHERE chain_index = 3),
             head_mac = (SELECT mac FROM audit_log WHERE chain_index = 3)
         WHERE id = (SELECT MAX(id) FROM audit_checkpoints)",
    );
    let v = verify(&f.storage).await;
    assert_eq!(first_broken(&v), (f.seqs[2], Broken::CheckpointSignature));
}

#[tokio::test]
async fn entries_moved_between_places_are_caught() {
    let f = fixture(4).await;
    // Swap the content of entries 2 and 3 (each keeps its place and MAC).
    tamper(
        &f.db(),
        "UPDATE audit_log SET chain_index = -2 WHERE chain_index = 2;
         UPDATE audit_log SET chain_index = 2 WHERE chain_index = 3;
         UPDATE audit_log SET chain_index = 3 WHERE chain_index = -2;",
    );
    let v = verify(&f.storage).await;
    assert!(!v.report.ok());
    assert_eq!(first_broken(&v).0, f.seqs[2]);
}

#[tokio::test]
async fn the_cli_reports_intact_and_broken_logs_in_plain_words() {
    let f = fixture(3).await;
    let cfg = f.dir.path().join("relay.toml");
    std::fs::write(
        &cfg,
        format!(
            "database = \"{}\"\naudit_key_file = \"keys/audit.key\"\n",
            f.db().display()
        ),
    )
    .unwrap();
    std::fs::create_dir(f.dir.path().join("keys")).unwrap();
    std::fs::write(f.dir.path().join("keys/audit.key"), hex::encode(KEY)).unwrap();
    let run = || {
        let out = Command::new(BIN)
            .args(["audit", "verify", "--config", cfg.to_str().unwrap()])
            .env("TEAMLINE_RELAY_LOG", "warn")
            .env_remove("TEAMLINE_RELAY_AUDIT_KEY")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run();
    assert!(ok, "{out} {err}");
    assert_eq!(
        out,
        format!("audit log intact: 3 entries, head seq {}", f.seqs[2])
    );
    tamper(
        &f.db(),
        r#"UPDATE audit_log SET kind = 'audit.settings_updatex' WHERE chain_index = 2"#,
    );
    let (ok, out, err) = run();
    assert!(!ok, "a broken log exits non-zero: {out}");
    assert_eq!(
        out,
        format!(
            "audit log BROKEN at entry {}: MAC mismatch: the entry's content does not match its MAC (it was edited)",
            f.seqs[1]
        )
    );
    assert!(err.contains("does not verify"), "{err}");
    assert!(!err.contains(&hex::encode(KEY)) && !out.contains(&hex::encode(KEY)));

    // With the wrong key nothing verifies (and the key is not printed either).
    std::fs::write(f.dir.path().join("keys/audit.key"), "77".repeat(32)).unwrap();
    let (ok, out, _) = run();
    assert!(!ok);
    assert!(out.contains("checkpoint signature invalid"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_appends_from_eight_tasks_form_one_unbroken_chain() {
    let f = fixture(0).await;
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let storage = Arc::clone(&f.storage);
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..125u64 {
                seqs.push(append(&storage, t, i, Timestamp::now()).await);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 1000);
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.checked, 1000);
    assert_eq!(v.report.head.count, 1000);
    // Chain order is append order: positions 1..=1000, seqs increasing along them.
    let links = f
        .storage
        .read(|tx| {
            let mut out = Vec::new();
            tx.audit_scan(&mut |_, l| {
                out.push((l.index.unwrap(), l.seq));
                true
            })?;
            Ok(out)
        })
        .await
        .unwrap();
    let positions: Vec<u64> = links.iter().map(|l| l.0).collect();
    assert_eq!(positions, (1..=1000).collect::<Vec<_>>());
    assert!(links.windows(2).all(|w| w[0].1 < w[1].1));
    all.sort_unstable();
    assert_eq!(all, links.iter().map(|l| l.1).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_database_refuses_to_move_checkpoints_back_or_change_entries() {
    let f = fixture(3).await;
    let c = rusqlite::Connection::open(f.db()).unwrap();
    let refused = |sql: &str| {
        let e = c.execute_batch(sql).expect_err(sql).to_string();
        assert!(e.contains("audit"), "{sql}: {e}");
        e
    };
    assert!(
        refused("UPDATE audit_checkpoints SET seq = 0, count = 0").contains("cannot be changed")
    );
    assert!(
        refused("UPDATE audit_checkpoints SET count = count + 1").contains("cannot be changed")
    );
    assert!(refused("DELETE FROM audit_checkpoints").contains("cannot be deleted"));
    assert!(
        refused(
            "INSERT INTO audit_checkpoints (seq, count, head_mac, cut_count, cut_seq, cut_mac, created_at, sig)
             VALUES (1, 1, x'00', 0, 0, x'00', 0, x'00')"
        )
        .contains("cannot move backwards")
    );
    assert!(
        refused("UPDATE audit_log SET after = 'null' WHERE chain_index = 1")
            .contains("cannot be changed")
    );
    assert!(
        refused("DELETE FROM audit_log WHERE chain_index = 1")
            .contains("only through a retention checkpoint")
    );
    drop(c);
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.checked, 3);
}

#[tokio::test]
async fn a_failed_write_job_takes_its_audit_entry_and_checkpoint_back() {
    let f = fixture(2).await;
    let err = f
        .storage
        .write(|tx| -> teamline_relay::storage::StorageResult<()> {
            audit::record(
                tx,
                &ctx(Timestamp::now()),
                kind::SETTINGS_UPDATED,
                json!("settings"),
                Value::Null,
                Value::Null,
            )?;
            Err(teamline_relay::storage::StorageError::Backend(
                "refused".into(),
            ))
        })
        .await;
    assert!(err.is_err());
    append(&f.storage, 1, 2, Timestamp::now()).await;
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.head.count, 3);
}

#[tokio::test]
async fn retention_cuts_old_entries_through_a_signed_checkpoint_and_the_rest_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let storage = open(&db, settings(90));
    let t0 = Timestamp::now() - SignedDuration::from_hours(24 * 120);
    let mut old = Vec::new();
    for i in 0..4 {
        old.push(append(&storage, i, i + 1, t0 + SignedDuration::from_mins(i as i64)).await);
    }
    let recent_at = Timestamp::now() - SignedDuration::from_hours(24);
    for i in 0..2 {
        append(&storage, 10 + i, 11 + i, recent_at).await;
    }
    let now = Timestamp::now();

    // Nothing is cut while the old part does not verify: the evidence stays.
    tamper(
        &db,
        "UPDATE audit_log SET before = 'null' WHERE chain_index = 2",
    );
    let cut = storage
        .write(move |tx| audit::cut_expired(tx, now))
        .await
        .unwrap();
    assert!(matches!(cut, Cut::Refused(b) if b.seq == old[1] && b.reason == Broken::MacMismatch));
    assert_eq!(
        storage.read(|tx| tx.audit(None, 100)).await.unwrap().len(),
        6
    );
    drop(storage);

    // A clean log of the same shape is cut, and what is left verifies from the cut.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let storage = open(&db, settings(90));
    let mut old = Vec::new();
    for i in 0..4 {
        old.push(append(&storage, i, i + 1, t0 + SignedDuration::from_mins(i as i64)).await);
    }
    for i in 0..2 {
        append(&storage, 10 + i, 11 + i, recent_at).await;
    }
    let cut = storage
        .write(move |tx| audit::cut_expired(tx, now))
        .await
        .unwrap();
    assert_eq!(
        cut,
        Cut::Removed {
            through_index: 4,
            through_seq: old[3],
            removed: 4
        }
    );
    let rows = storage.read(|tx| tx.audit(None, 100)).await.unwrap();
    assert_eq!(rows.len(), 3, "two recent entries and the cut's own entry");
    assert_eq!(rows[0].kind, kind::ENTRIES_EXPIRED);
    assert_eq!(rows[0].after["removed"], 4);
    let v = verify(&storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.checked, 3);
    assert_eq!(v.report.head.count, 7);
    let cp = v.checkpoint.unwrap();
    assert_eq!((cp.cut_count, cp.cut_seq), (4, old[3]));
    // A second pass has nothing to do.
    let again = storage
        .write(move |tx| audit::cut_expired(tx, now))
        .await
        .unwrap();
    assert_eq!(again, Cut::Nothing);
    // Deleting one more entry than the cut allows is still caught.
    tamper(&db, "DELETE FROM audit_log WHERE chain_index = 5");
    let v = verify(&storage).await;
    assert!(matches!(
        first_broken(&v).1,
        Broken::Gap {
            expected_index: 5,
            found_index: 6
        }
    ));
}

#[tokio::test]
async fn entries_written_before_the_chain_existed_are_sealed_once() {
    let f = fixture(0).await;
    // Their `audit.*` events, then the rows as schema 3 wrote them: no place in the chain,
    // no MAC.
    for _ in 0..2 {
        f.storage
            .write(|tx| {
                tx.append_event(NewEvent {
                    kind: kind::MEMBER_UPDATED,
                    conversation_id: None,
                    audience: Audience::AuditLog,
                    also_member: None,
                    payload: json!({}),
                    created_at: Timestamp::now(),
                })
            })
            .await
            .unwrap();
    }
    tamper(
        &f.db(),
        r#"INSERT INTO audit_log (seq, kind, actor_member_id, device_id, address, target, before, after, created_at)
           VALUES (1, 'audit.member_created', NULL, NULL, '10.0.0.1', '{"member_id":"m"}', 'null', '{"name":"Ana"}', 1700000000000),
                  (2, 'audit.member_updated', NULL, NULL, '10.0.0.1', '{"member_id":"m"}', '{"name":"Ana"}', '{"name":"Anna"}', 1700000001000)"#,
    );
    let v = verify(&f.storage).await;
    assert_eq!(first_broken(&v), (1, Broken::NotSealed));
    f.storage.write(audit::seal_legacy).await.unwrap();
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!((v.report.checked, v.report.head.seq), (2, 2));
    // Sealing twice changes nothing; new entries continue the chain.
    f.storage.write(audit::seal_legacy).await.unwrap();
    append(&f.storage, 1, 2, Timestamp::now()).await;
    let v = verify(&f.storage).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.head.count, 3);
    // Once sealed, the old rows are protected like the rest.
    tamper(
        &f.db(),
        r#"UPDATE audit_log SET after = '{"name":"Annx"}' WHERE seq = 2"#,
    );
    assert_eq!(
        first_broken(&verify(&f.storage).await),
        (2, Broken::MacMismatch)
    );
}

#[tokio::test]
async fn a_chain_verified_with_another_key_fails_and_reopening_with_the_same_key_continues() {
    let f = fixture(3).await;
    let db = f.db();
    drop(f.storage);
    let other = open(
        &db,
        AuditSettings::new(
            Key::new(vec![9; 32]).unwrap(),
            SignedDuration::from_hours(24),
        ),
    );
    assert_eq!(
        first_broken(&verify(&other).await).1,
        Broken::CheckpointSignature
    );
    drop(other);
    let same = open(&db, settings(90));
    append(&same, 1, 2, Timestamp::now()).await;
    let v = verify(&same).await;
    assert!(v.report.ok(), "{}", v.words());
    assert_eq!(v.report.checked, 4);
}

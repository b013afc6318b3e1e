//! The Audit page's calls through the client against a real relay: filtered pages,
//! exports with the PIN, and "Verify" remembering the relay's head in the store so a relay
//! whose log goes back (an old copy restored, a log replaced) raises a warning.

mod common;

use common::*;
use teamline_client::core::Preset;
use teamline_client::store::rusqlite;
use teamline_client::team::{AuditFilter, AuditFormat};
use teamline_client::{Client, MemberChange};

async fn add_member(client: &Client, name: &str) {
    let standard = MemberChange {
        preset: Some(Preset::Standard),
        ..MemberChange::default()
    };
    client
        .create_member(name, &standard, OWNER_PIN)
        .await
        .unwrap();
}

/// Changes the relay's database file behind its back, as restoring an old copy or
/// swapping the log would (the triggers that refuse such changes are dropped first).
fn rewrite_relay_db(env: &Env, sql: &str) {
    let c = rusqlite::Connection::open(env.dir.path().join("relay.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute_batch(
        "DROP TRIGGER audit_log_delete_only_cut; DROP TRIGGER audit_checkpoints_no_delete;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_remembers_the_head_and_warns_when_the_relay_log_goes_back() {
    let env = Env::start().await;
    let client = owner(&env).await;
    add_member(&client, "Ana").await;

    let first = client.verify_audit().await.unwrap();
    assert!(first.ok, "{first:?}");
    assert!(first.rolled_back.is_none());
    let page = client.audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(first.checked as usize, page.entries.len());
    assert_eq!(first.head_seq, page.entries[0].seq);
    assert_eq!(
        Some(first.head_mac.as_str()),
        page.entries[0].mac.as_deref()
    );

    add_member(&client, "Bo").await;
    let second = client.verify_audit().await.unwrap();
    assert!(second.ok && second.rolled_back.is_none(), "{second:?}");
    assert!(second.head_count > first.head_count);

    // The relay is put back to the first state, as restoring an old copy would: what is
    // left verifies on the relay, but this device saw more.
    rewrite_relay_db(
        &env,
        &format!(
            "DELETE FROM audit_log WHERE seq > {s}; DELETE FROM audit_checkpoints WHERE seq > {s};",
            s = first.head_seq
        ),
    );
    let third = client.verify_audit().await.unwrap();
    assert!(third.ok, "the relay's own check passes: {third:?}");
    assert_eq!(third.head_seq, first.head_seq);
    let warning = third.rolled_back.expect("a rollback warning");
    assert_eq!(warning.code, "head_behind");
    assert_eq!(warning.remembered.seq, second.head_seq);
    assert_eq!(warning.remembered.count, second.head_count);
    assert!(warning.message.contains("went back"), "{}", warning.message);
    // The remembered head is not lowered: the warning stays.
    let again = client.verify_audit().await.unwrap();
    assert_eq!(
        again.rolled_back.map(|r| r.code).as_deref(),
        Some("head_behind")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_log_is_caught_even_after_the_relay_moved_past_the_remembered_head() {
    let env = Env::start().await;
    let client = owner(&env).await;
    add_member(&client, "Ana").await;
    let seen = client.verify_audit().await.unwrap();
    assert!(seen.ok && seen.rolled_back.is_none(), "{seen:?}");

    // The whole log is swapped for a fresh one that grows past the old head.
    rewrite_relay_db(
        &env,
        "DELETE FROM audit_log; DELETE FROM audit_checkpoints;",
    );
    for i in 0..=seen.head_count {
        add_member(&client, &format!("New {i}")).await;
    }
    let now = client.verify_audit().await.unwrap();
    assert!(now.ok, "the new log verifies on its own: {now:?}");
    assert!(now.head_seq > seen.head_seq && now.head_count > seen.head_count);
    let warning = now.rolled_back.expect("a replaced log is caught");
    assert_eq!(warning.code, "head_replaced");
    assert!(warning.message.contains("is gone"), "{}", warning.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_filter_and_exports_need_the_pin() {
    let env = Env::start().await;
    let client = owner(&env).await;
    for name in ["Ana", "Bo", "Cy"] {
        add_member(&client, name).await;
    }
    let members = client
        .audit(&AuditFilter {
            action: Some("member_created".into()),
            limit: Some(2),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(members.entries.len(), 2);
    assert!(
        members
            .entries
            .iter()
            .all(|e| e.kind == "audit.member_created")
    );
    let rest = client
        .audit(&AuditFilter {
            action: Some("member_created".into()),
            before: members.next_before,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.entries[0].after["name"], "Ana");

    let wrong = client
        .export_audit(AuditFormat::Csv, &AuditFilter::default(), "000000")
        .await
        .unwrap_err();
    assert_eq!(relay_code(&wrong), "pin_invalid");
    let csv = client
        .export_audit(AuditFormat::Csv, &AuditFilter::default(), OWNER_PIN)
        .await
        .unwrap();
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(csv.file_name.ends_with(".csv"));
    assert!(
        csv.body.starts_with("seq,index,created_at,kind,"),
        "{}",
        csv.body
    );
    let json = client
        .export_audit(
            AuditFormat::Json,
            &AuditFilter {
                action: Some("member".into()),
                ..AuditFilter::default()
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let names: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "audit.member_created")
        .map(|e| e["after"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ana", "Bo", "Cy"]);
    let exports = client
        .audit(&AuditFilter {
            action: Some("exported".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(exports.entries.len(), 2);
    assert!(client.verify_audit().await.unwrap().ok);
}

/// The Alerts and Advisor tabs' calls: three members added within the hour raise the
/// burst alert, which is acknowledged with a comment and the PIN; a member who may both
/// delete history and broadcast gets advice whose one-click fix removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_acknowledged_and_advice_is_fixed_in_one_click() {
    use teamline_client::core::{Permission, PermissionSet};

    let env = Env::start().await;
    let client = owner(&env).await;
    for name in ["Ana", "Ben", "Cai"] {
        add_member(&client, name).await;
    }
    let open = client.alerts(true, None).await.unwrap();
    let burst = open
        .alerts
        .iter()
        .find(|a| a.rule == "permission_change_burst")
        .unwrap_or_else(|| panic!("a burst alert: {open:?}"));
    assert!(burst.acknowledged.is_none());
    assert!(!burst.summary.is_empty());

    let refused = client
        .acknowledge_alert(burst.id, "   ", OWNER_PIN)
        .await
        .unwrap_err();
    assert_eq!(relay_code(&refused), "comment_required");
    let acked = client
        .acknowledge_alert(burst.id, "Onboarding the new shift", OWNER_PIN)
        .await
        .unwrap();
    let ack = acked.acknowledged.expect("acknowledged");
    assert_eq!(ack.comment, "Onboarding the new shift");
    let still_open = client.alerts(true, None).await.unwrap();
    assert!(still_open.alerts.iter().all(|a| a.id != burst.id));

    let mut thresholds = client.alert_thresholds().await.unwrap();
    thresholds.permission_change_burst.count = 5;
    let saved = client
        .set_alert_thresholds(&thresholds, OWNER_PIN)
        .await
        .unwrap();
    assert_eq!(saved.permission_change_burst.count, 5);
    assert_eq!(client.alert_thresholds().await.unwrap(), saved);

    let risky = MemberChange {
        toggles: Some(PermissionSet::from([
            Permission::Reply,
            Permission::DeleteHistory,
            Permission::SendBroadcasts,
        ])),
        ..MemberChange::default()
    };
    let dana = client
        .create_member("Dana", &risky, OWNER_PIN)
        .await
        .unwrap();
    let report = client.advisor().await.unwrap();
    let advice = report
        .advice
        .iter()
        .find(|a| a.code == "delete_and_broadcast" && a.member_ids.contains(&dana.id))
        .unwrap_or_else(|| panic!("delete-and-broadcast advice: {report:?}"));
    let fix = advice
        .fixes
        .iter()
        .find(|f| f.remove_toggles.member_id == dana.id)
        .expect("a one-click fix for Dana");
    assert!(fix.toggles_after.is_some());
    // The fix crosses IPC as JSON and comes back: it must read back the same.
    let round_trip: teamline_client::AdviceFix =
        serde_json::from_value(serde_json::to_value(fix).unwrap()).unwrap();
    assert_eq!(&round_trip, fix);
    let fixed = client
        .apply_advice_fix(&round_trip, OWNER_PIN)
        .await
        .unwrap();
    assert!(
        !(fixed.permissions.contains(Permission::DeleteHistory)
            && fixed.permissions.contains(Permission::SendBroadcasts))
    );
    let after = client.advisor().await.unwrap();
    assert!(
        after
            .advice
            .iter()
            .all(|a| !(a.code == "delete_and_broadcast" && a.member_ids.contains(&dana.id))),
        "{after:?}"
    );
}

/// An alert raised on the relay reaches an admin's desktop as a native notification
/// (through the engine's notifier; the desktop daemon itself is tested in notifications.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_alert_notifies_the_admins_desktop() {
    let env = Env::start().await;
    let shown = Recorded::default();
    let mut opts = options(&env.dir.path().join("owner"));
    opts.notifier = Some(std::sync::Arc::new(shown.clone()));
    let client = owner_with(&env, opts).await;
    client.start();
    wait_state(&client, teamline_client::ConnectionState::Connected).await;
    // Caught up first: what arrives in the first catch-up after linking is history and
    // notifies nobody.
    wait_cursor(&client, env.head()).await;
    for name in ["Ana", "Ben", "Cai"] {
        add_member(&client, name).await;
    }
    shown
        .wait_for("the security notification", |n| {
            n.title == "Teamline security alert" && n.body.contains("3")
        })
        .await;
    client.shutdown().await;
}

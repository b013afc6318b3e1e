//! The Team page's calls through the client against a real relay: PIN-guarded changes,
//! pairing codes that link a second device, unlinking it, and a shared device where a
//! member signs in with their PIN.

mod common;

use common::*;
use teamline_client::core::{DeviceLevel, Permission, PermissionSet, Preset};
use teamline_client::{
    Client, ConnectionState, DeviceChange, MemberChange, NewPairingCode, TemplateDraft,
};

/// A new member on the Standard preset.
fn standard() -> MemberChange {
    MemberChange {
        preset: Some(Preset::Standard),
        ..MemberChange::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_created_and_changed_only_with_the_pin() {
    let env = Env::start().await;
    let client = owner(&env).await;

    let members = client.team_members().await.unwrap();
    let olga = members
        .iter()
        .find(|m| m.name == "Olga")
        .expect("owner listed");
    assert!(olga.has_pin && olga.active);
    assert_eq!(olga.permissions, PermissionSet::all());

    // No PIN or a wrong one: refused with the relay's codes, nothing created.
    let wrong = client
        .create_member("Ana", &standard(), "000000")
        .await
        .unwrap_err();
    assert_eq!(relay_code(&wrong), "pin_invalid");
    assert_eq!(client.team_members().await.unwrap().len(), 1);

    let ana = client
        .create_member("Ana", &standard(), OWNER_PIN)
        .await
        .unwrap();
    assert_eq!(ana.permissions, Preset::Standard.permissions());
    assert!(
        ana.summary.to_lowercase().contains("reply"),
        "{}",
        ana.summary
    );

    // One toggle changed on top of the preset: the preset no longer matches.
    let changed = client
        .update_member(
            ana.id,
            &MemberChange {
                toggles: Some(
                    Preset::Standard
                        .permissions()
                        .with(Permission::ExportHistory),
                ),
                ..MemberChange::default()
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    assert!(changed.permissions.contains(Permission::ExportHistory));
    assert_eq!(changed.matches_preset, None);

    // A night-shift template applies to her.
    let template = client
        .save_template(
            None,
            &TemplateDraft {
                name: "Night shift".into(),
                deny: PermissionSet::EMPTY.with(Permission::ExportHistory),
                windows: vec![
                    serde_json::from_value(serde_json::json!({
                        "permissions": ["reply"],
                        "window": {"start": "23:00", "end": "07:00"}
                    }))
                    .unwrap(),
                ],
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    assert!(template.summary.contains("23:00"), "{}", template.summary);
    let with_template = client
        .update_member(
            ana.id,
            &MemberChange {
                templates: Some(vec![template.template.id]),
                ..MemberChange::default()
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    assert_eq!(with_template.templates, vec![template.template.id]);
    let listed = client.team_templates().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].members, vec![ana.id]);

    let gone = client.deactivate_member(ana.id, OWNER_PIN).await.unwrap();
    assert!(!gone.active);
    let settings = client.team_settings().await.unwrap();
    assert_eq!(settings.device_cap, 20);
    assert_eq!(settings.timezone, "UTC");
    let settings = client
        .update_team_settings(Some(5), Some(true), OWNER_PIN)
        .await
        .unwrap();
    assert_eq!((settings.device_cap, settings.auto_unlink_idle), (5, true));
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairing_code_from_the_app_links_a_device_that_the_app_can_unlink() {
    let env = Env::start().await;
    let client = owner(&env).await;
    let code = client
        .create_pairing_code(&NewPairingCode {
            level: DeviceLevel::Preset(Preset::Standard),
            member_id: None,
            member_name: Some("Ben".into()),
            shared: false,
            members: None,
        })
        .await
        .unwrap();
    let left = code.expires_at.duration_since(jiff::Timestamp::now());
    assert!(
        left.as_secs() > 60 && left.as_secs() <= 90,
        "valid 90 s: {left:?}"
    );

    let laptop = Client::open(options(&env.dir.path().join("laptop")))
        .await
        .unwrap();
    let linked = laptop
        .link(&env.relay_url, &code.code, &device("Ben's laptop"))
        .await
        .unwrap();
    laptop.start();
    wait_state(&laptop, ConnectionState::Connected).await;

    let devices = client.team_devices().await.unwrap();
    assert_eq!(devices.device_cap, 20);
    let ben = devices
        .devices
        .iter()
        .find(|d| d.id == linked.device_id)
        .expect("the new device is listed");
    assert_eq!(ben.name, "Ben's laptop");
    assert_eq!(ben.level, DeviceLevel::Preset(Preset::Standard));
    assert!(!ben.idle);

    let renamed = client
        .update_device(
            ben.id,
            &DeviceChange {
                name: Some("Shift laptop".into()),
                level: Some(DeviceLevel::Preset(Preset::Restricted)),
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Shift laptop");

    // Unlinking needs the PIN; then the laptop learns it and wipes itself.
    let refused = client.unlink_device(ben.id, "111111").await.unwrap_err();
    assert_eq!(relay_code(&refused), "pin_invalid");
    client.unlink_device(ben.id, OWNER_PIN).await.unwrap();
    laptop.reconnect_now();
    wait_state(&laptop, ConnectionState::Unlinked).await;
    assert!(!env.dir.path().join("laptop/teamline.db").exists());
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sign_in_on_a_shared_device_with_their_pin() {
    let env = Env::start().await;
    let client = owner(&env).await;
    let pin = "135790";
    let cara = client
        .create_member("Cara", &standard(), OWNER_PIN)
        .await
        .unwrap();
    client
        .reset_member_pin(cara.id, pin, OWNER_PIN)
        .await
        .unwrap();
    let code = client
        .create_pairing_code(&NewPairingCode {
            level: DeviceLevel::Preset(Preset::Standard),
            member_id: None,
            member_name: None,
            shared: true,
            members: Some(vec![cara.id]),
        })
        .await
        .unwrap();

    let shift = Client::open(options(&env.dir.path().join("shift")))
        .await
        .unwrap();
    shift
        .link(&env.relay_url, &code.code, &device("Shift laptop"))
        .await
        .unwrap();
    shift.refresh_me().await.unwrap();
    let me = shift.me().expect("me after linking");
    let shared = me.shared.expect("a shared device lists who may sign in");
    assert_eq!(shared.signed_in, None);
    assert_eq!(
        shared
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Cara"]
    );
    assert!(me.permissions.is_empty(), "signed out sees nothing");

    let wrong = shift.sign_in(cara.id, "000000").await.unwrap_err();
    assert_eq!(relay_code(&wrong), "pin_invalid");
    let signed = shift.sign_in(cara.id, pin).await.unwrap();
    assert_eq!(signed.name, "Cara");
    let me = shift.me().unwrap();
    assert_eq!(me.member_name, "Cara");
    assert!(me.permissions.contains(Permission::Reply));
    assert_eq!(me.shared.unwrap().signed_in, Some(cara.id));

    shift.sign_out().await.unwrap();
    assert!(shift.me().unwrap().permissions.is_empty());
    client.shutdown().await;
}

//! The team directory: every device knows every member's name (who handles a
//! conversation, who wrote a note, whom to @mention), while presets and toggles stay with
//! the devices that manage the team.

mod common;

use common::*;
use teamline_client::{Client, MemberChange};
use teamline_core::Preset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_without_team_management_names_assignees_and_follows_renames_and_new_members() {
    let env = Env::start().await;
    let owner = owner(&env).await;
    let olga = owner.me().expect("linked").member_id;
    env.customer_says("15550003333", "Ivan Petrov", "Где мой заказ?")
        .await;
    env.wait_messages(1).await;
    let conversation = env.conversation_of("15550003333").await;
    env.assign(conversation, olga).await;

    // Ana's device (Supervisor: sees every conversation, cannot manage the team) links
    // after all that.
    let ana = Client::open(options(&env.dir.path().join("ana")))
        .await
        .unwrap();
    let code = env.code(Preset::Supervisor, "Ana").await;
    ana.link(&env.relay_url, &code, &device("Shift laptop"))
        .await
        .unwrap();
    ana.start();
    assignee_becomes(&ana, "Olga").await;

    // A rename and a member added on the Team page reach Ana's device too.
    owner
        .update_member(
            olga,
            &MemberChange {
                name: Some("Olga K.".into()),
                ..MemberChange::default()
            },
            OWNER_PIN,
        )
        .await
        .unwrap();
    let sam = owner
        .create_member("Sam", &MemberChange::default(), OWNER_PIN)
        .await
        .unwrap();
    assignee_becomes(&ana, "Olga K.").await;
    names_become(&ana, &["Ana", "Olga K.", "Sam"]).await;

    // A deactivated member leaves the @mention list but still names their history.
    owner.deactivate_member(sam.id, OWNER_PIN).await.unwrap();
    names_become(&ana, &["Ana", "Olga K."]).await;
    ana.shutdown().await;
    owner.shutdown().await;
}

/// Waits until the device's only conversation shows `name` as its assignee. (Its cursor
/// never reaches the relay's head: the last events are for team managers only.)
async fn assignee_becomes(client: &Client, name: &str) {
    let mut events = client.subscribe();
    within(&format!("assignee {name}"), async {
        loop {
            let rows = client.inbox().await.unwrap();
            if rows.len() == 1 && rows[0].assignee.as_ref().is_some_and(|a| a.name == name) {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
}

/// Waits until the device's @mention list is exactly `want`.
async fn names_become(client: &Client, want: &[&str]) {
    let mut events = client.subscribe();
    within(&format!("member names {want:?}"), async {
        loop {
            let names: Vec<String> = client
                .member_names()
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.name)
                .collect();
            if names == want {
                return;
            }
            let _ = events.recv().await;
        }
    })
    .await;
}

//! Contacts through the client against a real relay and whatsapp-sim: a CSV preview with
//! per-row errors (the reader's and the relay's), the import replicated to a Standard
//! device's store, local search, edits, the customer panel's detail, and what Restricted
//! and Standard devices may not do.

mod common;

use common::*;
use teamline_client::core::Preset;
use teamline_client::{Client, ClientError, ConnectionState, ContactUpdate, CsvSource};

async fn linked(env: &Env, preset: Preset, member: &str, dir: &str) -> Client {
    let client = Client::open(options(&env.dir.path().join(dir)))
        .await
        .unwrap();
    let code = env.code(preset, member).await;
    client
        .link(&env.relay_url, &code, &device(dir))
        .await
        .unwrap();
    client.start();
    wait_state(&client, ConnectionState::Connected).await;
    client
}

fn code_of(e: &ClientError) -> String {
    e.code()
}

/// Waits until `check` holds on `client`, re-checking after each client event (a device's
/// cursor only moves with events it may see, so waiting for the relay's head would not do).
async fn until<F, Fut>(client: &Client, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut events = client.subscribe();
    within(what, async {
        while !check().await {
            let _ = events.recv().await;
        }
    })
    .await;
}

const CSV: &str = "\u{feff}Name,Phone,Monthly Spend USD,VIP,City\r\n\
\"Петрова, Анна\",+7 912 345-67-89,\"1 200\",да,Москва\r\n\
王伟,+86 138 0013 8000,600,yes,上海\r\n\
Bad,12ab,,,\r\n\
Twin,8613800138000,,,\r\n\
Typo,+1 415 555 0101,lots,,\r\n\
Extra,+1 415 555 0102,1,no,Rome,surplus\r\n\
\"Smith, John\",+44 20 7946 0958,,no,London\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_preview_then_import_reaches_contact_viewers_stores() {
    let env = Env::start().await;
    let owner = owner(&env).await;
    owner.start();
    let sam = linked(&env, Preset::Standard, "Sam", "sam").await;
    let rita = linked(&env, Preset::Restricted, "Rita", "rita").await;
    env.customer_says("79123456789", "Anna", "Здравствуйте")
        .await;
    env.wait_messages(1).await;
    wait_cursor(&sam, env.head()).await;

    // The preview: reader errors and relay errors side by side, in file order.
    let preview = owner
        .import_contacts_csv(CsvSource::Text { text: CSV.into() }, true)
        .await
        .unwrap();
    assert!(preview.dry_run);
    assert_eq!(preview.columns, ["monthly_spend_usd", "vip", "city"]);
    let statuses: Vec<(u32, &str, Vec<&str>)> = preview
        .rows
        .iter()
        .map(|r| {
            (
                r.row,
                r.status.as_str(),
                r.errors.iter().map(|e| e.code.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (2, "update", vec![]),
            (3, "create", vec![]),
            (4, "error", vec!["invalid_number"]),
            (5, "error", vec!["duplicate_number"]),
            (6, "error", vec!["invalid_number_value"]),
            (7, "error", vec!["too_many_fields"]),
            (8, "create", vec![]),
        ]
    );
    assert_eq!(preview.rows[3].errors[0].first_row, Some(3));
    // Refused rows show what the file says, so the preview can point at it.
    let (bad_number, typo) = (&preview.rows[2], &preview.rows[4]);
    assert_eq!(
        (bad_number.name.as_deref(), bad_number.number.as_str()),
        (Some("Bad"), "12ab")
    );
    assert_eq!(typo.attributes["monthly_spend_usd"], "lots");
    assert_eq!(preview.rows[1].number, "+86 138 0013 8000");
    assert_eq!(
        (
            preview.counts.rows,
            preview.counts.created,
            preview.counts.updated,
            preview.counts.rejected
        ),
        (7, 2, 1, 4)
    );
    assert_eq!(
        owner.contacts("", 0, 50).await.unwrap().total,
        0,
        "a preview writes nothing"
    );

    // The import: Sam's store gets the contacts from the relay's events.
    let done = owner
        .import_contacts_csv(CsvSource::Text { text: CSV.into() }, false)
        .await
        .unwrap();
    assert_eq!(done.counts.created + done.counts.updated, 3);
    until(&sam, "the imported contacts on Sam's device", || async {
        sam.contacts("", 0, 50).await.unwrap().total == 3
    })
    .await;
    let page = sam.contacts("", 0, 50).await.unwrap();
    assert_eq!(page.total, 3, "{page:?}");
    let found = sam.contacts("аННа", 0, 50).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].name.as_deref(), Some("Петрова, Анна"));
    assert_eq!(found.items[0].attributes["monthly_spend_usd"], 1200);
    assert_eq!(
        sam.contacts("+86 138", 0, 50).await.unwrap().items[0]
            .name
            .as_deref(),
        Some("王伟")
    );

    // The customer panel: attributes, the conversation (renamed in the inbox too).
    let anna = sam.contact("79123456789").await.unwrap().expect("known");
    assert_eq!(anna.profile_name.as_deref(), Some("Anna"));
    assert_eq!(anna.attributes["vip"], true);
    assert_eq!(anna.conversations.len(), 1);
    assert_eq!(anna.conversations[0].status, "open");
    assert!(anna.can_view_contact && !anna.can_edit);
    let inbox = sam.inbox().await.unwrap();
    assert_eq!(inbox[0].customer_name, "Петрова, Анна");

    // Standard may not edit, Restricted may not list; both refused locally with the
    // relay's codes.
    let e = sam
        .update_contact("79123456789", &ContactUpdate::default())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "permission_denied");
    let e = sam
        .import_contacts_csv(CsvSource::Text { text: CSV.into() }, true)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "permission_denied");
    assert_eq!(
        code_of(&rita.contacts("", 0, 10).await.unwrap_err()),
        "permission_denied"
    );
    assert!(rita.contact("8613800138000").await.unwrap().is_none());

    // An edit from the owner reaches Sam.
    let mut update = ContactUpdate {
        name: Some("Anna P.".into()),
        ..ContactUpdate::default()
    };
    update
        .attributes
        .insert("monthly_spend_usd".into(), serde_json::json!(450));
    update
        .attributes
        .insert("city".into(), serde_json::Value::Null);
    let edited = owner.update_contact("79123456789", &update).await.unwrap();
    assert_eq!(edited.name.as_deref(), Some("Anna P."));
    assert_eq!(
        edited.attributes,
        serde_json::json!({"monthly_spend_usd": 450, "vip": true})
    );
    until(&sam, "the edit on Sam's device", || async {
        sam.contact("79123456789")
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref()
            == Some("Anna P.")
    })
    .await;
    let anna = sam.contact("79123456789").await.unwrap().unwrap();
    assert_eq!(anna.attributes["monthly_spend_usd"], 450);
    // The inbox shows the team's name too, and a later message (with the WhatsApp profile
    // name) does not put the old name back.
    env.customer_says("79123456789", "Anna", "Ещё вопрос").await;
    env.wait_messages(2).await;
    wait_cursor(&sam, env.head()).await;
    wait_cursor(&owner, env.head()).await;
    let rows = sam.inbox().await.unwrap();
    assert_eq!(rows[0].customer_name, "Anna P.");
    assert_eq!(owner.inbox().await.unwrap()[0].customer_name, "Anna P.");

    // A device linked later fetches the list.
    let lena = linked(&env, Preset::Supervisor, "Lena", "lena").await;
    assert_eq!(lena.refresh_contacts().await.unwrap(), 3);
    assert_eq!(lena.contacts("", 0, 50).await.unwrap().total, 3);
    let attrs: Vec<String> = lena
        .contact_attributes()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert_eq!(attrs, ["city", "email", "monthly_spend_usd", "vip"]);

    for c in [owner, sam, rita, lena] {
        c.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_read_from_disk_and_bad_files_are_refused_before_sending() {
    let env = Env::start().await;
    let owner = owner(&env).await;
    let path = env.dir.path().join("contacts.csv");
    std::fs::write(
        &path,
        "\u{feff}Имя;Телефон;city\r\nИван;+7 900 123-45-67;Казань\r\n",
    )
    .unwrap();
    let report = owner
        .import_contacts_csv(
            CsvSource::Path {
                path: path.to_string_lossy().into_owned(),
            },
            true,
        )
        .await
        .unwrap();
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].wa_id.as_deref(), Some("79001234567"));
    assert_eq!(report.rows[0].status, "create");

    let refused = |text: &str| {
        let owner = &owner;
        let text = text.to_owned();
        async move {
            owner
                .import_contacts_csv(CsvSource::Text { text }, true)
                .await
                .unwrap_err()
                .code()
        }
    };
    assert_eq!(refused("name,city\nA,B\n").await, "csv_no_number_column");
    assert_eq!(refused("phone\n").await, "csv_no_rows");
    assert_eq!(refused("").await, "csv_empty");
    let big = format!("phone\n{}", "14155550100\n".repeat(10_001));
    assert_eq!(refused(&big).await, "csv_too_many_rows");
    owner.shutdown().await;
}

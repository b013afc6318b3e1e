//! Contacts on the relay over real HTTP: the permission matrix of every route, CSV import
//! (dry run vs apply, per-row errors, paged events, audit with counts only, limits),
//! edits and attribute search.

mod common;
mod team_env;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Device, TestRelay, payloads};
use team_env::call;

async fn req(
    t: &TestRelay,
    d: &Device,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(t, &d.token, method, path, None, body).await
}

fn row(n: u32, name: &str, number: &str, attrs: Value) -> Value {
    json!({"row": n, "name": name, "number": number, "attributes": attrs})
}

async fn import(t: &TestRelay, d: &Device, rows: Vec<Value>, dry_run: bool) -> (StatusCode, Value) {
    req(
        t,
        d,
        "POST",
        "/v1/contacts/import",
        Some(json!({"rows": rows, "dry_run": dry_run})),
    )
    .await
}

/// Events after `after` a device receives now (no waiting).
async fn events_now(t: &TestRelay, d: &Device, after: u64) -> Vec<Value> {
    let (s, v) = t.get(d, &format!("/v1/events?after={after}&wait=0")).await;
    assert_eq!(s, 200, "{v}");
    v["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_route_checks_view_or_edit_contacts() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let supervisor = t.device("supervisor", Some("Sue")).await;
    let standard = t.device("standard", Some("Sam")).await;
    let restricted = t.device("restricted", Some("Rita")).await;
    assert_eq!(
        t.post_webhook(payloads::text("14155550100", "wamid.A1", "hi"))
            .await,
        200
    );

    // (device, may view, may edit), from core's presets.
    let matrix = [
        (&admin, true, true),
        (&supervisor, true, false),
        (&standard, true, false),
        (&restricted, false, false),
    ];
    for (i, (d, view, edit)) in matrix.into_iter().enumerate() {
        let expect = |allowed: bool| {
            if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            }
        };
        for path in [
            "/v1/contacts",
            "/v1/contacts/14155550100",
            "/v1/contacts/attributes",
        ] {
            let (s, v) = req(&t, d, "GET", path, None).await;
            assert_eq!(s, expect(view), "device {i} GET {path}: {v}");
            if !view {
                assert_eq!(v["code"], "permission_denied", "{v}");
            }
        }
        let (s, v) = req(
            &t,
            d,
            "PATCH",
            "/v1/contacts/14155550100",
            Some(json!({"attributes": {"city": format!("City {i}")}})),
        )
        .await;
        assert_eq!(s, expect(edit), "device {i} PATCH: {v}");
        let (s, v) = import(
            &t,
            d,
            vec![row(2, "A", "+7 912 000 00 0{i}", json!({}))],
            true,
        )
        .await;
        assert_eq!(s, expect(edit), "device {i} import: {v}");
        let (s, v) = req(
            &t,
            d,
            "POST",
            "/v1/contacts/attributes",
            Some(json!({"key": format!("tier_{i}"), "type": "text"})),
        )
        .await;
        assert_eq!(s, expect(edit), "device {i} new attribute: {v}");
    }
}

#[tokio::test]
async fn a_dry_run_previews_with_row_errors_and_writes_nothing_then_apply_writes_valid_rows() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let standard = t.device("standard", Some("Sam")).await;
    let restricted = t.device("restricted", Some("Rita")).await;
    // One customer already wrote (so this row is an update, the others creations).
    assert_eq!(
        t.post_webhook(payloads::text("79123456789", "wamid.B1", "привет"))
            .await,
        200
    );
    let rows = vec![
        row(
            2,
            "Анна Петрова",
            "+7 912 345-67-89",
            json!({"monthly_spend_usd": "600", "vip": "да", "city": "Москва"}),
        ),
        row(
            3,
            "王伟",
            "+86 138 0013 8000",
            json!({"monthly_spend_usd": "1 200.50", "email": "wei@example.cn"}),
        ),
        row(4, "Bad number", "12ab", json!({})),
        row(5, "Duplicate", "8613800138000", json!({})),
        row(
            6,
            "Unknown column",
            "+1 415 555 0100",
            json!({"shoe_size": "42"}),
        ),
        row(
            7,
            "Bad values",
            "+1 415 555 0101",
            json!({"monthly_spend_usd": "a lot", "vip": "maybe"}),
        ),
        row(8, "", "", json!({})),
        row(9, "Smith, John", "+44 20 7946 0958", json!({"vip": "no"})),
    ];
    let head = t.head().await;
    let (s, preview) = import(&t, &admin, rows.clone(), true).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        preview["counts"],
        json!({"rows": 8, "created": 2, "updated": 1, "unchanged": 0, "rejected": 5})
    );
    let r = preview["rows"].as_array().unwrap();
    let status = |i: usize| r[i]["status"].as_str().unwrap();
    let codes = |i: usize| -> Vec<&str> {
        r[i]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect()
    };
    assert_eq!(status(0), "update");
    assert_eq!(r[0]["wa_id"], "79123456789");
    assert_eq!(
        r[0]["attributes"],
        json!({"city": "Москва", "monthly_spend_usd": 600, "vip": true})
    );
    assert_eq!(status(1), "create");
    assert_eq!(r[1]["attributes"]["monthly_spend_usd"], json!(1200.5));
    assert_eq!(codes(2), ["invalid_number"]);
    assert_eq!(codes(3), ["duplicate_number"]);
    assert_eq!(r[3]["errors"][0]["first_row"], 3);
    assert_eq!(codes(4), ["unknown_attribute"]);
    assert_eq!(r[4]["errors"][0]["field"], "shoe_size");
    assert_eq!(codes(5), ["invalid_number_value", "invalid_boolean_value"]);
    assert_eq!(codes(6), ["missing_number"]);
    assert_eq!(status(7), "create");
    assert_eq!(r[7]["name"], "Smith, John");
    // Nothing was written: no event, the new numbers are unknown, the old one unchanged.
    assert_eq!(t.head().await, head);
    let (s, _) = req(&t, &admin, "GET", "/v1/contacts/8613800138000", None).await;
    assert_eq!(s, 404);
    let (_, v) = req(&t, &admin, "GET", "/v1/contacts/79123456789", None).await;
    assert_eq!(v["contact"]["attributes"], json!({}));
    assert_eq!(
        v["contact"]["name"], "Ana",
        "the profile name until an import or edit"
    );

    let (s, applied) = import(&t, &admin, rows, false).await;
    assert_eq!(s, 200, "{applied}");
    assert_eq!(applied["counts"], preview["counts"]);
    let (_, v) = req(&t, &standard, "GET", "/v1/contacts/79123456789", None).await;
    assert_eq!(v["contact"]["name"], "Анна Петрова");
    assert_eq!(v["contact"]["profile_name"], "Ana");
    assert_eq!(v["contact"]["attributes"]["vip"], true);
    assert_eq!(v["conversations"].as_array().unwrap().len(), 1, "{v}");
    let (_, v) = req(&t, &standard, "GET", "/v1/contacts/8613800138000", None).await;
    assert_eq!(v["contact"]["name"], "王伟");
    assert_eq!(v["conversations"], json!([]));

    // One page event for devices that may view contacts, nothing for Restricted; the audit
    // entry carries counts only.
    let seen = t.collect(&standard, head, 1).await;
    let imported: Vec<&Value> = seen
        .iter()
        .filter(|e| e["kind"] == "contacts.imported")
        .collect();
    assert_eq!(imported.len(), 1);
    assert_eq!(
        imported[0]["payload"]["contacts"].as_array().unwrap().len(),
        3
    );
    assert!(
        events_now(&t, &restricted, head)
            .await
            .iter()
            .all(|e| !e["kind"].as_str().unwrap().starts_with("contact"))
    );
    let audit: Vec<Value> = t
        .collect(&admin, head, 2)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "audit.contacts_imported")
        .collect();
    assert_eq!(audit.len(), 1);
    let text = audit[0].to_string();
    assert_eq!(
        audit[0]["payload"]["after"],
        json!({"rows": 8, "created": 2, "updated": 1, "unchanged": 0, "rejected": 5})
    );
    for secret in [
        "Анна",
        "王伟",
        "79123456789",
        "8613800138000",
        "Москва",
        "wei@",
    ] {
        assert!(!text.contains(secret), "audit leaks {secret}: {text}");
    }

    // Importing the same file again changes nothing and emits no contact event.
    let head = t.head().await;
    let (_, again) = import(
        &t,
        &admin,
        vec![row(
            2,
            "王伟",
            "8613800138000",
            json!({"monthly_spend_usd": "1200.5"}),
        )],
        false,
    )
    .await;
    assert_eq!(again["counts"]["unchanged"], 1, "{again}");
    assert!(
        events_now(&t, &admin, head)
            .await
            .iter()
            .all(|e| e["kind"] != "contacts.imported")
    );
}

#[tokio::test]
async fn a_large_import_is_a_few_page_events_and_limits_are_clear() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let rows: Vec<Value> = (0..1_200)
        .map(|i| {
            row(
                i + 2,
                &format!("Customer {i}"),
                &format!("+1 555 {i:07}"),
                json!({"monthly_spend_usd": format!("{i}")}),
            )
        })
        .collect();
    let head = t.head().await;
    let (s, v) = import(&t, &admin, rows, false).await;
    assert_eq!(s, 200, "{}", v["code"]);
    assert_eq!(v["counts"]["created"], 1_200);
    let events = events_now(&t, &admin, head).await;
    let pages: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "contacts.imported")
        .collect();
    assert_eq!(pages.len(), 3, "1,200 contacts in pages of 500");
    assert_eq!(
        pages[2]["payload"]["contacts"].as_array().unwrap().len(),
        200
    );
    assert_eq!(pages[2]["payload"]["pages"], 3);

    // Attribute search and paging over what was imported.
    let (_, v) = req(
        &t,
        &admin,
        "GET",
        "/v1/contacts?attr=monthly_spend_usd&op=gte&value=1190",
        None,
    )
    .await;
    assert_eq!(v["contacts"].as_array().unwrap().len(), 10, "{v}");
    let (_, v) = req(
        &t,
        &admin,
        "GET",
        "/v1/contacts?q=customer%20119&limit=5",
        None,
    )
    .await;
    assert_eq!(v["contacts"].as_array().unwrap().len(), 5);
    assert_eq!(v["next_offset"], 5);
    let (s, v) = req(&t, &admin, "GET", "/v1/contacts?attr=shoe&value=1", None).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("unknown_attribute"))
    );

    let too_many: Vec<Value> = (0..10_001).map(|i| row(i, "", "", json!({}))).collect();
    let (s, v) = import(&t, &admin, too_many, true).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (413, Some("too_many_rows")),
        "{v}"
    );
    let huge = "x".repeat(9 * 1024 * 1024);
    let (s, v) = import(
        &t,
        &admin,
        vec![row(2, &huge, "14155550100", json!({}))],
        true,
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (413, Some("import_too_large")),
        "{v}"
    );
    let (s, v) = import(&t, &admin, vec![], true).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("empty_import"))
    );
}

#[tokio::test]
async fn edits_are_typed_and_reach_contact_viewers_only() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let standard = t.device("standard", Some("Sam")).await;
    let restricted = t.device("restricted", Some("Rita")).await;
    assert_eq!(
        t.post_webhook(payloads::text("14155550100", "wamid.C1", "hello"))
            .await,
        200
    );
    let head = t.head().await;
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/14155550100",
        Some(json!({"name": "Ana Lima (VIP)", "attributes": {"monthly_spend_usd": 750, "vip": true, "email": "ana@example.com"}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["contact"]["name"], "Ana Lima (VIP)");
    let ev = t.collect(&standard, head, 1).await;
    assert_eq!(ev[0]["kind"], "contact.updated");
    assert_eq!(
        ev[0]["payload"]["contact"]["attributes"]["monthly_spend_usd"],
        750
    );
    assert!(ev[0]["payload"]["conversation_id"].is_string());
    assert!(events_now(&t, &restricted, head).await.is_empty());

    // Wrong types and unknown keys are refused whole; null removes; clearing the name
    // shows the profile name again.
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/14155550100",
        Some(json!({"attributes": {"vip": "perhaps"}})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("invalid_boolean_value"))
    );
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/14155550100",
        Some(json!({"attributes": {"height": 3}})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("unknown_attribute"))
    );
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/14155550100",
        Some(json!({"name": null, "attributes": {"email": null}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["contact"]["name"], "Ana");
    assert_eq!(
        v["contact"]["attributes"],
        json!({"monthly_spend_usd": 750, "vip": true})
    );
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/999999999",
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (404, Some("contact_not_found"))
    );

    // A new attribute, then searching by attributes.
    let (s, v) = req(
        &t,
        &admin,
        "POST",
        "/v1/contacts/attributes",
        Some(json!({"key": "loyalty_tier", "type": "text"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = req(
        &t,
        &admin,
        "POST",
        "/v1/contacts/attributes",
        Some(json!({"key": "loyalty_tier", "type": "text"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("attribute_exists"))
    );
    let (s, v) = req(
        &t,
        &admin,
        "POST",
        "/v1/contacts/attributes",
        Some(json!({"key": "Bad Key", "type": "text"})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("invalid_attribute_key"))
    );
    let (_, v) = req(&t, &standard, "GET", "/v1/contacts/attributes", None).await;
    let keys: Vec<&str> = v["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["city", "email", "loyalty_tier", "monthly_spend_usd", "vip"]
    );
    let (_, v) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts?attr=monthly_spend_usd&op=gt&value=500",
        None,
    )
    .await;
    assert_eq!(v["contacts"].as_array().unwrap().len(), 1);
    let (_, v) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts?attr=monthly_spend_usd&op=gt&value=800",
        None,
    )
    .await;
    assert_eq!(v["contacts"], json!([]));
    let (_, v) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts?attr=vip&value=yes",
        None,
    )
    .await;
    assert_eq!(v["contacts"][0]["wa_id"], "14155550100");
    let (_, v) = req(&t, &standard, "GET", "/v1/contacts?q=4155", None).await;
    assert_eq!(v["contacts"].as_array().unwrap().len(), 1);
}

/// One set of attributes: what the automation's `PUT …/attributes` writes is what the
/// contact shows and PATCH edits, typed the same way, announced the same way.
#[tokio::test]
async fn the_attributes_route_and_contact_edits_share_one_typed_set() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let standard = t.device("standard", Some("Sam")).await;
    let head = t.head().await;

    // A number the relay has not seen: PUT creates the contact; text from a shop system
    // is read as the attribute's type.
    let (s, v) = req(
        &t,
        &admin,
        "PUT",
        "/v1/contacts/4915112345678/attributes",
        Some(json!({"attributes": {"monthly_spend_usd": "1 250", "vip": "yes"}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["attributes"],
        json!({"monthly_spend_usd": 1250, "vip": true})
    );
    let ev = t.collect(&standard, head, 1).await;
    assert_eq!(ev[0]["kind"], "contact.updated");
    assert_eq!(ev[0]["payload"]["contact"]["attributes"]["vip"], true);

    // PATCH merges into the same set; the attributes route and the contact agree.
    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/4915112345678",
        Some(json!({"name": "Jonas", "attributes": {"city": "Köln"}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, attrs) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts/4915112345678/attributes",
        None,
    )
    .await;
    assert_eq!(s, 200, "{attrs}");
    let want = json!({"monthly_spend_usd": 1250, "vip": true, "city": "Köln"});
    assert_eq!(attrs["attributes"], want);
    let (_, detail) = req(&t, &standard, "GET", "/v1/contacts/4915112345678", None).await;
    assert_eq!(detail["contact"]["attributes"], want);
    assert_eq!(detail["contact"]["name"], "Jonas");

    // The list filter finds it by the spend that automation rules test.
    let (_, list) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts?attr=monthly_spend_usd&op=gt&value=500",
        None,
    )
    .await;
    let found: Vec<&str> = list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["wa_id"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["4915112345678"]);

    // PUT replaces the whole set; unknown keys and wrong types are refused, nothing kept.
    for (body, code) in [
        (json!({"tier": "gold"}), "unknown_attribute"),
        (json!({"monthly_spend_usd": "lots"}), "invalid_number_value"),
    ] {
        let (s, v) = req(
            &t,
            &admin,
            "PUT",
            "/v1/contacts/4915112345678/attributes",
            Some(json!({ "attributes": body })),
        )
        .await;
        assert_eq!((s.as_u16(), v["code"].as_str()), (400, Some(code)), "{v}");
    }
    let (s, v) = req(
        &t,
        &admin,
        "PUT",
        "/v1/contacts/4915112345678/attributes",
        Some(json!({"attributes": {"monthly_spend_usd": 90}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, detail) = req(&t, &standard, "GET", "/v1/contacts/4915112345678", None).await;
    assert_eq!(
        detail["contact"]["attributes"],
        json!({"monthly_spend_usd": 90})
    );
    assert_eq!(detail["contact"]["name"], "Jonas", "PUT keeps the name");

    // Unknown numbers read as empty (rules see no attributes), not as an error.
    let (s, v) = req(
        &t,
        &standard,
        "GET",
        "/v1/contacts/4915100000000/attributes",
        None,
    )
    .await;
    assert_eq!((s.as_u16(), v["attributes"].clone()), (200, json!({})));
}

/// The team's name shows on the conversation: a Restricted assignee (no ViewContacts, so no
/// contact events) gets `conversation.renamed`, and the customer's next message (with the
/// WhatsApp profile name) does not undo it.
#[tokio::test]
async fn a_rename_reaches_whoever_sees_the_conversation_and_later_messages_keep_it() {
    let t = TestRelay::start().await;
    let admin = t.device("admin", Some("Root")).await;
    let rita = t.device("restricted", Some("Rita")).await;
    assert_eq!(
        t.post_webhook(payloads::text("14155550100", "wamid.R1", "hello"))
            .await,
        200
    );
    let (_, list) = req(&t, &admin, "GET", "/v1/conversations", None).await;
    let conv = list["conversations"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["conversations"][0]["name"], "Ana");
    let (s, v) = req(
        &t,
        &admin,
        "POST",
        "/v1/commands",
        Some(json!({"id": uuid::Uuid::now_v7(), "command":
            {"type": "assign", "conversation_id": conv, "member_id": rita.member_id}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let head = t.head().await;

    let (s, v) = req(
        &t,
        &admin,
        "PATCH",
        "/v1/contacts/14155550100",
        Some(json!({"name": "Ana Lima"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let seen = events_now(&t, &rita, head).await;
    let kinds: Vec<&str> = seen.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["conversation.renamed"], "{seen:?}");
    assert_eq!(seen[0]["payload"]["name"], "Ana Lima");
    assert_eq!(seen[0]["conversation_id"], conv.as_str());

    // The profile name arrives again with the next message: the team's name stays.
    assert_eq!(
        t.post_webhook(payloads::text("14155550100", "wamid.R2", "still there?"))
            .await,
        200
    );
    let (_, one) = req(&t, &rita, "GET", &format!("/v1/conversations/{conv}"), None).await;
    let name = one["conversation"]["name"]
        .as_str()
        .or(one["name"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(name, "Ana Lima", "{one}");
}

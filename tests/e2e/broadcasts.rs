//! The Broadcasts section in the real window against a real relay and whatsapp-sim: a
//! broadcast to the "vip" label with the customer's name, previewed, sent, followed to
//! completion with the sim's delivery ticks, then the list and the daily limit in Russian.

use serde_json::json;
use teamline_core::Preset;

use crate::choose_language;
use crate::driver::{Driver, out_dir};
use crate::team_env::TeamEnv;

/// Sets a `<select>` the way a person's choice does (native popups are unreliable over
/// WebDriver): the value, then the change event.
fn choose(session: &crate::webdriver::Session, css: &str, value: &str) {
    session.wait_for(css);
    session.execute(
        "const s = document.querySelector(arguments[0]); \
         s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([css, value]),
    );
}

/// Olga (owner) sends the approved `spring_sale` template to the two customers labelled
/// "vip" with their names in `{{1}}`: the preview shows both rendered, Send asks to
/// confirm, the progress bar fills from `broadcast-changed` events until both are
/// delivered, and the customer's conversation shows the template with its ticks.
#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn a_label_broadcast_with_the_customers_name_is_previewed_sent_and_delivered() {
    let team = TeamEnv::start();
    let out = out_dir();
    let driver = Driver::start("en_US.UTF-8");
    let code = team.code(Preset::Admin, "Olga", true);
    let session = driver.provisioned_session(
        "broadcasts",
        &driver.profile("broadcasts"),
        &team.relay_url,
        &code,
        None,
    );
    session.wait_for("[data-testid=connection][data-state=connected]");

    // Three customers wrote; a colleague labels two of them "vip".
    let sam = team.colleague(&team.code(Preset::Admin, "Sam", false), "Sam's laptop");
    for (wa, name) in [
        ("15550004001", "Mila Novak"),
        ("15550004002", "Jon Berg"),
        ("15550004003", "Ada Lind"),
    ] {
        team.customer_says(wa, name, "Hello! Any news about the sale?");
    }
    for wa in ["15550004001", "15550004002"] {
        let conversation = team.conversation_of(wa);
        let (status, body) = team.command(
            &sam,
            json!({"type": "add_label", "conversation_id": conversation, "label": "vip"}),
        );
        assert_eq!(status, 200, "add_label: {body}");
    }

    session
        .wait_for("nav button[data-section=broadcasts]")
        .click();
    session.wait_for("[data-testid=broadcasts-empty]");
    session.screenshot(&out.join("100-broadcasts-empty-en.png"));

    // Compose: a name, the label, the template; {{1}} is the customer's name by default.
    session
        .wait_for("[data-testid=broadcasts-new-empty]")
        .click();
    session
        .wait_for("[data-testid=broadcast-name-input]")
        .send_keys("Spring sale");
    session.wait_for("[data-testid=broadcast-label] option[value=vip]");
    choose(&session, "[data-testid=broadcast-label]", "vip");
    session.wait_for("[data-testid=broadcast-template] option[value='spring_sale/en_US']");
    choose(
        &session,
        "[data-testid=broadcast-template]",
        "spring_sale/en_US",
    );
    let kind = session.wait_until("the parameter's source", || {
        let v = session.execute(
            "const s = document.querySelector('[data-testid=broadcast-param-kind]'); return s ? s.value : null",
            json!([]),
        );
        v.as_str().map(str::to_owned)
    });
    assert_eq!(kind, "contact_name");
    session.screenshot(&out.join("101-broadcast-compose-en.png"));

    // Preview: two recipients, each greeted by name.
    session.wait_for("[data-testid=broadcast-preview]").click();
    session.wait_for("[data-testid=broadcast-preview-step]");
    assert_eq!(
        session.wait_for_text("[data-testid=preview-total]", |t| !t.is_empty()),
        "2"
    );
    assert_eq!(
        session.wait_for_text("[data-testid=preview-reach]", |t| !t.is_empty()),
        "2"
    );
    let samples: Vec<String> = session
        .find_all("[data-testid=preview-sample-text]")
        .iter()
        .map(|e| e.text())
        .collect();
    let mut sorted = samples.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "Hi Jon Berg! Our spring sale starts today.",
            "Hi Mila Novak! Our spring sale starts today."
        ]
    );
    session.screenshot(&out.join("102-broadcast-preview-en.png"));

    // Send asks first.
    session.wait_for("[data-testid=broadcast-send]").click();
    session.wait_for_text("[data-testid=broadcast-confirm]", |t| {
        t.contains("Send “Spring sale” to 2 customers now?")
    });
    session
        .wait_for("[data-testid=broadcast-confirm-yes]")
        .click();
    session.wait_for("[data-testid=broadcast-detail]");

    // Live progress to the end: both delivered (or read) by the sim's status webhooks.
    session.wait_for("[data-testid=broadcast-detail][data-state=completed]");
    session.wait_for_text("[data-testid=broadcast-progress-text]", |t| {
        t == "2 of 2 done"
    });
    session.wait_until("both recipients delivered", || {
        let rows = session.find_all(
            "[data-testid=recipient-row][data-state=delivered], [data-testid=recipient-row][data-state=read]",
        );
        (rows.len() == 2).then_some(())
    });
    // The summary's counts follow (the relay gathers a second of status webhooks).
    session.wait_for(
        "[data-testid=broadcast-detail] [data-testid=broadcast-progress][data-delivered='2']",
    );
    session.screenshot(&out.join("103-broadcast-delivered-en.png"));

    // The relay agrees, and sent exactly one message per recipient.
    let (status, list) = team.request(&sam, "GET", "/v1/broadcasts", None, None);
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{list:?}");
    let counts = &list[0]["counts"];
    assert_eq!(counts["total"], 2, "{counts}");
    assert_eq!(
        counts["delivered"].as_u64().unwrap_or(0) + counts["read"].as_u64().unwrap_or(0),
        2,
        "{counts}"
    );
    for wa in ["15550004001", "15550004002"] {
        let conversation = team.conversation_of(wa);
        let (status, page) = team.request(
            &sam,
            "GET",
            &format!("/v1/conversations/{conversation}/messages?limit=50"),
            None,
            None,
        );
        assert_eq!(status, 200, "{page}");
        let templates = page["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|m| m["direction"] == "out" && m["type"] == "template")
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(templates, 1, "{wa}: {page}");
    }

    // From the results to Mila's conversation: the template with its delivery ticks.
    session
        .wait_for("[data-testid=recipient-row][data-wa-id='15550004001'] button")
        .click();
    session.wait_for_text("[data-testid=section-title]", |t| t == "Inbox");
    session.wait_for_any_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("spring_sale") && t.contains("Mila Novak"),
    );
    session.wait_for(
        "[data-testid=timeline-item][data-direction=outbound] [data-testid=ticks][data-status=delivered], \
         [data-testid=timeline-item][data-direction=outbound] [data-testid=ticks][data-status=read]",
    );
    session.screenshot(&out.join("104-broadcast-in-conversation-en.png"));

    // Russian: the list and the daily limit with today's count.
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session.wait_for("[data-tab=general]").click();
    choose_language(&session, "ru");
    session
        .wait_for("nav button[data-section=broadcasts]")
        .click();
    session.wait_for_text("[data-testid=section-title]", |t| t == "Рассылки");
    session.wait_for_text(
        "[data-testid=broadcast-row] [data-testid=broadcast-state]",
        |t| t == "Завершена",
    );
    session.screenshot(&out.join("105-broadcasts-list-ru.png"));
    session
        .wait_for("[data-testid=broadcasts-tab-settings]")
        .click();
    session.wait_for_text("[data-testid=limits-today-value]", |t| {
        t == "отправлено 2 из 50"
    });
    session.screenshot(&out.join("106-broadcast-limits-ru.png"));
    session.close();
}

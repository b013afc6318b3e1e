//! The composer in the real window: a quick reply made in Settings, found by typing `/`
//! in a conversation, completed with an emoji and sent through the Graph API.

use teamline_core::Preset;

use crate::driver::{Driver, out_dir};
use crate::eventually;
use crate::team_env::TeamEnv;

const HOURS: &str = "We are open on Saturday from 10:00 to 16:00. See you soon!";

/// Olga (owner) adds `/hours` in Settings › Quick replies; a customer then asks about
/// Saturday; Olga claims the conversation, types `/hou`, picks the reply with Enter, adds
/// an emoji from the picker and sends: the customer receives exactly that text.
#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn a_quick_reply_made_in_settings_is_found_with_slash_and_sent() {
    let team = TeamEnv::start();
    let out = out_dir();
    let driver = Driver::start("en_US.UTF-8");
    let code = team.code(Preset::Admin, "Olga", true);
    let session = driver.provisioned_session(
        "composer",
        &driver.profile("composer"),
        &team.relay_url,
        &code,
        None,
    );
    session.wait_for("[data-testid=connection][data-state=connected]");

    // Settings › Quick replies: a new one, listed once the relay has saved it.
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session
        .wait_for("[data-testid=settings-tab-quickReplies]")
        .click();
    session.wait_for("[data-testid=quick-add]").click();
    session
        .wait_for("[data-testid=quick-shortcut]")
        .send_keys("hours");
    session
        .wait_for("[data-testid=quick-title]")
        .send_keys("Opening hours");
    session
        .wait_for("[data-testid=quick-text]")
        .send_keys(HOURS);
    session.wait_for("[data-testid=quick-save]").click();
    session.wait_for_text("[data-testid=quick-item]", |t| {
        t.contains("/hours") && t.contains("Opening hours")
    });
    session.screenshot(&out.join("70-settings-quick-replies.png"));

    // The customer writes after the quick reply was saved: the device applies the relay's
    // events in order, so once the conversation is listed the quick reply is stored too.
    team.customer_says("15550003131", "Nora Lind", "Hi! Are you open on Saturday?");
    team.conversation_of("15550003131");
    session.wait_for("nav button[data-section=inbox]").click();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Nora Lind");
    session.wait_for("[data-testid=inbox-row]").click();
    session.wait_for("[data-testid=claim-button]").click();
    session.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Olga"));

    // `/hou` opens the picker with the match highlighted; Enter puts its text in the box.
    session
        .wait_for("[data-testid=composer-input]")
        .send_keys("/hou");
    session.wait_for_text("[data-testid=quick-option][aria-selected=true]", |t| {
        t.contains("/hours") && t.contains("Opening hours")
    });
    session.screenshot(&out.join("71-composer-quick-reply-picker.png"));
    session
        .wait_for("[data-testid=composer-input]")
        .send_keys("\u{E007}");
    eventually("the quick reply's text in the composer", || {
        let value = session.execute(
            "return document.querySelector('[data-testid=composer-input]').value",
            serde_json::json!([]),
        );
        (value == HOURS).then_some(())
    });
    assert!(
        session.find("[data-testid=quick-picker]").is_none(),
        "picking closes the picker"
    );

    // An emoji from the picker, found by its English name, goes where the caret is.
    session.wait_for("[data-testid=emoji-button]").click();
    session
        .wait_for("[data-testid=emoji-search]")
        .send_keys("wave");
    session.wait_for_text("[data-testid=emoji-option]", |t| t == "👋");
    session.screenshot(&out.join("72-composer-emoji-picker.png"));
    session.wait_for("[data-testid=emoji-option]").click();
    let sent_text = format!("{HOURS}👋");
    eventually("the emoji after the quick reply's text", || {
        let value = session.execute(
            "return document.querySelector('[data-testid=composer-input]').value",
            serde_json::json!([]),
        );
        (value == sent_text.as_str()).then_some(())
    });

    // Enter sends; the Graph API (whatsapp-sim) receives exactly that text, once.
    session
        .wait_for("[data-testid=composer-input]")
        .send_keys("\u{E007}");
    session.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("10:00 to 16:00"),
    );
    let sent = eventually("the reply at whatsapp-sim", || {
        let texts = team.sim_sent_texts("15550003131");
        (!texts.is_empty()).then_some(texts)
    });
    assert_eq!(sent, vec![sent_text.clone()]);
    session.wait_for(
        "[data-testid=ticks][data-status=delivered], [data-testid=ticks][data-status=read]",
    );
    session.screenshot(&out.join("73-composer-quick-reply-sent.png"));
    session.close();
}

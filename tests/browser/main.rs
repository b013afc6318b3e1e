//! The browser lane: the same UI in headless Chromium, through its HTTP backend and the
//! web shell (`teamline_shell::web`), against a real relay and whatsapp-sim. Run by
//! `cargo xtask test` in the private D-Bus session (keyring, notification daemon):
//! `cargo test -p teamline --test browser -- --ignored --test-threads=1`.

mod chrome;
// Shared with the window's end-to-end lane; each lane uses part of them.
#[allow(dead_code)]
#[path = "../e2e/driver.rs"]
mod driver;
#[allow(dead_code)]
#[path = "../e2e/team_env.rs"]
mod team_env;
#[allow(dead_code)]
#[path = "../e2e/webdriver.rs"]
mod webdriver;

use teamline_core::Preset;

use crate::chrome::{Chrome, Device};
use crate::driver::{eventually, out_dir};
use crate::team_env::{TeamEnv, dunst_history};
use crate::webdriver::Session;

fn choose_language(session: &Session, value: &str) {
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session.choose("[data-testid=language]", value);
    session.wait_for("nav button[data-section=inbox]").click();
}

/// The day at the desk, in Chromium: a customer writes (through the sim), Olga
/// claims, replies and sees delivered and read ticks, labels the conversation #urgent
/// (supervisors are told by the desktop's notification daemon), mentions Wei in a note
/// (he is told too), and Wei, on a second device in Chinese, sees the send lock.
#[test]
#[ignore = "needs Chromium, chromedriver, D-Bus, a keyring and dunst; run by `cargo xtask test`"]
fn an_agent_claims_replies_labels_urgent_and_mentions_a_colleague_who_sees_the_send_lock() {
    let team = TeamEnv::start();
    team.customer_says("15550003333", "Lucía Gómez", "¿Dónde está mi pedido 7781?");
    team.conversation_of("15550003333");
    let out = out_dir();
    let chrome = Chrome::start();

    let olga_device = Device::link(
        &team.relay_url,
        &team.code(Preset::Admin, "Olga", true),
        "Front desk",
    );
    let wei_device = Device::link(
        &team.relay_url,
        &team.code(Preset::Supervisor, "Wei", false),
        "Wei's laptop",
    );
    let olga = chrome.open("olga", &olga_device.url);
    let wei = chrome.open("wei", &wei_device.url);
    choose_language(&wei, "zh");

    // The customer's message arrived through the relay; Olga claims it.
    olga.wait_for("[data-testid=connection][data-state=connected]");
    olga.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Lucía Gómez");
    olga.screenshot(&out.join("200-browser-inbox-en.png"));
    olga.wait_for("[data-testid=inbox-row]").click();
    olga.wait_for_text("[data-testid=timeline-item][data-direction=inbound]", |t| {
        t.contains("7781")
    });
    olga.wait_for("[data-testid=claim-button]").click();
    olga.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Olga"));

    // Her reply reaches the sim once and comes back delivered, then read.
    olga.wait_for("[data-testid=composer-input]")
        .send_keys("Hola Lucía, your order ships today\u{E007}");
    olga.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("ships today") && t.contains("Olga"),
    );
    olga.wait_for("[data-testid=ticks][data-status=read]");
    assert_eq!(
        team.sim_sent_texts("15550003333"),
        vec!["Hola Lucía, your order ships today".to_owned()],
        "the reply went to WhatsApp exactly once"
    );
    olga.screenshot(&out.join("201-browser-replied-read-en.png"));

    // #urgent: a chip in the list, and the supervisor's desktop is told.
    olga.wait_for("[data-testid=label-add]").click();
    olga.wait_for("[data-testid=label-input]")
        .send_keys("#urgent\u{E007}");
    olga.wait_for_any_text("[data-testid=inbox-row] [data-testid=label-chip]", |t| {
        t.contains("#urgent")
    });
    let urgent = eventually("the #urgent notification in dunst's history", || {
        let h = dunst_history();
        (h.contains("Lucía Gómez") && h.contains("#urgent")).then_some(h)
    });
    assert!(urgent.contains("#urgent"), "{urgent}");

    // A new label in a colour Olga picks (she manages labels); the label box stays open
    // after #urgent for the next one.
    olga.wait_for("[data-testid=label-input]")
        .send_keys("Refund");
    olga.wait_for("[data-testid=label-create-colour][data-colour='#db2777']");
    olga.screenshot(&out.join("202-browser-new-label-colour-en.png"));
    olga.wait_for("[data-testid=label-create-colour][data-colour='#db2777']")
        .click();
    let refund = olga.wait_for_any_text("[data-testid=inbox-row] [data-testid=label-chip]", |t| {
        t.contains("Refund")
    });
    assert!(refund.contains("Refund"));

    // A note mentioning Wei, picked from the autocomplete; Wei is told.
    olga.wait_for("[data-testid=mode-note]").click();
    olga.wait_for("[data-testid=note-input]")
        .send_keys("Please call her back about the refund @We");
    olga.wait_for_text("[data-testid=mention-option]", |t| t == "@Wei");
    olga.wait_for("[data-testid=mention-option]").click();
    olga.wait_for("[data-testid=note-submit]").click();
    olga.wait_for_text("[data-testid=note-item]", |t| {
        t.contains("refund") && t.contains("@Wei")
    });
    olga.screenshot(&out.join("203-browser-urgent-note-mention-en.png"));
    eventually("Wei's mention notification in dunst's history", || {
        dunst_history().contains("Olga mentioned you").then_some(())
    });

    // Wei's window (Chinese): Olga is handling it, his composer is locked, the note is there.
    wei.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Olga"));
    wei.wait_for("[data-testid=inbox-row]").click();
    wei.wait_for_text("[data-testid=handled-by]", |t| {
        t.contains("Olga") && t.contains("正在处理")
    });
    let locked = wei.wait_for("[data-testid=composer-input]");
    assert!(
        locked.attribute("disabled").is_some(),
        "the composer is locked while Olga handles the conversation"
    );
    wei.wait_for_text("[data-testid=note-item]", |t| t.contains("@Wei"));
    wei.screenshot(&out.join("204-browser-send-lock-zh.png"));

    // The same conversation in Russian.
    choose_language(&olga, "ru");
    olga.wait_for("[data-testid=inbox-row]").click();
    olga.wait_for_text(
        "[data-testid=handled-by], [data-testid=claim-button], nav",
        |t| !t.is_empty(),
    );
    olga.wait_for_text("nav button[data-section=inbox]", |t| t.contains("Входящие"));
    olga.screenshot(&out.join("205-browser-conversation-ru.png"));
    wei.close();
    olga.close();
}

/// Offline-fast search runs in the engine behind the web shell, in any script.
#[test]
#[ignore = "needs Chromium, chromedriver, D-Bus and a keyring; run by `cargo xtask test`"]
fn search_finds_russian_and_chinese_words_with_highlighted_snippets() {
    let team = TeamEnv::start();
    team.customer_says("15550004444", "Marta Ruiz", "Мой заказ 4417 ещё не пришёл");
    team.customer_says("15550005555", "Li Na", "我的订单还没有到");
    team.conversation_of("15550004444");
    team.conversation_of("15550005555");
    let chrome = Chrome::start();
    let device = Device::link(
        &team.relay_url,
        &team.code(Preset::Admin, "Olga", true),
        "Desk",
    );
    let page = chrome.open("search", &device.url);
    page.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Li Na");

    page.wait_for("[data-testid=search-input]")
        .send_keys("заказ");
    let hit = page.wait_for_text("[data-testid=search-result]", |t| t.contains("Marta Ruiz"));
    assert!(hit.contains("заказ"), "the snippet shows the match: {hit}");
    page.wait_for("[data-testid=search-result] mark");

    page.wait_for("[data-testid=search-input]").clear();
    page.wait_for("[data-testid=search-input]")
        .send_keys("订单");
    let hit = page.wait_for_text("[data-testid=search-result]", |t| t.contains("Li Na"));
    assert!(hit.contains("订单"), "{hit}");
    page.screenshot(&out_dir().join("206-browser-search-zh.png"));
    page.close();
}

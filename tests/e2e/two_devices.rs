//! Two linked devices in two real windows at once: the send lock between people.

use teamline_core::Preset;

use crate::driver::{Driver, out_dir};
use crate::team_env::TeamEnv;

/// Olga (owner, English) claims a conversation and sees Wei open it; she starts typing; Wei
/// (supervisor on a second computer, Chinese) sees who is handling it and typing, cannot
/// send, takes over with a reason and replies; Olga (still the assignee) sees Wei's reply with his name.
#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn a_second_device_sees_the_send_lock_and_replies_after_taking_over_with_a_reason() {
    let team = TeamEnv::start();
    team.customer_says("15550002222", "Ivan Petrov", "Где мой заказ 5120?");
    team.conversation_of("15550002222");
    let out = out_dir();

    let owner_driver = Driver::start("en_US.UTF-8");
    let owner_code = team.code(Preset::Admin, "Olga", true);
    let owner = owner_driver.provisioned_session(
        "lock-owner",
        &owner_driver.profile("owner"),
        &team.relay_url,
        &owner_code,
        None,
    );
    let colleague_driver = Driver::start("zh_CN.UTF-8");
    let colleague_code = team.code(Preset::Supervisor, "Wei", false);
    let colleague = colleague_driver.provisioned_session(
        "lock-colleague",
        &colleague_driver.profile("colleague"),
        &team.relay_url,
        &colleague_code,
        None,
    );

    // Olga claims.
    owner.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Ivan Petrov");
    owner.wait_for("[data-testid=inbox-row]").click();
    owner.wait_for("[data-testid=claim-button]").click();
    owner.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Olga"));

    // Wei's window: Olga is handling it; his composer is locked.
    colleague.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Olga"));
    colleague.wait_for("[data-testid=inbox-row]").click();
    colleague.wait_for_text("[data-testid=handled-by]", |t| {
        t.contains("Olga") && t.contains("正在处理")
    });

    // Olga's window shows that Wei has the conversation open.
    owner.wait_for_text("[data-testid=viewers]", |t| t.contains("Wei"));

    // Olga types (not sends). A typing notice fades 6 s after the last keystroke, like
    // WhatsApp's, so she keeps typing until Wei's window shows it: a slow machine must not
    // let the notice fade before Wei looks.
    let composer = owner.wait_for("[data-testid=composer-input]");
    composer.send_keys("Checking with the warehouse");
    colleague.wait_until("Olga's typing notice in Wei's window", || {
        let notice = colleague.find("[data-testid=typing]").map(|n| n.text());
        if notice.as_deref().is_some_and(|t| t.contains("Olga")) {
            return Some(());
        }
        composer.send_keys(".");
        None
    });
    let locked = colleague.wait_for("[data-testid=composer-input]");
    assert!(
        locked.attribute("disabled").is_some(),
        "the composer is locked while Olga handles the conversation"
    );
    colleague.screenshot(&out.join("62-second-device-sees-lock-zh.png"));

    // Take-over asks for a reason; then Wei can reply.
    colleague.wait_for("[data-testid=takeover-button]").click();
    colleague
        .wait_for("[data-testid=takeover-reason]")
        .send_keys("客户很着急\u{E007}");
    colleague.wait_for_text("[data-testid=takeover-active]", |t| {
        t.contains("Olga") && t.contains("客户很着急")
    });
    colleague
        .wait_for("[data-testid=composer-input]")
        .send_keys("您好，订单 5120 明天发货\u{E007}");
    colleague.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("5120"),
    );

    // Olga's window: Wei's reply, with his name, in the conversation she still handles.
    owner.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("5120") && t.contains("Wei"),
    );
    owner.screenshot(&out.join("63-owner-sees-the-colleagues-reply-en.png"));
    colleague.close();
    owner.close();
}

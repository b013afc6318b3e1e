//! "Try the demo" on a new computer: the first-run choice opens the demo shop inside the
//! app (a relay and the WhatsApp emulator on 127.0.0.1), its customers write in, and the
//! next start opens the shop again without asking, until the user leaves it.

use crate::driver::{Driver, out_dir};

fn profile_args(driver: &Driver) -> Vec<String> {
    vec![
        "--data-dir".to_owned(),
        driver
            .profile("demo")
            .to_str()
            .expect("UTF-8 path")
            .to_owned(),
    ]
}

#[test]
#[ignore = "needs a display and tauri-driver; run by `cargo xtask test`"]
fn try_the_demo_opens_a_shop_whose_customers_write_in_reopens_at_the_next_start_and_can_be_left() {
    let driver = Driver::start("en_US.UTF-8");
    let out = out_dir();
    let args = profile_args(&driver);

    let session = driver.session_with_args("demo-first-run", &args);
    session.wait_for_text("[data-testid=try-demo]", |t| t == "Try the demo");
    session.wait_for_text("[data-testid=link-device]", |t| {
        t == "Join my team (pairing code)"
    });
    session.screenshot(&out.join("90-first-run-en.png"));
    session.wait_for("[data-testid=try-demo]").click();
    // The scripted customers reach the owner's inbox over the in-app relay.
    session.wait_for("[data-testid=inbox-row]");
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for_text("[data-testid=section-title]", |t| t == "Inbox");
    session.screenshot(&out.join("91-demo-inbox-en.png"));

    // The owner manages the team's labels: the demo's automatic "New customer" label is
    // there; a new one gets its colour.
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session
        .wait_for("[data-testid=settings-tab-labels]")
        .click();
    session.wait_for_text("[data-testid=team-label]", |t| t.contains("New customer"));
    session
        .wait_for("[data-testid=team-labels-name]")
        .send_keys("Wholesale");
    session.execute(
        "const c = document.querySelector('[data-testid=team-labels-colour]'); \
         c.value = '#7c3aed'; c.dispatchEvent(new Event('input', { bubbles: true }));",
        serde_json::json!([]),
    );
    session.wait_for("[data-testid=team-labels-create]").click();
    session.wait_for_any_text("[data-testid=team-label]", |t| t.contains("Wholesale"));
    session.screenshot(&out.join("92-settings-labels-en.png"));
    session.close();

    // Started again: straight into the shop, linked, with its conversations.
    let session = driver.session_with_args("demo-reopened", &args);
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for("[data-testid=inbox-row]");
    assert!(
        session.find_all("[data-testid=try-demo]").is_empty(),
        "a reopened demo does not ask again"
    );

    // Leaving it (after a confirmation) deletes the shop and shows the first run again.
    crate::open_connection_settings(&session);
    session.wait_for("[data-testid=leave-demo]").click();
    session.screenshot(&out.join("93-leave-demo-confirm-en.png"));
    session.wait_for("[data-testid=leave-demo-confirm]").click();
    session.wait_for("[data-testid=join-form]");
    session.wait_for("[data-testid=connection][data-state=not_linked]");
    assert!(
        !driver.profile("demo").join("demo").exists(),
        "the demo shop's data is deleted"
    );
    session.wait_for("nav button[data-section=inbox]").click();
    session.wait_for_text("[data-testid=try-demo]", |t| t == "Try the demo");
    session.close();

    // And the next start is a first run again.
    let session = driver.session_with_args("demo-left", &args);
    session.wait_for_text("[data-testid=try-demo]", |t| t == "Try the demo");
    session.close();
}

//! The Automation section against a real relay: the shipped rules, switching one off and
//! saving (the relay keeps it), and a dry run of a pasted message.

use teamline_core::Preset;

use crate::driver::{Driver, out_dir};
use crate::team_env::TeamEnv;

/// Olga (owner, Russian) sees the default rules, switches `#urgent` off and saves; the
/// relay has the change. A dry run of "#returns …" shows the returns rule firing.
#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn the_owner_switches_a_rule_off_saves_it_and_dry_runs_a_message() {
    let team = TeamEnv::start();
    let driver = Driver::start("ru_RU.UTF-8");
    let code = team.code(Preset::Admin, "Olga", true);
    let session = driver.provisioned_session(
        "automation",
        &driver.profile("owner"),
        &team.relay_url,
        &code,
        None,
    );
    let out = out_dir();
    session.wait_for("[data-testid=connection][data-state=connected]");

    session
        .wait_for("nav button[data-section=automation]")
        .click();
    session.wait_for("[data-testid=rule-row][data-rule-id=default-order-chase]");
    session.screenshot(&out.join("80-automation-rules-ru.png"));

    session
        .wait_for("[data-testid=rule-row][data-rule-id=default-urgent] [data-testid=rule-enabled]")
        .click();
    session.wait_for("[data-testid=automation-unsaved]");
    session.wait_for("[data-testid=automation-save]").click();
    session.wait_for("[data-testid=automation-saved]");
    let admin = team.colleague(&team.code(Preset::Admin, "Sam", false), "Sam's laptop");
    let (status, saved) = team.request(&admin, "GET", "/v1/automation", None, None);
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["revision"], 1, "one save: {saved}");
    let urgent = saved["settings"]["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["id"] == "default-urgent"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(urgent["enabled"], false, "{urgent}");

    session
        .wait_for("[data-testid=automation-tab-dryRun]")
        .click();
    session
        .wait_for("[data-testid=dry-run-message]")
        .send_keys("#returns хочу вернуть куртку");
    session.wait_for("[data-testid=dry-run-run]").click();
    session.wait_for("[data-testid=dry-run-fired][data-rule-id=default-returns]");
    session.wait_for_text("[data-testid=dry-run-planned]", |t| !t.is_empty());
    session.execute(
        "document.querySelector('[data-testid=dry-run-result]').scrollIntoView()",
        serde_json::json!([]),
    );
    session.screenshot(&out.join("81-automation-dry-run-ru.png"));
    session.close();
}

//! End-to-end tests: the real Teamline binary in a real WebKitGTK window (under Xvfb in
//! CI), driven through tauri-driver and WebKitWebDriver. `cargo xtask test` runs them with
//! `--ignored` inside `xvfb-run`; they need a display and `tauri-driver` on the PATH.

mod automation;
mod broadcasts;
mod composer;
mod demo;
mod driver;
mod team_env;
mod two_devices;
mod webdriver;

use std::path::{Path, PathBuf};

use uuid::Uuid;

use driver::{Driver, eventually, out_dir};
use serde_json::json;
use team_env::{TeamEnv, dunst_history};
use teamline_core::Preset;
use webdriver::Session;

const SECTIONS_EN: [(&str, &str); 8] = [
    ("inbox", "Inbox"),
    ("contacts", "Contacts"),
    ("broadcasts", "Broadcasts"),
    ("automation", "Automation"),
    ("team", "Team"),
    ("audit", "Audit"),
    ("reports", "Reports"),
    ("settings", "Settings"),
];

/// Settings › Connection, with the relay and the pairing code typed into the join form.
fn fill_join_form(session: &Session, relay_url: &str, code: &str) {
    open_connection_settings(session);
    session
        .wait_for("[data-testid=join-relay]")
        .send_keys(relay_url);
    session.wait_for("[data-testid=join-code]").send_keys(code);
}

pub(crate) fn open_connection_settings(session: &Session) {
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session
        .wait_for("[data-testid=settings-tab-connection]")
        .click();
}

fn choose_language(session: &Session, value: &str) {
    session.choose("[data-testid=language]", value);
}

#[test]
#[ignore = "needs a display and tauri-driver; run by `cargo xtask test`"]
fn the_frame_renders_navigates_and_shows_app_info() {
    let driver = Driver::start("en_US.UTF-8");
    let session = driver.session("frame");
    let out = out_dir();

    // The frame: sidebar with the eight sections, the inbox first, and its empty state.
    session.wait_for_text("[data-testid=section-title]", |t| t == "Inbox");
    let sections: Vec<String> = session
        .find_all("nav button[data-section]")
        .iter()
        .filter_map(|b| b.attribute("data-section"))
        .collect();
    assert_eq!(sections, SECTIONS_EN.map(|(id, _)| id));
    session.wait_for_text(".empty h2", |t| t == "No conversations yet");

    // The status bar shows the connection state the shell reports over IPC.
    let connection = session.wait_for("[data-testid=connection][data-state=not_linked]");
    assert_eq!(connection.text(), "Not linked to a team");
    session.screenshot(&out.join("01-inbox-en.png"));

    // Navigation: every section opens with its title and (but Settings) an empty state.
    for (id, title) in SECTIONS_EN {
        session
            .wait_for(&format!("nav button[data-section={id}]"))
            .click();
        session.wait_for_text("[data-testid=section-title]", |t| t == title);
        session.wait_for(&format!("main[data-section={id}]"));
        if id != "settings" {
            session.wait_for(".empty h2");
        }
    }

    // The keyboard: Alt+3 opens Broadcasts.
    session.press_with_alt("3");
    session.wait_for_text("[data-testid=section-title]", |t| t == "Broadcasts");

    // app_info round-trips: version, profile and the profile's own data directory.
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    session.wait_for("[data-tab=about]").click();
    let version = session.wait_for_text("[data-testid=about-version]", |t| !t.is_empty());
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let profile = session.wait_for_text("[data-testid=about-profile]", |t| !t.is_empty());
    assert_eq!(
        profile,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let data_dir = session.wait_for_text("[data-testid=about-data-dir]", |t| !t.is_empty());
    assert_eq!(
        PathBuf::from(&data_dir),
        driver.data_home().join("app.teamline.desktop"),
        "the data directory follows this profile's XDG_DATA_HOME"
    );
    session.screenshot(&out.join("02-settings-about-en.png"));

    // Languages: Russian and Chinese replace every label, and dark theme applies.
    session.wait_for("[data-tab=general]").click();
    choose_language(&session, "ru");
    session.wait_for_text("[data-testid=section-title]", |t| t == "Настройки");
    session.wait_for_text("nav button[data-section=inbox]", |t| t == "Входящие");
    session.wait_for("[data-testid=theme-dark]").click();
    session.wait_for("html[data-theme=dark]");
    session.screenshot(&out.join("03-settings-ru-dark.png"));

    choose_language(&session, "zh");
    session.wait_for_text("[data-testid=section-title]", |t| t == "设置");
    session.wait_for("nav button[data-section=inbox]").click();
    session.wait_for_text(".empty h2", |t| t == "还没有会话");
    session.wait_for_text("[data-testid=connection]", |t| t == "尚未关联团队");
    session.screenshot(&out.join("04-inbox-zh-dark.png"));

    session.close();
}

#[test]
#[ignore = "needs a display and tauri-driver; run by `cargo xtask test`"]
fn the_language_follows_the_operating_system_until_chosen() {
    let driver = Driver::start("ru_RU.UTF-8");
    let session = driver.session("os-language");
    session.wait_for_text("[data-testid=section-title]", |t| t == "Входящие");
    session.wait_for_text("[data-testid=connection]", |t| {
        t == "Не привязано к команде"
    });
    let lang = session.execute("return document.documentElement.lang", json!([]));
    assert_eq!(lang, "ru");
    session.screenshot(&out_dir().join("05-inbox-ru-from-os.png"));
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring, dunst and tauri-driver; run by `cargo xtask test`"]
fn an_app_provisioned_from_the_command_line_syncs_and_raises_an_urgent_notification() {
    let team = TeamEnv::start();
    let run = Uuid::now_v7().simple().to_string();
    let customer = format!("Dana {}", &run[run.len() - 6..]);
    // Written before the app exists: it arrives through the first sync.
    team.customer_says("15550001234", &customer, "Where is my order?");
    let conversation = team.conversation_of("15550001234");

    let driver = Driver::start("en_US.UTF-8");
    let owner_code = team.code(Preset::Admin, "Olga", true);
    let profile = driver.profile("front-desk");
    let session = driver.provisioned_session(
        "provisioned",
        &profile,
        &team.relay_url,
        &owner_code,
        Some("Front desk"),
    );
    let out = out_dir();

    // Linked on first start, connected, and the customer's conversation is in the inbox.
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == customer);
    let row = session.wait_for("[data-testid=inbox-row]");
    assert_eq!(
        row.attribute("data-conversation-id").as_deref(),
        Some(conversation.to_string().as_str())
    );
    assert!(
        profile.join("profile.json").exists(),
        "the profile lives in --data-dir"
    );
    let title = session.execute("return document.title", json!([]));
    assert_eq!(title, "(1) Teamline", "the unread count shows in the title");

    // A supervisor on another device marks it #urgent: this admin device is told by the
    // desktop's notification daemon.
    let sam = team.colleague(&team.code(Preset::Supervisor, "Sam", false), "Sam's phone");
    let (status, body) = team.command(
        &sam,
        json!({"type": "add_label", "conversation_id": conversation, "label": "#urgent"}),
    );
    assert_eq!(status, 200, "add_label: {body}");
    // Among the chips (automation adds "New customer" to a first contact).
    session.wait_for_any_text("[data-testid=label-chip]", |t| t.contains("#urgent"));
    let history = eventually("the #urgent notification in dunst's history", || {
        let h = dunst_history();
        h.contains(&customer).then_some(h)
    });
    assert!(history.contains("#urgent"), "{history}");
    session.screenshot(&out.join("10-inbox-linked-urgent.png"));

    // Open it: the customer's message is in the timeline.
    session.wait_for("[data-testid=inbox-row]").click();
    session.wait_for_text("[data-testid=timeline-item][data-direction=inbound]", |t| {
        t.contains("Where is my order?")
    });
    // Opened means seen: the unread count leaves the title (and the tray).
    eventually("the title without an unread count", || {
        let title = session.execute("return document.title", json!([]));
        (title == "Teamline").then_some(())
    });
    session.screenshot(&out.join("11-conversation.png"));
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn the_timeline_shows_an_image_a_location_and_a_document() {
    let team = TeamEnv::start();
    let from = "15550002468";
    team.customer_says(
        from,
        "Lena Fischer",
        "Hi! The lamp arrived, see https://shop.example/o/1042",
    );
    team.customer_sends(json!({"from": from, "name": "Lena Fischer", "type": "image", "image": {"caption": "The shade is cracked"}}));
    team.customer_sends(json!({"from": from, "name": "Lena Fischer", "type": "location", "location": {"latitude": 52.520_008, "longitude": 13.404_954, "name": "Lena's flat", "address": "Alexanderplatz 1, 10178 Berlin"}}));
    team.customer_sends(json!({"from": from, "name": "Lena Fischer", "type": "document", "document": {"filename": "order-1042.pdf", "caption": "My receipt"}}));
    team.conversation_of(from);

    let driver = Driver::start("en_US.UTF-8");
    let code = team.code(Preset::Admin, "Olga", true);
    let profile = driver.profile("timeline");
    let session = driver.provisioned_session(
        "timeline",
        &profile,
        &team.relay_url,
        &code,
        Some("Front desk"),
    );
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for("[data-testid=inbox-row]").click();
    // The image comes from the relay's media store through the encrypted cache.
    session.wait_for("[data-testid=image-preview] img");
    session.wait_for_text("[data-testid=location-name]", |t| t == "Lena's flat");
    session.wait_for_text("[data-testid=document-name]", |t| t == "order-1042.pdf");
    session.wait_for_text("[data-testid=day-separator]", |t| t == "Today");
    session.wait_for_text("[data-testid=message-link]", |t| {
        t == "https://shop.example/o/1042"
    });
    let out = out_dir();
    session.screenshot(&out.join("60-timeline-media.png"));

    // Full view, closed with Esc.
    session.wait_for("[data-testid=image-preview]").click();
    session.wait_for("[data-testid=image-viewer]");
    session.screenshot(&out.join("61-timeline-image-full-view.png"));
    session
        .wait_for("[data-testid=image-viewer-close]")
        .send_keys("\u{E00C}");
    eventually("the full view closed", || {
        session
            .find("[data-testid=image-viewer]")
            .is_none()
            .then_some(())
    });
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn a_bad_pairing_code_on_the_command_line_is_explained_and_the_app_still_opens() {
    let team = TeamEnv::start();
    let driver = Driver::start("en_US.UTF-8");
    let profile = driver.profile("laptop");
    let session = driver.provisioned_session(
        "bad-code",
        &profile,
        &team.relay_url,
        "WRONG-CODE-1234",
        None,
    );
    let banner = session.wait_for_text("[data-testid=startup-error]", |t| !t.is_empty());
    assert!(
        banner.to_lowercase().contains("code"),
        "the banner names the pairing code: {banner}"
    );
    session.wait_for("[data-testid=connection][data-state=not_linked]");
    session.screenshot(&out_dir().join("12-bad-pairing-code.png"));
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn the_team_page_links_a_device_with_a_code_and_lists_it() {
    let team = TeamEnv::start();
    let driver = Driver::start("en_US.UTF-8");
    let owner_code = team.code(Preset::Admin, "Olga", true);
    let profile = driver.profile("owner");
    let session = driver.provisioned_session(
        "team",
        &profile,
        &team.relay_url,
        &owner_code,
        Some("Owner desk"),
    );
    let out = out_dir();
    session.wait_for("[data-testid=connection][data-state=connected]");

    // Members: the owner, with the Admin preset and what that means in plain words.
    session.wait_for("nav button[data-section=team]").click();
    session.wait_for_text("[data-testid=member-row]", |t| t.contains("Olga"));
    session.screenshot(&out.join("20-team-members.png"));

    // Link a device: a code with its 90-second countdown and a QR image.
    session.wait_for("[data-testid=team-tab-link]").click();
    session.wait_for("[data-testid=link-device-button]").click();
    let code = session.wait_for_text("[data-testid=pairing-code]", |t| t.len() >= 8);
    let countdown = session.wait_for_text("[data-testid=pairing-countdown]", |t| !t.is_empty());
    let seconds = countdown
        .split_whitespace()
        .find_map(|w| {
            let (m, s) = w.split_once(':')?;
            Some(
                m.parse::<u32>().ok()? * 60
                    + s.trim_end_matches(|c: char| !c.is_ascii_digit())
                        .parse::<u32>()
                        .ok()?,
            )
        })
        .unwrap_or_else(|| panic!("a m:ss countdown: {countdown}"));
    assert!(
        (45..=90).contains(&seconds),
        "a countdown from 90 s: {countdown}"
    );
    session.wait_for("[data-testid=pairing-qr] path");
    session.screenshot(&out.join("21-team-link-device.png"));

    // The code links a real device, which then shows in the device list.
    team.colleague(&code, "Ana's phone");
    session.wait_for("[data-testid=team-tab-devices]").click();
    session.wait_for_text("[data-testid=device-count]", |t| t.contains('2'));
    session.wait_for_text("[data-testid=device-row]:nth-child(2)", |t| {
        t.contains("Ana's phone")
    });
    session.screenshot(&out.join("22-team-devices.png"));
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn an_agent_claims_notes_labels_and_finds_a_conversation() {
    let team = TeamEnv::start();
    team.customer_says("15550009876", "Marta Ruiz", "Мой заказ 4417 ещё не пришёл");
    team.conversation_of("15550009876");
    let driver = Driver::start("en_US.UTF-8");
    let code = team.code(Preset::Supervisor, "Sam", false);
    let profile = driver.profile("agent");
    let session =
        driver.provisioned_session("inbox-actions", &profile, &team.relay_url, &code, None);
    let out = out_dir();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Marta Ruiz");
    session.wait_for("[data-testid=inbox-row]").click();

    // Claim: the composer opens for this agent; the relay records the assignment.
    session.wait_for("[data-testid=claim-button]").click();
    session.wait_for_text("[data-testid=inbox-row]", |t| t.contains("Sam"));

    // A reply goes out through the Graph API once and comes back delivered, then read.
    session
        .wait_for("[data-testid=composer-input]")
        .send_keys("Sorry for the wait, checking now\u{E007}");
    session.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("Sorry for the wait"),
    );
    session.wait_for_text(
        "[data-testid=timeline-item][data-direction=outbound]",
        |t| t.contains("Sam"),
    );
    session.wait_for(
        "[data-testid=ticks][data-status=delivered], [data-testid=ticks][data-status=read]",
    );
    session.wait_for("[data-testid=ticks][data-status=read]");

    // An internal note, visibly apart from the customer's messages.
    session.wait_for("[data-testid=mode-note]").click();
    session
        .wait_for("[data-testid=note-input]")
        .send_keys("Checked with the warehouse: ships tomorrow");
    session.wait_for("[data-testid=note-submit]").click();
    session.wait_for_text("[data-testid=note-item]", |t| t.contains("ships tomorrow"));

    // A label typed in the conversation reaches the list's chips.
    session.wait_for("[data-testid=label-add]").click();
    session
        .wait_for("[data-testid=label-input]")
        .send_keys("vip\u{E007}");
    session.wait_for_any_text("[data-testid=inbox-row] [data-testid=label-chip]", |t| {
        t.contains("vip")
    });
    session.screenshot(&out.join("13-conversation-claimed-note-label.png"));

    // Search in Russian finds the message offline-fast from the local index.
    session
        .wait_for("[data-testid=search-input]")
        .send_keys("заказ");
    let hit = session.wait_for_text("[data-testid=search-result]", |t| t.contains("Marta Ruiz"));
    assert!(hit.contains("заказ"), "the snippet shows the match: {hit}");
    session.screenshot(&out.join("14-search-ru.png"));
    session.close();
}

#[test]
#[ignore = "needs a display and tauri-driver; run by `cargo xtask test`"]
fn a_computer_without_a_keyring_links_with_a_passphrase_and_unlocks_at_start() {
    let team = TeamEnv::start();
    team.customer_says("15550004321", "Lena Vogel", "Is the shop open on Sunday?");
    team.conversation_of("15550004321");
    let driver = Driver::start_without_keyring("en_US.UTF-8");
    let code = team.code(Preset::Standard, "Kiosk", false);
    let profile = driver.profile("kiosk");
    let args = vec![
        "--data-dir".to_owned(),
        profile.to_str().expect("UTF-8 path").to_owned(),
    ];
    let out = out_dir();
    let session = driver.session_with_args("no-keyring", &args);
    session.wait_for("[data-testid=connection][data-state=not_linked]");
    fill_join_form(&session, &team.relay_url, &code);
    session.wait_for("[data-testid=join-submit]").click();

    // The keyring is checked before the one-time code is used; the passphrase is offered.
    session.wait_for_text("[data-testid=join-error]", |t| {
        t.contains("keyring") && t.contains("passphrase")
    });
    let passphrase = "sunday opening hours";
    session
        .wait_for("[data-testid=join-passphrase]")
        .send_keys(passphrase);
    session
        .wait_for("[data-testid=join-passphrase-again]")
        .send_keys(passphrase);
    session.screenshot(&out.join("30-no-keyring-passphrase.png"));
    session.wait_for("[data-testid=join-submit]").click();
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for("nav button[data-section=inbox]").click();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Lena Vogel");
    session.close();

    // Every start asks for the passphrase; a wrong one says so and changes nothing.
    let session = driver.session_with_args("no-keyring-unlock", &args);
    session.wait_for("[data-testid=connection][data-state=locked]");
    session.wait_for("[data-testid=unlock-form]");
    assert!(session.find("[data-testid=inbox-row]").is_none());
    session
        .wait_for("[data-testid=unlock-passphrase]")
        .send_keys("monday opening hours\u{E007}");
    session.wait_for_text("[data-testid=unlock-error]", |t| {
        t.contains("Nothing was changed")
    });
    session.screenshot(&out.join("31-unlock-wrong-passphrase.png"));
    let field = session.wait_for("[data-testid=unlock-passphrase]");
    field.clear();
    field.send_keys(&format!("{passphrase}\u{E007}"));
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Lena Vogel");
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn the_audit_page_verifies_the_chain_and_shows_alerts_and_advice() {
    let team = TeamEnv::start();
    let driver = Driver::start("en_US.UTF-8");
    let owner_code = team.code(Preset::Admin, "Olga", true);
    let profile = driver.profile("owner");
    let session = driver.provisioned_session(
        "audit",
        &profile,
        &team.relay_url,
        &owner_code,
        Some("Owner desk"),
    );
    let out = out_dir();
    session.wait_for("[data-testid=connection][data-state=connected]");

    // A second admin adds three people within the hour (a burst alert) and gives one of
    // them both "delete history" and "send broadcasts" (advice with a one-click fix).
    let sam = team.colleague(&team.code(Preset::Admin, "Sam", false), "Sam's laptop");
    let (status, body) = team.request(
        &sam,
        "PUT",
        "/v1/me/pin",
        None,
        Some(json!({"new_pin": "135790"})),
    );
    assert_eq!(status, 200, "Sam's PIN: {body}");
    for (name, toggles) in [
        ("Ana", json!(["reply"])),
        ("Ben", json!(["reply"])),
        ("Cai", json!(["reply", "delete_history", "send_broadcasts"])),
    ] {
        let (status, body) = team.request(
            &sam,
            "POST",
            "/v1/team/members",
            Some("135790"),
            Some(json!({"name": name, "toggles": toggles})),
        );
        assert_eq!(status, 200, "create {name}: {body}");
    }

    session.wait_for("nav button[data-section=audit]").click();
    session.wait_for_text("[data-testid=audit-row]", |t| !t.is_empty());
    session.wait_for("[data-testid=audit-verify]").click();
    session.wait_for("[data-testid=audit-chain-status][data-state=intact]");
    session.screenshot(&out.join("40-audit-log-verified.png"));

    session.wait_for("[data-testid=audit-tab-alerts]").click();
    session.wait_for("[data-testid=alert-row][data-rule=permission_change_burst]");
    session.screenshot(&out.join("41-audit-alerts.png"));

    session.wait_for("[data-testid=audit-tab-advisor]").click();
    session.wait_for("[data-testid=advice-card][data-code=delete_and_broadcast]");
    session.wait_for("[data-testid=advice-fix]");
    session.screenshot(&out.join("42-audit-advisor.png"));
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn a_device_backup_is_exported_and_restored_on_a_new_device() {
    let team = TeamEnv::start();
    team.customer_says("15550007777", "Omar Haddad", "Do you ship to Lyon?");
    team.conversation_of("15550007777");
    let driver = Driver::start("en_US.UTF-8");
    let owner_code = team.code(Preset::Admin, "Olga", true);
    let old = driver.profile("old-laptop");
    let session =
        driver.provisioned_session("backup-export", &old, &team.relay_url, &owner_code, None);
    let out = out_dir();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Omar Haddad");

    // Olga's PIN, set by a second admin (the export asks for it).
    let sam = team.colleague(&team.code(Preset::Admin, "Sam", false), "Sam's laptop");
    let (_, body) = team.request(
        &sam,
        "PUT",
        "/v1/me/pin",
        None,
        Some(json!({"new_pin": "135790"})),
    );
    let (status, members) = team.request(&sam, "GET", "/v1/team/members", None, None);
    assert_eq!(status, 200, "{body} {members}");
    let olga = members["members"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["name"] == "Olga"))
        .and_then(|m| m["id"].as_str())
        .expect("Olga in the member list")
        .to_owned();
    let (status, body) = team.request(
        &sam,
        "PUT",
        &format!("/v1/team/members/{olga}/pin"),
        Some("135790"),
        Some(json!({"new_pin": "246810"})),
    );
    assert_eq!(status, 200, "Olga's PIN: {body}");

    open_connection_settings(&session);
    let passphrase = "lyon shipping backup";
    session
        .wait_for("[data-testid=backup-passphrase]")
        .send_keys(passphrase);
    session
        .wait_for("[data-testid=backup-passphrase-again]")
        .send_keys(passphrase);
    session.wait_for("[data-testid=backup-submit]").click();
    session
        .wait_for("[data-testid=pin-input]")
        .send_keys("246810");
    session.wait_for("[data-testid=pin-submit]").click();
    let saved = session.wait_for_text("[data-testid=backup-done]", |t| t.contains(".tlbk"));
    session.screenshot(&out.join("50-device-backup-saved.png"));
    session.close();
    let file = saved
        .split_whitespace()
        .find(|w| w.ends_with(".tlbk"))
        .expect("the saved file's path")
        .to_owned();
    assert!(Path::new(&file).exists(), "{file} exists");

    // A new computer: join with a new code and the backup file.
    let new_code = team.code(Preset::Admin, "Olga", false);
    let fresh = driver.profile("new-laptop");
    let args = vec![
        "--data-dir".to_owned(),
        fresh.to_str().expect("UTF-8 path").to_owned(),
    ];
    let session = driver.session_with_args("backup-restore", &args);
    fill_join_form(&session, &team.relay_url, &new_code);
    session.wait_for("[data-testid=join-restore]").click();
    session
        .wait_for("[data-testid=join-backup-path]")
        .send_keys(&file);
    session
        .wait_for("[data-testid=join-backup-passphrase]")
        .send_keys("not the passphrase");
    session.wait_for("[data-testid=join-submit]").click();
    session.wait_for_text("[data-testid=join-error]", |t| t.contains("still unused"));
    session.screenshot(&out.join("51-restore-wrong-passphrase.png"));
    let field = session.wait_for("[data-testid=join-backup-passphrase]");
    field.clear();
    field.send_keys(&format!("{passphrase}\u{E007}"));
    session.wait_for("[data-testid=connection][data-state=connected]");
    session.wait_for("nav button[data-section=inbox]").click();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Omar Haddad");
    session.close();
}

#[test]
#[ignore = "needs a display, D-Bus, a keyring and tauri-driver; run by `cargo xtask test`"]
fn contacts_are_imported_from_a_csv_and_shown_in_the_customer_panel() {
    let team = TeamEnv::start();
    team.customer_says("79123456789", "Anna", "Здравствуйте, где мой заказ?");
    team.conversation_of("79123456789");
    let driver = Driver::start("en_US.UTF-8");
    let code = team.code(Preset::Admin, "Olga", false);
    let profile = driver.profile("owner");
    let session = driver.provisioned_session("contacts", &profile, &team.relay_url, &code, None);
    let out = out_dir();
    let csv = profile.join("customers.csv");
    std::fs::write(
        &csv,
        "\u{feff}Name,Phone,Monthly spend (USD),VIP,City\r\n\
         \"Петрова, Анна\",+7 912 345-67-89,1200,yes,Москва\r\n\
         王伟,+86 138 0013 8000,600,no,上海\r\n\
         Bad number,12ab,,,\r\n\
         Typo,+1 415 555 0101,lots,,\r\n",
    )
    .unwrap();
    session.wait_for_text("[data-testid=inbox-row-name]", |t| t == "Anna");

    // Contacts › Import CSV: the preview marks the two bad rows, then imports the others.
    session.wait_for("[data-section=contacts]").click();
    session.wait_for("[data-testid=import-open]").click();
    session
        .wait_for("[data-testid=import-path]")
        .send_keys(&format!("{}\u{E007}", csv.display()));
    session.wait_for_text("[data-testid=import-summary]", |t| {
        t.contains("2 with errors")
    });
    session.wait_for("[data-testid=import-row][data-status=error] [data-testid=row-error]");
    session.screenshot(&out.join("110-contacts-import-preview.png"));
    session.wait_for("[data-testid=import-apply]").click();
    session.wait_for_text("[data-testid=import-done]", |t| {
        t.contains("1 new, 1 updated")
    });
    session.wait_for("[data-testid=import-close]").click();

    // The list shows both; the detail has the attributes and the conversation.
    session
        .wait_for("[data-testid=contact-search]")
        .send_keys("анна");
    session.wait_for_text("[data-testid=contact-row]", |t| t.contains("Петрова, Анна"));
    session.wait_for("[data-testid=contact-row]").click();
    session.wait_for_text("[data-testid=contact-attributes]", |t| t.contains("1,200"));
    session.wait_for("[data-testid=contact-card] [data-testid=vip-badge]");

    // An edit goes through the relay and comes back typed.
    session.wait_for("[data-testid=contact-edit]").click();
    let city = session.wait_for("[data-testid=attr-input-city]");
    city.clear();
    city.send_keys("Санкт-Петербург");
    session.wait_for("[data-testid=contact-save]").click();
    session.wait_for_text("[data-testid=contact-attributes]", |t| {
        t.contains("Санкт-Петербург")
    });
    session.screenshot(&out.join("111-contacts-detail.png"));

    // The conversation opens in the Inbox with the customer panel beside it (over it in a
    // narrow window, where it starts collapsed).
    session.wait_for("[data-testid=open-conversation]").click();
    let toggle = session.wait_for("[data-testid=customer-panel-toggle]");
    if toggle.attribute("aria-expanded").as_deref() == Some("false") {
        toggle.click();
    }
    session.wait_for_text(
        "[data-testid=customer-panel] [data-testid=contact-name]",
        |t| t.contains("Петрова, Анна"),
    );
    session.wait_for("[data-testid=customer-panel] [data-testid=vip-badge]");
    session.wait_for_text(
        "[data-testid=customer-panel] [data-testid=contact-attributes]",
        |t| t.contains("Санкт-Петербург"),
    );
    session.screenshot(&out.join("112-customer-panel.png"));

    // The same screens in Russian and Chinese.
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    choose_language(&session, "ru");
    session.wait_for_text("nav button[data-section=contacts]", |t| t == "Контакты");
    session
        .wait_for("nav button[data-section=contacts]")
        .click();
    session.wait_for("[data-testid=contact-row]").click();
    session.wait_for_text("[data-testid=contact-attributes]", |t| {
        t.contains("Траты в месяц")
    });
    session.screenshot(&out.join("113-contacts-detail-ru.png"));
    session
        .wait_for("nav button[data-section=settings]")
        .click();
    choose_language(&session, "zh");
    session.wait_for_text("nav button[data-section=contacts]", |t| t == "联系人");
    session
        .wait_for("nav button[data-section=contacts]")
        .click();
    session.wait_for("[data-testid=import-open]").click();
    session
        .wait_for("[data-testid=import-path]")
        .send_keys(&format!("{}\u{E007}", csv.display()));
    session.wait_for("[data-testid=import-row][data-status=error] [data-testid=row-error]");
    session.screenshot(&out.join("114-contacts-import-preview-zh.png"));
    session.close();
}

//! The audit routes over real HTTP: `GET /v1/team/audit` filters, `/verify` (JSON report,
//! a tampered file detected), `/export` (ViewAuditLog + ExportHistory + PIN, itself
//! logged, CSV that parses back), pairing attempts in the log, concurrent team changes in
//! one chain, and retention with the relay's clock.

mod common;
mod team_env;

use std::sync::Arc;
use std::time::Duration;

use common::TestRelay;
use serde_json::{Value, json};
use team_env::*;
use teamline_relay::audit::{self, CSV_COLUMNS, Cut};

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().expect("entries")
}

async fn audit_list(t: &TestRelay, token: &str, query: &str) -> Vec<Value> {
    let (s, v) = call(
        t,
        token,
        "GET",
        &format!("/v1/team/audit{query}"),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{query}: {v}");
    entries(&v).clone()
}

async fn verify(t: &TestRelay, token: &str) -> Value {
    let (s, v) = call(t, token, "GET", "/v1/team/audit/verify", None, None).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// RFC 4180 as a spreadsheet reads it: quoted fields may hold commas, quotes (doubled)
/// and line breaks; records end with CRLF.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "unterminated CSV"
    );
    rows
}

async fn export(
    t: &TestRelay,
    token: Option<&str>,
    query: &str,
    pin: Option<&str>,
) -> (u16, String, String, String) {
    let mut req = t.http.get(format!("{}/v1/team/audit/export{query}", t.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(pin) = pin {
        req = req.header("x-teamline-pin", pin);
    }
    let resp = req.send().await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = resp.status().as_u16();
    (status, ct, cd, resp.text().await.unwrap())
}

#[tokio::test]
async fn verify_reports_the_chain_as_json_and_catches_an_edit_in_the_file() {
    let (t, root) = start().await;
    member(&t, &root, "Ana", "standard", &[]).await;
    let list = audit_list(&t, &root.token, "?limit=500").await;
    let v = verify(&t, &root.token).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], list.len());
    assert_eq!(v["head_seq"], list[0]["seq"]);
    assert_eq!(v["head_count"], list[0]["index"]);
    assert_eq!(v["head_mac"], list[0]["mac"]);
    assert_eq!(v["head_mac"].as_str().unwrap().len(), 64);
    assert!(v["first_broken"].is_null());
    assert_eq!(v["checkpoint"]["seq"], v["head_seq"]);
    assert_eq!(v["checkpoint"]["count"], list.len());
    assert_eq!(v["checkpoint"]["head_mac"], v["head_mac"]);

    // Only devices that may see the audit log may verify it.
    let std_member = member(&t, &root, "Sam", "standard", &[]).await;
    let sam = link(&t, &root, Some(std_member), "standard", "Sam's PC").await;
    let (s, body) = call(&t, &sam.token, "GET", "/v1/team/audit/verify", None, None).await;
    assert_eq!(s, 403, "{body}");

    // Someone with the database file edits the member's creation.
    let edited = list
        .iter()
        .find(|e| e["kind"] == "audit.member_created")
        .unwrap();
    let c = rusqlite::Connection::open(t.dir.path().join("relay.db")).unwrap();
    c.execute_batch(&format!(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET after = replace(after, 'Ana', 'Eve') WHERE seq = {}",
        edited["seq"]
    ))
    .unwrap();
    let v = verify(&t, &root.token).await;
    assert_eq!(v["ok"], false);
    assert_eq!(v["first_broken"]["seq"], edited["seq"]);
    assert_eq!(v["first_broken"]["code"], "mac_mismatch");
    assert!(
        v["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("MAC mismatch")
    );
}

#[tokio::test]
async fn the_list_filters_by_member_device_action_and_time() {
    let (t, root) = start().await;
    let me: Value = call(&t, &root.token, "GET", "/v1/me", None, None).await.1;
    let root_id = me["member"]["id"].as_str().unwrap().to_owned();
    let ana = member(&t, &root, "Ana", "admin", &[]).await;
    let ana_pc = link(&t, &root, Some(ana), "admin", "Ana's PC").await;
    let mid = t.clock.now();
    t.clock.advance(Duration::from_secs(3600));
    // Ana changes a setting from her own device, an hour later.
    let (s, v) = call(
        &t,
        &ana_pc.token,
        "PUT",
        "/v1/team/settings",
        Some(MEMBER_PIN),
        Some(json!({"device_cap": 30})),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    let by_root = audit_list(&t, &root.token, &format!("?member={root_id}")).await;
    assert!(by_root.len() >= 3);
    assert!(
        by_root
            .iter()
            .all(|e| e["actor_member_id"] == root_id.as_str())
    );
    let by_ana_pc = audit_list(&t, &root.token, &format!("?device={}", ana_pc.device_id)).await;
    let kinds: Vec<&str> = by_ana_pc
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["audit.settings_updated", "audit.device_linked"]);
    for action in ["member", "audit.member"] {
        let members = audit_list(&t, &root.token, &format!("?action={action}")).await;
        assert!(!members.is_empty());
        assert!(
            members
                .iter()
                .all(|e| e["kind"].as_str().unwrap().starts_with("audit.member_"))
        );
    }
    let half = (mid + jiff::SignedDuration::from_mins(30)).to_string();
    let later = audit_list(&t, &root.token, &format!("?from={half}")).await;
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0]["kind"], "audit.settings_updated");
    let earlier = audit_list(&t, &root.token, &format!("?to={half}&action=settings")).await;
    assert!(earlier.is_empty(), "{earlier:?}");
    let both = audit_list(
        &t,
        &root.token,
        &format!("?member={ana}&action=settings&from={half}"),
    )
    .await;
    assert_eq!(both.len(), 1);

    // Paging still works, and a bad filter is a clear 400.
    let (_, page) = call(&t, &root.token, "GET", "/v1/team/audit?limit=2", None, None).await;
    assert_eq!(entries(&page).len(), 2);
    let next = page["next_before"].as_u64().unwrap();
    let rest = audit_list(&t, &root.token, &format!("?before={next}&limit=500")).await;
    assert!(rest.iter().all(|e| e["seq"].as_u64().unwrap() < next));
    for bad in ["?from=yesterday", "?member=nobody", "?limit=many"] {
        let (s, v) = call(
            &t,
            &root.token,
            "GET",
            &format!("/v1/team/audit{bad}"),
            None,
            None,
        )
        .await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["code"], "invalid_request", "{bad}");
    }
}

#[tokio::test]
async fn export_needs_the_permissions_and_the_pin_is_logged_and_its_csv_parses_back() {
    let (t, root) = start().await;
    // A device whose name needs quoting in CSV (comma, quotes, a line break).
    let awkward = "Shop PC, \"front\"\nsecond line";
    let code = t.code("standard", Some("Cleo")).await;
    assert_eq!(t.claim(&code, awkward).await.status(), 200);

    // Who may not: no token, no audit permission, no export permission, no or wrong PIN.
    let sup = member(&t, &root, "Sue", "supervisor", &[]).await;
    let sue = link(&t, &root, Some(sup), "supervisor", "Sue's PC").await;
    let std_member = member(&t, &root, "Sam", "standard", &[]).await;
    let sam = link(&t, &root, Some(std_member), "standard", "Sam's PC").await;
    let csv = "?format=csv";
    assert_eq!(export(&t, None, csv, Some(ROOT_PIN)).await.0, 401);
    for who in [&sam.token, &sue.token] {
        let (s, _, _, body) = export(&t, Some(who), csv, Some(MEMBER_PIN)).await;
        assert_eq!(s, 403, "{body}");
        assert!(body.contains("permission_denied"), "{body}");
    }
    let (s, _, _, body) = export(&t, Some(&root.token), csv, None).await;
    assert_eq!(s, 403);
    assert!(body.contains("pin_required"), "{body}");
    let (s, _, _, body) = export(&t, Some(&root.token), csv, Some("999999")).await;
    assert_eq!(s, 403);
    assert!(body.contains("pin_invalid"), "{body}");
    let (s, _, _, body) = export(&t, Some(&root.token), "?format=xml", Some(ROOT_PIN)).await;
    assert_eq!(s, 400, "{body}");
    assert!(
        audit_list(&t, &root.token, "?action=exported")
            .await
            .is_empty(),
        "refused exports are not exports"
    );

    let listed = audit_list(&t, &root.token, "?limit=500").await;
    let (s, ct, cd, body) = export(&t, Some(&root.token), csv, Some(ROOT_PIN)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(cd.starts_with("attachment; filename=\"teamline-audit-") && cd.ends_with(".csv\""));
    let rows = parse_csv(&body);
    assert_eq!(rows[0], CSV_COLUMNS);
    let rows = &rows[1..];
    assert_eq!(rows.len(), listed.len());
    assert!(rows.iter().all(|r| r.len() == CSV_COLUMNS.len()));
    // Oldest first, the same entries the list shows, each cell intact.
    let seqs: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let mut want: Vec<u64> = listed.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    want.reverse();
    assert_eq!(seqs, want);
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let linked = rows
        .iter()
        .find(|r| r[col("kind")] == "audit.device_linked" && r[col("device_name")] == awkward)
        .expect("the awkward device's link, name intact");
    let entry = listed
        .iter()
        .find(|e| e["seq"].as_u64().unwrap().to_string() == linked[0])
        .unwrap();
    let after: Value = serde_json::from_str(&linked[col("after")]).unwrap();
    assert_eq!(after, entry["after"]);
    assert_eq!(linked[col("mac")], entry["mac"].as_str().unwrap());
    assert_eq!(linked[col("address")], "127.0.0.1");

    // JSON too; both exports are in the log with their format and size.
    let (s, ct, _, body) = export(
        &t,
        Some(&root.token),
        "?format=json&action=device",
        Some(ROOT_PIN),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ct, "application/json");
    let v: Value = serde_json::from_str(&body).unwrap();
    let exported = entries(&v);
    assert!(!exported.is_empty());
    assert!(
        exported
            .iter()
            .all(|e| e["kind"].as_str().unwrap().starts_with("audit.device"))
    );
    assert!(exported.iter().any(|e| e["device_name"] == awkward));
    assert_eq!(v["filters"]["action"], "device");
    let logged = audit_list(&t, &root.token, "?action=exported").await;
    let formats: Vec<(&str, u64)> = logged
        .iter()
        .map(|e| {
            (
                e["after"]["format"].as_str().unwrap(),
                e["after"]["entries"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        formats,
        [("json", exported.len() as u64), ("csv", rows.len() as u64)]
    );
    assert!(
        logged
            .iter()
            .all(|e| e["address"] == "127.0.0.1" && e["device_id"] == root.device_id.to_string())
    );
    assert!(!body.contains(ROOT_PIN) && !logged.iter().any(|e| e.to_string().contains(ROOT_PIN)));
    assert_eq!(verify(&t, &root.token).await["ok"], true);
}

#[tokio::test]
async fn pairing_attempts_are_logged_with_the_address_and_never_the_code() {
    let (t, root) = start().await;
    let good = t.code("standard", Some("Flo")).await;
    assert_eq!(t.claim(&good, "Flo's laptop").await.status(), 200);
    let bogus = "ABCDE-FGHJK";
    assert_eq!(t.claim(bogus, "Intruder box").await.status(), 400);
    let expired = t.code("standard", Some("Eli")).await;
    t.clock.advance(Duration::from_secs(91));
    assert_eq!(t.claim(&expired, "Eli's laptop").await.status(), 400);
    assert_eq!(t.claim(&good, "Flo's twin").await.status(), 400);
    // The third failure locks the address; attempts while it cools down check nothing and
    // are not logged one by one.
    let another = t.code("standard", Some("Gus")).await;
    assert_eq!(t.claim(&another, "Gus's laptop").await.status(), 400);

    let failed = audit_list(&t, &root.token, "?action=pairing_failed").await;
    let reasons: Vec<&str> = failed
        .iter()
        .map(|e| e["after"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["used_code", "expired_code", "unknown_code"]);
    for e in &failed {
        assert_eq!(e["address"], "127.0.0.1");
        assert!(e["actor_member_id"].is_null());
    }
    assert_eq!(failed[2]["after"]["name"], "Intruder box");
    assert_eq!(failed[2]["after"]["failures"], 1);
    assert!(
        failed[0]["after"]["locked_until"].is_string(),
        "{}",
        failed[0]
    );
    let linked = audit_list(&t, &root.token, "?action=device_linked").await;
    assert!(
        linked
            .iter()
            .any(|e| e["after"]["device"]["name"] == "Flo's laptop" && e["address"] == "127.0.0.1")
    );
    let everything = call(
        &t,
        &root.token,
        "GET",
        "/v1/team/audit?limit=500",
        None,
        None,
    )
    .await
    .1
    .to_string();
    for code in [bogus, expired.as_str(), good.as_str(), another.as_str()] {
        assert!(
            !everything.contains(code),
            "{code} leaked into the audit log"
        );
        assert!(!everything.contains(&code.replace('-', "")));
    }
    assert_eq!(verify(&t, &root.token).await["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_team_changes_over_http_form_one_chain() {
    let (t, root) = start().await;
    let t = Arc::new(t);
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        let (t, token) = (Arc::clone(&t), root.token.clone());
        tasks.push(tokio::spawn(async move {
            for j in 0..10u64 {
                let (s, v) = call(
                    &t,
                    &token,
                    "PUT",
                    "/v1/team/settings",
                    Some(ROOT_PIN),
                    Some(json!({"device_cap": 20 + i * 10 + j})),
                )
                .await;
                assert_eq!(s, 200, "{v}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let list = audit_list(&t, &root.token, "?limit=500").await;
    assert_eq!(
        list.iter()
            .filter(|e| e["kind"] == "audit.settings_updated")
            .count(),
        80
    );
    let v = verify(&t, &root.token).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], list.len());
    let mut indexes: Vec<u64> = list.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    indexes.reverse();
    assert_eq!(indexes, (1..=list.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn retention_on_the_relay_clock_cuts_old_entries_and_keeps_the_log_verifiable() {
    let (t, root) = start().await;
    for name in ["Ana", "Bea", "Cid"] {
        member(&t, &root, name, "standard", &[]).await;
    }
    let old = audit_list(&t, &root.token, "?limit=500").await;
    t.clock.advance(Duration::from_secs(91 * 24 * 3600));
    assert_eq!(
        audit::apply_retention(t.relay.state()).await.unwrap(),
        Cut::Removed {
            through_index: old.len() as u64,
            through_seq: old[0]["seq"].as_u64().unwrap(),
            removed: old.len() as u64,
        }
    );
    let m = member(&t, &root, "Dee", "standard", &[]).await;
    let left = audit_list(&t, &root.token, "?limit=500").await;
    assert!(
        left.iter()
            .all(|e| e["seq"].as_u64() > old[0]["seq"].as_u64())
    );
    assert!(left.iter().any(|e| e["kind"] == "audit.entries_expired"));
    assert!(
        left.iter()
            .any(|e| e["target"]["member_id"] == m.to_string())
    );
    let v = verify(&t, &root.token).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], left.len());
    assert_eq!(v["checkpoint"]["cut_count"], old.len());
    assert_eq!(v["head_count"], (old.len() + left.len()) as u64);
    assert_eq!(
        audit::apply_retention(t.relay.state()).await.unwrap(),
        Cut::Nothing
    );
}

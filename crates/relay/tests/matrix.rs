//! THE permission matrix: every relay route × every preset (member) × every device level ×
//! inside/outside a template window, plus the stream (SSE and long-poll) and history routes.
//!
//! Expected outcomes come from the explicit table [`CASES`] (which permission each route
//! needs) and a model of visibility written here, never from the relay's code. The route
//! list is checked against the router's source: a route the table does not cover fails.

mod common;
mod team_env;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use teamline_core::{Permission, PermissionSet, Preset};
use uuid::Uuid;

use common::{Device, Sse, TestRelay};
use team_env::*;

use Permission::*;

/// What a route needs. `Any`: any signed-in device. `Perm`: that permission. `PermPin`:
/// that permission and the PIN. `BothPin`: both permissions and the PIN. `PermPinMissing`:
/// as `PermPin`, on an unknown id (404 once allowed). `View`: the conversation is visible. `Cmd`: visible, then
/// the permission. `Status`: the same answer for everybody (no rights involved).
#[derive(Clone, Copy, Debug)]
enum Need {
    Any,
    Perm(Permission),
    PermPin(Permission),
    BothPin(Permission, Permission),
    /// That permission and the PIN, on an object that does not exist: 404 when allowed.
    PermPinMissing(Permission),
    View(Conv),
    Cmd(Conv, Permission),
    Status(u16),
    /// That permission; when allowed, this status (e.g. 404 for an unknown id, 422 for a
    /// request the route refuses after the permission check).
    PermGives(Permission, u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conv {
    /// Assigned to the acting member.
    Mine,
    /// Unassigned, in the team's queue.
    Queue,
    /// Assigned to the root admin.
    Other,
}

/// (case name, method, route path as in the router, need).
const CASES: &[(&str, &str, &str, Need)] = &[
    ("me", "GET", "/v1/me", Need::Any),
    ("devices", "GET", "/v1/devices", Need::Perm(ManageTeam)),
    (
        "revoke",
        "POST",
        "/v1/devices/{id}/revoke",
        Need::PermPin(ManageTeam),
    ),
    ("codes", "POST", "/v1/pairing/codes", Need::Perm(ManageTeam)),
    ("conversations", "GET", "/v1/conversations", Need::Any),
    (
        "conv_mine",
        "GET",
        "/v1/conversations/{id}",
        Need::View(Conv::Mine),
    ),
    (
        "conv_queue",
        "GET",
        "/v1/conversations/{id}",
        Need::View(Conv::Queue),
    ),
    (
        "conv_other",
        "GET",
        "/v1/conversations/{id}",
        Need::View(Conv::Other),
    ),
    (
        "hist_mine",
        "GET",
        "/v1/conversations/{id}/messages",
        Need::View(Conv::Mine),
    ),
    (
        "hist_queue",
        "GET",
        "/v1/conversations/{id}/messages",
        Need::View(Conv::Queue),
    ),
    (
        "hist_other",
        "GET",
        "/v1/conversations/{id}/messages",
        Need::View(Conv::Other),
    ),
    ("events", "GET", "/v1/events", Need::Any),
    ("stream", "GET", "/v1/stream", Need::Any),
    (
        "quarantine",
        "GET",
        "/v1/admin/quarantine",
        Need::Perm(ManageTeam),
    ),
    (
        "note_mine",
        "POST",
        "/v1/commands",
        Need::Cmd(Conv::Mine, Reply),
    ),
    (
        "note_other",
        "POST",
        "/v1/commands",
        Need::Cmd(Conv::Other, Reply),
    ),
    (
        "label_queue",
        "POST",
        "/v1/commands",
        Need::Cmd(Conv::Queue, ApplyLabels),
    ),
    (
        "assign_mine",
        "POST",
        "/v1/commands",
        Need::Cmd(Conv::Mine, AssignTransfer),
    ),
    (
        "send_mine",
        "POST",
        "/v1/commands",
        Need::Cmd(Conv::Mine, Reply),
    ),
    // The media worker is not attached in this harness: everybody gets 503 before any
    // lookup, so nothing leaks; media visibility is covered by the commands tests.
    ("media", "GET", "/v1/media/{id}", Need::Status(503)),
    ("members", "GET", "/v1/team/members", Need::Perm(ManageTeam)),
    (
        "member_create",
        "POST",
        "/v1/team/members",
        Need::PermPin(ManageTeam),
    ),
    (
        "member_update",
        "PATCH",
        "/v1/team/members/{id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "member_deactivate",
        "POST",
        "/v1/team/members/{id}/deactivate",
        Need::PermPin(ManageTeam),
    ),
    (
        "member_pin",
        "PUT",
        "/v1/team/members/{id}/pin",
        Need::PermPin(ManageTeam),
    ),
    ("groups", "GET", "/v1/team/groups", Need::Perm(ManageTeam)),
    (
        "group_create",
        "POST",
        "/v1/team/groups",
        Need::PermPin(ManageTeam),
    ),
    (
        "group_rename",
        "PATCH",
        "/v1/team/groups/{id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "group_add",
        "PUT",
        "/v1/team/groups/{id}/members/{member_id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "group_remove",
        "DELETE",
        "/v1/team/groups/{id}/members/{member_id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "device_update",
        "PATCH",
        "/v1/team/devices/{id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "settings",
        "GET",
        "/v1/team/settings",
        Need::Perm(ManageTeam),
    ),
    (
        "settings_put",
        "PUT",
        "/v1/team/settings",
        Need::PermPin(ManageTeam),
    ),
    (
        "templates",
        "GET",
        "/v1/team/templates",
        Need::Perm(ManageTeam),
    ),
    (
        "template_create",
        "POST",
        "/v1/team/templates",
        Need::PermPin(ManageTeam),
    ),
    (
        "template_update",
        "PUT",
        "/v1/team/templates/{id}",
        Need::PermPin(ManageTeam),
    ),
    (
        "template_delete",
        "DELETE",
        "/v1/team/templates/{id}",
        Need::PermPin(ManageTeam),
    ),
    ("audit", "GET", "/v1/team/audit", Need::Perm(ViewAuditLog)),
    (
        "audit_verify",
        "GET",
        "/v1/team/audit/verify",
        Need::Perm(ViewAuditLog),
    ),
    (
        "audit_export",
        "GET",
        "/v1/team/audit/export",
        Need::BothPin(ViewAuditLog, ExportHistory),
    ),
    ("alerts", "GET", "/v1/team/alerts", Need::Perm(ManageTeam)),
    (
        "alert_thresholds",
        "GET",
        "/v1/team/alerts/thresholds",
        Need::Perm(ManageTeam),
    ),
    (
        "alert_thresholds_put",
        "PUT",
        "/v1/team/alerts/thresholds",
        Need::PermPin(ManageTeam),
    ),
    (
        "alert_ack",
        "POST",
        "/v1/team/alerts/{id}/ack",
        Need::PermPinMissing(ManageTeam),
    ),
    ("advisor", "GET", "/v1/team/advisor", Need::Perm(ManageTeam)),
    (
        "export_verify",
        "POST",
        "/v1/exports/verify",
        Need::PermPin(ExportHistory),
    ),
    (
        "automation",
        "GET",
        "/v1/automation",
        Need::Perm(ConfigureAutomation),
    ),
    (
        "automation_put",
        "PUT",
        "/v1/automation",
        Need::Perm(ConfigureAutomation),
    ),
    (
        "automation_dry_run",
        "POST",
        "/v1/automation/dry-run",
        Need::Perm(ConfigureAutomation),
    ),
    (
        "attributes",
        "GET",
        "/v1/contacts/{wa_id}/attributes",
        Need::Perm(ViewContacts),
    ),
    (
        "attributes_put",
        "PUT",
        "/v1/contacts/{wa_id}/attributes",
        Need::Perm(EditContacts),
    ),
    // Broadcasts: every route needs SendBroadcasts (unknown ids answer 404 once allowed;
    // creating for an audience of nobody answers 422).
    (
        "broadcasts",
        "GET",
        "/v1/broadcasts",
        Need::Perm(SendBroadcasts),
    ),
    (
        "broadcast_create",
        "POST",
        "/v1/broadcasts",
        Need::PermGives(SendBroadcasts, 422),
    ),
    (
        "broadcast_preview",
        "POST",
        "/v1/broadcasts/preview",
        Need::Perm(SendBroadcasts),
    ),
    (
        "broadcast_settings",
        "GET",
        "/v1/broadcasts/settings",
        Need::Perm(SendBroadcasts),
    ),
    (
        "broadcast_settings_put",
        "PUT",
        "/v1/broadcasts/settings",
        Need::Perm(SendBroadcasts),
    ),
    (
        "broadcast",
        "GET",
        "/v1/broadcasts/{id}",
        Need::PermGives(SendBroadcasts, 404),
    ),
    (
        "broadcast_recipients",
        "GET",
        "/v1/broadcasts/{id}/recipients",
        Need::PermGives(SendBroadcasts, 404),
    ),
    (
        "broadcast_cancel",
        "POST",
        "/v1/broadcasts/{id}/cancel",
        Need::PermGives(SendBroadcasts, 404),
    ),
    // The team's labels: anyone linked reads them; ManageLabels creates (here with a
    // colour the route refuses: 400 once allowed), recolours and deletes (unknown: 404).
    ("labels", "GET", "/v1/labels", Need::Any),
    (
        "label_create",
        "POST",
        "/v1/labels",
        Need::PermGives(ManageLabels, 400),
    ),
    (
        "label_update",
        "PATCH",
        "/v1/labels/{name}",
        Need::PermGives(ManageLabels, 404),
    ),
    (
        "label_delete",
        "DELETE",
        "/v1/labels/{name}",
        Need::PermGives(ManageLabels, 404),
    ),
    ("contacts", "GET", "/v1/contacts", Need::Perm(ViewContacts)),
    (
        "contact",
        "GET",
        "/v1/contacts/{wa_id}",
        Need::Perm(ViewContacts),
    ),
    (
        "contact_patch",
        "PATCH",
        "/v1/contacts/{wa_id}",
        Need::Perm(EditContacts),
    ),
    (
        "contact_defs",
        "GET",
        "/v1/contacts/attributes",
        Need::Perm(ViewContacts),
    ),
    (
        "contact_def_create",
        "POST",
        "/v1/contacts/attributes",
        Need::Perm(EditContacts),
    ),
    (
        "contacts_import",
        "POST",
        "/v1/contacts/import",
        Need::Perm(EditContacts),
    ),
    ("own_pin", "PUT", "/v1/me/pin", Need::Any),
    // Sign-in/out are for shared devices; every matrix device is personal: 409 for all.
    ("sign_in", "POST", "/v1/session/sign-in", Need::Status(409)),
    (
        "sign_out",
        "POST",
        "/v1/session/sign-out",
        Need::Status(409),
    ),
];

/// Routes without a device token (checked once, without a token).
const PUBLIC: &[(&str, &str, u16)] = &[
    ("GET", "/webhooks/whatsapp", 403),
    ("POST", "/webhooks/whatsapp", 401),
    ("POST", "/v1/pairing/claim", 400),
    ("GET", "/healthz", 200),
    ("GET", "/metrics", 200),
];

/// Permissions the "window" template allows only inside its window.
fn windowed() -> PermissionSet {
    PermissionSet::from([
        ViewAllConversations,
        ViewTeamQueue,
        Reply,
        AssignTransfer,
        ApplyLabels,
        ManageTeam,
        ViewAuditLog,
    ])
}

/// `(method, path)` of every `.route(...)` in the router's source files.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for src in [
        include_str!("../src/app.rs"),
        include_str!("../src/commands.rs"),
        include_str!("../src/team.rs"),
        include_str!("../src/alerts.rs"),
        include_str!("../src/backup.rs"),
        include_str!("../src/automation.rs"),
        include_str!("../src/broadcasts.rs"),
        include_str!("../src/labels.rs"),
        include_str!("../src/contacts.rs"),
    ] {
        let mut rest = src;
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            // The call ends at the matching parenthesis.
            let mut depth = 1;
            let mut end = 0;
            for (j, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = j;
                    break;
                }
            }
            let call = &rest[..end];
            let Some(q1) = call.find('"') else { continue };
            let q2 = q1 + 1 + call[q1 + 1..].find('"').unwrap();
            let path = &call[q1 + 1..q2];
            let handlers = &call[q2..];
            for (m, tok) in [
                ("GET", "get("),
                ("POST", "post("),
                ("PUT", "put("),
                ("PATCH", "patch("),
                ("DELETE", "delete("),
            ] {
                let mut h = handlers;
                while let Some(k) = h.find(tok) {
                    let before = h[..k].chars().last();
                    if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                        out.insert((m.to_owned(), path.to_owned()));
                    }
                    h = &h[k + tok.len()..];
                }
            }
        }
    }
    out
}

#[test]
fn the_matrix_covers_every_route_of_the_router() {
    let source = routes_in_source();
    assert!(source.len() >= 30, "route parsing broke: {source:?}");
    let mut covered: BTreeSet<(String, String)> = CASES
        .iter()
        .map(|(_, m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    covered.extend(
        PUBLIC
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())),
    );
    let missing: Vec<_> = source.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a matrix row: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&source).collect();
    assert!(stale.is_empty(), "matrix rows without a route: {stale:?}");
}

struct Fixture {
    root: Device,
    /// conversation -> (assignee)
    convs: HashMap<Uuid, Option<Uuid>>,
    mine: HashMap<Uuid, Uuid>,
    queue: Uuid,
    other: Uuid,
    dummy_member: Uuid,
    dummy_group: Uuid,
    dummy_device: Uuid,
    dummy_template: Uuid,
    team_id: Uuid,
}

struct Cell {
    preset: Preset,
    level: Preset,
    member: Uuid,
    device: Device,
}

impl Cell {
    fn expected(&self, inside: bool) -> PermissionSet {
        let e = self
            .preset
            .permissions()
            .intersect(self.level.permissions());
        if inside { e } else { e.difference(windowed()) }
    }
}

/// The visibility model of ARCHITECTURE.md › Permissions, written out here.
fn sees(e: PermissionSet, me: Uuid, assignee: Option<Uuid>) -> bool {
    e.contains(ViewAllConversations)
        || assignee == Some(me)
        || (assignee.is_none() && e.contains(ViewTeamQueue))
}

fn conv_id(fx: &Fixture, c: Conv, me: Uuid) -> Uuid {
    match c {
        Conv::Mine => fx.mine[&me],
        Conv::Queue => fx.queue,
        Conv::Other => fx.other,
    }
}

/// Whether a device of `me` with effective permissions `e` may receive `ev` (the wire form).
fn may_receive(fx: &Fixture, e: PermissionSet, me: Uuid, ev: &Value) -> bool {
    let kind = ev["kind"].as_str().unwrap();
    let p = &ev["payload"];
    let is_me = |v: &Value| v.as_str().and_then(|s| s.parse::<Uuid>().ok()) == Some(me);
    let family = kind.split('.').next().unwrap();
    match family {
        // A member's contact edit (no conversation): to devices that may view contacts;
        // a profile name from WhatsApp: to whoever sees the conversation.
        "contact" if ev["conversation_id"].is_null() => e.contains(ViewContacts),
        "contacts" => e.contains(ViewContacts),
        "message" | "conversation" | "note" | "labels" | "contact" => {
            let id: Uuid = ev["conversation_id"].as_str().unwrap().parse().unwrap();
            let assignee = *fx
                .convs
                .get(&id)
                .unwrap_or_else(|| panic!("unknown conversation in {ev}"));
            sees(e, me, assignee)
        }
        "audit" => e.contains(ViewAuditLog),
        "me" => is_me(&p["member_id"]),
        "security" => e.contains(ManageTeam) || is_me(&p["member_id"]),
        // The directory (id, name, active) goes to every device; the full member row
        // (preset, toggles) only to team managers and the member.
        "member" if kind == "member.directory" => {
            let keys: Vec<&str> = p["member"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys == ["active", "id", "name"]
        }
        "member" => e.contains(ManageTeam) || is_me(&p["member"]["id"]),
        "device" => {
            e.contains(ManageTeam) || is_me(&p["device"]["member_id"]) || is_me(&p["member_id"])
        }
        "webhook" => e.contains(ManageTeam),
        "alert" | "advisor" => e.contains(ManageTeam),
        "template" | "label" => true,
        "broadcast" => e.contains(SendBroadcasts),
        // The automation: settings changes to every device, a notification to its
        // member, what ran to whoever sees the conversation, failures to team managers.
        "automation" => match kind {
            "automation.settings_changed" => true,
            "automation.notify" => is_me(&p["member_id"]),
            "automation.failed" => e.contains(ManageTeam),
            _ => {
                let id: Uuid = ev["conversation_id"].as_str().unwrap().parse().unwrap();
                sees(e, me, fx.convs[&id])
            }
        },
        other => panic!("event family {other:?} ({kind}) has no row in the visibility table"),
    }
}

async fn prepare(t: &TestRelay, fx: &Fixture, cell: &Cell, name: &str) -> (String, Option<Value>) {
    let me = cell.member;
    let root = &fx.root;
    let cmd = |v: Value| Some(json!({"id": Uuid::now_v7(), "command": v}));
    match name {
        "me" => ("/v1/me".into(), None),
        "devices" => ("/v1/devices".into(), None),
        "revoke" => {
            let victim = link(t, root, Some(fx.dummy_member), "restricted", "victim").await;
            (format!("/v1/devices/{}/revoke", victim.device_id), None)
        }
        "codes" => (
            "/v1/pairing/codes".into(),
            Some(json!({"level": {"preset": "restricted"}})),
        ),
        "conversations" => ("/v1/conversations?limit=200".into(), None),
        "conv_mine" | "conv_queue" | "conv_other" | "hist_mine" | "hist_queue" | "hist_other" => {
            let c = match &name[name.len() - 5..] {
                "_mine" => Conv::Mine,
                "queue" => Conv::Queue,
                _ => Conv::Other,
            };
            let id = conv_id(fx, c, me);
            if name.starts_with("hist") {
                (format!("/v1/conversations/{id}/messages"), None)
            } else {
                (format!("/v1/conversations/{id}"), None)
            }
        }
        "events" => ("/v1/events?after=0&limit=500".into(), None),
        "stream" => ("/v1/stream".into(), None),
        "quarantine" => ("/v1/admin/quarantine".into(), None),
        "note_mine" => (
            "/v1/commands".into(),
            cmd(json!({"type": "add_note", "conversation_id": fx.mine[&me], "text": "n"})),
        ),
        "note_other" => (
            "/v1/commands".into(),
            cmd(json!({"type": "add_note", "conversation_id": fx.other, "text": "n"})),
        ),
        "label_queue" => (
            "/v1/commands".into(),
            cmd(json!({"type": "add_label", "conversation_id": fx.queue, "label": "vip"})),
        ),
        "assign_mine" => (
            "/v1/commands".into(),
            cmd(json!({"type": "assign", "conversation_id": fx.mine[&me], "member_id": me})),
        ),
        "send_mine" => (
            "/v1/commands".into(),
            cmd(json!({"type": "send_text", "conversation_id": fx.mine[&me], "text": "hi"})),
        ),
        "media" => ("/v1/media/some-media-id".into(), None),
        "members" => ("/v1/team/members".into(), None),
        "member_create" => (
            "/v1/team/members".into(),
            Some(json!({"name": "Created", "preset": "restricted"})),
        ),
        "member_update" => (
            format!("/v1/team/members/{}", fx.dummy_member),
            Some(json!({"name": "Dummy"})),
        ),
        "member_deactivate" => {
            let v = admin(
                t,
                root,
                "POST",
                "/v1/team/members",
                json!({"name": "Leaver"}),
            )
            .await;
            (
                format!(
                    "/v1/team/members/{}/deactivate",
                    v["member"]["id"].as_str().unwrap()
                ),
                None,
            )
        }
        "member_pin" => (
            format!("/v1/team/members/{}/pin", fx.dummy_member),
            Some(json!({"new_pin": "333333"})),
        ),
        "groups" => ("/v1/team/groups".into(), None),
        "group_create" => ("/v1/team/groups".into(), Some(json!({"name": "Logistics"}))),
        "group_rename" => (
            format!("/v1/team/groups/{}", fx.dummy_group),
            Some(json!({"name": "After-sales"})),
        ),
        "group_add" | "group_remove" => (
            format!(
                "/v1/team/groups/{}/members/{}",
                fx.dummy_group, fx.dummy_member
            ),
            None,
        ),
        "device_update" => (
            format!("/v1/team/devices/{}", fx.dummy_device),
            Some(json!({"name": "Dummy device"})),
        ),
        "settings" | "settings_put" => (
            "/v1/team/settings".into(),
            (name == "settings_put").then(|| json!({"device_cap": 1000})),
        ),
        "templates" => ("/v1/team/templates".into(), None),
        "template_create" => (
            "/v1/team/templates".into(),
            Some(json!({"name": "Cell", "deny": ["export_history"]})),
        ),
        "template_update" => (
            format!("/v1/team/templates/{}", fx.dummy_template),
            Some(json!({"name": "Dummy", "deny": ["send_broadcasts"]})),
        ),
        "template_delete" => {
            let v = admin(
                t,
                root,
                "POST",
                "/v1/team/templates",
                json!({"name": "Doomed"}),
            )
            .await;
            (
                format!(
                    "/v1/team/templates/{}",
                    v["template"]["id"].as_str().unwrap()
                ),
                None,
            )
        }
        "audit" => ("/v1/team/audit".into(), None),
        "audit_verify" => ("/v1/team/audit/verify".into(), None),
        "audit_export" => ("/v1/team/audit/export?format=csv".into(), None),
        "alerts" => ("/v1/team/alerts".into(), None),
        "alert_thresholds" => ("/v1/team/alerts/thresholds".into(), None),
        "alert_thresholds_put" => (
            "/v1/team/alerts/thresholds".into(),
            Some(json!({"thresholds": {}})),
        ),
        "alert_ack" => (
            format!("/v1/team/alerts/{}/ack", Uuid::now_v7()),
            Some(json!({"comment": "checked"})),
        ),
        "advisor" => ("/v1/team/advisor".into(), None),
        "export_verify" => ("/v1/exports/verify".into(), Some(json!({}))),
        "automation" | "automation_put" => (
            "/v1/automation".into(),
            (name == "automation_put")
                .then(|| json!({"settings": teamline_core::automation::default_settings("UTC")})),
        ),
        "automation_dry_run" => (
            "/v1/automation/dry-run".into(),
            Some(json!({"message": "Where is my order #order-chase"})),
        ),
        "attributes" | "attributes_put" => (
            "/v1/contacts/34600999000/attributes".into(),
            (name == "attributes_put").then(|| json!({"attributes": {"monthly_spend_usd": 120}})),
        ),
        "broadcasts" => ("/v1/broadcasts".into(), None),
        "broadcast_create" | "broadcast_preview" => {
            let draft = json!({
                "name": "Matrix sale",
                "audience": {"label": "nobody-has-this-label"},
                "template": {"name": "spring_sale", "language": "en_US", "header_params": [],
                    "body_params": [{"kind": "contact_name"}]},
                "scheduled_at": null,
            });
            if name == "broadcast_preview" {
                ("/v1/broadcasts/preview".into(), Some(draft))
            } else {
                let mut body = draft;
                body["id"] = json!(Uuid::now_v7());
                ("/v1/broadcasts".into(), Some(body))
            }
        }
        "broadcast_settings" | "broadcast_settings_put" => (
            "/v1/broadcasts/settings".into(),
            (name == "broadcast_settings_put")
                .then(|| json!({"pacing": teamline_core::automation::Pacing::default()})),
        ),
        "broadcast" => (format!("/v1/broadcasts/{}", Uuid::now_v7()), None),
        "broadcast_recipients" => (
            format!("/v1/broadcasts/{}/recipients?limit=10", Uuid::now_v7()),
            None,
        ),
        "broadcast_cancel" => (format!("/v1/broadcasts/{}/cancel", Uuid::now_v7()), None),
        "labels" => ("/v1/labels".into(), None),
        "label_create" => (
            "/v1/labels".into(),
            Some(json!({"name": "Matrix", "colour": "teal"})),
        ),
        "label_update" => (
            "/v1/labels/no-such-label".into(),
            Some(json!({"colour": "#0d9488"})),
        ),
        "label_delete" => ("/v1/labels/no-such-label".into(), None),
        "contacts" => ("/v1/contacts?q=316".into(), None),
        // The queue conversation's customer: a contact since its first message.
        "contact" => ("/v1/contacts/31620000000".into(), None),
        "contact_patch" => (
            "/v1/contacts/31620000000".into(),
            Some(json!({"name": "Queue customer", "attributes": {"vip": true}})),
        ),
        "contact_defs" => ("/v1/contacts/attributes".into(), None),
        "contact_def_create" => (
            "/v1/contacts/attributes".into(),
            // A new key each time (the same key twice is 409 attribute_exists).
            Some(json!({"key": format!("k{}", Uuid::now_v7().simple()), "type": "text"})),
        ),
        "contacts_import" => (
            "/v1/contacts/import".into(),
            Some(json!({"dry_run": true, "rows": [
                {"row": 2, "name": "Cell", "number": "+31 6 4000 0000", "attributes": {"city": "Utrecht"}}
            ]})),
        ),
        "own_pin" => (
            "/v1/me/pin".into(),
            Some(json!({"current_pin": MEMBER_PIN, "new_pin": MEMBER_PIN})),
        ),
        "sign_in" => (
            "/v1/session/sign-in".into(),
            Some(json!({"member_id": me, "pin": MEMBER_PIN})),
        ),
        "sign_out" => ("/v1/session/sign-out".into(), None),
        other => panic!("no request for case {other}"),
    }
}

/// Expected status for a case, from the table and the visibility model.
fn expected_status(fx: &Fixture, cell: &Cell, e: PermissionSet, need: Need) -> u16 {
    let me = cell.member;
    let visible = |c: Conv| sees(e, me, fx.convs[&conv_id(fx, c, me)]);
    match need {
        Need::Any => 200,
        Need::Perm(p) | Need::PermPin(p) => {
            if e.contains(p) {
                200
            } else {
                403
            }
        }
        Need::BothPin(p, q) => {
            if e.contains(p) && e.contains(q) {
                200
            } else {
                403
            }
        }
        Need::PermPinMissing(p) => {
            if e.contains(p) {
                404
            } else {
                403
            }
        }
        Need::View(c) => {
            if visible(c) {
                200
            } else {
                404
            }
        }
        Need::Cmd(c, p) => {
            if visible(c) && e.contains(p) {
                200
            } else {
                403
            }
        }
        Need::Status(s) => s,
        Need::PermGives(p, s) => {
            if e.contains(p) {
                s
            } else {
                403
            }
        }
    }
}

async fn run_cell(t: &TestRelay, fx: &Fixture, cell: &Cell, inside: bool) -> Vec<String> {
    let e = cell.expected(inside);
    let mut failures = Vec::new();
    for (name, method, _, need) in CASES {
        if *name == "stream" {
            continue; // checked with a live SSE connection below
        }
        let (path, body) = prepare(t, fx, cell, name).await;
        let (status, v) = call(t, &cell.device.token, method, &path, Some(MEMBER_PIN), body).await;
        let want = expected_status(fx, cell, e, *need);
        let label = format!(
            "{:?} member on {:?} device, inside={inside}: {name} {method} {path}",
            cell.preset, cell.level
        );
        if status.as_u16() != want {
            failures.push(format!("{label}: got {status} want {want}: {v}"));
            continue;
        }
        // What an allowed read returns must not leak either.
        match *name {
            "me" => {
                let got: PermissionSet = serde_json::from_value(v["permissions"].clone()).unwrap();
                if got != e {
                    failures.push(format!("{label}: permissions {got:?} want {e:?}"));
                }
            }
            "conversations" => {
                for c in v["conversations"].as_array().unwrap() {
                    let id: Uuid = c["id"].as_str().unwrap().parse().unwrap();
                    if let Some(a) = fx.convs.get(&id)
                        && !sees(e, cell.member, *a)
                    {
                        failures.push(format!("{label}: leaked conversation {id}"));
                    }
                }
                let listed = v["conversations"].as_array().unwrap().len();
                let want = fx
                    .convs
                    .values()
                    .filter(|a| sees(e, cell.member, **a))
                    .count();
                if listed != want {
                    failures.push(format!(
                        "{label}: listed {listed} conversations, want {want}"
                    ));
                }
            }
            "events" => {
                for ev in v["events"].as_array().unwrap() {
                    if !may_receive(fx, e, cell.member, ev) {
                        failures.push(format!("{label}: long-poll leaked {ev}"));
                    }
                }
            }
            _ => {}
        }
    }
    failures
}

/// Reads a device's whole stream from 0 over SSE and long-poll, up to its `me.changed`
/// marker after `marker_after`, and checks every event against the table.
async fn check_streams(
    t: &TestRelay,
    fx: &Fixture,
    cell: &Cell,
    inside: bool,
    marker_after: u64,
) -> Vec<String> {
    let e = cell.expected(inside);
    let mut failures = Vec::new();
    let label = format!(
        "{:?} member on {:?} device, inside={inside}",
        cell.preset, cell.level
    );
    let is_marker =
        |v: &Value| v["kind"] == "me.changed" && v["seq"].as_u64().unwrap() > marker_after;
    // SSE
    let mut sse = Sse::connect(&t.http, &t.url, &cell.device.token, Some(0))
        .await
        .unwrap();
    let mut sse_seqs = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), sse.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{label}: SSE marker never came"))
            .unwrap();
        let Some(_) = msg.id else { continue };
        let v: Value = serde_json::from_str(&msg.data).unwrap();
        if !may_receive(fx, e, cell.member, &v) {
            failures.push(format!("{label}: SSE leaked {v}"));
        }
        sse_seqs.push(v["seq"].as_u64().unwrap());
        if is_marker(&v) {
            break;
        }
    }
    // Long-poll
    let mut after = 0;
    let mut poll_seqs = Vec::new();
    'poll: loop {
        let (s, v) = t
            .get(&cell.device, &format!("/v1/events?after={after}&wait=5"))
            .await;
        assert_eq!(s, 200, "{label}: {v}");
        let events = v["events"].as_array().unwrap();
        assert!(!events.is_empty(), "{label}: long-poll marker never came");
        for ev in events {
            if !may_receive(fx, e, cell.member, ev) {
                failures.push(format!("{label}: long-poll leaked {ev}"));
            }
            poll_seqs.push(ev["seq"].as_u64().unwrap());
            if is_marker(ev) {
                break 'poll;
            }
        }
        after = v["next"].as_u64().unwrap();
    }
    if sse_seqs != poll_seqs {
        failures.push(format!(
            "{label}: SSE and long-poll disagree ({} vs {} events)",
            sse_seqs.len(),
            poll_seqs.len()
        ));
    }
    // Completeness on the fixture's conversation events: what the model allows arrives.
    let (_, all) = t.get(&fx.root, "/v1/events?after=0&limit=500").await;
    for ev in all["events"].as_array().unwrap() {
        let seq = ev["seq"].as_u64().unwrap();
        if ev["conversation_id"].is_string()
            && seq <= marker_after
            && may_receive(fx, e, cell.member, ev)
            && !sse_seqs.contains(&seq)
        {
            failures.push(format!(
                "{label}: visible event {seq} ({}) was not delivered",
                ev["kind"]
            ));
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_every_preset_every_level_inside_and_outside_a_window() {
    let started = Instant::now();
    let (t, root) = start().await;
    admin(
        &t,
        &root,
        "PUT",
        "/v1/team/settings",
        json!({"device_cap": 1000}),
    )
    .await;
    // A template allowing `windowed()` only in a 4-hour window around now (team tz: UTC).
    let hour = jiff::tz::TimeZone::UTC.to_datetime(t.clock.now()).hour() as i32;
    let window = json!({
        "start": format!("{:02}:00", (hour + 22) % 24),
        "end": format!("{:02}:00", (hour + 2) % 24),
    });
    let tpl = admin(
        &t,
        &root,
        "POST",
        "/v1/team/templates",
        json!({
            "name": "Window", "windows": [{"permissions": windowed(), "window": window}]
        }),
    )
    .await;
    let tpl: Uuid = tpl["template"]["id"].as_str().unwrap().parse().unwrap();

    let mut cells = Vec::new();
    let mut convs = HashMap::new();
    let mut mine = HashMap::new();
    for (i, preset) in Preset::ALL.into_iter().enumerate() {
        let m = member(
            &t,
            &root,
            &format!("{preset:?} member"),
            preset.as_str(),
            &[tpl],
        )
        .await;
        let c = conversation(&t, &root, &format!("3161000000{i}")).await;
        assign(&t, &root, c, m).await;
        convs.insert(c, Some(m));
        mine.insert(m, c);
        for level in Preset::ALL {
            let device = link(
                &t,
                &root,
                Some(m),
                level.as_str(),
                &format!("{preset:?} on {level:?}"),
            )
            .await;
            cells.push(Cell {
                preset,
                level,
                member: m,
                device,
            });
        }
    }
    let queue = conversation(&t, &root, "31620000000").await;
    convs.insert(queue, None);
    let other = conversation(&t, &root, "31630000000").await;
    assign(&t, &root, other, root.member_id).await;
    convs.insert(other, Some(root.member_id));
    let dummy_member = member(&t, &root, "Dummy", "standard", &[]).await;
    let g = admin(
        &t,
        &root,
        "POST",
        "/v1/team/groups",
        json!({"name": "Dummy group"}),
    )
    .await;
    let dummy_device = link(&t, &root, Some(dummy_member), "standard", "Dummy device").await;
    let dt = admin(
        &t,
        &root,
        "POST",
        "/v1/team/templates",
        json!({"name": "Dummy"}),
    )
    .await;
    let (_, me) = t.get(&root, "/v1/me").await;
    let fx = Fixture {
        root,
        convs,
        mine,
        queue,
        other,
        dummy_member,
        dummy_group: g["group"]["id"].as_str().unwrap().parse().unwrap(),
        dummy_device: dummy_device.device_id,
        dummy_template: dt["template"]["id"].as_str().unwrap().parse().unwrap(),
        team_id: me["member"]["teams"][0].as_str().unwrap().parse().unwrap(),
    };
    let setup = started.elapsed();

    // Without a token, every device route answers 401; public routes answer as listed.
    for (name, method, _, _) in CASES {
        let (path, body) = prepare(&t, &fx, &cells[0], name).await;
        let (s, _) = call(&t, "not-a-token", method, &path, None, body).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{name} {method} {path} without a valid token"
        );
    }
    for (method, path, want) in PUBLIC {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = t.http.request(m, format!("{}{}", t.url, path));
        if *path == "/v1/pairing/claim" {
            req = req.json(&json!({"code": "AAAAA-AAAAA", "name": "x", "os": "x", "os_version": "1", "app_version": "1"}));
        }
        let s = req.send().await.unwrap().status().as_u16();
        assert_eq!(s, *want, "public {method} {path}");
    }

    let mut failures = Vec::new();
    let mut requests = 0usize;
    for inside in [true, false] {
        if !inside {
            // 12 hours later the window is closed; nobody acts on the relay meanwhile.
            t.clock.advance(Duration::from_secs(12 * 3600));
        }
        let results = join_all(cells.iter().map(|c| run_cell(&t, &fx, c, inside))).await;
        failures.extend(results.into_iter().flatten());
        requests += cells.len() * (CASES.len() - 1);
        // Marker: a `me.changed` to each matrix member closes each device's stream check.
        let marker_after = t.head().await;
        for m in fx.mine.keys() {
            admin(
                &t,
                &fx.root,
                "PATCH",
                &format!("/v1/team/members/{m}"),
                json!({}),
            )
            .await;
        }
        let results = join_all(
            cells
                .iter()
                .map(|c| check_streams(&t, &fx, c, inside, marker_after)),
        )
        .await;
        failures.extend(results.into_iter().flatten());
    }
    let _ = fx.team_id;
    eprintln!(
        "matrix: {} cells x {} cases x 2 windows = {requests} requests + {} stream checks; setup {:?}, total {:?}",
        cells.len(),
        CASES.len(),
        cells.len() * 2,
        setup,
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! Plain-English summaries of what a permission set or template allows, for the Team page.
//!
//! Deterministic (fixed phrase order, no hashing), so the UI and tests can rely on the exact
//! text. English only for now; translations will key off the same structure later.

use crate::permissions::{Permission, PermissionSet};
use crate::templates::PermissionTemplate;

/// Summarises `set` in one sentence, e.g. for Restricted: "Can reply to conversations
/// assigned to them; cannot see conversations not assigned to them, export or delete
/// history, send broadcasts, manage payments, or manage the team and devices."
///
/// The "can" part lists everything held; the "cannot" part lists only what an owner usually
/// worries about (seeing others' conversations, replying, export/delete, broadcasts,
/// payments, team management); the toggles beside it show the rest.
pub fn summary(set: PermissionSet) -> String {
    use Permission::*;
    if set == PermissionSet::all() {
        return "Can do everything, including exporting and deleting history, managing payments, \
                and managing the team and devices."
            .to_owned();
    }
    let has = |p| set.contains(p);

    let mut can: Vec<(&str, &str)> = Vec::new();
    if has(ViewAllConversations) {
        can.push(("see", "all conversations"));
    } else if has(ViewTeamQueue) {
        let verb = if has(Reply) { "see and claim" } else { "see" };
        can.push((verb, "their teams' unassigned conversations"));
    }
    for p in DISPLAY_ORDER {
        if has(p) {
            can.push(phrase(p));
        }
    }

    let mut cannot: Vec<(&str, &str)> = Vec::new();
    if !has(ViewAllConversations) && !can.is_empty() {
        if has(ViewTeamQueue) {
            cannot.push(("see", "other members' conversations"));
        } else {
            cannot.push(("see", "conversations not assigned to them"));
        }
    }
    for p in NOTABLE_MISSING {
        if !has(p) {
            cannot.push(if p == Reply { ("reply", "") } else { phrase(p) });
        }
    }

    let mut out = if can.is_empty() {
        "Can only see conversations assigned to them".to_owned()
    } else {
        format!("Can {}", join(&can, "and"))
    };
    if !cannot.is_empty() {
        out.push_str("; cannot ");
        out.push_str(&join(&cannot, "or"));
    }
    out.push('.');
    out
}

/// Summarises a template, e.g. "Night shift": "Never export history; reply to
/// conversations assigned to them only 23:00–07:00." An empty template says it changes
/// nothing.
pub fn template_summary(template: &PermissionTemplate) -> String {
    let mut parts = Vec::new();
    if !template.deny.is_empty() {
        let items: Vec<_> = template.deny.iter().map(phrase).collect();
        parts.push(format!("never {}", join(&items, "or")));
    }
    for rule in &template.windows {
        if rule.permissions.is_empty() {
            continue;
        }
        let items: Vec<_> = rule.permissions.iter().map(phrase).collect();
        parts.push(format!("{} only {}", join(&items, "and"), rule.window));
    }
    if parts.is_empty() {
        return "Changes nothing.".to_owned();
    }
    let mut out = parts.join("; ");
    capitalize_first(&mut out);
    out.push('.');
    out
}

/// Permissions in the order the "can" list mentions them; the two visibility permissions
/// are phrased separately above. Export comes before delete so they merge as "export and
/// delete history".
const DISPLAY_ORDER: [Permission; 15] = [
    Permission::Reply,
    Permission::AssignTransfer,
    Permission::TakeOver,
    Permission::ExportHistory,
    Permission::DeleteHistory,
    Permission::ViewContacts,
    Permission::EditContacts,
    Permission::ApplyLabels,
    Permission::ManageLabels,
    Permission::SendBroadcasts,
    Permission::EditBusinessProfile,
    Permission::ConfigureAutomation,
    Permission::ManagePayments,
    Permission::ManageTeam,
    Permission::ViewAuditLog,
];

/// The missing permissions worth saying out loud.
const NOTABLE_MISSING: [Permission; 6] = [
    Permission::Reply,
    Permission::ExportHistory,
    Permission::DeleteHistory,
    Permission::SendBroadcasts,
    Permission::ManagePayments,
    Permission::ManageTeam,
];

/// (verb, object); consecutive items with the same object merge ("view and edit contacts").
fn phrase(p: Permission) -> (&'static str, &'static str) {
    match p {
        Permission::ViewAllConversations => ("see", "all conversations"),
        Permission::ViewTeamQueue => ("see", "their teams' unassigned conversations"),
        Permission::Reply => ("reply to", "conversations assigned to them"),
        Permission::AssignTransfer => ("assign and transfer", "conversations"),
        Permission::TakeOver => ("take over", "other members' conversations with a reason"),
        Permission::DeleteHistory => ("delete", "history"),
        Permission::ExportHistory => ("export", "history"),
        Permission::ViewContacts => ("view", "contacts"),
        Permission::EditContacts => ("edit", "contacts"),
        Permission::ApplyLabels => ("apply", "labels"),
        Permission::ManageLabels => ("manage", "labels"),
        Permission::SendBroadcasts => ("send", "broadcasts"),
        Permission::EditBusinessProfile => ("edit", "the business profile"),
        Permission::ConfigureAutomation => ("configure", "auto-replies and rules"),
        Permission::ManagePayments => ("manage", "payments"),
        Permission::ManageTeam => ("manage", "the team and devices"),
        Permission::ViewAuditLog => ("view", "the audit log"),
    }
}

/// Merges same-object neighbours, then joins as an English list with `conj` and a serial
/// comma (items themselves contain "and", so the comma keeps them apart).
fn join(items: &[(&str, &str)], conj: &str) -> String {
    let mut merged: Vec<(Vec<&str>, &str)> = Vec::new();
    for &(verb, object) in items {
        match merged.last_mut() {
            Some((verbs, last)) if !object.is_empty() && *last == object => verbs.push(verb),
            _ => merged.push((vec![verb], object)),
        }
    }
    let phrases: Vec<String> = merged
        .into_iter()
        .map(|(verbs, object)| {
            let verbs = verbs.join(&format!(" {conj} "));
            if object.is_empty() {
                verbs
            } else {
                format!("{verbs} {object}")
            }
        })
        .collect();
    match phrases.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} {conj} {b}"),
        [init @ .., last] => format!("{}, {conj} {last}", init.join(", ")),
    }
}

fn capitalize_first(s: &mut String) {
    if let Some(first) = s.get(0..1) {
        let upper = first.to_ascii_uppercase();
        s.replace_range(0..1, &upper);
    }
}

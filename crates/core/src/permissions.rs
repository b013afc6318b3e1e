//! Permission toggles, permission sets, role presets and device levels.
//!
//! Everything here is plain data: the one place that combines these into what a person may
//! actually do right now is [`crate::effective_permissions`].

use std::fmt;
use std::str::FromStr;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One capability. serde: snake_case names, e.g. `"view_all_conversations"`.
///
/// The declaration order is the display order (Team page, summaries) and also fixes the bit
/// of each permission inside [`PermissionSet`]; bits never leave the process (serde writes
/// names), so reordering is safe for stored data.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "Permission.ts", rename_all = "snake_case")
)]
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Permission {
    /// See every conversation; without it only the ones assigned to me (plus my teams'
    /// unassigned queue when [`Permission::ViewTeamQueue`] is held).
    ViewAllConversations,
    /// See (and claim) my teams' unassigned conversations. Separate from `Reply` so that a
    /// Restricted member who belongs to a team still sees only what is assigned to them.
    ViewTeamQueue,
    /// Reply in conversations assigned to me.
    Reply,
    /// Assign and transfer conversations to others.
    AssignTransfer,
    /// Send in someone else's conversation, giving a reason.
    TakeOver,
    DeleteHistory,
    ExportHistory,
    ViewContacts,
    EditContacts,
    ApplyLabels,
    ManageLabels,
    SendBroadcasts,
    EditBusinessProfile,
    /// Configure auto-replies and routing rules.
    ConfigureAutomation,
    ManagePayments,
    /// Manage the team (members, teams, templates) and its devices.
    ManageTeam,
    ViewAuditLog,
}

impl Permission {
    /// Every permission, in display order.
    pub const ALL: [Permission; 17] = [
        Permission::ViewAllConversations,
        Permission::ViewTeamQueue,
        Permission::Reply,
        Permission::AssignTransfer,
        Permission::TakeOver,
        Permission::DeleteHistory,
        Permission::ExportHistory,
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

    /// The stable wire name (snake_case), as used by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewAllConversations => "view_all_conversations",
            Permission::ViewTeamQueue => "view_team_queue",
            Permission::Reply => "reply",
            Permission::AssignTransfer => "assign_transfer",
            Permission::TakeOver => "take_over",
            Permission::DeleteHistory => "delete_history",
            Permission::ExportHistory => "export_history",
            Permission::ViewContacts => "view_contacts",
            Permission::EditContacts => "edit_contacts",
            Permission::ApplyLabels => "apply_labels",
            Permission::ManageLabels => "manage_labels",
            Permission::SendBroadcasts => "send_broadcasts",
            Permission::EditBusinessProfile => "edit_business_profile",
            Permission::ConfigureAutomation => "configure_automation",
            Permission::ManagePayments => "manage_payments",
            Permission::ManageTeam => "manage_team",
            Permission::ViewAuditLog => "view_audit_log",
        }
    }

    /// Whether using this permission asks for the member's PIN again (ARCHITECTURE.md ›
    /// Re-verification). Unlinking a device falls under `ManageTeam`.
    pub fn needs_pin(self) -> bool {
        matches!(
            self,
            Permission::DeleteHistory
                | Permission::ExportHistory
                | Permission::ManagePayments
                | Permission::ManageTeam
        )
    }

    /// A short English label for a toggle on the Team page (translations come later).
    pub fn label(self) -> &'static str {
        match self {
            Permission::ViewAllConversations => "View all conversations",
            Permission::ViewTeamQueue => "View team queue",
            Permission::Reply => "Reply",
            Permission::AssignTransfer => "Assign and transfer",
            Permission::TakeOver => "Take over conversations",
            Permission::DeleteHistory => "Delete history",
            Permission::ExportHistory => "Export history",
            Permission::ViewContacts => "View contacts",
            Permission::EditContacts => "Edit contacts",
            Permission::ApplyLabels => "Apply labels",
            Permission::ManageLabels => "Manage labels",
            Permission::SendBroadcasts => "Send broadcasts",
            Permission::EditBusinessProfile => "Edit business profile",
            Permission::ConfigureAutomation => "Configure auto-replies and rules",
            Permission::ManagePayments => "Manage payments",
            Permission::ManageTeam => "Manage team and devices",
            Permission::ViewAuditLog => "View audit log",
        }
    }

    /// What the permission lets you do, as an English infinitive phrase ("reply to
    /// conversations"); used in refusal messages ("You are not allowed to …").
    pub fn action(self) -> &'static str {
        match self {
            Permission::ViewAllConversations => "see all conversations",
            Permission::ViewTeamQueue => "see your teams' unassigned conversations",
            Permission::Reply => "reply to conversations",
            Permission::AssignTransfer => "assign or transfer conversations",
            Permission::TakeOver => "take over other members' conversations",
            Permission::DeleteHistory => "delete history",
            Permission::ExportHistory => "export history",
            Permission::ViewContacts => "view contacts",
            Permission::EditContacts => "edit contacts",
            Permission::ApplyLabels => "apply labels",
            Permission::ManageLabels => "manage labels",
            Permission::SendBroadcasts => "send broadcasts",
            Permission::EditBusinessProfile => "edit the business profile",
            Permission::ConfigureAutomation => "configure auto-replies and rules",
            Permission::ManagePayments => "manage payments",
            Permission::ManageTeam => "manage the team and devices",
            Permission::ViewAuditLog => "view the audit log",
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A permission name that Teamline does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission {name:?}")]
pub struct UnknownPermission {
    pub name: String,
}

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission { name: s.to_owned() })
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = Permission;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission name such as \"reply\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Permission, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// A set of permissions (a bitset, so it is `Copy` and cheap to intersect).
///
/// serde: a JSON array of names sorted alphabetically, e.g. `["apply_labels","reply"]`;
/// reading accepts any order and duplicates, and refuses unknown names (naming them), so a
/// newer relay's permission never silently widens or vanishes on an older client.
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "PermissionSet.ts", as = "Vec<Permission>")
)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);
    const ALL_BITS: u32 = (1 << Permission::ALL.len()) - 1;

    pub const fn all() -> PermissionSet {
        PermissionSet(Self::ALL_BITS)
    }

    pub const fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    #[must_use]
    pub const fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | p.bit())
    }

    #[must_use]
    pub const fn without(self, p: Permission) -> Self {
        PermissionSet(self.0 & !p.bit())
    }

    #[must_use]
    pub const fn intersect(self, other: Self) -> Self {
        PermissionSet(self.0 & other.0)
    }

    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        PermissionSet(self.0 | other.0)
    }

    /// The permissions in `self` that are not in `other`.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        PermissionSet(self.0 & !other.0)
    }

    pub const fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The permissions in display order ([`Permission::ALL`] order).
    pub fn iter(self) -> Iter {
        Iter { set: self, next: 0 }
    }

    /// Builds a set from wire names; the first unknown name is the error.
    pub fn from_names<I, S>(names: I) -> Result<Self, UnknownPermission>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names
            .into_iter()
            .map(|n| n.as_ref().parse::<Permission>())
            .collect()
    }

    /// The wire names, sorted alphabetically (the serde order).
    pub fn names(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.iter().map(Permission::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<T: IntoIterator<Item = Permission>>(iter: T) -> Self {
        iter.into_iter()
            .fold(PermissionSet::EMPTY, PermissionSet::with)
    }
}

impl<'a> FromIterator<&'a Permission> for PermissionSet {
    fn from_iter<T: IntoIterator<Item = &'a Permission>>(iter: T) -> Self {
        iter.into_iter().copied().collect()
    }
}

impl From<Permission> for PermissionSet {
    fn from(p: Permission) -> Self {
        PermissionSet::EMPTY.with(p)
    }
}

impl<const N: usize> From<[Permission; N]> for PermissionSet {
    fn from(ps: [Permission; N]) -> Self {
        ps.into_iter().collect()
    }
}

impl IntoIterator for PermissionSet {
    type Item = Permission;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

/// Iterator over a [`PermissionSet`] in display order.
#[derive(Clone, Debug)]
pub struct Iter {
    set: PermissionSet,
    next: usize,
}

impl Iterator for Iter {
    type Item = Permission;

    fn next(&mut self) -> Option<Permission> {
        while let Some(p) = Permission::ALL.get(self.next).copied() {
            self.next += 1;
            if self.set.contains(p) {
                return Some(p);
            }
        }
        None
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Permission::as_str))
            .finish()
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor;
        impl<'de> Visitor<'de> for SetVisitor {
            type Value = PermissionSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of permission names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PermissionSet, A::Error> {
                let mut set = PermissionSet::EMPTY;
                while let Some(p) = seq.next_element::<Permission>()? {
                    set = set.with(p);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(SetVisitor)
    }
}

/// Role presets that fill the toggles; each toggle can then be changed one by one.
/// serde: `"admin" | "supervisor" | "standard" | "restricted"`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Preset.ts"))]
pub enum Preset {
    Admin,
    Supervisor,
    Standard,
    Restricted,
}

impl Preset {
    /// Every preset, from most to least powerful.
    pub const ALL: [Preset; 4] = [
        Preset::Admin,
        Preset::Supervisor,
        Preset::Standard,
        Preset::Restricted,
    ];

    /// Every preset, from most to least powerful (a `Vec` for IPC/serde callers).
    pub fn all() -> Vec<Preset> {
        Preset::ALL.to_vec()
    }

    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Preset::Admin => PermissionSet::all(),
            Preset::Supervisor => PermissionSet::from([
                ViewAllConversations,
                ViewTeamQueue,
                Reply,
                AssignTransfer,
                TakeOver,
                ConfigureAutomation,
                ApplyLabels,
                ManageLabels,
                ViewContacts,
                ViewAuditLog,
            ]),
            Preset::Standard => {
                PermissionSet::from([ViewTeamQueue, Reply, ViewContacts, ApplyLabels])
            }
            // Reply only: no view-all and no team queue, so they see (and can answer) only
            // conversations assigned to them, even as a team member.
            Preset::Restricted => PermissionSet::from([Reply]),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Admin => "admin",
            Preset::Supervisor => "supervisor",
            Preset::Standard => "standard",
            Preset::Restricted => "restricted",
        }
    }

    /// English name for the Team page.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Admin => "Admin",
            Preset::Supervisor => "Supervisor",
            Preset::Standard => "Standard",
            Preset::Restricted => "Restricted",
        }
    }

    /// The preset whose toggles are exactly `set`, if any (so the UI can show "Standard"
    /// rather than "Custom" after toggles were switched back).
    pub fn matching(set: PermissionSet) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.permissions() == set)
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A preset name that Teamline does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset {name:?} (expected admin, supervisor, standard or restricted)")]
pub struct UnknownPreset {
    pub name: String,
}

impl FromStr for Preset {
    type Err = UnknownPreset;

    /// Accepts the wire names in any ASCII case ("Standard" from a CLI flag is fine).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPreset { name: s.to_owned() })
    }
}

/// A device's ceiling: what anybody signed in on it may do at most.
/// serde: `{"preset":"standard"}` or `{"custom":["reply", …]}`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "DeviceLevel.ts"))]
pub enum DeviceLevel {
    Preset(Preset),
    Custom(PermissionSet),
}

impl DeviceLevel {
    pub fn ceiling(&self) -> PermissionSet {
        match self {
            DeviceLevel::Preset(p) => p.permissions(),
            DeviceLevel::Custom(set) => *set,
        }
    }
}

impl From<Preset> for DeviceLevel {
    fn from(p: Preset) -> Self {
        DeviceLevel::Preset(p)
    }
}

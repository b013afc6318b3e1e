//! Permission templates applied to members, e.g. "Night shift".

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::PermissionSet;
use crate::schedule::TimeWindow;

/// A permission template applied to members. It only ever takes permissions away: its
/// [`mask_at`](Self::mask_at) is intersected with the member's toggles and device ceiling.
///
/// "Night shift" = `deny: {export_history}`, `windows: [{reply} during 23:00–07:00]`:
/// reply is allowed only inside 23:00–07:00 and export never.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "PermissionTemplate.ts")
)]
pub struct PermissionTemplate {
    pub id: Uuid,
    pub name: String,
    /// Never allowed while the template applies.
    #[serde(default)]
    pub deny: PermissionSet,
    /// Each rule: these permissions only inside this window.
    #[serde(default)]
    pub windows: Vec<WindowRule>,
}

/// "These permissions only inside this window."
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "WindowRule.ts"))]
pub struct WindowRule {
    pub permissions: PermissionSet,
    pub window: TimeWindow,
}

impl PermissionTemplate {
    /// What the template leaves allowed at `now`: everything, minus `deny`, minus each
    /// windowed permission whose windows are all closed.
    ///
    /// A permission named by several rules of the same template is allowed while ANY of its
    /// windows is open, so one template can describe a split shift (08:00–12:00 and
    /// 14:00–18:00). Across templates masks intersect (see `effective_permissions`).
    pub fn mask_at(&self, now: Timestamp, tz: &TimeZone) -> PermissionSet {
        let (governed, open) = self.windows.iter().fold(
            (PermissionSet::EMPTY, PermissionSet::EMPTY),
            |(governed, open), rule| {
                let open = if rule.window.contains(now, tz) {
                    open.union(rule.permissions)
                } else {
                    open
                };
                (governed.union(rule.permissions), open)
            },
        );
        PermissionSet::all()
            .difference(self.deny)
            .difference(governed.difference(open))
    }
}

//! Teamline's domain, pure and synchronous: no I/O, no async, no database.
//!
//! The relay enforces these rules on every route and the desktop client uses the very same
//! functions to hide what cannot be done, so both always agree. The API is the contract in
//! `notes/core-api.md`.

pub mod access;
pub mod advisor;
pub mod anomaly;
pub mod audit_chain;
pub mod automation;
pub mod permissions;
pub mod schedule;
pub mod summary;
pub mod templates;

pub use permissions::{DeviceLevel, Permission, PermissionSet, Preset};
pub use schedule::TimeWindow;
pub use templates::{PermissionTemplate, WindowRule};

/// THE one function: effective = member toggles ∩ device ceiling ∩ every template's mask at
/// `now`, windows read in the team's time zone `tz`.
///
/// Templates can only take permissions away, so adding one never widens the result and with
/// none it is exactly `member ∩ device`.
pub fn effective_permissions(
    member: PermissionSet,
    device: &DeviceLevel,
    templates: &[PermissionTemplate],
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> PermissionSet {
    templates
        .iter()
        .fold(member.intersect(device.ceiling()), |acc, t| {
            acc.intersect(t.mask_at(now, tz))
        })
}

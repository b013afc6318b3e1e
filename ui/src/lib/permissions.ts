import type { DeviceLevel } from './bindings/DeviceLevel';
import type { MeView as Me } from './bindings/Me';
import type { Permission } from './bindings/Permission';
import type { Preset } from './bindings/Preset';

/**
 * Every permission in the binding's (and the Team page's) display order. The `satisfies`
 * check below fails to compile when the Rust enum gains or loses a permission.
 */
export const PERMISSIONS = [
  'view_all_conversations',
  'view_team_queue',
  'reply',
  'assign_transfer',
  'take_over',
  'delete_history',
  'export_history',
  'view_contacts',
  'edit_contacts',
  'apply_labels',
  'manage_labels',
  'send_broadcasts',
  'edit_business_profile',
  'configure_automation',
  'manage_payments',
  'manage_team',
  'view_audit_log',
] as const satisfies readonly Permission[];

type Missing = Exclude<Permission, (typeof PERMISSIONS)[number]>;
// A compile error here means PERMISSIONS lacks a permission the binding has.
const exhaustive: [Missing] extends [never] ? true : Missing = true;
void exhaustive;

/** Presets from most to least powerful. */
export const PRESETS = ['admin', 'supervisor', 'standard', 'restricted'] as const satisfies readonly Preset[];

/**
 * The toggles each preset fills, mirroring `Preset::permissions` in teamline-core (the
 * relay is authoritative; this only pre-fills the editor).
 */
// Checked against teamline-core by src-tauri/src/bindings.rs (the_uis_preset_table_matches_teamline_core).
const PRESET_PERMISSIONS: Record<Preset, readonly Permission[]> = {
  admin: PERMISSIONS,
  supervisor: [
    'view_all_conversations',
    'view_team_queue',
    'reply',
    'assign_transfer',
    'take_over',
    'configure_automation',
    'apply_labels',
    'manage_labels',
    'view_contacts',
    'view_audit_log',
  ],
  standard: ['view_team_queue', 'reply', 'view_contacts', 'apply_labels'],
  restricted: ['reply'],
};

/** A preset's toggles, in display order. */
export function presetPermissions(preset: Preset): Permission[] {
  const set = new Set(PRESET_PERMISSIONS[preset]);
  return PERMISSIONS.filter((p) => set.has(p));
}

/** Sorts and de-duplicates a permission list into display order. */
export function normalise(list: readonly Permission[]): Permission[] {
  const set = new Set(list);
  return PERMISSIONS.filter((p) => set.has(p));
}

/** The preset whose toggles are exactly `list`, if any. */
export function matchingPreset(list: readonly Permission[]): Preset | null {
  const set = new Set(list);
  return (
    PRESETS.find((preset) => {
      const own = PRESET_PERMISSIONS[preset];
      return own.length === set.size && own.every((p) => set.has(p));
    }) ?? null
  );
}

/** What a device level allows at most. */
export function levelPermissions(level: DeviceLevel): Permission[] {
  return 'preset' in level ? presetPermissions(level.preset) : normalise(level.custom);
}

/** Whether the signed-in member may do `permission` on this device (effective set). */
export function can(me: Me | null | undefined, permission: Permission): boolean {
  return me?.permissions.includes(permission) ?? false;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

// How audit values read on screen, in the current language.
import type { AuditEntry } from '../bindings/AuditEntry';
import { i18n } from '../i18n/index.svelte';
import { PERMISSIONS } from '../permissions';
import { kindKey } from './audit';

/** Date and time to the second (the log's order matters to the second). */
export function preciseTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString(i18n.locale, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The plain-words action of an entry, or its kind when the app does not know it. */
export function actionLabel(entry: AuditEntry): string {
  const key = kindKey(entry.kind);
  const kinds = i18n.m.audit.kinds;
  return Object.hasOwn(kinds, key) ? kinds[key as keyof typeof kinds] : entry.kind;
}

export function fieldLabel(field: string): string {
  const fields = i18n.m.audit.fields;
  return Object.hasOwn(fields, field) ? fields[field as keyof typeof fields] : field.replaceAll('_', ' ');
}

function isPermission(value: string): value is (typeof PERMISSIONS)[number] {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** One value of a before/after: permission names translated, lists joined, objects as JSON. */
export function valueText(value: unknown): string {
  const m = i18n.m.audit;
  if (value === null || value === undefined) return m.none;
  if (typeof value === 'boolean') return value ? m.yes : m.no;
  if (typeof value === 'string') return isPermission(value) ? i18n.m.permissions.name[value] : value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? m.none : value.map(valueText).join(', ');
  return JSON.stringify(value);
}

/** An alert rule's title, or its code when the app does not know it. */
export function ruleTitle(rule: string): string {
  const rules = i18n.m.alerts.rules;
  return Object.hasOwn(rules, rule) ? rules[rule as keyof typeof rules] : rule;
}

/** An advice code's title, or the code when the app does not know it. */
export function adviceTitle(code: string): string {
  const codes = i18n.m.advisor.codes;
  return Object.hasOwn(codes, code) ? codes[code as keyof typeof codes] : code;
}

/** Permission names in the current language, joined. */
export function permissionList(list: readonly string[]): string {
  return list.map((p) => (isPermission(p) ? i18n.m.permissions.name[p] : p)).join(', ');
}

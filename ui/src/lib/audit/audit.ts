// Pure helpers of the Audit section: filters, labels and the before/after diff.
import type { AdviceView } from '../bindings/AdviceView';
import type { AlertThresholds } from '../bindings/AlertThresholds';
import type { AuditEntry } from '../bindings/AuditEntry';
import type { AuditFilter } from '../bindings/AuditFilter';
import type { AuditVerification } from '../bindings/AuditVerification';

/** Entries read per page of the log. */
export const PAGE_SIZE = 50;

/**
 * The action filter's choices: kind prefixes the relay matches (`member` is every
 * `audit.member_*`), in the order the select shows them.
 */
export const ACTIONS = [
  'member',
  'device',
  'template',
  'group',
  'settings',
  'session',
  'pairing',
  'pin',
  'alert',
  'exported',
  'history',
  'entries',
  'automation',
  'broadcast',
  'quick_reply',
] as const;
export type ActionPrefix = (typeof ACTIONS)[number];

/** What the filter bar holds; empty strings do not filter. Dates are `YYYY-MM-DD`. */
export type FilterForm = { member: string; device: string; action: string; from: string; to: string };

export const EMPTY_FILTER: FilterForm = { member: '', device: '', action: '', from: '', to: '' };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Local midnight starting `date` (`YYYY-MM-DD`), as an RFC 3339 UTC time. */
function startOfDay(date: string, plusDays = 0): string | null {
  if (!DATE.test(date)) return null;
  const [y, m, d] = date.split('-').map(Number);
  const at = new Date(y, m - 1, d + plusDays);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

/** True when both dates are set and the range is empty (to before from). */
export function rangeInverted(form: FilterForm): boolean {
  return DATE.test(form.from) && DATE.test(form.to) && form.to < form.from;
}

/**
 * The relay's filter for the form: `from` is the start of its day and `to` the end of its
 * day (the relay's `to` is exclusive, so the next day's midnight), both in this computer's
 * time zone like every time the app shows.
 */
export function auditFilter(form: FilterForm, before?: number | null): AuditFilter {
  const filter: AuditFilter = {};
  if (form.member) filter.member = form.member;
  if (form.device) filter.device = form.device;
  if (form.action) filter.action = form.action;
  const from = form.from ? startOfDay(form.from) : null;
  const to = form.to ? startOfDay(form.to, 1) : null;
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (before !== undefined && before !== null) filter.before = before;
  filter.limit = PAGE_SIZE;
  return filter;
}

/** The filter an export uses: the same as the list's, without paging. */
export function exportFilter(form: FilterForm): AuditFilter {
  const { limit: _limit, ...rest } = auditFilter(form);
  void _limit;
  return rest;
}

/** `audit.member_updated` → `member_updated`. */
export function kindKey(kind: string): string {
  return kind.startsWith('audit.') ? kind.slice('audit.'.length) : kind;
}

/** Who made an entry when no member did: pairing claims versus the relay itself. */
export function systemActor(entry: AuditEntry): 'pairing' | 'relay' {
  const key = kindKey(entry.kind);
  return key.startsWith('pairing') || key === 'device_linked' ? 'pairing' : 'relay';
}

/** The id the entry is about (`{"member_id": …}`, `{"device_id": …}`, …), if any. */
export function targetRef(target: unknown): { kind: string; id: string } | null {
  if (!isRecord(target)) return null;
  for (const [key, value] of Object.entries(target)) {
    if (key.endsWith('_id') && typeof value === 'string') return { kind: key.slice(0, -3), id: value };
  }
  return null;
}

/** A name the changed object carries itself (`after.name`, else `before.name`). */
export function objectName(entry: AuditEntry): string | null {
  for (const side of [entry.after, entry.before]) {
    if (isRecord(side) && typeof side.name === 'string' && side.name.trim()) return side.name;
  }
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

export type FieldChange = { field: string; before: unknown; after: unknown };

/**
 * The fields that differ between `before` and `after` (top level), sorted by name. A
 * created object (`before` null) lists every field it has, a removed one every field it
 * had; two plain values are one change named `value`.
 */
export function changedFields(before: unknown, after: unknown): FieldChange[] {
  const b = before ?? null;
  const a = after ?? null;
  if (isRecord(b) || isRecord(a)) {
    const from = isRecord(b) ? b : {};
    const to = isRecord(a) ? a : {};
    const fields = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return fields
      .filter((f) => canonical(from[f] ?? null) !== canonical(to[f] ?? null))
      .map((f) => ({ field: f, before: from[f] ?? null, after: to[f] ?? null }));
  }
  return canonical(b) === canonical(a) ? [] : [{ field: 'value', before: b, after: a }];
}

/** For two lists of plain strings: what was added and what removed. */
export function listChange(before: unknown, after: unknown): { added: string[]; removed: string[] } | null {
  const strings = (v: unknown): string[] | null =>
    v === null ? [] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  const b = strings(before);
  const a = strings(after);
  if (!b || !a || (before === null && after === null)) return null;
  return { added: a.filter((x) => !b.includes(x)), removed: b.filter((x) => !a.includes(x)) };
}

export type ChainState = 'unknown' | 'intact' | 'broken' | 'rolled_back';

/** What a verification says, most alarming first: a broken chain, then one that went back. */
export function chainState(v: AuditVerification | null): ChainState {
  if (!v) return 'unknown';
  if (!v.ok || v.first_broken) return 'broken';
  if (v.rolled_back) return 'rolled_back';
  return 'intact';
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Critical first, then warnings, then information; the relay's order within each. */
export function bySeverity(list: readonly AdviceView[]): AdviceView[] {
  const rank = (a: AdviceView) => SEVERITY_ORDER[a.severity] ?? 3;
  return list.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i).map(({ a }) => a);
}

/** Limits the relay accepts for thresholds (teamline-core `Thresholds::invalid`). */
export const LIMITS = {
  count: { min: 2, max: 1000 },
  window: { min: 1, max: 1440 },
  days: { min: 1, max: 365 },
} as const;

export type ThresholdField =
  | 'permission_change_off_hours.work_hours'
  | 'permission_change_burst.count'
  | 'permission_change_burst.window_minutes'
  | 'night_sign_in.night'
  | 'pairing_failure_burst.count'
  | 'pairing_failure_burst.window_minutes'
  | 'device_idle.days';

export type ThresholdProblem = 'count' | 'window' | 'days' | 'time';

const TIME = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/;

function within(value: unknown, limit: { min: number; max: number }): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= limit.min && value <= limit.max;
}

/** Every out-of-range value, by field (empty when the relay would accept them all). */
export function thresholdProblems(t: AlertThresholds): Partial<Record<ThresholdField, ThresholdProblem>> {
  const out: Partial<Record<ThresholdField, ThresholdProblem>> = {};
  for (const rule of ['permission_change_burst', 'pairing_failure_burst'] as const) {
    if (!within(t[rule].count, LIMITS.count)) out[`${rule}.count`] = 'count';
    if (!within(t[rule].window_minutes, LIMITS.window)) out[`${rule}.window_minutes`] = 'window';
  }
  if (!within(t.device_idle.days, LIMITS.days)) out['device_idle.days'] = 'days';
  const w = t.permission_change_off_hours.work_hours;
  if (!TIME.test(w.start) || !TIME.test(w.end)) out['permission_change_off_hours.work_hours'] = 'time';
  const n = t.night_sign_in.night;
  if (!TIME.test(n.start) || !TIME.test(n.end)) out['night_sign_in.night'] = 'time';
  return out;
}

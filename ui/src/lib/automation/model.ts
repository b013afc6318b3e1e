// Pure helpers for the Automation section: rule order, new rules and conditions, checks
// that mirror what the relay refuses, and durations. No Svelte state here.
import { BackendError } from '../backend';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { OpenRange } from '../bindings/OpenRange';
import type { Rule } from '../bindings/Rule';
import type { Action } from '../bindings/RuleAction';
import type { Condition } from '../bindings/RuleCondition';
import type { Trigger } from '../bindings/RuleTrigger';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = OpenRange['day'];

export const TRIGGER_TYPES = ['message_received', 'conversation_opened', 'label_added', 'no_reply', 'sla_due'] as const;
export type TriggerType = Trigger['type'];

export const CONDITION_TYPES = [
  'hashtag',
  'keyword',
  'label',
  'attribute',
  'new_customer',
  'business_hours',
  'assignee_waiting',
  'team_available',
] as const;
export type ConditionType = Condition['type'];

export const ACTION_TYPES = [
  'add_label',
  'assign_team',
  'assign_member',
  'assign_least_loaded',
  'assign_round_robin',
  'set_priority',
  'auto_reply',
  'notify',
  'set_sla',
] as const;
export type ActionType = Action['type'];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

/** The capacity the relay gives members without their own (`DEFAULT_CAPACITY` there). */
export const DEFAULT_CAPACITY = 30;

/** Rules in the order the engine runs them: ascending `order`, ties by `id`. */
export function sortedRules(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Moves the rule at `index` (in run order) by `delta` places and renumbers every rule
 * 10, 20, 30… so the saved order is exactly what the list shows. Out of range: unchanged.
 */
export function moveRule(rules: readonly Rule[], index: number, delta: number): Rule[] {
  const list = sortedRules(rules);
  const target = index + delta;
  if (index < 0 || index >= list.length || target < 0 || target >= list.length) return list;
  const [moved] = list.splice(index, 1);
  list.splice(target, 0, moved);
  return list.map((r, i) => ({ ...r, order: (i + 1) * 10 }));
}

/** An order after every existing rule. */
export function nextOrder(rules: readonly Rule[]): number {
  return rules.reduce((max, r) => Math.max(max, r.order), 0) + 10;
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** A fresh rule: runs on every inbound message, does nothing until given actions. */
export function newRule(rules: readonly Rule[], name = ''): Rule {
  return {
    id: `rule-${randomId()}`,
    name,
    enabled: true,
    order: nextOrder(rules),
    trigger: { type: 'message_received' },
    conditions: { match: 'all', items: [] },
    actions: [],
    stop_processing: false,
  };
}

export function newTrigger(type: TriggerType): Trigger {
  switch (type) {
    case 'label_added':
      return { type, label: '' };
    case 'no_reply':
      return { type, after_secs: 3600 };
    case 'sla_due':
      return { type };
    default:
      return { type };
  }
}

export function newCondition(type: ConditionType): Condition {
  switch (type) {
    case 'hashtag':
      return { type, tag: '#' };
    case 'keyword':
      return { type, any: [] };
    case 'label':
      return { type, label: '', present: true };
    case 'attribute':
      return { type, key: 'monthly_spend_usd', test: { op: 'gt', value: 500 } };
    case 'new_customer':
      return { type, within_hours: 24 };
    case 'business_hours':
      return { type, open: false };
    case 'assignee_waiting':
      return { type, cmp: 'gt', value: 15 };
    case 'team_available':
      return { type, team: '', available: false };
  }
}

export function newAction(type: ActionType, firstTeam = ''): Action {
  switch (type) {
    case 'add_label':
      return { type, label: '' };
    case 'assign_team':
    case 'assign_least_loaded':
    case 'assign_round_robin':
      return { type, team: firstTeam };
    case 'assign_member':
      return { type, member: '' };
    case 'set_priority':
      return { type, priority: 'high' };
    case 'auto_reply':
      return { type, key: `reply-${randomId().slice(0, 8)}`, text: '', language: 'en' };
    case 'notify':
      return { type, to: { kind: 'supervisors' }, text: '' };
    case 'set_sla':
      return { type, first_response_secs: 15 * 60 };
  }
}

/** Splits a comma- or line-separated list as typed ("where, где, 哪里"). */
export function splitList(text: string): string[] {
  return text
    .split(/[,，、\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function joinList(items: readonly string[]): string {
  return items.join(', ');
}

/** What is wrong with a rule, as keys of `i18n.m.automation.problems`. */
export type RuleProblem =
  | 'nameRequired'
  | 'hashtagEmpty'
  | 'keywordsEmpty'
  | 'labelEmpty'
  | 'attributeKeyEmpty'
  | 'teamRequired'
  | 'memberRequired'
  | 'replyTextEmpty'
  | 'notifyNobody'
  | 'slaEmpty'
  | 'durationInvalid';

/** Problems the relay would refuse (and a few that would make a rule do nothing). */
export function ruleProblems(rule: Rule): RuleProblem[] {
  const out = new Set<RuleProblem>();
  if (rule.name.trim() === '') out.add('nameRequired');
  const t = rule.trigger;
  if (t.type === 'no_reply' && !(Number.isFinite(t.after_secs) && t.after_secs > 0)) out.add('durationInvalid');
  for (const c of rule.conditions.items) {
    switch (c.type) {
      case 'hashtag':
        if (c.tag.trim().replace(/^[#＃]+/, '') === '') out.add('hashtagEmpty');
        break;
      case 'keyword':
        if (!c.any.some((k) => k.trim() !== '')) out.add('keywordsEmpty');
        break;
      case 'label':
        if (c.label.trim() === '') out.add('labelEmpty');
        break;
      case 'attribute':
        if (c.key.trim() === '') out.add('attributeKeyEmpty');
        break;
      case 'team_available':
        if (c.team === '') out.add('teamRequired');
        break;
      case 'new_customer':
      case 'assignee_waiting':
        break;
      case 'business_hours':
        break;
    }
  }
  for (const a of rule.actions) {
    switch (a.type) {
      case 'add_label':
        if (a.label.trim() === '') out.add('labelEmpty');
        break;
      case 'assign_team':
      case 'assign_least_loaded':
      case 'assign_round_robin':
        if (a.team === '') out.add('teamRequired');
        break;
      case 'assign_member':
        if (a.member === '') out.add('memberRequired');
        break;
      case 'auto_reply':
        if (a.text.trim() === '') out.add('replyTextEmpty');
        break;
      case 'notify':
        if (a.to.kind === 'members' && a.to.ids.length === 0) out.add('notifyNobody');
        if (a.to.kind === 'team' && a.to.team === '') out.add('teamRequired');
        break;
      case 'set_sla':
        if (a.first_response_secs === undefined && a.next_response_secs === undefined) out.add('slaEmpty');
        break;
      case 'set_priority':
        break;
    }
  }
  return [...out];
}

/** Whether a range runs past midnight into the next day (`end <= start`). */
export function crossesMidnight(range: Pick<OpenRange, 'start' | 'end'>): boolean {
  return range.end <= range.start;
}

/** The ranges starting on `day`, with their index in the full list (for editing). */
export function rangesOf(ranges: readonly OpenRange[], day: Day): { range: OpenRange; index: number }[] {
  return ranges.map((range, index) => ({ range, index })).filter((x) => x.range.day === day);
}

/** A `YYYY-MM-DD` date, the form holidays are stored in. */
export function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** Adds a holiday keeping the list sorted and free of duplicates. */
export function addHoliday(holidays: readonly string[], date: string): string[] {
  if (!isDate(date)) return [...holidays];
  return [...new Set([...holidays, date])].sort();
}

/** Whether the runtime knows an IANA time zone (the relay checks it again). */
export function knownTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every time zone name the runtime lists (for suggestions); empty when it cannot list. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

/** Units for `formatDuration`, from the current language. */
export type DurationUnits = { d: string; h: string; min: string; s: string };

/** 30 → "30 s", 7200 → "2 h", 5400 → "1 h 30 min" (at most two parts). */
export function formatDuration(secs: number, units: DurationUnits): string {
  if (!Number.isFinite(secs) || secs <= 0) return `0 ${units.s}`;
  const parts: [number, string][] = [
    [86_400, units.d],
    [3600, units.h],
    [60, units.min],
    [1, units.s],
  ];
  const out: string[] = [];
  let rest = Math.round(secs);
  for (const [size, unit] of parts) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out.push(`${n} ${unit}`);
      rest -= n * size;
    }
    if (out.length === 2) break;
    if (out.length === 1 && rest === 0) break;
  }
  return out.join(' ');
}

/** Seconds shown as minutes in a number field (blank for none). */
export function toMinutes(secs: number | undefined): number | null {
  return secs === undefined ? null : Math.round((secs / 60) * 100) / 100;
}

/** A number field's minutes back to seconds; blank or invalid means "no target". */
export function fromMinutes(value: number | null | undefined | string): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.round(n * 60) : undefined;
}

/** Parses a customer attribute typed in the dry run: number, true/false, else text. */
export function parseAttribute(text: string): number | boolean | string {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/**
 * The relay's own reason from a refusal: "the relay refused: The automation settings
 * cannot be used: rule "x": the hashtag is empty (invalid_automation)" → "rule "x": the
 * hashtag is empty" (the UI says the first part itself, translated).
 */
export function relayReason(error: BackendError): string {
  let text = error.message.trim();
  text = text.replace(/^the relay refused:\s*/i, '');
  text = text.replace(/^the automation settings cannot be used:\s*/i, '');
  const suffix = ` (${error.code})`;
  if (text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  return text.trim();
}

/** The rule whose auto-reply uses this cooldown key (`away`, `greeting`), if any. */
export function replyRule(settings: AutomationSettings, key: string): Rule | null {
  return settings.rules.find((r) => r.actions.some((a) => a.type === 'auto_reply' && a.key === key)) ?? null;
}

/** The comparable form of an edited document, to tell whether anything changed. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

// The Broadcasts section's pure logic: the composer's form and the draft it becomes,
// times in the team's zone, progress shares, and plain words for WhatsApp's refusals.
import type { AttributeOp } from '../bindings/AttributeOp';
import type { BroadcastCounts } from '../bindings/BroadcastCounts';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import type { BroadcastState } from '../bindings/BroadcastState';
import type { MessageTemplate } from '../bindings/MessageTemplate';
import type { ParamSource } from '../bindings/ParamSource';
import type { RecipientState } from '../bindings/RecipientState';

export const ATTRIBUTE_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains'] as const satisfies readonly AttributeOp[];

export const BROADCAST_STATES = [
  'scheduled',
  'sending',
  'waiting_for_tomorrow',
  'paused',
  'completed',
  'cancelled',
] as const satisfies readonly BroadcastState[];

export const RECIPIENT_STATES = [
  'pending',
  'queued',
  'sent',
  'delivered',
  'read',
  'failed',
  'opted_out',
  'cancelled',
] as const satisfies readonly RecipientState[];

export const PARAM_KINDS = ['text', 'contact_name', 'attribute'] as const satisfies readonly ParamSource['kind'][];
export type ParamKind = (typeof PARAM_KINDS)[number];

/** One template parameter as the composer edits it (every kind's fields kept while switching). */
export type ParamForm = { kind: ParamKind; value: string; key: string; fallback: string };

/** The composer's form. `at` is a wall-clock `YYYY-MM-DDTHH:MM` in the team's zone. */
export type DraftForm = {
  name: string;
  label: string;
  useAttribute: boolean;
  attrKey: string;
  attrOp: AttributeOp;
  attrValue: string;
  /** `name/language` of the chosen template, or ''. */
  template: string;
  header: ParamForm[];
  body: ParamForm[];
  when: 'now' | 'later';
  at: string;
};

export function emptyForm(): DraftForm {
  return {
    name: '',
    label: '',
    useAttribute: false,
    attrKey: '',
    attrOp: 'gt',
    attrValue: '',
    template: '',
    header: [],
    body: [],
    when: 'now',
    at: '',
  };
}

export const templateKey = (t: Pick<MessageTemplate, 'name' | 'language'>) => `${t.name}/${t.language}`;

/**
 * Parameters for a newly chosen template: the first body value is the customer's name (what
 * most broadcasts start with: "Hi {{1}}"), the others fixed text.
 */
export function paramsFor(t: MessageTemplate | null): { header: ParamForm[]; body: ParamForm[] } {
  const blank = (kind: ParamKind): ParamForm => ({ kind, value: '', key: '', fallback: '' });
  if (!t) return { header: [], body: [] };
  return {
    header: t.header_params.map(() => blank('text')),
    body: t.body_params.map((_, i) => blank(i === 0 ? 'contact_name' : 'text')),
  };
}

export function paramSource(p: ParamForm): ParamSource {
  switch (p.kind) {
    case 'contact_name':
      return { kind: 'contact_name' };
    case 'attribute':
      return { kind: 'attribute', key: p.key.trim(), fallback: p.fallback.trim() };
    default:
      return { kind: 'text', value: p.value.trim() };
  }
}

/** An attribute condition's value as typed: a number, true/false, else text. */
export function attributeValue(text: string): number | string | boolean {
  const t = text.trim();
  if (t !== '' && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t.toLowerCase() === 'true') return true;
  if (t.toLowerCase() === 'false') return false;
  return t;
}

/** What keeps the form from a preview; each names the field to fix. */
export type FormProblem =
  | { field: 'name' }
  | { field: 'audience' }
  | { field: 'attribute' }
  | { field: 'template' }
  | { field: 'notSendable' }
  | { field: 'param'; part: 'header' | 'body'; index: number }
  | { field: 'schedule' }
  | { field: 'past' };

export function formProblems(form: DraftForm, t: MessageTemplate | null, zone: string, now = Date.now()): FormProblem[] {
  const out: FormProblem[] = [];
  if (form.name.trim() === '') out.push({ field: 'name' });
  if (form.label === '' && !form.useAttribute) out.push({ field: 'audience' });
  if (form.useAttribute && (form.attrKey.trim() === '' || form.attrValue.trim() === '')) out.push({ field: 'attribute' });
  if (!t) out.push({ field: 'template' });
  else if (!t.sendable) out.push({ field: 'notSendable' });
  const check = (part: 'header' | 'body', list: ParamForm[]) =>
    list.forEach((p, index) => {
      const empty =
        (p.kind === 'text' && p.value.trim() === '') ||
        (p.kind === 'attribute' && (p.key.trim() === '' || p.fallback.trim() === ''));
      if (empty) out.push({ field: 'param', part, index });
    });
  check('header', form.header);
  check('body', form.body);
  if (form.when === 'later') {
    const at = zonedToInstant(form.at, zone);
    if (at === null) out.push({ field: 'schedule' });
    else if (Date.parse(at) <= now) out.push({ field: 'past' });
  }
  return out;
}

/** The draft the relay previews and creates (call only when `formProblems` is empty). */
export function toDraft(form: DraftForm, t: MessageTemplate, zone: string): BroadcastDraft {
  return {
    name: form.name.trim(),
    audience: {
      label: form.label === '' ? null : form.label,
      attribute: form.useAttribute
        ? { key: form.attrKey.trim(), op: form.attrOp, value: attributeValue(form.attrValue) }
        : null,
    },
    template: {
      name: t.name,
      language: t.language,
      header_params: form.header.map(paramSource),
      body_params: form.body.map(paramSource),
    },
    scheduled_at: form.when === 'later' ? zonedToInstant(form.at, zone) : null,
  };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(zone: string): Intl.DateTimeFormat {
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(zone, f);
  }
  return f;
}

/** The wall-clock parts of an instant in `zone`, as milliseconds of a UTC date with those parts. */
function wallClock(ms: number, zone: string): number {
  const parts = Object.fromEntries(zoneFormat(zone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
}

/**
 * The instant (ISO, UTC) of a wall-clock `YYYY-MM-DDTHH:MM` in `zone`; null when the text
 * is not a time. A time that does not exist there (skipped by a clock change) gives an
 * instant within the hour of the change.
 */
export function zonedToInstant(local: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const wanted = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  if (Number.isNaN(wanted)) return null;
  try {
    let guess = wanted;
    for (let i = 0; i < 3; i++) {
      const offset = wallClock(guess, zone) - guess;
      const next = wanted - offset;
      if (next === guess) break;
      guess = next;
    }
    return new Date(guess).toISOString();
  } catch {
    return null;
  }
}

/** An instant as `YYYY-MM-DDTHH:MM` in `zone` (what a datetime-local input shows). */
export function instantToZoned(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return new Date(wallClock(ms, zone)).toISOString().slice(0, 16);
}

/** A date and time shown in `zone`, in the current language. */
export function formatInZone(iso: string | null, zone: string, locale: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  try {
    return at.toLocaleString(locale, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' });
  } catch {
    return at.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  }
}

/** The zone of this computer. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A broadcast that may still send (and so can be cancelled). */
export function isActive(state: BroadcastState): boolean {
  return state !== 'completed' && state !== 'cancelled';
}

/** Recipients done with (an answer from WhatsApp, opted out, or cancelled). */
export function doneCount(c: BroadcastCounts): number {
  return Math.max(0, c.total - c.pending - c.queued);
}

export const SEGMENTS = ['read', 'delivered', 'sent', 'failed', 'opted_out', 'cancelled'] as const;
export type Segment = (typeof SEGMENTS)[number];

/** The progress bar's parts, in percent of the total (queued counts as not done yet). */
export function segments(c: BroadcastCounts): { id: Segment; count: number; percent: number }[] {
  const counts: Record<Segment, number> = {
    read: c.read,
    delivered: c.delivered,
    sent: c.sent,
    failed: c.failed,
    opted_out: c.opted_out,
    cancelled: c.cancelled,
  };
  return SEGMENTS.map((id) => ({
    id,
    count: counts[id],
    percent: c.total > 0 ? (counts[id] * 100) / c.total : 0,
  }));
}

/** Whole percent done, never 100 before everyone is done. */
export function percentDone(c: BroadcastCounts): number {
  if (c.total === 0) return 100;
  const done = doneCount(c);
  const p = Math.floor((done * 100) / c.total);
  return done < c.total ? Math.min(p, 99) : 100;
}

/** WhatsApp's error codes the section explains in its own words. */
export const KNOWN_ERRORS = ['131026', '131047', '131048', '131049', '131050', '131056', '130472', '131031', '132001', '132000'] as const;
export type KnownError = (typeof KNOWN_ERRORS)[number];

/** The WhatsApp error code a failure's text names, when the section has words for it. */
export function knownError(error: string | null): KnownError | null {
  if (!error) return null;
  for (const m of error.matchAll(/\b(13\d{4})\b/g)) {
    if ((KNOWN_ERRORS as readonly string[]).includes(m[1])) return m[1] as KnownError;
  }
  return null;
}

/** A UUIDv7 (time-ordered) for a broadcast's idempotency key. */
export function uuidv7(now = Date.now()): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let ts = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ts % 256;
    ts = Math.floor(ts / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

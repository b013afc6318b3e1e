// The relay's broadcasts, in memory, for UI tests: audiences from the fake inbox's customers
// (label and attributes), previews rendered like the relay renders them, idempotent
// creation, a worker the test steps by hand, cancel, and the cap settings.
import { BackendError } from '../backend';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import type { BroadcastPreview } from '../bindings/BroadcastPreview';
import type { BroadcastRecipient } from '../bindings/BroadcastRecipient';
import type { BroadcastSettings } from '../bindings/BroadcastSettings';
import type { BroadcastSummary } from '../bindings/BroadcastSummary';
import type { DayStats } from '../bindings/BroadcastDay';
import type { Pacing } from '../bindings/BroadcastPacing';
import type { MessageTemplate } from '../bindings/MessageTemplate';
import type { ParamSource } from '../bindings/ParamSource';
import type { RecipientPage } from '../bindings/RecipientPage';
import type { RecipientState } from '../bindings/RecipientState';

/** A customer the audience is chosen from. */
export type FakeCustomer = {
  wa_id: string;
  name: string;
  labels: string[];
  attributes: Record<string, number | string | boolean>;
  optedOut?: boolean;
};

export function defaultPacing(): Pacing {
  return { daily_cap: 50, max_failure_percent: 15, interval_secs: 2, opt_out_keywords: ['STOP', 'СТОП', '退订'] };
}

type Stored = { summary: BroadcastSummary; recipients: BroadcastRecipient[]; draft: BroadcastDraft };

function compare(value: number | string | boolean | undefined, op: string, want: number | string | boolean): boolean {
  if (value === undefined) return false;
  if (op === 'contains') return String(value).toLowerCase().includes(String(want).toLowerCase());
  if (typeof value === 'number' && typeof want === 'number') {
    return { eq: value === want, ne: value !== want, gt: value > want, gte: value >= want, lt: value < want, lte: value <= want }[op] ?? false;
  }
  const same = String(value).toLowerCase() === String(want).toLowerCase();
  return op === 'eq' ? same : op === 'ne' ? !same : false;
}

function fill(text: string, values: readonly string[]): string {
  return text.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => values[Number(n) - 1] ?? whole);
}

export class FakeBroadcasts {
  customers: FakeCustomer[] = [];
  templates: () => MessageTemplate[];
  pacing: Pacing = defaultPacing();
  sentToday = 0;
  history: DayStats[] = [];
  memberId: string;
  memberName = 'Olga';
  private store = new Map<string, Stored>();

  constructor(templates: () => MessageTemplate[], memberId: string) {
    this.templates = templates;
    this.memberId = memberId;
  }

  capToday(): number {
    let cap = this.pacing.daily_cap;
    for (const d of [...this.history].sort((a, b) => a.date.localeCompare(b.date))) {
      if (d.attempted === 0) continue;
      const bad = ((d.failed + d.blocked) * 100) / d.attempted > this.pacing.max_failure_percent;
      cap = bad ? Math.max(1, Math.floor(cap / 2)) : Math.min(this.pacing.daily_cap, cap * 2);
    }
    return cap;
  }

  private audience(draft: BroadcastDraft): FakeCustomer[] {
    const { label, attribute } = draft.audience;
    const seen = new Set<string>();
    return this.customers.filter((c) => {
      if (seen.has(c.wa_id)) return false;
      if (label !== null && !c.labels.some((l) => l.toLowerCase() === label.toLowerCase())) return false;
      if (attribute && !compare(c.attributes[attribute.key], attribute.op, attribute.value)) return false;
      seen.add(c.wa_id);
      return true;
    });
  }

  private value(source: ParamSource, c: FakeCustomer): string {
    if (source.kind === 'text') return source.value;
    if (source.kind === 'contact_name') return c.name || c.wa_id;
    const v = c.attributes[source.key];
    return v === undefined || v === '' ? source.fallback : String(v);
  }

  private problems(draft: BroadcastDraft, audience: FakeCustomer[]): string[] {
    const out: string[] = [];
    if (draft.audience.label === null && draft.audience.attribute === null) out.push('Choose who receives the broadcast: a label or an attribute.');
    const t = this.templates().find((x) => x.name === draft.template.name && x.language === draft.template.language);
    if (!t) out.push(`The template ${draft.template.name} (${draft.template.language}) is not approved.`);
    else if (t.body_params.length !== draft.template.body_params.length || t.header_params.length !== draft.template.header_params.length) {
      out.push(`The template ${t.name} needs ${t.body_params.length} body value(s).`);
    }
    if (audience.length === 0) out.push('Nobody matches this audience.');
    else if (audience.every((c) => c.optedOut)) out.push('Everyone in this audience has opted out.');
    return out;
  }

  preview(draft: BroadcastDraft): BroadcastPreview {
    const audience = this.audience(draft);
    const t = this.templates().find((x) => x.name === draft.template.name && x.language === draft.template.language);
    const reachable = audience.filter((c) => !c.optedOut);
    const cap = this.capToday();
    const left = Math.max(0, cap - this.sentToday);
    const days = reachable.length <= left ? 1 : 1 + Math.ceil((reachable.length - left) / Math.max(1, cap));
    return {
      total: audience.length,
      opted_out: audience.length - reachable.length,
      samples: reachable.slice(0, 5).map((c) => {
        const header = draft.template.header_params.map((s) => this.value(s, c));
        const body = draft.template.body_params.map((s) => this.value(s, c));
        return { wa_id: c.wa_id, name: c.name, header, body, text: t ? fill(t.body, body) : '' };
      }),
      cap_today: cap,
      sent_today: this.sentToday,
      days_needed: days,
      problems: this.problems(draft, audience),
    };
  }

  create(id: string, draft: BroadcastDraft): BroadcastSummary {
    const known = this.store.get(id);
    if (known) return structuredClone(known.summary);
    const audience = this.audience(draft);
    const problems = this.problems(draft, audience);
    if (problems.length > 0) throw new BackendError('invalid_broadcast', `the relay refused: ${problems[0]} (invalid_broadcast)`);
    const now = new Date().toISOString();
    const later = draft.scheduled_at !== null && Date.parse(draft.scheduled_at) > Date.now();
    const recipients: BroadcastRecipient[] = audience
      .map((c) => ({
        wa_id: c.wa_id,
        name: c.name,
        state: (c.optedOut ? 'opted_out' : 'pending') as RecipientState,
        conversation_id: null,
        error: null,
        updated_at: now,
      }))
      .sort((a, b) => a.wa_id.localeCompare(b.wa_id));
    const summary: BroadcastSummary = {
      id,
      name: draft.name,
      audience: structuredClone(draft.audience),
      template: structuredClone(draft.template),
      state: later ? 'scheduled' : 'sending',
      scheduled_at: draft.scheduled_at,
      created_at: now,
      created_by: this.memberId,
      created_by_name: this.memberName,
      counts: { total: 0, pending: 0, queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, opted_out: 0, cancelled: 0 },
      note: null,
    };
    const stored = { summary, recipients, draft: structuredClone(draft) };
    this.recount(stored);
    this.store.set(id, stored);
    return structuredClone(summary);
  }

  private recount(s: Stored) {
    const c = { total: s.recipients.length, pending: 0, queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, opted_out: 0, cancelled: 0 };
    for (const r of s.recipients) c[r.state] += 1;
    s.summary.counts = c;
    if (s.summary.state !== 'cancelled' && c.pending === 0 && c.queued === 0 && c.sent === 0) s.summary.state = 'completed';
  }

  private get(id: string): Stored {
    const s = this.store.get(id);
    if (!s) throw new BackendError('not_found', 'the relay refused: no such broadcast (not_found)');
    return s;
  }

  list(): BroadcastSummary[] {
    return [...this.store.values()]
      .map((s) => structuredClone(s.summary))
      .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  }

  one(id: string): BroadcastSummary {
    return structuredClone(this.get(id).summary);
  }

  recipients(id: string, after: string | null, limit: number, state: RecipientState | null): RecipientPage {
    const all = this.get(id).recipients.filter((r) => (state === null || r.state === state) && (after === null || r.wa_id > after));
    const page = all.slice(0, Math.min(limit, 500));
    return { recipients: structuredClone(page), next: all.length > page.length ? page[page.length - 1].wa_id : null };
  }

  cancel(id: string): BroadcastSummary {
    const s = this.get(id);
    if (s.summary.state === 'completed' || s.summary.state === 'cancelled') return structuredClone(s.summary);
    for (const r of s.recipients) if (r.state === 'pending') r.state = 'cancelled';
    s.summary.state = 'cancelled';
    s.summary.note = null;
    this.recount(s);
    return structuredClone(s.summary);
  }

  /**
   * The worker: moves `n` recipients one step on (pending → sent → delivered → read, or to
   * `failed` with `error` for the wa_ids in `fail`). Returns the summary to push as an event.
   */
  step(id: string, n: number, fail: Record<string, string> = {}): BroadcastSummary {
    const s = this.get(id);
    s.summary.state = s.summary.state === 'scheduled' ? 'sending' : s.summary.state;
    let moved = 0;
    for (const r of s.recipients) {
      if (moved >= n) break;
      const next: Partial<Record<RecipientState, RecipientState>> = { pending: 'sent', queued: 'sent', sent: 'delivered', delivered: 'read' };
      if (r.wa_id in fail && (r.state === 'pending' || r.state === 'sent')) {
        r.state = 'failed';
        r.error = fail[r.wa_id];
      } else if (next[r.state] && r.state !== 'delivered') {
        r.state = next[r.state]!;
      } else continue;
      r.updated_at = new Date().toISOString();
      moved += 1;
    }
    this.recount(s);
    return structuredClone(s.summary);
  }

  /** Puts a broadcast in `waiting_for_tomorrow` with the relay's sentence. */
  wait(id: string, note: string): BroadcastSummary {
    const s = this.get(id);
    s.summary.state = 'waiting_for_tomorrow';
    s.summary.note = note;
    return structuredClone(s.summary);
  }

  settings(): BroadcastSettings {
    return { pacing: structuredClone(this.pacing), cap_today: this.capToday(), sent_today: this.sentToday, history: structuredClone(this.history) };
  }

  save(pacing: Pacing): BroadcastSettings {
    if (!Number.isInteger(pacing.daily_cap) || pacing.daily_cap < 1) {
      throw new BackendError('invalid_input', 'the relay refused: the daily cap must be at least 1 (invalid_input)');
    }
    if (!(pacing.max_failure_percent > 0 && pacing.max_failure_percent <= 100)) {
      throw new BackendError('invalid_input', 'the relay refused: the failure limit is a percent above 0 (invalid_input)');
    }
    this.pacing = structuredClone(pacing);
    return this.settings();
  }
}

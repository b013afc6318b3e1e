import { BackendError, type Backend } from '../backend';
import type { ClientEvent } from '../bindings/ClientEvent';
import type { InboxRow } from '../bindings/InboxRow';
import type { OutboxEntry } from '../bindings/OutboxEntry';

/** How long a burst of client events is gathered before the list is read again. */
export const REFRESH_DEBOUNCE_MS = 200;

/**
 * A burst naming at most this many conversations re-reads only their rows; a bigger one
 * (or one that renamed a label or member) re-reads the whole list.
 */
export const ROW_REFRESH_LIMIT = 200;

/**
 * The first read of a big inbox asks only for this many of the most recently active
 * conversations, so the list is usable at once; the whole list follows.
 */
export const FIRST_SCREEN_ROWS = 200;

/** The rest of the list is read in pages of this many rows. */
export const INBOX_PAGE_ROWS = 5000;

/** A typing notice fades this long after the last `typing` event. */
export const TYPING_TTL_MS = 6000;

/** A "viewing" notice lasts this long unless repeated. */
export const VIEWING_TTL_MS = 45_000;

/** An open conversation repeats its `viewing` notice this often (well within the TTL). */
export const VIEWING_EVERY_MS = 20_000;

/** The inbox views: every conversation this device holds, mine, unassigned, urgent. */
export const VIEWS = ['all', 'mine', 'unassigned', 'urgent'] as const;
export type InboxView = (typeof VIEWS)[number];

/** Whether `row` belongs in `view` for the member `memberId`. */
export function inView(row: InboxRow, view: InboxView, memberId: string | null): boolean {
  switch (view) {
    case 'all':
      return true;
    case 'mine':
      return row.assignee !== null && row.assignee.id === memberId;
    case 'unassigned':
      return row.assignee === null;
    case 'urgent':
      return row.labels.some((label) => label.urgent);
  }
}

/** Status filters: `active` (open and pending, the default working set) or one status. */
export const STATUS_FILTERS = ['active', 'open', 'pending', 'snoozed', 'resolved', 'any'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

/** List orders: newest activity first, or the longest-waiting customer first. */
export const SORTS = ['activity', 'waiting'] as const;
export type InboxSort = (typeof SORTS)[number];

/** What narrows the list besides the view. */
export type ListFilter = { status: StatusFilter; labelId: string | null; sort: InboxSort };

export const DEFAULT_FILTER: ListFilter = { status: 'active', labelId: null, sort: 'activity' };

export function statusMatches(status: string, filter: StatusFilter): boolean {
  if (filter === 'any') return true;
  if (filter === 'active') return status === 'open' || status === 'pending';
  return status === filter;
}

/** When a row's customer started waiting for an answer (null: not waiting). */
export function waitingSince(row: InboxRow): number | null {
  if (row.status === 'resolved' || row.status === 'snoozed' || !row.waiting_since) return null;
  const at = Date.parse(row.waiting_since);
  return Number.isNaN(at) ? null : at;
}

/** Where a row's response-time clock stands at `now`; null when none runs. */
export type SlaStanding = { kind: 'first_response' | 'next_response'; leftMs: number; overdue: boolean; targetSecs: number };

/**
 * The row's SLA clock at `now`: overdue once the due time passes, even before the relay's
 * next timer pass records the breach. Resolved and snoozed conversations show none.
 */
export function slaStanding(row: InboxRow, now: number): SlaStanding | null {
  const sla = row.sla;
  if (!sla || row.status === 'resolved' || row.status === 'snoozed') return null;
  const due = Date.parse(sla.due_at);
  if (Number.isNaN(due)) return null;
  const kind = sla.kind === 'next_response' ? 'next_response' : 'first_response';
  return { kind, leftMs: due - now, overdue: sla.breached || now >= due, targetSecs: sla.target_secs };
}

/**
 * The rows of `view` that pass `filter`, in the filter's order. Rows arrive newest activity
 * first from the store; the waiting order puts waiting customers first, longest first.
 */
export function visibleRows(rows: InboxRow[], view: InboxView, memberId: string | null, filter: ListFilter): InboxRow[] {
  const out = rows.filter(
    (row) =>
      inView(row, view, memberId) &&
      statusMatches(row.status, filter.status) &&
      (filter.labelId === null || row.labels.some((label) => label.id === filter.labelId)),
  );
  if (filter.sort === 'waiting') {
    const key = (row: InboxRow) => waitingSince(row) ?? Number.POSITIVE_INFINITY;
    // Array.prototype.sort is stable: rows not waiting keep their activity order at the end.
    out.sort((a, b) => key(a) - key(b));
  }
  return out;
}

/** Most recent activity first, as the store lists them: newest time, no time last, then id. */
function byActivity(a: InboxRow, b: InboxRow): number {
  const at = (row: InboxRow) => {
    const t = row.last_message_at === null ? Number.NaN : Date.parse(row.last_message_at);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const [ta, tb] = [at(a), at(b)];
  if (ta !== tb) return ta > tb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * `rows` with the rows of `ids` replaced by `fresh` (re-read from the store): each one moved
 * to its place by activity, and those not in `fresh` (no longer held) dropped. Costs one
 * pass over the list plus a binary search per fresh row, instead of re-reading 100,000 rows.
 */
export function mergeRows(rows: InboxRow[], ids: Iterable<string>, fresh: InboxRow[]): InboxRow[] {
  const gone = new Set(ids);
  for (const row of fresh) gone.add(row.id);
  const out = rows.filter((row) => !gone.has(row.id));
  for (const row of fresh) {
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byActivity(out[mid], row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    out.splice(lo, 0, row);
  }
  return out;
}

/** Conversations and unread messages per view, within the status filter. */
export type ViewTally = Record<InboxView, { conversations: number; unread: number }>;

export function tallyViews(rows: InboxRow[], memberId: string | null, status: StatusFilter): ViewTally {
  const tally = {} as ViewTally;
  for (const view of VIEWS) tally[view] = { conversations: 0, unread: 0 };
  for (const row of rows) {
    if (!statusMatches(row.status, status)) continue;
    for (const view of VIEWS) {
      if (!inView(row, view, memberId)) continue;
      tally[view].conversations += 1;
      tally[view].unread += row.unread_count;
    }
  }
  return tally;
}

/** The labels present on any row, by name (the label filter's choices). */
export function labelsInUse(rows: InboxRow[]): InboxRow['labels'] {
  const byId = new Map<string, InboxRow['labels'][number]>();
  for (const row of rows) for (const label of row.labels) byId.set(label.id, label);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Someone typing in a conversation (ephemeral). */
export type TypingNotice = { memberId: string; name: string | null; until: number };

/**
 * The conversation list and the outbox, read from the local store. Client events that
 * change them (`applied`, `read`, `resync_done`, `outbox_changed`) schedule one debounced
 * re-read, so a burst of a hundred events costs one read. The read asks only for the rows
 * of the conversations the events named (`inboxRows`) and merges them in; the whole list
 * is read at first, after a resync, and when a label or member changed.
 */
export class InboxStore {
  // Raw: replaced whole on every read, never changed in place; deep reactivity over 100k rows
  // would make every refresh track hundreds of thousands of reads.
  rows = $state.raw<InboxRow[]>([]);
  outbox = $state<OutboxEntry[]>([]);
  /** True until the first answer (or error). */
  loading = $state(true);
  /**
   * False while `rows` holds only the first screen of a big inbox (counts and filters
   * over the whole list wait for the rest).
   */
  complete = $state(false);
  error = $state<BackendError | null>(null);
  /** Bumped after every successful re-read; open conversations reload their timeline on it. */
  revision = $state(0);
  /** Who is typing where, by conversation id. */
  typing = $state<Record<string, TypingNotice>>({});
  /** Who has which conversation open: by conversation id, then member id. */
  viewers = $state<Record<string, Record<string, TypingNotice>>>({});

  private readonly backend: Backend;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private viewingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private running: Promise<void> | null = null;
  private again = false;
  /** What the next read covers: the rows of these conversations, or (`wholePending`) all. */
  private pendingIds = new Set<string>();
  private wholePending = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Unread messages over every conversation this device holds. */
  get unread(): number {
    return this.rows.reduce((sum, row) => sum + row.unread_count, 0);
  }

  /** Reads the whole list and the outbox now (a call while one runs queues one more). */
  refresh(): Promise<void> {
    this.wholePending = true;
    return this.run();
  }

  /** The rows of these conversations changed: re-read them after `delay` (with the outbox). */
  touch(ids: Iterable<string>, delay = REFRESH_DEBOUNCE_MS) {
    for (const id of ids) this.pendingIds.add(id);
    this.schedule(delay);
  }

  /** Re-reads what is pending (and the outbox) after the events of a burst have settled. */
  private schedule(delay = REFRESH_DEBOUNCE_MS) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delay);
  }

  handle(event: ClientEvent) {
    if (event.type === 'applied') {
      if (event.whole_inbox) this.wholePending = true;
      this.touch(event.conversations);
    } else if (event.type === 'read') {
      this.touch([event.conversation_id]);
    } else if (event.type === 'resync_done') {
      this.wholePending = true;
      this.schedule();
    } else if (event.type === 'outbox_changed') {
      this.schedule();
    } else if (event.type === 'typing') {
      this.noteTyping(event.conversation_id, event.member_id, event.member_name);
    } else if (event.type === 'viewing') {
      this.noteViewing(event.conversation_id, event.member_id, event.member_name);
    }
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
    this.typingTimers.clear();
    for (const timer of this.viewingTimers.values()) clearTimeout(timer);
    this.viewingTimers.clear();
  }

  /** Colleagues (not `me`) with a conversation open, by name. */
  viewersOf(conversationId: string, me: string | null): TypingNotice[] {
    return Object.values(this.viewers[conversationId] ?? {}).filter((v) => v.memberId !== me);
  }

  private noteViewing(conversationId: string, memberId: string, name: string | null) {
    const here = (this.viewers[conversationId] ??= {});
    here[memberId] = { memberId, name, until: Date.now() + VIEWING_TTL_MS };
    const key = `${conversationId}|${memberId}`;
    const previous = this.viewingTimers.get(key);
    if (previous) clearTimeout(previous);
    this.viewingTimers.set(
      key,
      setTimeout(() => {
        this.viewingTimers.delete(key);
        const list = this.viewers[conversationId];
        if (!list) return;
        delete list[memberId];
        if (Object.keys(list).length === 0) delete this.viewers[conversationId];
      }, VIEWING_TTL_MS),
    );
  }

  private noteTyping(conversationId: string, memberId: string, name: string | null) {
    this.typing[conversationId] = { memberId, name, until: Date.now() + TYPING_TTL_MS };
    const previous = this.typingTimers.get(conversationId);
    if (previous) clearTimeout(previous);
    this.typingTimers.set(
      conversationId,
      setTimeout(() => {
        this.typingTimers.delete(conversationId);
        delete this.typing[conversationId];
      }, TYPING_TTL_MS),
    );
  }

  /** Queued and failed replies of one conversation (sent ones are in its timeline). */
  pendingFor(conversationId: string): OutboxEntry[] {
    return this.outbox.filter(
      (entry) =>
        entry.conversation_id === conversationId &&
        entry.state !== 'sent' &&
        entry.kind !== 'add_note' &&
        (entry.kind === 'send_text' || entry.text !== null),
    );
  }

  /** Notes of one conversation still in the outbox (saved ones come from `notes()`). */
  pendingNotesFor(conversationId: string): OutboxEntry[] {
    return this.outbox.filter(
      (entry) => entry.conversation_id === conversationId && entry.state !== 'sent' && entry.kind === 'add_note',
    );
  }

  /**
   * Actions the relay refused for one conversation (assign, labels, close...), so their
   * reason (e.g. the team's label limit) is shown where the user acted.
   */
  failedActionsFor(conversationId: string): OutboxEntry[] {
    return this.outbox.filter(
      (entry) =>
        entry.conversation_id === conversationId &&
        entry.state === 'failed' &&
        entry.kind !== 'send_text' &&
        entry.kind !== 'add_note' &&
        entry.text === null,
    );
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.read().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.run();
      }
    });
    return this.running;
  }

  private async read() {
    const whole = this.wholePending || !this.complete || this.pendingIds.size > ROW_REFRESH_LIMIT;
    const ids = whole ? [] : [...this.pendingIds];
    this.wholePending = false;
    this.pendingIds.clear();
    try {
      if (whole) await this.readWhole();
      else await this.readRows(ids);
    } catch (raw) {
      this.error = BackendError.from(raw);
      // Whatever this read missed is covered by reading everything next time.
      this.wholePending = true;
    } finally {
      this.loading = false;
    }
  }

  private async readRows(ids: string[]) {
    const [fresh, outbox] = await Promise.all([
      ids.length > 0 ? this.backend.inboxRows(ids) : Promise.resolve(null),
      this.backend.outbox(),
    ]);
    this.show(fresh === null ? this.rows : mergeRows(this.rows, ids, fresh), outbox);
    performance.mark('teamline:rows-refreshed');
  }

  private async readWhole() {
    const first = !this.complete && this.rows.length === 0;
    if (first) performance.mark('teamline:first-read');
    const outbox = this.backend.outbox();
    // The first screen, then the rest in pages: each answer is parsed in a few ms, so the
    // window stays responsive (and scrolls) while 100,000 rows arrive.
    const all: InboxRow[] = [];
    let size = FIRST_SCREEN_ROWS;
    for (;;) {
      const last = all.at(-1);
      const page = await this.backend.inbox(size, last && { at: last.last_message_at, id: last.id });
      for (const row of page) all.push(row);
      const firstScreen = first && size === FIRST_SCREEN_ROWS;
      if (firstScreen) performance.mark('teamline:first-rows');
      if (page.length < size) break;
      if (firstScreen) {
        this.show(all.slice(), await outbox);
        this.loading = false;
      }
      size = INBOX_PAGE_ROWS;
      // Let the window paint (the first screen) and handle input between pages.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.show(all, await outbox);
    this.complete = true;
    performance.mark('teamline:whole-list-read');
  }

  private show(rows: InboxRow[], outbox: OutboxEntry[]) {
    this.rows = rows;
    this.outbox = outbox;
    this.error = null;
    this.revision += 1;
  }
}

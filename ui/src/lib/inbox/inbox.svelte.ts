import { BackendError, type Backend } from '../backend';
import type { ClientEvent } from '../bindings/ClientEvent';
import type { InboxRow } from '../bindings/InboxRow';
import type { OutboxEntry } from '../bindings/OutboxEntry';

/** How long a burst of client events is gathered before the list is read again. */
export const REFRESH_DEBOUNCE_MS = 200;

/** A typing notice fades this long after the last `typing` event. */
export const TYPING_TTL_MS = 6000;

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

/** Someone typing in a conversation (ephemeral). */
export type TypingNotice = { memberId: string; name: string | null; until: number };

/**
 * The conversation list and the outbox, read from the local store. Client events that
 * change them (`applied`, `resync_done`, `outbox_changed`) schedule one debounced re-read,
 * so a burst of a hundred events costs one `inbox()` call.
 */
export class InboxStore {
  // Raw: replaced whole on every read, never changed in place; deep reactivity over 100k rows
  // would make every refresh track hundreds of thousands of reads.
  rows = $state.raw<InboxRow[]>([]);
  outbox = $state<OutboxEntry[]>([]);
  /** True until the first answer (or error). */
  loading = $state(true);
  error = $state<BackendError | null>(null);
  /** Bumped after every successful re-read; open conversations reload their timeline on it. */
  revision = $state(0);
  /** Who is typing where, by conversation id. */
  typing = $state<Record<string, TypingNotice>>({});

  private readonly backend: Backend;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Unread messages over every conversation this device holds. */
  get unread(): number {
    return this.rows.reduce((sum, row) => sum + row.unread_count, 0);
  }

  /** Reads the list and the outbox now (a call while one runs queues one more). */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.read().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.running;
  }

  /** Re-reads after the events of a burst have settled. */
  schedule(delay = REFRESH_DEBOUNCE_MS) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delay);
  }

  handle(event: ClientEvent) {
    if (event.type === 'applied' || event.type === 'resync_done' || event.type === 'outbox_changed') {
      this.schedule();
    } else if (event.type === 'typing') {
      this.noteTyping(event.conversation_id, event.member_id, event.member_name);
    }
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
    this.typingTimers.clear();
  }

  /** Counts per view, for the view switcher. */
  counts(memberId: string | null): Record<InboxView, number> {
    const counts = { all: 0, mine: 0, unassigned: 0, urgent: 0 };
    for (const row of this.rows) for (const view of VIEWS) if (inView(row, view, memberId)) counts[view] += 1;
    return counts;
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

  private async read() {
    try {
      const [rows, outbox] = await Promise.all([this.backend.inbox(), this.backend.outbox()]);
      this.rows = rows;
      this.outbox = outbox;
      this.error = null;
      this.revision += 1;
    } catch (raw) {
      this.error = BackendError.from(raw);
    } finally {
      this.loading = false;
    }
  }
}

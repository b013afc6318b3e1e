import { BackendError, type Backend } from '../backend';
import type { BroadcastRecipient } from '../bindings/BroadcastRecipient';
import type { BroadcastSummary } from '../bindings/BroadcastSummary';
import type { RecipientState } from '../bindings/RecipientState';

function newestFirst(a: BroadcastSummary, b: BroadcastSummary): number {
  return b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);
}

/**
 * The team's broadcasts as the section shows them: read once, then kept live from
 * `broadcast-changed` events (each carries the whole summary, so an event is enough to
 * draw a new broadcast or a moved progress bar without asking the relay again).
 */
export class BroadcastList {
  items = $state<BroadcastSummary[] | null>(null);
  loading = $state(false);
  loadError = $state<BackendError | null>(null);
  /** The broadcast whose results are open, if any. */
  openId = $state<string | null>(null);
  readonly open = $derived(this.items?.find((b) => b.id === this.openId) ?? null);
  private readonly backend: Backend;
  /** Summaries that arrived while the list was being read (newer than its answer). */
  private early = new Map<string, BroadcastSummary>();

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async load() {
    this.loading = true;
    this.loadError = null;
    this.early.clear();
    try {
      const list = await this.backend.broadcasts();
      const merged = new Map(list.map((b) => [b.id, b]));
      for (const [id, b] of this.early) merged.set(id, b);
      this.early.clear();
      this.items = [...merged.values()].sort(newestFirst);
    } catch (raw) {
      this.loadError = BackendError.from(raw);
    } finally {
      this.loading = false;
    }
  }

  /** A summary from an event or an answer: added, or replacing the older one. */
  apply(summary: BroadcastSummary) {
    if (this.items === null) {
      if (this.loading) this.early.set(summary.id, summary);
      return;
    }
    const rest = this.items.filter((b) => b.id !== summary.id);
    this.items = [...rest, summary].sort(newestFirst);
  }

  async cancel(id: string): Promise<BackendError | null> {
    try {
      this.apply(await this.backend.cancelBroadcast(id));
      return null;
    } catch (raw) {
      return BackendError.from(raw);
    }
  }
}

/** How many recipients one page shows. */
export const PAGE_SIZE = 50;

/**
 * One broadcast's recipients, a page at a time, optionally only those in one state. Pages
 * are keyed by the last number of the page before, so "previous" goes back exactly.
 */
export class RecipientList {
  readonly broadcastId: string;
  filter = $state<RecipientState | 'all'>('all');
  items = $state<BroadcastRecipient[]>([]);
  next = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  error = $state<BackendError | null>(null);
  /** The `after` cursor of each page shown so far; the last is the current page's. */
  private cursors = $state<(string | null)[]>([null]);
  readonly page = $derived(this.cursors.length);
  private readonly backend: Backend;
  private asked = 0;

  constructor(backend: Backend, broadcastId: string) {
    this.backend = backend;
    this.broadcastId = broadcastId;
  }

  private async fetch(after: string | null): Promise<boolean> {
    const ticket = ++this.asked;
    this.loading = true;
    this.error = null;
    try {
      const state = this.filter === 'all' ? null : this.filter;
      const page = await this.backend.broadcastRecipients(this.broadcastId, after, PAGE_SIZE, state);
      if (ticket !== this.asked) return false;
      this.items = page.recipients;
      this.next = page.next;
      this.loaded = true;
      return true;
    } catch (raw) {
      if (ticket === this.asked) this.error = BackendError.from(raw);
      return false;
    } finally {
      if (ticket === this.asked) this.loading = false;
    }
  }

  /** The first page (after a filter change). */
  async first() {
    this.cursors = [null];
    await this.fetch(null);
  }

  /** The current page again (the counts moved). */
  async reload() {
    await this.fetch(this.cursors[this.cursors.length - 1] ?? null);
  }

  async forward() {
    const after = this.next;
    if (after === null || this.loading) return;
    if (await this.fetch(after)) this.cursors = [...this.cursors, after];
  }

  async back() {
    if (this.cursors.length < 2 || this.loading) return;
    const before = this.cursors.slice(0, -1);
    if (await this.fetch(before[before.length - 1] ?? null)) this.cursors = before;
  }

  async setFilter(filter: RecipientState | 'all') {
    this.filter = filter;
    await this.first();
  }
}

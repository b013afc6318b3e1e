import { BackendError, type Backend, type Unlisten } from './backend';
import type { BroadcastSummary } from './bindings/BroadcastSummary';
import type { ClientEvent } from './bindings/ClientEvent';
import type { Session } from './bindings/Session';
import type { SyncProgress } from './bindings/SyncProgress';
import { ConnectionStatus } from './connection.svelte';

type ClientEventHandler = (event: ClientEvent) => void;

/** Connected, reconnecting and offline are all "linked"; only a move between groups matters. */
function linkGroup(state: string): string {
  return state === 'not_linked' || state === 'unlinked' || state === 'locked' ? state : 'linked';
}


/**
 * Who this window works as and what the app pushes: the session (linked, me, startup
 * error), the connection state, the unread total, and client events for the lists. One
 * `listen` subscription, plus one initial `connectionState()` and `session()` call.
 */
export class AppSession {
  session = $state<Session | null>(null);
  sessionError = $state<BackendError | null>(null);
  readonly connection = new ConnectionStatus();
  /** The app's unread total; `null` until the app reports one. */
  unread = $state<number | null>(null);
  /** A full resync in progress (after the relay asked for one), else `null`. */
  resync = $state<SyncProgress | null>(null);

  private readonly backend: Backend;
  private readonly subscribers = new Set<ClientEventHandler>();
  private readonly broadcastSubscribers = new Set<(summary: BroadcastSummary) => void>();
  private openHandler: ((conversationId: string) => void) | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Connection states pushed by the app so far (see `refreshConnection`). */
  private connectionPushes = 0;

  /** `initial`: the session asked for before the window mounted (so the list is read at once). */
  constructor(backend: Backend, initial: Session | null = null) {
    this.backend = backend;
    this.session = initial;
  }

  /** The member signed in on this device, if any. */
  get me() {
    return this.session?.me ?? null;
  }

  /** Linked to a team and not unlinked since. */
  get linked(): boolean {
    const state = this.connection.state?.state;
    if (state === 'unlinked' || state === 'not_linked' || state === 'locked') return false;
    return this.session?.linked ?? false;
  }

  /** Linked, but the device's data waits for its passphrase. */
  get locked(): boolean {
    return this.connection.state?.state === 'locked';
  }

  get unlinkedByAdmin(): boolean {
    return this.connection.state?.state === 'unlinked';
  }

  /** Subscribes to client events (lists refresh on them). */
  onClientEvent(handler: ClientEventHandler): () => void {
    this.subscribers.add(handler);
    return () => this.subscribers.delete(handler);
  }

  /** Subscribes to broadcast changes (the Broadcasts section's live progress). */
  onBroadcastChanged(handler: (summary: BroadcastSummary) => void): () => void {
    this.broadcastSubscribers.add(handler);
    return () => this.broadcastSubscribers.delete(handler);
  }

  onOpenConversation(handler: (conversationId: string) => void) {
    this.openHandler = handler;
  }

  /** Listens first (so nothing is missed), then asks once for the current state. */
  async start(): Promise<Unlisten> {
    const stop = await this.backend
      .listen({
        connectionState: (state) => {
          this.connectionPushes += 1;
          const before = this.connection.state?.state;
          this.connection.set(state);
          // Linking, unlinking and first contact change who we are: ask again.
          if (before === undefined || linkGroup(before) !== linkGroup(state.state)) {
            this.scheduleSessionRefresh();
          }
        },
        clientEvent: (event) => {
          if (event.type === 'unlinked') {
            this.connectionPushes += 1;
            this.connection.set({ state: 'unlinked' });
            this.scheduleSessionRefresh();
          } else if (event.type === 'resync_progress') {
            this.resync = { done: event.done, total: event.total };
          } else if (event.type === 'applied' || event.type === 'resync_done') {
            if (event.type === 'resync_done') this.resync = null;
            // A permission or sign-in change arrives as events too.
            this.scheduleSessionRefresh();
          }
          for (const handler of this.subscribers) handler(event);
        },
        unread: (total) => (this.unread = total),
        openConversation: (id) => this.openHandler?.(id),
        broadcastChanged: (summary) => {
          for (const handler of this.broadcastSubscribers) handler(summary);
        },
      })
      .catch(() => () => {});
    await Promise.all([this.refreshConnection(), this.refreshSession()]);
    return () => {
      stop();
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
    };
  }

  /**
   * Asks the app for the connection state. A state pushed while the question was on its
   * way is newer than the answer, so the answer is then dropped (it once overwrote
   * "connected" with the "reconnecting" of a moment before, and nothing corrected it).
   */
  async refreshConnection() {
    const pushesBefore = this.connectionPushes;
    try {
      const state = await this.backend.connectionState();
      if (this.connectionPushes === pushesBefore) this.connection.set(state);
    } catch (raw) {
      if (this.connectionPushes === pushesBefore) this.connection.fail(BackendError.from(raw));
    }
  }

  async refreshSession() {
    try {
      this.session = await this.backend.session();
      this.sessionError = null;
    } catch (raw) {
      this.sessionError = BackendError.from(raw);
    }
  }

  private scheduleSessionRefresh() {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshSession();
    }, 150);
  }
}

/** The window title: `Teamline`, or `(N) Teamline` with N unread. */
export function windowTitle(unread: number | null): string {
  return unread && unread > 0 ? `(${unread}) Teamline` : 'Teamline';
}

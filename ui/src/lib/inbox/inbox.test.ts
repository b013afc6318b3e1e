import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Inbox from '../sections/Inbox.svelte';
import { BackendError } from '../backend';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend, item, me, ME_ID, row } from '../test/fakeBackend';
import {
  FIRST_SCREEN_ROWS,
  INBOX_PAGE_ROWS,
  InboxStore,
  mergeRows,
  ROW_REFRESH_LIMIT,
  VIEWING_EVERY_MS,
  VIEWING_TTL_MS,
} from './inbox.svelte';

async function renderInbox(backend: FakeBackend, who = me()) {
  const store = new InboxStore(backend);
  await store.refresh();
  const view = render(Inbox, { backend, store, me: who });
  return { store, view };
}

function rowIds(): string[] {
  return screen.getAllByTestId('inbox-row').map((el) => el.dataset.conversationId!);
}

function cursorId(): string | undefined {
  return screen.getAllByTestId('inbox-row').find((el) => el.classList.contains('cursor'))?.dataset.conversationId;
}

describe('Inbox list', () => {
  beforeEach(() => i18n.choose('en'));

  it('renders a row per conversation with name, number, preview, chips, assignee and unread', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({
        customer_name: 'Maria Lopez',
        unread_count: 3,
        assignee: { id: 'm2', name: 'Ana' },
        labels: [
          { id: 'l1', name: '#urgent', colour: '#dc2626', urgent: true },
          { id: 'l2', name: 'vip', colour: '#0d9488', urgent: false },
        ],
      }),
      row({ customer_name: '+4915100000', customer_number: '+4915100000', last_message_preview: null }),
    ];
    await renderInbox(backend);
    const rows = screen.getAllByTestId('inbox-row');
    expect(rows).toHaveLength(2);
    expect(rowIds()).toEqual(backend.rows.map((r) => r.id));
    const first = within(rows[0]);
    expect(first.getByTestId('inbox-row-name')).toHaveTextContent('Maria Lopez');
    expect(rows[0]).toHaveTextContent('+34600111222');
    expect(rows[0]).toHaveTextContent('Hello, is my order ready?');
    expect(rows[0]).toHaveTextContent('Ana');
    expect(rows[0]).toHaveTextContent('5 min. ago');
    expect(first.getByTestId('inbox-row-unread')).toHaveTextContent('3');
    const chips = first.getAllByTestId('label-chip');
    expect(chips.map((c) => c.dataset.urgent)).toEqual(['true', 'false']);
    expect(chips[0]).toHaveTextContent('urgent');
    const second = within(rows[1]);
    expect(second.queryByTestId('inbox-row-unread')).not.toBeInTheDocument();
    expect(rows[1]).toHaveTextContent('Unassigned');
    expect(rows[1]).toHaveTextContent('No messages yet');
  });

  it('j and k move the cursor, Enter opens the conversation', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'A' }), row({ customer_name: 'B' }), row({ customer_name: 'C' })];
    const [a, b, c] = backend.rows;
    backend.timelines.set(b.id, [
      item({ text: 'Where is my parcel?' }),
      item({ direction: 'outbound', text: 'On its way', status: 'read', author: { id: ME_ID, name: 'Olga' } }),
    ]);
    await renderInbox(backend);
    expect(cursorId()).toBe(a.id);
    await fireEvent.keyDown(window, { key: 'j' });
    expect(cursorId()).toBe(b.id);
    await fireEvent.keyDown(window, { key: 'j' });
    await fireEvent.keyDown(window, { key: 'j' });
    expect(cursorId()).toBe(c.id);
    await fireEvent.keyDown(window, { key: 'k' });
    expect(cursorId()).toBe(b.id);
    expect(screen.queryByTestId('conversation')).not.toBeInTheDocument();
    await fireEvent.keyDown(window, { key: 'Enter' });
    const items = await screen.findAllByTestId('timeline-item');
    expect(items.map((el) => el.dataset.direction)).toEqual(['inbound', 'outbound']);
    expect(items[1]).toHaveTextContent('Olga');
    expect(within(items[1]).getByTestId('ticks')).toHaveAttribute('data-status', 'read');
    expect(screen.getByTestId('conversation')).toHaveAccessibleName('B');
  });

  it('opening a conversation marks it read on this device and the badge goes away', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'A', unread_count: 2 }), row({ customer_name: 'B', unread_count: 0 })];
    const [a] = backend.rows;
    await renderInbox(backend);
    expect(screen.getAllByTestId('inbox-row-unread')).toHaveLength(1);
    expect(backend.calls.filter((c) => c.name === 'markRead')).toHaveLength(0);
    await fireEvent.keyDown(window, { key: 'Enter' });
    await waitFor(() => expect(screen.queryAllByTestId('inbox-row-unread')).toHaveLength(0));
    expect(backend.calls.filter((c) => c.name === 'markRead').map((c) => c.args[0])).toEqual([a.id]);
  });

  it('ignores j and k while typing in a field', async () => {
    const backend = new FakeBackend();
    backend.rows = [row(), row()];
    await renderInbox(backend);
    const input = document.createElement('input');
    document.body.append(input);
    await fireEvent.keyDown(input, { key: 'j' });
    expect(cursorId()).toBe(backend.rows[0].id);
    input.remove();
  });

  it('shows loading, error and empty states', async () => {
    const backend = new FakeBackend();
    const store = new InboxStore(backend);
    const view = render(Inbox, { backend, store, me: me() });
    expect(screen.getByTestId('inbox-loading')).toBeInTheDocument();
    backend.failNext.set('inbox', new (await import('../backend')).BackendError('store_sqlite', 'disk I/O error'));
    await store.refresh();
    await waitFor(() => expect(screen.getByTestId('inbox-error')).toHaveTextContent('disk I/O error'));
    await store.refresh();
    expect(await screen.findByText('No conversations yet')).toBeInTheDocument();
    view.unmount();
  });
});

describe('InboxStore', () => {
  it('shows the first screen of a big inbox before the whole list, read in pages, with counts once whole', async () => {
    const backend = new FakeBackend();
    const total = FIRST_SCREEN_ROWS + INBOX_PAGE_ROWS + 50;
    backend.rows = Array.from({ length: total }, (_, i) =>
      row({ last_message_at: new Date(Date.now() - i * 1000).toISOString() }),
    );
    const store = new InboxStore(backend);
    const view = render(Inbox, { backend, store, me: me() });
    let gate!: () => void;
    const read = backend.inbox;
    backend.inbox = async (limit, after) => {
      if (limit === INBOX_PAGE_ROWS && !gate) await new Promise<void>((resolve) => (gate = resolve));
      return read(limit, after);
    };
    const reading = store.refresh();
    await waitFor(() => expect(store.rows).toHaveLength(FIRST_SCREEN_ROWS));
    expect(store.complete).toBe(false);
    expect(screen.getByTestId('inbox-reading')).toBeInTheDocument();
    expect(screen.queryAllByTestId('inbox-view-count')).toHaveLength(0);
    await waitFor(() => expect(gate).toBeTypeOf('function'));
    gate();
    await reading;
    expect(store.rows.map((r) => r.id)).toEqual(backend.rows.map((r) => r.id));
    expect(store.complete).toBe(true);
    await waitFor(() => expect(screen.queryByTestId('inbox-reading')).not.toBeInTheDocument());
    expect(screen.getAllByTestId('inbox-view-count')[0]).toHaveTextContent('5.3K');
    const id = (i: number) => backend.rows[i].id;
    expect(backend.called('inbox').map((c) => [c.args[0], (c.args[1] as { id: string } | undefined)?.id])).toEqual([
      [FIRST_SCREEN_ROWS, undefined],
      [INBOX_PAGE_ROWS, id(FIRST_SCREEN_ROWS - 1)],
      [INBOX_PAGE_ROWS, id(FIRST_SCREEN_ROWS + INBOX_PAGE_ROWS - 1)],
    ]);
    view.unmount();
  });

  it('reads a small inbox once', async () => {
    const backend = new FakeBackend();
    backend.rows = [row(), row()];
    const store = new InboxStore(backend);
    await store.refresh();
    expect(store.complete).toBe(true);
    expect(backend.called('inbox').map((c) => c.args[0])).toEqual([FIRST_SCREEN_ROWS]);
  });

  const applied = (ids: string[], wholeInbox = false) =>
    ({ type: 'applied', first_seq: 1, last_seq: 2, count: 1, conversations: ids, whole_inbox: wholeInbox }) as const;

  /** A store over three conversations (newest first), its whole list read. */
  async function threeRows() {
    const backend = new FakeBackend();
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const [a, b, c] = [
      row({ customer_name: 'A', last_message_at: minutesAgo(1) }),
      row({ customer_name: 'B', last_message_at: minutesAgo(2) }),
      row({ customer_name: 'C', last_message_at: minutesAgo(3) }),
    ];
    backend.rows = [a, b, c];
    const store = new InboxStore(backend);
    await store.refresh();
    return { backend, store, a, b, c };
  }

  it('re-reads only the rows a burst of events named, once, and moves them to their place', async () => {
    vi.useFakeTimers();
    try {
      const { backend, store, a, b, c } = await threeRows();
      c.last_message_at = new Date().toISOString();
      c.last_message_preview = 'A new message';
      c.unread_count = 1;
      for (let i = 0; i < 20; i += 1) store.handle(applied([c.id]));
      store.handle(applied([b.id]));
      store.handle({ type: 'outbox_changed' });
      store.handle({ type: 'transport', transport: 'sse' } as never);
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inbox')).toHaveLength(1);
      expect(backend.called('inboxRows').map((call) => [...(call.args[0] as string[])].sort())).toEqual([
        [b.id, c.id].sort(),
      ]);
      expect(store.rows.map((r) => r.customer_name)).toEqual(['C', 'A', 'B']);
      expect(store.rows[0].last_message_preview).toBe('A new message');
      expect(store.unread).toBe(1);
      expect(store.complete).toBe(true);
      store.handle({ type: 'typing', conversation_id: a.id, member_id: 'm', member_name: null } as never);
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inboxRows')).toHaveLength(1);
      expect(backend.called('inbox')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a row this device no longer holds and re-reads the one marked read here', async () => {
    vi.useFakeTimers();
    try {
      const { backend, store, a, b, c } = await threeRows();
      backend.rows = [a, c];
      store.handle(applied([b.id]));
      await vi.advanceTimersByTimeAsync(1000);
      expect(store.rows.map((r) => r.id)).toEqual([a.id, c.id]);
      store.handle({ type: 'read', conversation_id: a.id });
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inboxRows').at(-1)?.args[0]).toEqual([a.id]);
      expect(backend.called('inbox')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads the whole list after a resync, a label or member change, a burst naming too many, or a failed read', async () => {
    vi.useFakeTimers();
    try {
      const { backend, store, a } = await threeRows();
      store.handle({ type: 'resync_done', cursor: 9 } as never);
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inbox')).toHaveLength(2);
      store.handle(applied([], true));
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inbox')).toHaveLength(3);
      store.handle(applied(Array.from({ length: ROW_REFRESH_LIMIT + 1 }, (_, i) => `conv-${i}`)));
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inbox')).toHaveLength(4);
      expect(backend.called('inboxRows')).toHaveLength(0);

      backend.failNext.set('inboxRows', new BackendError('network', 'the relay cannot be reached'));
      store.handle(applied([a.id]));
      await vi.advanceTimersByTimeAsync(1000);
      expect(store.error?.code).toBe('network');
      expect(store.rows).toHaveLength(3);
      store.handle({ type: 'outbox_changed' });
      await vi.advanceTimersByTimeAsync(1000);
      expect(backend.called('inbox')).toHaveLength(5);
      expect(store.error).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('merges re-read rows by last activity: newest first, no time last, ties by id', () => {
    const at = (iso: string | null, id: string) => row({ id, last_message_at: iso });
    const list = [at('2026-11-20T10:00:00Z', 'a'), at('2026-11-20T09:00:00Z', 'b'), at(null, 'c')];
    const merged = mergeRows(list, ['b', 'gone'], [at('2026-11-20T10:00:00.000Z', 'b'), at(null, 'new')]);
    expect(merged.map((r) => r.id)).toEqual(['a', 'b', 'c', 'new']);
    expect(mergeRows(list, ['c'], [at('2026-11-21T08:00:00.5Z', 'c')]).map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(list.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('Conversation', () => {
  beforeEach(() => i18n.choose('en'));

  async function openFirst(backend: FakeBackend, who = me()) {
    const ctx = await renderInbox(backend, who);
    await fireEvent.keyDown(window, { key: 'Enter' });
    await screen.findByTestId('conversation');
    return ctx;
  }

  it('disables the composer with a reason when the member may not reply', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend, me(['view_all_conversations', 'view_contacts']));
    expect(screen.getByTestId('composer-input')).toBeDisabled();
    expect(screen.getByTestId('composer-send')).toBeDisabled();
    expect(screen.getByTestId('composer-reason')).toHaveTextContent('You are not allowed to reply');
  });

  it('says who handles a conversation assigned to someone else', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'other', name: 'Ana' } })];
    await openFirst(backend);
    expect(screen.getByTestId('composer-input')).toBeDisabled();
    expect(screen.getByTestId('composer-reason')).toHaveTextContent('Ana is handling this conversation.');
    expect(screen.queryByTestId('claim-button')).not.toBeInTheDocument();
  });

  it('offers claim when unassigned; claiming enables the composer', async () => {
    const backend = new FakeBackend();
    backend.rows = [row()];
    await openFirst(backend);
    expect(screen.getByTestId('composer-input')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('claim-button'));
    await waitFor(() => expect(backend.called('claim')).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId('composer-input')).toBeEnabled());
    expect(screen.queryByTestId('claim-button')).not.toBeInTheDocument();
  });

  it('Enter sends, Shift+Enter does not; the reply shows as a pending bubble', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await openFirst(backend);
    const input = screen.getByTestId('composer-input');
    await fireEvent.input(input, { target: { value: 'Your order ships today' } });
    await fireEvent.keyDown(input, { key: 'Enter', shiftKey: true });
    expect(backend.called('sendText')).toHaveLength(0);
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(backend.called('sendText')).toHaveLength(1));
    expect(backend.called('sendText')[0].args).toEqual([backend.rows[0].id, 'Your order ships today']);
    const pending = await screen.findByTestId('outbox-item');
    expect(pending).toHaveTextContent('Your order ships today');
    expect(pending).toHaveTextContent('Waiting to send');
    expect(input).toHaveValue('');
  });

  it('shows a failed outbox entry with its reason and discards it', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    backend.outboxEntries = [
      {
        id: 'ob-1',
        kind: 'send_text',
        conversation_id: backend.rows[0].id,
        text: 'Refund sent',
        state: 'failed',
        attempts: 3,
        last_error: 'permission_denied: You are not allowed to reply.',
        created_at: new Date().toISOString(),
      },
    ];
    await openFirst(backend);
    const entry = await screen.findByTestId('outbox-item');
    expect(entry).toHaveAttribute('data-state', 'failed');
    expect(entry).toHaveTextContent('permission_denied: You are not allowed to reply.');
    await fireEvent.click(within(entry).getByTestId('outbox-discard'));
    await waitFor(() => expect(screen.queryByTestId('outbox-item')).not.toBeInTheDocument());
    expect(backend.called('discardOutbox')[0].args).toEqual(['ob-1']);
  });

  it('shows a failed message with Meta’s reason', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    backend.timelines.set(backend.rows[0].id, [
      item({ direction: 'outbound', status: 'failed', error: 'Message undeliverable (131026)' }),
    ]);
    await openFirst(backend);
    expect(await screen.findByTestId('failed-reason')).toHaveTextContent('Message undeliverable (131026)');
  });

  it('reloads the timeline when the store re-reads', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    const { store } = await openFirst(backend);
    await screen.findByText('No messages in this conversation yet.');
    backend.timelines.set(backend.rows[0].id, [item({ text: 'Are you open on Sunday?' })]);
    await store.refresh();
    expect(await screen.findByText('Are you open on Sunday?')).toBeInTheDocument();
  });
});

describe('Reply shortcut', () => {
  beforeEach(() => i18n.choose('en'));

  it('r focuses the composer of the open conversation when replying is allowed', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: ME_ID, name: 'Olga' } })];
    await renderInbox(backend);
    await fireEvent.keyDown(window, { key: 'Enter' });
    const input = await screen.findByTestId('composer-input');
    expect(input).not.toHaveFocus();
    await fireEvent.keyDown(window, { key: 'r' });
    expect(input).toHaveFocus();
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect(input).not.toHaveFocus();
  });
});

describe('Views, typing and the 24-hour window', () => {
  beforeEach(() => i18n.choose('en'));

  it('filters by view with counts; j/k stay within the view', async () => {
    const backend = new FakeBackend();
    const urgent = { id: 'l1', name: '#urgent', colour: '#dc2626', urgent: true };
    backend.rows = [
      row({ customer_name: 'Mine', assignee: { id: ME_ID, name: 'Olga' } }),
      row({ customer_name: 'Free 1' }),
      row({ customer_name: 'Theirs', assignee: { id: 'x', name: 'Ana' }, labels: [urgent] }),
      row({ customer_name: 'Free 2', labels: [urgent] }),
    ];
    await renderInbox(backend);
    expect(screen.getByTestId('inbox-view-all')).toHaveTextContent('All 4');
    expect(screen.getByTestId('inbox-view-mine')).toHaveTextContent('Mine 1');
    expect(screen.getByTestId('inbox-view-unassigned')).toHaveTextContent('Unassigned 2');
    expect(screen.getByTestId('inbox-view-urgent')).toHaveTextContent('Urgent 2');
    await fireEvent.click(screen.getByTestId('inbox-view-unassigned'));
    expect(screen.getAllByTestId('inbox-row-name').map((el) => el.textContent)).toEqual(['Free 1', 'Free 2']);
    await fireEvent.keyDown(window, { key: 'j' });
    await fireEvent.keyDown(window, { key: 'j' });
    await fireEvent.keyDown(window, { key: 'Enter' });
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Free 2');
  });

  it('shows who is typing, and forgets it after a few seconds', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ assignee: { id: 'x', name: 'Ana' } })];
    const { store } = await renderInbox(backend);
    await fireEvent.keyDown(window, { key: 'Enter' });
    await screen.findByTestId('conversation');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      store.handle({ type: 'typing', conversation_id: backend.rows[0].id, member_id: 'x', member_name: 'Ana' } as never);
      await vi.advanceTimersByTimeAsync(10);
      expect(screen.getByTestId('typing')).toHaveTextContent('Ana is typing…');
      await vi.advanceTimersByTimeAsync(7000);
      expect(screen.queryByTestId('typing')).not.toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it('announces this device viewing, shows colleagues viewing (not me), and forgets them', async () => {
    const backend = new FakeBackend();
    backend.rows = [row()];
    const { store } = await renderInbox(backend);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      await fireEvent.keyDown(window, { key: 'Enter' });
      await vi.advanceTimersByTimeAsync(10);
      const id = backend.rows[0].id;
      const viewing = () => backend.called('sendCommand').filter((c) => (c.args[0] as { type: string }).type === 'viewing');
      expect(viewing().map((c) => c.args[0])).toEqual([{ type: 'viewing', conversation_id: id }]);
      await vi.advanceTimersByTimeAsync(VIEWING_EVERY_MS);
      expect(viewing()).toHaveLength(2);

      store.handle({ type: 'viewing', conversation_id: id, member_id: ME_ID, member_name: 'Olga' } as never);
      store.handle({ type: 'viewing', conversation_id: id, member_id: 'w', member_name: 'Wei' } as never);
      await vi.advanceTimersByTimeAsync(10);
      expect(screen.getByTestId('viewers')).toHaveTextContent('Wei viewing');
      expect(screen.getByTestId('viewers')).not.toHaveTextContent('Olga');
      await vi.advanceTimersByTimeAsync(VIEWING_TTL_MS);
      expect(screen.queryByTestId('viewers')).not.toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });

  it('says how long the 24-hour window stays open, and blocks free text once it closed', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({ customer_name: 'Open', assignee: { id: ME_ID, name: 'Olga' }, window_expires_at: new Date(Date.now() + 3 * 3_600_000 + 60_000).toISOString() }),
      row({ customer_name: 'Closed', assignee: { id: ME_ID, name: 'Olga' }, window_expires_at: new Date(Date.now() - 60_000).toISOString() }),
    ];
    await renderInbox(backend);
    await fireEvent.keyDown(window, { key: 'Enter' });
    expect(await screen.findByTestId('window-state')).toHaveTextContent('24-hour window: 3 hr left');
    expect(screen.getByTestId('composer-input')).toBeEnabled();
    await fireEvent.keyDown(window, { key: 'j' });
    await fireEvent.keyDown(window, { key: 'Enter' });
    await waitFor(() => expect(screen.getByTestId('window-state')).toHaveTextContent('24-hour window closed'));
    // Free text is gone; the composer says why and offers the approved templates.
    expect(screen.queryByTestId('composer-input')).not.toBeInTheDocument();
    expect(screen.getByTestId('window-closed')).toHaveTextContent(
      'The customer last wrote 24 h ago; WhatsApp only allows approved templates now.',
    );
    expect(await screen.findByTestId('template-select')).toBeInTheDocument();
  });
});

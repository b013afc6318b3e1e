import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import Inbox from '../sections/Inbox.svelte';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend, me, ME_ID, row } from '../test/fakeBackend';
import { InboxStore, tallyViews, visibleRows, waitingSince } from './inbox.svelte';

const MIN = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();
const urgent = { id: 'l-urgent', name: '#urgent', colour: '#dc2626', urgent: true };
const vip = { id: 'l-vip', name: 'vip', colour: '#0d9488', urgent: false };

async function renderInbox(backend: FakeBackend) {
  const store = new InboxStore(backend);
  await store.refresh();
  render(Inbox, { backend, store, me: me() });
  return store;
}

function names(): string[] {
  return screen.getAllByTestId('inbox-row-name').map((el) => el.textContent ?? '');
}

describe('inbox filters and order', () => {
  beforeEach(() => i18n.choose('en'));

  it('shows open and pending by default; another status or any status on request', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({ customer_name: 'Open', status: 'open' }),
      row({ customer_name: 'Pending', status: 'pending' }),
      row({ customer_name: 'Snoozed', status: 'snoozed' }),
      row({ customer_name: 'Resolved', status: 'resolved' }),
    ];
    await renderInbox(backend);
    expect(names()).toEqual(['Open', 'Pending']);
    await fireEvent.change(screen.getByTestId('inbox-status'), { target: { value: 'resolved' } });
    expect(names()).toEqual(['Resolved']);
    await fireEvent.change(screen.getByTestId('inbox-status'), { target: { value: 'any' } });
    expect(names()).toEqual(['Open', 'Pending', 'Snoozed', 'Resolved']);
  });

  it('filters by label, and an empty result offers to clear the filters', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({ customer_name: 'Urgent one', labels: [urgent] }),
      row({ customer_name: 'VIP one', labels: [vip] }),
      row({ customer_name: 'Resolved VIP', status: 'resolved', labels: [vip] }),
    ];
    await renderInbox(backend);
    const labelSelect = screen.getByTestId('inbox-label') as HTMLSelectElement;
    expect([...labelSelect.options].map((o) => o.textContent)).toEqual(['Any label', '#urgent', 'vip']);
    await fireEvent.change(labelSelect, { target: { value: 'l-vip' } });
    expect(names()).toEqual(['VIP one']);
    await fireEvent.change(screen.getByTestId('inbox-status'), { target: { value: 'snoozed' } });
    expect(screen.getByTestId('inbox-view-empty')).toHaveTextContent('No conversations match these filters.');
    await fireEvent.click(screen.getByTestId('inbox-filter-clear'));
    expect(names()).toEqual(['Urgent one', 'VIP one', 'Resolved VIP']);
  });

  it('orders by the longest-waiting customer and shows the wait and the 24-hour window', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({ customer_name: 'Answered', waiting_since: null, window_expires_at: fromNow(20 * 60 * MIN) }),
      row({ customer_name: 'Short wait', waiting_since: ago(5 * MIN), window_expires_at: fromNow(90 * MIN) }),
      row({ customer_name: 'Long wait', waiting_since: ago(3 * 60 * MIN), window_expires_at: ago(MIN) }),
    ];
    await renderInbox(backend);
    expect(names()).toEqual(['Answered', 'Short wait', 'Long wait']);
    await fireEvent.change(screen.getByTestId('inbox-sort'), { target: { value: 'waiting' } });
    expect(names()).toEqual(['Long wait', 'Short wait', 'Answered']);

    const [long, short, answered] = screen.getAllByTestId('inbox-row');
    const longWait = within(long).getByTestId('inbox-row-waiting');
    expect(longWait).toHaveTextContent('waiting 3 hr');
    expect(longWait).toHaveClass('long');
    expect(within(long).getByTestId('inbox-row-window')).toHaveTextContent('window closed');
    expect(within(short).getByTestId('inbox-row-waiting')).toHaveTextContent('waiting 5 min');
    expect(within(short).getByTestId('inbox-row-window')).toHaveClass('closing');
    expect(within(answered).queryByTestId('inbox-row-waiting')).not.toBeInTheDocument();
    expect(within(answered).getByTestId('inbox-row-window')).toHaveTextContent('20 hr left');
  });

  it('counts conversations and unread messages per view within the status filter', async () => {
    const backend = new FakeBackend();
    backend.rows = [
      row({ assignee: { id: ME_ID, name: 'Olga' }, unread_count: 2 }),
      row({ unread_count: 3, labels: [urgent] }),
      row({ status: 'resolved', unread_count: 7 }),
    ];
    await renderInbox(backend);
    const tab = (id: string) => screen.getByTestId(`inbox-view-${id}`);
    expect(within(tab('all')).getByTestId('inbox-view-count')).toHaveTextContent('2');
    expect(within(tab('all')).getByTestId('inbox-view-unread')).toHaveTextContent('5');
    expect(within(tab('mine')).getByTestId('inbox-view-unread')).toHaveTextContent('2');
    expect(within(tab('urgent')).getByTestId('inbox-view-count')).toHaveTextContent('1');
    expect(within(tab('unassigned')).getByTestId('inbox-view-unread')).toHaveTextContent('3');
  });
});

describe('list helpers', () => {
  it('a resolved or snoozed conversation is not waiting, whatever its messages', () => {
    expect(waitingSince(row({ waiting_since: ago(MIN) }))).not.toBeNull();
    expect(waitingSince(row({ status: 'resolved', waiting_since: ago(MIN) }))).toBeNull();
    expect(waitingSince(row({ status: 'snoozed', waiting_since: ago(MIN) }))).toBeNull();
    expect(waitingSince(row({ waiting_since: 'not a date' }))).toBeNull();
  });

  it('keeps rows that are not waiting in activity order after the waiting ones', () => {
    const rows = [
      row({ customer_name: 'a' }),
      row({ customer_name: 'b', waiting_since: ago(MIN) }),
      row({ customer_name: 'c' }),
      row({ customer_name: 'd', waiting_since: ago(2 * MIN) }),
    ];
    const sorted = visibleRows(rows, 'all', ME_ID, { status: 'any', labelId: null, sort: 'waiting' });
    expect(sorted.map((r) => r.customer_name)).toEqual(['d', 'b', 'a', 'c']);
    // The store's own order is untouched.
    expect(rows.map((r) => r.customer_name)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('tallies a list of 100,000 rows within the status filter', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) =>
      row({ unread_count: i % 2, status: i % 10 === 0 ? 'resolved' : 'open' }),
    );
    const tally = tallyViews(rows, ME_ID, 'active');
    // Resolved rows (every tenth) all have even indexes, so every odd one's unread counts.
    expect(tally.all).toEqual({ conversations: 90_000, unread: 50_000 });
    expect(tally.unassigned.conversations).toBe(90_000);
    expect(tally.mine.conversations).toBe(0);
  });
});

import { render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Inbox from '../sections/Inbox.svelte';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend, me, row } from '../test/fakeBackend';
import { countdown, targetDuration } from '../time.svelte';
import { InboxStore, slaStanding } from './inbox.svelte';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const clock = (kind: 'first_response' | 'next_response', dueInMs: number, breached = false) => ({
  kind,
  due_at: new Date(T0 + dueInMs).toISOString(),
  target_secs: 30,
  breached,
});

describe('SLA clocks in the inbox', () => {
  beforeEach(() => i18n.choose('en'));
  afterEach(() => vi.useRealTimers());

  it('reads a row’s clock: time left, overdue at the due time even before the relay says so', () => {
    const r = row({ sla: clock('first_response', 25_000) });
    expect(slaStanding(r, T0)).toEqual({ kind: 'first_response', leftMs: 25_000, overdue: false, targetSecs: 30 });
    expect(slaStanding(r, T0 + 25_000)?.overdue).toBe(true);
    expect(slaStanding(row({ sla: clock('next_response', 60_000, true) }), T0)?.overdue).toBe(true);
    expect(slaStanding(row({ sla: null }), T0)).toBeNull();
    expect(slaStanding(row({ status: 'resolved', sla: clock('first_response', 5_000) }), T0)).toBeNull();
    expect(slaStanding(row({ status: 'snoozed', sla: clock('first_response', 5_000) }), T0)).toBeNull();
    expect(slaStanding(row({ sla: { ...clock('first_response', 0), due_at: 'soon' } }), T0)).toBeNull();
  });

  it('formats countdowns to the second under an hour', () => {
    expect(countdown(25_400)).toBe('0:25');
    expect(countdown(12 * 60_000 + 5_000)).toBe('12:05');
    expect(countdown(-3)).toBe('0:00');
    expect(countdown(3 * 3_600_000)).toBe('3 hr');
    expect(targetDuration(30)).toBe('30 sec');
    expect(targetDuration(7200)).toBe('2 hr');
  });

  it('counts down live on the row and turns overdue, in the chosen language', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(T0);
    const backend = new FakeBackend();
    backend.rows = [
      row({ customer_name: 'Rui', sla: clock('first_response', 3_000), priority: 'urgent' }),
      row({ customer_name: 'Calm' }),
    ];
    const store = new InboxStore(backend);
    await store.refresh();
    render(Inbox, { backend, store, me: me() });
    const rows = screen.getAllByTestId('inbox-row');
    const badge = within(rows[0]).getByTestId('sla');
    expect(badge.textContent).toBe('reply in 0:03');
    expect(badge.getAttribute('title')).toBe('First response: 0:03 left of the 30 sec target');
    expect(within(rows[0]).getByTestId('inbox-row-priority').getAttribute('title')).toBe('Priority: Urgent');
    expect(within(rows[1]).queryByTestId('sla')).toBeNull();
    expect(within(rows[1]).queryByTestId('inbox-row-priority')).toBeNull();

    await vi.advanceTimersByTimeAsync(5_000);
    expect(badge.textContent).toBe('overdue 0:02');
    expect(badge.dataset.overdue).toBe('true');
    i18n.choose('ru');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(within(screen.getAllByTestId('inbox-row')[0]).getByTestId('sla').textContent).toBe('просрочено на 0:03');
  });
});

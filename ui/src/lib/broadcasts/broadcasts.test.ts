import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import { BackendError } from '../backend';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import { i18n } from '../i18n/index.svelte';
import { PERMISSIONS } from '../permissions';
import Broadcasts from '../sections/Broadcasts.svelte';
import { AppSession } from '../session.svelte';
import { FakeBackend, info, me } from '../test/fakeBackend';
import type { FakeCustomer } from '../test/fakeBroadcasts';

const en = () => i18n.m.broadcasts;

function customers(n: number, label = 'vip'): FakeCustomer[] {
  return Array.from({ length: n }, (_, i) => ({
    wa_id: `3460000${String(i).padStart(4, '0')}`,
    name: `Customer ${i}`,
    labels: [label],
    attributes: { monthly_spend: i * 100 },
  }));
}

function backendWith(list: FakeCustomer[] = []) {
  const backend = new FakeBackend();
  backend.teamLabels = [
    { id: 'l-vip', name: 'vip', colour: '#aa00aa', urgent: false },
    { id: 'l-new', name: 'New customer', colour: '#00aa00', urgent: false },
  ];
  backend.bcast.customers = list;
  return backend;
}

/** The section with live events through a real AppSession, as the app wires it. */
async function open(backend: FakeBackend, who = me()) {
  const app = new AppSession(backend);
  await app.start();
  render(Broadcasts, { backend, me: who, subscribe: (h) => app.onBroadcastChanged(h) });
  return app;
}

function pick(testid: string, value: string) {
  const select = screen.getByTestId(testid) as HTMLSelectElement;
  return fireEvent.change(select, { target: { value } });
}

async function compose(name = 'November sale') {
  await fireEvent.click(await screen.findByTestId('broadcasts-tab-compose'));
  await fireEvent.input(screen.getByTestId('broadcast-name-input'), { target: { value: name } });
  await screen.findByRole('option', { name: 'vip' });
  await pick('broadcast-label', 'vip');
  await pick('broadcast-template', 'order_update/en_US');
  const texts = screen.getAllByTestId('broadcast-param-text');
  await fireEvent.input(texts[0], { target: { value: 'NOV-20' } });
}

function lastDraft(backend: FakeBackend, call: 'previewBroadcast' | 'createBroadcast'): BroadcastDraft {
  const calls = backend.called(call);
  const args = calls[calls.length - 1].args;
  return (call === 'previewBroadcast' ? args[0] : args[1]) as BroadcastDraft;
}

describe('Broadcasts', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('without the permission: a calm explanation and no call to the relay', async () => {
    const backend = backendWith();
    await open(backend, me(PERMISSIONS.filter((p) => p !== 'send_broadcasts')));
    expect(screen.getByTestId('broadcasts-no-permission')).toHaveTextContent('Send broadcasts');
    expect(backend.called('broadcasts')).toHaveLength(0);
  });

  it('the sidebar shows Broadcasts only to a member who may send them on this device', async () => {
    const backend = backendWith();
    backend.session_.me = me(['reply', 'view_contacts']);
    render(App, { info, backend });
    await waitFor(() => expect(backend.called('session')).not.toHaveLength(0));
    await screen.findByRole('button', { name: /Inbox/ });
    await waitFor(() => expect(document.querySelector('nav button[data-section=broadcasts]')).toBeNull());
    expect(document.querySelector('nav button[data-section=automation]')).not.toBeNull();
    // Alt+3 does not open a hidden section.
    await fireEvent.keyDown(window, { key: '3', code: 'Digit3', altKey: true });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Inbox');
  });

  it('with the permission it is in the sidebar and Alt+3 opens it (in Russian too)', async () => {
    i18n.choose('ru');
    const backend = backendWith();
    render(App, { info, backend });
    await waitFor(() => expect(document.querySelector('nav button[data-section=broadcasts]')).not.toBeNull());
    await fireEvent.keyDown(window, { key: '3', code: 'Digit3', altKey: true });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Рассылки');
    expect(await screen.findByTestId('broadcasts-empty')).toHaveTextContent('Рассылок пока нет');
    expect(screen.getByTestId('broadcasts-tab-settings')).toHaveTextContent('Дневной лимит');
  });

  it('no broadcasts yet: the empty state leads to the composer', async () => {
    const backend = backendWith();
    await open(backend);
    const empty = await screen.findByTestId('broadcasts-empty');
    expect(empty).toHaveTextContent(en().emptyTitle);
    await fireEvent.click(within(empty).getByTestId('broadcasts-new-empty'));
    expect(await screen.findByTestId('broadcast-composer')).toHaveAttribute('data-step', 'compose');
  });

  it('a list that cannot be read says why and tries again', async () => {
    const backend = backendWith();
    backend.failNext.set('broadcasts', new BackendError('network', 'the relay cannot be reached'));
    await open(backend);
    expect(await screen.findByTestId('broadcasts-load-error')).toHaveTextContent(i18n.m.errors.codes.network);
    await fireEvent.click(screen.getByTestId('broadcasts-retry'));
    await screen.findByTestId('broadcasts-empty');
  });

  it('previewing an empty form marks what is missing and asks the relay nothing', async () => {
    const backend = backendWith(customers(3));
    await open(backend);
    await fireEvent.click(await screen.findByTestId('broadcasts-tab-compose'));
    await screen.findByTestId('broadcast-template');
    await fireEvent.click(screen.getByTestId('broadcast-preview'));
    const composer = screen.getByTestId('broadcast-composer');
    expect(composer).toHaveTextContent(en().compose.problems.name);
    expect(composer).toHaveTextContent(en().compose.problems.audience);
    expect(composer).toHaveTextContent(en().compose.problems.template);
    expect(screen.getByTestId('broadcast-name-input')).toHaveAttribute('aria-invalid', 'true');
    expect(backend.called('previewBroadcast')).toHaveLength(0);
  });

  it('compose → preview → confirm → send, then live progress to completion with results', async () => {
    const list = customers(7);
    list[2].optedOut = true;
    const backend = backendWith(list);
    await open(backend);
    await compose();
    // {{1}} is the customer's name unless changed.
    const kinds = screen.getAllByTestId('broadcast-param-kind') as HTMLSelectElement[];
    expect(kinds.map((k) => k.value)).toEqual(['contact_name', 'text']);

    await fireEvent.keyDown(screen.getByTestId('broadcast-name-input'), { key: 'Enter', ctrlKey: true });
    await screen.findByTestId('broadcast-preview-step');
    expect(lastDraft(backend, 'previewBroadcast')).toEqual({
      name: 'November sale',
      audience: { label: 'vip', attribute: null },
      template: {
        name: 'order_update',
        language: 'en_US',
        header_params: [],
        body_params: [{ kind: 'contact_name' }, { kind: 'text', value: 'NOV-20' }],
      },
      scheduled_at: null,
    });
    expect(screen.getByTestId('preview-total')).toHaveTextContent('7');
    expect(screen.getByTestId('preview-opted-out')).toHaveTextContent('1');
    expect(screen.getByTestId('preview-reach')).toHaveTextContent('6');
    expect(screen.getByTestId('preview-days')).toHaveTextContent(en().preview.daysOne);
    const samples = screen.getAllByTestId('preview-sample');
    expect(samples).toHaveLength(5);
    expect(samples[0]).toHaveTextContent('Hi Customer 0, your order NOV-20 has shipped.');
    expect(samples.map((s) => s.dataset.waId)).not.toContain(list[2].wa_id);

    // Send asks first; No goes back to the button, nothing created.
    await fireEvent.click(screen.getByTestId('broadcast-send'));
    expect(screen.getByTestId('broadcast-confirm')).toHaveTextContent('Send “November sale” to 6 customers now?');
    await fireEvent.click(screen.getByTestId('broadcast-confirm-no'));
    expect(backend.called('createBroadcast')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('broadcast-send'));
    await fireEvent.click(screen.getByTestId('broadcast-confirm-yes'));

    const detail = await screen.findByTestId('broadcast-detail');
    expect(screen.getByTestId('broadcast-created')).toHaveTextContent('Broadcast “November sale” created.');
    expect(lastDraft(backend, 'createBroadcast')).toEqual(lastDraft(backend, 'previewBroadcast'));
    const id = backend.called('createBroadcast')[0].args[0] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(detail).toHaveAttribute('data-state', 'sending');
    expect(within(detail).getByTestId('broadcast-progress-text')).toHaveTextContent('1 of 7 done');
    await waitFor(() => expect(screen.getAllByTestId('recipient-row')).toHaveLength(7));

    // The relay's worker moves on; each broadcast.changed redraws the bar.
    backend.emit('broadcastChanged', backend.bcast.step(id, 6, { [list[4].wa_id]: 'Message undeliverable (131026)' }));
    await waitFor(() => expect(within(detail).getByTestId('broadcast-progress-text')).toHaveTextContent('7 of 7 done'));
    backend.emit('broadcastChanged', backend.bcast.step(id, 5));
    await waitFor(() => expect(screen.getByTestId('broadcast-detail')).toHaveAttribute('data-state', 'completed'));
    const legend = screen.getByTestId('broadcast-counts');
    expect(within(legend).getByText('Delivered').previousElementSibling).toHaveTextContent('5');
    expect(within(legend).getByText('Failed').previousElementSibling).toHaveTextContent('1');
    expect(within(legend).getByText('Opted out').previousElementSibling).toHaveTextContent('1');
    expect(screen.queryByTestId('broadcast-cancel')).toBeNull();

    // Results: the failed one in plain words, found with the filter.
    await pick('recipient-filter', 'failed');
    await waitFor(() => expect(screen.getAllByTestId('recipient-row')).toHaveLength(1));
    expect(screen.getByTestId('recipient-reason')).toHaveTextContent(en().whatsappErrors['131026']);
    expect(screen.getByTestId('recipient-reason')).toHaveAttribute('title', 'Message undeliverable (131026)');

    // Back to the list: the broadcast with its final state; Escape also leaves a detail.
    await fireEvent.click(screen.getByTestId('broadcast-back'));
    const row = screen.getByTestId('broadcast-row');
    expect(row).toHaveAttribute('data-state', 'completed');
    expect(row).toHaveTextContent('label “vip”');
    expect(row).toHaveTextContent('By Olga');
    await fireEvent.click(row);
    await screen.findByTestId('broadcast-detail');
    await fireEvent.keyDown(document.body, { key: 'Escape' });
    await screen.findByTestId('broadcast-list');
  }, 20_000);

  it('a lost answer to Send is retried with the same key, so only one broadcast is made', async () => {
    const backend = backendWith(customers(3));
    await open(backend);
    await compose();
    await fireEvent.click(screen.getByTestId('broadcast-preview'));
    await screen.findByTestId('broadcast-preview-step');
    backend.failNext.set('createBroadcast', new BackendError('network', 'the relay cannot be reached'));
    await fireEvent.click(screen.getByTestId('broadcast-send'));
    await fireEvent.click(screen.getByTestId('broadcast-confirm-yes'));
    expect(await screen.findByTestId('broadcast-create-error')).toHaveTextContent(i18n.m.errors.codes.network);
    await fireEvent.click(screen.getByTestId('broadcast-send'));
    await fireEvent.click(screen.getByTestId('broadcast-confirm-yes'));
    await screen.findByTestId('broadcast-detail');
    const keys = backend.called('createBroadcast').map((c) => c.args[0]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(backend.bcast.list()).toHaveLength(1);
  }, 20_000);

  it('the relay’s problems block sending and say why; editing goes back with the form kept', async () => {
    const list = customers(2);
    for (const c of list) c.optedOut = true;
    const backend = backendWith(list);
    await open(backend);
    await compose();
    await fireEvent.click(screen.getByTestId('broadcast-preview'));
    expect(await screen.findByTestId('preview-problems')).toHaveTextContent('Everyone in this audience has opted out.');
    expect(screen.getByTestId('broadcast-send')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('broadcast-edit'));
    expect(screen.getByTestId('broadcast-name-input')).toHaveValue('November sale');
  });

  it('an attribute condition and a later start in the team’s zone', async () => {
    const backend = backendWith(customers(8));
    await open(backend);
    await compose('VIP spenders');
    await fireEvent.click(screen.getByTestId('broadcast-use-attribute'));
    await fireEvent.input(screen.getByTestId('broadcast-attr-key'), { target: { value: 'monthly_spend' } });
    await pick('broadcast-attr-op', 'gte');
    await fireEvent.input(screen.getByTestId('broadcast-attr-value'), { target: { value: '500' } });
    // The second value comes from an attribute with a fallback.
    const second = screen.getAllByTestId('broadcast-param-kind')[1];
    await fireEvent.change(second, { target: { value: 'attribute' } });
    await fireEvent.input(screen.getByTestId('broadcast-param-key'), { target: { value: 'order' } });
    await fireEvent.input(screen.getByTestId('broadcast-param-fallback'), { target: { value: 'your last order' } });
    await fireEvent.click(screen.getByTestId('broadcast-when-later'));
    await fireEvent.input(screen.getByTestId('broadcast-at'), { target: { value: '2099-11-21T10:00' } });
    await waitFor(() => expect(screen.getByTestId('broadcast-composer')).toHaveTextContent('Europe/Madrid'));
    await fireEvent.click(screen.getByTestId('broadcast-preview'));
    await screen.findByTestId('broadcast-preview-step');
    const draft = lastDraft(backend, 'previewBroadcast');
    expect(draft.audience).toEqual({ label: 'vip', attribute: { key: 'monthly_spend', op: 'gte', value: 500 } });
    expect(draft.template.body_params[1]).toEqual({ kind: 'attribute', key: 'order', fallback: 'your last order' });
    expect(draft.scheduled_at).toBe('2099-11-21T09:00:00.000Z');
    expect(screen.getByTestId('preview-total')).toHaveTextContent('3');
    expect(screen.getAllByTestId('preview-sample-text')[0]).toHaveTextContent('your order your last order has shipped');
    expect(screen.getByTestId('broadcast-send')).toHaveTextContent('Schedule for');
    await fireEvent.click(screen.getByTestId('broadcast-send'));
    await fireEvent.click(screen.getByTestId('broadcast-confirm-yes'));
    expect(await screen.findByTestId('broadcast-detail')).toHaveAttribute('data-state', 'scheduled');
  }, 20_000);

  it('Cancel asks first, then the waiting recipients are cancelled', async () => {
    const backend = backendWith(customers(5));
    const summary = backend.bcast.create('b-1', {
      name: 'Spring',
      audience: { label: 'vip', attribute: null },
      template: { name: 'order_update', language: 'en_US', header_params: [], body_params: [{ kind: 'contact_name' }, { kind: 'text', value: 'x' }] },
      scheduled_at: null,
    });
    backend.bcast.step(summary.id, 2);
    backend.bcast.wait(summary.id, 'Today’s limit of 50 is used; continues tomorrow.');
    await open(backend);
    const row = await screen.findByTestId('broadcast-row');
    expect(row).toHaveTextContent('Continues tomorrow');
    expect(within(row).getByTestId('broadcast-note')).toHaveTextContent('continues tomorrow');
    await fireEvent.click(row);
    await fireEvent.click(await screen.findByTestId('broadcast-cancel'));
    expect(screen.getByTestId('broadcast-cancel-confirm')).toHaveTextContent('The 3 customers still waiting will not receive it.');
    await fireEvent.click(screen.getByTestId('broadcast-cancel-yes'));
    await waitFor(() => expect(screen.getByTestId('broadcast-detail')).toHaveAttribute('data-state', 'cancelled'));
    expect(backend.called('cancelBroadcast')).toHaveLength(1);
    await waitFor(() =>
      expect(screen.getAllByTestId('recipient-row').filter((r) => r.dataset.state === 'cancelled')).toHaveLength(3),
    );
  });

  it('recipients come a page at a time, forward and back', async () => {
    const backend = backendWith(customers(120));
    const s = backend.bcast.create('b-2', {
      name: 'Big',
      audience: { label: 'vip', attribute: null },
      template: { name: 'hello_world', language: 'en_US', header_params: [], body_params: [] },
      scheduled_at: null,
    });
    await open(backend);
    await fireEvent.click(await screen.findByTestId('broadcast-row'));
    await waitFor(() => expect(screen.getAllByTestId('recipient-row')).toHaveLength(50));
    expect(screen.getByTestId('recipients-prev')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('recipients-next'));
    await waitFor(() => expect(screen.getByTestId('recipients-page')).toHaveTextContent('Page 2'));
    expect(screen.getAllByTestId('recipient-row')[0]).toHaveAttribute('data-wa-id', '34600000050');
    await fireEvent.click(screen.getByTestId('recipients-next'));
    await waitFor(() => expect(screen.getAllByTestId('recipient-row')).toHaveLength(20));
    expect(screen.getByTestId('recipients-next')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('recipients-prev'));
    await waitFor(() => expect(screen.getByTestId('recipients-page')).toHaveTextContent('Page 2'));
    expect(screen.getAllByTestId('recipient-row')[0]).toHaveAttribute('data-wa-id', '34600000050');
    expect(backend.called('broadcastRecipients').every((c) => c.args[0] === s.id && c.args[2] === 50)).toBe(true);
  }, 20_000);

  it('a broadcast made on another device appears from its event', async () => {
    const backend = backendWith(customers(2));
    await open(backend);
    await screen.findByTestId('broadcasts-empty');
    const made = backend.bcast.create('b-3', {
      name: 'From Ana',
      audience: { label: 'vip', attribute: null },
      template: { name: 'hello_world', language: 'en_US', header_params: [], body_params: [] },
      scheduled_at: null,
    });
    backend.emit('broadcastChanged', { ...made, created_by_name: 'Ana' });
    expect(await screen.findByTestId('broadcast-row')).toHaveTextContent('From Ana');
  });
});

describe('Broadcasts › Daily limit', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('shows today’s cap after a bad day, explains the halving, and saves new limits', async () => {
    const backend = backendWith();
    backend.bcast.history = [
      { date: '2026-11-20', attempted: 50, failed: 8, blocked: 1 },
      { date: '2026-11-19', attempted: 40, failed: 1, blocked: 0 },
    ];
    backend.bcast.sentToday = 7;
    await open(backend);
    await fireEvent.click(await screen.findByTestId('broadcasts-tab-settings'));
    expect(await screen.findByTestId('limits-today-value')).toHaveTextContent('7 of 25 sent');
    expect(screen.getByTestId('limits-reduced')).toHaveTextContent('Today’s cap is 25 instead of 50');
    expect(screen.getByTestId('limits-halving')).toHaveTextContent('more than 15% of a day’s sends fail or are blocked, the next day’s cap is halved');
    const days = screen.getAllByTestId('limits-day');
    expect(days.map((d) => d.dataset.date)).toEqual(['2026-11-20', '2026-11-19']);
    expect(within(days[0]).getByTestId('limits-bad-day')).toBeInTheDocument();
    expect(days[0]).toHaveTextContent('18%');
    expect(within(days[1]).queryByTestId('limits-bad-day')).toBeNull();

    expect(screen.getByTestId('limits-save')).toBeDisabled();
    await fireEvent.input(screen.getByTestId('limits-daily-cap'), { target: { value: '0' } });
    await fireEvent.submit(screen.getByTestId('limits-form'));
    expect(screen.getByTestId('broadcast-limits')).toHaveTextContent(en().settings.problems.dailyCap);
    expect(backend.called('saveBroadcastSettings')).toHaveLength(0);

    await fireEvent.input(screen.getByTestId('limits-daily-cap'), { target: { value: '80' } });
    await fireEvent.input(screen.getByTestId('limits-opt-out'), { target: { value: 'STOP, СТОП, 退订, unsubscribe' } });
    expect(screen.getByTestId('limits-unsaved')).toBeInTheDocument();
    await fireEvent.submit(screen.getByTestId('limits-form'));
    await screen.findByTestId('limits-saved');
    expect(backend.called('saveBroadcastSettings')[0].args[0]).toEqual({
      daily_cap: 80,
      max_failure_percent: 15,
      interval_secs: 2,
      opt_out_keywords: ['STOP', 'СТОП', '退订', 'unsubscribe'],
    });
    expect(screen.getByTestId('limits-today-value')).toHaveTextContent('7 of 40 sent');
  });

  it('no sends in two weeks: says so', async () => {
    const backend = backendWith();
    await open(backend);
    await fireEvent.click(await screen.findByTestId('broadcasts-tab-settings'));
    expect(await screen.findByTestId('limits-history-empty')).toHaveTextContent(en().settings.historyEmpty);
    expect(screen.queryByTestId('limits-reduced')).toBeNull();
  });
});

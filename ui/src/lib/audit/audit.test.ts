import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import type { AuditFilter } from '../bindings/AuditFilter';
import type { AuditVerification } from '../bindings/AuditVerification';
import { i18n } from '../i18n/index.svelte';
import { PERMISSIONS } from '../permissions';
import {
  advice,
  alertView,
  auditEntry,
  device,
  DEVICE_ID,
  FakeBackend,
  info,
  ME_ID,
  me,
  member,
} from '../test/fakeBackend';

/** A team with names for the log: Olga (this device's member), Ana and Boris. */
function team(): FakeBackend {
  const backend = new FakeBackend();
  backend.members = [
    member({ id: ME_ID, name: 'Olga', preset: 'admin', permissions: [...PERMISSIONS] }),
    member({ id: 'm-ana', name: 'Ana' }),
    member({ id: 'm-boris', name: 'Boris', permissions: ['reply', 'delete_history', 'send_broadcasts'] }),
  ];
  backend.devices = [device({ id: DEVICE_ID, name: 'Front desk' }), device({ id: 'd-laptop', name: 'Shift laptop' })];
  return backend;
}

async function openAudit(backend: FakeBackend) {
  render(App, { info, backend });
  await waitFor(() => expect(backend.called('session')).not.toHaveLength(0));
  await fireEvent.keyDown(window, { key: '6', code: 'Digit6', altKey: true });
  expect(screen.getByTestId('section-title')).toHaveTextContent(i18n.m.nav.audit);
}

async function enterPin(pin: string) {
  const input = await screen.findByTestId('pin-input');
  await fireEvent.input(input, { target: { value: pin } });
  await fireEvent.click(screen.getByTestId('pin-submit'));
}

function lastFilter(backend: FakeBackend): AuditFilter {
  const calls = backend.called('auditPage');
  return calls[calls.length - 1].args[0] as AuditFilter;
}

const intact = (extra: Partial<AuditVerification> = {}): AuditVerification => ({
  ok: true,
  checked: 3,
  head_seq: 3,
  head_count: 3,
  head_mac: 'ab',
  first_broken: null,
  checkpoint: null,
  rolled_back: null,
  ...extra,
});

describe('Audit › Log', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('names automation, broadcast and quick-reply changes in plain words', async () => {
    const backend = team();
    backend.audit = [
      auditEntry({ seq: 1, kind: 'audit.broadcast_created', target: { broadcast_id: 'b-1', name: 'November sale' } }),
      auditEntry({ seq: 2, kind: 'audit.broadcast_cancelled' }),
      auditEntry({ seq: 3, kind: 'audit.automation_updated' }),
      auditEntry({ seq: 4, kind: 'audit.quick_reply_deleted' }),
    ];
    await openAudit(backend);
    const actions = (await screen.findAllByTestId('audit-action')).map((a) => a.textContent?.trim());
    expect(actions).toEqual(['Deleted a quick reply', 'Changed the automation', 'Cancelled a broadcast', 'Started a broadcast']);
  });

  it('lists entries newest first: time, who, device, address and the action in plain words', async () => {
    const backend = team();
    backend.audit = [
      auditEntry({ seq: 1, kind: 'audit.pairing_failed', actor_member_id: null, device_id: null, address: '203.0.113.9', before: null, after: { reason: 'expired', name: 'Eve PC', os: 'windows' } }),
      auditEntry({ seq: 2, kind: 'audit.member_updated', actor_member_id: ME_ID, device_id: DEVICE_ID }),
      auditEntry({ seq: 3, kind: 'audit.entries_expired', actor_member_id: null, device_id: null, address: null, target: null, before: null, after: null }),
      auditEntry({ seq: 4, kind: 'audit.something_new', actor_member_id: 'm-boris', device_id: 'd-laptop' }),
    ];
    await openAudit(backend);
    const rows = await screen.findAllByTestId('audit-row');
    expect(rows.map((r) => r.dataset.seq)).toEqual(['4', '3', '2', '1']);

    // An unknown kind falls back to the kind itself.
    expect(within(rows[0]).getByTestId('audit-action')).toHaveTextContent('audit.something_new');
    expect(within(rows[0]).getByTestId('audit-actor')).toHaveTextContent('Boris');
    expect(within(rows[0]).getByTestId('audit-device')).toHaveTextContent('Shift laptop');

    expect(within(rows[1]).getByTestId('audit-action')).toHaveTextContent('Removed old entries (retention)');
    expect(within(rows[1]).getByTestId('audit-actor')).toHaveTextContent('Relay');
    expect(within(rows[1]).queryByTestId('audit-device')).toBeNull();

    expect(within(rows[2]).getByTestId('audit-action')).toHaveTextContent('Changed a member');
    expect(within(rows[2]).getByTestId('audit-subject')).toHaveTextContent('Ana');
    expect(within(rows[2]).getByTestId('audit-actor')).toHaveTextContent('Olga');
    expect(within(rows[2]).getByTestId('audit-device')).toHaveTextContent('Front desk');
    expect(within(rows[2]).getByTestId('audit-address')).toHaveTextContent('from 192.0.2.10');
    const when = new Date(backend.audit[1].created_at).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'medium' });
    expect(within(rows[2]).getByTestId('audit-time')).toHaveTextContent(when);

    expect(within(rows[3]).getByTestId('audit-action')).toHaveTextContent('A pairing attempt failed');
    expect(within(rows[3]).getByTestId('audit-actor')).toHaveTextContent('Pairing');
    expect(within(rows[3]).getByTestId('audit-address')).toHaveTextContent('203.0.113.9');
  });

  it('shows only the changed fields, on demand', async () => {
    const backend = team();
    backend.audit = [
      auditEntry({
        seq: 7,
        before: { name: 'Ana', permissions: ['reply', 'export_history'], active: true, has_pin: true },
        after: { name: 'Ana', permissions: ['reply', 'apply_labels'], active: true, has_pin: false },
      }),
    ];
    await openAudit(backend);
    const row = await screen.findByTestId('audit-row');
    expect(within(row).queryByTestId('audit-diff')).toBeNull();
    const toggle = within(row).getByTestId('audit-diff-toggle');
    expect(toggle).toHaveTextContent('Show changes (2)');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await fireEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const fields = within(within(row).getByTestId('audit-diff')).getAllByTestId('audit-diff-field');
    expect(fields.map((f) => f.dataset.field)).toEqual(['has_pin', 'permissions']);
    expect(fields[0]).toHaveTextContent('PIN set');
    expect(fields[0]).toHaveTextContent('yes');
    expect(fields[0]).toHaveTextContent('no');
    expect(fields[1]).toHaveTextContent('Reply, Export history');
    expect(fields[1]).toHaveTextContent('Added: Apply labels');
    expect(fields[1]).toHaveTextContent('Removed: Export history');
    await fireEvent.click(toggle);
    expect(within(row).queryByTestId('audit-diff')).toBeNull();
  });

  it('an entry without changes has no diff button', async () => {
    const backend = team();
    backend.audit = [auditEntry({ kind: 'audit.session_signed_in', before: null, after: null })];
    await openAudit(backend);
    const row = await screen.findByTestId('audit-row');
    expect(row).toHaveTextContent('Signed in');
    expect(within(row).queryByTestId('audit-diff-toggle')).toBeNull();
  });

  it('each filter asks the relay again with the right filter', async () => {
    const backend = team();
    backend.audit = [auditEntry({ seq: 1 })];
    await openAudit(backend);
    await screen.findByTestId('audit-row');
    expect(lastFilter(backend)).toEqual({ limit: 50 });

    const memberSelect = screen.getByTestId('audit-filter-member');
    await waitFor(() => expect(within(memberSelect).getByRole('option', { name: 'Boris' })).toBeInTheDocument());
    await fireEvent.change(memberSelect, { target: { value: 'm-boris' } });
    await waitFor(() => expect(lastFilter(backend)).toEqual({ member: 'm-boris', limit: 50 }));
    // Boris made no change: the list says so.
    expect(await screen.findByTestId('audit-empty')).toHaveTextContent('No entries match these filters.');

    await fireEvent.change(screen.getByTestId('audit-filter-device'), { target: { value: 'd-laptop' } });
    await waitFor(() => expect(lastFilter(backend)).toEqual({ member: 'm-boris', device: 'd-laptop', limit: 50 }));

    const action = screen.getByTestId('audit-filter-action');
    expect(within(action).getByRole('option', { name: 'Permission templates' })).toHaveValue('template');
    await fireEvent.change(action, { target: { value: 'template' } });
    await waitFor(() => expect(lastFilter(backend).action).toBe('template'));

    await fireEvent.input(screen.getByTestId('audit-filter-from'), { target: { value: '2030-03-01' } });
    await fireEvent.input(screen.getByTestId('audit-filter-to'), { target: { value: '2030-03-31' } });
    await waitFor(() =>
      expect(lastFilter(backend)).toEqual({
        member: 'm-boris',
        device: 'd-laptop',
        action: 'template',
        from: new Date(2030, 2, 1).toISOString(),
        to: new Date(2030, 3, 1).toISOString(),
        limit: 50,
      }),
    );

    await fireEvent.click(screen.getByTestId('audit-filter-clear'));
    await waitFor(() => expect(lastFilter(backend)).toEqual({ limit: 50 }));
    expect(await screen.findByTestId('audit-row')).toBeInTheDocument();
    expect(screen.getByTestId('audit-filter-member')).toHaveValue('');
  });

  it('a "to" date before the "from" date is explained and not sent', async () => {
    const backend = team();
    await openAudit(backend);
    await screen.findByTestId('audit-empty');
    await fireEvent.input(screen.getByTestId('audit-filter-from'), { target: { value: '2030-03-10' } });
    await waitFor(() => expect(lastFilter(backend).from).toBeDefined());
    const before = backend.called('auditPage').length;
    await fireEvent.input(screen.getByTestId('audit-filter-to'), { target: { value: '2030-03-01' } });
    expect(await screen.findByTestId('audit-filter-problem')).toHaveTextContent('The “to” date is before the “from” date.');
    expect(screen.getByTestId('audit-filter-to')).toHaveAttribute('aria-invalid', 'true');
    expect(backend.called('auditPage')).toHaveLength(before);
  });

  it('pages back with "Load older" until the beginning, keeping the filter', async () => {
    const backend = team();
    backend.audit = Array.from({ length: 120 }, (_, i) => auditEntry({ seq: i + 1, kind: 'audit.device_updated' }));
    await openAudit(backend);
    await fireEvent.change(screen.getByTestId('audit-filter-action'), { target: { value: 'device' } });
    await waitFor(() => expect(lastFilter(backend)).toEqual({ action: 'device', limit: 50 }));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(50));
    expect(screen.getAllByTestId('audit-row')[0].dataset.seq).toBe('120');

    await fireEvent.click(screen.getByTestId('audit-load-older'));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(100));
    expect(lastFilter(backend)).toEqual({ action: 'device', before: 71, limit: 50 });
    // The keyboard continues at the first entry that arrived.
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByTestId('audit-row')[50]));
    expect(screen.getAllByTestId('audit-row')[50].dataset.seq).toBe('70');

    await fireEvent.click(screen.getByTestId('audit-load-older'));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(120));
    expect(lastFilter(backend).before).toBe(21);
    expect(screen.queryByTestId('audit-load-older')).toBeNull();
    expect(screen.getByTestId('audit-end')).toHaveTextContent('Beginning of the log.');
  });

  it('a failed read says why and offers to try again', async () => {
    const backend = team();
    backend.audit = [auditEntry()];
    const { BackendError } = await import('../backend');
    backend.failNext.set('auditPage', new BackendError('network', 'offline'));
    await openAudit(backend);
    const failure = await screen.findByTestId('audit-error');
    expect(failure).toHaveTextContent('The relay cannot be reached.');
    await fireEvent.click(within(failure).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('audit-row')).toBeInTheDocument();
  });
});

describe('Audit › chain status', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('starts unknown, shows progress while verifying, then says the chain is intact', async () => {
    const backend = team();
    backend.audit = [auditEntry({ seq: 1 }), auditEntry({ seq: 2 }), auditEntry({ seq: 3 })];
    let release = () => {};
    backend.verifyGate = new Promise<void>((resolve) => (release = resolve));
    await openAudit(backend);
    const status = await screen.findByTestId('audit-chain-status');
    expect(status).toHaveAttribute('data-state', 'unknown');
    expect(status).toHaveTextContent('Not verified yet');

    await fireEvent.click(screen.getByTestId('audit-verify'));
    expect(screen.getByTestId('audit-verify')).toHaveAttribute('aria-disabled', 'true');
    // A second press while it runs asks nothing more.
    await fireEvent.click(screen.getByTestId('audit-verify'));
    expect(backend.called('verifyAudit')).toHaveLength(1);
    expect(screen.getByTestId('audit-verify')).toHaveTextContent('Verifying the chain…');
    expect(screen.getByTestId('audit-verify-progress')).toBeInTheDocument();

    release();
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'intact'));
    expect(status).toHaveTextContent('Chain intact: 3 entries, head #3 verified.');
    await waitFor(() => expect(screen.getByTestId('audit-verify')).toHaveAttribute('aria-disabled', 'false'));
    expect(screen.queryByTestId('audit-verify-progress')).toBeNull();
  });

  it('mentions entries removed by retention', async () => {
    const backend = team();
    backend.verification = intact({
      checked: 40,
      head_seq: 900,
      checkpoint: { seq: 900, count: 140, head_mac: 'ab', cut_count: 100, cut_seq: 700 },
    });
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-verify'));
    const status = screen.getByTestId('audit-chain-status');
    await waitFor(() => expect(status).toHaveTextContent('Chain intact: 40 entries, head #900 verified.'));
    expect(status).toHaveTextContent('The 100 oldest entries were removed by retention');
  });

  it('a broken chain names the first broken entry and why', async () => {
    const backend = team();
    backend.verification = intact({
      ok: false,
      checked: 5,
      first_broken: { seq: 41, reason: 'entry 41: MAC does not match', code: 'mac_mismatch' },
    });
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-verify'));
    const status = screen.getByTestId('audit-chain-status');
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'broken'));
    const alert = within(status).getByRole('alert');
    expect(alert).toHaveTextContent('Chain broken at entry #41: its seal does not match its content (it was edited).');
  });

  it('an unknown break code shows the relay’s reason', async () => {
    const backend = team();
    backend.verification = intact({ ok: false, first_broken: { seq: 8, reason: 'something new went wrong', code: 'future_code' } });
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-verify'));
    await waitFor(() =>
      expect(screen.getByTestId('audit-chain-status')).toHaveTextContent('Chain broken at entry #8: something new went wrong.'),
    );
  });

  it('a log that went back is a prominent security warning', async () => {
    const backend = team();
    backend.verification = intact({
      rolled_back: {
        code: 'head_behind',
        message: 'The relay’s audit log went back: it has 3 entries, this device verified 5 before.',
        remembered: { seq: 12, count: 5, mac: 'cd' },
      },
    });
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-verify'));
    const status = screen.getByTestId('audit-chain-status');
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'rolled_back'));
    const alert = within(status).getByRole('alert');
    expect(alert).toHaveTextContent('Security warning: the audit log went back');
    expect(alert).toHaveTextContent('It may have been restored from an old copy.');
    expect(alert).toHaveTextContent('this device verified 5 before');
    expect(alert).toHaveTextContent('This device last verified entry #12 (5 entries).');
  });

  it('a failed verification says why and stays unknown', async () => {
    const backend = team();
    const { BackendError } = await import('../backend');
    backend.failNext.set('verifyAudit', new BackendError('network', 'offline'));
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-verify'));
    expect(await screen.findByTestId('audit-verify-error')).toHaveTextContent('The relay cannot be reached.');
    expect(screen.getByTestId('audit-chain-status')).toHaveAttribute('data-state', 'unknown');
  });
});

describe('Audit › export', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('is not offered without the export permission', async () => {
    const backend = team();
    backend.session_.me = me(PERMISSIONS.filter((p) => p !== 'export_history'));
    backend.audit = [auditEntry()];
    await openAudit(backend);
    await screen.findByTestId('audit-row');
    expect(screen.queryByTestId('audit-export-csv')).toBeNull();
    expect(screen.queryByTestId('audit-export-json')).toBeNull();
  });

  it('asks for the PIN, refuses a wrong one, then says where the file was saved', async () => {
    const backend = team();
    backend.audit = [auditEntry()];
    await openAudit(backend);
    await screen.findByTestId('audit-row');
    await fireEvent.change(screen.getByTestId('audit-filter-action'), { target: { value: 'member' } });
    await fireEvent.click(screen.getByTestId('audit-export-csv'));
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Export the audit log as CSV');
    expect(backend.called('exportAudit')).toHaveLength(0);

    await enterPin('111111');
    expect(await screen.findByTestId('pin-error')).toHaveTextContent('Wrong PIN. Attempts left before a 15-minute lock: 4');
    expect(screen.queryByTestId('audit-export-done')).toBeNull();

    await enterPin('246810');
    expect(await screen.findByTestId('audit-export-done')).toHaveTextContent(
      'Saved to /home/olga/Downloads/teamline-audit-2.csv',
    );
    expect(screen.queryByTestId('pin-dialog')).toBeNull();
    expect(backend.called('exportAudit')[1].args).toEqual(['csv', { action: 'member' }, '246810']);
  });

  it('exports JSON too, and a cancelled PIN exports nothing', async () => {
    const backend = team();
    await openAudit(backend);
    await fireEvent.click(await screen.findByTestId('audit-export-json'));
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Export the audit log as JSON');
    await fireEvent.click(within(screen.getByTestId('pin-dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('pin-dialog')).toBeNull();
    expect(backend.called('exportAudit')).toHaveLength(0);
    expect(screen.queryByTestId('audit-export-done')).toBeNull();

    await fireEvent.click(screen.getByTestId('audit-export-json'));
    await enterPin('246810');
    expect(await screen.findByTestId('audit-export-done')).toHaveTextContent('teamline-audit-1.json');
  });
});

describe('Audit › alerts', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  async function openAlerts(backend: FakeBackend) {
    await openAudit(backend);
    await fireEvent.click(screen.getByTestId('audit-tab-alerts'));
  }

  it('lists open alerts with their rule, the relay’s summary and time', async () => {
    const backend = team();
    backend.alertList = [
      alertView({ rule: 'night_sign_in', summary: 'Ana signed in on Front desk at 03:40 (Europe/Madrid time), between 03:00 and 05:00.' }),
      // Older than the first (the list is newest first): two made in the same test may
      // otherwise be a millisecond apart either way.
      alertView({ rule: 'future_rule', summary: 'Something new.', raised_at: new Date(Date.now() - 15 * 60_000).toISOString() }),
    ];
    await openAlerts(backend);
    const rows = await screen.findAllByTestId('alert-row');
    expect(rows.map((r) => r.dataset.rule)).toEqual(['night_sign_in', 'future_rule']);
    expect(rows[0]).toHaveTextContent('Sign-in at night');
    expect(rows[0]).toHaveTextContent('Ana signed in on Front desk at 03:40');
    expect(rows[0]).toHaveTextContent('10 min. ago');
    expect(rows[1]).toHaveTextContent('future_rule');
    expect(backend.called('alerts')[0].args).toEqual([true, undefined]);
  });

  it('acknowledging needs a comment, then the PIN; the row turns acknowledged', async () => {
    const backend = team();
    const burst = alertView();
    backend.alertList = [burst];
    await openAlerts(backend);
    const row = await screen.findByTestId('alert-row');
    expect(row).toHaveAttribute('data-acknowledged', 'false');
    await fireEvent.click(within(row).getByTestId('alert-ack'));
    const comment = within(row).getByTestId('alert-ack-comment');
    expect(document.activeElement).toBe(comment);

    // No comment: explained, no PIN asked.
    await fireEvent.input(comment, { target: { value: '   ' } });
    await fireEvent.click(within(row).getByTestId('alert-ack-submit'));
    expect(within(row).getByTestId('alert-ack-problem')).toHaveTextContent('the comment is required');
    expect(comment).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('pin-dialog')).toBeNull();

    await fireEvent.input(comment, { target: { value: 'Boris changed them at my request' } });
    await fireEvent.click(within(row).getByTestId('alert-ack-submit'));
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Acknowledge “Many permission changes from one address”');
    await enterPin('000000');
    expect(await screen.findByTestId('pin-error')).toHaveTextContent('Wrong PIN');
    await enterPin('246810');
    await waitFor(() => expect(screen.getByTestId('alert-row')).toHaveAttribute('data-acknowledged', 'true'));
    const acked = within(screen.getByTestId('alert-row')).getByTestId('alert-acked');
    expect(acked).toHaveTextContent('Acknowledged by Olga');
    expect(acked).toHaveTextContent('Boris changed them at my request');
    await waitFor(() => expect(document.activeElement).toBe(acked));
    expect(within(screen.getByTestId('alert-row')).queryByTestId('alert-ack')).toBeNull();
    expect(backend.called('acknowledgeAlert').map((c) => c.args)).toEqual([
      [burst.id, 'Boris changed them at my request', '000000'],
      [burst.id, 'Boris changed them at my request', '246810'],
    ]);
  });

  it('cancelling the comment form gives the button back', async () => {
    const backend = team();
    backend.alertList = [alertView()];
    await openAlerts(backend);
    const row = await screen.findByTestId('alert-row');
    await fireEvent.click(within(row).getByTestId('alert-ack'));
    await fireEvent.click(within(row).getByRole('button', { name: 'Cancel' }));
    expect(within(row).queryByTestId('alert-ack-comment')).toBeNull();
    expect(document.activeElement).toBe(within(row).getByTestId('alert-ack'));
  });

  it('"All" also shows acknowledged alerts with who, when and why', async () => {
    const backend = team();
    backend.alertList = [
      alertView({ rule: 'device_idle', summary: 'The device “Till 2” has not been seen for 9 days.' }),
      alertView({
        rule: 'new_device_os',
        raised_at: new Date(Date.now() - 86_400_000).toISOString(),
        acknowledged: { by: 'm-ana', at: new Date().toISOString(), comment: 'Our new Mac' },
      }),
    ];
    await openAlerts(backend);
    await waitFor(() => expect(screen.getAllByTestId('alert-row')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('alert-filter-all'));
    await waitFor(() => expect(screen.getAllByTestId('alert-row')).toHaveLength(2));
    expect(backend.called('alerts').map((c) => c.args[0])).toEqual([true, false]);
    const acked = screen.getAllByTestId('alert-row')[1];
    expect(within(acked).getByTestId('alert-acked')).toHaveTextContent('Acknowledged by Ana');
    expect(within(acked).getByTestId('alert-acked')).toHaveTextContent('Our new Mac');
  });

  it('says when nothing is open', async () => {
    const backend = team();
    await openAlerts(backend);
    expect(await screen.findByTestId('alerts-empty')).toHaveTextContent('No open alerts');
  });

  it('pages back through older alerts', async () => {
    const backend = team();
    backend.alertPageSize = 2;
    backend.alertList = [0, 1, 2].map((i) => alertView({ raised_at: new Date(Date.now() - (i + 1) * 60_000).toISOString() }));
    await openAlerts(backend);
    await waitFor(() => expect(screen.getAllByTestId('alert-row')).toHaveLength(2));
    await fireEvent.click(screen.getByTestId('alerts-load-older'));
    await waitFor(() => expect(screen.getAllByTestId('alert-row')).toHaveLength(3));
    expect(backend.called('alerts')[1].args).toEqual([true, backend.alertList[1].id]);
  });
});

describe('Audit › thresholds', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  async function openThresholds(backend: FakeBackend) {
    await openAudit(backend);
    await fireEvent.click(screen.getByTestId('audit-tab-alerts'));
    const toggle = await screen.findByTestId('thresholds-toggle');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await fireEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    return screen.findByTestId('thresholds-form');
  }

  it('shows the relay’s values', async () => {
    const backend = team();
    backend.thresholds.device_idle.days = 14;
    await openThresholds(backend);
    expect(screen.getByTestId('threshold-device_idle-days')).toHaveValue(14);
    expect(screen.getByTestId('threshold-permission_change_burst-count')).toHaveValue(3);
    expect(screen.getByTestId('threshold-pairing_failure_burst-window')).toHaveValue(10);
    expect(screen.getByTestId('threshold-permission_change_off_hours-start')).toHaveValue('08:00');
    expect(screen.getByTestId('threshold-night_sign_in-end')).toHaveValue('05:00');
    expect(screen.getByTestId('threshold-new_device_os-enabled')).toBeChecked();
  });

  it('explains out-of-range values and asks no PIN', async () => {
    const backend = team();
    await openThresholds(backend);
    await fireEvent.input(screen.getByTestId('threshold-permission_change_burst-count'), { target: { value: '1' } });
    await fireEvent.input(screen.getByTestId('threshold-pairing_failure_burst-window'), { target: { value: '1441' } });
    await fireEvent.input(screen.getByTestId('threshold-device_idle-days'), { target: { value: '366' } });
    await fireEvent.click(screen.getByTestId('thresholds-save'));
    const problems = screen.getAllByTestId('threshold-problem').map((p) => p.textContent?.trim());
    expect(problems).toEqual([
      'Enter a whole number from 2 to 1000.',
      'Enter whole minutes from 1 to 1440 (one day).',
      'Enter whole days from 1 to 365.',
    ]);
    expect(screen.getByTestId('thresholds-invalid')).toBeInTheDocument();
    expect(screen.getByTestId('threshold-permission_change_burst-count')).toHaveAttribute('aria-invalid', 'true');
    expect(document.activeElement).toBe(screen.getByTestId('threshold-permission_change_burst-count'));
    expect(screen.queryByTestId('pin-dialog')).toBeNull();
    expect(backend.called('setAlertThresholds')).toHaveLength(0);

    await fireEvent.input(screen.getByTestId('threshold-permission_change_burst-count'), { target: { value: '1001' } });
    await fireEvent.input(screen.getByTestId('threshold-pairing_failure_burst-window'), { target: { value: '0' } });
    await fireEvent.input(screen.getByTestId('threshold-device_idle-days'), { target: { value: '0' } });
    expect(screen.getAllByTestId('threshold-problem')).toHaveLength(3);
  });

  it('saves with the PIN and keeps what the relay answered', async () => {
    const backend = team();
    await openThresholds(backend);
    await fireEvent.click(screen.getByTestId('threshold-new_device_os-enabled'));
    await fireEvent.input(screen.getByTestId('threshold-permission_change_burst-count'), { target: { value: '5' } });
    await fireEvent.input(screen.getByTestId('threshold-permission_change_burst-window'), { target: { value: '30' } });
    await fireEvent.input(screen.getByTestId('threshold-permission_change_off_hours-start'), { target: { value: '07:30' } });
    await fireEvent.input(screen.getByTestId('threshold-device_idle-days'), { target: { value: '30' } });
    await fireEvent.click(screen.getByTestId('thresholds-save'));
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Change the alert thresholds');
    await enterPin('246810');
    expect(await screen.findByTestId('thresholds-saved')).toHaveTextContent('Thresholds saved.');
    const [sent, pin] = backend.called('setAlertThresholds')[0].args;
    expect(pin).toBe('246810');
    expect(sent).toEqual({
      permission_change_off_hours: { enabled: true, work_hours: { start: '07:30', end: '20:00' } },
      permission_change_burst: { enabled: true, count: 5, window_minutes: 30 },
      night_sign_in: { enabled: true, night: { start: '03:00', end: '05:00' } },
      new_device_os: { enabled: false },
      pairing_failure_burst: { enabled: true, count: 3, window_minutes: 10 },
      device_idle: { enabled: true, days: 30 },
    });
    expect(backend.thresholds.device_idle.days).toBe(30);
  });
});

describe('Audit › advisor', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  async function openAdvisor(backend: FakeBackend) {
    await openAudit(backend);
    await fireEvent.click(screen.getByTestId('audit-tab-advisor'));
  }

  it('orders advice critical, warning, then info, with titles, summaries and members', async () => {
    const backend = team();
    backend.adviceList = [
      advice({ code: 'too_many_broadcasters', severity: 'info', member_ids: ['m-ana', 'm-boris'], fixes: [], summary: '2 of 3 active members can send broadcasts.' }),
      advice(),
      advice({ code: 'too_few_admins', severity: 'critical', member_ids: [ME_ID], fixes: [], summary: 'Only Olga can manage the team.' }),
    ];
    await openAdvisor(backend);
    const cards = await screen.findAllByTestId('advice-card');
    expect(cards.map((c) => [c.dataset.code, c.dataset.severity])).toEqual([
      ['too_few_admins', 'critical'],
      ['delete_and_broadcast', 'warning'],
      ['too_many_broadcasters', 'info'],
    ]);
    expect(cards[0]).toHaveTextContent('Critical');
    expect(cards[0]).toHaveTextContent('Fewer than two admins');
    expect(cards[0]).toHaveTextContent('Only Olga can manage the team.');
    expect(cards[0]).toHaveTextContent('needs an admin’s decision');
    expect(within(cards[2]).getByTestId('advice-members')).toHaveTextContent('Members: Ana, Boris');
    const fixes = within(cards[1]).getAllByTestId('advice-fix');
    expect(fixes.map((f) => f.textContent?.trim())).toEqual([
      'Switch off Send broadcasts for Boris',
      'Switch off Delete history for Boris',
    ]);
  });

  it('a fix takes the PIN, switches the toggles off and the card goes away', async () => {
    const backend = team();
    backend.adviceList = [advice()];
    await openAdvisor(backend);
    const card = await screen.findByTestId('advice-card');
    await fireEvent.click(within(card).getAllByTestId('advice-fix')[0]);
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Switch off Send broadcasts for Boris');
    await enterPin('123456');
    expect(await screen.findByTestId('pin-error')).toHaveTextContent('Wrong PIN');
    expect(screen.getByTestId('advice-card')).toBeInTheDocument();
    await enterPin('246810');
    await waitFor(() => expect(screen.queryByTestId('advice-card')).toBeNull());
    expect(backend.called('applyAdviceFix')[1].args).toEqual([
      { remove_toggles: { member_id: 'm-boris', permissions: ['send_broadcasts'] }, toggles_after: null },
      '246810',
    ]);
    expect(backend.members.find((m) => m.id === 'm-boris')?.permissions).toEqual(['reply', 'delete_history']);
    expect(backend.called('advisor')).toHaveLength(2);
    const done = screen.getByTestId('advice-fixed');
    expect(done).toHaveTextContent('Done: Send broadcasts switched off for Boris.');
    await waitFor(() => expect(document.activeElement).toBe(done));
    expect(screen.getByTestId('advice-empty')).toHaveTextContent('No advice: your permissions follow the guide.');
  });

  it('with no advice says the permissions follow the guide, and when it was checked', async () => {
    const backend = team();
    backend.advisorCheckedAt = '2030-05-06T04:00:00Z';
    await openAdvisor(backend);
    const empty = await screen.findByTestId('advice-empty');
    expect(empty).toHaveTextContent('No advice: your permissions follow the guide.');
    const when = new Date('2030-05-06T04:00:00Z').toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' });
    expect(empty).toHaveTextContent(`Checked ${when}.`);
  });
});

describe('Audit › permissions and linking', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('each tab explains the permission it lacks and asks the relay nothing', async () => {
    const backend = team();
    backend.session_.me = me(['reply', 'view_contacts']);
    await openAudit(backend);
    const log = await screen.findByTestId('audit-no-permission');
    expect(log).toHaveAttribute('data-permission', 'view_audit_log');
    expect(log).toHaveTextContent('Log needs a permission you do not have');
    expect(log).toHaveTextContent('It needs “View audit log”');
    await fireEvent.click(screen.getByTestId('audit-tab-alerts'));
    expect(screen.getByTestId('audit-no-permission')).toHaveTextContent('It needs “Manage team and devices”');
    await fireEvent.click(screen.getByTestId('audit-tab-advisor'));
    expect(screen.getByTestId('audit-no-permission')).toHaveAttribute('data-permission', 'manage_team');
    expect(backend.called('auditPage')).toHaveLength(0);
    expect(backend.called('alerts')).toHaveLength(0);
    expect(backend.called('advisor')).toHaveLength(0);
  });

  it('a supervisor reads the log (names from the member list) but not the alerts', async () => {
    const backend = team();
    backend.session_.me = me(['reply', 'view_audit_log']);
    backend.failNext.set('teamMembers', new (await import('../backend')).BackendError('permission_denied', 'no'));
    backend.audit = [auditEntry({ actor_member_id: 'm-ana', device_id: 'd-unknown-device-0001' })];
    await openAudit(backend);
    const row = await screen.findByTestId('audit-row');
    await waitFor(() => expect(within(row).getByTestId('audit-actor')).toHaveTextContent('Ana'));
    // Devices cannot be listed without manage_team: shown by a short id.
    expect(within(row).getByTestId('audit-device')).toHaveTextContent('d-un…0001');
    expect(backend.called('memberNames')).not.toHaveLength(0);
    await fireEvent.click(screen.getByTestId('audit-tab-alerts'));
    expect(screen.getByTestId('audit-no-permission')).toBeInTheDocument();
  });

  it('an unlinked device gets the usual link prompt', async () => {
    const backend = new FakeBackend();
    backend.connection = { state: 'not_linked' };
    backend.session_ = { linked: false, me: null, startup_error: null, relay_url: null, demo: false };
    await openAudit(backend);
    expect(screen.getByTestId('link-device')).toBeInTheDocument();
    expect(screen.queryByTestId('audit-tab-log')).toBeNull();
  });
});

describe('Audit in Russian', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('ru');
  });

  it('renders the tabs, rows, chain status and advisor in Russian', async () => {
    const backend = team();
    backend.audit = [auditEntry({ seq: 5, kind: 'audit.member_updated' })];
    backend.adviceList = [advice()];
    await openAudit(backend);
    expect(screen.getByTestId('audit-tab-log')).toHaveTextContent('Журнал');
    expect(screen.getByTestId('audit-tab-alerts')).toHaveTextContent('Тревоги');
    expect(screen.getByTestId('audit-tab-advisor')).toHaveTextContent('Советник');
    const row = await screen.findByTestId('audit-row');
    expect(within(row).getByTestId('audit-action')).toHaveTextContent('Изменил(а) участника');
    expect(row).toHaveTextContent('Запись №5');
    expect(screen.getByTestId('audit-verify')).toHaveTextContent('Проверить');
    await fireEvent.click(screen.getByTestId('audit-verify'));
    await waitFor(() =>
      expect(screen.getByTestId('audit-chain-status')).toHaveTextContent('Цепочка цела: записей — 1, последняя №5 проверена.'),
    );
    expect(screen.getByTestId('audit-export-csv')).toHaveTextContent('Выгрузить в CSV');
    await fireEvent.click(screen.getByTestId('audit-tab-advisor'));
    const card = await screen.findByTestId('advice-card');
    expect(card).toHaveTextContent('Один человек может и удалять историю, и делать рассылки');
    expect(within(card).getAllByTestId('advice-fix')[0]).toHaveTextContent('Отключить «Делать рассылки» для Boris');
  });
});

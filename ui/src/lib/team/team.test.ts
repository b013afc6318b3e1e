import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import { i18n } from '../i18n/index.svelte';
import { PERMISSIONS, presetPermissions } from '../permissions';
import { device, FakeBackend, info, me, member } from '../test/fakeBackend';

async function openTeam(backend: FakeBackend) {
  render(App, { info, backend });
  await waitFor(() => expect(backend.called('session')).not.toHaveLength(0));
  await fireEvent.keyDown(window, { key: '5', code: 'Digit5', altKey: true });
  expect(screen.getByTestId('section-title')).toHaveTextContent('Team');
}

function toggleStates(): Record<string, boolean> {
  return Object.fromEntries(
    PERMISSIONS.map((p) => [p, (screen.getByTestId(`toggle-${p}`) as HTMLInputElement).checked]),
  );
}

async function enterPin(pin: string) {
  const input = await screen.findByTestId('pin-input');
  await fireEvent.input(input, { target: { value: pin } });
  await fireEvent.click(screen.getByTestId('pin-submit'));
}

describe('Team section', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });
  afterEach(() => vi.useRealTimers());

  it('is replaced by a clear explanation without manage_team', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(['reply', 'view_contacts']);
    await openTeam(backend);
    expect(await screen.findByTestId('team-no-permission')).toHaveTextContent('Only admins manage the team');
    expect(screen.queryByRole('tab', { name: 'Members' })).not.toBeInTheDocument();
    expect(backend.called('teamMembers')).toHaveLength(0);
  });

  it('lists members with preset, PIN and plain-words summary', async () => {
    const backend = new FakeBackend();
    backend.members = [member({ name: 'Ana' }), member({ name: 'Ivan', active: false, has_pin: false, permissions: ['reply', 'export_history'] })];
    await openTeam(backend);
    const rows = await screen.findAllByTestId('member-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('Standard');
    expect(rows[0]).toHaveTextContent('PIN set');
    expect(rows[0]).toHaveTextContent('Can reply to conversations assigned to them');
    expect(rows[1]).toHaveTextContent('Custom');
    expect(rows[1]).toHaveTextContent('Deactivated');
    expect(rows[1]).toHaveTextContent('No PIN yet');
  });

  it('a preset fills the 17 toggles, which then change one by one', async () => {
    const backend = new FakeBackend();
    await openTeam(backend);
    await fireEvent.click(await screen.findByTestId('member-new'));
    // A new member starts Restricted.
    expect(Object.entries(toggleStates()).filter(([, on]) => on).map(([p]) => p)).toEqual(['reply']);
    await fireEvent.click(within(screen.getByTestId('preset-supervisor')).getByRole('radio'));
    const supervisor = new Set(presetPermissions('supervisor'));
    expect(toggleStates()).toEqual(Object.fromEntries(PERMISSIONS.map((p) => [p, supervisor.has(p)])));
    expect(screen.getByTestId('preset-supervisor')).toHaveClass('selected');
    await fireEvent.click(screen.getByTestId('toggle-export_history'));
    expect(toggleStates().export_history).toBe(true);
    expect(screen.getByTestId('preset-custom')).toHaveClass('selected');
    await fireEvent.click(screen.getByTestId('toggle-export_history'));
    expect(screen.getByTestId('preset-supervisor')).toHaveClass('selected');

    await fireEvent.input(screen.getByTestId('member-name'), { target: { value: 'Sam' } });
    await fireEvent.click(screen.getByTestId('member-save'));
    await enterPin('246810');
    await waitFor(() => expect(backend.called('createMember')).toHaveLength(1));
    expect(backend.called('createMember')[0].args).toEqual([
      'Sam',
      { toggles: presetPermissions('supervisor'), preset: 'supervisor', templates: [] },
      '246810',
    ]);
  });

  it('asks for the PIN: a wrong one shows the error and keeps the dialog, the right one saves and closes', async () => {
    const backend = new FakeBackend();
    const ana = member({ name: 'Ana' });
    backend.members = [ana];
    await openTeam(backend);
    await fireEvent.click(await screen.findByTestId('member-edit'));
    await fireEvent.input(screen.getByTestId('member-name'), { target: { value: 'Ana María' } });
    await fireEvent.click(screen.getByTestId('member-save'));
    expect(await screen.findByTestId('pin-dialog')).toHaveTextContent('Save changes to Ana María');

    // Too short: refused in place, nothing sent.
    await enterPin('123');
    expect(backend.called('updateMember')).toHaveLength(0);

    await enterPin('999999');
    expect(await screen.findByTestId('pin-error')).toHaveTextContent('Wrong PIN. Attempts left before a 15-minute lock: 4');
    expect(screen.getByTestId('pin-dialog')).toBeInTheDocument();
    expect(screen.getByTestId('pin-input')).toHaveValue('');

    await enterPin('246810');
    await waitFor(() => expect(screen.queryByTestId('pin-dialog')).not.toBeInTheDocument());
    const calls = backend.called('updateMember');
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0]).toBe(ana.id);
    // Only what changed is sent (the audit log records it as the change).
    expect(calls[1].args[1]).toEqual({ name: 'Ana María' });
    expect(calls[1].args[2]).toBe('246810');
    const rows = await screen.findAllByTestId('member-row');
    expect(rows[0]).toHaveTextContent('Ana María');
  });

  it('a locked PIN shows until when and blocks further tries', async () => {
    const backend = new FakeBackend();
    backend.members = [member({ name: 'Ana' })];
    backend.lockedUntil = '2030-01-02T03:04:05Z';
    await openTeam(backend);
    await fireEvent.click(await screen.findByTestId('member-edit'));
    await fireEvent.click(screen.getByTestId('member-save'));
    await enterPin('246810');
    const expected = new Date('2030-01-02T03:04:05Z').toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' });
    expect(await screen.findByTestId('pin-error')).toHaveTextContent(`locked until ${expected}`);
    expect(screen.getByTestId('pin-input')).toBeDisabled();
    expect(screen.getByTestId('pin-submit')).toBeDisabled();
  });

  it('deactivating asks first, then for the PIN', async () => {
    const backend = new FakeBackend();
    const ivan = member({ name: 'Ivan' });
    backend.members = [ivan];
    await openTeam(backend);
    await fireEvent.click(await screen.findByTestId('member-edit'));
    await fireEvent.click(screen.getByTestId('member-deactivate'));
    expect(screen.getByTestId('member-deactivate-confirm')).toHaveTextContent('Deactivate Ivan?');
    expect(screen.queryByTestId('pin-dialog')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('member-deactivate-yes'));
    await enterPin('246810');
    await waitFor(() => expect(backend.called('deactivateMember')).toHaveLength(1));
    expect(await screen.findByText('Deactivated')).toBeInTheDocument();
  });

  it('lists devices with the cap and idle badge, and unlinks after confirmation and PIN', async () => {
    const backend = new FakeBackend();
    const laptop = device({ name: 'Shift laptop', idle: true, shared: true, level: { preset: 'restricted' } });
    backend.devices = [device({ name: 'Front desk' }), laptop];
    backend.deviceCap = 5;
    await openTeam(backend);
    await fireEvent.click(screen.getByRole('tab', { name: 'Devices' }));
    expect(await screen.findByTestId('device-count')).toHaveTextContent('Linked devices: 2 / 5');
    const rows = screen.getAllByTestId('device-row');
    expect(within(rows[1]).getByTestId('device-idle')).toBeInTheDocument();
    expect(within(rows[0]).queryByTestId('device-idle')).not.toBeInTheDocument();
    expect(within(rows[1]).getByTestId('device-level')).toHaveValue('restricted');
    expect(rows[0]).toHaveTextContent('192.0.2.10');
    expect(rows[0]).toHaveTextContent('2 min. ago');
    await fireEvent.click(within(rows[1]).getByTestId('device-unlink'));
    await fireEvent.click(within(rows[1]).getByTestId('device-unlink-yes'));
    await enterPin('246810');
    await waitFor(() => expect(screen.getAllByTestId('device-row')).toHaveLength(1));
    expect(backend.called('unlinkDevice')[0].args).toEqual([laptop.id, '246810']);
    expect(screen.getByTestId('device-count')).toHaveTextContent('1 / 5');
  });

  it('saves a night-shift template with a window across midnight', async () => {
    const backend = new FakeBackend();
    await openTeam(backend);
    await fireEvent.click(screen.getByRole('tab', { name: 'Templates' }));
    await fireEvent.click(await screen.findByTestId('template-new'));
    expect(screen.getByTestId('template-editor')).toHaveTextContent('Europe/Madrid');
    await fireEvent.input(screen.getByTestId('template-name'), { target: { value: 'Night shift' } });
    const editor = screen.getByTestId('template-editor');
    const denyExport = within(editor).getAllByTestId('toggle-export_history')[0];
    await fireEvent.click(denyExport);
    await fireEvent.click(screen.getByTestId('rule-add'));
    await fireEvent.input(screen.getByTestId('rule-start'), { target: { value: '23:00' } });
    await fireEvent.input(screen.getByTestId('rule-end'), { target: { value: '07:00' } });
    expect(screen.getByTestId('rule-midnight')).toHaveTextContent('23:00–07:00 crosses midnight');
    await fireEvent.click(screen.getByTestId('template-save'));
    await enterPin('246810');
    await waitFor(() => expect(backend.called('saveTemplate')).toHaveLength(1));
    expect(backend.called('saveTemplate')[0].args.slice(0, 2)).toEqual([
      null,
      {
        name: 'Night shift',
        deny: ['export_history'],
        windows: [{ permissions: ['reply'], window: { start: '23:00', end: '07:00' } }],
      },
    ]);
    expect(await screen.findByTestId('template-row')).toHaveTextContent('Night shift');
  });

  it('shows a pairing code with a countdown and a QR image, and offers a new code when it expires', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const backend = new FakeBackend();
    await openTeam(backend);
    await fireEvent.click(screen.getByRole('tab', { name: 'Link a device' }));
    await fireEvent.click(screen.getByTestId('link-device-button'));
    expect(await screen.findByTestId('pairing-code')).toHaveTextContent('7K3QD-M9XWA');
    expect(screen.getByTestId('pairing-countdown')).toHaveTextContent('Expires in 1:30');
    expect(screen.getByTestId('pairing-qr').querySelector('path')?.getAttribute('d')).toMatch(/^M\d/);
    expect(backend.called('createPairingCode')[0].args[0]).toEqual({ level: { preset: 'standard' }, shared: false });

    vi.advanceTimersByTime(60_000);
    await waitFor(() => expect(screen.getByTestId('pairing-countdown')).toHaveTextContent('Expires in 0:30'));
    vi.advanceTimersByTime(30_000);
    expect(await screen.findByTestId('pairing-expired')).toBeInTheDocument();
    expect(screen.queryByTestId('pairing-code')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('pairing-new-code'));
    expect(await screen.findByTestId('pairing-code')).toHaveTextContent('ABCDE-00002');
  });

  it('switches member on a shared device in two clicks and a PIN', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(['reply'], {
      member_name: 'Olga',
      shared: {
        signed_in: null,
        members: [
          { id: 'm-ana', name: 'Ana' },
          { id: 'm-li', name: 'Li' },
        ],
      },
    });
    await openTeam(backend);
    await fireEvent.click(await screen.findByTestId('switch-member'));
    await fireEvent.click(screen.getAllByTestId('switch-option')[1]);
    await fireEvent.input(screen.getByTestId('switch-pin'), { target: { value: '111111' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    expect(await screen.findByTestId('switch-error')).toHaveTextContent('Wrong PIN');
    expect(screen.getByTestId('switch-pin')).toHaveValue('');
    await fireEvent.input(screen.getByTestId('switch-pin'), { target: { value: '246810' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    await waitFor(() => expect(screen.queryByTestId('switch-dialog')).not.toBeInTheDocument());
    expect(backend.called('signIn').map((c) => c.args)).toEqual([
      ['m-li', '111111'],
      ['m-li', '246810'],
    ]);
    await waitFor(() => expect(screen.getByTestId('signed-in-member')).toHaveTextContent('Li'));
  });
});

describe('My PIN', () => {
  beforeEach(() => i18n.choose('en'));

  it('is offered even without manage_team, checks the repeat, and sends nothing stored', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(['reply']);
    await openTeam(backend);
    const form = await screen.findByTestId('my-pin');
    await fireEvent.input(within(form).getByTestId('my-pin-new'), { target: { value: '135790' } });
    await fireEvent.input(within(form).getByTestId('my-pin-repeat'), { target: { value: '135791' } });
    await fireEvent.click(within(form).getByTestId('my-pin-save'));
    expect(form).toHaveTextContent('The two new PINs differ.');
    expect(backend.called('setOwnPin')).toHaveLength(0);
    await fireEvent.input(within(form).getByTestId('my-pin-repeat'), { target: { value: '135790' } });
    await fireEvent.click(within(form).getByTestId('my-pin-save'));
    await waitFor(() => expect(backend.called('setOwnPin')[0]?.args).toEqual(['135790', null]));
    expect(await within(form).findByText('Your PIN was changed.')).toBeInTheDocument();
    expect(within(form).getByTestId('my-pin-new')).toHaveValue('');
  });
});

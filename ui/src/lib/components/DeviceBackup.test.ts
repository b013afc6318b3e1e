import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import { PinPrompt } from '../pin.svelte';
import { FakeBackend } from '../test/fakeBackend';
import DeviceBackup from './DeviceBackup.svelte';

async function choose(passphrase: string, again = passphrase) {
  await fireEvent.input(screen.getByTestId('backup-passphrase'), { target: { value: passphrase } });
  await fireEvent.input(screen.getByTestId('backup-passphrase-again'), { target: { value: again } });
  await fireEvent.click(screen.getByTestId('backup-submit'));
}

describe('Back up this device', () => {
  beforeEach(() => i18n.choose('en'));

  it('checks the passphrase, asks the PIN, and says where the file went', async () => {
    const backend = new FakeBackend();
    const pin = new PinPrompt();
    render(DeviceBackup, { backend, pin });
    await choose('short');
    expect(screen.getByTestId('backup-problem')).toHaveTextContent('at least 8 characters');
    await choose('long enough phrase', 'long enough phrasE');
    expect(screen.getByTestId('backup-problem')).toHaveTextContent('differ');
    expect(pin.open).toBe(false);

    await choose('long enough phrase');
    await waitFor(() => expect(pin.open).toBe(true));
    expect(await pin.submit('000000')).toBe(false);
    expect(pin.error).toContain('Wrong PIN');
    expect(await pin.submit(backend.correctPin)).toBe(true);
    expect(await screen.findByTestId('backup-done')).toHaveTextContent('teamline-device-2.tlbk');
    expect(backend.called('exportDeviceBackup').at(-1)?.args).toEqual([backend.correctPin, 'long enough phrase']);
    expect(screen.getByTestId('backup-passphrase')).toHaveValue('');
  });

  it('says so when the member may not export', async () => {
    const backend = new FakeBackend();
    backend.session_.me!.permissions = backend.session_.me!.permissions.filter((p) => p !== 'export_history');
    const pin = new PinPrompt();
    render(DeviceBackup, { backend, pin });
    await choose('long enough phrase');
    await waitFor(() => expect(pin.open).toBe(true));
    expect(await pin.submit(backend.correctPin)).toBe(false);
    expect(pin.error).toContain('not allowed');
  });
});

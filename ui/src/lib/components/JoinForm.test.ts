import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BackendError } from '../backend';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend } from '../test/fakeBackend';
import JoinForm from './JoinForm.svelte';

async function fill(relay: string, code: string, name = '') {
  await fireEvent.input(screen.getByTestId('join-relay'), { target: { value: relay } });
  await fireEvent.input(screen.getByTestId('join-code'), { target: { value: code } });
  await fireEvent.input(screen.getByTestId('join-device-name'), { target: { value: name } });
  await fireEvent.click(screen.getByTestId('join-submit'));
}

describe('Join my team', () => {
  beforeEach(() => i18n.choose('en'));

  it('validates each field before calling the app', async () => {
    const backend = new FakeBackend();
    render(JoinForm, { backend, onlinked: vi.fn() });
    await fireEvent.click(screen.getByTestId('join-submit'));
    expect(screen.getByTestId('join-relay-problem')).toHaveTextContent('Enter your team’s relay address.');
    expect(screen.getByTestId('join-code-problem')).toHaveTextContent('Enter the pairing code.');
    expect(screen.getByTestId('join-relay')).toHaveAttribute('aria-invalid', 'true');

    await fill('relay.example.com', '7K3QD-M9XW');
    expect(screen.getByTestId('join-relay-problem')).toHaveTextContent('does not look like a web address');
    expect(screen.getByTestId('join-code-problem')).toHaveTextContent('10 letters and digits');
    // U is not in the code alphabet.
    await fill('https://relay.example.com', 'UUUUU-UUUUU');
    expect(screen.queryByTestId('join-relay-problem')).not.toBeInTheDocument();
    expect(screen.getByTestId('join-code-problem')).toBeInTheDocument();
    expect(backend.called('linkDevice')).toHaveLength(0);
  });

  it('links with the normalised code; an empty device name lets the app use the computer name', async () => {
    const backend = new FakeBackend();
    const onlinked = vi.fn();
    render(JoinForm, { backend, onlinked });
    await fill(' https://relay.example.com ', '7k3qd m9xwa');
    await waitFor(() => expect(onlinked).toHaveBeenCalledOnce());
    expect(backend.called('linkDevice')[0].args).toEqual([
      'https://relay.example.com',
      '7K3QD-M9XWA',
      undefined,
      undefined,
    ]);
    expect(screen.queryByTestId('join-error')).not.toBeInTheDocument();
  });

  it('shows progress while linking', async () => {
    const backend = new FakeBackend();
    let open!: () => void;
    backend.linkGate = new Promise((resolve) => (open = resolve));
    render(JoinForm, { backend, onlinked: vi.fn() });
    await fill('https://relay.example.com', '7K3QD-M9XWA', 'Shift laptop');
    await waitFor(() => expect(screen.getByTestId('join-submit')).toHaveTextContent('Linking…'));
    expect(screen.getByTestId('join-submit')).toBeDisabled();
    expect(screen.getByTestId('join-code')).toBeDisabled();
    open();
    await waitFor(() => expect(screen.getByTestId('join-submit')).toHaveTextContent('Join my team'));
    expect(backend.called('linkDevice')[0].args[2]).toBe('Shift laptop');
  });

  it('shows the translated error for a known code next to the form', async () => {
    const backend = new FakeBackend();
    backend.failNext.set('linkDevice', new BackendError('pairing_rejected', 'the relay refused: bad code'));
    const onlinked = vi.fn();
    render(JoinForm, { backend, onlinked });
    await fill('https://relay.example.com', '7K3QD-M9XWA');
    expect(await screen.findByTestId('join-error')).toHaveTextContent(
      'This pairing code is wrong, used or expired. Ask for a new one.',
    );
    expect(onlinked).not.toHaveBeenCalled();
  });

  it('shows the app’s own message for a code it does not know', async () => {
    const backend = new FakeBackend();
    backend.failNext.set('linkDevice', new BackendError('relay_shrugged', 'The relay is in maintenance until 14:00.'));
    render(JoinForm, { backend, onlinked: vi.fn() });
    await fill('https://relay.example.com', '7K3QD-M9XWA');
    expect(await screen.findByTestId('join-error')).toHaveTextContent('The relay is in maintenance until 14:00.');
  });

  it('protects the data with a checked passphrase when asked to', async () => {
    const backend = new FakeBackend();
    const onlinked = vi.fn();
    render(JoinForm, { backend, onlinked });
    await fireEvent.click(screen.getByTestId('join-use-passphrase'));
    await fireEvent.input(screen.getByTestId('join-passphrase'), { target: { value: 'short' } });
    await fill('https://relay.example.com', '7K3QD-M9XWA');
    expect(screen.getByTestId('join-passphrase-problem')).toHaveTextContent('at least 10 characters');
    await fireEvent.input(screen.getByTestId('join-passphrase'), { target: { value: 'correct horse battery' } });
    await fireEvent.input(screen.getByTestId('join-passphrase-again'), { target: { value: 'correct horse battery!' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    expect(screen.getByTestId('join-passphrase-problem')).toHaveTextContent('differ');
    expect(backend.called('linkDevice')).toHaveLength(0);
    await fireEvent.input(screen.getByTestId('join-passphrase-again'), { target: { value: 'correct horse battery' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    await waitFor(() => expect(onlinked).toHaveBeenCalledOnce());
    expect(backend.called('linkDevice')[0].args[3]).toBe('correct horse battery');
  });

  it('offers the passphrase when the system keyring cannot be used', async () => {
    const backend = new FakeBackend();
    backend.failNext.set('linkDevice', new BackendError('store_key_save_failed', 'no Secret Service'));
    render(JoinForm, { backend, onlinked: vi.fn() });
    await fill('https://relay.example.com', '7K3QD-M9XWA');
    expect(await screen.findByTestId('join-error')).toHaveTextContent('passphrase instead');
    expect(screen.getByTestId('join-use-passphrase')).toBeChecked();
    expect(screen.getByTestId('join-passphrase')).toBeInTheDocument();
  });

  it('restores from another device’s backup file; a wrong passphrase changes nothing', async () => {
    const backend = new FakeBackend();
    const onlinked = vi.fn();
    render(JoinForm, { backend, onlinked });
    await fireEvent.click(screen.getByTestId('join-restore'));
    expect(screen.queryByTestId('join-use-passphrase')).not.toBeInTheDocument();
    await fill('https://relay.example.com', '7K3QD-M9XWA');
    expect(screen.getByTestId('join-restore-problem')).toHaveTextContent('path of the backup file');
    expect(backend.called('restoreDeviceBackup')).toHaveLength(0);

    await fireEvent.input(screen.getByTestId('join-backup-path'), { target: { value: ' /tmp/old.tlbk ' } });
    await fireEvent.input(screen.getByTestId('join-backup-passphrase'), { target: { value: 'not it' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    expect(await screen.findByTestId('join-error')).toHaveTextContent('pairing code is still unused');
    expect(onlinked).not.toHaveBeenCalled();

    await fireEvent.input(screen.getByTestId('join-backup-passphrase'), { target: { value: backend.backupPassphrase } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    await waitFor(() => expect(onlinked).toHaveBeenCalledOnce());
    expect(screen.getByTestId('join-restored')).toHaveTextContent('Restored 3 conversations and 17 messages');
    expect(backend.called('restoreDeviceBackup').at(-1)?.args).toEqual([
      '/tmp/old.tlbk',
      backend.backupPassphrase,
      'https://relay.example.com',
      '7K3QD-M9XWA',
      undefined,
    ]);
    expect(backend.called('linkDevice')).toHaveLength(0);
  });
});

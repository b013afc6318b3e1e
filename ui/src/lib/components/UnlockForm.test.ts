import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { i18n } from '../i18n/index.svelte';
import { FakeBackend } from '../test/fakeBackend';
import UnlockForm from './UnlockForm.svelte';

async function enter(passphrase: string) {
  await fireEvent.input(screen.getByTestId('unlock-passphrase'), { target: { value: passphrase } });
  await fireEvent.click(screen.getByTestId('unlock-submit'));
}

describe('Unlock a passphrase-protected device', () => {
  beforeEach(() => i18n.choose('en'));

  it('says plainly that a wrong passphrase changed nothing, then unlocks with the right one', async () => {
    const backend = new FakeBackend();
    backend.connection = { state: 'locked' };
    render(UnlockForm, { backend });
    expect(screen.getByTestId('unlock-submit')).toBeDisabled();
    await enter('not the passphrase');
    expect(await screen.findByTestId('unlock-error')).toHaveTextContent('Nothing was changed');
    await enter(backend.passphrase);
    await waitFor(() => expect(backend.connection).toEqual({ state: 'connected' }));
    expect(screen.queryByTestId('unlock-error')).not.toBeInTheDocument();
    expect(screen.getByTestId('unlock-passphrase')).toHaveValue('');
    expect(backend.called('unlock').map((c) => c.args[0])).toEqual(['not the passphrase', backend.passphrase]);
  });

  it('is translated', async () => {
    i18n.choose('ru');
    render(UnlockForm, { backend: new FakeBackend() });
    expect(screen.getByRole('heading')).toHaveTextContent('Введите парольную фразу');
  });
});

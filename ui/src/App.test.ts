import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import { BackendError } from './lib/backend';
import { i18n } from './lib/i18n/index.svelte';
import { FakeBackend, info, me, row } from './lib/test/fakeBackend';

function unlinkedBackend(): FakeBackend {
  const backend = new FakeBackend();
  backend.connection = { state: 'not_linked' };
  backend.session_ = { linked: false, me: null, startup_error: null, relay_url: null, demo: false };
  return backend;
}

describe('App frame', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
    document.title = '';
  });

  it('opens on the inbox empty state with the connection state in the status bar', async () => {
    render(App, { info, backend: unlinkedBackend() });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Inbox');
    expect(screen.getByText('No conversations yet')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('connection')).toHaveTextContent('Not linked to a team'));
    expect(screen.getByText('Teamline 9.9.9')).toBeInTheDocument();
  });

  it('listens for pushed state instead of polling, after one initial question each', async () => {
    const backend = unlinkedBackend();
    render(App, { info, backend });
    await waitFor(() => expect(backend.called('listen')).toHaveLength(1));
    await waitFor(() => expect(backend.called('connectionState')).toHaveLength(1));
    backend.emit('connectionState', { state: 'reconnecting', retry_in_secs: 7 });
    await waitFor(() => expect(screen.getByTestId('connection')).toHaveTextContent('Reconnecting in 7 s'));
    expect(backend.called('connectionState')).toHaveLength(1);
  });

  it('says so when the backend cannot be reached', async () => {
    const backend = unlinkedBackend();
    backend.failNext.set('connectionState', new BackendError('ipc_unavailable', 'detached'));
    render(App, { info: null, backend });
    await waitFor(() =>
      expect(screen.getByTestId('connection')).toHaveTextContent('The Teamline window is not connected to the app.'),
    );
  });

  /** Starts the app after a start-up failure and returns the banner that explains it. */
  async function startupBanner(code: string, message: string) {
    const backend = unlinkedBackend();
    backend.session_.startup_error = { code, message } as never;
    render(App, { info, backend });
    return screen.findByTestId('startup-error');
  }

  it('shows the startup error with its message and what to do', async () => {
    const banner = await startupBanner('store_key_unavailable', 'the store key is not in the keyring (locked?)');
    expect(banner).toHaveTextContent('the store key is not in the keyring (locked?)');
    expect(banner).toHaveTextContent('Unlock your system keyring');
  });

  it('a locked keyring can be retried without restarting the app', async () => {
    const banner = await startupBanner('store_key_unavailable', 'keyring locked');
    await fireEvent.click(within(banner).getByTestId('startup-retry'));
    await waitFor(() => expect(screen.queryByTestId('startup-error')).not.toBeInTheDocument());
  });

  it('a passphrase-protected device asks for the passphrase before showing anything', async () => {
    const backend = new FakeBackend();
    backend.rows = [row()];
    backend.connection = { state: 'locked' };
    render(App, { info, backend });
    expect(await screen.findByTestId('unlock-form')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('connection')).toHaveTextContent('Locked'));
    expect(screen.queryByTestId('inbox-row')).not.toBeInTheDocument();
    expect(backend.called('inbox')).toHaveLength(0);
    await fireEvent.input(screen.getByTestId('unlock-passphrase'), { target: { value: backend.passphrase } });
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    expect(await screen.findByTestId('inbox-row')).toBeInTheDocument();
    expect(screen.queryByTestId('unlock-form')).not.toBeInTheDocument();
  });

  it('a failed --pair at start-up is explained and leads to the join form', async () => {
    const banner = await startupBanner(
      'pairing_rejected',
      'the relay refused: this pairing code is not valid (pairing_rejected)',
    );
    expect(banner).toHaveTextContent('This device could not join your team');
    expect(banner).toHaveTextContent('this pairing code is not valid');
    await fireEvent.click(within(banner).getByRole('button', { name: 'Join my team' }));
    expect(await screen.findByTestId('join-form')).toBeInTheDocument();
  });

  it('an unlinked device says an admin unlinked it and offers to join again', async () => {
    const backend = new FakeBackend();
    backend.rows = [row()];
    render(App, { info, backend });
    await screen.findByTestId('inbox-row');
    backend.session_ = { linked: false, me: null, startup_error: null, relay_url: 'https://relay.test', demo: false };
    backend.emit('clientEvent', { type: 'unlinked' });
    expect(await screen.findByText('This device was unlinked by an admin', { selector: 'h2' })).toBeInTheDocument();
    expect(screen.queryByTestId('inbox-row')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('join-again'));
    expect(screen.getByTestId('settings-connection')).toBeInTheDocument();
    expect(screen.getByTestId('join-form')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('join-relay')).toHaveValue('https://relay.test'));
  });

  it('puts the unread count in the window title', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ unread_count: 2 }), row({ unread_count: 1 })];
    render(App, { info, backend });
    // Before the app reports a total, the list's own counts are used.
    await waitFor(() => expect(document.title).toBe('(3) Teamline'));
    backend.emit('unread', 5);
    await waitFor(() => expect(document.title).toBe('(5) Teamline'));
    backend.emit('unread', 0);
    await waitFor(() => expect(document.title).toBe('Teamline'));
  });

  it('shows a full resync with its progress until it is done', async () => {
    const backend = new FakeBackend();
    render(App, { info, backend });
    await waitFor(() => expect(screen.getByTestId('connection')).toBeInTheDocument());
    expect(screen.queryByTestId('resync-progress')).toBeNull();
    backend.emit('clientEvent', { type: 'resync_progress', done: 3, total: 40 });
    await waitFor(() =>
      expect(screen.getByTestId('resync-progress')).toHaveTextContent(
        'Syncing from the relay: 3 of 40 conversations',
      ),
    );
    expect(screen.getByTestId('resync-progress').querySelector('progress')).toHaveAttribute('value', '3');
    backend.emit('clientEvent', { type: 'resync_done', cursor: 99 });
    await waitFor(() => expect(screen.queryByTestId('resync-progress')).toBeNull());
  });

  it('navigates with the sidebar and with Alt+digit', async () => {
    render(App, { info, backend: unlinkedBackend() });
    await fireEvent.click(screen.getByRole('button', { name: 'Team' }));
    expect(screen.getByTestId('section-title')).toHaveTextContent('Team');
    await fireEvent.keyDown(window, { key: '6', code: 'Digit6', altKey: true });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Audit');
  });

  it('the empty-state action leads to the join form in the connection settings', async () => {
    render(App, { info, backend: unlinkedBackend() });
    await fireEvent.click(screen.getByTestId('link-device'));
    expect(screen.getByTestId('section-title')).toHaveTextContent('Settings');
    expect(screen.getByTestId('settings-connection')).toBeInTheDocument();
    expect(await screen.findByTestId('join-form')).toBeInTheDocument();
  });

  it('linking from the join form switches the app to the inbox of the team', async () => {
    const backend = unlinkedBackend();
    backend.rows = [row({ customer_name: 'Pedro' })];
    render(App, { info, backend });
    await fireEvent.click(screen.getByTestId('link-device'));
    await fireEvent.input(await screen.findByTestId('join-relay'), { target: { value: 'https://relay.test' } });
    await fireEvent.input(screen.getByTestId('join-code'), { target: { value: '7k3qd m9xwa' } });
    await fireEvent.click(screen.getByTestId('join-submit'));
    await waitFor(() => expect(backend.called('linkDevice')).toHaveLength(1));
    backend.emit('connectionState', { state: 'connected' });
    await waitFor(() => expect(screen.queryByTestId('join-form')).not.toBeInTheDocument());
    await fireEvent.keyDown(window, { key: '1', code: 'Digit1', altKey: true });
    expect(await screen.findByText('Pedro')).toBeInTheDocument();
  });

  it('with the session asked before mounting, the first screen is read before the app listens', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'Early bird' })];
    // Listening never finishes here: the list must not wait for it.
    backend.listen = () => new Promise(() => {});
    render(App, { info, backend, session: structuredClone(backend.session_) });
    expect(await screen.findByText('Early bird')).toBeInTheDocument();
    expect(backend.called('session')).toHaveLength(0);
  });

  it('reads the whole list once when linked, not again when the connection moves or the session is re-read', async () => {
    const backend = new FakeBackend();
    backend.rows = [row({ customer_name: 'Early bird' })];
    render(App, { info, backend, session: structuredClone(backend.session_) });
    expect(await screen.findByText('Early bird')).toBeInTheDocument();
    await waitFor(() => expect(backend.called('listen')).toHaveLength(1));
    backend.emit('connectionState', { state: 'reconnecting', retry_in_secs: 1 });
    backend.emit('connectionState', { state: 'connected' });
    backend.emit('clientEvent', { type: 'applied', first_seq: 1, last_seq: 1, count: 1, conversations: [], whole_inbox: false });
    await waitFor(() => expect(backend.called('session').length).toBeGreaterThan(0));
    await waitFor(() => expect(backend.called('outbox').length).toBeGreaterThan(1));
    expect(backend.called('inbox')).toHaveLength(1);
  });

  it('“Try the demo” on a new device shows progress, then the demo shop’s inbox', async () => {
    const backend = unlinkedBackend();
    backend.rows = [row({ customer_name: 'Demo customer' })];
    let open: () => void = () => {};
    backend.linkGate = new Promise((resolve) => (open = resolve));
    render(App, { info, backend });
    const button = screen.getByTestId('try-demo');
    expect(button).toHaveTextContent('Try the demo');
    await fireEvent.click(button);
    await waitFor(() => expect(button).toHaveTextContent('Opening the demo shop…'));
    expect(button).toBeDisabled();
    expect(screen.getByTestId('link-device')).toBeDisabled();
    open();
    expect(await screen.findByText('Demo customer')).toBeInTheDocument();
    expect(backend.called('tryDemo')).toHaveLength(1);
  });

  it('a demo that cannot open says why and leaves both choices', async () => {
    const backend = unlinkedBackend();
    backend.demoFailure = new BackendError('demo_unavailable', 'The demo shop could not open: disk full');
    render(App, { info, backend });
    await fireEvent.click(screen.getByTestId('try-demo'));
    expect(await screen.findByTestId('demo-error')).toHaveTextContent('The demo shop could not open: disk full');
    expect(screen.getByTestId('try-demo')).toBeEnabled();
    expect(screen.getByTestId('link-device')).toBeEnabled();
  });

  it('the demo is left from Settings › Connection after a confirmation, back to the first run', async () => {
    const backend = unlinkedBackend();
    backend.rows = [row({ customer_name: 'Demo customer' })];
    render(App, { info, backend });
    await fireEvent.click(screen.getByTestId('try-demo'));
    expect(await screen.findByText('Demo customer')).toBeInTheDocument();

    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.click(await screen.findByTestId('settings-tab-connection'));
    expect(await screen.findByTestId('demo-card')).toHaveTextContent('You are in the demo shop');
    await fireEvent.click(screen.getByTestId('leave-demo'));
    // Nothing is deleted before the confirmation.
    expect(backend.called('leaveDemo')).toHaveLength(0);
    backend.rows = [];
    await fireEvent.click(screen.getByTestId('leave-demo-confirm'));
    await waitFor(() => expect(backend.called('leaveDemo')).toHaveLength(1));
    // Unlinked again: the join form is offered and the demo card is gone.
    expect(await screen.findByTestId('join-form')).toBeInTheDocument();
    expect(screen.queryByTestId('demo-card')).not.toBeInTheDocument();
    await fireEvent.keyDown(window, { key: '1', code: 'Digit1', altKey: true });
    expect(await screen.findByTestId('try-demo')).toBeEnabled();
  });

  it('Settings › Connection of a linked device shows the relay and can reconnect now', async () => {
    const backend = new FakeBackend();
    backend.connection = { state: 'offline' };
    render(App, { info, backend });
    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.click(screen.getByRole('tab', { name: 'Connection' }));
    expect(await screen.findByTestId('relay-url')).toHaveTextContent('https://relay.test');
    expect(screen.queryByTestId('join-form')).not.toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Reconnect now' }));
    await waitFor(() => expect(backend.called('reconnectNow')).toHaveLength(1));
  });

  it('Settings › About shows app_info', async () => {
    render(App, { info, backend: unlinkedBackend() });
    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.click(screen.getByRole('tab', { name: 'About' }));
    await waitFor(() => expect(screen.getByTestId('about-version')).toHaveTextContent('9.9.9'));
    expect(screen.getByTestId('about-data-dir')).toHaveTextContent('/tmp/teamline');
  });

  it('switches language from Settings and remembers the choice', async () => {
    render(App, { info, backend: unlinkedBackend() });
    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'ru' } });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Настройки');
    expect(document.documentElement.lang).toBe('ru');
    expect(localStorage.getItem('teamline.locale')).toBe('ru');
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'system' } });
    expect(localStorage.getItem('teamline.locale')).toBeNull();
  });

  it('a clicked notification opens its conversation in the inbox', async () => {
    const backend = new FakeBackend();
    const wanted = row({ customer_name: 'Lin Wei' });
    backend.rows = [row(), wanted];
    render(App, { info, backend });
    await screen.findAllByTestId('inbox-row');
    await fireEvent.keyDown(window, { key: '5', code: 'Digit5', altKey: true });
    backend.emit('openConversation', wanted.id);
    expect(await screen.findByTestId('conversation')).toHaveAccessibleName('Lin Wei');
    expect(screen.getByTestId('section-title')).toHaveTextContent('Inbox');
  });

  it('shows the signed-in member in the status bar', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(['reply'], { member_name: 'Chen' });
    render(App, { info, backend });
    await waitFor(() => expect(screen.getByTestId('signed-in-member')).toHaveTextContent('Chen'));
  });

  it('asks someone to sign in on a shared device nobody is signed in on', async () => {
    const backend = new FakeBackend();
    backend.session_.me = me(['reply'], {
      member_name: '',
      shared: { signed_in: null, members: [{ id: 'm-ana', name: 'Ana' }] },
    });
    render(App, { info, backend });
    const banner = await screen.findByTestId('shared-nobody');
    await fireEvent.click(within(banner).getByRole('button', { name: 'Sign in' }));
    await fireEvent.click(screen.getByTestId('switch-option'));
    await fireEvent.input(screen.getByTestId('switch-pin'), { target: { value: '246810' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    await waitFor(() => expect(screen.queryByTestId('shared-nobody')).not.toBeInTheDocument());
    expect(backend.called('signIn')[0].args).toEqual(['m-ana', '246810']);
    expect(screen.getByTestId('signed-in-member')).toHaveTextContent('Ana');
  });
});

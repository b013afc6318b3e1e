import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import { BackendError, type Backend } from './lib/backend';
import type { AppInfo } from './lib/bindings/AppInfo';
import type { ConnectionState } from './lib/bindings/ConnectionState';
import { i18n } from './lib/i18n/index.svelte';

const info: AppInfo = {
  version: '9.9.9',
  data_dir: '/tmp/teamline',
  build_profile: 'debug',
  os: 'linux',
  os_locale: 'en-US',
};

/** A Backend with fixed answers: the UI's own logic is under test here, not IPC. */
function backend(state: ConnectionState | BackendError): Backend {
  return {
    appInfo: async () => info,
    connectionState: async () => {
      if (state instanceof BackendError) throw state;
      return state;
    },
  };
}

describe('App frame', () => {
  beforeEach(() => {
    localStorage.clear();
    i18n.choose('en');
  });

  it('opens on the inbox empty state with the connection state in the status bar', async () => {
    render(App, { info, backend: backend({ state: 'not_linked' }) });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Inbox');
    expect(screen.getByText('No conversations yet')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('connection')).toHaveTextContent('Not linked to a team'));
    expect(screen.getByText('Teamline 9.9.9')).toBeInTheDocument();
  });

  it('shows a reconnect countdown', async () => {
    render(App, { info, backend: backend({ state: 'reconnecting', retry_in_secs: 7 }) });
    await waitFor(() => expect(screen.getByTestId('connection')).toHaveTextContent('Reconnecting in 7 s'));
  });

  it('says so when the backend cannot be reached', async () => {
    render(App, { info: null, backend: backend(new BackendError('ipc_unavailable', 'detached')) });
    await waitFor(() =>
      expect(screen.getByTestId('connection')).toHaveTextContent('The Teamline window is not connected to the app.'),
    );
  });

  it('navigates with the sidebar and with Alt+digit', async () => {
    render(App, { info, backend: backend({ state: 'not_linked' }) });
    await fireEvent.click(screen.getByRole('button', { name: 'Team' }));
    expect(screen.getByTestId('section-title')).toHaveTextContent('Team');
    await fireEvent.keyDown(window, { key: '6', code: 'Digit6', altKey: true });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Audit');
  });

  it('the empty-state action leads to the connection settings', async () => {
    render(App, { info, backend: backend({ state: 'not_linked' }) });
    await fireEvent.click(screen.getByTestId('link-device'));
    expect(screen.getByTestId('section-title')).toHaveTextContent('Settings');
    expect(screen.getByTestId('settings-connection')).toBeInTheDocument();
  });

  it('Settings › About shows app_info', async () => {
    render(App, { info, backend: backend({ state: 'not_linked' }) });
    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.click(screen.getByRole('tab', { name: 'About' }));
    await waitFor(() => expect(screen.getByTestId('about-version')).toHaveTextContent('9.9.9'));
    expect(screen.getByTestId('about-data-dir')).toHaveTextContent('/tmp/teamline');
  });

  it('switches language from Settings and remembers the choice', async () => {
    render(App, { info, backend: backend({ state: 'not_linked' }) });
    await fireEvent.keyDown(window, { key: '8', code: 'Digit8', altKey: true });
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'ru' } });
    expect(screen.getByTestId('section-title')).toHaveTextContent('Настройки');
    expect(document.documentElement.lang).toBe('ru');
    expect(localStorage.getItem('teamline.locale')).toBe('ru');
    await fireEvent.change(screen.getByTestId('language'), { target: { value: 'system' } });
    expect(localStorage.getItem('teamline.locale')).toBeNull();
  });
});

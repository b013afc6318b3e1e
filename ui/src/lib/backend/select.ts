import { isTauri } from '@tauri-apps/api/core';
import { BackendError, type Backend } from './index';
import { CommandBackend } from './commands';
import { httpTransport } from './http';
import { tauriTransport } from './tauri';

/**
 * A backend for a page opened outside the app window: every call rejects with
 * `ipc_unavailable` (events never arrive), so each screen shows its error state.
 */
export function detachedBackend(): Backend {
  const fail = () =>
    Promise.reject(
      new BackendError('ipc_unavailable', 'This page is not running inside the Teamline app.'),
    );
  return new Proxy({} as Backend, {
    get: (_target, key) => (key === 'listen' ? () => Promise.resolve(() => {}) : fail),
  });
}

/**
 * The backend for this window: Tauri IPC inside the app; the HTTP web shell when the page
 * came from it (it puts its token in a `teamline-web-token` meta tag); else detached.
 */
export function selectBackend(): Backend {
  if (isTauri()) {
    const { invoke, listen } = tauriTransport();
    return new CommandBackend(invoke, listen);
  }
  const token = document
    .querySelector<HTMLMetaElement>('meta[name="teamline-web-token"]')
    ?.getAttribute('content');
  if (token) {
    const { invoke, listen } = httpTransport(window.location.origin, token);
    return new CommandBackend(invoke, listen);
  }
  return detachedBackend();
}

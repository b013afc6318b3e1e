import { invoke, isTauri } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { BackendError, type Backend } from './index';
import { TauriBackend } from './tauri';

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

/** The backend for this window: Tauri IPC inside the app. */
export function selectBackend(): Backend {
  return isTauri() ? new TauriBackend(invoke, listen) : detachedBackend();
}

import { invoke, isTauri } from '@tauri-apps/api/core';
import { BackendError, type Backend } from './index';
import { TauriBackend } from './tauri';

/** A backend for a page opened outside the app window: every call says so clearly. */
class DetachedBackend implements Backend {
  private fail(): Promise<never> {
    return Promise.reject(
      new BackendError('ipc_unavailable', 'This page is not running inside the Teamline app.'),
    );
  }
  appInfo = () => this.fail();
  connectionState = () => this.fail();
}

/** The backend for this window: Tauri IPC inside the app. */
export function selectBackend(): Backend {
  return isTauri() ? new TauriBackend(invoke) : new DetachedBackend();
}

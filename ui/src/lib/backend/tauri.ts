import { invoke as tauriInvoke } from '@tauri-apps/api/core';
import { listen as tauriListen } from '@tauri-apps/api/event';
import type { Invoke, Listen, Transport } from './commands';

/**
 * Commands over Tauri IPC through the shell's one generic `call` command: the command name
 * travels in the `x-command` header and the args (or raw bytes) as the body, so the Tauri
 * shell and the HTTP web shell dispatch the same commands the same way.
 */
export function tauriTransport(
  invokeImpl: typeof tauriInvoke = tauriInvoke,
  listenImpl: Listen = tauriListen,
): Transport {
  const invoke: Invoke = <T>(
    command: string,
    args?: Record<string, unknown> | Uint8Array,
    options?: { headers: Record<string, string> },
  ) =>
    invokeImpl<T>('call', args ?? {}, {
      headers: { ...(options?.headers ?? {}), 'x-command': command },
    });
  return { invoke, listen: listenImpl };
}

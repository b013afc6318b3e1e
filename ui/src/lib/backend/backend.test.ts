import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from './index';
import { CommandBackend, type Invoke } from './commands';
import { selectBackend } from './select';
import { tauriTransport } from './tauri';

function backendAnswering(answer: (command: string) => Promise<unknown>) {
  const calls: string[] = [];
  const invoke: Invoke = <T>(command: string) => {
    calls.push(command);
    return answer(command) as Promise<T>;
  };
  return { backend: new CommandBackend(invoke), calls };
}

describe('CommandBackend', () => {
  it('calls the app_info and connection_state commands', async () => {
    const info = { version: '1.2.3', data_dir: '/d', build_profile: 'debug', os: 'linux' };
    const { backend, calls } = backendAnswering(async (command) =>
      command === 'app_info' ? info : { state: 'not_linked' },
    );
    await expect(backend.appInfo()).resolves.toEqual(info);
    await expect(backend.connectionState()).resolves.toEqual({ state: 'not_linked' });
    expect(calls).toEqual(['app_info', 'connection_state']);
  });

  it('turns an IPC rejection { code, message } into a BackendError with that code', async () => {
    const { backend } = backendAnswering(() =>
      Promise.reject({ code: 'data_dir_unavailable', message: 'no data directory: denied' }),
    );
    const error = await backend.appInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'data_dir_unavailable', message: 'no data directory: denied' });
  });

  it('treats any other rejection as internal, keeping its text', async () => {
    const { backend } = backendAnswering(() => Promise.reject('command app_info not found'));
    await expect(backend.appInfo()).rejects.toMatchObject({
      code: 'internal',
      message: 'command app_info not found',
    });
  });
});

/** What reached Tauri's IPC layer (`window.__TAURI_INTERNALS__.invoke`, under the real `invoke`). */
interface IpcCall {
  cmd: string;
  args: unknown;
  options: { headers?: Record<string, string> } | undefined;
}

type TauriWindow = { __TAURI_INTERNALS__?: unknown; isTauri?: boolean };

/** Installs a fake Tauri IPC layer answering `answer` and recording every call. */
function fakeTauriIpc(answer: (call: IpcCall) => unknown): IpcCall[] {
  const calls: IpcCall[] = [];
  (window as unknown as TauriWindow).__TAURI_INTERNALS__ = {
    invoke: async (cmd: string, args: unknown, options: IpcCall['options']) => {
      const call = { cmd, args, options };
      calls.push(call);
      return answer(call);
    },
  };
  return calls;
}

afterEach(() => {
  delete (window as unknown as TauriWindow).__TAURI_INTERNALS__;
  delete (globalThis as unknown as TauriWindow).isTauri;
  document.head.querySelector('meta[name="teamline-web-token"]')?.remove();
});

describe('tauriTransport', () => {
  it('sends every command through the one `call` command with its name in x-command', async () => {
    const calls = fakeTauriIpc((call) =>
      call.options?.headers?.['x-command'] === 'inbox' ? [{ conversation_id: 'c1' }] : null,
    );
    const { invoke, listen } = tauriTransport();
    const backend = new CommandBackend(invoke, listen);

    await expect(backend.inbox(5)).resolves.toEqual([{ conversation_id: 'c1' }]);
    await expect(backend.signOut()).resolves.toBeNull();
    expect(calls).toEqual([
      { cmd: 'call', args: { limit: 5, after: null }, options: { headers: { 'x-command': 'inbox' } } },
      { cmd: 'call', args: {}, options: { headers: { 'x-command': 'sign_out' } } },
    ]);
  });

  it('sends an upload as the raw bytes with its headers alongside x-command', async () => {
    const calls = fakeTauriIpc(() => ({ media_id: 'm1' }));
    const { invoke } = tauriTransport();
    const bytes = new Uint8Array([1, 2, 3, 250]);

    await new CommandBackend(invoke).uploadMedia(bytes, 'image/png', 'a b.png');
    expect(calls).toHaveLength(1);
    expect(calls[0].cmd).toBe('call');
    expect(calls[0].args).toBe(bytes);
    expect(calls[0].options).toEqual({
      headers: { 'x-mime-type': 'image/png', 'x-file-name': 'a%20b.png', 'x-command': 'upload_media' },
    });
  });

  it('keeps a `{ code, message }` rejection as a BackendError with that code', async () => {
    fakeTauriIpc(() => Promise.reject({ code: 'not_signed_in', message: 'Sign in first.' }));
    const { invoke } = tauriTransport();
    await expect(new CommandBackend(invoke).session()).rejects.toMatchObject({
      name: 'BackendError',
      code: 'not_signed_in',
      message: 'Sign in first.',
    });
  });
});

describe('selectBackend', () => {
  it('uses the Tauri transport inside the app', async () => {
    (globalThis as unknown as TauriWindow).isTauri = true;
    const calls = fakeTauriIpc(() => ({ state: 'online' }));
    await expect(selectBackend().connectionState()).resolves.toEqual({ state: 'online' });
    expect(calls.map((c) => [c.cmd, c.options?.headers?.['x-command']])).toEqual([
      ['call', 'connection_state'],
    ]);
  });

  it('uses the HTTP web shell when the page carries its token', async () => {
    const meta = document.createElement('meta');
    meta.name = 'teamline-web-token';
    meta.content = 'tok-1';
    document.head.append(meta);
    const requests: { url: string; auth: string | null }[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      requests.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
      return new Response('{"state":"online"}', { headers: { 'content-type': 'application/json' } });
    };
    try {
      await expect(selectBackend().connectionState()).resolves.toEqual({ state: 'online' });
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(requests).toEqual([
      { url: `${window.location.origin}/api/call/connection_state`, auth: 'Bearer tok-1' },
    ]);
  });

  it('is detached anywhere else: calls fail with ipc_unavailable', async () => {
    await expect(selectBackend().appInfo()).rejects.toMatchObject({ code: 'ipc_unavailable' });
  });
});

import { describe, expect, it } from 'vitest';
import { BackendError } from './index';
import { TauriBackend, type Invoke } from './tauri';

function backendAnswering(answer: (command: string) => Promise<unknown>) {
  const calls: string[] = [];
  const invoke: Invoke = <T>(command: string) => {
    calls.push(command);
    return answer(command) as Promise<T>;
  };
  return { backend: new TauriBackend(invoke), calls };
}

describe('TauriBackend', () => {
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

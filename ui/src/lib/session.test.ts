import { describe, expect, it } from 'vitest';
import type { ConnectionState } from './bindings/ConnectionState';
import { AppSession } from './session.svelte';
import { FakeBackend } from './test/fakeBackend';

describe('AppSession', () => {
  it('keeps a state pushed while a connection question was on its way', async () => {
    const backend = new FakeBackend();
    const app = new AppSession(backend);
    await app.start();
    let answer!: (s: ConnectionState) => void;
    backend.connectionState = () => new Promise<ConnectionState>((resolve) => (answer = resolve));
    const asked = app.refreshConnection();
    // The app links and connects while the question is out...
    backend.emit('connectionState', { state: 'connected' });
    // ...and the answer describes the moment before.
    answer({ state: 'reconnecting', retry_in_secs: 0 });
    await asked;
    expect(app.connection.state).toEqual({ state: 'connected' });

    // With nothing pushed in between, the answer is taken.
    backend.connectionState = async () => ({ state: 'offline' });
    await app.refreshConnection();
    expect(app.connection.state).toEqual({ state: 'offline' });
  });
});

import { describe, expect, it } from 'vitest';
import { Action } from './action.svelte';
import { BackendError } from './backend';

/** A promise the test settles by hand, to look at the action while it runs. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Action', () => {
  it('is busy while the work runs and reports success', async () => {
    const action = new Action();
    const work = deferred();
    const running = action.run(() => work.promise);
    expect(action.busy).toBe(true);
    work.resolve();
    expect(await running).toBe(true);
    expect(action.busy).toBe(false);
    expect(action.error).toBeNull();
  });

  it('turns a failure into the sentence to show, and clears it on the next try', async () => {
    const action = new Action();
    expect(await action.run(() => Promise.reject(new BackendError('pin_invalid', 'wrong')))).toBe(false);
    expect(action.error).toBe('Wrong PIN.');
    expect(action.busy).toBe(false);
    const work = deferred();
    const again = action.run(() => work.promise);
    expect(action.error).toBeNull();
    work.resolve();
    expect(await again).toBe(true);
  });

  it('ignores a second start while the first still runs', async () => {
    const action = new Action();
    const work = deferred();
    let calls = 0;
    const first = action.run(() => {
      calls += 1;
      return work.promise;
    });
    expect(await action.run(async () => void (calls += 1))).toBe(false);
    expect(calls).toBe(1);
    work.reject(new BackendError('internal', 'relay down'));
    expect(await first).toBe(false);
    expect(action.error).toBe('relay down');
  });
});

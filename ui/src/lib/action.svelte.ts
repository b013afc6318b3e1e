import { errorText } from './errors';

/**
 * One button's call to the backend: `busy` while it runs (to disable the button and show
 * progress) and the sentence for its last failure, so forms do not each repeat the
 * busy/try/catch/finally dance. Starting again clears the old failure.
 */
export class Action {
  busy = $state(false);
  error = $state<string | null>(null);

  /** Runs `work`; true when it succeeded. A second call while one runs is ignored (false). */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      await work();
      return true;
    } catch (raw) {
      this.error = errorText(raw);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

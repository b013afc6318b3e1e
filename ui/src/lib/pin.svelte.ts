import { errorText } from './errors';
import { BackendError } from './backend';

/** A PIN is 6 or more digits (ARCHITECTURE.md › Re-verification). */
export function validPin(pin: string): boolean {
  return /^\d{6,}$/.test(pin);
}

type Pending = {
  action: (pin: string) => Promise<unknown>;
  resolve: (value: unknown) => void;
};

/**
 * Asks the signed-in member for their PIN before a team change. The PIN only passes
 * through `submit` to the action; it is never kept here. A wrong PIN keeps the dialog open
 * with the relay's answer; success closes it and resolves `ask` with the action's result.
 */
export class PinPrompt {
  open = $state(false);
  title = $state('');
  busy = $state(false);
  error = $state<string | null>(null);
  /** The last refusal's code (`pin_locked` disables the input). */
  errorCode = $state<string | null>(null);
  private pending: Pending | null = null;

  /** Resolves with the action's result, or `null` when the member cancels. */
  ask<T>(title: string, action: (pin: string) => Promise<T>): Promise<T | null> {
    this.pending?.resolve(null);
    this.title = title;
    this.error = null;
    this.errorCode = null;
    this.busy = false;
    this.open = true;
    return new Promise<T | null>((resolve) => {
      this.pending = { action, resolve: resolve as (value: unknown) => void };
    });
  }

  /** Runs the action with `pin`; true when it succeeded (and the dialog closed). */
  async submit(pin: string): Promise<boolean> {
    const pending = this.pending;
    if (!pending || this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      const result = await pending.action(pin);
      this.pending = null;
      this.open = false;
      pending.resolve(result);
      return true;
    } catch (raw) {
      const error = BackendError.from(raw);
      this.errorCode = error.code;
      this.error = errorText(error);
      return false;
    } finally {
      this.busy = false;
    }
  }

  cancel() {
    this.pending?.resolve(null);
    this.pending = null;
    this.open = false;
    this.busy = false;
  }
}

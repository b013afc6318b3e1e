import type { ConnectionState } from './bindings/ConnectionState';
import type { BackendError } from './backend';
import { errorText } from './errors';
import { format, i18n } from './i18n/index.svelte';

/** What the status bar knows about the link to the relay (pushed by the app, no polling). */
export class ConnectionStatus {
  /** `null` until the first answer arrives. */
  state = $state<ConnectionState | null>(null);
  error = $state<BackendError | null>(null);

  set(state: ConnectionState) {
    this.state = state;
    this.error = null;
  }

  fail(error: BackendError) {
    this.error = error;
  }

  /** The sentence for the current state, in the current language. */
  get text(): string {
    if (this.error) return errorText(this.error);
    return describeConnection(this.state);
  }
}

export function describeConnection(state: ConnectionState | null): string {
  const m = i18n.m.connection;
  if (!state) return m.checking;
  if (state.state === 'reconnecting') return format(m.reconnecting, { n: state.retry_in_secs });
  return m[state.state];
}
